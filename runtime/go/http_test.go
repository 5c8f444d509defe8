package bridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mmbindgen.dev/generated/go/pluginpb"
)

// --- An in-memory bidirectional stream standing in for a gRPC one. ---
//
// It behaves as grpc-go does where the helpers depend on it: the client's
// send fails with io.EOF once the stream is over (the outcome is read from
// recv), recv returns io.EOF after the serving side returned nil, and the
// serving side's context is cancelled when the client's is or when the
// serving side returns. Each direction buffers four frames, standing in for
// the flow-control window.

type httpFrameMeta struct {
	head   bool
	status int32
	n      int
	flush  bool
	end    bool
}

type httpFakeStream struct {
	ctx     context.Context
	sctx    context.Context
	scancel context.CancelFunc

	c2s     chan *pluginpb.HTTPRequest
	s2c     chan *pluginpb.HTTPResponse
	srvDone chan struct{}
	srvErr  error

	firstSends atomic.Int32

	mu         sync.Mutex
	reqFrames  []httpFrameMeta
	respFrames []httpFrameMeta
}

func newHTTPFakeStream(ctx context.Context) *httpFakeStream {
	sctx, scancel := context.WithCancel(ctx)
	return &httpFakeStream{
		ctx: ctx, sctx: sctx, scancel: scancel,
		c2s:     make(chan *pluginpb.HTTPRequest, 4),
		s2c:     make(chan *pluginpb.HTTPResponse, 4),
		srvDone: make(chan struct{}),
	}
}

func (s *httpFakeStream) over() bool {
	select {
	case <-s.srvDone:
		return true
	case <-s.ctx.Done():
		return true
	default:
		return false
	}
}

// send is the client's send.
func (s *httpFakeStream) send(f *pluginpb.HTTPRequest) error {
	if s.over() {
		return io.EOF
	}
	s.mu.Lock()
	s.reqFrames = append(s.reqFrames, httpFrameMeta{head: f.Method != "", n: len(f.Body), end: f.BodyEnd})
	s.mu.Unlock()
	select {
	case s.c2s <- f:
		return nil
	case <-s.srvDone:
		return io.EOF
	case <-s.ctx.Done():
		return io.EOF
	}
}

// sendFirst is relayHTTP's sendFirst: it must come first, once.
func (s *httpFakeStream) sendFirst(f *pluginpb.HTTPRequest) error {
	if s.firstSends.Add(1) != 1 || f.Method == "" {
		panic("sendFirst not called once, first, with the head")
	}
	return s.send(f)
}

func (s *httpFakeStream) closeSend() error {
	close(s.c2s) // a send after it panics
	return nil
}

// recv is the client's recv.
func (s *httpFakeStream) recv() (*pluginpb.HTTPResponse, error) {
	select {
	case f := <-s.s2c:
		return f, nil
	case <-s.srvDone:
		select {
		case f := <-s.s2c:
			return f, nil
		default:
		}
		if s.srvErr != nil {
			return nil, s.srvErr
		}
		return nil, io.EOF
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
}

func (s *httpFakeStream) serverRecv() (*pluginpb.HTTPRequest, error) {
	select {
	case f, ok := <-s.c2s:
		if !ok {
			return nil, io.EOF
		}
		return f, nil
	case <-s.sctx.Done():
		return nil, s.sctx.Err()
	}
}

func (s *httpFakeStream) serverSend(f *pluginpb.HTTPResponse) error {
	if err := s.sctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.respFrames = append(s.respFrames, httpFrameMeta{head: f.StatusCode != 0, status: f.StatusCode, n: len(f.Body), flush: f.Flush, end: f.BodyEnd})
	s.mu.Unlock()
	select {
	case s.s2c <- f:
		return nil
	case <-s.sctx.Done():
		return s.sctx.Err()
	}
}

// serve runs serveHTTPFrames with handler as the serving side.
func (s *httpFakeStream) serve(handler http.HandlerFunc) {
	go func() {
		first, err := s.serverRecv()
		if err == nil {
			err = serveHTTPFrames(s.sctx, first, s.serverRecv, s.serverSend, handler)
		}
		s.srvErr = err
		close(s.srvDone)
		s.scancel()
	}()
}

func (s *httpFakeStream) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-s.srvDone:
		return s.srvErr
	case <-time.After(10 * time.Second):
		t.Fatal("the serving side did not end")
		return nil
	}
}

func (s *httpFakeStream) frames() (req, resp []httpFrameMeta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqFrames), slices.Clone(s.respFrames)
}

