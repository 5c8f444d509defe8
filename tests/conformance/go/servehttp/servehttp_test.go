// Package servehttp drives the ServeHTTP hook end to end: an HTTP client
// talks to a real net/http server whose handler is HooksClient.ServeHTTP,
// which streams over real gRPC on loopback to HooksServer and the plugin's
// handler. It checks large bodies both ways, repeated headers, bounded
// memory and cancellation.
package servehttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/stretchr/testify/mock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"mmbindgen.dev/generated/go/bridge"
)

const bodySize = 16 << 20

// setup serves handler as the plugin's ServeHTTP hook and returns the URL
// of an HTTP server that reaches it through HooksClient.
func setup(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	hooks := &plugintest.Hooks{}
	hooks.On("Implemented").Return([]string{"ServeHTTP"}, nil)
	hooks.On("ServeHTTP", mock.Anything, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		handler(args.Get(1).(http.ResponseWriter), args.Get(2).(*http.Request))
	})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The options of the bridge, as a server that embeds it uses them.
	srv := grpc.NewServer(bridge.ServerOptions()...)
	bridge.NewHooksServer(hooks).Register(srv)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	dial := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, bridge.DialOptions()...)
	conn, err := grpc.NewClient(lis.Addr().String(), dial...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := bridge.NewHooksClient(conn)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client.ServeHTTP(&plugin.Context{RequestId: "req"}, w, r)
	}))
	t.Cleanup(web.Close)
	return web.URL
}

// randomReader yields n pseudo-random bytes without holding them.
type randomReader struct {
	rng  *rand.ChaCha8
	left int
}

func (r *randomReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	r.rng.Read(p[:n])
	r.left -= n
	return n, nil
}

func newRandom(seed byte) *randomReader {
	var s [32]byte
	s[0] = seed
	return &randomReader{rng: rand.NewChaCha8(s), left: bodySize}
}

func digest(r io.Reader) ([32]byte, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n, err
}

// heapSample is the heap after a collection: all of it (HeapAlloc), and
// what the collection retained of what was allocated before it began.
type heapSample struct {
	all, retained int64
}

// sampleHeap collects twice and measures the heap. A collection cannot free
// what is allocated while it runs (those objects are marked live), nor what
// is allocated between its end and the reading: on a machine with few CPUs
// that is several MiB at the rate bodies move (the collection takes
// milliseconds), garbage that does not depend on what the exchange holds.
// retained leaves it out: it is the heap less what was allocated since just
// before the second collection began, so every body chunk, buffer or frame
// that was reachable when it began counts.
func sampleHeap() heapSample {
	m := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	runtime.GC()
	metrics.Read(m[:1])
	allocated := m[0].Value.Uint64()
	runtime.GC()
	metrics.Read(m)
	heap := int64(m[1].Value.Uint64())
	return heapSample{all: heap, retained: heap - int64(m[0].Value.Uint64()-allocated)}
}

// peakHeap samples the heap every 10 ms until stop is closed, and returns
// the peaks.
func peakHeap(stop <-chan struct{}) <-chan heapSample {
	out := make(chan heapSample, 1)
	go func() {
		var peak heapSample
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			s := sampleHeap()
			peak.all = max(peak.all, s.all)
			peak.retained = max(peak.retained, s.retained)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func TestLargeBodiesBothWaysWithRepeatedHeaders(t *testing.T) {
	var received [32]byte
	var receivedLen int64
	url := setup(t, func(w http.ResponseWriter, r *http.Request) {
		sum, n, err := digest(r.Body)
		if err != nil {
			t.Errorf("plugin reading the request body: %v", err)
		}
		received, receivedLen = sum, n
		for _, v := range r.Header.Values("X-Multi") {
			w.Header().Add("X-Echo", v)
		}
		w.WriteHeader(http.StatusCreated)
		if _, err := io.Copy(w, newRandom(2)); err != nil {
			t.Errorf("plugin writing the response: %v", err)
		}
	})

	wantUp, _, _ := digest(newRandom(1))
	wantDown, _, _ := digest(newRandom(2))

	before := sampleHeap()
	stop := make(chan struct{})
	peak := peakHeap(stop)

	req, err := http.NewRequest(http.MethodPost, url+"/upload?x=1", newRandom(1))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := digest(resp.Body)
	resp.Body.Close()
	close(stop)
	after := <-peak
	growth := after.retained - before.retained

	if err != nil || n != bodySize || got != wantDown {
		t.Fatalf("response body: %d bytes, err %v, identical %v", n, err, got == wantDown)
	}
	if receivedLen != bodySize || received != wantUp {
		t.Fatalf("request body at the plugin: %d bytes, identical %v", receivedLen, received == wantUp)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if v := resp.Header.Values("X-Echo"); len(v) != 2 || v[0] != "one" || v[1] != "two" {
		t.Fatalf("repeated header values: %q", v)
	}
	t.Logf("16 MiB each way; peak growth of the retained heap %.1f MiB (of the heap after a collection, with what was allocated while it ran: %.1f MiB)",
		float64(growth)/(1<<20), float64(after.all-before.all)/(1<<20))
	if growth > 4<<20 {
		t.Fatalf("heap grew by %d bytes while moving %d bytes each way: bodies are being buffered", growth, bodySize)
	}
}

func TestClientCancellationReachesTheHandler(t *testing.T) {
	var cancelled atomic.Bool
	done := make(chan struct{})
	started := make(chan struct{})
	url := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(started)
		select {
		case <-r.Context().Done():
			cancelled.Store(true)
		case <-time.After(10 * time.Second):
		}
		close(done)
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/wait", nil)
	go func() {
		<-started
		cancel()
	}()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the handler never returned")
	}
	if !cancelled.Load() {
		t.Fatal("the client's cancellation did not reach the plugin's handler")
	}
}

func TestEarlyAnswerBeforeTheBodyIsRead(t *testing.T) {
	url := setup(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	})
	resp, err := http.Post(url, "application/octet-stream", newRandom(3))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte("too large")) {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
}
