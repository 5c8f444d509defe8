// Package roundtrip is the round-trip suite of the generated Go bridge
// (mmbindgen.dev/generated/go/bridge) against the Mattermost module pinned in
// this module's go.mod.
//
// Everything runs over real grpc-go on a loopback TCP listener
// (127.0.0.1:0), with the Mattermost mocks plugintest.API and
// plugintest.Hooks as the fakes behind the servers:
//
//   - TestAPIRoundTrip: every method of plugin.API (found by reflection; the
//     count is asserted), called on bridge.APIClient → gRPC →
//     bridge.APIServer → plugintest.API. Per method: "filled" (random
//     values everywhere), "zero" (nil pointers, nil slices and maps, zero
//     structs), and for methods whose last result is *model.AppError or
//     error, "app_error" (an AppError with every field set) and, for error,
//     "plain_error" (errors.New).
//   - TestHooksRoundTrip: the same for every method of plugin.Hooks through
//     bridge.HooksClient → gRPC → bridge.HooksServer → plugintest.Hooks,
//     plus per hook the fallbacks that the proto options not_implemented and
//     unavailable of proto/mattermost/plugin/v1/plugin_hooks.proto document:
//     not implemented (missing from Implemented, or status UNIMPLEMENTED)
//     and transport failure (a stopped server, or none from the start).
//     The options are read from `mm-bindgen list --json` (model.go; the
//     binary is found as the parity gate finds it), not copied by hand.
//   - TestDescriptorOptions: the compiled descriptors of generated/go/pluginpb
//     carry those options, as protoc would have put them there.
//   - TestConverterRoundTrip: every XToProto / XFromProto pair of
//     bridge.Converter, with proto.Marshal and proto.Unmarshal in between:
//     "filled", and "empty" (a pointer to the zero value, which must come
//     back as one).
//   - bench_test.go: conversion against encoding/json, and a bridged API
//     call against a bare grpc-go call carrying the same message.
//
// # Random values
//
// Filler (fill.go) sets every exported field of every struct, recursively up
// to a depth limit: strings non-empty (valid UTF-8, some non-ASCII), numbers
// non-zero (64-bit ones beyond 32 bits), bools true, pointers set, slices and
// maps non-empty. Values of type any (and the values of map[string]any) are
// JSON-shaped only: string, float64, bool, nil, []any, map[string]any.
// json.RawMessage holds a JSON object. Times are in UTC. Function fields
// stay nil. The seed of each subtest is derived from its name (set
// ROUNDTRIP_SEED to vary it) and printed on failure.
//
// # Special parameters
//
//   - io.Reader (InstallPlugin, UploadData, ...): more than two 64 KiB chunks
//     (empty in "zero"); the fake reads it during the call, and the bytes are
//     compared.
//   - dest any (LoadPluginConfiguration): a *map[string]any; the fake fills
//     the map the server hands it, and dest is compared after decoding.
//   - ...any (Log*): key/value pairs of JSON-shaped values (none in "zero").
//   - *http.Request (PluginHTTP, ServeHTTP, ServeMetrics): "filled" is a POST
//     with headers and a body of more than two chunks, answered 201 with
//     headers and a body of more than one chunk; "zero" is a GET / without
//     body answered 200 without body (a nil request or response is no valid
//     zero value there). Method, URI, the headers set and the bodies are
//     compared.
//   - FileWillBeUploaded: more than two chunks in, the fake reads them all
//     and writes more than one chunk to the output writer.
//
// # Equality rules
//
// These are the only rules the suite relaxes; everything else must be equal
// (Diff in equal.go implements them):
//
//  1. A nil slice equals an empty one, and a nil map equals an empty one.
//     A nil pointer does not equal a pointer to a zero value.
//  2. Inside values of static type any (struct fields of type any, the
//     values of map[string]any, variadic ...any, AppError params), values
//     are compared after an encoding/json round trip, so that the number
//     types normalise (int 3 equals float64 3). Nowhere else.
//  3. json.RawMessage compares as JSON (same value after decoding), not byte
//     by byte.
//  4. time.Time compares with Equal (the same instant).
//  5. *model.AppError compares by Id, Message, DetailedError, RequestId,
//     StatusCode, Where, and its params as SystemMessage hands them to a
//     capturing translate function (rule 2 applies to them).
//  6. Unexported struct fields, function fields, and the exported fields a
//     model message lists in its `skip` option (with a reason) are not
//     compared; those skips are read from `mm-bindgen list --json`.
//  7. A plain error compares by its Error() text.
package roundtrip
