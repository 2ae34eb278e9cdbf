"""`hotline credentials`: make the hashes the tenancy config stores (credential_hash).

    hotline credentials new --tenant acme    # a fresh token acme.<secret> and its hash
    hotline credentials hash [--tenant acme] # the hash of a token read from stdin (or a prompt)

A credential_hash accepts tokens `<tenant id>.<secret>` only (one hash is checked per request,
see hotline_platform.credentials); give the token to the tenant, the hash to the config.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from hotline_platform import credentials


def _read_secret() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("token: ")
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
    new = actions.add_parser("new", help="make a fresh token <tenant>.<secret> and its hash")
    new.add_argument("--tenant", required=True)
    new.set_defaults(func=cmd_new)
