package crosslang

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"mmbindgen.dev/conformance/roundtrip"
)

// slowHTTPSleep is how long the slow processes' HTTP handlers sleep: beyond
// the Python hook timeout, which does not bound HTTP hooks.
const slowHTTPSleep = time.Second

// raisedText is the text of the exception the raise process's handlers
// raise (tests/conformance/python/plugin/plugin.py).
func raisedText(hook string) string { return "crosslang: " + hook + " raised on purpose" }

// TestHookFallbacks: what the hooks client answers when the Python plugin
// gives no answer, hook by hook, against the not_implemented and
// unavailable options of the proto (read from `mm-bindgen list --json`).
// In each group every hook is called at once (the slow ones sleep), then
// checked in a subtest named after it:
//
//   - not_implemented: the hook is missing from the plugin's Implemented
//     list (the slow_even and slow_odd processes implement every other
//     hook); the Implemented answer of each is checked too;
//   - python_timeout: the handler outlives MM_PLUGIN_HOOK_TIMEOUT (0.5 s);
//     Python ends the call with DEADLINE_EXCEEDED (HTTP hooks have no
//     Python deadline: their slow answer arrives);
//   - go_timeout: the handler outlives the hooks client's per-call timeout
//     (HTTP hooks: the request's deadline, answered 504);
//   - raise: the handler raises; hooks with an error result answer the
//     AppError plugin.python.<hook>.error, the others the unavailable
//     fallback;
//   - killed: the process of the raise case is killed (SIGKILL); every
//     hook answers the unavailable fallback, Implemented an error.
func TestHookFallbacks(t *testing.T) {
	s := getSuite(t)
	protoModels, err := loadModel()
	if err != nil {
		t.Fatal(err)
	}
	methods := protoModels["plugin.Hooks"]
	even, _ := splitHooks()
	isEven := map[string]bool{}
	for _, h := range even {
		isEven[h] = true
	}
	// implementer and other return the slow process implementing hook, and
	// the one that does not.
	implementer := func(hook string) string {
		if isEven[hook] {
			return modeSlowEven
		}
		return modeSlowOdd
	}
	other := func(hook string) string {
		if isEven[hook] {
			return modeSlowOdd
		}
		return modeSlowEven
	}
	fixed := func(mode string) func(string) string { return func(string) string { return mode } }

	t.Run("not_implemented", func(t *testing.T) {
		for _, mode := range []string{modeSlowEven, modeSlowOdd} {
			t.Run("Implemented_"+mode, func(t *testing.T) {
				p := getProc(t, mode)
				got, err := p.hooks().Implemented()
				if err != nil {
					t.Fatal(err)
				}
				want := slices.Clone(p.implemented)
				sort.Strings(want)
				if !slices.Equal(got, want) {
					t.Errorf("Implemented: got %q, want %q", got, want)
				}
			})
		}
		outcomes := callAll(t, s, methods, other, nil)
		for _, hook := range allHooks() {
			t.Run(hook, func(t *testing.T) {
				o := outcomes[hook]
				if !o.ok(t) {
					return
				}
				o.fb.expect(t, methods[hook].Hook.NotImplemented, "not_implemented", nil)
				if errs := o.errs(); len(errs) != 0 {
					t.Errorf("OnError was told %q; a hook the plugin does not implement is not called", errs)
				}
			})
		}
	})

	t.Run("python_timeout", func(t *testing.T) {
		outcomes := callAll(t, s, methods, implementer, nil)
		for _, hook := range allHooks() {
			t.Run(hook, func(t *testing.T) {
				o := outcomes[hook]
				if !o.ok(t) {
					return
				}
				if o.fb.web != nil {
					// No Python deadline for HTTP hooks: the answer comes.
					if o.fb.rec.Code != http.StatusOK || o.fb.rec.Body.String() != "slow "+hook {
						t.Errorf("got %d %q, want 200 %q", o.fb.rec.Code, o.fb.rec.Body.String(), "slow "+hook)
					}
					if o.elapsed < slowHTTPSleep {
						t.Errorf("answered after %v, before the handler's %v", o.elapsed, slowHTTPSleep)
					}
					return
				}
				o.fb.expect(t, methods[hook].Hook.Unavailable, "unavailable", nil)
				if o.elapsed < pythonHookTimeout || o.elapsed > slowSleep/2 {
					t.Errorf("the fallback came after %v; the Python hook timeout is %v", o.elapsed, pythonHookTimeout)
				}
				errs := o.errs()
				if len(errs) != 1 || !strings.Contains(errs[0], "code = DeadlineExceeded desc = "+hook+": the plugin did not answer within 0.5 s") {
					t.Errorf("OnError was told %q, want the plugin's DEADLINE_EXCEEDED (%s: the plugin did not answer within 0.5 s)", errs, hook)
				}
			})
		}
	})

	t.Run("go_timeout", func(t *testing.T) {
		outcomes := callAll(t, s, methods, fixed(modeGoTimeout), func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, goHookTimeout)
		})
		for _, hook := range allHooks() {
			t.Run(hook, func(t *testing.T) {
				o := outcomes[hook]
				if !o.ok(t) {
					return
				}
				errs := o.errs()
				if o.fb.web != nil {
					if code := o.fb.rec.Code; code != http.StatusGatewayTimeout {
						t.Errorf("got status %d, want 504 (OnError: %q)", code, errs)
					}
				} else {
					o.fb.expect(t, methods[hook].Hook.Unavailable, "unavailable", nil)
				}
				if o.elapsed > slowSleep/2 {
					t.Errorf("the answer came after %v; the Go timeout is %v", o.elapsed, goHookTimeout)
				}
				if len(errs) != 1 || !strings.Contains(strings.ToLower(errs[0]), "deadline") {
					t.Errorf("OnError was told %q, want one deadline failure", errs)
				}
			})
		}
	})

	t.Run("raise", func(t *testing.T) {
		outcomes := callAll(t, s, methods, fixed(modeRaise), nil)
		for _, hook := range allHooks() {
			t.Run(hook, func(t *testing.T) {
				o := outcomes[hook]
				if !o.ok(t) {
					return
				}
				errs := o.errs()
				switch {
				case o.fb.web != nil:
					if o.fb.rec.Code != http.StatusBadGateway {
						t.Errorf("got status %d, want 502", o.fb.rec.Code)
					}
				case o.fb.inv != nil && o.fb.inv.errIndex() >= 0:
					// In band: the handler's error is the answer.
					o.fb.expect(t, roundtrip.HookFallback{}, "", pythonError(hook))
					if len(errs) != 0 {
						t.Errorf("OnError was told %q; an error in the response is an answer", errs)
					}
					return
				default:
					o.fb.expect(t, methods[hook].Hook.Unavailable, "unavailable", nil)
				}
				if len(errs) != 1 || !strings.Contains(errs[0], "code = Internal") || !strings.Contains(errs[0], raisedText(hook)) {
					t.Errorf("OnError was told %q, want INTERNAL with %q", errs, raisedText(hook))
				}
			})
		}
	})

	t.Run("killed", func(t *testing.T) {
		p := getProc(t, modeRaise)
		pid := p.launchedPID(t)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", pid, err)
		}
		for deadline := time.Now().Add(5 * time.Second); !p.plugin.Exited(); {
			if time.Now().After(deadline) {
				t.Fatal("the plugin is still running 5 s after SIGKILL")
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Run("Implemented", func(t *testing.T) {
			hooks, err := p.hooks().Implemented()
			var appErr *model.AppError
			if hooks != nil || !errors.As(err, &appErr) || appErr.Id != "plugin.bridge.implemented.unavailable" || appErr.StatusCode != 503 {
				t.Errorf("Implemented: got %q, %v; want nil, plugin.bridge.implemented.unavailable (503)", hooks, err)
			}
		})
		outcomes := callAll(t, s, methods, fixed(modeRaise), nil)
		for _, hook := range allHooks() {
			t.Run(hook, func(t *testing.T) {
				o := outcomes[hook]
				if !o.ok(t) {
					return
				}
				if o.fb.web != nil {
					if o.fb.rec.Code != http.StatusBadGateway {
						t.Errorf("got status %d, want 502", o.fb.rec.Code)
					}
				} else {
					o.fb.expect(t, methods[hook].Hook.Unavailable, "unavailable", nil)
				}
				if errs := o.errs(); len(errs) != 1 {
					t.Errorf("OnError was told %q, want one failure", errs)
				}
			})
		}
	})
}

