package core

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestListeningLine(t *testing.T) {
	log := &testLogger{}
	a, _ := startApp(t, func(c *Config) { c.Quiet = false; c.Logger = log })
	lines := log.all()
	want := "spikard: listening on http://127.0.0.1:"
	if len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Fatalf("log lines %q, want one %q...", lines, want)
	}
	_ = a
}

func TestRouting(t *testing.T) {
	routes := []RouteSpec{
		{Method: "GET", Path: "/items/{id:int}", Handler: echoParams},
		{Method: "GET", Path: "/items/{id:uuid}", Handler: func(r *Request) Response { return Response{Status: 201, Body: r.Params} }},
		{Method: "GET", Path: "/items/{name}", Handler: func(r *Request) Response { return Response{Status: 202, Body: r.Params} }},
		{Method: "GET", Path: "/items/special", Handler: func(r *Request) Response { return Response{Status: 203, Body: []byte("lit")} }},
		{Method: "GET", Path: "/files/{rest:path}", Handler: echoParams},
		{Method: "POST", Path: "/items/{id:int}", Handler: echoParams},
		{Method: "DELETE", Path: "/only", Handler: echoParams},
		{Method: "GET", Path: "/", Handler: func(r *Request) Response { return Response{Status: 200, Body: []byte("root")} }},
	}
	_, base := startApp(t, nil, routes...)
	cases := []struct {
		method, path string
		status       int
		body         string
		allow        string
	}{
		{"GET", "/items/42", 200, `{"id":42}`, ""},
		{"GET", "/items/-3", 200, `{"id":-3}`, ""},
		{"GET", "/items/6ba7b810-9dad-11d1-80b4-00c04fd430c8", 201, `{"id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`, ""},
		{"GET", "/items/abc", 202, `{"name":"abc"}`, ""},
		{"GET", "/items/special", 203, `lit`, ""},
		{"GET", "/files/a/b/c.txt", 200, `{"rest":"a/b/c.txt"}`, ""},
		{"GET", "/", 200, "root", ""},
		{"GET", "/nope", 404, "", ""},
		{"PUT", "/items/42", 405, "", "GET, POST, HEAD"},
		{"GET", "/only", 405, "", "DELETE"},
		{"PUT", "/only", 405, "", "DELETE"},
	}
	for _, c := range cases {
		r := do(t, c.method, base+c.path, "", "")
		if r.status != c.status {
			t.Errorf("%s %s: status %d, want %d (%s)", c.method, c.path, r.status, c.status, r.body)
			continue
		}
		if c.body != "" && r.body != c.body {
			t.Errorf("%s %s: body %s, want %s", c.method, c.path, r.body, c.body)
		}
		if c.allow != "" && !sameMethods(r.header.Get("Allow"), c.allow) {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, r.header.Get("Allow"), c.allow)
		}
		if c.status == 404 {
			jsonEq(t, r.body, `{"type":"https://spikard.dev/errors/not-found","title":"Not Found","status":404,"detail":"Not found"}`)
		}
		if c.status == 405 {
			var p map[string]any
			json.Unmarshal([]byte(r.body), &p)
			if p["type"] != "https://spikard.dev/errors/method-not-allowed" || p["title"] != "Method Not Allowed" {
				t.Errorf("405 body %s", r.body)
			}
		}
	}
}

func sameMethods(a, b string) bool {
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, x := range strings.Split(s, ",") {
			m[strings.TrimSpace(x)] = true
		}
		return m
	}
	x, y := set(a), set(b)
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if !y[k] {
			return false
		}
	}
	return true
}

func TestHeadFromGet(t *testing.T) {
	_, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/h", Handler: func(r *Request) Response {
		return Response{Status: 200, Headers: []Header{{Name: []byte("x-test"), Value: []byte("yes")}}, Body: []byte("hello")}
	}})
	r := do(t, "HEAD", base+"/h", "", "")
	if r.status != 200 || r.body != "" || r.header.Get("X-Test") != "yes" {
		t.Fatalf("HEAD: %d %q %v", r.status, r.body, r.header)
	}
}

func TestAddRouteErrors(t *testing.T) {
	a := NewApp(DefaultConfig())
	bad := []RouteSpec{
		{Method: "FETCH", Path: "/x"},
		{Method: "GET", Path: "x"},
		{Method: "GET", Path: "/{a:path}/b"},
		{Method: "GET", Path: "/{a:float}"},
		{Method: "GET", Path: "/x", BodySchema: json.RawMessage(`{"type":12}`)},
		{Method: "GET", Path: "/x", ParameterSchema: json.RawMessage(`{"type":"object","properties":{"q":{"type":"integer","source":"moon"}}}`)},
		{Method: "GET", Path: "/x", ParameterSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer","source":"path"}}}`)},
	}
	for _, s := range bad {
		if _, err := a.AddRoute(s); err == nil {
			t.Errorf("AddRoute(%+v): no error", s)
		}
	}
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/dup"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/dup"}); err == nil {
		t.Error("duplicate route accepted")
	}
}

func TestTwoApps(t *testing.T) {
	a1, b1 := startApp(t, nil, RouteSpec{Method: "GET", Path: "/", Handler: func(*Request) Response { return Response{Status: 200, Body: []byte("one")} }})
	_, b2 := startApp(t, nil, RouteSpec{Method: "GET", Path: "/", Handler: func(*Request) Response { return Response{Status: 200, Body: []byte("two")} }})
	if r := get(t, b1+"/"); r.body != "one" {
		t.Fatal(r.body)
	}
	if r := get(t, b2+"/"); r.body != "two" {
		t.Fatal(r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := get(t, b2+"/"); r.body != "two" {
		t.Fatal("second app affected by first's shutdown:", r.body)
	}
}

func TestEmpty404FromHostAndAccessLog(t *testing.T) {
	log := &testLogger{}
	a, base := startApp(t, func(c *Config) { c.AccessLog = true; c.Logger = log }, RouteSpec{Method: "GET", Path: "/gone"})
	go host(a, 0, func(*Request) Response { return Response{Status: 404} })
	r := get(t, base+"/gone")
	if r.status != 404 || r.body != "" {
		t.Fatalf("host 404: %d %q %v", r.status, r.body, r.header)
	}
	r = do(t, "FOO", base+"/gone", "", "")
	if r.status != 405 {
		t.Fatalf("unknown method: %d %q", r.status, r.body)
	}
	if err := a.Shutdown(context.Background()); err != nil { // ships the last batch
		t.Fatal(err)
	}
	lines := log.all()
	if len(lines) != 2 || !strings.Contains(lines[0], `"GET /gone HTTP/1.1" 404 `) || !strings.Contains(lines[1], `"FOO /gone HTTP/1.1" 405 `) {
		t.Fatalf("access log %q", lines)
	}
}
