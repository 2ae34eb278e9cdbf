"""`hotline keys`: where it finds the keyring and the object store, and the key commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline_cli import keys_cmd
from hotline_cli.main import build_parser


def test_settings_from_the_state_dir_unless_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "KEYRING_PATH",
        "OBJECT_STORE_ENDPOINT",
        "OBJECT_STORE_ACCESS_KEY",
        "OBJECT_STORE_SECRET_KEY",
    ):
        monkeypatch.delenv(f"HOTLINE_{name}", raising=False)
    (tmp_path / "stack.json").write_text(json.dumps({"object_store_endpoint": "http://h:1"}))
    (tmp_path / "object-store.json").write_text(json.dumps({"access_key": "a", "secret_key": "s"}))
    s = keys_cmd.content_settings(tmp_path)
    assert (s.keyring_path, s.object_store_endpoint) == (
        str(tmp_path / "keyring.json"),
        "http://h:1",
    )
    assert (s.object_store_access_key, s.object_store_secret_key) == ("a", "s")
    monkeypatch.setenv("HOTLINE_OBJECT_STORE_ENDPOINT", "http://env:2")
    monkeypatch.setenv("HOTLINE_KEYRING_PATH", "/k/ring.json")
    s = keys_cmd.content_settings(tmp_path)
    assert (s.keyring_path, s.object_store_endpoint) == ("/k/ring.json", "http://env:2")


def test_rotate_list_destroy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HOTLINE_KEYRING_PATH", raising=False)
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path))

    def run(*argv: str) -> int:
        args = build_parser().parse_args(["keys", *argv])
        return int(args.func(args))

    assert run("rotate", "--tenant", "acme") == 0
    assert run("rotate", "--tenant", "acme") == 0
    assert run("list") == 0
    assert "versions 1,2  newest 2" in capsys.readouterr().out
    assert run("destroy", "--tenant", "acme") == 2  # without --yes
    assert run("destroy", "--tenant", "acme", "--yes") == 0
    assert run("list") == 0
    assert "DESTROYED" in capsys.readouterr().out
    assert run("rewrap", "--tenant", "nobody") == 1  # no key: a message, not a traceback
