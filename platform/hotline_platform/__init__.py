"""Shared platform library: event envelope and codec, topics, Kafka bus, settings, tenancy
config, auth, logging, metrics and gRPC health. Services import from here; the domain of a
service never does."""
