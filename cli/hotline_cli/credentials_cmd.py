"""`hotline credentials`: make the hashes the tenancy config stores (credential_hash, and the
SIP digest HA1s of agents whose phones register).

    hotline credentials new --tenant acme    # a fresh token acme.<secret> and its hash
    hotline credentials hash [--tenant acme] # the hash of a token read from stdin (or a prompt)
    hotline credentials sip-hash --tenant acme --username alice
                                             # an agent's SIP HA1s (password from stdin/prompt)

A credential_hash accepts tokens `<tenant id>.<secret>` only (one hash is checked per request,
see hotline_platform.credentials); give the token to the tenant, the hash to the config.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from hotline_platform import credentials, sip_digest


def _read_secret(prompt: str = "token: ") -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def cmd_hash(args: argparse.Namespace) -> int:
    token = _read_secret()
    if not token:
        print("hotline credentials hash: empty token", file=sys.stderr)
        return 2
    if args.tenant and credentials.key_id(token) != args.tenant:
        print(
            f"hotline credentials hash: the token must read {args.tenant}.<secret> "
            "(a credential_hash accepts only tokens scoped to its tenant)",
            file=sys.stderr,
        )
        return 2
    if not credentials.key_id(token):
        print(
            "warning: this token has no '<tenant id>.' prefix; a credential_hash accepts only "
            "tokens <tenant id>.<secret>",
            file=sys.stderr,
        )
    print(credentials.hash_secret(token))
    return 0


def cmd_sip_hash(args: argparse.Namespace) -> int:
    """The `sip:` entry of an agent whose phones register: HA1s with realm = tenant id."""
    if not sip_digest.is_username(args.username):
        print(f"hotline credentials sip-hash: bad username {args.username!r}", file=sys.stderr)
        return 2
    password = _read_secret("SIP password: ")
    if not password:
        print("hotline credentials sip-hash: empty password", file=sys.stderr)
        return 2
    md5, sha256 = (
        sip_digest.ha1(alg, args.username, args.tenant, password) for alg in ("MD5", "SHA-256")
    )
    print(f"sip: {{username: {args.username}, ha1_md5: {md5}, ha1_sha256: {sha256}}}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    try:
        token = credentials.new_token(args.tenant)
    except ValueError as exc:
        print(f"hotline credentials new: {exc}", file=sys.stderr)
        return 2
    print(f"token (give it to the tenant; it is not stored): {token}")
    print(f"credential_hash (put it in the tenancy config): {credentials.hash_secret(token)}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "credentials", help="hash tenant API credentials for the tenancy config"
    )
    actions = parser.add_subparsers(dest="credentials_action", required=True)
    hash_ = actions.add_parser(
        "hash", help="print the credential_hash of a token read from stdin (or a prompt)"
    )
    hash_.add_argument("--tenant", help="check the token reads <tenant>.<secret>")
    hash_.set_defaults(func=cmd_hash)
    sip = actions.add_parser(
        "sip-hash",
        help="print an agent's sip: entry (digest HA1s, realm = tenant id) for a SIP password "
        "read from stdin (or a prompt)",
    )
    sip.add_argument("--tenant", required=True, help="the agent's tenant (the digest realm)")
    sip.add_argument("--username", required=True, help="the agent's SIP username")
    sip.set_defaults(func=cmd_sip_hash)
    new = actions.add_parser("new", help="make a fresh token <tenant>.<secret> and its hash")
    new.add_argument("--tenant", required=True)
    new.set_defaults(func=cmd_new)
