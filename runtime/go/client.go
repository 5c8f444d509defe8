// What the generated clients share: per-call deadlines, error reporting, the
// errors the bridge itself makes, and the Implemented gate of hooks clients.

package bridge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// DefaultHookTimeout bounds a hook call when HooksClient.Timeout is zero.
const DefaultHookTimeout = 30 * time.Second

// CallOptions configure a generated client.
type CallOptions struct {
	// Timeout bounds every call; zero means no deadline.
	Timeout time.Duration

	// Timeouts overrides Timeout for single methods, by Go method name.
	Timeouts map[string]time.Duration

	// OnError, when set, is told of every call that failed in transport or
	// conversion, including those whose Go signature cannot return an error.
	OnError func(method string, err error)
}

func (o *CallOptions) callContext(method string) (context.Context, context.CancelFunc) {
	timeout := o.Timeout
	if t, ok := o.Timeouts[method]; ok {
		timeout = t
	}
	if timeout <= 0 {
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), timeout)
}

func (o *CallOptions) report(method string, err error) {
	if o.OnError != nil {
		o.OnError(method, err)
	}
}

// bridgeError is the AppError the bridge returns in place of an answer,
// with the id and status the generator resolved (`plugin.bridge.<method>.
// not_implemented`, 501, or `.unavailable`, 503) and the cause (never a
// payload) as detail.
func bridgeError(id string, status int, cause error) *model.AppError {
	detail := ""
	if cause != nil {
		detail = cause.Error()
	}
	e := model.NewAppError("plugin bridge", id, nil, detail, status)
	e.Message = "plugin bridge: " + id
	return e
}

// conversionStatus reports a request or result that could not be converted.
func conversionStatus(method string, err error) error {
	return status.Errorf(codes.Internal, "%s: conversion: %v", method, err)
}

// structInto decodes a Struct into dest (any value encoding/json can fill).
func (c *Converter) structInto(s *structpb.Struct, dest any) {
	if dest == nil {
		return
	}
	if err := jsonRoundTrip(structToMap(s), dest); err != nil {
		c.fail("decoding into %T: %w", dest, err)
	}
}

// hookGate remembers which hooks the plugin implements.
type hookGate struct {
	mu    sync.Mutex
	hooks map[string]bool
}

// has reports whether the plugin implements hook, asking its Implemented
// list until it answers once. When asking fails, the error is returned (the
// caller answers as for an unavailable plugin) and the next call asks
// again. A plugin without Implemented implements nothing.
func (g *hookGate) has(hook string, implemented func() ([]string, error)) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hooks == nil {
		names, err := implemented()
		var appErr *model.AppError
		if err != nil && !(errors.As(err, &appErr) && appErr.Id == "plugin.bridge.implemented.not_implemented") {
			return false, err
		}
		g.hooks = make(map[string]bool, len(names))
		for _, n := range names {
			g.hooks[n] = true
		}
	}
	return g.hooks[hook], nil
}

// isUnimplemented tells a call the plugin does not serve (status
// UNIMPLEMENTED) from other failures.
func isUnimplemented(err error) bool {
	return status.Code(err) == codes.Unimplemented
}

// httpError answers with a bare status.
func httpError(w http.ResponseWriter, code int) {
	http.Error(w, http.StatusText(code), code)
}

// httpFailure answers a failed HTTP hook: with the status (504 when the
// deadline ran out) if nothing was written yet, else by aborting the
// response so that the client sees it broken rather than truncated.
func httpFailure(w http.ResponseWriter, headWritten bool, code int, err error) {
	if headWritten {
		panic(http.ErrAbortHandler)
	}
	if status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		code = http.StatusGatewayTimeout
	}
	httpError(w, code)
}

// badGateway is PluginHTTP's answer when the exchange failed (the cause
// goes to OnError).
func badGateway(r *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	httpError(rec, http.StatusBadGateway)
	resp := rec.Result()
	resp.Request = r
	return resp
}
