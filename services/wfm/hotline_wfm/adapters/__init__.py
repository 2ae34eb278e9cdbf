"""Adapters: ClickHouse history, gRPC API."""
