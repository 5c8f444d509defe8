// HTTP over gRPC streams: the frame-level helpers behind PluginHTTP and the
// ServeHTTP and ServeMetrics hooks. A request or response travels as
// HTTPRequest / HTTPResponse frames (see common.proto): a head in the first
// frame, then body chunks of at most ChunkSize, flushes, and an end marker.
//
// Both bodies stream: the requesting side sends request body chunks while it
// receives response frames, and nothing holds a whole body. At most a few
// chunks are in memory per exchange.
//
// Trailers are not carried: the frames have no field for them, so trailers a
// handler sets are dropped, and so are those of a relayed response.

package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"mmbindgen.dev/generated/go/pluginpb"
)

var (
	// errHTTPTruncated: the serving side ended the stream without body_end.
	errHTTPTruncated = fmt.Errorf("bridge: HTTP response stream ended before its end: %w", io.ErrUnexpectedEOF)
	// errHTTPBodyClosed: a read of a response body after its Close.
	errHTTPBodyClosed = errors.New("bridge: read on closed response body")
	// errHTTPHandlerDone: a write through a ResponseWriter whose handler returned.
	errHTTPHandlerDone = errors.New("bridge: write to the ResponseWriter after the handler returned")
)

// httpStreamCancelKey keys the stream cancel function of withHTTPStreamCancel.
type httpStreamCancelKey struct{}

// withHTTPStreamCancel returns ctx carrying cancel, the function that cancels
// the stream of an exchange. Open the stream with (a descendant of) ctx and
// pass it to roundTripHTTP or relayHTTP: they call cancel when the exchange
// ends early (response body closed before its end, request cancelled, send or
// recv failure), so that the serving side sees the cancellation at once, and
// when the stream has ended. Without it, an exchange that ends early only
// stops sending (an unfinished request body then reads as truncated on the
// serving side) and drains what is still received until the serving side
// ends the stream.
func withHTTPStreamCancel(ctx context.Context, cancel context.CancelFunc) context.Context {
	return context.WithValue(ctx, httpStreamCancelKey{}, cancel)
}

// roundTripHTTP is the client side of PluginHTTP: it sends r as request
// frames through send (then closeSend), and returns the response read from
// recv, whose body streams the remaining frames. Cancelling ctx or r's
// context ends the exchange.
//
// As an http.RoundTripper does, it closes r.Body (possibly after it
// returned), and sends the body while the response is read: a response that
// ends before the request body was sent stops the sending. Closing the
// response body before its end ends the exchange (see withHTTPStreamCancel).
func roundTripHTTP(
	ctx context.Context,
	send func(*pluginpb.HTTPRequest) error,
	closeSend func() error,
	recv func() (*pluginpb.HTTPResponse, error),
	r *http.Request,
) (*http.Response, error) {
	x := newHTTPExchange(ctx, r, true)
	go x.receive(recv)
	go x.sendRequest(r, send, send, closeSend)

	head, err := x.next()
	if err == nil {
		err = checkHTTPStatus(head)
	}
	if err != nil {
		x.end(err)
		return nil, err
	}
	code := int(head.GetStatusCode())
	header := httpHeaderFromProto(head.GetHeaders())
	resp := &http.Response{
		Status:        httpStatusLine(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		ContentLength: httpContentLength(header),
		Request:       r,
		Body:          &httpResponseBody{x: x, buf: head.GetBody(), end: head.GetBodyEnd()},
	}
	if head.GetBodyEnd() {
		// The response is complete: stop sending what is left of the request.
		x.end(nil)
	}
	return resp, nil
}

// relayHTTP is the client side of the ServeHTTP and ServeMetrics hooks: it
// sends r as request frames (the first one through sendFirst, which adds the
// plugin context) and writes the response frames it receives into w, head,
// body chunks and flushes as they arrive. It returns whether the response
// head was written, and the first transport error.
//
// A failure to write to w (the client went away) ends the exchange and is
// returned too. relayHTTP does not return while it reads r.Body (net/http
// forbids reading it after the handler returned); it never closes r.Body.
func relayHTTP(
	ctx context.Context,
	sendFirst func(*pluginpb.HTTPRequest) error,
	send func(*pluginpb.HTTPRequest) error,
	closeSend func() error,
	recv func() (*pluginpb.HTTPResponse, error),
	w http.ResponseWriter,
	r *http.Request,
) (headWritten bool, err error) {
	rc := http.NewResponseController(w)
	// HTTP/1 servers otherwise discard the unread request body when the
	// response head goes out; the body is sent while the response streams.
	_ = rc.EnableFullDuplex()

	x := newHTTPExchange(ctx, r, false)
	go x.receive(recv)
	go x.sendRequest(r, sendFirst, send, closeSend)
	defer func() {
		x.end(err)
		// Wait for a read of r.Body in progress; the sender starts no other.
		if !x.bodyMu.TryLock() {
			if headWritten && err == nil {
				// The response is complete: let the client have it now.
				_ = rc.Flush()
			}
			x.bodyMu.Lock()
		}
		x.bodyMu.Unlock()
	}()

	for {
		f, err := x.next()
		if err != nil {
			return headWritten, err
		}
		if !headWritten {
			if err := checkHTTPStatus(f); err != nil {
				return false, err
			}
			h := w.Header()
			for name, values := range httpHeaderFromProto(f.GetHeaders()) {
				h[name] = values
			}
			w.WriteHeader(int(f.GetStatusCode()))
			headWritten = true
		}
		if body := f.GetBody(); len(body) > 0 {
			if _, err := w.Write(body); err != nil && !errors.Is(err, http.ErrBodyNotAllowed) {
				return true, err
			}
		}
		if f.GetFlush() {
			if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return true, err
			}
		}
		if f.GetBodyEnd() {
			return true, nil
		}
	}
}

