"""Time a regeneration: `mm-bindgen generate` against `python -m grpc_tools.protoc`.

Two comparisons, each on the real proto set (`proto/`) and on a synthetic one
ten times its size (synth.py):

- with plugins: mm-bindgen with the repository's mm-bindgen.toml (its own
  targets, and protoc-gen-go and protoc-gen-go-grpc run through `go tool`)
  against one protoc run writing Go, Go gRPC, Python, .pyi and Python gRPC
  code with the same pinned plugins, prebuilt;
- built-in only: mm-bindgen in an empty directory (no mm-bindgen.toml: its
  built-in templates only) against protoc writing Python, .pyi and Python
  gRPC code.

The two tools of a comparison run in alternation (A B A B ...), each into a
fresh empty output directory; wall time is taken around the whole process, so
protoc's figure includes Python start-up and the import of grpc_tools, as
anyone running it pays. The ratio is the median of the per-pair ratios, which
cancels most of the drift of a shared, noisy machine.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import synth
from common import (
    REPO,
    BenchError,
    log,
    machine,
    median,
    package_version,
    pair_ratios,
    plural,
    python_version,
    table,
    version,
)

RPC_RE = re.compile(r"^\s*rpc\s", re.MULTILINE)

# The protoc plugins and their parameters as mm-bindgen.toml configures them
# (checked against the file), and where their files go.
PLUGINS = {
    "go": ("protoc-gen-go", "module=mmbindgen.dev/generated/go"),
    "go-grpc": (
        "protoc-gen-go-grpc",
        "module=mmbindgen.dev/generated/go,require_unimplemented_servers=false",
    ),
}
GO_OUT = "go"
PYTHON_OUT = "python"


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
    code = (
        "import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), '_proto'))"
    )
    p = subprocess.run([python, "-c", code], check=False, capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"{python} cannot import grpc_tools:\n{p.stderr.strip()}")
    return p.stdout.strip()


def check_config():
    """mm-bindgen.toml still runs the plugins as PLUGINS says."""
    text = (REPO / "mm-bindgen.toml").read_text(encoding="utf-8")
    for name, parameter in PLUGINS.values():
        if f'name = "{name}"' not in text or f'parameter = "{parameter}"' not in text:
            raise BenchError(
                f"mm-bindgen.toml no longer runs {name} with {parameter!r}: update bench/codegen.py"
            )


def timed(cmd, out_dir, cwd, subdirs):
    """Run `cmd` once in `cwd`, writing into a fresh `out_dir` (with `subdirs`
    made); return the wall time in ms and the paths of the files written."""
    shutil.rmtree(out_dir, ignore_errors=True)
    for sub in subdirs or [""]:
        os.makedirs(os.path.join(out_dir, sub))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, check=False, stdin=subprocess.DEVNULL, capture_output=True, cwd=cwd)
    elapsed = (time.perf_counter() - t0) * 1000.0
    if p.returncode != 0:
        out = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
        raise BenchError(f"failed (exit {p.returncode}): {' '.join(cmd[:6])} ...\n{out[-4000:]}")
    written = {
        os.path.relpath(os.path.join(d, f), out_dir) for d, _, fs in os.walk(out_dir) for f in fs
    }
    if not written:
        raise BenchError(f"wrote nothing: {' '.join(cmd[:6])} ...")
    shutil.rmtree(out_dir)
    return elapsed, written


def go_messages(files):
    return {f for f in files if f.startswith(GO_OUT + os.sep) and f.endswith(".pb.go")}


def bench_pairs(label, tools, runs, warmup, out):
    """Alternating runs of the tools {name: (cmd, cwd, subdirs)}: `warmup`
    unmeasured rounds, then `runs` measured ones. Returns the times by tool
    and the files each tool wrote in its first run."""
    times = {name: [] for name in tools}
    written = {}
    total = warmup + runs
    for i in range(total):
        pair = {}
        for name, (cmd, cwd, subdirs) in tools.items():  # dicts keep order: A then B
            pair[name], files = timed(cmd, out, cwd, subdirs)
            written.setdefault(name, files)
        if i >= warmup:
            for name, ms in pair.items():
                times[name].append(ms)
        note = " (warm-up)" if i < warmup else ""
        runs_text = ", ".join(f"{name} {ms:.0f} ms" for name, ms in pair.items())
        log(f"  {label}: pair {i + 1}/{total}{note}: {runs_text}")
    return times, written


def result(name, root, times, written):
    files, rpcs = proto_stats(root)
    ratio, low, high = pair_ratios(times["mm-bindgen"], times["protoc"])
    return {
        "name": name,
        "files": len(files),
        "rpcs": rpcs,
        "mm": median(times["mm-bindgen"]),
        "protoc": median(times["protoc"]),
        "ratio": ratio,
        "low": low,
        "high": high,
        "written": (len(written["mm-bindgen"]), len(written["protoc"])),
    }


def protoc_cmd(args, root, wkt, out, with_plugins):
    files, _ = proto_stats(root)
    cmd = [args.python, "-m", "grpc_tools.protoc", f"-I{root}", f"-I{wkt}"]
    if with_plugins:
        go_out = os.path.join(out, GO_OUT)
        for short, (name, parameter) in PLUGINS.items():
            cmd += [
                f"--plugin={name}={os.path.join(args.tools, name)}",
                f"--{short}_out={go_out}",
                f"--{short}_opt={parameter}",
            ]
        py_out = os.path.join(out, PYTHON_OUT)
    else:
        py_out = out
    cmd += [f"--python_out={py_out}", f"--pyi_out={py_out}", f"--grpc_python_out={py_out}"]
    return cmd + files


def bench_builtin(args, sets, binary, wkt, scratch):
    """mm-bindgen's built-in templates against protoc's Python output."""
    out = str(scratch / "out")
    # An empty working directory: mm-bindgen reads no mm-bindgen.toml there.
    empty = scratch / "empty"
    empty.mkdir(exist_ok=True)
    results = []
    for name, root, _ in sets:
        tools = {
            "mm-bindgen": ([binary, "--proto", str(root), "--out", out, "generate"], empty, []),
            "protoc": (protoc_cmd(args, root, wkt, out, False), empty, []),
        }
        times, written = bench_pairs(f"built-in, {name}", tools, args.runs, args.warmup, out)
        results.append(result(name, root, times, written))
    return results


def bench_plugins(args, sets, binary, wkt, scratch):
    """mm-bindgen with mm-bindgen.toml against protoc with the same plugins."""
    check_config()
    out = str(scratch / "out")
    results = []
    for name, root, runs in sets:
        tools = {
            # In the repository root, where it reads mm-bindgen.toml (the
            # flags override its proto and out).
            "mm-bindgen": (
                [binary, "--proto", str(root), "--out", out, "generate"],
                REPO,
                [],
            ),
            "protoc": (protoc_cmd(args, root, wkt, out, True), REPO, [GO_OUT, PYTHON_OUT]),
        }
        times, written = bench_pairs(f"with plugins, {name}", tools, runs, args.warmup, out)
        ours, theirs = go_messages(written["mm-bindgen"]), go_messages(written["protoc"])
        if ours != theirs or not ours:
            diff = sorted(ours ^ theirs)[:5]
            raise BenchError(f"{name}: the tools wrote different Go message files: {diff}")
        results.append(result(name, root, times, written))
    return results


def render(results, header, tools_line, runs_line):
    rows = [
        [
            r["name"],
            r["files"],
            r["rpcs"],
            f"{r['mm']:.1f}",
            f"{r['protoc']:.1f}",
            f"**{r['ratio']:.2f}** ({r['low']:.2f}–{r['high']:.2f})",
            f"{r['written'][0]} / {r['written'][1]}",
        ]
        for r in results
    ]
    real, big = results
    lines = table(header, rows)
    lines += [
        "",
        (
            f"Growth from the real set to the synthetic one (median / median): "
            f"mm-bindgen ×{big['mm'] / real['mm']:.2f}, "
            f"grpc_tools.protoc ×{big['protoc'] / real['protoc']:.2f}."
        ),
        "",
        f"{runs_line}; {machine()}; {tools_line}.",
    ]
    return "\n".join(lines) + "\n"


def run(args, tmp):
    """Both comparisons; returns {marker: Markdown}."""
    wkt = wkt_dir(args.python)
    # A private copy, so a rebuild of target/ during the run cannot swap the
    # binary between runs.
    binary = str(tmp / "mm-bindgen")
    shutil.copy2(args.bin, binary)
    real_root = Path(args.proto).resolve()
    synth_root = tmp / "synth-proto"
    synth.synthesize(real_root, synth_root, args.factor)
    scratch = tmp / "scratch"
    scratch.mkdir()
    real_name, synth_name = f"real (`{shown(real_root)}`)", f"synthetic {args.factor}x"

    plugin_results = bench_plugins(
        args,
        [(real_name, real_root, args.runs), (synth_name, synth_root, args.slow_runs)],
        binary,
        wkt,
        scratch,
    )
    builtin_results = bench_builtin(
        args,
        [(real_name, real_root, args.runs), (synth_name, synth_root, args.runs)],
        binary,
        wkt,
        scratch,
    )

    versions = (
        f"{version([binary, '--version'])}, "
        f"grpcio-tools {package_version(args.python, 'grpcio-tools')}, "
        f"Python {python_version(args.python)}"
    )
    plugin_versions = ", ".join(
        version([os.path.join(args.tools, name), "--version"]) for name, _ in PLUGINS.values()
    )
    go_version = version(["go", "env", "GOVERSION"])
    warm = plural(args.warmup, "warm-up pair")
    return {
        "codegen-plugins": render(
            plugin_results,
            [
                "proto set",
                "files",
                "RPCs",
                "mm-bindgen + plugins, median (ms)",
                "grpc_tools.protoc + plugins, median (ms)",
                "mm-bindgen / protoc (median of pairs, range)",
                "files written (mm-bindgen / protoc)",
            ],
            f"{versions}, {plugin_versions}, {go_version}",
            f"{args.runs} alternating pairs on the real set and {args.slow_runs} on the "
            f"synthetic one, each after {warm}",
        ),
        "codegen": render(
            builtin_results,
            [
                "proto set",
                "files",
                "RPCs",
                "mm-bindgen, built-in templates, median (ms)",
                "grpc_tools.protoc, Python only, median (ms)",
                "mm-bindgen / protoc (median of pairs, range)",
                "files written (mm-bindgen / protoc)",
            ],
            versions,
            f"{args.runs} alternating pairs per set after {warm}",
        ),
    }
