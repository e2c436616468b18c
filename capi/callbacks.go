package main

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/spikard/spikard/core"
)

// serveBatch is how many events spikard_serve takes per poll.
const serveBatch = 64

// headerScratch recycles the []core.Header each answer needs, since
// core.Respond copies what it keeps and the slice is free again after.
var headerScratch = sync.Pool{New: func() any { s := make([]core.Header, 0, 16); return &s }}

// cbytes views C memory as a Go slice for the duration of a call. ok is
// false for a NULL pointer with a non-zero length.
func cbytes(s C.spikard_str) ([]byte, bool) {
	if s.ptr == nil {
		return nil, s.len == 0
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(s.ptr)), s.len), true
}

// answer delivers one C response. Its slices alias host memory, which is
// fine because core copies before returning.
func (a *app) answer(r *C.spikard_response) error {
	id := uint64(r.exchange)
	if unknown := r.flags &^ knownResponseFlags; unknown != 0 {
		return a.refuse(id, unsupportedError(fmt.Sprintf("response flags %#x are not known to this library (ABI %d)", uint32(unknown), abiVersion)))
	}
	flags := uint32(r.flags) &^ nextResponseFlags
	const errorFlags = C.SPIKARD_RESPONSE_HANDLER_ERROR | C.SPIKARD_RESPONSE_PROBLEM
	switch {
	case flags&C.SPIKARD_RESPONSE_HANDLER_ERROR != 0 && flags != C.SPIKARD_RESPONSE_HANDLER_ERROR:
		return a.refuse(id, unsupportedError("HANDLER_ERROR goes with no other response flag"))
	case flags&C.SPIKARD_RESPONSE_HANDLER_ERROR != 0:
		if (r.status != 0 && r.status != 500) || r.header_count != 0 || r.body.len != 0 {
			return a.refuse(id, invalidError("a HANDLER_ERROR answer has status 0 or 500, no headers and no body"))
		}
		return a.core.RespondError(id)
	case flags&errorFlags != 0 && flags&^errorFlags != 0:
		return a.refuse(id, unsupportedError("PROBLEM goes with no other response flag"))
	case flags&C.SPIKARD_RESPONSE_SSE != 0 && flags&C.SPIKARD_RESPONSE_STREAM == 0:
		return a.refuse(id, unsupportedError("SSE goes with STREAM"))
	}
	scratch := headerScratch.Get().(*[]core.Header)
	defer headerScratch.Put(scratch)
	resp, ok := toResponse(r, scratch)
	switch {
	case !ok:
		return a.refuse(id, invalidError("the answer's status or a header is malformed"))
	case flags&C.SPIKARD_RESPONSE_PROBLEM != 0:
		return answerError(a.core.RespondProblem(id, resp.Status, resp.Body, resp.Headers))
	}
	resp.Flags = flags
	return answerError(a.core.Respond(id, resp))
}

// answerError classifies what core said about an answer it took: gone, or
// refused (core answered the standard 500 and the host learns why).
func answerError(err error) error {
	if err == nil || errors.Is(err, core.ErrUnknownExchange) {
		return err
	}
	if errors.Is(err, core.ErrUnsupported) {
		return unsupportedError(err.Error())
	}
	return invalidError(err.Error())
}

// refuse answers exchange id with the standard 500, so nothing is left
// waiting, and returns why its answer was refused (or that it was gone).
func (a *app) refuse(id uint64, why error) error {
	if err := a.core.RespondError(id); err != nil {
		return err
	}
	return why
}

// answerCode is the result code of an answer's error.
func answerCode(err error) C.int {
	var unsupported unsupportedError
	var invalid invalidError
	switch {
	case err == nil:
		return rcOK
	case errors.As(err, &unsupported):
		return rcUnsupported
	case errors.As(err, &invalid):
		return rcInvalid
	}
	return codeOf(err, rcInternal)
}

// knownResponseFlags are the SPIKARD_RESPONSE_* bits this library knows.
const knownResponseFlags = C.SPIKARD_RESPONSE_HANDLER_ERROR | C.SPIKARD_RESPONSE_PROBLEM |
	C.SPIKARD_RESPONSE_STREAM | C.SPIKARD_RESPONSE_SSE | C.SPIKARD_RESPONSE_WRITTEN |
	C.SPIKARD_RESPONSE_WS_ACCEPT | C.SPIKARD_RESPONSE_FILE | nextResponseFlags

// unsupportedError is an answer or chunk this library refuses as
// SPIKARD_E_UNSUPPORTED: a flag it does not know or that does not go with
// the others.
type unsupportedError string

func (e unsupportedError) Error() string { return string(e) }

// invalidError is an answer core refused (SPIKARD_E_INVALID).
type invalidError string

func (e invalidError) Error() string { return string(e) }

