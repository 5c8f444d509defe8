// Conversion helpers shared by the generated converters: the Converter that
// collects the first error, generic slice and map conversions, dynamic
// values (google.protobuf.Struct and Value), times, pointers and JSON.

package bridge

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Converter converts between Mattermost model values and their protobuf
// messages. Conversions never stop half-way: a value that cannot be
// converted (a map holding something JSON cannot carry, JSON bytes that do
// not decode) becomes its zero value and the first such problem is kept for
// Err. The zero Converter is ready to use. A result may share slices, maps
// and byte slices with its input; copy before changing either.
type Converter struct {
	err error
}

// Err reports the first conversion problem, or nil.
func (c *Converter) Err() error {
	return c.err
}

func (c *Converter) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf(format, args...)
	}
}

// deref returns the value p points to, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// elemPtr gives the message converter's argument for a slice or map element
// that is either a value M or a pointer *M.
func elemPtr[E, M any](e *E) *M {
	switch x := any(e).(type) {
	case *M:
		return x
	case **M:
		return *x
	}
	panic(fmt.Sprintf("bridge: element type %T is neither %T nor a pointer to it", *e, *new(M)))
}

// setElem stores the converted *M into an element that is M or *M.
func setElem[E, M any](e *E, m *M) {
	switch x := any(e).(type) {
	case **M:
		*x = m
	case *M:
		if m != nil {
			*x = *m
		}
	default:
		panic(fmt.Sprintf("bridge: element type %T is neither %T nor a pointer to it", *e, *new(M)))
	}
}

// sliceToProto converts a slice of model values or pointers to messages.
func sliceToProto[S ~[]E, E, M, P any](s S, conv func(*M) P) []P {
	if len(s) == 0 {
		return nil
	}
	out := make([]P, len(s))
	for i := range s {
		out[i] = conv(elemPtr[E, M](&s[i]))
	}
	return out
}

// sliceFromProto converts messages to a slice of model values or pointers.
func sliceFromProto[S ~[]E, E, M, P any](ps []P, conv func(P) *M) S {
	if len(ps) == 0 {
		return nil
	}
	out := make(S, len(ps))
	for i, p := range ps {
		setElem(&out[i], conv(p))
	}
	return out
}

// mapToProto converts a map of model values or pointers to messages.
func mapToProto[Map ~map[K]E, K comparable, E, M, P any](m Map, conv func(*M) P) map[K]P {
	if len(m) == 0 {
		return nil
	}
	out := make(map[K]P, len(m))
	for k, v := range m {
		out[k] = conv(elemPtr[E, M](&v))
	}
	return out
}

// mapFromProto converts messages to a map of model values or pointers.
func mapFromProto[Map ~map[K]E, K comparable, E, M, P any](ps map[K]P, conv func(P) *M) Map {
	if len(ps) == 0 {
		return nil
	}
	out := make(Map, len(ps))
	for k, p := range ps {
		var e E
		setElem(&e, conv(p))
		out[k] = e
	}
	return out
}

// convSlice converts each element with a plain function.
func convSlice[S ~[]E, E, P any](s S, conv func(E) P) []P {
	if len(s) == 0 {
		return nil
	}
	out := make([]P, len(s))
	for i, e := range s {
		out[i] = conv(e)
	}
	return out
}

// convSliceTo converts each element back with a plain function.
func convSliceTo[S ~[]E, E, P any](ps []P, conv func(P) E) S {
	if len(ps) == 0 {
		return nil
	}
	out := make(S, len(ps))
	for i, p := range ps {
		out[i] = conv(p)
	}
	return out
}

type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// numPtr converts a pointer to a number into a pointer to another number type.
func numPtr[D, S integer](p *S) *D {
	if p == nil {
		return nil
	}
	d := D(*p)
	return &d
}

// strPtr converts a pointer to a string type into a pointer to another one.
func strPtr[D, S ~string](p *S) *D {
	if p == nil {
		return nil
	}
	d := D(*p)
	return &d
}

// bytesFromPtr and bytesToPtr carry a *[]byte as optional bytes.
func bytesFromPtr(p *[]byte) []byte {
	if p == nil {
		return nil
	}
	if *p == nil {
		return []byte{}
	}
	return *p
}

func bytesToPtr(b []byte) *[]byte {
	if b == nil {
		return nil
	}
	return &b
}

// mapToStruct converts a map[string]any. Values structpb cannot take
// directly (structs, typed slices, integers of every width) go through
// encoding/json first, as they would on the REST API.
func (c *Converter) mapToStruct(m map[string]any) *structpb.Struct {
	if m == nil {
		return nil
	}
	s, err := structpb.NewStruct(m)
	if err == nil {
		return s
	}
	var normal map[string]any
	if err := jsonRoundTrip(m, &normal); err != nil {
		c.fail("map[string]any: %w", err)
		return nil
	}
	s, err = structpb.NewStruct(normal)
	if err != nil {
		c.fail("map[string]any: %w", err)
		return nil
	}
	return s
}

func structToMap(s *structpb.Struct) map[string]any {
	if s == nil {
		return nil
	}
	return s.AsMap()
}

// anyToValue converts a single dynamic value, normalising through JSON like mapToStruct.
func (c *Converter) anyToValue(v any) *structpb.Value {
	if v == nil {
		return structpb.NewNullValue()
	}
	pv, err := structpb.NewValue(v)
	if err == nil {
		return pv
	}
	var normal any
	if err := jsonRoundTrip(v, &normal); err != nil {
		c.fail("value of type %T: %w", v, err)
		return nil
	}
	pv, err = structpb.NewValue(normal)
	if err != nil {
		c.fail("value of type %T: %w", v, err)
		return nil
	}
	return pv
}

func valueToAny(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	return v.AsInterface()
}

func jsonRoundTrip(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// timeToProto carries a time.Time; the zero time is unset.
func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeFromProto(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// toJSON and fromJSON carry the types that travel as JSON (model.Config,
// model.License, saml2.AssertionInfo).
func (c *Converter) toJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		c.fail("%T as JSON: %w", v, err)
	}
	return b
}

func (c *Converter) fromJSON(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		c.fail("%T from JSON: %w", v, err)
		return
	}
	nullRawToNil(reflect.ValueOf(v))
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// nullRawToNil undoes what encoding/json does to an empty json.RawMessage
// (it writes null, which decodes as the four bytes "null"), so that a value
// carried as JSON comes back as it went.
func nullRawToNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nullRawToNil(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				nullRawToNil(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type() == rawMessageType {
			if string(v.Bytes()) == "null" && v.CanSet() {
				v.SetBytes(nil)
			}
			return
		}
		for i := range v.Len() {
			nullRawToNil(v.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			nullRawToNil(v.Index(i))
		}
	}
}

// mapConv converts each value of a map with a plain function.
func mapConv[Map ~map[K]E, K comparable, E, P any](m Map, conv func(E) P) map[K]P {
	if len(m) == 0 {
		return nil
	}
	out := make(map[K]P, len(m))
	for k, v := range m {
		out[k] = conv(v)
	}
	return out
}

// mapConvTo converts each value of a map back with a plain function.
func mapConvTo[Map ~map[K]E, K comparable, E, P any](ps map[K]P, conv func(P) E) Map {
	if len(ps) == 0 {
		return nil
	}
	out := make(Map, len(ps))
	for k, p := range ps {
		out[k] = conv(p)
	}
	return out
}
