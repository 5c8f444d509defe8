package roundtrip

import (
	"fmt"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
)

// A server that sees every hook as implemented (the shim on a stock
// server) calls hooks the plugin does not implement; the client must
// answer them without converting their arguments. Converting 200 posts
// takes thousands of allocations; the gate's answer a handful.
func TestAHookThePluginLacksConvertsNothing(t *testing.T) {
	h := newHooksHarness(t, []string{"OnActivate"})
	posts := make([]*model.Post, 200)
	for i := range posts {
		posts[i] = &model.Post{
			Id:        model.NewId(),
			ChannelId: model.NewId(),
			UserId:    model.NewId(),
			Message:   fmt.Sprintf("post %d", i),
			Props:     model.StringInterface{"from_plugin": true, "n": float64(i)},
		}
	}
	c := &plugin.Context{RequestId: "r"}
	// The first call asks the plugin which hooks it implements.
	if got := h.client.MessagesWillBeConsumed(posts); len(got) != len(posts) {
		t.Fatalf("MessagesWillBeConsumed answered %d posts, want the %d given", len(got), len(posts))
	}
	calls := map[string]func(){
		"MessagesWillBeConsumed":            func() { h.client.MessagesWillBeConsumed(posts) },
		"MessagesWillBeConsumedWithContext": func() { h.client.MessagesWillBeConsumedWithContext(c, posts) },
		"MessageHasBeenPosted":              func() { h.client.MessageHasBeenPosted(c, posts[0]) },
		"MessageWillBePosted":               func() { h.client.MessageWillBePosted(c, posts[0]) },
	}
	for name, call := range calls {
		if allocs := testing.AllocsPerRun(20, call); allocs > 20 {
			t.Errorf("%s, not implemented by the plugin: %.0f allocations per call, want at most 20 (its arguments were converted)", name, allocs)
		}
	}
	if n := len(callsTo(&h.fake.Mock, "MessagesWillBeConsumed")); n != 0 {
		t.Errorf("the plugin's MessagesWillBeConsumed was called %d times, want 0", n)
	}
}
