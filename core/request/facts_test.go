package request

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// pairsString renders pairs as name=value lines, quoting both so that
// spaces and empty strings show.
func pairsString(ps []Pair) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%q=%q\n", p.Name, p.Value)
	}
	return b.String()
}

// want renders alternating names and values like pairsString.
func want(nv ...string) string {
	var b strings.Builder
	for i := 0; i < len(nv); i += 2 {
		fmt.Fprintf(&b, "%q=%q\n", nv[i], nv[i+1])
	}
	return b.String()
}

func TestAppendCookies(t *testing.T) {
	cases := []struct {
		name, raw string
		want      string
	}{
		{"one line", "Host: x\r\nCookie: a=1; b=2\r\n\r\n", want("a", "1", "b", "2")},
		{"two lines in order", "Cookie: a=1\r\nX: y\r\ncookie: b=\"x y\"\r\n", want("a", "1", "b", "x y")},
		{"LF only, any case", "COOKIE: a=1\nHost: x\n", want("a", "1")},
		{"spaces and tabs", "Cookie: \t a = 1 \t;b=2 ;\tc =\t3\r\n", want("a", "1", "b", "2", "c", "3")},
		{"quotes", "Cookie: q=\"v\"; e=\"\"; l=\"; r=x\"; in=a\"b; two=\"\"x\"\"\r\n",
			want("q", "v", "e", "", "l", `"`, "r", `x"`, "in", `a"b`, "two", `"x"`)},
		{"spaces inside quotes kept", "Cookie: a=\" x \"\r\n", want("a", " x ")},
		{"empty pieces", "Cookie: ;; a=1 ;;; \r\n", want("a", "1")},
		{"no '=' skipped", "Cookie: flag; a=1; other\r\n", want("a", "1")},
		{"empty name skipped", "Cookie: =x; \t=y; a=1\r\n", want("a", "1")},
		{"empty value kept", "Cookie: a=; b=\r\n", want("a", "", "b", "")},
		{"repeats kept", "Cookie: a=1; a=2\r\nCookie: a=3\r\n", want("a", "1", "a", "2", "a", "3")},
		{"first '=' splits", "Cookie: a=b=c\r\n", want("a", "b=c")},
		{"not decoded", "Cookie: a=%41+b; %62=c\r\n", want("a", "%41+b", "%62", "c")},
		{"non-ASCII", "Cookie: ключ=значение; a=é\r\n", want("ключ", "значение", "a", "é")},
		{"other headers ignored", "X-Cookie: a=1\r\nCookies: b=2\r\nSet-Cookie: c=3\r\nCookie : d=4\r\nCookie: e=5\r\n", want("e", "5")},
		{"empty header", "Cookie:\r\nCookie: \r\n", ""},
		{"no headers", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := AppendCookies(nil, []byte(c.raw))
			if s := pairsString(got); s != c.want {
				t.Errorf("AppendCookies(%q)\n got: %s\nwant: %s", c.raw, s, c.want)
			}
		})
	}
}

func TestCookiesAliasInput(t *testing.T) {
	raw := []byte("Cookie: a=1; bb=\"22\"\r\n")
	got := AppendCookies(nil, raw)
	for i := range raw {
		raw[i] = 'X'
	}
	for _, p := range got {
		if strings.Trim(string(p.Name)+string(p.Value), "X") != "" {
			t.Errorf("pair %q=%q does not alias the header block", p.Name, p.Value)
		}
	}
	// Appending to a pair must not write into the header block.
	raw = []byte("Cookie: a=1; b=2\r\n")
	got = AppendCookies(nil, raw)
	_ = append(got[0].Value, '!')
	if !bytes.Equal(raw, []byte("Cookie: a=1; b=2\r\n")) {
		t.Errorf("append to a value changed the header block: %q", raw)
	}
}

func TestAppendQueryPairs(t *testing.T) {
	cases := []struct {
		name, query string
		want        string
	}{
		{"simple", "a=1&b=2", want("a", "1", "b", "2")},
		{"repeats in order", "a=1&b=x&a=2", want("a", "1", "b", "x", "a", "2")},
		{"blank values", "a=&b", want("a", "", "b", "")},
		{"empty pieces", "&&a=1&&&b=2&", want("a", "1", "b", "2")},
		{"empty name kept", "=v&=", want("", "v", "", "")},
		{"first '=' splits", "a=b=c", want("a", "b=c")},
		{"plus is space", "a+b=c+d++", want("a b", "c d  ")},
		{"escapes", "%41%62=%7e%7E&%26=%3D&%2B=%25", want("Ab", "~~", "&", "=", "+", "%")},
		{"malformed escapes kept", "%zz=%4&a=%&b=%%41&c=%4g&d=%G1", want("%zz", "%4", "a", "%", "b", "%A", "c", "%4g", "d", "%G1")},
		{"trailing escape", "a=x%4", want("a", "x%4")},
		{"semicolon is not a separator", "a=1;b=2", want("a", "1;b=2")},
		{"non-ASCII", "q=%D1%84&r=ф&%C3%A9=%e2%82%AC", want("q", "ф", "r", "ф", "é", "€")},
		{"invalid UTF-8 passed through", "a=%ff", want("a", "\xff")},
		{"empty", "", ""},
		{"only separators", "&&&", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _ := AppendQueryPairs(nil, nil, []byte(c.query))
			if s := pairsString(got); s != c.want {
				t.Errorf("AppendQueryPairs(%q)\n got: %s\nwant: %s", c.query, s, c.want)
			}
		})
	}
}

