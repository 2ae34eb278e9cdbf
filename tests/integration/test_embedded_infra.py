"""The embedded infrastructure is real: a Kafka-protocol broker (Tansu) and ClickHouse 18.16.

Also documents a Tansu trap: ListOffsets "latest" (what ``get_watermark_offsets`` asks for) is
wrong after a produce request carrying a batch of several records -- it answers the batch's base
offset + 1.  The records are all there, and the high-water mark in *fetch* responses is right, so
"read to the end" must be driven by the consumer (partition EOF / fetch high-water mark), never by
a ListOffsets figure taken up front.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from clickhouse_driver import Client
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from hotline_cli.embedded import ClickHouseEndpoint

pytestmark = pytest.mark.integration


def _topic_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    futures[name].result(timeout=15)
    meta = admin.list_topics(topic=name, timeout=10)
    assert len(meta.topics[name].partitions) == partitions


def _produce(producer: Producer, topic: str, values: list[bytes], partition: int) -> list[int]:
    """Produce ``values`` in one go, flush, and return the offsets from the delivery reports."""
    offsets: list[int] = []
    errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        offset = msg.offset()
        if err is not None:
            errors.append(err)
        elif offset is not None:
            offsets.append(offset)

    for value in values:
        producer.produce(topic, value=value, partition=partition, on_delivery=on_delivery)
    assert producer.flush(15) == 0, "messages still queued after flush"
    assert not errors, errors
    return sorted(offsets)


def _consumer(bootstrap: str, **extra: object) -> Consumer:
    conf: dict[str, object] = {
        "bootstrap.servers": bootstrap,
        "group.id": f"itest-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,  # Tansu's JoinGroup waits session_timeout/2
    }
    conf.update(extra)
    return Consumer(conf)


def _read_to_eof(consumer: Consumer, timeout: float = 15) -> Iterator[Message]:
    """Yield records until the partition-EOF event (needs ``enable.partition.eof``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                return
            raise KafkaException(err)
        yield msg
    raise AssertionError(f"no partition EOF within {timeout}s")


# --------------------------------------------------------------------------- broker


def test_broker_topic_produce_consume(broker: str) -> None:
    topic = _topic_name("itest-basic")
    _create_topic(broker, topic, partitions=3)

    producer = Producer({"bootstrap.servers": broker})
    assert _produce(producer, topic, [b"hello hotline"], partition=1) == [0]

    consumer = _consumer(broker)
    try:
        consumer.assign([TopicPartition(topic, 1, 0)])
        deadline = time.monotonic() + 15
        msg: Message | None = None
        while msg is None and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
        assert msg is not None, "nothing consumed within 15s"
        assert msg.error() is None, msg.error()
        assert (msg.topic(), msg.partition(), msg.offset()) == (topic, 1, 0)
        assert msg.value() == b"hello hotline"
    finally:
        consumer.close()


def test_broker_consumer_group_subscribe_and_commit(broker: str) -> None:
    topic = _topic_name("itest-group")
    _create_topic(broker, topic, partitions=3)
    producer = Producer({"bootstrap.servers": broker})
    for partition in range(3):
        _produce(producer, topic, [f"p{partition}".encode()], partition=partition)

    consumer = _consumer(broker)
    try:
        consumer.subscribe([topic])
        seen: dict[int, bytes | None] = {}
        deadline = time.monotonic() + 30
        while len(seen) < 3 and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            part = msg.partition()
            assert part is not None
            seen[part] = msg.value()
        assert seen == {0: b"p0", 1: b"p1", 2: b"p2"}
        consumer.commit(asynchronous=False)
        committed = consumer.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
        assert [tp.offset for tp in committed] == [1, 1, 1]
    finally:
        consumer.close()


def test_tansu_high_watermark_after_a_multi_record_batch(broker: str) -> None:
    """A batch of N records: every record is readable, whatever ListOffsets says."""
    topic = _topic_name("itest-hwm")
    _create_topic(broker, topic, partitions=1)
    n = 10
    # A long linger keeps all N records in one batch (one produce request); flush() sends it.
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 1000})
    offsets = _produce(producer, topic, [f"record-{i}".encode() for i in range(n)], partition=0)
    assert offsets == list(range(n))

    consumer = _consumer(broker, **{"enable.partition.eof": True})
    try:
        tp = TopicPartition(topic, 0)
        low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
        # Observed on Tansu 0.6.0: (0, 1) -- base offset of the last batch + 1, not N.
        # Real Kafka answers (0, N).  Lag or "read until high-water mark" logic built on this
        # figure stops after the first record.  Not asserted exactly: it depends on batching.
        print(f"\n[tansu] ListOffsets after one batch of {n} records: low={low} high={high}")
        assert low == 0
        assert 1 <= high <= n

        consumer.assign([TopicPartition(topic, 0, 0)])
        values = [msg.value() for msg in _read_to_eof(consumer)]
        # What is really there: all N records, in order.
        assert values == [f"record-{i}".encode() for i in range(n)]
        assert consumer.position([tp])[0].offset == n
        # The high-water mark carried by fetch responses is right, so partition EOF (and the
        # cached watermark, which comes from fetches) can be trusted to detect "caught up".
        assert consumer.get_watermark_offsets(tp, cached=True) == (0, n)
    finally:
        consumer.close()


# --------------------------------------------------------------------------- ClickHouse


def test_clickhouse_create_insert_select(clickhouse: ClickHouseEndpoint) -> None:
    client = Client(host=clickhouse.host, port=clickhouse.tcp_port)
    try:
        (version,) = client.execute("SELECT version()")[0]
        print(f"\n[clickhouse] server version {version}")
        client.execute("DROP TABLE IF EXISTS itest_calls")
        client.execute(
            """
            CREATE TABLE itest_calls (
                tenant String,
                call_id UUID,
                started DateTime('UTC'),
                duration_ms UInt32,
                queue Nullable(String)
            ) ENGINE = MergeTree() ORDER BY (tenant, started)
            """
        )
        t0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
        rows = [
            ("acme", uuid.uuid4(), t0 + timedelta(seconds=i), 1000 * (i + 1), queue)
            for i, queue in enumerate(["sales", None, "sales", None, "sales"])
        ] + [("globex", uuid.uuid4(), t0, 42, "support")]
        assert client.execute("INSERT INTO itest_calls VALUES", rows) == len(rows)
        result = client.execute(
            "SELECT tenant, count(), sum(duration_ms), countIf(queue IS NULL) "
            "FROM itest_calls GROUP BY tenant ORDER BY tenant"
        )
        assert result == [("acme", 5, 15000, 2), ("globex", 1, 42, 0)]
    finally:
        client.disconnect()

    # The HTTP interface answers on its own port too.
    query = urllib.parse.urlencode({"query": "SELECT count() FROM itest_calls"})
    with urllib.request.urlopen(f"{clickhouse.http_url}?{query}", timeout=10) as resp:
        assert resp.read().decode().strip() == "6"
