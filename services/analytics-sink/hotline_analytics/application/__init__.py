"""Use cases of the analytics sink: ingest a batch of records, build a KPI report."""
