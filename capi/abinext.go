//go:build spikard_abi_next

package main

// Built with -tags spikard_abi_next, libspikard pretends to be the next
// minor version (2.2 of this 2.1 library), so that tests/c can show the
// GROWTH rule of spikard.h on a compiled host: its event record has one
// more field (next_probe, at the 2.0 and 2.1 sizeof: 2.1 appended none)
// and response flag bit 23 becomes known. Never shipped.

/*
#cgo CFLAGS: -DSPIKARD_ABI_NEXT
#include "shim.h"
*/
import "C"

import "unsafe"

const nextMinor = 1

// nextResponseFlags are the response flags the next minor adds.
const nextResponseFlags = 1 << 23

// fillNext writes the fields the next minor appends to an event.
func fillNext(ev *C.spikard_event_lib) { ev.next_probe = 0x5350494b41524431 }

var _ = unsafe.Sizeof(C.spikard_event_lib{})
