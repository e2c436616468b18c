package route

import (
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	good := []struct {
		in    string
		kinds []Kind
	}{
		{"/", nil},
		{"/users", []Kind{Literal}},
		{"/users/{id}", []Kind{Literal, Any}},
		{"/users/{id:int}/posts/{pid:uuid}", []Kind{Literal, Int, Literal, UUID}},
		{"/files/{rest:path}", []Kind{Literal, Rest}},
		{"/a/", []Kind{Literal, Literal}},
	}
	for _, c := range good {
		p, err := ParsePattern(c.in)
		if err != nil {
			t.Errorf("ParsePattern(%q): %v", c.in, err)
			continue
		}
		if len(p.Segments) != len(c.kinds) {
			t.Errorf("ParsePattern(%q): %d segments, want %d", c.in, len(p.Segments), len(c.kinds))
			continue
		}
		for i, k := range c.kinds {
			if p.Segments[i].Kind != k {
				t.Errorf("ParsePattern(%q) segment %d: kind %d, want %d", c.in, i, p.Segments[i].Kind, k)
			}
		}
	}
	bad := []string{"", "users", "/{id", "/id}", "/x{id}", "/{}", "/{1a}", "/{a:float}", "/{a:path}/b", "/{a}/{a}", "/{a-b}",
		"/" + strings.Repeat("{p}/", 0) + manyParams(MaxParams+1)}
	for _, in := range bad {
		if _, err := ParsePattern(in); err == nil {
			t.Errorf("ParsePattern(%q): no error", in)
		}
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString("{p")
		b.WriteByte(byte('a' + i%26))
		b.WriteByte(byte('a' + i/26))
		b.WriteByte('}')
	}
	return b.String()
}

func build(t testing.TB, routes []struct {
	m Method
	p string
}) *Tree {
	var tr Tree
	for i, r := range routes {
		p, err := ParsePattern(r.p)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Insert(r.m, p, int32(i)); err != nil {
			t.Fatal(err)
		}
	}
	return &tr
}

var table = []struct {
	m Method
	p string
}{
	{GET, "/"},                  // 0
	{GET, "/users"},             // 1
	{POST, "/users"},            // 2
	{GET, "/users/{id:int}"},    // 3
	{GET, "/users/{id:uuid}"},   // 4
	{GET, "/users/{name}"},      // 5
	{GET, "/users/me"},          // 6
	{GET, "/a/{id:int}/x"},      // 7
	{GET, "/a/{name}/y"},        // 8
	{GET, "/files/{rest:path}"}, // 9
	{GET, "/files/special"},     // 10
	{DELETE, "/users/{id:int}"}, // 11
	{HEAD, "/h"},                // 12
	{GET, "/h"},                 // 13
	{PUT, "/p/{x}"},             // 14
	{GET, "/p/{x:int}"},         // 15
}

