// Shows that the gate fails: in-memory mutations of the real proto's model
// each add exactly the expected difference lines to the report.

package parity

import (
	"slices"
	"strings"
	"testing"
)

// added returns the lines of got that base does not have (as a multiset),
// and the lines of base that got lost.
func added(base, got []string) (plus, minus []string) {
	count := map[string]int{}
	for _, l := range base {
		count[l]++
	}
	for _, l := range got {
		if count[l] > 0 {
			count[l]--
		} else {
			plus = append(plus, l)
		}
	}
	for _, l := range base {
		if count[l] > 0 {
			count[l]--
			minus = append(minus, l)
		}
	}
	return plus, minus
}

func findMethod(t *testing.T, m *Model, iface, goName string) *Method {
	t.Helper()
	for si := range m.Services {
		s := &m.Services[si]
		for mi := range s.Methods {
			if s.GoInterface == iface && s.Methods[mi].GoName == goName {
				return &s.Methods[mi]
			}
		}
	}
	t.Fatalf("no RPC %s.%s in the model", iface, goName)
	return nil
}

func findMessage(t *testing.T, m *Model, goType string) *Message {
	t.Helper()
	for i := range m.Messages {
		if m.Messages[i].GoType == goType {
			return &m.Messages[i]
		}
	}
	t.Fatalf("no message with go_type %s in the model", goType)
	return nil
}

func setParam(t *testing.T, vals []GoValue, i int, set func(*GoValue)) {
	t.Helper()
	if i >= len(vals) {
		t.Fatalf("no value %d", i+1)
	}
	set(&vals[i])
}

