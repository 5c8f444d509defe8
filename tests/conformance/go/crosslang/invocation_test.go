package crosslang

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/stretchr/testify/mock"

	"mmbindgen.dev/conformance/roundtrip"
)

// Adapted from the roundtrip package's exchanges (which live in its test
// files): the same values, but every call the fake gets is recorded, since
// the fakes here serve many calls (a fixture run, then the Python plugin's
// sync and async calls).

var (
	readerType   = reflect.TypeFor[io.Reader]()
	anyType      = reflect.TypeFor[any]()
	errorType    = reflect.TypeFor[error]()
	appErrorType = reflect.TypeFor[*model.AppError]()
)

// streamSize is the size of the io.Reader contents and HTTP bodies of the
// conformance cases: more than two 64 KiB chunks.
const streamSize = 2*64<<10 + 12345

// invocation is one Go method with filled arguments and the results the
// fake answers (or the hook client must return).
type invocation struct {
	name    string
	mt      reflect.Type // the interface method's type (no receiver)
	args    []reflect.Value
	results []reflect.Value

	readers     map[int][]byte // io.Reader parameters: the content
	destIdx     int            // LoadPluginConfiguration's `dest any`, or -1
	destContent map[string]any // what the fake writes into dest

	mu    sync.Mutex
	calls []*received
}

// received is one call the fake got.
type received struct {
	args     mock.Arguments
	read     map[int][]byte
	problems []string
}

// newInvocation fills the arguments and the results of method name (the
// error result nil). With zero, they are zero values instead: nil
// pointers, slices and maps, zero structs, empty readers, no variadic
// values, nothing written into dest.
func newInvocation(f *roundtrip.Filler, name string, mt reflect.Type, zero bool) *invocation {
	inv := &invocation{name: name, mt: mt, destIdx: -1, readers: map[int][]byte{}}
	for j := range mt.NumIn() {
		pt := mt.In(j)
		v := reflect.New(pt).Elem()
		switch {
		case pt == readerType:
			inv.readers[j] = nil
			if !zero {
				inv.readers[j] = f.Bytes(streamSize)
			}
		case pt == anyType: // LoadPluginConfiguration's dest
			inv.destIdx = j
			if !zero {
				inv.destContent = f.JSONObject()
			}
		case zero:
		case mt.IsVariadic() && j == mt.NumIn()-1:
			v.Set(reflect.ValueOf([]any{f.String(), f.JSON(), f.String(), f.JSON()}))
		default:
			v = f.Value(pt)
		}
		inv.args = append(inv.args, v)
	}
	for k := range mt.NumOut() {
		ot := mt.Out(k)
		if zero || ot == errorType || ot == appErrorType {
			inv.results = append(inv.results, reflect.New(ot).Elem())
			continue
		}
		inv.results = append(inv.results, f.Value(ot))
	}
	return inv
}

// errIndex returns the index of the error result, or -1.
func (inv *invocation) errIndex() int {
	n := inv.mt.NumOut()
	if n > 0 && (inv.mt.Out(n-1) == errorType || inv.mt.Out(n-1) == appErrorType) {
		return n - 1
	}
	return -1
}

// callArgs returns the arguments of one call: fresh readers over the
// contents, and a fresh dest.
func (inv *invocation) callArgs() []reflect.Value {
	args := slices.Clone(inv.args)
	for j, content := range inv.readers {
		args[j] = reflect.ValueOf(bytes.NewReader(content))
	}
	if inv.destIdx >= 0 {
		args[inv.destIdx] = reflect.ValueOf(&map[string]any{})
	}
	return args
}

// argCount is the number of arguments the fake's mock records.
func (inv *invocation) argCount() int {
	if inv.mt.IsVariadic() {
		return inv.mt.NumIn() - 1 + inv.args[inv.mt.NumIn()-1].Len()
	}
	return inv.mt.NumIn()
}

func anythings(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = mock.Anything
	}
	return out
}

