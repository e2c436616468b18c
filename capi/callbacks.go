package main

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
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
// fine because core.Respond copies before returning.
func (a *app) answer(r *C.spikard_response) error {
	id := uint64(r.exchange)
	if unknown := r.flags &^ knownResponseFlags; unknown != 0 {
		return a.refuse(id, unsupportedFlagsError(unknown))
	}
	if r.flags&C.SPIKARD_RESPONSE_HANDLER_ERROR != 0 {
		return a.core.RespondError(id)
	}
	scratch := headerScratch.Get().(*[]core.Header)
	defer headerScratch.Put(scratch)
	resp, ok := toResponse(r, scratch)
	switch {
	case r.flags&C.SPIKARD_RESPONSE_PROBLEM != 0 && !ok:
		return a.refuse(id, invalidError("a problem answer's status, header or description is malformed"))
	case r.flags&C.SPIKARD_RESPONSE_PROBLEM != 0:
		err := a.core.RespondProblem(id, resp.Status, resp.Body, resp.Headers)
		if err != nil && !errors.Is(err, core.ErrUnknownExchange) {
			err = invalidError(err.Error()) // core answered its 500; the host learns why
		}
		return err
	case !ok:
		return a.core.RespondError(id)
	}
	return a.core.Respond(id, resp)
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
	var flags unsupportedFlagsError
	var invalid invalidError
	switch {
	case errors.As(err, &flags):
		return rcUnsupported
	case errors.As(err, &invalid):
		return rcInvalid
	}
	return codeOf(err, rcInternal)
}

// knownResponseFlags are the SPIKARD_RESPONSE_* bits this library knows.
const knownResponseFlags = C.SPIKARD_RESPONSE_HANDLER_ERROR | C.SPIKARD_RESPONSE_PROBLEM

// unsupportedFlagsError is an answer with flags this library does not know
// (SPIKARD_E_UNSUPPORTED).
type unsupportedFlagsError C.uint32_t

func (e unsupportedFlagsError) Error() string {
	return fmt.Sprintf("response flags %#x are not known to this library (ABI %d)", uint32(e), abiVersion)
}

// invalidError is an answer core refused (SPIKARD_E_INVALID).
type invalidError string

func (e invalidError) Error() string { return string(e) }

// toResponse converts r; ok is false if it is malformed, which spikard.h
// says becomes a 500.
func toResponse(r *C.spikard_response, scratch *[]core.Header) (core.Response, bool) {
	if r.status < 100 || r.status > 599 {
		return core.Response{}, false
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

// respond answers a batch: every answer is attempted, and an unknown
// exchange only shows in the result code.
func (a *app) respond(list []C.spikard_response) C.int {
	unknown := 0
	rc := rcOK
	for i := range list {
		err := a.answer(&list[i])
		if errors.Is(err, core.ErrUnknownExchange) {
			unknown++
		} else if err != nil && rc == rcOK {
			rc = fail(answerCode(err), "respond: exchange %d: %v", uint64(list[i].exchange), err)
		}
	}
	if rc != rcOK {
		return rc
	}
	if unknown > 0 {
		return fail(rcNotFound, "respond: %d of %d exchanges were unknown (answered, timed out or gone)", unknown, len(list))
	}
	return rcOK
}

//export spikard_app_add_handler
func spikard_app_add_handler(p *C.spikard_app, outRoute *C.uint32_t, doc *C.spikard_cchar, n C.size_t, fn C.spikard_handler_fn, payload unsafe.Pointer) (rc C.int) {
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
	resp := (*C.spikard_response)(C.calloc(1, C.size_t(unsafe.Sizeof(C.spikard_response{}))))
	defer C.free(unsafe.Pointer(resp))
	pl := newPoller(a, a.core.Lane(0))
	defer pl.core.Close()
	defer pl.buf.free()
	evs := unsafe.Slice(events, serveBatch)

	for {
		n, err := pl.poll(evs, serveBatch, -1)
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

// dispatch runs one event's handler on this thread and answers at once:
// the handler's buffers are only promised until it returns to us.
func (a *app) dispatch(ev *C.spikard_event, resp *C.spikard_response, handlers []C.spikard_handler_entry) {
	switch ev.kind {
	case C.SPIKARD_EVENT_DISCONNECT:
		return // handlers run to completion; their answer is simply dropped
	case C.SPIKARD_EVENT_REQUEST:
		if int(ev.route) < len(handlers) && handlers[ev.route].fn != nil {
			*resp = C.spikard_response{exchange: ev.exchange}
			if C.spikard_shim_call(&handlers[ev.route], ev, resp) == 0 {
				resp.exchange = ev.exchange // the handler does not get to redirect its answer
				_ = a.answer(resp)          // unknown: the client left or the request timed out
				return
			}
		}
	}
	_ = a.core.RespondError(uint64(ev.exchange))
}
