"""`hotline config apply FILE [--dry-run]`: make the live directory what a tenancy YAML says.

The file is the whole declarative directory (config/hotline.yaml's format): it is loaded and
checked with hotline_platform.tenancy, compared with the directory (DirectoryService.List), the
difference printed ('+' defined or changed, '-' removed: an entity in the directory but not in
the file is removed) and, without --dry-run, applied in one DirectoryService.Apply, with the
versions it was compared against (a change made meanwhile refuses the whole request). Applying
the same file twice publishes nothing the second time.

Where the directory is: --directory HOST:PORT, else HOTLINE_DIRECTORY_ADDRESS, else the running
embedded stack's. The operator credential: --token-file, else HOTLINE_DIRECTORY_ADMIN_TOKEN,
else the embedded stack's (`<state dir>/directory-admin.token`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import yaml

from hotline.directory.v1 import directory_pb2, directory_pb2_grpc
from hotline.directory.v1.directory_pb2 import Change
from hotline_platform import directory, tenancy

#: File (in the embedded stack's state folder) holding the stack's operator token.
ADMIN_TOKEN_FILE = "directory-admin.token"


class ApplyError(RuntimeError):
    pass


@dataclass(frozen=True)
class Outcome:
    changes: list[Change]
    published: int
    warnings: list[str]


def _state_dir() -> Path:
    return Path(os.environ.get("HOTLINE_STATE_DIR", ".hotline"))


def default_address() -> str:
    if os.environ.get("HOTLINE_DIRECTORY_ADDRESS"):
        return os.environ["HOTLINE_DIRECTORY_ADDRESS"]
    from hotline_cli import stack

    state = stack.running_state(stack.StackSettings())
    if state is None:
        raise ApplyError(
            "no directory address: give --directory HOST:PORT, set HOTLINE_DIRECTORY_ADDRESS "
            "or start the embedded stack (`hotline up`)"
        )
    try:
        return f"127.0.0.1:{state.service('directory').grpc_port}"
    except StopIteration as exc:
        raise ApplyError("the running stack has no directory service") from exc


def default_token(state_dir: Path | None = None) -> str:
    if os.environ.get("HOTLINE_DIRECTORY_ADMIN_TOKEN"):
        return os.environ["HOTLINE_DIRECTORY_ADMIN_TOKEN"]
    path = (state_dir or _state_dir()) / ADMIN_TOKEN_FILE
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ApplyError(
            f"no operator credential: give --token-file, set HOTLINE_DIRECTORY_ADMIN_TOKEN, "
            f"or run the embedded stack ({path} missing)"
        ) from exc


def load_desired(
    path: str | Path,
) -> tuple[tenancy.TenancyConfig, dict[str, str], dict[tuple[str, str], str]]:
    """The file's config, its plaintext development credentials and users' plaintext
    development passwords (see directory.diff)."""
    try:
        # libyaml's loader when PyYAML has it: 20x faster on a directory of thousands.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(Path(path).read_text(), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise tenancy.ConfigError(f"cannot read tenancy config {path}: {exc}") from exc
    config = tenancy.parse(raw)
    return config, directory.plaintext_credentials(raw), directory.plaintext_passwords(raw)


def apply_file(
    address: str,
    token: str,
    path: str | Path,
    *,
    dry_run: bool = False,
    prune: bool = True,
    say: Callable[[str], None] = print,
    timeout: float = 30,
) -> Outcome:
    """Diff `path` against the directory at `address`, print it, apply it unless dry_run.
    `prune=False` keeps what the directory has and the file lacks (no removals)."""
    desired, plaintexts, passwords = load_desired(path)
    metadata = (("authorization", f"Bearer {token}"),)
    with grpc.insecure_channel(address) as channel:
        stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        try:
            listed = stub.List(directory_pb2.ListRequest(), metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            raise ApplyError(f"cannot read the directory at {address}: {_status(exc)}") from exc
        current = {}
        versions = {}
        for entity in listed.entities:
            _, body = directory.event_body(entity.definition)
            current[entity.key] = body
            versions[entity.key] = entity.version
        changes = directory.diff(current, desired, plaintexts, passwords)
        if not prune:
            changes = [c for c in changes if not directory.is_removal(directory.change_body(c)[0])]
        if not changes:
            say(f"the directory already matches {path}: nothing to change")
            return Outcome([], 0, [])
        expected = {}
        for change in changes:
            which, body = directory.change_body(change)
            key = directory.key_of(body)
            expected[key] = versions.get(key, 0)  # 0: must not exist yet
            sign = "-" if directory.is_removal(which) else "~" if key in current else "+"
            say(f"{sign} {directory.describe_key(key)}")
        try:
            reply = stub.Apply(
                directory_pb2.ApplyRequest(
                    changes=changes, dry_run=dry_run, expected_versions=expected
                ),
                metadata=metadata,
                timeout=timeout,
            )
        except grpc.RpcError as exc:
            raise ApplyError(f"refused: {_status(exc)}") from exc
    for warning in reply.warnings:
        say(f"warning: {warning}")
    if dry_run:
        say(f"dry run: {len(reply.events)} fact(s) would be published, nothing changed")
    else:
        say(f"published {len(reply.events)} fact(s)")
    return Outcome(changes, 0 if dry_run else len(reply.events), list(reply.warnings))


def _status(exc: grpc.RpcError) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    return f"{code.name if code else 'error'}: {details}"


def cmd_apply(args: argparse.Namespace) -> int:
    try:
        address = args.directory or default_address()
        token = Path(args.token_file).read_text().strip() if args.token_file else default_token()
        apply_file(address, token, args.file, dry_run=args.dry_run)
    except (ApplyError, tenancy.ConfigError, OSError) as exc:
        print(f"hotline config apply: {exc}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    config = subparsers.add_parser("config", help="the live directory (tenants, queues, agents)")
    sub = config.add_subparsers(dest="config_command", required=True)
    apply = sub.add_parser(
        "apply", help="show and publish the difference between a tenancy YAML and the directory"
    )
    apply.add_argument("file", help="tenancy YAML (config/hotline.yaml's format)")
    apply.add_argument("--dry-run", action="store_true", help="show the difference only")
    apply.add_argument("--directory", help="HOST:PORT of the directory service")
    apply.add_argument("--token-file", help="file holding the operator credential")
    apply.set_defaults(func=cmd_apply)


def stack_admin_hash(state_dir: Path) -> str:
    """The embedded stack's operator credential: a token `operator.<secret>` kept in the state
    folder (mode 0600, made once) for `hotline config apply`; returns its hash, which is all
    the directory service is given."""
    from hotline_platform import credentials

    path = state_dir / ADMIN_TOKEN_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(credentials.new_token("operator") + "\n")
    return credentials.hash_secret(path.read_text().strip(), credentials.IN_MEMORY_PARAMS)
