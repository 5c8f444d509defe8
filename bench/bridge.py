"""Time the bridge at run time: an API call from Python, hook dispatch into a
Python plugin, and the start of a plugin process.

The Go side is bridgebench (tests/conformance/go/bridgebench), whose programs
scripts/bench builds into the --tools directory: `apiserver` serves the
generated APIServer, `hookbench` drives hooks and launches through
bridge.Launch. The Python side is the Python of .venv with generated/python
on its path: bench/api_call.py and the plugin in bench/python/.
"""

import json
import os
import signal
import subprocess
import time
from contextlib import contextmanager

from common import (
    REPO,
    BenchError,
    log,
    machine,
    median,
    package_version,
    percentile,
    plural,
    python_version,
    table,
    version,
)

SDK = REPO / "generated" / "python"
PLUGIN_DIR = REPO / "bench" / "python"
API_CALL = REPO / "bench" / "api_call.py"

# Untimed calls first, of each kind (api_call.py) or into each plugin
# (hookbench); hook calls go in turns of HOOK_TURN calls per plugin; the
# start measurements begin with START_WARMUP untimed rounds.
API_WARMUP = 500
HOOK_WARMUP = 500
HOOK_TURN = 50
START_WARMUP = 2

# What go-plugin and bridge.Launch put into a plugin's environment
# (runtime/go/launcher.go), besides the API address and token.
GO_PLUGIN_ENV = {
    "MATTERMOST_PLUGIN": "Securely message teams, anywhere.",
    "PLUGIN_PROTOCOL_VERSIONS": "1",
    "PLUGIN_MIN_PORT": "10000",
    "PLUGIN_MAX_PORT": "25000",
    "MM_PLUGIN_ID": "dev.mmbindgen.bench",
    "MM_PLUGIN_LOG_LEVEL": "info",
    "MM_PLUGIN_HOOK_TIMEOUT": "30",
}


def sdk_env(extra=None):
    """The environment of a Python that imports the generated SDK."""
    return {**os.environ, "PYTHONPATH": str(SDK), **(extra or {})}


def check_run(cmd, **kwargs):
    """Run `cmd` to its end; its stdout, or BenchError with its output."""
    p = subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)
    if p.returncode != 0:
        out = (p.stdout + p.stderr).strip()
        raise BenchError(
            f"failed (exit {p.returncode}): {' '.join(map(str, cmd[:4]))} ...\n{out[-4000:]}"
        )
    return p.stdout


