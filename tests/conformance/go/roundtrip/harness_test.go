package roundtrip

import (
	"context"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"mmbindgen.dev/generated/go/bridge"
)

// callTimeout bounds every bridged call of the suite, so that a hang fails
// one subtest instead of the binary.
const callTimeout = 20 * time.Second

// loopback is a grpc-go server on 127.0.0.1:0 and a client connection to it.
// Panics in handlers (a fake that was not told about a call, a bug in the
// generated server) become INTERNAL statuses and are kept in panics.
type loopback struct {
	srv  *grpc.Server
	conn *grpc.ClientConn
	addr string

	mu     sync.Mutex
	panics []string
}

// newLoopback starts a server with the services register adds, and dials it.
func newLoopback(t testing.TB, register func(grpc.ServiceRegistrar)) *loopback {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	lb := &loopback{addr: lis.Addr().String()}
	// The options a server embedding the bridge uses (codec and windows).
	opts := append(bridge.ServerOptions(),
		grpc.ChainUnaryInterceptor(lb.recoverUnary),
		grpc.ChainStreamInterceptor(lb.recoverStream),
	)
	lb.srv = grpc.NewServer(opts...)
	register(lb.srv)
	go func() { _ = lb.srv.Serve(lis) }()
	lb.conn = dial(t, lb.addr)
	t.Cleanup(func() {
		lb.conn.Close()
		lb.srv.Stop()
	})
	return lb
}

// dial connects to addr over plain TCP.
func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	opts := append(bridge.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return conn
}

// closedAddr returns a loopback address where nothing listens any more.
func closedAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func (lb *loopback) recordPanic(method string, p any) error {
	msg := fmt.Sprintf("panic in %s: %v\n%s", method, p, debug.Stack())
	lb.mu.Lock()
	lb.panics = append(lb.panics, msg)
	lb.mu.Unlock()
	return status.Error(codes.Internal, msg)
}

func (lb *loopback) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = lb.recordPanic(info.FullMethod, p)
		}
	}()
	return handler(ctx, req)
}

func (lb *loopback) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = lb.recordPanic(info.FullMethod, p)
		}
	}()
	return handler(srv, ss)
}

// checkNoPanics fails t with every panic the server recovered.
func (lb *loopback) checkNoPanics(t testing.TB) {
	t.Helper()
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, p := range lb.panics {
		t.Errorf("server side: %s", p)
	}
}

// errorLog collects what a client's CallOptions.OnError is told.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) onError(method string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, method+": "+err.Error())
}

func (l *errorLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

// reported tells whether OnError was told of method.
func (l *errorLog) reported(method string) bool {
	for _, e := range l.list() {
		if strings.HasPrefix(e, method+": ") {
			return true
		}
	}
	return false
}
