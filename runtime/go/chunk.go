// Chunked byte streams: io.Reader parameters and io.Writer outputs cross the
// bridge as a sequence of messages carrying at most ChunkSize bytes each.
// ServerOptions and DialOptions configure gRPC for such messages.

package bridge

import (
	"errors"
	"fmt"
	"io"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// ChunkSize is the largest chunk of bytes one stream message carries.
const ChunkSize = 64 << 10

// sendChunks sends first, with the first chunk of r set through setChunk,
// then one new message per further chunk, until r is exhausted. A receiver
// that stops listening (io.EOF from send) ends the sending without error;
// the caller then reads the receiver's answer.
func sendChunks[M any](send func(*M) error, first *M, r io.Reader, setChunk func(*M, []byte)) error {
	buf := make([]byte, ChunkSize)
	msg := first
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 || msg == first {
			chunk := make([]byte, n)
			copy(chunk, buf[:n])
			setChunk(msg, chunk)
			if sendErr := send(msg); sendErr != nil {
				if errors.Is(sendErr, io.EOF) {
					return nil
				}
				return sendErr
			}
			msg = new(M)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// chunkReader is an io.Reader over chunks received one message at a time.
type chunkReader struct {
	buf  []byte
	next func() ([]byte, error)
	err  error
}

// newChunkReader reads first, then every chunk next returns, until next
// returns an error (io.EOF at the end of the stream).
func newChunkReader(first []byte, next func() ([]byte, error)) io.Reader {
	return &chunkReader{buf: first, next: next}
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.buf, r.err = r.next()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// chunkWriter is an io.Writer that sends what is written in chunks of at
// most ChunkSize, holding back less than one chunk until Flush.
type chunkWriter struct {
	buf  []byte
	send func([]byte) error
}

func newChunkWriter(send func([]byte) error) *chunkWriter {
	return &chunkWriter{send: send}
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(ChunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		written += n
		if len(w.buf) == ChunkSize {
			if err := w.Flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// Flush sends what is held back.
func (w *chunkWriter) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	chunk := w.buf
	w.buf = nil
	return w.send(chunk)
}

// recvChunks reads the chunk of first, then the chunks of every message
// recv returns, until the stream ends.
func recvChunks[M any](first []byte, recv func() (*M, error), chunk func(*M) []byte) io.Reader {
	return newChunkReader(first, func() ([]byte, error) {
		m, err := recv()
		if err != nil {
			return nil, err
		}
		return chunk(m), nil
	})
}

// bidiStream is the client side of a bidirectional stream.
type bidiStream[Req, Resp any] interface {
	Send(*Req) error
	CloseSend() error
	Recv() (*Resp, error)
}

// exchangeChunks sends first and the chunks of r while it receives the
// answer: messages whose output chunk is not empty, then a last message
// with the results. The output is held back (in memory up to spillSize,
// then in a temporary file) and copied to w only once the stream ended
// without error, so a failure never leaves w with part of an answer. It
// returns the last message.
func exchangeChunks[Req, Resp any](
	stream bidiStream[Req, Resp],
	first *Req,
	r io.Reader,
	setChunk func(*Req, []byte),
	output func(*Resp) []byte,
	w io.Writer,
) (*Resp, error) {
	sent := make(chan error, 1)
	go func() {
		err := sendChunks(stream.Send, first, r, setChunk)
		if err == nil {
			err = stream.CloseSend()
		}
		sent <- err
	}()
	var held spillBuffer
	defer held.Close()
	var last *Resp
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if b := output(m); len(b) > 0 {
			if _, err := held.Write(b); err != nil {
				return nil, err
			}
		}
		last = m
	}
	if err := <-sent; err != nil {
		return nil, err
	}
	if last == nil {
		return nil, errors.New("the stream ended without an answer")
	}
	if err := held.CopyTo(w); err != nil {
		return nil, err
	}
	return last, nil
}

// spillSize is how much held-back output stays in memory.
const spillSize = 4 << 20

// spillBuffer holds bytes in memory, then in a temporary file.
type spillBuffer struct {
	mem  []byte
	file *os.File
}

func (b *spillBuffer) Write(p []byte) (int, error) {
	if b.file == nil && len(b.mem)+len(p) <= spillSize {
		b.mem = append(b.mem, p...)
		return len(p), nil
	}
	if b.file == nil {
		f, err := os.CreateTemp("", "mm-bindgen-output-*")
		if err != nil {
			return 0, err
		}
		b.file = f
		if _, err := f.Write(b.mem); err != nil {
			return 0, err
		}
		b.mem = nil
	}
	return b.file.Write(p)
}

// CopyTo writes everything held to w.
func (b *spillBuffer) CopyTo(w io.Writer) error {
	if b.file == nil {
		_, err := w.Write(b.mem)
		return err
	}
	if _, err := b.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, b.file)
	return err
}

// Close releases the temporary file, if any.
func (b *spillBuffer) Close() {
	if b.file != nil {
		b.file.Close()
		os.Remove(b.file.Name())
	}
}

// --- gRPC configuration for connections that carry the bridge. ---

// The flow-control windows of ServerOptions and DialOptions. The stream
// window is how much a peer may send on one stream before the receiving
// application reads it: what a stream whose reader is slow (an HTTP client
// downloading slowly through ServeHTTP) holds, unread, on the receiving
// side. The connection window bounds what is in flight on the connection.
// Setting them also turns off grpc-go's bandwidth-delay estimation, which
// otherwise grows both windows on a fast link, up to 16 MiB per stream.
const (
	StreamWindowSize     = 256 << 10
	ConnectionWindowSize = 1 << 20
)

// ServerOptions are the options of a grpc.Server that serves the bridge's
// services (HooksServer, APIServer), for the bounded memory of streamed
// bodies: a proto codec whose buffers fit chunk messages, and fixed
// flow-control windows (StreamWindowSize, ConnectionWindowSize). The
// process that dials the server should use DialOptions. Either side works
// with a peer that does not: the wire format is the same.
//
// grpc-go's default proto codec (as of v1.85) marshals and unmarshals every
// message larger than 32 KiB in a buffer of its 1 MiB pool tier. A stream
// carrying ChunkSize messages then holds 1 MiB per message in flight (one
// marshalled by a send blocked on flow control, one queued, one being
// written; one being unmarshalled on the other side), and the pool keeps
// those buffers between collections.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(chunkCodec{}),
		grpc.InitialWindowSize(StreamWindowSize),
		grpc.InitialConnWindowSize(ConnectionWindowSize),
	}
}

// DialOptions are the options of a grpc.ClientConn that calls the bridge's
// services (HooksClient, APIClient): the codec and windows of
// ServerOptions, for the messages this side sends and receives.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(chunkCodec{})),
		grpc.WithInitialWindowSize(StreamWindowSize),
		grpc.WithInitialConnWindowSize(ConnectionWindowSize),
	}
}

