"""The gateway in front of the whole live-directory stack, each part a subprocess on the
session's broker (and ClickHouse): the directory service (the tenancy applied to it, without
removing what other tests defined), the router, ingress-sip (optional) and the analytics sink
following the directory (HOTLINE_DIRECTORY=on), WFM, and the gateway following the directory
too. What the REST directory, interactions and schemathesis tests start."""

from __future__ import annotations

import signal
import socket
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from gateway_stack import Proc, spawn, wait_grpc

from hotline_cli import config_cmd
from hotline_cli.embedded import find_free_port
from hotline_platform import credentials
from hotline_platform.bus import ensure_topics

OPERATOR_TOKEN = credentials.new_token("operator")
SITE = "lisbon"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tenant(prefix: str, agents: int = 1) -> dict[str, Any]:
    """A tenant of the tenancy YAML with two queues, an entry point to `sales` and agents,
    all placed on the site (the directory requires it when there are sites)."""
    tid = f"{prefix}-{uuid.uuid4().hex[:6]}"
    return {
        "id": tid,
        "credential": f"{tid}.secret",
        "queues": [
            {"id": "sales", "required_skills": [{"name": "sales", "level": 1}],
             "ring_timeout_s": 30, "wrap_up_timeout_s": 60},
            {"id": "support", "required_skills": [{"name": "support", "level": 1}]},
        ],
        "entry_points": [
            {"address": f"ep-{tid}", "queue": "sales", "site": SITE},
            {"address": f"ep2-{tid}", "queue": "support", "site": SITE},
        ],
        "agents": [
            {"id": f"{tid}-a{i}", "name": f"Agent {i}", "site": SITE,
             "skills": ["sales", "support"], "phone": f"sip:a{i}@127.0.0.1:{16000 + i}"}
            for i in range(agents)
        ],
    }


@dataclass
class FullStack:
    base_url: str
    tenants: list[dict[str, Any]]
    directory_address: str
    sip: tuple[str, int] | None = None
    procs: dict[str, Proc] = field(default_factory=dict)

    def credential(self, index: int = 0) -> str:
        return str(self.tenants[index]["credential"])

    def stop(self) -> None:
        for name in ("gateway", "ingress-sip", "analytics-sink", "wfm", "router", "directory"):
            if name in self.procs:
                self.procs[name].stop(signal.SIGTERM)


def start_full(
    broker: str, clickhouse: Any, workdir: Path, tenants: list[dict[str, Any]], *,
    sip: bool = False, env: dict[str, str] | None = None, **gateway_env: str,
) -> FullStack:
    """`env`: more settings for every service (e.g. the content store's)."""
    ensure_topics(broker)
    config = workdir / "hotline.yaml"
    config.write_text(yaml.safe_dump({"sites": [{"id": SITE}], "tenants": tenants}))
    run = uuid.uuid4().hex[:8]
    ports = {name: find_free_port() for name in (
        "directory", "router", "wfm", "analytics", "ingress", "gateway-grpc", "gateway-http",
    )}
    stack = FullStack(
        f"http://127.0.0.1:{ports['gateway-http']}", tenants,
        f"127.0.0.1:{ports['directory']}",
        ("127.0.0.1", free_udp_port()) if sip else None,
    )
    common = {
        "HOTLINE_KAFKA_BOOTSTRAP": broker, "HOTLINE_CONFIG_PATH": str(config), **(env or {}),
    }
    live = {**common, "HOTLINE_DIRECTORY": "on"}

    def run_service(name: str, module: str, port: int, env: dict[str, str]) -> None:
        stack.procs[name] = spawn(name, module, workdir / f"{name}.log", {
            **env, "HOTLINE_GRPC_PORT": str(port), "HOTLINE_INSTANCE_ID": f"{name}-{run}",
        })

    try:
        run_service("directory", "hotline_directory", ports["directory"], {
            "HOTLINE_KAFKA_BOOTSTRAP": broker,
            # As in production: the service is given only the hash.
            "HOTLINE_DIRECTORY_ADMIN_TOKEN": credentials.hash_secret(
                OPERATOR_TOKEN, credentials.IN_MEMORY_PARAMS
            ),
        })
        wait_grpc(stack.procs["directory"], ports["directory"])
        config_cmd.apply_file(
            stack.directory_address, OPERATOR_TOKEN, config, prune=False, say=lambda _: None
        )
        run_service("router", "hotline_router", ports["router"], live)
        run_service("wfm", "hotline_wfm", ports["wfm"], common)
        run_service("analytics-sink", "hotline_analytics", ports["analytics"], {
            **live,
            "HOTLINE_CLICKHOUSE_HOST": clickhouse.host,
            "HOTLINE_CLICKHOUSE_PORT": str(clickhouse.tcp_port),
            "HOTLINE_CLICKHOUSE_DATABASE": f"rest_{run}",
            "HOTLINE_CONSUMER_GROUP": f"hotline-rest-{run}",
            "HOTLINE_BATCH_MAX_WAIT_S": "0.1",
        })
        if stack.sip is not None:
            run_service("ingress-sip", "hotline_ingress_sip", ports["ingress"], {
                **live, "HOTLINE_SIP_PORT": str(stack.sip[1]),
                "HOTLINE_HEARTBEAT_INTERVAL_MS": "500",
            })
        run_service("gateway", "hotline_gateway", ports["gateway-grpc"], {
            **live,
            "HOTLINE_HTTP_PORT": str(ports["gateway-http"]),
            "HOTLINE_HTTP_HOST": "127.0.0.1",
            "HOTLINE_ROUTER_ADDRESS": f"127.0.0.1:{ports['router']}",
            "HOTLINE_WFM_ADDRESS": f"127.0.0.1:{ports['wfm']}",
            "HOTLINE_DIRECTORY_ADDRESS": stack.directory_address,
            "HOTLINE_ANALYTICS_ADDRESS": f"127.0.0.1:{ports['analytics']}",
            **gateway_env,
        })
        for name, port in (("router", "router"), ("wfm", "wfm"), ("analytics-sink", "analytics"),
                           ("ingress-sip", "ingress"), ("gateway", "gateway-grpc")):
            if name in stack.procs:
                wait_grpc(stack.procs[name], ports[port])
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=5) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    except BaseException:
        stack.stop()
        raise
    return stack
