// Package parity is the parity gate between mm-bindgen's proto model and the
// Go interfaces it mirrors.
//
// The proto files under proto/ describe the Mattermost Go interfaces
// plugin.API and plugin.Hooks and the model structs they use. The gate loads
// the real Go packages (the module version pinned in this module's go.mod is
// the only place that version is written), reads the model that
// `mm-bindgen list --json` prints, and reports every place where the two
// disagree: methods, signatures, doc-comment facts, struct fields, types
// reachable from the interfaces and Go import aliases.
//
// File roles:
//
//   - model.go: the subset of the `list --json` format the gate reads, and
//     running the binary.
//   - goside.go: loading plugin.API, plugin.Hooks and their doc comments with
//     go/packages and go/types.
//   - typestring.go: printing Go types the way go_type values are written.
//   - docfacts.go: reading `Minimum server version:`, `@tag`, EXPERIMENTAL and
//     `Deprecated:` from doc comments.
//   - check.go: the comparison itself, producing one line per difference.
//   - pin.go: keeps the pinned Mattermost packages in go.mod and go.sum.
//
// Tests:
//
//   - gate_test.go: TestParity, the gate on the real proto/, and the shared
//     fixture (repository, binary, Go side, `list --json` output).
//   - mutation_test.go: mutations of the loaded model, each producing exactly
//     the expected difference lines.
//   - e2e_test.go: a copy of proto/ with one RPC deleted, run through the
//     binary, reported as a missing method.
//   - unit_test.go: the type printer and the doc-comment reader.
package parity
