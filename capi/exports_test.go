package main

import (
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppNewRejectsConfig(t *testing.T) {
	runtime.LockOSThread() // spikard_last_error is per thread
	defer runtime.UnlockOSThread()
	tests := []struct {
		config  string
		wantMsg string
	}{
		{`{`, "config"},
		{`[1]`, "config"},
		{`{"port":"x"}`, `"port"`},
		{`{"port":70000}`, `"port"`},
		{`{"request_timeout":-1}`, `"request_timeout"`},
		{`{"host":""}`, `"host"`},
		{`{"bogus":1}`, `unknown key "bogus"`},
	}
	for _, tt := range tests {
		p := &cApp{} // must be reset to NULL on failure
		d, n := doc(tt.config)
		rc := spikard_app_new(&p, d, n)
		msg := lastError()
		if rc != rcInvalid || p != nil || !strings.Contains(msg, tt.wantMsg) {
			t.Errorf("spikard_app_new(%s) = %d, out %v, last error %q; want %d, NULL, a message with %q",
				tt.config, rc, p, msg, rcInvalid, tt.wantMsg)
		}
	}
	if rc := spikard_app_new(nil, nil, 0); rc != rcInvalid || lastError() == "" {
		t.Errorf("spikard_app_new(NULL out) = %d, %q", rc, lastError())
	}
	for _, config := range []string{"", "{}", ` {"port":0,"quiet":true} `} {
		var p *cApp
		d, n := doc(config)
		if rc := spikard_app_new(&p, d, n); rc != rcOK || p == nil {
			t.Errorf("spikard_app_new(%q) = %d: %s", config, rc, lastError())
		}
		spikard_app_free(p)
	}
}

// spikard_config_check applies spikard_app_new's rules without an app, and
// its message is the one spikard_app_new would give, word for word.
func TestConfigCheck(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, config := range []string{"", "{}", `{"port":0,"max_body_size":1e3,"quiet":true}`} {
		d, n := doc(config)
		if rc := spikard_config_check(d, n); rc != rcOK {
			t.Errorf("spikard_config_check(%q) = %d, %q", config, rc, lastError())
		}
	}
	for _, config := range []string{`{`, `{"port":70000}`, `{"read_timeout":null}`, `{"bogus":1}`} {
		d, n := doc(config)
		rc := spikard_config_check(d, n)
		checked := lastError()
		var p *cApp
		spikard_app_new(&p, d, n)
		created := strings.TrimPrefix(lastError(), "spikard_app_new: ")
		if rc != rcInvalid || checked == "" || checked != created {
			t.Errorf("spikard_config_check(%s) = %d, %q; spikard_app_new says %q", config, rc, checked, created)
		}
	}
	if rc := spikard_config_check(nil, 5); rc != rcInvalid || lastError() == "" {
		t.Errorf("spikard_config_check(NULL, 5) = %d, %q", rc, lastError())
	}
}

func TestAddRouteRejectsRoute(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a := newApp(t, `{"port":0,"quiet":true}`)
	tests := []struct {
		route   string
		wantMsg string
	}{
		{`{`, "route"},
		{`{"path":"/x"}`, `"method" is required`},
		{`{"method":"GET"}`, `"path" is required`},
		{`{"method":"GET","path":"/x","lane":"one"}`, "route"},
		{`{"method":"GET","path":"/x","parameter_schema":{"type":"object","properties":{"q":{"type":"integer","source":"moon"}}}}`, "moon"},
	}
	for _, tt := range tests {
		id := _Ctype_uint32_t(77)
		d, n := doc(tt.route)
		rc := spikard_app_add_route(&id, a, d, n)
		msg := lastError()
		if rc != rcInvalid || id != 0 || !strings.Contains(msg, tt.wantMsg) {
			t.Errorf("spikard_app_add_route(%s) = %d, id %d, last error %q; want %d, id 0, a message with %q",
				tt.route, rc, id, msg, rcInvalid, tt.wantMsg)
		}
	}
	d, n := doc(`{"method":"GET","path":"/x"}`)
	if rc := spikard_app_add_route(nil, a, d, n); rc != rcInvalid {
		t.Errorf("add route with NULL out_route = %d", rc)
	}
	if rc := spikard_app_add_route(new(_Ctype_uint32_t), nil, d, n); rc != rcInvalid {
		t.Errorf("add route to NULL app = %d", rc)
	}
	var port _Ctype_int
	if rc := spikard_app_port(&port, a); rc != rcState || port != 0 {
		t.Errorf("port before start = %d, want %d", rc, rcState)
	}
	start(t, a)
	if rc := spikard_app_add_route(new(_Ctype_uint32_t), a, d, n); rc != rcState || !strings.Contains(lastError(), "started") {
		t.Errorf("add route after start = %d %q, want %d", rc, lastError(), rcState)
	}
	if rc := spikard_app_start(a); rc != rcState {
		t.Errorf("second start = %d, want %d", rc, rcState)
	}
}

// TestLastErrorIsPerThread fails on two threads at once: each must read
// its own message.
func TestLastErrorIsPerThread(t *testing.T) {
	var wg sync.WaitGroup
	failed := make(chan struct{}, 2)
	bothFailed := make(chan struct{})
	for _, key := range []string{"alpha", "beta"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var p *cApp
			d, n := doc(`{"` + key + `":1}`)
			if rc := spikard_app_new(&p, d, n); rc != rcInvalid {
				t.Errorf("spikard_app_new with %q = %d", key, rc)
			}
			failed <- struct{}{}
			<-bothFailed // both goroutines hold their threads: they differ
			if msg := lastError(); !strings.Contains(msg, key) {
				t.Errorf("thread that failed on %q reads %q", key, msg)
			}
		}()
	}
	<-failed
	<-failed
	close(bothFailed)
	wg.Wait()
}

