// Shows the gate end to end: a copy of proto/ with one RPC deleted, run
// through the real mm-bindgen binary, is reported as missing that method.

package parity

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mmbindgen.dev/conformance/internal/scratch"
)

// deleteRPC removes the declaration of `rpc <name>(` from proto source: the
// line, its option block up to the matching close brace, and the comment
// lines directly above it.
func deleteRPC(src, name string) (string, error) {
	lines := strings.Split(src, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "rpc "+name+"(") {
			if start >= 0 {
				return "", fmt.Errorf("rpc %s is declared twice", name)
			}
			start = i
		}
	}
	if start < 0 {
		return "", fmt.Errorf("no rpc %s", name)
	}
	end, depth := start, 0
	for ; end < len(lines); end++ {
		depth += strings.Count(lines[end], "{") - strings.Count(lines[end], "}")
		if depth == 0 {
			break
		}
	}
	if end == len(lines) {
		return "", fmt.Errorf("rpc %s: option block never closes", name)
	}
	for start > 0 && strings.HasPrefix(strings.TrimSpace(lines[start-1]), "//") {
		start--
	}
	return strings.Join(slices.Delete(lines, start, end+1), "\n"), nil
}

func TestDeleteRPC(t *testing.T) {
	src := "service S {\n  // Keep.\n  rpc A(X) returns (Y);\n\n  // Gone.\n  // Gone too.\n  rpc B(X) returns (Y) {\n    option (o) = {v: \"1\"};\n  }\n\n  rpc BB(X) returns (Y);\n}\n"
	got, err := deleteRPC(src, "B")
	if err != nil {
		t.Fatal(err)
	}
	want := "service S {\n  // Keep.\n  rpc A(X) returns (Y);\n\n\n  rpc BB(X) returns (Y);\n}\n"
	if got != want {
		t.Errorf("deleteRPC:\n%s\nwant:\n%s", got, want)
	}
	if _, err := deleteRPC(src, "C"); err == nil {
		t.Error("deleting an unknown rpc should fail")
	}
}

func TestEndToEndDeletedRPC(t *testing.T) {
	f := setup(t)
	dir := t.TempDir()
	proto := filepath.Join(dir, "proto")
	scratch.CopyTree(t, filepath.Join(f.repo, "proto"), proto)
	file := filepath.Join(proto, "mattermost", "plugin", "v1", "plugin_api.proto")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited, err := deleteRPC(string(src), "GetUser")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := ListJSON(f.bin, proto, dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseModel(out)
	if err != nil {
		t.Fatal(err)
	}
	base := Check(f.model(t), f.goSide).Lines
	plus, minus := added(base, Check(m, f.goSide).Lines)
	want := []string{"plugin.API.GetUser: missing: Go has this method, proto has no RPC with go_name GetUser"}
	if !slices.Equal(plus, want) || len(minus) > 0 {
		t.Errorf("new difference lines:\n  %s\nwant:\n  %s\nlines that went away: %q",
			strings.Join(plus, "\n  "), strings.Join(want, "\n  "), minus)
	}
}
