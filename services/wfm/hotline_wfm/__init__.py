"""Workforce management: Erlang C / Erlang A staffing, interval plans, forecasts."""
