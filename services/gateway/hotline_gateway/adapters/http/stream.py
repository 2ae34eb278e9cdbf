"""The pages' push stream: one WebSocket per browser page carrying agent, queue and offer
changes of the live board (application/live.py), filtered by tenant and role.

    GET /v1/tenants/{tenant_id}/stream[?after=N&epoch=E]   one tenant
    GET /v1/stream[?after=N&epoch=E]                       every tenant the caller may see
                                                           (a BPO operator: all at once)

Credentials, in this order: the session cookie (`hotline_session`, `__Host-hotline_session`:
what a page has), a `Sec-WebSocket-Protocol` entry `bearer.<token>` (a browser cannot set
headers on a WebSocket; the server then answers the protocol `hotline.v1`), or
`Authorization: Bearer` (other clients). With the cookie, the `Origin` must be the gateway's
own host (no cross-site WebSocket hijacking). Admission is the REST routes' (rate limits,
`queue.stats.read` on each tenant); it is checked again every minute, so a session that ended
or a role removed closes the stream.

Messages (JSON text frames): `hello` first (epoch, current seq, server clock); then either the
catch-up changes after `after` (when this process still keeps them and `epoch` is its own) or
a `snapshot` of every tenant with `reason` start | too_old | other_epoch; then each change as
it happens: `{"seq", "type": agent|queue|offer, "tenant_id", "key", "data"}` with `data` the
entity's whole view (so a client that applies changes in order is exact). A `ping` with the
server clock every 15 s. Refusals close the socket after accepting it, so the page can read
why: 4401 (no or unknown credential), 4403 (another tenant, a role without the permission,
a foreign Origin), 4429 (rate limited), 4400 (bad parameters), 1013 (too slow a reader, or
the board is still replaying: reconnect with `after`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from hotline_gateway.adapters.http.deps import Components
from hotline_gateway.application.access import MAX_TOKEN_CHARS
from hotline_gateway.application.live import STREAM_PERMISSION, LiveHub, SlowClient
from hotline_gateway.application.ports import Principal
from hotline_gateway.domain.errors import Forbidden, GatewayError, RateLimited, Unauthenticated
from hotline_gateway.domain.live import Viewer
from hotline_platform.sessions import COOKIE_NAME

log = logging.getLogger(__name__)

PROTOCOL = "hotline.v1"
BEARER_PROTOCOL = "bearer."
PING_EVERY_S = 15.0
RECHECK_EVERY_S = 60.0
REPLAY_WAIT_S = 10.0
CLOSE_BAD_REQUEST, CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_RATE_LIMITED = (
    4400, 4401, 4403, 4429,
)
CLOSE_TRY_AGAIN = 1013
HUB_STATE = "live_hub"


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close reason is at most 123 bytes


def include(app: FastAPI) -> None:
    """Add the stream's WebSocket routes (the hub is set later: app.state.live_hub)."""
    app.add_api_websocket_route("/v1/tenants/{tenant_id}/stream", tenant_stream)
    app.add_api_websocket_route("/v1/stream", all_stream)


async def tenant_stream(websocket: WebSocket, tenant_id: str) -> None:
    await _serve(websocket, tenant_id)


async def all_stream(websocket: WebSocket) -> None:
    await _serve(websocket, None)


def _credential(websocket: WebSocket) -> tuple[str, bool]:
    """(token, came from the cookie)."""
    for name in (f"__Host-{COOKIE_NAME}", COOKIE_NAME):
        token = websocket.cookies.get(name)
        if token:
            return token, True
    for offered in websocket.scope.get("subprotocols") or []:
        if offered.startswith(BEARER_PROTOCOL):
            return offered[len(BEARER_PROTOCOL):], False
    scheme, _, token = (websocket.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), False
    return "", False


def _same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if not origin:
        return True  # not a browser
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


def _params(websocket: WebSocket) -> tuple[int | None, str | None]:
    raw_after = websocket.query_params.get("after")
    epoch = websocket.query_params.get("epoch")
    if raw_after is None:
        return None, epoch
    if not raw_after.isdigit() or len(raw_after) > 18:
        raise Refused(CLOSE_BAD_REQUEST, "after must be a sequence number (0 or more)")
    if epoch is not None and (len(epoch) > 64 or not epoch.isalnum()):
        raise Refused(CLOSE_BAD_REQUEST, "epoch must be the hello message's epoch")
    return int(raw_after), epoch


