#!/usr/bin/env python3
"""Time `mm-bindgen generate` against `python -m grpc_tools.protoc`.

Both tools get the same proto set: the real one (`proto/`) and a synthetic one
ten times its size (see synth.py). Runs alternate between the two tools
(A B A B ...), each into a fresh empty output directory; wall time is taken
around the whole process, so protoc's figure includes Python start-up and the
import of grpc_tools, as anyone running it pays. The ratio column is the
median of the per-pair ratios, which cancels most of the drift of a shared,
noisy machine.

This script builds nothing: `scripts/bench` builds mm-bindgen and prepares the
Python environment, then calls it.

Usage: python3 bench/run.py [--bin PATH] [--python PATH] [--runs N]
                            [--warmup N] [--factor N] [--proto DIR]
                            [--markdown FILE]
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no bench/__pycache__ from the import below
sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
RPC_RE = re.compile(r"^\s*rpc\s", re.M)


class BenchError(Exception):
    pass


def default_path(rel):
    """A default path, relative to the repository root (not resolved: a venv's python must keep its path)."""
    return os.path.join(str(REPO), rel)


def shown(path):
    """`path` relative to the repository root when it is inside it, with a trailing slash."""
    p = Path(path).resolve()
    try:
        p = p.relative_to(REPO)
    except ValueError:
        pass
    return p.as_posix().rstrip("/") + "/"


def proto_stats(root):
    files = synth.proto_files(root)
    rpcs = sum(len(RPC_RE.findall((root / f).read_text(encoding="utf-8"))) for f in files)
    return files, rpcs


def wkt_dir(python):
    """grpc_tools' own `_proto` directory, which holds the well-known types."""
    code = "import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), '_proto'))"
    p = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"{python} cannot import grpc_tools (run scripts/bench to set it up):\n{p.stderr.strip()}")
    return p.stdout.strip()


def version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except OSError:
        return "?"
    return (p.stdout.strip() or p.stderr.strip()).splitlines()[-1] if p.returncode == 0 else "?"


