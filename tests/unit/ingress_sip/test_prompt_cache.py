"""The prompt cache's passes over a folder (pure logic: the content store is a dict of
references -> bytes here; tests/integration/test_tenant_prompts.py runs it against the real
store through the gateway and the directory)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from support.polling import eventually

from hotline_ingress_sip.adapters.prompt_cache import PromptCache
from hotline_platform import tenancy


class Store:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.reads: list[tuple[str, str, str, str]] = []
        self.down = False

    def add(self, data: bytes) -> tuple[str, str]:
        ref = f"ref-{len(self.objects)}"
        self.objects[ref] = data
        return ref, hashlib.sha256(data).hexdigest()

    def get_to_file(
        self, ref: str, path: Path | str, *, caller_tenant: str, reader: str, purpose: str
    ) -> int:
        if self.down:
            raise ConnectionError("object store unreachable")
        self.reads.append((ref, caller_tenant, reader, purpose))
        Path(path).write_bytes(self.objects[ref])
        return len(self.objects[ref])


def config(*prompts: tuple[str, str, str, str, str]) -> tenancy.TenancyConfig:
    return tenancy.TenancyConfig(
        (), {t: tenancy.Tenant(t, t, "") for t in ("acme", "beta")}, {},
        prompts={(t, lang, n): tenancy.Prompt(t, lang, n, ref, 1000, sha)
                 for t, lang, n, ref, sha in prompts},
    )


def sync(cache: PromptCache, cfg: tenancy.TenancyConfig) -> bool:
    cache.update(cfg)
    wanted, tenants = cache._wanted, cache._tenants  # the worker's inputs, run inline here
    assert wanted is not None
    return cache.sync(wanted, tenants)


def test_fetches_new_prompts_keeps_current_ones_and_removes_gone_ones(tmp_path: Path) -> None:
    store = Store()
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "welcome.wav").write_bytes(b"default")  # a default prompt: never touched
    cache = PromptCache(tmp_path, store, reader="ingress-sip/i1")
    ref1, sha1 = store.add(b"acme welcome")
    ref2, sha2 = store.add(b"beta menu")
    assert sync(cache, config(("acme", "en", "welcome", ref1, sha1),
                              ("beta", "de-AT", "menu", ref2, sha2)))
    assert (tmp_path / "acme" / "en" / "welcome.wav").read_bytes() == b"acme welcome"
    assert (tmp_path / "beta" / "de-AT" / "menu.wav").read_bytes() == b"beta menu"
    assert store.reads == [(ref1, "acme", "ingress-sip/i1", "ivr prompt"),
                           (ref2, "beta", "ingress-sip/i1", "ivr prompt")]
    # The same directory again: nothing fetched.
    assert sync(cache, config(("acme", "en", "welcome", ref1, sha1),
                              ("beta", "de-AT", "menu", ref2, sha2)))
    assert len(store.reads) == 2
    # acme replaces its welcome, beta removes its menu.
    ref3, sha3 = store.add(b"acme welcome v2")
    assert sync(cache, config(("acme", "en", "welcome", ref3, sha3)))
    assert (tmp_path / "acme" / "en" / "welcome.wav").read_bytes() == b"acme welcome v2"
    assert not (tmp_path / "beta" / "de-AT" / "menu.wav").exists()
    assert (tmp_path / "en" / "welcome.wav").read_bytes() == b"default"
    assert (cache.fetched, cache.removed) == (3, 1)


def test_a_file_changed_on_disk_is_fetched_again(tmp_path: Path) -> None:
    store = Store()
    cache = PromptCache(tmp_path, store, reader="r")
    ref, sha = store.add(b"acme welcome")
    sync(cache, config(("acme", "en", "welcome", ref, sha)))
    path = tmp_path / "acme" / "en" / "welcome.wav"
    path.write_bytes(b"tampered!!!!")
    assert sync(cache, config(("acme", "en", "welcome", ref, sha)))
    assert path.read_bytes() == b"acme welcome"
    assert len(store.reads) == 2


def test_a_failed_fetch_is_reported_incomplete_and_retried(tmp_path: Path) -> None:
    store = Store()
    cache = PromptCache(tmp_path, store, reader="r")
    ref, sha = store.add(b"acme welcome")
    store.down = True
    assert not sync(cache, config(("acme", "en", "welcome", ref, sha)))
    assert cache.failed == 1
    store.down = False
    assert sync(cache, config(("acme", "en", "welcome", ref, sha)))
    assert (tmp_path / "acme" / "en" / "welcome.wav").read_bytes() == b"acme welcome"


def test_the_worker_thread_follows_updates(tmp_path: Path) -> None:
    store = Store()
    cache = PromptCache(tmp_path, store, reader="r")
    ref, sha = store.add(b"acme welcome")
    path = tmp_path / "acme" / "en" / "welcome.wav"
    cache.start()
    try:
        cache.update(config(("acme", "en", "welcome", ref, sha)))
        eventually(path.exists, "the prompt written by the worker", 5)
        assert path.read_bytes() == b"acme welcome"
        cache.update(config())
        eventually(lambda: not path.exists(), "the prompt removed by the worker", 5)
    finally:
        cache.stop()