// httpCheckFrames checks chunk sizes and that body_end is on the last frame only.
func httpCheckFrames(t *testing.T, what string, frames []httpFrameMeta) {
	t.Helper()
	if len(frames) == 0 || !frames[0].head {
		t.Fatalf("%s: no head frame first: %+v", what, frames)
	}
	for i, f := range frames {
		if f.n > ChunkSize {
			t.Errorf("%s: frame %d carries %d bytes", what, i, f.n)
		}
		if f.end != (i == len(frames)-1) {
			t.Errorf("%s: body_end on frame %d of %d", what, i, len(frames))
		}
		if i > 0 && f.head {
			t.Errorf("%s: a second head in frame %d", what, i)
		}
	}
}

// --- Helpers. ---

// httpCheckGoroutines fails the test if it leaves goroutines behind.
func httpCheckGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// httpGenReader yields n pseudo-random bytes, hashing them as they go.
type httpGenReader struct {
	n      int64
	state  uint64
	h      hash.Hash
	closed atomic.Bool
	read   atomic.Int64
}

func newHTTPGenReader(n int64, seed uint64) *httpGenReader {
	return &httpGenReader{n: n, state: seed | 1, h: sha256.New()}
}

func (g *httpGenReader) Read(p []byte) (int, error) {
	if g.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	for i := range p {
		g.state ^= g.state << 13
		g.state ^= g.state >> 7
		g.state ^= g.state << 17
		p[i] = byte(g.state)
	}
	g.n -= int64(len(p))
	g.read.Add(int64(len(p)))
	g.h.Write(p)
	return len(p), nil
}

func (g *httpGenReader) Close() error { g.closed.Store(true); return nil }

func (g *httpGenReader) sum() []byte { return g.h.Sum(nil) }

func httpHashOf(t *testing.T, r io.Reader) ([]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("reading: %v after %d bytes", err, n)
	}
	return h.Sum(nil), n
}

// httpHeapGrowth runs f and reports how far HeapInuse rose above what it was
// before, sampled every 2 ms. The collector runs at GOGC=10 meanwhile, so
// that the peak shows what is held rather than garbage not yet collected (at
// the default GOGC=100 the same transfers peak 3 to 7 MiB higher, garbage
// included; a handler that buffers one 16 MiB body peaks near 40 MiB).
func httpHeapGrowth(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	if peak.Load() < base {
		return 0
	}
	return peak.Load() - base
}

func httpWithin(t *testing.T, d time.Duration, what string, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: not httpWithin %v", what, d)
	}
}

const httpBigBody = 16 << 20

// --- roundTripHTTP with serveHTTPFrames. ---

func TestRoundTripHeadAndHeaders(t *testing.T) {
	httpCheckGoroutines(t)
	req, _ := http.NewRequest(http.MethodPost, "http://plugin.example/p/hello?x=1&x=2", strings.NewReader("ping body"))
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	req.Header.Add("X-Multi", "c")
	req.Header.Set("Content-Type", "text/plain")
	fs := newHTTPFakeStream(req.Context())
	fs.serve(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		switch {
		case err != nil || string(body) != "ping body":
			t.Errorf("handler body %q, %v", body, err)
		case r.Method != http.MethodPost || r.URL.Path != "/p/hello" || r.URL.RawQuery != "x=1&x=2":
			t.Errorf("handler request %s %s", r.Method, r.URL)
		case !slices.Equal(r.Header["X-Multi"], []string{"a", "b", "c"}) || r.Header.Get("Content-Type") != "text/plain":
			t.Errorf("handler header %v", r.Header)
		case r.Host != "plugin.example" || r.RequestURI != "/p/hello?x=1&x=2" || r.ContentLength != 9 || r.Proto != "HTTP/1.1":
			t.Errorf("handler request host %q uri %q length %d proto %q", r.Host, r.RequestURI, r.ContentLength, r.Proto)
		}
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Too-Late", "1") // after WriteHeader: ignored
		io.WriteString(w, "pong")
	})
	resp, err := roundTripHTTP(req.Context(), fs.send, fs.closeSend, fs.recv, req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "pong" {
		t.Fatalf("body %q, %v", body, err)
	}
	if resp.StatusCode != 201 || resp.Status != "201 Created" || resp.Proto != "HTTP/1.1" || resp.ProtoMajor != 1 || resp.ProtoMinor != 1 || resp.Request != req {
		t.Errorf("response %d %q %q", resp.StatusCode, resp.Status, resp.Proto)
	}
	if !slices.Equal(resp.Header["Set-Cookie"], []string{"a=1", "b=2"}) || resp.Header.Get("X-Too-Late") != "" {
		t.Errorf("response header %v", resp.Header)
	}
	if resp.ContentLength != 4 || resp.Header.Get("Content-Length") != "4" {
		t.Errorf("content length %d, header %q", resp.ContentLength, resp.Header.Get("Content-Length"))
	}
	if err := fs.wait(t); err != nil {
		t.Fatal(err)
	}
	reqFrames, respFrames := fs.frames()
	httpCheckFrames(t, "request", reqFrames)
	httpCheckFrames(t, "response", respFrames)
	if reqFrames[0].n != 0 || respFrames[0].n != 0 || respFrames[0].status != 201 {
		t.Errorf("heads carry a body: %+v %+v", reqFrames, respFrames)
	}
}

