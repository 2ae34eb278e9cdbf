"""Images and skaffold: one Dockerfile per service, each complete; skaffold builds them all."""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from deploy_support import ROOT, Service, services, values_file

# Top-level import -> the distribution that provides it (runtime dependencies of the services).
DISTRIBUTIONS = {
    "yaml": "PyYAML",
    "google": "protobuf",
    "grpc": "grpcio",
    "grpc_health": "grpcio-health-checking",
    "confluent_kafka": "confluent-kafka",
    "clickhouse_driver": "clickhouse-driver",
    "prometheus_client": "prometheus-client",
    "pydantic": "pydantic-settings",
    "pydantic_settings": "pydantic-settings",
    "boto3": "boto3",
    "botocore": "boto3",
    "cryptography": "cryptography",
    "fastapi": "fastapi",
    "starlette": "fastapi",
    "uvicorn": "uvicorn",
}
# First-party packages: import name -> source folder in the repository.
FIRST_PARTY = {
    "hotline": "contract/hotline",
    "hotline_platform": "platform/hotline_platform",
    **{s.package: f"services/{s.name}/{s.package}" for s in services()},
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dockerfile(service: Service) -> str:
    path = service.folder / "Dockerfile"
    assert path.exists(), f"services/{service.name}/Dockerfile is missing"
    return path.read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def copied_sources(text: str) -> dict[str, str]:
    """COPY <src> <dest> from the build context (not --from=stage)."""
    copies = {}
    for keyword, rest in instructions(text):
        if keyword == "COPY" and "--from" not in rest:
            src, dest = shlex.split(rest)[-2:]
            copies[src] = dest
    return copies


def pip_installed(text: str) -> set[str]:
    names: set[str] = set()
    for keyword, rest in instructions(text):
        if keyword == "RUN" and "pip install" in rest:
            words = shlex.split(rest.split("pip install", 1)[1])
            skip = False
            for word in words:
                if skip:
                    skip = False
                    continue
                if word in ("--constraint", "-c", "-r"):
                    skip = True
                elif not word.startswith("-"):
                    names.add(normalise(word))
    return names


def imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"__future__"}


def locked() -> set[str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    return {normalise(line.split("==")[0]) for line in lines if "==" in line}


@pytest.mark.parametrize("service", services(), ids=lambda s: s.name)
def test_dockerfile_builds_the_service(service: Service) -> None:
    text = dockerfile(service)
    steps = instructions(text)
    assert sum(1 for k, _ in steps if k == "FROM") >= 2, "multi-stage build expected"
    user = [rest for k, rest in steps if k == "USER"]
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0", (
        "the last stage must run as a numeric non-root user (runAsNonRoot can check it)"
    )
    assert (
        int(user[-1].split(":")[0]) == values_file("values.yaml")["podSecurityContext"]["runAsUser"]
    )
    entry = [rest for k, rest in steps if k == "ENTRYPOINT"]
    assert entry and entry[-1] == f'["python", "-m", "{service.package}"]'
    assert f"docker build -f services/{service.name}/Dockerfile" in text


@pytest.mark.parametrize("service", services(), ids=lambda s: s.name)
def test_dockerfile_copies_every_package_the_service_imports(service: Service) -> None:
    copies = copied_sources(dockerfile(service))
    needed = {"hotline", "hotline_platform", service.package}
    seen: set[str] = set()
    third_party: set[str] = set()
    while needed - seen:
        package = sorted(needed - seen)[0]
        seen.add(package)
        assert FIRST_PARTY[package] in copies, f"{service.name}: COPY {FIRST_PARTY[package]}"
        for name in imports(ROOT / FIRST_PARTY[package]):
            if name in FIRST_PARTY:
                needed.add(name)
            else:
                third_party.add(name)
    unknown = third_party - set(DISTRIBUTIONS)
    assert not unknown, f"{service.name} imports {unknown}: add them to DISTRIBUTIONS here"
    installed = pip_installed(dockerfile(service))
    missing = {normalise(DISTRIBUTIONS[name]) for name in third_party} - installed
    assert not missing, f"services/{service.name}/Dockerfile does not install {missing}"
    unpinned = installed - locked()
    assert not unpinned, f"{unpinned} are not pinned in requirements.lock"


def test_dockerignore_lets_every_copied_source_through() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def excluded(path: str) -> bool:
        result = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            if fnmatch.fnmatch(path, pattern.lstrip("!")):
                result = not negate
        return result

    for service in services():
        for src in copied_sources(dockerfile(service)):
            target = ROOT / src
            sample = next(target.rglob("*.py")) if target.is_dir() else target
            assert not excluded(str(sample.relative_to(ROOT))), f".dockerignore drops {src}"


def test_skaffold_builds_every_image_and_deploys_the_chart() -> None:
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    artifacts = {a["image"]: a for a in config["build"]["artifacts"]}
    (release,) = config["deploy"]["helm"]["releases"]
    assert release["chartPath"] == "helm/hotline"
    templates = release["setValueTemplates"]
    for service in services():
        image = f"hotline-{service.name}"
        assert image in artifacts, f"skaffold.yaml: no artifact {image}"
        assert artifacts[image]["context"] == "."
        assert artifacts[image]["docker"]["dockerfile"] == f"services/{service.name}/Dockerfile"
        key = re.sub(r"[^A-Za-z0-9]", "_", image)
        prefix = f"services.{service.name}.image"
        assert templates[f"{prefix}.repository"] == f"{{{{.IMAGE_REPO_{key}}}}}"
        assert templates[f"{prefix}.tag"] == f"{{{{.IMAGE_TAG_{key}}}}}"
        assert values_file("values.yaml")["services"][service.name]["image"]["repository"] == image
    # The media relay's image (rtpengine and the default prompts), beside ingress-sip.
    relay = artifacts["hotline-media-relay"]
    assert relay["docker"]["dockerfile"] == "images/media-relay/Dockerfile"
    assert (ROOT / relay["docker"]["dockerfile"]).exists()
    assert templates["mediaRelay.image.repository"] == "{{.IMAGE_REPO_hotline_media_relay}}"
    assert templates["mediaRelay.image.tag"] == "{{.IMAGE_TAG_hotline_media_relay}}"
    assert {p["name"] for p in config["profiles"]} == {"dev", "prod"}
    assert "manifests" not in config or "rawYaml" not in config["manifests"], "one deploy source"
