"""`hotline users` and `hotline api-keys`: people and machine keys in the live directory.

    hotline users add --tenant acme --id ana --roles agent --agent acme-a1 [--name Ana]
                      [--locale zh-CN]          # the password from stdin (or a prompt)
    hotline users add --id olga --roles operator --tenants all   # BPO operator staff
    hotline users remove --tenant acme --id ana
    hotline users hash-password                 # an argon2id hash for the YAML's password_hash
    hotline api-keys create --tenant acme --scopes queue.stats.read,report.read [--name crm]
                                                # prints the token once: hk_<key id>_<secret>
    hotline api-keys revoke --tenant acme KEY_ID

Each change is one DirectoryService.Apply with the operator credential (as `hotline config
apply`: --directory / HOTLINE_DIRECTORY_ADDRESS / the running stack; --token-file /
HOTLINE_DIRECTORY_ADMIN_TOKEN / the stack's). Only hashes reach the directory; a password is
hashed here, a key's token is printed once and never stored. (`hotline keys` is the content
keyring; these are `api-keys`.)
"""

from __future__ import annotations

import argparse
import base64
import getpass
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

import grpc

from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_cli import config_cmd
from hotline_platform import directory, identity, policy

#: File (in the embedded stack's state folder) holding the key the gateway signs session
#: delegations with and the gRPC services check them with.
DELEGATION_KEY_FILE = "delegation.key"


def stack_delegation_key(state_dir: Path) -> str:
    """The embedded stack's HOTLINE_DELEGATION_KEY: 256 random bits kept in the state folder
    (mode 0600, made once), so sessions keep working across `down`/`up`."""
    path = state_dir / DELEGATION_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n")
    return path.read_text().strip()


def _read_password(prompt: str = "password: ") -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if first != getpass.getpass("again: "):
            raise identity.IdentityError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _apply(args: argparse.Namespace, changes: list[Change]) -> directory_pb2.ApplyResponse:
    address = args.directory or config_cmd.default_address()
    token = (
        Path(args.token_file).read_text().strip() if args.token_file
        else config_cmd.default_token()
    )
    with grpc.insecure_channel(address) as channel:
        stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        try:
            reply: directory_pb2.ApplyResponse = stub.Apply(
                directory_pb2.ApplyRequest(changes=changes),
                metadata=(("authorization", f"Bearer {token}"),), timeout=30,
            )
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise config_cmd.ApplyError(
                f"refused: {code.name if code else 'error'}: {details}"
            ) from exc
    for warning in reply.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return reply


def _run(name: str, body: Callable[[], None]) -> int:
    try:
        body()
    except (config_cmd.ApplyError, ValueError, OSError) as exc:  # IdentityError, unknown role
        print(f"hotline {name}: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    def body() -> None:
        roles = frozenset(identity.Role(r) for r in _split(args.roles))
        scope = identity.Scope()
        if not args.tenant:
            scope = (
                identity.Scope.everything() if args.tenants == "all"
                else identity.Scope(frozenset(_split(args.tenants or "")))
            )
        password = "" if args.no_password else _read_password()
        user = identity.User(
            args.id, args.tenant, roles, args.name or args.id, args.locale, args.agent or "",
            identity.hash_password(password) if password else "", operator_scope=scope,
        )
        reply = _apply(args, [Change(define_user=directory.user_definition(user))])
        print(f"{'defined' if reply.events else 'unchanged'}: user "
              f"{args.tenant or directory.OPERATOR}/{args.id} ({', '.join(sorted(roles))})")

    return _run("users add", body)


def cmd_users_remove(args: argparse.Namespace) -> int:
    def body() -> None:
        _apply(args, [Change(remove_user=pb.UserRemoved(tenant_id=args.tenant,
                                                         user_id=args.id))])
        print(f"removed: user {args.tenant or directory.OPERATOR}/{args.id}")

    return _run("users remove", body)


def cmd_hash_password(args: argparse.Namespace) -> int:
    def body() -> None:
        print(identity.hash_password(_read_password()))

    return _run("users hash-password", body)


def cmd_keys_create(args: argparse.Namespace) -> int:
    def body() -> None:
        key, token = identity.new_api_key(
            args.tenant, _split(args.scopes), "", name=args.name or "",
            known_permissions=policy.PERMISSIONS,
        )
        _apply(args, [Change(define_api_key=directory.api_key_definition(key))])
        print(f"API key {key.id} of tenant {args.tenant} ({', '.join(sorted(key.scopes))}); "
              "the token, shown once:", file=sys.stderr)
        print(token)

    return _run("api-keys create", body)


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    def body() -> None:
        _apply(args, [Change(revoke_api_key=pb.ApiKeyRevoked(tenant_id=args.tenant,
                                                              key_id=args.key_id))])
        print(f"revoked: API key {args.key_id} of tenant {args.tenant}")

    return _run("api-keys revoke", body)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--directory", help="HOST:PORT of the directory service")
    parser.add_argument("--token-file", help="file holding the operator credential")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = subparsers.add_parser("users", help="people who log in (live directory)")
    sub = users.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="define a user (or change one); password from stdin")
    add.add_argument("--tenant", default="", help="the user's tenant; empty: operator staff")
    add.add_argument("--id", required=True)
    add.add_argument("--roles", required=True,
                     help="comma-separated: agent, supervisor, qa_evaluator, tenant_admin, "
                          "operator")
    add.add_argument("--agent", help="the agent this user is (role agent)")
    add.add_argument("--name", help="display name")
    add.add_argument("--locale", default="en", choices=identity.LOCALES)
    add.add_argument("--tenants", help="operator staff: 'all' or comma-separated tenant ids")
    add.add_argument("--no-password", action="store_true", help="cannot log in with a password")
    _target(add)
    add.set_defaults(func=cmd_users_add)
    remove = sub.add_parser("remove", help="remove a user")
    remove.add_argument("--tenant", default="")
    remove.add_argument("--id", required=True)
    _target(remove)
    remove.set_defaults(func=cmd_users_remove)
    hashing = sub.add_parser("hash-password",
                             help="argon2id hash of a password (stdin) for password_hash")
    hashing.set_defaults(func=cmd_hash_password)

    keys = subparsers.add_parser("api-keys", help="machine API keys (live directory)")
    ksub = keys.add_subparsers(dest="api_keys_command", required=True)
    create = ksub.add_parser("create", help="issue a key; prints its token once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--scopes", required=True,
                        help=f"comma-separated permissions: {', '.join(policy.PERMISSIONS)}")
    create.add_argument("--name", help="what the key is for")
    _target(create)
    create.set_defaults(func=cmd_keys_create)
    revoke = ksub.add_parser("revoke", help="revoke a key (refused at once everywhere)")
    revoke.add_argument("--tenant", required=True)
    revoke.add_argument("key_id")
    _target(revoke)
    revoke.set_defaults(func=cmd_keys_revoke)
