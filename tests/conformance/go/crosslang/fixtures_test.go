package crosslang

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
	"github.com/stretchr/testify/mock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"mmbindgen.dev/conformance/roundtrip"
	"mmbindgen.dev/generated/go/bridge"
)

var (
	apiType   = reflect.TypeFor[plugin.API]()
	hooksType = reflect.TypeFor[plugin.Hooks]()
)

// The counts of the pinned module, asserted by the tests.
const (
	apiMethods  = 258
	hookMethods = 52
)

// --- The fixture file the Python plugin reads ($XLANG_FIXTURES). ---

type fixtureFile struct {
	// API has the filled cases, APIZero the zero ones (nil pointers...).
	API     map[string]*apiFixture   `json:"api"`
	APIZero map[string]*apiFixture   `json:"api_zero"`
	Hooks   map[string]*hookFixture  `json:"hooks"`
	Errors  map[string]*errorFixture `json:"errors"`
}

// apiFixture is one API method: the messages of a Go-to-Go call (streams
// merged into one message) and the Go signature.
type apiFixture struct {
	RequestType  string    `json:"request_type"`
	ResponseType string    `json:"response_type"`
	Params       []goValue `json:"params"`  // in Go order, outputs included
	Results      []goValue `json:"results"` // every result, the error included
	Request      []byte    `json:"request"`
	Response     []byte    `json:"response"`
}

// hookFixture is one hook: its signature and the messages of each case.
type hookFixture struct {
	RequestType  string                  `json:"request_type"`
	ResponseType string                  `json:"response_type"`
	Params       []goValue               `json:"params"`
	Results      []goValue               `json:"results"`
	Cases        map[string]*messagePair `json:"cases"`
}

type messagePair struct {
	Request  []byte `json:"request"`
	Response []byte `json:"response"`
}

// errorFixture is a failing API call and the exception Python must see.
// Nil fields are not checked.
type errorFixture struct {
	Method  string   `json:"method"` // Go name
	Args    []string `json:"args"`
	Timeout float64  `json:"timeout,omitempty"`
	// Token: "" the plugin's client; "none" a client without token;
	// "wrong" a client with another token.
	Token string `json:"token"`
	// Address, when set, is where the client connects instead of the API.
	Address       string         `json:"address,omitempty"`
	Class         string         `json:"class"`
	ID            *string        `json:"id"`
	Message       *string        `json:"message"`
	MessagePrefix *string        `json:"message_prefix"`
	DetailedError *string        `json:"detailed_error"`
	RequestID     *string        `json:"request_id"`
	StatusCode    int            `json:"status_code"`
	Where         *string        `json:"where"`
	Params        map[string]any `json:"params"`
	GRPCCode      *string        `json:"grpc_code"` // "" means None
	// refused: the call must not reach the Go API.
	refused bool
}

func ptr[T any](v T) *T { return &v }

// --- The suite: every case, its Go values and its fixture. ---

type suite struct {
	api     map[string]*apiCase
	apiZero map[string]*apiCase
	hooks   map[string][]*hookCase
	file    fixtureFile
}

// apiCase is one API method.
type apiCase struct {
	inv  *invocation // nil for PluginHTTP
	http *pluginHTTP
	err  error // the fixture could not be made
}

func (c *apiCase) callCount() int {
	if c.http != nil {
		return c.http.callCount()
	}
	return c.inv.callCount()
}

// hookCase is one case of a hook: the Go arguments and the results the
// hooks client must return (the fixture fake's answer).
type hookCase struct {
	hook string
	name string
	inv  *invocation // generic hooks
	web  *webCase    // ServeHTTP, ServeMetrics
	up   *uploadCase // FileWillBeUploaded
	err  error
}

