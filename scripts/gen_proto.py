"""Generate the Python contract package (contract/) from proto/.

The generated code is committed; tests/unit/test_contract.py fails when it is not current.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
OUT = ROOT / "contract"


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO}",
            f"-I{include}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            f"--pyi_out={out}",
            *protos,
        ]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    for folder in [out / "hotline", *(p for p in (out / "hotline").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        target = OUT / "hotline"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(Path(tmp) / "hotline", target)
    print(
        f"generated {sum(1 for _ in target.rglob('*.py'))} modules into {target}", file=sys.stderr
    )


if __name__ == "__main__":
    main()
