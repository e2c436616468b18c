/*
 * spikard.h — the public C ABI of libspikard.
 *
 * SCOPE. This file is the whole ABI. Anything not declared here (Go symbols
 * exported by cgo for internal use, struct layouts of opaque handles) is not
 * public and may change without notice.
 *
 * THREADING. libspikard runs its HTTP server on threads that Go creates. No
 * host code ever runs on one of those threads: libspikard never calls back
 * into the host from a Go thread. Instead the host pulls work. It creates a
 * poller for a dispatch lane and, from a thread of its own, either blocks in
 * spikard_poller_poll() (a CPython/Ruby host releases its VM lock around that
 * call) or waits for spikard_poller_fd() to become readable inside its own
 * event loop (Node's libuv, asyncio) and then polls with a zero timeout.
 * Each poll returns a batch of events; the host answers with
 * spikard_respond(), which also takes a batch and may be called from any
 * thread. A poller is used by one thread at a time; a lane may have several
 * pollers (a pool of host threads). Everything else in this file may be
 * called from any thread, except where a function says otherwise.
 *
 * OWNERSHIP. Every handle has a create/free pair (spikard_app_new /
 * spikard_app_free, spikard_poller_new / spikard_poller_free,
 * spikard_supervise / spikard_supervisor_free); freeing NULL is a harmless
 * no-op. Pointers inside the events a poll returns point into
 * memory owned by the poller; they stay valid until the next poll on that
 * poller or until the poller is freed, whichever comes first — copy what you
 * need to keep. Every buffer the host passes in (JSON documents, response
 * headers and bodies) is copied before the call returns; the host may free
 * or reuse it immediately. libspikard never returns memory the caller must
 * free with free(); there is no allocator to match.
 *
 * ERRORS. Functions return int: SPIKARD_OK (0) on success, a negative
 * SPIKARD_E_* code on failure. The message of the last failure on the
 * calling thread is available from spikard_last_error(). Messages are kept
 * per thread, not per handle, because many host threads share one app.
 * New error codes may be added; treat unknown negative values as failures.
 *
 * RUNTIME. When loaded, libspikard runs Go with at least 4 Ps (so a host
 * thread calling in never waits for the only P of a process pinned to one
 * CPU) and collects Go's heap at GOGC 50 (Go's share of a host process is
 * mostly transient request and answer buffers); GOMAXPROCS and GOGC in the
 * environment override either.
 *
 * VERSIONING. SPIKARD_ABI_VERSION is the version this header describes;
 * spikard_abi_version() is the version of the loaded library. A binding must
 * compare them at load time and refuse to run on a mismatch of the major
 * part (version / 10000). Minor versions only add functions, event kinds and
 * JSON fields; they never change a layout declared here.
 */
#ifndef SPIKARD_H
#define SPIKARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Section - Versioning
 * ------------------------------------------------------------------------- */

/* major * 10000 + minor. */
#define SPIKARD_ABI_VERSION 10002

/* The ABI version of the loaded library, to compare with SPIKARD_ABI_VERSION. */
int spikard_abi_version(void);

/* ---------------------------------------------------------------------------
 * Section - Result codes
 * ------------------------------------------------------------------------- */

#define SPIKARD_OK 0              /* success */
#define SPIKARD_E_INVALID (-1)    /* an argument or JSON document was rejected */
#define SPIKARD_E_STATE (-2)      /* the call is not allowed in the handle's state */
#define SPIKARD_E_IO (-3)         /* the listener could not be opened */
#define SPIKARD_E_NOT_FOUND (-4)  /* unknown exchange (answered, timed out or gone) */
#define SPIKARD_E_UNSUPPORTED (-5) /* a feature this library version lacks */
#define SPIKARD_E_INTERNAL (-6)   /* a bug in libspikard; the message says where */
#define SPIKARD_E_CLOSED (-7)     /* the app has stopped; no more events will come */
#define SPIKARD_E_WORKER (-9)     /* a supervisor gave up on a worker (since 1.2; -8 is kept) */

