package core_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spikard/spikard/core"
)

// quickStartRoutes are the routes of examples/go/main.go (kept in step by
// hand), built here through the public API only.
func quickStartRoutes() []core.RouteSpec {
	jsonHeader := []core.Header{{Name: []byte("content-type"), Value: []byte("application/json")}}
	return []core.RouteSpec{
		{
			Method: "GET",
			Path:   "/users/{user_id:int}",
			ParameterSchema: json.RawMessage(`{"type":"object","properties":{
				"user_id":{"type":"integer","source":"path"}},"required":["user_id"]}`),
			Handler: func(req *core.Request) core.Response {
				var p struct {
					UserID int64 `json:"user_id"`
				}
				if err := json.Unmarshal(req.Params, &p); err != nil {
					return core.Response{Status: 500}
				}
				body := `{"id":` + strconv.FormatInt(p.UserID, 10) + `,"name":"Alice","email":"alice@example.com"}`
				return core.Response{Status: 200, Headers: jsonHeader, Body: []byte(body)}
			},
		},
		{
			Method: "POST",
			Path:   "/users",
			BodySchema: json.RawMessage(`{"type":"object","properties":{
				"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"}},
				"required":["id","name","email"]}`),
			Handler: func(req *core.Request) core.Response {
				// The body is already validated; echo the original bytes.
				return core.Response{Status: 200, Headers: jsonHeader, Body: req.Body}
			},
		},
	}
}

// TestQuickStart serves the quick-start app the way examples/go does and
// checks both routes over HTTP.
func TestQuickStart(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.Port = 0
	cfg.Quiet = true
	app := core.NewApp(cfg)
	for _, r := range quickStartRoutes() {
		if _, err := app.AddRoute(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		app.Close()
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(app.Port())
	call := func(method, path, body string) (int, string, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if st, ct, body := call("GET", "/users/7", ""); st != 200 || ct != "application/json" ||
		body != `{"id":7,"name":"Alice","email":"alice@example.com"}` {
		t.Errorf("GET /users/7: %d %s %s", st, ct, body)
	}
	in := `{"id":1,"name":"Bob","email":"bob@example.com"}`
	if st, _, body := call("POST", "/users", in); st != 200 || body != in {
		t.Errorf("POST /users: %d %s", st, body)
	}
	if st, ct, body := call("POST", "/users", `{"id":"x","name":"Bob"}`); st != 422 || ct != "application/problem+json" {
		t.Errorf("POST /users invalid: %d %s %s", st, ct, body)
	}
	if st, _, body := call("GET", "/users/foobar", ""); st != 404 {
		t.Errorf("GET /users/foobar: %d %s", st, body)
	}
}
