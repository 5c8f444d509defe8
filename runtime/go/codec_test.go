package bridge

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"mmbindgen.dev/generated/go/pluginpb"
)

// The chunk codec must round-trip messages of every size class, including
// those below the pooling threshold, at the chunk tier and above it.
func TestChunkCodecRoundTrip(t *testing.T) {
	for _, size := range []int{0, 100, 5 << 10, ChunkSize, chunkBufferSize, 3 << 20} {
		body := bytes.Repeat([]byte{0xa5}, size)
		in := &pluginpb.HTTPRequest{Method: "POST", Url: "/x", Body: body, BodyEnd: true}
		data, err := chunkCodec{}.Marshal(in)
		if err != nil {
			t.Fatalf("size %d: marshal: %v", size, err)
		}
		want, _ := proto.Marshal(in)
		if got := data.Materialize(); !bytes.Equal(got, want) {
			t.Fatalf("size %d: wire bytes differ from proto.Marshal", size)
		}
		out := &pluginpb.HTTPRequest{}
		if err := (chunkCodec{}).Unmarshal(data, out); err != nil {
			t.Fatalf("size %d: unmarshal: %v", size, err)
		}
		data.Free()
		if !proto.Equal(in, out) {
			t.Fatalf("size %d: the message changed", size)
		}
	}
	if _, err := (chunkCodec{}).Marshal("not a message"); err == nil {
		t.Fatal("a non-message must be refused")
	}
}
