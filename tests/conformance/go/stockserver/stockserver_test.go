// Package stockserver loads Python plugins with the server's own plugin
// machinery (plugin.NewEnvironment of the pinned module): bundles made by
// `python -m mattermost_plugin bundle`, whose executable is the Go shim.
package stockserver

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/shared/mlog"
	"github.com/stretchr/testify/require"
)

const (
	moderatorID = "com.example.python-moderator"
	emptyID     = "com.example.python-empty"
	goEmptyID   = "com.example.go-empty"
	goBenchID   = "com.example.go-bench"
)

// recordingAPI records the plugin API calls that reach the server.
type recordingAPI struct {
	plugin.API // nil: a call the test does not expect panics in the server
	plugin     string

	mu    sync.Mutex
	calls []string
	kv    map[string][]byte
	posts []*model.Post
	logs  []string
}

func (a *recordingAPI) record(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, fmt.Sprintf(format, args...))
}

func (a *recordingAPI) KVSet(key string, value []byte) *model.AppError {
	a.record("KVSet %s %s", key, value)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.kv[key] = value
	return nil
}

func (a *recordingAPI) KVGet(key string) ([]byte, *model.AppError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.kv[key], nil
}

func (a *recordingAPI) CreatePost(post *model.Post) (*model.Post, *model.AppError) {
	a.record("CreatePost %s %s %s", post.ChannelId, post.UserId, post.Message)
	created := post.Clone()
	created.Id = model.NewId()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.posts = append(a.posts, created)
	return created, nil
}

func (a *recordingAPI) GetUser(id string) (*model.User, *model.AppError) {
	a.record("GetUser %s", id)
	return nil, model.NewAppError("GetUser", "app.user.missing.app_error", nil, "no user "+id, http.StatusNotFound)
}

func (a *recordingAPI) log(level, msg string, kv ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.logs = append(a.logs, fmt.Sprint(append([]any{level, msg}, kv...)...))
}

func (a *recordingAPI) LogInfo(msg string, kv ...any)  { a.log("info ", msg+" ", kv) }
func (a *recordingAPI) LogDebug(msg string, kv ...any) { a.log("debug ", msg+" ", kv) }
func (a *recordingAPI) LogWarn(msg string, kv ...any)  { a.log("warn ", msg+" ", kv) }
func (a *recordingAPI) LogError(msg string, kv ...any) { a.log("error ", msg+" ", kv) }

func (a *recordingAPI) snapshot() ([]string, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls), slices.Clone(a.logs)
}

// repoRoot is the repository, three levels above this package.
func repoRoot(t testing.TB) string {
	root, err := filepath.Abs("../../../..")
	require.NoError(t, err)
	return root
}

func goBuild(t testing.TB, out, pkg string, tags ...string) {
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, msg)
}

// bundle runs the bundle command on an example plugin with the shim built
// for this machine and returns the .tar.gz.
func bundle(t testing.TB, shims, example string) string {
	root := repoRoot(t)
	python := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s (scripts/test creates it)", python)
	}
	out := filepath.Join(t.TempDir(), example+".tar.gz")
	cmd := exec.Command(python, "-m", "mattermost_plugin", "bundle", filepath.Join(root, "examples", "python", example),
		"--shim-binaries", shims, "--platform", runtime.GOOS+"-"+runtime.GOARCH, "-o", out)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "generated", "python"))
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "bundle %s: %s", example, msg)
	return out
}

// unpack extracts a bundle into dir, as the server's plugin upload does.
func unpack(t testing.TB, bundle, dir string) {
	f, err := os.Open(bundle)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(path, 0o755))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			w, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			require.NoError(t, err)
			_, err = io.Copy(w, tr)
			require.NoError(t, err)
			require.NoError(t, w.Close())
		}
	}
}

// processesUnder lists the pids whose command line mentions dir.
func processesUnder(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// pythonProcess is the pid of the Python process of the plugin in dir.
func pythonProcess(t testing.TB, dir string) int {
	for _, pid := range processesUnder(dir) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte("plugin.py")) {
			return pid
		}
	}
	t.Fatalf("no Python process under %s", dir)
	return 0
}

type fixture struct {
	env  *plugin.Environment
	dir  string
	apis map[string]*recordingAPI
}

