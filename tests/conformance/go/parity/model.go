// The proto side of the gate: the part of the `mm-bindgen list --json`
// format that the comparison reads, and how the binary is found and run.

package parity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Model is the subset of the JSON printed by `mm-bindgen list --json` that the
// gate compares. Unknown JSON fields are ignored.
type Model struct {
	GoImports []GoImport `json:"go_imports"`
	Services  []Service  `json:"services"`
	Messages  []Message  `json:"messages"`
	Enums     []Enum     `json:"enums"`
}

// GoImport is a Go import alias that go_type expressions may use.
type GoImport struct {
	Alias string `json:"alias"`
	Path  string `json:"path"`
}

// Service is a proto service; GoInterface names the Go interface it mirrors
// (e.g. "plugin.API"), empty when it mirrors none.
type Service struct {
	Name        string   `json:"name"`
	FullName    string   `json:"full_name"`
	GoInterface string   `json:"go_interface"`
	Methods     []Method `json:"methods"`
}

// Method is one RPC with its resolved Go name, doc facts and Go signature.
type Method struct {
	Name             string      `json:"name"`
	GoName           string      `json:"go_name"`
	MinServerVersion string      `json:"min_server_version"`
	Tags             []string    `json:"tags"`
	Deprecated       string      `json:"deprecated"`
	Experimental     bool        `json:"experimental"`
	Go               GoSignature `json:"go"`
}

// GoSignature is the Go signature an RPC stands for; the error result, when
// there is one, is last.
type GoSignature struct {
	Params  []GoValue `json:"params"`
	Results []GoValue `json:"results"`
}

// GoValue is one Go parameter or result and the proto field carrying it.
type GoValue struct {
	Name   string `json:"name"`
	GoType string `json:"go_type"`
	Role   string `json:"role"`
	Field  string `json:"field"`
}

// Message is a proto message. GoType is the Go type it mirrors (empty for
// protocol messages); JSON is set when the Go value travels as JSON bytes.
type Message struct {
	Name     string         `json:"name"`
	FullName string         `json:"full_name"`
	GoType   string         `json:"go_type"`
	JSON     bool           `json:"json"`
	Skipped  []SkippedField `json:"skipped"`
	Fields   []Field        `json:"fields"`
}

// SkippedField is an exported Go field that the message deliberately does not
// carry.
type SkippedField struct {
	GoName string `json:"go_name"`
	Reason string `json:"reason"`
}

// Field is a proto field with its resolved Go name and Go type.
type Field struct {
	Name   string `json:"name"`
	GoName string `json:"go_name"`
	GoType string `json:"go_type"`
}

// Enum is a proto enum and the Go type it mirrors, if any.
type Enum struct {
	FullName string `json:"full_name"`
	GoType   string `json:"go_type"`
}

// ParseModel decodes the output of `mm-bindgen list --json`.
func ParseModel(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding `mm-bindgen list --json` output: %w", err)
	}
	return &m, nil
}

// RepoRoot finds the mm-bindgen repository that contains dir: the nearest
// ancestor holding both Cargo.toml and proto/.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if isFile(filepath.Join(d, "Cargo.toml")) && isDir(filepath.Join(d, "proto")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no mm-bindgen repository (Cargo.toml and proto/) above %s", dir)
		}
	}
}

// Binary returns the mm-bindgen binary to run: $MM_BINDGEN when set, else
// <repo>/target/release/mm-bindgen. It is an error (never a reason to skip)
// when the file does not exist.
func Binary(repo string) (string, error) {
	bin := os.Getenv("MM_BINDGEN")
	from := "MM_BINDGEN"
	if bin == "" {
		bin = filepath.Join(repo, "target", "release", "mm-bindgen")
		from = "the default path"
	}
	if !isFile(bin) {
		return "", fmt.Errorf("mm-bindgen binary not found at %s (%s): build it with `cargo build --release` in %s, or point MM_BINDGEN at it", bin, from, repo)
	}
	return bin, nil
}

// ListJSON runs `<bin> --proto <protoDir> list --json` in dir and returns its
// standard output.
func ListJSON(bin, protoDir, dir string) ([]byte, error) {
	cmd := exec.Command(bin, "--proto", protoDir, "list", "--json")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("%s --proto %s list --json: %v\n%s", bin, protoDir, err, stderr.String())
		}
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	return stdout.Bytes(), nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
