"""Directory settings (environment variables HOTLINE_*)."""

from __future__ import annotations

from hotline_platform.settings import ServiceSettings


class DirectorySettings(ServiceSettings):
    grpc_port: int = 50056
    # The operator credential (HOTLINE_DIRECTORY_ADMIN_TOKEN): a hash made with
    # `hotline credentials hash --tenant operator` (accepts tokens "operator.<secret>"), or a
    # plaintext token (development; hashed at start, not kept). Empty: no operator, so no
    # tenant can be created (only tenants' own changes).
    directory_admin_token: str = ""
    # How long a request may wait for its facts to be recorded.
    flush_timeout_s: float = 10.0
