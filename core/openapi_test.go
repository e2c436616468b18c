package core

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spikard/spikard/core/openapi"
)

func docsGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func withOpenAPI(c *Config) {
	c.OpenAPI = openapi.Defaults()
	c.OpenAPI.Title = "Shop"
}

// The document comes from what the routes declared: the parameter plan
// (wire names, kinds of placeholders), bodies, responses and the route
// document's own keys; the pages and their assets are served by the app.
func TestOpenAPIServedFromRoutes(t *testing.T) {
	spec, err := ParseRouteSpec([]byte(`{"method":"POST","path":"/users/{org}/{id:int}","summary":"Create","tags":["users"],"operation_id":"create_user","status_code":201,
		"parameter_schema":{"type":"object","properties":{"x_token":{"type":"string","source":"header"},"q":{"type":"string","source":"query","alias":"query-text","minLength":2}},"required":["x_token"]},
		"body_schema":{"title":"User","type":"object","properties":{"name":{"type":"string"}},"required":["name"]},
		"response_schema":{"title":"User","type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	ws := RouteSpec{Method: "GET", Path: "/ws", WebSocket: &WebSocketRoute{}}
	_, base := startApp(t, withOpenAPI, spec, ws)

	res, body := docsGet(t, base+"/openapi.json")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var d map[string]any
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d["openapi"] != "3.1.0" || d["info"].(map[string]any)["title"] != "Shop" {
		t.Errorf("head of document: %v %v", d["openapi"], d["info"])
	}
	paths := d["paths"].(map[string]any)
	if len(paths) != 1 {
		t.Errorf("paths %v: want only the user route (no WebSocket, no docs routes)", paths)
	}
	op := paths["/users/{org}/{id}"].(map[string]any)["post"].(map[string]any)
	got, _ := json.Marshal(op["parameters"])
	// By source (path, query, header, cookie), each in declaration order.
	want := `[{"in":"path","name":"org","required":true,"schema":{"type":"string"}},` +
		`{"in":"path","name":"id","required":true,"schema":{"type":"integer"}},` +
		`{"in":"query","name":"query-text","schema":{"minLength":2,"type":"string"}},` +
		`{"in":"header","name":"x-token","required":true,"schema":{"type":"string"}}]`
	if string(got) != want {
		t.Errorf("parameters:\n got %s\nwant %s", got, want)
	}
	if op["operationId"] != "create_user" || op["summary"] != "Create" {
		t.Errorf("operation keys: %v", op)
	}
	if _, ok := op["responses"].(map[string]any)["201"]; !ok {
		t.Errorf("responses: %v", op["responses"])
	}

	for path, ctype := range map[string]string{
		"/docs":                      "text/html; charset=utf-8",
		"/docs/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
		"/docs/swagger-ui.css":       "text/css; charset=utf-8",
		"/redoc":                     "text/html; charset=utf-8",
		"/redoc/redoc.standalone.js": "text/javascript; charset=utf-8",
	} {
		res, body := docsGet(t, base+path)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != ctype || len(body) == 0 {
			t.Errorf("%s: %d %q %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
		if strings.HasPrefix(ctype, "text/html") {
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s: CSP %q", path, csp)
			}
			if strings.Contains(string(body), "//cdn") || strings.Contains(string(body), "https://") {
				t.Errorf("%s links outside the app:\n%s", path, body)
			}
		}
	}
	res, _ = docsGet(t, base+"/docs/nope.js")
	if res.StatusCode != 404 {
		t.Errorf("unknown asset: %d", res.StatusCode)
	}
}

func TestOpenAPIOffServesNothing(t *testing.T) {
	_, base := startApp(t, nil, RouteSpec{Method: "GET", Path: "/x", Handler: func(*Request) Response { return Response{Status: 204} }})
	for _, p := range []string{"/openapi.json", "/docs", "/redoc"} {
		if res, _ := docsGet(t, base+p); res.StatusCode != 404 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
}

// A user route on a docs path, or two routes with one operation_id, fail
// Start with the reason.
func TestOpenAPIStartRefusals(t *testing.T) {
	for _, c := range []struct {
		routes []RouteSpec
		want   string
	}{
		{[]RouteSpec{{Method: "GET", Path: "/docs"}}, "openapi: serving /docs"},
		{[]RouteSpec{{Method: "GET", Path: "/a", OperationID: "x"}, {Method: "GET", Path: "/b", OperationID: "x"}}, `operation_id "x" is declared by GET /a and by GET /b`},
	} {
		cfg := DefaultConfig()
		cfg.Port, cfg.Quiet = 0, true
		withOpenAPI(&cfg)
		a := NewApp(cfg)
		for _, r := range c.routes {
			if _, err := a.AddRoute(r); err != nil {
				t.Fatal(err)
			}
		}
		err := a.Start()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Start = %v, want %q", err, c.want)
		}
		a.Close()
	}
}
