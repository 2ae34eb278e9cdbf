"""Forecast of volumes and AHT per queue and 15-minute interval, from history.

Model (per queue), all in UTC 15-minute slots:

* Volume: a day-of-week × time-of-day profile (7 × 96 slots). For each slot the observed
  volumes of the weeks the history covers, oldest first, are smoothed exponentially
  (simple exponential smoothing, level ← α·x + (1 − α)·level, started at the first value), so
  recent weeks weigh more and a changing pattern is followed. A slot covered by the history
  with no contacts counts as 0. When the history covers no such weekday yet (less than a week
  of history), the time-of-day profile smoothed over the covered days is used instead.
* AHT: handle time (talk + hold + after-contact work) of handled contacts per time of day,
  else of the queue over the whole history, else the default AHT.
* Error: the model is fitted on the history without its last part (the hold-out), forecasts
  the hold-out and is compared with what happened: WAPE = Σ|F − A| ÷ ΣA (robust to empty
  slots) and MAPE = mean |F − A| ÷ A over slots with A > 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline_wfm.domain.erlang import InvalidInput, check_seconds
from hotline_wfm.domain.plan import IntervalDemand

SLOT_MS = 900_000
DAY_MS = 86_400_000
DAY_SLOTS = DAY_MS // SLOT_MS
WEEK_SLOTS = 7 * DAY_SLOTS


def slot_floor(ms: int) -> int:
    return ms - ms % SLOT_MS


def day_of_week(ms: int) -> int:
    """Monday = 0 (1970-01-01, day 0 of the epoch, was a Thursday)."""
    return (ms // DAY_MS + 3) % 7


def time_of_day(ms: int) -> int:
    return (ms % DAY_MS) // SLOT_MS


@dataclass(frozen=True)
class Observation:
    """Contacts of one queue that entered it in the slot starting at `slot_ms`."""

    queue_id: str
    slot_ms: int
    contacts: int
    handled: int = 0
    handle_ms: int = 0


@dataclass(frozen=True)
class History:
    """Observations in [start_ms, end_ms); slots in the range without one had no contacts."""

    start_ms: int
    end_ms: int
    observations: tuple[Observation, ...]

    def __post_init__(self) -> None:
        if self.start_ms % SLOT_MS or self.end_ms % SLOT_MS:
            raise InvalidInput("history range must be aligned to 15-minute slots")
        if self.end_ms < self.start_ms:
            raise InvalidInput("history ends before it starts")

    def queues(self) -> list[str]:
        return sorted({o.queue_id for o in self.observations})

    def before(self, end_ms: int) -> History:
        return History(
            self.start_ms, end_ms, tuple(o for o in self.observations if o.slot_ms < end_ms)
        )


@dataclass(frozen=True)
class QueueModel:
    queue_id: str
    weekly: dict[int, float]  # week slot (dow·96 + tod) -> smoothed volume
    daily: dict[int, float]  # tod -> smoothed volume
    aht_by_tod: dict[int, float]
    aht_s: float

    def volume(self, slot_ms: int) -> float:
        tod = time_of_day(slot_ms)
        week_slot = day_of_week(slot_ms) * DAY_SLOTS + tod
        if week_slot in self.weekly:
            return self.weekly[week_slot]
        return self.daily.get(tod, 0.0)

    def aht(self, slot_ms: int) -> float:
        return self.aht_by_tod.get(time_of_day(slot_ms), self.aht_s)


def _smooth(values: Sequence[float], alpha: float) -> float:
    level = values[0]
    for value in values[1:]:
        level = alpha * value + (1 - alpha) * level
    return level


def fit(
    history: History, queue_ids: Iterable[str] = (), alpha: float = 0.5,
    default_aht_s: float = 180.0,
) -> dict[str, QueueModel]:
    """A model per queue of `queue_ids` and of every queue seen in the history."""
    if not 0 < alpha <= 1:
        raise InvalidInput(f"smoothing factor must be in (0, 1], got {alpha}")
    check_seconds("default AHT (seconds)", default_aht_s)
    counts: dict[str, dict[int, float]] = {}
    handle: dict[str, dict[int, list[int]]] = {}
    for o in history.observations:
        if not history.start_ms <= o.slot_ms < history.end_ms:
            continue
        if o.contacts < 0 or o.handled < 0 or o.handle_ms < 0:
            raise InvalidInput(f"negative figures in history: {o}")
        per = counts.setdefault(o.queue_id, {})
        per[o.slot_ms] = per.get(o.slot_ms, 0.0) + o.contacts
        acc = handle.setdefault(o.queue_id, {}).setdefault(time_of_day(o.slot_ms), [0, 0])
        acc[0] += o.handled
        acc[1] += o.handle_ms
    slots = range(history.start_ms, history.end_ms, SLOT_MS)
    models = {}
    for queue_id in sorted({*queue_ids, *counts}):
        per = counts.get(queue_id, {})
        by_week_slot: dict[int, list[float]] = {}
        by_tod: dict[int, list[float]] = {}
        for slot in slots:  # chronological, zeros included
            value = per.get(slot, 0.0)
            tod = time_of_day(slot)
            by_week_slot.setdefault(day_of_week(slot) * DAY_SLOTS + tod, []).append(value)
            by_tod.setdefault(tod, []).append(value)
        tods = handle.get(queue_id, {})
        handled = sum(h for h, _ in tods.values())
        overall = sum(ms for _, ms in tods.values()) / handled / 1000 if handled else default_aht_s
        models[queue_id] = QueueModel(
            queue_id=queue_id,
            weekly={k: _smooth(v, alpha) for k, v in by_week_slot.items()},
            daily={k: _smooth(v, alpha) for k, v in by_tod.items()},
            aht_by_tod={t: ms / h / 1000 for t, (h, ms) in tods.items() if h and ms},
            aht_s=overall if overall > 0 else default_aht_s,
        )
    return models


def forecast(models: dict[str, QueueModel], start_ms: int, slots: int) -> list[IntervalDemand]:
    start_ms = slot_floor(start_ms)
    return [
        IntervalDemand(q, s, m.volume(s), m.aht(s))
        for q, m in sorted(models.items())
        for s in range(start_ms, start_ms + slots * SLOT_MS, SLOT_MS)
    ]


@dataclass(frozen=True)
class ForecastError:
    queue_id: str
    slots: int  # slots compared
    actual: float  # contacts in the hold-out
    forecast: float
    wape: float | None  # None: no contacts in the hold-out
    mape: float | None  # None: no slot with contacts


def holdout_error(
    history: History, holdout_slots: int, alpha: float = 0.5, queue_ids: Iterable[str] = ()
) -> list[ForecastError]:
    """Fit on the history minus its last `holdout_slots`, score the forecast of those."""
    total = (history.end_ms - history.start_ms) // SLOT_MS
    if holdout_slots <= 0 or holdout_slots >= total:
        raise InvalidInput(
            f"hold-out of {holdout_slots} slots does not fit a history of {total} slots"
        )
    cut = history.end_ms - holdout_slots * SLOT_MS
    models = fit(history.before(cut), queue_ids=[*queue_ids, *history.queues()], alpha=alpha)
    actual: dict[tuple[str, int], float] = {}
    for o in history.observations:
        if cut <= o.slot_ms < history.end_ms:
            key = (o.queue_id, o.slot_ms)
            actual[key] = actual.get(key, 0.0) + o.contacts
    errors = []
    for queue_id, model in sorted(models.items()):
        abs_sum = act_sum = fc_sum = 0.0
        ape: list[float] = []
        for slot in range(cut, history.end_ms, SLOT_MS):
            a = actual.get((queue_id, slot), 0.0)
            f = model.volume(slot)
            abs_sum += abs(f - a)
            act_sum += a
            fc_sum += f
            if a > 0:
                ape.append(abs(f - a) / a)
        errors.append(
            ForecastError(
                queue_id=queue_id,
                slots=holdout_slots,
                actual=act_sum,
                forecast=fc_sum,
                wape=abs_sum / act_sum if act_sum else None,
                mape=sum(ape) / len(ape) if ape else None,
            )
        )
    return errors


def default_holdout_slots(history: History, holdout_days: float = 7.0) -> int:
    """`holdout_days`, but at most a quarter of the history (0: too short to score)."""
    total = (history.end_ms - history.start_ms) // SLOT_MS
    wanted = int(holdout_days * DAY_SLOTS)
    slots = min(wanted, total // 4)
    return slots if slots >= 4 else 0
