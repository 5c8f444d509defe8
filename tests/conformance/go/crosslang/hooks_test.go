package crosslang

import (
	"bytes"
	"net/http/httptest"
	"reflect"
	"testing"

	"mmbindgen.dev/generated/go/bridge"
)

// TestHooks: every hook of plugin.Hooks, called through the hooks client
// the launcher returns, with the filled arguments of each case. The Python
// handler compares what it received with the fixture's request and answers
// the fixture's response (a replacement, Reject, a raised PluginAPIError,
// a FileReplacement...); Go compares the results with the case's. Cases:
//
//   - filled: the hook's results (observers: none);
//   - app_error (hooks with an error result): the handler raises the
//     fixture's AppError as a PluginAPIError, which must come back with
//     every field;
//   - replace, reject, allow (gates): a replacement, Reject(reason), None;
//   - info_only (FileWillBeUploaded): a FileInfo without new content;
//   - list (Implemented): the hooks the plugin overrides.
//
// Before each case "/case <Hook> <case>" tells the plugin which fixture to
// expect; after it "/report <Hook>" returns what the handler found wrong
// (or that it was not called).
func TestHooks(t *testing.T) {
	s := getSuite(t)
	p := getProc(t, modeFull)
	if n := hooksType.NumMethod(); n != hookMethods {
		t.Errorf("plugin.Hooks has %d methods, want %d", n, hookMethods)
	}
	for i := range hooksType.NumMethod() {
		name := hooksType.Method(i).Name
		t.Run(name, func(t *testing.T) {
			for _, hc := range s.hooks[name] {
				t.Run(hc.name, func(t *testing.T) {
					if hc.err != nil {
						t.Fatalf("fixture: %v", hc.err)
					}
					n := p.errs.count()
					if name != "Implemented" {
						p.expectOK(t, "/case "+name+" "+hc.name)
					}
					hc.run(t, p.hooks())
					if name != "Implemented" {
						p.expectOK(t, "/report "+name)
					}
					if errs := p.errs.since(n); len(errs) > 0 {
						t.Errorf("the hooks client reported failures: %q", errs)
					}
				})
			}
		})
	}
}

// run calls the hook of the case and checks the results.
func (hc *hookCase) run(t *testing.T, client *bridge.HooksClient) {
	t.Helper()
	switch {
	case hc.web != nil:
		rec := httptest.NewRecorder()
		m := reflect.ValueOf(client).MethodByName(hc.hook)
		_, ok := callSafely(t, func() []reflect.Value {
			return m.Call([]reflect.Value{reflect.ValueOf(hc.web.ctx), reflect.ValueOf(rec), reflect.ValueOf(hc.web.req.build())})
		})
		if ok {
			hc.web.ans.compare(t, rec.Code, rec.Header(), rec.Body.Bytes())
		}
	case hc.up != nil:
		var out bytes.Buffer
		info, reason := client.FileWillBeUploaded(hc.up.ctx, hc.up.info, bytes.NewReader(hc.up.content), &out)
		for _, d := range hc.up.diff(info, reason, out.Bytes()) {
			t.Error(d)
		}
	default:
		if out, ok := hc.inv.call(t, client); ok {
			hc.inv.checkResults(t, out)
		}
	}
}