// setup builds the shim and the Go plugins, bundles the example Python
// plugins and installs everything into a fresh environment.
func setup(t testing.TB) *fixture {
	if runtime.GOOS != "linux" {
		t.Skip("the process checks read /proc")
	}
	t.Setenv("MM_PYTHON_SHIM_EXIT_GRACE", "5s")
	shims := t.TempDir()
	goBuild(t, filepath.Join(shims, runtime.GOOS+"-"+runtime.GOARCH), "./shim")
	dir := t.TempDir()
	for _, example := range []string{"moderator", "empty"} {
		unpack(t, bundle(t, shims, example), dir)
	}
	for id, tags := range map[string][]string{goEmptyID: {"empty"}, goBenchID: nil} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, id), 0o755))
		goBuild(t, filepath.Join(dir, id, "plugin"), "./goplugin", tags...)
		manifest := fmt.Sprintf(`{"id": %q, "version": "0.1.0", "server": {"executable": "plugin"}}`, id)
		require.NoError(t, os.WriteFile(filepath.Join(dir, id, "plugin.json"), []byte(manifest), 0o644))
	}
	f := &fixture{dir: dir, apis: map[string]*recordingAPI{}}
	for _, id := range []string{moderatorID, emptyID, goEmptyID, goBenchID} {
		f.apis[id] = &recordingAPI{plugin: id, kv: map[string][]byte{}}
	}
	logger := mlog.CreateConsoleTestLogger(t)
	env, err := plugin.NewEnvironment(func(m *model.Manifest) plugin.API { return f.apis[m.Id] }, nil, dir, t.TempDir(), logger, nil)
	require.NoError(t, err)
	f.env = env
	t.Cleanup(env.Shutdown)
	for _, id := range []string{moderatorID, emptyID, goEmptyID, goBenchID} {
		_, active, err := env.Activate(id)
		require.NoError(t, err, id)
		require.True(t, active, id)
	}
	return f
}

func (f *fixture) hooks(t testing.TB, id string) plugin.Hooks {
	hooks, err := f.env.HooksForPlugin(id)
	require.NoError(t, err)
	return hooks
}

