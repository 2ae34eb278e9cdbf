"""The Helm chart: lint, render, validate against Kubernetes 1.30, and agree with the code."""

from __future__ import annotations

import ast
import copy
from typing import Any

import helm_python as helm
import pytest
import yaml
from deploy_support import (
    CHART,
    KUBE_VERSION,
    by_kind,
    object_name,
    render,
    services,
    strip,
    values_file,
)
from kubernetes_validate import utils as kv

from hotline_platform import tenancy

# Custom resources the chart may render (no official schema): checked by hand below.
CUSTOM_KINDS = {"ServiceMonitor", "Certificate"}


def kitchen_sink() -> dict[str, Any]:
    """Every switch flipped away from its default."""
    return {
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": True, "labels": {"a": "b"}}},
        "networkPolicy": {"extraEgress": [{"ports": [{"port": 8443, "protocol": "TCP"}]}]},
        "objectStore": {"endpoint": "https://objects.example.internal", "existingSecret": "s3"},
        "keyring": {"existingSecret": "keys", "existingSecretKey": "ring.json"},
        "tls": {"enabled": True, "existingSecret": "hotline-tls"},
        "image": {"registry": "registry.example.internal/hotline", "pullSecrets": [{"name": "r"}]},
        "tenancy": {"configYaml": (CHART.parents[1] / "config" / "hotline.yaml").read_text()},
        "mediaRelay": {
            "publicAddress": "198.51.100.7",
            "from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
        },
        "services": {
            "ingress-sip": {
                "sip": {"service": {"type": "NodePort", "nodePort": 30060}},
                "settings": {"sip_port": 30060, "sip_advertised_host": "192.0.2.10"},
                "secretSettings": {"sip_t1_ms": {"secretName": "x", "key": "t1"}},
                "autoscaling": {"enabled": True},
            },
            "analytics-sink": {"podDisruptionBudget": {"enabled": False}},
        },
    }


def no_metrics_no_policy() -> dict[str, Any]:
    return {
        "metrics": {"enabled": False},
        "networkPolicy": {"enabled": False},
        "mediaRelay": {"enabled": False},
    }


