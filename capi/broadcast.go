package main

/*
#include "shim.h"
*/
import "C"

import (
	"unsafe"
)

// hostBytes views a host buffer for the duration of a call; core copies
// what it keeps. ok is false for NULL with a length, or past max bytes.
func hostBytes(p *C.spikard_cchar, n C.size_t, max C.size_t) ([]byte, bool) {
	if p == nil {
		return nil, n == 0
	}
	if n > max {
		return nil, false
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), n), true
}

//export spikard_ws_subscribe
func spikard_ws_subscribe(p *C.spikard_app, exchange C.uint64_t, channel *C.spikard_cchar, n C.size_t) (rc C.int) {
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_ws_subscribe: app is NULL")
	}
	defer rescue("spikard_ws_subscribe", &rc)
	ch, ok := hostBytes(channel, n, 1<<20)
	if !ok {
		return fail(rcInvalid, "ws subscribe: channel is NULL with a length, or too long")
	}
	if err := a.core.Subscribe(uint64(exchange), string(ch)); err != nil {
		return fail(codeOf(err, rcInvalid), "ws subscribe: exchange %d, channel %q: %v", uint64(exchange), ch, err)
	}
	return rcOK
}

//export spikard_ws_unsubscribe
func spikard_ws_unsubscribe(p *C.spikard_app, exchange C.uint64_t, channel *C.spikard_cchar, n C.size_t) (rc C.int) {
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_ws_unsubscribe: app is NULL")
	}
	defer rescue("spikard_ws_unsubscribe", &rc)
	ch, ok := hostBytes(channel, n, 1<<20)
	if !ok {
		return fail(rcInvalid, "ws unsubscribe: channel is NULL with a length, or too long")
	}
	if err := a.core.Unsubscribe(uint64(exchange), string(ch)); err != nil {
		return fail(codeOf(err, rcInvalid), "ws unsubscribe: exchange %d, channel %q: %v", uint64(exchange), ch, err)
	}
	return rcOK
}

//export spikard_ws_publish
func spikard_ws_publish(p *C.spikard_app, channel *C.spikard_cchar, n C.size_t, flags C.uint32_t, data *C.spikard_cchar, dataLen C.size_t) (rc C.int) {
	a := appOf(p)
	if a == nil {
		return fail(rcInvalid, "spikard_ws_publish: app is NULL")
	}
	defer rescue("spikard_ws_publish", &rc)
	ch, ok := hostBytes(channel, n, 1<<20)
	if !ok {
		return fail(rcInvalid, "ws publish: channel is NULL with a length, or too long")
	}
	if flags&^C.SPIKARD_CHUNK_WS_BINARY != 0 {
		return fail(rcUnsupported, "ws publish: flags %#x: only SPIKARD_CHUNK_WS_BINARY (or 0, text) is known", uint32(flags))
	}
	body, ok := hostBytes(data, dataLen, 1<<31)
	if !ok {
		return fail(rcInvalid, "ws publish: data is NULL with a length, or over 2 GiB")
	}
	if err := a.core.Publish(string(ch), uint32(flags), body); err != nil {
		return fail(codeOf(err, rcInvalid), "ws publish: channel %q: %v", ch, err)
	}
	return rcOK
}
