package main

// The tests of package main call the //export functions directly, as Go
// functions. cgo is not allowed in _test.go files, so the C types appear
// under the names cgo generates for them (_Ctype_*), and every buffer the
// host would pass is Go memory, which is fine for a Go caller: the
// functions only read it during the call. What a poll returns points into
// the poller's C arena, which the tests read through unsafe.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

type (
	cApp      = _Ctype_spikard_app
	cPoller   = _Ctype_spikard_poller
	cEvent    = _Ctype_spikard_event
	cResponse = _Ctype_spikard_response
	cHeader   = _Ctype_spikard_pair
	cStr      = _Ctype_spikard_str
)

// The element sizes a host compiled against spikard.h passes.
const (
	eventSize    = _Ctype_size_t(unsafe.Sizeof(cEvent{}))
	responseSize = _Ctype_size_t(unsafe.Sizeof(cResponse{}))
)

// pollerFD returns pl's readiness fd.
func pollerFD(t *testing.T, pl *cPoller) int {
	t.Helper()
	var fd _Ctype_int
	if rc := spikard_poller_fd(&fd, pl); rc != rcOK || fd < 0 {
		t.Fatalf("spikard_poller_fd = %d, fd %d", rc, fd)
	}
	return int(fd)
}

// problem500 is the standard 500 problem document.
const problem500 = `{"type":"https://spikard.dev/errors/internal-server-error","title":"Internal Server Error","status":500,"detail":"Internal server error"}`

// echoSchema declares the one path parameter "id" of the test routes.
const echoSchema = `{"type":"object","properties":{"id":{"type":"string","source":"path"}},"required":["id"]}`

// doc returns s as the (pointer, length) pair of a JSON argument; "" is
// NULL with length 0.
func doc(s string) (*_Ctype_spikard_cchar, _Ctype_size_t) {
	if s == "" {
		return nil, 0
	}
	b := []byte(s)
	return (*_Ctype_spikard_cchar)(unsafe.Pointer(&b[0])), _Ctype_size_t(len(b))
}

// cstr views b as a spikard_str; b must stay alive while it is used.
func cstr(b []byte) cStr {
	if len(b) == 0 {
		return cStr{}
	}
	return cStr{ptr: (*_Ctype_char)(unsafe.Pointer(&b[0])), len: _Ctype_size_t(len(b))}
}

// gostr copies a spikard_str out of C memory.
func gostr(s cStr) string {
	if s.ptr == nil || s.len == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(s.ptr)), s.len))
}

// newApp creates an app that is freed when the test ends. Register
// pollers after it, so that t.Cleanup frees them first.
func newApp(t *testing.T, config string) *cApp {
	t.Helper()
	var p *cApp
	d, n := doc(config)
	if rc := spikard_app_new(&p, d, n); rc != rcOK || p == nil {
		t.Fatalf("spikard_app_new(%s) = %d, %v", config, rc, p)
	}
	t.Cleanup(func() { spikard_app_free(p) })
	return p
}

func addRoute(t *testing.T, a *cApp, route string) uint32 {
	t.Helper()
	var id _Ctype_uint32_t
	d, n := doc(route)
	if rc := spikard_app_add_route(&id, a, d, n); rc != rcOK {
		t.Fatalf("spikard_app_add_route(%s) = %d", route, rc)
	}
	return uint32(id)
}

// start starts a and returns its base URL.
func start(t *testing.T, a *cApp) string {
	t.Helper()
	if rc := spikard_app_start(a); rc != rcOK {
		t.Fatalf("spikard_app_start = %d", rc)
	}
	var port _Ctype_int
	if rc := spikard_app_port(&port, a); rc != rcOK || port <= 0 {
		t.Fatalf("spikard_app_port = %d, port %d", rc, port)
	}
	return "http://127.0.0.1:" + strconv.Itoa(int(port))
}

// openPoller creates a poller that is freed when the test ends.
func openPoller(t *testing.T, a *cApp, lane uint32) *cPoller {
	t.Helper()
	var p *cPoller
	if rc := spikard_poller_new(&p, a, _Ctype_uint32_t(lane)); rc != rcOK || p == nil {
		t.Fatalf("spikard_poller_new = %d", rc)
	}
	t.Cleanup(func() { spikard_poller_free(p) })
	return p
}