func TestRoundTripEmptyBodies(t *testing.T) {
	httpCheckGoroutines(t)
	for _, tc := range []struct {
		name   string
		body   io.Reader
		frames int
	}{
		{"nil body", nil, 1},
		{"empty body", io.NopCloser(strings.NewReader("")), 2}, // unknown length
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "/empty", tc.body)
			if tc.body != nil {
				req.ContentLength = 0 // unknown, for a client request with a body
			}
			fs := newHTTPFakeStream(req.Context())
			fs.serve(func(w http.ResponseWriter, r *http.Request) {
				if tc.body == nil && r.Body != http.NoBody {
					t.Errorf("body %T, want http.NoBody", r.Body)
				}
				if b, err := io.ReadAll(r.Body); err != nil || len(b) != 0 {
					t.Errorf("handler read %q, %v", b, err)
				}
			})
			resp, err := roundTripHTTP(req.Context(), fs.send, fs.closeSend, fs.recv, req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(b) != 0 || resp.StatusCode != 200 || resp.ContentLength != 0 {
				t.Fatalf("response %d length %d body %q, %v", resp.StatusCode, resp.ContentLength, b, err)
			}
			if err := fs.wait(t); err != nil {
				t.Fatal(err)
			}
			reqFrames, respFrames := fs.frames()
			httpCheckFrames(t, "request", reqFrames)
			httpCheckFrames(t, "response", respFrames)
			if len(reqFrames) != tc.frames || len(respFrames) != 1 || respFrames[0].status != 200 {
				t.Errorf("frames %+v / %+v", reqFrames, respFrames)
			}
		})
	}
}

func TestRoundTrip16MiBEachWay(t *testing.T) {
	httpCheckGoroutines(t)
	for _, mode := range []string{"echo", "read then write"} {
		t.Run(mode, func(t *testing.T) {
			reqBody := newHTTPGenReader(httpBigBody, 1)
			respBody := newHTTPGenReader(httpBigBody, 2)
			var handlerSum []byte
			var gotSum []byte
			var gotN int64
			var fs *httpFakeStream
			growth := httpHeapGrowth(func() {
				req, _ := http.NewRequest(http.MethodPut, "/big", reqBody)
				req.ContentLength = httpBigBody
				fs = newHTTPFakeStream(req.Context())
				fs.serve(func(w http.ResponseWriter, r *http.Request) {
					h := sha256.New()
					if mode == "echo" {
						if _, err := io.Copy(w, io.TeeReader(r.Body, h)); err != nil {
							t.Errorf("echo: %v", err)
						}
					} else {
						if _, err := io.Copy(h, r.Body); err != nil {
							t.Errorf("read: %v", err)
						}
						if _, err := io.Copy(w, respBody); err != nil {
							t.Errorf("write: %v", err)
						}
					}
					handlerSum = h.Sum(nil)
				})
				resp, err := roundTripHTTP(req.Context(), fs.send, fs.closeSend, fs.recv, req)
				if err != nil {
					t.Fatal(err)
				}
				gotSum, gotN = httpHashOf(t, resp.Body)
				resp.Body.Close()
				if err := fs.wait(t); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s: HeapInuse growth %.2f MiB for 16 MiB each way", mode, float64(growth)/(1<<20))
			want := respBody.sum()
			if mode == "echo" {
				want = reqBody.sum()
			}
			if !bytes.Equal(handlerSum, reqBody.sum()) || !bytes.Equal(gotSum, want) || gotN != httpBigBody {
				t.Fatalf("bodies differ (received %d bytes)", gotN)
			}
			if !reqBody.closed.Load() {
				t.Error("request body not closed")
			}
			if growth > 4<<20 {
				t.Errorf("HeapInuse grew by %d bytes", growth)
			}
			reqFrames, respFrames := fs.frames()
			httpCheckFrames(t, "request", reqFrames)
			httpCheckFrames(t, "response", respFrames)
		})
	}
}

// httpEndlessBody never ends; it records whether it was read after stop.
type httpEndlessBody struct {
	read        atomic.Int64
	closed      atomic.Bool
	stopped     atomic.Bool
	readAfterOK atomic.Bool
}

func (b *httpEndlessBody) Read(p []byte) (int, error) {
	if b.stopped.Load() {
		b.readAfterOK.Store(true)
	}
	if b.closed.Load() {
		return 0, errors.New("read after close")
	}
	b.read.Add(int64(len(p)))
	return len(p), nil
}

func (b *httpEndlessBody) Close() error { b.closed.Store(true); return nil }

func TestRoundTripEarlyResponse(t *testing.T) {
	httpCheckGoroutines(t)
	body := &httpEndlessBody{}
	req, _ := http.NewRequest(http.MethodPost, "/early", body)
	fs := newHTTPFakeStream(req.Context())
	fs.serve(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	})
	resp, err := roundTripHTTP(req.Context(), fs.send, fs.closeSend, fs.recv, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 413 || string(b) != "too large\n" {
		t.Fatalf("response %d %q, %v", resp.StatusCode, b, err)
	}
	if err := fs.wait(t); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !body.closed.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !body.closed.Load() {
		t.Fatal("the request body was not closed")
	}
	t.Logf("early response: %d bytes of the endless request body read", body.read.Load())
	if body.read.Load() > 2<<20 {
		t.Errorf("read %d bytes of the request body", body.read.Load())
	}
}

func TestRoundTripFlush(t *testing.T) {
	httpCheckGoroutines(t)
	req, _ := http.NewRequest(http.MethodGet, "/events", nil)
	fs := newHTTPFakeStream(req.Context())
	gotFirst := make(chan struct{})
	fs.serve(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-gotFirst:
		case <-time.After(5 * time.Second):
			t.Error("the flushed chunk did not arrive")
		}
		io.WriteString(w, "second")
	})
	resp, err := roundTripHTTP(req.Context(), fs.send, fs.closeSend, fs.recv, req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("first %q, %v", buf, err)
	}
	close(gotFirst)
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(rest) != "second" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	if resp.ContentLength != -1 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("length %d, header %v", resp.ContentLength, resp.Header)
	}
	if err := fs.wait(t); err != nil {
		t.Fatal(err)
	}
	_, respFrames := fs.frames()
	httpCheckFrames(t, "response", respFrames)
	want := []httpFrameMeta{{head: true, status: 200}, {n: 5, flush: true}, {n: 6, end: true}}
	if !slices.Equal(respFrames, want) {
		t.Errorf("frames %+v, want %+v", respFrames, want)
	}
}

