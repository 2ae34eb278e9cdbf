"""The platform's encrypted content store (hotline_platform.content) as the gateway's
PromptContent port. The store is blocking (boto3, the audit flush): each call runs on a worker
thread so the event loop keeps serving. Its audit events go to the gateway's own topic
hotline.audit.gateway.v1.

Errors: a key, audit or object store that cannot answer -> 503 (retry); an object missing or
failing integrity behind a reference the directory holds -> 502 (the gateway cannot use what
the store answered)."""

from __future__ import annotations

import asyncio
import logging

from hotline_gateway.domain.errors import BadGateway, Unavailable
from hotline_platform.content import (
    AuditUnavailable,
    ContentError,
    ContentKeyUnavailable,
    ContentStore,
)

log = logging.getLogger(__name__)
WRITER = "gateway"


class ContentStoreClient:
    def __init__(self, store: ContentStore, retry_after_s: float = 1.0) -> None:
        self._store = store
        self._retry_after = retry_after_s

    async def put(self, tenant_id: str, data: bytes, content_type: str, *, purpose: str) -> str:
        try:
            ref = await asyncio.to_thread(
                self._store.put, tenant_id, data, content_type, writer=WRITER, purpose=purpose,
                expected_size=len(data),
            )
        except ContentKeyUnavailable as exc:
            raise Unavailable(f"the tenant's content key is unavailable: {exc}",
                              self._retry_after) from exc
        except Exception as exc:  # boto3 / botocore errors have no common base worth naming
            log.exception("storing content of %s failed", tenant_id)
            raise Unavailable(f"the content store cannot store now: {exc}",
                              self._retry_after) from exc
        return str(ref)

    async def get(self, ref: str, *, caller_tenant: str, reader: str, purpose: str) -> bytes:
        try:
            return await asyncio.to_thread(
                self._store.get, ref, caller_tenant=caller_tenant, reader=reader, purpose=purpose
            )
        except (ContentKeyUnavailable, AuditUnavailable) as exc:
            raise Unavailable(str(exc), self._retry_after) from exc
        except ContentError as exc:
            raise BadGateway(f"the content store's answer is unusable: {exc}") from exc
        except Exception as exc:
            log.exception("reading %s failed", ref)
            raise Unavailable(f"the content store cannot answer now: {exc}",
                              self._retry_after) from exc
