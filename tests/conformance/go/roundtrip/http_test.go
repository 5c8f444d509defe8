package roundtrip

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/stretchr/testify/mock"

	"mmbindgen.dev/generated/go/bridge"
)

// The exchanges of the methods that carry HTTP or byte streams:
// plugin.API.PluginHTTP, plugin.Hooks.ServeHTTP / ServeMetrics and
// plugin.Hooks.FileWillBeUploaded.

// sentRequest is a request as the test builds it, and as the fake saw it.
type sentRequest struct {
	method string
	uri    string
	header http.Header // only the names the test set are compared
	body   []byte
}

func newSentRequest(f *Filler, m mode, path string) sentRequest {
	if m == modeZero {
		return sentRequest{method: http.MethodGet, uri: "/"}
	}
	return sentRequest{
		method: http.MethodPost,
		uri:    path + "?x=1&y=" + f.String(),
		header: http.Header{
			"X-Roundtrip":  {f.String(), f.String()},
			"Content-Type": {"application/octet-stream"},
		},
		body: f.Bytes(2*64<<10 + 777), // more than two chunks
	}
}

func (s sentRequest) build() *http.Request {
	var body io.Reader
	if s.body != nil {
		body = bytes.NewReader(s.body)
	}
	r, err := http.NewRequest(s.method, s.uri, body)
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

// answer is the response a fake writes.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func newAnswer(f *Filler, m mode) answer {
	if m == modeZero {
		return answer{status: http.StatusOK}
	}
	return answer{
		status: http.StatusCreated,
		header: http.Header{"X-Reply": {f.String(), f.String()}, "Content-Type": {"application/octet-stream"}},
		body:   f.Bytes(64<<10 + 4321),
	}
}

func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header()[k] = slices.Clone(v)
	}
	if a.status != http.StatusOK || a.body == nil {
		w.WriteHeader(a.status)
	}
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

// --- plugin.API.PluginHTTP ---

// pluginHTTPExchange: filled, a POST with headers and a body of more than
// two chunks, answered 201 with headers and a body of more than a chunk;
// zero, a GET / without body answered 200 with no header and no body (a
// nil *http.Response is no zero value here: the server has to answer
// something, and the bridge answers 502 for nil).
type pluginHTTPExchange struct {
	req sentRequest
	ans answer

	mu     sync.Mutex
	got    sentRequest
	gotErr error
	calls  int

	resp *http.Response
}

func newPluginHTTPExchange(f *Filler, m mode) *pluginHTTPExchange {
	return &pluginHTTPExchange{req: newSentRequest(f, m, "/com.example.other/api/v1/items"), ans: newAnswer(f, m)}
}

func (x *pluginHTTPExchange) program(fake *mock.Mock) {
	fake.On("PluginHTTP", mock.Anything).Return(func(r *http.Request) *http.Response {
		got, err := record(r)
		x.mu.Lock()
		x.got, x.gotErr = got, err
		x.calls++
		x.mu.Unlock()
		rec := httptest.NewRecorder()
		x.ans.write(rec)
		return rec.Result()
	})
}

func (x *pluginHTTPExchange) call(t *testing.T, client any) bool {
	t.Helper()
	resp, ok := callSafely(t, func() *http.Response { return client.(*bridge.APIClient).PluginHTTP(x.req.build()) })
	x.resp = resp
	return ok
}

func (x *pluginHTTPExchange) checkRoundTrip(t *testing.T, fake *mock.Mock) {
	t.Helper()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.calls != 1 {
		t.Errorf("the fake got %d calls, want 1", x.calls)
	} else {
		if x.gotErr != nil {
			t.Errorf("the fake failed to read the request body: %v", x.gotErr)
		}
		x.req.compare(t, "the request the fake got", x.got)
	}
	if x.resp == nil {
		t.Errorf("PluginHTTP returned a nil response")
		return
	}
	body, err := io.ReadAll(x.resp.Body)
	x.resp.Body.Close()
	if err != nil {
		t.Errorf("reading the response body: %v", err)
	}
	x.ans.compare(t, x.resp.StatusCode, x.resp.Header, body)
}

func (x *pluginHTTPExchange) checkFallback(t *testing.T, _ string, _ fallback, _ string) {
	t.Fatal("PluginHTTP has no fallback")
}

// --- plugin.Hooks.ServeHTTP and ServeMetrics ---

type httpHookExchange struct {
	name string
	ctx  *plugin.Context
	req  sentRequest
	ans  answer
	rec  *httptest.ResponseRecorder

	mu     sync.Mutex
	gotCtx *plugin.Context
	got    sentRequest
	gotErr error
}

func newHTTPHookExchange(f *Filler, name string, m mode) *httpHookExchange {
	x := &httpHookExchange{name: name, req: newSentRequest(f, m, "/plugins/com.example.roundtrip/api/v1/items"), ans: newAnswer(f, m)}
	if m != modeZero {
		x.ctx = f.Value(reflect.TypeFor[*plugin.Context]()).Interface().(*plugin.Context)
	}
	return x
}

func (x *httpHookExchange) program(fake *mock.Mock) {
	fake.On(x.name, mock.Anything, mock.Anything, mock.Anything).Run(func(a mock.Arguments) {
		c, _ := a.Get(0).(*plugin.Context)
		w := a.Get(1).(http.ResponseWriter)
		got, err := record(a.Get(2).(*http.Request))
		x.mu.Lock()
		x.gotCtx, x.got, x.gotErr = c, got, err
		x.mu.Unlock()
		x.ans.write(w)
	})
}

