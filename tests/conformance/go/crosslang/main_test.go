package crosslang

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"

	"mmbindgen.dev/generated/go/bridge"
)

// The plugin processes of the suite, by mode (see the package doc).
const (
	modeFull      = "full"
	modeZero      = "zero"
	modeRaise     = "raise"
	modeSlowEven  = "slow_even"
	modeSlowOdd   = "slow_odd"
	modeGoTimeout = "go_timeout"
)

const (
	// pythonHookTimeout is MM_PLUGIN_HOOK_TIMEOUT of the slow processes.
	pythonHookTimeout = 500 * time.Millisecond
	// goHookTimeout is the hooks client's per-call timeout of the
	// go_timeout process, whose Python hook timeout is much longer.
	goHookTimeout = 300 * time.Millisecond
	// slowSleep is how long the handlers of the slow processes sleep.
	slowSleep = 3 * time.Second
	// startTimeout bounds each start: the processes start together.
	startTimeout = 30 * time.Second
)

// proc is one plugin process of the suite.
type proc struct {
	mode   string
	ready  chan struct{}
	plugin *bridge.PythonPlugin
	err    error
	logs   *lockedBuffer
	errs   *errorLog
	// implemented lists the hooks the process implements (Implemented
	// excluded).
	implemented []string
}

var (
	procs    = map[string]*proc{}
	workDir  string // temporary directory of the fixtures
	live     = newLiveAPI()
	liveZero = newLiveAPI() // the zero process's API
	suiteErr error
	theSuite *suite
)

func TestMain(m *testing.M) {
	code := run(m)
	os.Exit(code)
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "crosslang-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	workDir = dir

	even, odd := splitHooks()
	launch(modeFull, "full", live, allHooks(), nil, 30*time.Second)
	launch(modeZero, "full", liveZero, allHooks(), []string{"XLANG_API_SET=api_zero"}, 30*time.Second)
	launch(modeRaise, "raise", live, allHooks(), nil, 30*time.Second)
	slowEnv := []string{bridge.EnvHookTimeout + "=" + fmt.Sprint(pythonHookTimeout.Seconds())}
	launch(modeSlowEven, "slow", live, even, slowEnv, 10*time.Second)
	launch(modeSlowOdd, "slow", live, odd, slowEnv, 10*time.Second)
	launch(modeGoTimeout, "slow", live, allHooks(), []string{bridge.EnvHookTimeout + "=10"}, goHookTimeout)

	theSuite, suiteErr = buildSuite()
	if suiteErr == nil {
		suiteErr = theSuite.write(filepath.Join(workDir, "fixtures.json"))
	}
	code := m.Run()
	for _, p := range procs {
		<-p.ready
		if p.plugin != nil {
			_ = p.plugin.Close()
		}
	}
	return code
}

// getSuite returns the fixtures, or fails t.
func getSuite(t *testing.T) *suite {
	t.Helper()
	if suiteErr != nil {
		t.Fatalf("building the fixtures: %v", suiteErr)
	}
	return theSuite
}

// pythonPath returns the interpreter: $MM_PYTHON, else the repository's
// .venv/bin/python.
func pythonPath(repo string) string {
	if p := os.Getenv("MM_PYTHON"); p != "" {
		return p
	}
	return filepath.Join(repo, ".venv", "bin", "python")
}

