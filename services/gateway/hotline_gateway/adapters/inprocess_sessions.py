"""In-process browser-session store (hotline_platform.sessions.SessionStore): sessions by the
SHA-256 of their token, in this process's memory. The topic store (kafka_sessions.py) keeps
one as its view; alone (HOTLINE_SESSION_STORE=memory) a gateway restart logs every browser
out, and with several replicas a session works only on the replica that made it. Bounded: at
most `max_sessions` (the oldest by last activity are dropped first); an expired session is
dropped when it is next presented. Thread-safe (a lock; lookups may come from worker threads).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from hotline_platform.sessions import Session


class InProcessSessionStore:
    def __init__(self, max_sessions: int = 100_000) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._max = max_sessions
        self._lock = threading.Lock()

    def put(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.id_hash] = session
            self._sessions.move_to_end(session.id_hash)
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)

    def get(self, id_hash: str) -> Session | None:
        with self._lock:
            return self._sessions.get(id_hash)

    def delete(self, id_hash: str) -> None:
        with self._lock:
            self._sessions.pop(id_hash, None)

    def hashes_of(self, tenant_id: str, user_id: str) -> list[str]:
        with self._lock:
            return [
                h for h, s in self._sessions.items()
                if s.tenant_id == tenant_id and s.user_id == user_id
            ]

    def delete_user(self, tenant_id: str, user_id: str) -> int:
        doomed = self.hashes_of(tenant_id, user_id)
        with self._lock:
            for h in doomed:
                self._sessions.pop(h, None)
        return len(doomed)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
