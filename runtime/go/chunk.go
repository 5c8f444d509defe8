// Chunked byte streams: io.Reader parameters and io.Writer outputs cross the
// bridge as a sequence of messages carrying at most ChunkSize bytes each.

package bridge

import (
	"errors"
	"io"
	"os"
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
