package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"mmbindgen.dev/generated/go/pluginpb"
)

// The launcher is tested with a stand-in for the Python plugin: this test
// binary, run by the launcher as the "interpreter" with standInEnv set,
// serves the generated HooksServer through go-plugin as a Python plugin
// would (see TestMain).
const (
	standInEnv     = "MM_BRIDGE_TEST_STAND_IN" // the stand-in's mode
	standInPidFile = "MM_BRIDGE_TEST_PID_FILE" // where mode "hang" writes its pid
	standInVersion = "10.11.12"                // the fake API's server version
)

func TestMain(m *testing.M) {
	switch mode := os.Getenv(standInEnv); mode {
	case "":
		os.Exit(m.Run())
	case "serve":
		serveStandIn()
		os.Exit(0)
	case "hang":
		// Never answers the handshake.
		if err := os.WriteFile(os.Getenv(standInPidFile), []byte(fmt.Sprint(os.Getpid())), 0o600); err != nil {
			os.Exit(3)
		}
		time.Sleep(time.Hour)
	case "crash":
		fmt.Fprintln(os.Stderr, "Traceback (most recent call last):\nModuleNotFoundError: No module named 'grpc'")
		os.Exit(1)
	default:
		fmt.Fprintf(os.Stderr, "unknown stand-in mode %q\n", mode)
		os.Exit(2)
	}
}

// serveStandIn serves the stand-in's hooks as go-plugin's Go servers do,
// with the bridge's server options, refusing calls without the token.
func serveStandIn() {
	hooks := &standInHooks{stderr: os.Stderr} // Serve redirects os.Stderr
	token := os.Getenv(EnvAPIToken)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: handshake(),
		Plugins:         goplugin.PluginSet{hooksPluginName: &standInPlugin{hooks: hooks}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, ServerOptions()...)
			return grpc.NewServer(append(opts, RequireToken(token)...)...)
		},
	})
}

// standInPlugin is the plugin side of the "hooks" plugin.
type standInPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	hooks plugin.Hooks
}

func (p *standInPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	NewHooksServer(p.hooks).Register(s)
	return nil
}

func (*standInPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("plugin side only")
}

// standInHooks implements the hooks of its Implemented list; the others are
// never called.
type standInHooks struct {
	plugin.Hooks
	stderr *os.File
}

func (*standInHooks) Implemented() ([]string, error) {
	return []string{"OnActivate", "MessageWillBePosted", "MessageHasBeenUpdated"}, nil
}

// OnActivate calls the API back through the address and token of its
// environment, stores what it found there (KVSet "activation"), and logs a
// line on stderr, as the Python SDK does, and one on stdout.
func (h *standInHooks) OnActivate() error {
	conn, err := grpc.NewClient(os.Getenv(EnvAPIAddress), append(DialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()), WithToken(os.Getenv(EnvAPIToken)))...)
	if err != nil {
		return err
	}
	defer conn.Close()
	api := NewAPIClient(conn)
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	report := map[string]string{
		"version": api.GetServerVersion(),
		"wd":      wd,
		"args":    strings.Join(os.Args[1:], " "),
	}
	for _, name := range []string{EnvPluginID, EnvLogLevel, EnvHookTimeout, "MM_BRIDGE_TEST_EXTRA"} {
		report[name] = os.Getenv(name)
	}
	b, err := json.Marshal(report)
	if err != nil {
		return err
	}
	if appErr := api.KVSet("activation", b); appErr != nil {
		return appErr
	}
	fmt.Fprintf(h.stderr, `{"@level":"warn","@message":"stand-in activated","@timestamp":%q}`+"\n",
		time.Now().Format("2006-01-02T15:04:05.000000Z07:00"))
	fmt.Println("[WARN] stand-in stdout")
	return nil
}

func (*standInHooks) MessageWillBePosted(_ *plugin.Context, post *model.Post) (*model.Post, string) {
	if post.Message == "reject" {
		return nil, "rejected by the stand-in"
	}
	out := post.Clone()
	out.Message = strings.ToUpper(post.Message)
	return out, ""
}