// launch starts the process of mode in the background: the plugin's
// XLANG_MODE pyMode, serving api, implementing hooks, with a hooks client
// timeout.
func launch(mode, pyMode string, api *liveAPI, hooks []string, env []string, timeout time.Duration) {
	p := &proc{mode: mode, ready: make(chan struct{}), logs: &lockedBuffer{}, errs: &errorLog{}, implemented: hooks}
	procs[mode] = p
	go func() {
		defer close(p.ready)
		repo, err := repoRoot()
		if err != nil {
			p.err = err
			return
		}
		bundle := filepath.Join(repo, "tests", "conformance", "python", "plugin")
		manifest, err := readManifest(filepath.Join(bundle, "plugin.json"))
		if err != nil {
			p.err = err
			return
		}
		python := pythonPath(repo)
		if _, err := os.Stat(python); err != nil {
			p.err = fmt.Errorf("the Python interpreter (set MM_PYTHON): %w", err)
			return
		}
		cfg := bridge.LaunchConfig{
			Dir:      bundle,
			Manifest: manifest,
			API:      api,
			Logger:   hclog.New(&hclog.LoggerOptions{Output: p.logs, Level: hclog.Debug, JSONFormat: true}),
			HookOptions: bridge.CallOptions{
				Timeout: timeout,
				OnError: p.errs.onError,
			},
			StartTimeout: startTimeout,
			Python:       python,
			Env: append([]string{
				"PYTHONPATH=" + filepath.Join(repo, "generated", "python") + string(os.PathListSeparator) + filepath.Join(repo, "tests", "conformance", "python"),
				"XLANG_MODE=" + pyMode,
				"XLANG_HOOKS=" + strings.Join(hooks, ","),
				"XLANG_SLEEP=" + fmt.Sprint(slowSleep.Seconds()),
				"XLANG_HTTP_SLEEP=" + fmt.Sprint(slowHTTPSleep.Seconds()),
				"XLANG_FIXTURES=" + filepath.Join(workDir, "fixtures.json"),
			}, env...),
		}
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		p.plugin, p.err = bridge.Launch(ctx, cfg)
	}()
}

// getProc waits for the process of mode; a failed start fails t. The
// plugin's log is shown when t fails.
func getProc(t *testing.T, mode string) *proc {
	t.Helper()
	p := procs[mode]
	<-p.ready
	if p.err != nil {
		t.Fatalf("starting the %s plugin: %v\nlog:\n%s", mode, p.err, p.logs.tail(8<<10))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the %s plugin's log ends with:\n%s", mode, p.logs.tail(4<<10))
		}
	})
	return p
}

func (p *proc) hooks() *bridge.HooksClient { return p.plugin.Hooks() }

// command runs a control command of the full plugin (its ExecuteCommand
// hook) and returns the response text.
func (p *proc) command(t *testing.T, text string) string {
	t.Helper()
	resp, appErr := p.hooks().ExecuteCommand(&plugin.Context{}, &model.CommandArgs{Command: text})
	if appErr != nil {
		t.Fatalf("%q: the plugin answered %s (%d): %s: %s", text, appErr.Id, appErr.StatusCode, appErr.Message, appErr.DetailedError)
	}
	if resp == nil {
		t.Fatalf("%q: no response", text)
	}
	return resp.Text
}

// expectOK runs a control command that must answer "ok"; anything else is
// a list of mismatches seen by the plugin.
func (p *proc) expectOK(t *testing.T, text string) {
	t.Helper()
	if got := p.command(t, text); got != "ok" {
		t.Errorf("%s: the Python plugin reports:\n%s", text, got)
	}
}

func readManifest(path string) (*model.Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m model.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// allHooks lists every hook but Implemented, which every Python plugin
// answers.
func allHooks() []string {
	var out []string
	for i := range hooksType.NumMethod() {
		if name := hooksType.Method(i).Name; name != "Implemented" {
			out = append(out, name)
		}
	}
	return out
}

// splitHooks splits allHooks in two alternating halves.
func splitHooks() (even, odd []string) {
	for i, h := range allHooks() {
		if i%2 == 0 {
			even = append(even, h)
		} else {
			odd = append(odd, h)
		}
	}
	return even, odd
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.Bytes()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return string(s)
}

// errorLog collects what a client's CallOptions.OnError is told.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) onError(method string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, method+": "+err.Error())
}

// of returns what OnError was told of method.
func (l *errorLog) of(method string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.errs {
		if strings.HasPrefix(e, method+": ") {
			out = append(out, e)
		}
	}
	return out
}

// count returns the number of failures OnError was told of.
func (l *errorLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.errs)
}

// since returns the failures after the first n.
func (l *errorLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs[min(n, len(l.errs)):])
}
