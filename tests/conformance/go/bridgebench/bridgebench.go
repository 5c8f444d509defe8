// Package bridgebench holds the Go side of the cross-language benchmarks that
// scripts/bench runs (see BENCHMARKS.md at the repository root):
//
//   - cmd/apiserver serves the generated bridge.APIServer over UserAPI on a
//     loopback port with the bridge's server options and a token, for the
//     Python client to call (bench/api_call.py);
//   - cmd/hookbench calls MessageWillBePosted through bridge.HooksClient into
//     the benchmark's Python plugin (bench/python, started by bridge.Launch)
//     and into Go implementations of the same hook, and times bridge.Launch.
//
// This file has what both programs and the package's tests share: the fakes
// and the servers over loopback.
package bridgebench

import (
	"errors"
	"net"
	"reflect"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"mmbindgen.dev/conformance/roundtrip"
	"mmbindgen.dev/generated/go/bridge"
)

// UserSeed is the seed of FilledUser: the same user on every run.
const UserSeed = 20260101

// FilledUser returns a model.User with every exported field set, as the
// round-trip suite fills it (roundtrip.Filler).
func FilledUser() *model.User {
	return roundtrip.NewFiller(UserSeed).Value(reflect.TypeFor[*model.User]()).Interface().(*model.User)
}

// UserAPI is the plugin.API behind the benchmark's APIServer: GetUser returns
// User whatever the id; any other method is the nil embedded interface and
// panics (the benchmark calls none).
type UserAPI struct {
	plugin.API
	User *model.User
}

// GetUser returns a.User.
func (a UserAPI) GetUser(string) (*model.User, *model.AppError) {
	return a.User, nil
}

// Hooks is the Go implementation of the benchmark's hook, the same as the
// Python plugin's (bench/python/plugin.py): MessageWillBePosted returns a
// copy of the post with its message in capitals. It implements no other hook.
type Hooks struct {
	plugin.Hooks
}

// Implemented names the one hook.
func (Hooks) Implemented() ([]string, error) {
	return []string{"MessageWillBePosted"}, nil
}

// MessageWillBePosted returns the replacement post.
func (Hooks) MessageWillBePosted(_ *plugin.Context, post *model.Post) (*model.Post, string) {
	out := post.Clone()
	out.Message = strings.ToUpper(post.Message)
	return out, ""
}

// SmallPost is the post every hook call carries: a few short fields, as a
// chat message has.
func SmallPost() *model.Post {
	return &model.Post{
		Id:        "7p3n6kqz8jrd5e9wbxfqg4yh1a",
		CreateAt:  1767225600000,
		UpdateAt:  1767225600000,
		UserId:    "u5rsxk8wbtf3mdqj9ye7hc2n4o",
		ChannelId: "c8t4yq2wzk6gj3xn5bmh7frd9e",
		Message:   "hello from the benchmark",
	}
}

// CheckReplacement reports whether a MessageWillBePosted result is the
// replacement the benchmark's hook returns for SmallPost.
func CheckReplacement(post *model.Post, rejection string) error {
	switch {
	case rejection != "":
		return errors.New("MessageWillBePosted rejected the post: " + rejection)
	case post == nil:
		return errors.New("MessageWillBePosted returned no replacement")
	case post.Message != strings.ToUpper(SmallPost().Message):
		return errors.New("MessageWillBePosted returned the message " + post.Message)
	}
	return nil
}

// Server is a gRPC server on a loopback port with the bridge's server
// options (bridge.ServerOptions) that requires a token (bridge.RequireToken).
type Server struct {
	Addr  string
	Token string
	srv   *grpc.Server
	done  chan error
}

// Serve starts a Server with the services register adds and a fresh token.
func Serve(register func(grpc.ServiceRegistrar)) (*Server, error) {
	token, err := bridge.NewToken()
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr:  lis.Addr().String(),
		Token: token,
		srv:   grpc.NewServer(append(bridge.ServerOptions(), bridge.RequireToken(token)...)...),
		done:  make(chan error, 1),
	}
	register(s.srv)
	go func() { s.done <- s.srv.Serve(lis) }()
	return s, nil
}

// Dial returns a client connection to s with the bridge's dial options
// (bridge.DialOptions) and its token.
func (s *Server) Dial() (*grpc.ClientConn, error) {
	opts := append(bridge.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()), bridge.WithToken(s.Token))
	return grpc.NewClient(s.Addr, opts...)
}

// Stop stops s at once and returns what its Serve returned, if it failed.
func (s *Server) Stop() error {
	s.srv.Stop()
	return <-s.done
}
