"""The current request's id, for logs and backends (a context variable: one per request
task)."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

REQUEST_ID_HEADER = "X-Request-Id"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# A client's id is kept when it is short and plain; anything else gets a fresh one.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    return _request_id.get()


def begin_request(client_value: str | None) -> tuple[str, contextvars.Token[str]]:
    request_id = client_value if client_value and _CLIENT_ID.match(client_value) else ""
    request_id = request_id or uuid.uuid4().hex
    return request_id, _request_id.set(request_id)


def end_request(token: contextvars.Token[str]) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
