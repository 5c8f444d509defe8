// Command apiserver serves the generated bridge.APIServer over
// bridgebench.UserAPI (GetUser returns a filled model.User) on a loopback
// port, with the bridge's server options and a fresh token, for the API call
// benchmark (bench/api_call.py). It prints one line, "ADDRESS TOKEN", once it
// listens, and serves until its standard input ends (its parent closed the
// pipe or exited) or it gets SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"

	"mmbindgen.dev/conformance/bridgebench"
	"mmbindgen.dev/generated/go/bridge"
)

func main() {
	api := bridgebench.UserAPI{User: bridgebench.FilledUser()}
	srv, err := bridgebench.Serve(func(r grpc.ServiceRegistrar) { bridge.NewAPIServer(api).Register(r) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(1)
	}
	fmt.Println(srv.Addr, srv.Token)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	<-ctx.Done()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(1)
	}
}
