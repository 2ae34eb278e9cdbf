"""WFM settings (environment variables HOTLINE_*)."""

from __future__ import annotations

from hotline_platform.settings import ServiceSettings


class WfmSettings(ServiceSettings):
    grpc_port: int = 50054
    clickhouse_host: str = "127.0.0.1"
    clickhouse_port: int = 19000
    clickhouse_database: str = "hotline"
    clickhouse_user: str = "default"
    clickhouse_password: str = ""
    # Defaults for requests that do not say.
    wfm_shrinkage: float = 0.3
    wfm_history_days: int = 28
    wfm_holdout_days: float = 7.0
    wfm_smoothing: float = 0.5
    wfm_default_aht_s: float = 180.0
