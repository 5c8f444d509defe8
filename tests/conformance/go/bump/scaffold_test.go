package bump

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mmbindgen.dev/conformance/internal/scratch"

	"mmbindgen.dev/conformance/parity"
)

// The methods added to a scratch copy of the pinned module's plugin.API:
// one plain, one taking an io.Reader (a client stream), one taking a map of
// slices (a map of list-wrapper messages). The plugin package's RPC client
// and timer layer must still implement API, so the copy also gets their
// methods.
const addedMethods = `
	// CountActiveUsers returns how many users were active since the given time.
	//
	// @tag User
	// Minimum server version: 11.3
	CountActiveUsers(sinceMillis int64) (int64, *model.AppError)

	// ImportChannelData reads an export archive into a channel.
	//
	// @tag Channel
	// @tag Import
	// Minimum server version: 11.3
	ImportChannelData(channelID string, data io.Reader) (*model.FileInfo, error)

	// SetChannelTags replaces the tags of a channel, grouped by category.
	//
	// EXPERIMENTAL: This API is experimental and can be changed without advance notice.
	//
	// @tag Channel
	// Minimum server version: 11.3
	SetChannelTags(channelID string, tags map[string][]string) *model.AppError
}
`

const addedClientMethods = `package plugin

import (
	"io"

	"github.com/mattermost/mattermost/server/public/model"
)

func (g *apiRPCClient) CountActiveUsers(sinceMillis int64) (int64, *model.AppError) {
	return 0, nil
}

func (g *apiRPCClient) ImportChannelData(channelID string, data io.Reader) (*model.FileInfo, error) {
	return nil, nil
}

func (g *apiRPCClient) SetChannelTags(channelID string, tags map[string][]string) *model.AppError {
	return nil
}

func (api *apiTimerLayer) CountActiveUsers(sinceMillis int64) (int64, *model.AppError) {
	return api.apiImpl.CountActiveUsers(sinceMillis)
}

func (api *apiTimerLayer) ImportChannelData(channelID string, data io.Reader) (*model.FileInfo, error) {
	return api.apiImpl.ImportChannelData(channelID, data)
}

func (api *apiTimerLayer) SetChannelTags(channelID string, tags map[string][]string) *model.AppError {
	return api.apiImpl.SetChannelTags(channelID, tags)
}
`

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s: %q not found", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScaffoldNewerAPI(t *testing.T) {
	repo, err := parity.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := parity.Binary(repo)
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := parity.LoadGo(".")
	if err != nil {
		t.Fatal(err)
	}
	modPath, version, _ := strings.Cut(pinned.Module, "@")
	cache, _ := run(t, ".", nil, "go", "env", "GOMODCACHE")

	// A newer module: the pinned one with three API methods and one field
	// of model.Emoji added.
	tmp := t.TempDir()
	module := filepath.Join(tmp, "public")
	scratch.CopyTree(t, filepath.Join(strings.TrimSpace(cache), modPath+"@"+version), module)
	api := filepath.Join(module, "plugin/api.go")
	data, err := os.ReadFile(api)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	end := strings.Index(src, "\n}\n")
	if !strings.Contains(src[:end], "type API interface {") {
		t.Fatal("the first closing brace of api.go does not close plugin.API")
	}
	src = src[:end] + "\n" + addedMethods + src[end+3:]
	if err := os.WriteFile(api, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(module, "plugin/client_rpc_added.go"), []byte(addedClientMethods), 0o644); err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(module, "model/emoji.go"), "\tName      string `json:\"name\"`\n", "\tName      string `json:\"name\"`\n\tAliases   []string `json:\"aliases\"`\n")

	// A module that requires the newer one in place of the pinned version.
	goDir := filepath.Join(tmp, "gomod")
	if err := os.MkdirAll(goDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(repo, "tests/conformance/go", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "go.mod" {
			data = append(data, []byte("\nreplace "+modPath+" => "+module+"\n")...)
			data = []byte(strings.Replace(string(data), "../../../generated/go", filepath.Join(repo, "generated/go"), 1))
		}
		if err := os.WriteFile(filepath.Join(goDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(goDir, "doc.go"), []byte("package gomod\n\nimport _ \""+parity.PluginPath+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newer, err := parity.LoadGo(goDir)
	if err != nil {
		t.Fatal(err)
	}

	proto := filepath.Join(tmp, "proto")
	scratch.CopyTree(t, filepath.Join(repo, "proto"), proto)
	before := gate(t, bin, proto, repo, newer)
	for _, want := range []string{"plugin.API.CountActiveUsers: missing", "plugin.API.ImportChannelData: missing", "plugin.API.SetChannelTags: missing", "Aliases"} {
		if !strings.Contains(before.String(), want) {
			t.Errorf("the gate before scaffold does not report %q:\n%s", want, before)
		}
	}

	// scaffold drafts the methods and reports the new struct field.
	out, code := run(t, repo, nil, bin, "--proto", proto, "scaffold", "--api", api, "--hooks", filepath.Join(module, "plugin/hooks.go"))
	t.Logf("scaffold:\n%s", out)
	if code != 1 {
		t.Errorf("scaffold exits %d, want 1 (a struct field to decide)", code)
	}
	for _, want := range []string{
		"drafted plugin.API.CountActiveUsers in ",
		"drafted plugin.API.ImportChannelData in ",
		"drafted plugin.API.SetChannelTags in ",
		"check model.Emoji gained field Aliases: add a field to `mattermost.plugin.v1.Emoji` or a skip entry",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scaffold output lacks %q", want)
		}
	}
	drafted, err := os.ReadFile(filepath.Join(proto, "mattermost/plugin/v1/plugin_api.proto"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"rpc ImportChannelData(stream ImportChannelDataRequest) returns (ImportChannelDataResponse)",
		"bytes data = 2 [(mmbindgen.v1.field).go_type = \"io.Reader\"];",
		"map<string, StringList> tags = 2 [(mmbindgen.v1.field).go_type = \"map[string][]string\"];",
		"option (mmbindgen.v1.method) = {min_server_version: \"11.3\" tags: [\"Channel\", \"Import\"]};",
		"experimental: true",
		"int64 since_millis = 1;",
	} {
		if !strings.Contains(string(drafted), want) {
			t.Errorf("the drafted proto lacks %q", want)
		}
	}

	// The person's part: map the new field. Then the gate passes and the
	// tree regenerates.
	edit(t, filepath.Join(proto, "mattermost/plugin/v1/model_post.proto"),
		"  // The emoji name, used as :name: in messages.\n  string name = 6;\n",
		"  // The emoji name, used as :name: in messages.\n  string name = 6;\n\n  // Other names of the emoji.\n  repeated string aliases = 7;\n")
	if r := gate(t, bin, proto, repo, newer); !r.OK() {
		t.Fatalf("the gate after scaffold:\n%s", r)
	}
	out, code = run(t, repo, nil, bin, "--proto", proto, "scaffold", "--api", api, "--hooks", filepath.Join(module, "plugin/hooks.go"))
	if code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("a second scaffold has something to do (exit %d):\n%s", code, out)
	}
	run(t, repo, nil, bin, "--proto", proto, "--out", filepath.Join(tmp, "generated"), "generate")
}
