//go:build !spikard_abi_next

package main

/*
#include "shim.h"
*/
import "C"

const nextMinor = 0

// nextResponseFlags are the response flags of the next-minor test build
// (abinext.go); none in a real library.
const nextResponseFlags = 0

// fillNext writes the fields a later minor appends to an event; 2.0 has none.
func fillNext(*C.spikard_event_lib) {}
