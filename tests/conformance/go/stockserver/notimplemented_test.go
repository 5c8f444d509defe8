package stockserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/stretchr/testify/require"
)

// differs are the hooks whose answer through the shim differs from a Go
// plugin's that does not implement them (design/python.md, "The shim"): the
// two deliberate exceptions of design/hook-policy.md's rule 1.
var differs = map[string]bool{"ExecuteCommand": true, "OnSharedChannelsPing": true}

// skipped are the hooks the server calls through RunMultiPluginHook only on
// plugins that implement them, and whose Go client answers a zero value that
// is not neutral (nil posts) when called anyway: for a Go plugin without the
// hook the server keeps its input, which is what the shim answers.
var skipped = map[string]bool{"MessagesWillBeConsumed": true, "MessagesWillBeConsumedWithContext": true}

// testNotImplemented calls every hook on a Python plugin that implements
// none (through the shim) and on a Go plugin that implements none, through
// the server's own hooks client, and compares what the server gets.
func testNotImplemented(t *testing.T, env *plugin.Environment, py, goHooks plugin.Hooks) {
	c := &plugin.Context{}
	user := &model.User{Id: model.NewId(), Username: "u"}
	post := &model.Post{Id: model.NewId(), Message: "m"}
	channel := &model.Channel{Id: model.NewId(), Name: "c"}
	cm := &model.ChannelMember{ChannelId: channel.Id, UserId: user.Id}
	tm := &model.TeamMember{TeamId: model.NewId(), UserId: user.Id}
	info := &model.FileInfo{Id: model.NewId(), Name: "f.txt"}
	rc := &model.RemoteCluster{RemoteId: model.NewId()}

	hooks := map[string]func(h plugin.Hooks) any{
		"OnDeactivate":          func(h plugin.Hooks) any { return h.OnDeactivate() },
		"OnConfigurationChange": func(h plugin.Hooks) any { return h.OnConfigurationChange() },
		"ServeHTTP": func(h plugin.Hooks) any {
			w := httptest.NewRecorder()
			h.ServeHTTP(c, w, httptest.NewRequest(http.MethodGet, "/x", nil))
			return []any{w.Code, w.Body.String()}
		},
		"ExecuteCommand": func(h plugin.Hooks) any {
			r, err := h.ExecuteCommand(c, &model.CommandArgs{Command: "/x"})
			return []any{r, err}
		},
		"UserHasBeenCreated":   func(h plugin.Hooks) any { h.UserHasBeenCreated(c, user); return nil },
		"UserWillLogIn":        func(h plugin.Hooks) any { return h.UserWillLogIn(c, user) },
		"UserHasLoggedIn":      func(h plugin.Hooks) any { h.UserHasLoggedIn(c, user); return nil },
		"MessageWillBePosted":  func(h plugin.Hooks) any { p, r := h.MessageWillBePosted(c, post); return []any{p, r} },
		"MessageWillBeUpdated": func(h plugin.Hooks) any { p, r := h.MessageWillBeUpdated(c, post, post); return []any{p, r} },
		"MessageHasBeenPosted": func(h plugin.Hooks) any { h.MessageHasBeenPosted(c, post); return nil },
		"MessageHasBeenUpdated": func(h plugin.Hooks) any {
			h.MessageHasBeenUpdated(c, post, post)
			return nil
		},
		"MessagesWillBeConsumed": func(h plugin.Hooks) any { return h.MessagesWillBeConsumed([]*model.Post{post}) },
		"MessagesWillBeConsumedWithContext": func(h plugin.Hooks) any {
			return h.MessagesWillBeConsumedWithContext(c, []*model.Post{post})
		},
		"MessageHasBeenDeleted":    func(h plugin.Hooks) any { h.MessageHasBeenDeleted(c, post); return nil },
		"ChannelHasBeenCreated":    func(h plugin.Hooks) any { h.ChannelHasBeenCreated(c, channel); return nil },
		"ChannelWillBeArchived":    func(h plugin.Hooks) any { return h.ChannelWillBeArchived(c, channel) },
		"ChannelMemberWillBeAdded": func(h plugin.Hooks) any { m, r := h.ChannelMemberWillBeAdded(c, cm); return []any{m, r} },
		"UserHasJoinedChannel":     func(h plugin.Hooks) any { h.UserHasJoinedChannel(c, cm, user); return nil },
		"UserHasLeftChannel":       func(h plugin.Hooks) any { h.UserHasLeftChannel(c, cm, user); return nil },
		"TeamMemberWillBeAdded":    func(h plugin.Hooks) any { m, r := h.TeamMemberWillBeAdded(c, tm); return []any{m, r} },
		"UserHasJoinedTeam":        func(h plugin.Hooks) any { h.UserHasJoinedTeam(c, tm, user); return nil },
		"UserHasLeftTeam":          func(h plugin.Hooks) any { h.UserHasLeftTeam(c, tm, user); return nil },
		"FileWillBeUploaded": func(h plugin.Hooks) any {
			var out bytes.Buffer
			i, r := h.FileWillBeUploaded(c, info, strings.NewReader("content"), &out)
			return []any{i, r, out.String()}
		},
		"FileWillBeDownloaded": func(h plugin.Hooks) any {
			return h.FileWillBeDownloaded(c, info, user.Id, model.FileDownloadTypeFile)
		},
		"ReactionHasBeenAdded":   func(h plugin.Hooks) any { h.ReactionHasBeenAdded(c, &model.Reaction{PostId: post.Id}); return nil },
		"ReactionHasBeenRemoved": func(h plugin.Hooks) any { h.ReactionHasBeenRemoved(c, &model.Reaction{PostId: post.Id}); return nil },
		"OnPluginClusterEvent": func(h plugin.Hooks) any {
			h.OnPluginClusterEvent(c, model.PluginClusterEvent{Id: "e", Data: []byte("d")})
			return nil
		},
		"OnWebSocketConnect":    func(h plugin.Hooks) any { h.OnWebSocketConnect("conn", user.Id); return nil },
		"OnWebSocketDisconnect": func(h plugin.Hooks) any { h.OnWebSocketDisconnect("conn", user.Id); return nil },
		"WebSocketMessageHasBeenPosted": func(h plugin.Hooks) any {
			h.WebSocketMessageHasBeenPosted("conn", user.Id, &model.WebSocketRequest{Seq: 1, Action: "a"})
			return nil
		},
		"RunDataRetention":     func(h plugin.Hooks) any { n, err := h.RunDataRetention(1, 2); return []any{n, err} },
		"OnInstall":            func(h plugin.Hooks) any { return h.OnInstall(c, model.OnInstallEvent{UserId: user.Id}) },
		"OnSendDailyTelemetry": func(h plugin.Hooks) any { h.OnSendDailyTelemetry(); return nil },
		"OnCloudLimitsUpdated": func(h plugin.Hooks) any { h.OnCloudLimitsUpdated(&model.ProductLimits{}); return nil },
		"ConfigurationWillBeSaved": func(h plugin.Hooks) any {
			cfg, err := h.ConfigurationWillBeSaved(&model.Config{})
			return []any{cfg, err}
		},
		"EmailNotificationWillBeSent": func(h plugin.Hooks) any {
			e, r := h.EmailNotificationWillBeSent(&model.EmailNotification{PostId: post.Id})
			return []any{e, r}
		},
		"NotificationWillBePushed": func(h plugin.Hooks) any {
			n, r := h.NotificationWillBePushed(&model.PushNotification{PostId: post.Id}, user.Id)
			return []any{n, r}
		},
		"UserHasBeenDeactivated": func(h plugin.Hooks) any { h.UserHasBeenDeactivated(c, user); return nil },
		"ServeMetrics": func(h plugin.Hooks) any {
			w := httptest.NewRecorder()
			h.ServeMetrics(c, w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			return []any{w.Code, w.Body.String()}
		},
		"OnSharedChannelsSyncMsg": func(h plugin.Hooks) any {
			r, err := h.OnSharedChannelsSyncMsg(&model.SyncMsg{ChannelId: channel.Id}, rc)
			return []any{r, err}
		},
		"OnSharedChannelsPing": func(h plugin.Hooks) any { return h.OnSharedChannelsPing(rc) },
		"PreferencesHaveChanged": func(h plugin.Hooks) any {
			h.PreferencesHaveChanged(c, []model.Preference{{UserId: user.Id}})
			return nil
		},
		"OnSharedChannelsAttachmentSyncMsg": func(h plugin.Hooks) any {
			return h.OnSharedChannelsAttachmentSyncMsg(info, post, rc)
		},
		"OnSharedChannelsProfileImageSyncMsg": func(h plugin.Hooks) any {
			return h.OnSharedChannelsProfileImageSyncMsg(user, rc)
		},
		"GenerateSupportData": func(h plugin.Hooks) any { d, err := h.GenerateSupportData(c); return []any{d, err} },
		"OnSAMLLogin":         func(h plugin.Hooks) any { return h.OnSAMLLogin(c, user, nil) },
		"ChannelWillBeUpdated": func(h plugin.Hooks) any {
			ch, r := h.ChannelWillBeUpdated(c, channel, channel)
			return []any{ch, r}
		},
		"ChannelWillBeRestored": func(h plugin.Hooks) any { return h.ChannelWillBeRestored(c, channel) },
		"ScheduledPostWillBeCreated": func(h plugin.Hooks) any {
			p, r := h.ScheduledPostWillBeCreated(c, &model.ScheduledPost{Id: model.NewId()})
			return []any{p, r}
		},
		"DraftWillBeUpserted": func(h plugin.Hooks) any {
			d, r := h.DraftWillBeUpserted(c, &model.Draft{UserId: user.Id})
			return []any{d, r}
		},
	}
	// Every hook of plugin.Hooks but OnActivate (the activation ran) and
	// Implemented (answered by the shim's reflection, not by a hook call).
	require.Len(t, hooks, 50)
	for name, call := range hooks {
		t.Run(name, func(t *testing.T) {
			fromGo := call(goHooks)
			fromPython := call(py)
			if skipped[name] {
				id := plugin.MessagesWillBeConsumedID
				if name == "MessagesWillBeConsumedWithContext" {
					id = plugin.MessagesWillBeConsumedWithContextID
				}
				kept := []*model.Post{post}
				env.RunMultiPluginHook(func(h plugin.Hooks, m *model.Manifest) bool {
					if m.Id == goEmptyID {
						kept = nil // never reached: the server skips the Go plugin
					}
					return true
				}, id)
				fromGo = kept
			}
			if differs[name] {
				require.NotEqual(t, fromGo, fromPython)
				t.Logf("differs: Go plugin %#v, Python plugin %#v", fromGo, fromPython)
				return
			}
			require.Equal(t, fromGo, fromPython)
		})
	}
}
