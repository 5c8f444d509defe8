package stockserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/stretchr/testify/require"
)

const hopRounds = 2000

// percentiles times n calls of f and returns p50 and p99.
func percentiles(n int, f func()) (time.Duration, time.Duration) {
	times := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		f()
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return times[n/2], times[n*99/100]
}

// twoHops times MessageWillBePosted through the server's hooks client on the
// Python plugin (server -> shim -> Python) and on a Go plugin, and KVGet
// calls made by each plugin (Python -> shim -> server against Go -> server),
// and reports the figures as a Markdown table.
func twoHops(t *testing.T, f *fixture) string {
	py, goh := f.hooks(t, moderatorID), f.hooks(t, goBenchID)
	post := &model.Post{Message: "hello there", ChannelId: model.NewId(), UserId: model.NewId()}
	call := func(h plugin.Hooks) func() {
		return func() { h.MessageWillBePosted(&plugin.Context{}, post) }
	}
	percentiles(200, call(py)) // warm up
	percentiles(200, call(goh))
	pyP50, pyP99 := percentiles(hopRounds, call(py))
	goP50, goP99 := percentiles(hopRounds, call(goh))

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
	fmt.Fprintf(&b, "| API KVGet (plugin -> server) | %s µs | %s µs | %s µs | %s µs | |\n", goAPI50, goAPI99, pyAPI50, pyAPI99)
	return b.String()
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