func TestQueryPairsAliasDec(t *testing.T) {
	// A small dec with something in it already: it must be kept and grown
	// once, so every pair points into the returned array.
	dec := append(make([]byte, 0, 2), "zz"...)
	pairs, dec := AppendQueryPairs(nil, dec, []byte("aa=b+c&d%41=%65&x=%zz&y=long+value+here"))
	if string(dec[:2]) != "zz" {
		t.Fatalf("dec prefix lost: %q", dec)
	}
	for i := range dec {
		dec[i] = 'X'
	}
	for _, p := range pairs {
		if strings.Trim(string(p.Name)+string(p.Value), "X") != "" {
			t.Errorf("pair %q=%q does not alias dec", p.Name, p.Value)
		}
	}
}

// multipartBody builds a multipart body with boundary "B". A part is
// "name=text" or "name@filename" (a file whose content is its filename);
// names must not hold '"', '\', CR or LF.
func multipartBody(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString("--B\r\n")
		if name, file, ok := strings.Cut(p, "@"); ok {
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\nContent-Type: text/plain\r\n\r\n%s\r\n", name, file, file)
			continue
		}
		name, text, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "Content-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", name, text)
	}
	b.WriteString("--B--\r\n")
	return b.Bytes()
}

func TestAppendUploads(t *testing.T) {
	files := mustShape(t, `{"type":"object","properties":{
		"doc":{"type":"string","format":"binary"},
		"docs":{"type":"array","items":{"type":"string","format":"binary"}},
		"grid":{"type":"array","items":{"type":"array","items":{"type":"string","format":"binary"}}},
		"n":{"type":"integer"}}}`)
	cases := []struct {
		name  string
		shape *Shape
		parts []string
		want  []string
	}{
		{"first-seen order", nil, []string{"docs@a", "avatar@b", "docs@c"}, []string{"/docs", "/avatar"}},
		{"text only", nil, []string{"a=1", "b=2"}, nil},
		{"text beside files", nil, []string{"n=1", "f@x", "t=y"}, []string{"/f"}},
		{"~ and / escaped", nil, []string{"a/b~c@x", "~1@y", "/@z"}, []string{"/a~1b~0c", "/~01", "/~1"}},
		{"non-ASCII", nil, []string{"фото@x", "é=1"}, []string{"/фото"}},
		{"invalid UTF-8 as in the body", nil, []string{"a\x99b@x", "\xed\xa0\x80@y"}, []string{"/a\uFFFDb", "/\uFFFD\uFFFD\uFFFD"}},
		{"empty name", nil, []string{"@x"}, []string{"/"}},
		{"nested", nil, []string{"a[b]@x", "a[c]=t", "a[d][e]@y"}, []string{"/a/b", "/a/d/e"}},
		{"array item of files", nil, []string{"x[0][]@p", "x[0][]@q", "x[1]=t"}, []string{"/x/0"}},
		{"mixed array points at items", nil, []string{"m=t", "m@x", "m=u", "m@y"}, []string{"/m/1", "/m/3"}},
		{"explicit indexes sorted", nil, []string{"f[1]@x", "f[0]=t"}, []string{"/f/1"}},
		{"structure conflict dropped", nil, []string{"a@x", "a[b]@y"}, []string{"/a"}},
		{"single file field, last wins", files, []string{"doc@a", "doc@b"}, []string{"/doc"}},
		{"single field ending in text", files, []string{"doc@a", "doc=t"}, nil},
		{"array field with one file", files, []string{"docs@a", "n=2"}, []string{"/docs"}},
		{"array of arrays with one file", files, []string{"grid@a"}, []string{"/grid/0"}},
		{"typed and untyped", files, []string{"extra@z", "docs@a", "docs@b", "doc@c"}, []string{"/extra", "/docs", "/doc"}},
	}
	var sc FormScratch
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			event, _, _, _, err := c.shape.DecodeMultipart(multipartBody(c.parts...), []byte("B"), &sc)
			if err != nil {
				t.Fatal(err)
			}
			ptrs, _ := sc.AppendUploads(nil, nil, c.shape)
			var got []string
			for _, p := range ptrs {
				got = append(got, string(p))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("parts %q\n got: %q\nwant: %q\nbody: %s", c.parts, got, c.want, event)
			}
			checkUploads(t, event, ptrs)
		})
	}
}

