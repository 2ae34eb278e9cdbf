"""Use cases over ports: staffing, plans, forecasts."""
