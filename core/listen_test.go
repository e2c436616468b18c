package core

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReusePort: two apps with reuse_port share one address; either keeps
// serving it when the other stops. Without reuse_port the second bind fails.
func TestReusePort(t *testing.T) {
	answer := func(name string) RouteSpec {
		return RouteSpec{Method: "GET", Path: "/who", Handler: func(*Request) Response {
			return Response{Status: 200, Body: []byte(name)}
		}}
	}
	first, base := startApp(t, func(c *Config) { c.ReusePort = true }, answer("first"))
	port := first.Port()

	plain := NewApp(Config{Host: "127.0.0.1", Port: port, Quiet: true, Logger: &testLogger{}})
	if err := plain.Start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("bind without reuse_port: err %v", err)
	}

	startApp(t, func(c *Config) { c.ReusePort = true; c.Port = port }, answer("second"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// Fresh connections now all reach the second app.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 10; i++ {
		resp, err := client.Get(base + "/who")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "second" {
			t.Fatalf("request %d answered by %q", i, body)
		}
	}
	if base != "http://127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("base %s", base)
	}
}
