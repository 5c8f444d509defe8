// Package scratch holds what the tests that build scratch trees share:
// running a command, copying a tree, and a Go module that uses a generated
// bridge with the pinned requirements of this conformance module.
package scratch

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// CopyTree copies the files under from into to, creating directories.
func CopyTree(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// UserModule writes into dir a module named name whose main package imports
// module/bridgePackage, the bridge generated into the directory out. Its
// go.mod and go.sum are the conformance module's (conformanceDir holds
// them), so the bridge builds against the pinned Mattermost module, grpc-go
// and protobuf-go; module is required through a replace of out.
func UserModule(t testing.TB, dir, name, conformanceDir, module, bridgePackage, out string) {
	t.Helper()
	conformance, err := os.ReadFile(filepath.Join(conformanceDir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^module .*$`).ReplaceAllString(string(conformance), "module "+name)
	text = regexp.MustCompile(`(?m)^replace mmbindgen.dev/generated/go => .*$`).ReplaceAllString(text, "")
	text = regexp.MustCompile(`(?m)^\s*mmbindgen.dev/generated/go v0.0.0\s*$`).ReplaceAllString(text, "")
	text += "\nrequire " + module + " v0.0.0\n\nreplace " + module + " => " + out + "\n"
	goSum, err := os.ReadFile(filepath.Join(conformanceDir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	main := "package main\n\nimport _ \"" + module + "/" + bridgePackage + "\"\n\nfunc main() {}\n"
	for file, content := range map[string]string{"go.mod": text, "go.sum": string(goSum), "main.go": main} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Run runs name with args in dir and returns its combined output; a failure
// ends the test with that output.
func Run(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out.String())
	}
	return out.String()
}