func TestRoundTripCancel(t *testing.T) {
	httpCheckGoroutines(t)
	t.Run("before the head", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/slow", nil)
		fs := newHTTPFakeStream(ctx)
		handlerCancelled := make(chan struct{})
		fs.serve(func(w http.ResponseWriter, r *http.Request) {
			cancel()
			<-r.Context().Done()
			close(handlerCancelled)
		})
		_, err := roundTripHTTP(ctx, fs.send, fs.closeSend, fs.recv, req)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		httpWithin(t, 5*time.Second, "handler cancelled", handlerCancelled)
		fs.wait(t)
	})
	t.Run("while the body streams", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/slow", nil)
		fs := newHTTPFakeStream(ctx)
		handlerCancelled := make(chan struct{})
		fs.serve(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			close(handlerCancelled)
		})
		resp, err := roundTripHTTP(ctx, fs.send, fs.closeSend, fs.recv, req)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 7)
		io.ReadFull(resp.Body, buf)
		cancel()
		start := time.Now()
		_, err = io.ReadAll(resp.Body)
		if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
			t.Fatalf("read after cancel: %v after %v", err, time.Since(start))
		}
		resp.Body.Close()
		httpWithin(t, 5*time.Second, "handler cancelled", handlerCancelled)
		fs.wait(t)
	})
	t.Run("request context only", func(t *testing.T) {
		// The stream's context is not the request's: cancelling the request
		// still ends the exchange, and the stream through its cancel.
		streamCtx, streamCancel := context.WithCancel(context.Background())
		defer streamCancel()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/slow", nil)
		fs := newHTTPFakeStream(streamCtx)
		handlerCancelled := make(chan struct{})
		fs.serve(func(w http.ResponseWriter, r *http.Request) {
			cancel()
			<-r.Context().Done()
			close(handlerCancelled)
		})
		_, err := roundTripHTTP(withHTTPStreamCancel(streamCtx, streamCancel), fs.send, fs.closeSend, fs.recv, req)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
		httpWithin(t, 5*time.Second, "handler cancelled", handlerCancelled)
		fs.wait(t)
	})
	t.Run("body closed early", func(t *testing.T) {
		streamCtx, streamCancel := context.WithCancel(context.Background())
		defer streamCancel()
		req, _ := http.NewRequest(http.MethodGet, "/endless", nil)
		fs := newHTTPFakeStream(streamCtx)
		handlerCancelled := make(chan struct{})
		fs.serve(func(w http.ResponseWriter, r *http.Request) {
			chunk := bytes.Repeat([]byte("x"), 1000)
			for r.Context().Err() == nil {
				w.Write(chunk)
			}
			close(handlerCancelled)
		})
		resp, err := roundTripHTTP(withHTTPStreamCancel(streamCtx, streamCancel), fs.send, fs.closeSend, fs.recv, req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadFull(resp.Body, make([]byte, 100_000))
		resp.Body.Close()
		if _, err := resp.Body.Read(make([]byte, 1)); err == nil {
			t.Error("read after close succeeded")
		}
		httpWithin(t, 5*time.Second, "handler cancelled", handlerCancelled)
		fs.wait(t)
	})
	t.Run("body closed early without stream cancel", func(t *testing.T) {
		// Without a stream cancel, closing stops the sending: a request body
		// not yet sent reads as truncated, which cancels the handler.
		body := &httpEndlessBody{}
		req, _ := http.NewRequest(http.MethodPost, "/upload", body)
		fs := newHTTPFakeStream(context.Background())
		handlerCancelled := make(chan struct{})
		fs.serve(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.(http.Flusher).Flush()
			_, err := io.Copy(io.Discard, r.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) || r.Context().Err() == nil {
				t.Errorf("handler read: %v, context %v", err, r.Context().Err())
			}
			close(handlerCancelled)
		})
		resp, err := roundTripHTTP(context.Background(), fs.send, fs.closeSend, fs.recv, req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		httpWithin(t, 5*time.Second, "handler cancelled", handlerCancelled)
		fs.wait(t)
	})
}

