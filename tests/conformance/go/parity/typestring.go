// Printing Go types the way go_type values are written in the proto options
// and in `list --json`: package-name qualifiers, `any` for the empty
// interface, aliases kept as written.

package parity

import (
	"fmt"
	"go/types"
	"strings"
)

// typePrinter prints types and remembers which import path each package name
// stood for, so the gate can compare them with go_imports.
type typePrinter struct {
	// paths maps a package name used as a qualifier to the import paths seen
	// under that name.
	paths map[string]map[string]bool
}

func newTypePrinter() *typePrinter {
	return &typePrinter{paths: map[string]map[string]bool{}}
}

// TypeString prints t like a go_type value: `*model.Post`, `[]*model.Post`,
// `map[string]any`, `mlog.Level` (an alias, kept as written), `error`.
func TypeString(t types.Type) string {
	return newTypePrinter().String(t)
}

// String prints t and records the packages it names.
func (p *typePrinter) String(t types.Type) string {
	var b strings.Builder
	p.write(&b, t)
	return b.String()
}

// param prints a parameter type; the last parameter of a variadic signature
// is written `...T`.
func (p *typePrinter) param(sig *types.Signature, i int) string {
	t := sig.Params().At(i).Type()
	if sig.Variadic() && i == sig.Params().Len()-1 {
		if s, ok := t.(*types.Slice); ok {
			return "..." + p.String(s.Elem())
		}
	}
	return p.String(t)
}

func (p *typePrinter) qualified(b *strings.Builder, obj *types.TypeName) {
	if pkg := obj.Pkg(); pkg != nil {
		if p.paths[pkg.Name()] == nil {
			p.paths[pkg.Name()] = map[string]bool{}
		}
		p.paths[pkg.Name()][pkg.Path()] = true
		b.WriteString(pkg.Name())
		b.WriteByte('.')
	}
	b.WriteString(obj.Name())
}

func (p *typePrinter) typeArgs(b *strings.Builder, args *types.TypeList) {
	if args.Len() == 0 {
		return
	}
	b.WriteByte('[')
	for i := range args.Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		p.write(b, args.At(i))
	}
	b.WriteByte(']')
}

func (p *typePrinter) tuple(b *strings.Builder, sig *types.Signature, params bool) {
	tup := sig.Results()
	if params {
		tup = sig.Params()
	}
	for i := range tup.Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		if params {
			b.WriteString(p.param(sig, i))
		} else {
			p.write(b, tup.At(i).Type())
		}
	}
}

func (p *typePrinter) write(b *strings.Builder, t types.Type) {
	switch t := t.(type) {
	case *types.Basic:
		b.WriteString(t.Name())
	case *types.Pointer:
		b.WriteByte('*')
		p.write(b, t.Elem())
	case *types.Slice:
		b.WriteString("[]")
		p.write(b, t.Elem())
	case *types.Array:
		fmt.Fprintf(b, "[%d]", t.Len())
		p.write(b, t.Elem())
	case *types.Map:
		b.WriteString("map[")
		p.write(b, t.Key())
		b.WriteByte(']')
		p.write(b, t.Elem())
	case *types.Chan:
		switch t.Dir() {
		case types.SendRecv:
			b.WriteString("chan ")
		case types.SendOnly:
			b.WriteString("chan<- ")
		case types.RecvOnly:
			b.WriteString("<-chan ")
		}
		p.write(b, t.Elem())
	case *types.Named:
		p.qualified(b, t.Obj())
		p.typeArgs(b, t.TypeArgs())
	case *types.Alias:
		p.qualified(b, t.Obj())
		p.typeArgs(b, t.TypeArgs())
	case *types.Interface:
		if t.NumMethods() == 0 && t.NumEmbeddeds() == 0 {
			b.WriteString("any")
			return
		}
		b.WriteString(types.TypeString(t, func(pkg *types.Package) string { return pkg.Name() }))
	case *types.Signature:
		b.WriteString("func(")
		p.tuple(b, t, true)
		b.WriteByte(')')
		switch t.Results().Len() {
		case 0:
		case 1:
			b.WriteByte(' ')
			p.tuple(b, t, false)
		default:
			b.WriteString(" (")
			p.tuple(b, t, false)
			b.WriteByte(')')
		}
	case *types.TypeParam:
		b.WriteString(t.Obj().Name())
	default:
		b.WriteString(types.TypeString(t, func(pkg *types.Package) string { return pkg.Name() }))
	}
}
