"""The WFM domain stays pure: standard library and itself only (no gRPC, ClickHouse, numpy)."""

from __future__ import annotations

import ast
from pathlib import Path

import hotline_wfm.domain

ALLOWED = {"__future__", "collections", "dataclasses", "enum", "typing", "math", "hotline_wfm"}


def test_domain_imports_only_the_standard_library_and_itself() -> None:
    folder = Path(hotline_wfm.domain.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"
                if name.startswith("hotline_wfm"):
                    assert name.startswith("hotline_wfm.domain"), f"{path.name}: {name}"