func (*standInHooks) MessageHasBeenUpdated(*plugin.Context, *model.Post, *model.Post) {
	time.Sleep(2 * time.Second) // longer than the test's deadline for it
}

// recordingAPI is the server side: a KV store and a version; other methods
// are never called.
type recordingAPI struct {
	plugin.API
	mu sync.Mutex
	kv map[string][]byte
}

func (*recordingAPI) GetServerVersion() string { return standInVersion }

func (a *recordingAPI) KVSet(key string, value []byte) *model.AppError {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.kv == nil {
		a.kv = map[string][]byte{}
	}
	a.kv[key] = value
	return nil
}

func (a *recordingAPI) get(key string) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.kv[key]
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger logs at debug level into a buffer, shown when the test fails.
func testLogger(t *testing.T) (hclog.Logger, *lockedBuffer) {
	t.Helper()
	buf := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("launcher log:\n%s", buf)
		}
	})
	return hclog.New(&hclog.LoggerOptions{Output: buf, Level: hclog.Debug, JSONFormat: true}), buf
}

// testManifest is a valid manifest of a Python plugin whose entry script is
// main.
func testManifest(main any) *model.Manifest {
	m := &model.Manifest{Id: "com.example.stand-in", Name: "Stand-in", Version: "1.0.0"}
	if main != nil {
		m.Props = map[string]any{PythonProp: map[string]any{PythonMainKey: main}}
	}
	return m
}

