"""The message modules mm-bindgen writes without protoc register the same
descriptors as the ones grpc_tools.protoc writes: byte for byte, for every
proto file, in the C-accelerated and in the pure-Python implementation of
protobuf, whose `_serialized_options` and `_serialized_start`/`_end` must
match protoc's too. Each side is imported in a subprocess of its own, so
the two never share a descriptor pool."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
PACKAGE = ROOT / "generated" / "python"

# Imports every `*_pb2.py` under a directory as `<prefix><dotted path>` and
# prints, as JSON, what each registered: the serialized file descriptors (and
# their dependencies, recursively), and with `--details` the options and
# intervals of every element as the pure-Python implementation holds them.
DUMP = r"""
import importlib, json, sys
from pathlib import Path

base, prefix, details = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
exec(sys.argv[4])
files, elements = {}, {}

def add_file(fd):
    if fd.name not in files:
        files[fd.name] = fd.serialized_pb.hex()
        for dep in fd.dependencies:
            add_file(dep)

def record(path, d, interval):
    options = getattr(d, "_serialized_options", None)
    entry = {"options": options.hex() if options is not None else None}
    if interval:
        entry["span"] = [getattr(d, "_serialized_start", None), getattr(d, "_serialized_end", None)]
    elements[path] = entry

def walk_enum(path, e):
    record(path, e, True)
    for v in e.values:
        record(path + "." + v.name, v, False)

def walk_message(path, m):
    record(path, m, True)
    for f in m.fields:
        record(path + "." + f.name, f, False)
    for o in m.oneofs:
        record(path + "." + o.name, o, False)
    for x in m.extensions:
        record(path + "." + x.name, x, False)
    for n in m.nested_types:
        walk_message(path + "." + n.name, n)
    for e in m.enum_types:
        walk_enum(path + "." + e.name, e)

for module_file in sorted(base.rglob("*_pb2.py")):
    name = prefix + ".".join(module_file.relative_to(base).with_suffix("").parts)
    fd = importlib.import_module(name).DESCRIPTOR
    add_file(fd)
    if details:
        record(fd.name, fd, False)
        for m in fd.message_types_by_name.values():
            walk_message(fd.name + ":" + m.name, m)
        for e in fd.enum_types_by_name.values():
            walk_enum(fd.name + ":" + e.name, e)
        for x in fd.extensions_by_name.values():
            record(fd.name + ":" + x.name, x, False)
        for s in fd.services_by_name.values():
            record(fd.name + ":" + s.name, s, True)
            for method in s.methods:
                record(fd.name + ":" + s.name + "." + method.name, method, False)

print(json.dumps({"files": files, "elements": elements}))
"""


# Makes `mattermost_plugin` a bare package: the message modules are imported
# without the rest of the package (its `__init__` pulls in the runtime).
BARE_PACKAGE = """
import sys, types
bare = types.ModuleType("mattermost_plugin")
bare.__path__ = [p + "/mattermost_plugin" for p in sys.path if p]
sys.modules["mattermost_plugin"] = bare
"""


def run_python(code: str, args: list[str], path: Path, pure: bool) -> str:
    env = dict(os.environ, PYTHONPATH=str(path))
    if pure:
        env["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def dump(path: Path, base: Path, prefix: str, pure: bool) -> dict[str, dict[str, object]]:
    details = "1" if pure else "0"
    setup = BARE_PACKAGE if prefix else ""
    out = run_python(DUMP, [str(base), prefix, details, setup], path, pure)
    parsed: dict[str, dict[str, object]] = json.loads(out)
    return parsed


def protoc(root: Path, files: list[str], out: Path, includes: list[Path]) -> None:
    """Runs grpc_tools.protoc (which adds the well-known types to the path)."""
    args = [sys.executable, "-m", "grpc_tools.protoc", f"-I{root}", *(f"-I{i}" for i in includes)]
    args += [f"--python_out={out}", *files]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def compare(ours: Path, ours_base: Path, theirs: Path, pure: bool) -> list[str]:
    """Asserts both sides registered the same files with the same bytes (and,
    in pure Python, the same options and intervals); returns the names of
    the files compared."""
    mine = dump(ours, ours_base, "mattermost_plugin.pb.", pure)
    ref = dump(theirs, theirs, "", pure)
    mine_files, ref_files = mine["files"], ref["files"]
    assert sorted(mine_files) == sorted(ref_files)
    different = [name for name in ref_files if mine_files[name] != ref_files[name]]
    assert different == [], f"serialized descriptors differ: {different}"
    if pure:
        mine_elements, ref_elements = mine["elements"], ref["elements"]
        assert sorted(mine_elements) == sorted(ref_elements)
        different = [p for p in ref_elements if mine_elements[p] != ref_elements[p]]
        assert different == [], f"options or intervals differ: {different}"
    return sorted(ref_files)


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """protoc's modules for proto/."""
    out = tmp_path_factory.mktemp("protoc")
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    protoc(PROTO, files, out, [])
    return out