// relayHook is the client method of an HTTP handler hook (ServeHTTP,
// ServeMetrics). When the plugin implements the hook, it opens the stream
// and relays r and the response as relayHTTP does: the first request frame
// is head (the plugin context) with the request frame set by setFrame,
// every later one a new message with only the frame; frame gets the
// response frame out of a response message. When the plugin does not
// implement the hook, it answers the status notImplemented; when the call
// fails, it reports the failure and answers unavailable, or aborts the
// response once its head was written.
func relayHook[Req, Resp any](
	c *call,
	rpc func(context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error),
	head *Req,
	setFrame func(*Req, *pluginpb.HTTPRequest),
	frame func(*Resp) *pluginpb.HTTPResponse,
	w http.ResponseWriter,
	r *http.Request,
	notImplemented, unavailable int,
) {
	implemented, err := c.gate.has(c.method, c.implemented)
	if err != nil {
		c.opts.report(c.method, err)
		httpFailure(w, false, unavailable, err)
		return
	}
	if !implemented {
		httpError(w, notImplemented)
		return
	}
	stream, err := rpc(r.Context())
	headWritten := false
	if err == nil {
		sendFirst := func(f *pluginpb.HTTPRequest) error {
			setFrame(head, f)
			return stream.Send(head)
		}
		send := func(f *pluginpb.HTTPRequest) error {
			m := new(Req)
			setFrame(m, f)
			return stream.Send(m)
		}
		recv := func() (*pluginpb.HTTPResponse, error) {
			m, err := stream.Recv()
			return frame(m), err
		}
		headWritten, err = relayHTTP(r.Context(), sendFirst, send, stream.CloseSend, recv, w, r)
	}
	if err == nil {
		err = c.Err()
	}
	if err != nil {
		c.opts.report(c.method, err)
		if isUnimplemented(err) && !headWritten {
			httpError(w, notImplemented)
			return
		}
		httpFailure(w, headWritten, unavailable, err)
	}
}

