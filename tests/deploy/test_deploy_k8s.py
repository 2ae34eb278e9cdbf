"""k8s/: cluster prerequisites (Strimzi Kafka and topics, ClickHouse) and yamllint."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from deploy_support import CHART, K8S, ROOT, render

from hotline_platform.topics import ALL_TOPICS

YAMLLINT_CONFIG = Path(__file__).with_name("yamllint.yaml")


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_k8s_topics", ROOT / "scripts" / "gen_k8s_topics.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def resources(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_topics_file_is_current() -> None:
    gen = generator()
    assert (K8S / "kafka-topics.yaml").read_text() == gen.render(), (
        "k8s/kafka-topics.yaml is stale: run .venv/bin/python scripts/gen_k8s_topics.py"
    )


def test_every_contract_topic_has_a_kafka_topic() -> None:
    topics = {d["spec"]["topicName"]: d for d in resources(K8S / "kafka-topics.yaml")}
    assert set(topics) == {t.name for t in ALL_TOPICS}
    for topic in ALL_TOPICS:
        resource = topics[topic.name]
        assert resource["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert resource["kind"] == "KafkaTopic"
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == "hotline"
        assert resource["spec"]["partitions"] == topic.partitions
        assert resource["spec"]["config"]["retention.ms"] == topic.retention_ms


def test_prerequisites_match_the_chart_defaults() -> None:
    by_kind = {d["kind"]: d for f in K8S.glob("*.yaml") for d in resources(f)}
    kafka = by_kind["Kafka"]
    assert kafka["metadata"]["name"] == "hotline"
    plain = [
        listener["port"] for listener in kafka["spec"]["kafka"]["listeners"] if not listener["tls"]
    ]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    # Strimzi names the bootstrap Service <cluster>-kafka-bootstrap.
    assert values["kafka"]["bootstrapServers"] == f"hotline-kafka-bootstrap:{plain[0]}"
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    pool = by_kind["KafkaNodePool"]
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "hotline"
    assert (
        max(d["spec"]["replicas"] for d in resources(K8S / "kafka-topics.yaml"))
        <= pool["spec"]["replicas"]
    )
    chi = by_kind["ClickHouseInstallation"]
    # The Altinity operator names the Service clickhouse-<installation>.
    assert values["clickhouse"]["host"] == f"clickhouse-{chi['metadata']['name']}"
    users = chi["spec"]["configuration"]["users"]
    assert users[f"{values['clickhouse']['user']}/k8s_secret_password"] == (
        f"hotline-clickhouse/{values['clickhouse']['existingSecretKey']}"
    )
    # ...and the chart's ClickHouse Secret for release "hotline" has that name.
    assert "hotline-clickhouse" in {
        o["metadata"]["name"] for o in render({}) if o["kind"] == "Secret"
    }


def test_yamllint_static_files() -> None:
    files = [
        CHART / "Chart.yaml",
        CHART / "values.yaml",
        CHART / "values-production.yaml",
        ROOT / "skaffold.yaml",
        *sorted(K8S.glob("*.yaml")),
    ]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "--strict",
            "-c",
            str(YAMLLINT_CONFIG),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_values_schema_is_valid_json_schema() -> None:
    import json

    import jsonschema

    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load((CHART / "values.yaml").read_text()))
