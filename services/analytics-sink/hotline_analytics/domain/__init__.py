"""Pure domain of the analytics sink: KPI definitions over per-interaction facts."""