/* The message of the last failed call on this thread, or "" if none has
 * failed. The string belongs to the library and stays valid until the next
 * call on this thread that fails, or until the thread exits: successful
 * calls leave it alone (since ABI 1.2; before, some freed it). */
const char *spikard_last_error(void);

/* ---------------------------------------------------------------------------
 * Section - Apps
 *
 * An app is one HTTP server: its configuration, its route table and its
 * listener. Several apps may exist and run in one process, each started and
 * stopped on its own.
 * ------------------------------------------------------------------------- */

typedef struct spikard_app spikard_app;

/* CONSTRUCTOR: create an app from a configuration document.
 *
 * config_json is a UTF-8 JSON object (length config_len; NUL not required).
 * Unknown keys are rejected so that typos surface. Keys (all optional):
 *   "host": string, default "127.0.0.1"
 *   "port": integer, default 8000; 0 picks a free port (see spikard_app_port)
 *   "max_body_size": integer bytes, default 10 MiB; 0 means no limit
 *   "request_timeout": number of seconds a request may wait for its answer
 *       before a 504 is sent, default 30; 0 means no limit
 *   "read_timeout": seconds the server waits for the next bytes of a
 *       request (headers or body) or of an idle keep-alive connection,
 *       default 30; 0 means no limit on requests (idle keep-alive
 *       connections then close after 3 minutes). The limit applies to each
 *       wait, not
 *       to the whole request. A stalled request is answered and closed:
 *       with a 408 problem response when the core was already reading the
 *       body (max_body_size 0 and a body over 4 MiB), otherwise with the
 *       transport's plain-text 400. A connection that never sends a byte
 *       holds no thread and is not timed out.
 *   "shutdown_timeout": seconds spikard_app_stop waits for in-flight
 *       requests by default, default 5
 *   "access_log": boolean, default false: one line per request on stderr
 *   "quiet": boolean, default false: suppress the single "listening on" line
 *   "reuse_port": boolean, default false: bind with SO_REUSEPORT so that
 *       several processes can serve the same host and port, the kernel
 *       spreading new connections over them (worker processes). Unix only;
 *       elsewhere spikard_app_start fails.
 *   "sched_batch": boolean, default false: at start, move every thread of
 *       the process that runs under the default policy to SCHED_BATCH
 *       (Linux; nice values kept; threads created later inherit it). The
 *       server's threads then stop preempting each other on every hand-off,
 *       so on a busy core each runs a whole batch: measured +30% requests
 *       per second on one core. Meant for processes that exist to serve.
 *   "serial_lanes": list of lane numbers, default []: lanes served by a
 *       pool of host threads that share one VM lock (CPython's GIL, Ruby's
 *       GVL). Their hosts hold one request at a time, plus one more for
 *       each request held (polled, not yet answered) longer than
 *       stall_after, which is most likely waiting with the lock released;
 *       pollers are woken only for what the lane allows. Two requests in
 *       one VM at once only take turns at its lock, and each lost turn puts
 *       a request behind the others: with 16 threads on one core a plain
 *       def handler's p99 was 0.65 s, against 40 ms for one at a time.
 *       Since ABI 1.2.
 *   "stall_after": positive seconds, default 0.005: how long a request held
 *       on a serial lane takes to count as stalled. Since ABI 1.2.
 * Later minor versions add keys (middleware, OpenAPI, ...).
 *
 * On success *out is a new app that the caller frees with spikard_app_free. */
int spikard_app_new(spikard_app **out, const char *config_json, size_t config_len);

/* Check a configuration document without creating an app, by the same rules
 * as spikard_app_new, so that a host can refuse a bad value where its user
 * wrote it. Returns SPIKARD_OK, or SPIKARD_E_INVALID with a message that
 * names the key and says what its value must be, meant to be shown to the
 * user as it is:
 *   config: "port": must be an integer in 0..65535
 *   config: unknown key "prot"
 * A host checking one key at a time passes a one-key document. JSON null is
 * refused for every key (omit a key to keep its default). Since ABI 1.1. */