// program tells the fake to answer the results, recording every call.
func (inv *invocation) program(fake *mock.Mock) {
	rets := make([]any, len(inv.results))
	for k, r := range inv.results {
		rets[k] = r.Interface() // a nil error stays an untyped nil
	}
	fake.On(inv.name, anythings(inv.argCount())...).Return(rets...).Run(func(a mock.Arguments) {
		rec := &received{args: a, read: map[int][]byte{}}
		for j := range inv.readers {
			r, ok := a.Get(j).(io.Reader)
			if !ok || r == nil {
				rec.problems = append(rec.problems, fmt.Sprintf("argument %d: the fake got %T, not an io.Reader", j, a.Get(j)))
				continue
			}
			b, err := io.ReadAll(r)
			if err != nil {
				rec.problems = append(rec.problems, fmt.Sprintf("argument %d: reading: %v", j, err))
			}
			rec.read[j] = b
		}
		if inv.destIdx >= 0 {
			if p, ok := a.Get(inv.destIdx).(*map[string]any); ok {
				if inv.destContent != nil {
					*p = inv.destContent
				}
			} else {
				rec.problems = append(rec.problems, fmt.Sprintf("dest: the fake got %T, want *map[string]any", a.Get(inv.destIdx)))
			}
		}
		inv.mu.Lock()
		inv.calls = append(inv.calls, rec)
		inv.mu.Unlock()
	})
}

// callCount returns the number of calls the fake recorded.
func (inv *invocation) callCount() int {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return len(inv.calls)
}

// callAfter returns the call the fake recorded after the first n, which
// must be the only one.
func (inv *invocation) callAfter(t *testing.T, n int) *received {
	t.Helper()
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if got := len(inv.calls) - n; got != 1 {
		t.Errorf("the Go API got %d calls of %s, want 1", got, inv.name)
		return nil
	}
	return inv.calls[n]
}

// call calls method inv.name of client with the arguments.
func (inv *invocation) call(t *testing.T, client any) ([]reflect.Value, bool) {
	t.Helper()
	m := reflect.ValueOf(client).MethodByName(inv.name)
	if !m.IsValid() {
		t.Fatalf("%T has no method %s", client, inv.name)
	}
	args := inv.callArgs()
	return callSafely(t, func() []reflect.Value {
		if inv.mt.IsVariadic() {
			return m.CallSlice(args)
		}
		return m.Call(args)
	})
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

// checkReceived checks that the fake got the filled arguments.
func (inv *invocation) checkReceived(t *testing.T, rec *received) {
	t.Helper()
	for _, p := range rec.problems {
		t.Error(p)
	}
	got := rec.args
	if len(got) != inv.argCount() {
		t.Errorf("the fake got %d arguments, want %d", len(got), inv.argCount())
		return
	}
	fixed := inv.mt.NumIn()
	if inv.mt.IsVariadic() {
		fixed--
	}
	for j := range fixed {
		pt := inv.mt.In(j)
		what := fmt.Sprintf("argument %d (%s)", j, pt)
		switch {
		case pt == readerType:
			if !bytes.Equal(inv.readers[j], rec.read[j]) {
				t.Errorf("%s: the fake read %d bytes, not the %d bytes sent", what, len(rec.read[j]), len(inv.readers[j]))
			}
		case j == inv.destIdx:
		default:
			reportDiff(t, what, roundtrip.Diff(inv.args[j], asType(got[j], pt)))
		}
	}
	if inv.mt.IsVariadic() {
		rest := []any(got[fixed:])
		reportDiff(t, "variadic arguments", roundtrip.Diff(inv.args[fixed], reflect.ValueOf(rest)))
	}
}

// checkResults checks that out are the results.
func (inv *invocation) checkResults(t *testing.T, out []reflect.Value) {
	t.Helper()
	if len(out) != len(inv.results) {
		t.Errorf("the client returned %d results, want %d", len(out), len(inv.results))
		return
	}
	for k := range inv.results {
		reportDiff(t, fmt.Sprintf("result %d (%s)", k, inv.mt.Out(k)), roundtrip.Diff(inv.results[k], out[k]))
	}
}

// --- HTTP ---

// sentRequest is a request as the test builds it, and as a fake saw it.
type sentRequest struct {
	method string
	uri    string
	header http.Header // only the names the test set are compared
	body   []byte
}

func newSentRequest(f *roundtrip.Filler, path string, size int) sentRequest {
	return sentRequest{
		method: http.MethodPost,
		uri:    path + "?x=1&y=" + f.String(),
		header: http.Header{
			"X-Crosslang":  {f.String(), f.String()},
			"Content-Type": {"application/octet-stream"},
		},
		body: f.Bytes(size),
	}
}

func (s sentRequest) build() *http.Request {
	r, err := http.NewRequest(s.method, s.uri, bytes.NewReader(s.body))
	if err != nil {
		panic(err)
	}
	for k, v := range s.header {
		r.Header[k] = slices.Clone(v)
	}
	return r
}

// record reads what a handler received.
func record(r *http.Request) (sentRequest, error) {
	body, err := io.ReadAll(r.Body)
	return sentRequest{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone(), body: body}, err
}

// compare reports how got differs from s (the headers s set only).
func (s sentRequest) compare(t *testing.T, what string, got sentRequest) {
	t.Helper()
	if got.method != s.method || got.uri != s.uri {
		t.Errorf("%s: got %s %s, want %s %s", what, got.method, got.uri, s.method, s.uri)
	}
	for k, v := range s.header {
		if !slices.Equal(got.header[k], v) {
			t.Errorf("%s: header %s: got %q, want %q", what, k, got.header[k], v)
		}
	}
	if !bytes.Equal(got.body, s.body) {
		t.Errorf("%s: body of %d bytes, want the %d bytes sent", what, len(got.body), len(s.body))
	}
}

// answer is the response a fake (or the plugin) writes.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func newAnswer(f *roundtrip.Filler, size int) answer {
	return answer{
		status: http.StatusCreated,
		header: http.Header{"X-Reply": {f.String(), f.String()}, "Content-Type": {"application/octet-stream"}},
		body:   f.Bytes(size),
	}
}

