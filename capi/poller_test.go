package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkEcho reports what is wrong with an event of an echo route, whose
// client puts one id in the path, the query and the x-id header; "" if
// nothing. A torn copy or another request's data shows as a mismatch.
func checkEcho(e event, prefix string) (id string, problem string) {
	id, ok := paramID(e.params)
	switch {
	case e.kind != 1: // SPIKARD_EVENT_REQUEST
		return "", fmt.Sprintf("kind %d", e.kind)
	case e.exchange == 0:
		return "", "exchange 0"
	case !ok:
		return "", fmt.Sprintf("params %q", e.params)
	case e.method != "GET" || e.path != prefix+id || e.query != "id="+id || e.headers["x-id"] != id || e.body != "":
		return "", fmt.Sprintf("id %q but %s %s ?%s x-id %q body %q", id, e.method, e.path, e.query, e.headers["x-id"], e.body)
	}
	return id, ""
}

// TestConcurrentEcho: several pollers on one lane, polled from their own
// goroutines while other goroutines answer, with many clients at once.
// Every client must get its own answer.
func TestConcurrentEcho(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true,"request_timeout":30,"shutdown_timeout":2}`)
	route := addRoute(t, a, `{"method":"GET","path":"/echo/{id}","lane":1,"facts":["meta"],"parameter_schema":`+echoSchema+`}`)
	base := start(t, a)
	const pollers, responders, clients, perClient = 4, 4, 48, 25

	jobs := make(chan event, 64)
	var hosts, workers sync.WaitGroup
	answer1 := func(e event) answer {
		id, problem := checkEcho(e, "/echo/")
		if problem != "" || e.route != route {
			t.Errorf("event %d on route %d: %s", e.exchange, e.route, problem)
			return answer{exchange: e.exchange, status: 500}
		}
		return answer{exchange: e.exchange, status: 200, headers: [][2]string{{"x-echo", e.path}}, body: id}
	}
	for i := range pollers {
		pl := openPoller(t, a, 1)
		hosts.Add(1)
		go func() {
			defer hosts.Done()
			evs := make([]cEvent, 1+i*3) // batches of 1, 4, 7 and 10
			for {
				got, rc := poll(pl, evs, 20)
				if rc == rcClosed {
					return
				}
				if rc != rcOK {
					t.Errorf("poll = %d", rc)
					return
				}
				if i%2 == 0 { // answer the batch here, in one call
					batch := make([]answer, len(got))
					for k, e := range got {
						batch[k] = answer1(e)
					}
					if rc := respond(a, batch...); rc != rcOK {
						t.Errorf("batch respond = %d", rc)
					}
					continue
				}
				for _, e := range got { // or hand it to another goroutine
					jobs <- e
				}
			}
		}()
	}
	for range responders {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for e := range jobs {
				if rc := respond(a, answer1(e)); rc != rcOK {
					t.Errorf("respond = %d", rc)
				}
			}
		}()
	}

	var wrong atomic.Int32
	var cl sync.WaitGroup
	for c := range clients {
		cl.Add(1)
		go func() {
			defer cl.Done()
			for r := range perClient {
				id := fmt.Sprintf("c%d-r%d", c, r)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				got := get(ctx, base+"/echo/"+id+"?id="+id, map[string]string{"X-Id": id})
				cancel()
				if got.err != nil || got.status != 200 || got.body != id || got.header.Get("X-Echo") != "/echo/"+id {
					if wrong.Add(1) <= 5 {
						t.Errorf("GET %s: %d %q x-echo %q (%v)", id, got.status, got.body, got.header.Get("X-Echo"), got.err)
					}
				}
			}
		}()
	}
	cl.Wait()
	if rc := spikard_app_stop(a, 2000); rc != rcOK {
		t.Errorf("spikard_app_stop = %d", rc)
	}
	hosts.Wait()
	close(jobs)
	workers.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d of %d requests got a wrong answer", n, clients*perClient)
	}
}

// TestTimeoutsAndDisconnects races request timeouts and departing clients
// with polls and answers. Copies must never be torn or belong to another
// request, answers to gone exchanges are refused, and a client that stays
// gets its own answer or the 408.
func TestTimeoutsAndDisconnects(t *testing.T) {
	a := newApp(t, `{"port":0,"quiet":true,"request_timeout":0.1,"shutdown_timeout":2}`)
	addRoute(t, a, `{"method":"GET","path":"/slow/{id}","facts":["meta"],"parameter_schema":`+echoSchema+`}`)
	base := start(t, a)
	const pollers, clients, perClient = 3, 32, 15

	var answered, refused, disconnects, doubles atomic.Int32
	var hosts, pending sync.WaitGroup
	for range pollers {
		pl := openPoller(t, a, 0)
		hosts.Add(1)
		go func() {
			defer hosts.Done()
			evs := make([]cEvent, 8)
			for {
				got, rc := poll(pl, evs, 10)
				if rc == rcClosed {
					return
				}
				if rc != rcOK {
					t.Errorf("poll = %d", rc)
					return
				}
				for _, e := range got {
					if e.kind == 2 { // SPIKARD_EVENT_DISCONNECT
						if e.exchange == 0 {
							t.Errorf("disconnect event without an exchange")
						}
						disconnects.Add(1)
						continue
					}
					id, problem := checkEcho(e, "/slow/")
					if problem != "" {
						t.Errorf("event %d: %s", e.exchange, problem)
						continue
					}
					// The id picks the delay: none, inside or past the
					// timeout; some exchanges get two answers at once.
					var n int
					fmt.Sscanf(id[len(id)-1:], "%d", &n)
					delay := time.Duration(n%3) * 80 * time.Millisecond
					twice := n%4 == 1
					ans := answer{exchange: e.exchange, status: 200, body: id}
					pending.Add(1)
					go func() {
						defer pending.Done()
						time.Sleep(delay)
						if !twice {
							switch rc := respond(a, ans); rc {
							case rcOK:
								answered.Add(1)
							case rcNotFound:
								refused.Add(1)
							default:
								t.Errorf("respond = %d", rc)
							}
							return
						}
						var rcs [2]_Ctype_int
						var both sync.WaitGroup
						for k := range rcs {
							both.Add(1)
							go func() { defer both.Done(); rcs[k] = respond(a, ans) }()
						}
						both.Wait()
						if rcs[0] == rcOK && rcs[1] == rcOK {
							t.Errorf("exchange %d answered twice", ans.exchange)
						}
						doubles.Add(1)
					}()
				}
			}
		}()
	}

	var ok200, timedOut, gone atomic.Int32
	var cl sync.WaitGroup
	for c := range clients {
		cl.Add(1)
		go func() {
			defer cl.Done()
			for r := range perClient {
				id := fmt.Sprintf("c%d-r%d", c, r)
				limit := 10 * time.Second
				if (c+r)%3 == 0 { // this client leaves early
					limit = time.Duration(r*7%60) * time.Millisecond
				}
				ctx, cancel := context.WithTimeout(context.Background(), limit)
				got := get(ctx, base+"/slow/"+id+"?id="+id, map[string]string{"X-Id": id})
				cancel()
				switch {
				case got.err != nil && limit < time.Second:
					gone.Add(1)
				case got.err == nil && got.status == 200 && got.body == id:
					ok200.Add(1)
				case got.err == nil && got.status == 408:
					timedOut.Add(1)
				default:
					t.Errorf("GET %s: %d %q (%v)", id, got.status, got.body, got.err)
				}
			}
		}()
	}
	cl.Wait()
	pending.Wait()
	if rc := spikard_app_stop(a, 2000); rc != rcOK {
		t.Errorf("spikard_app_stop = %d", rc)
	}
	hosts.Wait()
	t.Logf("clients: %d answered, %d timed out, %d left; hosts: %d answers taken, %d refused, %d doubled, %d disconnect events",
		ok200.Load(), timedOut.Load(), gone.Load(), answered.Load(), refused.Load(), doubles.Load(), disconnects.Load())
	if ok200.Load() == 0 || timedOut.Load() == 0 || refused.Load() == 0 {
		t.Errorf("the race was not exercised: want some answers, some 408s and some refused answers")
	}
}