func TestMatch(t *testing.T) {
	tr := build(t, table)
	cases := []struct {
		m       Method
		path    string
		outcome Outcome
		route   int32
		caps    []string
		head    bool
		allow   string
	}{
		{GET, "/", Found, 0, nil, false, ""},
		{GET, "/users", Found, 1, nil, false, ""},
		{POST, "/users", Found, 2, nil, false, ""},
		{GET, "/users/42", Found, 3, []string{"42"}, false, ""},
		{GET, "/users/-42", Found, 3, []string{"-42"}, false, ""},
		{GET, "/users/6ba7b810-9dad-11d1-80b4-00c04fd430c8", Found, 4, []string{"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}, false, ""},
		{GET, "/users/bob", Found, 5, []string{"bob"}, false, ""},
		{GET, "/users/me", Found, 6, nil, false, ""},
		{GET, "/a/7/x", Found, 7, []string{"7"}, false, ""},
		{GET, "/a/7/y", Found, 8, []string{"7"}, false, ""}, // backtracks from {id:int}
		{GET, "/files/a/b/c", Found, 9, []string{"a/b/c"}, false, ""},
		{GET, "/files/special", Found, 10, nil, false, ""},
		{GET, "/files/", Found, 9, []string{""}, false, ""},
		{HEAD, "/users/42", Found, 3, []string{"42"}, true, ""},
		{HEAD, "/h", Found, 12, nil, false, ""},
		{DELETE, "/users/42", Found, 11, []string{"42"}, false, ""},
		{DELETE, "/users/bob", MethodNotAllowed, -1, nil, false, "GET, HEAD"},
		{PUT, "/users", MethodNotAllowed, -1, nil, false, "GET, POST, HEAD"},
		{PUT, "/p/5", Found, 14, []string{"5"}, false, ""},
		{GET, "/p/5", Found, 15, []string{"5"}, false, ""},
		{GET, "/p/x", MethodNotAllowed, -1, nil, false, "PUT"},
		{POST, "/p/5", MethodNotAllowed, -1, nil, false, "GET, PUT, HEAD"},
		{GET, "/nope", NotFound, 0, nil, false, ""},
		{GET, "/users/42/x", NotFound, 0, nil, false, ""},
		{GET, "", NotFound, 0, nil, false, ""},
		{GET, "/users/", NotFound, 0, nil, false, ""},
		{numMethods, "/users", MethodNotAllowed, -1, nil, false, "GET, POST, HEAD"},
	}
	for _, c := range cases {
		var caps Captures
		r := tr.Match(c.m, c.path, &caps)
		if r.Outcome != c.outcome {
			t.Errorf("%s %q: outcome %d, want %d", c.m, c.path, r.Outcome, c.outcome)
			continue
		}
		if r.Outcome == NotFound {
			continue
		}
		if r.Outcome == Found && r.Route != c.route {
			t.Errorf("%s %q: route %d, want %d", c.m, c.path, r.Route, c.route)
		}
		if r.HeadFromGet != c.head {
			t.Errorf("%s %q: head %v", c.m, c.path, r.HeadFromGet)
		}
		if r.Allow != c.allow {
			t.Errorf("%s %q: allow %q, want %q", c.m, c.path, r.Allow, c.allow)
		}
		var got []string
		for i := 0; i < caps.N; i++ {
			got = append(got, c.path[caps.Spans[i].Start:caps.Spans[i].End])
		}
		if strings.Join(got, "|") != strings.Join(c.caps, "|") {
			t.Errorf("%s %q: captures %q, want %q", c.m, c.path, got, c.caps)
		}
	}
}

// TestMismatch checks the typed-placeholder fallback: a path no pattern
// matches, that one would with its {x:int} or {x:uuid} taking the segment,
// is a Mismatch naming that route, with the captures set. A pattern that
// matches the path for another method still makes it a 405 (see
// TestMatch: GET /p/x).
func TestMismatch(t *testing.T) {
	tr := build(t, []struct {
		m Method
		p string
	}{
		{GET, "/items/{id:int}"},     // 0
		{GET, "/u/{id:uuid}"},        // 1
		{GET, "/a/{id:int}/x"},       // 2
		{GET, "/a/lit/y"},            // 3
		{POST, "/b/{n:int}/{m:int}"}, // 4
	})
	cases := []struct {
		m       Method
		path    string
		outcome Outcome
		route   int32
		caps    string
		head    bool
	}{
		{GET, "/items/abc", Mismatch, 0, "abc", false},
		{HEAD, "/items/abc", Mismatch, 0, "abc", true},
		{GET, "/items/12", Found, 0, "12", false},
		{GET, "/items/", NotFound, 0, "", false},
		{POST, "/items/abc", NotFound, 0, "", false},
		{GET, "/items/abc/more", NotFound, 0, "", false},
		{GET, "/u/not-a-uuid", Mismatch, 1, "not-a-uuid", false},
		{GET, "/a/zz/x", Mismatch, 2, "zz", false},
		{GET, "/a/lit/y", Found, 3, "", false},
		{GET, "/a/lit/z", NotFound, 0, "", false},
		{POST, "/b/1/two", Mismatch, 4, "1|two", false},
		{numMethods, "/items/abc", NotFound, 0, "", false},
	}
	for _, c := range cases {
		var caps Captures
		r := tr.Match(c.m, c.path, &caps)
		if r.Outcome != c.outcome {
			t.Errorf("%s %q: outcome %d, want %d", c.m, c.path, r.Outcome, c.outcome)
			continue
		}
		if r.Outcome == NotFound {
			continue
		}
		var got []string
		for i := 0; i < caps.N; i++ {
			got = append(got, c.path[caps.Spans[i].Start:caps.Spans[i].End])
		}
		if r.Route != c.route || r.HeadFromGet != c.head || strings.Join(got, "|") != c.caps {
			t.Errorf("%s %q: route %d head %v captures %q, want %d %v %q", c.m, c.path, r.Route, r.HeadFromGet, got, c.route, c.head, c.caps)
		}
	}
}

func TestInsertConflict(t *testing.T) {
	var tr Tree
	p1, _ := ParsePattern("/u/{id}")
	p2, _ := ParsePattern("/u/{uid}")
	if err := tr.Insert(GET, p1, 0); err != nil {
		t.Fatal(err)
	}
	if err := tr.Insert(GET, p2, 1); err == nil {
		t.Fatal("conflicting insert accepted")
	}
	if err := tr.Insert(POST, p2, 1); err != nil {
		t.Fatal(err)
	}
}

func TestMatchAllocs(t *testing.T) {
	tr := build(t, table)
	var caps Captures
	n := testing.AllocsPerRun(1000, func() {
		tr.Match(GET, "/a/7/y", &caps)
		tr.Match(GET, "/files/a/b/c", &caps)
	})
	if n != 0 {
		t.Fatalf("Match allocates %v times", n)
	}
}

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"/", "/users/{id:int}", "/{a:path}", "/{x}/{y:uuid}/z", "/{", "}{", "/{a:}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			return
		}
		// Whatever parses must insert and match without panicking.
		var tr Tree
		if err := tr.Insert(GET, p, 0); err != nil {
			t.Fatalf("Insert(%q): %v", s, err)
		}
		var caps Captures
		tr.Match(GET, s, &caps)
		tr.Match(POST, s, &caps)
	})
}

func BenchmarkMatch(b *testing.B) {
	tr := build(b, table)
	paths := []string{"/users/42", "/users/bob", "/a/7/y", "/files/a/b/c", "/nope"}
	var caps Captures
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Match(GET, paths[i%len(paths)], &caps)
	}
}
