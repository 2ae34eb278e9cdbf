"""Hashed tenant credentials: the hash format, the tenancy config, auth, the CLI."""

from __future__ import annotations

import io
import sys
import threading
from typing import Any

import grpc
import pytest
import yaml

from hotline_cli import main as cli
from hotline_platform import auth, credentials, tenancy
from hotline_platform.credentials import CredentialHash, CredentialHashError

# Cheap parameters keep the unit tests fast; the format and code path are the same.
FAST = credentials.ScryptParams(n=2**10)


def test_hash_and_verify_round_trip() -> None:
    encoded = credentials.hash_secret("acme.s3cret", FAST)
    assert encoded.startswith("scrypt$n=1024,r=8,p=1$")
    assert credentials.verify("acme.s3cret", encoded)
    assert not credentials.verify("acme.s3creT", encoded)
    assert not credentials.verify("", encoded)
    # A fresh salt every time: the same secret never hashes to the same string.
    assert credentials.hash_secret("acme.s3cret", FAST) != encoded
    assert str(CredentialHash.parse(encoded)) == encoded


def test_default_parameters_are_the_documented_ones() -> None:
    encoded = credentials.hash_secret("acme.s3cret")
    assert encoded.startswith("scrypt$n=16384,r=8,p=1$")
    assert credentials.verify("acme.s3cret", encoded)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda h: "plaintext-credential", "not a credential hash"),
        (lambda h: h.replace("scrypt$", "bcrypt$"), "not a credential hash"),
        (lambda h: h.replace("n=1024", "n=1000"), "power of 2"),
        (lambda h: h.replace("n=1024", "n=1073741824"), "power of 2"),
        (lambda h: h.replace("r=8", "r=0"), "out of range"),
        (lambda h: h[: h.rindex("$") + 5], "too short"),
        (lambda h: h[: h.rindex("$")] + "$QUJD=QUJD", "bad base64"),
        (lambda h: h.rsplit("$", 1)[0], "not a credential hash"),
    ],
)
def test_a_tampered_hash_string_is_a_clear_error(mangle: Any, message: str) -> None:
    encoded = credentials.hash_secret("acme.s3cret", FAST)
    with pytest.raises(CredentialHashError, match=message):
        credentials.verify("acme.s3cret", mangle(encoded))


def test_an_altered_digest_does_not_verify() -> None:
    parsed = CredentialHash.parse(credentials.hash_secret("acme.s3cret", FAST))
    digest = bytes([parsed.digest[0] ^ 1]) + parsed.digest[1:]
    flipped = CredentialHash(parsed.params, parsed.salt, digest)
    assert not flipped.verify("acme.s3cret")


def test_key_id_and_new_token() -> None:
    assert credentials.key_id("acme.abc") == "acme"
    assert credentials.key_id("acme-dev-credential") == ""
    assert credentials.key_id(".abc") == "" and credentials.key_id("acme.") == ""
    token = credentials.new_token("acme")
    assert credentials.key_id(token) == "acme" and len(token) > 40
    with pytest.raises(ValueError):
        credentials.new_token("a.b")


def config_yaml(acme_hash: str) -> str:
    return f"""
sites: [{{id: lisbon}}]
tenants:
  - id: acme
    credential_hash: "{acme_hash}"
    queues: [{{id: support}}]
  - id: beta
    credential: beta-dev-credential
"""


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def test_credential_hash_and_plaintext_in_one_config_through_authorize(tmp_path: Any) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(config_yaml(credentials.hash_secret("acme.s3cret", FAST)))
    config = tenancy.load(path)
    auth.authorize(config, bearer("acme.s3cret"), "acme")
    auth.authorize(config, bearer("beta-dev-credential"), "beta")
    with pytest.raises(auth.AuthError) as denied:
        auth.authorize(config, bearer("acme.s3cret"), "beta")
    assert denied.value.code == grpc.StatusCode.PERMISSION_DENIED
    for wrong in ("acme.wrong", "s3cret", "beta.beta-dev-credential", "beta-dev-credentiaL"):
        with pytest.raises(auth.AuthError) as unknown:
            auth.authorize(config, bearer(wrong), "acme")
        assert unknown.value.code == grpc.StatusCode.UNAUTHENTICATED, wrong


