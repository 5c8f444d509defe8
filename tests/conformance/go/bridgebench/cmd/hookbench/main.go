// Command hookbench times hook dispatch and plugin start through the
// generated Go bridge, for scripts/bench (see BENCHMARKS.md).
//
// Hook dispatch: MessageWillBePosted with bridgebench.SmallPost, each call
// answered with a replacement post, through a bridge.HooksClient into four
// plugins that all run at once:
//
//   - python-def, python-async: the benchmark's Python plugin (-bundle, run
//     by -python with -pythonpath on PYTHONPATH) with a def or an async def
//     handler, started by bridge.Launch (go-plugin, gRPC over TCP loopback);
//   - go-process: this program serving bridge.HooksServer over
//     bridgebench.Hooks through go-plugin's own Serve, started by the same
//     bridge.Launch (go-plugin serves Go over a Unix socket);
//   - go-inprocess: bridge.HooksServer over bridgebench.Hooks in this process,
//     on TCP loopback with the bridge's options and a token.
//
// After -warmup calls each, the plugins take turns of -block calls (the
// order rotates every turn) until each has had -calls timed calls.
//
// Start: -launches alternating runs of bridge.Launch on the Python plugin and
// on the Go process, each timed from the call to its return (the process is
// started, has printed its handshake line, the hooks are dispensed and the
// plugin answered a health check), then closed.
//
// The result is one JSON object on stdout: {"hooks": {name: [µs per call]},
// "launch": {"python"|"go": [ms per launch]}}. bench/run.py turns it into
// tables.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"google.golang.org/grpc"

	"mmbindgen.dev/conformance/bridgebench"
	"mmbindgen.dev/generated/go/bridge"
)

// goPluginEnv set to 1 makes this program the Go plugin process that
// bridge.Launch starts for go-process.
const goPluginEnv = "BRIDGEBENCH_GO_PLUGIN"

// handlerEnv tells the Python plugin which handler to serve: def or async
// (bench/python/plugin.py).
const handlerEnv = "BENCH_HANDLER"

type options struct {
	bundle, python, pythonPath string
	calls, warmup, block       int
	launches                   int
}

type result struct {
	Hooks  map[string][]float64 `json:"hooks"`
	Launch map[string][]float64 `json:"launch"`
}

func main() {
	if os.Getenv(goPluginEnv) == "1" {
		serveGoPlugin()
		return
	}
	var o options
	flag.StringVar(&o.bundle, "bundle", "bench/python", "the Python plugin's bundle directory (plugin.json, plugin.py)")
	flag.StringVar(&o.python, "python", "python3", "the Python interpreter")
	flag.StringVar(&o.pythonPath, "pythonpath", "generated/python", "put on the plugin's PYTHONPATH (where mattermost_plugin is)")
	flag.IntVar(&o.calls, "calls", 5000, "timed hook calls per plugin")
	flag.IntVar(&o.warmup, "warmup", 500, "untimed hook calls per plugin first")
	flag.IntVar(&o.block, "block", 50, "hook calls per plugin per turn")
	flag.IntVar(&o.launches, "launches", 10, "timed launches of each plugin kind")
	flag.Parse()
	if o.calls < 1 || o.warmup < 0 || o.block < 1 || o.launches < 0 {
		fmt.Fprintln(os.Stderr, "hookbench: -calls and -block must be at least 1, -warmup and -launches at least 0")
		os.Exit(2)
	}
	res, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hookbench:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "hookbench:", err)
		os.Exit(1)
	}
}

func run(o options) (*result, error) {
	l, err := newLauncher(o)
	if err != nil {
		return nil, err
	}
	hooks, err := benchHooks(l, o)
	if err != nil {
		return nil, err
	}
	launch, err := benchLaunch(l, o.launches)
	if err != nil {
		return nil, err
	}
	return &result{Hooks: hooks, Launch: launch}, nil
}

// launcher starts the benchmark's plugins with bridge.Launch and collects
// the failures the hooks clients report.
type launcher struct {
	dir        string // the bundle
	manifest   *model.Manifest
	python     string // the Python plugin's interpreter
	pythonPath string // and its PYTHONPATH
	self       string // this program, the Go plugin process's "interpreter"
	logger     hclog.Logger

	mu       sync.Mutex
	failures []error
}

func newLauncher(o options) (*launcher, error) {
	dir, err := filepath.Abs(o.bundle)
	if err != nil {
		return nil, err
	}
	manifest, _, err := model.FindManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("the plugin's manifest: %w", err)
	}
	pythonPath, err := filepath.Abs(o.pythonPath)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return &launcher{
		dir:        dir,
		manifest:   manifest,
		python:     o.python,
		self:       self,
		pythonPath: pythonPath,
		// Warnings and errors only: the plugins' info lines would be noise.
		logger: hclog.New(&hclog.LoggerOptions{Name: "hookbench", Level: hclog.Warn, Output: os.Stderr}),
	}, nil
}

