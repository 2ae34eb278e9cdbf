"""Tenants' own IVR prompts: what an upload must be (hotline_platform.prompts) and the
directory facts naming them (PromptDefined / PromptRemoved: validated by the one writer,
folded into TenancyConfig.prompts, never pruned by `hotline config apply`, blocking the
removal of their tenant)."""

from __future__ import annotations

import hashlib
import io
import wave

import pytest
from directory_world import file_config, loaded, plan_apply

from hotline.directory.v1 import events_pb2 as pb
from hotline.directory.v1.directory_pb2 import Change
from hotline_platform import directory, prompts
from hotline_platform.content import ContentRef


def wav(seconds: float = 1.0, rate: int = 8000, channels: int = 1, width: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        size = round(seconds * rate) * channels * width
        w.writeframes((bytes(range(256)) * (size // 256 + 1))[:size])
    return out.getvalue()


def test_a_pcm_8khz_mono_wav_is_a_prompt() -> None:
    info = prompts.check_wav(wav(1.5))
    assert (info.sample_rate, info.channels, info.sample_bits) == (8000, 1, 16)
    assert info.duration_ms == 1500
    assert prompts.check_wav(wav(0.5, width=1)).sample_bits == 8


@pytest.mark.parametrize(("data", "reasons"), [
    (b"", ["not a WAV file (RIFF/WAVE header missing)"]),
    (b"ID3\x03" + bytes(200), ["not a WAV file (RIFF/WAVE header missing)"]),
    (wav(1, rate=16000, channels=2), [
        "2 channels: must be mono",
        "16000 Hz: must be 8000 Hz (convert e.g. with `sox in.wav -r 8000 -c 1 -b 16 out.wav`)",
    ]),
    (wav(0.1), ["lasts 100 ms: must last 200 ms to 300 s"]),
    (wav(301), ["lasts 301000 ms: must last 200 ms to 300 s"]),
    (wav(1, width=3), ["24-bit samples: must be 16-bit or 8-bit PCM"]),
    (wav(1)[:8000], ["the audio data is shorter than its header says (truncated file)"]),
])
def test_what_is_not_a_prompt_says_every_reason(data: bytes, reasons: list[str]) -> None:
    with pytest.raises(prompts.PromptRejected) as refused:
        prompts.check_wav(data)
    assert refused.value.reasons == reasons


def test_a_non_pcm_wav_is_refused() -> None:
    alaw = bytearray(wav(1))
    alaw[20:22] = (6).to_bytes(2, "little")  # format tag 6: A-law
    with pytest.raises(prompts.PromptRejected, match="not a linear PCM WAV file"):
        prompts.check_wav(bytes(alaw))


def test_an_upload_over_the_size_limit_is_refused_before_parsing() -> None:
    with pytest.raises(prompts.PromptRejected, match="at most 10485760 bytes"):
        prompts.check_wav(b"RIFF" + bytes(prompts.MAX_BYTES))


def test_names_and_languages() -> None:
    assert prompts.problems_of_ids("en", "welcome") == []
    assert prompts.problems_of_ids("de-AT", "position_3") == []
    assert len(prompts.problems_of_ids("EN", "../x")) == 2
    assert prompts.problems_of_ids("en", "a" * 65) == [
        f"name {'a' * 65!r} must be 1-64 of a-z, 0-9 and _"
    ]


def _ref(tenant: str = "acme", data: bytes = b"x", content_type: str = "audio/wav") -> str:
    digest = hashlib.sha256(data).hexdigest()
    return str(ContentRef(tenant, "ab" * 16, len(data), digest, content_type, "k-1", 1))


def define(language: str = "en", name: str = "welcome", **fields: object) -> Change:
    body = pb.PromptDefined(
        tenant_id="acme", language=language, name=name, content_ref=_ref(),
        duration_ms=1000, sha256=hashlib.sha256(b"x").hexdigest(),
    )
    for attr, value in fields.items():
        setattr(body, attr, value)
    return Change(define_prompt=body)


def test_a_prompt_is_a_fact_folded_into_the_tenancy() -> None:
    view = loaded()
    [event] = plan_apply(view, define())
    assert event.WhichOneof("event") == "prompt_defined"
    assert event.envelope.tenant_id == "acme"
    prompt = view.config().prompts[("acme", "en", "welcome")]
    assert (prompt.content_ref, prompt.duration_ms) == (_ref(), 1000)
    [removed] = plan_apply(
        view, Change(remove_prompt=pb.PromptRemoved(tenant_id="acme", language="en",
                                                    name="welcome"))
    )
    assert directory.key_of(removed.prompt_removed) == "prompt/acme/en/welcome"
    assert removed.entity_version == 2
    assert view.config().prompts == {}


def test_the_writer_refuses_a_bad_prompt_with_every_reason() -> None:
    view = loaded()
    with pytest.raises(directory.Refused) as refused:
        plan_apply(view, define(language="EN", name="Bad", duration_ms=0,
                                content_ref=_ref("globex", content_type="text/plain")))
    assert sorted(refused.value.reasons) == sorted([
        "prompt acme/EN/Bad: language 'EN' is not a language tag like en or de-AT "
        "([a-z]{2,3}(-[A-Za-z0-9]{2,8})*)",
        "prompt acme/EN/Bad: name 'Bad' must be 1-64 of a-z, 0-9 and _",
        "prompt acme/EN/Bad: content_ref names content of tenant 'globex'",
        "prompt acme/EN/Bad: content_ref holds text/plain, not audio/wav",
        "prompt acme/EN/Bad: duration_ms 0 out of range",
    ])
    with pytest.raises(directory.Refused, match="content_ref: not a content reference"):
        plan_apply(view, define(content_ref="s3://elsewhere"))
    with pytest.raises(directory.Refused, match="sha256 is not the content_ref's"):
        plan_apply(view, define(sha256="0" * 64))
    with pytest.raises(directory.Refused, match="tenant 'nobody' does not exist"):
        body = define().define_prompt
        body.tenant_id = "nobody"
        body.content_ref = _ref("nobody")
        plan_apply(view, Change(define_prompt=body))


def test_config_apply_never_removes_uploaded_prompts_and_they_hold_their_tenant() -> None:
    view = loaded()
    plan_apply(view, define())
    config, _ = file_config()
    assert not any(c.HasField("remove_prompt") for c in directory.diff(view.definitions, config))
    with pytest.raises(directory.Refused, match="prompt acme/en/welcome"):
        directory.plan(
            view, [Change(remove_tenant=pb.TenantRemoved(tenant_id="acme"))], actor="operator",
            producer="test",
        )
