"""`hotline staffing` for one interval: the issue's example, JSON fields, errors."""

from __future__ import annotations

import json

import pytest

from hotline_cli.main import main


def test_example_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["staffing", "--calls-per-interval", "100", "--interval-minutes", "30", "--aht",
            "180", "--target", "80/20", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["agents"] == 14
    for key in ("service_level", "occupancy", "p_wait"):
        assert 0 <= doc[key] <= 1
    assert doc["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert doc["p_wait"] == pytest.approx(0.1741, abs=1e-4)
    assert doc["asa_seconds"] == pytest.approx(7.84, abs=0.01)
    assert doc["occupancy"] == pytest.approx(10 / 14)
    assert doc["scheduled_agents"] == 20  # default shrinkage 30 %


def test_example_command_table_and_erlang_a(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["staffing", "--calls-per-interval", "100", "--interval-minutes", "30", "--aht", "180"]
    assert main([*base, "--target", "80/20"]) == 0
    assert "14 on contacts" in capsys.readouterr().out
    assert main([*base, "--patience", "120", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["agents"] == 11 and doc["model"] == "erlang-a" and 0 < doc["abandon_rate"] < 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--calls-per-interval", "-5", "--aht", "180"], "must not be negative"),
        (["--calls-per-interval", "5", "--aht", "0"], "AHT (seconds) must be greater than 0"),
        (["--calls-per-interval", "5", "--aht", "180", "--target", "120/20"], "above 100%"),
        (["--calls-per-interval", "5", "--aht", "180", "--shrinkage", "1"], "shrinkage"),
    ],
)
def test_bad_input(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staffing", *extra]) == 2
    assert message in capsys.readouterr().err