async def _admit(
    components: Components, hub: LiveHub, websocket: WebSocket, tenant_id: str | None
) -> tuple[str, list[Viewer]]:
    token, from_cookie = _credential(websocket)
    if from_cookie and not _same_origin(websocket):
        raise Refused(CLOSE_FORBIDDEN, "the page's Origin is not this gateway")
    if not token:
        raise Refused(CLOSE_UNAUTHENTICATED, "no credential: log in first")
    if len(token) > MAX_TOKEN_CHARS or any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise Refused(CLOSE_UNAUTHENTICATED, "malformed credential")
    access = components.access
    client = websocket.client.host if websocket.client else ""
    try:
        if tenant_id is not None:
            caller = await access.admit(f"Bearer {token}", tenant_id, STREAM_PERMISSION,
                                        client=client)
            return token, [await hub.viewer_for(caller.principal, tenant_id)]
        if not access.identity.verification_is_cheap(token):
            await _spend(components, f"unverified:{client}", new=True)
        principal = await access.identity.authenticate(token)
        await _spend(components, f"principal:{principal.id}", new=False)
        viewers = []
        for tenant in hub.tenants_of(principal):
            with contextlib.suppress(Forbidden):
                viewers.append(await hub.viewer_for(principal, tenant))
        if not viewers:
            raise Forbidden(f"{_describe(principal)} may not read the live board of any tenant")
        return token, viewers
    except Unauthenticated as exc:
        raise Refused(CLOSE_UNAUTHENTICATED, str(exc)) from None
    except Forbidden as exc:
        raise Refused(CLOSE_FORBIDDEN, str(exc)) from None
    except RateLimited as exc:
        raise Refused(CLOSE_RATE_LIMITED, f"{exc}; retry after {exc.retry_after_s:.0f} s") from None
    except GatewayError as exc:
        raise Refused(CLOSE_FORBIDDEN, str(exc)) from None


def _describe(principal: Principal) -> str:
    describe = getattr(principal.subject, "describe", None)
    return str(describe()) if callable(describe) else principal.id


async def _spend(components: Components, key: str, *, new: bool) -> None:
    access = components.access
    limit = access.limits.unverified_per_client if new else access.limits.per_principal
    decision = await access.limiter.take(key, limit)
    if not decision.allowed:
        raise RateLimited("too many connections for this credential", decision.retry_after_s)


async def _recheck(components: Components, token: str, viewers: list[Viewer]) -> None:
    """Still the same rights? (a session that ended, a user disabled, a role removed:
    refused). Resolving a token seen before costs no hashing."""
    principal = await components.access.identity.authenticate(token)
    for viewer in viewers:
        await components.access.identity.authorize(principal, viewer.tenant_id,
                                                   STREAM_PERMISSION, None)


async def _serve(websocket: WebSocket, tenant_id: str | None) -> None:
    components: Components | None = websocket.app.state.components
    hub: LiveHub | None = getattr(websocket.app.state, HUB_STATE, None)
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    try:
        if components is None or hub is None:
            raise Refused(CLOSE_TRY_AGAIN, "the live stream is not enabled on this gateway")
        after, epoch = _params(websocket)
        token, viewers = await _admit(components, hub, websocket, tenant_id)
        try:
            await asyncio.wait_for(hub.replayed.wait(), REPLAY_WAIT_S)
        except TimeoutError:
            raise Refused(CLOSE_TRY_AGAIN, "the live board is still reading the history") from None
        await _stream(websocket, components, hub, token, viewers, after, epoch)
    except Refused as exc:
        await _close(websocket, exc.code, exc.reason)
    except SlowClient as exc:
        await _close(websocket, CLOSE_TRY_AGAIN, str(exc))
    except WebSocketDisconnect:
        pass


async def _stream(
    websocket: WebSocket, components: Components, hub: LiveHub, token: str,
    viewers: list[Viewer], after: int | None, epoch: str | None,
) -> None:
    start, sub = hub.open(viewers, after, epoch)
    reader = asyncio.create_task(_drain(websocket))
    try:
        await _send(websocket, start.hello)
        if start.snapshot is not None:
            await _send(websocket, start.snapshot)
        for change in start.changes:
            await _send(websocket, change.message())
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + PING_EVERY_S
        next_check = loop.time() + RECHECK_EVERY_S
        while True:
            timeout = max(0.0, min(next_ping, next_check) - loop.time())
            getter = asyncio.ensure_future(sub.next())
            done, _ = await asyncio.wait({getter, reader}, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                return  # the client went away
            if getter in done:
                await _send(websocket, getter.result().message())
            else:
                getter.cancel()
            now = loop.time()
            if now >= next_ping:
                await _send(websocket, {"type": "ping", "seq": hub.board.seq,
                                        "server_ms": hub.now_ms()})
                next_ping = now + PING_EVERY_S
            if now >= next_check:
                try:
                    await _recheck(components, token, viewers)
                except Forbidden as exc:
                    raise Refused(CLOSE_FORBIDDEN, str(exc)) from None
                except Unauthenticated as exc:
                    raise Refused(CLOSE_UNAUTHENTICATED, str(exc)) from None
                next_check = now + RECHECK_EVERY_S
    finally:
        hub.close(sub)
        reader.cancel()


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(message, separators=(",", ":"), ensure_ascii=False))


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.client_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code, reason)
