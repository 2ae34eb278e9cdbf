"""What the deploy checks share: the repository layout, the services, rendering the chart."""

from __future__ import annotations

import ast
import importlib
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "hotline"
K8S = ROOT / "k8s"
KUBE_VERSION = "1.30.0"
RELEASE = "hotline"
NAMESPACE = "hotline"


@dataclass(frozen=True)
class Service:
    """A folder of services/ with a package that has a __main__ (the Kubernetes entrypoint)."""

    name: str  # folder name = values key = Deployment suffix
    folder: Path
    package: str

    def settings_class(self) -> type[BaseSettings]:
        """The pydantic-settings class of the service's settings module."""
        if str(self.folder) not in sys.path:
            sys.path.insert(0, str(self.folder))
        module = importlib.import_module(f"{self.package}.settings")
        found = [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, BaseSettings)
            and obj.__module__ == module.__name__
        ]
        assert len(found) == 1, f"{self.package}.settings: expected one settings class, {found}"
        return found[0]

    def sources(self) -> list[tuple[Path, ast.Module]]:
        return [
            (path, ast.parse(path.read_text()))
            for path in sorted((self.folder / self.package).rglob("*.py"))
        ]


@cache
def services() -> tuple[Service, ...]:
    found = []
    for folder in sorted((ROOT / "services").iterdir()):
        for main in sorted(folder.glob("hotline_*/__main__.py")):
            found.append(Service(folder.name, folder, main.parent.name))
    return tuple(found)


def values_file(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / name).read_text())
    return loaded


@cache
def chart() -> helm.Chart:
    return helm.Chart.load(str(CHART))


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Render the chart offline (as `helm template`) and parse every object."""
    manifests = chart().render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[dict[str, Any]] = []
    for path, text in sorted(manifests.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc["_template"] = path
                objects.append(doc)
    return objects


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def object_name(service: str) -> str:
    return f"{RELEASE}-{service}"


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server would get it (without our bookkeeping)."""
    return {k: v for k, v in obj.items() if k != "_template"}
