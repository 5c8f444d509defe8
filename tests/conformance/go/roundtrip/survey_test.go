package roundtrip

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/plugin"
	"mmbindgen.dev/generated/go/bridge"
)

func TestSurvey(t *testing.T) {
	seen := map[string]int{}
	for _, it := range []reflect.Type{reflect.TypeOf((*plugin.API)(nil)).Elem(), reflect.TypeOf((*plugin.Hooks)(nil)).Elem()} {
		fmt.Println(it, it.NumMethod())
		for i := 0; i < it.NumMethod(); i++ {
			m := it.Method(i).Type
			for j := 0; j < m.NumIn(); j++ {
				seen["in "+m.In(j).String()]++
			}
			for j := 0; j < m.NumOut(); j++ {
				seen["out "+m.Out(j).String()]++
			}
		}
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println(strings.Join(keys, "\n"))
	ct := reflect.TypeOf(&bridge.Converter{})
	n := 0
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		if strings.HasSuffix(m.Name, "ToProto") {
			if _, ok := ct.MethodByName(strings.TrimSuffix(m.Name, "ToProto") + "FromProto"); ok {
				n++
				fmt.Println("pair", m.Name, m.Type.In(1))
			}
		} else if !strings.HasSuffix(m.Name, "FromProto") {
			fmt.Println("other", m.Name)
		}
	}
	fmt.Println("pairs", n)
}
