"""The media relay port over rtpengine's ng protocol (platform NgClient), and prompt files
from a folder."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from hotline_ingress_sip.application.ports import MediaReply
from hotline_platform.media_relay import MediaRelayError, MediaRelayUnavailable, NgClient

log = logging.getLogger(__name__)


class NgMediaRelay:
    """Each command runs as a task on the SIP loop; its reply (or failure) is handed to the
    callback on that loop, so call handling never waits for the relay."""

    def __init__(self, client: NgClient) -> None:
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()

    def request(
        self, command: str, params: Mapping[str, object], on_reply: Callable[[MediaReply], None]
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._run(command, params, on_reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, command: str, params: Mapping[str, object], on_reply: Callable[[MediaReply], None]
    ) -> None:
        try:
            reply = MediaReply(True, await self._client.command(command, params))
        except MediaRelayError as exc:
            reply = MediaReply(False, {}, str(exc))
        except MediaRelayUnavailable as exc:
            reply = MediaReply(False, {}, f"media relay unavailable: {exc}")
        try:
            on_reply(reply)
        except Exception:
            log.exception("handling the media relay's reply to %s failed", command)


class PromptFolder:
    """Prompts as WAV files: `<folder>/<tenant>/<language>/<name>.wav` (a tenant's own), else
    `<folder>/<language>/<name>.wav` (the defaults generated at setup). A language falls back
    to its primary subtag ("de-AT" -> "de"), then to `fallback_language`."""

    def __init__(self, folder: str | Path, fallback_language: str = "en") -> None:
        self._folder = Path(folder)
        self._fallback = fallback_language

    def path(self, tenant_id: str, name: str, language: str) -> str | None:
        languages = [language, language.split("-")[0], self._fallback]
        for base in (self._folder / tenant_id, self._folder):
            for lang in dict.fromkeys(x for x in languages if x):
                candidate = base / lang / f"{name}.wav"
                if candidate.is_file():
                    return str(candidate)
        return None
