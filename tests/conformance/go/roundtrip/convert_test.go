package roundtrip

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"mmbindgen.dev/generated/go/bridge"
)

// minConverterPairs is the least number of XToProto / XFromProto pairs
// bridge.Converter must have.
const minConverterPairs = 118

var protoMessageType = reflect.TypeFor[proto.Message]()

// converterPair is one XToProto / XFromProto pair.
type converterPair struct {
	name     string // X
	to, from reflect.Method
}

// converterPairs lists the pairs of bridge.Converter by reflection.
func converterPairs() []converterPair {
	ct := reflect.TypeFor[*bridge.Converter]()
	var out []converterPair
	for i := range ct.NumMethod() {
		to := ct.Method(i)
		name, ok := strings.CutSuffix(to.Name, "ToProto")
		if !ok {
			continue
		}
		from, ok := ct.MethodByName(name + "FromProto")
		if !ok {
			continue
		}
		out = append(out, converterPair{name: name, to: to, from: from})
	}
	return out
}

func TestConverterRoundTrip(t *testing.T) {
	if _, err := LoadProtoModel(); err != nil {
		t.Fatal(err) // the equality rules need the skipped fields
	}
	pairs := converterPairs()
	if len(pairs) < minConverterPairs {
		t.Errorf("bridge.Converter has %d XToProto/XFromProto pairs, want at least %d", len(pairs), minConverterPairs)
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			// Signatures: (c *Converter) XToProto(V) *pb.X and XFromProto(*pb.X) V.
			tt, ft := p.to.Type, p.from.Type
			if tt.NumIn() != 2 || tt.NumOut() != 1 || ft.NumIn() != 2 || ft.NumOut() != 1 ||
				tt.Out(0) != ft.In(1) || tt.In(1) != ft.Out(0) || !tt.Out(0).Implements(protoMessageType) {
				t.Fatalf("unexpected signatures %s / %s", tt, ft)
			}
			goType := tt.In(1)
			t.Run("filled", func(t *testing.T) {
				f := newFiller(t)
				var v reflect.Value
				if goType == errorType {
					// ErrorToProto: an AppError with every field set (a plain
					// error crosses TestAPIRoundTrip's plain_error subtests).
					v = reflect.New(errorType).Elem()
					v.Set(reflect.ValueOf(fullAppError()))
				} else {
					v = f.Value(goType)
				}
				converterRoundTrip(t, p, v)
			})
			if goType.Kind() == reflect.Pointer {
				// A pointer to the zero value: an empty message, which must
				// come back as a pointer to the zero value, not nil.
				t.Run("empty", func(t *testing.T) { converterRoundTrip(t, p, reflect.New(goType.Elem())) })
			}
		})
	}
}

// converterRoundTrip converts v to its message, through the wire and back,
// and compares.
func converterRoundTrip(t *testing.T, p converterPair, v reflect.Value) {
	t.Helper()
	var c bridge.Converter
	cv := reflect.ValueOf(&c)
	msg := p.to.Func.Call([]reflect.Value{cv, v})[0].Interface().(proto.Message)
	wire, err := proto.Marshal(msg)
	if err != nil {
		t.Fatalf("proto.Marshal: %v", err)
	}
	decoded := msg.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(wire, decoded); err != nil {
		t.Fatalf("proto.Unmarshal: %v", err)
	}
	back := p.from.Func.Call([]reflect.Value{cv, reflect.ValueOf(decoded)})[0]
	if err := c.Err(); err != nil {
		t.Errorf("Converter.Err() = %v", err)
	}
	reportDiff(t, v.Type().String()+" after the round trip", Diff(v, back))
}