// serveHTTPFrames is the server side of all three: it rebuilds the request
// from the frames of recv (the first one is given), calls handler with a
// ResponseWriter that sends response frames through send (implementing
// http.Flusher), and ends the response when handler returns. The request's
// context is cancelled when ctx is (the caller went away).
//
// The request body is read from recv as the handler reads it; a failed recv
// (or a stream that ends before body_end, which reads as
// io.ErrUnexpectedEOF) cancels the request's context too. The ResponseWriter
// follows net/http: the first Write implies WriteHeader(200), the header is
// taken at WriteHeader, writes are buffered up to ChunkSize and sent on
// Flush, a Content-Type is sniffed and, for a body that fits one chunk and
// was never flushed, a Content-Length set; informational (1xx) heads are not
// relayed. A handler that panics (http.ErrAbortHandler included) ends the
// exchange without body_end, with an error.
func serveHTTPFrames(
	ctx context.Context,
	first *pluginpb.HTTPRequest,
	recv func() (*pluginpb.HTTPRequest, error),
	send func(*pluginpb.HTTPResponse) error,
	handler func(http.ResponseWriter, *http.Request),
) error {
	if first == nil {
		return errors.New("bridge: HTTP request stream without a head")
	}
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	var failMu sync.Mutex
	var failErr error
	fail := func(err error) {
		if err != nil {
			failMu.Lock()
			if failErr == nil {
				failErr = err
			}
			failMu.Unlock()
		}
		cancel()
	}

	r, err := httpRequestFromHead(reqCtx, first)
	if err != nil {
		return err
	}
	var body *httpRequestBody
	if first.GetBodyEnd() && len(first.GetBody()) == 0 {
		r.Body = http.NoBody
		r.ContentLength = 0
	} else {
		body = &httpRequestBody{recv: recv, fail: fail, buf: first.GetBody(), end: first.GetBodyEnd()}
		r.Body = body
	}
	w := &httpFrameWriter{send: send, fail: fail, header: make(http.Header), isHead: r.Method == http.MethodHead}

	perr := callHTTPHandler(handler, w, r)
	if body != nil {
		body.closed.Store(true)
	}
	if perr != nil {
		w.abandon()
		return perr
	}
	if err := w.finish(); err != nil {
		return err
	}
	failMu.Lock()
	defer failMu.Unlock()
	return failErr
}

// writeResponse copies a complete *http.Response (as returned by
// plugin.API.PluginHTTP) into w and closes its body. A status of 0 stands for
// 200, as net/http has it; any other invalid one becomes 500. A body that
// fails to read aborts the response (panic(http.ErrAbortHandler)), so that it
// does not end as if complete. Trailers are dropped.
func writeResponse(w http.ResponseWriter, resp *http.Response) {
	if resp == nil {
		http.Error(w, http.StatusText(http.StatusBadGateway), http.StatusBadGateway)
		return
	}
	if resp.Body != nil {
		defer resp.Body.Close()
	}
	h := w.Header()
	for name, values := range resp.Header {
		h[name] = slices.Clone(values)
	}
	code := resp.StatusCode
	switch {
	case code == 0:
		code = http.StatusOK
	case code < 100 || code > 999:
		code = http.StatusInternalServerError
	}
	w.WriteHeader(code)
	if resp.Body == nil {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return // the client went away, or the status has no body
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			panic(http.ErrAbortHandler)
		}
	}
}

// --- The requesting side: roundTripHTTP and relayHTTP. ---

// httpExchange is the requesting side of one exchange: a goroutine sends the
// request (sendRequest), another receives the response frames (receive) and
// hands them one at a time to the consumer (next). The exchange ends
// (end) when the consumer saw body_end, or early with an error; then the
// sender stops before its next read of the request body, and the receiver
// discards what it still receives until the stream ends.
type httpExchange struct {
	frames chan httpReceived
	done   chan struct{}
	once   sync.Once
	err    error // why the exchange ended early; set before done is closed

	cancelStream context.CancelFunc // from withHTTPStreamCancel, or nil

	watchMu  sync.Mutex
	watchers []func() bool // context.AfterFunc registrations
	ended    bool

	body      io.ReadCloser // the request body, nil when there is none
	closeBody bool          // roundTripHTTP: close body when done (RoundTripper contract)
	bodyOnce  sync.Once
	bodyMu    sync.Mutex // held while the sender reads body
}

type httpReceived struct {
	f   *pluginpb.HTTPResponse
	err error
}

