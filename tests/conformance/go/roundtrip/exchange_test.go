package roundtrip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/stretchr/testify/mock"
)

// mode is what a round-trip subtest sends and answers.
type mode string

const (
	modeFilled     mode = "filled"      // random values everywhere
	modeZero       mode = "zero"        // nil pointers, nil slices and maps, zero structs
	modeAppError   mode = "app_error"   // the error result is an AppError with every field set
	modePlainError mode = "plain_error" // the error result is errors.New("x")
)

var readerType = reflect.TypeFor[io.Reader]()

// exchange is one call through a bridged client to a fake: what the fake
// answers, the call itself, and the checks.
type exchange interface {
	// program tells the fake what to answer.
	program(fake *mock.Mock)
	// call calls the client; false when it panicked (reported on t).
	call(t *testing.T, client any) bool
	// checkRoundTrip checks that the fake received the arguments sent and
	// that the client returned the results the fake gave.
	checkRoundTrip(t *testing.T, fake *mock.Mock)
	// checkFallback checks that the client returned the hook fallback fb
	// (reason "not_implemented" or "unavailable") without its results.
	checkFallback(t *testing.T, hook string, fb fallback, reason string)
}

// fullAppError returns an AppError with every compared field set, params
// included.
func fullAppError() *model.AppError {
	e := model.NewAppError("RoundTrip.Where", "roundtrip.test.app_error", map[string]any{
		"Name":   "name é",
		"Count":  3,
		"Nested": map[string]any{"list": []any{"x", 1.5, true, nil}},
	}, "detailed error text", 418)
	e.Message = "message for the user"
	e.RequestId = "request-id-1"
	return e
}

// lastResultIsError tells whether mt's last result is *model.AppError or error.
func lastResultIsError(mt reflect.Type) (isErr, isPlain bool) {
	if mt.NumOut() == 0 {
		return false, false
	}
	last := mt.Out(mt.NumOut() - 1)
	return last == appErrorType || last == errorType, last == errorType
}

// invocation is the generic exchange: any method whose parameters are
// model values, plus io.Reader, the `dest any` of LoadPluginConfiguration
// and a variadic ...any.
type invocation struct {
	name string
	mt   reflect.Type // the interface method's type (no receiver)
	args []reflect.Value
	// results are what the fake answers.
	results []reflect.Value

	readers map[int][]byte // io.Reader parameters: the content sent
	destIdx int            // the `dest any` parameter, or -1
	dest    *map[string]any
	// destContent is what the fake writes into dest.
	destContent map[string]any

	mu      sync.Mutex
	gotRead map[int][]byte
	readErr map[int]error
	destErr string

	out []reflect.Value
}

func newInvocation(f *Filler, name string, mt reflect.Type, m mode) *invocation {
	inv := &invocation{name: name, mt: mt, destIdx: -1, readers: map[int][]byte{}, gotRead: map[int][]byte{}, readErr: map[int]error{}}
	for j := range mt.NumIn() {
		pt := mt.In(j)
		v := reflect.New(pt).Elem()
		switch {
		case pt == readerType:
			var content []byte
			if m != modeZero {
				content = f.Bytes(2*64<<10 + 12345) // more than two chunks
			}
			inv.readers[j] = content
			v.Set(reflect.ValueOf(bytes.NewReader(content)))
		case pt == anyType: // LoadPluginConfiguration's dest
			inv.destIdx = j
			if m != modeZero {
				inv.dest = &map[string]any{}
				inv.destContent = f.JSONObject()
				v.Set(reflect.ValueOf(inv.dest))
			}
		case mt.IsVariadic() && j == mt.NumIn()-1:
			if m != modeZero {
				kv := []any{f.String(), f.JSON(), f.String(), f.JSON()}
				v.Set(reflect.ValueOf(kv))
			}
		case m != modeZero:
			v = f.Value(pt)
		}
		inv.args = append(inv.args, v)
	}
	isErr, _ := lastResultIsError(mt)
	for k := range mt.NumOut() {
		ot := mt.Out(k)
		v := reflect.New(ot).Elem()
		last := k == mt.NumOut()-1
		switch {
		case last && isErr && m == modeAppError:
			v.Set(reflect.ValueOf(fullAppError()))
		case last && isErr && m == modePlainError:
			v.Set(reflect.ValueOf(errors.New("x")))
		case last && isErr:
			// nil
		case m == modeFilled:
			v = f.Value(ot)
		}
		inv.results = append(inv.results, v)
	}
	return inv
}