func TestRoundTripErrors(t *testing.T) {
	httpCheckGoroutines(t)
	t.Run("recv fails before the head", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		boom := errors.New("transport broke")
		fs := newHTTPFakeStream(context.Background())
		fs.serve(func(w http.ResponseWriter, r *http.Request) { panic(boom) })
		_, err := roundTripHTTP(context.Background(), fs.send, fs.closeSend, fs.recv, req)
		if err == nil || !strings.Contains(err.Error(), "transport broke") {
			t.Fatalf("err %v", err)
		}
		fs.wait(t)
	})
	t.Run("send fails", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
		boom := errors.New("send broke")
		done := make(chan struct{})
		recv := func() (*pluginpb.HTTPResponse, error) { <-done; return nil, io.EOF }
		_, err := roundTripHTTP(context.Background(), func(*pluginpb.HTTPRequest) error { return boom }, func() error { close(done); return nil }, recv, req)
		if !errors.Is(err, boom) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("stream ends before body_end", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		frames := []*pluginpb.HTTPResponse{{StatusCode: 200}, {Body: []byte("abc")}}
		recv := func() (*pluginpb.HTTPResponse, error) {
			if len(frames) == 0 {
				return nil, io.EOF
			}
			f := frames[0]
			frames = frames[1:]
			return f, nil
		}
		resp, err := roundTripHTTP(context.Background(), func(*pluginpb.HTTPRequest) error { return nil }, func() error { return nil }, recv, req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if string(b) != "abc" || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("read %q, %v", b, err)
		}
		resp.Body.Close()
	})
}

// --- relayHTTP with serveHTTPFrames, behind a real HTTP server. ---

// httpRelayServer serves each request by relaying it to plugin over a fake stream.
func httpRelayServer(t *testing.T, plugin http.HandlerFunc) (*httptest.Server, *http.Client, chan error) {
	errs := make(chan error, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs := newHTTPFakeStream(r.Context())
		fs.serve(plugin)
		headWritten, err := relayHTTP(r.Context(), fs.sendFirst, fs.send, fs.closeSend, fs.recv, w, r)
		if err != nil {
			errs <- fmt.Errorf("relay (head written %v): %w", headWritten, err)
			if headWritten {
				panic(http.ErrAbortHandler)
			}
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		errs <- fs.wait(t)
	}))
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return srv, client, errs
}

func TestRelayHTTP16MiBEachWay(t *testing.T) {
	httpCheckGoroutines(t)
	var handlerSum []byte
	srv, client, errs := httpRelayServer(t, func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(w, io.TeeReader(r.Body, h)); err != nil {
			t.Errorf("echo: %v", err)
		}
		handlerSum = h.Sum(nil)
	})
	reqBody := newHTTPGenReader(httpBigBody, 3)
	var gotSum []byte
	var gotN int64
	growth := httpHeapGrowth(func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/echo", reqBody)
		req.ContentLength = httpBigBody
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		gotSum, gotN = httpHashOf(t, resp.Body)
		resp.Body.Close()
	})
	t.Logf("relay echo: HeapInuse growth %.2f MiB for 16 MiB each way (HTTP client and server in the process too)", float64(growth)/(1<<20))
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if gotN != httpBigBody || !bytes.Equal(gotSum, reqBody.sum()) || !bytes.Equal(handlerSum, reqBody.sum()) {
		t.Fatalf("bodies differ (received %d bytes)", gotN)
	}
	if growth > 4<<20 {
		t.Errorf("HeapInuse grew by %d bytes", growth)
	}
}