def test_the_loaded_config_holds_no_plaintext() -> None:
    config = tenancy.parse(yaml.safe_load(config_yaml(credentials.hash_secret("acme.x", FAST))))
    beta = config.tenants["beta"]
    assert credentials.verify("beta-dev-credential", beta.credential_hash)
    assert "beta-dev-credential" not in repr(config)
    assert "beta-dev-credential" not in repr(vars(config.credentials))


@pytest.mark.parametrize(
    ("tenant", "message"),
    [
        ({"id": "a"}, "missing 'credential_hash'"),
        ({"id": "a", "credential": "x", "credential_hash": "scrypt$"}, "not both"),
        ({"id": "a", "credential_hash": "scrypt$n=3,r=8,p=1$AAAA$AAAA"}, "a: credential_hash"),
    ],
)
def test_config_errors_name_the_tenant(tenant: dict[str, Any], message: str) -> None:
    with pytest.raises(tenancy.ConfigError, match=message):
        tenancy.parse({"tenants": [tenant]})


class CountingHash:
    """Counts scrypt verifications made through CredentialHash.verify."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = CredentialHash.verify

        def counted(hash_: CredentialHash, secret: str) -> bool:
            self.count += 1
            return original(hash_, secret)

        monkeypatch.setattr(CredentialHash, "verify", counted)


def many_tenants(n: int) -> tenancy.TenancyConfig:
    return tenancy.parse(
        {
            "tenants": [
                {"id": f"t{i}", "credential_hash": credentials.hash_secret(f"t{i}.secret", FAST)}
                for i in range(n)
            ]
        }
    )


def test_lookups_cost_one_scrypt_at_most(monkeypatch: pytest.MonkeyPatch) -> None:
    config = many_tenants(20)
    counting = CountingHash(monkeypatch)
    # A scoped token checks only its tenant's hash, once; then it is remembered.
    assert config.tenant_for_credential("t7.secret") == config.tenants["t7"]
    assert counting.count == 1
    assert config.credential_is_cached("t7.secret")
    for _ in range(100):
        assert config.tenant_for_credential("t7.secret") == config.tenants["t7"]
    assert counting.count == 1
    # Wrong tokens: one scrypt when the key id names a tenant, none otherwise.
    assert config.tenant_for_credential("t7.wrong") is None
    assert counting.count == 2
    assert config.tenant_for_credential("no-such-tenant.x") is None
    assert config.tenant_for_credential("unscoped-guess") is None
    assert config.tenant_for_credential("") is None
    assert counting.count == 2
    assert not config.credential_is_cached("t7.wrong")


def test_unscoped_tokens_check_only_plaintext_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = {"tenants": [{"id": f"h{i}", "credential_hash": credentials.hash_secret(f"h{i}.s", FAST)}
                       for i in range(5)]}
    raw["tenants"] += [{"id": "dev", "credential": "dev-credential"},
                       {"id": "dev2", "credential": "dev2.scoped"}]
    config = tenancy.parse(raw)
    counting = CountingHash(monkeypatch)
    assert config.tenant_for_credential("guess") is None
    assert counting.count == 1  # only dev's (dev2's is scoped, the h* hashes are)
    assert config.tenant_for_credential("dev-credential") == config.tenants["dev"]
    assert config.tenant_for_credential("dev2.scoped") == config.tenants["dev2"]


def test_concurrent_lookups_agree() -> None:
    config = many_tenants(3)
    results: list[Any] = []

    def look() -> None:
        results.append(config.tenant_for_credential("t1.secret"))

    threads = [threading.Thread(target=look) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [config.tenants["t1"]] * 8


def test_cli_prints_a_verifiable_hash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("acme.s3cret\n"))
    assert cli.main(["credentials", "hash", "--tenant", "acme"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("scrypt$n=16384,r=8,p=1$")
    assert credentials.verify("acme.s3cret", printed)
    config = tenancy.parse(yaml.safe_load(config_yaml(printed)))
    auth.authorize(config, bearer("acme.s3cret"), "acme")


def test_cli_refuses_a_token_of_another_tenant(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("beta.s3cret\n"))
    assert cli.main(["credentials", "hash", "--tenant", "acme"]) == 2
    assert "acme.<secret>" in capsys.readouterr().err


def test_cli_new_prints_a_token_and_its_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["credentials", "new", "--tenant", "acme"]) == 0
    lines = capsys.readouterr().out.splitlines()
    token = lines[0].rsplit(" ", 1)[1]
    encoded = lines[1].rsplit(" ", 1)[1]
    assert credentials.key_id(token) == "acme"
    assert credentials.verify(token, encoded)
