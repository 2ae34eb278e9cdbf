"""The router's domain stays pure: no Kafka, gRPC, protobuf or platform imports (but the
platform's IVR calendar, standard library only and meant for pure domains)."""

from __future__ import annotations

import ast
from pathlib import Path

import hotline_router.domain

ALLOWED = {
    "__future__", "bisect", "collections", "dataclasses", "enum", "heapq", "typing",
    "hotline_router",
}
ALLOWED_PLATFORM = {"hotline_platform.ivr"}


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    folder = Path(hotline_router.domain.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name in ALLOWED_PLATFORM:
                    continue
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"
                if name.startswith("hotline_router"):
                    assert name.startswith("hotline_router.domain"), f"{path.name}: {name}"