int spikard_config_check(const char *config_json, size_t config_len);

/* DESTRUCTOR: stop the app if it runs (as spikard_app_stop with its default
 * timeout) and release it. Pollers of the app must be freed first. NULL is a
 * harmless no-op. */
void spikard_app_free(spikard_app *app);

/* METHOD: add a route before the app starts.
 *
 * route_json is a JSON object:
 *   "method": "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" |
 *             "OPTIONS" | "TRACE"   (required)
 *   "path": a pattern, required. Segments are literal or placeholders:
 *       {name}        one segment, any text
 *       {name:int}    one segment of decimal digits (optional leading '-')
 *       {name:uuid}   one segment holding a UUID
 *       {name:path}   the rest of the path, slashes included (last segment)
 *   "lane": integer dispatch lane, default 0 (see Section - Dispatch)
 *   "parameter_schema": JSON Schema object whose properties each carry
 *       "source": "path" | "query" | "header" | "cookie". The app extracts,
 *       coerces and validates them; the event's params holds the result.
 *   "body_schema": JSON Schema the body must satisfy (optional). Bodies
 *       of type application/json (or any other type ending in +json, or
 *       with no Content-Type) are validated as sent. application/x-www-form-urlencoded and
 *       multipart/form-data bodies are first turned into the equivalent
 *       JSON object: repeated names become arrays, a[b]=1 / a[]=1 /
 *       a[0][c]=x nest, and text values are coerced to the schema's
 *       integer, number or boolean (an empty value for such a field counts
 *       as absent). In a multipart body a part with a filename is a file:
 *       it becomes a descriptor (see spikard_event.attachments) and
 *       validates as a string, so declare it {"type": "string",
 *       "format": "binary"} (or an array of those). Other body types get
 *       415; a multipart Content-Type without boundary gets 400
 *       {"error": ...}. Without body_schema and file_params the raw body of
 *       any type reaches the host unchanged.
 *   "file_params": object naming upload fields (optional), each
 *       {"required": bool (default true), "content_type": [allowed media
 *       types; a subtype of "*" matches any], "validate_magic_numbers":
 *       bool}. Violations are 422 entries at ["files", name]; a missing
 *       required file is an entry at ["body", name]. A route with
 *       file_params alone also gets multipart bodies decoded as above.
 *   "response_schema": JSON Schema of the answer (used for documentation)
 *   "wants_request": boolean, default false: deliver method, path, query
 *       and headers in each event (otherwise those fields are empty)
 * Unknown keys and null values are refused with SPIKARD_E_INVALID and a
 * message naming the key, so that a misspelt "body_schema" cannot turn
 * validation off (since ABI 1.2; before, unknown keys were ignored).
 *
 * On success *out_route is the route's id, which events carry. A GET route
 * also answers HEAD unless a HEAD route is registered for the same path. */
int spikard_app_add_route(spikard_app *app, uint32_t *out_route,
                          const char *route_json, size_t route_len);

/* METHOD: open the listener and start serving in the background; returns
 * once the socket accepts connections. An app starts at most once. In a
 * worker process, the first app started binds its supervisor's address
 * instead (see Section - Workers and signals). */
int spikard_app_start(spikard_app *app);

/* METHOD: the TCP port the app listens on (useful after "port": 0), or a
 * negative code if it has not started. */
int spikard_app_port(spikard_app *app);

/* METHOD: stop accepting connections, let in-flight requests finish for up
 * to timeout_ms milliseconds (negative: the configured shutdown_timeout),
 * then close everything. Pending and later polls return SPIKARD_E_CLOSED.
 * Requests still unanswered at the deadline get a 503. Safe to call twice. */
int spikard_app_stop(spikard_app *app, int timeout_ms);

