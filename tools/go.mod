// The protoc plugins that `mm-bindgen generate` runs for the message code
// (see mm-bindgen.toml). mm-bindgen builds each once per content of this
// file and go.sum into its cache; `go -C tools tool NAME` runs them by hand.
module mmbindgen.dev/tools

go 1.26

tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