// launch starts one plugin: "python-def", "python-async" or "go-process".
func (l *launcher) launch(kind string) (*bridge.PythonPlugin, error) {
	cfg := bridge.LaunchConfig{
		Dir:         l.dir,
		Manifest:    l.manifest,
		API:         bridgebench.UserAPI{User: bridgebench.FilledUser()},
		Logger:      l.logger,
		HookOptions: bridge.CallOptions{OnError: l.report},
		Python:      l.python,
	}
	switch kind {
	case "python-def":
		cfg.Env = []string{"PYTHONPATH=" + l.pythonPath, handlerEnv + "=def"}
	case "python-async":
		cfg.Env = []string{"PYTHONPATH=" + l.pythonPath, handlerEnv + "=async"}
	case "go-process":
		// The "interpreter" is this program, which ignores the script.
		cfg.Python = l.self
		cfg.Env = []string{goPluginEnv + "=1"}
	default:
		return nil, fmt.Errorf("unknown plugin kind %q", kind)
	}
	return bridge.Launch(context.Background(), cfg)
}

// report is the hooks clients' OnError.
func (l *launcher) report(method string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Errorf("%s: %w", method, err))
}

func (l *launcher) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.failures...)
}

// target is one plugin of the hook benchmark.
type target struct {
	name  string
	hooks plugin.Hooks
	us    []float64
}

func benchHooks(l *launcher, o options) (map[string][]float64, error) {
	var targets []*target
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()
	for _, kind := range []string{"python-def", "python-async", "go-process"} {
		p, err := l.launch(kind)
		if err != nil {
			return nil, err
		}
		closers = append(closers, p.Close)
		targets = append(targets, &target{name: kind, hooks: p.Hooks()})
	}
	srv, err := bridgebench.Serve(func(r grpc.ServiceRegistrar) { bridge.NewHooksServer(bridgebench.Hooks{}).Register(r) })
	if err != nil {
		return nil, err
	}
	closers = append(closers, srv.Stop)
	conn, err := srv.Dial()
	if err != nil {
		return nil, err
	}
	closers = append(closers, conn.Close)
	client := bridge.NewHooksClient(conn)
	client.OnError = l.report
	targets = append(targets, &target{name: "go-inprocess", hooks: client})

	c := &plugin.Context{RequestId: "bench", SessionId: "bench"}
	post := bridgebench.SmallPost()
	call := func(t *target) (time.Duration, error) {
		start := time.Now()
		out, rejection := t.hooks.MessageWillBePosted(c, post)
		elapsed := time.Since(start)
		if err := bridgebench.CheckReplacement(out, rejection); err != nil {
			return 0, fmt.Errorf("%s: %w", t.name, errors.Join(err, l.failed()))
		}
		return elapsed, nil
	}
	for _, t := range targets {
		for range o.warmup {
			if _, err := call(t); err != nil {
				return nil, err
			}
		}
	}
	for turn := 0; len(targets[0].us) < o.calls; turn++ {
		n := min(o.block, o.calls-len(targets[0].us))
		for i := range targets {
			t := targets[(i+turn)%len(targets)]
			for range n {
				d, err := call(t)
				if err != nil {
					return nil, err
				}
				t.us = append(t.us, float64(d.Nanoseconds())/1e3)
			}
		}
	}
	if err := l.failed(); err != nil {
		return nil, err
	}
	out := make(map[string][]float64, len(targets))
	for _, t := range targets {
		out[t.name] = t.us
	}
	return out, nil
}

// benchLaunch times n launches of the Python plugin and of the Go process,
// alternating (the first kind changes every round).
func benchLaunch(l *launcher, n int) (map[string][]float64, error) {
	kinds := []struct{ kind, name string }{{"python-def", "python"}, {"go-process", "go"}}
	out := map[string][]float64{"python": {}, "go": {}}
	for round := range n {
		for i := range kinds {
			k := kinds[(i+round)%len(kinds)]
			start := time.Now()
			p, err := l.launch(k.kind)
			elapsed := time.Since(start)
			if err != nil {
				return nil, err
			}
			if err := p.Close(); err != nil {
				return nil, err
			}
			out[k.name] = append(out[k.name], float64(elapsed.Nanoseconds())/1e6)
		}
	}
	return out, nil
}

// serveGoPlugin is the Go plugin process: bridge.HooksServer over
// bridgebench.Hooks, served by go-plugin with Mattermost's handshake, the
// bridge's server options and the launcher's token.
func serveGoPlugin() {
	token := os.Getenv(bridge.EnvAPIToken)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  bridge.HandshakeProtocolVersion,
			MagicCookieKey:   bridge.HandshakeCookieKey,
			MagicCookieValue: bridge.HandshakeCookieValue,
		},
		Plugins: goplugin.PluginSet{"hooks": hooksPlugin{}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, bridge.ServerOptions()...)
			return grpc.NewServer(append(opts, bridge.RequireToken(token)...)...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr, JSONFormat: true}),
	})
}

// hooksPlugin is the plugin side of go-plugin's "hooks" plugin.
type hooksPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (hooksPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	bridge.NewHooksServer(bridgebench.Hooks{}).Register(s)
	return nil
}

func (hooksPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the plugin side only")
}
