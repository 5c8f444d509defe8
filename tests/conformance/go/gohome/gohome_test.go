// Package gohome proves that the bridge can live in another Go home: with
// `[go]` in mm-bindgen.toml naming another module and bridge package (and
// the protos' go_package moved into that module), the generated tree, the
// message code and the copied runtime build and pass go vet there.
package gohome

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mmbindgen.dev/conformance/internal/scratch"
	"mmbindgen.dev/conformance/parity"
)

const (
	module        = "example.com/mmserver/public"
	bridgePackage = "pybridge"
)

func TestAnotherGoHome(t *testing.T) {
	root, err := parity.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := parity.Binary(root)
	if err != nil {
		t.Fatal(err)
	}

	// The protos, with their go_package moved into the other module.
	work := t.TempDir()
	protoDir := filepath.Join(work, "proto")
	err = filepath.Walk(filepath.Join(root, "proto"), func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, "proto"), path)
		target := filepath.Join(protoDir, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte(`go_package = "mmbindgen.dev/generated/go/`), []byte(`go_package = "`+module+`/`))
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(root, "tools")
	config := `proto = "proto"
out = "out"

[go]
module = "` + module + `"
package = "` + bridgePackage + `"

[[plugins]]
name = "protoc-gen-go"
command = ["go", "-C", "` + tools + `", "tool", "protoc-gen-go"]
parameter = "module=` + module + `"
out = "go"

[[plugins]]
name = "protoc-gen-go-grpc"
command = ["go", "-C", "` + tools + `", "tool", "protoc-gen-go-grpc"]
parameter = "module=` + module + `,require_unimplemented_servers=false"
out = "go"
`
	if err := os.WriteFile(filepath.Join(work, "mm-bindgen.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	scratch.Run(t, work, bin, "generate")

	out := filepath.Join(work, "out", "go")
	goMod, err := os.ReadFile(filepath.Join(out, "go.mod"))
	if err != nil || !strings.Contains(string(goMod), "\nmodule "+module+"\n") {
		t.Fatalf("go.mod does not name %s (%v):\n%s", module, err, goMod)
	}
	for _, name := range []string{"api_client.go", "hooks_server.go", "convert_model_post.go", "errors.go", "launcher_test.go"} {
		src, err := os.ReadFile(filepath.Join(out, bridgePackage, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "\npackage "+bridgePackage+"\n") {
			t.Errorf("%s is not in package %s", name, bridgePackage)
		}
		if strings.Contains(string(src), "mmbindgen.dev/") {
			t.Errorf("%s still refers to the default home", name)
		}
	}

	// A module that uses the bridge, with the pinned requirements of the
	// conformance module.
	user := t.TempDir()
	scratch.UserModule(t, user, "gohomeuser", "..", module, bridgePackage, out)
	scratch.Run(t, user, "go", "build", "-mod=mod", "./...")
	scratch.Run(t, user, "go", "vet", "-mod=mod", module+"/...")
	if unformatted := scratch.Run(t, user, "gofmt", "-l", out); unformatted != "" {
		t.Errorf("gofmt would change:\n%s", unformatted)
	}
}
