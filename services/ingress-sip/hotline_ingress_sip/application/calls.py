"""Call handling: the B2BUA use cases of docs/flow.md over the SIP stack and the ports.

The caller's leg is answered here (100/180, or 200 at once for announcement entry points);
the router's `offered` events ring the agent's phone on a second leg (and its own
`offer_timed_out` stops that ringing); answers, rejections, ring time-outs, cancels and
hang-ups drive the domain `Call`, whose facts are published.
Requests we send to a leg go to the address that leg's dialog started with (symmetric
signalling: the caller's source address, the agent endpoint of the offer).
"""

from __future__ import annotations

import enum
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from hotline_ingress_sip.application.media import CallMedia
from hotline_ingress_sip.application.ports import (
    Address,
    Clock,
    InteractionEvents,
    MediaRelay,
    MediaReply,
    Prompts,
    Timers,
)
from hotline_ingress_sip.application.sip_stack import SipStack, TransactionUser
from hotline_ingress_sip.domain import ivr
from hotline_ingress_sip.domain.call import Call, CallState, OfferDecision
from hotline_ingress_sip.domain.events import (
    CallAction,
    CallCommand,
    CallHeld,
    CallResumed,
    EndedBy,
    EndedByRouter,
    EntryPoint,
    Fact,
    Offer,
    OfferWithdrawn,
    QueuePlacement,
    RoutingInstruction,
    SelfServiceOutcome,
)
from hotline_ingress_sip.domain.sdp import (
    AudioStream,
    Direction,
    SdpError,
    narrowed,
    parse_audio,
    placeholder_answer,
    with_direction,
)
from hotline_ingress_sip.domain.sip import (
    Headers,
    SipRequest,
    SipResponse,
    interaction_id_for,
    parse_name_addr,
    parse_uri,
    without_tag,
)
from hotline_ingress_sip.domain.transactions import (
    MAX_FORWARDS,
    Cancellable,
    ClientTransaction,
    Dialog,
    ServerTransaction,
)

log = logging.getLogger(__name__)

