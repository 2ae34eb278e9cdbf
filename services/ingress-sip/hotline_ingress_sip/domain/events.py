"""Domain facts ingress-sip observes about voice interactions (past tense), and the offers it
is asked to ring. Adapters map them to and from `hotline.interaction.v1.InteractionEvent`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeAlias

from hotline_platform.ivr import IvrFlow, Route


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """Where a dialled address goes (from the tenancy config)."""

    address: str
    tenant_id: str
    site_id: str = ""
    queue_id: str = ""
    announcement: bool = False  # answered by ingress-sip itself, no agent
    ivr: IvrFlow | None = None  # answered by ingress-sip, which runs it (domain.ivr.IvrRun)

    def queue_ids(self) -> set[str]:
        """The queues callers of this entry point can reach (its own, or its IVR's routes)."""
        routed = {
            node.queue_id for node in (self.ivr.nodes.values() if self.ivr else ())
            if isinstance(node, Route)
        }
        return routed | ({self.queue_id} if self.queue_id else set())


@dataclass(frozen=True, slots=True)
class Offer:
    """The router asks to ring an agent's phone for an interaction."""

    interaction_id: str
    tenant_id: str
    offer_id: str
    agent_id: str
    queue_id: str
    agent_endpoint: str  # SIP URI of the agent's phone
    ring_timeout_ms: int
    attempt: int = 1
    causation_id: str = ""  # event id of the `offered` event


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """The router gave up on an offer (its own `offer_timed_out`, published when ingress-sip
    stayed silent past the ring time-out + grace): stop ringing if it still rings. The router
    already recorded the outcome, so this causes no fact of ours."""

    interaction_id: str
    tenant_id: str
    offer_id: str
    agent_id: str = ""


@dataclass(frozen=True, slots=True)
class EndedByRouter:
    """The router ended the interaction itself (`abandoned` / `completed` on its topic): it
    took this instance for lost (silent past its HOTLINE_INGRESS_LOST_AFTER_MS, e.g. a stall).
    Or it released the caller: the contact flowed out to a closed message or a callback, or
    the caller asked to be called back (`flowed_out`, `callback_requested`). If the call is
    still up here, end it without a fact of ours: the router has the fact."""

    interaction_id: str
    tenant_id: str
    why: str = "lost"  # "lost", "flowed_out", "callback" (logs)
    prompt: str = ""  # heard by a waiting caller before the release (a closed message)


class CallAction(enum.Enum):
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"


@dataclass(frozen=True, slots=True)
class CallCommand:
    """An agent (or a supervisor, through the desktop or the REST API) asks the platform to
    hold, resume or blind-transfer a connected call. Done only if the call is connected to
    `agent_id`; a transfer names a queue of the call's tenant."""

    interaction_id: str
    tenant_id: str
    agent_id: str
    action: CallAction
    to_queue_id: str = ""
    command_id: str = ""  # the command's event id (a redelivered command changes nothing)


@dataclass(frozen=True, slots=True)
class QueuePlacement:
    """The router queued the contact (`queued`): its position then (1 = next) and the wait
    the router estimated, for what the caller is told while waiting."""

    interaction_id: str
    tenant_id: str
    queue_id: str
    position: int
    estimated_wait_ms: int
    callback_offered: bool = False  # the caller may ask to be called back (a key)


# What ingress-sip reads from the router's topic (and the commands topic).
RoutingInstruction: TypeAlias = (
    Offer | OfferWithdrawn | EndedByRouter | CallCommand | QueuePlacement
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    interaction_id: str
    tenant_id: str
    site_id: str
    at_ms: int
    causation_id: str = ""
    agent_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallArrived(Fact):
    from_address: str  # caller's From URI
    to_address: str  # Request-URI
    entry_point_id: str
    caller_id: str  # user part of the caller's From URI (identity hint PHONE)
    session_ref: str  # SIP Call-ID of the caller's leg


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferAccepted(Fact):
    offer_id: str
    queue_id: str
    since_arrival_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferRejected(Fact):
    offer_id: str
    queue_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferTimedOut(Fact):
    offer_id: str
    queue_id: str
    rang_ms: int


class EndedBy(enum.Enum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallCompleted(Fact):
    ended_by: EndedBy
    talk_ms: int  # answer to end, holds included
    hold_ms: int = 0  # total time the caller was on hold
    reason: str = ""  # why the system ended it (e.g. "media_timeout")


class AbandonStage(enum.Enum):
    IN_QUEUE = "in_queue"
    WHILE_OFFERED = "while_offered"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAbandoned(Fact):
    stage: AbandonStage
    waited_ms: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRequested(Fact):
    """The waiting caller pressed the callback key: released, its contact waits on in the
    queue as a callback (the router's)."""

    queue_id: str
    callback_address: str
    waited_ms: int


class SelfServiceOutcome(enum.Enum):
    ROUTE_TO_QUEUE = "route_to_queue"
    CONTAINED = "contained"
    CUSTOMER_LEFT = "customer_left"


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfServiceFinished(Fact):
    outcome: SelfServiceOutcome
    duration_ms: int
    # What the IVR chose, for ROUTE_TO_QUEUE (the router queues the contact with it).
    queue_id: str = ""
    language: str = ""
    skills: tuple[tuple[str, int], ...] = ()  # (skill, minimum level)
    priority: int = 0
    intent: str = ""
    account: str = ""  # digits collected as the customer's account number


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHeld(Fact):
    """The agent put the caller on hold (re-INVITE sendonly/inactive from the agent phone)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResumed(Fact):
    held_ms: int


class TransferKind(enum.Enum):
    BLIND = "blind"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransferred(Fact):
    """The connected agent handed the caller on (REFER); exactly one target is set. The caller
    stays on the platform for a queue or agent target and waits for the next offer."""

    kind: TransferKind
    to_queue_id: str = ""
    to_agent_id: str = ""
    to_address: str = ""
