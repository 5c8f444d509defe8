package roundtrip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

var appErrorType = reflect.TypeFor[*model.AppError]()

// Diff compares want and got by the equality rules of the package doc and
// returns one line per difference (nil when equal). The values must have the
// same static type; pass them as reflect.Values of that type.
func Diff(want, got reflect.Value) []string {
	var d differ
	d.value("", want, got)
	return d.out
}

// DiffValues is Diff for two values of the same static type T.
func DiffValues[T any](want, got T) []string {
	return Diff(reflect.ValueOf(&want).Elem(), reflect.ValueOf(&got).Elem())
}

type differ struct {
	out []string
}

func (d *differ) add(path, format string, args ...any) {
	if path == "" {
		path = "(value)"
	}
	if len(d.out) < 40 {
		d.out = append(d.out, path+": "+fmt.Sprintf(format, args...))
	} else if len(d.out) == 40 {
		d.out = append(d.out, "... (more differences)")
	}
}

// value compares a and b.
func (d *differ) value(path string, a, b reflect.Value) {
	if !a.IsValid() || !b.IsValid() {
		if a.IsValid() != b.IsValid() {
			d.add(path, "want %s, got %s", show(a), show(b))
		}
		return
	}
	if a.Type() != b.Type() {
		d.add(path, "type: want %s, got %s", a.Type(), b.Type())
		return
	}
	t := a.Type()
	switch t {
	case timeType: // rule 4
		if !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
			d.add(path, "time: want %v, got %v", a.Interface(), b.Interface())
		}
		return
	case rawMessageType: // rule 3
		d.jsonEqual(path, a.Bytes(), b.Bytes())
		return
	case appErrorType: // rule 5
		d.appError(path, a.Interface().(*model.AppError), b.Interface().(*model.AppError))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				d.add(path, "want %s, got %s", nilness(a), nilness(b))
			}
			return
		}
		d.value(path, a.Elem(), b.Elem())
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				d.add(path, "want %s, got %s", show(a), show(b))
			}
			return
		}
		switch {
		case t.NumMethod() == 0: // rule 2
			d.anyEqual(path, a.Interface(), b.Interface())
		case t == errorType:
			d.errorEqual(path, a.Interface().(error), b.Interface().(error))
		default:
			d.value(path, a.Elem(), b.Elem())
		}
	case reflect.Struct:
		skip := SkippedFields(t)
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Type.Kind() == reflect.Func || skip[f.Name] { // rule 6
				continue
			}
			d.value(path+"."+f.Name, a.Field(i), b.Field(i))
		}
	case reflect.Slice:
		if a.Len() == 0 && b.Len() == 0 { // rule 1
			return
		}
		if t.Elem().Kind() == reflect.Uint8 {
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				d.add(path, "bytes differ: want %d bytes %s, got %d bytes %s", a.Len(), clip(a.Bytes()), b.Len(), clip(b.Bytes()))
			}
			return
		}
		fallthrough
	case reflect.Array:
		if a.Len() != b.Len() {
			d.add(path, "length: want %d, got %d", a.Len(), b.Len())
			return
		}
		for i := range a.Len() {
			d.value(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i))
		}
	case reflect.Map:
		if a.Len() == 0 && b.Len() == 0 { // rule 1
			return
		}
		if t.Elem().Kind() == reflect.Interface && t.Elem().NumMethod() == 0 && t.Key().Kind() == reflect.String {
			d.anyEqual(path, a.Interface(), b.Interface())
			return
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				d.add(fmt.Sprintf("%s[%v]", path, k), "missing")
				continue
			}
			d.value(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), bv)
		}
		for _, k := range b.MapKeys() {
			if !a.MapIndex(k).IsValid() {
				d.add(fmt.Sprintf("%s[%v]", path, k), "unexpected key")
			}
		}
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		// rule 6
	case reflect.Float32, reflect.Float64:
		if a.Float() != b.Float() {
			d.add(path, "want %v, got %v", a.Float(), b.Float())
		}
	default:
		if a.Interface() != b.Interface() {
			d.add(path, "want %#v, got %#v", a.Interface(), b.Interface())
		}
	}
}

// anyEqual compares two values of static type any through encoding/json
// (rule 2).
func (d *differ) anyEqual(path string, a, b any) {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		d.add(path, "cannot encode as JSON: %v / %v", errA, errB)
		return
	}
	d.jsonEqual(path, ja, jb)
}

func (d *differ) jsonEqual(path string, a, b []byte) {
	var va, vb any
	errA := json.Unmarshal(a, &va)
	errB := json.Unmarshal(b, &vb)
	if errA != nil || errB != nil {
		if !bytes.Equal(a, b) {
			d.add(path, "want %s, got %s", clip(a), clip(b))
		}
		return
	}
	if !reflect.DeepEqual(emptyToNil(va), emptyToNil(vb)) {
		d.add(path, "want %s, got %s", clip(a), clip(b))
	}
}

// emptyToNil maps an empty top-level object or array to nil (rule 1 for
// map[string]any and []any).
func emptyToNil(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

// AppErrorParams reads the params of e through SystemMessage and a
// capturing translate function.
func AppErrorParams(e *model.AppError) map[string]any {
	var params map[string]any
	e.SystemMessage(func(_ string, args ...any) string {
		if len(args) > 0 {
			params, _ = args[0].(map[string]any)
		}
		return ""
	})
	return params
}

func (d *differ) appError(path string, a, b *model.AppError) {
	if a == nil || b == nil {
		if (a == nil) != (b == nil) {
			d.add(path, "want %v, got %v", a, b)
		}
		return
	}
	check := func(field string, x, y any) {
		if x != y {
			d.add(path+"."+field, "want %#v, got %#v", x, y)
		}
	}
	check("Id", a.Id, b.Id)
	check("Message", a.Message, b.Message)
	check("DetailedError", a.DetailedError, b.DetailedError)
	check("RequestId", a.RequestId, b.RequestId)
	check("StatusCode", a.StatusCode, b.StatusCode)
	check("Where", a.Where, b.Where)
	pa, pb := AppErrorParams(a), AppErrorParams(b)
	if len(pa) != 0 || len(pb) != 0 {
		d.anyEqual(path+".params", pa, pb)
	}
}

// errorEqual: an AppError compares by rule 5, any other error by its text
// (rule 7); an AppError never equals a plain error.
func (d *differ) errorEqual(path string, a, b error) {
	var ea, eb *model.AppError
	asA, asB := errors.As(a, &ea), errors.As(b, &eb)
	switch {
	case asA && asB:
		d.appError(path, ea, eb)
	case asA != asB:
		d.add(path, "want %T %q, got %T %q", a, a.Error(), b, b.Error())
	case a.Error() != b.Error():
		d.add(path, "want error %q, got %q", a.Error(), b.Error())
	}
}

func nilness(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	return "non-nil " + v.Type().String()
}

func show(v reflect.Value) string {
	if !v.IsValid() {
		return "<invalid>"
	}
	if (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && v.IsNil() {
		return "nil"
	}
	return fmt.Sprintf("%T", v.Interface())
}

func clip(b []byte) string {
	if len(b) > 120 {
		return fmt.Sprintf("%q...", b[:120])
	}
	return fmt.Sprintf("%q", b)
}