func (s *suite) write(path string) error {
	data, err := json.Marshal(&s.file)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func buildSuite() (*suite, error) {
	pm, err := loadModel()
	if err != nil {
		return nil, err
	}
	s := &suite{
		hooks: map[string][]*hookCase{},
		file:  fixtureFile{Hooks: map[string]*hookFixture{}},
	}
	if s.api, s.file.API, err = buildAPI(pm["plugin.API"], live, false); err != nil {
		return nil, err
	}
	if s.apiZero, s.file.APIZero, err = buildAPI(pm["plugin.API"], liveZero, true); err != nil {
		return nil, err
	}
	if err := s.buildHooks(pm["plugin.Hooks"]); err != nil {
		return nil, err
	}
	s.file.Errors = errorFixtures()
	return s, nil
}

// buildAPI makes the API cases (filled, or zero), programs the live fake
// with them, and records their fixtures through a Go APIClient and
// APIServer.
func buildAPI(methods map[string]*protoMethod, liveFake *liveAPI, zero bool) (map[string]*apiCase, map[string]*apiFixture, error) {
	fake := &plugintest.API{}
	cases := map[string]*apiCase{}
	fixtures := map[string]*apiFixture{}
	for i := range apiType.NumMethod() {
		m := apiType.Method(i)
		f := roundtrip.NewFiller(roundtrip.Seed("TestAPI/" + m.Name))
		c := &apiCase{}
		if m.Name == "PluginHTTP" {
			c.http = newPluginHTTP(f, zero)
			c.http.program(&fake.Mock)
			c.http.program(&liveFake.Mock)
		} else {
			c.inv = newInvocation(f, m.Name, m.Type, zero)
			c.inv.program(&fake.Mock)
			c.inv.program(&liveFake.Mock)
		}
		cases[m.Name] = c
	}
	capt, conn, stop, err := newCaptureServer(func(r grpc.ServiceRegistrar) { bridge.NewAPIServer(fake).Register(r) })
	if err != nil {
		return nil, nil, err
	}
	defer stop()
	client := bridge.NewAPIClient(conn)
	client.Timeout = 20 * time.Second
	for name, c := range cases {
		pm := methods[name]
		if pm == nil {
			return nil, nil, fmt.Errorf("plugin.API.%s: no RPC in the proto model", name)
		}
		fx := &apiFixture{RequestType: pm.Request, ResponseType: pm.Response, Params: pm.Go.Params, Results: pm.Go.Results}
		fixtures[name] = fx
		c.err = recordAPI(c, client, capt, pm, fx)
	}
	return cases, fixtures, nil
}

func recordAPI(c *apiCase, client *bridge.APIClient, capt *capture, pm *protoMethod, fx *apiFixture) error {
	var problems []string
	if c.http != nil {
		resp := client.PluginHTTP(c.http.req.build())
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != c.http.ans.status || !bytes.Equal(body, c.http.ans.body) {
			problems = append(problems, fmt.Sprintf("Go to Go: status %d, %d body bytes (%v)", resp.StatusCode, len(body), err))
		}
	} else {
		args := c.inv.callArgs()
		m := reflect.ValueOf(client).MethodByName(c.inv.name)
		var out []reflect.Value
		if c.inv.mt.IsVariadic() {
			out = m.CallSlice(args)
		} else {
			out = m.Call(args)
		}
		for k := range c.inv.results {
			if d := roundtrip.Diff(c.inv.results[k], out[k]); len(d) > 0 {
				problems = append(problems, fmt.Sprintf("Go to Go: result %d: %v", k, d))
			}
		}
	}
	rec, err := capt.take("/mattermost.plugin.v1.PluginAPI/" + pm.Name)
	if err != nil {
		return err
	}
	if fx.Request, fx.Response, err = rec.encode(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("the fixture is wrong already: %v", problems)
	}
	return nil
}

// --- Hooks. ---

// hookCaseNames lists the cases of a hook (see hooks_test.go).
func hookCaseNames(name string, pm *protoMethod, mt reflect.Type) []string {
	switch {
	case name == "Implemented":
		return []string{"list"}
	case name == "ServeHTTP" || name == "ServeMetrics":
		return []string{"filled"}
	case name == "FileWillBeUploaded":
		return []string{"replace", "info_only", "reject", "allow"}
	case pm.gate():
		if mt.NumOut() > 1 {
			return []string{"replace", "reject", "allow"}
		}
		return []string{"reject", "allow"}
	}
	if (&invocation{mt: mt}).errIndex() >= 0 {
		return []string{"filled", "app_error"}
	}
	return []string{"filled"}
}

// fullAppError returns an AppError with every compared field set, params
// included.
func fullAppError() *model.AppError {
	e := model.NewAppError("CrossLang.Where", "crosslang.test.app_error", map[string]any{
		"Name":   "name é",
		"Count":  3,
		"Nested": map[string]any{"list": []any{"x", 1.5, true, nil}},
	}, "detailed error text", 418)
	e.Message = "message for the user"
	e.RequestId = "request-id-1"
	return e
}

// newHookCase fills the arguments of a hook and sets the results of case.
func newHookCase(hook, name string, mt reflect.Type) *hookCase {
	f := roundtrip.NewFiller(roundtrip.Seed("TestHooks/" + hook + "/" + name))
	hc := &hookCase{hook: hook, name: name}
	switch hook {
	case "ServeHTTP", "ServeMetrics":
		hc.web = newWebCase(f, hook)
		return hc
	case "FileWillBeUploaded":
		hc.up = newUploadCase(f, name)
		return hc
	}
	inv := newInvocation(f, hook, mt, false)
	hc.inv = inv
	zero := func(k int) { inv.results[k] = reflect.New(mt.Out(k)).Elem() }
	reason := -1
	for k := range mt.NumOut() {
		if mt.Out(k).Kind() == reflect.String {
			reason = k
		}
	}
	switch name {
	case "replace":
		inv.results[reason] = reflect.ValueOf("")
	case "reject":
		for k := range mt.NumOut() {
			zero(k)
		}
		inv.results[reason] = reflect.ValueOf("rejected: " + f.String())
	case "allow":
		for k := range mt.NumOut() {
			zero(k)
		}
	case "app_error":
		for k := range mt.NumOut() {
			zero(k)
		}
		e := inv.errIndex()
		inv.results[e] = reflect.New(mt.Out(e)).Elem()
		inv.results[e].Set(reflect.ValueOf(fullAppError()))
	case "list":
		names := allHooks()
		sort.Strings(names)
		inv.results = []reflect.Value{reflect.ValueOf(names), reflect.New(errorType).Elem()}
	}
	return hc
}

// buildHooks makes the hook cases and records their fixtures through a Go
// HooksClient and HooksServer (a fresh pair per case).
func (s *suite) buildHooks(methods map[string]*protoMethod) error {
	for i := range hooksType.NumMethod() {
		m := hooksType.Method(i)
		pm := methods[m.Name]
		if pm == nil || pm.Hook == nil {
			return fmt.Errorf("plugin.Hooks.%s: no RPC with hook options in the proto model", m.Name)
		}
		fx := &hookFixture{RequestType: pm.Request, ResponseType: pm.Response, Params: pm.Go.Params, Results: pm.Go.Results, Cases: map[string]*messagePair{}}
		s.file.Hooks[m.Name] = fx
		for _, name := range hookCaseNames(m.Name, pm, m.Type) {
			hc := newHookCase(m.Name, name, m.Type)
			s.hooks[m.Name] = append(s.hooks[m.Name], hc)
			if m.Name == "Implemented" {
				continue // the SDK answers it; nothing to record
			}
			pair, err := recordHook(hc, pm)
			if err != nil {
				hc.err = err
			}
			fx.Cases[name] = pair
		}
	}
	return nil
}

func recordHook(hc *hookCase, pm *protoMethod) (*messagePair, error) {
	fake := &plugintest.Hooks{}
	fake.On("Implemented").Return(allHooks(), nil)
	switch {
	case hc.web != nil:
		hc.web.program(&fake.Mock)
	case hc.up != nil:
		hc.up.program(&fake.Mock)
	default:
		hc.inv.program(&fake.Mock)
	}
	capt, conn, stop, err := newCaptureServer(func(r grpc.ServiceRegistrar) { bridge.NewHooksServer(fake).Register(r) })
	if err != nil {
		return nil, err
	}
	defer stop()
	client := bridge.NewHooksClient(conn)
	client.Timeout = 20 * time.Second
	var problems []string
	client.OnError = func(method string, err error) { problems = append(problems, method+": "+err.Error()) }
	switch {
	case hc.web != nil:
		rec := httptest.NewRecorder()
		reflect.ValueOf(client).MethodByName(hc.hook).Call([]reflect.Value{reflect.ValueOf(hc.web.ctx), reflect.ValueOf(rec), reflect.ValueOf(hc.web.req.build())})
		if rec.Code != hc.web.ans.status || !bytes.Equal(rec.Body.Bytes(), hc.web.ans.body) {
			problems = append(problems, fmt.Sprintf("Go to Go: status %d, %d body bytes", rec.Code, rec.Body.Len()))
		}
	case hc.up != nil:
		var out bytes.Buffer
		info, reason := client.FileWillBeUploaded(hc.up.ctx, hc.up.info, bytes.NewReader(hc.up.content), &out)
		problems = append(problems, hc.up.diff(info, reason, out.Bytes())...)
	default:
		m := reflect.ValueOf(client).MethodByName(hc.hook)
		out := m.Call(hc.inv.callArgs())
		for k := range hc.inv.results {
			if d := roundtrip.Diff(hc.inv.results[k], out[k]); len(d) > 0 {
				problems = append(problems, fmt.Sprintf("Go to Go: result %d: %v", k, d))
			}
		}
	}
	rec, err := capt.take("/mattermost.plugin.v1.PluginHooks/" + pm.Name)
	if err != nil {
		return nil, err
	}
	pair := &messagePair{}
	if pair.Request, pair.Response, err = rec.encode(); err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return pair, fmt.Errorf("the fixture is wrong already: %v", problems)
	}
	return pair, nil
}

