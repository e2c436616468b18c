package request

import (
	"strings"
	"testing"

	"github.com/spikard/spikard/core/problem"
	"github.com/spikard/spikard/core/route"
)

type fakeInput struct {
	path    [][]byte
	query   string
	qb      []byte
	headers map[string]string
	cookies map[string]string
}

func (f *fakeInput) PathParam(i int) []byte {
	if i < len(f.path) {
		return f.path[i]
	}
	return nil
}
func (f *fakeInput) Query() []byte {
	if f.qb == nil || string(f.qb) != f.query {
		f.qb = []byte(f.query)
	}
	return f.qb
}
func (f *fakeInput) Header(n string) []byte {
	if v, ok := f.headers[n]; ok {
		return []byte(v)
	}
	return nil
}
func (f *fakeInput) Cookie(n string) []byte {
	if v, ok := f.cookies[n]; ok {
		return []byte(v)
	}
	return nil
}

func plan(t testing.TB, pattern, schema string) *Plan {
	pat, err := route.ParsePattern(pattern)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile([]byte(schema), pat)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtract(t *testing.T) {
	p := plan(t, "/i/{id:int}/{slug}", `{"type":"object","properties":{
		"id":{"type":"integer","source":"path"},
		"user_agent":{"type":"string","source":"header"},
		"X-Key":{"type":"string","source":"header","alias":"x-api-key"},
		"page":{"type":"integer","source":"query","default":1},
		"on":{"type":"boolean","source":"query"},
		"when":{"type":"string","format":"date","source":"query"},
		"opt":{"anyOf":[{"type":"integer"},{"type":"null"}],"source":"query"}
	},"required":["user_agent"]}`)
	in := &fakeInput{path: [][]byte{[]byte("7"), []byte("hello")}, query: "on=Off&when=2024-02-29&opt=3",
		headers: map[string]string{"user-agent": "ua", "x-api-key": "k"}}
	var s Scratch
	out, errs := p.Extract(nil, in, &s, nil)
	want := `{"id":7,"user_agent":"ua","X-Key":"k","page":1,"on":false,"when":"2024-02-29","opt":3,"slug":"hello"}`
	if string(out) != want || len(errs) != 0 {
		t.Fatalf("got %s %v\nwant %s", out, errs, want)
	}
	in.query = "when=2024-02-30&opt=x"
	in.headers = nil
	out, errs = p.Extract(out[:0], in, &s, errs[:0])
	var types []string
	for _, e := range errs {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "missing,date_parsing,int_parsing" {
		t.Fatalf("error types %v (%s)", types, out)
	}
	doc := problem.Validation(errs)
	_ = problem.Append(nil, &doc)
}

func TestExtractAllocs(t *testing.T) {
	p := plan(t, "/i/{id:int}", `{"type":"object","properties":{"id":{"type":"integer","source":"path"},"q":{"type":"string","source":"query"},"n":{"type":"number","source":"query"},"tags":{"type":"array","items":{"type":"integer"},"source":"query"}}}`)
	in := &fakeInput{path: [][]byte{[]byte("7")}, query: "q=a%20b&n=1.5&tags=1&tags=2"}
	var s Scratch
	buf := make([]byte, 0, 256)
	errs := make([]problem.Entry, 0, 4)
	if n := testing.AllocsPerRun(200, func() { buf, errs = p.Extract(buf[:0], in, &s, errs[:0]) }); n > 0 {
		t.Errorf("Extract allocates %v times per run", n)
	}
	if string(buf) != `{"id":7,"q":"a b","n":1.5,"tags":[1,2]}` {
		t.Errorf("got %s", buf)
	}
}

func TestContentType(t *testing.T) {
	for ct, ok := range map[string]bool{"application/json": true, "APPLICATION/JSON;charset=utf-8": true, "application/problem+json": true,
		"text/json": false, "application/jsonx": false, "+json": false, "application/json; charset=latin-1": false} {
		if got := CheckContentType([]byte(ct)) == nil; got != ok {
			t.Errorf("CheckContentType(%q) ok=%v, want %v", ct, got, ok)
		}
	}
}

func FuzzExtractQuery(f *testing.F) {
	p := plan(f, "/", `{"type":"object","properties":{"a":{"type":"integer","source":"query"},"b":{"type":"array","items":{"type":"boolean"},"source":"query"},"c":{"type":"string","minLength":1,"source":"query"}}}`)
	f.Add("a=1&b=true&b=0&c=x")
	f.Add("a=%zz&b&c=%41+")
	f.Fuzz(func(t *testing.T, q string) {
		var s Scratch
		out, _ := p.Extract(nil, &fakeInput{query: q}, &s, nil)
		if !jsonValid(out) {
			t.Fatalf("invalid JSON %q for %q", out, q)
		}
	})
}
