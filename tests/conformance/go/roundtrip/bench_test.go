package roundtrip

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
	"github.com/mattermost/mattermost/server/public/plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"mmbindgen.dev/generated/go/bridge"
	"mmbindgen.dev/generated/go/pluginpb"
)

// Benchmarks: the bridge's conversion against encoding/json on the same
// filled value, and a bridged API call against a bare grpc-go call that
// carries the same response message. The fakes here are hand-written, so
// that no mock reflection is measured.
//
//	go test -bench . -benchtime 2s -count 3 -run '^$'

const benchSeed = 20260101

func filledPost() *model.Post {
	return NewFiller(benchSeed).Value(reflect.TypeFor[*model.Post]()).Interface().(*model.Post)
}

func filledUser() *model.User {
	return NewFiller(benchSeed).Value(reflect.TypeFor[*model.User]()).Interface().(*model.User)
}

// benchConvert: ToProto, proto.Marshal, proto.Unmarshal, FromProto.
func benchConvert[V any, M proto.Message](b *testing.B, v V, to func(*bridge.Converter, V) M, from func(*bridge.Converter, M) V, newMsg func() M) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		var c bridge.Converter
		wire, err := proto.Marshal(to(&c, v))
		if err != nil {
			b.Fatal(err)
		}
		size = len(wire)
		m := newMsg()
		if err := proto.Unmarshal(wire, m); err != nil {
			b.Fatal(err)
		}
		_ = from(&c, m)
		if err := c.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "wire-bytes")
}

// benchJSON: json.Marshal, json.Unmarshal into a new value.
func benchJSON[V any](b *testing.B, v *V) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		data, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
		var back V
		if err := json.Unmarshal(data, &back); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "wire-bytes")
}

func BenchmarkConvertPost(b *testing.B) {
	benchConvert(b, filledPost(), (*bridge.Converter).PostToProto, (*bridge.Converter).PostFromProto,
		func() *pluginpb.Post { return new(pluginpb.Post) })
}

// benchConverters: ToProto then FromProto, the converters alone (the wire
// encoding that benchConvert adds is protobuf-go's, paid by any gRPC bridge).
func benchConverters[V any, M proto.Message](b *testing.B, v V, to func(*bridge.Converter, V) M, from func(*bridge.Converter, M) V) {
	b.ReportAllocs()
	for b.Loop() {
		var c bridge.Converter
		_ = from(&c, to(&c, v))
		if err := c.Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvertersPost(b *testing.B) {
	benchConverters(b, filledPost(), (*bridge.Converter).PostToProto, (*bridge.Converter).PostFromProto)
}

func BenchmarkConvertersUser(b *testing.B) {
	benchConverters(b, filledUser(), (*bridge.Converter).UserToProto, (*bridge.Converter).UserFromProto)
}

func BenchmarkJSONPost(b *testing.B) {
	benchJSON(b, filledPost())
}

func BenchmarkConvertUser(b *testing.B) {
	benchConvert(b, filledUser(), (*bridge.Converter).UserToProto, (*bridge.Converter).UserFromProto,
		func() *pluginpb.User { return new(pluginpb.User) })
}

func BenchmarkJSONUser(b *testing.B) {
	benchJSON(b, filledUser())
}

// userAPI is a hand-written fake: GetUser returns user; every other method
// is the nil embedded interface (never called).
type userAPI struct {
	plugin.API
	user *model.User
}

func (a userAPI) GetUser(string) (*model.User, *model.AppError) {
	return a.user, nil
}

// BenchmarkAPICallGetUser: APIClient.GetUser → gRPC over loopback →
// APIServer → the fake.
func BenchmarkAPICallGetUser(b *testing.B) {
	user := filledUser()
	lb := newLoopback(b, func(r grpc.ServiceRegistrar) { bridge.NewAPIServer(userAPI{user: user}).Register(r) })
	client := bridge.NewAPIClient(lb.conn)
	b.ReportAllocs()
	for b.Loop() {
		u, err := client.GetUser("user-id")
		if err != nil || u == nil {
			b.Fatalf("GetUser: %v, %v", u, err)
		}
	}
}

// bareUserServer answers GetUser with a prepared response; every other RPC
// is UNIMPLEMENTED.
type bareUserServer struct {
	pluginpb.UnimplementedPluginAPIServer
	resp *pluginpb.GetUserResponse
}

func (s *bareUserServer) GetUser(context.Context, *pluginpb.GetUserRequest) (*pluginpb.GetUserResponse, error) {
	return s.resp, nil
}

// BenchmarkBareGRPCGetUser: the same RPC and response message through the
// protoc-gen-go-grpc client and a hand-written handler: no conversion, no
// plugin.API.
func BenchmarkBareGRPCGetUser(b *testing.B) {
	var c bridge.Converter
	resp := &pluginpb.GetUserResponse{User: c.UserToProto(filledUser())}
	lb := newLoopback(b, func(r grpc.ServiceRegistrar) { pluginpb.RegisterPluginAPIServer(r, &bareUserServer{resp: resp}) })
	client := pluginpb.NewPluginAPIClient(lb.conn)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := client.GetUser(ctx, &pluginpb.GetUserRequest{UserId: "user-id"})
		if err != nil || out.GetUser() == nil {
			b.Fatalf("GetUser: %v, %v", out, err)
		}
	}
}