/* ---------------------------------------------------------------------------
 * Section - Dispatch
 *
 * Every route belongs to a lane (a small integer). Matched, validated
 * requests of a lane wait in that lane's queue until a host thread polls
 * them. Hosts use lanes to separate kinds of work: the Python binding puts
 * async handlers on lane 0, served by its event loop, and plain functions
 * on lane 1, served by a pool of threads, so a blocking function never
 * holds up the loop.
 * ------------------------------------------------------------------------- */

typedef struct spikard_poller spikard_poller;

/* A byte string that is not NUL-terminated. */
typedef struct spikard_str {
    const char *ptr;
    size_t len;
} spikard_str;

typedef struct spikard_header {
    spikard_str name; /* lower-case */
    spikard_str value;
} spikard_header;

/* Event kinds. A host must answer kinds it does not know with
 * spikard_respond() if they carry an exchange, and otherwise ignore them. */
#define SPIKARD_EVENT_REQUEST 1    /* an HTTP request to answer */
#define SPIKARD_EVENT_DISCONNECT 2 /* the client of exchange went away */
#define SPIKARD_EVENT_WS_MESSAGE 3 /* reserved: a WebSocket message (body) */
#define SPIKARD_EVENT_WS_CLOSE 4   /* reserved: a WebSocket closed */
#define SPIKARD_EVENT_HOOK 5       /* reserved: a lifecycle hook phase (route = phase) */
#define SPIKARD_EVENT_STREAM_READY 6 /* reserved: a stream can take more chunks */

typedef struct spikard_event {
    uint64_t exchange; /* names this request in spikard_respond; never 0 */
    uint32_t kind;     /* SPIKARD_EVENT_* */
    uint32_t route;    /* the id from spikard_app_add_route */
    spikard_str method;
    spikard_str path;   /* percent-decoded */
    spikard_str query;  /* raw, without '?' */
    spikard_str params; /* JSON object of validated parameters, e.g. {"id":7} */
    spikard_str body;   /* the request body (already validated): a JSON body as
                         * received; an application/x-www-form-urlencoded or
                         * multipart/form-data body as the equivalent JSON
                         * object, values coerced per body_schema; without a
                         * body_schema, the raw body of any type */
    const spikard_header *headers;
    size_t header_count;
    /* The bytes that upload descriptors in body reference by "offset" and
     * "length" (the raw request body). A multipart/form-data body reaches
     * the host as a JSON object like any other: text fields as values,
     * each file as {"filename": string|null, "content_type": string,
     * "size": int, "headers": {lower-case name: value}, "offset": int,
     * "length": int} (an array of them for several files of one field).
     * Empty when the request has no file parts. Valid like the other
     * event fields: until the next poll on this poller. */
    spikard_str attachments;
} spikard_event;

/* CONSTRUCTOR: a poller for one lane of a started or not-yet-started app.
 * Free it with spikard_poller_free before freeing the app. */
int spikard_poller_new(spikard_poller **out, spikard_app *app, uint32_t lane);

/* DESTRUCTOR: NULL is a harmless no-op. Must not race a poll on it. Closes
 * the poller's fd; a wake-up it had not taken passes to another poller. */
void spikard_poller_free(spikard_poller *poller);

/* METHOD: take up to cap events, waiting up to timeout_ms milliseconds for
 * the first (0: do not wait; negative: wait until an event or stop). Sets
 * *out_count (possibly 0 on timeout). The events and everything they point
 * to stay valid until the next poll on this poller. Returns SPIKARD_E_CLOSED
 * once the app has stopped and the lane is drained. Blocking: release your
 * VM lock around this call. */
int spikard_poller_poll(spikard_poller *poller, spikard_event *events, size_t cap,
                        int timeout_ms, size_t *out_count);