// webCase is ServeHTTP or ServeMetrics: a POST with headers and a body of
// more than two chunks, answered 201 with headers and a body of more than
// one chunk.
type webCase struct {
	hook string
	ctx  *plugin.Context
	req  sentRequest
	ans  answer
}

func newWebCase(f *roundtrip.Filler, hook string) *webCase {
	return &webCase{
		hook: hook,
		ctx:  f.Value(reflect.TypeFor[*plugin.Context]()).Interface().(*plugin.Context),
		req:  newSentRequest(f, "/plugins/com.mattermost.crosslang/api/v1/items", streamSize),
		ans:  newAnswer(f, 64<<10+4321),
	}
}

func (x *webCase) program(fake *mock.Mock) {
	fake.On(x.hook, mock.Anything, mock.Anything, mock.Anything).Run(func(a mock.Arguments) {
		_, _ = io.Copy(io.Discard, a.Get(2).(*http.Request).Body)
		x.ans.write(a.Get(1).(http.ResponseWriter))
	})
}

// uploadCase is FileWillBeUploaded: a file of more than two chunks, and
// the answer of the case.
type uploadCase struct {
	ctx         *plugin.Context
	info        *model.FileInfo
	content     []byte
	output      []byte // the replacement content, or nil
	replacement *model.FileInfo
	reason      string
}

