package core

import (
	"net/http"
	"strings"
	"testing"
)

func TestCookiesRenderedByCore(t *testing.T) {
	a, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/c"}, RouteSpec{Method: "GET", Path: "/bad"})
	go host(a, 0, func(r *Request) Response {
		if r.Route == 1 {
			return Response{Status: 200, Headers: []Header{hdr("spikard-cookie", `{"name":"a b","value":"x"}`)}}
		}
		return Response{Status: 204, Headers: []Header{
			hdr("spikard-cookie", `{"name":"sid","value":"abc123","max_age":3600,"path":"/","domain":"example.com","secure":true,"httponly":true,"samesite":"strict","partitioned":true}`),
			hdr("Spikard-Cookie", `{"name":"gone","value":"","max_age":0,"expires":0,"path":"/"}`),
			hdr("x-other", "1"),
		}}
	})
	resp, err := http.Get(base + "/c")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := resp.Header.Values("Set-Cookie")
	want := []string{
		"sid=abc123; Max-Age=3600; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Strict; Partitioned",
		"gone=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Set-Cookie %q, want %q", got, want)
	}
	if resp.Header.Get("Spikard-Cookie") != "" || resp.Header.Get("X-Other") != "1" {
		t.Errorf("headers %v", resp.Header)
	}
	if r := get(t, base+"/bad"); r.status != 500 || r.header.Get("Set-Cookie") != "" {
		t.Errorf("a bad cookie: %d %v", r.status, r.header)
	}
	for doc, ok := range map[string]bool{
		`{"name":"a","value":"b"}`:                     true,
		`{"name":"a","value":"b;c"}`:                   false,
		`{"name":"a","samesite":"none"}`:               false,
		`{"name":"a","samesite":"none","secure":true}`: true,
		`{"name":"a","samesite":"sometimes"}`:          false,
		`{"name":"a","partitioned":true}`:              false,
		`{"value":"b"}`:                                false,
		`{"name":"a","path":"/x;y"}`:                   false,
		`{"name":"a","colour":"red"}`:                  false,
		`{"name":"a","max_age":-5}`:                    true,
	} {
		if _, err := renderCookie([]byte(doc)); (err == nil) != ok {
			t.Errorf("%s: %v", doc, err)
		}
	}
}