func TestStockServer(t *testing.T) {
	f := setup(t)
	api := f.apis[moderatorID]

	t.Run("activation", func(t *testing.T) {
		calls, logs := api.snapshot()
		require.Contains(t, calls, "KVSet configured yes", "OnConfigurationChange ran before OnActivate")
		require.True(t, slices.ContainsFunc(logs, func(l string) bool { return strings.Contains(l, "moderator activated") }), logs)
	})

	t.Run("MessageWillBePosted", func(t *testing.T) {
		var rejected, replaced []string
		for _, message := range []string{"buy spam now", "darn it", "fine"} {
			post := &model.Post{Message: message, ChannelId: model.NewId(), UserId: model.NewId()}
			f.env.RunMultiPluginHook(func(hooks plugin.Hooks, m *model.Manifest) bool {
				if m.Id != moderatorID {
					return true
				}
				got, reason := hooks.MessageWillBePosted(&plugin.Context{}, post)
				if reason != "" {
					rejected = append(rejected, message+": "+reason)
				} else if got != nil {
					replaced = append(replaced, got.Message)
				}
				return true
			}, plugin.MessageWillBePostedID)
		}
		require.Equal(t, []string{"buy spam now: no spam here"}, rejected)
		require.Equal(t, []string{"d**n it", "fine"}, replaced)
	})

	t.Run("ExecuteCommand and API calls", func(t *testing.T) {
		hooks := f.hooks(t, moderatorID)
		channel, user := model.NewId(), model.NewId()
		for want := 1; want <= 2; want++ {
			resp, appErr := hooks.ExecuteCommand(&plugin.Context{}, &model.CommandArgs{Command: "/mod count", ChannelId: channel, UserId: user})
			require.Nil(t, appErr)
			count, id, _ := strings.Cut(resp.Text, " ")
			require.Equal(t, strconv.Itoa(want), count)
			require.Len(t, id, 26, "the created post's id came back")
		}
		resp, appErr := hooks.ExecuteCommand(&plugin.Context{}, &model.CommandArgs{Command: "/mod whois nobody"})
		require.Nil(t, appErr)
		require.Equal(t, "error 404 app.user.missing.app_error", resp.Text, "the AppError reached Python")
		calls, _ := api.snapshot()
		require.Contains(t, calls, "KVSet count 1")
		require.Contains(t, calls, "KVSet count 2")
		require.Contains(t, calls, fmt.Sprintf("CreatePost %s %s count 2", channel, user))
		require.Contains(t, calls, "GetUser nobody")
	})

	t.Run("OnConfigurationChange", func(t *testing.T) {
		api.mu.Lock()
		delete(api.kv, "configured")
		api.mu.Unlock()
		require.NoError(t, f.hooks(t, moderatorID).OnConfigurationChange())
		api.mu.Lock()
		defer api.mu.Unlock()
		require.Equal(t, []byte("yes"), api.kv["configured"])
	})

	t.Run("ServeHTTP 16 MiB each way", func(t *testing.T) {
		hooks := f.hooks(t, moderatorID)
		const size = 16 << 20
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
		sum := sha256.Sum256(body)
		r := httptest.NewRequest(http.MethodPost, "/echo", struct{ io.Reader }{bytes.NewReader(body)})
		w := httptest.NewRecorder()
		hooks.ServeHTTP(&plugin.Context{}, w, r)
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, strconv.Itoa(size), w.Header().Get("X-Size"))
		require.Equal(t, hex.EncodeToString(sum[:]), w.Body.String())

		w = httptest.NewRecorder()
		hooks.ServeHTTP(&plugin.Context{}, w, httptest.NewRequest(http.MethodGet, "/big", nil))
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, size, w.Body.Len())
		block := make([]byte, 256)
		for i := range block {
			block[i] = byte(i)
		}
		require.Equal(t, bytes.Repeat(block, size/256), w.Body.Bytes())
	})

	t.Run("not implemented hooks answer as a Go plugin's", func(t *testing.T) {
		testNotImplemented(t, f.env, f.hooks(t, emptyID), f.hooks(t, goEmptyID))
	})

	t.Run("two hops against a Go plugin", func(t *testing.T) {
		report := twoHops(t, f)
		t.Log("\n" + report)
		if out := os.Getenv("MM_TWOHOP_REPORT"); out != "" {
			require.NoError(t, os.WriteFile(out, []byte(report), 0o644))
		}
	})

	t.Run("deactivation leaves no process", func(t *testing.T) {
		dir := filepath.Join(f.dir, emptyID)
		require.NotEmpty(t, processesUnder(dir))
		require.True(t, f.env.Deactivate(emptyID))
		require.Eventually(t, func() bool { return len(processesUnder(dir)) == 0 }, 5*time.Second, 20*time.Millisecond,
			"processes left: %v", processesUnder(dir))
	})

	t.Run("a killed shim takes its Python process with it", func(t *testing.T) {
		dir := filepath.Join(f.dir, emptyID)
		_, active, err := f.env.Activate(emptyID)
		require.NoError(t, err)
		require.True(t, active)
		python := pythonProcess(t, dir)
		var shim int
		for _, pid := range processesUnder(dir) {
			if pid != python {
				shim = pid
			}
		}
		require.NotZero(t, shim, "the shim's process")
		// SIGKILL: the shim cannot stop the Python process itself.
		require.NoError(t, syscall.Kill(shim, syscall.SIGKILL))
		require.Eventually(t, func() bool { return len(processesUnder(dir)) == 0 }, 5*time.Second, 20*time.Millisecond,
			"processes left: %v", processesUnder(dir))
		f.env.Deactivate(emptyID)
	})

	t.Run("a killed Python process", func(t *testing.T) {
		dir := filepath.Join(f.dir, moderatorID)
		pid := pythonProcess(t, dir)
		proc, err := os.FindProcess(pid)
		require.NoError(t, err)
		require.NoError(t, proc.Kill())
		require.Eventually(t, func() bool {
			cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			return err != nil || len(cmdline) == 0
		}, 5*time.Second, 10*time.Millisecond)

		// Within the shim's exit grace, hooks get the bridge's fallbacks.
		hooks := f.hooks(t, moderatorID)
		post := &model.Post{Message: "buy spam now"}
		got, reason := hooks.MessageWillBePosted(&plugin.Context{}, post)
		require.Equal(t, "", reason, "a gate fails open")
		require.Equal(t, post.Message, got.Message)
		resp, appErr := hooks.ExecuteCommand(&plugin.Context{}, &model.CommandArgs{Command: "/mod count"})
		require.Nil(t, resp)
		require.NotNil(t, appErr)
		require.Equal(t, "plugin.bridge.execute_command.unavailable", appErr.Id)
		require.Equal(t, http.StatusServiceUnavailable, appErr.StatusCode)
		w := httptest.NewRecorder()
		hooks.ServeHTTP(&plugin.Context{}, w, httptest.NewRequest(http.MethodGet, "/big", nil))
		require.Equal(t, http.StatusBadGateway, w.Code)

		// Then the shim exits, and the server's health check reports it.
		require.Eventually(t, func() bool { return f.env.PerformHealthCheck(moderatorID) != nil }, 15*time.Second, 100*time.Millisecond)
		require.Empty(t, processesUnder(dir))
	})
}
