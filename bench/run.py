#!/usr/bin/env python3
"""Run the benchmarks of BENCHMARKS.md and print their tables.

Sections, in the order they run (--only picks some):

- api: one small API call from Python, the SDK against bare grpcio
  (bridge.py, api_call.py);
- plugin: hook dispatch into a Python plugin against Go, and the start of a
  plugin process (bridge.py, hookbench, python/plugin.py);
- codegen: a full regeneration, mm-bindgen against grpc_tools.protoc, with
  the protoc plugins and with the built-in templates only (codegen.py,
  synth.py).

Each table is printed and, with --markdown, written into the file between
its markers (`<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`).

This script builds nothing: scripts/bench builds mm-bindgen, the Go helpers
(--tools) and the Python environment, then calls it.

Usage: python3 bench/run.py --tools DIR [--only api,plugin,codegen]
                            [--markdown FILE] [options; see --help]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # no bench/__pycache__ from the imports below
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bridge
import codegen
import synth
from common import REPO, BenchError, log

SECTIONS = ("api", "plugin", "codegen")
TOOLS = ("apiserver", "hookbench", "protoc-gen-go", "protoc-gen-go-grpc")


def default_path(rel):
    """A default path, relative to the repository root (not resolved: a
    venv's python must keep its path)."""
    return os.path.join(str(REPO), rel)


def write_markdown(path, texts):
    """Put each {name: text} between the markers of `name` in the file."""
    path = Path(path)
    doc = path.read_text(encoding="utf-8")
    for name, text in texts.items():
        start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
        i, j = doc.find(start), doc.find(end)
        if i < 0 or j < i:
            raise BenchError(f"{path}: no {start} ... {end} markers")
        doc = doc[: i + len(start)] + "\n" + text + doc[j:]
    path.write_text(doc, encoding="utf-8")


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Run the benchmarks of BENCHMARKS.md.")
    arg = ap.add_argument
    arg("--tools", required=True, metavar="DIR", help=f"the Go helpers: {', '.join(TOOLS)}")
    arg(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: {','.join(SECTIONS)})",
    )
    arg("--markdown", metavar="FILE", help="also write the tables into FILE between markers")
    arg(
        "--bin",
        default=default_path("target/release/mm-bindgen"),
        help="the mm-bindgen binary (default: target/release/mm-bindgen)",
    )
    arg(
        "--python",
        default=default_path(".venv/bin/python"),
        help="a Python with the packages of tests/python/requirements.txt (default: .venv)",
    )
    arg("--proto", default=default_path("proto"), help="the real proto root (default: proto)")
    arg("--factor", type=int, default=10, help="copies in the synthetic proto set (default: 10)")
    arg("--runs", type=int, default=15, help="measured pairs per codegen table row (default: 15)")
    arg(
        "--slow-runs",
        type=int,
        default=9,
        help="measured pairs of the synthetic set with plugins (default: 9)",
    )
    arg("--warmup", type=int, default=2, help="unmeasured codegen pairs first (default: 2)")
    arg("--api-calls", type=int, default=10000, help="API calls of each kind (default: 10000)")
    arg("--hook-calls", type=int, default=5000, help="hook calls per plugin (default: 5000)")
    arg("--launches", type=int, default=10, help="bridge.Launch runs per kind (default: 10)")
    arg("--starts", type=int, default=20, help="process starts of each kind (default: 20)")
    args = ap.parse_args(argv)

    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(args.only) - set(SECTIONS))
    if unknown:
        ap.error(f"unknown sections {', '.join(unknown)} (known: {', '.join(SECTIONS)})")
    counts = ("runs", "slow_runs", "factor", "api_calls", "hook_calls", "launches", "starts")
    if any(getattr(args, name) < 1 for name in counts) or args.warmup < 0:
        ap.error("counts must be at least 1 (--warmup at least 0)")
    for name in ("tools", "bin", "python", "proto"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    return args


def check_inputs(args):
    missing = [
        path
        for path in [args.bin, args.python, *(os.path.join(args.tools, t) for t in TOOLS)]
        if not os.access(path, os.X_OK)
    ]
    if missing:
        raise BenchError(
            f"not found or not executable: {', '.join(missing)} (scripts/bench builds them)"
        )


def main(argv=None):
    args = parse_args(argv)
    texts = {}
    try:
        check_inputs(args)
        if "api" in args.only:
            texts.update(bridge.run_api(args))
        if "plugin" in args.only:
            texts.update(bridge.run_plugin(args))
        if "codegen" in args.only:
            with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
                texts.update(codegen.run(args, Path(tmp)))
        for name, text in texts.items():
            print(f"{name}:\n{text}")
        if args.markdown:
            write_markdown(args.markdown, texts)
            log(f"(written to {args.markdown})")
    except (BenchError, synth.SynthError, OSError) as e:
        log(f"bench: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