/* METHOD: this poller's own file descriptor, created on the first call; it
 * becomes readable when this poller should poll. After it polls readable,
 * call spikard_poller_poll with timeout 0 until it returns fewer events
 * than asked for, and only then wait on the fd again; a poll on this poller
 * also clears its readiness. A poller counts as waiting from the first call
 * and after every poll that returned fewer events than asked for, and the
 * lane wakes its waiting pollers one per queued event, most recently idle
 * first: a pool of threads, each waiting on its own poller's fd, has one
 * thread woken for a request, not the whole pool. A woken poller may find
 * nothing (another poller took the event, or it timed out); it just waits
 * again. Level semantics: if events remain when a poll returns fewer than
 * asked for (a batch is also bounded in bytes), the fd stays readable; once
 * the app stops it is readable for good, and the poll reports
 * SPIKARD_E_CLOSED. Owned by the poller, and closed by spikard_poller_free:
 * do not read, write or close it. */
int spikard_poller_fd(spikard_poller *poller);

/* Response flags. */
/* The handler failed: ignore status, headers and body and answer the
 * standard 500 problem-details document, so every host reports a crash the
 * same way (the host logs the details itself). */
#define SPIKARD_RESPONSE_HANDLER_ERROR 1u
/* The host asks core to render the error document, so that every binding's
 * errors read the same byte for byte: status is 400..599 and body is a JSON
 * description, every key optional, unknown keys refused:
 *   {"detail": string, "type": string, "title": string,
 *    "errors": [{"type": string, "loc": [string or integer, ...],
 *                "msg": string, "input": any JSON, "ctx": object}]}
 * type and title default by status (422: core's validation problem; else
 * https://spikard.dev/errors/<reason phrase> and the phrase), detail to the
 * title or, with errors, to "N validation errors in request". Core encodes
 * the RFC 9457 document itself (fixed key order, entries re-encoded) and
 * sets Content-Type; headers add to it (Retry-After, WWW-Authenticate) and
 * may not include Content-Type or Content-Length. A description or header
 * core refuses answers the standard 500 and spikard_respond returns
 * SPIKARD_E_INVALID naming it. Since ABI 1.2. */
#define SPIKARD_RESPONSE_PROBLEM 2u

/* The answer to one exchange. */
typedef struct spikard_response {
    uint64_t exchange;
    uint32_t status; /* 100..599 */
    uint32_t flags;  /* SPIKARD_RESPONSE_* bits, or 0 */
    const spikard_header *headers;
    size_t header_count;
    spikard_str body;
} spikard_response;

/* METHOD: answer a batch of exchanges. Every buffer is copied before the
 * call returns. Answers for unknown exchanges (timed out, client gone) are
 * skipped; the return value is SPIKARD_OK if all were delivered, else
 * SPIKARD_E_NOT_FOUND (the others were still delivered). A status outside
 * 100..599 or a malformed header turns that exchange into a 500. Flags this
 * library does not know are refused, never ignored: that exchange gets the
 * standard 500 and the call returns SPIKARD_E_UNSUPPORTED (since ABI 1.2).
 * When several answers fail, the first failure's code is returned and the
 * others are still delivered. */
int spikard_respond(spikard_app *app, const spikard_response *responses, size_t count);

/* ---------------------------------------------------------------------------
 * Section - Callbacks (C convenience)
 *
 * For C programs, a callback per route on top of the same dispatch loop:
 * spikard_serve() polls a lane from the calling thread and, for each event,
 * calls the handler registered for its route, then answers. The callback
 * therefore runs on the thread that called spikard_serve(), never on a Go
 * thread.
 * ------------------------------------------------------------------------- */

/* A route handler. Fill *response (exchange is set for you). The buffers it
 * points to must outlive the handler: libspikard copies them just after the
 * handler returns, before it calls another handler or polls again. So use
 * static or payload-owned memory, or the event's own buffers, never the
 * handler's stack. Return 0, or non-zero to answer 500. */
typedef int (*spikard_handler_fn)(const spikard_event *event,
                                  spikard_response *response, void *payload);

/* METHOD: like spikard_app_add_route, and remember handler+payload for
 * spikard_serve. The route goes on the route_json's lane. */
