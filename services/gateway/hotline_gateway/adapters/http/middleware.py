"""The outermost layer of every request (pure ASGI): a request id (the client's X-Request-Id
when it is plain, else a new one) in the response header, the logs and backend calls; the
access log line and metrics; a problem+json 500 for anything unhandled; and, for a POST that
holds an Idempotency-Key, keeping the response as sent (or releasing the key)."""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline_gateway.adapters.http import problems
from hotline_gateway.adapters.http.context import REQUEST_ID_HEADER, begin_request, end_request
from hotline_gateway.adapters.http.deps import IDEMPOTENCY_STATE
from hotline_gateway.domain.idempotency import StoredResponse, keeps

log = logging.getLogger("hotline_gateway.access")

REQUESTS = Counter(
    "hotline_gateway_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "hotline_gateway_request_seconds", "HTTP request duration", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# "errors" access log: successes slower than this are logged too.
SLOW_S = 1.0
# Headers of a response that describe one transmission, not the response: not replayed.
_NOT_REPLAYED = {"content-length", "date", "server", REQUEST_ID_HEADER.lower()}


class RequestContext:
    def __init__(self, app: ASGIApp, access_log: str = "errors") -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id, token = begin_request(Headers(scope=scope).get(REQUEST_ID_HEADER))
        capture = scope["method"] == "POST"
        sent: dict[str, Any] = {"status": 500, "started": False, "headers": [], "body": []}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                sent["started"] = True
                if capture:
                    sent["headers"] = list(message.get("headers", []))
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            elif message["type"] == "http.response.body" and capture:
                sent["body"].append(message.get("body", b""))
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            failed = True
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if not sent["started"]:
                response = problems.problem(
                    problems.TYPES["internal"], "internal error", scope["path"], request_id
                )
                await response(scope, receive, send_with_id)
        finally:
            await self._settle_idempotency(scope, sent, failed)
            route = scope.get("route")
            template = getattr(route, "path", "(unmatched)")
            elapsed = time.perf_counter() - started
            REQUESTS.labels(scope["method"], template, str(sent["status"])).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            if self.access_log == "all" or (
                self.access_log == "errors" and (sent["status"] >= 400 or elapsed > SLOW_S)
            ):
                log.info("%s %s %d %.1fms", scope["method"], scope["path"], sent["status"],
                         elapsed * 1000)
            end_request(token)

    @staticmethod
    async def _settle_idempotency(scope: Scope, sent: dict[str, Any], failed: bool) -> None:
        held = scope.get("state", {}).pop(IDEMPOTENCY_STATE, None)
        if held is None:
            return
        store, key_scope, key = held
        if failed or not sent["started"] or not keeps(sent["status"]):
            await store.release(key_scope, key)
            return
        headers = tuple(
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in sent["headers"]
            if k.decode("latin-1").lower() not in _NOT_REPLAYED
        )
        await store.complete(
            key_scope, key, StoredResponse(sent["status"], headers, b"".join(sent["body"]))
        )
