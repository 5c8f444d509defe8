// The shim: a Go plugin that a stock Mattermost server loads like any other
// (plugin.ClientMain, net/rpc), which runs the bundle's Python plugin with
// the launcher, serves the plugin's API calls over the server's plugin.API
// and forwards every hook to the Python process.

package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ShimDepsDir is the directory of a bundle that holds the vendored Python
// dependencies, one subdirectory per platform (<goos>-<goarch>); the shim
// puts the one of its own platform first in PYTHONPATH.
const ShimDepsDir = "python-deps"

// EnvShimExitGrace is how long the shim keeps answering hooks with the
// bridge's fallbacks after the Python process died, before it exits so that
// the server's health check notices (a Go duration; DefaultShimExitGrace
// when unset or invalid).
const EnvShimExitGrace = "MM_PYTHON_SHIM_EXIT_GRACE"

// DefaultShimExitGrace is the grace of EnvShimExitGrace.
const DefaultShimExitGrace = 2 * time.Second

// ShimStartTimeout bounds the start of the Python process by the shim.
const ShimStartTimeout = 10 * time.Second

// ShimMain runs the shim: the executable of a Python plugin's bundle calls it
// from main and nothing else. It returns when the server stops the plugin,
// after the Python process has stopped.
//
// Run as "<shim> validate-manifest <file>", it checks the plugin manifest in
// file with model.Manifest.IsValid instead (exit status 0 when it is valid,
// 1 with the problem on stderr), which is how the bundle command validates
// manifests with the server's own rules.
func ShimMain() {
	if len(os.Args) == 3 && os.Args[1] == "validate-manifest" {
		if err := validateManifestFile(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	shim := NewShim(ShimConfig{})
	defer shim.Close()
	plugin.ClientMain(shim)
}

// validateManifestFile checks the JSON manifest in path as the server does.
func validateManifestFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var m model.Manifest
	dec := json.NewDecoder(f)
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := m.IsValid(); err != nil {
		return fmt.Errorf("%s: invalid manifest: %w", path, err)
	}
	if m.Server == nil || len(m.Server.Executables) == 0 {
		return fmt.Errorf("%s: no server.executables", path)
	}
	for platform, exe := range m.Server.Executables {
		if exe == "" {
			return fmt.Errorf("%s: server.executables[%q] is empty", path, platform)
		}
	}
	return nil
}

// ShimConfig configures a Shim. The zero value is what ShimMain uses.
type ShimConfig struct {
	// Dir is the plugin bundle; empty means the nearest directory holding a
	// manifest, from the executable's directory upwards.
	Dir string

	// Logger receives the shim's and the Python process's log; nil means
	// JSON lines on the process's stderr (as it is before go-plugin takes
	// os.Stderr over), which the server's go-plugin logs at their level.
	Logger hclog.Logger

	// HookOptions are the call options of the hooks client.
	HookOptions CallOptions

	// Exit is called when the Python process ended while the plugin was
	// active, after the exit grace; nil means os.Exit(1).
	Exit func()
}

// Shim is a Go plugin whose hooks are those of a Python plugin. Its hook
// methods are the HooksClient's, promoted: the server, which learns a Go
// plugin's hooks by reflection over its methods, sees every hook
// implemented; the HooksClient answers the hooks the Python plugin does not
// implement itself, with their not_implemented answer, without a round
// trip. OnConfigurationChange, OnActivate and OnDeactivate start and stop
// the Python process around the forwarded hook.
type Shim struct {
	plugin.MattermostPlugin
	*HooksClient

	cfg    ShimConfig
	conn   *lazyConn
	logger hclog.Logger

	mu       sync.Mutex
	py       *PythonPlugin
	startErr error
	started  bool
	closing  bool
}

// NewShim returns a shim with cfg. Nothing starts before the server calls
// OnConfigurationChange or OnActivate.
func NewShim(cfg ShimConfig) *Shim {
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.New(&hclog.LoggerOptions{
			Name:       "python",
			Level:      hclog.Debug,
			Output:     os.Stderr,
			JSONFormat: true,
		})
	}
	conn := &lazyConn{}
	hooks := NewHooksClient(conn)
	hooks.CallOptions = cfg.HookOptions
	if hooks.Timeout == 0 {
		hooks.Timeout = DefaultHookTimeout
	}
	return &Shim{HooksClient: hooks, cfg: cfg, conn: conn, logger: logger}
}

// OnConfigurationChange starts the Python process if it is not running yet
// (the server calls this hook first during activation, once the API is set)
// and forwards the hook.
func (s *Shim) OnConfigurationChange() error {
	if err := s.start(); err != nil {
		return err
	}
	return s.HooksClient.OnConfigurationChange()
}

// OnActivate starts the Python process if it is not running yet and forwards
// the hook; an error of either fails the activation.
func (s *Shim) OnActivate() error {
	if err := s.start(); err != nil {
		return err
	}
	return s.HooksClient.OnActivate()
}

