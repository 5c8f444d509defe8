package roundtrip

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/stretchr/testify/mock"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"mmbindgen.dev/generated/go/bridge"
	"mmbindgen.dev/generated/go/mmbindgenpb"
	"mmbindgen.dev/generated/go/pluginpb"
)

// hookMethods is the number of methods of plugin.Hooks in the pinned module.
const hookMethods = 52

var hooksType = reflect.TypeFor[plugin.Hooks]()

// allHooks lists the names of every method of plugin.Hooks.
func allHooks() []string {
	names := make([]string, hooksType.NumMethod())
	for i := range names {
		names[i] = hooksType.Method(i).Name
	}
	return names
}

// fallback is one HookFallback option of a hook, resolved against the Go
// signature.
type fallback struct {
	err        bool
	echoParam  int // the Go parameter returned as the first result, or -1
	boolResult bool
	httpStatus int
}

type hookFallbacks struct {
	notImplemented, unavailable fallback
}

// hookFallbackTable resolves the not_implemented and unavailable options of
// every hook (from `mm-bindgen list --json`) against the Go signatures.
func hookFallbackTable(t *testing.T) map[string]hookFallbacks {
	t.Helper()
	pm, err := LoadProtoModel()
	if err != nil {
		t.Fatal(err)
	}
	methods := pm.Methods("plugin.Hooks")
	out := map[string]hookFallbacks{}
	for i := range hooksType.NumMethod() {
		m := hooksType.Method(i)
		pmm := methods[m.Name]
		if pmm == nil || pmm.Hook == nil {
			t.Errorf("%s: the proto gives no not_implemented and unavailable options", m.Name)
			continue
		}
		resolve := func(hf *HookFallback) fallback {
			fb := fallback{err: hf.Error != nil, boolResult: hf.BoolResult, httpStatus: hf.HTTPStatus}
			fb.echoParam, err = pmm.EchoParam(hf.Echo)
			if err != nil {
				t.Error(err)
			}
			if fb.echoParam >= 0 && (m.Type.NumOut() == 0 || m.Type.In(fb.echoParam) != m.Type.Out(0)) {
				t.Errorf("%s: echo %q does not fit the first result", m.Name, hf.Echo)
			}
			return fb
		}
		out[m.Name] = hookFallbacks{notImplemented: resolve(&pmm.Hook.NotImplemented), unavailable: resolve(&pmm.Hook.Unavailable)}
	}
	return out
}

// TestDescriptorOptions checks that the compiled Go descriptors of
// generated/go/pluginpb carry the mmbindgen.v1.method options of the hooks
// (not_implemented and unavailable), as protoc would have put them there.
func TestDescriptorOptions(t *testing.T) {
	pm, err := LoadProtoModel()
	if err != nil {
		t.Fatal(err)
	}
	sd := pluginpb.File_mattermost_plugin_v1_plugin_hooks_proto.Services().ByName("PluginHooks")
	methods := pm.Methods("plugin.Hooks")
	for _, name := range slices.Sorted(maps.Keys(methods)) {
		pmm := methods[name]
		md := sd.Methods().ByName(protoreflect.Name(pmm.Name))
		if md == nil {
			t.Errorf("%s: no RPC %s in the compiled descriptor", name, pmm.Name)
			continue
		}
		mo, _ := proto.GetExtension(md.Options(), mmbindgenpb.E_Method).(*mmbindgenpb.MethodOptions)
		same := func(got *mmbindgenpb.HookFallback, want *HookFallback) bool {
			if want == nil || got == nil {
				return want == nil && got == nil
			}
			return got.GetError() == (want.Error != nil) && got.GetEcho() == want.Echo &&
				got.GetBoolResult() == want.BoolResult && int(got.GetHttpStatus()) == want.HTTPStatus
		}
		if pmm.Hook == nil {
			t.Errorf("%s: the model has no hook fallbacks", name)
			continue
		}
		if !same(mo.GetNotImplemented(), &pmm.Hook.NotImplemented) || !same(mo.GetUnavailable(), &pmm.Hook.Unavailable) {
			t.Errorf("%s: the compiled descriptor's options are not_implemented=%v unavailable=%v; the proto says %+v and %+v",
				name, mo.GetNotImplemented(), mo.GetUnavailable(), pmm.Hook.NotImplemented, pmm.Hook.Unavailable)
		}
	}
}