func (x *httpHookExchange) call(t *testing.T, client any) bool {
	t.Helper()
	x.rec = httptest.NewRecorder()
	m := reflect.ValueOf(client).MethodByName(x.name)
	_, ok := callSafely(t, func() []reflect.Value {
		return m.Call([]reflect.Value{reflect.ValueOf(x.ctx), reflect.ValueOf(x.rec), reflect.ValueOf(x.req.build())})
	})
	return ok
}

func (x *httpHookExchange) checkRoundTrip(t *testing.T, fake *mock.Mock) {
	t.Helper()
	if n := len(callsTo(fake, x.name)); n != 1 {
		t.Errorf("the fake got %d calls, want 1", n)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	reportDiff(t, "argument 0 (*plugin.Context)", DiffValues(x.ctx, x.gotCtx))
	if x.gotErr != nil {
		t.Errorf("the fake failed to read the request body: %v", x.gotErr)
	}
	x.req.compare(t, "the request the fake got", x.got)
	x.ans.compare(t, x.rec.Code, x.rec.Header(), x.rec.Body.Bytes())
}

func (x *httpHookExchange) checkFallback(t *testing.T, _ string, fb fallback, _ string) {
	t.Helper()
	if x.rec.Code != fb.httpStatus {
		t.Errorf("fallback: response status %d, want %d", x.rec.Code, fb.httpStatus)
	}
}

// --- plugin.Hooks.FileWillBeUploaded ---

type uploadExchange struct {
	ctx     *plugin.Context
	info    *model.FileInfo
	content []byte
	output  []byte // what the fake writes
	// results the fake gives
	replacement *model.FileInfo
	reason      string

	mu         sync.Mutex
	gotCtx     *plugin.Context
	gotInfo    *model.FileInfo
	gotContent []byte
	gotErr     error

	written   bytes.Buffer
	outInfo   *model.FileInfo
	outReason string
}

func newUploadExchange(f *Filler, m mode) *uploadExchange {
	x := &uploadExchange{}
	if m != modeZero {
		x.ctx = f.Value(reflect.TypeFor[*plugin.Context]()).Interface().(*plugin.Context)
		x.info = f.Value(reflect.TypeFor[*model.FileInfo]()).Interface().(*model.FileInfo)
		x.content = f.Bytes(2*64<<10 + 999)
		x.output = f.Bytes(64<<10 + 555)
		x.replacement = f.Value(reflect.TypeFor[*model.FileInfo]()).Interface().(*model.FileInfo)
		x.reason = f.String()
	}
	return x
}

func (x *uploadExchange) program(fake *mock.Mock) {
	fake.On("FileWillBeUploaded", mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(x.replacement, x.reason).
		Run(func(a mock.Arguments) {
			c, _ := a.Get(0).(*plugin.Context)
			info, _ := a.Get(1).(*model.FileInfo)
			content, err := io.ReadAll(a.Get(2).(io.Reader))
			if err == nil && x.output != nil {
				_, err = a.Get(3).(io.Writer).Write(x.output)
			}
			x.mu.Lock()
			x.gotCtx, x.gotInfo, x.gotContent, x.gotErr = c, info, content, err
			x.mu.Unlock()
		})
}

func (x *uploadExchange) call(t *testing.T, client any) bool {
	t.Helper()
	type out struct {
		info   *model.FileInfo
		reason string
	}
	o, ok := callSafely(t, func() out {
		info, reason := client.(*bridge.HooksClient).FileWillBeUploaded(x.ctx, x.info, bytes.NewReader(x.content), &x.written)
		return out{info, reason}
	})
	x.outInfo, x.outReason = o.info, o.reason
	return ok
}

func (x *uploadExchange) checkRoundTrip(t *testing.T, fake *mock.Mock) {
	t.Helper()
	if n := len(callsTo(fake, "FileWillBeUploaded")); n != 1 {
		t.Errorf("the fake got %d calls, want 1", n)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	reportDiff(t, "argument 0 (*plugin.Context)", DiffValues(x.ctx, x.gotCtx))
	reportDiff(t, "argument 1 (*model.FileInfo)", DiffValues(x.info, x.gotInfo))
	if x.gotErr != nil {
		t.Errorf("the fake failed to read or write: %v", x.gotErr)
	}
	if !bytes.Equal(x.gotContent, x.content) {
		t.Errorf("argument 2 (io.Reader): the fake read %d bytes, not the %d bytes sent", len(x.gotContent), len(x.content))
	}
	if !bytes.Equal(x.written.Bytes(), x.output) {
		t.Errorf("argument 3 (io.Writer): %d bytes written, not the %d bytes the fake wrote", x.written.Len(), len(x.output))
	}
	reportDiff(t, "result 0 (*model.FileInfo)", DiffValues(x.replacement, x.outInfo))
	if x.outReason != x.reason {
		t.Errorf("result 1 (string): got %q, want %q", x.outReason, x.reason)
	}
}

func (x *uploadExchange) checkFallback(t *testing.T, _ string, fb fallback, _ string) {
	t.Helper()
	var want *model.FileInfo
	switch fb.echoParam {
	case -1:
	case 1:
		want = x.info
	default:
		t.Fatalf("fallback echoes parameter %d, which is no *model.FileInfo", fb.echoParam)
	}
	reportDiff(t, "fallback result 0 (*model.FileInfo)", DiffValues(want, x.outInfo))
	if x.outReason != "" {
		t.Errorf("fallback result 1 (string): got %q, want \"\"", x.outReason)
	}
	if x.written.Len() != 0 {
		t.Errorf("fallback: %d bytes written to the output, want none", x.written.Len())
	}
}