SUPPORTED_METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REFER", "REGISTER")
ALLOW = ", ".join(SUPPORTED_METHODS)
# Methods of the SIP registry this service knows but does not accept (-> 405; others -> 501).
KNOWN_METHODS = frozenset(
    {"PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "MESSAGE", "UPDATE"}
)
INTERACTION_HEADER = "X-Hotline-Interaction"
# How many interactions ended by the router, not held here, are remembered (a retransmitted
# INVITE comes within 32 s of the first; this covers far more calls than arrive in that time).
ENDED_ELSEWHERE_KEPT = 50_000
# A person presses a few keys a second; more from one call is a flood (a broken phone, an
# attack) and is dropped rather than driving the IVR.
MAX_KEYS_PER_S = 10
# The key a waiting caller presses to be called back, when the router offers it (`queued`).
CALLBACK_KEY = "1"


class LegState(enum.Enum):
    RINGING = "ringing"  # INVITE sent, no final response
    ANSWERED = "answered"
    CANCELLING = "cancelling"  # we gave up (ring timeout, withdrawn, caller left): CANCEL asap
    ENDED = "ended"


@dataclass(eq=False)
class AgentLeg:
    offer: Offer
    call_id: str
    dest: Address
    state: LegState = LegState.RINGING
    invite: ClientTransaction | None = None
    provisional: bool = False
    cancel_sent: bool = False
    ring_timer: Cancellable | None = None
    dialog: Dialog | None = None
    ack: bytes | None = None


@dataclass(eq=False)
class CallSession:
    """A domain Call plus the SIP state of its legs."""

    call: Call
    invite: ServerTransaction  # the caller's INVITE
    dialog: Dialog  # the caller's leg, we are the UAS
    caller_addr: Address
    caller_from: str  # the caller's From, without tag: the From of every agent leg
    agent: AgentLeg | None = None  # the leg being rung or connected
    legs: list[AgentLeg] = field(default_factory=list)
    caller_acked: bool = False
    bye_caller_when_acked: bool = False
    caller_bye_sent: bool = False
    finished: bool = False
    releasing: bool = False  # ended by the router; the caller hears a last prompt first
    # Anchored calls only (a media relay is wired): the caller's audio stream, its relay
    # call, and the timer of the next announcement while the caller waits.
    stream: AudioStream | None = None
    media: CallMedia | None = None
    language: str = ""
    announce_timer: Cancellable | None = None
    # The router's last placement of the contact (`queued`), for the announcements.
    placement: QueuePlacement | None = None
    placed_at_ms: int = 0
    ivr: ivr.IvrRun | None = None  # the caller's run through the entry point's IVR
    prompt_seq: int = 0  # the IVR prompt playing (a stale end-of-prompt is ignored)
    # When the caller's last keys came (a flood of DTMF reports is not passed on).
    key_times: deque[int] = field(default_factory=lambda: deque(maxlen=MAX_KEYS_PER_S))


@dataclass
class CallStats:
    calls: int = 0
    not_found: int = 0
    offers_ignored: int = 0
    offers_withdrawn: int = 0  # ringing offers the router timed out itself
    ended_elsewhere: int = 0  # INVITEs of calls an earlier process held, which the router ended
    ended_by_router: int = 0  # calls the router ended, taking this instance for lost
    callbacks_requested: int = 0  # waiting callers who pressed CALLBACK_KEY
    facts: int = 0
    media_refused: int = 0  # INVITEs answered 488: no usable audio in their SDP
    media_failed: int = 0  # calls the media relay could not anchor
    media_lost: int = 0  # calls ended because the relay dropped them (media timed out)
    keys_dropped: int = 0  # DTMF keys beyond MAX_KEYS_PER_S of one call
    transfers_refused: int = 0
    commands_refused: int = 0  # hold / resume / transfer asked for a call not in that state


class CallHandling(TransactionUser):
    def __init__(
        self,
        stack: SipStack,
        events: InteractionEvents,
        clock: Clock,
        timers: Timers,
        entry_points: Mapping[str, EntryPoint],
        *,
        sdp: bytes,
        default_ring_timeout_ms: int = 15_000,
        interaction_id_for: Callable[[SipRequest], str] = interaction_id_for,
        registrar: Callable[[ServerTransaction], None] | None = None,
        media: MediaRelay | None = None,
        prompts: Prompts | None = None,
        announce_every_ms: int = 30_000,
        media_check_every_ms: int = 10_000,
    ) -> None:
        self._stack = stack
        self._events = events
        self._clock = clock
        self._timers = timers
        self._entry_points = entry_points
        self._sdp = sdp
        self._default_ring_ms = default_ring_timeout_ms
        self._interaction_id_for = interaction_id_for
        self._registrar = registrar  # REGISTER (application/registrar.py); None: 501
        # With a media relay every queue call is answered by the platform and its audio
        # anchored there (music, announcements, hold, transfer); without one (trunk tests,
        # a lab without rtpengine) the caller waits in early dialog and media flows end to end.
        self._media = media
        self._prompts = prompts
        self._announce_every_ms = announce_every_ms
        self._media_check_every_ms = media_check_every_ms
        self._media_check: Cancellable | None = None
        # Interactions the router ended that this process does not hold: an earlier process of
        # this instance held them. A retransmitted INVITE of one of them (same transaction,
        # same interaction id) is refused rather than started again (bounded, oldest dropped).
        self._ended_elsewhere: OrderedDict[str, None] = OrderedDict()
        self._contact = f"<sip:hotline@{stack.host}:{stack.port}>"
        self._by_call_id: dict[str, CallSession] = {}
        self._by_interaction: dict[str, CallSession] = {}
        self._by_agent_call_id: dict[str, tuple[CallSession, AgentLeg]] = {}
        self.draining = False
        self.stats = CallStats()
        stack.tu = self

    # ------------------------------------------------------------------------ queries

    @property
    def active_calls(self) -> int:
        return sum(1 for s in self._by_call_id.values() if not s.call.is_over)

    def session_for_call_id(self, call_id: str) -> CallSession | None:
        return self._by_call_id.get(call_id)

    def session_for_interaction(self, interaction_id: str) -> CallSession | None:
        return self._by_interaction.get(interaction_id)

    # ------------------------------------------------------------------------ helpers

    def _publish(self, fact: Fact, on_recorded: Callable[[], None] | None = None) -> None:
        self.stats.facts += 1
        self._events.publish(fact, on_recorded)

    def _finish(self, session: CallSession) -> None:
        """The call is over. Retransmissions are absorbed by the stack's transactions, and
        the legs' pending transactions keep what they need, so the session is forgotten at
        once (a request for the ended dialog gets 481), unless a BYE to the caller still
        waits for the caller's ACK."""
        session.finished = True
        self._stop_treatment(session)
        if session.media is not None:
            session.media.delete()
        if not session.bye_caller_when_acked:
            self._forget(session)

    def _forget(self, session: CallSession) -> None:
        call_id = session.dialog.call_id
        if self._by_call_id.get(call_id) is session:
            del self._by_call_id[call_id]
        if self._by_interaction.get(session.call.interaction_id) is session:
            del self._by_interaction[session.call.interaction_id]
        for leg in session.legs:
            pair = self._by_agent_call_id.get(leg.call_id)
            if pair is not None and pair[1] is leg:
                del self._by_agent_call_id[leg.call_id]

    # ------------------------------------------------------------------------ requests

    def on_request(self, txn: ServerTransaction) -> None:
        method = txn.request.method
        if method == "INVITE":
            self._on_invite(txn)
        elif method == "BYE":
            self._on_bye(txn)
        elif method == "REFER":
            self._on_refer(txn)
        elif method == "REGISTER" and self._registrar is not None:
            self._registrar(txn)
        elif method == "OPTIONS":
            self._stack.respond(
                txn, 200, extra=[("Allow", ALLOW), ("Accept", "application/sdp")]
            )
        elif method in KNOWN_METHODS:
            self._stack.respond(txn, 405, extra=[("Allow", ALLOW)])
        else:
            self._stack.respond(txn, 501)

    def _on_invite(self, txn: ServerTransaction) -> None:
        request = txn.request
        if request.to_tag:  # re-INVITE inside a dialog
            pair = self._by_agent_call_id.get(request.call_id)
            if pair is not None and pair[0].media is not None:
                self._agent_reinvite(txn, *pair)
            elif request.call_id in self._by_call_id or pair is not None:
                self._stack.respond(txn, 488, "Not Acceptable Here - re-INVITE not supported")
            else:
                self._stack.respond(txn, 481)
            return
        if request.call_id in self._by_call_id:
            self._stack.respond(txn, 482, "Loop Detected - Call-ID already in use")
            return
        try:
            uri = parse_uri(request.uri)
        except ValueError:
            self._stack.respond(txn, 416)
            return
        if request.headers.get("max-forwards") == "0":
            self._stack.respond(txn, 483)
            return
        entry = self._entry_points.get(uri.user)
        if entry is None:
            self.stats.not_found += 1
            self._stack.respond(txn, 404, "Not Found - no such entry point")
            return
        if self.draining:
            self._stack.respond(txn, 503, extra=[("Retry-After", "5")])
            return
        stream: AudioStream | None = None
        if entry.ivr is not None and self._media is None:
            self._stack.respond(txn, 480, "Temporarily Unavailable - no media relay for the IVR")
            return
        if self._media is not None and not entry.announcement:
            try:
                stream = parse_audio(request.body)
            except SdpError as exc:
                self.stats.media_refused += 1
                self._stack.respond(
                    txn, 488, "Not Acceptable Here", extra=[("Warning", _warning(str(exc)))]
                )
                return
        caller = parse_name_addr(request.headers.get("from") or "")  # validated by the parser
        try:
            caller_id = parse_uri(caller.uri).user
        except ValueError:
            caller_id = ""
        interaction_id = self._interaction_id_for(request)
        if interaction_id in self._ended_elsewhere:
            # An earlier process of this instance recorded this call, died before answering,
            # and the router has ended it: the caller retransmitted to us. It is over.
            self.stats.ended_elsewhere += 1
            self._stack.respond(txn, 480, "Temporarily Unavailable - call ended by a restart")
            return
        now = self._clock.now_ms()
        call, arrived = Call.arrive(
            interaction_id,
            entry,
            session_ref=request.call_id,
            from_address=caller.uri,
            to_address=request.uri,
            caller_id=caller_id,
            now_ms=now,
        )
        dialog = Dialog.as_uas(request, self._stack.new_id())
        caller_from = without_tag(request.headers.get("from") or "")
        session = CallSession(call, txn, dialog, txn.source, caller_from, stream=stream)
        self._by_call_id[request.call_id] = session
        self._by_interaction[call.interaction_id] = session
        self.stats.calls += 1
        # The caller hears nothing until `arrived` is durable: a crash before that leaves the
        # INVITE unanswered, so the caller retransmits it to the restarted process instead of
        # waiting on a call that no log knows (nothing accepted is lost).
        self._publish(arrived, on_recorded=lambda: self._answer_arrival(session, entry))

    def _answer_arrival(self, session: CallSession, entry: EntryPoint) -> None:
        """`arrived` is recorded: answer the caller (180, or 200 for an announcement), unless
        the call already ended meanwhile (a CANCEL was answered with 487)."""
        if self._by_call_id.get(session.dialog.call_id) is not session or session.finished:
            return
        txn, tag = session.invite, session.dialog.local_tag
        if session.stream is not None and self._media is not None:
            self._anchor(session, session.stream, self._media)
        elif entry.announcement:
            self._stack.respond(
                txn,
                200,
                to_tag=tag,
                extra=[("Contact", self._contact), ("Content-Type", "application/sdp")],
                body=self._sdp,
            )
        else:
            self._stack.respond(txn, 180, to_tag=tag, extra=[("Contact", self._contact)])

    def on_ack(self, ack: SipRequest, invite: ServerTransaction | None) -> None:
        session = self._by_call_id.get(ack.call_id)
        if session is None or (invite is not None and invite is not session.invite):
            return
        session.caller_acked = True
        if session.bye_caller_when_acked:
            session.bye_caller_when_acked = False
            self._send_bye_to_caller(session)
            if session.finished:
                self._forget(session)

    def on_ack_timeout(self, invite: ServerTransaction) -> None:
        session = self._by_call_id.get(invite.request.call_id)
        if session is None or session.invite is not invite or invite.status >= 300:
            return
        log.info("call %s: 2xx never acknowledged, ending it", session.call.interaction_id)
        call = session.call
        if call.state in (CallState.CONNECTED, CallState.SELF_SERVICE):
            self._end_by_system(session)
        elif call.state in (CallState.WAITING, CallState.OFFERING):
            self._caller_left(session, "2xx never acknowledged", 408)
        elif call.state is CallState.IVR:
            self._left_ivr(session)
        elif session.bye_caller_when_acked:
            session.bye_caller_when_acked = False
            self._send_bye_to_caller(session)
            if session.finished:
                self._forget(session)

    def on_cancel(self, invite: ServerTransaction) -> None:
        session = self._by_call_id.get(invite.request.call_id)
        if session is None or session.invite is not invite or session.call.is_over:
            self._stack.respond(invite, 487)
            return
        self._caller_left(session, "cancelled", 487)

    def _caller_left(
        self, session: CallSession, reason: str, status: int, *, by_caller: bool = True
    ) -> None:
        """The caller goes before being connected (CANCEL, or BYE on the early dialog; or,
        `by_caller` False, we end the call: the caller gets `status`, or a BYE once the
        platform answered it)."""
        call = session.call
        if session.invite.status == 200 and not by_caller:
            self._send_bye_to_caller(session)
        self._stack.respond(session.invite, status, to_tag=session.dialog.local_tag)
        self._stop_agent(session)
        self._publish(call.caller_left(self._clock.now_ms(), reason))
        self._finish(session)

    def _on_bye(self, txn: ServerTransaction) -> None:
        request = txn.request
        session = self._by_call_id.get(request.call_id)
        if session is not None and session.dialog.matches(request):
            self._stack.respond(txn, 200)
            self._bye_from_caller(session)
            return
        pair = self._by_agent_call_id.get(request.call_id)
        if pair is not None:
            session, leg = pair
            if leg.dialog is not None and leg.dialog.matches(request):
                self._stack.respond(txn, 200)
                self._bye_from_agent(session, leg)
                return
        self._stack.respond(txn, 481)

    def _bye_from_caller(self, session: CallSession) -> None:
        call = session.call
        state = call.state
        if state is CallState.ENDED:
            return  # our BYE crossed theirs
        if state in (CallState.WAITING, CallState.OFFERING):
            # a caller may end an early dialog with BYE: same as CANCEL
            self._caller_left(session, "bye before answer", 487)
            return
        if state is CallState.IVR:
            self._left_ivr(session)
            return
        self._stack.stop_retransmitting(session.invite)
        session.caller_acked = True
        self._bye_agent(session)
        self._publish(call.hung_up(EndedBy.CUSTOMER, self._clock.now_ms()))
        self._finish(session)

    def _bye_from_agent(self, session: CallSession, leg: AgentLeg) -> None:
        was_connected = leg.state is LegState.ANSWERED
        leg.state = LegState.ENDED
        call = session.call
        if leg is not session.agent or not was_connected or call.state is not CallState.CONNECTED:
            return
        self._send_bye_to_caller(session)
        self._publish(call.hung_up(EndedBy.AGENT, self._clock.now_ms()))
        self._finish(session)

    def _send_bye_to_caller(self, session: CallSession) -> None:
        if session.caller_bye_sent:
            return
        if not session.caller_acked and session.invite.timer is not None:
            # RFC 3261 15: the callee waits for the ACK of its 2xx before sending BYE
            session.bye_caller_when_acked = True
            return
        session.caller_bye_sent = True
        self._stack.stop_retransmitting(session.invite)
        bye = session.dialog.request("BYE", self._stack.new_via())
        self._stack.send_request(bye, session.caller_addr, _ignore)

    # ------------------------------------------------------------------------ offers

    def on_offers(self, offers: Iterable[RoutingInstruction]) -> None:
        """Offers from the router (`offered` events) and the router's own time-outs of them
        (`offer_timed_out`); those for calls not held here are ignored: another ingress
        instance holds them."""
        for offer in offers:
            try:
                if isinstance(offer, CallCommand):
                    self.on_command(offer)
                elif isinstance(offer, QueuePlacement):
                    self.on_placement(offer)
                elif isinstance(offer, OfferWithdrawn):
                    self.on_withdrawal(offer)
                elif isinstance(offer, EndedByRouter):
                    self.on_ended_by_router(offer)
                else:
                    self.on_offer(offer)
            except Exception:
                log.exception("%s for %s failed", type(offer).__name__, offer.interaction_id)

    def on_offer(self, offer: Offer) -> None:
        session = self._by_interaction.get(offer.interaction_id)
        if session is None:
            self.stats.offers_ignored += 1
            return
        call = session.call
        if offer.tenant_id != call.entry_point.tenant_id:
            # Never ring one tenant's agent for another tenant's caller.
            self.stats.offers_ignored += 1
            log.error(
                "offer %s of tenant %s names interaction %s of tenant %s: ignored",
                offer.offer_id, offer.tenant_id, offer.interaction_id, call.entry_point.tenant_id,
            )
            return
        decision = call.consider(offer)
        now = self._clock.now_ms()
        if decision is OfferDecision.REJECT:
            self._publish(call.refuse(offer, f"not_offerable:{call.state.value}", now))
            return
        if decision is not OfferDecision.RING:
            return
        try:
            uri = parse_uri(offer.agent_endpoint)
        except ValueError:
            self._publish(call.refuse(offer, "bad_endpoint", now))
            return
        call.ring(offer, now)
        self._ring_agent(session, offer, offer.agent_endpoint.strip(), uri.host_port)

    def on_withdrawal(self, withdrawal: OfferWithdrawn) -> None:
        """The router timed an offer out itself (we stayed silent past its ring time-out +
        grace) and will offer the contact to the next agent. If that offer still rings here,
        CANCEL the agent leg, as our own ring time-out does, and let the call wait for the next
        offer; publish nothing: the router already published the time-out. An offer that no
        longer rings (answered, rejected or timed out here, unknown) is left alone."""
        session = self._by_interaction.get(withdrawal.interaction_id)
        if session is None or withdrawal.tenant_id != session.call.entry_point.tenant_id:
            return
        leg = session.agent
        if leg is None or not self._is_current(session, leg):
            return
        if not session.call.withdraw(withdrawal.offer_id):
            return
        log.info(
            "offer %s for %s timed out by the router: cancelling agent %s",
            withdrawal.offer_id, withdrawal.interaction_id, leg.offer.agent_id,
        )
        self.stats.offers_withdrawn += 1
        session.agent = None
        self._give_up_leg(leg)

    def on_ended_by_router(self, ended: EndedByRouter) -> None:
        """The router ended the interaction, taking this instance for lost (it was silent
        too long: a stall, a partition). If the call is still up here, end it like a shutdown
        does (480 to a waiting caller, CANCEL a ringing agent; BYE both legs of a connected
        call) and publish nothing: the router's fact is the call's one terminal fact."""
        session = self._by_interaction.get(ended.interaction_id)
        if session is None:
            self._ended_elsewhere[ended.interaction_id] = None
            if len(self._ended_elsewhere) > ENDED_ELSEWHERE_KEPT:
                self._ended_elsewhere.popitem(last=False)
            return
        if ended.tenant_id != session.call.entry_point.tenant_id:
            return
        call = session.call
        now = self._clock.now_ms()
        if call.state in (CallState.WAITING, CallState.OFFERING) and self._release_after_prompt(
            session, ended.prompt
        ):
            call.caller_left(now, f"ended by the router ({ended.why})")
        elif call.state in (CallState.WAITING, CallState.OFFERING):
            if session.invite.status == 200:
                self._send_bye_to_caller(session)
            self._stack.respond(session.invite, 480, to_tag=session.dialog.local_tag)
            self._stop_agent(session)
            call.caller_left(now, "ended by the router")
        elif call.state in (CallState.CONNECTED, CallState.SELF_SERVICE):
            self._bye_agent(session)
            self._send_bye_to_caller(session)
            call.hung_up(EndedBy.SYSTEM, now)
        elif call.state is CallState.IVR:
            self._send_bye_to_caller(session)
            call.state = CallState.ENDED
        else:
            return
        log.warning("interaction %s ended by the router (%s)", ended.interaction_id, ended.why)
        self.stats.ended_by_router += 1
        if not session.releasing:  # else once its prompt was heard
            self._finish(session)

    def _release_after_prompt(self, session: CallSession, prompt: str) -> bool:
        """A waiting caller the platform answered hears `prompt` (a closed message), then
        gets BYE. False (released at once) when there is no such prompt or no media."""
        path = self._prompt(session, prompt) if prompt else None
        media = session.media
        if path is None or media is None or session.invite.status != 200:
            return False
        self._stop_agent(session)
        self._stop_treatment(session)
        session.releasing = True

        def release() -> None:
            if not session.finished:
                self._send_bye_to_caller(session)
                self._finish(session)

        def playing(reply: MediaReply) -> None:
            duration = reply.fields.get("duration") if reply.ok else None
            self._timers.call_later(duration if isinstance(duration, int) else 0, release)

        media.play(path, playing)
        return True

    def _ring_agent(self, session: CallSession, offer: Offer, uri: str, dest: Address) -> None:
        caller_invite = session.invite.request
        call_id = f"{self._stack.new_id()}@{self._stack.host}"
        leg = AgentLeg(offer, call_id, dest)
        headers = Headers()
        headers.add("via", self._stack.new_via())
        headers.add("max-forwards", MAX_FORWARDS)
        headers.add("from", f"{session.caller_from};tag={self._stack.new_id()}")
        headers.add("to", f"<{uri}>")
        headers.add("call-id", call_id)
        headers.add("cseq", "1 INVITE")
        headers.add("contact", self._contact)
        headers.add(INTERACTION_HEADER, session.call.interaction_id)
        # (the caller's INVITE is only a skeleton once an anchored call's 2xx was ACKed)
        body = caller_invite.body
        content_type = caller_invite.headers.get("content-type")
        if session.media is not None:
            body, content_type = session.media.agent_offer, "application/sdp"
        if content_type and body:
            headers.add("content-type", content_type)
        invite = SipRequest("INVITE", uri, headers, body)
        session.agent = leg
        session.legs.append(leg)
        self._by_agent_call_id[call_id] = (session, leg)
        leg.invite = self._stack.send_request(
            invite,
            dest,
            lambda _txn, response: self._agent_response(session, leg, response),
            lambda _txn: self._agent_unreachable(session, leg),
        )
        ring_ms = offer.ring_timeout_ms or self._default_ring_ms
        leg.ring_timer = self._timers.call_later(ring_ms, lambda: self._ring_timeout(session, leg))

    def _is_current(self, session: CallSession, leg: AgentLeg) -> bool:
        return (
            leg is session.agent
            and leg.state is LegState.RINGING
            and session.call.state is CallState.OFFERING
        )

    def _agent_response(self, session: CallSession, leg: AgentLeg, response: SipResponse) -> None:
        status = response.status
        if status < 200:
            leg.provisional = True
            if leg.state is LegState.CANCELLING:
                self._send_cancel(leg)
            return
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
            leg.ring_timer = None
        if status < 300:
            self._agent_answered(session, leg, response)
            return
        # 3xx-6xx: the stack has ACKed it
        current = self._is_current(session, leg)
        leg.state = LegState.ENDED
        if current:
            session.agent = None
            self._publish(session.call.offer_failed(f"sip:{status}", self._clock.now_ms()))

    def _agent_answered(self, session: CallSession, leg: AgentLeg, response: SipResponse) -> None:
        invite = leg.invite
        if invite is None:  # pragma: no cover - set before any response can arrive
            return
        if leg.dialog is None:
            leg.dialog = Dialog.as_uac(invite.request, response)
        if leg.ack is not None:  # a retransmitted 2xx: our ACK was lost
            self._stack.resend(leg.ack, leg.dest)
            return
        ack = leg.dialog.request("ACK", self._stack.new_via(), cseq=invite.request.cseq[0])
        leg.ack = self._stack.send_ack(ack, leg.dest)
        if not self._is_current(session, leg):
            # answered after we gave up on it (ring timeout, caller left, another answer)
            leg.state = LegState.ENDED
            bye = leg.dialog.request("BYE", self._stack.new_via())
            self._stack.send_request(bye, leg.dest, _ignore)
            return
        leg.state = LegState.ANSWERED
        if session.media is not None:
            self._bridge(session, leg, response.body)
            return
        extra = [("Contact", self._contact)]
        content_type = response.headers.get("content-type")
        if content_type and response.body:
            extra.append(("Content-Type", content_type))
        fact = session.call.answered(self._clock.now_ms())
        self._stack.respond(
            session.invite, 200, to_tag=session.dialog.local_tag, extra=extra, body=response.body
        )
        self._publish(fact)

    def _agent_unreachable(self, session: CallSession, leg: AgentLeg) -> None:
        """Our INVITE (or, once cancelled, its CANCEL) got no answer at all within 64*T1."""
        current = self._is_current(session, leg)
        leg.state = LegState.ENDED
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
            leg.ring_timer = None
        if current:
            session.agent = None
            self._publish(session.call.offer_failed("unreachable", self._clock.now_ms()))

    def _ring_timeout(self, session: CallSession, leg: AgentLeg) -> None:
        leg.ring_timer = None
        if not self._is_current(session, leg):
            return
        fact = session.call.ring_timed_out(self._clock.now_ms())
        session.agent = None
        self._give_up_leg(leg)
        self._publish(fact)

    def _give_up_leg(self, leg: AgentLeg) -> None:
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
            leg.ring_timer = None
        leg.state = LegState.CANCELLING
        if leg.provisional:
            self._send_cancel(leg)
        # else: RFC 3261 9.1, CANCEL once a provisional arrives (see _agent_response)

    def _send_cancel(self, leg: AgentLeg) -> None:
        if leg.cancel_sent or leg.invite is None:
            return
        leg.cancel_sent = True
        self._stack.cancel(leg.invite)

    def _stop_agent(self, session: CallSession) -> None:
        leg = session.agent
        if leg is not None and leg.state is LegState.RINGING:
            self._give_up_leg(leg)

    def _end_by_system(self, session: CallSession, reason: str = "") -> None:
        """End a connected (or self-service) call from here: BYE both legs, `completed` by
        SYSTEM with `reason`."""
        self._bye_agent(session)
        self._send_bye_to_caller(session)
        self._publish(session.call.hung_up(EndedBy.SYSTEM, self._clock.now_ms(), reason))
        self._finish(session)

    def _bye_agent(self, session: CallSession) -> None:
        leg = session.agent
        if leg is None or leg.state is not LegState.ANSWERED or leg.dialog is None:
            return
        leg.state = LegState.ENDED
        bye = leg.dialog.request("BYE", self._stack.new_via())
        self._stack.send_request(bye, leg.dest, _ignore)

    # ------------------------------------------------------------------------ media

    def _anchor(self, session: CallSession, stream: AudioStream, relay: MediaRelay) -> None:
        """Anchor the caller's audio in the relay and answer the caller with the relay's SDP;
        the caller then hears music until an agent is bridged."""
        invite = session.invite.request
        media = CallMedia(relay, invite.call_id, invite.from_tag, session.dialog.local_tag)
        session.media = media
        placeholder = placeholder_answer(stream, self._stack.host)

        def anchored(reply: MediaReply) -> None:
            if session.finished:  # the caller left meanwhile: _finish deleted the relay call
                return
            if not reply.ok:
                log.error(
                    "call %s: media relay failed: %s", session.call.interaction_id, reply.error
                )
                self.stats.media_failed += 1
                media.delete()
                self._caller_left(session, "media relay unavailable", 503, by_caller=False)
                return
            self._stack.respond(
                session.invite,
                200,
                to_tag=session.dialog.local_tag,
                extra=[("Contact", self._contact), ("Content-Type", "application/sdp")],
                body=media.caller_answer,
            )
            flow = session.call.entry_point.ivr
            if flow is None:
                self._start_treatment(session)
                return
            session.ivr = ivr.IvrRun(flow)
            session.language = flow.language
            self._run_ivr(session, session.ivr.start(self._clock.now_ms()))

        media.anchor(narrowed(invite.body, stream), placeholder, anchored)

    def _prompt(self, session: CallSession, name: str) -> str | None:
        if self._prompts is None:
            return None
        entry = session.call.entry_point
        return self._prompts.path(entry.tenant_id, name, session.language)

    def _start_treatment(self, session: CallSession) -> None:
        """Music while the caller waits, interrupted every `announce_every_ms` by an
        announcement."""
        self._play_music(session)
        self._arm_announcement(session)

    def _play_music(self, session: CallSession) -> None:
        music = self._prompt(session, "moh")
        if session.media is not None and music is not None:
            session.media.play(music, repeat=True)

    def _arm_announcement(self, session: CallSession) -> None:
        if self._announce_every_ms > 0:
            session.announce_timer = self._timers.call_later(
                self._announce_every_ms, lambda: self._announce(session)
            )

    def on_placement(self, placement: QueuePlacement) -> None:
        """The router queued a contact held here: tell the caller its position and the
        estimated wait at once (then music, and the periodic announcements)."""
        session = self._by_interaction.get(placement.interaction_id)
        if (
            session is None or session.media is None
            or placement.tenant_id != session.call.entry_point.tenant_id
        ):
            return
        session.placement = placement
        session.placed_at_ms = self._clock.now_ms()
        if session.call.state is CallState.WAITING:
            if session.announce_timer is not None:
                session.announce_timer.cancel()
            self._announce(session, first=True)

    def _announcement(self, session: CallSession, *, first: bool) -> list[str]:
        """What the caller is told: first its position and the estimated wait, then "please
        hold" and the wait that is left (prompts position_1..10, wait_minutes_1..10)."""
        placement = session.placement
        names = [] if first else ["please_hold"]
        if placement is None:
            return names
        if first and 1 <= placement.position <= 10:
            names.append(f"position_{placement.position}")
        if placement.estimated_wait_ms > 0:
            left_ms = placement.estimated_wait_ms - (self._clock.now_ms() - session.placed_at_ms)
            minutes = min(10, max(1, -(-left_ms // 60_000)))
            names.append(f"wait_minutes_{minutes}")
        if _callback_offered(session):
            names.append("callback_offer")  # "press 1 to be called back"
        return names

    def _announce(self, session: CallSession, *, first: bool = False) -> None:
        """Play the announcement, then the music again, and arm the next announcement."""
        session.announce_timer = None
        media = session.media
        paths = [
            path for name in self._announcement(session, first=first)
            if (path := self._prompt(session, name)) is not None
        ]
        if media is None or not paths or not _waits(session):
            if media is not None and _waits(session):
                self._arm_announcement(session)
            return

        def back_to_music() -> None:
            session.announce_timer = None
            if _waits(session):
                self._play_music(session)
                self._arm_announcement(session)

        def play_next(index: int) -> None:
            session.announce_timer = None
            if not _waits(session):
                return
            if index == len(paths):
                back_to_music()
                return

            def played(reply: MediaReply) -> None:
                duration = reply.fields.get("duration") if reply.ok else None
                if isinstance(duration, int) and _waits(session):
                    session.announce_timer = self._timers.call_later(
                        duration, partial(play_next, index + 1)
                    )
                else:
                    back_to_music()

            media.play(paths[index], played)

        play_next(0)

    def _stop_treatment(self, session: CallSession) -> None:
        if session.announce_timer is not None:
            session.announce_timer.cancel()
            session.announce_timer = None
        if session.media is not None:
            session.media.stop()

    def _bridge(self, session: CallSession, leg: AgentLeg, agent_answer: bytes) -> None:
        """The agent answered an anchored call: it is connected now (the caller was answered
        long ago); the relay points the platform's side at the agent's phone."""
        media = session.media
        if media is None:  # pragma: no cover - only anchored calls come here
            return
        fact = session.call.answered(self._clock.now_ms())
        self._stop_treatment(session)

        def connected(reply: MediaReply) -> None:
            if reply.ok or session.finished or leg is not session.agent:
                return
            log.error(
                "call %s: media relay refused the agent's answer: %s",
                session.call.interaction_id, reply.error,
            )
            self._end_by_system(session)

        media.connect(agent_answer, connected)
        self._publish(fact)

    def _agent_reinvite(
        self, txn: ServerTransaction, session: CallSession, leg: AgentLeg
    ) -> None:
        """A re-INVITE from a connected agent phone: hold (sendonly/inactive: the caller
        hears music, the agent's audio is blocked) or resume (the relay follows the phone's
        possibly new address)."""
        media, call = session.media, session.call
        connected = (
            leg is session.agent and leg.state is LegState.ANSWERED
            and call.state is CallState.CONNECTED and leg.dialog is not None
            and leg.dialog.matches(txn.request)
        )
        if media is None or not connected:
            self._stack.respond(txn, 481 if leg.state is LegState.ENDED else 491)
            return
        try:
            stream = parse_audio(txn.request.body)
        except SdpError as exc:
            self._stack.respond(
                txn, 488, "Not Acceptable Here", extra=[("Warning", _warning(str(exc)))]
            )
            return
        now = self._clock.now_ms()
        fact: CallHeld | CallResumed | None
        if stream.on_hold:
            fact = call.held(now)
            if fact is not None:
                media.block_agent()
                self._play_music(session)
            direction = (
                Direction.RECVONLY if stream.direction is Direction.SENDONLY
                else Direction.INACTIVE
            )
        else:
            fact = call.resumed(now)
            media.connect(txn.request.body, _ignore_reply)
            if fact is not None:
                media.stop()
                media.unblock_agent()
            direction = Direction.SENDRECV
        self._stack.respond(
            txn,
            200,
            extra=[("Contact", self._contact), ("Content-Type", "application/sdp")],
            body=with_direction(media.agent_offer, direction),
        )
        if fact is not None:
            self._publish(fact)

    def on_command(self, command: CallCommand) -> None:
        """Hold, resume or transfer asked for from the desktop or the API (not the phone):
        the platform does it in the relay alone; the agent's phone is told nothing, except
        the BYE that ends its leg on a transfer. Commands for calls held elsewhere, not
        connected to that agent, or of another tenant are ignored (logged)."""
        session = self._by_interaction.get(command.interaction_id)
        if session is None:
            return  # another instance holds the call, or it is over
        call, leg = session.call, session.agent
        if (
            command.tenant_id != call.entry_point.tenant_id or session.media is None
            or call.state is not CallState.CONNECTED or leg is None
            or leg.state is not LegState.ANSWERED or command.agent_id != leg.offer.agent_id
        ):
            self.stats.commands_refused += 1
            log.warning(
                "%s of %s by %s refused: the call is %s", command.action.value,
                command.interaction_id, command.agent_id, call.state.value,
            )
            return
        now = self._clock.now_ms()
        media = session.media
        if command.action is CallAction.HOLD:
            held = call.held(now)
            if held is not None:
                media.block_agent()
                media.block_caller()
                self._play_music(session)
                self._publish(held)
        elif command.action is CallAction.RESUME:
            resumed = call.resumed(now)
            if resumed is not None:
                media.stop()
                media.unblock_agent()
                media.unblock_caller()
                self._publish(resumed)
        else:
            queue_id = self._tenant_queue(call.entry_point.tenant_id, command.to_queue_id)
            if queue_id is None:
                self.stats.transfers_refused += 1
                log.warning("transfer of %s to %r refused", command.interaction_id,
                            command.to_queue_id)  # fmt: skip
                return
            self._transfer(session, queue_id)

    def _transfer(self, session: CallSession, queue_id: str) -> None:
        """End the agent's leg and put the caller back in a queue (music until an offer)."""
        self._bye_agent(session)
        session.agent = None
        self._publish(session.call.transferred(self._clock.now_ms(), to_queue_id=queue_id))
        if session.media is not None:
            session.media.unblock_agent()
            session.media.unblock_caller()
        self._start_treatment(session)

    def _on_refer(self, txn: ServerTransaction) -> None:
        """Blind transfer from the connected agent's phone: REFER with Refer-To naming a
        queue of the call's tenant (a queue id, or an entry point address that leads to a
        queue). The agent leg ends; the caller hears music and is offered again."""
        request = txn.request
        pair = self._by_agent_call_id.get(request.call_id)
        if pair is None or pair[1].dialog is None or not pair[1].dialog.matches(request):
            self._stack.respond(txn, 481)
            return
        session, leg = pair
        call, dialog = session.call, pair[1].dialog
        if (
            session.media is None or leg is not session.agent
            or leg.state is not LegState.ANSWERED or call.state is not CallState.CONNECTED
        ):
            self._stack.respond(txn, 403, "Forbidden - nothing to transfer")
            return
        refer_to = request.headers.get("refer-to")
        queue_id = self._transfer_queue(call.entry_point.tenant_id, refer_to)
        if queue_id is None:
            log.warning(
                "call %s: REFER to %r refused: not a queue of tenant %s",
                call.interaction_id, refer_to, call.entry_point.tenant_id,
            )
            self.stats.transfers_refused += 1
            self._stack.respond(txn, 403, "Forbidden - transfer target not allowed")
            return
        self._stack.respond(txn, 202, extra=[("Contact", self._contact)])
        notify = dialog.request("NOTIFY", self._stack.new_via())
        notify.headers.add("event", "refer")
        notify.headers.add("subscription-state", "terminated;reason=noresource")
        notify.headers.add("contact", self._contact)
        notify.headers.add("content-type", "message/sipfrag;version=2.0")
        notify.body = b"SIP/2.0 200 OK\r\n"
        self._stack.send_request(notify, leg.dest, _ignore)
        self._transfer(session, queue_id)

    def _transfer_queue(self, tenant_id: str, refer_to: str | None) -> str | None:
        """The queue a Refer-To names, if it is one of the tenant's; None otherwise (another
        tenant's queue, an unknown or external address: refused, never dialled out)."""
        try:
            user = parse_uri(parse_name_addr(refer_to or "").uri).user
        except ValueError:
            return None
        return self._tenant_queue(tenant_id, user)

    def _tenant_queue(self, tenant_id: str, name: str) -> str | None:
        """The tenant's queue `name` names (a queue id, or an entry point address leading to
        a queue), or None."""
        queues = {
            queue_id
            for e in self._entry_points.values() if e.tenant_id == tenant_id
            for queue_id in e.queue_ids()
        }
        entry = self._entry_points.get(name)
        if entry is not None and entry.tenant_id == tenant_id and entry.queue_id in queues:
            return entry.queue_id
        return name if name in queues else None

    def start_media_checks(self) -> None:
        """Every `media_check_every_ms`, ask the relay about each anchored call: a call it no
        longer knows has had no audio for the relay's configured time (or the relay lost it):
        it ends, with the reason media_timeout."""
        if self._media is None or self._media_check_every_ms <= 0:
            return

        def sweep() -> None:
            anchored = [
                s for s in self._by_call_id.values() if s.media is not None and not s.finished
            ]
            # A few calls at a time, spread over the interval: a burst of hundreds of
            # queries would flood the relay and our reply socket.
            step_ms = max(1, self._media_check_every_ms // 2 // max(1, len(anchored) // 20 + 1))
            for batch_no, start in enumerate(range(0, len(anchored), 20)):
                batch = anchored[start:start + 20]
                self._timers.call_later(batch_no * step_ms, partial(self._query_media, batch))
            self._media_check = self._timers.call_later(self._media_check_every_ms, sweep)

        self._media_check = self._timers.call_later(self._media_check_every_ms, sweep)

    def _query_media(self, sessions: list[CallSession]) -> None:
        for session in sessions:
            if session.media is not None and not session.finished:
                session.media.query(partial(self._media_checked, session))

    def stop_media_checks(self) -> None:
        if self._media_check is not None:
            self._media_check.cancel()
            self._media_check = None

    def _media_checked(self, session: CallSession, reply: MediaReply) -> None:
        if reply.ok or session.finished or "unknown call" not in reply.error.lower():
            return  # alive, over, or the relay did not answer (not a verdict on this call)
        if session.media is not None:
            session.media.deleted = True  # nothing left to delete
        self.stats.media_lost += 1
        call = session.call
        log.warning("call %s: its media stopped (%s); ending it", call.interaction_id, reply.error)
        if call.state in (CallState.WAITING, CallState.OFFERING):
            self._caller_left(session, "media_timeout", 408, by_caller=False)
        elif call.state is CallState.IVR:
            self._left_ivr(session, by_caller=False)
        elif call.state is CallState.CONNECTED:
            self._end_by_system(session, "media_timeout")

    def on_dtmf(self, call_id: str, from_tag: str, digit: str) -> None:
        """A key the caller pressed (RFC 4733, reported by the media relay)."""
        session = self._by_call_id.get(call_id)
        if session is None or session.finished or from_tag != session.dialog.remote_tag:
            return
        now = self._clock.now_ms()
        keys = session.key_times
        if len(keys) == keys.maxlen and now - keys[0] < 1000:
            self.stats.keys_dropped += 1
            if self.stats.keys_dropped % 100 == 1:
                log.warning("call %s: DTMF flood, keys dropped", session.call.interaction_id)
            return
        keys.append(now)
        log.debug("call %s: caller pressed %s", session.call.interaction_id, digit)
        if session.ivr is not None and session.call.state is CallState.IVR:
            self._run_ivr(session, session.ivr.digit(digit, self._clock.now_ms()))
        elif digit == CALLBACK_KEY and _callback_offered(session):
            self._call_back(session)

    def _call_back(self, session: CallSession) -> None:
        """The waiting caller asked to be called back: `callback_requested` (the router keeps
        the contact's place), a confirmation if there is one, then BYE; not an abandon."""
        placement = session.placement
        if placement is None:  # pragma: no cover - _callback_offered checked it
            return
        self._publish(session.call.callback_requested(self._clock.now_ms(), placement.queue_id))
        log.info("call %s: the caller asked to be called back", session.call.interaction_id)
        self.stats.callbacks_requested += 1
        if not self._release_after_prompt(session, "callback_confirmed"):
            self._send_bye_to_caller(session)
            self._finish(session)

    # ------------------------------------------------------------------------ IVR

    def _run_ivr(self, session: CallSession, actions: list[ivr.Action]) -> None:
        """Carry out what the caller's IVR run asks for."""
        for action in actions:
            if session.finished or session.call.state is not CallState.IVR:
                return
            if isinstance(action, ivr.Play):
                self._play_prompt(session, action)
            elif isinstance(action, ivr.StopPlay):
                session.prompt_seq += 1
                if session.media is not None:
                    session.media.stop()
            elif isinstance(action, ivr.StartTimer):
                self._timers.call_later(action.ms, partial(self._ivr_timer, session, action.token))
            else:
                self._ivr_finished(session, action)

    def _ivr_timer(self, session: CallSession, token: str) -> None:
        self._ivr_event(session, lambda run, now: run.timer_fired(token, now))

    def _ivr_event(
        self, session: CallSession, event: Callable[[ivr.IvrRun, int], list[ivr.Action]]
    ) -> None:
        run = session.ivr
        if run is not None and not session.finished and session.call.state is CallState.IVR:
            self._run_ivr(session, event(run, self._clock.now_ms()))

    def _play_prompt(self, session: CallSession, play: ivr.Play) -> None:
        """Play a prompt; its end (after the file's duration) is reported to the run, unless
        another prompt or a digit came first. A missing prompt counts as played."""
        session.prompt_seq += 1
        seq = session.prompt_seq
        session.language = play.language

        def ended() -> None:
            if session.prompt_seq == seq:
                self._ivr_event(session, lambda r, now: r.prompt_finished(now))

        path = self._prompt(session, play.prompt)
        if path is None or session.media is None:
            log.warning(
                "call %s: no prompt %r in %r", session.call.interaction_id, play.prompt,
                play.language,
            )
            self._timers.call_later(0, ended)
            return

        def playing(reply: MediaReply) -> None:
            duration = reply.fields.get("duration") if reply.ok else None
            self._timers.call_later(duration if isinstance(duration, int) else 0, ended)

        session.media.play(path, playing)

    def _ivr_finished(self, session: CallSession, finish: ivr.Finish) -> None:
        call = session.call
        outcome = SelfServiceOutcome(finish.outcome.value)
        fact = call.ivr_finished(
            self._clock.now_ms(), outcome, finish.duration_ms,
            queue_id=finish.queue_id, language=finish.language,
            skills=tuple((s.name, s.level) for s in finish.skills),
            priority=finish.priority, intent=finish.intent, account=finish.account,
        )
        self._publish(fact)
        if session.media is not None:
            session.media.stop()
        if call.state is CallState.WAITING:
            session.language = finish.language or session.language
            self._start_treatment(session)
        else:  # contained: the IVR said its last words
            self._send_bye_to_caller(session)
            self._finish(session)

    def _left_ivr(self, session: CallSession, *, by_caller: bool = True) -> None:
        """The caller hung up in the IVR (or, `by_caller` False, we end the call there with a
        BYE): CUSTOMER_LEFT."""
        if not by_caller:
            self._send_bye_to_caller(session)
        run = session.ivr
        now = self._clock.now_ms()
        finish = run.caller_left(now) if run is not None else None
        self._publish(session.call.ivr_finished(
            now, SelfServiceOutcome.CUSTOMER_LEFT,
            finish.duration_ms if finish else now - session.call.arrived_at_ms,
            language=session.language, account=finish.account if finish else "",
        ))  # fmt: skip
        self._finish(session)

    # ------------------------------------------------------------------------ shutdown

    def drain(self) -> int:
        """Refuse new calls and end the live ones (503 to waiting callers, BYE to connected
        ones). Returns how many calls were ended."""
        self.draining = True
        ended = 0
        for session in list(self._by_call_id.values()):
            call = session.call
            if call.state is CallState.IVR:
                self._left_ivr(session, by_caller=False)
            elif call.state in (CallState.WAITING, CallState.OFFERING):
                self._caller_left(session, "ingress shutting down", 503, by_caller=False)
            elif call.state in (CallState.CONNECTED, CallState.SELF_SERVICE):
                self._end_by_system(session)
            else:
                continue
            ended += 1
        return ended


def _ignore(_txn: ClientTransaction, _response: SipResponse) -> None:
    return None


def _ignore_reply(_reply: MediaReply) -> None:
    return None


def _waits(session: CallSession) -> bool:
    """The caller waits for an agent (music and announcements go on while one rings)."""
    return not session.finished and session.call.state in (CallState.WAITING, CallState.OFFERING)


def _callback_offered(session: CallSession) -> bool:
    """The caller waits (no agent ringing), the router offered a callback, and the caller's
    address can be called."""
    placement = session.placement
    return (
        not session.finished and session.call.state is CallState.WAITING
        and placement is not None and placement.callback_offered and session.call.may_call_back
    )


def _warning(text: str) -> str:
    """A Warning header (RFC 3261 20.43, code 399: miscellaneous) saying why we refused."""
    return '399 hotline "' + text.replace('"', "'") + '"'
