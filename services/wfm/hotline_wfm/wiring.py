"""Hand wiring: settings + tenancy config -> a running WFM service (start/stop)."""

from __future__ import annotations

import grpc

from hotline_platform import auth, grpc_server, identity, tenancy
from hotline_wfm.adapters import grpc_api
from hotline_wfm.adapters.clickhouse import ClickHouseHistory
from hotline_wfm.application.service import ForecastOptions, WfmService
from hotline_wfm.settings import WfmSettings


def build_service(
    settings: WfmSettings, tenancy_config: tenancy.TenancyConfig
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
    """`await start()` serves gRPC (health SERVING at once: no state to rebuild);
    `await stop()` stops. Stateless: any number of instances can run."""

    def __init__(
        self, settings: WfmSettings, tenancy_config: tenancy.TenancyConfig | None = None
    ) -> None:
        self.settings = settings
        self.tenancy = tenancy_config or tenancy.load(settings.config_path)
        self.service = build_service(settings, self.tenancy)
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        self._server = await grpc_server.start(
            self.settings.grpc_port,
            lambda server: grpc_api.register(
                server, self.service, self.tenancy, self.settings.wfm_shrinkage,
                resolver=auth.live_resolver(
                    lambda: self.tenancy,
                    delegation=identity.Delegation.from_setting(self.settings.delegation_key),
                ),
            ),
            grpc_api.SERVICE_NAMES,
            credentials=self.settings.grpc_credentials(),
        )

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=2)