int spikard_app_add_handler(spikard_app *app, uint32_t *out_route,
                            const char *route_json, size_t route_len,
                            spikard_handler_fn handler, void *payload);

/* METHOD: start the app if needed, then serve lane 0 on the calling thread
 * until spikard_app_stop is called (from another thread or a signal
 * handler's deferred work). Returns SPIKARD_OK after a clean stop. Requests
 * of lane-0 routes without a handler are answered 500; handlers on other
 * lanes are not run by this function. */
int spikard_serve(spikard_app *app);

/* ---------------------------------------------------------------------------
 * Section - Workers and signals (since ABI 1.2)
 *
 * One app served by several processes. A supervisor spawns N workers, each
 * a fresh process running the host's own command line (fork and exec: the
 * child runs no Go or host code before exec), and every worker binds the
 * same address with SO_REUSEPORT, so that the kernel spreads new
 * connections over them. Supervision is libspikard's, so that readiness,
 * restarts and stops are the same in every binding.
 *
 * IN A WORKER the host does what it does in one process: it creates its
 * app, starts it and serves; spikard_worker_index() only tells it not to
 * supervise. When it loads, libspikard reads the variables its supervisor
 * set (SPIKARD_WORKER, SPIKARD_WORKER_ADDR, SPIKARD_WORKER_READY_FD,
 * SPIKARD_SUPERVISOR_PID) and removes them from the environment, so that a
 * worker's own subprocesses are not workers. The first app started in a
 * worker binds the supervisor's address, with SO_REUSEPORT and quietly,
 * whatever its configuration says, and tells the supervisor once it
 * listens. If the process's parent is not the supervisor that set those
 * variables (they were inherited some other way), spikard_app_start fails
 * with SPIKARD_E_STATE.
 *
 * THE SUPERVISOR prints one line on stderr once every worker listens,
 * "spikard: listening on http://host:port (N workers)" (unless quiet). A
 * worker that exits after it listened is restarted at once under the same
 * index, with one line ("spikard: worker 0 exited with status 137
 * (SIGKILL); restarting it") and, unless quiet, another once it listens
 * again. A worker that exits before it ever listened, the start timeout
 * passing, or one index exiting 5 times within 60 s makes the supervisor
 * give up: it stops the other workers (SIGTERM) and ends with
 * SPIKARD_E_WORKER. SIGINT or SIGTERM passed in by the host stops every
 * worker with that same signal; the ones still alive shutdown_timeout + 5 s
 * later, or at a second signal, get SIGKILL. On Linux each worker also gets
 * SIGTERM from the kernel if the supervisor process dies, however it dies.
 * Statuses are as a shell shows them: an exit code, or 128 + the signal.
 *
 * SIGNALS are the host's: libspikard installs no signal handler of its own
 * (Go's runtime has its own, for faults and preemption). Every handler the
 * host installs must have SA_ONSTACK, because Go's threads run on small
 * stacks with an alternate signal stack and a handler may run on any
 * thread; spikard_signal_onstack fixes up a handler installed without it.
 *
 * NEVER FORK after libspikard is loaded, other than to exec at once: the Go
 * runtime does not survive fork(). Workers come from spikard_supervise.
 * ------------------------------------------------------------------------- */

typedef struct spikard_supervisor spikard_supervisor;

