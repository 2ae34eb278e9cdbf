"""The agent desktop's screen-pop: the recent contacts of the customer on the line, for the
agent the contact was offered to (`interaction.read_own`, the platform's permission for it).

    GET /v1/tenants/{tenant_id}/agents/{agent_id}/contacts/{interaction_id}/customer-contacts

The gateway's live board (domain/live.py, folded from the event log, replayed from its start)
says whether `interaction_id` was offered to or handled by `agent_id` and who its customer is
(the arrival's first identity hint, else its address); the answer is that customer's contacts
that ended, newest first, every channel, the one on the line left out. Holders of the
tenant-wide `interaction.read` may ask for any agent's contact.

Why not the analytics Reports API here (`GET .../customers/{identity}/contacts`, ClickHouse):
it requires `interaction.read`, which agents do not hold; an agent may see a customer's history
only while that customer is its contact, and only the live board knows that now. When the
Reports API learns to check "offered to this agent" itself (ListCustomerContacts with the
agent and the interaction), this route can ask it instead and keep its shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.adapters.http.deps import AgentId, UseDep
from hotline_gateway.adapters.http.routes import ADMISSION_ERRORS, TENANT, Route
from hotline_gateway.adapters.http.stream import HUB_STATE
from hotline_gateway.application.live import LiveHub
from hotline_gateway.domain.errors import NotFound, Unavailable

INTERACTION_READ_OWN = "interaction.read_own"
MAX_CONTACTS = 50


class LiveContactOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    interaction_id: str
    channel: str = Field(description="voice | chat | email | fax")
    entry_point_id: str
    queue_id: str = Field(description="Empty: never queued")
    arrived_at: str | None = Field(description="ISO-8601 UTC")
    outcome: str = Field(description="answered | abandoned | ended")
    agent_id: str = Field(description="The agent who had it; empty: none")
    disposition_code: str = Field(description="From the wrap-up; empty: none")
    resolved: bool


class LiveContactsOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer: str = Field(description="<kind>:<value>, e.g. phone:+351910000001")
    items: list[LiveContactOut] = Field(description="Newest first")


def _iso(ms: int) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _item(c: dict[str, Any]) -> LiveContactOut:
    return LiveContactOut(
        interaction_id=c["interaction_id"], channel=c["channel"] or "voice",
        entry_point_id=c.get("entry_point_id", ""), queue_id=c["queue_id"],
        arrived_at=_iso(c["arrived_ms"]), outcome=c["outcome"], agent_id=c["agent_id"],
        disposition_code=c["disposition_code"], resolved=c["resolved"],
    )


async def offer_customer_contacts(
    request: Request, use: UseDep, agent_id: AgentId,
    interaction_id: Annotated[str, Path(min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=MAX_CONTACTS, description="At most (default 10)")] = 10,
) -> LiveContactsOut:
    hub: LiveHub | None = getattr(request.app.state, HUB_STATE, None)
    if hub is not None and not hub.replayed.is_set():
        raise Unavailable("the live board is still reading the event log")
    tenant_id = use.caller.tenant_id
    customer = hub.board.customer_for_agent(tenant_id, agent_id, interaction_id) if hub else ""
    if hub is None or not customer:
        raise NotFound(f"no contact {interaction_id!r} of agent {agent_id!r}")
    found = hub.board.recent_contacts(tenant_id, customer, exclude=interaction_id)
    return LiveContactsOut(customer=customer, items=[_item(c) for c in found[:limit]])


ROUTES: tuple[Route, ...] = (
    Route("listOfferCustomerContacts", "GET",
          f"{TENANT}/agents/{{agent_id}}/contacts/{{interaction_id}}/customer-contacts",
          INTERACTION_READ_OWN, offer_customer_contacts,
          "The screen-pop: recent contacts of the customer of a contact offered to the agent",
          LiveContactsOut, ADMISSION_ERRORS + (404, 500, 503), "agents"),
)