// chunkCodec is grpc-go's proto codec (same name, same wire format) with a
// buffer pool whose tiers fit chunk messages: 256 B to 32 KiB as grpc-go
// has them, then chunkBufferSize; larger messages get a buffer of their size
// (rounded up to 4 KiB) from a pool of any sizes, as grpc-go's beyond 1 MiB.
type chunkCodec struct{}

// chunkBufferSize fits a message carrying a ChunkSize chunk and its other
// fields (an HTTP head, a file name...).
const chunkBufferSize = ChunkSize + 4<<10

// chunkBuffers pools the buffers of chunkCodec.
var chunkBuffers = mem.NewTieredBufferPool(256, 4<<10, 16<<10, 32<<10, chunkBufferSize)

func (chunkCodec) Name() string { return "proto" }

func (chunkCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, err := protoMessageOf(v)
	if err != nil {
		return nil, err
	}
	opts := proto.MarshalOptions{UseCachedSize: true}
	size := opts.Size(m) // UseCachedSize relies on this call
	if mem.IsBelowBufferPoolingThreshold(size) {
		b, err := opts.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	buf := chunkBuffers.Get(size)
	b, err := opts.MarshalAppend((*buf)[:0], m)
	if err != nil {
		chunkBuffers.Put(buf)
		return nil, err
	}
	*buf = b
	return mem.BufferSlice{mem.NewBuffer(buf, chunkBuffers)}, nil
}

func (chunkCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, err := protoMessageOf(v)
	if err != nil {
		return err
	}
	// proto.Unmarshal copies what it keeps: the buffer goes back at once.
	buf := data.MaterializeToBuffer(chunkBuffers)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

func protoMessageOf(v any) (proto.Message, error) {
	switch m := v.(type) {
	case proto.Message:
		return m, nil
	case protoadapt.MessageV1:
		return protoadapt.MessageV2Of(m), nil
	}
	return nil, fmt.Errorf("bridge: cannot marshal %T: not a proto message", v)
}