func TestMutations(t *testing.T) {
	f := setup(t)
	base := Check(f.model(t), f.goSide).Lines
	cases := []struct {
		name   string
		mutate func(t *testing.T, m *Model)
		want   []string
	}{
		{
			name: "remove one RPC",
			mutate: func(t *testing.T, m *Model) {
				for si := range m.Services {
					s := &m.Services[si]
					if s.GoInterface == "plugin.API" {
						s.Methods = slices.DeleteFunc(s.Methods, func(x Method) bool { return x.GoName == "GetUser" })
					}
				}
			},
			want: []string{"plugin.API.GetUser: missing: Go has this method, proto has no RPC with go_name GetUser"},
		},
		{
			name: "change one parameter's go_type",
			mutate: func(t *testing.T, m *Model) {
				setParam(t, findMethod(t, m, "plugin.API", "GetUser").Go.Params, 0, func(v *GoValue) { v.GoType = "*model.User" })
			},
			want: []string{"plugin.API.GetUser: param 1 type: proto says *model.User, Go says string"},
		},
		{
			name: "drop one field from a model message without skipping it",
			mutate: func(t *testing.T, m *Model) {
				msg := findMessage(t, m, "model.Post")
				msg.Fields = slices.DeleteFunc(msg.Fields, func(x Field) bool { return x.GoName == "Message" })
			},
			want: []string{"model.Post: field Message: Go has it (string), proto neither maps nor skips it"},
		},
		{
			name: "wrong min_server_version",
			mutate: func(t *testing.T, m *Model) {
				findMethod(t, m, "plugin.API", "GetUser").MinServerVersion = "5.3"
			},
			want: []string{"plugin.API.GetUser: min_server_version: proto says 5.3, Go doc says 5.2"},
		},
		{
			name: "an RPC the interface does not have",
			mutate: func(t *testing.T, m *Model) {
				for si := range m.Services {
					s := &m.Services[si]
					if s.GoInterface == "plugin.Hooks" {
						extra := s.Methods[0]
						extra.Name, extra.GoName = "OnReboot", "OnReboot"
						s.Methods = append(s.Methods, extra)
					}
				}
			},
			want: []string{"plugin.Hooks.OnReboot: extra: RPC OnReboot has go_name OnReboot, which plugin.Hooks does not have"},
		},
		{
			name: "wrong parameter name",
			mutate: func(t *testing.T, m *Model) {
				setParam(t, findMethod(t, m, "plugin.API", "GetUser").Go.Params, 0, func(v *GoValue) { v.Name = "userId" })
			},
			want: []string{"plugin.API.GetUser: param 1 name: proto says userId, Go says userID"},
		},
		{
			name: "wrong name of a named Go result",
			mutate: func(t *testing.T, m *Model) {
				setParam(t, findMethod(t, m, "plugin.API", "UnshareChannel").Go.Results, 0, func(v *GoValue) { v.Name = "ok" })
			},
			want: []string{"plugin.API.UnshareChannel: result 1 name: proto says ok, Go says unshared"},
		},
		{
			name: "a result missing",
			mutate: func(t *testing.T, m *Model) {
				rpc := findMethod(t, m, "plugin.API", "GetUser")
				rpc.Go.Results = rpc.Go.Results[:1]
			},
			want: []string{"plugin.API.GetUser: result count: proto says 1 (user *model.User), Go says 2 (*model.User, *model.AppError)"},
		},
		{
			name: "variadic parameter written as a slice",
			mutate: func(t *testing.T, m *Model) {
				setParam(t, findMethod(t, m, "plugin.API", "LogDebug").Go.Params, 1, func(v *GoValue) { v.GoType = "[]any" })
			},
			want: []string{"plugin.API.LogDebug: param 2 type: proto says []any, Go says ...any"},
		},
		{
			name: "alias resolved to its target",
			mutate: func(t *testing.T, m *Model) {
				setParam(t, findMethod(t, m, "plugin.API", "LogAuditRecWithLevel").Go.Params, 1, func(v *GoValue) { v.GoType = "logr.Level" })
			},
			want: []string{"plugin.API.LogAuditRecWithLevel: param 2 type: proto says logr.Level, Go says mlog.Level"},
		},
		{
			name: "wrong tags",
			mutate: func(t *testing.T, m *Model) {
				rpc := findMethod(t, m, "plugin.API", "GetUser")
				rpc.Tags = append(rpc.Tags, "Team")
			},
			want: []string{"plugin.API.GetUser: tags: proto says [User Team], Go doc says [User]"},
		},
		{
			name: "experimental not marked",
			mutate: func(t *testing.T, m *Model) {
				findMethod(t, m, "plugin.API", "UpdateEphemeralPost").Experimental = false
			},
			want: []string{"plugin.API.UpdateEphemeralPost: experimental: proto says false, Go doc says true"},
		},
		{
			name: "deprecated without a Deprecated: paragraph",
			mutate: func(t *testing.T, m *Model) {
				findMethod(t, m, "plugin.API", "GetUser").Deprecated = "use GetUsersByIds"
			},
			want: []string{`plugin.API.GetUser: deprecated: proto says "use GetUsersByIds", Go doc has no Deprecated: paragraph`},
		},
		{
			name: "wrong field type",
			mutate: func(t *testing.T, m *Model) {
				msg := findMessage(t, m, "model.Post")
				for i := range msg.Fields {
					if msg.Fields[i].GoName == "Props" {
						msg.Fields[i].GoType = "map[string]any"
					}
				}
			},
			want: []string{"model.Post: field Props type: proto says map[string]any, Go says model.StringInterface"},
		},
		{
			name: "skipping a field Go does not have",
			mutate: func(t *testing.T, m *Model) {
				msg := findMessage(t, m, "model.Post")
				msg.Skipped = append(msg.Skipped, SkippedField{GoName: "Bogus", Reason: "test"})
			},
			want: []string{"model.Post: skipped field Bogus: Go has no exported field of that name"},
		},
		{
			name: "a reachable model struct without a message",
			mutate: func(t *testing.T, m *Model) {
				m.Messages = slices.DeleteFunc(m.Messages, func(x Message) bool { return x.GoType == "model.PostImage" })
			},
			want: []string{"model.PostImage: reachable from the interfaces (plugin.API.SearchPostsInTeam result 1 -> model.Post.Metadata -> model.PostMetadata.Images), but no message has go_type model.PostImage"},
		},
		{
			name: "undeclared import alias",
			mutate: func(t *testing.T, m *Model) {
				m.GoImports = slices.DeleteFunc(m.GoImports, func(x GoImport) bool { return x.Alias == "saml2" })
			},
			want: []string{"go_imports: alias saml2 (in PluginHooks.OnSAMLLogin param 3, go_type *saml2.AssertionInfo) is not declared"},
		},
		{
			name: "import alias with the wrong path",
			mutate: func(t *testing.T, m *Model) {
				for i := range m.GoImports {
					if m.GoImports[i].Alias == "model" {
						m.GoImports[i].Path = "github.com/mattermost/mattermost-server/v6/model"
					}
				}
			},
			want: []string{
				"go_imports: alias model: github.com/mattermost/mattermost-server/v6/model is not a package the Go side depends on",
				"go_imports: alias model: proto says github.com/mattermost/mattermost-server/v6/model, Go uses " + ModelPath,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := f.model(t)
			tc.mutate(t, m)
			plus, minus := added(base, Check(m, f.goSide).Lines)
			if !slices.Equal(plus, tc.want) || len(minus) > 0 {
				t.Errorf("new difference lines:\n  %s\nwant:\n  %s\nlines that went away: %q",
					strings.Join(plus, "\n  "), strings.Join(tc.want, "\n  "), minus)
			}
		})
	}
}
