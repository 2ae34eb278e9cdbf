"""The CallCommands port on hotline.voice.commands.v1 (the gateway is its one writer): a
command is answered once the broker has it, so a 202 means recorded. The platform publisher's
crash-only rule holds (a command the broker lost after accepting it stops the process)."""

from __future__ import annotations

import asyncio

from hotline.voice.v1.commands_pb2 import CallCommand
from hotline_gateway.domain.calls import CallAction, CallRequest
from hotline_gateway.domain.errors import Unavailable
from hotline_platform.bus import DeliveryFailed, EventPublisher
from hotline_platform.envelope import new_envelope
from hotline_platform.topics import VOICE_COMMANDS


def to_message(request: CallRequest, producer: str) -> CallCommand:
    message = CallCommand(
        envelope=new_envelope(
            tenant_id=request.tenant_id, producer=producer,
            interaction_id=request.interaction_id, agent_id=request.agent_id,
        ),
        requested_by=request.requested_by,
    )
    if request.action is CallAction.HOLD:
        message.hold.SetInParent()
    elif request.action is CallAction.RESUME:
        message.resume.SetInParent()
    else:
        message.transfer.to_queue_id = request.to_queue_id
    return message


def _done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class KafkaCallCommands:
    def __init__(
        self, bootstrap: str, instance_id: str, timeout_s: float, retry_after_s: float
    ) -> None:
        self._publisher = EventPublisher(bootstrap, f"gateway-commands-{instance_id}")
        self._producer = f"gateway/{instance_id}"
        self._timeout_s = timeout_s
        self._retry_after_s = retry_after_s

    async def send(self, request: CallRequest) -> str:
        message = to_message(request, self._producer)
        loop = asyncio.get_running_loop()
        recorded: asyncio.Future[None] = loop.create_future()
        try:
            self._publisher.publish(
                VOICE_COMMANDS, message, lambda: loop.call_soon_threadsafe(_done, recorded)
            )
            await asyncio.wait_for(recorded, self._timeout_s)
        except (TimeoutError, DeliveryFailed, BufferError) as exc:
            raise Unavailable(f"the command could not be recorded: {exc or 'timed out'}",
                              self._retry_after_s) from exc
        return message.envelope.event_id

    def close(self) -> None:
        self._publisher.flush(5)
        self._publisher.close()