@pytest.mark.parametrize("pure", [False, True], ids=["upb", "python"])
def test_descriptors_match_protoc(reference: Path, pure: bool) -> None:
    files = compare(PACKAGE, PACKAGE / "mattermost_plugin" / "pb", reference, pure)
    ours = [str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto")]
    assert set(ours) < set(files)  # and the well-known types they import


# Every shape the message modules know: enums (top-level, nested, aliased,
# with value options), nested messages, maps of scalars, messages and enums,
# proto3 optional, oneofs, explicit json names (one equal to the default),
# well-known types, keyword field names, services of every streaming kind.
KITCHEN_TYPES = """
// Types of every shape.
syntax = "proto3";

package demo.kitchen.v1;

import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";

option go_package = "mmbindgen.dev/generated/go/pluginpb";

// A top-level enum.
enum Color {
  // Unknown.
  COLOR_UNSPECIFIED = 0;
  COLOR_RED = 1;
  COLOR_GREEN = 2 [deprecated = true];
}

enum Aliased {
  option allow_alias = true;
  ALIASED_ZERO = 0;
  ALIASED_NIL = 0;
}

// Every kind of field.
message Sample {
  option deprecated = true;

  // A nested enum.
  enum Mode {
    MODE_UNSPECIFIED = 0;
    MODE_FAST = 1;
  }

  // A nested message.
  message Inner {
    message Deeper {
      string leaf = 1;
    }
    Deeper deeper = 1;
    Mode mode = 2;
  }

  string text = 1;
  bytes blob = 2;
  sint64 s64 = 3;
  fixed32 f32 = 4;
  double score = 5;
  bool flag = 6;
  Color color = 7;
  Mode mode = 8;
  Inner inner = 9;
  repeated string tags = 10;
  repeated Inner inners = 11;
  repeated Color colors = 12;
  map<string, int64> counts = 13;
  map<int32, Inner> by_id = 14;
  map<string, Color> colors_by_name = 15;
  map<string, string> labels = 16;
  optional string note = 17;
  optional Color maybe_color = 18;
  google.protobuf.Struct props = 19;
  google.protobuf.Timestamp at = 20;
  string renamed = 21 [json_name = "otherName"];
  string same_json = 22 [json_name = "sameJson"];
  string old = 23 [deprecated = true];

  oneof choice {
    string choice_text = 40;
    Inner choice_inner = 41;
  }

  string from = 50;
  string str = 51;
  string type = 52;
}

// The same map entry twice: protoc gives both the place of the first.
message Labels {
  map<string, string> labels = 1;
}

message Empty {}
"""

KITCHEN_SERVICE = """
syntax = "proto3";

package demo.kitchen.v1;

import "demo/kitchen/v1/types.proto";
import "mmbindgen/v1/options.proto";

option (mmbindgen.v1.file) = {
  go_import: [{alias: "plugin" path: "github.com/mattermost/mattermost/server/public/plugin"}]
};
option go_package = "mmbindgen.dev/generated/go/pluginpb";

// The kitchen, mirroring the plugin API so that the Python target writes
// its side (with the shared messages of common.proto beside it).
service Kitchen {
  option (mmbindgen.v1.service).go_interface = "plugin.API";

  // Cooks one dish.
  rpc Cook(CookRequest) returns (CookResponse) {
    option (mmbindgen.v1.method).min_server_version = "5.2";
  }
}

message CookRequest {
  string dish = 1;
}

message CookResponse {
  string error = 1 [(mmbindgen.v1.field).go_type = "error"];
  string result = 2;
}

// Streams of every kind.
service Pantry {
  rpc Get(Sample) returns (Sample);
  rpc Watch(Sample) returns (stream Sample);
  rpc Fill(stream Sample) returns (Empty);
  rpc Swap(stream Sample) returns (stream Sample) {
    option deprecated = true;
  }
}
"""


@pytest.fixture(scope="session")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """mm-bindgen's and protoc's modules for the kitchen protos."""
    binary = Path(os.environ.get("MM_BINDGEN", ROOT / "target" / "release" / "mm-bindgen"))
    assert binary.exists(), f"build mm-bindgen first (cargo build --release): {binary}"
    root = tmp_path_factory.mktemp("kitchen")
    protos = root / "proto" / "demo" / "kitchen" / "v1"
    protos.mkdir(parents=True)
    (protos / "types.proto").write_text(KITCHEN_TYPES)
    (protos / "service.proto").write_text(KITCHEN_SERVICE)
    shared = root / "proto" / "mattermost" / "plugin" / "v1"
    shared.mkdir(parents=True)
    shutil.copy(PROTO / "mattermost" / "plugin" / "v1" / "common.proto", shared)
    out = root / "out"
    result = subprocess.run(
        [
            str(binary),
            "--proto",
            str(root / "proto"),
            "--out",
            str(out),
            "generate",
            "--skip-plugins",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    reference = root / "protoc"
    reference.mkdir()
    files = [
        "demo/kitchen/v1/types.proto",
        "demo/kitchen/v1/service.proto",
        "mattermost/plugin/v1/common.proto",
        "mmbindgen/v1/options.proto",
    ]
    protoc(root / "proto", files, reference, [PROTO])
    return out / "python", reference


@pytest.mark.parametrize("pure", [False, True], ids=["upb", "python"])
def test_every_shape_matches_protoc(kitchen: tuple[Path, Path], pure: bool) -> None:
    ours, reference = kitchen
    files = compare(ours, ours / "mattermost_plugin" / "pb", reference, pure)
    assert files == [
        "demo/kitchen/v1/service.proto",
        "demo/kitchen/v1/types.proto",
        "google/protobuf/descriptor.proto",
        "google/protobuf/struct.proto",
        "google/protobuf/timestamp.proto",
        "mattermost/plugin/v1/common.proto",
        "mmbindgen/v1/options.proto",
    ]


ROUND_TRIP = """
from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2, plugin_api_pb2
from mattermost_plugin.pb.mmbindgen.v1 import options_pb2
from google.protobuf.internal import api_implementation

assert api_implementation.Type() == "python", api_implementation.Type()
service = plugin_api_pb2.DESCRIPTOR.services_by_name["PluginAPI"]
options = service.methods_by_name["GetUser"].GetOptions().Extensions[options_pb2.method]
assert options.min_server_version == "5.2", options
app_error = common_pb2.AppError.DESCRIPTOR.GetOptions().Extensions[options_pb2.message]
assert app_error.go_type == "model.AppError", app_error
file_options = common_pb2.DESCRIPTOR.GetOptions()
assert file_options.go_package == "mmbindgen.dev/generated/go/pluginpb", file_options

error = common_pb2.AppError(id="app.user.missing", status_code=404, params={"a": [1, "b"]})
response = plugin_api_pb2.GetUserResponse(error=error)
again = plugin_api_pb2.GetUserResponse.FromString(response.SerializeToString())
assert again == response and again.error.params["a"][1] == "b", again
"""


def test_pure_python_reads_custom_options_and_round_trips() -> None:
    run_python(BARE_PACKAGE + ROUND_TRIP, [], PACKAGE, pure=True)


SERVE = """
import asyncio
from concurrent import futures

import grpc

from mattermost_plugin.pb.demo.kitchen.v1 import service_pb2_grpc, types_pb2


class Pantry(service_pb2_grpc.PantryServicer):
    def Get(self, request, context):
        return types_pb2.Sample(text=request.text + "!")

    def Watch(self, request, context):
        for i in range(3):
            yield types_pb2.Sample(s64=i)

    def Fill(self, request_iterator, context):
        return types_pb2.Empty() if len(list(request_iterator)) == 2 else None


server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
service_pb2_grpc.add_PantryServicer_to_server(Pantry(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
address = f"127.0.0.1:{port}"
with grpc.insecure_channel(address) as channel:
    stub = service_pb2_grpc.PantryStub(channel)
    assert stub.Get(types_pb2.Sample(text="a"), timeout=10).text == "a!"
    assert [s.s64 for s in stub.Watch(types_pb2.Sample(), timeout=10)] == [0, 1, 2]
    assert stub.Fill(iter([types_pb2.Sample(), types_pb2.Sample()]), timeout=10) == types_pb2.Empty()
    try:
        list(stub.Swap(iter([types_pb2.Sample()]), timeout=10))
        raise SystemExit("Swap is not implemented and must fail")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err.code()


async def asynchronous():
    async with grpc.aio.insecure_channel(address) as channel:
        stub = service_pb2_grpc.PantryStub(channel)
        assert (await stub.Get(types_pb2.Sample(text="b"), timeout=10)).text == "b!"


asyncio.run(asynchronous())
server.stop(None)
"""


def test_stubs_and_servicers_talk_over_loopback(kitchen: tuple[Path, Path]) -> None:
    ours, _ = kitchen
    run_python(BARE_PACKAGE + SERVE, [], ours, pure=False)
