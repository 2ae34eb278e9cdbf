"""Tenants' own IVR prompts: the rules an uploaded prompt meets (pure, standard library).

A prompt is a WAV file the media relay (rtpengine `play media`) plays to a caller. The project
generates default prompts at setup (`<prompts dir>/<language>/<name>.wav`, hotline_cli.prompts);
a tenant uploads its own over REST (the gateway: `PUT /v1/tenants/{t}/prompts/{language}/
{name}`), stored encrypted in the content store and named by a `PromptDefined` directory fact
(key `prompt/<tenant>/<language>/<name>`); ingress-sip writes it to
`<prompts dir>/<tenant>/<language>/<name>.wav`, which wins over the default.

What is accepted, exactly what the defaults are: a RIFF/WAVE file of linear PCM, 16-bit or
8-bit, mono, 8000 Hz, lasting 0.2 s to 300 s, at most 10 MB. Other rates and channel counts
are refused with the reason rather than resampled here: a converter (`sox in.wav -r 8000 -c 1
-b 16 out.wav`) does it with a proper low-pass filter, and the tenant hears what is played.
"""

from __future__ import annotations

import io
import re
import wave
from dataclasses import dataclass

__all__ = [
    "LANGUAGE_PATTERN", "MAX_BYTES", "MAX_DURATION_MS", "MIN_DURATION_MS", "NAME_PATTERN",
    "RATE", "PromptRejected", "WavInfo", "check_wav", "key", "problems_of_ids",
]

NAME_PATTERN = r"^[a-z0-9_]{1,64}$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
_NAME = re.compile(NAME_PATTERN)
_LANGUAGE = re.compile(LANGUAGE_PATTERN)
LANGUAGE_MAX_CHARS = 35
RATE = 8000
MIN_DURATION_MS = 200
MAX_DURATION_MS = 300_000
# 300 s of 16-bit 8 kHz mono is 4.8 MB: the limit leaves room without inviting huge bodies.
MAX_BYTES = 10 * 1024 * 1024
CONTENT_TYPE = "audio/wav"


class PromptRejected(ValueError):
    """An upload that is not a usable prompt; `reasons` lists every one."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class WavInfo:
    sample_rate: int
    channels: int
    sample_bits: int
    frames: int

    @property
    def duration_ms(self) -> int:
        return round(self.frames * 1000 / self.sample_rate) if self.sample_rate else 0


def key(tenant_id: str, language: str, name: str) -> str:
    """The directory key of a prompt."""
    return f"prompt/{tenant_id}/{language}/{name}"


def problems_of_ids(language: str, name: str) -> list[str]:
    """Why a (language, name) cannot name a prompt (also a path segment on disk)."""
    out = []
    if len(language) > LANGUAGE_MAX_CHARS or not _LANGUAGE.match(language):
        out.append(
            f"language {language!r} is not a language tag like en or de-AT "
            "([a-z]{2,3}(-[A-Za-z0-9]{2,8})*)"
        )
    if not _NAME.match(name):
        out.append(f"name {name!r} must be 1-64 of a-z, 0-9 and _")
    return out


def check_wav(data: bytes) -> WavInfo:
    """The WAV file's format when it is a usable prompt; PromptRejected with every reason
    otherwise."""
    if len(data) > MAX_BYTES:
        raise PromptRejected([f"{len(data)} bytes: at most {MAX_BYTES} bytes"])
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise PromptRejected(["not a WAV file (RIFF/WAVE header missing)"])
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            info = WavInfo(
                wav.getframerate(), wav.getnchannels(), wav.getsampwidth() * 8, wav.getnframes()
            )
            audio_bytes = len(wav.readframes(info.frames))
    except (wave.Error, EOFError) as exc:
        # The wave module reads linear PCM only: A-law, µ-law, float, ADPCM land here.
        raise PromptRejected([f"not a linear PCM WAV file ({exc})"]) from None
    reasons = []
    if info.sample_bits not in (8, 16):
        reasons.append(f"{info.sample_bits}-bit samples: must be 16-bit or 8-bit PCM")
    if info.channels != 1:
        reasons.append(f"{info.channels} channels: must be mono")
    if info.sample_rate != RATE:
        reasons.append(
            f"{info.sample_rate} Hz: must be {RATE} Hz "
            "(convert e.g. with `sox in.wav -r 8000 -c 1 -b 16 out.wav`)"
        )
    elif not MIN_DURATION_MS <= info.duration_ms <= MAX_DURATION_MS:
        reasons.append(
            f"lasts {info.duration_ms} ms: must last {MIN_DURATION_MS} ms to "
            f"{MAX_DURATION_MS // 1000} s"
        )
    if audio_bytes < info.frames * info.channels * (info.sample_bits // 8):
        reasons.append("the audio data is shorter than its header says (truncated file)")
    if reasons:
        raise PromptRejected(reasons)
    return info