@contextmanager
def api_server(tools):
    """bridgebench's apiserver, running; yields its address and token."""
    proc = subprocess.Popen(
        [os.path.join(tools, "apiserver")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        fields = proc.stdout.readline().split()
        if len(fields) != 2:
            raise BenchError("apiserver did not print its address and token")
        yield fields[0], fields[1]
    finally:
        proc.stdin.close()  # it stops when its stdin ends
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def latency_cells(values):
    """The p50 and p99 cells of a row."""
    return f"{percentile(values, 50):.0f}", f"{percentile(values, 99):.0f}"


def run_api(args):
    """The SDK's get_user against bare grpcio calls of the same RPC."""
    log("api: PluginAPI.get_user against bare grpcio")
    with api_server(args.tools) as (address, token):
        out = check_run(
            [
                args.python,
                API_CALL,
                address,
                token,
                f"--calls={args.api_calls}",
                f"--warmup={API_WARMUP}",
            ],
            env=sdk_env(),
        )
    data = json.loads(out)
    bare, bare_pb = percentile(data["bare"], 50), percentile(data["bare_pb"], 50)
    rows = []
    for key, label in [
        ("sdk", "`PluginAPI(channel, token=...).get_user(id)`, the SDK"),
        ("bare_pb", "`channel.unary_unary(path, SerializeToString, FromString)`"),
        ("bare", "`channel.unary_unary(path)`, bytes in and out"),
    ]:
        p50 = percentile(data[key], 50)
        ratio = f"{p50 / bare:.2f}"
        rows.append(
            [
                label,
                *latency_cells(data[key]),
                f"**{ratio}**" if key == "sdk" else ratio,
                f"{p50 / bare_pb:.2f}",
            ]
        )
    lines = table(
        ["call", "p50 (µs)", "p99 (µs)", "p50 / bare bytes", "p50 / bare with messages"], rows
    )
    lines += [
        "",
        (
            f"{args.api_calls} calls of each kind, interleaved, after {API_WARMUP} warm-up calls "
            "of each; "
            f"a {data['response_bytes']}-byte `GetUserResponse`; {machine()}; "
            f"grpcio {package_version(args.python, 'grpcio')}, "
            f"protobuf {package_version(args.python, 'protobuf')}, "
            f"Python {python_version(args.python)}, {version(['go', 'env', 'GOVERSION'])}."
        ),
    ]
    return {"api": "\n".join(lines) + "\n"}


HOOK_ROWS = [
    ("python-def", "Python plugin, `def` handler", "go-plugin, TCP loopback"),
    ("python-async", "Python plugin, `async def` handler", "go-plugin, TCP loopback"),
    ("go-process", "Go plugin process, `bridge.HooksServer`", "go-plugin, Unix socket"),
    ("go-inprocess", "Go `bridge.HooksServer` in the calling process", "TCP loopback"),
]


def hooks_table(args, hooks):
    go_process = percentile(hooks["go-process"], 50)
    go_inprocess = percentile(hooks["go-inprocess"], 50)
    rows = []
    for key, label, transport in HOOK_ROWS:
        p50 = percentile(hooks[key], 50)
        rows.append(
            [
                label,
                transport,
                *latency_cells(hooks[key]),
                f"{p50 / go_process:.1f}",
                f"{p50 / go_inprocess:.1f}",
            ]
        )
    lines = table(
        [
            "plugin",
            "transport",
            "p50 (µs)",
            "p99 (µs)",
            "p50 / Go process",
            "p50 / Go in-process",
        ],
        rows,
        left=2,
    )
    lines += [
        "",
        (
            f"{args.hook_calls} timed calls per plugin after {HOOK_WARMUP} warm-up calls, in turns "
            f"of {HOOK_TURN} calls per plugin; {machine()}; "
            f"grpcio {package_version(args.python, 'grpcio')}, "
            f"Python {python_version(args.python)}, {version(['go', 'env', 'GOVERSION'])}."
        ),
    ]
    return "\n".join(lines) + "\n"


def spawn_until(cmd, first_line, env, cwd):
    """Start `cmd`; with `first_line`, return the ms until it prints its first
    line on stdout (then stop it with SIGTERM), else until it exits."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        text=True,
    )
    if first_line:
        line = proc.stdout.readline()
        elapsed = (time.perf_counter() - t0) * 1000.0
        proc.send_signal(signal.SIGTERM)
    else:
        proc.wait()
        elapsed = (time.perf_counter() - t0) * 1000.0
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if first_line and not (line.startswith("1|1|tcp|127.0.0.1:") and line.endswith("|grpc\n")):
        raise BenchError(f"no handshake line from {cmd[-1]} (got {line!r}):\n{err[-4000:]}")
    if not first_line and proc.returncode != 0:
        raise BenchError(f"failed (exit {proc.returncode}): {' '.join(cmd)}\n{err[-4000:]}")
    return elapsed


def bench_start(args, address, token):
    """Interpreter start, grpcio and SDK imports, and plugin start to its
    handshake line, in alternation (the order rotates every round); ms by kind."""
    plugin_env = sdk_env(
        {**GO_PLUGIN_ENV, "MM_PLUGIN_API_ADDRESS": address, "MM_PLUGIN_API_TOKEN": token}
    )
    # {name: (command, timed to its first line or else to its exit, environment, directory)}
    kinds = {
        "pass": ([args.python, "-c", "pass"], False, None, None),
        "grpc": ([args.python, "-c", "import grpc"], False, None, None),
        "import": ([args.python, "-c", "import mattermost_plugin"], False, sdk_env(), None),
        "plugin": ([args.python, "plugin.py"], True, plugin_env, PLUGIN_DIR),
    }
    names = list(kinds)
    times = {name: [] for name in names}
    for i in range(START_WARMUP + args.starts):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            cmd, first_line, env, cwd = kinds[name]
            ms = spawn_until(cmd, first_line, env, cwd)
            if i >= START_WARMUP:
                times[name].append(ms)
    return times


def start_table(args, starts, launches):
    launch = "`bridge.Launch` of the {}: to the handshake line, hooks dispensed, health checked"
    rows = [
        ("`python -c pass`: the interpreter starts and exits", starts["pass"]),
        ("`python -c 'import grpc'`: grpcio's import too", starts["grpc"]),
        ("`python -c 'import mattermost_plugin'`: the SDK's import instead", starts["import"]),
        ("**the Python plugin, spawned directly, to its handshake line**", starts["plugin"]),
        (launch.format("Python plugin"), launches["python"]),
        (launch.format("Go plugin process"), launches["go"]),
    ]
    lines = table(
        ["from the start of the process", "runs", "median (ms)", "range (ms)"],
        [
            [label, len(ms), f"{median(ms):.0f}", f"{min(ms):.0f}–{max(ms):.0f}"]
            for label, ms in rows
        ],
    )
    lines += [
        "",
        (
            f"The first four alternate, after {plural(START_WARMUP, 'warm-up round')}; the "
            f"launches alternate Python and Go; {machine()}; Python {python_version(args.python)}."
        ),
    ]
    return "\n".join(lines) + "\n"


def run_plugin(args):
    """Hook dispatch and plugin start; returns the hooks and start tables."""
    log("hooks: MessageWillBePosted into Python and Go, bridge.Launch")
    out = check_run(
        [
            os.path.join(args.tools, "hookbench"),
            "-bundle",
            PLUGIN_DIR,
            "-python",
            args.python,
            "-pythonpath",
            SDK,
            f"-calls={args.hook_calls}",
            f"-warmup={HOOK_WARMUP}",
            f"-block={HOOK_TURN}",
            f"-launches={args.launches}",
        ],
        cwd=REPO,
    )
    data = json.loads(out)
    log("start: interpreter, SDK import, plugin to handshake")
    with api_server(args.tools) as (address, token):
        starts = bench_start(args, address, token)
    return {
        "hooks": hooks_table(args, data["hooks"]),
        "start": start_table(args, starts, data["launch"]),
    }
