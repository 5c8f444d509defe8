// What makes a plugin bundle a Python plugin, and which interpreter runs it.
//
// A Python plugin's manifest says where its entry script is:
//
//	"props": {"python": {"main": "plugin.py"}}
//
// The path is relative to the bundle, clean, and names a regular .py file
// inside it (symbolic links included). The interpreter is the bundle's own
// virtual environment when it has one, else python3 from PATH.

package bridge

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mattermost/mattermost/server/public/model"
)

// The manifest fields that mark a Python plugin: Props[PythonProp] is an
// object whose PythonMainKey is the entry script.
const (
	PythonProp    = "python"
	PythonMainKey = "main"
)

// PythonMain returns the absolute path of the entry script of the Python
// plugin in dir, whose manifest is m: the manifest's props.python.main, which
// must be a string holding a clean relative path ("plugin.py",
// "server/main.py"; not "./plugin.py", "/srv/plugin.py" or "../plugin.py")
// of a regular file ending in ".py" that stays inside dir once symbolic links
// are resolved. Errors name the plugin and the manifest field.
func PythonMain(dir string, m *model.Manifest) (string, error) {
	if m == nil {
		return "", errors.New("bridge: no plugin manifest")
	}
	const field = "manifest props." + PythonProp + "." + PythonMainKey
	bad := func(format string, args ...any) error {
		return fmt.Errorf("bridge: plugin %q: %s: %s", m.Id, field, fmt.Sprintf(format, args...))
	}

	raw, ok := m.Props[PythonProp]
	if !ok {
		return "", bad("missing: a Python plugin's manifest needs %s", `"props": {"python": {"main": "<entry script>"}}`)
	}
	python, ok := raw.(map[string]any)
	if !ok {
		return "", bad("props.%s is %s, not an object", PythonProp, jsonKind(raw))
	}
	rawMain, ok := python[PythonMainKey]
	if !ok {
		return "", bad("missing")
	}
	main, ok := rawMain.(string)
	if !ok {
		return "", bad("is %s, not a string", jsonKind(rawMain))
	}

	rel := filepath.FromSlash(main)
	switch {
	case main == "":
		return "", bad("is empty")
	case filepath.IsAbs(rel) || strings.HasPrefix(main, "/"):
		return "", bad("%q is absolute; it must be relative to the plugin bundle", main)
	case !filepath.IsLocal(rel):
		return "", bad("%q leaves the plugin bundle", main)
	case filepath.Clean(rel) != rel:
		return "", bad("%q is not a clean path (write %q)", main, filepath.ToSlash(filepath.Clean(rel)))
	case !strings.HasSuffix(main, ".py"):
		return "", bad("%q is not a .py file", main)
	}

	root, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("bridge: plugin %q: bundle directory: %w", m.Id, err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("bridge: plugin %q: bundle directory: %w", m.Id, err)
	}
	path := filepath.Join(root, rel)
	realPath, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", bad("%q does not exist in the plugin bundle", main)
	}
	if err != nil {
		return "", bad("%q: %v", main, err)
	}
	if inside, err := filepath.Rel(realRoot, realPath); err != nil || !filepath.IsLocal(inside) {
		return "", bad("%q resolves to %s, outside the plugin bundle", main, realPath)
	}
	info, err := os.Stat(realPath)
	if err != nil {
		return "", bad("%q: %v", main, err)
	}
	if !info.Mode().IsRegular() {
		return "", bad("%q is not a regular file", main)
	}
	return path, nil
}

// jsonKind names the JSON kind of a value decoded into an any.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64, uint64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// findPython returns the absolute path of the interpreter for the bundle in
// dir: override when it is set (a path, or a name looked up in PATH), else
// the first of dir/venv/bin/python, dir/.venv/bin/python and python3 from
// PATH. A virtual environment's interpreter that exists but cannot run (a
// dangling link, say, in a bundle built on another machine) is an error
// rather than a reason to run another interpreter without the bundle's
// packages. Unix layouts only: a Windows virtual environment keeps its
// interpreter in Scripts\python.exe, which is not looked for.
func findPython(dir, override string) (string, error) {
	if override != "" {
		path, err := exec.LookPath(override)
		if err != nil {
			return "", fmt.Errorf("the configured interpreter: %w", err)
		}
		return filepath.Abs(path)
	}
	var tried []string
	for _, venv := range []string{"venv", ".venv"} {
		path := filepath.Join(dir, venv, "bin", "python")
		tried = append(tried, path)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("the bundle's interpreter %s: %w", path, err)
		}
		if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("the bundle's interpreter %s is not an executable file", path)
		}
		return filepath.Abs(path)
	}
	tried = append(tried, "python3 in PATH")
	path, err := exec.LookPath("python3")
	if err != nil {
		return "", fmt.Errorf("no Python interpreter (tried %s): %w", strings.Join(tried, ", "), err)
	}
	return filepath.Abs(path)
}
