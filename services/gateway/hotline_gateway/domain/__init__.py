"""Pure rules of the gateway (standard library only): pagination cursors, token buckets,
entity tags, idempotency records, and the resources' shapes."""
