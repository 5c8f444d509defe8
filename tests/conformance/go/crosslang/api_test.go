package crosslang

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin/plugintest"
)

// The arguments with which the live API behaves specially (every other
// call answers the method's filled results).
const (
	errUserPrefix  = "xlang-status-"       // GetUser: an AppError with the status that follows
	plainErrUpload = "xlang-plain-error"   // GetUploadSession: errors.New(plainErrText)
	plainErrText   = "a plain Go error é"  //
	slowTeam       = "xlang-slow"          // GetTeam: answers after slowAPICall
	unauthUser     = "xlang-no-token-call" // GetUser: must never arrive
	kvMissing      = "xlang-missing"       // KVGet: nil
	kvEmpty        = "xlang-empty"         // KVGet: []byte{}
	kvSetNil       = "xlang-set-nil"       // KVSet: recorded
	kvSetEmpty     = "xlang-set-empty"     // KVSet: recorded
	slowAPICall    = time.Second
	apiCallTimeout = 0.2 // seconds: the Python timeout of the call to slowTeam
)

// errorStatuses are the AppError status codes of TestAPIErrors and the
// PluginAPIError subclass each maps to (design/python.md, errors.py).
var errorStatuses = []struct {
	status int
	class  string
}{
	{400, "ValidationError"},
	{401, "UnauthorizedError"},
	{403, "PermissionDeniedError"},
	{404, "NotFoundError"},
	{409, "ConflictError"},
	{413, "PayloadTooLargeError"},
	{418, "InternalError"}, // no class of its own
	{429, "RateLimitedError"},
	{500, "InternalError"},
	{501, "UnsupportedError"},
	{502, "UnavailableError"},
	{503, "UnavailableError"},
	{504, "DeadlineExceededError"},
}

// liveAPI is the plugin.API the plugin processes call: the filled answers
// of every method (programmed on the embedded mock by buildSuite), and the
// special arguments above.
type liveAPI struct {
	*plugintest.API

	mu      sync.Mutex
	special map[string]int    // calls with a special argument
	kvSets  map[string][]byte // the values KVSet got for the special keys
	kvSeen  map[string]bool
}

func newLiveAPI() *liveAPI {
	return &liveAPI{API: &plugintest.API{}, special: map[string]int{}, kvSets: map[string][]byte{}, kvSeen: map[string]bool{}}
}

func (a *liveAPI) count(arg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.special[arg]++
}

func (a *liveAPI) calls(arg string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.special[arg]
}

// statusAppError is the AppError of GetUser(errUserPrefix+status).
func statusAppError(status int) *model.AppError {
	e := model.NewAppError("CrossLang.GetUser", fmt.Sprintf("crosslang.status_%d", status), map[string]any{
		"Status": status,
		"Name":   "name é",
		"Nested": map[string]any{"list": []any{"x", 1.5, true, nil}},
	}, fmt.Sprintf("detailed error of status %d", status), status)
	e.Message = fmt.Sprintf("message of status %d", status)
	e.RequestId = fmt.Sprintf("request-%d", status)
	return e
}

func (a *liveAPI) GetUser(userID string) (*model.User, *model.AppError) {
	if s, ok := strings.CutPrefix(userID, errUserPrefix); ok {
		a.count(userID)
		status, _ := strconv.Atoi(s)
		return nil, statusAppError(status)
	}
	if userID == unauthUser {
		a.count(userID)
	}
	return a.API.GetUser(userID)
}

func (a *liveAPI) GetUploadSession(uploadID string) (*model.UploadSession, error) {
	if uploadID == plainErrUpload {
		a.count(uploadID)
		return nil, errors.New(plainErrText)
	}
	return a.API.GetUploadSession(uploadID)
}

func (a *liveAPI) GetTeam(teamID string) (*model.Team, *model.AppError) {
	if teamID == slowTeam {
		a.count(teamID)
		time.Sleep(slowAPICall)
		return &model.Team{Id: "too-late"}, nil
	}
	return a.API.GetTeam(teamID)
}

func (a *liveAPI) KVGet(key string) ([]byte, *model.AppError) {
	switch key {
	case kvMissing:
		a.count(key)
		return nil, nil
	case kvEmpty:
		a.count(key)
		return []byte{}, nil
	}
	return a.API.KVGet(key)
}

func (a *liveAPI) KVSet(key string, value []byte) *model.AppError {
	if key == kvSetNil || key == kvSetEmpty {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.kvSets[key] = value
		a.kvSeen[key] = true
		return nil
	}
	return a.API.KVSet(key, value)
}

