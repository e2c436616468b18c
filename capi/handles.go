package main

/*
#include "shim.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"unsafe"

	"github.com/spikard/spikard/core"
)

// appState is the lifecycle spikard.h promises: start at most once, stop any
// number of times.
type appState int

const (
	appNew appState = iota
	appRunning
	appStopped
)

// app is what a spikard_app* names.
type app struct {
	core *core.App
	cfg  core.Config

	mu       sync.Mutex // guards state and handlers
	state    appState
	handlers []C.spikard_handler_entry // by route id; fn nil when added without one
}

// poller is what a spikard_poller* names. Only one thread uses it at a time,
// so it needs no lock.
type poller struct {
	app    *app
	core   *core.Poller
	buf    arena
	evs    []copied  // the batch being copied, reused
	pairs  [][2]span // its headers, cookies and query pairs, reused
	strs   []span    // its upload pointers, reused
	copyFn func(*core.Request)
}

// newPoller binds copyRequest once, so polls pass PollEach no new closure.
func newPoller(a *app, lane *core.Lane) *poller {
	pl := &poller{app: a, core: lane.NewPoller()}
	pl.copyFn = pl.copyRequest
	return pl
}

func newAppHandle(a *app) *C.spikard_app {
	p := (*C.spikard_app)(C.malloc(C.size_t(unsafe.Sizeof(C.spikard_app{}))))
	p.handle = C.uintptr_t(cgo.NewHandle(a))
	return p
}

// appOf returns nil for a NULL handle; a freed or forged one is undefined
// behaviour, as with any C handle.
func appOf(p *C.spikard_app) *app {
	if p == nil {
		return nil
	}
	return cgo.Handle(p.handle).Value().(*app)
}

func freeAppHandle(p *C.spikard_app) {
	cgo.Handle(p.handle).Delete()
	C.free(unsafe.Pointer(p))
}

func newPollerHandle(pl *poller) *C.spikard_poller {
	p := (*C.spikard_poller)(C.malloc(C.size_t(unsafe.Sizeof(C.spikard_poller{}))))
	p.handle = C.uintptr_t(cgo.NewHandle(pl))
	return p
}

func pollerOf(p *C.spikard_poller) *poller {
	if p == nil {
		return nil
	}
	return cgo.Handle(p.handle).Value().(*poller)
}

func freePollerHandle(p *C.spikard_poller) {
	cgo.Handle(p.handle).Delete()
	C.free(unsafe.Pointer(p))
}
