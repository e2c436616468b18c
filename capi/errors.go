package main

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/spikard/spikard/core"
)

// Result codes, mirrored from spikard.h so Go code reads as Go.
const (
	rcOK          = C.int(C.SPIKARD_OK)
	rcInvalid     = C.int(C.SPIKARD_E_INVALID)
	rcState       = C.int(C.SPIKARD_E_STATE)
	rcIO          = C.int(C.SPIKARD_E_IO)
	rcNotFound    = C.int(C.SPIKARD_E_NOT_FOUND)
	rcUnsupported = C.int(C.SPIKARD_E_UNSUPPORTED)
	rcInternal    = C.int(C.SPIKARD_E_INTERNAL)
	rcClosed      = C.int(C.SPIKARD_E_CLOSED)
	rcAgain       = C.int(C.SPIKARD_E_AGAIN)
	rcWorker      = C.int(C.SPIKARD_E_WORKER)
)

// setLastError records the message spikard_last_error returns on this
// thread. Messages are per thread rather than per handle because hosts poll
// one app from many threads: a per-handle message would be overwritten (and
// freed) under a reader on another thread.
func setLastError(msg string) {
	if msg == "" {
		C.spikard_shim_set_last_error(nil, 0)
		return
	}
	p := C.CString(msg)
	C.spikard_shim_set_last_error(p, C.size_t(len(msg)))
	C.free(unsafe.Pointer(p))
}

// fail records the message for spikard_last_error and returns rc.
func fail(rc C.int, format string, args ...any) C.int {
	setLastError(fmt.Sprintf(format, args...))
	return rc
}

// failAll is fail for a batch call refused before any entry was tried:
// every entry's result is the call's code.
func failAll(results []C.int, rc C.int, format string, args ...any) C.int {
	for i := range results {
		results[i] = rc
	}
	return fail(rc, format, args...)
}

// codeOf maps the errors core defines a meaning for; everything else is the
// caller's to classify.
func codeOf(err error, otherwise C.int) C.int {
	switch {
	case errors.Is(err, core.ErrClosed):
		return rcClosed
	case errors.Is(err, core.ErrUnknownExchange):
		return rcNotFound
	case errors.Is(err, core.ErrAgain):
		return rcAgain
	case errors.Is(err, core.ErrUnsupported):
		return rcUnsupported
	case errors.Is(err, core.ErrInvalid): // e.g. a Start refused for its OpenAPI document
		return rcInvalid
	case errors.Is(err, core.ErrStarted),
		errors.Is(err, core.ErrNotSupervised), // a worker's Start: not its supervisor's child
		errors.Is(err, core.ErrInWorker):
		return rcState
	}
	return otherwise
}

// rescue turns a Go panic into SPIKARD_E_INTERNAL: a panic must not unwind
// into C, where it would abort the host process. Use as
// `defer rescue("name", &rc)`.
func rescue(name string, rc *C.int) {
	if r := recover(); r != nil {
		*rc = fail(rcInternal, "spikard: internal error in %s: %v", name, r)
	}
}

// lastError is spikard_last_error for Go callers, which must hold their OS
// thread (runtime.LockOSThread) across the failing call and this one. The
// package's tests use it; cgo is not allowed in _test.go files.
func lastError() string {
	return C.GoString(C.spikard_last_error())
}
