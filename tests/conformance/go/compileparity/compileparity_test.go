// Package compileparity proves that the Go compiler guards parity: after one
// RPC is deleted from a scratch copy of proto/, the regenerated bridge no
// longer builds, because APIClient no longer implements plugin.API.
package compileparity

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mmbindgen.dev/conformance/internal/scratch"
)

// repoRoot is four directories up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "mm-bindgen.toml")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

func binary(t *testing.T, root string) string {
	t.Helper()
	bin := os.Getenv("MM_BINDGEN")
	if bin == "" {
		bin = filepath.Join(root, "target", "release", "mm-bindgen")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("mm-bindgen binary not found at %s (build it with cargo build --release, or set MM_BINDGEN): %v", bin, err)
	}
	return bin
}

func run(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// build regenerates the bridge from protoDir into a scratch tree and builds
// it inside a scratch module that has this module's requirements.
func build(t *testing.T, root, bin, protoDir string) (string, error) {
	t.Helper()
	out := t.TempDir()
	if log, err := run(t, root, bin, "--proto", protoDir, "--out", out, "generate"); err != nil {
		t.Fatalf("generate failed: %v\n%s", err, log)
	}
	module := t.TempDir()
	goMod, err := os.ReadFile(filepath.Join(root, "tests", "conformance", "go", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^module .*$`).ReplaceAllString(string(goMod), "module scratch")
	text = regexp.MustCompile(`(?m)^replace mmbindgen.dev/generated/go => .*$`).ReplaceAllString(text, "")
	text += "\nrequire mmbindgen.dev/generated/go v0.0.0\n\nreplace mmbindgen.dev/generated/go => " + filepath.Join(out, "go") + "\n"
	goSum, err := os.ReadFile(filepath.Join(root, "tests", "conformance", "go", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	main := "package main\n\nimport _ \"mmbindgen.dev/generated/go/bridge\"\n\nfunc main() {}\n"
	for name, content := range map[string]string{"go.mod": text, "go.sum": string(goSum), "main.go": main} {
		if err := os.WriteFile(filepath.Join(module, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return run(t, module, "go", "build", "-mod=mod", "./...")
}

func TestDeletingAnRPCBreaksTheBuild(t *testing.T) {
	root := repoRoot(t)
	bin := binary(t, root)

	protoDir := filepath.Join(t.TempDir(), "proto")
	scratch.CopyTree(t, filepath.Join(root, "proto"), protoDir)
	if log, err := build(t, root, bin, protoDir); err != nil {
		t.Fatalf("the unmodified copy must build: %v\n%s", err, log)
	}

	api := filepath.Join(protoDir, "mattermost", "plugin", "v1", "plugin_api.proto")
	src, err := os.ReadFile(api)
	if err != nil {
		t.Fatal(err)
	}
	rpc := regexp.MustCompile(`(?s)\n  rpc GetUser\(GetUserRequest\) returns \(GetUserResponse\) \{.*?\n  \}\n`)
	if !rpc.Match(src) {
		t.Fatal("rpc GetUser not found in plugin_api.proto")
	}
	if err := os.WriteFile(api, rpc.ReplaceAll(src, []byte("\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := build(t, root, bin, protoDir)
	if err == nil {
		t.Fatal("the bridge still builds without rpc GetUser: parity is not enforced by the compiler")
	}
	if !strings.Contains(log, "does not implement") || !strings.Contains(log, "missing method GetUser") {
		t.Fatalf("the build failed for another reason:\n%s", log)
	}
	t.Logf("as expected, the build fails:\n%s", log)
}