func TestNullHandles(t *testing.T) {
	spikard_app_free(nil)
	spikard_poller_free(nil)
	var n _Ctype_size_t
	evs := make([]cEvent, 1)
	for name, rc := range map[string]_Ctype_int{
		"spikard_app_start":    spikard_app_start(nil),
		"spikard_app_stop":     spikard_app_stop(nil, 0),
		"spikard_app_port":     spikard_app_port(new(_Ctype_int), nil),
		"spikard_poller_new":   spikard_poller_new(new(*cPoller), nil, 0),
		"spikard_poller_poll":  spikard_poller_poll(&n, nil, &evs[0], 1, eventSize, 0),
		"spikard_poller_fd":    spikard_poller_fd(new(_Ctype_int), nil),
		"spikard_respond":      spikard_respond(nil, nil, nil, 0, responseSize),
		"spikard_poller_new/2": spikard_poller_new(nil, nil, 0),
	} {
		if rc != rcInvalid {
			t.Errorf("%s(NULL) = %d, want %d", name, rc, rcInvalid)
		}
	}
	if v := spikard_abi_version(); v/10000 != 2 {
		t.Errorf("spikard_abi_version = %d", v)
	}
}

func TestPollArguments(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true}`)
	pl := openPoller(t, a, 0)
	n := _Ctype_size_t(9)
	if rc := spikard_poller_poll(&n, pl, nil, 0, eventSize, 0); rc != rcOK || n != 0 {
		t.Errorf("poll with cap 0 = %d, count %d", rc, n)
	}
	if rc := spikard_poller_poll(&n, pl, nil, 1, eventSize, 0); rc != rcInvalid {
		t.Errorf("poll into NULL events = %d", rc)
	}
	evs := make([]cEvent, 1)
	if rc := spikard_poller_poll(nil, pl, &evs[0], 1, eventSize, 0); rc != rcInvalid {
		t.Errorf("poll with NULL out_count = %d", rc)
	}
	// Not started: nothing comes, and a short wait times out cleanly.
	if rc := spikard_poller_poll(&n, pl, &evs[0], 1, eventSize, 10); rc != rcOK || n != 0 {
		t.Errorf("poll of an idle lane = %d, count %d", rc, n)
	}
	if rc := respond(a, answer{exchange: 12345, status: 200}); rc != rcNotFound {
		t.Errorf("respond to an unknown exchange = %d, want %d", rc, rcNotFound)
	}
	if rc := spikard_respond(nil, a, nil, 1, responseSize); rc != rcInvalid {
		t.Errorf("respond with NULL responses = %d", rc)
	}
}

// TestPollAfterStop: a poll blocked when the app stops, and every poll
// after, returns SPIKARD_E_CLOSED.
func TestPollAfterStop(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true}`)
	addRoute(t, a, `{"method":"GET","path":"/x"}`)
	start(t, a)
	pl := openPoller(t, a, 0)
	blocked := make(chan _Ctype_int, 1)
	go func() {
		_, rc := poll(pl, make([]cEvent, 4), -1)
		blocked <- rc
	}()
	time.Sleep(20 * time.Millisecond) // let it block; the outcome is the same if not
	if rc := spikard_app_stop(a, 1000); rc != rcOK {
		t.Fatalf("spikard_app_stop = %d", rc)
	}
	select {
	case rc := <-blocked:
		if rc != rcClosed {
			t.Errorf("blocked poll = %d, want %d", rc, rcClosed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked poll did not return after stop")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, timeout := range []int{0, 10, -1} {
		if _, rc := poll(pl, make([]cEvent, 1), timeout); rc != rcClosed || lastError() == "" {
			t.Errorf("poll(timeout %d) after stop = %d %q, want %d", timeout, rc, lastError(), rcClosed)
		}
	}
	if rc := spikard_app_stop(a, 0); rc != rcOK {
		t.Errorf("second stop = %d", rc)
	}
	if rc := spikard_app_start(a); rc != rcState {
		t.Errorf("start after stop = %d, want %d", rc, rcState)
	}
}

// TestStopAnswersWaiting503: a request nobody answers gets a 503 at the
// stop deadline, and the drained lane then reports SPIKARD_E_CLOSED.
func TestStopAnswersWaiting503(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true}`)
	addRoute(t, a, `{"method":"GET","path":"/x"}`)
	base := start(t, a)
	pl := openPoller(t, a, 0)
	got := getAsync(base + "/x")
	ev := pollOne(t, pl) // taken, never answered
	if rc := spikard_app_stop(a, 100); rc != rcOK {
		t.Fatalf("spikard_app_stop = %d", rc)
	}
	if r := <-got; r.err != nil || r.status != 503 {
		t.Errorf("unanswered request at stop: %d %v, want 503", r.status, r.err)
	}
	if rc := respond(a, answer{exchange: ev.exchange, status: 200}); rc != rcNotFound {
		t.Errorf("respond after stop = %d, want %d", rc, rcNotFound)
	}
	rc := rcOK
	for i := 0; i < 10 && rc == rcOK; i++ { // a disconnect event may still be queued
		_, rc = poll(pl, make([]cEvent, 4), 0)
	}
	if rc != rcClosed {
		t.Errorf("poll of the drained lane = %d, want %d", rc, rcClosed)
	}
}

// TestFreeRunningApp frees an app that serves, with a request waiting:
// the request gets its 503 and the port closes.
func TestFreeRunningApp(t *testing.T) {
	var a *cApp
	d, n := doc(`{"port":0,"quiet":true,"shutdown_timeout":0.2}`)
	if rc := spikard_app_new(&a, d, n); rc != rcOK {
		t.Fatal(rc)
	}
	addRoute(t, a, `{"method":"GET","path":"/x"}`)
	base := start(t, a)
	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	var pl *cPoller
	if rc := spikard_poller_new(&pl, a, 0); rc != rcOK {
		t.Fatal(rc)
	}
	got := getAsync(base + "/x")
	pollOne(t, pl) // the request has arrived
	spikard_poller_free(pl)

	begin := time.Now()
	spikard_app_free(a)
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("spikard_app_free took %v with shutdown_timeout 0.2s", took)
	}
	if r := <-got; r.err != nil || r.status != 503 {
		t.Errorf("request waiting at free: %d %v, want 503", r.status, r.err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Errorf("port %s still accepts connections after spikard_app_free", port)
	}
}