// anythings returns n mock.Anything matchers.
func anythings(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = mock.Anything
	}
	return out
}

// argCount is the number of arguments the fake's mock records.
func (inv *invocation) argCount() int {
	if inv.mt.IsVariadic() {
		return inv.mt.NumIn() - 1 + inv.args[inv.mt.NumIn()-1].Len()
	}
	return inv.mt.NumIn()
}

func (inv *invocation) program(fake *mock.Mock) {
	rets := make([]any, len(inv.results))
	for k, r := range inv.results {
		rets[k] = r.Interface() // a nil error stays an untyped nil
	}
	fake.On(inv.name, anythings(inv.argCount())...).Return(rets...).Run(func(a mock.Arguments) {
		inv.mu.Lock()
		defer inv.mu.Unlock()
		for j := range inv.readers {
			r, ok := a.Get(j).(io.Reader)
			if !ok || r == nil {
				inv.readErr[j] = fmt.Errorf("the fake got %T, not an io.Reader", a.Get(j))
				continue
			}
			inv.gotRead[j], inv.readErr[j] = io.ReadAll(r)
		}
		if inv.destIdx >= 0 {
			p, ok := a.Get(inv.destIdx).(*map[string]any)
			switch {
			case !ok:
				inv.destErr = fmt.Sprintf("the fake got dest of type %T, want *map[string]any", a.Get(inv.destIdx))
			case inv.destContent != nil:
				*p = inv.destContent
			}
		}
	})
}

func (inv *invocation) call(t *testing.T, client any) bool {
	t.Helper()
	m := reflect.ValueOf(client).MethodByName(inv.name)
	if !m.IsValid() {
		t.Fatalf("%T has no method %s", client, inv.name)
	}
	out, ok := callSafely(t, func() []reflect.Value {
		if inv.mt.IsVariadic() {
			return m.CallSlice(inv.args)
		}
		return m.Call(inv.args)
	})
	inv.out = out
	return ok
}

// callSafely runs call, turning a panic into a test error.
func callSafely[T any](t *testing.T, call func() T) (out T, ok bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("the client panicked: %v\n%s", p, debug.Stack())
			ok = false
		}
	}()
	return call(), true
}

