"""Run authz_matrix cases against real gRPC servicers: a request for any method of the
contract (tenant and agent filled in), and the outcome of a call as the matrix names it.

    outcome = await call_outcome(channel, method, sample_request(method, tenant, agent), token)
"""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message
from support.authz_matrix import ALLOW, FORBIDDEN, UNAUTHENTICATED

from hotline_platform import policy


def _method(full_method: str):  # type: ignore[no-untyped-def]
    service, name = full_method.strip("/").split("/")
    return descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)


def sample_request(full_method: str, tenant_id: str, agent_id: str = "") -> Message:
    """The method's request message with `tenant_id` and (when it has one) `agent_id` set."""
    method = _method(full_method)
    request: Message = message_factory.GetMessageClass(method.input_type)()
    fields = method.input_type.fields_by_name
    if "tenant_id" in fields:
        request.tenant_id = tenant_id  # type: ignore[attr-defined]
    if "agent_id" in fields and agent_id:
        request.agent_id = agent_id  # type: ignore[attr-defined]
    rule = policy.GRPC_METHODS.get(full_method)
    if rule is not None and rule.agent_field in fields and agent_id:  # e.g. for_agent_id
        setattr(request, rule.agent_field, agent_id)
    return request


async def call_outcome(
    channel: grpc.aio.Channel, full_method: str, request: Message, token: str,
    timeout: float = 10.0,
) -> str:
    """ALLOW (answered, or refused for a reason other than authorization), FORBIDDEN
    (PERMISSION_DENIED) or UNAUTHENTICATED. A streaming method counts as answered at its first
    message. A servicer that failed (UNKNOWN, INTERNAL), was missing or timed out is none of
    these: the outcome names the status, so the case fails with it."""
    method = _method(full_method)
    response_class = message_factory.GetMessageClass(method.output_type)
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    kwargs = {
        "request_serializer": lambda m: m.SerializeToString(),
        "response_deserializer": response_class.FromString,
    }
    try:
        if method.server_streaming:
            call = channel.unary_stream(full_method, **kwargs)(
                request, metadata=metadata, timeout=timeout
            )
            try:
                await call.read()
            finally:
                call.cancel()
        else:
            await channel.unary_unary(full_method, **kwargs)(
                request, metadata=metadata, timeout=timeout
            )
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
            return UNAUTHENTICATED
        if exc.code() == grpc.StatusCode.PERMISSION_DENIED:
            return FORBIDDEN
        if exc.code() in _BROKEN:
            return f"{exc.code().name}: {exc.details()}"
    return ALLOW


_BROKEN = (
    grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
)
