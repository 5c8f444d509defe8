// A per-process secret for the bridge's gRPC services: the process that
// starts a plugin gives it a random token, and every call must carry it, so
// that another process on the same host cannot call the Plugin API (or a
// plugin's hooks) through the loopback port.

package bridge

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TokenHeader is the metadata key that carries the token.
const TokenHeader = "x-mm-bridge-token"

// NewToken returns a random token (256 bits, hex).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// RequireToken are server options that refuse, with UNAUTHENTICATED, every
// call that does not carry token.
func RequireToken(token string) []grpc.ServerOption {
	check := func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		for _, got := range md.Get(TokenHeader) {
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
				return nil
			}
		}
		return status.Error(codes.Unauthenticated, "bridge: missing or wrong token")
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
			if err := check(ss.Context()); err != nil {
				return err
			}
			return next(srv, ss)
		}),
	}
}

// WithToken is the dial option that sends token with every call.
func WithToken(token string) grpc.DialOption {
	return grpc.WithPerRPCCredentials(tokenCredentials(token))
}

type tokenCredentials string

func (t tokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{TokenHeader: string(t)}, nil
}

// RequireTransportSecurity is false: the bridge runs on loopback, where the
// token guards against other local processes, not against eavesdroppers.
func (tokenCredentials) RequireTransportSecurity() bool { return false }
