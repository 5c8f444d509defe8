// The launcher: what the server side calls to run a Python plugin. It serves
// the Plugin API on loopback, starts the plugin's interpreter through
// go-plugin with Mattermost's handshake, and hands back the plugin's hooks.

package bridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// The go-plugin handshake of Mattermost's plugin supervisor (the unexported
// handshake of server/public's plugin/api.go, v0.4.4): the plugin process
// must find HandshakeCookieKey=HandshakeCookieValue in its environment and
// speak protocol version HandshakeProtocolVersion.
const (
	HandshakeProtocolVersion = 1
	HandshakeCookieKey       = "MATTERMOST_PLUGIN"
	HandshakeCookieValue     = "Securely message teams, anywhere."
)

// The environment the launcher gives the plugin process, besides go-plugin's
// own variables (the magic cookie, PLUGIN_PROTOCOL_VERSIONS...).
const (
	// EnvAPIAddress is the host:port of the PluginAPI service.
	EnvAPIAddress = "MM_PLUGIN_API_ADDRESS"
	// EnvAPIToken is the token every call must carry (TokenHeader).
	EnvAPIToken = "MM_PLUGIN_API_TOKEN"
	// EnvPluginID is the manifest's plugin id.
	EnvPluginID = "MM_PLUGIN_ID"
	// EnvLogLevel is the least level worth logging: debug, info, warn or
	// error, from the launcher's logger.
	EnvLogLevel = "MM_PLUGIN_LOG_LEVEL"
	// EnvHookTimeout is the deadline of a hook call in decimal seconds.
	EnvHookTimeout = "MM_PLUGIN_HOOK_TIMEOUT"
	// EnvParentFD is the plugin's file descriptor of a pipe whose other end
	// only the launcher holds. The pipe reaches end of file when the
	// launcher's process ends, however it ends (even by SIGKILL), and the
	// plugin then stops: a plugin never outlives the process that started
	// it. Set on Unix only.
	EnvParentFD = "MM_PLUGIN_PARENT_FD"
)

// DefaultStartTimeout is how long the plugin process has to answer the
// handshake when LaunchConfig.StartTimeout is zero: the 3 s that
// Mattermost's supervisor gives a Go plugin.
const DefaultStartTimeout = 3 * time.Second

// PingTimeout bounds PythonPlugin.Ping.
const PingTimeout = 5 * time.Second

// apiStopGrace is how long Close lets API calls in progress finish.
const apiStopGrace = 5 * time.Second

// hooksPluginName is the name under which Mattermost plugins dispense their
// hooks.
const hooksPluginName = "hooks"

// LaunchConfig says which plugin Launch starts and how.
type LaunchConfig struct {
	// Dir is the unpacked plugin bundle; the process runs in it.
	Dir string

	// Manifest is the bundle's manifest. It must pass model.Manifest.IsValid
	// and name the entry script as PythonMain describes.
	Manifest *model.Manifest

	// API is what the plugin's API calls reach.
	API plugin.API

	// Logger receives go-plugin's messages and the plugin's log: the JSON
	// lines the plugin writes to its stderr keep their level, other lines
	// are logged at debug level, and what the plugin sends through
	// go-plugin's stdio service is logged at info level (or at the level a
	// "[WARN]"-style prefix names). Nil means hclog.Default(), with the
	// plugin id.
	Logger hclog.Logger

	// HookOptions are the call options of the hooks client. A zero Timeout
	// means DefaultHookTimeout, a negative one no deadline. The plugin is
	// told the timeout (EnvHookTimeout) so that its handlers stop when the
	// server stops waiting; Timeouts are not passed on.
	HookOptions CallOptions

	// StartTimeout bounds the wait for the plugin's handshake; zero (or
	// less) means DefaultStartTimeout.
	StartTimeout time.Duration

	// Python is the interpreter, a path or a name looked up in PATH. Empty
	// means the bundle's venv/bin/python, else its .venv/bin/python, else
	// python3 from PATH (Unix layouts only).
	Python string

	// Env is added to the plugin's environment, after the server's own
	// environment and the launcher's EnvLogLevel and EnvHookTimeout, which
	// it can override; EnvAPIAddress, EnvAPIToken and EnvPluginID always
	// come from the launcher.
	Env []string
}

// PythonPlugin is a running Python plugin started by Launch.
type PythonPlugin struct {
	client *goplugin.Client
	hooks  *HooksClient

	api       *grpc.Server
	apiAddr   string
	served    chan struct{} // closed when api.Serve returned
	serveErr  error         // what api.Serve returned, read after served
	cmd       *exec.Cmd
	endStart  context.CancelFunc // cancels the context of cmd, killing it
	lifeline  *os.File           // the launcher's end of the EnvParentFD pipe
	closeOnce sync.Once
	closeErr  error
}