func newHTTPExchange(ctx context.Context, r *http.Request, closeBody bool) *httpExchange {
	x := &httpExchange{
		frames:    make(chan httpReceived),
		done:      make(chan struct{}),
		closeBody: closeBody,
	}
	if hasHTTPBody(r) {
		x.body = r.Body
	}
	if cancel, ok := ctx.Value(httpStreamCancelKey{}).(context.CancelFunc); ok {
		x.cancelStream = cancel
	}
	x.watch(ctx)
	x.watch(r.Context())
	return x
}

// watch ends the exchange when ctx is done.
func (x *httpExchange) watch(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { x.end(ctx.Err()) })
	x.watchMu.Lock()
	defer x.watchMu.Unlock()
	if x.ended {
		stop()
		return
	}
	x.watchers = append(x.watchers, stop)
}

// end ends the exchange, early when err is not nil. Only the first call
// counts.
func (x *httpExchange) end(err error) {
	x.once.Do(func() {
		x.err = err
		close(x.done)
		if err != nil && x.cancelStream != nil {
			x.cancelStream()
		}
		if x.closeBody {
			// Unblocks a read in progress, as http.Transport does.
			x.closeRequestBody()
		}
		x.watchMu.Lock()
		watchers := x.watchers
		x.watchers, x.ended = nil, true
		x.watchMu.Unlock()
		for _, stop := range watchers {
			stop()
		}
	})
}

func (x *httpExchange) closeRequestBody() {
	if x.body != nil {
		x.bodyOnce.Do(func() { _ = x.body.Close() })
	}
}

// next returns the next response frame, or why there is none.
func (x *httpExchange) next() (*pluginpb.HTTPResponse, error) {
	select {
	case m := <-x.frames:
		if m.err != nil {
			err := m.err
			if errors.Is(err, io.EOF) {
				err = errHTTPTruncated
			}
			x.end(err)
			return nil, err
		}
		if m.f == nil {
			return &pluginpb.HTTPResponse{}, nil
		}
		return m.f, nil
	case <-x.done:
		if x.err != nil {
			return nil, x.err
		}
		return nil, errHTTPTruncated
	}
}

// receive hands the frames of recv to next until recv fails (at the end of
// the stream: io.EOF after body_end); after the exchange ended it discards
// them. It cancels the stream once it has ended.
func (x *httpExchange) receive(recv func() (*pluginpb.HTTPResponse, error)) {
	if x.cancelStream != nil {
		defer x.cancelStream()
	}
	for {
		f, err := recv()
		select {
		case x.frames <- httpReceived{f: f, err: err}:
		case <-x.done:
		}
		if err != nil {
			return
		}
	}
}

// sendRequest sends the request frames, then closes the sending side. A
// failure ends the exchange (a request body that fails to read included:
// the serving side then sees the stream end before body_end).
func (x *httpExchange) sendRequest(r *http.Request, sendFirst, send func(*pluginpb.HTTPRequest) error, closeSend func() error) {
	err := x.sendRequestFrames(r, sendFirst, send)
	if err != nil {
		x.end(err)
	}
	if cerr := closeSend(); cerr != nil && !errors.Is(cerr, io.EOF) {
		x.end(cerr)
	}
	if x.closeBody {
		x.closeRequestBody()
	}
}

func (x *httpExchange) sendRequestFrames(r *http.Request, sendFirst, send func(*pluginpb.HTTPRequest) error) error {
	head := httpRequestHead(r)
	if x.body == nil {
		head.BodyEnd = true
		return httpSendErr(sendFirst(head))
	}
	if err := sendFirst(head); err != nil {
		return httpSendErr(err)
	}
	buf := make([]byte, ChunkSize)
	for {
		n, ok, err := x.readBody(buf)
		if !ok {
			return nil // the exchange ended: send no more
		}
		end := err == io.EOF
		if n > 0 || end {
			f := &pluginpb.HTTPRequest{BodyEnd: end}
			if n > 0 {
				f.Body = bytes.Clone(buf[:n])
			}
			if err := send(f); err != nil {
				return httpSendErr(err)
			}
		}
		if end {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bridge: reading the request body: %w", err)
		}
	}
}

