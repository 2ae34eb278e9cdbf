"""`hotline keys ...`: tenant keys of the encrypted content store (hotline_platform.content).

    hotline keys list                      every tenant key: id, versions, newest; destroyed keys
    hotline keys rotate --tenant T         add a KEK version (new content uses it)
    hotline keys rewrap --tenant T         re-wrap every object of T with the newest version
    hotline keys destroy --tenant T --yes  crypto-shred: all content of T becomes unreadable

Where the keyring and the object store are: the HOTLINE_KEYRING_PATH and HOTLINE_OBJECT_STORE_*
environment first (as the services get them); otherwise the running embedded stack's state
folder (HOTLINE_STATE_DIR, default .hotline): keyring.json, object-store.json (keys) and the
object store endpoint in stack.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from hotline_platform.content import ContentSettings, rewrap_tenant
from hotline_platform.keyring import FileKeyProvider, KeyUnavailable


def _state_dir() -> Path:
    return Path(os.environ.get("HOTLINE_STATE_DIR", ".hotline"))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def content_settings(state_dir: Path | None = None) -> ContentSettings:
    """ContentSettings from the environment, completed from the embedded stack's state dir."""
    state = state_dir or _state_dir()
    values: dict[str, Any] = {}
    if "HOTLINE_KEYRING_PATH" not in os.environ:
        values["keyring_path"] = str(state / "keyring.json")
    if "HOTLINE_OBJECT_STORE_ENDPOINT" not in os.environ:
        stack = _read_json(state / "stack.json")
        endpoint = stack.get("object_store_endpoint") or stack.get("object_store")
        if isinstance(endpoint, dict):
            endpoint = endpoint.get("endpoint")
        if isinstance(endpoint, str) and endpoint:
            values["object_store_endpoint"] = endpoint
    credentials = _read_json(state / "object-store.json")
    if "HOTLINE_OBJECT_STORE_ACCESS_KEY" not in os.environ and credentials.get("access_key"):
        values["object_store_access_key"] = credentials["access_key"]
    if "HOTLINE_OBJECT_STORE_SECRET_KEY" not in os.environ and credentials.get("secret_key"):
        values["object_store_secret_key"] = credentials["secret_key"]
    return ContentSettings(**values)


def _keyring(settings: ContentSettings) -> FileKeyProvider:
    return settings.key_provider()


def cmd_list(args: argparse.Namespace) -> int:
    settings = content_settings()
    keys = _keyring(settings).list_keys()
    print(f"keyring {settings.keyring_path}")
    if not keys:
        print("  no tenant keys yet (one is created when a tenant first stores content)")
    for k in keys:
        if k.destroyed_at:
            print(f"  {k.tenant_id:<24} {k.key_id}  DESTROYED at {k.destroyed_at}")
        else:
            versions = ",".join(str(v) for v in k.versions)
            print(f"  {k.tenant_id:<24} {k.key_id}  versions {versions}  newest {k.current}")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    settings = content_settings()
    key_id, version = _keyring(settings).rotate(args.tenant)
    print(f"tenant {args.tenant}: key {key_id} version {version} is now used for new content")
    print(f"older content stays readable; `hotline keys rewrap --tenant {args.tenant}` moves it")
    return 0


def cmd_rewrap(args: argparse.Namespace) -> int:
    settings = content_settings()
    result = rewrap_tenant(
        settings.s3_client(), settings.object_store_bucket, _keyring(settings), args.tenant
    )
    print(
        f"tenant {args.tenant}: {result.rewrapped} objects re-wrapped to key {result.key_id} "
        f"version {result.version}, {result.already_current} already on it, "
        f"{len(result.failed)} failed"
    )
    for failure in result.failed:
        print(f"  failed: {failure}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_destroy(args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            f"refusing: destroying the keys of {args.tenant} makes all its content unreadable "
            "forever; add --yes",
            file=sys.stderr,
        )
        return 2
    settings = content_settings()
    info = _keyring(settings).destroy(args.tenant)
    print(
        f"tenant {args.tenant}: key {info.key_id} (versions up to {info.current}) destroyed at "
        f"{info.destroyed_at}; its content is unreadable (crypto-shredded)"
    )
    return 0


def _run(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(handler(args))
        except KeyUnavailable as exc:
            print(f"hotline keys: {exc}", file=sys.stderr)
            return 1

    return run


def register(subparsers: Any) -> None:
    """Add `hotline keys {list,rotate,rewrap,destroy}` to the CLI's subcommands."""
    keys = subparsers.add_parser("keys", help="tenant keys of the encrypted content store")
    sub = keys.add_subparsers(dest="keys_command", required=True)
    sub.add_parser("list", help="tenant keys, their versions, destroyed keys").set_defaults(
        func=_run(cmd_list)
    )
    for name, handler, text in (
        ("rotate", cmd_rotate, "add a key version, used for new content"),
        ("rewrap", cmd_rewrap, "re-wrap every object of the tenant with the newest version"),
        ("destroy", cmd_destroy, "destroy the tenant's keys: its content becomes unreadable"),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--tenant", required=True)
        if name == "destroy":
            parser.add_argument("--yes", action="store_true", help="yes, crypto-shred it")
        parser.set_defaults(func=_run(handler))
