//go:build !empty

package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

type benchPlugin struct {
	plugin.MattermostPlugin
}

func newPlugin() any { return &benchPlugin{} }

func (p *benchPlugin) MessageWillBePosted(_ *plugin.Context, post *model.Post) (*model.Post, string) {
	if strings.Contains(post.Message, "spam") {
		return nil, "no spam here"
	}
	return nil, ""
}

// ExecuteCommand "bench N" times N KVGet calls and answers "p50 p99" in
// microseconds.
func (p *benchPlugin) ExecuteCommand(_ *plugin.Context, args *model.CommandArgs) (*model.CommandResponse, *model.AppError) {
	n, _ := strconv.Atoi(strings.Fields(args.Command)[2])
	times := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := p.API.KVGet("count"); err != nil {
			return nil, err
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return &model.CommandResponse{Text: fmt.Sprintf("%d %d", times[n/2].Microseconds(), times[n*99/100].Microseconds())}, nil
}