// readBody reads the request body once, unless the exchange has ended.
func (x *httpExchange) readBody(buf []byte) (n int, ok bool, err error) {
	x.bodyMu.Lock()
	defer x.bodyMu.Unlock()
	select {
	case <-x.done:
		return 0, false, nil
	default:
	}
	n, err = x.body.Read(buf)
	return n, true, err
}

// httpSendErr drops io.EOF: a send fails with it when the serving side ended
// the stream, whose outcome recv then tells.
func httpSendErr(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// httpResponseBody is the body of the response of roundTripHTTP.
type httpResponseBody struct {
	x      *httpExchange
	closed atomic.Bool

	mu  sync.Mutex // serializes reads
	buf []byte
	end bool
	err error
}

func (b *httpResponseBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errHTTPBodyClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf) == 0 {
		switch {
		case b.err != nil:
			return 0, b.err
		case b.end:
			b.x.end(nil)
			return 0, io.EOF
		case len(p) == 0:
			return 0, nil
		}
		f, err := b.x.next()
		if err != nil {
			if b.closed.Load() {
				err = errHTTPBodyClosed
			}
			b.err = err
			continue
		}
		b.buf, b.end = f.GetBody(), f.GetBodyEnd()
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	if len(b.buf) == 0 && b.end {
		b.x.end(nil)
		return n, io.EOF
	}
	return n, nil
}

// Close ends the exchange if the body was not read to its end. It does not
// wait for a Read in progress, which it makes return.
func (b *httpResponseBody) Close() error {
	b.closed.Store(true)
	b.x.end(errHTTPBodyClosed)
	return nil
}

// httpRequestHead is the first frame of r, without body.
func httpRequestHead(r *http.Request) *pluginpb.HTTPRequest {
	uri := "/"
	host := r.Host
	if r.URL != nil {
		uri = r.URL.RequestURI()
		if host == "" {
			host = r.URL.Host
		}
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	requestURI := r.RequestURI
	if requestURI == "" {
		requestURI = uri
	}
	contentLength := r.ContentLength
	switch {
	case !hasHTTPBody(r):
		contentLength = 0
	case contentLength == 0:
		contentLength = -1 // a client request's 0 with a body means unknown
	}
	return &pluginpb.HTTPRequest{
		Method:        method,
		Url:           uri,
		Proto:         proto,
		Headers:       httpHeaderToProto(r.Header),
		Host:          host,
		RemoteAddr:    r.RemoteAddr,
		RequestUri:    requestURI,
		ContentLength: contentLength,
	}
}

func hasHTTPBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody
}

// checkHTTPStatus rejects a response head whose status net/http cannot
// write (informational ones included).
func checkHTTPStatus(f *pluginpb.HTTPResponse) error {
	if code := f.GetStatusCode(); code < 200 || code > 999 {
		return fmt.Errorf("bridge: HTTP response head with invalid status code %d", code)
	}
	return nil
}

// httpStatusLine is the Status of a response, as net/http's client sets it.
func httpStatusLine(code int) string {
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	return strconv.Itoa(code) + " " + text
}

// httpContentLength is the Content-Length of header, -1 when absent or
// invalid.
func httpContentLength(header http.Header) int64 {
	v := header.Get("Content-Length")
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// httpHeaderToProto lists every header with all of its values, in order,
// names sorted.
func httpHeaderToProto(h http.Header) []*pluginpb.HTTPHeader {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for name, values := range h {
		if len(values) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := make([]*pluginpb.HTTPHeader, len(names))
	for i, name := range names {
		out[i] = &pluginpb.HTTPHeader{Name: name, Values: slices.Clone(h[name])}
	}
	return out
}

// httpHeaderFromProto rebuilds a header, names canonicalized (as they would
// be read from the wire), values of repeated names appended in order.
func httpHeaderFromProto(headers []*pluginpb.HTTPHeader) http.Header {
	h := make(http.Header, len(headers))
	for _, hh := range headers {
		name := http.CanonicalHeaderKey(hh.GetName())
		h[name] = append(h[name], hh.GetValues()...)
	}
	return h
}

// --- The serving side: serveHTTPFrames. ---

// httpRequestFromHead rebuilds a server request from its head frame.
func httpRequestFromHead(ctx context.Context, f *pluginpb.HTTPRequest) (*http.Request, error) {
	rawURL := f.GetUrl()
	if rawURL == "" {
		rawURL = "/"
	}
	u, err := url.ParseRequestURI(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bridge: HTTP request with an invalid URL: %w", err)
	}
	method := f.GetMethod()
	if method == "" {
		method = http.MethodGet
	}
	proto := f.GetProto()
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		proto, major, minor = "HTTP/1.1", 1, 1
	}
	host := f.GetHost()
	if host == "" {
		host = u.Host
	}
	requestURI := f.GetRequestUri()
	if requestURI == "" {
		requestURI = rawURL
	}
	r := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        httpHeaderFromProto(f.GetHeaders()),
		ContentLength: f.GetContentLength(),
		Host:          host,
		RemoteAddr:    f.GetRemoteAddr(),
		RequestURI:    requestURI,
	}
	return r.WithContext(ctx), nil
}

// httpRequestBody is the body of a request rebuilt by serveHTTPFrames: it
// receives the frames as the handler reads.
type httpRequestBody struct {
	recv   func() (*pluginpb.HTTPRequest, error)
	fail   func(error) // records a transport error, cancels the request context
	closed atomic.Bool // closed, or the handler returned: no more recv

	buf []byte
	end bool
	err error
}

func (b *httpRequestBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(b.buf) == 0 {
		switch {
		case b.err != nil:
			return 0, b.err
		case b.end:
			return 0, io.EOF
		case b.closed.Load():
			return 0, http.ErrBodyReadAfterClose
		}
		f, err := b.recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				// The requesting side gave up sending the body.
				b.err = io.ErrUnexpectedEOF
				b.fail(nil)
			} else {
				b.err = err
				b.fail(err)
			}
			continue
		}
		b.buf, b.end = f.GetBody(), f.GetBodyEnd()
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	if len(b.buf) == 0 && b.end {
		return n, io.EOF
	}
	return n, nil
}

