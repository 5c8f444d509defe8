// The comparison: the proto model (from `list --json`) against the Go side,
// producing one readable line per difference.

package parity

import (
	"fmt"
	"go/types"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Report is the outcome of one comparison.
type Report struct {
	// Module is the Go module compared against (path@version).
	Module string
	// Lines holds one line per difference, e.g.
	// `plugin.API.GetUser: param 1 type: proto says string, Go says *model.User`.
	Lines []string
	// Stats counts what was compared.
	Stats Stats
}

// Stats counts what a comparison looked at.
type Stats struct {
	// Methods counts the Go methods compared, by interface (plugin.API, plugin.Hooks).
	Methods map[string]int
	// Messages counts the model messages (model.X, plugin.Context; not JSON)
	// whose Go struct was compared.
	Messages int
	// Fields counts the mapped fields of those messages.
	Fields int
	// Skipped counts the skipped fields of those messages.
	Skipped int
	// Reachable counts the named model structs reachable from the interfaces.
	Reachable int
	// Aliases counts the Go import aliases used by go_type values.
	Aliases int
}

// OK tells whether the comparison found no difference.
func (r *Report) OK() bool { return len(r.Lines) == 0 }

// Summary is one line saying what was compared.
func (r *Report) Summary() string {
	var ifaces []string
	for _, name := range InterfaceNames {
		ifaces = append(ifaces, fmt.Sprintf("%d %s methods", r.Stats.Methods[name], name))
	}
	return fmt.Sprintf("checked %s, %d model messages (%d mapped fields, %d skipped), %d reachable model structs, %d import aliases",
		strings.Join(ifaces, ", "), r.Stats.Messages, r.Stats.Fields, r.Stats.Skipped, r.Stats.Reachable, r.Stats.Aliases)
}

// String is the full report: a header, the summary and every difference.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "parity gate: `mm-bindgen list --json` vs %s\n%s\n", r.Module, r.Summary())
	if r.OK() {
		b.WriteString("no differences\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%d differences:\n", len(r.Lines))
	for _, l := range r.Lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// Check compares the proto model with the Go side and reports every
// difference.
func Check(m *Model, g *GoSide) *Report {
	c := &checker{
		m:        m,
		g:        g,
		p:        newTypePrinter(),
		r:        &Report{Module: g.Module, Stats: Stats{Methods: map[string]int{}}},
		byGoType: map[string][]*Message{},
	}
	for i := range m.Messages {
		msg := &m.Messages[i]
		if msg.GoType != "" {
			c.byGoType[msg.GoType] = append(c.byGoType[msg.GoType], msg)
		}
	}
	c.interfaces()
	c.messages()
	c.reachable()
	c.imports()
	return c.r
}

type checker struct {
	m        *Model
	g        *GoSide
	p        *typePrinter
	r        *Report
	byGoType map[string][]*Message
}

func (c *checker) add(format string, args ...any) {
	c.r.Lines = append(c.r.Lines, fmt.Sprintf(format, args...))
}

// interfaces checks that the RPCs of the service mirroring each interface are
// exactly its methods, and compares each pair.
func (c *checker) interfaces() {
	known := map[string]bool{}
	for _, it := range c.g.Interfaces {
		known[it.Name] = true
		var svcs []*Service
		for i := range c.m.Services {
			if c.m.Services[i].GoInterface == it.Name {
				svcs = append(svcs, &c.m.Services[i])
			}
		}
		switch len(svcs) {
		case 0:
			c.add("%s: no service has go_interface %s", it.Name, it.Name)
		case 1:
		default:
			var names []string
			for _, s := range svcs {
				names = append(names, s.Name)
			}
			c.add("%s: %d services have go_interface %s (%s)", it.Name, len(svcs), it.Name, strings.Join(names, ", "))
		}
		rpcs := map[string][]*Method{}
		var order []string
		for _, s := range svcs {
			for i := range s.Methods {
				rpc := &s.Methods[i]
				if rpcs[rpc.GoName] == nil {
					order = append(order, rpc.GoName)
				}
				rpcs[rpc.GoName] = append(rpcs[rpc.GoName], rpc)
			}
		}
		goNames := map[string]bool{}
		for _, gm := range it.Methods {
			goNames[gm.Name] = true
			c.r.Stats.Methods[it.Name]++
			prefix := it.Name + "." + gm.Name
			found := rpcs[gm.Name]
			if len(found) == 0 {
				c.add("%s: missing: Go has this method, proto has no RPC with go_name %s", prefix, gm.Name)
				continue
			}
			if len(found) > 1 {
				var names []string
				for _, rpc := range found {
					names = append(names, rpc.Name)
				}
				c.add("%s: %d RPCs have go_name %s (%s)", prefix, len(found), gm.Name, strings.Join(names, ", "))
			}
			c.method(prefix, gm, found[0])
		}
		for _, name := range order {
			if !goNames[name] {
				for _, rpc := range rpcs[name] {
					c.add("%s.%s: extra: RPC %s has go_name %s, which %s does not have", it.Name, name, rpc.Name, name, it.Name)
				}
			}
		}
	}
	for _, s := range c.m.Services {
		if s.GoInterface != "" && !known[s.GoInterface] {
			c.add("service %s: go_interface %s is not one of the checked interfaces (%s)", s.Name, s.GoInterface, strings.Join(InterfaceNames, ", "))
		}
	}
}

// goValue is a Go parameter or result as the gate prints it.
type goValue struct{ name, goType string }

// method compares one RPC with its Go method: signature and doc facts.
func (c *checker) method(prefix string, gm *GoMethod, rpc *Method) {
	var params, results []goValue
	for i := range gm.Sig.Params().Len() {
		params = append(params, goValue{gm.Sig.Params().At(i).Name(), c.p.param(gm.Sig, i)})
	}
	for i := range gm.Sig.Results().Len() {
		v := gm.Sig.Results().At(i)
		results = append(results, goValue{v.Name(), c.p.String(v.Type())})
	}
	c.values(prefix, "param", rpc.Go.Params, params)
	c.values(prefix, "result", rpc.Go.Results, results)

	doc := ParseDoc(gm.Doc)
	if rpc.MinServerVersion != doc.MinServerVersion {
		c.add("%s: min_server_version: proto says %s, Go doc says %s", prefix, orNone(rpc.MinServerVersion), orNone(doc.MinServerVersion))
	}
	if !slices.Equal(rpc.Tags, doc.Tags) {
		c.add("%s: tags: proto says %s, Go doc says %s", prefix, list(rpc.Tags), list(doc.Tags))
	}
	if rpc.Experimental != doc.Experimental {
		c.add("%s: experimental: proto says %t, Go doc says %t", prefix, rpc.Experimental, doc.Experimental)
	}
	switch {
	case rpc.Deprecated != "" && doc.Deprecated == "":
		c.add("%s: deprecated: proto says %q, Go doc has no Deprecated: paragraph", prefix, rpc.Deprecated)
	case rpc.Deprecated == "" && doc.Deprecated != "":
		c.add("%s: deprecated: proto says nothing, Go doc says %q", prefix, doc.Deprecated)
	}
}

// values compares parameters or results. Names are compared where Go names
// the value.
func (c *checker) values(prefix, kind string, proto []GoValue, goVals []goValue) {
	if len(proto) != len(goVals) {
		var ps, gs []string
		for _, v := range proto {
			ps = append(ps, strings.TrimSpace(v.Name+" "+v.GoType))
		}
		for _, v := range goVals {
			gs = append(gs, strings.TrimSpace(v.name+" "+v.goType))
		}
		c.add("%s: %s count: proto says %d (%s), Go says %d (%s)", prefix, kind, len(proto), strings.Join(ps, ", "), len(goVals), strings.Join(gs, ", "))
		return
	}
	for i, gv := range goVals {
		pv := proto[i]
		if gv.name != "" && gv.name != "_" && pv.Name != gv.name {
			c.add("%s: %s %d name: proto says %s, Go says %s", prefix, kind, i+1, orNone(pv.Name), gv.name)
		}
		if pv.GoType != gv.goType {
			c.add("%s: %s %d type: proto says %s, Go says %s", prefix, kind, i+1, orNone(pv.GoType), gv.goType)
		}
	}
}

// lookupType resolves a go_type of the form model.X or plugin.X.
func (c *checker) lookupType(goType string) (*types.TypeName, bool) {
	pkgName, name, ok := strings.Cut(goType, ".")
	if !ok {
		return nil, false
	}
	var pkg *types.Package
	switch pkgName {
	case "model":
		pkg = c.g.Model
	case "plugin":
		pkg = c.g.Plugin
	default:
		return nil, false
	}
	obj, ok := pkg.Scope().Lookup(name).(*types.TypeName)
	return obj, ok
}

// checked tells whether a message's fields are compared with a Go struct.
func checked(msg *Message) bool {
	return !msg.JSON && (strings.HasPrefix(msg.GoType, "model.") || msg.GoType == "plugin.Context")
}

// messages compares every model message with its Go struct: the exported
// fields are exactly the mapped plus the skipped ones, and mapped fields have
// the Go field's type.
func (c *checker) messages() {
	for i := range c.m.Messages {
		msg := &c.m.Messages[i]
		if !checked(msg) {
			continue
		}
		c.r.Stats.Messages++
		prefix := msg.GoType
		if len(c.byGoType[msg.GoType]) > 1 {
			prefix += " (message " + msg.FullName + ")"
		}
		obj, ok := c.lookupType(msg.GoType)
		if !ok {
			c.add("%s: Go has no type %s (message %s)", prefix, msg.GoType, msg.FullName)
			continue
		}
		st, ok := obj.Type().Underlying().(*types.Struct)
		if !ok {
			c.add("%s: Go type is not a struct but %s (message %s)", prefix, c.p.String(obj.Type().Underlying()), msg.FullName)
			continue
		}
		// Every exported field must be mapped or skipped. A mapped field may
		// also name an unexported one (model.AppError's params): such a
		// message is converted by hand-written runtime code.
		goFields := map[string]string{}
		var goOrder []string
		for f := range st.Fields() {
			goFields[f.Name()] = c.p.String(f.Type())
			if f.Exported() {
				goOrder = append(goOrder, f.Name())
			}
		}
		mapped := map[string]string{}
		for _, f := range msg.Fields {
			c.r.Stats.Fields++
			if other, dup := mapped[f.GoName]; dup {
				c.add("%s: field %s: mapped twice (proto fields %s and %s)", prefix, f.GoName, other, f.Name)
				continue
			}
			mapped[f.GoName] = f.Name
			goType, ok := goFields[f.GoName]
			if !ok {
				c.add("%s: field %s: proto maps it (field %s), Go has no field of that name", prefix, f.GoName, f.Name)
				continue
			}
			if f.GoType != goType {
				c.add("%s: field %s type: proto says %s, Go says %s", prefix, f.GoName, orNone(f.GoType), goType)
			}
		}
		skipped := map[string]bool{}
		for _, s := range msg.Skipped {
			c.r.Stats.Skipped++
			if field, ok := mapped[s.GoName]; ok {
				c.add("%s: field %s: both mapped (field %s) and skipped", prefix, s.GoName, field)
			} else if _, ok := goFields[s.GoName]; !ok {
				c.add("%s: skipped field %s: Go has no exported field of that name", prefix, s.GoName)
			}
			skipped[s.GoName] = true
		}
		for _, name := range goOrder {
			if _, ok := mapped[name]; !ok && !skipped[name] {
				c.add("%s: field %s: Go has it (%s), proto neither maps nor skips it", prefix, name, goFields[name])
			}
		}
	}
}

// reachable checks that every named struct of package model reachable from
// the interfaces (through pointers, slices, arrays, maps, named types and the
// exported, not skipped fields of structs not carried as JSON) has a message.
func (c *checker) reachable() {
	type item struct {
		st  *types.Struct
		obj *types.TypeName
		via string
	}
	seen := map[*types.TypeName]bool{}
	var queue []item
	var walk func(t types.Type, via string)
	walk = func(t types.Type, via string) {
		switch t := t.(type) {
		case *types.Pointer:
			walk(t.Elem(), via)
		case *types.Slice:
			walk(t.Elem(), via)
		case *types.Array:
			walk(t.Elem(), via)
		case *types.Chan:
			walk(t.Elem(), via)
		case *types.Map:
			walk(t.Key(), via)
			walk(t.Elem(), via)
		case *types.Alias:
			walk(types.Unalias(t), via)
		case *types.Named:
			for a := range t.TypeArgs().Types() {
				walk(a, via)
			}
			obj := t.Obj()
			if obj.Pkg() == nil || (obj.Pkg().Path() != ModelPath && obj.Pkg().Path() != PluginPath) || seen[obj] {
				return
			}
			seen[obj] = true
			st, ok := t.Underlying().(*types.Struct)
			if !ok {
				walk(t.Underlying(), via)
				return
			}
			goType := obj.Pkg().Name() + "." + obj.Name()
			msgs := c.byGoType[goType]
			if obj.Pkg().Path() == ModelPath {
				c.r.Stats.Reachable++
				if len(msgs) == 0 {
					c.add("%s: reachable from the interfaces (%s), but no message has go_type %s", goType, via, goType)
				}
			}
			if len(msgs) > 0 && msgs[0].JSON {
				return
			}
			queue = append(queue, item{st, obj, via})
		}
	}
	for _, it := range c.g.Interfaces {
		for _, gm := range it.Methods {
			for i := range gm.Sig.Params().Len() {
				walk(gm.Sig.Params().At(i).Type(), fmt.Sprintf("%s.%s param %d", it.Name, gm.Name, i+1))
			}
			for i := range gm.Sig.Results().Len() {
				walk(gm.Sig.Results().At(i).Type(), fmt.Sprintf("%s.%s result %d", it.Name, gm.Name, i+1))
			}
		}
	}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		goType := next.obj.Pkg().Name() + "." + next.obj.Name()
		skipped := map[string]bool{}
		for _, msg := range c.byGoType[goType] {
			for _, s := range msg.Skipped {
				skipped[s.GoName] = true
			}
		}
		for f := range next.st.Fields() {
			if f.Exported() && !skipped[f.Name()] {
				walk(f.Type(), next.via+" -> "+goType+"."+f.Name())
			}
		}
	}
}

// qualifiedName matches `alias.Name` in a go_type expression.
var qualifiedName = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)`)

// imports checks every alias used in go_type values: it is declared in
// go_imports, its path is a package the Go side depends on, that package has
// the alias as its name and the named type, and wherever the Go side printed
// a type under that package name it was the same import path.
func (c *checker) imports() {
	declared := map[string]string{}
	for _, imp := range c.m.GoImports {
		if prev, ok := declared[imp.Alias]; ok && prev != imp.Path {
			c.add("go_imports: alias %s is declared with two paths, %s and %s", imp.Alias, prev, imp.Path)
		}
		declared[imp.Alias] = imp.Path
	}
	type use struct{ alias, name, where, goType string }
	var uses []use
	note := func(goType, where string) {
		for _, m := range qualifiedName.FindAllStringSubmatch(goType, -1) {
			uses = append(uses, use{m[1], m[2], where, goType})
		}
	}
	for _, s := range c.m.Services {
		for _, rpc := range s.Methods {
			for i, v := range rpc.Go.Params {
				note(v.GoType, fmt.Sprintf("%s.%s param %d", s.Name, rpc.Name, i+1))
			}
			for i, v := range rpc.Go.Results {
				note(v.GoType, fmt.Sprintf("%s.%s result %d", s.Name, rpc.Name, i+1))
			}
		}
	}
	for _, msg := range c.m.Messages {
		note(msg.GoType, "message "+msg.FullName)
		for _, f := range msg.Fields {
			note(f.GoType, "field "+msg.FullName+"."+f.Name)
		}
	}
	for _, e := range c.m.Enums {
		note(e.GoType, "enum "+e.FullName)
	}

	reported := map[string]bool{}
	aliases := map[string]bool{}
	for _, u := range uses {
		aliases[u.alias] = true
		path, ok := declared[u.alias]
		if !ok {
			if !reported[u.alias] {
				c.add("go_imports: alias %s (in %s, go_type %s) is not declared", u.alias, u.where, u.goType)
				reported[u.alias] = true
			}
			continue
		}
		pkg := c.g.Packages[path]
		switch {
		case pkg == nil:
			if !reported[u.alias] {
				c.add("go_imports: alias %s: %s is not a package the Go side depends on", u.alias, path)
				reported[u.alias] = true
			}
		case pkg.Name() != u.alias:
			if !reported[u.alias] {
				c.add("go_imports: alias %s: the package at %s is named %s", u.alias, path, pkg.Name())
				reported[u.alias] = true
			}
		default:
			key := u.alias + "." + u.name
			if obj, ok := pkg.Scope().Lookup(u.name).(*types.TypeName); (!ok || !obj.Exported()) && !reported[key] {
				c.add("go_imports: %s (in %s): %s has no exported type %s", key, u.where, path, u.name)
				reported[key] = true
			}
		}
	}
	c.r.Stats.Aliases = len(aliases)
	names := make([]string, 0, len(c.p.paths))
	for name := range c.p.paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path, ok := declared[name]
		if !ok || !aliases[name] {
			continue
		}
		for goPath := range c.p.paths[name] {
			if goPath != path {
				c.add("go_imports: alias %s: proto says %s, Go uses %s", name, path, goPath)
			}
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func list(ss []string) string {
	return "[" + strings.Join(ss, " ") + "]"
}