VARIANTS = {
    "default": lambda: {},
    "production": lambda: values_file("values-production.yaml"),
    "kitchen-sink": kitchen_sink,
    "no-metrics": no_metrics_no_policy,
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    values = VARIANTS[request.param]()
    return request.param, values, render(values)


@pytest.fixture(scope="module")
def default_objects() -> list[dict[str, Any]]:
    return render({})


@pytest.fixture(scope="module")
def production_objects() -> list[dict[str, Any]]:
    return render(values_file("values-production.yaml"))


def merged_values(values: dict[str, Any]) -> dict[str, Any]:
    from deploy_support import chart

    merged: dict[str, Any] = chart().merge_values(values)
    return merged


# --- helm lint and schema ------------------------------------------------------------------


@pytest.mark.parametrize("values_name", [None, "values-production.yaml"])
def test_helm_lint_strict(values_name: str | None) -> None:
    values = values_file(values_name) if values_name else None
    report = helm.lint(str(CHART), values, strict=True, kube_version=f"v{KUBE_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"] and not problems, report


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"services": {"router": {"replicas": 13}}}, "/services/router/replicas"),
        ({"services": {"router": {"autoscaling": {"enabled": True}}}}, "autoscaling/enabled"),
        ({"services": {"ingress-sip": {"sip": {"service": {"type": "ClusterIP"}}}}}, "one of"),
        ({"services": {"router": {"replica": 1}}}, "'replica' not allowed"),
        ({"services": {"router": {"grpcPort": 70000}}}, "/services/router/grpcPort"),
        ({"services": {"router": {"settings": {"Bad-Name": 1}}}}, "Bad-Name"),
        ({"kafka": {"bootstrapServers": "kafka"}}, "/kafka/bootstrapServers"),
        ({"clickhouse": {"port": "9000"}}, "/clickhouse/port"),
        ({"logLevel": "LOUD"}, "/logLevel"),
        ({"objectStore": {"endpoint": "objects:9000"}}, "/objectStore/endpoint"),
        ({"objectStore": {"bucket": "Bad_Bucket"}}, "/objectStore/bucket"),
        ({"objectStorage": {}}, "'objectStorage' not allowed"),
        ({"tls": {"enabled": True}}, "/tls/certManager/issuerRef"),
        ({"tls": {"mutual": True}}, "/tls/enabled"),
        ({"tls": {"enabled": True, "certManager": {"issuerRef": {"kind": "X"}}}}, "issuerRef/kind"),
        ({"keyring": {"existingSecret": "Bad_Name"}}, "/keyring/existingSecret"),
        (
            {"tenancy": {"config": {"tenants": [{"id": "t", "credential_hash": "plain"}]}}},
            "credential_hash",
        ),
        ({"tenancy": {"config": {"tenants": [{"id": "t"}]}}}, "credential"),
        ({"kafkaa": {}}, "'kafkaa' not allowed"),
    ],
)
def test_schema_rejects_wrong_values_clearly(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        render(values)
    assert message in str(caught.value)


# --- every rendered object is valid Kubernetes 1.30 -----------------------------------------


def test_every_object_validates_strictly(variant: tuple[str, dict[str, Any], list[Any]]) -> None:
    name, _values, objects = variant
    assert objects, name
    failures = []
    for obj in objects:
        where = f"{name}: {obj['_template']} {obj['kind']}/{obj['metadata'].get('name')}"
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kv.validate(strip(obj), KUBE_VERSION, strict=True)
        except kv.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            failures.append(f"{where}: {path}: {exc.message}")
        except kv.SchemaNotFoundError as exc:
            failures.append(f"{where}: {exc.message}")
    assert not failures, "\n".join(failures)


def test_service_monitors_select_the_metrics_port() -> None:
    objects = render(kitchen_sink())
    monitors = by_kind(objects, "ServiceMonitor")
    services_ = by_kind(objects, "Service")
    assert set(monitors) == {object_name(s.name) for s in services()}
    for name, monitor in monitors.items():
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["spec"]["selector"]["matchLabels"] == services_[name]["spec"]["selector"]
        assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
        assert "metrics" in {p["name"] for p in services_[name]["spec"]["ports"]}


def test_names_and_labels_are_unique(variant: tuple[str, dict[str, Any], list[Any]]) -> None:
    _name, _values, objects = variant
    keys = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys))
    for obj in objects:
        assert len(obj["metadata"]["name"]) <= 63


# --- the chart and the code agree ------------------------------------------------------------


def test_services_are_discovered() -> None:
    names = {s.name for s in services()}
    assert {"ingress-sip", "router", "analytics-sink"} <= names


def test_every_service_has_a_values_block() -> None:
    blocks = values_file("values.yaml")["services"]
    missing = [s.name for s in services() if s.name not in blocks]
    assert not missing, f"add a block under services: in helm/hotline/values.yaml for {missing}"
    unknown = set(blocks) - {s.name for s in services()}
    assert not unknown, f"values blocks without a service folder: {unknown}"


@pytest.mark.parametrize("which", ["default", "production"])
def test_every_service_has_its_objects(
    which: str, default_objects: list[Any], production_objects: list[Any]
) -> None:
    objects = default_objects if which == "default" else production_objects
    for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
        present = by_kind(objects, kind)
        for service in services():
            assert object_name(service.name) in present, f"{kind} of {service.name} ({which})"
    for service in services():
        deployment = by_kind(objects, "Deployment")[object_name(service.name)]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == object_name(service.name)
        container = pod["containers"][0]
        assert container["image"].split("/")[-1].startswith(f"hotline-{service.name}:")


