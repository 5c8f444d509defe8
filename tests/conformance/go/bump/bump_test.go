// Package bump rehearses a version bump of the pinned Mattermost module end
// to end. The "old" API is a scratch copy of proto/ without a few methods
// and hooks (the pinned plugin.API and plugin.Hooks then play the newer
// version). The test walks the maintainer's loop: the parity gate names
// exactly the missing methods; `mm-bindgen scaffold` drafts them from the
// pinned api.go and hooks.go in the Go module cache; the gate passes;
// `generate` renders the bridge, and go vet and the round trips of every
// API method, hook and model type pass on the scratch tree; `diff
// --against` the old tree reports exactly the added methods, as compatible.

//go:debug gotypesalias=1

package bump

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"mmbindgen.dev/conformance/internal/scratch"
	"mmbindgen.dev/conformance/parity"
)

// The methods the old API lacks: plain ones, a map result, an io.Reader
// stream, variadic key-value pairs; hooks with and without results.
var (
	removedAPI   = []string{"IsEnterpriseReady", "GetLDAPUserAttributes", "UpdateChannelMemberNotifications", "InstallPlugin", "LogWarn"}
	removedHooks = []string{"UserHasBeenCreated", "RunDataRetention", "OnInstall"}
)

// removeMethod deletes `rpc <name>(` with its comment and option block, and
// the messages <name>Request and <name>Response with their comments.
func removeMethod(src, name string) (string, error) {
	lines := strings.Split(src, "\n")
	cut := func(start int, closes func(i int) bool) error {
		end := start
		for end < len(lines) && !closes(end) {
			end++
		}
		if end == len(lines) {
			return fmt.Errorf("%s: declaration at line %d never closes", name, start+1)
		}
		for start > 0 && strings.HasPrefix(strings.TrimSpace(lines[start-1]), "//") {
			start--
		}
		lines = slices.Delete(lines, start, end+1)
		return nil
	}
	find := func(prefix string) int {
		return slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), prefix) })
	}
	i := find("rpc " + name + "(")
	if i < 0 {
		return "", fmt.Errorf("no rpc %s", name)
	}
	depth := 0
	if err := cut(i, func(j int) bool {
		depth += strings.Count(lines[j], "{") - strings.Count(lines[j], "}")
		return depth == 0
	}); err != nil {
		return "", err
	}
	for _, suffix := range []string{"Request", "Response"} {
		i := find("message " + name + suffix + " ")
		if i < 0 {
			return "", fmt.Errorf("no message %s%s", name, suffix)
		}
		if err := cut(i, func(j int) bool { return strings.HasSuffix(lines[i], "{}") || lines[j] == "}" }); err != nil {
			return "", err
		}
	}
	return strings.Join(lines, "\n"), nil
}

func run(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = exit.ExitCode()
	}
	if code > 1 || (code == 1 && name != "mm-bindgen" && !strings.HasSuffix(name, "mm-bindgen")) {
		t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return stdout.String(), code
}

func gate(t *testing.T, bin, proto, repo string, g *parity.GoSide) *parity.Report {
	t.Helper()
	out, err := parity.ListJSON(bin, proto, repo)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parity.ParseModel(out)
	if err != nil {
		t.Fatal(err)
	}
	return parity.Check(m, g)
}