func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = slices.Clone(v)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

func (a answer) compare(t *testing.T, status int, header http.Header, body []byte) {
	t.Helper()
	if status != a.status {
		t.Errorf("response status %d, want %d", status, a.status)
	}
	for k, v := range a.header {
		if !slices.Equal(header[k], v) {
			t.Errorf("response header %s: got %q, want %q", k, header[k], v)
		}
	}
	if !bytes.Equal(body, a.body) {
		t.Errorf("response body of %d bytes, want the %d bytes written", len(body), len(a.body))
	}
}

// pluginHTTP is plugin.API.PluginHTTP: a POST with headers and a body of
// more than two chunks, answered 201 with headers and a body of more than
// one chunk.
type pluginHTTP struct {
	req sentRequest
	ans answer

	mu    sync.Mutex
	calls []sentRequest
	errs  []error
}

// newPluginHTTP: with zero, a GET / without body, answered 200 without
// header or body (a nil request or response is no valid zero value here).
func newPluginHTTP(f *roundtrip.Filler, zero bool) *pluginHTTP {
	if zero {
		return &pluginHTTP{req: sentRequest{method: http.MethodGet, uri: "/"}, ans: answer{status: http.StatusOK}}
	}
	return &pluginHTTP{req: newSentRequest(f, "/com.example.other/api/v1/items", streamSize), ans: newAnswer(f, 64<<10+4321)}
}

func (x *pluginHTTP) program(fake *mock.Mock) {
	fake.On("PluginHTTP", mock.Anything).Return(func(r *http.Request) *http.Response {
		got, err := record(r)
		x.mu.Lock()
		x.calls = append(x.calls, got)
		x.errs = append(x.errs, err)
		x.mu.Unlock()
		rec := httptest.NewRecorder()
		x.ans.write(rec)
		return rec.Result()
	})
}

func (x *pluginHTTP) callCount() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.calls)
}

// checkCallAfter checks the one request the fake got after the first n.
func (x *pluginHTTP) checkCallAfter(t *testing.T, n int) {
	t.Helper()
	x.mu.Lock()
	defer x.mu.Unlock()
	if got := len(x.calls) - n; got != 1 {
		t.Errorf("the Go API got %d calls of PluginHTTP, want 1", got)
		return
	}
	if x.errs[n] != nil {
		t.Errorf("the fake failed to read the request body: %v", x.errs[n])
	}
	x.req.compare(t, "the request the Go API got", x.calls[n])
}
