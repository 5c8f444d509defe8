"""Where the runtime tests find the `mattermost_plugin` package.

Once mm-bindgen writes the message modules (`generated/python/mattermost_plugin/
pb/.../common_pb2.py` exists), the tests use `generated/python` itself, whose
runtime modules are copies of `runtime/python`. Until then they build a
scratch package: the messages compiled by `grpc_tools.protoc` (imports made
relative, as mm-bindgen writes them), the generated modules that exist
(client, hooks, servicer, model), the runtime sources, and an empty
`__init__.py` (the generated one imports modules that may not exist yet).

`MM_PYRT_GENERATED=DIR` takes another generated tree (for trying an
integration). `MM_PYRT_SCRATCH=1` forces the scratch package (it then also takes the
runtime from `runtime/python`, the sources, when `generated/` is stale).

Run as a script, it builds the scratch package into the given directory
(for mypy: `python pkgbuild.py DIR`, then `MYPYPATH=DIR mypy ...`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROTO = ROOT / "proto"
RUNTIME = ROOT / "runtime" / "python" / "mattermost_plugin"
GENERATED = Path(os.environ.get("MM_PYRT_GENERATED") or ROOT / "generated" / "python")
GENERATED_PB = (
    GENERATED / "mattermost_plugin" / "pb" / "mattermost" / "plugin" / "v1" / "common_pb2.py"
)

_ABSOLUTE = re.compile(r"^from (mattermost\.plugin\.v1|mmbindgen\.v1) import ", re.MULTILINE)


def use_generated() -> bool:
    """Whether the tests run against `generated/python`."""
    return GENERATED_PB.exists() and os.environ.get("MM_PYRT_SCRATCH") != "1"


def _relative(match: re.Match[str]) -> str:
    # Modules live in pb/<package path>/; pb/ is four levels up from v1.
    if match.group(1) == "mattermost.plugin.v1":
        return "from . import "
    return "from ....mmbindgen.v1 import "


def build(target: Path) -> Path:
    """Builds the scratch package under `target`; returns `target`."""
    import grpc_tools  # type: ignore[import-untyped]

    package = target / "mattermost_plugin"
    pb = package / "pb"
    pb.mkdir(parents=True, exist_ok=True)
    include = Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO}",
            f"-I{include}",
            f"--python_out={pb}",
            f"--pyi_out={pb}",
            f"--grpc_python_out={pb}",
            *protos,
        ],
        check=True,
        cwd=PROTO,
    )
    for path in pb.rglob("*"):
        if path.suffix in (".py", ".pyi"):
            path.write_text(_ABSOLUTE.sub(_relative, path.read_text()))
    for directory in [pb, *(p for p in pb.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()
    runtime = {p.name for p in RUNTIME.glob("*.py")}
    for path in (GENERATED / "mattermost_plugin").glob("*.py"):
        if path.name not in runtime and path.name != "__init__.py":
            shutil.copy(path, package / path.name)
    for path in RUNTIME.glob("*.py"):
        shutil.copy(path, package / path.name)
    (package / "__init__.py").write_text('"""Scratch build of mattermost_plugin for tests."""\n')
    (package / "py.typed").touch()
    return target


if __name__ == "__main__":
    build(Path(sys.argv[1]))
