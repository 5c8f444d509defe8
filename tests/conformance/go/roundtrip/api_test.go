package roundtrip

import (
	"reflect"
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"google.golang.org/grpc"

	"mmbindgen.dev/generated/go/bridge"
)

// apiMethods is the number of methods of plugin.API in the pinned module.
const apiMethods = 258

var apiType = reflect.TypeFor[plugin.API]()

type apiHarness struct {
	fake   *plugintest.API
	client *bridge.APIClient
	lb     *loopback
	log    *errorLog
}

// newAPIHarness serves plugintest.API through bridge.APIServer on loopback
// and returns a bridge.APIClient of it.
func newAPIHarness(t testing.TB) *apiHarness {
	h := &apiHarness{fake: &plugintest.API{}, log: &errorLog{}}
	h.lb = newLoopback(t, func(r grpc.ServiceRegistrar) { bridge.NewAPIServer(h.fake).Register(r) })
	h.client = bridge.NewAPIClient(h.lb.conn)
	h.client.Timeout = callTimeout
	h.client.OnError = h.log.onError
	return h
}

// apiModes lists the round-trip subtests of a method.
func apiModes(mt reflect.Type) []mode {
	modes := []mode{modeFilled, modeZero}
	if isErr, isPlain := lastResultIsError(mt); isErr {
		modes = append(modes, modeAppError)
		if isPlain {
			modes = append(modes, modePlainError)
		}
	}
	return modes
}

func TestAPIRoundTrip(t *testing.T) {
	if _, err := LoadProtoModel(); err != nil {
		t.Fatal(err) // the equality rules need the skipped fields
	}
	if n := apiType.NumMethod(); n != apiMethods {
		t.Errorf("plugin.API has %d methods, want %d", n, apiMethods)
	}
	for i := range apiType.NumMethod() {
		m := apiType.Method(i)
		t.Run(m.Name, func(t *testing.T) {
			for _, md := range apiModes(m.Type) {
				t.Run(string(md), func(t *testing.T) {
					seed := Seed(t.Name())
					t.Cleanup(func() {
						if t.Failed() {
							t.Logf("seed %d", seed)
						}
					})
					f := NewFiller(seed)
					var ex exchange
					if m.Name == "PluginHTTP" {
						ex = newPluginHTTPExchange(f, md)
					} else {
						ex = newInvocation(f, m.Name, m.Type, md)
					}
					h := newAPIHarness(t)
					ex.program(&h.fake.Mock)
					if !ex.call(t, h.client) {
						return
					}
					h.lb.checkNoPanics(t)
					ex.checkRoundTrip(t, &h.fake.Mock)
					if errs := h.log.list(); len(errs) > 0 {
						t.Errorf("the client reported failures: %q", errs)
					}
				})
			}
		})
	}
}