func TestRelayHTTPHeadersAndFlush(t *testing.T) {
	httpCheckGoroutines(t)
	gotFirst := make(chan struct{})
	srv, client, errs := httpRelayServer(t, func(w http.ResponseWriter, r *http.Request) {
		if !slices.Equal(r.Header["X-Multi"], []string{"1", "2"}) || r.URL.RawQuery != "q=v" || r.RemoteAddr == "" || r.RequestURI != "/flush?q=v" {
			t.Errorf("plugin request %v %q %q %q", r.Header, r.URL, r.RemoteAddr, r.RequestURI)
		}
		w.Header().Add("X-Out", "a")
		w.Header().Add("X-Out", "b")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-gotFirst:
		case <-time.After(5 * time.Second):
			t.Error("the flushed chunk did not reach the client")
		}
		io.WriteString(w, "second")
	})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/flush?q=v", nil)
	req.Header.Add("X-Multi", "1")
	req.Header.Add("X-Multi", "2")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 202 || !slices.Equal(resp.Header["X-Out"], []string{"a", "b"}) {
		t.Fatalf("response %d %v", resp.StatusCode, resp.Header)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("first %q, %v", buf, err)
	}
	close(gotFirst)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func TestRelayHTTPEarlyResponse(t *testing.T) {
	httpCheckGoroutines(t)
	body := &httpEndlessBody{}
	r := httptest.NewRequest(http.MethodPost, "/upload", body)
	w := httptest.NewRecorder()
	fs := newHTTPFakeStream(context.Background())
	fs.serve(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	})
	headWritten, err := relayHTTP(context.Background(), fs.sendFirst, fs.send, fs.closeSend, fs.recv, w, r)
	body.stopped.Store(true)
	if err != nil || !headWritten || w.Code != 413 {
		t.Fatalf("relay %v %v, code %d", headWritten, err, w.Code)
	}
	if err := fs.wait(t); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if body.readAfterOK.Load() {
		t.Error("the request body was read after relayHTTP returned")
	}
	if body.closed.Load() {
		t.Error("relayHTTP closed the server request's body")
	}
	t.Logf("relay early response: %d bytes of the endless request body read", body.read.Load())
}

func TestRelayHTTPCancel(t *testing.T) {
	httpCheckGoroutines(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodGet, "/wait", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	fs := newHTTPFakeStream(ctx)
	handlerCancelled := make(chan struct{})
	fs.serve(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
		close(handlerCancelled)
	})
	headWritten, err := relayHTTP(ctx, fs.sendFirst, fs.send, fs.closeSend, fs.recv, w, r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("relay %v %v", headWritten, err)
	}
	httpWithin(t, 5*time.Second, "handler cancelled", handlerCancelled)
	fs.wait(t)
}

// httpScriptedRecv returns frames, then err.
func httpScriptedRecv(err error, frames ...*pluginpb.HTTPResponse) func() (*pluginpb.HTTPResponse, error) {
	var mu sync.Mutex
	return func() (*pluginpb.HTTPResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(frames) == 0 {
			return nil, err
		}
		f := frames[0]
		frames = frames[1:]
		return f, nil
	}
}

