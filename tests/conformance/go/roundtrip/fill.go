package roundtrip

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand"
	"os"
	"reflect"
	"strconv"
	"time"
)

// MaxDepth bounds the nesting the filler builds: a pointer, slice, map or
// struct deeper than this is left at its zero value.
const MaxDepth = 7

var (
	timeType       = reflect.TypeFor[time.Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	anyType        = reflect.TypeFor[any]()
	errorType      = reflect.TypeFor[error]()
)

// Filler makes random values of any Go type (see the package doc).
type Filler struct {
	r *rand.Rand
}

// Seed returns the seed of a subtest: a hash of its name, mixed with
// ROUNDTRIP_SEED when set.
func Seed(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	seed := int64(h.Sum64() >> 1)
	if s := os.Getenv("ROUNDTRIP_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("ROUNDTRIP_SEED=%q: %v", s, err))
		}
		seed ^= n
	}
	return seed
}

// NewFiller returns a filler drawing from seed.
func NewFiller(seed int64) *Filler {
	return &Filler{r: rand.New(rand.NewSource(seed))}
}

// Value returns a new filled value of type t.
func (f *Filler) Value(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	f.fill(v, 0)
	return v
}

// Bytes returns n random bytes.
func (f *Filler) Bytes(n int) []byte {
	b := make([]byte, n)
	f.r.Read(b)
	return b
}

// String returns a random non-empty valid UTF-8 string.
func (f *Filler) String() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
	n := 3 + f.r.Intn(10)
	b := make([]byte, 0, n+4)
	for range n {
		b = append(b, alphabet[f.r.Intn(len(alphabet))])
	}
	switch f.r.Intn(4) {
	case 0:
		b = append(b, "é"...)
	case 1:
		b = append(b, "漢"...)
	}
	return string(b)
}

// JSON returns a random JSON-shaped value (string, float64, bool, nil,
// []any, map[string]any); never nil at the top.
func (f *Filler) JSON() any {
	return f.jsonValue(0, false)
}

func (f *Filler) jsonValue(depth int, allowNil bool) any {
	n := 6
	if depth >= 2 {
		n = 4 // scalars only
	}
	if allowNil {
		n++
	}
	switch k := f.r.Intn(n); {
	case k == 0:
		return f.String()
	case k == 1:
		// A dyadic fraction or an integer: exact in float64 and in JSON.
		return float64(f.r.Int63n(1<<40)-(1<<39)) / 4
	case k == 2:
		return true
	case k == 3:
		return float64(f.r.Int63n(1 << 52))
	case k == 4 && depth < 2:
		return []any{f.jsonValue(depth+1, true), f.jsonValue(depth+1, true)}
	case k == 5 && depth < 2:
		return map[string]any{f.String(): f.jsonValue(depth+1, true), f.String(): f.jsonValue(depth+1, true)}
	default:
		return nil
	}
}

// JSONObject returns a random map[string]any with JSON-shaped values.
func (f *Filler) JSONObject() map[string]any {
	return map[string]any{
		f.String(): f.jsonValue(1, true),
		f.String(): f.jsonValue(1, false),
		f.String(): f.jsonValue(0, false),
	}
}

// Time returns a random time in UTC with nanoseconds.
func (f *Filler) Time() time.Time {
	return time.Unix(1e9+f.r.Int63n(2e9), 1+f.r.Int63n(999_999_999)).UTC()
}

func (f *Filler) fill(v reflect.Value, depth int) {
	t := v.Type()
	switch t {
	case timeType:
		v.Set(reflect.ValueOf(f.Time()))
		return
	case rawMessageType:
		b, _ := json.Marshal(f.JSONObject())
		v.SetBytes(b)
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(f.signed(63))
	case reflect.Int32:
		v.SetInt(f.signed(31))
	case reflect.Int16:
		v.SetInt(f.signed(15))
	case reflect.Int8:
		v.SetInt(f.signed(7))
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		v.SetUint(1 + uint64(f.r.Int63()))
	case reflect.Uint32:
		v.SetUint(1 + uint64(f.r.Int31()))
	case reflect.Uint16:
		v.SetUint(1 + uint64(f.r.Intn(1<<15)))
	case reflect.Uint8:
		v.SetUint(1 + uint64(f.r.Intn(1<<7)))
	case reflect.Float64:
		v.SetFloat(float64(f.r.Int63n(1<<40)+1) / 8)
	case reflect.Float32:
		v.SetFloat(float64(f.r.Int31n(1<<20)+1) / 8)
	case reflect.String:
		v.SetString(f.String())
	case reflect.Interface:
		if t.NumMethod() == 0 {
			v.Set(reflect.ValueOf(f.jsonValue(depth, false)))
		}
		// Other interfaces (error, io.Reader, ...) are the caller's business.
	case reflect.Pointer:
		if depth >= MaxDepth {
			return
		}
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), depth+1)
		switch t.Elem().Kind() {
		case reflect.Slice, reflect.Map, reflect.Pointer:
			if p.Elem().IsNil() {
				return // the depth limit left nothing to point to
			}
		}
		v.Set(p)
	case reflect.Slice:
		if depth >= MaxDepth {
			return
		}
		if t.Elem().Kind() == reflect.Uint8 {
			v.SetBytes(f.Bytes(4 + f.r.Intn(12)))
			return
		}
		s := reflect.MakeSlice(t, 2, 2)
		for i := range 2 {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth >= MaxDepth {
			return
		}
		m := reflect.MakeMapWithSize(t, 2)
		for try := 0; m.Len() < 2 && try < 10; try++ {
			k := reflect.New(t.Key()).Elem()
			f.fill(k, depth+1)
			e := reflect.New(t.Elem()).Elem()
			if t.Elem() == anyType {
				// The second value of a map[string]any may be a JSON null.
				if x := f.jsonValue(depth+1, m.Len() == 1); x != nil {
					e.Set(reflect.ValueOf(x))
				}
			} else {
				f.fill(e, depth+1)
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if depth >= MaxDepth {
			return
		}
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			f.fill(v.Field(i), depth+1)
		}
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		// Left nil / zero.
	}
}

// signed returns a non-zero value of at most bits bits, either sign; beyond
// 32 bits for 64-bit types so that a narrowing conversion shows.
func (f *Filler) signed(bits int) int64 {
	var n int64
	switch bits {
	case 63:
		n = 1<<33 + f.r.Int63n(1<<52)
	case 31:
		n = 1 + f.r.Int63n(1<<31-1)
	default:
		n = 1 + f.r.Int63n(1<<bits-1)
	}
	if f.r.Intn(2) == 0 {
		n = -n
	}
	return n
}