// toResponse converts r; ok is false if it is malformed.
func toResponse(r *C.spikard_response, scratch *[]core.Header) (core.Response, bool) {
	if (r.status < 100 && (r.status != 0 || r.flags != C.SPIKARD_RESPONSE_WS_ACCEPT)) || r.status > 599 {
		return core.Response{}, false // WS_ACCEPT may leave the status 0: it is 101
	}
	body, ok := cbytes(r.body)
	if !ok {
		return core.Response{}, false
	}
	hs := (*scratch)[:0]
	if r.header_count > 0 {
		if r.headers == nil {
			return core.Response{}, false
		}
		for _, h := range unsafe.Slice(r.headers, r.header_count) {
			name, ok1 := cbytes(h.name)
			value, ok2 := cbytes(h.value)
			if !ok1 || !ok2 || len(name) == 0 {
				return core.Response{}, false
			}
			hs = append(hs, core.Header{Name: name, Value: value})
		}
	}
	*scratch = hs[:0]
	return core.Response{Status: int(r.status), Headers: hs, Body: body}, true
}

// respond answers a batch of count responses, stride bytes apart: every
// answer is attempted, each result goes to results (if given), and the
// first failure is the call's.
func (a *app) respond(base unsafe.Pointer, count int, stride uintptr, results []C.int) C.int {
	rc := rcOK
	for i := 0; i < count; i++ {
		r := (*C.spikard_response)(unsafe.Add(base, uintptr(i)*stride))
		err := a.answer(r)
		code := answerCode(err)
		if results != nil {
			results[i] = code
		}
		if code != rcOK && rc == rcOK {
			rc = fail(code, "respond: entry %d (exchange %d): %v", i, uint64(r.exchange), err)
		}
	}
	return rc
}

//export spikard_app_add_handler
func spikard_app_add_handler(outRoute *C.uint32_t, p *C.spikard_app, doc *C.spikard_cchar, n C.size_t, fn C.spikard_handler_fn, payload unsafe.Pointer) (rc C.int) {
	if outRoute != nil {
		*outRoute = 0
	}
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_app_add_handler: app is NULL")
	}
	defer rescue("spikard_app_add_handler", &rc)
	if fn == nil {
		return fail(rcInvalid, "add handler: handler is NULL")
	}
	return a.addRoute(outRoute, doc, n, C.spikard_handler_entry{fn: fn, payload: payload})
}

//export spikard_serve
func spikard_serve(p *C.spikard_app) (rc C.int) {
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_serve: app is NULL")
	}
	defer rescue("spikard_serve", &rc)
	if rc := a.start(true); rc != rcOK {
		return rc
	}
	a.mu.Lock()
	handlers := a.handlers // frozen from here on: routes are added only before start
	a.mu.Unlock()

	// Event and response memory is C memory so that the handler receives no
	// Go pointers (cgo forbids passing Go memory that holds Go pointers).
	events := (*C.spikard_event)(C.calloc(serveBatch, C.size_t(unsafe.Sizeof(C.spikard_event{}))))
	defer C.free(unsafe.Pointer(events))
	dst := eventArray{base: unsafe.Pointer(events), stride: unsafe.Sizeof(C.spikard_event{}), n: serveBatch}
	resp := (*C.spikard_response)(C.calloc(1, C.size_t(unsafe.Sizeof(C.spikard_response{}))))
	defer C.free(unsafe.Pointer(resp))
	pl := newPoller(a, a.core.Lane(0))
	defer pl.core.Close()
	defer pl.buf.free()
	evs := unsafe.Slice(events, serveBatch)

	for {
		n, err := pl.poll(dst, serveBatch, -1)
		if errors.Is(err, core.ErrClosed) {
			return rcOK
		}
		if err != nil {
			return fail(rcInternal, "serve: %v", err)
		}
		for i := range evs[:n] {
			a.dispatch(&evs[i], resp, handlers)
		}
	}
}

// log writes one line of spikard_serve's on stderr: its handlers' mistakes
// have no caller to return to.
func (a *app) log(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// dispatch runs one event's handler on this thread and answers at once:
// the handler's buffers are only promised until it returns to us.
func (a *app) dispatch(ev *C.spikard_event, resp *C.spikard_response, handlers []C.spikard_handler_entry) {
	switch ev.kind {
	default:
		return // a route's own opt-ins (disconnect): handlers run to completion
	case C.SPIKARD_EVENT_WS_OPEN:
		// A WebSocket route on lane 0 without a handler (none can have one):
		// refused like any request without a handler.
	case C.SPIKARD_EVENT_REQUEST:
		if int(ev.route) < len(handlers) && handlers[ev.route].fn != nil {
			*resp = C.spikard_response{exchange: ev.exchange}
			if C.spikard_shim_call(&handlers[ev.route], ev, resp) == 0 {
				resp.exchange = ev.exchange // the handler does not get to redirect its answer
				if resp.flags&(C.SPIKARD_RESPONSE_STREAM|C.SPIKARD_RESPONSE_WRITTEN) != 0 {
					a.log("spikard_serve: the handler of route %d answered with a stream or WRITTEN flag, which spikard_serve cannot serve", ev.route)
					break
				}
				if err := a.answer(resp); err != nil && !errors.Is(err, core.ErrUnknownExchange) {
					a.log("spikard_serve: the handler of route %d answered badly: %v", ev.route, err)
				}
				return
			}
		}
	}
	_ = a.core.RespondError(uint64(ev.exchange))
}