func TestRelayHTTPFrames(t *testing.T) {
	httpCheckGoroutines(t)
	nop := func(*pluginpb.HTTPRequest) error { return nil }
	nopClose := func() error { return nil }
	boom := errors.New("stream broke")
	t.Run("head, flush, end", func(t *testing.T) {
		w := httptest.NewRecorder()
		recv := httpScriptedRecv(io.EOF,
			&pluginpb.HTTPResponse{StatusCode: 418, Headers: []*pluginpb.HTTPHeader{{Name: "x-rep", Values: []string{"1", "2"}}, {Name: "X-Rep", Values: []string{"3"}}}},
			&pluginpb.HTTPResponse{Body: []byte("tea"), Flush: true},
			&pluginpb.HTTPResponse{Body: []byte("pot"), BodyEnd: true})
		headWritten, err := relayHTTP(context.Background(), nop, nop, nopClose, recv, w, httptest.NewRequest("GET", "/", nil))
		if err != nil || !headWritten || w.Code != 418 || w.Body.String() != "teapot" || !w.Flushed {
			t.Fatalf("relay %v %v: %d %q flushed %v", headWritten, err, w.Code, w.Body, w.Flushed)
		}
		if !slices.Equal(w.Header()["X-Rep"], []string{"1", "2", "3"}) {
			t.Errorf("header %v", w.Header())
		}
	})
	t.Run("recv fails before the head", func(t *testing.T) {
		w := httptest.NewRecorder()
		headWritten, err := relayHTTP(context.Background(), nop, nop, nopClose, httpScriptedRecv(boom), w, httptest.NewRequest("GET", "/", nil))
		if headWritten || !errors.Is(err, boom) {
			t.Fatalf("relay %v %v", headWritten, err)
		}
	})
	t.Run("recv fails after the head", func(t *testing.T) {
		w := httptest.NewRecorder()
		headWritten, err := relayHTTP(context.Background(), nop, nop, nopClose, httpScriptedRecv(boom, &pluginpb.HTTPResponse{StatusCode: 200}), w, httptest.NewRequest("GET", "/", nil))
		if !headWritten || !errors.Is(err, boom) {
			t.Fatalf("relay %v %v", headWritten, err)
		}
	})
	t.Run("stream ends before body_end", func(t *testing.T) {
		w := httptest.NewRecorder()
		headWritten, err := relayHTTP(context.Background(), nop, nop, nopClose, httpScriptedRecv(io.EOF, &pluginpb.HTTPResponse{StatusCode: 200}), w, httptest.NewRequest("GET", "/", nil))
		if !headWritten || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("relay %v %v", headWritten, err)
		}
	})
	t.Run("invalid status", func(t *testing.T) {
		w := httptest.NewRecorder()
		headWritten, err := relayHTTP(context.Background(), nop, nop, nopClose, httpScriptedRecv(io.EOF, &pluginpb.HTTPResponse{BodyEnd: true}), w, httptest.NewRequest("GET", "/", nil))
		if headWritten || err == nil {
			t.Fatalf("relay %v %v", headWritten, err)
		}
	})
	t.Run("send fails", func(t *testing.T) {
		w := httptest.NewRecorder()
		done := make(chan struct{})
		recv := func() (*pluginpb.HTTPResponse, error) { <-done; return nil, io.EOF }
		fail := func(*pluginpb.HTTPRequest) error { return boom }
		headWritten, err := relayHTTP(context.Background(), fail, fail, func() error { close(done); return nil }, recv, w, httptest.NewRequest("GET", "/", nil))
		if headWritten || !errors.Is(err, boom) {
			t.Fatalf("relay %v %v", headWritten, err)
		}
	})
}

// --- serveHTTPFrames alone. ---

type httpSentFrames struct {
	mu     sync.Mutex
	frames []*pluginpb.HTTPResponse
	err    error
}

func (s *httpSentFrames) send(f *pluginpb.HTTPResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.frames = append(s.frames, f)
	return nil
}

func (s *httpSentFrames) body() string {
	var b strings.Builder
	for _, f := range s.frames {
		b.Write(f.Body)
	}
	return b.String()
}

func httpNoMoreFrames() (*pluginpb.HTTPRequest, error) { return nil, io.EOF }

func httpGetHead(method string) *pluginpb.HTTPRequest {
	return &pluginpb.HTTPRequest{Method: method, Url: "/x", BodyEnd: true}
}

