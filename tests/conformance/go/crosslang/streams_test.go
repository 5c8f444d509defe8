package crosslang

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

// bigSize is the size of the streams of TestStreams, each way.
const bigSize = 16 << 20

// maxGrowth is the most the Python process's peak resident memory may grow
// while 16 MiB stream through it each way.
const maxGrowth = 8 << 20

// The marks of the streaming cases in the full plugin (plugin.py): the
// handlers answer them with the input transformed (every byte XOR
// streamKey), chunk by chunk as it arrives.
const (
	streamPath = "/plugins/com.mattermost.crosslang/stream"
	streamFile = "crosslang-stream.bin"
	streamKey  = 0x5A
)

// TestStreams: 16 MiB into the Python process and 16 MiB out, through
// ServeHTTP (request body in, response body out) and FileWillBeUploaded
// (the upload in, the replacement content out). The output must be the
// transformed input byte for byte (SHA-256), and the peak memory of the
// process (VmHWM, reset before through /proc/<pid>/clear_refs) must grow
// by less than maxGrowth.
func TestStreams(t *testing.T) {
	p := getProc(t, modeFull)
	pid := p.pid(t)
	input := make([]byte, bigSize)
	rand.New(rand.NewSource(16)).Read(input)
	want := transformedSum(input)

	t.Run("ServeHTTP", func(t *testing.T) {
		base := resetPeak(t, pid)
		start := time.Now()
		req, err := http.NewRequest(http.MethodPost, streamPath, bytes.NewReader(input))
		if err != nil {
			t.Fatal(err)
		}
		w := &hashWriter{h: sha256.New(), header: http.Header{}}
		p.hooks().ServeHTTP(&plugin.Context{}, w, req)
		elapsed := time.Since(start)
		if w.code != http.StatusOK {
			t.Errorf("status %d, want 200", w.code)
		}
		if w.n != bigSize || !bytes.Equal(w.h.Sum(nil), want) {
			t.Errorf("response body: %d bytes, SHA-256 %x; want %d bytes, %x", w.n, w.h.Sum(nil), bigSize, want)
		}
		checkPeak(t, pid, base, elapsed)
	})

	t.Run("FileWillBeUploaded", func(t *testing.T) {
		base := resetPeak(t, pid)
		start := time.Now()
		w := &hashWriter{h: sha256.New()}
		info := &model.FileInfo{Id: "crosslang-stream", Name: streamFile, Size: bigSize}
		got, reason := p.hooks().FileWillBeUploaded(&plugin.Context{}, info, bytes.NewReader(input), w)
		elapsed := time.Since(start)
		if got != nil || reason != "" {
			t.Errorf("results %v, %q; want nil, \"\"", got, reason)
		}
		if w.n != bigSize || !bytes.Equal(w.h.Sum(nil), want) {
			t.Errorf("replacement content: %d bytes, SHA-256 %x; want %d bytes, %x", w.n, w.h.Sum(nil), bigSize, want)
		}
		checkPeak(t, pid, base, elapsed)
	})
}

// transformedSum is the SHA-256 of input with every byte XOR streamKey.
func transformedSum(input []byte) []byte {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for off := 0; off < len(input); off += len(buf) {
		chunk := input[off:min(off+len(buf), len(input))]
		for i, b := range chunk {
			buf[i] = b ^ streamKey
		}
		h.Write(buf[:len(chunk)])
	}
	return h.Sum(nil)
}

// hashWriter is an http.ResponseWriter and io.Writer that keeps only the
// SHA-256 and the length of what it is given.
type hashWriter struct {
	h      hash.Hash
	n      int
	header http.Header
	code   int
}

func (w *hashWriter) Header() http.Header { return w.header }

func (w *hashWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *hashWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(b)
	return w.h.Write(b)
}

// resetPeak resets the peak resident set size of pid to its current one
// (Linux 4.0: "5" to clear_refs) and returns that.
func resetPeak(t *testing.T, pid int) int {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Fatalf("resetting the peak memory of the plugin: %v", err)
	}
	rss, hwm := memory(t, pid)
	if hwm != rss {
		// The process may have grown between the reset and the read.
		t.Logf("after the reset: VmRSS %d KiB, VmHWM %d KiB", rss>>10, hwm>>10)
	}
	return hwm
}

// checkPeak logs and checks the peak growth since base.
func checkPeak(t *testing.T, pid, base int, elapsed time.Duration) {
	t.Helper()
	rss, hwm := memory(t, pid)
	growth := hwm - base
	t.Logf("Python process %d: VmHWM %.1f MiB before, %.1f MiB after (growth %.2f MiB for %d MiB each way); VmRSS now %.1f MiB; %v (%.0f MiB/s each way)",
		pid, mib(base), mib(hwm), mib(growth), bigSize>>20, mib(rss), elapsed.Round(time.Millisecond), float64(bigSize>>20)/elapsed.Seconds())
	if growth >= maxGrowth {
		t.Errorf("the peak memory of the Python process grew by %.2f MiB, want less than %d MiB", mib(growth), maxGrowth>>20)
	}
}

func mib(n int) float64 { return float64(n) / (1 << 20) }

// memory returns VmRSS and VmHWM of pid in bytes.
func memory(t *testing.T, pid int) (rss, hwm int) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
		if err != nil {
			t.Fatalf("/proc/%d/status: %q: %v", pid, line, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}
