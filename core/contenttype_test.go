package core

import (
	"io"
	"net/http"
	"testing"
)

// An answer carries the content-type its host gave, or none at all: core
// adds no default, so a body of bytes reads the same from every binding.
func TestNoDefaultContentType(t *testing.T) {
	_, base := startApp(t, nil,
		RouteSpec{Method: "GET", Path: "/bare", Handler: func(*Request) Response {
			return Response{Status: 200, Body: []byte("\x00\x01raw")}
		}},
		RouteSpec{Method: "GET", Path: "/typed", Handler: func(*Request) Response {
			return Response{Status: 200, Headers: []Header{{Name: []byte("content-type"), Value: []byte("image/png")}}, Body: []byte("png")}
		}},
	)
	for path, want := range map[string]string{"/bare": "", "/typed": "image/png"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Type"); got != want || len(body) == 0 {
			t.Errorf("%s: content-type %q, body %q; want content-type %q", path, got, body, want)
		}
	}
}
