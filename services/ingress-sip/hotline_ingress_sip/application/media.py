"""One call's audio anchored in the media relay (rtpengine's ng commands).

The relay call is keyed by the caller's Call-ID. Its two sides are the caller (the From tag
of the caller's INVITE) and the platform (our To tag towards the caller). Every agent leg,
one after the other, takes the platform's side: the agent's answer is given to the relay as a
new answer for that same side ("port-latching" keeps the relay's ports), so the caller's
dialog and the ports it sends to never change. Prompts and music are played to the caller;
the agent's audio is blocked while the caller is on hold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from hotline_ingress_sip.application.ports import MediaRelay, MediaReply

log = logging.getLogger(__name__)

Done = Callable[[MediaReply], None]

# "port-latching": the relay keeps its ports when the platform's side moves to another
# phone. No "inject-DTMF": it would make the relay re-packetise every stream (new SSRC and
# sequence numbers) instead of forwarding packets as they are.
_ANSWER_FLAGS = ["port-latching"]
_REPLACE = ["origin", "session-connection"]
MUSIC_REPEAT_TIMES = 10_000  # "for ever": stopped by `stop media` or the call's end


def _ignore(_reply: MediaReply) -> None:
    return None


class CallMedia:
    def __init__(self, relay: MediaRelay, call_id: str, caller_tag: str, platform_tag: str):
        self._relay = relay
        self.call_id = call_id
        self.caller_tag = caller_tag
        self.platform_tag = platform_tag
        self.agent_offer = b""  # the SDP every agent leg is offered (the relay's side)
        self.caller_answer = b""  # the SDP the caller was answered with
        self.playing = False
        self.deleted = False

    def _send(self, command: str, params: Mapping[str, object], done: Done = _ignore) -> None:
        self._relay.request(command, {"call-id": self.call_id, **params}, done)

    def anchor(self, caller_offer: bytes, placeholder: bytes, done: Done) -> None:
        """Offer the caller's SDP, then answer it for the platform with a placeholder (no
        agent yet): `caller_answer` is what the caller is answered with."""

        def offered(reply: MediaReply) -> None:
            if not reply.ok:
                done(reply)
                return
            self.agent_offer = str(reply.fields.get("sdp", "")).encode()
            self._send(
                "answer",
                {
                    "from-tag": self.caller_tag,
                    "to-tag": self.platform_tag,
                    "sdp": placeholder.decode(),
                    "flags": _ANSWER_FLAGS,
                    "replace": _REPLACE,
                },
                answered,
            )

        def answered(reply: MediaReply) -> None:
            if reply.ok:
                self.caller_answer = str(reply.fields.get("sdp", "")).encode()
            done(reply)

        self._send(
            "offer",
            {
                "from-tag": self.caller_tag,
                "sdp": caller_offer.decode(),
                "replace": _REPLACE,
            },
            offered,
        )

    def connect(self, agent_answer: bytes, done: Done) -> None:
        """Point the platform's side at an agent phone (its answer to `agent_offer`)."""
        self._send(
            "answer",
            {
                "from-tag": self.caller_tag,
                "to-tag": self.platform_tag,
                "sdp": agent_answer.decode(),
                "flags": _ANSWER_FLAGS,
                "replace": _REPLACE,
            },
            done,
        )

    def play(self, path: str, done: Done = _ignore, *, repeat: bool = False) -> None:
        """Play a WAV file to the caller (replacing what is playing). The reply carries the
        file's `duration` in ms."""
        params: dict[str, object] = {"from-tag": self.caller_tag, "file": path}
        if repeat:
            params["repeat-times"] = MUSIC_REPEAT_TIMES
        self.playing = True
        self._send("play media", params, done)

    def stop(self) -> None:
        if self.playing and not self.deleted:
            self.playing = False
            self._send("stop media", {"from-tag": self.caller_tag})

    def block_agent(self) -> None:
        self._send("block media", {"from-tag": self.platform_tag})

    def unblock_agent(self) -> None:
        self._send("unblock media", {"from-tag": self.platform_tag})

    def block_caller(self) -> None:
        """The agent stops hearing the caller (a hold asked for from the desktop)."""
        self._send("block media", {"from-tag": self.caller_tag})

    def unblock_caller(self) -> None:
        self._send("unblock media", {"from-tag": self.caller_tag})

    def query(self, done: Done) -> None:
        self._send("query", {}, done)

    def delete(self) -> None:
        if not self.deleted:
            self.deleted = True
            self._send("delete", {"from-tag": self.caller_tag}, _log_failure)


def _log_failure(reply: MediaReply) -> None:
    if not reply.ok:
        log.warning("media relay: delete failed: %s", reply.error)
