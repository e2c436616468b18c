package core

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
)

// BenchmarkServeHTTPJSONBody is BenchmarkServeHTTP for a POST whose JSON
// body is validated against its schema (and checked against max_json_depth).
func BenchmarkServeHTTPJSONBody(b *testing.B) {
	a := NewApp(DefaultConfig())
	schema := json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","minLength":1},"price":{"type":"number","minimum":0},"tags":{"type":"array","items":{"type":"string"}},"seller":{"type":"object","properties":{"name":{"type":"string"},"address":{"type":"object","properties":{"city":{"type":"string"}}}}}},"required":["name","price"]}`)
	answer := []byte(`{"ok":true}`)
	if _, err := a.AddRoute(RouteSpec{Method: "POST", Path: "/items", BodySchema: schema,
		Handler: func(*Request) Response { return Response{Status: 200, Body: answer} }}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"name":"Widget","price":9.5,"tags":["a","b","c"],"seller":{"name":"Ann","address":{"city":"Berlin \"Mitte\""}}}`)
	c := app.NewContext(0)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Request.Header.SetMethod("POST")
		c.Request.SetRequestURI("/items")
		c.Request.Header.SetContentTypeBytes([]byte("application/json"))
		c.Request.SetBodyStream(bytes.NewReader(body), len(body))
		a.serveHTTP(ctx, c)
		if c.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", c.Response.StatusCode(), c.Response.Body())
		}
		c.Reset()
	}
}
