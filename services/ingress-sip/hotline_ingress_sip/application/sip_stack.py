"""The SIP transaction layer over UDP (RFC 3261 section 17, the parts a B2BUA needs).

* Server side: a retransmitted request gets the last response again instead of reaching the
  call handling twice; final responses to INVITE are retransmitted (T1 doubling, capped at T2)
  until the ACK arrives or 64*T1 passes; CANCEL is matched to its INVITE and answered; completed
  transactions are kept for 64*T1 so late retransmissions are still absorbed.
* Client side: our requests are retransmitted until a response (INVITE: T1 doubling until a
  provisional; others: capped at T2 until a final response) and time out after 64*T1; 3xx-6xx
  to our INVITEs are ACKed here, retransmitted finals re-ACKed.
* Malformed requests get 400 (or 505) with a reason phrase saying what was wrong, when enough
  was parsed to address a response; anything else is counted and dropped.

Every timer goes through the Timers port, so tests drive time by hand.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from hotline_ingress_sip.application.ports import Address, Clock, Timers, Transport
from hotline_ingress_sip.domain.sip import (
    MAGIC_COOKIE,
    REASONS,
    SipParseError,
    SipRequest,
    SipResponse,
    build_response,
    parse,
    parse_via,
    serialize,
)
from hotline_ingress_sip.domain.transactions import (
    Cancellable,
    ClientState,
    ClientTransaction,
    ServerKey,
    ServerState,
    ServerTransaction,
    Timing,
    ack_for_non_2xx,
    cancel_for,
    server_key,
)

log = logging.getLogger(__name__)

SWEEP_MS = 1000
_UNSAFE_REASON = re.compile(r'[\x00-\x1f\x7f"<>\\]')

ResponseHandler = Callable[[ClientTransaction, SipResponse], None]
TimeoutHandler = Callable[[ClientTransaction], None]


class TransactionUser:
    """What the stack hands up (implemented by the call handling)."""

    def on_request(self, txn: ServerTransaction) -> None:
        """A new request other than ACK and CANCEL; answer it with `SipStack.respond`."""
        raise NotImplementedError

    def on_cancel(self, invite: ServerTransaction) -> None:
        """A CANCEL matched an INVITE without a final response (the CANCEL got its 200)."""
        raise NotImplementedError

    def on_ack(self, ack: SipRequest, invite: ServerTransaction | None) -> None:
        """An ACK for a 2xx; `invite` is the transaction whose 2xx it acknowledges, if known."""
        raise NotImplementedError

    def on_ack_timeout(self, invite: ServerTransaction) -> None:
        """A final response to an INVITE was never acknowledged (64*T1)."""
        raise NotImplementedError


@dataclass
class StackStats:
    received: int = 0
    sent: int = 0
    malformed: int = 0
    answered_malformed: int = 0
    retransmissions_absorbed: int = 0
    retransmitted: int = 0
    stray_responses: int = 0
    errors: int = 0


@dataclass(eq=False, slots=True)
class _ClientEntry:
    txn: ClientTransaction
    on_response: ResponseHandler
    on_timeout: TimeoutHandler | None
    delays: tuple[int, ...] = field(default=())


class Expiry:
    """Forgets things after a fixed delay, oldest first (one deque, no timer per item)."""

    def __init__(self, delay_ms: int) -> None:
        self.delay_ms = delay_ms
        self._queue: deque[tuple[int, Callable[[], None]]] = deque()

    def add(self, now_ms: int, forget: Callable[[], None]) -> None:
        self._queue.append((now_ms + self.delay_ms, forget))

    def sweep(self, now_ms: int) -> int:
        done = 0
        queue = self._queue
        while queue and queue[0][0] <= now_ms:
            _, forget = queue.popleft()
            forget()
            done += 1
        return done

    def __len__(self) -> int:
        return len(self._queue)


class SipStack:
    def __init__(
        self,
        transport: Transport,
        timers: Timers,
        clock: Clock,
        *,
        advertised_host: str,
        advertised_port: int,
        timing: Timing | None = None,
    ) -> None:
        self._transport = transport
        self._timers = timers
        self._clock = clock
        self.timing = timing or Timing()
        self.host = advertised_host
        self.port = advertised_port
        self.tu: TransactionUser = TransactionUser()
        self.stats = StackStats()
        self._server: dict[ServerKey, ServerTransaction] = {}
        self._client: dict[tuple[str, str], _ClientEntry] = {}
        self._pending_2xx: dict[tuple[str, int], ServerTransaction] = {}
        self._expiry = Expiry(self.timing.transaction_ms)
        self._sweeper: Cancellable | None = None
        self._id_prefix = uuid.uuid4().hex[:10]
        self._branch_prefix = f"{MAGIC_COOKIE}-{self._id_prefix}-"
        self._counter = 0
        self._via_prefix = f"SIP/2.0/UDP {advertised_host}:{advertised_port};branch="

    # ------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._schedule_sweep()

    def _schedule_sweep(self) -> None:
        self._sweeper = self._timers.call_later(SWEEP_MS, self._sweep)

    def _sweep(self) -> None:
        self._expiry.sweep(self._clock.now_ms())
        self._schedule_sweep()

    def stop(self) -> None:
        sweeper = self._sweeper
        if sweeper is not None:
            sweeper.cancel()
            self._sweeper = None
        for txn in self._server.values():
            if txn.timer is not None:
                txn.timer.cancel()
        for entry in self._client.values():
            for timer in (entry.txn.timer, entry.txn.deadline):
                if timer is not None:
                    timer.cancel()

    def forget_later(self, forget: Callable[[], None]) -> None:
        """Run `forget` after 64*T1 (how long finished calls and transactions are kept)."""
        self._expiry.add(self._clock.now_ms(), forget)

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "server_transactions": len(self._server),
            "client_transactions": len(self._client),
            "pending_2xx": len(self._pending_2xx),
            "expiring": len(self._expiry),
        }

    # ------------------------------------------------------------------------ ids

    def new_id(self) -> str:
        """A process-unique token for tags and Call-IDs (random prefix + counter)."""
        self._counter += 1
        return f"{self._id_prefix}{self._counter:x}"

    def new_via(self) -> str:
        self._counter += 1
        return f"{self._via_prefix}{self._branch_prefix}{self._counter};rport"

    # ------------------------------------------------------------------------ input

    def on_datagram(self, data: bytes, addr: Address) -> None:
        """Entry point for every received datagram; never raises."""
        self.stats.received += 1
        try:
            message = parse(data)
        except SipParseError as exc:
            self._malformed(exc, addr)
            return
        try:
            if isinstance(message, SipRequest):
                self._on_request(message, addr)
            else:
                self._on_response(message)
        except Exception:
            self.stats.errors += 1
            log.exception("error handling a SIP message from %s:%s", addr[0], addr[1])
            if isinstance(message, SipRequest) and message.method != "ACK":
                self._stateless_reply(message, 500, "Server Internal Error", addr)

    def _malformed(self, exc: SipParseError, addr: Address) -> None:
        self.stats.malformed += 1
        request = exc.partial
        if log.isEnabledFor(logging.DEBUG):
            log.debug("malformed datagram from %s:%s: %s", addr[0], addr[1], exc.reason)
        if request is None or request.method == "ACK" or "via" not in request.headers:
            return
        try:
            parse_via(request.headers.get("via") or "")
        except ValueError:
            return  # nothing tells where the response should go
        reason = _UNSAFE_REASON.sub("'", f"{REASONS.get(exc.status, 'Bad Request')} - {exc.reason}")
        self._stateless_reply(request, exc.status, reason[:200], addr)
        self.stats.answered_malformed += 1

    def _stateless_reply(
        self, request: SipRequest, status: int, reason: str, addr: Address
    ) -> None:
        self._send(serialize(build_response(request, status, reason)), addr)

    def _send(self, data: bytes, addr: Address) -> None:
        self.stats.sent += 1
        self._transport.send(data, addr)

    def _on_request(self, request: SipRequest, addr: Address) -> None:
        if request.method == "ACK":
            self._on_ack(request)
            return
        key = server_key(request)
        txn = self._server.get(key)
        if txn is not None:  # a retransmission: repeat the last response, if any yet
            self.stats.retransmissions_absorbed += 1
            if txn.last_response is not None:
                self._send(txn.last_response, txn.source)
            return
        _stamp_via(request, addr)
        txn = ServerTransaction(key, request, addr)
        self._server[key] = txn
        if request.method == "CANCEL":
            self._on_cancel(txn)
            return
        self.tu.on_request(txn)
        if txn.state is ServerState.PROCEEDING and not txn.is_invite:
            # the call handling answers every non-INVITE request at once; make sure of it
            self.respond(txn, 500, "Server Internal Error - request left unanswered")

    def _on_cancel(self, cancel: ServerTransaction) -> None:
        invite = self._server.get(server_key(cancel.request, "INVITE"))
        if invite is None or not invite.is_invite:
            self.respond(cancel, 481)
            return
        self.respond(cancel, 200)
        if invite.status < 200:
            self.tu.on_cancel(invite)

    def _on_ack(self, ack: SipRequest) -> None:
        txn = self._server.get(server_key(ack))
        if txn is not None and txn.is_invite and txn.status >= 300:
            self._confirm(txn)  # ACK of a 3xx-6xx: ends the INVITE transaction
            return
        invite = self._pending_2xx.pop((ack.call_id, ack.cseq[0]), None)
        if invite is not None:
            self._confirm(invite)
        self.tu.on_ack(ack, invite)

    def _confirm(self, txn: ServerTransaction) -> None:
        if txn.state is ServerState.COMPLETED:
            txn.state = ServerState.CONFIRMED
            if txn.timer is not None:
                txn.timer.cancel()
                txn.timer = None
            # only retransmissions can still come: the call handling is past the request
            txn.request = txn.request.skeleton()

    # ------------------------------------------------------------------------ responses

    def respond(
        self,
        txn: ServerTransaction,
        status: int,
        reason: str | None = None,
        *,
        to_tag: str = "",
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer a server transaction. A final response to an INVITE is retransmitted until
        the ACK (64*T1 at most); the transaction is forgotten 64*T1 after its final response."""
        if txn.status >= 200:
            log.debug("ignored %s: transaction already answered %s", status, txn.status)
            return
        response = build_response(
            txn.request, status, reason, to_tag=to_tag, extra=extra, body=body
        )
        data = serialize(response)
        txn.last_response = data
        txn.status = status
        self._send(data, txn.source)
        if status < 200:
            return
        txn.state = ServerState.COMPLETED
        if not txn.is_invite:
            txn.request = txn.request.skeleton()  # kept 64*T1 only to repeat the response
        else:
            delays = self.timing.invite_response_delays()
            txn.attempt = 0
            txn.timer = self._timers.call_later(delays[0], lambda: self._resend_response(txn))
            if status < 300:
                cseq = txn.request.cseq[0]
                self._pending_2xx[(txn.request.call_id, cseq)] = txn
        self.forget_later(lambda: self._forget_server(txn))

    def _resend_response(self, txn: ServerTransaction) -> None:
        txn.timer = None
        if txn.state is not ServerState.COMPLETED or txn.last_response is None:
            return
        delays = self.timing.invite_response_delays()
        txn.attempt += 1
        if txn.attempt >= len(delays):
            # Timer H: never acknowledged
            txn.state = ServerState.CONFIRMED
            if txn.status < 300:
                self._pending_2xx.pop((txn.request.call_id, txn.request.cseq[0]), None)
            self.tu.on_ack_timeout(txn)
            txn.request = txn.request.skeleton()
            return
        self.stats.retransmitted += 1
        self._send(txn.last_response, txn.source)
        txn.timer = self._timers.call_later(delays[txn.attempt], lambda: self._resend_response(txn))

    def stop_retransmitting(self, txn: ServerTransaction) -> None:
        """Give up waiting for the ACK of our final response (e.g. the call ended first)."""
        if txn.timer is not None:
            txn.timer.cancel()
            txn.timer = None
        if txn.state is ServerState.COMPLETED:
            txn.state = ServerState.CONFIRMED
        self._pending_2xx.pop((txn.request.call_id, txn.request.cseq[0]), None)

    def _forget_server(self, txn: ServerTransaction) -> None:
        if txn.timer is not None:  # still waiting for an ACK: check again later
            self.forget_later(lambda: self._forget_server(txn))
            return
        if self._server.get(txn.key) is txn:
            del self._server[txn.key]

    # ------------------------------------------------------------------------ requests we send

    def send_request(
        self,
        request: SipRequest,
        dest: Address,
        on_response: ResponseHandler,
        on_timeout: TimeoutHandler | None = None,
    ) -> ClientTransaction:
        """Start a client transaction; the request's top Via must come from `new_via()`."""
        branch = request.top_via.branch
        data = serialize(request)
        txn = ClientTransaction(branch, request, data, dest)
        invite = request.method == "INVITE"
        delays = self.timing.invite_request_delays() if invite else self.timing.request_delays()
        entry = _ClientEntry(txn, on_response, on_timeout, delays)
        self._client[txn.key] = entry
        self._send(data, dest)
        if delays:
            txn.timer = self._timers.call_later(delays[0], lambda: self._resend_request(entry))
        txn.deadline = self._timers.call_later(
            self.timing.transaction_ms, lambda: self._request_timed_out(entry)
        )
        return txn

    def _resend_request(self, entry: _ClientEntry) -> None:
        txn = entry.txn
        txn.timer = None
        if txn.state is ClientState.CALLING or (
            txn.state is ClientState.PROCEEDING and txn.method != "INVITE"
        ):
            self.stats.retransmitted += 1
            self._send(txn.data, txn.dest)
            txn.attempt += 1
            if txn.attempt < len(entry.delays):
                txn.timer = self._timers.call_later(
                    entry.delays[txn.attempt], lambda: self._resend_request(entry)
                )

    def _request_timed_out(self, entry: _ClientEntry, *, cancelled: bool = False) -> None:
        txn = entry.txn
        txn.deadline = None
        # An INVITE that got a provisional waits for its final response as long as the call
        # handling wants (it CANCELs on its own ring timeout), then 64*T1 after the CANCEL.
        if txn.state is ClientState.CALLING or (
            txn.state is ClientState.PROCEEDING and (cancelled or txn.method != "INVITE")
        ):
            txn.state = ClientState.TERMINATED
            if txn.timer is not None:
                txn.timer.cancel()
                txn.timer = None
            self.forget_later(lambda: self._forget_client(txn))
            if entry.on_timeout is not None:
                entry.on_timeout(txn)

    def _forget_client(self, txn: ClientTransaction) -> None:
        entry = self._client.get(txn.key)
        if entry is not None and entry.txn is txn:
            del self._client[txn.key]

    def _on_response(self, response: SipResponse) -> None:
        via = response.top_via
        _num, method = response.cseq
        entry = self._client.get((via.branch, method))
        if entry is None:
            self.stats.stray_responses += 1
            return
        txn = entry.txn
        status = response.status
        if status < 200:
            if txn.state is ClientState.CALLING:
                txn.state = ClientState.PROCEEDING
                if txn.method == "INVITE" and txn.timer is not None:
                    txn.timer.cancel()
                    txn.timer = None
            if txn.state is ClientState.PROCEEDING:
                entry.on_response(txn, response)
            return
        first = txn.status < 200
        txn.status = status if first else txn.status
        if txn.method == "INVITE" and status >= 300:
            if txn.ack is None:
                txn.ack = serialize(ack_for_non_2xx(txn.request, response))
            self._send(txn.ack, txn.dest)
        if not first:
            if txn.method == "INVITE" and status < 300:
                entry.on_response(txn, response)  # 2xx retransmission: the TU re-ACKs
            return
        was_terminated = txn.state is ClientState.TERMINATED
        txn.state = ClientState.COMPLETED
        for timer in (txn.timer, txn.deadline):
            if timer is not None:
                timer.cancel()
        txn.timer = txn.deadline = None
        if not was_terminated:
            self.forget_later(lambda: self._forget_client(txn))
        entry.on_response(txn, response)

    def cancel(self, invite: ClientTransaction) -> ClientTransaction | None:
        """CANCEL one of our INVITEs (only once a provisional response arrived: RFC 3261 9.1)."""
        if invite.method != "INVITE" or invite.state is not ClientState.PROCEEDING:
            return None
        entry = self._client.get(invite.key)
        if entry is not None and entry.txn is invite and invite.deadline is None:
            invite.deadline = self._timers.call_later(
                self.timing.transaction_ms, lambda: self._request_timed_out(entry, cancelled=True)
            )
        return self.send_request(cancel_for(invite.request), invite.dest, _ignore_response)

    def send_ack(self, ack: SipRequest, dest: Address) -> bytes:
        """Send an ACK for a 2xx (a transaction of its own); returns the bytes to resend."""
        data = serialize(ack)
        self._send(data, dest)
        return data

    def resend(self, data: bytes, dest: Address) -> None:
        self._send(data, dest)


def _ignore_response(_txn: ClientTransaction, _response: SipResponse) -> None:
    return None


_RPORT_EMPTY = re.compile(r";rport(?=;|$)", re.IGNORECASE)


def _stamp_via(request: SipRequest, addr: Address) -> None:
    """RFC 3261 18.2.1 / RFC 3581: note where the request really came from in the top Via."""
    value = request.headers.get("via") or ""
    via = parse_via(value)
    new = value
    if via.host != addr[0]:
        new += f";received={addr[0]}"
    if "rport" in via.params and not via.params["rport"]:
        new = _RPORT_EMPTY.sub(f";rport={addr[1]}", new, count=1)
    if new != value:
        items = request.headers._items
        for i, (key, _) in enumerate(items):
            if key == "via":
                items[i] = ("via", new)
                break
