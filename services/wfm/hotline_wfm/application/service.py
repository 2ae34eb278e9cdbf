"""WFM use cases: staffing for one interval, a plan for a range, a forecast from history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hotline_platform.tenancy import TenancyConfig
from hotline_wfm.application.ports import HistorySource
from hotline_wfm.domain.erlang import InvalidInput, Target
from hotline_wfm.domain.forecast import (
    DAY_MS,
    DAY_SLOTS,
    SLOT_MS,
    ForecastError,
    History,
    default_holdout_slots,
    fit,
    forecast,
    holdout_error,
    slot_floor,
)
from hotline_wfm.domain.plan import (
    IntervalDemand,
    IntervalStaffing,
    Plan,
    StaffingParams,
    build_plan,
    staff_interval,
)


class UnknownTenant(LookupError):
    pass


@dataclass(frozen=True)
class ForecastOptions:
    history_days: int = 28
    holdout_days: float = 7.0
    alpha: float = 0.5
    default_aht_s: float = 180.0


@dataclass(frozen=True)
class ForecastResult:
    tenant_id: str
    start_ms: int
    days: float
    history_start_ms: int
    history_end_ms: int
    intervals: tuple[IntervalDemand, ...]
    errors: tuple[ForecastError, ...]


@dataclass(frozen=True)
class PlanResult:
    forecast: ForecastResult
    plan: Plan


class WfmService:
    def __init__(
        self,
        tenancy: Callable[[], TenancyConfig],
        history: HistorySource | None,
        options: ForecastOptions | None = None,
    ) -> None:
        self._tenancy = tenancy  # the current config (the live directory's, or a file's)
        self._history = history
        self._options = options or ForecastOptions()

    @staticmethod
    def staffing(
        contacts: float, interval_s: float, aht_s: float, params: StaffingParams
    ) -> IntervalStaffing:
        return staff_interval(contacts, interval_s, aht_s, params)

    def queue_targets(self, tenant_id: str, queue_ids: Sequence[str] = ()) -> dict[str, Target]:
        tenant = self._tenancy().tenants.get(tenant_id)
        if tenant is None:
            raise UnknownTenant(f"no tenant {tenant_id!r}")
        unknown = [q for q in queue_ids if q not in tenant.queues]
        if unknown:
            raise InvalidInput(f"tenant {tenant_id!r} has no queue {', '.join(unknown)}")
        return {
            q.id: Target(q.service_level_target, float(q.service_level_threshold_s))
            for q in tenant.queues.values()
            if not queue_ids or q.id in queue_ids
        }

    def forecast(
        self, tenant_id: str, queue_ids: Sequence[str], start_ms: int, days: float,
        now_ms: int,
    ) -> ForecastResult:
        """Forecast [start_ms, start_ms + days) from the history before `now_ms`."""
        if self._history is None:
            raise InvalidInput("no history source configured (ClickHouse)")
        if not 0 < days <= 62:
            raise InvalidInput(f"days must be in (0, 62], got {days}")
        targets = self.queue_targets(tenant_id, queue_ids)
        queues = list(queue_ids) or sorted(targets)
        opts = self._options
        end = slot_floor(now_ms)
        start = end - opts.history_days * DAY_MS
        first = self._history.first_slot_ms(tenant_id)
        if first is not None and first > start:
            # Do not count the time before the tenant's first contact as quiet slots.
            start = min(end, first - first % DAY_MS)
        history = History(
            start, end, tuple(self._history.observations(tenant_id, start, end, queues))
        )
        history = replace(
            history, observations=tuple(o for o in history.observations if o.queue_id in queues)
        )
        models = fit(history, queues, opts.alpha, opts.default_aht_s)
        slots = max(1, round(days * DAY_SLOTS))
        holdout = default_holdout_slots(history, opts.holdout_days)
        errors = holdout_error(history, holdout, opts.alpha, queues) if holdout else []
        return ForecastResult(
            tenant_id=tenant_id,
            start_ms=slot_floor(start_ms),
            days=days,
            history_start_ms=start,
            history_end_ms=end,
            intervals=tuple(forecast(models, start_ms, slots)),
            errors=tuple(errors),
        )

    def plan_from_history(
        self, tenant_id: str, queue_ids: Sequence[str], start_ms: int, days: float,
        now_ms: int, params: StaffingParams, override_target: bool = False,
    ) -> PlanResult:
        """Forecast, then staff every interval; each queue's target comes from the tenancy
        config unless `override_target` (then `params.target` applies to all)."""
        result = self.forecast(tenant_id, queue_ids, start_ms, days, now_ms)
        targets = None if override_target else self.queue_targets(tenant_id, queue_ids)
        plan = build_plan(result.intervals, params, SLOT_MS / 1000, targets)
        return PlanResult(result, plan)

    @staticmethod
    def plan(
        demand: Sequence[IntervalDemand], params: StaffingParams, interval_s: float
    ) -> Plan:
        return build_plan(demand, params, interval_s)