/* CONSTRUCTOR: spawn options.workers worker processes running argv, and
 * return once they are spawned (not yet listening).
 *
 * argv is a NULL-terminated array: argv[0] is the executable's path (there
 * is no PATH search) and the whole array is the worker's argv; a host
 * passes its own command line (Python: sys.executable, then
 * sys.orig_argv[1:]). envp is a NULL-terminated array of "NAME=value"
 * strings, or NULL for this process's environment (as environ holds it at
 * the call). OWNERSHIP: argv, envp and options_json are copied before the
 * call returns; the caller may free or reuse them at once.
 *
 * options_json is a UTF-8 JSON object (length options_len). Unknown keys
 * and null are refused, as in spikard_app_new, with a message naming the
 * key: supervise: unknown key "wrokers". Keys:
 *   "workers": integer 1..1024, required
 *   "host": string, default "127.0.0.1": the address every worker binds
 *   "port": integer, default 8000; 0 picks a free port once, before the
 *       workers start (another process may take it in between; the
 *       workers then fail to listen and the supervisor gives up)
 *   "start_timeout": seconds a worker may take from spawn to listening,
 *       default 120; 0 means no limit
 *   "shutdown_timeout": seconds workers get to drain after the stop
 *       signal, default 5 (SIGKILL follows 5 s after it)
 *   "quiet": boolean, default false: no "listening" lines
 *
 * On success *out is a new supervisor, freed with spikard_supervisor_free.
 * Fails with SPIKARD_E_INVALID (arguments, options), SPIKARD_E_IO (a worker
 * could not be spawned; the ones already spawned are stopped first) or
 * SPIKARD_E_STATE (called in a worker). */
int spikard_supervise(spikard_supervisor **out, const char *const *argv, const char *const *envp,
                      const char *options_json, size_t options_len);

/* METHOD: the port every worker binds (the one picked for "port": 0). */
int spikard_supervisor_port(int *out_port, spikard_supervisor *sup);

/* METHOD: wait up to timeout_ms milliseconds (0: only check; negative: until
 * the end) for supervision to end, which it does once every worker has
 * exited. Until then *out_done is 0 and the call returns SPIKARD_OK. Once
 * it has ended, *out_done is 1 and *out_status is the status for the host
 * to exit with: 0 after a stop the host asked for in which every worker
 * exited 0 or by the signal it was sent; otherwise the first failed
 * worker's status (1 for a start timeout). If the supervisor gave up on a
 * worker the call returns SPIKARD_E_WORKER, with *out_done and *out_status
 * still set, and spikard_last_error() names the worker and its status:
 *   spikard: worker 1 exited with status 3 before it listened
 * Later calls report the same. Blocking: release your VM lock around it,
 * and wait in slices (100 ms) if your signal handlers run between calls. */
int spikard_supervisor_wait(int *out_done, int *out_status, spikard_supervisor *sup,
                            int timeout_ms);

/* METHOD: pass on a signal the host received. SIGINT or SIGTERM begins a
 * graceful stop (each worker gets that signal); a second one kills the
 * workers. SIGHUP (reload) is SPIKARD_E_UNSUPPORTED; other signals are
 * SPIKARD_E_INVALID. Async-signal-safe: one write(2) to a pipe, no Go code,
 * errno preserved, so a signal handler calls it directly. For the same
 * reason its failures set no spikard_last_error() message. Harmless after
 * supervision has ended; it must not race spikard_supervisor_free. */
int spikard_supervisor_signal(spikard_supervisor *sup, int signo);

/* DESTRUCTOR: free a supervisor after wait reported the end. Before the end
 * it kills the workers and waits for them. Stop calling
 * spikard_supervisor_signal (restore your signal handlers) first. NULL is a
 * harmless no-op. */
void spikard_supervisor_free(spikard_supervisor *sup);

/* In a worker: *out_index is its index among its supervisor's workers, from
 * 0. In any other process SPIKARD_E_NOT_FOUND; SPIKARD_E_STATE if the
 * supervisor's variables were malformed. Answers from memory: the variables
 * are gone from the environment. */
int spikard_worker_index(int *out_index);

/* Add SA_ONSTACK to signo's current handler, keeping its handler, mask and
 * other flags; a no-op if the flag is set or the disposition is SIG_DFL or
 * SIG_IGN. Call it right after the host (or its runtime: libuv, a VM's
 * trap) installed a handler. SPIKARD_E_INVALID for a bad signal number.
 * Written in C, no Go code. */
int spikard_signal_onstack(int signo);

#ifdef __cplusplus
}
#endif

#endif /* SPIKARD_H */
