"""gRPC server with the standard health service (what `hotline up` and Kubernetes probe)."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


async def start(
    port: int, register: Callable[[grpc.aio.Server], None], service_names: tuple[str, ...] = ()
) -> grpc.aio.Server:
    # No SO_REUSEPORT: a second server on a taken port must fail, not share it silently.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    register(server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    bound = server.add_insecure_port(f"0.0.0.0:{port}")
    if not bound:
        raise RuntimeError(f"cannot listen for gRPC on port {port}")
    await server.start()
    for name in ("", *service_names):
        await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server


def is_serving(address: str, timeout: float = 1.0) -> bool:
    try:
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False
