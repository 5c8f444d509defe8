// Unit tests of the gate's building blocks: the Go type printer and the
// doc-comment facts.

package parity

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"testing"
)

func TestTypeString(t *testing.T) {
	const src = `package model
type T struct{}
type A = T
type I interface {
	M(a interface{}, b map[string]interface{}, c *T, d []A, e func(int) (string, error), f ...interface{}) ([]*T, error)
}`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "model.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := new(types.Config).Check("example.com/model", fset, []*ast.File{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig := pkg.Scope().Lookup("I").Type().Underlying().(*types.Interface).Method(0).Type().(*types.Signature)
	p := newTypePrinter()
	var params, results []string
	for i := range sig.Params().Len() {
		params = append(params, p.param(sig, i))
	}
	for i := range sig.Results().Len() {
		results = append(results, p.String(sig.Results().At(i).Type()))
	}
	wantParams := []string{"any", "map[string]any", "*model.T", "[]model.A", "func(int) (string, error)", "...any"}
	if !slices.Equal(params, wantParams) {
		t.Errorf("params: got %q, want %q", params, wantParams)
	}
	if want := []string{"[]*model.T", "error"}; !slices.Equal(results, want) {
		t.Errorf("results: got %q, want %q", results, want)
	}
	if !p.paths["model"]["example.com/model"] {
		t.Errorf("package path not recorded: %v", p.paths)
	}
}

func TestParseDoc(t *testing.T) {
	doc := "GetThing fetches a thing.\nEXPERIMENTAL: may change.\n\nDeprecated: use GetOther\ninstead.\n\n@tag Thing\n@tag Other\nMinimum server version: 9.5\n"
	got := ParseDoc(doc)
	want := DocFacts{MinServerVersion: "9.5", Tags: []string{"Thing", "Other"}, Experimental: true, Deprecated: "use GetOther instead."}
	if got.MinServerVersion != want.MinServerVersion || !slices.Equal(got.Tags, want.Tags) ||
		got.Experimental != want.Experimental || got.Deprecated != want.Deprecated {
		t.Errorf("ParseDoc: got %+v, want %+v", got, want)
	}
	// "Deprecated:" only counts at the start of a paragraph.
	if f := ParseDoc("Does a thing. Deprecated: not really.\n"); f.Deprecated != "" || f.MinServerVersion != "" || f.Tags != nil {
		t.Errorf("ParseDoc: got %+v, want no facts", f)
	}
}
