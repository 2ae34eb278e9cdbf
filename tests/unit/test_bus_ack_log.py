"""What a publisher remembers of its acknowledged records, and when it suspects its broker."""

from __future__ import annotations

import time

from hotline_platform.bus import AckCheckSettings, Acked, AckLog


def _acked(offset: int | None, at: float, partition: int = 0) -> Acked:
    return Acked("t", partition, offset, b"k", f"v{offset}".encode(), None, at)


def _log(**settings: float) -> AckLog:
    return AckLog(AckCheckSettings(**settings))  # type: ignore[arg-type]


def test_an_own_offset_that_goes_back_or_is_missing_makes_the_broker_suspect() -> None:
    log = _log()
    now = time.monotonic()
    assert log.add(_acked(10, now)) == ""
    assert log.add(_acked(11, now)) == ""
    assert log.add(_acked(3, now, partition=1)) == ""  # partitions are independent
    assert "offset 0 after 11" in log.add(_acked(0, now))
    assert log.add(_acked(1, now)) == ""  # suspected once, then followed from there
    assert "without an offset" in log.add(_acked(None, now))
    # Those two are what Tansu drops: a check that cannot read publishes them again at once.
    assert [(r.offset, r.bad_offset) for r in log.take() if r.partition == 0] == [
        (10, False), (11, False), (0, True), (1, False), (None, True),
    ]  # fmt: skip


def test_memory_is_bounded_by_count_and_by_age() -> None:
    log = _log(max_records=3, window_s=5)
    now = time.monotonic()
    for n in range(5):
        log.add(_acked(n, now))
    assert [r.offset for r in log.take()] == [2, 3, 4]
    log.add(_acked(5, now + 6))  # while the check reads, nothing is dropped for its age...
    assert len(log) == 3  # ...only for the count
    log.done()
    log.add(_acked(6, now + 7))  # the others are older than the window now
    assert [r.offset for r in log.take()] == [5, 6]


def test_a_pending_check_keeps_old_records_until_it_took_them() -> None:
    log = _log(window_s=5, settle_s=0)
    now = time.monotonic()
    log.add(_acked(0, now))
    assert log.suspect() is True  # the caller starts the checking thread
    assert log.suspect() is False  # one is running
    log.add(_acked(1, now + 60))  # the broker stayed away for a minute
    assert [r.offset for r in log.take()] == [0, 1]
    due = log.due_in()
    assert due is None and not log.checking  # nothing pending: the thread ends
    assert log.suspect() is True


def test_forgotten_records_are_not_checked_again() -> None:
    log = _log()
    now = time.monotonic()
    records = [_acked(n, now) for n in range(3)]
    for record in records:
        log.add(record)
    log.forget([records[1]])
    assert [r.offset for r in log.take()] == [0, 2]
