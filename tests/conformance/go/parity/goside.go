// The Go side of the gate: plugin.API and plugin.Hooks of the pinned
// Mattermost module, loaded with go/packages (syntax for the plugin package,
// so doc comments are available) and go/types, with type aliases kept.

package parity

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"

	"golang.org/x/tools/go/packages"
)

// Import paths of the packages the proto mirrors.
const (
	PluginPath = "github.com/mattermost/mattermost/server/public/plugin"
	ModelPath  = "github.com/mattermost/mattermost/server/public/model"
	mlogPath   = "github.com/mattermost/mattermost/server/public/shared/mlog"
)

// InterfaceNames are the Go interfaces the gate checks, as go_interface
// values, in report order.
var InterfaceNames = []string{"plugin.API", "plugin.Hooks"}

// GoSide is what the gate knows about the Go packages.
type GoSide struct {
	// Module is the path@version of the module that provides the plugin
	// package, as resolved through go.mod.
	Module string
	// Interfaces are plugin.API and plugin.Hooks, in InterfaceNames order.
	Interfaces []*Interface
	// Plugin and Model are the plugin and model packages.
	Plugin, Model *types.Package
	// Packages are the plugin package and everything it imports,
	// transitively, by import path.
	Packages map[string]*types.Package
}

// Interface is one Go interface and its methods in source order.
type Interface struct {
	// Name is the qualified name, e.g. "plugin.API".
	Name    string
	Methods []*GoMethod
}

// GoMethod is one interface method.
type GoMethod struct {
	Name string
	Sig  *types.Signature
	// Doc is the text of the method's doc comment.
	Doc string
	// Pos is where the method is declared.
	Pos token.Pos
}

// LoadGo loads the plugin package from the module in dir (whose go.mod pins
// the Mattermost version). The calling program must run with type aliases
// enabled (GODEBUG gotypesalias=1, the default for go >= 1.23 modules);
// LoadGo fails if they are not.
func LoadGo(dir string) (*GoSide, error) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax |
			packages.NeedTypesInfo | packages.NeedImports | packages.NeedModule,
		Dir: dir,
	}
	pkgs, err := packages.Load(cfg, PluginPath)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", PluginPath, err)
	}
	if len(pkgs) != 1 {
		return nil, fmt.Errorf("loading %s: got %d packages", PluginPath, len(pkgs))
	}
	pkg := pkgs[0]
	if len(pkg.Errors) > 0 {
		var errs []error
		for _, e := range pkg.Errors {
			errs = append(errs, e)
		}
		return nil, fmt.Errorf("loading %s: %w", PluginPath, errors.Join(errs...))
	}
	g := &GoSide{Plugin: pkg.Types, Packages: map[string]*types.Package{}}
	if pkg.Module != nil {
		g.Module = pkg.Module.Path + "@" + pkg.Module.Version
	}
	var collect func(p *types.Package)
	collect = func(p *types.Package) {
		if g.Packages[p.Path()] != nil {
			return
		}
		g.Packages[p.Path()] = p
		for _, q := range p.Imports() {
			collect(q)
		}
	}
	collect(pkg.Types)
	g.Model = g.Packages[ModelPath]
	if g.Model == nil {
		return nil, fmt.Errorf("%s does not import %s", PluginPath, ModelPath)
	}
	if err := checkAliases(g.Packages[mlogPath]); err != nil {
		return nil, err
	}
	docs := methodDocs(pkg.Syntax)
	for _, qualified := range InterfaceNames {
		name := qualified[len("plugin."):]
		obj, ok := pkg.Types.Scope().Lookup(name).(*types.TypeName)
		if !ok {
			return nil, fmt.Errorf("%s has no type %s", PluginPath, name)
		}
		iface, ok := obj.Type().Underlying().(*types.Interface)
		if !ok {
			return nil, fmt.Errorf("%s is not an interface", qualified)
		}
		it := &Interface{Name: qualified}
		for i := range iface.NumMethods() {
			fn := iface.Method(i)
			it.Methods = append(it.Methods, &GoMethod{
				Name: fn.Name(),
				Sig:  fn.Type().(*types.Signature),
				Doc:  docs[docKey{name, fn.Name()}],
				Pos:  fn.Pos(),
			})
		}
		sort.SliceStable(it.Methods, func(i, j int) bool { return it.Methods[i].Pos < it.Methods[j].Pos })
		g.Interfaces = append(g.Interfaces, it)
	}
	return g, nil
}

// checkAliases makes sure the type checker kept aliases (mlog.Level is
// declared `type Level = logr.Level` and must print as mlog.Level).
func checkAliases(mlog *types.Package) error {
	if mlog == nil {
		return nil
	}
	obj, ok := mlog.Scope().Lookup("Level").(*types.TypeName)
	if !ok || !obj.IsAlias() {
		return nil
	}
	if _, ok := obj.Type().(*types.Alias); !ok {
		return errors.New("go/types did not keep type aliases (mlog.Level became " +
			types.TypeString(obj.Type(), nil) + "): run with GODEBUG=gotypesalias=1")
	}
	return nil
}

type docKey struct{ iface, method string }

// methodDocs returns the doc comment text of every method of every interface
// type declared in files.
func methodDocs(files []*ast.File) map[docKey]string {
	docs := map[docKey]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.TYPE {
				continue
			}
			for _, spec := range gen.Specs {
				ts := spec.(*ast.TypeSpec)
				it, ok := ts.Type.(*ast.InterfaceType)
				if !ok {
					continue
				}
				for _, field := range it.Methods.List {
					for _, n := range field.Names {
						docs[docKey{ts.Name.Name, n.Name}] = field.Doc.Text()
					}
				}
			}
		}
	}
	return docs
}
