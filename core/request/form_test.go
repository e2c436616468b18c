package request

import (
	"encoding/json"
	"strings"
	"testing"
)

func mustShape(t testing.TB, schema string) *Shape {
	t.Helper()
	s, err := CompileShape([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecodeForm(t *testing.T) {
	shape := mustShape(t, `{"type":"object","properties":{
		"n":{"anyOf":[{"type":"integer"},{"type":"null"}]},
		"f":{"type":["number","null"]},
		"b":{"type":"boolean"},
		"list":{"type":"array","items":{"type":"integer"}},
		"m":{"type":"object","additionalProperties":{"type":"integer"}}}}`)
	var sc FormScratch
	cases := []struct{ in, want string }{
		{"n=%2B5&f=2e3&b=YES", `{"n":5,"f":2000,"b":true}`},
		{"list=1&list=2&list[]=3", `{"list":[1,2,3]}`}, // "[]" appends to the repeated values
		{"m[a]=1&m[b]=2", `{"m":{"a":1,"b":2}}`},
		{"x[0]=a&x[2]=c&x[1]=b", `{"x":["a","b","c"]}`},
		{"x[]=a&x[]=b", `{"x":["a","b"]}`},
		{"x[a][]=1&x[a][]=2&x[b]=3", `{"x":{"a":["1","2"],"b":"3"}}`},
		{"x[0][k]=1&x[0][j]=2&x[1][k]=3", `{"x":[{"k":"1","j":"2"},{"k":"3"}]}`},
		{"x[k]=1&x[0]=2", `{"x":{"k":"1","0":"2"}}`},
		{"x[]=1&x[k]=2", `{"x":["1"]}`},
		{"a=1&a[b]=2", `{"a":"1"}`},
		{"a&b=&=c", `{"a":"","":"c"}`}, // b is boolean: empty means absent
		{"%E2%9C%93=%FF", `{"✓":"\ufffd"}`},
		{"k=%zz%4", `{"k":"%zz%4"}`},
		{"x[99999]=1", `{"x":{"99999":"1"}}`},
		{"d" + strings.Repeat("[a]", 33) + "=1", `{"d` + strings.Repeat("[a]", 33) + `":"1"}`},
	}
	for _, c := range cases {
		out, errs := shape.DecodeForm([]byte(c.in), &sc)
		if len(errs) != 0 {
			t.Errorf("%q: errors %v", c.in, errs)
		}
		var g, w any
		if err := json.Unmarshal(out, &g); err != nil {
			t.Errorf("%q: invalid JSON %s", c.in, out)
			continue
		}
		json.Unmarshal([]byte(c.want), &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("%q:\n got %s\nwant %s", c.in, out, c.want)
		}
	}
}

func TestDecodeFormWide(t *testing.T) {
	// Many distinct keys go through the index; repeated ones still group.
	var in []byte
	for i := 0; i < 200; i++ {
		in = append(in, "k"...)
		in = append(in, byte('a'+i%26), byte('a'+i/26))
		in = append(in, "=1&"...)
	}
	in = append(in, "kaa=2"...)
	var sc FormScratch
	out, _ := (*Shape)(nil).DecodeForm(in, &sc)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 200 {
		t.Errorf("%d keys", len(m))
	}
	if a, ok := m["kaa"].([]any); !ok || len(a) != 2 {
		t.Errorf("kaa = %v", m["kaa"])
	}
}

func TestFormCoercionErrors(t *testing.T) {
	shape := mustShape(t, `{"type":"object","properties":{"i":{"type":"integer"},"l":{"type":"array","items":{"type":"number"}},"o":{"type":"object","properties":{"b":{"type":"boolean"}}}}}`)
	var sc FormScratch
	_, errs := shape.DecodeForm([]byte("i=x&l=1&l=y&o[b]=z"), &sc)
	// The same parse errors as for the same strings in a query.
	want := []string{`["body","i"]`, `["body","l",1]`, `["body","o","b"]`}
	types := []string{"int_parsing", "float_parsing", "bool_parsing"}
	if len(errs) != len(want) {
		t.Fatalf("errors %+v", errs)
	}
	for i, e := range errs {
		var loc []any
		for _, l := range e.Loc {
			if l.IsIndex {
				loc = append(loc, l.Index)
			} else {
				loc = append(loc, l.Key)
			}
		}
		b, _ := json.Marshal(loc)
		if string(b) != want[i] || e.Type != types[i] {
			t.Errorf("error %d at %s (%s), want %s (%s)", i, b, e.Type, want[i], types[i])
		}
	}
}

func FuzzDecodeForm(f *testing.F) {
	shape := mustShape(f, `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"array","items":{"type":"boolean"}},"c":{"type":"object","properties":{"d":{"type":"number"}}}}}`)
	for _, s := range []string{"a=1&b=true&b=0", "c[d]=1.5&c[e][]=x", "x[0][1][]=&x[0]=y", "a[&]=%", "=&&=="} {
		f.Add(s)
	}
	var sc FormScratch
	f.Fuzz(func(t *testing.T, in string) {
		for _, s := range []*Shape{shape, nil} {
			out, _ := s.DecodeForm([]byte(in), &sc)
			if !json.Valid(out) {
				t.Fatalf("%q: invalid JSON %s", in, out)
			}
		}
	})
}

func TestDecodeAllocs(t *testing.T) {
	shape := mustShape(t, `{"type":"object","properties":{"a":{"type":"integer"},"t":{"type":"array","items":{"type":"string"}},"f":{"type":"string","format":"binary"}}}`)
	var sc FormScratch
	form := []byte("a=1&t=x&t=y&u[v]=w&u[x][]=1")
	mp := []byte("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n7\r\n--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\nContent-Type: text/plain\r\n\r\ndata\r\n--B--")
	shape.DecodeForm(form, &sc)
	if _, _, _, _, err := shape.DecodeMultipart(mp, []byte("B"), &sc); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { shape.DecodeForm(form, &sc) }); n != 0 {
		t.Errorf("DecodeForm allocates %v times", n)
	}
	b := []byte("B")
	if n := testing.AllocsPerRun(100, func() { shape.DecodeMultipart(mp, b, &sc) }); n != 0 {
		t.Errorf("DecodeMultipart allocates %v times", n)
	}
}
