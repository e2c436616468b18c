package core

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/protocol"
)

// A body is read into one buffer of its declared length: no doubling past
// it, and the exchange's next, smaller body reuses it.
func TestBodyBufferDeclaredSize(t *testing.T) {
	caps := make(chan int, 2)
	_, base := startApp(t, nil, RouteSpec{Method: "POST", Path: "/raw", Handler: func(r *Request) Response {
		caps <- cap(r.Body)
		return Response{Status: 200, Body: []byte(strconv.Itoa(len(r.Body)))}
	}})
	for _, n := range []int{100_000, 50_000} {
		if r := do(t, "POST", base+"/raw", "application/octet-stream", strings.Repeat("b", n)); r.status != 200 || r.body != strconv.Itoa(n) {
			t.Fatalf("POST %d bytes: %d %s", n, r.status, r.body)
		}
		if got := <-caps; got != 100_000 {
			t.Errorf("POST %d bytes after 100000: the body's buffer has cap %d, want 100000", n, got)
		}
	}
}

// growBody doubles the room of a body of unknown length, but never past
// a declared one.
func TestGrowBody(t *testing.T) {
	full := bytes.Repeat([]byte("x"), 5000)
	for _, c := range []struct{ cl, want int }{{-1, 10000}, {6000, 6000}, {100000, 10000}} {
		got := growBody(full, c.cl)
		if cap(got) != c.want || !bytes.Equal(got, full) {
			t.Errorf("growBody(5000 bytes, cl %d): len %d cap %d, want the bytes kept and cap %d", c.cl, len(got), cap(got), c.want)
		}
	}
	if got := growBody(nil, -1); cap(got) != 4096 {
		t.Errorf("growBody(nil, -1): cap %d, want 4096", cap(got))
	}
}

// A small answer goes into the response's pooled buffer; a large one into
// a copy of its exact size, and neither aliases the host's bytes.
func TestAnswerBodyBuffer(t *testing.T) {
	for _, n := range []int{keepBodyCap, keepBodyCap + 1, 150_000} {
		src := []byte(strings.Repeat("a", n))
		var r protocol.Response
		setAnswerBody(&r, src)
		got := r.Body()
		if !bytes.Equal(got, src) {
			t.Fatalf("%d bytes: the answer's body differs", n)
		}
		if &got[0] == &src[0] {
			t.Errorf("%d bytes: the answer aliases the host's buffer", n)
		}
		if n > keepBodyCap && cap(got) > n+8192 {
			t.Errorf("%d bytes: the answer's buffer has cap %d, want about its size", n, cap(got))
		}
		src[0] = 'b' // the host reuses its buffer once Respond returns
		if r.Body()[0] != 'a' {
			t.Errorf("%d bytes: the answer changed with the host's buffer", n)
		}
	}
}
