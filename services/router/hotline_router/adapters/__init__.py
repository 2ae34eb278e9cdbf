"""Adapters: protobuf mapping, Kafka (replay/follow, publishing), gRPC API, config."""
