"""Router settings: which partitions an instance owns."""

from __future__ import annotations

import pytest

from hotline_router.settings import RouterSettings, parse_partitions


def test_partition_specs() -> None:
    assert parse_partitions("all", 12) == tuple(range(12))
    assert parse_partitions("0-5", 12) == (0, 1, 2, 3, 4, 5)
    assert parse_partitions("6-8, 11,9", 12) == (6, 7, 8, 9, 11)
    assert parse_partitions("group", 12) is None  # the consumer group assigns them
    for bad in ("12", "5-3", "x", "0-12", ","):
        with pytest.raises(ValueError):
            parse_partitions(bad, 12)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_PARTITIONS", "6-11")
    monkeypatch.setenv("HOTLINE_GRPC_PORT", "6000")
    settings = RouterSettings()
    assert settings.owned_partitions() == (6, 7, 8, 9, 10, 11)
    assert settings.grpc_port == 6000
    monkeypatch.setenv("HOTLINE_PARTITIONS", "7-99")
    with pytest.raises(ValueError):
        RouterSettings()
    monkeypatch.delenv("HOTLINE_PARTITIONS")
    monkeypatch.delenv("HOTLINE_GRPC_PORT")
    assert RouterSettings().grpc_port == 50052