func newUploadCase(f *roundtrip.Filler, name string) *uploadCase {
	x := &uploadCase{
		ctx:     f.Value(reflect.TypeFor[*plugin.Context]()).Interface().(*plugin.Context),
		info:    f.Value(reflect.TypeFor[*model.FileInfo]()).Interface().(*model.FileInfo),
		content: f.Bytes(streamSize),
	}
	switch name {
	case "replace":
		x.output = f.Bytes(streamSize + 777)
		x.replacement = f.Value(reflect.TypeFor[*model.FileInfo]()).Interface().(*model.FileInfo)
	case "info_only":
		x.replacement = f.Value(reflect.TypeFor[*model.FileInfo]()).Interface().(*model.FileInfo)
	case "reject":
		x.reason = "rejected: " + f.String()
	}
	return x
}

func (x *uploadCase) program(fake *mock.Mock) {
	fake.On("FileWillBeUploaded", mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(x.replacement, x.reason).
		Run(func(a mock.Arguments) {
			_, _ = io.Copy(io.Discard, a.Get(2).(io.Reader))
			if x.output != nil {
				_, _ = a.Get(3).(io.Writer).Write(x.output)
			}
		})
}

// diff compares what the hooks client returned and wrote with the case.
func (x *uploadCase) diff(info *model.FileInfo, reason string, written []byte) []string {
	out := roundtrip.DiffValues(x.replacement, info)
	if reason != x.reason {
		out = append(out, fmt.Sprintf("rejection reason %q, want %q", reason, x.reason))
	}
	if !bytes.Equal(written, x.output) {
		out = append(out, fmt.Sprintf("%d bytes written, want %d", len(written), len(x.output)))
	}
	return out
}

// --- Capturing the messages of a Go-to-Go call. ---

// capture records the messages of every call a server handles, by method.
type capture struct {
	mu  sync.Mutex
	got map[string]chan captured
}

type captured struct {
	reqs, resps []proto.Message
}

func (c *capture) ch(method string) chan captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got[method] == nil {
		c.got[method] = make(chan captured, 8)
	}
	return c.got[method]
}

