"""Settings common to every service, from environment variables (HOTLINE_*)."""

from __future__ import annotations

import socket

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    config_path: str = "config/hotline.yaml"
    instance_id: str = socket.gethostname()
    log_level: str = "INFO"
    # Prometheus /metrics port; 0 disables it.
    metrics_port: int = 0
