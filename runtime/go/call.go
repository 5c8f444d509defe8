// The path every generated client method shares: run the RPC with the
// request it converted, check the conversions, report what failed, and
// answer the method's fallback instead of the results.

package bridge

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
)

// errNotImplemented is the failure of a hook call the gate stopped because
// the plugin does not implement the hook; it is not reported.
var errNotImplemented = errors.New("the plugin does not implement the hook")

// failure is the AppError a client method answers in its error result when
// a call fails; a zero failure answers a nil error.
type failure struct {
	id     string
	status int
}

// call is one call of a generated client method: the conversions of its
// request and response, and what it answers when the call fails.
type call struct {
	Converter
	opts   *CallOptions
	method string
	// unavailable answers a failed call; notImplemented (hooks only) a
	// hook the plugin does not implement.
	unavailable, notImplemented failure
	// Hooks only: the gate that knows which hooks the plugin implements,
	// and how it asks.
	gate        *hookGate
	implemented func() ([]string, error)
}

// call starts a call of an API method.
func (o *CallOptions) call(method string, unavailable failure) *call {
	return &call{opts: o, method: method, unavailable: unavailable}
}

// unary runs a unary RPC with req, unless converting req failed.
func unary[Req, Resp any](c *call, rpc func(context.Context, *Req, ...grpc.CallOption) (*Resp, error), req *Req) (*Resp, error) {
	if err := c.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := c.opts.callContext(c.method)
	defer cancel()
	return rpc(ctx, req)
}

// answers sets what the hook answers in its error result when the call
// fails (unavailable) and when the plugin does not implement the hook
// (notImplemented); without it both answer a nil error.
func (c *call) answers(unavailable, notImplemented failure) *call {
	c.unavailable, c.notImplemented = unavailable, notImplemented
	return c
}

// hookUnary runs a unary hook RPC when the plugin implements the hook: only
// then is its request built by req, and sent unless converting it failed.
func hookUnary[Req, Resp any](c *call, rpc func(context.Context, *Req, ...grpc.CallOption) (*Resp, error), req func() *Req) (*Resp, error) {
	if err := c.open(); err != nil {
		return nil, err
	}
	return unary(c, rpc, req())
}

// hookNotify runs a unary hook RPC as hookUnary does, for a hook without
// results, and ends the call.
func hookNotify[Req, Resp any](c *call, rpc func(context.Context, *Req, ...grpc.CallOption) (*Resp, error), req func() *Req) {
	_, err := hookUnary(c, rpc, req)
	c.done(err)
}

// noRequest builds the empty request of a hook without parameters.
func noRequest[Req any]() *Req {
	return new(Req)
}

// sendReader runs a client-streaming RPC: req, then the chunks of r, each
// set into a copy of the request by setChunk.
func sendReader[Req, Resp any](
	c *call,
	rpc func(context.Context, ...grpc.CallOption) (grpc.ClientStreamingClient[Req, Resp], error),
	req *Req,
	r io.Reader,
	setChunk func(*Req, []byte),
) (*Resp, error) {
	if err := c.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := c.opts.callContext(c.method)
	defer cancel()
	stream, err := rpc(ctx)
	if err != nil {
		return nil, err
	}
	if err := sendChunks(stream.Send, req, r, setChunk); err != nil {
		return nil, err
	}
	return stream.CloseAndRecv()
}

// hookExchange runs a bidirectional hook RPC when the plugin implements the
// hook, unless converting the request req builds failed: the request and
// the chunks of r go out while the output chunks come back into w (see
// exchangeChunks).
func hookExchange[Req, Resp any](
	c *call,
	rpc func(context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error),
	req func() *Req,
	r io.Reader,
	setChunk func(*Req, []byte),
	output func(*Resp) []byte,
	w io.Writer,
) (*Resp, error) {
	if err := c.open(); err != nil {
		return nil, err
	}
	first := req()
	if err := c.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := c.opts.callContext(c.method)
	defer cancel()
	stream, err := rpc(ctx)
	if err != nil {
		return nil, err
	}
	return exchangeChunks(stream, first, r, setChunk, output, w)
}

// open asks the gate whether the plugin implements the hook.
func (c *call) open() error {
	implemented, err := c.gate.has(c.method, c.implemented)
	if err != nil {
		return err
	}
	if !implemented {
		return errNotImplemented
	}
	return nil
}

// failed returns the failure of the call (err) or of a conversion, and
// reports it unless the gate stopped the call.
func (c *call) failed(err error) error {
	if err == nil {
		err = c.Err()
	}
	if err != nil && !errors.Is(err, errNotImplemented) {
		c.opts.report(c.method, err)
	}
	return err
}

// done ends a call whose method has no results.
func (c *call) done(err error) {
	_ = c.failed(err)
}

// notImplementedBy tells whether err means that the plugin does not
// implement the hook.
func (c *call) notImplementedBy(err error) bool {
	return c.gate != nil && (errors.Is(err, errNotImplemented) || isUnimplemented(err))
}

// answer sets *e, the error result, to the bridge's error for the failure
// err, when the method answers one.
func answer[E any](c *call, err error, e *E) {
	f, cause := c.unavailable, err
	if c.notImplementedBy(err) {
		f, cause = c.notImplemented, nil
	}
	if f.id == "" {
		return
	}
	// E is error or *model.AppError: the two types an error result has.
	*e, _ = any(bridgeError(f.id, f.status, cause)).(E)
}

// result1 returns a, or the method's answer to the failure.
func result1[A any](c *call, err error, a A) A {
	if err = c.failed(err); err == nil {
		return a
	}
	var fa A
	answer(c, err, &fa)
	return fa
}

// result2 returns a and b, or the method's answer to the failure.
func result2[A, B any](c *call, err error, a A, b B) (A, B) {
	if err = c.failed(err); err == nil {
		return a, b
	}
	var (
		fa A
		fb B
	)
	answer(c, err, &fb)
	return fa, fb
}

// result3 returns a, b and d, or the method's answer to the failure.
func result3[A, B, D any](c *call, err error, a A, b B, d D) (A, B, D) {
	if err = c.failed(err); err == nil {
		return a, b, d
	}
	var (
		fa A
		fb B
		fd D
	)
	answer(c, err, &fd)
	return fa, fb, fd
}

// hookResult1 returns a, or the hook's fallback for the failure: the
// values fallback gives (zero values when it is nil), with the bridge's
// error in the error result.
func hookResult1[A any](c *call, err error, a A, fallback func(notImplemented bool) A) A {
	if err = c.failed(err); err == nil {
		return a
	}
	var fa A
	if fallback != nil {
		fa = fallback(c.notImplementedBy(err))
	}
	answer(c, err, &fa)
	return fa
}

// hookResult2 returns a and b, or the hook's fallback for the failure.
func hookResult2[A, B any](c *call, err error, a A, b B, fallback func(notImplemented bool) (A, B)) (A, B) {
	if err = c.failed(err); err == nil {
		return a, b
	}
	var (
		fa A
		fb B
	)
	if fallback != nil {
		fa, fb = fallback(c.notImplementedBy(err))
	}
	answer(c, err, &fb)
	return fa, fb
}
