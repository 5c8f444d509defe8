package stockserver

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	hopRounds = 2000
	hopBlock  = 100 // calls per turn when callers alternate
)

// percentiles times n calls of f and returns p50 and p99.
func percentiles(n int, f func()) (time.Duration, time.Duration) {
	times := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		f()
		times = append(times, time.Since(start))
	}
	return quantiles(times)
}

// interleaved times n calls of each caller, in turns of hopBlock calls with
// the order rotating every turn, so that drift on the machine hits them
// alike; it returns each caller's p50 and p99.
func interleaved(n int, callers ...func()) [][2]time.Duration {
	times := make([][]time.Duration, len(callers))
	for turn := 0; turn*hopBlock < n; turn++ {
		for i := range callers {
			c := (i + turn) % len(callers)
			for range hopBlock {
				start := time.Now()
				callers[c]()
				times[c] = append(times[c], time.Since(start))
			}
		}
	}
	out := make([][2]time.Duration, len(callers))
	for i, ts := range times {
		out[i][0], out[i][1] = quantiles(ts)
	}
	return out
}

func quantiles(times []time.Duration) (time.Duration, time.Duration) {
	slices.Sort(times)
	return times[len(times)/2], times[len(times)*99/100]
}

// echoServer is a bare grpcio asyncio server with one unary method that
// returns its request, as unencumbered as gRPC into CPython gets: no SDK,
// no interceptor, no message decoding.
const echoServer = `
import asyncio, grpc, grpc.aio

async def echo(request, context):
    return request

async def main():
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "floor.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()

asyncio.run(main())
`

// bareGRPCPython starts echoServer with the repository's .venv interpreter
// and returns a call to it from this process, a request of the size of the
// benchmark's MessageWillBePosted.
func bareGRPCPython(t *testing.T) func() {
	cmd := exec.Command(filepath.Join(repoRoot(t), ".venv", "bin", "python"), "-c", echoServer)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	port, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	request := wrapperspb.Bytes(make([]byte, 96))
	return func() {
		response := &wrapperspb.BytesValue{}
		require.NoError(t, conn.Invoke(context.Background(), "/floor.Echo/Echo", request, response))
	}
}

// twoHops times MessageWillBePosted through the server's hooks client on the
// Python plugin (server -> shim -> Python) and on a Go plugin, alternating
// with a call into a bare grpcio server in CPython (the floor of the second
// hop), and KVGet calls made by each plugin (Python -> shim -> server
// against Go -> server), and reports the figures as a Markdown table.
func twoHops(t *testing.T, f *fixture) string {
	py, goh := f.hooks(t, moderatorID), f.hooks(t, goBenchID)
	post := &model.Post{Message: "hello there", ChannelId: model.NewId(), UserId: model.NewId()}
	call := func(h plugin.Hooks) func() {
		return func() { h.MessageWillBePosted(&plugin.Context{}, post) }
	}
	floor := bareGRPCPython(t)
	percentiles(200, call(py)) // warm up
	percentiles(200, call(goh))
	percentiles(200, floor)
	got := interleaved(hopRounds, call(py), call(goh), floor)
	pyP50, pyP99 := got[0][0], got[0][1]
	goP50, goP99 := got[1][0], got[1][1]
	floorP50, floorP99 := got[2][0], got[2][1]

	api := func(h plugin.Hooks) (string, string) {
		resp, appErr := h.ExecuteCommand(&plugin.Context{}, &model.CommandArgs{Command: fmt.Sprintf("/x bench %d", hopRounds)})
		require.Nil(t, appErr)
		p50, p99, _ := strings.Cut(resp.Text, " ")
		return p50, p99
	}
	api(py)
	pyAPI50, pyAPI99 := api(py)
	goAPI50, goAPI99 := api(goh)

	ratio := float64(pyP50) / float64(goP50)
	var b strings.Builder
	fmt.Fprintf(&b, "| call (%d rounds) | Go plugin p50 | Go plugin p99 | Python plugin via shim p50 | p99 | p50 ratio |\n", hopRounds)
	b.WriteString("|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| hook MessageWillBePosted (server -> plugin) | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.2f× |\n",
		us(goP50), us(goP99), us(pyP50), us(pyP99), ratio)
	fmt.Fprintf(&b, "| floor of the second hop: a bare grpcio echo in CPython, from Go | | | %.0f µs | %.0f µs | %.2f× |\n",
		us(floorP50), us(floorP99), float64(floorP50)/float64(goP50))
	fmt.Fprintf(&b, "| API KVGet (plugin -> server) | %s µs | %s µs | %s µs | %s µs | |\n", goAPI50, goAPI99, pyAPI50, pyAPI99)
	return b.String()
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
