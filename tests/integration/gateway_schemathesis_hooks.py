"""Schemathesis hooks for test_gateway_schemathesis.py (loaded through SCHEMATHESIS_HOOKS):
half of the generated path parameters are replaced by the test tenant and one of its agents,
so generated requests get past admission and reach the router, not only 403/404."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

TENANT = os.environ.get("HOTLINE_TEST_TENANT", "")
AGENTS = [a for a in os.environ.get("HOTLINE_TEST_AGENTS", "").split(",") if a]


@schemathesis.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    if not path_parameters or not TENANT:
        return st.just(path_parameters)
    real: dict[str, Any] = {**path_parameters}
    if "tenant_id" in real:
        real["tenant_id"] = TENANT
    if "agent_id" in real and AGENTS:
        return st.sampled_from(
            [path_parameters, *({**real, "agent_id": a} for a in AGENTS)]
        )
    return st.sampled_from([path_parameters, real])


# A prompt upload's body is a WAV file: sent as the bytes generated (binary), never a usable
# prompt (the gateway answers 422 with its reasons, before the content store).
schemathesis.serializer.alias("audio/wav", "application/octet-stream")
