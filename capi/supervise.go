package main

/*
#include "shim.h"
#include "supervise.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"

	"github.com/spikard/spikard/core"
)

// The supervisor's half of the ABI: spikard_supervise and its methods, and
// spikard_worker_index. spikard_supervisor_signal and spikard_signal_onstack
// are C (signal.c): a signal handler calls them.

// maxStrings bounds argv and envp: an array missing its NULL would
// otherwise be read until the process faults.
const maxStrings = 1 << 20

//export spikard_supervise_check
func spikard_supervise_check(doc *C.spikard_cchar, n C.size_t) (rc C.int) {
	defer rescue("spikard_supervise_check", &rc)
	b, ok := goBytes(doc, n)
	if !ok {
		return fail(rcInvalid, "spikard_supervise_check: options_json is NULL or too long")
	}
	if _, err := core.ParseSupervisorOptions(b); err != nil {
		return fail(codeOf(err, rcInvalid), "%v", err)
	}
	return rcOK
}

//export spikard_supervise
func spikard_supervise(out **C.spikard_supervisor, argv *C.spikard_cstr, envp *C.spikard_cstr, doc *C.spikard_cchar, n C.size_t) (rc C.int) {
	defer rescue("spikard_supervise", &rc)
	if out == nil {
		return fail(rcInvalid, "spikard_supervise: out is NULL")
	}
	*out = nil
	args, ok := goStrings(argv)
	if !ok || len(args) == 0 || args[0] == "" {
		return fail(rcInvalid, "spikard_supervise: argv is NULL, empty or not NULL-terminated")
	}
	if envp == nil {
		envp = C.spikard_supervise_environ()
	}
	env, ok := goStrings(envp)
	if !ok {
		return fail(rcInvalid, "spikard_supervise: envp is not NULL-terminated")
	}
	b, ok := goBytes(doc, n)
	if !ok {
		return fail(rcInvalid, "spikard_supervise: options_json is NULL or too long")
	}
	opts, err := core.ParseSupervisorOptions(b)
	if err != nil {
		return fail(rcInvalid, "%v", err)
	}
	s, err := core.Supervise(args, env, opts)
	if err != nil {
		return fail(codeOf(err, rcIO), "%v", err)
	}
	p := (*C.spikard_supervisor)(C.malloc(C.size_t(unsafe.Sizeof(C.spikard_supervisor{}))))
	p.handle = C.uintptr_t(cgo.NewHandle(s))
	p.signal_fd = C.int(s.SignalFD())
	*out = p
	return rcOK
}

// goStrings copies a NULL-terminated array of C strings; ok is false for
// a NULL array or one without its NULL within maxStrings.
func goStrings(p *C.spikard_cstr) (_ []string, ok bool) {
	if p == nil {
		return nil, false
	}
	list := unsafe.Slice(p, maxStrings)
	out := []string{}
	for _, s := range list {
		if s == nil {
			return out, true
		}
		out = append(out, C.GoString(s))
	}
	return nil, false
}

// supervisorOf returns nil for a NULL handle; a freed or forged one is
// undefined behaviour, as with any C handle.
func supervisorOf(p *C.spikard_supervisor) *core.Supervisor {
	if p == nil {
		return nil
	}
	return cgo.Handle(p.handle).Value().(*core.Supervisor)
}

//export spikard_supervisor_port
func spikard_supervisor_port(outPort *C.int, p *C.spikard_supervisor) (rc C.int) {
	defer rescue("spikard_supervisor_port", &rc)
	if outPort == nil {
		return fail(rcInvalid, "spikard_supervisor_port: out_port is NULL")
	}
	*outPort = 0
	s := supervisorOf(p)
	if s == nil {
		return fail(rcInvalid, "spikard_supervisor_port: sup is NULL")
	}
	*outPort = C.int(s.Port())
	return rcOK
}

//export spikard_supervisor_wait
func spikard_supervisor_wait(outDone *C.int, outStatus *C.int, p *C.spikard_supervisor, timeoutMS C.int) (rc C.int) {
	defer rescue("spikard_supervisor_wait", &rc)
	if outDone != nil {
		*outDone = 0
	}
	if outStatus != nil {
		*outStatus = 0
	}
	if outDone == nil || outStatus == nil {
		return fail(rcInvalid, "spikard_supervisor_wait: out_done or out_status is NULL")
	}
	s := supervisorOf(p)
	if s == nil {
		return fail(rcInvalid, "spikard_supervisor_wait: sup is NULL")
	}
	done, status, err := s.Wait(timeoutOf(timeoutMS))
	if !done {
		return rcOK
	}
	// Set on SPIKARD_E_WORKER too: the host needs the status to exit with.
	*outDone, *outStatus = 1, C.int(status)
	if err != nil {
		return fail(rcWorker, "%v", err)
	}
	return rcOK
}

//export spikard_supervisor_free
func spikard_supervisor_free(p *C.spikard_supervisor) {
	var rc C.int
	defer rescue("spikard_supervisor_free", &rc)
	s := supervisorOf(p)
	if s == nil {
		return
	}
	// A late signal now writes to fd -1 and fails, instead of to the pipe
	// being closed (or whatever later reuses its number).
	p.signal_fd = -1
	s.Close()
	cgo.Handle(p.handle).Delete()
	C.free(unsafe.Pointer(p))
}

//export spikard_worker_index
func spikard_worker_index(outIndex *C.int) (rc C.int) {
	defer rescue("spikard_worker_index", &rc)
	if outIndex == nil {
		return fail(rcInvalid, "spikard_worker_index: out_index is NULL")
	}
	*outIndex = 0
	index, err := core.WorkerIndex()
	switch {
	case errors.Is(err, core.ErrNotWorker):
		return fail(rcNotFound, "spikard_worker_index: this process is not a worker")
	case err != nil:
		return fail(rcState, "spikard_worker_index: %v", err)
	}
	*outIndex = C.int(index)
	return rcOK
}
