"""Report queries over `interactions` (the SQL twin of domain/kpi.py; runs on 18.16 and current).

The outcome rules below must stay those of `hotline_analytics.domain.kpi.classify`; the
integration test tests/integration/test_analytics_sink.py checks both agree on real data.
Parameters use clickhouse-driver's client-side %(name)s substitution.
"""

from __future__ import annotations

from hotline_analytics.adapters.schema import check_identifier
from hotline_analytics.domain.kpi import Split, SplitBy

# One row per interaction of a tenant, its aggregate states merged.
_FACTS = """
SELECT
    interaction_id,
    argMinIfMerge(queue_id) AS queue_id,
    minIfMerge(queued_at_ms) AS queued_at_ms,
    argMinIfMerge(sl_threshold_s) AS sl_threshold_s,
    minIfMerge(answered_at_ms) AS answered_at_ms,
    minIfMerge(abandoned_at_ms) AS abandoned_at_ms,
    argMinIfMerge(abandon_stage) AS abandon_stage,
    minIfMerge(callback_at_ms) AS callback_at_ms,
    minIfMerge(flowed_out_at_ms) AS flowed_out_at_ms,
    minIfMerge(completed_at_ms) AS completed_at_ms,
    maxIfMerge(talk_ms) AS talk_ms,
    maxIfMerge(hold_ms) AS hold_ms,
    minIfMerge(wrap_up_ended_at_ms) AS wrap_up_ended_at_ms,
    maxIfMerge(wrap_up_ms) AS wrap_up_ms,
    argMinIfMerge(self_service_outcome) AS self_service_outcome,
    uniqExactIfMerge(offers) AS offers,
    argMinIfMerge(agent_id) AS agent_id,
    minIfMerge(arrived_at_ms) AS arrived_at_ms,
    argMinIfMerge(priority) AS priority,
    maxIfMerge(last_step) AS last_step,
    argMinIfMerge(answer_offer_id) AS answering_offer_id,
    groupUniqArrayIfMerge(offers_made) AS offers_list
FROM {db}.interactions
WHERE {where}
GROUP BY interaction_id
"""

# The answering offer's site and step, from its "offer id<TAB>site<TAB>step" in `offers_list`
# (schema.py `offers_made`): found by "\n<offer id>\t" in the list joined by newlines (18.16
# loses a column a lambda captures, so no arrayFirst).
_ANSWERING_OFFER = """
SELECT
    *,
    concat('\\n', arrayStringConcat(offers_list, '\\n'), '\\n') AS offers_text,
    position(offers_text, concat('\\n', answering_offer_id, '\\t')) AS answer_at,
    if(answering_offer_id = '' OR answer_at = 0, '',
        splitByChar('\\n', substring(offers_text, answer_at + 1))[1]) AS answer_offer,
    if(answer_offer = '', '', splitByChar('\\t', answer_offer)[2]) AS answer_site_id,
    if(answer_offer = '', toInt64(-1), toInt64OrZero(splitByChar('\\t', answer_offer)[3]))
        AS answer_step
FROM ({merged})
"""

FACT_COLUMNS = (
    "interaction_id",
    "queue_id",
    "queued_at_ms",
    "sl_threshold_s",
    "answered_at_ms",
    "abandoned_at_ms",
    "abandon_stage",
    "callback_at_ms",
    "flowed_out_at_ms",
    "completed_at_ms",
    "talk_ms",
    "hold_ms",
    "wrap_up_ended_at_ms",
    "wrap_up_ms",
    "self_service_outcome",
    "offers",
    "agent_id",
)
# Then, after arrived_at_ms, what the report's splits look at (InteractionFacts fields).
SPLIT_FACT_COLUMNS = ("priority", "answer_site_id", "answer_step", "last_step")

# Contacts of the tenant that entered a queue in [start_ms, end_ms). All rows of such a contact
# are in months >= the month of start (its queued event is in the period, later ones follow).
_QUEUED_IN_PERIOD = (
    "tenant_id = %(tenant_id)s AND month >= %(start_month)s",
    "queued_at_ms >= %(start_ms)s AND queued_at_ms < %(end_ms)s",
)