// OnDeactivate forwards the hook, then stops the Python process.
func (s *Shim) OnDeactivate() error {
	err := s.HooksClient.OnDeactivate()
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// ServeHTTP forwards the hook; when the Python plugin does not implement it,
// it answers as the server's own client does for a Go plugin without the
// hook (http.NotFound), without a round trip.
func (s *Shim) ServeHTTP(c *plugin.Context, w http.ResponseWriter, r *http.Request) {
	if s.lacks("ServeHTTP") {
		http.NotFound(w, r)
		return
	}
	s.HooksClient.ServeHTTP(c, w, r)
}

// ServeMetrics is ServeHTTP's twin for the metrics endpoint.
func (s *Shim) ServeMetrics(c *plugin.Context, w http.ResponseWriter, r *http.Request) {
	if s.lacks("ServeMetrics") {
		http.NotFound(w, r)
		return
	}
	s.HooksClient.ServeMetrics(c, w, r)
}

// lacks reports whether the Python plugin said it does not implement hook.
func (s *Shim) lacks(hook string) bool {
	implemented, err := s.HooksClient.gate.has(hook, s.HooksClient.Implemented)
	return err == nil && !implemented
}

// Close stops the Python process, if it runs. It may be called more than
// once.
func (s *Shim) Close() error {
	s.mu.Lock()
	s.closing = true
	py := s.py
	s.mu.Unlock()
	if py == nil {
		return nil
	}
	return py.Close()
}

// start launches the Python process once; later calls return the first
// call's error.
func (s *Shim) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return s.startErr
	}
	s.started = true
	s.startErr = s.launch()
	if s.startErr != nil {
		s.logger.Error("the Python plugin did not start", "error", s.startErr)
	}
	return s.startErr
}

func (s *Shim) launch() error {
	if s.API == nil {
		return errors.New("bridge shim: no plugin API")
	}
	dir, manifest, err := s.bundle()
	if err != nil {
		return err
	}
	var env []string
	deps := filepath.Join(dir, ShimDepsDir, runtime.GOOS+"-"+runtime.GOARCH)
	if info, err := os.Stat(deps); err == nil && info.IsDir() {
		path := deps
		if old := os.Getenv("PYTHONPATH"); old != "" {
			path += string(os.PathListSeparator) + old
		}
		env = append(env, "PYTHONPATH="+path, "PYTHONNOUSERSITE=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShimStartTimeout)
	defer cancel()
	py, err := Launch(ctx, LaunchConfig{
		Dir:          dir,
		Manifest:     manifest,
		API:          s.API,
		Logger:       s.logger.With("plugin_id", manifest.Id),
		HookOptions:  s.HooksClient.CallOptions,
		StartTimeout: ShimStartTimeout,
		Env:          env,
	})
	if err != nil {
		return err
	}
	protocol, err := py.client.Client()
	if err != nil {
		py.Close()
		return fmt.Errorf("bridge shim: plugin connection: %w", err)
	}
	client, ok := protocol.(*goplugin.GRPCClient)
	if !ok {
		py.Close()
		return fmt.Errorf("bridge shim: plugin connection: unexpected %T", protocol)
	}
	s.conn.set(client.Conn)
	s.py = py
	go s.watch(py)
	return nil
}

// watch ends the shim when the Python process ended by itself: the server's
// health check pings the shim, so the shim must not outlive its plugin. For
// the exit grace, hooks get the bridge's fallbacks.
func (s *Shim) watch(py *PythonPlugin) {
	for !py.Exited() {
		time.Sleep(50 * time.Millisecond)
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return
	}
	grace := DefaultShimExitGrace
	if d, err := time.ParseDuration(os.Getenv(EnvShimExitGrace)); err == nil && d >= 0 {
		grace = d
	}
	s.logger.Error("the Python plugin process exited; the plugin stops", "grace", grace.String())
	time.Sleep(grace)
	s.mu.Lock()
	closing = s.closing
	s.mu.Unlock()
	if closing {
		return
	}
	py.Close()
	if s.cfg.Exit != nil {
		s.cfg.Exit()
		return
	}
	os.Exit(1)
}

// bundle returns the bundle directory and its manifest.
func (s *Shim) bundle() (string, *model.Manifest, error) {
	if s.cfg.Dir != "" {
		m, _, err := model.FindManifest(s.cfg.Dir)
		if err != nil {
			return "", nil, fmt.Errorf("bridge shim: manifest in %s: %w", s.cfg.Dir, err)
		}
		return s.cfg.Dir, m, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("bridge shim: own location: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return FindBundle(filepath.Dir(exe))
}

// FindBundle returns the nearest directory from dir upwards that holds a
// plugin manifest (plugin.json, plugin.yaml or plugin.yml), and the manifest.
func FindBundle(dir string) (string, *model.Manifest, error) {
	for d := dir; ; {
		m, _, err := model.FindManifest(d)
		if err == nil {
			return d, m, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("bridge shim: manifest in %s: %w", d, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil, fmt.Errorf("bridge shim: no plugin manifest in %s or above", dir)
		}
		d = parent
	}
}

// lazyConn is the hooks client's connection: the Python process's once it
// runs, UNAVAILABLE before.
type lazyConn struct {
	mu   sync.RWMutex
	conn grpc.ClientConnInterface
}

func (c *lazyConn) set(conn grpc.ClientConnInterface) {
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
}

func (c *lazyConn) get() (grpc.ClientConnInterface, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.conn == nil {
		return nil, status.Error(codes.Unavailable, "the Python plugin is not running")
	}
	return c.conn, nil
}

func (c *lazyConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	conn, err := c.get()
	if err != nil {
		return err
	}
	return conn.Invoke(ctx, method, args, reply, opts...)
}

func (c *lazyConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	conn, err := c.get()
	if err != nil {
		return nil, err
	}
	return conn.NewStream(ctx, desc, method, opts...)
}

var _ io.Closer = (*Shim)(nil)
