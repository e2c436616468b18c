// Command capi is libspikard: the C ABI of include/spikard.h over package
// core. It is the only cgo in the repository, and it only translates: each
// exported function converts its inputs, calls core, converts the result
// back, and turns a Go panic into SPIKARD_E_INTERNAL so none unwinds into
// the host.
//
// Build: go build -buildmode=c-shared -o build/libspikard.so ./capi
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -Wall
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"math"
	"unsafe"

	"github.com/spikard/spikard/core"
)

func main() {}

// goBytes copies a host document into Go memory: core may keep slices of
// what it parses, and the host may free its buffer as soon as we return.
func goBytes(p *C.spikard_cchar, n C.size_t) ([]byte, bool) {
	if p == nil || n > math.MaxInt32 { // GoBytes takes an int32 length
		return nil, n == 0
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), true
}

//export spikard_abi_version
func spikard_abi_version() C.int {
	return abiVersion
}

//export spikard_app_new
func spikard_app_new(out **C.spikard_app, doc *C.spikard_cchar, n C.size_t) (rc C.int) {
	defer rescue("spikard_app_new", &rc)
	if out == nil {
		return fail(rcInvalid, "spikard_app_new: out is NULL")
	}
	*out = nil
	b, ok := goBytes(doc, n)
	if !ok {
		return fail(rcInvalid, "spikard_app_new: config_json is NULL or too long")
	}
	cfg, err := core.ParseConfig(b)
	if err != nil {
		return fail(codeOf(err, rcInvalid), "spikard_app_new: %v", err)
	}
	*out = newAppHandle(&app{core: core.NewApp(cfg), cfg: cfg})
	return rcOK
}

//export spikard_config_check
func spikard_config_check(doc *C.spikard_cchar, n C.size_t) (rc C.int) {
	defer rescue("spikard_config_check", &rc)
	b, ok := goBytes(doc, n)
	if !ok {
		return fail(rcInvalid, "spikard_config_check: config_json is NULL or too long")
	}
	if _, err := core.ParseConfig(b); err != nil {
		return fail(codeOf(err, rcInvalid), "%v", err)
	}
	return rcOK
}

//export spikard_app_free
func spikard_app_free(p *C.spikard_app) {
	var rc C.int
	defer rescue("spikard_app_free", &rc)
	a := appOf(p)
	if a == nil {
		return
	}
	// Close, unlike Shutdown, also closes the fds of pollers not yet freed,
	// which no host can use any more: spikard.h has pollers freed first.
	_ = a.core.Close()
	freeAppHandle(p)
}

//export spikard_app_add_route
func spikard_app_add_route(outRoute *C.uint32_t, p *C.spikard_app, doc *C.spikard_cchar, n C.size_t) (rc C.int) {
	if outRoute != nil {
		*outRoute = 0
	}
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_app_add_route: app is NULL")
	}
	defer rescue("spikard_app_add_route", &rc)
	return a.addRoute(outRoute, doc, n, C.spikard_handler_entry{})
}

func (a *app) addRoute(outRoute *C.uint32_t, doc *C.spikard_cchar, n C.size_t, h C.spikard_handler_entry) C.int {
	if outRoute == nil {
		return fail(rcInvalid, "add route: out_route is NULL")
	}
	b, ok := goBytes(doc, n)
	if !ok {
		return fail(rcInvalid, "add route: route_json is NULL or too long")
	}
	spec, err := core.ParseRouteSpec(b)
	if err != nil {
		return fail(codeOf(err, rcInvalid), "add route: %v", err)
	}
	if h.fn != nil && spec.WebSocket != nil {
		return fail(rcInvalid, "add route: a \"websocket\" route is served by a poller host, not a spikard_handler_fn")
	}
	// The lock orders this against start, after which the table is frozen.
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != appNew {
		return fail(rcState, "add route: the app has already started")
	}
	id, err := a.core.AddRoute(spec)
	if err != nil {
		return fail(codeOf(err, rcInvalid), "add route: %v", err)
	}
	for len(a.handlers) <= int(id) {
		a.handlers = append(a.handlers, C.spikard_handler_entry{})
	}
	a.handlers[id] = h
	*outRoute = C.uint32_t(id)
	return rcOK
}

//export spikard_app_start
func spikard_app_start(p *C.spikard_app) (rc C.int) {
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_app_start: app is NULL")
	}
	defer rescue("spikard_app_start", &rc)
	return a.start(false)
}

// start opens the listener; with again, an app that already runs is fine
// (spikard_serve starts the app only "if needed").
func (a *app) start(again bool) C.int {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.state {
	case appRunning:
		if again {
			return rcOK
		}
		return fail(rcState, "start: the app has already started")
	case appStopped:
		return fail(rcState, "start: the app has been stopped")
	}
	if err := a.core.Start(); err != nil {
		return fail(codeOf(err, rcIO), "start: %v", err)
	}
	a.state = appRunning
	return rcOK
}

//export spikard_app_port
func spikard_app_port(outPort *C.int, p *C.spikard_app) (rc C.int) {
	if outPort == nil {
		return fail(rcInvalid, "spikard_app_port: out_port is NULL")
	}
	*outPort = 0
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_app_port: app is NULL")
	}
	defer rescue("spikard_app_port", &rc)
	port := a.core.Port()
	if port == 0 {
		return fail(rcState, "port: the app has not started")
	}
	*outPort = C.int(port)
	return rcOK
}