# domain.kpi.classify, in SQL.
_OUTCOME = """multiIf(
        queued_at_ms = 0, multiIf(
            self_service_outcome = 'CONTAINED', 'contained',
            self_service_outcome = 'CUSTOMER_LEFT', 'left_in_self_service',
            abandoned_at_ms > 0, 'abandoned_before_queue',
            'not_queued'),
        answered_at_ms > 0, 'answered',
        callback_at_ms > 0, 'callback',
        abandoned_at_ms > 0 AND abandon_stage != 'BEFORE_QUEUE',
            if(greatest(abandoned_at_ms - queued_at_ms, toInt64(0)) < %(short_abandon_ms)s,
               'short_abandoned', 'abandoned'),
        flowed_out_at_ms > 0, 'flowed_out',
        'waiting')"""

# domain.kpi.wait_ms, in SQL.
_LEFT_QUEUE_AT = """multiIf(
        outcome = 'answered', answered_at_ms,
        outcome IN ('short_abandoned', 'abandoned'), abandoned_at_ms,
        outcome = 'callback', callback_at_ms,
        outcome = 'flowed_out', flowed_out_at_ms,
        toInt64(0))"""

# T: the tenancy config's threshold of the queue, else the one recorded at queueing, else 20 s.
# %(queues)s is never empty (18.16 cannot type an empty array literal): see ClickHouseReports.
_THRESHOLD_MS = """1000 * if(indexOf(%(queues)s, queue_id) > 0,
        arrayElement(%(thresholds)s, indexOf(%(queues)s, queue_id)),
        if(sl_threshold_s > 0, sl_threshold_s, 20))"""

_CLASSIFIED = f"""
SELECT
    queue_id,
    {{split_key}} AS split_key,
    {_OUTCOME} AS outcome,
    {_LEFT_QUEUE_AT} AS left_queue_at_ms,
    if(left_queue_at_ms > 0, greatest(left_queue_at_ms - queued_at_ms, toInt64(0)), toInt64(0))
        AS waited_ms,
    {_THRESHOLD_MS} AS threshold_ms,
    waited_ms <= threshold_ms AS is_within_t,
    answered_at_ms > 0 AND completed_at_ms > 0 AND wrap_up_ended_at_ms > 0 AS is_handled,
    talk_ms,
    hold_ms,
    wrap_up_ms
FROM ({{facts}})
"""

# domain.kpi.Split.key, in SQL.
_SPLIT_KEYS = {
    SplitBy.SITE: "if(answered_at_ms > 0, answer_site_id, '')",
    SplitBy.BULLSEYE_STEP: "toString(if(answered_at_ms > 0 AND answer_step >= 0, answer_step,"
    " toInt64(last_step)))",
}


def split_key_sql(split: Split) -> str:
    """The split key of a contact; priority bands as multiIf(priority < %(band_edge_0)s,
    %(band_0)s, ...) (bisect_right over the edges; no lambda: 18.16 loses the columns a
    lambda captures). Parameters: `split_params`."""
    if split.by is not SplitBy.PRIORITY_BAND:
        return _SPLIT_KEYS[split.by]
    tests = "".join(
        f"priority < %(band_edge_{i})s, %(band_{i})s, " for i in range(len(split.priority_edges))
    )
    return f"multiIf({tests}%(band_{len(split.priority_edges)})s)"


def split_params(split: Split) -> dict[str, int | str]:
    """The parameters of `split_key_sql` (the priority bands' edges and labels)."""
    params: dict[str, int | str] = {
        f"band_edge_{i}": edge for i, edge in enumerate(split.priority_edges)
    }
    params.update({f"band_{i}": label for i, label in enumerate(split.band_labels())})
    return params


