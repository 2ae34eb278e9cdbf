"""The platform Kafka adapter against the real Tansu broker: topic creation, replay to the true
end (despite Tansu's under-reported high-water mark), dead-lettering with a reason, and the
publisher's check that the broker kept what it acknowledged (Tansu on s3 storage, SIGKILLed)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka import KafkaError, TopicPartition
from google.protobuf.message import DecodeError
from support.polling import eventually

from hotline.interaction.v1.events_pb2 import InteractionEvent
from hotline_cli import embedded
from hotline_platform import bus, topics
from hotline_platform.envelope import new_envelope

pytestmark = __import__("pytest").mark.integration


def _arrived(tenant: str, n: int) -> InteractionEvent:
    event = InteractionEvent(
        envelope=new_envelope(tenant_id=tenant, producer="test", interaction_id=f"i-{n}")
    )
    event.arrived.to_address = "+100"
    return event


def test_replay_reads_every_batched_record_then_signals_the_end(broker: str) -> None:
    bus.ensure_topics(broker)
    bus.ensure_topics(broker)  # idempotent
    # The broker is shared by the session: use a tenant of this test's own and look only at
    # its records (other tests leave events and garbage on the same topic).
    tenant = f"bus-{uuid.uuid4()}"
    publisher = bus.EventPublisher(broker, "test", linger_ms=50)  # several records per batch
    for n in range(25):
        publisher.publish(topics.VOICE_INTERACTIONS, _arrived(tenant, n))
    publisher.publish_raw(
        topics.VOICE_INTERACTIONS, tenant.encode(), b"\x00garbage", topics.partition_for(tenant)
    )
    publisher.flush()

    consumer = bus.new_consumer(broker, f"test-{uuid.uuid4()}")
    bus.assign_from_start(consumer, [topics.VOICE_INTERACTIONS])
    dead = bus.DeadLetters(publisher, "router")
    stop = threading.Event()
    seen = []
    for item in bus.replay_then_follow(consumer, dead, stop=stop):
        if item is None:
            break
        if item.event.envelope.tenant_id == tenant:
            seen.append(item.event.envelope.interaction_id)
    consumer.close()
    assert seen == [f"i-{n}" for n in range(25)]
    assert dead.count >= 1  # ours (checked below by key), and maybe other tests' garbage
    publisher.flush()

    # The dead letter carries the original bytes and the reason.
    reader = bus.new_consumer(broker, f"dlq-{uuid.uuid4()}")
    reader.assign([TopicPartition(dead.topic.name, 0, 0)])
    msg = None
    for _ in range(200):
        msg = reader.poll(0.1)
        if msg is not None and not msg.error() and msg.key() == tenant.encode():
            break
    reader.close()
    assert msg is not None and not msg.error() and msg.key() == tenant.encode()
    headers = dict(msg.headers())
    assert msg.value() == b"\x00garbage"
    assert b"not a hotline.interaction.v1.InteractionEvent" in headers["hotline-reason"]
    assert headers["hotline-source-topic"] == topics.VOICE_INTERACTIONS.name.encode()

    # A replaying service (the router after a restart) meets the garbage again: not re-sent.
    again = bus.DeadLetters(publisher, "router")
    assert again.remember_sent(broker) >= 1
    consumer = bus.new_consumer(broker, f"test-{uuid.uuid4()}")
    bus.assign_from_start(consumer, [topics.VOICE_INTERACTIONS])
    for item in bus.replay_then_follow(consumer, again, stop=stop):
        if item is None:
            break
    consumer.close()
    assert again.count == 0


def test_ensure_topics_uses_declared_partitions(broker: str) -> None:
    from confluent_kafka.admin import AdminClient

    bus.ensure_topics(broker)
    metadata = AdminClient({"bootstrap.servers": broker}).list_topics(timeout=10).topics
    for topic in topics.ALL_TOPICS:
        assert len(metadata[topic.name].partitions) == topic.partitions, topic.name


def _read_all(bootstrap: str, topic: topics.Topic, tenant: str | None = None) -> list[str]:
    """Interaction ids of the topic's records (of ``tenant`` only, if given), in log order per
    partition; read up to the end each fetch response reports."""
    consumer = bus.new_consumer(bootstrap, f"read-{uuid.uuid4()}")
    bus.assign_from_start(consumer, [topic])
    pending = set(range(topic.partitions))
    ids: list[str] = []
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        error = msg.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                pending.discard(msg.partition())
            continue
        try:
            event = InteractionEvent.FromString(msg.value())
        except DecodeError:  # another test's garbage
            continue
        if tenant is None or event.envelope.tenant_id == tenant:
            ids.append(event.envelope.interaction_id)
    consumer.close()
    assert not pending, f"{topic.name}: partitions {pending} not read to their end"
    return ids


def test_find_missing_reads_records_back_by_offset(broker: str) -> None:
    bus.ensure_topics(broker)
    topic = topics.VOICE_INTERACTIONS
    tenant = f"ack-{uuid.uuid4()}"
    partition = topics.partition_for(tenant, topic.partitions)
    publisher = bus.EventPublisher(broker, "test-acks")
    for n in range(3):
        publisher.publish(topic, _arrived(tenant, n))
    publisher.flush()
    assert publisher.acks is not None
    acked = [r for r in publisher.acks.take() if r.key == tenant.encode()]
    first, second, third = sorted(acked, key=lambda r: r.offset or 0)
    assert partition == first.partition
    assert first.offset is not None and third.offset is not None

    def claim(n: int, offset: int | None) -> bus.Acked:
        value = _arrived(tenant, n).SerializeToString()
        return bus.Acked(topic.name, partition, offset, tenant.encode(), value, None, 0.0)

    overwritten = claim(100, first.offset)  # its offset holds another record
    beyond = claim(101, third.offset + 5000)  # past the end (and read as a run of its own)
    offsetless = claim(102, None)  # acknowledged without an offset, and not in the log
    moved = bus.Acked(topic.name, partition, first.offset, second.key, second.value, None, 0.0)
    missing = bus.find_missing(
        broker, "test-acks", [*acked, overwritten, beyond, offsetless, moved], timeout=15
    )
    found = {id(record): why.split(" (")[0] for record, why in missing}
    assert found == {
        id(overwritten): "another record",
        id(beyond): "beyond the end",
        id(offsetless): "not found",
    }  # the three records stored, and one stored at another offset than claimed, are kept


def test_a_record_the_broker_no_longer_has_is_published_again(broker: str) -> None:
    bus.ensure_topics(broker)
    topic = topics.VOICE_INTERACTIONS
    tenant = f"ack-{uuid.uuid4()}"
    publisher = bus.EventPublisher(
        broker, "test-republish", ack_check=bus.AckCheckSettings(settle_s=0.1)
    )
    publisher.publish(topic, _arrived(tenant, 0))
    publisher.flush()
    acks = publisher.acks
    assert acks is not None and len(acks) >= 1
    # What Tansu does after a SIGKILL: it acknowledges a record at an offset that already holds
    # another one. The offset going back is what makes the publisher check.
    lost = _arrived(tenant, 1).SerializeToString()
    partition = topics.partition_for(tenant, topic.partitions)
    reason = acks.add(
        bus.Acked(topic.name, partition, 0, tenant.encode(), lost, None, time.monotonic())
    )
    assert "acknowledged offset 0" in reason
    publisher.check_acknowledged(reason)
    eventually(
        lambda: publisher.republished == 1 and not publisher.checks_pending,
        "the lost record published again", timeout=20,
    )  # fmt: skip
    publisher.flush()
    assert _read_all(broker, topic, tenant) == ["i-0", "i-1"]
    assert publisher.ack_checks == 1


def test_a_check_that_cannot_read_back_republishes_the_records_with_a_bad_offset(
    broker: str,
) -> None:
    """Tansu, just restarted, may serve no fetch for a while: the records acknowledged at an
    offset that went backwards are not kept waiting for it."""
    bus.ensure_topics(broker)
    topic = topics.VOICE_INTERACTIONS
    tenant = f"ack-{uuid.uuid4()}"
    partition = topics.partition_for(tenant, topic.partitions)
    publisher = bus.EventPublisher(
        broker, "test-unread", ack_check=bus.AckCheckSettings(settle_s=0.1, read_timeout_s=0)
    )
    publisher.publish(topic, _arrived(tenant, 0))
    publisher.flush()
    assert publisher.acks is not None
    value = _arrived(tenant, 1).SerializeToString()
    publisher.acks.add(
        bus.Acked(topic.name, partition, 0, tenant.encode(), value, None, time.monotonic())
    )
    publisher.check_acknowledged("test")
    # i-1 (bad offset) is published again at once; i-0 (fine) is not, the check goes on.
    eventually(lambda: publisher.republished == 1, "the bad-offset record published", timeout=20)
    publisher.flush()
    assert _read_all(broker, topic, tenant) == ["i-0", "i-1"]
    assert publisher.checks_pending
    publisher.close()


def test_nothing_acknowledged_is_lost_when_the_s3_broker_is_sigkilled(
    object_store: embedded.ObjectStore, tmp_path: Path
) -> None:
    """Tansu 0.6 on s3 storage, SIGKILLed and restarted while a publisher keeps publishing:
    without the check it loses acknowledged records on most restarts (bench/broker_crash.py)."""
    bucket = f"crash-{uuid.uuid4().hex[:8]}"
    embedded.wait_object_store_ready(object_store, (bucket,))
    port = embedded.find_free_port()

    def start() -> subprocess.Popen[bytes]:
        proc = embedded.start_broker(port, tmp_path / "broker.log", object_store, bucket)
        embedded.wait_broker_ready(port, proc=proc, log_path=tmp_path / "broker.log")
        return proc

    broker = start()
    bootstrap = f"127.0.0.1:{port}"
    topic = topics.Topic("test.broker-crash.v1", InteractionEvent, "test", partitions=4)
    bus.ensure_topics(bootstrap, [topic])
    failures: list[str] = []
    publisher = bus.EventPublisher(
        bootstrap, "test-crash", on_failure=failures.append,
        extra={"message.timeout.ms": 60_000, "log_level": 0},
    )  # fmt: skip
    recorded: list[str] = []
    count = 0

    def publish_for(seconds: float, rate: int = 2000) -> None:
        nonlocal count
        due = time.monotonic()
        end = due + seconds
        while due < end:
            time.sleep(max(0.0, due - time.monotonic()))
            iid = f"i-{count}"
            event = InteractionEvent(envelope=new_envelope(
                tenant_id=f"t{count % 7}", producer="test", interaction_id=iid,
            ))  # fmt: skip
            event.arrived.entry_point_id = "test"
            publisher.publish(topic, event, on_recorded=lambda iid=iid: recorded.append(iid))
            count += 1
            due += 1 / rate

    try:
        for _ in range(3):
            publish_for(2)
            broker.send_signal(signal.SIGKILL)
            broker.wait()
            broker = start()
            publish_for(2)
        publisher.flush(90)
        eventually(lambda: not publisher.checks_pending, "the checks done", timeout=60)
        publisher.flush(30)
        stored = set(_read_all(bootstrap, topic))
    finally:
        embedded.stop_process(broker.pid, timeout=5)
    assert failures == []
    assert len(recorded) == count
    assert sorted(set(recorded) - stored) == []
