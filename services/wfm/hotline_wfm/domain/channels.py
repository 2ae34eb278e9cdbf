"""Staffing approximations for non-voice channels (documented, deliberately simple).

Chat with concurrency k (an agent works up to k chats at once)
    Each agent is k "slots"; a chat occupies one slot for its whole duration `aht_s` **as
    measured while agents multitask** (handle time rises with concurrency; use the observed
    figure, not the single-chat one). Slots are pooled, so the chat queue is M/M/S with S = N·k
    servers and Erlang C (or Erlang A) gives the smallest S; agents = ceil(S / k). Optimistic
    where routing is not fully pooled (a chat goes to the least-loaded agent, not to any free
    slot) and where agents do not reach k; that is the usual planning simplification (see
    e.g. Tezcan & Zhang, "Routing and staffing in customer service chat systems with
    impatient customers", Operations Research 62(4), 2014, for the exact models).

Email (deferrable work with a response-time target R)
    An email can be worked at any time within R of its arrival, so work is a fluid: the
    workload arriving in each interval is spread evenly over the next R seconds, and the
    agents needed at time t are the sum of the spread workloads covering t, divided by the
    planned occupancy (agents do not run at 100%). With R ≤ one interval this is the interval's
    own workload. No queueing delay is modelled: the backlog is always cleared within R if
    these agents work; a plan that carries backlog over R needs a simulation instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hotline_wfm.domain.erlang import (
    InvalidInput,
    check_erlangs,
    check_finite,
    check_fraction,
    check_seconds,
)


def chat_agents(slots: int, concurrency: int) -> int:
    """Agents for `slots` concurrent chat slots at `concurrency` chats per agent."""
    if concurrency < 1:
        raise InvalidInput(f"chat concurrency must be at least 1, got {concurrency}")
    return math.ceil(slots / concurrency)


def email_workload(
    volumes: Sequence[float], interval_s: float, aht_s: float, response_s: float
) -> list[float]:
    """Busy agents (erlangs) needed per interval when each interval's emails are worked evenly
    over the next `response_s` seconds (at least the interval itself)."""
    interval_s = check_seconds("interval length (seconds)", interval_s)
    aht_s = check_seconds("AHT (seconds)", aht_s)
    response_s = check_seconds("response target (seconds)", response_s)
    window = max(response_s, interval_s)
    out = [0.0] * len(volumes)
    for i, volume in enumerate(volumes):
        work_s = check_finite("volume (emails per interval)", volume) * aht_s
        rate = work_s / window  # agents busy while the window is open
        remaining = window
        j = i
        while remaining > 1e-9 and j < len(volumes):
            share = min(interval_s, remaining)
            out[j] += rate * share / interval_s
            remaining -= share
            j += 1
    return out


def email_agents(workload_erlangs: float, max_occupancy: float) -> int:
    occupancy = check_fraction("max occupancy", max_occupancy)
    if occupancy == 0:
        raise InvalidInput("max occupancy must be greater than 0")
    return math.ceil(check_erlangs(workload_erlangs / occupancy) - 1e-9)