type hooksHarness struct {
	fake   *plugintest.Hooks
	client *bridge.HooksClient
	lb     *loopback
	log    *errorLog
}

// newHooksHarness serves plugintest.Hooks through bridge.HooksServer on
// loopback and returns a bridge.HooksClient of it. The fake's Implemented
// answers implemented, unless it is nil.
func newHooksHarness(t testing.TB, implemented []string) *hooksHarness {
	h := &hooksHarness{fake: &plugintest.Hooks{}, log: &errorLog{}}
	if implemented != nil {
		h.fake.On("Implemented").Return(implemented, nil)
	}
	h.lb = newLoopback(t, func(r grpc.ServiceRegistrar) { bridge.NewHooksServer(h.fake).Register(r) })
	h.client = newHooksClient(h.lb.conn, h.log)
	return h
}

func newHooksClient(conn grpc.ClientConnInterface, log *errorLog) *bridge.HooksClient {
	c := bridge.NewHooksClient(conn)
	c.Timeout = callTimeout
	c.OnError = log.onError
	return c
}

// unimplementedHooks answers every RPC with status UNIMPLEMENTED, except
// Implemented when names is not nil.
type unimplementedHooks struct {
	pluginpb.UnimplementedPluginHooksServer
	names []string
}

func (s *unimplementedHooks) Implemented(ctx context.Context, req *pluginpb.ImplementedRequest) (*pluginpb.ImplementedResponse, error) {
	if s.names == nil {
		return s.UnimplementedPluginHooksServer.Implemented(ctx, req)
	}
	return &pluginpb.ImplementedResponse{Hooks: s.names}, nil
}

func newHookExchange(f *Filler, m reflect.Method, md mode) exchange {
	switch m.Name {
	case "ServeHTTP", "ServeMetrics":
		return newHTTPHookExchange(f, m.Name, md)
	case "FileWillBeUploaded":
		return newUploadExchange(f, md)
	}
	return newInvocation(f, m.Name, m.Type, md)
}

// newFiller returns the filler of a subtest and logs its seed on failure.
func newFiller(t *testing.T) *Filler {
	seed := Seed(t.Name())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d", seed)
		}
	})
	return NewFiller(seed)
}

func TestHooksRoundTrip(t *testing.T) {
	if n := hooksType.NumMethod(); n != hookMethods {
		t.Errorf("plugin.Hooks has %d methods, want %d", n, hookMethods)
	}
	fbs := hookFallbackTable(t)
	for i := range hooksType.NumMethod() {
		m := hooksType.Method(i)
		fb := fbs[m.Name]
		t.Run(m.Name, func(t *testing.T) {
			for _, md := range apiModes(m.Type) {
				t.Run(string(md), func(t *testing.T) { hookRoundTrip(t, m, md) })
			}
			t.Run("not_implemented", func(t *testing.T) {
				if m.Name != "Implemented" {
					t.Run("missing_from_list", func(t *testing.T) { hookMissingFromList(t, m, fb.notImplemented) })
				}
				t.Run("unimplemented_status", func(t *testing.T) { hookUnimplementedStatus(t, m, fb.notImplemented) })
			})
			t.Run("transport_failure", func(t *testing.T) {
				t.Run("stopped_server", func(t *testing.T) { hookStoppedServer(t, m, fb.unavailable) })
				t.Run("closed_server", func(t *testing.T) { hookClosedServer(t, m, fb.unavailable) })
			})
		})
	}
}

// hookRoundTrip: the plugin implements every hook and answers.
func hookRoundTrip(t *testing.T, m reflect.Method, md mode) {
	ex := newHookExchange(newFiller(t), m, md)
	implemented := allHooks()
	if m.Name == "Implemented" {
		implemented = nil // the exchange programs it
	}
	h := newHooksHarness(t, implemented)
	ex.program(&h.fake.Mock)
	if !ex.call(t, h.client) {
		return
	}
	h.lb.checkNoPanics(t)
	ex.checkRoundTrip(t, &h.fake.Mock)
	if errs := h.log.list(); len(errs) > 0 {
		t.Errorf("the client reported failures: %q", errs)
	}
}

