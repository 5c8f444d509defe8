package bridge

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"mmbindgen.dev/generated/go/pluginpb"
)

// tokenPing serves one RPC of PluginAPI; the others are never called.
type tokenPing struct {
	pluginpb.PluginAPIServer
}

func (tokenPing) GetPluginID(context.Context, *pluginpb.GetPluginIDRequest) (*pluginpb.GetPluginIDResponse, error) {
	return &pluginpb.GetPluginIDResponse{PluginId: "ok"}, nil
}

func TestTokenIsRequired(t *testing.T) {
	token, err := NewToken()
	if err != nil || len(token) != 64 {
		t.Fatalf("NewToken: %q, %v", token, err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(RequireToken(token)...)
	pluginpb.RegisterPluginAPIServer(srv, tokenPing{})
	go srv.Serve(lis)
	defer srv.Stop()

	call := func(opts ...grpc.DialOption) error {
		conn, err := grpc.NewClient(lis.Addr().String(), append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = pluginpb.NewPluginAPIClient(conn).GetPluginID(context.Background(), &pluginpb.GetPluginIDRequest{})
		return err
	}
	if err := call(WithToken(token)); err != nil {
		t.Fatalf("with the token: %v", err)
	}
	for name, opts := range map[string][]grpc.DialOption{"no token": nil, "wrong token": {WithToken("nope")}} {
		if err := call(opts...); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("%s: got %v, want UNAUTHENTICATED", name, err)
		}
	}
}