// errorFixtures are the cases of TestAPIErrors.
func errorFixtures() map[string]*errorFixture {
	out := map[string]*errorFixture{}
	for _, s := range errorStatuses {
		e := statusAppError(s.status)
		out[fmt.Sprintf("status_%d", s.status)] = &errorFixture{
			Method: "GetUser", Args: []string{errUserPrefix + strconv.Itoa(s.status)},
			Class: s.class, ID: ptr(e.Id), Message: ptr(e.Message), DetailedError: ptr(e.DetailedError),
			RequestID: ptr(e.RequestId), StatusCode: s.status, Where: ptr(e.Where),
			Params:   map[string]any{"Status": s.status, "Name": "name é", "Nested": map[string]any{"list": []any{"x", 1.5, true, nil}}},
			GRPCCode: ptr(""),
		}
	}
	// A plain Go error crosses as an AppError with its text only.
	out["plain_error"] = &errorFixture{
		Method: "GetUploadSession", Args: []string{plainErrUpload},
		Class: "InternalError", ID: ptr(""), Message: ptr(plainErrText), DetailedError: ptr(""),
		RequestID: ptr(""), StatusCode: 0, Where: ptr(""), Params: map[string]any{}, GRPCCode: ptr(""),
	}
	transport := func(method, code string, status int, class string) *errorFixture {
		return &errorFixture{
			Method: method, Class: class, StatusCode: status,
			ID:            ptr("plugin.python.transport." + strings.ToLower(code)),
			MessagePrefix: ptr(method + ": the call failed with gRPC status " + code),
			Where:         ptr(method), GRPCCode: ptr(code), Params: map[string]any{},
		}
	}
	out["deadline"] = transport("GetTeam", "DEADLINE_EXCEEDED", 504, "DeadlineExceededError")
	out["deadline"].Args = []string{slowTeam}
	out["deadline"].Timeout = apiCallTimeout
	out["no_token"] = transport("GetUser", "UNAUTHENTICATED", 401, "UnauthorizedError")
	out["no_token"].Args = []string{unauthUser}
	out["no_token"].Token = "none"
	out["no_token"].refused = true
	out["wrong_token"] = transport("GetUser", "UNAUTHENTICATED", 401, "UnauthorizedError")
	out["wrong_token"].Args = []string{unauthUser}
	out["wrong_token"].Token = "wrong"
	out["wrong_token"].refused = true
	out["unreachable"] = transport("GetUser", "UNAVAILABLE", 503, "UnavailableError")
	out["unreachable"].Args = []string{unauthUser}
	out["unreachable"].Address = closedAddr()
	out["unreachable"].refused = true
	return out
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr() string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// TestAPI: every method of plugin.API, called by the Python plugin through
// the generated client (PluginAPI: sync, AsyncPluginAPI: async) with the
// arguments of its fixture; Python compares the result with the fixture's
// response, Go compares the arguments the API got with the Go ones. Filled
// values go through the full process, zero values (nil pointers, slices
// and maps: None and empty values in Python) through the zero process.
func TestAPI(t *testing.T) {
	s := getSuite(t)
	full := getProc(t, modeFull)
	zero := getProc(t, modeZero)
	if n := apiType.NumMethod(); n != apiMethods {
		t.Errorf("plugin.API has %d methods, want %d", n, apiMethods)
	}
	for i := range apiType.NumMethod() {
		name := apiType.Method(i).Name
		t.Run(name, func(t *testing.T) {
			for _, sub := range []struct {
				name, client string
				p            *proc
				c            *apiCase
			}{
				{"sync", "sync", full, s.api[name]},
				{"async", "async", full, s.api[name]},
				{"zero_sync", "sync", zero, s.apiZero[name]},
				{"zero_async", "async", zero, s.apiZero[name]},
			} {
				t.Run(sub.name, func(t *testing.T) {
					p, c, client := sub.p, sub.c, sub.client
					if c.err != nil {
						t.Fatalf("fixture: %v", c.err)
					}
					n := c.callCount()
					p.expectOK(t, "/api "+name+" "+client)
					if c.http != nil {
						c.http.checkCallAfter(t, n)
						return
					}
					if rec := c.inv.callAfter(t, n); rec != nil {
						c.inv.checkReceived(t, rec)
					}
				})
			}
		})
	}
}

// TestAPIErrors: AppErrors of every status class, a plain Go error, and
// transport failures (a deadline against a slow API, calls without or with
// a wrong token, an unreachable server) raise the PluginAPIError subclass
// they map to, every field kept.
func TestAPIErrors(t *testing.T) {
	s := getSuite(t)
	p := getProc(t, modeFull)
	for _, name := range sortedKeys(s.file.Errors) {
		fx := s.file.Errors[name]
		t.Run(name, func(t *testing.T) {
			for _, client := range []string{"sync", "async"} {
				t.Run(client, func(t *testing.T) {
					arg := fx.Args[0]
					before := live.calls(arg)
					p.expectOK(t, "/apierr "+name+" "+client)
					got := live.calls(arg) - before
					want := 1
					if fx.refused {
						want = 0
					}
					if got != want {
						t.Errorf("the Go API got %d calls with %q, want %d", got, arg, want)
					}
				})
			}
		})
	}
}

// TestAPINilAndEmpty: an optional bytes value keeps nil and empty apart in
// both directions (KVGet of a missing key is None, of an empty value b"";
// KVSet of None is nil, of b"" an empty slice).
func TestAPINilAndEmpty(t *testing.T) {
	p := getProc(t, modeFull)
	for _, client := range []string{"sync", "async"} {
		t.Run(client, func(t *testing.T) {
			live.mu.Lock()
			clear(live.kvSets)
			clear(live.kvSeen)
			live.mu.Unlock()
			p.expectOK(t, "/kv "+client)
			live.mu.Lock()
			defer live.mu.Unlock()
			if !live.kvSeen[kvSetNil] || live.kvSets[kvSetNil] != nil {
				t.Errorf("KVSet(%q, None): the Go API got %#v (seen %v), want nil", kvSetNil, live.kvSets[kvSetNil], live.kvSeen[kvSetNil])
			}
			if v := live.kvSets[kvSetEmpty]; !live.kvSeen[kvSetEmpty] || v == nil || len(v) != 0 {
				t.Errorf("KVSet(%q, b\"\"): the Go API got %#v (seen %v), want an empty non-nil slice", kvSetEmpty, v, live.kvSeen[kvSetEmpty])
			}
		})
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
