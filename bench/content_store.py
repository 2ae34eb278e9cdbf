"""Encrypted content store vs plain S3: put + get throughput for 4 KB and 4 MB objects.

Starts its own SeaweedFS (hotline_cli.embedded, fresh ports, temporary folder). For each size
the same random bytes are stored and read back (a) through hotline_platform.content.ContentStore
(per-object data key, AES-256-GCM in 1 MiB chunks, wrapped by a file-keyring KEK, SHA-256 of the
plaintext, integrity checks on read) and (b) with plain boto3 put_object / get_object, in the
same run, alternating rounds so both see the same machine load. MB/s = payload MB / (put time +
get time); MB = 10^6 bytes. The audit publisher is an in-memory one: the figures are the
storage and crypto cost, not the broker round trip every audited read adds (one flush).

Writes bench/results/content_store.json: `encrypted_mb_per_s`, `plain_mb_per_s`, `ratio`
(encrypted / plain) for 4 MB objects, the same for 4 KB under `small_*`, and the details.
Sizes: BENCH_CONTENT_SMALL (4 KB objects per round, default 200), BENCH_CONTENT_LARGE (4 MB
objects per round, default 8), BENCH_CONTENT_ROUNDS (default 3).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from hotline_cli.embedded import (
    find_free_port,
    start_object_store,
    stop_process,
    wait_object_store_ready,
)
from hotline_platform.content import ContentRef, ContentStore
from hotline_platform.keyring import FileKeyProvider
from hotline_platform.topics import Topic

RESULTS = Path(__file__).resolve().parent / "results"
BUCKET_PLAIN = "bench-plain"
BUCKET_CONTENT = "bench-content"


class _MemoryAudit:
    def __init__(self) -> None:
        self.count = 0

    def publish(self, topic: Topic, event: Message) -> None:
        self.count += 1

    def flush(self, timeout: float = 10) -> None:
        pass


def _encrypted(store: ContentStore, blobs: list[bytes]) -> tuple[float, float]:
    t0 = time.perf_counter()
    refs: list[ContentRef] = [store.put("bench", b, "application/octet-stream") for b in blobs]
    t1 = time.perf_counter()
    for ref, blob in zip(refs, blobs, strict=True):
        if store.get(ref, caller_tenant="bench", reader="bench", purpose="bench") != blob:
            raise RuntimeError("encrypted round trip returned other bytes")
    return t1 - t0, time.perf_counter() - t1


def _plain(s3: Any, blobs: list[bytes], round_no: int) -> tuple[float, float]:
    keys = [f"r{round_no}/{i}" for i in range(len(blobs))]
    t0 = time.perf_counter()
    for key, blob in zip(keys, blobs, strict=True):
        s3.put_object(Bucket=BUCKET_PLAIN, Key=key, Body=blob)
    t1 = time.perf_counter()
    for key, blob in zip(keys, blobs, strict=True):
        if s3.get_object(Bucket=BUCKET_PLAIN, Key=key)["Body"].read() != blob:
            raise RuntimeError("plain round trip returned other bytes")
    return t1 - t0, time.perf_counter() - t1


def _measure(store: ContentStore, s3: Any, size: int, count: int, rounds: int) -> dict[str, Any]:
    totals = {"encrypted": [0.0, 0.0], "plain": [0.0, 0.0]}
    for r in range(rounds):
        blobs = [os.urandom(size) for _ in range(count)]
        timings = {
            "plain": _plain(s3, blobs, r * 1000 + size),
            "encrypted": _encrypted(store, blobs),
        }
        for name, (put_s, get_s) in timings.items():
            totals[name][0] += put_s
            totals[name][1] += get_s
    mb = size * count * rounds / 1e6
    out: dict[str, Any] = {"object_bytes": size, "objects": count * rounds}
    for name, (put_s, get_s) in totals.items():
        out[name] = {
            "put_mb_per_s": round(mb / put_s, 2),
            "get_mb_per_s": round(mb / get_s, 2),
            "mb_per_s": round(mb / (put_s + get_s), 2),
            "objects_per_s": round(count * rounds / (put_s + get_s), 1),
        }
    out["ratio"] = round(out["encrypted"]["mb_per_s"] / out["plain"]["mb_per_s"], 3)
    return out


def main() -> None:
    small_n = int(os.environ.get("BENCH_CONTENT_SMALL", "200"))
    large_n = int(os.environ.get("BENCH_CONTENT_LARGE", "8"))
    rounds = int(os.environ.get("BENCH_CONTENT_ROUNDS", "3"))
    with tempfile.TemporaryDirectory(prefix="hotline-bench-content-") as tmp:
        base = Path(tmp)
        proc, endpoint = start_object_store(base / "state", find_free_port(), base / "weed.log")
        try:
            wait_object_store_ready(
                endpoint,
                (BUCKET_PLAIN, BUCKET_CONTENT),
                timeout=60,
                proc=proc,
                log_path=base / "weed.log",
            )
            s3 = endpoint.client()
            audit = _MemoryAudit()
            store = ContentStore(
                s3, BUCKET_CONTENT, FileKeyProvider(base / "keyring.json"), audit, "router"
            )
            store.put("bench", b"warm-up", "text/plain")  # creates the tenant key
            s3.put_object(Bucket=BUCKET_PLAIN, Key="warm-up", Body=b"warm-up")
            small = _measure(store, s3, 4 * 1024, small_n, rounds)
            large = _measure(store, s3, 4 * 1024 * 1024, large_n, rounds)
        finally:
            stop_process(proc.pid, timeout=2)
    result = {
        "encrypted_mb_per_s": large["encrypted"]["mb_per_s"],
        "plain_mb_per_s": large["plain"]["mb_per_s"],
        "ratio": large["ratio"],
        "small_encrypted_mb_per_s": small["encrypted"]["mb_per_s"],
        "small_plain_mb_per_s": small["plain"]["mb_per_s"],
        "small_ratio": small["ratio"],
        "small_encrypted_objects_per_s": small["encrypted"]["objects_per_s"],
        "small_plain_objects_per_s": small["plain"]["objects_per_s"],
        "details": {"4KB": small, "4MB": large},
        "notes": "MB/s = payload MB (10^6 B) / (put + get time), same bytes, same run; "
        "audit to memory (no broker flush)",
    }
    for label, figures in (("4 KB", small), ("4 MB", large)):
        enc, plain = figures["encrypted"], figures["plain"]
        print(
            f"{label:>5} x {figures['objects']:>4}: encrypted {enc['mb_per_s']:8.2f} MB/s "
            f"(put {enc['put_mb_per_s']:.2f}, get {enc['get_mb_per_s']:.2f}; "
            f"{enc['objects_per_s']:.0f} obj/s)  plain {plain['mb_per_s']:8.2f} MB/s "
            f"(put {plain['put_mb_per_s']:.2f}, get {plain['get_mb_per_s']:.2f}; "
            f"{plain['objects_per_s']:.0f} obj/s)  ratio {figures['ratio']:.3f}",
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "content_store.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS / 'content_store.json'}")


if __name__ == "__main__":
    main()
