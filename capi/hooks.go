package main

/*
#include "shim.h"
*/
import "C"

import "github.com/spikard/spikard/core"

// The lifecycle hooks' kind, phases, flag and route sentinel are
// spikard.h's (2.3), so they cross unchanged; these stop compiling if the
// two ever drift apart.
var (
	_ [0]struct{} = [core.EventHook - C.SPIKARD_EVENT_HOOK]struct{}{}
	_ [0]struct{} = [core.HookOnRequest - C.SPIKARD_HOOK_ON_REQUEST]struct{}{}
	_ [0]struct{} = [core.HookPreValidation - C.SPIKARD_HOOK_PRE_VALIDATION]struct{}{}
	_ [0]struct{} = [core.HookPreHandler - C.SPIKARD_HOOK_PRE_HANDLER]struct{}{}
	_ [0]struct{} = [core.HookOnResponse - C.SPIKARD_HOOK_ON_RESPONSE]struct{}{}
	_ [0]struct{} = [core.HookOnError - C.SPIKARD_HOOK_ON_ERROR]struct{}{}
	_ [0]struct{} = [core.ResponseContinue - C.SPIKARD_RESPONSE_CONTINUE]struct{}{}
	_ [0]struct{} = [uint32(core.NoRoute) - C.SPIKARD_NO_ROUTE]struct{}{}
)