func TestServeHTTPFramesWriter(t *testing.T) {
	httpCheckGoroutines(t)
	serve := func(t *testing.T, first *pluginpb.HTTPRequest, h http.HandlerFunc) (*httpSentFrames, error) {
		t.Helper()
		s := &httpSentFrames{}
		err := serveHTTPFrames(context.Background(), first, httpNoMoreFrames, s.send, h)
		return s, err
	}
	t.Run("no write", func(t *testing.T) {
		s, err := serve(t, httpGetHead("GET"), func(w http.ResponseWriter, r *http.Request) {})
		if err != nil || len(s.frames) != 1 || s.frames[0].StatusCode != 200 || !s.frames[0].BodyEnd {
			t.Fatalf("%v %v", s.frames, err)
		}
	})
	t.Run("header snapshot at WriteHeader", func(t *testing.T) {
		s, err := serve(t, httpGetHead("GET"), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Before", "1")
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusOK) // superfluous
			w.Header().Set("X-After", "1")
			io.WriteString(w, "nope")
		})
		if err != nil || len(s.frames) != 2 || s.frames[0].StatusCode != 404 || s.body() != "nope" || !s.frames[1].BodyEnd {
			t.Fatalf("%v %v", s.frames, err)
		}
		h := httpHeaderFromProto(s.frames[0].Headers)
		if h.Get("X-Before") != "1" || h.Get("X-After") != "" {
			t.Errorf("header %v", h)
		}
	})
	t.Run("write implies 200", func(t *testing.T) {
		s, err := serve(t, httpGetHead("GET"), func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>"))
			w.WriteHeader(http.StatusTeapot) // superfluous
		})
		h := httpHeaderFromProto(s.frames[0].Headers)
		if err != nil || s.frames[0].StatusCode != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Content-Length") != "6" {
			t.Fatalf("%v %v", s.frames, err)
		}
	})
	t.Run("no body allowed", func(t *testing.T) {
		s, err := serve(t, httpGetHead("GET"), func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
				t.Errorf("write: %v", err)
			}
		})
		if err != nil || len(s.frames) != 1 || s.frames[0].StatusCode != 204 || !s.frames[0].BodyEnd {
			t.Fatalf("%v %v", s.frames, err)
		}
	})
	t.Run("HEAD discards the body", func(t *testing.T) {
		s, err := serve(t, httpGetHead("HEAD"), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			if n, err := io.WriteString(w, "hello"); n != 5 || err != nil {
				t.Errorf("write %d, %v", n, err)
			}
		})
		if err != nil || len(s.frames) != 1 || s.body() != "" || httpHeaderFromProto(s.frames[0].Headers).Get("Content-Length") != "5" {
			t.Fatalf("%v %v", s.frames, err)
		}
	})
	t.Run("chunks", func(t *testing.T) {
		data := bytes.Repeat([]byte("0123456789abcdef"), 200_000/16)
		s, err := serve(t, httpGetHead("GET"), func(w http.ResponseWriter, r *http.Request) {
			w.Write(data[:100])
			w.Write(data[100:150_000])
			w.Write(data[150_000:])
		})
		if err != nil || s.body() != string(data) {
			t.Fatalf("body differs, %v", err)
		}
		for i, f := range s.frames {
			if len(f.Body) > ChunkSize || (i == 0) != (f.StatusCode != 0) || f.BodyEnd != (i == len(s.frames)-1) {
				t.Errorf("frame %d: %d bytes, status %d, end %v", i, len(f.Body), f.StatusCode, f.BodyEnd)
			}
		}
		if len(s.frames) != 5 { // head, three full chunks, the rest with body_end
			t.Errorf("%d frames", len(s.frames))
		}
	})
	t.Run("panic", func(t *testing.T) {
		s, err := serve(t, httpGetHead("GET"), func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			panic("oops")
		})
		if err == nil || !strings.Contains(err.Error(), "oops") || s.frames[len(s.frames)-1].BodyEnd {
			t.Fatalf("%v %v", s.frames, err)
		}
	})
	t.Run("send fails", func(t *testing.T) {
		boom := errors.New("send broke")
		s := &httpSentFrames{err: boom}
		var ctxErr error
		err := serveHTTPFrames(context.Background(), httpGetHead("GET"), httpNoMoreFrames, s.send, func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			_, werr := w.Write([]byte("x"))
			ctxErr = r.Context().Err()
			if !errors.Is(werr, boom) {
				t.Errorf("write: %v", werr)
			}
		})
		if !errors.Is(err, boom) || ctxErr == nil {
			t.Fatalf("err %v, context %v", err, ctxErr)
		}
	})
	t.Run("recv fails", func(t *testing.T) {
		boom := errors.New("recv broke")
		s := &httpSentFrames{}
		first := &pluginpb.HTTPRequest{Method: "POST", Url: "/up", ContentLength: -1, Body: []byte("abc")}
		var ctxErr error
		err := serveHTTPFrames(context.Background(), first, func() (*pluginpb.HTTPRequest, error) { return nil, boom }, s.send, func(w http.ResponseWriter, r *http.Request) {
			b, rerr := io.ReadAll(r.Body)
			ctxErr = r.Context().Err()
			if string(b) != "abc" || !errors.Is(rerr, boom) {
				t.Errorf("read %q, %v", b, rerr)
			}
		})
		if !errors.Is(err, boom) || ctxErr == nil {
			t.Fatalf("err %v, context %v", err, ctxErr)
		}
	})
	t.Run("no head", func(t *testing.T) {
		if err := serveHTTPFrames(context.Background(), nil, httpNoMoreFrames, (&httpSentFrames{}).send, func(http.ResponseWriter, *http.Request) {}); err == nil {
			t.Fatal("no error")
		}
	})
}

// --- writeResponse. ---

type httpCloseTracker struct {
	io.Reader
	closed bool
}

func (c *httpCloseTracker) Close() error { c.closed = true; return nil }

func TestWriteResponse(t *testing.T) {
	body := &httpCloseTracker{Reader: strings.NewReader("payload")}
	resp := &http.Response{StatusCode: 0, Header: http.Header{"X-Rep": {"1", "2"}}, Body: body}
	w := httptest.NewRecorder()
	writeResponse(w, resp)
	if w.Code != 200 || w.Body.String() != "payload" || !slices.Equal(w.Header()["X-Rep"], []string{"1", "2"}) || !body.closed {
		t.Fatalf("%d %q %v closed %v", w.Code, w.Body, w.Header(), body.closed)
	}

	// Through serveHTTPFrames, as the server side of PluginHTTP.
	s := &httpSentFrames{}
	err := serveHTTPFrames(context.Background(), httpGetHead("GET"), httpNoMoreFrames, s.send, func(w http.ResponseWriter, r *http.Request) {
		writeResponse(w, &http.Response{StatusCode: 404, Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("missing"))})
	})
	if err != nil || s.frames[0].StatusCode != 404 || s.body() != "missing" {
		t.Fatalf("%v %v", s.frames, err)
	}
}