def timed(cmd, out_dir, cwd):
    """Run `cmd` once in `cwd`, writing into a fresh `out_dir`; return the wall time in ms."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.mkdir(out_dir)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    elapsed = (time.perf_counter() - t0) * 1000.0
    if p.returncode != 0:
        out = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
        raise BenchError(f"failed (exit {p.returncode}): {' '.join(cmd[:6])} ...\n{out[-4000:]}")
    if not any(f for _, _, fs in os.walk(out_dir) for f in fs):
        raise BenchError(f"wrote nothing: {' '.join(cmd[:6])} ...")
    shutil.rmtree(out_dir)
    return elapsed


def bench_set(name, root, args, binary, wkt, scratch):
    files, rpcs = proto_stats(root)
    if not files:
        raise BenchError(f"{root}: no .proto files")
    out = os.path.join(scratch, "out")
    # Both tools run in an empty directory: mm-bindgen then reads no
    # mm-bindgen.toml (no plugins, the built-in templates), only its flags.
    cwd = os.path.join(scratch, "cwd")
    os.makedirs(cwd, exist_ok=True)
    tools = {
        "mm-bindgen": [binary, "--proto", str(root), "--out", out, "generate"],
        "protoc": [args.python, "-m", "grpc_tools.protoc", f"-I{root}", f"-I{wkt}",
                   f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}", *files],
    }
    times = {t: [] for t in tools}
    total = args.warmup + args.runs
    for i in range(total):
        pair = {tool: timed(cmd, out, cwd) for tool, cmd in tools.items()}  # dicts keep order: A then B
        if i >= args.warmup:
            for tool, ms in pair.items():
                times[tool].append(ms)
        print(f"  {name}: pair {i + 1}/{total}{' (warm-up)' if i < args.warmup else ''}: "
              + ", ".join(f"{tool} {ms:.0f} ms" for tool, ms in pair.items()), file=sys.stderr)
    ratios = [a / b for a, b in zip(times["mm-bindgen"], times["protoc"])]
    return {
        "name": name,
        "files": len(files),
        "rpcs": rpcs,
        "mm": statistics.median(times["mm-bindgen"]),
        "protoc": statistics.median(times["protoc"]),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def cpu_model():
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(results, args, versions):
    real, big = results
    lines = [
        "| proto set | files | RPCs | mm-bindgen median (ms) | grpc_tools.protoc median (ms) | mm-bindgen / protoc (median of pairs) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['name']} | {r['files']} | {r['rpcs']} | {r['mm']:.1f} | {r['protoc']:.1f} | "
                     f"{r['ratio']:.2f} (range {r['ratio_min']:.2f}–{r['ratio_max']:.2f}) |")
    lines += [
        "",
        f"Growth from the real set to the {args.factor}x set (median / median): "
        f"mm-bindgen ×{big['mm'] / real['mm']:.2f}, grpc_tools.protoc ×{big['protoc'] / real['protoc']:.2f}.",
        "",
        f"{args.runs} alternating pairs per set after {args.warmup} warm-up pair{'' if args.warmup == 1 else 's'}; "
        f"{datetime.date.today().isoformat()}, {os.cpu_count()} CPUs ({cpu_model()}); "
        f"{versions['mm-bindgen']}, grpcio-tools {versions['grpcio-tools']}, Python {versions['python']}.",
    ]
    return "\n".join(lines) + "\n"


def write_markdown(path, text):
    path = Path(path)
    doc = path.read_text(encoding="utf-8")
    start, end = doc.find(START), doc.find(END)
    if start < 0 or end < 0 or end < start:
        raise BenchError(f"{path}: no {START} ... {END} markers")
    doc = doc[: start + len(START)] + "\n" + text + doc[end:]
    path.write_text(doc, encoding="utf-8")


def run_sets(args, binary, wkt, real_root, tmp):
    """Both proto sets, the synthetic one written into `tmp`; returns (results, versions)."""
    versions = {
        "mm-bindgen": version([binary, "--version"]),
        "grpcio-tools": version([args.python, "-c", "from importlib.metadata import version; print(version('grpcio-tools'))"]),
        "python": version([args.python, "-c", "import platform; print(platform.python_version())"]),
    }
    synth_root = tmp / "synth-proto"
    synth.synthesize(real_root, synth_root, args.factor)
    scratch = tmp / "scratch"
    scratch.mkdir()
    results = [
        bench_set(f"real (`{shown(args.proto)}`)", real_root, args, binary, wkt, str(scratch)),
        bench_set(f"synthetic {args.factor}x", synth_root, args, binary, wkt, str(scratch)),
    ]
    return results, versions


def main(argv=None):
    ap = argparse.ArgumentParser(description="Time mm-bindgen generate against grpc_tools.protoc.")
    ap.add_argument("--bin", default=default_path("target/release/mm-bindgen"), help="the mm-bindgen binary (default: target/release/mm-bindgen)")
    ap.add_argument("--python", default=default_path(".venv/bin/python"), help="a Python with grpcio-tools (default: .venv/bin/python)")
    ap.add_argument("--runs", type=int, default=15, help="measured runs of each tool per proto set (default: 15)")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured runs of each tool first (default: 2)")
    ap.add_argument("--factor", type=int, default=10, help="size of the synthetic set, in copies of the real one (default: 10)")
    ap.add_argument("--proto", default=default_path("proto"), help="the real proto root (default: proto)")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table into FILE between the bench markers")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        ap.error("--runs must be at least 1 and --warmup at least 0")
    args.bin = os.path.abspath(args.bin)
    args.python = os.path.abspath(args.python)

    try:
        if not os.access(args.bin, os.X_OK):
            raise BenchError(f"{args.bin}: no such executable (run `cargo build --release`)")
        wkt = wkt_dir(args.python)
        real_root = Path(args.proto).resolve()
        with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
            # A private copy, so a rebuild of target/ during the run cannot
            # swap the binary between runs.
            binary = os.path.join(tmp, "mm-bindgen")
            shutil.copy2(args.bin, binary)
            results, versions = run_sets(args, binary, wkt, real_root, Path(tmp))
        text = table(results, args, versions)
        print(text, end="")
        if args.markdown:
            write_markdown(args.markdown, text)
            print(f"(written to {args.markdown})", file=sys.stderr)
    except (BenchError, synth.SynthError, OSError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
