"""Time one small API call from Python: the SDK against bare grpcio.

Run by bench/run.py with the Python of .venv and generated/python on the
path, against the Go APIServer of bridgebench's cmd/apiserver (GetUser
returns a model.User with every field filled). Three ways of making the same
call, over one channel, with the same token metadata and deadline:

- sdk: `PluginAPI.get_user(USER_ID)`, the generated client (request built,
  response checked for an AppError, the user returned);
- bare: `channel.unary_unary(METHOD)` with no serializers, the request
  serialized once beforehand and the response left as bytes: gRPC alone;
- bare_pb: `channel.unary_unary(METHOD, ...)` with the messages'
  SerializeToString and FromString, as a plain grpc_tools stub calls it.

The calls alternate (sdk, bare, bare_pb, then the order rotates by one), so
that drift on a shared machine hits the three alike. Prints one JSON object:
{"sdk": [µs per call], "bare": [...], "bare_pb": [...], "response_bytes": N}.

Usage: python bench/api_call.py ADDRESS TOKEN [--calls N] [--warmup N]
"""

import argparse
import json
import sys
import time

import grpc

from mattermost_plugin import PluginAPI
from mattermost_plugin.pb.mattermost.plugin.v1 import plugin_api_pb2

METHOD = "/mattermost.plugin.v1.PluginAPI/GetUser"
TOKEN_HEADER = "x-mm-bridge-token"  # what the Go bridge.RequireToken checks
TIMEOUT = 30.0  # seconds, the SDK's default deadline
USER_ID = "u5rsxk8wbtf3mdqj9ye7hc2n4o"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Time PluginAPI.get_user against bare grpcio.")
    ap.add_argument("address", help="host:port of the APIServer")
    ap.add_argument("token", help="its token")
    ap.add_argument("--calls", type=int, default=10000, help="timed calls of each kind")
    ap.add_argument("--warmup", type=int, default=500, help="untimed calls of each kind first")
    args = ap.parse_args(argv)

    channel = grpc.insecure_channel(args.address)
    api = PluginAPI(channel, timeout=TIMEOUT, token=args.token)
    metadata = ((TOKEN_HEADER, args.token),)
    raw = channel.unary_unary(METHOD)
    request_bytes = plugin_api_pb2.GetUserRequest(user_id=USER_ID).SerializeToString()
    typed = channel.unary_unary(
        METHOD,
        request_serializer=plugin_api_pb2.GetUserRequest.SerializeToString,
        response_deserializer=plugin_api_pb2.GetUserResponse.FromString,
    )

    calls = {
        "sdk": lambda: api.get_user(USER_ID),
        "bare": lambda: raw(request_bytes, timeout=TIMEOUT, metadata=metadata),
        "bare_pb": lambda: typed(
            plugin_api_pb2.GetUserRequest(user_id=USER_ID), timeout=TIMEOUT, metadata=metadata
        ),
    }

    # The three carry the same user, and it is a filled one.
    response_bytes = calls["bare"]()
    user = plugin_api_pb2.GetUserResponse.FromString(response_bytes).user
    if not user.id or calls["sdk"]() != user or calls["bare_pb"]().user != user:
        print("api_call: the three calls do not return the same filled user", file=sys.stderr)
        return 1

    names = list(calls)
    times = {name: [] for name in names}
    for i in range(args.warmup + args.calls):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            call = calls[name]
            t0 = time.perf_counter_ns()
            call()
            elapsed = time.perf_counter_ns() - t0
            if i >= args.warmup:
                times[name].append(elapsed / 1000.0)
    channel.close()
    json.dump({**times, "response_bytes": len(response_bytes)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