# Column order = queue_id, [split_key,] domain.kpi.TALLY_FIELDS (checked when rows are read).
_TALLIES = f"""
SELECT
    queue_id,{{split_select}}
    count() AS queued,
    countIf(outcome = 'short_abandoned') AS short_abandoned,
    countIf(outcome = 'short_abandoned' AND is_within_t) AS short_abandoned_within_t,
    countIf(outcome = 'answered') AS answered,
    countIf(outcome = 'answered' AND is_within_t) AS answered_within_t,
    sumIf(waited_ms, outcome = 'answered') AS answer_wait_ms,
    countIf(outcome = 'abandoned') AS abandoned,
    countIf(outcome = 'abandoned' AND is_within_t) AS abandoned_within_t,
    sumIf(waited_ms, outcome = 'abandoned') AS abandon_wait_ms,
    countIf(outcome = 'callback') AS callbacks,
    countIf(outcome = 'callback' AND is_within_t) AS callbacks_within_t,
    countIf(outcome = 'flowed_out') AS flowed_out,
    countIf(outcome = 'flowed_out' AND is_within_t) AS flowed_out_within_t,
    countIf(outcome = 'waiting') AS waiting,
    countIf(outcome = 'answered' AND is_handled) AS handled,
    sumIf(talk_ms, outcome = 'answered' AND is_handled) AS handled_talk_ms,
    sumIf(hold_ms, outcome = 'answered' AND is_handled) AS handled_hold_ms,
    sumIf(wrap_up_ms, outcome = 'answered' AND is_handled) AS handled_wrap_up_ms
FROM ({_CLASSIFIED})
GROUP BY queue_id{{split_group}}
ORDER BY queue_id{{split_group}}
"""

_OUTCOME_COUNTS = f"""
SELECT tenant_id, queue_id, outcome, count() AS interactions
FROM (
    SELECT tenant_id, queue_id, {_OUTCOME} AS outcome
    FROM (
        SELECT
            tenant_id,
            interaction_id,
            argMinIfMerge(queue_id) AS queue_id,
            minIfMerge(queued_at_ms) AS queued_at_ms,
            minIfMerge(answered_at_ms) AS answered_at_ms,
            minIfMerge(abandoned_at_ms) AS abandoned_at_ms,
            argMinIfMerge(abandon_stage) AS abandon_stage,
            minIfMerge(callback_at_ms) AS callback_at_ms,
            minIfMerge(flowed_out_at_ms) AS flowed_out_at_ms,
            argMinIfMerge(self_service_outcome) AS self_service_outcome
        FROM {{db}}.interactions
        WHERE {{where}}
        GROUP BY tenant_id, interaction_id
    )
)
GROUP BY tenant_id, queue_id, outcome
ORDER BY tenant_id, queue_id, outcome
"""


def _queued_in_period(database: str) -> str:
    where, having = _QUEUED_IN_PERIOD
    merged = _FACTS.format(db=check_identifier(database), where=where) + f"HAVING {having}"
    return _ANSWERING_OFFER.replace("{merged}", merged)


def facts_sql(database: str) -> str:
    """Per-interaction facts of contacts queued in the period (InteractionFacts columns)."""
    return _queued_in_period(database) + "ORDER BY queued_at_ms, interaction_id"


def tallies_sql(database: str, split: Split | None = None) -> str:
    """Per-queue tallies (domain.kpi.QueueTally fields) of contacts queued in the period;
    with a split, per queue and split key (a `split_key` column after `queue_id`)."""
    return (
        _TALLIES.replace("{facts}", _queued_in_period(database))
        .replace("{split_key}", split_key_sql(split) if split else "''")
        .replace("{split_select}", "" if split is None else "\n    split_key,")
        .replace("{split_group}", "" if split is None else ", split_key")
    )


def outcome_counts_sql(database: str, *, tenant: bool) -> str:
    """Distinct interactions per tenant, queue and outcome (all of them, queued or not)."""
    where = "tenant_id = %(tenant_id)s" if tenant else "1"
    return _OUTCOME_COUNTS.format(db=check_identifier(database), where=where)


EVENT_COUNT_SQL = "SELECT count() FROM {db}.events FINAL"
