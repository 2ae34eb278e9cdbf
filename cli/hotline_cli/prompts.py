"""The default IVR prompts, spoken by espeak-ng at setup, and music on hold synthesised here.

Layout: ``<dir>/<language>/<name>.wav``, every file 8 kHz mono 16-bit PCM (what rtpengine's
``play media`` takes). Files already there are kept, so a tenant's or an operator's replacement
survives, and a second `hotline up` costs nothing. Music on hold (``moh``) is the same in every
language folder so that every lookup is ``(language, name)``.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

__all__ = ["LANGUAGES", "RATE", "default_prompts", "ensure_default_prompts"]

RATE = 8000
#: Our language code -> espeak-ng voice.
LANGUAGES = {"en": "en", "de": "de", "zh": "cmn"}
_MAX_N = 10  # position_<n> and wait_minutes_<n> for n in 1..10


def _en(n: int) -> dict[str, str]:
    minutes = "1 minute" if n == 1 else f"{n} minutes"
    return {
        f"position_{n}": f"You are number {n} in the queue.",
        f"wait_minutes_{n}": f"The expected waiting time is {minutes}.",
    }


def _de(n: int) -> dict[str, str]:
    minutes = "eine Minute" if n == 1 else f"{n} Minuten"
    return {
        f"position_{n}": f"Sie sind Nummer {n} in der Warteschlange.",
        f"wait_minutes_{n}": f"Die voraussichtliche Wartezeit beträgt {minutes}.",
    }


def _zh(n: int) -> dict[str, str]:
    return {
        f"position_{n}": f"您在队列中排第{n}位。",
        f"wait_minutes_{n}": f"预计等待时间为{n}分钟。",
    }


_TEXTS: dict[str, tuple[dict[str, str], Callable[[int], dict[str, str]]]] = {
    "en": (
        {
            "welcome": "Thank you for calling.",
            "choose_language": "For English, press 1.",
            "invalid": "Sorry, that is not a valid choice.",
            "no_input": "Sorry, we did not receive your choice.",
            "closed": "We are closed now. Please call again during our opening hours.",
            "please_hold": "Please hold. The next available agent will take your call.",
            "goodbye": "Thank you for calling. Goodbye.",
            "transfer": "Please hold while we transfer your call.",
        },
        _en,
    ),
    "de": (
        {
            "welcome": "Vielen Dank für Ihren Anruf.",
            "choose_language": "Für Deutsch drücken Sie 2.",
            "invalid": "Diese Auswahl ist leider ungültig.",
            "no_input": "Wir haben leider keine Eingabe erhalten.",
            "closed": "Wir haben geschlossen. Bitte rufen Sie während unserer Öffnungszeiten an.",
            "please_hold": "Bitte warten Sie. Der nächste freie Mitarbeiter ist gleich für Sie da.",
            "goodbye": "Vielen Dank für Ihren Anruf. Auf Wiederhören.",
            "transfer": "Bitte warten Sie, wir verbinden Sie weiter.",
        },
        _de,
    ),
    "zh": (
        {
            "welcome": "感谢您的来电。",
            "choose_language": "中文请按3。",
            "invalid": "对不起，您的选择无效。",
            "no_input": "对不起，我们没有收到您的选择。",
            "closed": "我们现在已经下班。请在营业时间内再次来电。",
            "please_hold": "请稍候，下一位空闲的客服人员将为您服务。",
            "goodbye": "感谢您的来电，再见。",
            "transfer": "请稍候，正在为您转接。",
        },
        _zh,
    ),
}


def default_prompts(language: str) -> dict[str, str]:
    """Prompt name -> the text spoken in ``language`` (one of :data:`LANGUAGES`)."""
    fixed, numbered = _TEXTS[language]
    texts = dict(fixed)
    for n in range(1, _MAX_N + 1):
        texts.update(numbered(n))
    return texts


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """To :data:`RATE` by cutting the spectrum: an ideal low-pass, no aliasing of the voice's
    upper band into the telephone band."""
    count = round(len(samples) * RATE / rate)
    spectrum = np.fft.rfft(samples.astype(np.float64))[: count // 2 + 1]
    return np.fft.irfft(spectrum, count) * (count / len(samples))


def _write_wav(path: Path, samples: np.ndarray) -> None:
    """Write 16-bit mono at :data:`RATE`, atomically (a half-written file is never played)."""
    pcm = np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    with wave.open(tmp, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)
    os.replace(tmp, path)


def _speak(espeak: str, voice: str, text: str, path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        raw = Path(scratch) / "speech.wav"
        subprocess.run([espeak, "-v", voice, "-w", str(raw), text], check=True,
                       stdin=subprocess.DEVNULL, capture_output=True)  # fmt: skip
        with wave.open(str(raw), "rb") as wav:
            rate = wav.getframerate()
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    _write_wav(path, _resample(samples, rate))


def _music_on_hold() -> np.ndarray:
    """Eight seconds that loop: C, A minor, F and G major chords, each arpeggiated twice in
    soft plucked notes (a sine and a quieter octave, decaying)."""
    chords = [(261.63, 329.63, 392.00, 523.25), (220.00, 261.63, 329.63, 440.00),
              (174.61, 220.00, 261.63, 349.23), (196.00, 246.94, 293.66, 392.00)]  # fmt: skip
    note_s = 0.25
    t = np.arange(int(note_s * 2 * RATE)) / RATE  # each note rings into the next one
    envelope = np.exp(-t * 5) * np.minimum(1, t * 200)  # 5 ms attack, no click
    out = np.zeros(int(len(chords) * 8 * note_s * RATE) + len(t))
    for index, hz in enumerate(hz for chord in chords for hz in chord * 2):
        note = (np.sin(2 * math.pi * hz * t) + 0.3 * np.sin(4 * math.pi * hz * t)) * envelope
        start = int(index * note_s * RATE)
        out[start : start + len(t)] += note
    loop = int(len(chords) * 8 * note_s * RATE)
    out[: len(out) - loop] += out[loop:]  # the tail of the last note rings at the start
    out = out[:loop]
    return out / np.abs(out).max() * 8000  # about -12 dBFS: loud enough, no clipping in G.711


def _write_music_on_hold(path: Path) -> None:
    _write_wav(path, _music_on_hold())


def ensure_default_prompts(directory: Path) -> int:
    """Generate every default prompt missing under ``directory``; the number of files written.
    Needs espeak-ng (Debian package espeak-ng) unless every prompt is already there."""
    jobs: list[Callable[[], None]] = []
    espeak = shutil.which("espeak-ng")
    for language, voice in LANGUAGES.items():
        folder = Path(directory) / language
        folder.mkdir(parents=True, exist_ok=True)
        moh = folder / "moh.wav"
        if not moh.exists():
            jobs.append(partial(_write_music_on_hold, moh))
        for name, text in default_prompts(language).items():
            path = folder / f"{name}.wav"
            if path.exists():
                continue
            if espeak is None:
                raise RuntimeError(
                    "espeak-ng is needed to generate the default prompts: "
                    "run `bash scripts/install-system-deps.sh`"
                )
            jobs.append(partial(_speak, espeak, voice, text, path))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    return len(jobs)
