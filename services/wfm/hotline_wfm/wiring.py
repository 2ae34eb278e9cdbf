"""Hand wiring: settings + tenancy (the live directory, or a file) -> a running WFM service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc

from hotline_platform import auth, directory, grpc_server, identity, tenancy
from hotline_wfm.adapters import grpc_api
from hotline_wfm.adapters.clickhouse import ClickHouseHistory
from hotline_wfm.application.service import ForecastOptions, WfmService
from hotline_wfm.settings import WfmSettings

SERVICE = "wfm"


def build_service(
    settings: WfmSettings, tenancy_config: Callable[[], tenancy.TenancyConfig]
) -> WfmService:
    history = ClickHouseHistory(
        settings.clickhouse_host,
        settings.clickhouse_port,
        settings.clickhouse_database,
        settings.clickhouse_user,
        settings.clickhouse_password,
    )
    options = ForecastOptions(
        history_days=settings.wfm_history_days,
        holdout_days=settings.wfm_holdout_days,
        alpha=settings.wfm_smoothing,
        default_aht_s=settings.wfm_default_aht_s,
    )
    return WfmService(tenancy_config, history, options)


class Wfm:
    """`await start()` reads the directory to its end, then serves gRPC (tenants, queues,
    targets and credentials follow the directory live); `await stop()` stops. Stateless
    otherwise: any number of instances can run."""

    def __init__(
        self, settings: WfmSettings, tenancy_config: tenancy.TenancyConfig | None = None
    ) -> None:
        self.settings = settings
        self.directory = (
            directory.StaticTenancy(tenancy_config)
            if tenancy_config is not None
            else directory.tenancy_source(
                settings.directory, settings.config_path, settings.kafka_bootstrap, SERVICE,
                settings.instance_id,
            )
        )
        self.service = build_service(settings, self.directory.current)
        self._server: grpc.aio.Server | None = None

    @property
    def tenancy(self) -> tenancy.TenancyConfig:
        return self.directory.current()

    async def start(self) -> None:
        await asyncio.to_thread(self.directory.start)
        self._server = await grpc_server.start(
            self.settings.grpc_port,
            lambda server: grpc_api.register(
                server, self.service, self.directory.current, self.settings.wfm_shrinkage,
                resolver=auth.live_resolver(
                    self.directory.current,
                    delegation=identity.Delegation.from_setting(self.settings.delegation_key),
                ),
            ),
            grpc_api.SERVICE_NAMES,
            credentials=self.settings.grpc_credentials(),
        )

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=2)
        await asyncio.to_thread(self.directory.stop)
