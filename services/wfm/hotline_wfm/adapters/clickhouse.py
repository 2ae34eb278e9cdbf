"""HistorySource over the analytics sink's ClickHouse `interactions` table (18.16 and current).

Per queue and 15-minute slot of the time a contact entered the queue: contacts queued, handled
contacts (answered and wrapped up) and their handle time (talk + hold + after-contact work),
the KPI.md definitions. Slots are integer divisions of epoch milliseconds (no date functions,
so the SQL is the same on every ClickHouse version).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError

from hotline_analytics.adapters.schema import check_identifier
from hotline_wfm.application.ports import HistoryUnavailable
from hotline_wfm.domain.forecast import SLOT_MS, Observation

_FACTS = """
SELECT
    interaction_id,
    argMinIfMerge(queue_id) AS queue_id,
    minIfMerge(queued_at_ms) AS queued_at_ms,
    minIfMerge(answered_at_ms) AS answered_at_ms,
    minIfMerge(wrap_up_ended_at_ms) AS wrap_up_ended_at_ms,
    maxIfMerge(talk_ms) AS talk_ms,
    maxIfMerge(hold_ms) AS hold_ms,
    maxIfMerge(wrap_up_ms) AS wrap_up_ms
FROM {db}.interactions
WHERE tenant_id = %(tenant_id)s AND month >= %(start_month)s
GROUP BY interaction_id
"""

_SLOTS = f"""
SELECT
    queue_id,
    intDiv(queued_at_ms, {SLOT_MS}) * {SLOT_MS} AS slot_ms,
    count() AS contacts,
    countIf(answered_at_ms > 0 AND wrap_up_ended_at_ms > 0) AS handled,
    sumIf(talk_ms + hold_ms + wrap_up_ms, answered_at_ms > 0 AND wrap_up_ended_at_ms > 0)
        AS handle_ms
FROM ({{facts}})
WHERE queued_at_ms >= %(start_ms)s AND queued_at_ms < %(end_ms)s AND queue_id != ''
    {{queues}}
GROUP BY queue_id, slot_ms
ORDER BY queue_id, slot_ms
"""

_FIRST = """
SELECT min(queued_at_ms) FROM ({facts}) WHERE queued_at_ms > 0
"""


def _month_start(ms: int) -> date:
    moment = datetime.fromtimestamp(max(ms, 0) / 1000, UTC)
    return date(moment.year, moment.month, 1)


class ClickHouseHistory:
    """HistorySource; opens a connection per call (a CLI run or an RPC is a few queries)."""

    def __init__(
        self, host: str, port: int, database: str = "hotline", user: str = "default",
        password: str = "",
    ) -> None:
        self._connect = dict(host=host, port=port, user=user, password=password)
        self._db = check_identifier(database)

    def _client(self) -> Client:
        return Client(connect_timeout=5, send_receive_timeout=120, **self._connect)  # type: ignore[arg-type]

    def _execute(self, sql: str, params: dict[str, Any]) -> list[Any]:
        client = self._client()
        try:
            return list(client.execute(sql, params))
        except (ClickHouseError, OSError) as exc:
            where = f"{self._connect['host']}:{self._connect['port']}"
            raise HistoryUnavailable(f"ClickHouse at {where}: {exc}") from exc
        finally:
            client.disconnect()

    def observations(
        self, tenant_id: str, start_ms: int, end_ms: int, queue_ids: Sequence[str] = ()
    ) -> list[Observation]:
        params: dict[str, Any] = {
            "tenant_id": tenant_id,
            "start_ms": start_ms,
            "end_ms": end_ms,
            "start_month": _month_start(start_ms),
            "queue_ids": tuple(queue_ids),  # a tuple renders as (..) for IN
        }
        sql = _SLOTS.replace("{facts}", _FACTS.format(db=self._db)).replace(
            "{queues}", "AND queue_id IN %(queue_ids)s" if queue_ids else ""
        )
        return [
            Observation(str(q), int(slot), int(n), int(handled), int(handle_ms))
            for q, slot, n, handled, handle_ms in self._execute(sql, params)
        ]

    def first_slot_ms(self, tenant_id: str) -> int | None:
        params = {"tenant_id": tenant_id, "start_month": date(1970, 1, 1)}
        rows = self._execute(_FIRST.format(facts=_FACTS.format(db=self._db)), params)
        first = int(rows[0][0]) if rows else 0
        return first if first > 0 else None
