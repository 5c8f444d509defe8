// Package crosslang is the cross-language conformance suite of the bridge: a
// real Python plugin process, written against the generated Python SDK
// (tests/conformance/python/plugin), started through bridge.Launch, talks to
// Go over real gRPC in both directions.
//
//   - TestAPI/<Method>: every method of plugin.API (258, counted), called by
//     the plugin through PluginAPI (sync) and AsyncPluginAPI (async), with
//     filled values and with zero values (zero_sync, zero_async).
//   - TestAPIErrors/<case>: AppErrors of every status class and a plain Go
//     error raise the PluginAPIError subclass of their status with every
//     field; a deadline, a missing or wrong token and an unreachable server
//     raise the subclass of their gRPC status.
//   - TestAPINilAndEmpty: optional bytes keep nil and empty apart.
//   - TestHooks/<Hook>/<case>: every hook of plugin.Hooks (52, counted),
//     called through the launcher's hooks client; the cases are listed in
//     hooks_test.go.
//   - TestHookFallbacks/<group>/<Hook>: the not_implemented and unavailable
//     answers of the proto options when the plugin lacks the hook, times out
//     (Python's timeout, Go's), raises, or was killed.
//   - TestStreams: 16 MiB each way through ServeHTTP and FileWillBeUploaded,
//     byte for byte, with the Python process's peak memory growth.
//
// # Fixtures
//
// Every API method and every hook case gets deterministic Go values (the
// filler of the roundtrip package, seeded by the subtest name). Their proto
// encodings are the bridge's own: the Go client calls the Go server over an
// in-process gRPC server whose interceptors capture the request and
// response messages (a stream merged into one message, its chunks
// concatenated). The fixtures, with the Go parameters and results (names,
// roles, fields) of `mm-bindgen list --json`, go to a JSON file that the
// plugin reads ($XLANG_FIXTURES). The plugin turns request fields into
// Python arguments by the rules of design/python.md (tests/conformance/
// python/xlang/values.py), binds them to the client method's signature, and
// compares what comes back with the response fixture; Go compares what its
// fake API received with the Go values (roundtrip.Diff).
//
// # Processes
//
// One process per mode, all started at once by TestMain and shared by the
// tests:
//
//   - full: every hook implemented (def and async def handlers). Its
//     ExecuteCommand hook also takes the suite's control commands ("/api
//     <Method> <sync|async>", "/apierr", "/kv", "/case <Hook> <case>" before
//     a hook call and "/report <Hook>" after it, "/pid"); streams.
//   - zero: the same plugin, with the zero-value API fixtures and fake.
//   - raise: every hook raises; SIGKILLed for the dead process cases.
//   - slow_even, slow_odd: every other hook sleeps beyond the Python hook
//     timeout (MM_PLUGIN_HOOK_TIMEOUT=0.5); the other half is not
//     implemented.
//   - go_timeout: every hook sleeps beyond the Go per-call timeout.
//
// The interpreter is $MM_PYTHON, by default <repo>/.venv/bin/python (the
// environment scripts/test builds); a missing interpreter fails the tests.
// The plugin imports the SDK from <repo>/generated/python.
package crosslang
