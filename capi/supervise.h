/*
 * supervise.h — the C half of capi's supervisor: what cgo and signal.c
 * share. Internal to libspikard; not part of the ABI.
 */
#ifndef SPIKARD_SUPERVISE_H
#define SPIKARD_SUPERVISE_H

#include <stdint.h>

#include "spikard.h"

/* A spikard_supervisor holds, besides its cgo.Handle, the write end of the
 * supervisor's signal pipe, so that spikard_supervisor_signal, which a
 * signal handler calls, reaches it without running Go code. */
struct spikard_supervisor {
    uintptr_t handle;
    int signal_fd;
};

/* cgo writes //export prototypes without const: with this typedef the
 * prototype of spikard_supervise matches spikard.h's const char *const *. */
typedef const char *const spikard_cstr;

/* The process's environment, for spikard_supervise's envp NULL. Read from
 * C rather than Go: Go's copy is taken at load, and a host may have changed
 * its environment since. */
static inline spikard_cstr *spikard_supervise_environ(void) {
    extern char **environ;
    return (spikard_cstr *)environ;
}

#endif
