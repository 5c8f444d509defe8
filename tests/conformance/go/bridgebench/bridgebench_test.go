package bridgebench

import (
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mmbindgen.dev/conformance/roundtrip"
	"mmbindgen.dev/generated/go/bridge"
)

// The benchmark programs' Go paths, each over one loopback connection: what
// cmd/apiserver serves and what cmd/hookbench's in-process plugin answers.

func serve(t *testing.T, register func(grpc.ServiceRegistrar)) *grpc.ClientConn {
	t.Helper()
	srv, err := Serve(register)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	})
	return conn
}

func TestAPIServerReturnsTheFilledUser(t *testing.T) {
	want := FilledUser()
	conn := serve(t, func(r grpc.ServiceRegistrar) { bridge.NewAPIServer(UserAPI{User: want}).Register(r) })
	got, appErr := bridge.NewAPIClient(conn).GetUser("any-id")
	if appErr != nil {
		t.Fatal(appErr)
	}
	if diff := roundtrip.DiffValues(want, got); diff != nil {
		t.Fatalf("GetUser returned another user:\n%v", diff)
	}
}

func TestHooksAnswerWithTheReplacement(t *testing.T) {
	conn := serve(t, func(r grpc.ServiceRegistrar) { bridge.NewHooksServer(Hooks{}).Register(r) })
	hooks := bridge.NewHooksClient(conn)
	hooks.OnError = func(method string, err error) { t.Errorf("%s: %v", method, err) }
	if err := CheckReplacement(hooks.MessageWillBePosted(&plugin.Context{}, SmallPost())); err != nil {
		t.Fatal(err)
	}
}

func TestServerRequiresTheToken(t *testing.T) {
	srv, err := Serve(func(r grpc.ServiceRegistrar) { bridge.NewHooksServer(Hooks{}).Register(r) })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.Token = "not-the-token" // Dial sends this one
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hooks := bridge.NewHooksClient(conn)
	var failures []error // the refused call, then the hook's unavailable answer
	hooks.OnError = func(_ string, err error) { failures = append(failures, err) }
	hooks.MessageWillBePosted(&plugin.Context{}, SmallPost())
	if len(failures) == 0 || status.Code(failures[0]) != codes.Unauthenticated {
		t.Fatalf("a call with the wrong token: got %v, want Unauthenticated first", failures)
	}
}