//export spikard_app_stop
func spikard_app_stop(p *C.spikard_app, timeoutMS C.int) (rc C.int) {
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_app_stop: app is NULL")
	}
	defer rescue("spikard_app_stop", &rc)
	return a.stop(timeoutMS)
}

func (a *app) stop(timeoutMS C.int) C.int {
	a.mu.Lock()
	a.state = appStopped
	a.mu.Unlock()
	timeout := a.cfg.ShutdownTimeout
	if timeoutMS >= 0 {
		timeout = timeoutOf(timeoutMS)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Missing the deadline is the documented outcome (503s), not a failure.
	if err := a.core.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fail(codeOf(err, rcInternal), "stop: %v", err)
	}
	return rcOK
}

//export spikard_poller_new
func spikard_poller_new(out **C.spikard_poller, p *C.spikard_app, lane C.uint32_t) (rc C.int) {
	defer rescue("spikard_poller_new", &rc)
	if out == nil {
		return fail(rcInvalid, "spikard_poller_new: out is NULL")
	}
	*out = nil
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_poller_new: app is NULL")
	}
	*out = newPollerHandle(newPoller(a, a.core.Lane(uint32(lane))))
	return rcOK
}

//export spikard_poller_free
func spikard_poller_free(p *C.spikard_poller) {
	var rc C.int
	defer rescue("spikard_poller_free", &rc)
	pl := pollerOf(p)
	if pl == nil {
		return
	}
	pl.core.Close()
	pl.buf.free()
	freePollerHandle(p)
}

//export spikard_poller_poll
func spikard_poller_poll(outCount *C.size_t, p *C.spikard_poller, events *C.spikard_event, capacity, eventSize C.size_t, timeoutMS C.int) (rc C.int) {
	if outCount == nil {
		return fail(rcInvalid, "spikard_poller_poll: out_count is NULL")
	}
	*outCount = 0
	pl := pollerOf(p)
	if pl == nil {
		return fail(rcInvalid, "spikard_poller_poll: poller is NULL")
	}
	defer rescue("spikard_poller_poll", &rc)
	if eventSize < C.size_t(unsafe.Sizeof(C.spikard_event{})) || eventSize > math.MaxInt32 {
		return fail(rcInvalid, "poll: event_size %d is not a spikard_event size (2.0's is %d)", eventSize, unsafe.Sizeof(C.spikard_event{}))
	}
	if capacity == 0 {
		return rcOK
	}
	if events == nil {
		return fail(rcInvalid, "poll: events is NULL")
	}
	// A poll takes at most core.MaxBatch events, but it is asked for the
	// host's whole cap: whether it returns fewer than cap decides, for the
	// lane as for the host, whether the host goes back to its fd.
	dst := eventArray{base: unsafe.Pointer(events), stride: uintptr(eventSize), n: int(min(capacity, core.MaxBatch))}
	n, err := pl.poll(dst, int(min(capacity, math.MaxInt32)), timeoutOf(timeoutMS))
	if err != nil {
		return fail(codeOf(err, rcInternal), "poll: %v", err)
	}
	*outCount = C.size_t(n)
	return rcOK
}

//export spikard_poller_fd
func spikard_poller_fd(outFD *C.int, p *C.spikard_poller) (rc C.int) {
	if outFD == nil {
		return fail(rcInvalid, "spikard_poller_fd: out_fd is NULL")
	}
	*outFD = -1
	pl := pollerOf(p)
	if pl == nil {
		return fail(rcInvalid, "spikard_poller_fd: poller is NULL")
	}
	defer rescue("spikard_poller_fd", &rc)
	fd, err := pl.core.ReadyFD()
	if err != nil {
		return fail(codeOf(err, rcIO), "poller fd: %v", err)
	}
	*outFD = C.int(fd)
	return rcOK
}

//export spikard_respond
func spikard_respond(outResults *C.int, p *C.spikard_app, responses *C.spikard_cresponse, count, responseSize C.size_t) (rc C.int) {
	results := resultsOf(outResults, count)
	a := appOf(p)
	if a == nil {
		return failAll(results, rcInvalid, "spikard_respond: app is NULL")
	}
	defer rescue("spikard_respond", &rc)
	b := recordBatch{"respond", "response", unsafe.Pointer(responses), count, responseSize, unsafe.Sizeof(C.spikard_response{})}
	if rc := b.check(results); rc != rcOK || count == 0 {
		return rc
	}
	return a.respond(b.base, int(count), uintptr(responseSize), results)
}

// resultsOf is the host's out_results array (nil when it passed none), its
// entries zeroed before anything else, as spikard.h's out-parameter rule
// asks.
func resultsOf(out *C.int, count C.size_t) []C.int {
	if out == nil || count == 0 || count > math.MaxInt32 {
		return nil
	}
	results := unsafe.Slice(out, count)
	clear(results)
	return results
}

// recordBatch is one batch argument of the GROWTH rule: count records of
// size bytes each from base, refused below the 2.0 size min.
type recordBatch struct {
	call, record string
	base         unsafe.Pointer
	count, size  C.size_t
	min          uintptr
}

// check refuses a malformed batch, every result getting the call's code.
func (b recordBatch) check(results []C.int) C.int {
	if b.size < C.size_t(b.min) || b.size > math.MaxInt32 {
		return failAll(results, rcInvalid, "%s: %s_size %d is not a spikard_%s size (2.0's is %d)", b.call, b.record, b.size, b.record, b.min)
	}
	if b.count > 0 && (b.base == nil || b.count > math.MaxInt32) {
		return failAll(results, rcInvalid, "%s: the %s array is NULL or its count too large", b.call, b.record)
	}
	return rcOK
}
