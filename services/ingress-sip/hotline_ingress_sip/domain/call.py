"""The voice interaction as ingress-sip sees it: a state machine that turns what happens on the
two SIP legs into the facts of docs/flow.md.

    WAITING --offer--> OFFERING --answered--> CONNECTED --hung up--> ENDED
       ^                  |  rejected / unreachable / ring timed out / withdrawn by the router
       +------------------+
    WAITING | OFFERING --caller left--> ENDED (abandoned)
    CONNECTED --held / resumed--> CONNECTED (hold time counted)
    CONNECTED --transferred to a queue--> WAITING (offered again like any contact)
    SELF_SERVICE (announcement entry point) --hung up--> ENDED (self_service_finished)
    IVR --routed--> WAITING; IVR --contained / caller left--> ENDED (self_service_finished)

Illegal transitions raise InvalidTransition; they are never silently ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypedDict

from hotline_ingress_sip.domain.events import (
    AbandonStage,
    CallAbandoned,
    CallArrived,
    CallbackRequested,
    CallCompleted,
    CallHeld,
    CallResumed,
    CallTransferred,
    EndedBy,
    EntryPoint,
    Fact,
    Offer,
    OfferAccepted,
    OfferRejected,
    OfferTimedOut,
    SelfServiceFinished,
    SelfServiceOutcome,
    TransferKind,
)


class _FactFields(TypedDict):
    interaction_id: str
    tenant_id: str
    site_id: str
    at_ms: int
    causation_id: str
    agent_id: str


class CallState(enum.Enum):
    WAITING = "waiting"  # caller in early dialog, no agent being rung
    OFFERING = "offering"  # an agent's phone is ringing
    CONNECTED = "connected"  # caller and agent talk
    SELF_SERVICE = "self_service"  # answered by the platform (announcement)
    IVR = "ivr"  # answered by the platform, the caller is in the entry point's IVR
    ENDED = "ended"


class InvalidTransition(ValueError):
    pass


class OfferDecision(enum.Enum):
    RING = "ring"  # ring the agent
    DUPLICATE = "duplicate"  # this offer was seen before (redelivery): do nothing
    TOO_LATE = "too_late"  # the call is over; the router learns it from abandoned/completed
    REJECT = "reject"  # the call cannot take an offer now (already offering / connected)


@dataclass(eq=False)
class Call:
    interaction_id: str
    entry_point: EntryPoint
    session_ref: str
    arrived_at_ms: int
    state: CallState
    offer: Offer | None = None
    offered_at_ms: int = 0
    connected_at_ms: int = 0
    seen_offers: set[str] = field(default_factory=set)
    held_since_ms: int | None = None  # the caller is on hold since
    hold_ms: int = 0  # hold time of the current agent's part, finished holds
    caller: str = ""  # the caller's address (From URI): where a callback goes

    @classmethod
    def arrive(
        cls,
        interaction_id: str,
        entry_point: EntryPoint,
        *,
        session_ref: str,
        from_address: str,
        to_address: str,
        caller_id: str,
        now_ms: int,
    ) -> tuple[Call, CallArrived]:
        state = (
            CallState.SELF_SERVICE if entry_point.announcement
            else CallState.IVR if entry_point.ivr is not None
            else CallState.WAITING
        )
        call = cls(interaction_id, entry_point, session_ref, now_ms, state, caller=from_address)
        if state is CallState.SELF_SERVICE:
            call.connected_at_ms = now_ms
        fact = CallArrived(
            **call._base(now_ms),
            from_address=from_address,
            to_address=to_address,
            entry_point_id=entry_point.address,
            caller_id=caller_id,
            session_ref=session_ref,
        )
        return call, fact

    def _base(
        self, now_ms: int, offer: Offer | None = None, *, caused_by_offer: bool = True
    ) -> _FactFields:
        """Fields every fact carries. Facts about an offer name the `offered` event as their
        cause; facts caused by a SIP message (a BYE, a CANCEL) have no causing event."""
        return {
            "interaction_id": self.interaction_id,
            "tenant_id": self.entry_point.tenant_id,
            "site_id": self.entry_point.site_id,
            "at_ms": now_ms,
            "causation_id": offer.causation_id if offer and caused_by_offer else "",
            "agent_id": offer.agent_id if offer else "",
        }

    def _require(self, *states: CallState) -> None:
        if self.state not in states:
            wanted = "/".join(s.value for s in states)
            raise InvalidTransition(
                f"call {self.interaction_id} is {self.state.value}, not {wanted}"
            )

    @property
    def is_over(self) -> bool:
        return self.state is CallState.ENDED

    # ------------------------------------------------------------------------- offers

    def consider(self, offer: Offer) -> OfferDecision:
        if offer.offer_id in self.seen_offers:
            return OfferDecision.DUPLICATE
        if self.state is CallState.ENDED:
            return OfferDecision.TOO_LATE
        if self.state is not CallState.WAITING:
            return OfferDecision.REJECT
        return OfferDecision.RING

    def ring(self, offer: Offer, now_ms: int) -> None:
        self._require(CallState.WAITING)
        self.seen_offers.add(offer.offer_id)
        self.offer = offer
        self.offered_at_ms = now_ms
        self.state = CallState.OFFERING

    def refuse(self, offer: Offer, reason: str, now_ms: int) -> OfferRejected:
        """An offer the call cannot take (decision REJECT, or an unusable agent endpoint)."""
        self.seen_offers.add(offer.offer_id)
        return OfferRejected(
            **self._base(now_ms, offer),
            offer_id=offer.offer_id,
            queue_id=offer.queue_id,
            reason=reason,
        )

    def _current_offer(self) -> Offer:
        self._require(CallState.OFFERING)
        if self.offer is None:  # pragma: no cover - OFFERING always has an offer
            raise InvalidTransition("offering without an offer")
        return self.offer

    def answered(self, now_ms: int) -> OfferAccepted:
        offer = self._current_offer()
        self.state = CallState.CONNECTED
        self.connected_at_ms = now_ms
        return OfferAccepted(
            **self._base(now_ms, offer),
            offer_id=offer.offer_id,
            queue_id=offer.queue_id,
            since_arrival_ms=max(0, now_ms - self.arrived_at_ms),
        )

    def offer_failed(self, reason: str, now_ms: int) -> OfferRejected:
        """The agent's phone declined (4xx-6xx) or could not be reached."""
        offer = self._current_offer()
        self.state = CallState.WAITING
        self.offer = None
        return OfferRejected(
            **self._base(now_ms, offer),
            offer_id=offer.offer_id,
            queue_id=offer.queue_id,
            reason=reason,
        )

    def ring_timed_out(self, now_ms: int) -> OfferTimedOut:
        offer = self._current_offer()
        self.state = CallState.WAITING
        self.offer = None
        return OfferTimedOut(
            **self._base(now_ms, offer),
            offer_id=offer.offer_id,
            queue_id=offer.queue_id,
            rang_ms=max(0, now_ms - self.offered_at_ms),
        )

    def withdraw(self, offer_id: str) -> bool:
        """The router timed the offer out itself. If that offer still rings, the call waits
        again (no fact: the router published the time-out) and True is returned; an offer
        that no longer rings (answered, rejected, timed out here, another offer, unknown)
        changes nothing."""
        if self.state is not CallState.OFFERING or self.offer is None:
            return False
        if self.offer.offer_id != offer_id:
            return False
        self.state = CallState.WAITING
        self.offer = None
        return True

    # ------------------------------------------------------------------------- connected

    @property
    def on_hold(self) -> bool:
        return self.held_since_ms is not None

    def _connected_offer(self) -> Offer:
        self._require(CallState.CONNECTED)
        if self.offer is None:  # pragma: no cover - CONNECTED always has an offer
            raise InvalidTransition("connected without an offer")
        return self.offer

    def held(self, now_ms: int) -> CallHeld | None:
        """The agent put the caller on hold; None if it already was (a refresh)."""
        offer = self._connected_offer()
        if self.held_since_ms is not None:
            return None
        self.held_since_ms = now_ms
        return CallHeld(**self._base(now_ms, offer, caused_by_offer=False))

    def resumed(self, now_ms: int) -> CallResumed | None:
        """The agent took the caller off hold; None if it was not on hold."""
        offer = self._connected_offer()
        if self.held_since_ms is None:
            return None
        held_ms = max(0, now_ms - self.held_since_ms)
        self.held_since_ms = None
        self.hold_ms += held_ms
        return CallResumed(**self._base(now_ms, offer, caused_by_offer=False), held_ms=held_ms)

    def _close_hold(self, now_ms: int) -> int:
        """Hold time of the agent's part that ends now (an open hold ends with it)."""
        if self.held_since_ms is not None:
            self.hold_ms += max(0, now_ms - self.held_since_ms)
            self.held_since_ms = None
        total, self.hold_ms = self.hold_ms, 0
        return total

    def transferred(self, now_ms: int, *, to_queue_id: str) -> CallTransferred:
        """The agent transferred the caller to a queue (blind): the caller waits again and
        the router offers the contact like any other."""
        offer = self._connected_offer()
        self._close_hold(now_ms)
        self.state = CallState.WAITING
        self.offer = None
        return CallTransferred(
            **self._base(now_ms, offer, caused_by_offer=False),
            kind=TransferKind.BLIND,
            to_queue_id=to_queue_id,
        )

    def ivr_finished(
        self,
        now_ms: int,
        outcome: SelfServiceOutcome,
        duration_ms: int,
        *,
        queue_id: str = "",
        language: str = "",
        skills: tuple[tuple[str, int], ...] = (),
        priority: int = 0,
        intent: str = "",
        account: str = "",
    ) -> SelfServiceFinished:
        """The IVR run ended: routed to a queue (the caller waits), or over (contained, or
        the caller hung up: never an abandon)."""
        self._require(CallState.IVR)
        routed = outcome is SelfServiceOutcome.ROUTE_TO_QUEUE
        self.state = CallState.WAITING if routed else CallState.ENDED
        return SelfServiceFinished(
            **self._base(now_ms),
            outcome=outcome,
            duration_ms=max(0, duration_ms),
            queue_id=queue_id,
            language=language,
            skills=skills,
            priority=priority,
            intent=intent,
            account=account,
        )

    # ------------------------------------------------------------------------- endings

    @property
    def may_call_back(self) -> bool:
        """The caller's address can be called (not withheld, RFC 3323)."""
        return bool(self.caller) and "anonymous" not in self.caller.lower()

    def callback_requested(self, now_ms: int, queue_id: str) -> CallbackRequested:
        """The waiting caller asked to be called back: the call ends here (not an abandon);
        the contact waits on in `queue_id`."""
        self._require(CallState.WAITING)
        self.state = CallState.ENDED
        return CallbackRequested(
            **self._base(now_ms), queue_id=queue_id, callback_address=self.caller,
            waited_ms=max(0, now_ms - self.arrived_at_ms),
        )

    def caller_left(self, now_ms: int, reason: str = "") -> CallAbandoned:
        """The caller gave up (CANCEL) before being connected."""
        self._require(CallState.WAITING, CallState.OFFERING)
        stage = (
            AbandonStage.WHILE_OFFERED
            if self.state is CallState.OFFERING
            else AbandonStage.IN_QUEUE
        )
        offer = self.offer if self.state is CallState.OFFERING else None
        self.state = CallState.ENDED
        return CallAbandoned(
            **self._base(now_ms, offer, caused_by_offer=False),
            stage=stage,
            waited_ms=max(0, now_ms - self.arrived_at_ms),
            reason=reason,
        )

    def hung_up(self, by: EndedBy, now_ms: int, reason: str = "") -> Fact:
        """A connected call ended (BYE from either side, or the system ended it)."""
        self._require(CallState.CONNECTED, CallState.SELF_SERVICE)
        duration = max(0, now_ms - self.connected_at_ms)
        if self.state is CallState.SELF_SERVICE:
            self.state = CallState.ENDED
            outcome = (
                SelfServiceOutcome.CONTAINED
                if by is EndedBy.CUSTOMER
                else SelfServiceOutcome.CUSTOMER_LEFT
            )
            return SelfServiceFinished(
                **self._base(now_ms),
                outcome=outcome,
                duration_ms=max(0, now_ms - self.arrived_at_ms),
            )
        self.state = CallState.ENDED
        return CallCompleted(
            **self._base(now_ms, self.offer, caused_by_offer=False),
            ended_by=by,
            talk_ms=duration,
            hold_ms=self._close_hold(now_ms),
            reason=reason,
        )