// Launch starts the Python plugin in cfg.Dir and returns once it answered
// the handshake and a health check. In order, it validates the manifest
// (PythonMain), finds the interpreter, serves an APIServer over cfg.API on a
// loopback port with a fresh token (RequireToken), and runs the interpreter
// on the entry script through go-plugin with Mattermost's handshake and the
// gRPC protocol. The process runs in cfg.Dir and finds the API address, the
// token and the plugin id in its environment (EnvAPIAddress, EnvAPIToken,
// EnvPluginID); every call the launcher makes to the plugin carries the
// same token, so that the plugin can refuse other callers too.
//
// ctx bounds the start only: cancelling it afterwards does not stop the
// plugin; Close does. When a step fails, Launch stops what it started and
// its error names the step; the plugin's last lines of stderr are added to
// an error of the start.
func Launch(ctx context.Context, cfg LaunchConfig) (*PythonPlugin, error) {
	if cfg.Manifest == nil {
		return nil, errors.New("bridge: launching a Python plugin: no manifest")
	}
	id := cfg.Manifest.Id
	fail := func(step string, err error) error {
		return fmt.Errorf("bridge: launching plugin %q: %s: %w", id, step, err)
	}
	if err := cfg.Manifest.IsValid(); err != nil {
		return nil, fail("invalid manifest", err)
	}
	if cfg.API == nil {
		return nil, fail("configuration", errors.New("no plugin API"))
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fail("bundle directory", err)
	}
	main, err := PythonMain(dir, cfg.Manifest)
	if err != nil {
		return nil, err
	}
	python, err := findPython(dir, cfg.Python)
	if err != nil {
		return nil, fail("interpreter", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fail("start", err)
	}

	p := &PythonPlugin{served: make(chan struct{})}
	launched := false
	defer func() {
		if !launched {
			p.stop()
		}
	}()

	token, err := p.serveAPI(cfg.API)
	if err != nil {
		return nil, fail("API server", err)
	}

	logger := cfg.Logger
	if logger == nil {
		logger = hclog.Default().With("plugin_id", id)
	}
	hookTimeout := cfg.HookOptions.Timeout
	if hookTimeout == 0 {
		hookTimeout = DefaultHookTimeout
	}
	startTimeout := cfg.StartTimeout
	if startTimeout <= 0 {
		startTimeout = DefaultStartTimeout
	}

	// The process is killed if ctx ends before the start completes: go-plugin
	// itself only knows StartTimeout.
	procCtx, endStart := context.WithCancel(context.Background())
	p.endStart = endStart
	p.cmd = exec.CommandContext(procCtx, python, main)
	p.cmd.Dir = dir
	p.cmd.Env = slices.Concat(
		os.Environ(),
		[]string{EnvLogLevel + "=" + logLevelName(logger.GetLevel())},
		hookTimeoutEnv(hookTimeout),
		cfg.Env,
		[]string{EnvAPIAddress + "=" + p.apiAddr, EnvAPIToken + "=" + token, EnvPluginID + "=" + id},
	)
	childEnd, err := p.holdLifeline()
	if err != nil {
		return nil, fail("lifeline pipe", err)
	}
	if childEnd != nil {
		p.cmd.ExtraFiles = []*os.File{childEnd}
		p.cmd.Env = append(p.cmd.Env, EnvParentFD+"=3")
		// The child has its copy once started; ours would keep the pipe open.
		defer childEnd.Close()
	}
	unwatch := context.AfterFunc(ctx, endStart)
	defer unwatch()

	stderr := &tailWriter{max: 2 << 10}
	hookOptions := cfg.HookOptions
	hookOptions.Timeout = hookTimeout
	hookOptions.Timeouts = maps.Clone(cfg.HookOptions.Timeouts)
	p.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: handshake(),
		Plugins:         goplugin.PluginSet{hooksPluginName: &hooksPlugin{options: hookOptions}},
		Cmd:             p.cmd,
		// The environment is built above, so that Env can override the
		// server's own: go-plugin would append os.Environ() last.
		SkipHostEnv:      true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     startTimeout,
		Logger:           logger,
		Stderr:           stderr,
		SyncStdout:       logger.Named("stdout").StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}),
		SyncStderr:       logger.Named("stderr").StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}),
		GRPCDialOptions:  append(DialOptions(), WithToken(token)),
	})
	startFailed := func(step string, err error) error {
		p.client.Kill() // waits for the process and go-plugin's goroutines
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		} else if ps := p.cmd.ProcessState; ps != nil && ps.Exited() {
			err = fmt.Errorf("the process exited with status %d", ps.ExitCode())
		}
		if tail := stderr.String(); tail != "" {
			err = fmt.Errorf("%w; the plugin's stderr ends with:\n%s", err, tail)
		}
		return fail(step, err)
	}

	protocol, err := p.client.Client()
	if err != nil {
		return nil, startFailed("starting "+python+" "+main, firstLine(err))
	}
	raw, err := protocol.Dispense(hooksPluginName)
	if err != nil {
		return nil, startFailed("dispensing the hooks", err)
	}
	hooks, ok := raw.(*HooksClient)
	if !ok {
		return nil, fail("dispensing the hooks", fmt.Errorf("got %T", raw))
	}
	p.hooks = hooks
	checkCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := p.check(checkCtx); err != nil {
		return nil, startFailed("health check", err)
	}
	if !unwatch() {
		return nil, fail("start", ctx.Err())
	}
	launched = true
	return p, nil
}