// callsTo returns the calls of method the fake recorded.
func callsTo(fake *mock.Mock, method string) []mock.Call {
	var out []mock.Call
	for _, c := range fake.Calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// asType returns x as a reflect.Value of static type t.
func asType(x any, t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	if x != nil {
		v.Set(reflect.ValueOf(x))
	}
	return v
}

func reportDiff(t *testing.T, what string, diffs []string) {
	t.Helper()
	if len(diffs) > 0 {
		t.Errorf("%s differs:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

func (inv *invocation) checkRoundTrip(t *testing.T, fake *mock.Mock) {
	t.Helper()
	calls := callsTo(fake, inv.name)
	if len(calls) != 1 {
		t.Errorf("the fake got %d calls of %s, want 1", len(calls), inv.name)
	} else {
		inv.checkArgs(t, calls[0].Arguments)
	}
	inv.checkResults(t)
	if inv.dest != nil {
		reportDiff(t, "dest after decoding", DiffValues(inv.destContent, *inv.dest))
	}
}

func (inv *invocation) checkArgs(t *testing.T, got mock.Arguments) {
	t.Helper()
	if len(got) != inv.argCount() {
		t.Errorf("the fake got %d arguments, want %d", len(got), inv.argCount())
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	fixed := inv.mt.NumIn()
	if inv.mt.IsVariadic() {
		fixed--
	}
	for j := range fixed {
		pt := inv.mt.In(j)
		what := fmt.Sprintf("argument %d (%s)", j, pt)
		switch {
		case inv.readers[j] != nil || pt == readerType:
			if err := inv.readErr[j]; err != nil {
				t.Errorf("%s: reading: %v", what, err)
			}
			if !bytes.Equal(inv.readers[j], inv.gotRead[j]) {
				t.Errorf("%s: the fake read %d bytes, not the %d bytes sent", what, len(inv.gotRead[j]), len(inv.readers[j]))
			}
		case j == inv.destIdx:
			if inv.destErr != "" {
				t.Errorf("%s: %s", what, inv.destErr)
			}
		default:
			reportDiff(t, what, Diff(inv.args[j], asType(got[j], pt)))
		}
	}
	if inv.mt.IsVariadic() {
		rest := []any(got[fixed:])
		reportDiff(t, "variadic arguments", Diff(inv.args[fixed], reflect.ValueOf(rest)))
	}
}

func (inv *invocation) checkResults(t *testing.T) {
	t.Helper()
	if len(inv.out) != len(inv.results) {
		t.Errorf("the client returned %d results, want %d", len(inv.out), len(inv.results))
		return
	}
	for k := range inv.results {
		reportDiff(t, fmt.Sprintf("result %d (%s)", k, inv.mt.Out(k)), Diff(inv.results[k], inv.out[k]))
	}
}

func (inv *invocation) checkFallback(t *testing.T, hook string, fb fallback, reason string) {
	t.Helper()
	if len(inv.out) != inv.mt.NumOut() {
		t.Errorf("the client returned %d results, want %d", len(inv.out), inv.mt.NumOut())
		return
	}
	want := make([]reflect.Value, inv.mt.NumOut())
	for k := range want {
		want[k] = reflect.New(inv.mt.Out(k)).Elem()
	}
	if fb.echoParam >= 0 {
		want[0] = inv.args[fb.echoParam]
	}
	if fb.boolResult {
		want[0] = reflect.ValueOf(true)
	}
	isErr, _ := lastResultIsError(inv.mt)
	for k := range want {
		if isErr && k == len(want)-1 {
			checkFallbackError(t, hook, fb.err, reason, inv.out[k].Interface())
			continue
		}
		reportDiff(t, fmt.Sprintf("fallback result %d (%s)", k, inv.mt.Out(k)), Diff(want[k], inv.out[k]))
	}
}

// checkFallbackError checks an error result of a fallback: nil when the
// fallback has no error, else the bridge's AppError
// plugin.bridge.<hook_snake>.<reason> with status 501 or 503.
func checkFallbackError(t *testing.T, hook string, wantErr bool, reason string, got any) {
	t.Helper()
	var appErr *model.AppError
	switch e := got.(type) {
	case nil:
	case *model.AppError:
		appErr = e
	case error:
		if !errors.As(e, &appErr) {
			t.Errorf("fallback error: got %T %q, want an *model.AppError", e, e)
			return
		}
	}
	if !wantErr {
		if appErr != nil {
			t.Errorf("fallback error: got %s (%d), want nil", appErr.Id, appErr.StatusCode)
		}
		return
	}
	if appErr == nil {
		t.Errorf("fallback error: got nil, want plugin.bridge.%s.%s", snake(hook), reason)
		return
	}
	wantID := "plugin.bridge." + snake(hook) + "." + reason
	wantCode := 503
	if reason == "not_implemented" {
		wantCode = 501
	}
	if appErr.Id != wantID || appErr.StatusCode != wantCode {
		t.Errorf("fallback error: got %s (%d), want %s (%d)", appErr.Id, appErr.StatusCode, wantID, wantCode)
	}
}

// snake converts a Go name to snake case as the bridge's error ids have it:
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