// take returns the messages of the next call of method.
func (c *capture) take(method string) (captured, error) {
	select {
	case rec := <-c.ch(method):
		return rec, nil
	case <-time.After(10 * time.Second):
		return captured{}, fmt.Errorf("%s: no call captured", method)
	}
}

func (c *capture) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	rec := captured{reqs: []proto.Message{proto.Clone(req.(proto.Message))}}
	if m, ok := resp.(proto.Message); ok && err == nil && !reflect.ValueOf(m).IsNil() {
		rec.resps = []proto.Message{proto.Clone(m)}
	}
	c.ch(info.FullMethod) <- rec
	return resp, err
}

func (c *capture) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	w := &capStream{ServerStream: ss}
	err := handler(srv, w)
	c.ch(info.FullMethod) <- captured{reqs: w.reqs, resps: w.resps}
	return err
}

type capStream struct {
	grpc.ServerStream
	reqs, resps []proto.Message
}

func (s *capStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.reqs = append(s.reqs, proto.Clone(m.(proto.Message)))
	}
	return err
}

func (s *capStream) SendMsg(m any) error {
	s.resps = append(s.resps, proto.Clone(m.(proto.Message)))
	return s.ServerStream.SendMsg(m)
}

// encode merges the request and the response messages (see merge) and
// marshals them deterministically.
func (c captured) encode() (req, resp []byte, err error) {
	if len(c.reqs) == 0 || len(c.resps) == 0 {
		return nil, nil, errors.New("the call has no request or no response")
	}
	opts := proto.MarshalOptions{Deterministic: true}
	if req, err = opts.Marshal(merge(c.reqs)); err != nil {
		return nil, nil, err
	}
	resp, err = opts.Marshal(merge(c.resps))
	return req, resp, err
}

// merge folds the messages of a stream into one: bytes fields are
// concatenated (the chunks of a body or file), nested messages merged the
// same way, lists appended, other fields set by the last message having
// them.
func merge(msgs []proto.Message) proto.Message {
	out := proto.Clone(msgs[0])
	for _, m := range msgs[1:] {
		mergeConcat(out.ProtoReflect(), m.ProtoReflect())
	}
	return out
}

func mergeConcat(dst, src protoreflect.Message) {
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := dst.Mutable(fd).List()
			for i := range v.List().Len() {
				l.Append(v.List().Get(i))
			}
		case fd.IsMap():
			mm := dst.Mutable(fd).Map()
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				mm.Set(k, mv)
				return true
			})
		case fd.Kind() == protoreflect.BytesKind:
			dst.Set(fd, protoreflect.ValueOfBytes(append(slices.Clone(dst.Get(fd).Bytes()), v.Bytes()...)))
		case fd.Kind() == protoreflect.MessageKind:
			mergeConcat(dst.Mutable(fd).Message(), v.Message())
		default:
			dst.Set(fd, v)
		}
		return true
	})
}

// newCaptureServer serves what register adds on loopback with the bridge's
// server options and the capturing interceptors, and dials it.
func newCaptureServer(register func(grpc.ServiceRegistrar)) (*capture, *grpc.ClientConn, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, err
	}
	c := &capture{got: map[string]chan captured{}}
	srv := grpc.NewServer(append(bridge.ServerOptions(),
		grpc.ChainUnaryInterceptor(c.unary),
		grpc.ChainStreamInterceptor(c.stream),
	)...)
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), append(bridge.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		srv.Stop()
		return nil, nil, nil, err
	}
	return c, conn, func() { conn.Close(); srv.Stop() }, nil
}