def test_production_scales_and_uses_external_dependencies(production_objects: list[Any]) -> None:
    hpas = by_kind(production_objects, "HorizontalPodAutoscaler")
    assert set(hpas) == {object_name("ingress-sip"), object_name("analytics-sink")}
    deployments = by_kind(production_objects, "Deployment")
    router = deployments[object_name("router")]
    # A router in a consumer group: rolled (the new pod takes the partitions over).
    assert router["spec"]["replicas"] == 3 and router["spec"]["strategy"]["type"] == "RollingUpdate"
    assert environment(production_objects, "router")["HOTLINE_PARTITIONS"] == "group"
    # The gateway reaches every router pod (headless Service) to find a tenant's owner.
    pods = by_kind(production_objects, "Service")[object_name("router") + "-pods"]
    assert pods["spec"]["clusterIP"] == "None"
    assert pods["spec"]["selector"] == router["spec"]["selector"]["matchLabels"]
    gateway_env = environment(production_objects, "gateway")
    assert gateway_env["HOTLINE_ROUTER_ADDRESS"] == f"{object_name('router')}-pods:50052"
    for name in hpas:  # the HPA owns the replica count
        assert "replicas" not in deployments[name]["spec"]
    assert not by_kind(production_objects, "Secret"), "production references existing Secrets"
    env = environment(production_objects, "analytics-sink")
    assert env["HOTLINE_KAFKA_BOOTSTRAP"].startswith("kafka-0.example.internal:")
    assert env["HOTLINE_CLICKHOUSE_HOST"] == "clickhouse.analytics.example.internal"
    assert "HOTLINE_CLICKHOUSE_PASSWORD" in env


