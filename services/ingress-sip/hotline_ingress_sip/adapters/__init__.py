"""Adapters: UDP transport, asyncio timers and clock, Kafka publisher and offers consumer,
in-memory fakes for tests."""