// event is a spikard_event copied into Go memory.
type event struct {
	exchange     uint64
	kind, route  uint32
	method, path string
	query        string
	params, body string
	headers      map[string]string
}

// poll polls once into evs and copies what came back.
func poll(pl *cPoller, evs []cEvent, timeoutMS int) ([]event, _Ctype_int) {
	var n _Ctype_size_t
	rc := spikard_poller_poll(&n, pl, &evs[0], _Ctype_size_t(len(evs)), eventSize, _Ctype_int(timeoutMS))
	out := make([]event, n)
	for i := range out {
		ev := &evs[i]
		e := event{
			exchange: uint64(ev.exchange), kind: uint32(ev.kind), route: uint32(ev.route),
			method: gostr(ev.method), path: gostr(ev.path), query: gostr(ev.query),
			params: gostr(ev.params), body: gostr(ev.body),
			headers: make(map[string]string, ev.header_count),
		}
		if ev.header_count > 0 {
			for _, h := range unsafe.Slice(ev.headers, ev.header_count) {
				e.headers[gostr(h.name)] = gostr(h.value)
			}
		}
		out[i] = e
	}
	return out, rc
}

// pollOne waits up to five seconds for one event.
func pollOne(t *testing.T, pl *cPoller) event {
	t.Helper()
	evs := make([]cEvent, 1)
	got, rc := poll(pl, evs, 5000)
	if rc != rcOK || len(got) != 1 {
		t.Fatalf("poll = %d with %d events, want one event", rc, len(got))
	}
	return got[0]
}

// answer is a response in Go terms; see response for the C form.
type answer struct {
	exchange uint64
	status   uint32
	flags    uint32
	headers  [][2]string
	body     string
}

// response lays a out as a spikard_response over Go memory, which the
// response keeps reachable.
func response(a answer) cResponse {
	r := cResponse{
		exchange: _Ctype_uint64_t(a.exchange),
		status:   _Ctype_uint32_t(a.status),
		flags:    _Ctype_uint32_t(a.flags),
		body:     cstr([]byte(a.body)),
	}
	if len(a.headers) > 0 {
		hs := make([]cHeader, len(a.headers))
		for i, h := range a.headers {
			hs[i] = cHeader{name: cstr([]byte(h[0])), value: cstr([]byte(h[1]))}
		}
		r.headers, r.header_count = &hs[0], _Ctype_size_t(len(hs))
	}
	return r
}

func respond(a *cApp, answers ...answer) _Ctype_int {
	rs := make([]cResponse, len(answers))
	for i := range answers {
		rs[i] = response(answers[i])
	}
	return respondRaw(a, rs)
}

func respondRaw(a *cApp, rs []cResponse) _Ctype_int {
	if len(rs) == 0 {
		return spikard_respond(nil, a, nil, 0, responseSize)
	}
	return spikard_respond(nil, a, &rs[0], _Ctype_size_t(len(rs)), responseSize)
}

// reply is what an HTTP client got.
type reply struct {
	status int
	body   string
	header http.Header
	err    error
}

// client has enough idle connections for the concurrent tests.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

func get(ctx context.Context, url string, header map[string]string) reply {
	return getWith(client, ctx, url, header)
}

// oneShot opens a connection per request, so no reply depends on a pooled
// connection from an earlier test.
var oneShot = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func getWith(client *http.Client, ctx context.Context, url string, header map[string]string) reply {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return reply{err: err}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(b), header: resp.Header, err: err}
}

// getAsync starts a GET on a new connection, with a ten-second limit, and
// returns its reply.
func getAsync(url string) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ch <- getWith(oneShot, ctx, url, nil)
	}()
	return ch
}

// paramID returns the "id" of an event's params document.
func paramID(params string) (string, bool) {
	var p struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal([]byte(params), &p); err != nil || p.ID == nil {
		return "", false
	}
	return *p.ID, true
}
