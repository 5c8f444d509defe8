// Package golden compiles the Go of the golden cases: every case under
// tests/golden whose expected output holds a go/ tree is built, vetted,
// checked by staticcheck and tested under its own go.mod, in the Go home
// its mm-bindgen.toml names.
//
// The expected tree holds mm-bindgen's own output only; the message code
// it imports comes from protoc-gen-go and protoc-gen-go-grpc, which this
// test runs through mm-bindgen's [[plugins]] on the case's protos (golden
// runs skip them). The module the bridge needs is the pinned requirements
// of this conformance module.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"mmbindgen.dev/conformance/internal/scratch"
	"mmbindgen.dev/conformance/parity"
)

const defaultModule = "mmbindgen.dev/generated/go"

var moduleLine = regexp.MustCompile(`(?m)^module\s*=\s*"([^"]+)"`)

func TestGoldenCasesBuild(t *testing.T) {
	root, err := parity.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := parity.Binary(root)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := filepath.Glob(filepath.Join(root, "tests", "golden", "*", "expected", "go"))
	if err != nil {
		t.Fatal(err)
	}
	homes := map[string]bool{}
	for _, expected := range cases {
		dir := filepath.Dir(filepath.Dir(expected))
		module := defaultModule
		if config, err := os.ReadFile(filepath.Join(dir, "mm-bindgen.toml")); err == nil {
			if m := moduleLine.FindSubmatch(config); m != nil {
				module = string(m[1])
			}
		}
		homes[module] = true
		t.Run(filepath.Base(dir), func(t *testing.T) { buildCase(t, root, bin, dir, module) })
	}
	if len(cases) < 2 || len(homes) < 2 {
		t.Fatalf("want at least two golden cases with Go output, one in another Go home; found %d in %d homes", len(cases), len(homes))
	}
}

func buildCase(t *testing.T, root, bin, dir, module string) {
	expected := filepath.Join(dir, "expected", "go")
	entries, err := os.ReadDir(expected)
	if err != nil {
		t.Fatal(err)
	}
	var bridgePackage string
	for _, e := range entries {
		if e.IsDir() {
			if bridgePackage != "" {
				t.Fatalf("%s holds more than one package: %s and %s", expected, bridgePackage, e.Name())
			}
			bridgePackage = e.Name()
		}
	}
	if bridgePackage == "" {
		t.Fatalf("%s holds no bridge package", expected)
	}

	// The message code: the case's protos and the option vocabulary they
	// import, through the pinned Go protoc plugins, in the case's Go home.
	work := t.TempDir()
	scratch.CopyTree(t, filepath.Join(dir, "input"), filepath.Join(work, "proto"))
	scratch.CopyTree(t, filepath.Join(root, "proto", "mmbindgen"), filepath.Join(work, "proto", "mmbindgen"))
	// protoc-gen-go writes only into the case's module: the vocabulary's
	// message package moves there.
	options := filepath.Join(work, "proto", "mmbindgen", "v1", "options.proto")
	data, err := os.ReadFile(options)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(`go_package = "`+defaultModule+`/`), []byte(`go_package = "`+module+`/`))
	if err := os.WriteFile(options, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(root, "tools")
	config := `proto = "proto"
out = "out"

[[plugins]]
name = "protoc-gen-go"
go_package = "google.golang.org/protobuf/cmd/protoc-gen-go"
go_module = "` + tools + `"
parameter = "module=` + module + `"
out = "go"

[[plugins]]
name = "protoc-gen-go-grpc"
go_package = "google.golang.org/grpc/cmd/protoc-gen-go-grpc"
go_module = "` + tools + `"
parameter = "module=` + module + `,require_unimplemented_servers=false"
out = "go"
`
	if caseConfig, err := os.ReadFile(filepath.Join(dir, "mm-bindgen.toml")); err == nil {
		config += "\n" + string(caseConfig)
	}
	if err := os.WriteFile(filepath.Join(work, "mm-bindgen.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	scratch.Run(t, work, bin, "generate")

	// The module: the message code generated here, the bridge and go.mod
	// exactly as the case expects them.
	out := filepath.Join(work, "out", "go")
	if err := os.RemoveAll(filepath.Join(out, bridgePackage)); err != nil {
		t.Fatal(err)
	}
	scratch.CopyTree(t, expected, out)
	pbFiles, _ := filepath.Glob(filepath.Join(out, "*", "*.pb.go"))
	if len(pbFiles) == 0 {
		t.Fatalf("the protoc plugins wrote no message code under %s", out)
	}

	// A module that uses the bridge, with the pinned requirements of the
	// conformance module.
	user := t.TempDir()
	scratch.UserModule(t, user, "goldenuser", "..", module, bridgePackage, out)
	scratch.Run(t, user, "go", "build", "-mod=mod", "./...")
	scratch.Run(t, user, "go", "vet", "-mod=mod", module+"/...")
	scratch.Run(t, user, "go", "test", "-mod=mod", module+"/"+bridgePackage)
	scratch.Run(t, user, "go", "tool", "-modfile="+filepath.Join(tools, "go.mod"), "staticcheck", "-checks=inherit,-SA1019", module+"/"+bridgePackage)
	if unformatted := scratch.Run(t, user, "gofmt", "-l", filepath.Join(out, bridgePackage)); unformatted != "" {
		t.Errorf("gofmt would change:\n%s", unformatted)
	}
}