// hookMissingFromList: Implemented lists every hook but this one; the
// client must answer the not_implemented fallback without calling it.
func hookMissingFromList(t *testing.T, m reflect.Method, fb fallback) {
	ex := newHookExchange(newFiller(t), m, modeFilled)
	h := newHooksHarness(t, slices.DeleteFunc(allHooks(), func(n string) bool { return n == m.Name }))
	ex.program(&h.fake.Mock) // answers if called, which it must not be
	if !ex.call(t, h.client) {
		return
	}
	h.lb.checkNoPanics(t)
	if n := len(callsTo(&h.fake.Mock, m.Name)); n != 0 {
		t.Errorf("the client called the plugin's %s %d times, want 0", m.Name, n)
	}
	ex.checkFallback(t, m.Name, fb, "not_implemented")
}

// hookUnimplementedStatus: Implemented lists every hook (the list is
// stale), but the plugin answers the hook's RPC with status UNIMPLEMENTED;
// design/hook-policy.md counts that as not implemented too. For Implemented
// itself, Implemented answers UNIMPLEMENTED.
func hookUnimplementedStatus(t *testing.T, m reflect.Method, fb fallback) {
	ex := newHookExchange(newFiller(t), m, modeFilled)
	stub := &unimplementedHooks{names: allHooks()}
	if m.Name == "Implemented" {
		stub.names = nil
	}
	lb := newLoopback(t, func(r grpc.ServiceRegistrar) { pluginpb.RegisterPluginHooksServer(r, stub) })
	client := newHooksClient(lb.conn, &errorLog{})
	if !ex.call(t, client) {
		return
	}
	lb.checkNoPanics(t)
	ex.checkFallback(t, m.Name, fb, "not_implemented")
}

// primeHook returns a hook other than name, to call before stopping the
// server so that the client has the plugin's Implemented list.
func primeHook(name string) string {
	if name == "OnWebSocketConnect" {
		return "OnWebSocketDisconnect"
	}
	return "OnWebSocketConnect"
}

// hookStoppedServer: the client got the Implemented list, then the server
// stopped; the client must answer the unavailable fallback and report the
// failure through OnError.
func hookStoppedServer(t *testing.T, m reflect.Method, fb fallback) {
	ex := newHookExchange(newFiller(t), m, modeFilled)
	h := newHooksHarness(t, allHooks())
	ex.program(&h.fake.Mock)
	if m.Name != "Implemented" {
		prime := primeHook(m.Name)
		h.fake.On(prime, mock.Anything, mock.Anything).Return()
		reflect.ValueOf(h.client).MethodByName(prime).Call([]reflect.Value{reflect.ValueOf("conn"), reflect.ValueOf("user")})
		if n := len(callsTo(&h.fake.Mock, prime)); n != 1 {
			t.Fatalf("priming the client with %s: the fake got %d calls, want 1 (failures: %q)", prime, n, h.log.list())
		}
	}
	h.lb.srv.Stop()
	if !ex.call(t, h.client) {
		return
	}
	h.lb.checkNoPanics(t)
	if n := len(callsTo(&h.fake.Mock, m.Name)); m.Name != "Implemented" && n != 0 {
		t.Errorf("the fake got %d calls of %s after the server stopped", n, m.Name)
	}
	ex.checkFallback(t, m.Name, fb, "unavailable")
	if !h.log.reported(m.Name) {
		t.Errorf("OnError was not told of the failed %s call (it was told: %q)", m.Name, h.log.list())
	}
}

// hookClosedServer: nothing listens at the client's address from the
// start, so neither Implemented nor the hook gets an answer: that is a
// transport failure (design/hook-policy.md: "a lost connection or a dead
// plugin process"), and the client must answer the unavailable fallback.
func hookClosedServer(t *testing.T, m reflect.Method, fb fallback) {
	ex := newHookExchange(newFiller(t), m, modeFilled)
	conn := dial(t, closedAddr(t))
	t.Cleanup(func() { conn.Close() })
	log := &errorLog{}
	client := newHooksClient(conn, log)
	if !ex.call(t, client) {
		return
	}
	ex.checkFallback(t, m.Name, fb, "unavailable")
	if len(log.list()) == 0 {
		t.Errorf("OnError was told of no failure")
	}
}