def environment(objects: list[dict[str, Any]], service: str) -> dict[str, str]:
    """The environment of a service's container: envFrom ConfigMaps, then env (values or refs)."""
    deployment = by_kind(objects, "Deployment")[object_name(service)]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    config_maps = by_kind(objects, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", f"<from {sorted(var.get('valueFrom', {}))}>")
    return env


@pytest.mark.parametrize("which", ["default", "production"])
def test_every_setting_is_set_by_the_chart_or_has_a_default(
    which: str, default_objects: list[Any], production_objects: list[Any]
) -> None:
    objects = default_objects if which == "default" else production_objects
    for service in services():
        fields = service.settings_class().model_fields
        env = environment(objects, service.name)
        for field_name, field in fields.items():
            variable = f"HOTLINE_{field_name.upper()}"
            assert variable in env or not field.is_required(), (
                f"{service.name}: {variable} is required but the chart does not set it"
            )
        # The chart sets nothing the service would not read (catches typos in values).
        known = {f"HOTLINE_{f.upper()}" for f in fields} | SHARED_OPTIONAL
        unknown = {v for v in env if v.startswith("HOTLINE_")} - known
        assert not unknown, f"{service.name}: the chart sets {unknown}, no setting reads them"


# Passed to every service for features that read them (the content store and its keyring),
# whether or not a service's settings have the field yet.
SHARED_OPTIONAL = {
    "HOTLINE_OBJECT_STORE_ENDPOINT",
    "HOTLINE_OBJECT_STORE_BUCKET",
    "HOTLINE_OBJECT_STORE_REGION",
    "HOTLINE_OBJECT_STORE_ACCESS_KEY",
    "HOTLINE_OBJECT_STORE_SECRET_KEY",
    "HOTLINE_KEYRING_PATH",
}


def test_values_settings_name_real_fields() -> None:
    for which in ("values.yaml", "values-production.yaml"):
        blocks = values_file(which).get("services", {})
        for service in services():
            block = blocks.get(service.name, {})
            fields = service.settings_class().model_fields
            for key in [*block.get("settings", {}), *block.get("secretSettings", {})]:
                assert key in fields, f"{which}: {service.name} has no setting {key!r}"


def test_rendered_environment_parses_into_the_settings(
    default_objects: list[Any], production_objects: list[Any]
) -> None:
    for objects in (default_objects, production_objects):
        for service in services():
            env = {k: v for k, v in environment(objects, service.name).items() if "<" not in v}
            cls = service.settings_class()
            prefix = "HOTLINE_"
            kwargs = {
                k[len(prefix) :].lower(): v
                for k, v in env.items()
                if k.startswith(prefix) and k[len(prefix) :].lower() in cls.model_fields
            }
            cls(**kwargs)  # raises on a value the service would reject


def calls(service_sources: list[tuple[Any, ast.Module]], func: str) -> list[ast.Call]:
    """Calls like `x.func(...)` / `func(...)` anywhere in the service's package."""
    found = []
    for _path, tree in service_sources:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                target = node.func
                name = (
                    target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                )
                if name == func:
                    found.append(node)
    return found


def uses_setting(call: ast.Call, setting: str) -> bool:
    return any(
        isinstance(n, ast.Attribute) and n.attr == setting
        for arg in call.args
        for n in ast.walk(arg)
    )


@pytest.mark.parametrize("which", ["default", "production", "kitchen-sink"])
def test_probes_and_ports_are_the_ports_the_service_opens(which: str) -> None:
    objects = render(VARIANTS[which]())
    for service in services():
        sources = service.sources()
        # The health service is served on settings.grpc_port (hotline_platform.grpc_server).
        grpc_calls = [c for c in calls(sources, "start") if uses_setting(c, "grpc_port")]
        assert grpc_calls, f"{service.name}: no grpc_server.start(settings.grpc_port)"
        deployment = by_kind(objects, "Deployment")[object_name(service.name)]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = environment(objects, service.name)
        settings = service.settings_class()(
            **{
                k[len("HOTLINE_") :].lower(): v
                for k, v in env.items()
                if "<" not in v and k[len("HOTLINE_") :].lower() in service_fields(service)
            }
        )
        ports = {p["name"]: p for p in container["ports"]}
        assert ports["grpc"]["containerPort"] == settings.grpc_port  # type: ignore[attr-defined]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            port = settings.grpc_port  # type: ignore[attr-defined]
            if "exec" in container[probe]:  # TLS: the probe runs in the container
                command = container[probe]["exec"]["command"]
                assert command[command.index("--port") + 1] == str(port)
            else:
                assert container[probe]["grpc"]["port"] == port
        if "metrics" in ports:
            assert calls(sources, "serve") and any(
                uses_setting(c, "metrics_port") for c in calls(sources, "serve")
            ), f"{service.name} never serves metrics"
            assert ports["metrics"]["containerPort"] == settings.metrics_port  # type: ignore[attr-defined]
        else:
            assert settings.metrics_port == 0  # type: ignore[attr-defined]
        if "http" in ports:  # the REST gateway: uvicorn on settings.http_port
            assert any(
                isinstance(n, ast.Attribute) and n.attr == "http_port"
                for c in calls(sources, "Config") for kw in c.keywords for n in ast.walk(kw.value)
            ), f"{service.name} never serves HTTP on settings.http_port"
            assert ports["http"]["containerPort"] == settings.http_port  # type: ignore[attr-defined]
        if "sip" in ports:
            assert any(uses_setting(c, "sip_port") for c in calls(sources, "open"))
            assert ports["sip"]["containerPort"] == settings.sip_port  # type: ignore[attr-defined]
            assert ports["sip"]["protocol"] == "UDP"
            assert settings.sip_host == "0.0.0.0"  # type: ignore[attr-defined]
        # Every port a Service targets is a named port of the container.
        for svc in by_kind(objects, "Service").values():
            if svc["spec"]["selector"].get("app.kubernetes.io/name") == service.name:
                for port in svc["spec"]["ports"]:
                    assert port["targetPort"] in ports


def service_fields(service: Any) -> set[str]:
    return set(service.settings_class().model_fields)


def test_sip_service_keeps_client_addresses(default_objects: list[Any]) -> None:
    sip = by_kind(default_objects, "Service")[object_name("ingress-sip") + "-sip"]
    assert sip["spec"]["type"] == "LoadBalancer"
    assert sip["spec"]["externalTrafficPolicy"] == "Local"
    assert [p["protocol"] for p in sip["spec"]["ports"]] == ["UDP"]
    node_port = by_kind(render(kitchen_sink()), "Service")[object_name("ingress-sip") + "-sip"]
    assert node_port["spec"]["type"] == "NodePort"
    assert node_port["spec"]["ports"][0]["nodePort"] == 30060


def test_pods_are_locked_down(default_objects: list[Any]) -> None:
    for deployment in by_kind(default_objects, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert "limits" in container["resources"] and "requests" in container["resources"]


def test_network_policies_admit_only_what_is_needed(default_objects: list[Any]) -> None:
    policies = by_kind(default_objects, "NetworkPolicy")
    values = merged_values({})
    for service in services():
        policy = policies[object_name(service.name)]
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        admitted = {
            (p["protocol"], p["port"], p.get("endPort"))
            for rule in policy["spec"]["ingress"]
            for p in rule["ports"]
        }
        expected = {("TCP", values["metrics"]["port"], None)}
        block = values["services"][service.name]
        if block.get("grpcFrom"):
            expected.add(("TCP", block["grpcPort"], None))
        if block.get("httpFrom"):
            expected.add(("TCP", block["httpPort"], None))
        if block.get("sip"):
            expected.add(("UDP", block["settings"]["sip_port"], None))
            relay = values["mediaRelay"]  # RTP to the media relay beside ingress-sip
            expected.add(("UDP", relay["portMin"], relay["portMax"]))
        assert admitted == expected, service.name
    # Only the router serves an API; only ingress-sip takes traffic from outside.
    assert any(r.get("from") for r in policies[object_name("router")]["spec"]["ingress"])


@pytest.mark.parametrize("which", ["values.yaml", "values-production.yaml"])
def test_tenancy_config_of_the_values_loads(which: str) -> None:
    values = merged_values(values_file(which) if which != "values.yaml" else {})
    if values["tenancy"]["existingSecret"]:
        return
    tenancy.parse(copy.deepcopy(values["tenancy"]["config"]))


def test_tenancy_secret_holds_the_config() -> None:
    import base64

    objects = render(kitchen_sink())
    secret = by_kind(objects, "Secret")[f"{object_name('tenancy')}"]
    text = base64.b64decode(secret["data"]["hotline.yaml"]).decode()
    parsed = tenancy.parse(yaml.safe_load(text))
    assert "acme" in parsed.tenants


def test_kubernetes_validate_command_accepts_the_production_render(
    production_objects: list[Any], tmp_path: Any
) -> None:
    """The same check through the CLI a user would run on `helm template` output."""
    import subprocess
    import sys

    path = tmp_path / "hotline.yaml"
    objects = [strip(o) for o in production_objects if o["kind"] not in CUSTOM_KINDS]
    path.write_text(yaml.safe_dump_all(objects))
    result = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "-k", KUBE_VERSION, "--strict", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "ERROR" not in result.stdout, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(objects)


# --- object store, keyring, TLS ---------------------------------------------------------------

TLS_MOUNT = "/etc/hotline/tls"


def content_and_mtls() -> dict[str, Any]:
    return {
        "objectStore": {
            "endpoint": "https://s3.example.internal",
            "bucket": "hotline-content",
            "region": "eu-west-1",
            "existingSecret": "hotline-object-store",
        },
        "keyring": {"existingSecret": "hotline-keyring"},
        "tls": {
            "enabled": True,
            "certManager": {"issuerRef": {"name": "hotline-ca", "kind": "Issuer"}},
            "mutual": True,
        },
    }


def pod_of(objects: list[dict[str, Any]], service: str) -> dict[str, Any]:
    pod: dict[str, Any] = by_kind(objects, "Deployment")[object_name(service)]["spec"]["template"][
        "spec"
    ]
    return pod


def test_object_store_keyring_and_mutual_tls_reach_every_service() -> None:
    objects = render(content_and_mtls())
    certificates = by_kind(objects, "Certificate")
    assert list(certificates) == [object_name("tls")]
    certificate = certificates[object_name("tls")]
    assert certificate["apiVersion"] == "cert-manager.io/v1"
    assert certificate["spec"]["secretName"] == object_name("tls")
    assert certificate["spec"]["issuerRef"] == {"name": "hotline-ca", "kind": "Issuer"}
    assert {"server auth", "client auth"} <= set(certificate["spec"]["usages"])
    for service in services():
        env = environment(objects, service.name)
        assert env["HOTLINE_OBJECT_STORE_ENDPOINT"] == "https://s3.example.internal"
        assert env["HOTLINE_OBJECT_STORE_BUCKET"] == "hotline-content"
        assert env["HOTLINE_OBJECT_STORE_REGION"] == "eu-west-1"
        assert env["HOTLINE_KEYRING_PATH"] == "/etc/hotline/keyring/keyring.json"
        assert env["HOTLINE_TLS_CERT_FILE"] == f"{TLS_MOUNT}/tls.crt"
        assert env["HOTLINE_TLS_KEY_FILE"] == f"{TLS_MOUNT}/tls.key"
        assert env["HOTLINE_TLS_CLIENT_CA_FILE"] == f"{TLS_MOUNT}/ca.crt"
        # The environment names real settings and parses (files are only read at start).
        fields = service.settings_class().model_fields
        for name in ("tls_cert_file", "tls_key_file", "tls_client_ca_file"):
            assert name in fields
        pod = pod_of(objects, service.name)
        container = pod["containers"][0]
        refs = {
            v["name"]: v["valueFrom"]["secretKeyRef"]
            for v in container["env"]
            if "secretKeyRef" in v.get("valueFrom", {})
        }
        assert refs["HOTLINE_OBJECT_STORE_ACCESS_KEY"] == {
            "name": "hotline-object-store", "key": "access-key"
        }
        assert refs["HOTLINE_OBJECT_STORE_SECRET_KEY"] == {
            "name": "hotline-object-store", "key": "secret-key"
        }
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert mounts["keyring"] == {
            "name": "keyring", "mountPath": "/etc/hotline/keyring", "readOnly": True
        }
        assert volumes["keyring"]["secret"]["secretName"] == "hotline-keyring"
        assert volumes["keyring"]["secret"]["items"] == [
            {"key": "keyring.json", "path": "keyring.json"}
        ]
        assert mounts["tls"] == {"name": "tls", "mountPath": TLS_MOUNT, "readOnly": True}
        assert volumes["tls"]["secret"]["secretName"] == certificate["spec"]["secretName"]
        assert {i["path"] for i in volumes["tls"]["secret"]["items"]} == {
            "tls.crt", "tls.key", "ca.crt"
        }
        # The probe switch: no built-in grpc probe (plaintext only) but the TLS probe command,
        # presenting the pod's certificate (mutual) and checking the name the certificate has.
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert "grpc" not in container[probe]
            command = container[probe]["exec"]["command"]
            assert command[:3] == ["python", "-m", "hotline_platform.grpc_probe"]
            option = dict(zip(command[3::2], command[4::2], strict=True))
            assert option["--ca"] == f"{TLS_MOUNT}/ca.crt"
            assert option["--cert"] == f"{TLS_MOUNT}/tls.crt"
            assert option["--key"] == f"{TLS_MOUNT}/tls.key"
            assert option["--server-name"] in certificate["spec"]["dnsNames"]
            assert container[probe]["timeoutSeconds"] >= 3
    # The probe module exists where the images put the platform package.
    assert (CHART.parents[1] / "platform" / "hotline_platform" / "grpc_probe.py").is_file()


def test_tls_with_an_existing_secret_and_without_mutual() -> None:
    objects = render({"tls": {"enabled": True, "existingSecret": "my-tls"}})
    assert not by_kind(objects, "Certificate")
    env = environment(objects, "router")
    assert "HOTLINE_TLS_CERT_FILE" in env and "HOTLINE_TLS_CLIENT_CA_FILE" not in env
    pod = pod_of(objects, "router")
    assert {v["name"]: v for v in pod["volumes"]}["tls"]["secret"]["secretName"] == "my-tls"
    command = pod["containers"][0]["readinessProbe"]["exec"]["command"]
    assert "--ca" in command and "--cert" not in command


def test_defaults_keep_plaintext_probes_and_no_content_settings(
    default_objects: list[Any],
) -> None:
    assert not by_kind(default_objects, "Certificate")
    for service in services():
        env = environment(default_objects, service.name)
        assert not {v for v in env if v.startswith(("HOTLINE_TLS_", "HOTLINE_OBJECT_STORE_"))}
        assert "HOTLINE_KEYRING_PATH" not in env
        container = pod_of(default_objects, service.name)["containers"][0]
        assert "grpc" in container["readinessProbe"]
        prompts = {"prompts"} if service.name == "ingress-sip" else set()  # the media relay's
        assert {m["name"] for m in container["volumeMounts"]} == {"tenancy", "tmp", *prompts}


def test_tls_values_that_cannot_work_fail_the_render() -> None:
    both = {
        "tls": {
            "enabled": True,
            "existingSecret": "x",
            "certManager": {"issuerRef": {"name": "ca"}},
        }
    }
    with pytest.raises(Exception, match="not both"):
        render(both)


def test_media_relay_runs_beside_ingress_sip_on_the_node_network() -> None:
    values = merged_values(kitchen_sink())["mediaRelay"]
    objects = render(kitchen_sink())
    pod = by_kind(objects, "Deployment")[object_name("ingress-sip")]["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    sip, relay = pod["containers"]
    assert relay["image"] == "registry.example.internal/hotline/hotline-media-relay:0.1.0"
    args = dict(a.split("=", 1) for a in relay["args"])
    assert args["--interface"] == "$(NODE_IP)!198.51.100.7"
    assert (args["--port-min"], args["--port-max"]) == ("10000", "14999")
    env = environment(objects, "ingress-sip")
    # ingress-sip reaches the relay and its DTMF reports on the node's loopback.
    assert env["HOTLINE_MEDIA_RELAY_NG"] == f"127.0.0.1:{values['ngPort']}"
    assert args["--listen-ng"] == env["HOTLINE_MEDIA_RELAY_NG"]
    assert args["--dtmf-log-dest"] == env["HOTLINE_MEDIA_DTMF_LISTEN"]
    # The prompts folder is the same path in both containers, filled by the init container.
    mounts = {c["name"]: {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
              for c in [sip, relay, *pod["initContainers"]]}  # fmt: skip
    assert {m["prompts"] for m in mounts.values()} == {env["HOTLINE_PROMPTS_DIR"]}
    assert pod["initContainers"][0]["image"] == relay["image"]
    # Other services stay on the pod network; without the relay, so does ingress-sip.
    assert "hostNetwork" not in by_kind(objects, "Deployment")[object_name("router")]["spec"][
        "template"]["spec"]  # fmt: skip
    plain = by_kind(render({"mediaRelay": {"enabled": False}}), "Deployment")
    plain_pod = plain[object_name("ingress-sip")]["spec"]["template"]["spec"]
    assert "hostNetwork" not in plain_pod and len(plain_pod["containers"]) == 1
    with pytest.raises(Exception, match="portMin must not be above"):
        render({"mediaRelay": {"portMin": 20000, "portMax": 10000}})
