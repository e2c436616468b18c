package core

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
)

// BenchmarkServeHTTP measures our handler alone (routing, parameter
// extraction, the Go Handler and response writing) on a reused Hertz
// context, without the network.
func BenchmarkServeHTTP(b *testing.B) {
	a := NewApp(DefaultConfig())
	schema := json.RawMessage(`{"type":"object","properties":{"user_id":{"type":"integer","source":"path"},"q":{"type":"string","source":"query"}}}`)
	body := []byte(`{"ok":true}`)
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/users/{user_id:int}", ParameterSchema: schema,
		Handler: func(*Request) Response { return Response{Status: 200, Body: body} }}); err != nil {
		b.Fatal(err)
	}
	c := app.NewContext(0)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Request.Header.SetMethod("GET")
		c.Request.SetRequestURI("/users/42?q=hello")
		a.serveHTTP(ctx, c)
		if c.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", c.Response.StatusCode(), c.Response.Body())
		}
		c.Reset()
	}
}

// BenchmarkLaneRoundTrip measures a request that goes through a lane to
// a polling host goroutine and back.
func BenchmarkLaneRoundTrip(b *testing.B) {
	a := NewApp(DefaultConfig())
	if _, err := a.AddRoute(RouteSpec{Method: "GET", Path: "/users/{user_id:int}"}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"ok":true}`)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		l := a.Lane(0)
		var batch [16]*Request
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, _ := l.Poll(batch[:], 10*time.Millisecond)
			for _, r := range batch[:n] {
				a.Respond(r.Exchange, Response{Status: 200, Body: body})
			}
		}
	}()
	c := app.NewContext(0)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Request.Header.SetMethod("GET")
		c.Request.SetRequestURI("/users/42")
		a.serveHTTP(ctx, c)
		if c.Response.StatusCode() != 200 {
			b.Fatalf("status %d", c.Response.StatusCode())
		}
		c.Reset()
	}
}