func TestRehearsedBump(t *testing.T) {
	repo, err := parity.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := parity.Binary(repo)
	if err != nil {
		t.Fatal(err)
	}
	g, err := parity.LoadGo(".")
	if err != nil {
		t.Fatal(err)
	}
	_, version, _ := strings.Cut(g.Module, "@")

	// The scratch repository: Cargo.toml and proto/ mark its root for the
	// round trips, which read the model of proto/ through the binary.
	repoCopy := t.TempDir()
	old := filepath.Join(t.TempDir(), "proto")
	scratch.CopyTree(t, filepath.Join(repo, "proto"), old)
	for file, names := range map[string][]string{"plugin_api.proto": removedAPI, "plugin_hooks.proto": removedHooks} {
		path := filepath.Join(old, "mattermost/plugin/v1", file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		for _, name := range names {
			if src, err = removeMethod(src, name); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	proto := filepath.Join(repoCopy, "proto")
	scratch.CopyTree(t, old, proto)
	if err := os.WriteFile(filepath.Join(repoCopy, "Cargo.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	// 1. The parity gate names exactly the missing methods.
	var want []string
	for _, n := range removedAPI {
		want = append(want, fmt.Sprintf("plugin.API.%s: missing: Go has this method, proto has no RPC with go_name %s", n, n))
	}
	for _, n := range removedHooks {
		want = append(want, fmt.Sprintf("plugin.Hooks.%s: missing: Go has this method, proto has no RPC with go_name %s", n, n))
	}
	sort.Strings(want)
	r := gate(t, bin, proto, repo, g)
	got := slices.Sorted(slices.Values(r.Lines))
	if !slices.Equal(got, want) {
		t.Fatalf("the gate on the old tree:\n%s\nwant exactly:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// 2. scaffold drafts them from the module cache.
	out, code := run(t, repo, nil, bin, "--proto", proto, "scaffold", "--module", version)
	if code != 0 {
		t.Fatalf("scaffold reported things to check:\n%s", out)
	}
	t.Logf("scaffold:\n%s", out)
	for _, n := range removedAPI {
		if !strings.Contains(out, "drafted plugin.API."+n+" in ") {
			t.Errorf("scaffold did not draft plugin.API.%s:\n%s", n, out)
		}
	}
	for _, n := range removedHooks {
		if !strings.Contains(out, "drafted plugin.Hooks."+n+" in ") {
			t.Errorf("scaffold did not draft plugin.Hooks.%s:\n%s", n, out)
		}
	}

	// 3. The gate passes on the drafted tree.
	if r := gate(t, bin, proto, repo, g); !r.OK() {
		t.Fatalf("the gate after scaffold:\n%s", r)
	}

	// 4. generate (with the protoc plugins of the repository's
	// mm-bindgen.toml), then go vet and the round trips on the scratch tree.
	generated := filepath.Join(repoCopy, "generated")
	run(t, repo, nil, bin, "--proto", proto, "--out", generated, "generate")
	conformance := filepath.Join(repoCopy, "tests/conformance/go")
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(repo, "tests/conformance/go", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(conformance, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(conformance, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, pkg := range []string{"parity", "roundtrip", "internal/scratch"} {
		scratch.CopyTree(t, filepath.Join(repo, "tests/conformance/go", pkg), filepath.Join(conformance, pkg))
	}
	env := []string{"MM_BINDGEN=" + bin}
	run(t, conformance, env, "go", "vet", "./...", "mmbindgen.dev/generated/go/...")
	run(t, conformance, env, "go", "test", "-count=1", "./...", "mmbindgen.dev/generated/go/...")

	// 5. diff against the old tree: exactly the added methods and their
	// messages, all compatible.
	out, code = run(t, repo, nil, bin, "--proto", proto, "diff", "--against", old, "--format", "json")
	if code != 0 {
		t.Fatalf("diff exits %d:\n%s", code, out)
	}
	var report struct {
		Breaking bool
		Changes  []struct {
			Scope   struct{ Kind, Name string }
			Element string
			Name    string
			Kind    string
			Wire    string
			Source  string
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	var added, wantAdded []string
	for _, c := range report.Changes {
		if c.Kind != "added" || c.Wire != "compatible" || c.Source != "compatible" {
			t.Errorf("not a compatible addition: %+v", c)
		}
		added = append(added, c.Element+" "+c.Name)
	}
	for _, n := range removedAPI {
		wantAdded = append(wantAdded, "rpc "+n, "message mattermost.plugin.v1."+n+"Request", "message mattermost.plugin.v1."+n+"Response")
	}
	for _, n := range removedHooks {
		wantAdded = append(wantAdded, "hook "+n, "message mattermost.plugin.v1."+n+"Request", "message mattermost.plugin.v1."+n+"Response")
	}
	sort.Strings(added)
	sort.Strings(wantAdded)
	if report.Breaking || !slices.Equal(added, wantAdded) {
		t.Errorf("diff --against the old tree:\n%s\nwant exactly:\n%s", strings.Join(added, "\n"), strings.Join(wantAdded, "\n"))
	}
}
