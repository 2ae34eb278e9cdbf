"""Adapters: protobuf row mapping, Kafka batch consumer, ClickHouse schema/writer/queries."""
