"""Time a regeneration: `mm-bindgen generate` against `python -m grpc_tools.protoc`.

Two comparisons, each on the real proto set (`proto/`) and on a synthetic one
ten times its size (synth.py):

- with plugins: mm-bindgen with the repository's mm-bindgen.toml (its own
  targets, and protoc-gen-go and protoc-gen-go-grpc, which it builds once
  into its cache) against one protoc run writing Go, Go gRPC, Python, .pyi
  and Python gRPC code with the same pinned plugins, prebuilt. mm-bindgen
  runs twice per round: cold (no cached plugin response; the built plugins
  stay) and warm (the responses of the cold run cached);
- built-in only: mm-bindgen in an empty directory (no mm-bindgen.toml: its
  built-in templates only) against protoc writing Python, .pyi and Python
  gRPC code.

The tools of a comparison run in alternation (A B A B ...), each into a
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
# mm-bindgen's cache directory (its plugin binaries and responses) is the
# benchmark's own: set in run().
CACHE_ENV = "MM_BINDGEN_CACHE_DIR"
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


def timed(cmd, out_dir, cwd, subdirs, prepare=None):
    """Run `cmd` once in `cwd`, writing into a fresh `out_dir` (with `subdirs`
    made) after calling `prepare` (not timed); return the wall time in ms and
    the paths of the files written."""
    shutil.rmtree(out_dir, ignore_errors=True)
    for sub in subdirs or [""]:
        os.makedirs(os.path.join(out_dir, sub))
    if prepare:
        prepare()
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
    """Alternating runs of the tools {name: (cmd, cwd, subdirs[, prepare])}:
    `warmup` unmeasured rounds, then `runs` measured ones. Returns the times
    by tool and the files each tool wrote in its first run."""
    times = {name: [] for name in tools}
    written = {}
    total = warmup + runs
    for i in range(total):
        pair = {}
        for name, (cmd, *rest) in tools.items():  # dicts keep order: A then B
            pair[name], files = timed(cmd, out, *rest)
            written.setdefault(name, files)
        if i >= warmup:
            for name, ms in pair.items():
                times[name].append(ms)
        note = " (warm-up)" if i < warmup else ""
        runs_text = ", ".join(f"{name} {ms:.0f} ms" for name, ms in pair.items())
        log(f"  {label}: pair {i + 1}/{total}{note}: {runs_text}")
    return times, written


def result(name, root, times, written, ours=("mm-bindgen",)):
    """The medians of every tool and the ratios of each of `ours` to protoc."""
    files, rpcs = proto_stats(root)
    return {
        "name": name,
        "files": len(files),
        "rpcs": rpcs,
        "medians": {tool: median(ts) for tool, ts in times.items()},
        "ratios": {tool: pair_ratios(times[tool], times["protoc"]) for tool in ours},
        "written": (len(written[ours[0]]), len(written["protoc"])),
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


def forget_responses(cache):
    """Empties the plugin response cache; the built plugins stay."""
    for slot in Path(cache).iterdir():
        shutil.rmtree(slot / "responses", ignore_errors=True)


def bench_plugins(args, sets, binary, wkt, scratch, cache):
    """mm-bindgen with mm-bindgen.toml, cold and warm, against protoc with the
    same plugins."""
    check_config()
    out = str(scratch / "out")
    results = []
    for name, root, runs in sets:
        # In the repository root, where it reads mm-bindgen.toml (the flags
        # override its proto and out).
        ours = [binary, "--proto", str(root), "--out", out, "generate"]
        # Builds the plugins into the cache once (per pinned version), as
        # the first run on a machine does; not measured.
        timed(ours, out, REPO, [])
        tools = {
            "cold": (ours, REPO, [], lambda: forget_responses(cache)),
            "warm": (ours, REPO, []),
            "protoc": (protoc_cmd(args, root, wkt, out, True), REPO, [GO_OUT, PYTHON_OUT]),
        }
        times, written = bench_pairs(f"with plugins, {name}", tools, runs, args.warmup, out)
        theirs = go_messages(written["protoc"])
        for run in ("cold", "warm"):
            ours_go = go_messages(written[run])
            if ours_go != theirs or not ours_go:
                diff = sorted(ours_go ^ theirs)[:5]
                raise BenchError(
                    f"{name}: {run} mm-bindgen and protoc wrote different Go message files: {diff}"
                )
        if written["cold"] != written["warm"]:
            raise BenchError(f"{name}: the cold and the warm run wrote different files")
        results.append(result(name, root, times, written, ours=("cold", "warm")))
    return results


def render(results, header, tools_line, runs_line, labels):
    """A table row per proto set: the medians of the tools, the ratios of
    ours, the files written; then the growth of each tool. `labels` names the
    tools {key: label} in the growth line."""
    rows = []
    for r in results:
        row = [r["name"], r["files"], r["rpcs"]]
        row += [f"{ms:.1f}" for ms in r["medians"].values()]
        row += [f"**{mid:.2f}** ({low:.2f}–{high:.2f})" for mid, low, high in r["ratios"].values()]
        row.append(f"{r['written'][0]} / {r['written'][1]}")
        rows.append(row)
    real, big = results
    growth = ", ".join(
        f"{label} ×{big['medians'][tool] / real['medians'][tool]:.2f}"
        for tool, label in labels.items()
    )
    lines = table(header, rows)
    lines += [
        "",
        f"Growth from the real set to the synthetic one (median / median): {growth}.",
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
    cache = tmp / "cache"
    cache.mkdir()
    os.environ[CACHE_ENV] = str(cache)
    scratch = tmp / "scratch"
    scratch.mkdir()
    real_name, synth_name = f"real (`{shown(real_root)}`)", f"synthetic {args.factor}x"

    plugin_results = bench_plugins(
        args,
        [(real_name, real_root, args.runs), (synth_name, synth_root, args.slow_runs)],
        binary,
        wkt,
        scratch,
        cache,
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
                "mm-bindgen + plugins, cold, median (ms)",
                "mm-bindgen + plugins, warm, median (ms)",
                "grpc_tools.protoc + plugins, median (ms)",
                "cold / protoc (median of rounds, range)",
                "warm / protoc (median of rounds, range)",
                "files written (mm-bindgen / protoc)",
            ],
            f"{versions}, {plugin_versions}, {go_version}",
            f"{args.runs} alternating rounds (cold, warm, protoc) on the real set and "
            f"{args.slow_runs} on the synthetic one, each after {plural(args.warmup, 'warm-up round')}",
            {"cold": "mm-bindgen cold", "warm": "mm-bindgen warm", "protoc": "grpc_tools.protoc"},
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
            {"mm-bindgen": "mm-bindgen", "protoc": "grpc_tools.protoc"},
        ),
    }