// serveAPI serves an APIServer over api on a loopback port, for the callers
// that have the token it returns.
func (p *PythonPlugin) serveAPI(api plugin.API) (string, error) {
	token, err := NewToken()
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	p.apiAddr = lis.Addr().String()
	p.api = grpc.NewServer(append(ServerOptions(), RequireToken(token)...)...)
	NewAPIServer(api).Register(p.api)
	go func() {
		defer close(p.served)
		if err := p.api.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			p.serveErr = err
		}
	}()
	return token, nil
}

// holdLifeline creates the EnvParentFD pipe on Unix: the launcher keeps the
// write end, never writing to it, until Close; it returns the read end, for
// the child. Nothing on Windows, where a child inherits no descriptors.
func (p *PythonPlugin) holdLifeline() (*os.File, error) {
	if runtime.GOOS == "windows" {
		return nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.lifeline = w
	return r, nil
}

// hookTimeoutEnv tells the plugin the hooks' deadline, if they have one.
func hookTimeoutEnv(timeout time.Duration) []string {
	if timeout <= 0 {
		return nil
	}
	return []string{EnvHookTimeout + "=" + strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)}
}

// Hooks returns the plugin's hooks: a HooksClient, which implements
// plugin.Hooks, with LaunchConfig.HookOptions.
func (p *PythonPlugin) Hooks() *HooksClient {
	return p.hooks
}

// Ping checks that the plugin answers go-plugin's health service within
// PingTimeout, as Mattermost's health check job pings its plugins.
func (p *PythonPlugin) Ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), PingTimeout)
	defer cancel()
	return p.check(ctx)
}

// check asks go-plugin's health service of the plugin.
func (p *PythonPlugin) check(ctx context.Context) error {
	protocol, err := p.client.Client()
	if err != nil {
		return fmt.Errorf("bridge: plugin connection: %w", err)
	}
	client, ok := protocol.(*goplugin.GRPCClient)
	if !ok {
		return fmt.Errorf("bridge: plugin connection: unexpected %T", protocol)
	}
	_, err = grpc_health_v1.NewHealthClient(client.Conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: goplugin.GRPCServiceName})
	if err != nil {
		return fmt.Errorf("bridge: plugin health check: %w", err)
	}
	return nil
}

// Exited reports whether the plugin process has ended.
func (p *PythonPlugin) Exited() bool {
	return p.client.Exited()
}

// Close stops the plugin: go-plugin asks the plugin to shut down (its
// controller service), waits up to 2 s for the process to end and kills it
// otherwise; then the API server stops, letting calls in progress finish for
// up to 5 s. Close returns when everything has stopped. It may be called
// more than once and concurrently; every call returns the first one's
// result: an error of the API server, if it failed while serving.
func (p *PythonPlugin) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.stop() })
	return p.closeErr
}

// stop stops what Launch started, whatever it got to.
func (p *PythonPlugin) stop() error {
	if p.client != nil {
		p.client.Kill()
	}
	if p.endStart != nil {
		p.endStart()
	}
	if p.lifeline != nil {
		p.lifeline.Close()
	}
	if p.api == nil {
		return nil
	}
	stopped := make(chan struct{})
	go func() {
		p.api.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(apiStopGrace)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		p.api.Stop()
		<-stopped
	}
	<-p.served
	if p.serveErr != nil {
		return fmt.Errorf("bridge: plugin API server: %w", p.serveErr)
	}
	return nil
}

// handshake is Mattermost's go-plugin handshake.
func handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  HandshakeProtocolVersion,
		MagicCookieKey:   HandshakeCookieKey,
		MagicCookieValue: HandshakeCookieValue,
	}
}

// hooksPlugin is the host side of the "hooks" plugin over gRPC: it makes
// the HooksClient of the plugin's connection.
type hooksPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	options CallOptions
}

// GRPCServer fails: the hooks are served by the plugin process.
func (*hooksPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("bridge: the launcher does not serve hooks")
}

// GRPCClient returns a HooksClient over conn with the launcher's options.
func (h *hooksPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	client := NewHooksClient(conn)
	client.CallOptions = h.options
	return client, nil
}

// logLevelName is the EnvLogLevel value for a logger's level.
func logLevelName(level hclog.Level) string {
	switch level {
	case hclog.Trace, hclog.Debug:
		return "debug"
	case hclog.Warn:
		return "warn"
	case hclog.Error, hclog.Off:
		return "error"
	}
	return "info"
}

// firstLine drops what follows the first line of err: go-plugin adds notes
// for Go binaries (file mode, ELF architecture) to some of its errors.
func firstLine(err error) error {
	if msg, _, cut := strings.Cut(err.Error(), "\n"); cut {
		return errors.New(msg)
	}
	return err
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(b), nil
}

// String returns what is kept, without surrounding blank space.
func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.buf))
}