// outcome is one hook call of a fallback group.
type outcome struct {
	hook    string
	p       *proc
	fb      *fallbackCall
	before  int // what OnError was told of the hook before
	elapsed time.Duration
}

// ok reports a panic of the call.
func (o *outcome) ok(t *testing.T) bool {
	t.Helper()
	if o.fb.panicked != "" {
		t.Errorf("the hooks client panicked: %s", o.fb.panicked)
		return false
	}
	return true
}

// errs returns what OnError was told of the hook during the call.
func (o *outcome) errs() []string { return o.p.errs.of(o.hook)[o.before:] }

// callAll calls every hook but Implemented at once, each on the process of
// mode procOf(hook), with the arguments of its first case; withCtx derives
// the context of the HTTP hooks' requests.
func callAll(t *testing.T, s *suite, methods map[string]*protoMethod, procOf func(string) string, withCtx func(context.Context) (context.Context, context.CancelFunc)) map[string]*outcome {
	t.Helper()
	out := map[string]*outcome{}
	for _, hook := range allHooks() {
		p := getProc(t, procOf(hook))
		out[hook] = &outcome{hook: hook, p: p, fb: newFallbackCall(s, methods[hook]), before: len(p.errs.of(hook))}
	}
	var wg sync.WaitGroup
	for _, o := range out {
		wg.Go(func() {
			start := time.Now()
			o.fb.call(o.p, withCtx)
			o.elapsed = time.Since(start)
		})
	}
	wg.Wait()
	return out
}

