"""Browser sessions on the compacted topic hotline.gateway.sessions.v1 (the decided store,
docs/identity.md "Where the gateway keeps sessions"): a hotline_platform.sessions.SessionStore.

Each gateway process keeps every live session in memory (an InProcessSessionStore) and:
- writes each change to the topic: a `SessionRecorded` keyed by the session's id hash (start,
  activity written back at most every 5 minutes), a tombstone at log-out or expiry;
- at start replays the topic to its end (end-of-partition reports, never the high-water mark,
  which Tansu under-reports: bus.replay_then_follow's rule), then follows it on a daemon thread,
  so a session made on one replica works on every other and survives a restart or a deploy.

Its own records come back from the topic too; they carry a header naming this process
incarnation (a random id) and are skipped while following, so a log-out is never undone by the
echo of the log-in record still in flight. At replay (a new incarnation) every record is
applied. Records that cannot be decoded go to the gateway's dead-letter topic.

Writes are published without waiting, except where the caller asks for durability (`sync`,
after a log-in and a log-out, on a worker thread): a delivery that fails stops the process
(the platform publisher's crash-only rule), and the restarted gateway replays the topic.
"""

from __future__ import annotations

import logging
import threading
import uuid

from confluent_kafka import KafkaError, Message, TopicPartition

from hotline.gateway.v1.sessions_pb2 import SessionEvent, SessionRecorded
from hotline_gateway.adapters.inprocess_sessions import InProcessSessionStore
from hotline_platform import codec
from hotline_platform.bus import DeadLetters, EventPublisher, ensure_topics, new_consumer
from hotline_platform.envelope import ContractViolation, new_envelope
from hotline_platform.sessions import Session
from hotline_platform.topics import GATEWAY_SESSIONS

log = logging.getLogger(__name__)

SERVICE = "gateway"
INCARNATION_HEADER = "hotline-incarnation"
OPERATOR_TENANT = "_operator"  # envelope tenant of operator staff's sessions


class KafkaSessionStore:
    def __init__(self, bootstrap: str, instance_id: str, max_sessions: int = 100_000) -> None:
        self._bootstrap = bootstrap
        self._producer_name = f"{SERVICE}/{instance_id}"
        self._incarnation = uuid.uuid4().hex.encode()
        self._memory = InProcessSessionStore(max_sessions)
        self._publisher = EventPublisher(bootstrap, client_id=f"{SERVICE}-sessions-{instance_id}")
        self._dead_letters = DeadLetters(self._publisher, SERVICE)
        self._stop = threading.Event()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.replayed = 0
        self._thread = threading.Thread(target=self._run, name="gateway-sessions", daemon=True)

    # -- SessionStore --------------------------------------------------------------------

    def put(self, session: Session) -> None:
        self._memory.put(session)
        tenant = session.tenant_id or OPERATOR_TENANT
        event = SessionEvent(
            envelope=new_envelope(tenant_id=tenant, producer=self._producer_name),
            recorded=SessionRecorded(
                id_hash=session.id_hash, tenant_id=session.tenant_id, user_id=session.user_id,
                created_ms=session.created_ms, last_seen_ms=session.last_seen_ms,
            ),
        )
        self._publish(session.id_hash, codec.encode(event))

    def get(self, id_hash: str) -> Session | None:
        return self._memory.get(id_hash)

    def delete(self, id_hash: str) -> None:
        if self._memory.get(id_hash) is None:
            return
        self._memory.delete(id_hash)
        self._publish(id_hash, None)

    def delete_user(self, tenant_id: str, user_id: str) -> int:
        doomed = self._memory.hashes_of(tenant_id, user_id)
        for id_hash in doomed:
            self.delete(id_hash)
        return len(doomed)

    def sync(self, timeout: float = 10) -> None:
        """Wait until every change so far is on the broker (blocking: call off the loop)."""
        self._publisher.flush(timeout)

    def __len__(self) -> int:
        return len(self._memory)

    # -- life cycle ----------------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        """Replay the topic to its end, then follow it (returns after the replay)."""
        ensure_topics(self._bootstrap, [GATEWAY_SESSIONS, self._dead_letters.topic])
        self._dead_letters.remember_sent(self._bootstrap)
        self._thread.start()
        if not self.ready.wait(timeout):
            raise RuntimeError(f"sessions not replayed within {timeout}s: {self.failed!r}")
        if self.failed is not None:
            raise RuntimeError(f"sessions replay failed: {self.failed!r}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        try:
            self._publisher.flush(5)
        except RuntimeError:
            log.exception("session records not delivered at shutdown")
        self._publisher.close()

    # -- internals -----------------------------------------------------------------------

    def _publish(self, id_hash: str, value: bytes | None) -> None:
        self._publisher.publish_raw(
            GATEWAY_SESSIONS, id_hash.encode(), value, 0,
            headers=[(INCARNATION_HEADER, self._incarnation)],
        )

    def _run(self) -> None:
        consumer = new_consumer(
            self._bootstrap, f"gateway-sessions-{self._incarnation.decode()}",
            **{"fetch.error.backoff.ms": 10},
        )
        try:
            consumer.assign([TopicPartition(GATEWAY_SESSIONS.name, 0, 0)])
            while not self._stop.is_set():
                msg = consumer.poll(0.05)
                if msg is None:
                    continue
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        if not self.ready.is_set():
                            log.info("sessions replayed: %d live", len(self._memory))
                        self.ready.set()
                        continue
                    raise RuntimeError(f"sessions topic: {error}")
                self._apply(msg)
        except BaseException as exc:  # noqa: BLE001
            log.exception("session follower failed")
            self.failed = exc
            self.ready.set()
        finally:
            consumer.close()

    def _apply(self, msg: Message) -> None:
        headers = dict(msg.headers() or [])  # type: ignore[arg-type]
        if self.ready.is_set() and headers.get(INCARNATION_HEADER) == self._incarnation:
            return  # our own change, already applied locally
        key = (msg.key() or b"").decode(errors="replace")
        value = msg.value()
        if not value:
            self._memory.delete(key)
            return
        try:
            event = codec.decode(GATEWAY_SESSIONS, value, msg.key())
        except ContractViolation as exc:
            self._dead_letters.send(msg, str(exc))
            return
        assert isinstance(event, SessionEvent)
        r = event.recorded
        if r.id_hash != key:
            self._dead_letters.send(msg, f"record key {key!r} is not the session's id_hash")
            return
        self.replayed += 1
        self._memory.put(Session(r.id_hash, r.tenant_id, r.user_id, r.created_ms, r.last_seen_ms))
