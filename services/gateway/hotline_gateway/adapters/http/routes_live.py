"""The agent desktop's screen-pop: the recent contacts of the customer on the line, for the
agent the contact was offered to (`interaction.read_own`, the platform's permission for it).

    GET /v1/tenants/{tenant_id}/agents/{agent_id}/contacts/{interaction_id}/customer-contacts

Answered by the analytics sink's Reports API from ClickHouse (`ListCustomerContacts` with
`for_agent_id` and `for_interaction_id`, as the caller: a browser session's delegation), which
checks that `interaction_id` was offered to `agent_id` (an `offered` event) and takes its
customer (the arrival's first identity hint, else its address); the answer is that customer's
other contacts, newest first, every channel. Not offered to that agent: 403 for an agent, 404
for holders of the tenant-wide `interaction.read` (who may ask for any agent's contact). A
contact offered moments ago may not be stored yet: the gateway asks again for up to 3 s
(application/reports.py) before it answers an agent's 403. Nothing else answers in its place:
the sink unavailable is a 503.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from hotline_gateway.adapters.http.deps import AgentId, UseDep
from hotline_gateway.adapters.http.routes import ADMISSION_ERRORS, BACKEND_ERRORS, TENANT, Route
from hotline_gateway.domain.interactions import InteractionSummary

INTERACTION_READ_OWN = "interaction.read_own"
MAX_CONTACTS = 50


class LiveContactOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    interaction_id: str
    channel: str = Field(description="voice | chat | email | fax (unspecified: not recorded)")
    entry_point_id: str
    queue_id: str = Field(description="Empty: never queued")
    arrived_at: str | None = Field(description="ISO-8601 UTC")
    outcome: str = Field(
        description="answered | short_abandoned | abandoned | callback | flowed_out | waiting"
                    " | contained | left_in_self_service | abandoned_before_queue | not_queued"
    )
    agent_id: str = Field(description="The agent who had it; empty: none")
    disposition_code: str = Field(description="From the wrap-up; empty: none")
    resolved: bool


class LiveContactsOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer: str = Field(description="<kind>:<value>, e.g. phone:+351910000001")
    items: list[LiveContactOut] = Field(description="Newest first")


def _item(c: InteractionSummary) -> LiveContactOut:
    return LiveContactOut(
        interaction_id=c.interaction_id, channel=c.channel, entry_point_id=c.entry_point_id,
        queue_id=c.queue_id, arrived_at=c.arrived_at, outcome=c.outcome, agent_id=c.agent_id,
        disposition_code=c.disposition_code, resolved=c.resolved,
    )


async def offer_customer_contacts(
    use: UseDep, agent_id: AgentId,
    interaction_id: Annotated[str, Path(min_length=1, max_length=128)],
    limit: Annotated[int, Query(ge=1, le=MAX_CONTACTS, description="At most (default 10)")] = 10,
) -> LiveContactsOut:
    customer, found = await use.gateway.reports.offered_customer_contacts(
        use.caller, agent_id, interaction_id, limit
    )
    return LiveContactsOut(
        customer=f"{customer.kind}:{customer.value}", items=[_item(c) for c in found]
    )


ROUTES: tuple[Route, ...] = (
    Route("listOfferCustomerContacts", "GET",
          f"{TENANT}/agents/{{agent_id}}/contacts/{{interaction_id}}/customer-contacts",
          INTERACTION_READ_OWN, offer_customer_contacts,
          "The screen-pop: recent contacts of the customer of a contact offered to the agent",
          LiveContactsOut, ADMISSION_ERRORS + BACKEND_ERRORS, "agents"),
)