func (b *httpRequestBody) Close() error {
	b.closed.Store(true)
	return nil
}

// httpFrameWriter is the ResponseWriter of serveHTTPFrames. The head is sent
// with the first body chunk, the first flush, or at the end, as net/http
// writes it; body chunks are sent when ChunkSize is buffered.
type httpFrameWriter struct {
	send   func(*pluginpb.HTTPResponse) error
	fail   func(error)
	header http.Header
	isHead bool // a HEAD request: the body is discarded

	mu        sync.Mutex
	status    int         // 0 until WriteHeader
	snapshot  http.Header // the header at WriteHeader
	noBody    bool        // the status allows no body
	headSent  bool
	flushed   bool
	streaming bool // a full chunk was buffered
	buf       []byte
	err       error // the first send error, sticky
	done      bool  // the handler returned
}

func (w *httpFrameWriter) Header() http.Header { return w.header }

func (w *httpFrameWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeaderLocked(code)
}

func (w *httpFrameWriter) writeHeaderLocked(code int) {
	if w.done || w.status != 0 {
		return // superfluous, as net/http ignores it
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code <= 199 && code != http.StatusSwitchingProtocols {
		return // informational heads are not relayed
	}
	w.status = code
	w.snapshot = w.header.Clone()
	if w.snapshot == nil {
		w.snapshot = make(http.Header)
	}
	w.noBody = code < 200 || code == http.StatusNoContent || code == http.StatusNotModified
}

func (w *httpFrameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, errHTTPHandlerDone
	}
	if w.status == 0 {
		w.writeHeaderLocked(http.StatusOK)
	}
	switch {
	case w.noBody:
		return 0, http.ErrBodyNotAllowed
	case w.err != nil:
		return 0, w.err
	case w.isHead:
		return len(p), nil
	}
	written := 0
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= ChunkSize {
			if err := w.sendLocked(&pluginpb.HTTPResponse{Body: bytes.Clone(p[:ChunkSize])}); err != nil {
				return written, err
			}
			p, written = p[ChunkSize:], written+ChunkSize
			continue
		}
		n := min(ChunkSize-len(w.buf), len(p))
		if cap(w.buf)-len(w.buf) < n {
			// Small bodies get a small buffer; once a full chunk went out,
			// every buffer is a full chunk.
			size := ChunkSize
			if !w.streaming {
				size = min(ChunkSize, max(2*cap(w.buf), len(w.buf)+n, 4<<10))
			}
			grown := make([]byte, len(w.buf), size)
			copy(grown, w.buf)
			w.buf = grown
		}
		w.buf = append(w.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(w.buf) == ChunkSize {
			w.streaming = true
			if err := w.sendBufLocked(false, false); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// Flush sends what was written so far, then a flush frame.
func (w *httpFrameWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush, reporting a failed send (http.ResponseController
// uses it).
func (w *httpFrameWriter) FlushError() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return errHTTPHandlerDone
	}
	if w.status == 0 {
		w.writeHeaderLocked(http.StatusOK)
	}
	w.flushed = true
	return w.sendBufLocked(true, false)
}

// finish ends the response once the handler returned.
func (w *httpFrameWriter) finish() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status == 0 {
		w.writeHeaderLocked(http.StatusOK)
	}
	w.done = true
	if !w.headSent && !w.flushed && !w.noBody && !w.isHead &&
		w.snapshot.Get("Content-Length") == "" && w.snapshot.Get("Transfer-Encoding") == "" {
		// The whole body is buffered: declare its length, as net/http does.
		w.snapshot.Set("Content-Length", strconv.Itoa(len(w.buf)))
	}
	return w.sendBufLocked(false, true)
}

// abandon drops the response of a handler that panicked.
func (w *httpFrameWriter) abandon() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	w.buf = nil
}

// sendBufLocked sends the buffered body in a frame marked flush and end as
// asked, if it has anything to carry.
func (w *httpFrameWriter) sendBufLocked(flush, end bool) error {
	f := &pluginpb.HTTPResponse{Flush: flush, BodyEnd: end}
	if len(w.buf) > 0 {
		f.Body = w.buf
		w.buf = nil
	}
	if len(f.Body) == 0 && !flush && !end {
		return nil
	}
	return w.sendLocked(f)
}

// sendLocked sends f, after the head if it was not sent yet. A frame that
// only ends the body is merged into the head.
func (w *httpFrameWriter) sendLocked(f *pluginpb.HTTPResponse) error {
	if w.err != nil {
		return w.err
	}
	if !w.headSent {
		w.headSent = true
		if len(f.Body) > 0 && !w.isHead && !w.noBody {
			w.sniffLocked(f.Body)
		}
		head := &pluginpb.HTTPResponse{StatusCode: int32(w.status), Headers: httpHeaderToProto(w.snapshot)}
		if len(f.Body) == 0 && !f.Flush && f.BodyEnd {
			head.BodyEnd, f = true, nil
		}
		if err := w.send(head); err != nil {
			return w.failLocked(err)
		}
		if f == nil {
			return nil
		}
	}
	if err := w.send(f); err != nil {
		return w.failLocked(err)
	}
	return nil
}

// sniffLocked sets the Content-Type from the first body chunk when the
// handler set none, as net/http does.
func (w *httpFrameWriter) sniffLocked(p []byte) {
	_, haveType := w.snapshot["Content-Type"]
	if !haveType && w.snapshot.Get("Content-Encoding") == "" && w.snapshot.Get("Transfer-Encoding") == "" {
		w.snapshot.Set("Content-Type", http.DetectContentType(p))
	}
}

func (w *httpFrameWriter) failLocked(err error) error {
	w.err = err
	w.fail(err)
	return err
}

// callHTTPHandler calls handler, turning a panic into an error.
func callHTTPHandler(handler func(http.ResponseWriter, *http.Request), w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				err = errors.New("bridge: the HTTP handler aborted the response")
				return
			}
			err = fmt.Errorf("bridge: the HTTP handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	handler(w, r)
	return nil
}
