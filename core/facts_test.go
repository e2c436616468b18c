package core

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/spikard/spikard/core/request"
)

// factsOf renders the facts of r, telling nil from empty, so a test can
// keep them after r is answered.
func factsOf(r *Request) string {
	var b strings.Builder
	pairs := func(what string, hs []Header) {
		if hs == nil {
			fmt.Fprintf(&b, "%s=nil\n", what)
			return
		}
		fmt.Fprintf(&b, "%s:", what)
		for _, h := range hs {
			fmt.Fprintf(&b, " %q=%q", h.Name, h.Value)
		}
		b.WriteByte('\n')
	}
	pairs("cookies", r.Cookies)
	pairs("query", r.QueryPairs)
	if r.Uploads == nil {
		b.WriteString("uploads=nil\n")
	} else {
		b.WriteString("uploads:")
		for _, u := range r.Uploads {
			fmt.Fprintf(&b, " %q", u)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// answerFacts answers every request with factsOf(r).
func answerFacts(r *Request) Response { return Response{Status: 200, Body: []byte(factsOf(r))} }

// sendWithCookies makes one request with the given Cookie lines (one
// header line each) and returns the answer's body.
func sendWithCookies(t *testing.T, method, url, ctype string, body []byte, cookies ...string) string {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for _, c := range cookies {
		req.Header.Add("Cookie", c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return string(b)
}

// uploadSchema types the fields the upload tests send.
var uploadSchema = json.RawMessage(`{"type":"object","properties":{
	"avatar":{"type":"string","format":"binary"},
	"docs":{"type":"array","items":{"type":"string","format":"binary"}},
	"note":{"type":"string"}}}`)

// uploadParts are two files under "docs" and one under "avatar", with
// "docs" seen first.
var uploadParts = []part{
	{name: "docs", filename: "a.txt", content: "one", file: true},
	{name: "note", content: "hi"},
	{name: "avatar", filename: "me.png", ctype: "image/png", content: "png", file: true},
	{name: "docs", filename: "b.txt", content: "two", file: true},
}

func TestFactsFromLane(t *testing.T) {
	a, base := startApp(t, nil,
		RouteSpec{Method: "GET", Path: "/cookies", Facts: []string{"cookies"}},
		RouteSpec{Method: "GET", Path: "/query", Facts: []string{"query"}},
		RouteSpec{Method: "POST", Path: "/uploads", Facts: []string{"uploads"}, BodySchema: uploadSchema},
		RouteSpec{Method: "POST", Path: "/all", Facts: []string{"meta", "cookies", "query", "uploads"}, BodySchema: uploadSchema},
		RouteSpec{Method: "POST", Path: "/loose", Facts: []string{"uploads"}, BodySchema: json.RawMessage(`{"type":"object"}`)},
		RouteSpec{Method: "POST", Path: "/none", BodySchema: uploadSchema},
	)
	go host(a, 0, answerFacts)
	ct, mp := buildMultipart(t, uploadParts)
	textCT, textOnly := buildMultipart(t, []part{{name: "note", content: "hi"}})

	cases := []struct {
		name, method, path, ctype string
		body                      []byte
		cookies                   []string
		want                      string
	}{
		{"two Cookie headers, quoted value", "GET", "/cookies?a=1", "", nil,
			[]string{`a=1; b="two words"`, "flag; a=3; =x"},
			"cookies: \"a\"=\"1\" \"b\"=\"two words\" \"a\"=\"3\"\nquery=nil\nuploads=nil\n"},
		{"no Cookie header", "GET", "/cookies", "", nil, nil,
			"cookies=nil\nquery=nil\nuploads=nil\n"},
		{"query pairs", "GET", "/query?a=1&b=x+y&&a=%7e%zz&c&d=%41%4", "", nil, []string{"a=1"},
			"cookies=nil\nquery: \"a\"=\"1\" \"b\"=\"x y\" \"a\"=\"~%zz\" \"c\"=\"\" \"d\"=\"A%4\"\nuploads=nil\n"},
		{"no query", "GET", "/query", "", nil, nil,
			"cookies=nil\nquery=nil\nuploads=nil\n"},
		{"uploads in first-seen order", "POST", "/uploads", ct, mp, nil,
			"cookies=nil\nquery=nil\nuploads: \"/docs\" \"/avatar\"\n"},
		{"multipart without files", "POST", "/uploads", textCT, textOnly, nil,
			"cookies=nil\nquery=nil\nuploads=nil\n"},
		{"JSON body shaped like a descriptor", "POST", "/loose", "application/json", []byte(`{"avatar":{"filename":"x","content_type":"a/b","size":0,"headers":{},"offset":0,"length":0}}`), nil,
			"cookies=nil\nquery=nil\nuploads=nil\n"},
		{"all facts", "POST", "/all?x=%E2%82%AC", ct, mp, []string{"k=v"},
			"cookies: \"k\"=\"v\"\nquery: \"x\"=\"€\"\nuploads: \"/docs\" \"/avatar\"\n"},
		{"route asking for nothing", "POST", "/none?x=1", ct, mp, []string{"k=v"},
			"cookies=nil\nquery=nil\nuploads=nil\n"},
	}
	// Twice, so the second round runs on reused exchanges and buffers and
	// must show nothing left over from the first.
	for round := range 2 {
		for _, c := range cases {
			t.Run(fmt.Sprint(round, "/", c.name), func(t *testing.T) {
				if got := sendWithCookies(t, c.method, base+c.path, c.ctype, c.body, c.cookies...); got != c.want {
					t.Errorf("%s %s\n got: %s\nwant: %s", c.method, c.path, got, c.want)
				}
			})
		}
	}
}

func TestFactsGoHandler(t *testing.T) {
	_, base := startApp(t, nil,
		RouteSpec{Method: "POST", Path: "/h", Facts: []string{"cookies", "query", "uploads"}, BodySchema: uploadSchema, Handler: answerFacts},
		RouteSpec{Method: "POST", Path: "/plain", BodySchema: uploadSchema, Handler: answerFacts},
	)
	ct, mp := buildMultipart(t, uploadParts)
	got := sendWithCookies(t, "POST", base+"/h?q=1&q=2", ct, mp, `s="x"`, "t=y")
	want := "cookies: \"s\"=\"x\" \"t\"=\"y\"\nquery: \"q\"=\"1\" \"q\"=\"2\"\nuploads: \"/docs\" \"/avatar\"\n"
	if got != want {
		t.Errorf("Go handler asking for facts\n got: %s\nwant: %s", got, want)
	}
	got = sendWithCookies(t, "POST", base+"/plain?q=1", ct, mp, "s=x")
	if want := "cookies=nil\nquery=nil\nuploads=nil\n"; got != want {
		t.Errorf("Go handler asking for nothing\n got: %s\nwant: %s", got, want)
	}
}

// TestFactsAllocs: once an exchange's buffers have grown, collecting
// facts allocates nothing.
func TestFactsAllocs(t *testing.T) {
	c := &app.RequestContext{}
	c.Request.Header.SetRawHeaders([]byte("Host: x\r\nCookie: a=1; b=\"2\"\r\nCookie: c=3\r\n\r\n"))
	c.Request.SetRequestURI("/p?a=1&b=x+y&c=%41&d")
	ct, mp := buildMultipart(t, uploadParts)
	boundary, err := request.Boundary([]byte(ct))
	if err != nil {
		t.Fatal(err)
	}
	rt := &compiledRoute{facts: factCookies | factQuery | factUploads}
	ex := &exchange{c: c, rt: rt}
	if _, _, _, _, err := rt.shape.DecodeMultipart(mp, boundary, &ex.form); err != nil {
		t.Fatal(err)
	}
	run := func() {
		ex.req = Request{Attachments: mp}
		ex.collectFacts(rt, nil)
	}
	run()
	want := "cookies: \"a\"=\"1\" \"b\"=\"2\" \"c\"=\"3\"\nquery: \"a\"=\"1\" \"b\"=\"x y\" \"c\"=\"A\" \"d\"=\"\"\nuploads: \"/docs\" \"/avatar\"\n"
	if got := factsOf(&ex.req); got != want {
		t.Fatalf("collectFacts\n got: %s\nwant: %s", got, want)
	}
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("collectFacts allocates %v times per request", n)
	}
}
