"""Pure staffing maths and forecasting (no I/O)."""
