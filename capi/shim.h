/*
 * shim.h — the C half of capi: what cgo needs to see besides spikard.h.
 * Internal to libspikard; not part of the ABI.
 */
#ifndef SPIKARD_SHIM_H
#define SPIKARD_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spikard.h"

/* The opaque handles are small C blocks holding a cgo.Handle, because C may
 * not keep Go pointers. */
struct spikard_app {
    uintptr_t handle;
};

struct spikard_poller {
    uintptr_t handle;
};

/* cgo writes each //export prototype from the Go parameter types, and Go has
 * no "const": these typedefs let the generated prototypes match spikard.h
 * exactly instead of conflicting with it. */
typedef const char spikard_cchar;
typedef const spikard_response spikard_cresponse;
typedef const spikard_chunk spikard_cchunk;

/* The event record as this library writes it: spikard.h's, plus what the
 * next-minor test build (capi/abinext.go) appends at the 2.0 sizeof. */
typedef struct spikard_event_lib {
    spikard_event base;
#ifdef SPIKARD_ABI_NEXT
    uint64_t next_probe;
#endif
} spikard_event_lib;

/* spikard.h's records are 2.0's (the sizes below which a host's element
 * size is refused); on LP64 they are the sizes the header states. */
#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(spikard_event) == 184, "spikard_event is 184 bytes on LP64");
_Static_assert(sizeof(spikard_response) == 48, "spikard_response is 48 bytes on LP64");
_Static_assert(sizeof(spikard_chunk) == 72, "spikard_chunk is 72 bytes on LP64");
#endif

/* The route handler table of spikard_serve, indexed by route id. */
typedef struct spikard_handler_entry {
    spikard_handler_fn fn; /* NULL: the route has no handler */
    void *payload;
} spikard_handler_entry;

/* Hidden: the library's exported symbols are exactly spikard.h's. */
__attribute__((visibility("hidden"))) void spikard_shim_set_last_error(const char *msg, size_t len);
__attribute__((visibility("hidden"))) int spikard_shim_call(const spikard_handler_entry *entry, const spikard_event *event,
                      spikard_response *response);

#endif