// launchedPID returns the pid of the plugin process, as go-plugin logged
// it when it started the process ("plugin started").
func (p *proc) launchedPID(t *testing.T) int {
	t.Helper()
	for _, line := range strings.Split(p.logs.tail(1<<30), "\n") {
		var entry struct {
			Message string `json:"@message"`
			PID     int    `json:"pid"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "plugin started" && entry.PID > 0 {
			return entry.PID
		}
	}
	t.Fatalf("no \"plugin started\" line with the pid in the %s plugin's log", p.mode)
	return 0
}

// pid asks the full plugin process for its pid ("/pid"), and checks that
// it is the process the launcher started.
func (p *proc) pid(t *testing.T) int {
	t.Helper()
	var pid int
	if _, err := fmt.Sscan(p.command(t, "/pid"), &pid); err != nil || pid <= 0 {
		t.Fatalf("/pid: %v", err)
	}
	if launched := p.launchedPID(t); pid != launched {
		t.Fatalf("the plugin runs as pid %d, the launcher started pid %d", pid, launched)
	}
	return pid
}

// pythonError is the AppError the SDK makes of the raise process's
// exception in hook.
func pythonError(hook string) *model.AppError {
	return &model.AppError{
		Id:            "plugin.python." + snake(hook) + ".error",
		Message:       raisedText(hook),
		DetailedError: "builtins.RuntimeError",
		StatusCode:    500,
		Where:         hook,
	}
}

// fallbackCall is one call of a hook with the arguments of its first case.
type fallbackCall struct {
	pm  *protoMethod
	inv *invocation
	web *webCase
	up  *uploadCase

	out      []reflect.Value
	panicked string
	rec      *httptest.ResponseRecorder
	upInfo   *model.FileInfo
	upWhy    string
	written  bytes.Buffer
}

func newFallbackCall(s *suite, pm *protoMethod) *fallbackCall {
	hc := s.hooks[pm.GoName][0]
	return &fallbackCall{pm: pm, inv: hc.inv, web: hc.web, up: hc.up}
}

// call calls the hook on p's client; withCtx, when set, derives the HTTP
// request's context. A panic is kept in panicked.
func (fb *fallbackCall) call(p *proc, withCtx func(context.Context) (context.Context, context.CancelFunc)) {
	defer func() {
		if r := recover(); r != nil {
			fb.panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	client := p.hooks()
	switch {
	case fb.web != nil:
		fb.rec = httptest.NewRecorder()
		req := fb.web.req.build()
		if withCtx != nil {
			ctx, cancel := withCtx(req.Context())
			defer cancel()
			req = req.WithContext(ctx)
		}
		reflect.ValueOf(client).MethodByName(fb.pm.GoName).Call([]reflect.Value{reflect.ValueOf(fb.web.ctx), reflect.ValueOf(fb.rec), reflect.ValueOf(req)})
	case fb.up != nil:
		fb.upInfo, fb.upWhy = client.FileWillBeUploaded(fb.up.ctx, fb.up.info, bytes.NewReader(fb.up.content), &fb.written)
	default:
		m := reflect.ValueOf(client).MethodByName(fb.pm.GoName)
		fb.out = m.Call(fb.inv.callArgs())
	}
}

// expect checks that the call answered fallback hf (reason
// "not_implemented" or "unavailable": the bridge's error, if hf has one),
// or, when appErr is set, zero results and that error.
func (fb *fallbackCall) expect(t *testing.T, hf roundtrip.HookFallback, reason string, appErr *model.AppError) {
	t.Helper()
	if fb.web != nil {
		if fb.rec.Code != hf.HTTPStatus {
			t.Errorf("got status %d, want %d", fb.rec.Code, hf.HTTPStatus)
		}
		return
	}
	if fb.up != nil {
		var want *model.FileInfo
		if fb.pm.echoParam(hf.Echo) == 1 {
			want = fb.up.info
		}
		reportDiff(t, "result 0 (*model.FileInfo)", roundtrip.DiffValues(want, fb.upInfo))
		if fb.upWhy != "" {
			t.Errorf("result 1 (string): got %q, want \"\"", fb.upWhy)
		}
		if fb.written.Len() != 0 {
			t.Errorf("%d bytes written to the output, want none", fb.written.Len())
		}
		return
	}
	mt := fb.inv.mt
	if len(fb.out) != mt.NumOut() {
		t.Errorf("the client returned %d results, want %d", len(fb.out), mt.NumOut())
		return
	}
	want := make([]reflect.Value, mt.NumOut())
	for k := range want {
		want[k] = reflect.New(mt.Out(k)).Elem()
	}
	if e := fb.pm.echoParam(hf.Echo); e >= 0 {
		want[0] = fb.inv.args[e]
	}
	if hf.BoolResult {
		want[0] = reflect.ValueOf(true)
	}
	errIdx := fb.inv.errIndex()
	for k := range want {
		if k != errIdx {
			reportDiff(t, fmt.Sprintf("result %d (%s)", k, mt.Out(k)), roundtrip.Diff(want[k], fb.out[k]))
			continue
		}
		got, _ := fb.out[k].Interface().(error)
		switch {
		case appErr != nil:
			reportDiff(t, "error result", roundtrip.DiffValues[error](appErr, got))
		case hf.Error == nil:
			if got != nil {
				t.Errorf("error result: got %v, want nil", got)
			}
		default:
			var ae *model.AppError
			if !errors.As(got, &ae) || ae.Id != hf.Error.ID || ae.StatusCode != hf.Error.Status {
				t.Errorf("error result: got %v, want %s (%d)", got, hf.Error.ID, hf.Error.Status)
			} else if !strings.HasSuffix(ae.Id, "."+reason) {
				t.Errorf("error result: %s is not a %s error", ae.Id, reason)
			}
		}
	}
}

// snake converts a Go name to snake case as the error ids have it:
// OnSAMLLogin → on_saml_login, ServeHTTP → serve_http.
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prev := rs[i-1]
			prevLower := prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			if prevLower || (prev >= 'A' && prev <= 'Z' && nextLower) {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
