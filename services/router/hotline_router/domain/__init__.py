"""The router's pure domain: state folded from facts, and the decisions taken on it.

Nothing here imports Kafka, gRPC, protobuf or the platform library; time and ids come in as
arguments, so every function is deterministic and testable alone.
"""
