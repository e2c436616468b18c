package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spikard/spikard/core"
)

// TestQuickStart serves this example's routes through core's public API
// and checks both over HTTP, so the example cannot rot unnoticed.
func TestQuickStart(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.Port = 0
	cfg.Quiet = true
	app := core.NewApp(cfg)
	for _, r := range routes() {
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
	// {user_id:int} does not take "foobar" and no other route matches: the
	// parameter's parse error, not a 404.
	if st, _, body := call("GET", "/users/foobar", ""); st != 422 || !strings.Contains(body, `"type":"int_parsing","loc":["path","user_id"]`) {
		t.Errorf("GET /users/foobar: %d %s", st, body)
	}
	if st, _, body := call("GET", "/nothing", ""); st != 404 {
		t.Errorf("GET /nothing: %d %s", st, body)
	}
}