// checkUploads checks ptrs against the event body: each names a
// descriptor or an array of only descriptors, and every descriptor in the
// body lies at or directly under exactly one of them.
func checkUploads(t *testing.T, event []byte, ptrs [][]byte) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(event, &doc); err != nil {
		t.Fatalf("event body %s: %v", event, err)
	}
	covered := 0
	for _, p := range ptrs {
		v, ok := resolvePointer(doc, string(p))
		switch {
		case !ok:
			t.Errorf("pointer %q resolves to nothing in %s", p, event)
		case isDescriptor(v):
			covered++
		default:
			items, _ := v.([]any)
			if len(items) == 0 {
				t.Errorf("pointer %q names %v, not uploads", p, v)
			}
			for _, it := range items {
				if !isDescriptor(it) {
					t.Errorf("pointer %q names an array holding %v", p, it)
				}
			}
			covered += len(items)
		}
	}
	if n := countDescriptors(doc); n != covered {
		t.Errorf("body has %d descriptors, pointers cover %d: %q in %s", n, covered, ptrs, event)
	}
}

func resolvePointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if ptr[0] != '/' {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func isDescriptor(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 6 {
		return false
	}
	for _, k := range []string{"filename", "content_type", "size", "headers", "offset", "length"} {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

func countDescriptors(v any) int {
	if isDescriptor(v) {
		return 1
	}
	n := 0
	switch c := v.(type) {
	case map[string]any:
		for _, x := range c {
			n += countDescriptors(x)
		}
	case []any:
		for _, x := range c {
			n += countDescriptors(x)
		}
	}
	return n
}

// FuzzAppendUploads builds bodies from fuzzed part names and checks the
// pointers against the event body.
func FuzzAppendUploads(f *testing.F) {
	shape := mustShape(f, `{"type":"object","properties":{"doc":{"type":"string","format":"binary"},"docs":{"type":"array","items":{"type":"string","format":"binary"}},"n":{"type":"integer"}}}`)
	for _, s := range []string{"docs docs avatar", "a[b] a[c] a", "x[0][] x[0][] x[1]", "m[1] m[0] doc", "~/ a/b~ [] a[]"} {
		f.Add(s, uint16(0b0101))
	}
	var sc FormScratch
	f.Fuzz(func(t *testing.T, names string, fileMask uint16) {
		var parts []string
		for i, n := range strings.Fields(names) {
			// Invalid UTF-8 is left out: distinct names can then become the
			// same key in the body (U+FFFD), which no pointer can tell apart.
			if strings.ContainsAny(n, "\"\\@=\r\n") || !utf8.ValidString(n) || i >= 16 {
				continue
			}
			if fileMask&(1<<i) != 0 {
				parts = append(parts, n+"@f"+strconv.Itoa(i))
			} else {
				parts = append(parts, n+"=t")
			}
		}
		for _, s := range []*Shape{shape, nil} {
			event, _, _, _, err := s.DecodeMultipart(multipartBody(parts...), []byte("B"), &sc)
			if err != nil {
				t.Fatal(err)
			}
			ptrs, _ := sc.AppendUploads(nil, nil, s)
			checkUploads(t, event, ptrs)
		}
	})
}

func TestUploadPointersAliasBuf(t *testing.T) {
	var sc FormScratch
	body := multipartBody("first-long-name@a", "second-longer-name@b", "third@c")
	if _, _, _, _, err := (*Shape)(nil).DecodeMultipart(body, []byte("B"), &sc); err != nil {
		t.Fatal(err)
	}
	// A one-byte buf has to move while pointers are appended.
	ptrs, buf := sc.AppendUploads(nil, make([]byte, 0, 1), nil)
	if len(ptrs) != 3 {
		t.Fatalf("got %q", ptrs)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	for _, p := range ptrs {
		if strings.Trim(string(p), "X") != "" {
			t.Errorf("pointer %q does not alias the returned buf", p)
		}
	}
}

func TestFactsAllocs(t *testing.T) {
	raw := []byte("Host: x\r\nCookie: a=1; b=\"2\"\r\nCookie: c=3\r\n")
	query := []byte("a=1&b=x+y&c=%41&d")
	var sc FormScratch
	body := multipartBody("docs@a", "avatar@b", "docs@c", "n=1")
	if _, _, _, _, err := (*Shape)(nil).DecodeMultipart(body, []byte("B"), &sc); err != nil {
		t.Fatal(err)
	}
	var (
		pairs []Pair
		dec   []byte
		ptrs  [][]byte
		buf   []byte
	)
	warm := func() {
		pairs = AppendCookies(pairs[:0], raw)
		pairs, dec = AppendQueryPairs(pairs[:0], dec[:0], query)
		ptrs, buf = sc.AppendUploads(ptrs[:0], buf[:0], nil)
	}
	warm()
	if n := testing.AllocsPerRun(100, warm); n != 0 {
		t.Errorf("facts allocate %v times per request", n)
	}
}
