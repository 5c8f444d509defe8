// The parity gate itself: the real proto/ (through the mm-bindgen binary)
// against the pinned Go interfaces, plus the fixture the other tests share.
// The directive below keeps type aliases such as mlog.Level as written.

//go:debug gotypesalias=1

package parity

import (
	"sync"
	"testing"
)

// fixture is loaded once per test binary: finding the repository and the
// binary, loading the Go side, and the `list --json` output of the real proto.
type fixture struct {
	repo, bin string
	goSide    *GoSide
	listJSON  []byte
}

var loadFixture = sync.OnceValues(func() (*fixture, error) {
	repo, err := RepoRoot(".")
	if err != nil {
		return nil, err
	}
	bin, err := Binary(repo)
	if err != nil {
		return nil, err
	}
	g, err := LoadGo(".")
	if err != nil {
		return nil, err
	}
	out, err := ListJSON(bin, repo+"/proto", repo)
	if err != nil {
		return nil, err
	}
	return &fixture{repo: repo, bin: bin, goSide: g, listJSON: out}, nil
})

// setup returns the shared fixture; failing to build it fails the test (a
// missing binary is never a reason to skip).
func setup(t *testing.T) *fixture {
	t.Helper()
	f, err := loadFixture()
	if err != nil {
		t.Fatalf("parity gate setup: %v", err)
	}
	return f
}

// model decodes a fresh copy of the real proto's model, safe to mutate.
func (f *fixture) model(t *testing.T) *Model {
	t.Helper()
	m, err := ParseModel(f.listJSON)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestParity is the gate: any difference between proto/ and the Go
// interfaces fails it, with the full report.
func TestParity(t *testing.T) {
	f := setup(t)
	r := Check(f.model(t), f.goSide)
	t.Log(r.Summary())
	for _, name := range InterfaceNames {
		if r.Stats.Methods[name] == 0 {
			t.Errorf("%s: no methods loaded", name)
		}
	}
	if r.Stats.Messages == 0 || r.Stats.Fields == 0 || r.Stats.Reachable == 0 {
		t.Errorf("nothing compared: %s", r.Summary())
	}
	if !r.OK() {
		t.Fatalf("proto/ and the Go interfaces differ\n%s", r)
	}
}
