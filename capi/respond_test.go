package main

import "testing"

// TestRespondMalformed: every malformed answer (a HANDLER_ERROR answer with
// headers or a body included) becomes the standard 500 problem document,
// and its result is SPIKARD_E_INVALID.
func TestRespondMalformed(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true}`)
	addRoute(t, a, `{"method":"GET","path":"/r"}`)
	base := start(t, a)
	pl := openPoller(t, a, 0)
	junk := []byte("junk")
	tests := []struct {
		name string
		resp func(ex uint64) cResponse
	}{
		{"handler error flag", func(ex uint64) cResponse {
			return response(answer{exchange: ex, status: 200, flags: 1, // SPIKARD_RESPONSE_HANDLER_ERROR
				headers: [][2]string{{"x-a", "b"}}, body: "ignored"})
		}},
		{"status 99", func(ex uint64) cResponse { return response(answer{exchange: ex, status: 99, body: "x"}) }},
		{"status 600", func(ex uint64) cResponse { return response(answer{exchange: ex, status: 600}) }},
		{"status 0", func(ex uint64) cResponse { return response(answer{exchange: ex}) }},
		{"empty header name", func(ex uint64) cResponse {
			return response(answer{exchange: ex, status: 200, headers: [][2]string{{"", "v"}}})
		}},
		{"header name with colon", func(ex uint64) cResponse {
			return response(answer{exchange: ex, status: 200, headers: [][2]string{{"a:b", "v"}}})
		}},
		{"header value with CRLF", func(ex uint64) cResponse {
			return response(answer{exchange: ex, status: 200, headers: [][2]string{{"x", "a\r\nset-cookie: evil"}}})
		}},
		{"NULL headers with a count", func(ex uint64) cResponse {
			r := response(answer{exchange: ex, status: 200})
			r.header_count = 2
			return r
		}},
		{"NULL header name with a length", func(ex uint64) cResponse {
			hs := []cHeader{{name: cStr{len: 3}, value: cstr(junk)}}
			r := response(answer{exchange: ex, status: 200})
			r.headers, r.header_count = &hs[0], 1
			return r
		}},
		{"NULL body with a length", func(ex uint64) cResponse {
			r := response(answer{exchange: ex, status: 200})
			r.body = cStr{len: 5}
			return r
		}},
	}
	for _, tt := range tests {
		got := getAsync(base + "/r")
		ev := pollOne(t, pl)
		if rc := respondRaw(a, []cResponse{tt.resp(ev.exchange)}); rc != rcInvalid {
			t.Errorf("%s: spikard_respond = %d", tt.name, rc)
		}
		r := <-got
		if r.err != nil || r.status != 500 || r.body != problem500 ||
			r.header.Get("Content-Type") != "application/problem+json" || r.header.Get("X-A") != "" {
			t.Errorf("%s: got %d %q %v (%v), want the 500 problem document", tt.name, r.status, r.body, r.header, r.err)
		}
	}

	// A well-formed answer in the same batch as an unknown exchange is
	// still delivered, and the batch reports SPIKARD_E_NOT_FOUND.
	got := getAsync(base + "/r")
	ev := pollOne(t, pl)
	rc := respond(a,
		answer{exchange: ev.exchange ^ 1<<40, status: 200}, // a generation that never existed
		answer{exchange: ev.exchange, status: 201, headers: [][2]string{{"x-a", "b"}}, body: "made"},
	)
	if rc != rcNotFound {
		t.Errorf("batch with an unknown exchange = %d, want %d", rc, rcNotFound)
	}
	if r := <-got; r.err != nil || r.status != 201 || r.body != "made" || r.header.Get("X-A") != "b" {
		t.Errorf("got %d %q %v (%v), want 201 made", r.status, r.body, r.header, r.err)
	}
	if rc := respond(a, answer{exchange: ev.exchange, status: 200}); rc != rcNotFound {
		t.Errorf("second answer to one exchange = %d, want %d", rc, rcNotFound)
	}
}
