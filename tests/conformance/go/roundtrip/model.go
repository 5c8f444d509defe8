package roundtrip

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"

	"mmbindgen.dev/conformance/parity"
)

// ProtoModel is the part of `mm-bindgen list --json` this suite reads: the
// resolved hook fallbacks (from MethodOptions.not_implemented / unavailable) and the
// fields model messages skip (MessageOptions.skip). The binary is found as
// the parity gate finds it ($MM_BINDGEN, else target/release/mm-bindgen);
// a missing binary is an error, never a reason to skip.
type ProtoModel struct {
	Services []struct {
		GoInterface string        `json:"go_interface"`
		Methods     []ProtoMethod `json:"methods"`
	} `json:"services"`
	Messages []struct {
		GoType  string `json:"go_type"`
		Skipped []struct {
			GoName string `json:"go_name"`
		} `json:"skipped"`
	} `json:"messages"`
}

// ProtoMethod is one RPC with its Go signature and hook fallbacks.
type ProtoMethod struct {
	Name   string `json:"name"`
	GoName string `json:"go_name"`
	Hook   *struct {
		Gated          bool         `json:"gated"`
		NotImplemented HookFallback `json:"not_implemented"`
		Unavailable    HookFallback `json:"unavailable"`
	} `json:"hook"`
	Go struct {
		Params []struct {
			Name   string `json:"name"`
			GoType string `json:"go_type"`
			Field  string `json:"field"`
		} `json:"params"`
	} `json:"go"`
}

// HookFallback is a resolved hook fallback of the model.
type HookFallback struct {
	Error *struct {
		ID     string `json:"id"`
		Status int    `json:"status"`
	} `json:"error"`
	Echo       string `json:"echo"`
	BoolResult bool   `json:"bool_result"`
	HTTPStatus int    `json:"http_status"`
	Reason     string `json:"reason"`
}

// EchoParam returns the index of the Go parameter that the request field
// echo carries, or -1.
func (m *ProtoMethod) EchoParam(echo string) (int, error) {
	if echo == "" {
		return -1, nil
	}
	for i, p := range m.Go.Params {
		if p.Field == echo {
			return i, nil
		}
	}
	return -1, fmt.Errorf("%s: echo %q names no parameter", m.GoName, echo)
}

// LoadProtoModel runs `mm-bindgen list --json` once.
var LoadProtoModel = sync.OnceValues(func() (*ProtoModel, error) {
	repo, err := parity.RepoRoot(".")
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
	var m ProtoModel
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("decoding `mm-bindgen list --json`: %w", err)
	}
	return &m, nil
})

// Methods returns the RPCs of the service mirroring goInterface, by Go name.
func (m *ProtoModel) Methods(goInterface string) map[string]*ProtoMethod {
	out := map[string]*ProtoMethod{}
	for _, s := range m.Services {
		if s.GoInterface != goInterface {
			continue
		}
		for i := range s.Methods {
			out[s.Methods[i].GoName] = &s.Methods[i]
		}
	}
	return out
}

var skips = sync.OnceValues(func() (map[string]map[string]bool, error) {
	m, err := LoadProtoModel()
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, msg := range m.Messages {
		for _, s := range msg.Skipped {
			if out[msg.GoType] == nil {
				out[msg.GoType] = map[string]bool{}
			}
			out[msg.GoType][s.GoName] = true
		}
	}
	return out, nil
})

// SkippedFields returns the Go fields of t that its message declares as not
// carried (MessageOptions.skip), by the message's go_type ("model.X"). It
// panics when the proto model cannot be loaded; tests load it first.
func SkippedFields(t reflect.Type) map[string]bool {
	s, err := skips()
	if err != nil {
		panic(err)
	}
	return s[t.String()]
}
