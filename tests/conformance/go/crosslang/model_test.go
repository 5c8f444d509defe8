package crosslang

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"

	"mmbindgen.dev/conformance/parity"
	"mmbindgen.dev/conformance/roundtrip"
)

// protoModel is the part of `mm-bindgen list --json` this suite reads.
type protoModel struct {
	Services []struct {
		GoInterface string        `json:"go_interface"`
		Methods     []protoMethod `json:"methods"`
	} `json:"services"`
}

// protoMethod is one RPC with its Go signature and, for hooks, the
// fallbacks of the proto options.
type protoMethod struct {
	Name      string `json:"name"`
	GoName    string `json:"go_name"`
	Request   string `json:"request"`
	Response  string `json:"response"`
	Streaming string `json:"streaming"`
	Hook      *struct {
		NotImplemented roundtrip.HookFallback `json:"not_implemented"`
		Unavailable    roundtrip.HookFallback `json:"unavailable"`
	} `json:"hook"`
	Go struct {
		Params  []goValue `json:"params"`
		Results []goValue `json:"results"`
	} `json:"go"`
}

// goValue is a Go parameter or result and the proto field carrying it.
type goValue struct {
	Name   string `json:"name"`
	GoType string `json:"go_type"`
	Role   string `json:"role"` // param, output, result, error
	Field  string `json:"field"`
}

// gate tells whether the hook returns a rejection reason.
func (m *protoMethod) gate() bool {
	for _, r := range m.Go.Results {
		if r.Field == "rejection_reason" {
			return true
		}
	}
	return false
}

// echoParam returns the index of the Go parameter a fallback echoes, or -1.
func (m *protoMethod) echoParam(echo string) int {
	if echo == "" {
		return -1
	}
	for i, p := range m.Go.Params {
		if p.Field == echo {
			return i
		}
	}
	panic(fmt.Sprintf("%s: echo %q names no parameter", m.GoName, echo))
}

var repoRoot = sync.OnceValues(func() (string, error) { return parity.RepoRoot(".") })

// loadModel runs `mm-bindgen list --json` once ($MM_BINDGEN, else
// target/release/mm-bindgen; a missing binary is an error).
var loadModel = sync.OnceValues(func() (map[string]map[string]*protoMethod, error) {
	repo, err := repoRoot()
	if err != nil {
		return nil, err
	}
	bin, err := parity.Binary(repo)
	if err != nil {
		return nil, err
	}
	out, err := parity.ListJSON(bin, filepath.Join(repo, "proto"), repo)
	if err != nil {
		return nil, err
	}
	var m protoModel
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("decoding `mm-bindgen list --json`: %w", err)
	}
	byInterface := map[string]map[string]*protoMethod{}
	for _, s := range m.Services {
		methods := map[string]*protoMethod{}
		for i := range s.Methods {
			methods[s.Methods[i].GoName] = &s.Methods[i]
		}
		byInterface[s.GoInterface] = methods
	}
	// The equality rules of roundtrip.Diff need the model too.
	if _, err := roundtrip.LoadProtoModel(); err != nil {
		return nil, err
	}
	return byInterface, nil
})
