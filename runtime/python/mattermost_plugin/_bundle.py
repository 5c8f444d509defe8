"""`python -m mattermost_plugin bundle DIR`: the plugin bundle a stock server installs.

The bundle is a `.tar.gz` with one top directory, the plugin id, holding:

- `plugin.json`: the plugin's manifest with `server.executables` naming the shim of each platform;
- `server/dist/plugin-<goos>-<goarch>`: the shim (a Go plugin that runs the Python plugin);
- the plugin's Python sources (DIR without virtual environments, caches and `dist/`);
- `python-deps/<goos>-<goarch>/`: this package and the plugin's dependencies
  (`requirements.txt`), installed for that platform, which the shim puts in `PYTHONPATH`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The platforms a bundle serves by default: every one the Go shim builds for without cgo.
DEFAULT_PLATFORMS = ("linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64")

#: pip's platform tags of each platform (manylinux2014 is glibc 2.17).
PIP_PLATFORMS = {
    "linux-amd64": ["manylinux2014_x86_64"],
    "linux-arm64": ["manylinux2014_aarch64"],
    "darwin-amd64": ["macosx_10_15_x86_64", "macosx_11_0_universal2"],
    "darwin-arm64": ["macosx_11_0_arm64", "macosx_11_0_universal2"],
}

#: What the SDK needs at run time (generated/python/pyproject.toml).
SDK_REQUIREMENTS = ("grpcio>=1.72.1", "grpcio-health-checking>=1.72.1", "protobuf>=6.30")

#: Top-level names of DIR that never go into a bundle.
EXCLUDED = {"venv", ".venv", "dist", "python-deps", "server", ".git", ".mypy_cache", ".ruff_cache"}

DEPS_DIR = "python-deps"


class BundleError(Exception):
    """A bundle could not be made; the message says why."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mattermost_plugin",
        description="Tools for Mattermost plugins written in Python.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bundle", help="write the .tar.gz a Mattermost server installs")
    b.add_argument("dir", type=Path, help="the plugin: plugin.json and the Python sources")
    b.add_argument(
        "-o", "--output", type=Path, help="the bundle (default: dist/<id>-<version>.tar.gz)"
    )
    shim = b.add_mutually_exclusive_group(required=True)
    shim.add_argument(
        "--shim-package",
        type=Path,
        help="the Go main package of the shim, built with `go build` for each platform",
    )
    shim.add_argument(
        "--shim-binaries",
        type=Path,
        help="a directory of prebuilt shims named <goos>-<goarch>",
    )
    b.add_argument(
        "--platform",
        action="append",
        dest="platforms",
        choices=sorted(PIP_PLATFORMS),
        help=f"a platform to serve (repeatable; default: {', '.join(DEFAULT_PLATFORMS)})",
    )
    b.add_argument(
        "--python-version",
        default=f"{sys.version_info.major}.{sys.version_info.minor}",
        help="the server's Python version the dependencies are installed for (default: this one)",
    )
    b.add_argument(
        "--no-deps", action="store_true", help="vendor nothing (the server provides the packages)"
    )
    args = parser.parse_args(argv)
    try:
        out = bundle(
            args.dir,
            output=args.output,
            shim_package=args.shim_package,
            shim_binaries=args.shim_binaries,
            platforms=args.platforms or list(DEFAULT_PLATFORMS),
            python_version=args.python_version,
            vendor=not args.no_deps,
        )
    except BundleError as e:
        print(f"bundle: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


def bundle(
    directory: Path,
    *,
    output: Path | None = None,
    shim_package: Path | None = None,
    shim_binaries: Path | None = None,
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
    python_version: str | None = None,
    vendor: bool = True,
) -> Path:
    """Write the bundle of the plugin in `directory` and return its path."""
    directory = directory.resolve()
    manifest = _read_manifest(directory)
    plugin_id = manifest["id"]
    for platform in platforms:
        if platform not in PIP_PLATFORMS:
            raise BundleError(f"unknown platform {platform!r}")
    if python_version is None:
        python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if output is None:
        output = directory / "dist" / f"{plugin_id}-{manifest.get('version') or '0'}.tar.gz"

    with tempfile.TemporaryDirectory(prefix="mm-bundle-") as tmp:
        stage = Path(tmp) / plugin_id
        _copy_sources(directory, stage)
        dist = stage / "server" / "dist"
        dist.mkdir(parents=True)
        executables: dict[str, str] = {}
        for platform in platforms:
            target = dist / f"plugin-{platform}"
            if shim_package is not None:
                _build_shim(shim_package, platform, target)
            elif shim_binaries is not None:
                source = shim_binaries / platform
                if not source.is_file():
                    raise BundleError(f"no shim for {platform}: {source} is missing")
                shutil.copyfile(source, target)
            else:
                raise BundleError("neither --shim-package nor --shim-binaries given")
            target.chmod(0o755)
            executables[platform] = f"server/dist/plugin-{platform}"
        manifest["server"] = {"executables": executables}
        (stage / "plugin.json").write_text(json.dumps(manifest, indent=2) + "\n")
        _validate_manifest(stage, platforms)
        if vendor:
            requirements = directory / "requirements.txt"
            for platform in platforms:
                _vendor(stage / DEPS_DIR / platform, platform, python_version, requirements)
        output.parent.mkdir(parents=True, exist_ok=True)
        _write_tar(stage, output)
    return output


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "plugin.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BundleError(f"{path} does not exist (only JSON manifests are bundled)") from None
    except (OSError, ValueError) as e:
        raise BundleError(f"{path}: {e}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("id"), str):
        raise BundleError(f"{path}: a manifest is an object with an id")
    props = manifest.get("props")
    python = props.get("python") if isinstance(props, dict) else None
    main = python.get("main") if isinstance(python, dict) else None
    if not isinstance(main, str) or not main.endswith(".py"):
        raise BundleError(f'{path}: no "props": {{"python": {{"main": "<script>.py"}}}}')
    if not (directory / main).is_file():
        raise BundleError(f"{path}: props.python.main {main!r} is not a file of {directory}")
    return manifest


def _copy_sources(directory: Path, stage: Path) -> None:
    def ignore(parent: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        if Path(parent) == directory:
            skip |= {n for n in names if n in EXCLUDED or n == "plugin.json"}
        return skip

    shutil.copytree(directory, stage, ignore=ignore, symlinks=False)


def _build_shim(package: Path, platform: str, target: Path) -> None:
    goos, goarch = platform.split("-")
    env = dict(os.environ, GOOS=goos, GOARCH=goarch, CGO_ENABLED="0")
    cmd = ["go", "build", "-ldflags=-s -w", "-o", str(target.resolve()), "."]
    try:
        done = subprocess.run(
            cmd, check=False, cwd=package, env=env, capture_output=True, text=True
        )
    except FileNotFoundError:
        raise BundleError("building the shim needs Go (the go command is not in PATH)") from None
    if done.returncode != 0:
        raise BundleError(f"go build of the shim for {platform} failed:\n{done.stderr}")


def _validate_manifest(stage: Path, platforms: Sequence[str]) -> None:
    """Check the manifest with the server's own rules (model.Manifest.IsValid), run by the shim."""
    host = _host_platform()
    if host not in platforms:
        raise BundleError(
            f"the manifest is validated by the shim of this machine ({host}), which is not built"
        )
    shim = stage / "server" / "dist" / f"plugin-{host}"
    done = subprocess.run(
        [str(shim), "validate-manifest", str(stage / "plugin.json")],
        check=False,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "MATTERMOST_PLUGIN"},
    )
    if done.returncode != 0:
        raise BundleError(done.stderr.strip() or f"the manifest is invalid ({done.returncode})")


def _host_platform() -> str:
    system = {"Linux": "linux", "Darwin": "darwin"}.get(os.uname().sysname, os.uname().sysname)
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        os.uname().machine, os.uname().machine
    )
    return f"{system}-{machine}"


def _vendor(target: Path, platform: str, python_version: str, requirements: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    cmd += ["--no-compile", "--target", str(target), "--only-binary=:all:", "--implementation=cp"]
    cmd += [f"--python-version={python_version}"]
    for tag in PIP_PLATFORMS[platform]:
        cmd += ["--platform", tag]
    cmd += list(SDK_REQUIREMENTS)
    if requirements.is_file():
        cmd += ["-r", str(requirements)]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise BundleError(f"installing the dependencies for {platform} failed:\n{done.stderr}")
    sdk = Path(__file__).resolve().parent
    shutil.rmtree(target / sdk.name, ignore_errors=True)
    shutil.copytree(sdk, target / sdk.name, ignore=shutil.ignore_patterns("__pycache__"))


def _write_tar(stage: Path, output: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(stage.rglob("*")):
            if path.is_symlink():
                continue
            tar.add(path, arcname=str(path.relative_to(stage.parent)), recursive=False)
    output.write_bytes(buffer.getvalue())
