"""`hotline users` / `hotline api-keys` helpers that need no directory: the stack's delegation
key, the password hash for the YAML, and the arguments."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from hotline_cli import identity_cmd, main
from hotline_platform import identity


def test_the_stack_delegation_key_is_made_once_private_and_usable(tmp_path: Path) -> None:
    key = identity_cmd.stack_delegation_key(tmp_path)
    assert identity_cmd.stack_delegation_key(tmp_path) == key  # kept across `up`s
    path = tmp_path / identity_cmd.DELEGATION_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    delegation = identity.Delegation.from_setting(key)
    assert delegation is not None
    assert delegation.user_of(delegation.issue("acme", "ana", 0), 1) == ("acme", "ana")


def test_hash_password_prints_an_argon2id_hash_never_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main.main(["users", "hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "a long enough password" not in printed
    assert identity.verify_password(printed, "a long enough password")


def test_a_short_password_and_an_unknown_scope_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main.main(["users", "hash-password"]) == 1
    assert "at least 8 characters" in capsys.readouterr().err
    code = main.main(["api-keys", "create", "--tenant", "acme", "--scopes", "queue.write",
                      "--directory", "127.0.0.1:1", "--token-file", "/nonexistent"])
    assert code == 1
    assert "unknown scope(s): queue.write" in capsys.readouterr().err
