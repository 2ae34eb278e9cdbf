"""Health probe of a gRPC server, TLS or not: exit 0 when it answers SERVING, 1 otherwise.

    python -m hotline_platform.grpc_probe --port 50052 \
        --ca /etc/hotline/tls/ca.crt [--cert tls.crt --key tls.key] --server-name hotline-router

The Helm chart's exec probe when TLS is on: Kubernetes' built-in gRPC probe cannot do TLS.
Imports only grpc (no settings), so a probe starts quickly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline_platform.grpc_server import is_serving


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotline_platform.grpc_probe")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", help="PEM CA the server's certificate is checked against (TLS)")
    parser.add_argument("--cert", help="PEM client certificate (mutual TLS)")
    parser.add_argument("--key", help="PEM client key (mutual TLS)")
    parser.add_argument("--server-name", default="", help="name the server certificate carries")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    try:
        ca = Path(args.ca).read_bytes() if args.ca else None
        cert = Path(args.cert).read_bytes() if args.cert else None
        key = Path(args.key).read_bytes() if args.key else None
    except OSError as exc:
        print(f"grpc_probe: {exc}", file=sys.stderr)
        return 1
    serving = is_serving(
        f"{args.host}:{args.port}",
        args.timeout,
        root_cert=ca,
        client_cert=cert,
        client_key=key,
        server_name=args.server_name,
    )
    if not serving:
        print(f"grpc_probe: {args.host}:{args.port} is not SERVING", file=sys.stderr)
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main())