// newBundle returns a bundle directory with an entry script plugin.py.
func newBundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "plugin.py"), "# the stand-in ignores its script\n", 0o644)
	return dir
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// testBinary is this test binary, the stand-in's "interpreter".
func testBinary(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// standInConfig is the configuration that launches the stand-in in mode,
// and where it logs.
func standInConfig(t *testing.T, mode string) (LaunchConfig, *lockedBuffer) {
	logger, logs := testLogger(t)
	return LaunchConfig{
		Dir:      newBundle(t),
		Manifest: testManifest("plugin.py"),
		API:      &recordingAPI{},
		Logger:   logger,
		Python:   testBinary(t),
		Env:      []string{standInEnv + "=" + mode},
	}, logs
}

// processGone reports whether no process has pid (reaped, not a zombie).
func processGone(pid int) bool {
	proc, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return proc.Signal(syscall.Signal(0)) != nil
}

// eventually polls cond for up to 3 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 3 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkGoroutines fails the test if goroutines started during it outlive
// it (by more than a grace period).
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before; {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestLaunchRoundTrip(t *testing.T) {
	checkGoroutines(t)
	cfg, logs := standInConfig(t, "serve")
	api := cfg.API.(*recordingAPI)
	var mu sync.Mutex
	var failures []string
	cfg.HookOptions = CallOptions{
		Timeout:  7 * time.Second,
		Timeouts: map[string]time.Duration{"MessageHasBeenUpdated": 100 * time.Millisecond},
		OnError: func(method string, err error) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, fmt.Sprintf("%s: %s", method, status.Code(err)))
		},
	}
	// The server's environment reaches the plugin, below Env and the
	// launcher's connection variables.
	t.Setenv("MM_BRIDGE_TEST_EXTRA", "from the server")
	t.Setenv(EnvPluginID, "from the server")
	cfg.Env = append(cfg.Env, "MM_BRIDGE_TEST_EXTRA=extra", EnvPluginID+"=from Env")

	p, err := Launch(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if p.Exited() {
		t.Fatal("Exited before Close")
	}

	// A hook whose handler calls the API back.
	hooks := p.Hooks()
	if err := hooks.OnActivate(); err != nil {
		t.Fatalf("OnActivate: %v", err)
	}
	var report map[string]string
	if err := json.Unmarshal(api.get("activation"), &report); err != nil {
		t.Fatalf("the stand-in stored no activation report: %v", err)
	}
	dir, _ := filepath.EvalSymlinks(cfg.Dir)
	wd, _ := filepath.EvalSymlinks(report["wd"])
	want := map[string]string{
		"version":              standInVersion,
		"args":                 filepath.Join(cfg.Dir, "plugin.py"),
		EnvPluginID:            "com.example.stand-in",
		EnvLogLevel:            "debug",
		EnvHookTimeout:         "7",
		"MM_BRIDGE_TEST_EXTRA": "extra",
	}
	for k, v := range want {
		if report[k] != v {
			t.Errorf("the plugin saw %s = %q, want %q", k, report[k], v)
		}
	}
	if wd != dir {
		t.Errorf("the plugin ran in %s, want the bundle %s", wd, dir)
	}

	// A hook with results, both ways.
	post, reason := hooks.MessageWillBePosted(&plugin.Context{}, &model.Post{Id: "p1", Message: "hello"})
	if post == nil || post.Message != "HELLO" || post.Id != "p1" || reason != "" {
		t.Errorf("MessageWillBePosted: %+v, %q", post, reason)
	}
	post, reason = hooks.MessageWillBePosted(&plugin.Context{}, &model.Post{Message: "reject"})
	if post != nil || reason != "rejected by the stand-in" {
		t.Errorf("MessageWillBePosted rejecting: %+v, %q", post, reason)
	}

	// The hook options reach the client: a per-hook deadline.
	start := time.Now()
	hooks.MessageHasBeenUpdated(&plugin.Context{}, &model.Post{}, &model.Post{})
	if d := time.Since(start); d > time.Second {
		t.Errorf("MessageHasBeenUpdated took %s, past its 100 ms deadline", d)
	}
	mu.Lock()
	got := strings.Join(failures, "; ")
	mu.Unlock()
	if got != "MessageHasBeenUpdated: DeadlineExceeded" {
		t.Errorf("OnError calls: %q", got)
	}

	// The plugin's stderr keeps its level; its stdout arrives through
	// go-plugin's stdio stream.
	eventually(t, "logged", func() bool {
		return strings.Contains(logs.String(), `"@level":"warn","@message":"stand-in activated"`) &&
			strings.Contains(logs.String(), `"@level":"warn","@message":"stand-in stdout"`)
	})

	// The API refuses calls without the token.
	conn, err := grpc.NewClient(p.apiAddr, append(DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for name, opts := range map[string][]grpc.CallOption{"no token": nil, "a wrong token": {grpc.PerRPCCredentials(tokenCredentials("nope"))}} {
		_, err := pluginpb.NewPluginAPIClient(conn).GetServerVersion(context.Background(), &pluginpb.GetServerVersionRequest{}, opts...)
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("an API call with %s: %v, want UNAUTHENTICATED", name, err)
		}
	}

	// Close stops the process and the API server, once.
	pid := p.cmd.Process.Pid
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
	}
	wg.Wait()
	if !processGone(pid) {
		t.Errorf("process %d still there after Close", pid)
	}
	if !p.Exited() {
		t.Error("not Exited after Close")
	}
	if err := p.Ping(); err == nil {
		t.Error("Ping succeeded after Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	if _, err := pluginpb.NewPluginAPIClient(conn).GetServerVersion(context.Background(), &pluginpb.GetServerVersionRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("an API call after Close: %v, want UNAVAILABLE", err)
	}
}

// A killed plugin: Exited turns true and hooks give their documented
// answers for an unavailable plugin.
func TestLaunchKilledPlugin(t *testing.T) {
	checkGoroutines(t)
	cfg, _ := standInConfig(t, "serve")
	var mu sync.Mutex
	var failed []string
	cfg.HookOptions.OnError = func(method string, _ error) {
		mu.Lock()
		defer mu.Unlock()
		failed = append(failed, method)
	}
	p, err := Launch(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hooks := p.Hooks()
	if err := hooks.OnActivate(); err != nil {
		t.Fatalf("OnActivate: %v", err)
	}

	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Exited", p.Exited)

	in := &model.Post{Id: "p1", Message: "hello"}
	post, reason := hooks.MessageWillBePosted(&plugin.Context{}, in)
	if post != in || reason != "" {
		t.Errorf("MessageWillBePosted of a dead plugin: %+v, %q; want the post unchanged", post, reason)
	}
	var appErr *model.AppError
	if err := hooks.OnActivate(); !errors.As(err, &appErr) || appErr.Id != "plugin.bridge.on_activate.unavailable" {
		t.Errorf("OnActivate of a dead plugin: %v", err)
	}
	if err := p.Ping(); err == nil {
		t.Error("Ping of a dead plugin succeeded")
	}
	mu.Lock()
	if got := strings.Join(failed, " "); got != "MessageWillBePosted OnActivate" {
		t.Errorf("OnError calls: %q", got)
	}
	mu.Unlock()
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// The interpreter found in the bundle's venv runs the plugin.
func TestLaunchWithBundleVenv(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix virtual environments only")
	}
	checkGoroutines(t)
	cfg, _ := standInConfig(t, "serve")
	cfg.Python = ""
	venvPython := filepath.Join(cfg.Dir, "venv", "bin", "python")
	if err := os.MkdirAll(filepath.Dir(venvPython), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testBinary(t), venvPython); err != nil {
		t.Fatal(err)
	}
	p, err := Launch(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.cmd.Path != venvPython {
		t.Errorf("ran %s, want %s", p.cmd.Path, venvPython)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// A plugin that never answers the handshake is stopped after StartTimeout,
// and so is one whose start is cancelled.
func TestLaunchStartTimeoutAndCancel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration // StartTimeout
		ctx     time.Duration // the context's timeout
		want    string
	}{
		{"start timeout", 300 * time.Millisecond, time.Minute, "timeout while waiting for plugin to start"},
		{"context", 10 * time.Second, 300 * time.Millisecond, context.DeadlineExceeded.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			cfg, _ := standInConfig(t, "hang")
			pidFile := filepath.Join(t.TempDir(), "pid")
			cfg.Env = append(cfg.Env, standInPidFile+"="+pidFile)
			cfg.StartTimeout = tc.timeout
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			start := time.Now()
			p, err := Launch(ctx, cfg)
			elapsed := time.Since(start)
			if err == nil {
				p.Close()
				t.Fatal("Launch succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "starting") {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if elapsed > 2*time.Second {
				t.Errorf("Launch took %s", elapsed)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatalf("the stand-in did not start: %v", err)
			}
			var pid int
			fmt.Sscan(string(b), &pid)
			if pid == 0 || !processGone(pid) {
				t.Errorf("process %q still there", b)
			}
		})
	}
}

// A plugin that dies before the handshake: the error has its stderr.
func TestLaunchCrashShowsStderr(t *testing.T) {
	checkGoroutines(t)
	cfg, _ := standInConfig(t, "crash")
	_, err := Launch(context.Background(), cfg)
	if err == nil {
		t.Fatal("Launch succeeded")
	}
	for _, want := range []string{"starting", "the process exited with status 1", "No module named 'grpc'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestLaunchRefusesBadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*LaunchConfig)
		want   string
	}{
		{"no manifest", func(c *LaunchConfig) { c.Manifest = nil }, "no manifest"},
		{"invalid manifest", func(c *LaunchConfig) { c.Manifest.Name = "" }, "invalid manifest"},
		{"no API", func(c *LaunchConfig) { c.API = nil }, "no plugin API"},
		{"not a Python plugin", func(c *LaunchConfig) { c.Manifest.Props = nil }, "props.python.main: missing"},
		{"no interpreter", func(c *LaunchConfig) { c.Python = filepath.Join(c.Dir, "nope") }, "interpreter"},
		{"cancelled", func(c *LaunchConfig) {}, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := standInConfig(t, "serve")
			tc.change(&cfg)
			ctx, cancel := context.WithCancel(context.Background())
			if tc.name == "cancelled" {
				cancel()
			}
			defer cancel()
			p, err := Launch(ctx, cfg)
			if err == nil {
				p.Close()
				t.Fatal("Launch succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestPythonMain(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links")
	}
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "evil.py"), "", 0o644)

	for _, tc := range []struct {
		name  string
		props map[string]any
		setup func(t *testing.T, dir string)
		want  string // in the error; empty: valid
	}{
		{"valid", mainProps("plugin.py"), nil, ""},
		{"valid in a subdirectory", mainProps("server/main.py"), func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "server", "main.py"), "", 0o644)
		}, ""},
		{"valid link inside the bundle", mainProps("link.py"), func(t *testing.T, dir string) {
			symlink(t, "plugin.py", filepath.Join(dir, "link.py"))
		}, ""},
		{"no props", nil, nil, "missing"},
		{"no python prop", map[string]any{"other": true}, nil, "missing"},
		{"python not an object", map[string]any{PythonProp: "plugin.py"}, nil, "props.python is a string, not an object"},
		{"no main", map[string]any{PythonProp: map[string]any{}}, nil, "missing"},
		{"main not a string", mainProps(3.0), nil, "is a number, not a string"},
		{"empty", mainProps(""), nil, "is empty"},
		{"absolute", mainProps("/etc/plugin.py"), nil, "is absolute"},
		{"parent", mainProps("../evil.py"), nil, "leaves the plugin bundle"},
		{"parent inside", mainProps("server/../../evil.py"), nil, "leaves the plugin bundle"},
		{"not clean", mainProps("./plugin.py"), nil, `not a clean path (write "plugin.py")`},
		{"not clean inside", mainProps("server/../plugin.py"), nil, "not a clean path"},
		{"not .py", mainProps("plugin.txt"), func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "plugin.txt"), "", 0o644)
		}, "is not a .py file"},
		{"missing file", mainProps("missing.py"), nil, "does not exist in the plugin bundle"},
		{"directory", mainProps("pkg.py"), func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "pkg.py"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file"},
		{"file link escape", mainProps("evil.py"), func(t *testing.T, dir string) {
			symlink(t, filepath.Join(outside, "evil.py"), filepath.Join(dir, "evil.py"))
		}, "outside the plugin bundle"},
		{"directory link escape", mainProps("lib/evil.py"), func(t *testing.T, dir string) {
			symlink(t, outside, filepath.Join(dir, "lib"))
		}, "outside the plugin bundle"},
		{"relative link escape", mainProps("up.py"), func(t *testing.T, dir string) {
			rel, err := filepath.Rel(dir, filepath.Join(outside, "evil.py"))
			if err != nil {
				t.Fatal(err)
			}
			symlink(t, rel, filepath.Join(dir, "up.py"))
		}, "outside the plugin bundle"},
		{"dangling link", mainProps("gone.py"), func(t *testing.T, dir string) {
			symlink(t, "nowhere.py", filepath.Join(dir, "gone.py"))
		}, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newBundle(t)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			m := testManifest(nil)
			m.Props = tc.props
			path, err := PythonMain(dir, m)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				rel := tc.props[PythonProp].(map[string]any)[PythonMainKey].(string)
				if path != filepath.Join(dir, rel) {
					t.Errorf("path %s", path)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error saying %q", tc.want)
			}
			for _, s := range []string{tc.want, `plugin "com.example.stand-in"`, "manifest props.python.main"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func mainProps(main any) map[string]any {
	return map[string]any{PythonProp: map[string]any{PythonMainKey: main}}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// Manifests read by the server's own FindManifest, from JSON and YAML, give
// props PythonMain understands.
func TestPythonMainFromManifestFiles(t *testing.T) {
	for name, content := range map[string]string{
		"plugin.json": `{"id": "com.example.stand-in", "name": "Stand-in", "props": {"python": {"main": "plugin.py"}}}`,
		"plugin.yml":  "id: com.example.stand-in\nname: Stand-in\nprops:\n  python:\n    main: plugin.py\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := newBundle(t)
			writeFile(t, filepath.Join(dir, name), content, 0o644)
			m, _, err := model.FindManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := PythonMain(dir, m); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFindPython(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix layouts only")
	}
	exe := func(t *testing.T, path string) string {
		writeFile(t, path, "#!/bin/sh\n", 0o755)
		return path
	}
	for _, tc := range []struct {
		name     string
		venv     bool // dir/venv/bin/python
		dotVenv  bool // dir/.venv/bin/python
		path     bool // python3 in PATH
		setup    func(t *testing.T, dir, pathDir string)
		override func(dir, pathDir string) string
		want     func(dir, pathDir string) string // the interpreter, or
		err      string                           // the error
	}{
		{name: "venv first", venv: true, dotVenv: true, path: true,
			want: func(dir, _ string) string { return filepath.Join(dir, "venv", "bin", "python") }},
		{name: ".venv next", dotVenv: true, path: true,
			want: func(dir, _ string) string { return filepath.Join(dir, ".venv", "bin", "python") }},
		{name: "PATH last", path: true,
			want: func(_, pathDir string) string { return filepath.Join(pathDir, "python3") }},
		{name: "nothing", err: "no Python interpreter (tried DIR/venv/bin/python, DIR/.venv/bin/python, python3 in PATH)"},
		{name: "override path", venv: true, path: true,
			setup:    func(t *testing.T, dir, _ string) { exe(t, filepath.Join(dir, "custom")) },
			override: func(dir, _ string) string { return filepath.Join(dir, "custom") },
			want:     func(dir, _ string) string { return filepath.Join(dir, "custom") }},
		{name: "override name", venv: true, path: true,
			setup:    func(t *testing.T, _, pathDir string) { exe(t, filepath.Join(pathDir, "python3.12")) },
			override: func(_, _ string) string { return "python3.12" },
			want:     func(_, pathDir string) string { return filepath.Join(pathDir, "python3.12") }},
		{name: "override missing", venv: true, path: true,
			override: func(dir, _ string) string { return filepath.Join(dir, "nope") },
			err:      "the configured interpreter"},
		{name: "dangling venv link", path: true,
			setup: func(t *testing.T, dir, _ string) {
				if err := os.MkdirAll(filepath.Join(dir, "venv", "bin"), 0o755); err != nil {
					t.Fatal(err)
				}
				symlink(t, "/nonexistent/python3.11", filepath.Join(dir, "venv", "bin", "python"))
			},
			err: "the bundle's interpreter DIR/venv/bin/python"},
		{name: "venv python not executable", path: true,
			setup: func(t *testing.T, dir, _ string) {
				writeFile(t, filepath.Join(dir, ".venv", "bin", "python"), "", 0o644)
			},
			err: "DIR/.venv/bin/python is not an executable file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, pathDir := t.TempDir(), t.TempDir()
			t.Setenv("PATH", pathDir)
			if tc.venv {
				exe(t, filepath.Join(dir, "venv", "bin", "python"))
			}
			if tc.dotVenv {
				exe(t, filepath.Join(dir, ".venv", "bin", "python"))
			}
			if tc.path {
				exe(t, filepath.Join(pathDir, "python3"))
			}
			if tc.setup != nil {
				tc.setup(t, dir, pathDir)
			}
			override := ""
			if tc.override != nil {
				override = tc.override(dir, pathDir)
			}
			got, err := findPython(dir, override)
			if tc.err != "" {
				want := strings.ReplaceAll(tc.err, "DIR", dir)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("got %q, %v; want an error saying %q", got, err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(dir, pathDir); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestTailWriter(t *testing.T) {
	w := &tailWriter{max: 8}
	fmt.Fprint(w, "  hello ")
	fmt.Fprint(w, "world\n")
	if got := w.String(); got != "o world" {
		t.Errorf("got %q", got)
	}
}

func TestLogLevelName(t *testing.T) {
	for level, want := range map[hclog.Level]string{
		hclog.Trace: "debug", hclog.Debug: "debug", hclog.Info: "info", hclog.NoLevel: "info",
		hclog.Warn: "warn", hclog.Error: "error", hclog.Off: "error",
	} {
		if got := logLevelName(level); got != want {
			t.Errorf("%v: got %q, want %q", level, got, want)
		}
	}
}
