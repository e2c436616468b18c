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
 * headers and bodies, chunks, argv) is copied before the call returns; the host may free
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
 * environment override either. It also sets Go's soft memory limit, after
 * every collection, to twice the live heap (at least 30 MiB; rising by at
 * most a quarter a collection), so that the pages of a burst of large
 * bodies go back to the system; GOMEMLIMIT in the environment overrides it.
 *
 * OUT-PARAMETERS come first in every function and are named out or
 * out_<what>. Each is written on every return, NULL or 0 on failure (-1
 * for a file descriptor, since 0 is one), before anything else is done;
 * one marked "may be NULL" is optional. Every function returns int
 * (SPIKARD_OK or a negative code) except
 * spikard_abi_version, spikard_last_error and the void destructors.
 *
 * GROWTH. Records cross in arrays, and each call takes the size of one
 * element as the caller compiled it: pass sizeof(spikard_event),
 * sizeof(spikard_response), sizeof(spikard_chunk). A minor version only
 * appends fields, each at an offset at or past the previous version's
 * sizeof (tail padding is never reused), and a field's zero value always
 * means "absent". The library writes (events) or reads (responses, chunks)
 * only the fields that lie wholly inside the size passed, and zeroes the
 * rest of a larger event element, so a host compiled against 2.0 runs
 * unchanged on any 2.x library and a newer host on an older library. A size
 * below the 2.0 size is refused with SPIKARD_E_INVALID. Nothing else crosses
 * as a C record: options and descriptions are JSON documents, which grow by
 * keys.
 *
 * REFUSALS. Nothing a host sends is ignored. JSON documents (config, route,
 * problem, supervisor) refuse unknown keys and null with SPIKARD_E_INVALID
 * and a message naming the key; keys kept for later minor versions are
 * refused with SPIKARD_E_UNSUPPORTED, so a binding can tell "library too
 * old" from a typo. A flag bit the library does not know, or a known flag
 * not valid with the others, is SPIKARD_E_UNSUPPORTED; a field set that the
 * record's flags do not use is SPIKARD_E_INVALID. A refused answer is never
 * half-applied: its exchange gets the standard 500 problem, so nothing waits
 * for request_timeout. A refused chunk changes nothing. Event kinds other
 * than SPIKARD_EVENT_REQUEST are delivered only to hosts that opted in (a
 * route's "events" or "websocket", an answer's flags, an open stream), so a
 * host never receives a kind it does not know.
 *
 * VERSIONING. SPIKARD_ABI_VERSION is the version this header describes;
 * spikard_abi_version() is the version of the loaded library. At load,
 * before any other call, a binding requires
 *   SPIKARD_ABI_MAJOR(loaded) == SPIKARD_ABI_MAJOR(SPIKARD_ABI_VERSION)
 *   && loaded >= SPIKARD_ABI_VERSION
 * (the second half because a binding calls what its minor added), and
 * otherwise refuses to load with a message naming both numbers. Minor
 * versions add functions, kinds, flags, JSON keys and appended fields, by
 * the GROWTH rule; only a major version breaks a compiled host. ABI 2.0
 * broke 1.x once: out-parameters first, element sizes, opt-in kinds, the
 * pair type, streams. ABI 2.1 added WebSockets and broadcast channels (the
 * route key "websocket", the kinds WS_OPEN, WS_MESSAGE and WS_CLOSE, the
 * flags SPIKARD_RESPONSE_WS_ACCEPT, SPIKARD_CHUNK_WS_BINARY and
 * SPIKARD_CHUNK_WS_CLOSE, the config keys "ws_*" and "broadcast", and
 * spikard_ws_subscribe/unsubscribe/publish) and appended no field. ABI
 * 2.2 added the spikard_supervise option "reload". ABI 2.3 adds the
 * middleware of core: the config keys "request_id", "cors",
 * "compression" and "static_files", the route keys "cors" and
 * "websocket"."message_schema", file answers (SPIKARD_RESPONSE_FILE), the
 * access log (SPIKARD_EVENT_LOG), the OpenAPI document (config key
 * "openapi"; route keys "summary", "description", "tags", "operation_id",
 * "status_code") and lifecycle hooks (the config and route key "hooks",
 * SPIKARD_EVENT_HOOK, SPIKARD_RESPONSE_CONTINUE, SPIKARD_NO_ROUTE; see
 * Section - Lifecycle hooks), and the guards (the config and route keys
 * "jwt_auth", "api_key_auth" and "rate_limit", the route fact
 * "claims"); it appends no field.
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
#define SPIKARD_ABI_VERSION 20003
#define SPIKARD_ABI_MAJOR(v) ((v) / 10000)

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
#define SPIKARD_E_AGAIN (-8)      /* a stream's queue is full: nothing was queued, and one
                                   * SPIKARD_EVENT_STREAM_CREDIT follows when it has room
                                   * (spikard_ws_publish: see there) */
#define SPIKARD_E_WORKER (-9)     /* a supervisor gave up on a worker */

/* The message of the last failed call on this thread, or "" if none has
 * failed. The string belongs to the library and stays valid until the next
 * call on this thread that fails, or until the thread exits: successful
 * calls leave it alone. Read it right after a call returned a negative
 * code. */
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
 *   "max_body_size": integer bytes, default 10 MiB; 0 means no limit. A
 *       request whose Content-Length is larger is answered 413 and closed
 *       as soon as its head has arrived, without reading the body and
 *       without a 100 Continue.
 *   "max_json_depth": integer in 1..10000, default 128: how deeply a JSON
 *       body may nest arrays and objects ({"a":[1]} is 2). A deeper body
 *       (a route with a body schema, or any body declared application/json
 *       or +json) is answered 400, a problem whose detail names the limit,
 *       before any parser reads it. 128 is serde_json's recursion limit;
 *       ASP.NET Core allows 64, Python's json and Jackson about 1000.
 *   Every request head is checked before any handler sees it (RFC 9112):
 *   a request line that is not method SP target SP HTTP-version, a target
 *   that is not "/...", "*" (OPTIONS) or an absolute URI, a header field
 *   name that is not a token, a control byte in a field value, a field
 *   line without a colon, obsolete line folding, two Host fields (or none
 *   in HTTP/1.1), an Expect other than 100-continue (417), and framing a
 *   proxy could read otherwise (Transfer-Encoding other than chunked,
 *   with Content-Length, or twice; Content-Lengths that disagree) are
 *   answered 400, and HTTP versions other than 1.0 and 1.1 505, each with
 *   a problem document, Connection: close, and the connection closed.
 *   Four keys bound the head; each 0 means no limit:
 *   "max_uri_length": integer bytes, default 8192: a longer request target
 *       (path and query) is answered 414 (nginx and Apache refuse lines
 *       past 8 KiB).
 *   "max_header_size": integer bytes, default 16384 (16 KiB): the header
 *       field lines together, line ends included, request line apart; more
 *       is answered 431 (Node's limit; nginx allows 4 lines of 8 KiB).
 *   "max_header_count": integer, default 100: more header field lines are
 *       answered 431 (Apache's LimitRequestFields).
 *   "header_timeout": seconds, default 10: how long a request head may take
 *       to arrive, counted from its first byte, however the bytes trickle
 *       in (read_timeout bounds each wait, this the whole head). A head
 *       not complete in time, or stalled for read_timeout, is answered
 *       408 and closed.
 *   The limits are checked as the bytes arrive: a head past one is
 *   refused without waiting for its end.
 *   "request_timeout": number of seconds a request may wait for its answer
 *       before core answers it 408 (problem detail "Request not answered
 *       within request_timeout (30 s)"), default 30; 0 means no limit. The
 *       server goes on serving; the host's late answer is refused
 *       (SPIKARD_E_NOT_FOUND) and, on a route with the "disconnect"
 *       event, a DISCONNECT with SPIKARD_GONE_TIMEOUT tells it so
 *   "read_timeout": seconds the server waits for the next bytes of a
 *       request (headers or body) or of an idle keep-alive connection,
 *       default 30; 0 means no limit on requests (idle keep-alive
 *       connections then close after 3 minutes). The limit applies to each
 *       wait, not to the whole request (header_timeout bounds a whole
 *       head). A stalled request is answered and closed: with a 408
 *       problem response when its head stalled or the core was already
 *       reading the body (max_body_size 0 and a body over 4 MiB),
 *       otherwise with the transport's plain-text 400. A connection that
 *       never sends a byte holds no thread, and is closed once the idle
 *       timeout passes.
 *   "shutdown_timeout": seconds spikard_app_stop waits for in-flight
 *       requests by default, default 5
 *   "access_log": false (default), true, or {"lane": N} (2.3): the access
 *       log, one line per request that reached the core's handler (every
 *       request whose head the front accepted), formatted by core in the
 *       format of SPIKARD_EVENT_LOG. true: core writes the lines to stderr.
 *       {"lane": N}: they come to the host as SPIKARD_EVENT_LOG events on
 *       lane N, in batches, the way a binding hands them to its language's
 *       logging; the lane exists for the purpose even if no route uses it,
 *       and a poller of it must be polled for the batches to leave core.
 *       Off, a request reads no clock and formats nothing.
 *   "quiet": boolean, default false: suppress the single "listening on"
 *       line core writes on stderr at start (a binding that logs its own
 *       startup line sets it)
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
 *   "stall_after": positive seconds, default 0.005: how long a request held
 *       on a serial lane takes to count as stalled.
 *   "stream_queue_bytes": integer bytes, default 4194304 (4 MiB): how much
 *       of a stream may be queued (accepted, not yet handed to the kernel)
 *       before spikard_stream_write answers SPIKARD_E_AGAIN.
 *   "sse_keepalive": seconds, default 15; 0 turns it off: an SSE stream with
 *       no event written for this long gets a ":" comment line.
 *   WebSockets (see Section - WebSockets):
 *   "ws_max_message_size": integer bytes, default 1048576 (1 MiB); 0 means
 *       no limit: a received message (all its fragments) past it closes
 *       the connection with 1009.
 *   "ws_inbound_bytes": positive integer bytes, default 1048576: when the
 *       received messages no host has polled yet reach this, core stops
 *       reading the connection until a poll takes some (one message always
 *       passes), so a host that falls behind slows its client down.
 *   "ws_ping_interval": seconds, default 0 (off): core pings every open
 *       WebSocket this often, and drops one that sent nothing (no frame,
 *       no pong) for two intervals: WS_CLOSE 1006.
 *   "ws_origins": list of origins ("https://app.example.com", scheme and
 *       host[:port], compared without case) or ["*"] for any, default none:
 *       a handshake whose Origin header is present and not allowed is
 *       answered 403. Without the key only the request's own Host may be
 *       the Origin's host (what a page of the same server sends); a
 *       handshake without Origin (not from a browser) always passes. A
 *       route's own "origins" replace this list.
 *   "broadcast": object, default in-process: where published messages go
 *       (see spikard_ws_publish). Keys: "redis": a redis:// or rediss://
 *       URL ("redis://[user:password@]host[:port][/db]"): every message
 *       goes through Redis pub/sub, so that every process and host that
 *       uses the same Redis and prefix (workers=N) delivers it to its own
 *       subscribers; spikard_app_start fails with SPIKARD_E_IO when Redis
 *       does not answer a PING within 3 s. "prefix": string, default
 *       "spikard:": channel c is the Redis channel prefix + c.
 *   "request_id": true (the default), false, or an object (2.3) with
 *       "enabled" (bool, default true) and "header" (a field name, default
 *       "X-Request-ID", sent as spelled): every answer core writes for a
 *       request (host answers, problem documents, 404s and 405s, streams,
 *       SSE, WebSocket 101s) carries the request's id in that header. A client's
 *       own id is kept when it is 1..128 bytes of letters, digits and
 *       -_.:~+/=@; otherwise core generates a random version-4 UUID and
 *       puts it in the request's header field too, so the host (fact
 *       "meta": header "x-request-id", or the configured name in lower
 *       case) sees the id its answer will carry.
 *       false: no header added, the client's field passed as it came. A
 *       head the server refuses before routing (400, 408, 414, 431, ...)
 *       carries none.
 *   "cors": object (2.3), default none: the app's CORS policy, for every
 *       route that does not set its own (route key "cors"). Keys:
 *       "allow_origins" (required, not empty): a list of exact origins as
 *       browsers send them ("https://app.example.com", scheme://host[:port],
 *       compared byte for byte, case included), "*" for any, "null" for
 *       the opaque origin, and {"regex": "RE2 pattern"} objects an origin
 *       must match whole. "allow_methods": methods a preflight may ask for,
 *       or ["*"]; default GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
 *       "allow_headers": request headers a preflight may name, any case, or
 *       ["*"]; default none beyond the CORS-safelisted Accept,
 *       Accept-Language, Content-Language and Content-Type.
 *       "allow_credentials": bool, default false: answers carry
 *       Access-Control-Allow-Credentials: true and the origin, never "*".
 *       "expose_headers": list, default none. "max_age": seconds for
 *       Access-Control-Max-Age, default 600; -1 sends none.
 *       "allow_private_network": bool, default false: a preflight's
 *       Access-Control-Request-Private-Network: true gets
 *       Access-Control-Allow-Private-Network: true.
 *     What core does for a route with a policy: a request whose Origin is
 *     absent or names the request's own Host gets only Vary: Origin; an
 *     allowed origin gets Access-Control-Allow-Origin (the origin, or "*"
 *     for any origin without credentials, then without Vary),
 *     -Allow-Credentials and -Expose-Headers on whatever the host answers
 *     (streams, SSE and WebSocket 101s too); any other origin is answered
 *     403 (problem detail "CORS request from origin 'O' not allowed")
 *     before the body is read or a host sees the request. A preflight
 *     (OPTIONS with Origin and Access-Control-Request-Method) is answered
 *     by core with the policy of the path's route for the method asked
 *     for, or else of the path's first route with a policy: 204 with
 *     Access-Control-Allow-Origin, -Allow-Methods (the list; the method
 *     asked for under "*"), -Allow-Headers (the headers asked for),
 *     -Max-Age and Vary: Origin, or 403 naming the origin, method or header
 *     refused ("CORS method 'DELETE' not allowed"). A path none of whose
 *     routes has a policy routes OPTIONS as usual. On a WebSocket route
 *     the policy also decides the handshake's Origin, unless "ws_origins"
 *     or the route's "origins" list them.
 *   2.3, middleware:
 *   "compression": object, default off: answers are compressed for clients
 *       that accept it. Keys (all optional): "gzip": bool, default true;
 *       "brotli": bool, default true ("br"); "zstd": bool, default false;
 *       "min_size": integer bytes, default 1024: smaller whole bodies go
 *       out as they are; "quality": integer 0..11, default 6, which each
 *       codec takes clamped to its own range: gzip 0..9 (0 stores, 9 is
 *       best), brotli 0..11, zstd 0-2 fastest, 3-6 default, 7-9 better,
 *       10-11 best. The coding is negotiated from Accept-Encoding (RFC
 *       9110 12.5.3): each enabled coding takes its q-value, or that of
 *       "*", and the highest above 0 wins, ties going to br, zstd, gzip;
 *       none acceptable (or "identity" alone) sends the body as it is.
 *       Every answer that could be compressed carries "Vary:
 *       Accept-Encoding", compressed or not. Never compressed: answers to
 *       HEAD, statuses without a body and 206, answers whose headers have
 *       Content-Encoding, Content-Range or "Cache-Control: no-transform",
 *       SSE (text/event-stream), types compressed already (images but SVG,
 *       audio, video, archives, woff, pdf), file answers and static files
 *       over 64 KiB (they may be ranges; see "static_files" for
 *       precompressed ones), and streams with a content-length of their
 *       own. A stream (SPIKARD_RESPONSE_STREAM) is compressed as it goes,
 *       whatever its size: each chunk is flushed through the codec, so its
 *       bytes reach the client before the next chunk is written. A strong
 *       ETag on an answer compressed so becomes weak (W/).
 *   "static_files": list of objects, default none: directories served
 *       under URL prefixes, consulted only for requests no route's path
 *       matches. Each: "directory": string, required, a directory that
 *       exists when the config is read (relative: to the working
 *       directory); "route_prefix": string, required, starting with "/"
 *       (a trailing "/" is dropped); "index_file": bool, default true:
 *       a directory is served as its index.html; "cache_control": string,
 *       default none: the Cache-Control of every file served. GET and HEAD
 *       are served, any other method is a 405 problem (Allow: GET, HEAD),
 *       a missing or refused name the standard 404 problem. Refused: a
 *       backslash or NUL, raw or percent-encoded; "." and ".." segments,
 *       raw or encoded; an encoded slash; double-encoded escapes of those
 *       (%252e, %255c, %2500, %252f); malformed escapes; a name whose real
 *       path (symlinks resolved) leaves the directory. Files go out as
 *       SPIKARD_RESPONSE_FILE's do (validators, 304, ranges, types), with
 *       the mount's Cache-Control; when name.br or name.gz exists beside a
 *       file and the client accepts that coding (br first on a tie), it is
 *       sent instead with Content-Encoding and the file's type, and the
 *       answer says "Vary: Accept-Encoding".
 *   "openapi": object (2.3), default none: the app's OpenAPI 3.1 document,
 *       built once at spikard_app_start from the routes added until then
 *       (WebSocket routes left out) and served from memory, with Swagger UI
 *       and ReDoc pages whose scripts and stylesheets are embedded in the
 *       library (swagger-ui-dist and redoc from npm; no CDN, and the pages'
 *       Content-Security-Policy allows the app's own origin only). Giving
 *       the object turns it on. Keys, all optional:
 *         "enabled": boolean, default true
 *         "title": string, default "API"; "version": string, default "1.0.0"
 *             (info.title, info.version); "description": string
 *         "openapi_path": default "/openapi.json" (application/json)
 *         "swagger_ui_path": default "/docs"; "redoc_path": default
 *             "/redoc"; "" serves no such page. A page's assets are under
 *             its path (/docs/swagger-ui-bundle.js).
 *       Paths are literal ("/" and segments), distinct; a route already on
 *       one of them makes spikard_app_start fail with SPIKARD_E_INVALID, as
 *       do two routes of one method whose templates are one ({x:int} and
 *       {x} in the same place).
 *       The document: one operation per route, its path template with the
 *       placeholders' types as schemas ({id:int} -> {id}, integer); the
 *       parameters of parameter_schema by wire name (alias, dashed header)
 *       with their schemas, defaults and constraints; the body per media
 *       type core decodes: multipart/form-data when it has upload fields
 *       ("format": "binary" properties or file_params, whose content_type
 *       lists become the encoding), JSON and urlencoded forms for a flat
 *       object (scalars and lists of scalars), JSON otherwise; the success
 *       response at "status_code" with response_schema as JSON; a 422 of
 *       components/schemas/ValidationProblem (core's RFC 9457 document) on
 *       every route that has a parameter that can fail (any but an undeclared
 *       {name} or {name:path}) or a body, and a 400 of
 *       ProblemDetails (a body core cannot read) on every route with a
 *       body. Named models: an object
 *       schema with a string "title" and "properties", anywhere in a body
 *       or response schema, becomes components/schemas/<title> (characters
 *       outside [A-Za-z0-9._-] become '_'), as does each entry of a
 *       schema's top-level "$defs" (named by its title, else its key; its
 *       "#/$defs/..." references follow it); a different schema under a
 *       taken name gets the name plus 2, 3, ... in route order. The bytes
 *       depend only on the routes and this object (keys sorted), so every
 *       binding serves the same document for the same app. The guards
 *       (below) are documented as components/securitySchemes: "bearerAuth"
 *       (http bearer, JWT) for every route taking a JWT, and an apiKey
 *       scheme per place a key is read, "apiKeyHeader" and "apiKeyQuery"
 *       (then "apiKeyHeader2", ... for a route reading other names, in
 *       route order); a guarded operation lists the schemes any one of
 *       which will do as its "security", and a 401 (and a 429 under a rate
 *       limit). The document and the pages take no guard: they are public.
 *   "hooks" (2.3): list of lifecycle phases the host has hooks for on
 *       every route: "on_request", "pre_validation", "pre_handler",
 *       "on_response", "on_error" (see Section - Lifecycle hooks), default
 *       []. With "on_response" or "on_error", requests that match no route
 *       visit lane 0 too.
 *   "hooks_in_request" (2.3): bool, default false: a request of a route
 *       with on_request or pre_validation hooks that validates as received
 *       makes no pre visit; its REQUEST carries the pre phases in code (see
 *       Section - Lifecycle hooks).
 *   "jwt_auth": object (2.3), default none: every route not choosing
 *       otherwise (route key "jwt_auth") requires "Authorization: Bearer
 *       <JWT>" (RFC 7519, compact JWS), verified by core. Keys:
 *       "algorithm" (default "HS256"; HS256/384/512, RS256/384/512,
 *       PS256/384/512, ES256/384/512) or "algorithms", an allow-list;
 *       "none" is refused, and each algorithm is checked only with its own
 *       kind of key, so an HS token is never checked against a public key.
 *       "secret" (string) for HS; for the others exactly one of
 *       "public_key" (PEM text: PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE),
 *       "public_key_file" (a path) or "jwks_file" (a local JWK Set, read
 *       at spikard_app_new; a token's "kid" picks the key, and without a
 *       kid the one key fitting the algorithm; "use": "enc" keys skipped).
 *       "audience": list: aud (a string or a list) must hold one of them.
 *       "issuer": string iss must equal. "leeway": seconds of clock skew
 *       allowed on exp and nbf (default 0). "require_exp": bool (default
 *       false). "realm": the challenge's realm (default "api"). "enabled":
 *       false is the same as leaving the key out. A refused request gets
 *       401 (type .../unauthorized) before its body is read, with
 *       WWW-Authenticate per RFC 6750: `Bearer realm="api"` without a
 *       token, else `Bearer realm="api", error="invalid_token",
 *       error_description="<detail>"`. Titles and details: "Missing or
 *       invalid Authorization header" / "Expected 'Authorization: Bearer
 *       <token>'"; "Malformed JWT token" / "Malformed JWT token: expected 3
 *       parts separated by dots, found N"; "JWT validation failed" with
 *       "Token signature is invalid" (also an algorithm not allowed),
 *       "Token has expired", "JWT not valid yet, not before claim is in the
 *       future", "Token audience is invalid", "Token issuer is invalid,
 *       expected '<issuer>'", "Token is missing a required claim", "Token
 *       cannot be verified: no key matches it". The verified payload
 *       reaches the host as route fact "claims".
 *   "api_key_auth": object (2.3), default none: routes require an API key.
 *       "keys": list of accepted keys (several at once to rotate);
 *       "deprecated_keys": also accepted, and the answer then carries
 *       X-API-Key-Deprecated: true; "header_name" (default "X-API-Key"),
 *       read first; "query_param" (default "api_key"), read when the
 *       header is absent; "query_param_off": true reads no query. Keys are
 *       compared as SHA-256 digests in constant time. 401 "Missing API
 *       key" / "Expected an API key in the 'X-API-Key' header or the
 *       'api_key' query parameter", or "Invalid API key" / "The provided
 *       API key is not valid", with `WWW-Authenticate: APIKey realm="api",
 *       header="X-API-Key"`. With both "jwt_auth" and "api_key_auth", a
 *       request with an Authorization header is judged as a JWT, any other
 *       by its API key; a 401 then carries both challenges.
 *   "rate_limit": object (2.3), default none: a token bucket per client
 *       for every route not choosing otherwise. "per_second" (number > 0):
 *       refill rate; "burst" (integer >= 1): bucket size. Keys:
 *       "ip_based" (default true: one bucket per client address; false:
 *       one bucket for all), "key_by" ("ip", "api_key": per verified key,
 *       "jwt_sub": per verified subject; those two need the guard and are
 *       taken after it, address-keyed limits before authentication).
 *       "trusted_proxies": addresses or CIDRs whose Forwarded (RFC 7239
 *       for=) or, without it, X-Forwarded-For is believed: the nearest hop
 *       not itself trusted is the client; from any other peer those
 *       headers are ignored. "redis_url" (redis:// or rediss://): buckets
 *       live in Redis (one Lua script per request, atomic), shared by every
 *       worker and host using it; "redis_prefix" (default "spikard:rl:");
 *       "redis_timeout" seconds per command (default 0.5); spikard_app_start
 *       fails with SPIKARD_E_IO naming the address when Redis does not
 *       answer, unless "fail_open": true, which logs a warning and admits
 *       requests (without RateLimit headers) while it does not; failing
 *       closed, such a request gets 503 "Rate limit store unavailable".
 *       Every answer of a limited route carries RateLimit-Limit (burst),
 *       RateLimit-Remaining and RateLimit-Reset (seconds until full) of
 *       draft-ietf-httpapi-ratelimit-headers-07; an empty bucket is a 429
 *       (type .../too-many-requests, detail "Rate limit exceeded: retry
 *       after N s") with Retry-After: N (seconds until one token, >= 1).
 *       Hosts sharing a Redis need synchronised clocks.
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
 * refused for every key (omit a key to keep its default). */
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
 *   "events": list of event kinds the route opts into beyond REQUEST:
 *       "disconnect": SPIKARD_EVENT_DISCONNECT when a request a host took
 *       ends without its answer (client gone, request_timeout, stop). An
 *       async host that can cancel a handler asks for it; a host that runs
 *       handlers to completion leaves it out and is sent nothing.
 *   "facts": list of what each REQUEST event carries beyond params and
 *       body, each filled only for routes that ask (the others get empty
 *       fields at no cost):
 *       "meta"     method, path, query and headers
 *       "cookies"  cookies: every Cookie header in arrival order, split at
 *                  ';', trimmed, one pair of double quotes removed; pieces
 *                  without '=' skipped; repeats kept (a dict takes the first)
 *       "query"    query_pairs: the raw query split at '&', form-decoded
 *                  ('+' is a space, %XX; a malformed escape is kept as
 *                  written); blank values and order kept
 *       "uploads"  uploads: a JSON Pointer ("/avatar") for each body field
 *                  whose value is an upload descriptor or an array of them,
 *                  in first-seen order
 *       "claims"   (2.3) the verified JWT payload (JSON text, as the token
 *                  carried it) as one more header pair named ":claims",
 *                  after the others (':' begins no HTTP/1.1 field name);
 *                  absent when the route's guard verified no token
 *   Read only by the OpenAPI document (config "openapi"), each optional
 *   (2.3): "summary": string; "description": string (CommonMark);
 *       "tags": list of distinct non-empty strings; "operation_id": a
 *       non-empty string, unique in the app (two routes with one make
 *       spikard_app_start fail), else generated from the method and path
 *       ("get_users_id", suffixed _2, _3 when taken); "status_code":
 *       integer in 100..599, default 200, the status of a successful
 *       answer (the host still sends whatever status it answers).
 *   "websocket": true, or an object (2.1), on a GET route: the route is a
 *       WebSocket endpoint (see Section - WebSockets). Its requests must be
 *       version-13 handshakes; each reaches the host as
 *       SPIKARD_EVENT_WS_OPEN instead of a REQUEST. Object keys, all
 *       optional: "subprotocols": list of tokens, in order of preference
 *       (the host may choose only one of these; when it chooses none, core
 *       picks the first the client offered); "origins": an allow-list
 *       that replaces the config's "ws_origins" for this route;
 *       "message_schema" (2.3): a JSON Schema object, compiled like
 *       "body_schema", that every received message, text or binary, must
 *       meet as a JSON document: the first that does not is never
 *       delivered, and core closes the WebSocket with 1007 and a reason
 *       naming the first error's location ("message.to[1]: Input should
 *       be a valid integer", at most 123 bytes). false: a plain route.
 *       Not with spikard_app_add_handler.
 *   "cors": an object (2.3), the config's "cors" keys: the route's CORS
 *       policy in place of the app's; false: none on this route.
 *   "hooks" (2.3): list of lifecycle phases, as the config's "hooks", that
 *       this route's host has hooks for beyond the app's (see Section -
 *       Lifecycle hooks). Not with "websocket" or spikard_app_add_handler
 *       (SPIKARD_E_INVALID); app-wide hooks skip those routes.
 *   "jwt_auth", "api_key_auth", "rate_limit" (2.3): an object of the
 *       config key's keys, the route's own in place of the app's (its own
 *       audience, issuer, keys or limit; a route's own limit has buckets of
 *       its own), or false: none on this route (/health, docs pages).
 * Unknown keys, unknown names in a list and null values are refused with
 * SPIKARD_E_INVALID and a message naming the key, so that a misspelt
 * "body_schema" cannot turn validation off; 1.x's "wants_request" gets a
 * hint to "facts".
 *
 * On success *out_route is the route's id, which events carry. A GET route
 * also answers HEAD unless a HEAD route is registered for the same path. */
int spikard_app_add_route(uint32_t *out_route, spikard_app *app,
                          const char *route_json, size_t route_len);

/* METHOD: open the listener and start serving in the background; returns
 * once the socket accepts connections. An app starts at most once. In a
 * worker process, the first app started binds its supervisor's address
 * instead (see Section - Workers and signals). */
int spikard_app_start(spikard_app *app);

/* METHOD: *out_port is the TCP port the app listens on (useful after
 * "port": 0); SPIKARD_E_STATE if it has not started. */
int spikard_app_port(int *out_port, spikard_app *app);

/* METHOD: stop accepting connections, let in-flight requests finish for up
 * to timeout_ms milliseconds (negative: the configured shutdown_timeout),
 * then close everything. Requests still unanswered at the deadline get a
 * 503. SSE streams are ended at once (what is queued is flushed within the
 * deadline: SSE clients reconnect by design); raw streams may run until the
 * deadline and are then aborted, so a truncated download never looks
 * complete. Each such exchange gets SPIKARD_EVENT_DISCONNECT with
 * SPIKARD_GONE_STOPPING if it asked for one. WebSockets are closed at once
 * with 1001 (what is queued goes first), and each gets its
 * SPIKARD_EVENT_WS_CLOSE 1001 then; those whose peer has not answered the
 * close by the deadline are dropped. The lanes close only after all those
 * events are queued: pending and later polls return SPIKARD_E_CLOSED once
 * the lane is drained. Safe to call twice. */
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

/* A name and a value: a header (name lower-case), a cookie, a query pair. */
typedef struct spikard_pair {
    spikard_str name;
    spikard_str value;
} spikard_pair;

/* Event kinds. REQUEST always comes; every other kind only to a host that
 * opted in, as each says. A poller that takes an exchange's REQUEST owns the
 * exchange: every later event of it goes to that poller (or, once it is
 * freed, to any poller of the lane), so one thread sees an exchange's whole
 * life, in order. Per exchange: REQUEST, then any STREAM_CREDITs, then at
 * most one terminal event (DISCONNECT or WRITTEN). An answer flagged
 * SPIKARD_RESPONSE_WRITTEN, and every opened stream, gets exactly one
 * terminal event, so per-exchange host state (cleanups, generators) can
 * always be released on it. An exchange whose client left before any host
 * took it produces no event. A WebSocket (a "websocket" route) goes WS_OPEN,
 * then, once accepted, any WS_MESSAGEs and STREAM_CREDITs, then exactly one
 * WS_CLOSE, its only terminal event; refused, it ends as a request does. */
#define SPIKARD_EVENT_REQUEST 1       /* an HTTP request to answer */
#define SPIKARD_EVENT_DISCONNECT 2    /* the exchange ended without the host's answer
                                       * reaching the client; code is a SPIKARD_GONE_*.
                                       * Opt in: route "events": ["disconnect"], an answer
                                       * with SPIKARD_RESPONSE_WRITTEN, or any open stream */
#define SPIKARD_EVENT_WRITTEN 3       /* the answer (or the stream's end) that asked for
                                       * it has been handed to the kernel whole */
#define SPIKARD_EVENT_STREAM_CREDIT 4 /* a stream or WebSocket that answered SPIKARD_E_AGAIN
                                       * has room */
/* 2.1, for "websocket" routes only (see Section - WebSockets): */
#define SPIKARD_EVENT_WS_OPEN 5    /* a WebSocket handshake, with params and facts like a
                                    * REQUEST: answer SPIKARD_RESPONSE_WS_ACCEPT to upgrade,
                                    * anything else to refuse */
#define SPIKARD_EVENT_WS_MESSAGE 6 /* body: one whole received message; flags:
                                    * SPIKARD_EVENT_F_BINARY for a binary one, else text
                                    * (valid UTF-8) */
#define SPIKARD_EVENT_WS_CLOSE 7   /* terminal: code is the close code, body the reason */
/* 2.3, for apps and routes with "hooks" only (see Section - Lifecycle
 * hooks): */
#define SPIKARD_EVENT_HOOK 8       /* a paused request; code: SPIKARD_HOOK_* of this visit;
                                    * answer SPIKARD_RESPONSE_CONTINUE to go on, anything
                                    * else to end the exchange with it */
/* 2.3: opt in with the config's "access_log": {"lane": N}. */
#define SPIKARD_EVENT_LOG 9 /* body: a batch of access-log lines (below); exchange 0, route 0:
                             * it belongs to no exchange and takes no answer */
/* The access log (SPIKARD_EVENT_LOG). Core formats each line on the
 * request's own thread as the request ends, and collects the lines without
 * a lock per request (a lock-free list the batch swaps out). A batch is
 * one or more whole lines in the order the requests ended, each ending in
 * "\n", ASCII only; it goes to the lane's queue at most 100 ms after its
 * first line, or sooner once it holds 64 KiB; any poller of the lane takes
 * it, like a new request (on a serial lane it passes the allowance). At
 * spikard_app_stop, once every request has left the handler, the last
 * batch is queued before the lanes close: a host that polls until
 * SPIKARD_E_CLOSED has every line. A line is six fields, separated by one
 * space:
 *   2026-12-03T11:46:55.123Z 127.0.0.1:54321 "GET /items/7?q=1 HTTP/1.1" 200 0.412ms -
 *   - the time the request reached the handler, UTC, in milliseconds
 *   - the client's address and port ([v6]:port for IPv6)
 *   - the request line in double quotes: method, target as received
 *     (a '"', '\' or non-ASCII byte in it as \xHH), protocol
 *   - the status of the answer (a request whose client left before its
 *     answer shows the status its unsent response held)
 *   - the time from the handler's start until the answer was handed to
 *     the connection (for a stream, until the stream ended), in
 *     milliseconds with three decimals and "ms"
 *   - the request id (config "request_id"), "-" when the request has none;
 *     escaped as the target, plus spaces and control bytes
 * Requests the front refuses (a malformed head, a limit on the head) get
 * no line. */
/* Kinds stay below 64. */

#define SPIKARD_EVENT_F_BINARY (1u << 0) /* a binary WS_MESSAGE */

/* Why an exchange ended (the code of SPIKARD_EVENT_DISCONNECT). */
#define SPIKARD_GONE_CLIENT 1   /* the client closed the connection */
#define SPIKARD_GONE_TIMEOUT 2  /* request_timeout passed; core answered 408 */
#define SPIKARD_GONE_STOPPING 3 /* spikard_app_stop: core answered 503, or ended the stream */
#define SPIKARD_GONE_STALLED 4  /* a stream's client took no byte for read_timeout */
#define SPIKARD_GONE_ABORTED 5  /* the host aborted its stream (SPIKARD_CHUNK_ABORT, or
                                 * SPIKARD_CHUNK_END short of its content-length) */

/* 2.3: the lifecycle phases of a SPIKARD_EVENT_HOOK visit (its code). */
#define SPIKARD_HOOK_ON_REQUEST (1u << 0)
#define SPIKARD_HOOK_PRE_VALIDATION (1u << 1)
#define SPIKARD_HOOK_PRE_HANDLER (1u << 2)
#define SPIKARD_HOOK_ON_RESPONSE (1u << 3)
#define SPIKARD_HOOK_ON_ERROR (1u << 4)

/* 2.3: the route of a HOOK visit for a request that matched no route. */
#define SPIKARD_NO_ROUTE 0xFFFFFFFFu

/* One event. Fields a kind or a route's facts do not fill are zero. */
typedef struct spikard_event {
    uint64_t exchange; /* names the exchange in every later call; never 0 */
    uint32_t kind;     /* SPIKARD_EVENT_* */
    uint32_t route;    /* the id from spikard_app_add_route */
    uint32_t code;     /* DISCONNECT: SPIKARD_GONE_*; WS_CLOSE: the close code; HOOK: its
                        * SPIKARD_HOOK_* phases; REQUEST under config "hooks_in_request":
                        * the pre phases still to run (see Section - Lifecycle hooks);
                        * else 0 */
    uint32_t flags;    /* SPIKARD_EVENT_F_* (WS_MESSAGE); else 0 */
    spikard_str method; /* fact "meta" */
    spikard_str path;   /* fact "meta"; percent-decoded */
    spikard_str query;  /* fact "meta"; raw, without '?' */
    spikard_str params; /* JSON object of validated parameters, e.g. {"id":7} */
    spikard_str body;   /* WS_MESSAGE: the message; WS_CLOSE: the reason (UTF-8).
                         * Else the request body (already validated): a JSON body as
                         * received; an application/x-www-form-urlencoded or
                         * multipart/form-data body as the equivalent JSON
                         * object, values coerced per body_schema; without a
                         * body_schema, the raw body of any type */
    const spikard_pair *headers; /* fact "meta"; names lower-case */
    size_t header_count;
    /* The bytes that upload descriptors in body reference by "offset" and
     * "length" (the raw request body). A multipart/form-data body reaches
     * the host as a JSON object like any other: text fields as values,
     * each file as {"filename": string|null, "content_type": string,
     * "size": int, "headers": {lower-case name: value}, "offset": int,
     * "length": int} (an array of them for several files of one field).
     * Empty when the request has no file parts. */
    spikard_str attachments;
    const spikard_pair *cookies; /* fact "cookies" */
    size_t cookie_count;
    const spikard_pair *query_pairs; /* fact "query" */
    size_t query_pair_count;
    const spikard_str *uploads; /* fact "uploads": JSON Pointers into body */
    size_t upload_count;
} spikard_event; /* 184 bytes on LP64, no tail padding */

/* CONSTRUCTOR: a poller for one lane of a started or not-yet-started app.
 * Free it with spikard_poller_free before freeing the app. */
int spikard_poller_new(spikard_poller **out, spikard_app *app, uint32_t lane);

/* DESTRUCTOR: NULL is a harmless no-op. Must not race a poll on it. Closes
 * the poller's fd; a wake-up it had not taken passes to another poller, and
 * later events of the exchanges it owned go to the lane's other pollers. */
void spikard_poller_free(spikard_poller *poller);

/* METHOD: take up to cap events into events (an array of elements of
 * event_size bytes: pass sizeof(spikard_event)), waiting up to timeout_ms
 * milliseconds for the first (0: do not wait; negative: wait until an event
 * or stop). *out_count is how many (possibly 0 on timeout). Events of
 * exchanges this poller owns come before new requests. The events and
 * everything they point to stay valid until the next poll on this poller
 * or its free; copy what you keep. Returns SPIKARD_E_CLOSED once the app
 * has stopped and the lane is drained. Blocking: release your VM lock
 * around this call. */
int spikard_poller_poll(size_t *out_count, spikard_poller *poller, spikard_event *events,
                        size_t cap, size_t event_size, int timeout_ms);

/* METHOD: *out_fd is this poller's own file descriptor, created on the
 * first call; it becomes readable when this poller should poll. After it
 * polls readable, call spikard_poller_poll with timeout 0 until it returns
 * fewer events than asked for, and only then wait on the fd again; a poll
 * on this poller also clears its readiness. A poller counts as waiting from
 * the first call and after every poll that returned fewer events than asked
 * for, and the lane wakes its waiting pollers one per queued event, most
 * recently idle first: a pool of threads, each waiting on its own poller's
 * fd, has one thread woken for a request, not the whole pool. Events of an
 * exchange the poller owns make its own fd readable. A woken poller may
 * find nothing (another poller took the event, or it timed out); it just
 * waits again. Level semantics: if events remain when a poll returns fewer
 * than asked for (a batch is also bounded in bytes), the fd stays readable;
 * once the app stops it is readable for good, and the poll reports
 * SPIKARD_E_CLOSED. Owned by the poller, and closed by spikard_poller_free:
 * do not read, write or close it. */
int spikard_poller_fd(int *out_fd, spikard_poller *poller);

/* Response flags. Bits 0..7, 8 (2.1) and 9 (2.3) are this version's; 10 is kept
 * (refused with SPIKARD_E_UNSUPPORTED); 11..23 are for later minor versions;
 * 24..31 are never assigned, so a host may rely on their refusal. */
/* The handler failed: answer the standard 500 problem document, so every
 * host reports a crash the same way (the host logs the details itself).
 * status is 0 or 500; headers and body must be empty. */
#define SPIKARD_RESPONSE_HANDLER_ERROR (1u << 0)
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
 * may not include Content-Type or Content-Length.
 * 2.3: with status 500, the description may instead be, alone,
 *   {"dependency": {"kind": "missing_dependency" | "circular_dependency" |
 *                   "type_mismatch", "key": string, "cycle": [string, ...]
 *                   (circular only, first key repeated last), "expected":
 *                   string (type_mismatch only: the wanted type)}}
 * for a handler whose injected dependencies cannot be resolved: core
 * renders the dependency-error document (title "Dependency Resolution
 * Failed", one entry of that type with core's msg and "dependency_key",
 * and "cycle" for a cycle). */
#define SPIKARD_RESPONSE_PROBLEM (1u << 1)
/* Open a stream: status and headers are queued now, ahead of the body's
 * first chunk (may be empty), and the exchange stays open for
 * spikard_stream_write. An abort before they have left (SPIKARD_CHUNK_ABORT
 * at once) closes the connection with nothing sent.
 * Without a content-length header the body is chunked (close-delimited for
 * an HTTP/1.0 client); with one, exactly that many bytes must follow. For
 * HEAD core sends the headers and drops the chunks. The status must allow a
 * body (not 1xx, 204 or 304) and transfer-encoding is core's to set; an
 * HTTP/1.0 stream closes its connection at the end. request_timeout stops
 * at the stream's first byte. Every opened stream gets exactly one
 * terminal event (WRITTEN after a clean end, else DISCONNECT). */
#define SPIKARD_RESPONSE_STREAM (1u << 2)
/* With STREAM: server-sent events. Core sets content-type
 * text/event-stream and cache-control no-cache (the host passes neither),
 * the open's body must be empty, and every chunk is one event (see
 * spikard_chunk). Keep-alive comments per "sse_keepalive". */
#define SPIKARD_RESPONSE_SSE (1u << 3)
/* Deliver SPIKARD_EVENT_WRITTEN once this answer's last byte has been
 * handed to the kernel, or SPIKARD_EVENT_DISCONNECT if it could not be:
 * the moment for background tasks and dependency cleanups. */
#define SPIKARD_RESPONSE_WRITTEN (1u << 4)
/* 2.1: the answer to SPIKARD_EVENT_WS_OPEN that upgrades the connection to
 * a WebSocket, alone: status 0 or 101, no body; headers go on the 101 (a
 * set-cookie, the chosen "sec-websocket-protocol": one the client offered
 * and, if the route lists subprotocols, one of those), never upgrade,
 * connection, sec-websocket-accept, sec-websocket-extensions,
 * content-length or transfer-encoding (SPIKARD_E_INVALID and the 500).
 * The exchange is then a WebSocket: write to it with spikard_stream_write
 * at once, even before the 101 is out. */
#define SPIKARD_RESPONSE_WS_ACCEPT (1u << 8)
/* 2.3: the answer to a SPIKARD_EVENT_HOOK that lets the exchange go on,
 * alone: status 0, no body; each header sets that header (an empty value
 * removes it): a request header on a pre visit, a header of core's answer
 * on an error visit; never content-length, transfer-encoding or host.
 * Refused (SPIKARD_E_INVALID and the standard 500) for an exchange that is
 * not in a HOOK visit. See Section - Lifecycle hooks. */
#define SPIKARD_RESPONSE_CONTINUE (1u << 9)
/* 2.3: answer with a file, which core reads and sends itself. body is the
 * file's path (UTF-8 bytes, no NUL; relative: to the process's working
 * directory), optionally followed by one NUL and the name to offer for
 * download (UTF-8): core then sets "Content-Disposition: attachment;
 * filename=\"<name, other than printable ASCII, quote and backslash as
 * _>\"", plus "; filename*=UTF-8''<name percent-encoded>" (RFC 6266, RFC
 * 8187) when that differs from the name. The file is opened when
 * spikard_respond is called, so the host may delete or replace it once the
 * call returns.
 *   status: 200..599 but 204 and 304. With 200 core answers conditional
 *   and range requests of GET and HEAD: ETag "<size hex>-<mtime ns hex>"
 *   and Last-Modified always; If-None-Match (weak comparison, "*") or else
 *   If-Modified-Since give 304 without a body; "Range: bytes=a-b", "a-"
 *   or "-n" gives 206 with Content-Range, or 416 (a problem document with
 *   "Content-Range: bytes * /size", without the space) when no byte of it
 *   is in the file; an If-Range that is not exactly the ETag or the
 *   Last-Modified date, several ranges, or another unit give the whole
 *   file (200); Accept-Ranges: bytes. Another status sends the whole file
 *   with it, no conditionals and no ranges.
 *   headers: sent as given; a content-type replaces the one core guesses
 *   from the path's extension (core's own table of the common web types,
 *   the same on every machine, no charset claimed; application/octet-stream
 *   when unknown);
 *   content-length, content-range, content-encoding and transfer-encoding
 *   are core's (SPIKARD_E_INVALID and the 500).
 *   flags: alone, or with SPIKARD_RESPONSE_WRITTEN (the WRITTEN event comes
 *   after the file's last byte); with any other, SPIKARD_E_UNSUPPORTED.
 *   A file that cannot be opened as a regular file (missing, a directory,
 *   unreadable) is not a refusal: the client gets the standard 500 (the
 *   handler named a file the server lacks, the server's fault as a handler
 *   that raised), the app logs a line naming the route and the path, and
 *   spikard_respond reports SPIKARD_OK. An empty path is SPIKARD_E_INVALID.
 *   Files up to 64 KiB are read into the answer at once; larger ones are
 *   streamed from the open file. HEAD sends the headers only. */
#define SPIKARD_RESPONSE_FILE (1u << 10)

/* The answer to one exchange. Its headers are sent as given; core adds
 * only the framing ones (content-length or transfer-encoding, date,
 * server, connection), never a default content-type: a body without one
 * goes out without one, the same from every binding.
 * 2.3, cookies: a header named "spikard-cookie" (any case) is not sent; its
 * value, a JSON object {"name": token (required), "value": string,
 * "max_age": int seconds, "expires": int Unix seconds, "path": string,
 * "domain": string, "secure": bool, "httponly": bool, "samesite":
 * "strict" | "lax" | "none", "partitioned": bool}, becomes one Set-Cookie
 * header that core writes, attributes in that order, Expires as an
 * IMF-fixdate, so every binding's cookies read the same. A value core
 * cannot render (a name that is no token, a value with a space, '"', ',',
 * ';' or '\', SameSite=None or Partitioned without secure, an unknown key)
 * is SPIKARD_E_INVALID and the standard 500. Deleting a cookie is
 * "value": "", "max_age": 0, "expires": 0. Plain answers and streams. */
typedef struct spikard_response {
    uint64_t exchange;
    uint32_t status; /* 100..599 */
    uint32_t flags;  /* SPIKARD_RESPONSE_* bits, or 0 */
    const spikard_pair *headers;
    size_t header_count;
    spikard_str body;
} spikard_response; /* 48 bytes on LP64 */

/* METHOD: answer a batch of exchanges (responses: count elements of
 * response_size bytes; pass sizeof(spikard_response)). Every buffer is
 * copied before the call returns. Every entry is tried. out_results (may
 * be NULL) gets one code per entry: SPIKARD_OK (delivered, or for STREAM
 * opened), SPIKARD_E_NOT_FOUND (the exchange is over: answered, timed out,
 * client gone), SPIKARD_E_INVALID (a status outside 100..599, a malformed
 * header, a refused problem description, a field the flags do not use) or
 * SPIKARD_E_UNSUPPORTED (a flag). An INVALID or UNSUPPORTED entry's
 * exchange gets the standard 500. Returns SPIKARD_OK if every entry
 * succeeded, else the code of the first that failed, and
 * spikard_last_error() names that entry. */
int spikard_respond(int *out_results, spikard_app *app, const spikard_response *responses,
                    size_t count, size_t response_size);

/* ---------------------------------------------------------------------------
 * Section - Lifecycle hooks (2.3)
 *
 * A host with hooks names their phases: the config's "hooks" for every
 * route served by a lane host, a route's "hooks" for that route as well.
 * Core pauses a request only where the host cannot run its hooks inside a
 * visit it gets anyway, and sends one SPIKARD_EVENT_HOOK for every phase
 * the host handles back to back there; code holds their SPIKARD_HOOK_*
 * bits. Two visits exist:
 *
 *   PRE VISIT, code ON_REQUEST and/or PRE_VALIDATION: after routing and
 *   reading the body, before parameters and body are validated (a hook
 *   cannot change the path, so routing comes first; a request core refuses
 *   while reading its body gets no pre visit). The event has route, meta
 *   (method, path, query, headers) whatever the route's facts, the route's
 *   cookies and query facts if it asks for them, the body as received
 *   (not yet decoded) and empty params. CONTINUE (its headers change
 *   request headers) goes on: validation runs on the changed request and
 *   its REQUEST follows, queued on the route's lane like any request (any
 *   poller of the lane may take it). Any other answer ends the exchange
 *   (an auth hook's 401); it gets an error visit if it is a PROBLEM or
 *   HANDLER_ERROR one.
 *
 *   ERROR VISIT, code ON_ERROR and/or ON_RESPONSE: when the answer about
 *   to go out is a problem document core rendered: its own 4xx and 5xx
 *   (404, 405, 413, 415, 422, ...) or one a host asked for
 *   (SPIKARD_RESPONSE_HANDLER_ERROR, SPIKARD_RESPONSE_PROBLEM, a refused
 *   answer's 500). The event has route (SPIKARD_NO_ROUTE for a request that
 *   matched none: such visits go to lane 0), meta, params a JSON object
 *   {"status": 404, "headers": [["content-type",
 *   "application/problem+json"], ...]} (the answer's status and headers,
 *   names lower-case, framing headers left out) and body the answer's
 *   body. CONTINUE sends core's answer, its headers changed; any other
 *   answer replaces it whole. An exchange makes at most one error visit.
 *
 *   PRE PHASES IN THE REQUEST (config "hooks_in_request"): a request that
 *   validates as received, its body as received (no form or multipart
 *   decoded), makes no pre visit: its REQUEST (with meta whatever the
 *   route's facts) has code = its ON_REQUEST/PRE_VALIDATION bits, and the
 *   host runs those hooks first, on the request as received. Hooks that
 *   change no header go on to the handler in the same visit, whose answer
 *   ends the exchange as any REQUEST's does (a short circuit too). Hooks
 *   that change headers answer CONTINUE with the changes, as on a pre
 *   visit: validation runs again on the changed request and a REQUEST with
 *   code 0 follows (or core's 422, with its error visit). A request that
 *   does not validate as received, or whose body core decodes, makes the
 *   pre visit first, so hooks see every request before core refuses it.
 *
 * pre_handler hooks, the handler and on_response hooks on the host's own
 * answers run back to back inside the REQUEST visit, host side; the
 * phases are named only so that one list says what the host has. So a
 * route without hooks makes no visit and costs one test, and a route whose
 * hooks are all pre_handler or on_response makes none on its success path.
 * request_timeout applies to each visit as to a request (a 504 or a stop's
 * 503 makes no visit); a route's "disconnect" events apply to its visits.
 * The poller that takes a HOOK owns the exchange until it answers it.
 * ------------------------------------------------------------------------- */

/* ---------------------------------------------------------------------------
 * Section - Streams
 * ------------------------------------------------------------------------- */

/* Chunk flags. */
#define SPIKARD_CHUNK_END (1u << 0)   /* after data, end the stream cleanly */
#define SPIKARD_CHUNK_ABORT (1u << 1) /* end it now, uncleanly: queued bytes dropped,
                                       * connection closed, no terminator; data empty */
/* 2.1, on a WebSocket (where flags 0 send data as a text message, valid
 * UTF-8; see Section - WebSockets): */
#define SPIKARD_CHUNK_WS_BINARY (1u << 8) /* send data as a binary message */
#define SPIKARD_CHUNK_WS_CLOSE (1u << 9)  /* close: code, data = the reason */

/* One piece of an open stream, or one message of a WebSocket. */
typedef struct spikard_chunk {
    uint64_t exchange;
    uint32_t flags;    /* SPIKARD_CHUNK_* */
    uint32_t code;     /* with SPIKARD_CHUNK_WS_CLOSE: the close code; else 0 */
    spikard_str data;  /* bytes; SSE: the event's data, one data: line per line */
    spikard_str event; /* SSE "event:"; empty: none; no CR or LF */
    spikard_str id;    /* SSE "id:"; empty: none; no CR, LF or NUL */
    uint32_t retry_ms; /* SSE "retry:"; 0: none */
} spikard_chunk; /* 72 bytes on LP64, the last 4 tail padding: a later minor
                  * appends at offset 72, naming the padding first */

/* METHOD: queue chunks (count elements of chunk_size bytes; pass
 * sizeof(spikard_chunk)); each is copied before the call returns. On a raw
 * stream event, id and retry_ms must be empty. Back-pressure: a stream
 * queues at most "stream_queue_bytes" not yet handed to the kernel; a chunk
 * is accepted if it fits, or if the queue is empty (so one oversized chunk
 * passes: split chunks to keep the bound exact). timeout_ms 0 never waits
 * (event-loop hosts); > 0 waits up to that long in total for room;
 * negative, until room or the stream's end. Blocking: release your VM
 * lock. out_results (may be NULL) gets one code per chunk: SPIKARD_OK
 * (queued), SPIKARD_E_AGAIN (full: nothing queued; exactly one
 * SPIKARD_EVENT_STREAM_CREDIT follows, once the queue has drained to half,
 * unless the stream ends first; later AGAINs before it owe nothing more),
 * SPIKARD_E_NOT_FOUND (the stream is over; its DISCONNECT is queued), or
 * SPIKARD_E_INVALID / SPIKARD_E_UNSUPPORTED (refused; the stream is left
 * as it was, and the host decides, usually by aborting). Chunks of one
 * exchange apply in order; once one gets AGAIN, that exchange's later
 * chunks in the call get AGAIN too, so nothing is reordered. Returns
 * SPIKARD_OK if every chunk was queued, else the first failure's code.
 * On a WebSocket each chunk is one message (the bound counts message
 * bytes; a close always fits), and the rules are Section - WebSockets'. */
int spikard_stream_write(int *out_results, spikard_app *app, const spikard_chunk *chunks,
                         size_t count, size_t chunk_size, int timeout_ms);

/* ---------------------------------------------------------------------------
 * Section - WebSockets (2.1)
 *
 * A route with "websocket" is a WebSocket endpoint. The transport is core's:
 * the handshake, frames, fragments (reassembled: a host only ever sees
 * whole messages), masking, ping/pong (answered by core), the close
 * handshake, "ws_max_message_size" and the origin allow-list. A host only
 * accepts, reads messages and writes messages.
 *
 * HANDSHAKE. A request to a "websocket" route that is not a GET, not
 * HTTP/1.1, lacks "Upgrade: websocket" or "Connection: Upgrade", or asks
 * for a version other than 13 is answered 426 (with "Upgrade: websocket",
 * and "Sec-WebSocket-Version: 13" for a version), a malformed
 * Sec-WebSocket-Key 400, a disallowed Origin 403 (see "ws_origins"), each
 * with a problem document, before any host sees it; parameters are then
 * validated as for any route (422). A valid handshake reaches the host as
 * SPIKARD_EVENT_WS_OPEN, with params and the route's facts like a REQUEST
 * (fact "meta" gives the headers, Sec-WebSocket-Protocol among them). The
 * host answers it with spikard_respond:
 *   SPIKARD_RESPONSE_WS_ACCEPT: upgrade (status 101, see the flag);
 *   any other answer (a status, a PROBLEM, HANDLER_ERROR): refuse; the
 *   client gets that HTTP answer and the exchange ends as a request does.
 * request_timeout applies to the WS_OPEN as to a request; it stops at the
 * accept. No permessage-deflate extension is negotiated.
 *
 * MESSAGES. Once accepted, every message the client sends is one
 * SPIKARD_EVENT_WS_MESSAGE for the poller that took the WS_OPEN, in order:
 * body is the whole message (a text message is valid UTF-8; flags has
 * SPIKARD_EVENT_F_BINARY for a binary one). While the messages no poll has
 * taken reach "ws_inbound_bytes", core reads nothing more from the client.
 * The host sends with spikard_stream_write, one chunk per message:
 *   flags 0                  data is a text message (valid UTF-8, else
 *                            SPIKARD_E_INVALID)
 *   SPIKARD_CHUNK_WS_BINARY  data is a binary message
 *   SPIKARD_CHUNK_WS_CLOSE   close after what is queued: code is the close
 *                            code (1000..1003, 1007..1014, 3000..4999, or 0
 *                            for a close without a code and without a
 *                            reason), data the reason (UTF-8, at most 123
 *                            bytes); the host's WS_CLOSE comes at once
 *   SPIKARD_CHUNK_ABORT      drop the connection now, no close frame (WS_CLOSE
 *                            1006)
 * Any other flag (SPIKARD_CHUNK_END among them: a WebSocket ends with a
 * close) is refused, and so are event, id, retry_ms and a code without
 * WS_CLOSE. Back-pressure is a stream's: at most "stream_queue_bytes" of
 * message data queued, SPIKARD_E_AGAIN and then one
 * SPIKARD_EVENT_STREAM_CREDIT, or a write with a timeout that waits; a
 * close always fits. SPIKARD_E_NOT_FOUND: the WebSocket is over (its
 * WS_CLOSE is queued). A client that takes no byte of a write for
 * read_timeout is dropped (WS_CLOSE 1006). A message that finds nothing
 * queued before it, and room for itself in the kernel's send buffer, is
 * sent by spikard_stream_write itself, on the calling thread, before it
 * returns (one send system call; no copy, no hand-off to another thread);
 * any other is queued and sent by core.
 *
 * CLOSE. Every accepted WebSocket gets exactly one SPIKARD_EVENT_WS_CLOSE,
 * its only terminal event, queued as soon as the close is decided (the
 * close handshake may still run; the exchange is over for the host): code
 * is the connection's first close, body its reason:
 *   the client's code  the client closed first (its close was answered)
 *   1005               the client closed without a code
 *   the host's code    the host closed first (SPIKARD_CHUNK_WS_CLOSE)
 *   1001               spikard_app_stop ("server shutting down")
 *   1002               the client broke the protocol (an unmasked or
 *                      reserved frame, a control frame over 125 bytes or
 *                      fragmented, a stray continuation, a bad close code)
 *   1007               the client sent a text message that is not UTF-8
 *   1009               the client sent a message past "ws_max_message_size"
 *   1013               a subscriber fell too far behind its channels (see
 *                      spikard_ws_publish)
 *   1006               the connection ended without a close: the client
 *                      vanished or stalled, the ping went unanswered, the
 *                      host aborted, or the stop's deadline passed
 * After a close core sent, it waits up to 5 s for the client's answer,
 * then drops the connection.
 *
 * BROADCAST. Named channels (1..1024 bytes, any bytes) that WebSockets
 * subscribe to and any host code publishes to. A published message goes
 * from core to each subscribed client as is; no host sees it. A
 * subscriber whose queue already holds more than twice
 * "stream_queue_bytes" when a message comes is too slow for its channels:
 * it is closed with 1013. In-process unless the config's "broadcast" names
 * a Redis server, through which every message then passes, so that every
 * process and host on that Redis (and prefix) delivers it, in Redis's
 * order.
 * ------------------------------------------------------------------------- */

/* METHOD: subscribe the open WebSocket of exchange to channel (channel_len
 * bytes; copied). Subscribing again is harmless; subscriptions end with
 * the WebSocket. Any thread. SPIKARD_E_NOT_FOUND if exchange is no open
 * WebSocket (not accepted, or its WS_CLOSE queued), SPIKARD_E_INVALID for
 * an empty or overlong channel. With Redis, the subscription reaches Redis
 * in the background; a publish of this process made after this call waits
 * for it, so it reaches this subscriber too. */
int spikard_ws_subscribe(spikard_app *app, uint64_t exchange, const char *channel,
                         size_t channel_len);

/* METHOD: take the WebSocket of exchange off channel; harmless if it was
 * not on it. Errors as spikard_ws_subscribe. */
int spikard_ws_unsubscribe(spikard_app *app, uint64_t exchange, const char *channel,
                           size_t channel_len);

/* METHOD: send data (data_len bytes; copied before the call returns) to
 * every WebSocket subscribed to channel, as a text message (flags 0; data
 * must be UTF-8, else SPIKARD_E_INVALID) or a binary one
 * (SPIKARD_CHUNK_WS_BINARY; any other flag is SPIKARD_E_UNSUPPORTED). Never
 * blocks: in-process the message is queued on every local subscriber
 * before the call returns; with Redis it is queued for Redis, and
 * SPIKARD_E_AGAIN means that queue (64 MiB) is full: nothing was queued,
 * no event follows, retry later. A channel without subscribers is fine. */
int spikard_ws_publish(spikard_app *app, const char *channel, size_t channel_len, uint32_t flags,
                       const char *data, size_t data_len);

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
 * handler's stack. Return 0, or non-zero to answer 500. A handler answers
 * plainly or with SPIKARD_RESPONSE_PROBLEM; it cannot open a stream. */
typedef int (*spikard_handler_fn)(const spikard_event *event,
                                  spikard_response *response, void *payload);

/* METHOD: like spikard_app_add_route, and remember handler+payload for
 * spikard_serve. The route goes on the route_json's lane. */
int spikard_app_add_handler(uint32_t *out_route, spikard_app *app,
                            const char *route_json, size_t route_len,
                            spikard_handler_fn handler, void *payload);

/* METHOD: start the app if needed, then serve lane 0 on the calling thread
 * until spikard_app_stop is called (from another thread or a signal
 * handler's deferred work). Returns SPIKARD_OK after a clean stop. Requests
 * of lane-0 routes without a handler are answered 500; handlers on other
 * lanes are not run by this function. */
int spikard_serve(spikard_app *app);

/* ---------------------------------------------------------------------------
 * Section - Workers and signals
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
 *   "reload" (2.2): {"paths": [files or directories], "patterns": [base-name
 *       globs such as "*.py"]}: a development server. When a watched file
 *       matching a pattern (any file, without patterns) changes, the
 *       supervisor logs "spikard: <path> changed; restarting the workers",
 *       stops each worker with SIGTERM and spawns it again once it exited
 *       (changes within 100 ms are one restart). A worker that exits
 *       before it listens (the user's code does not load) or crash-loops
 *       no longer ends supervision: the supervisor logs it and waits for
 *       the next change; SIGINT/SIGTERM still stop it. Directories are
 *       watched recursively, skipping names starting with "." and
 *       __pycache__ and node_modules.
 *
 * On success *out is a new supervisor, freed with spikard_supervisor_free.
 * Fails with SPIKARD_E_INVALID (arguments, options), SPIKARD_E_IO (a worker
 * could not be spawned; the ones already spawned are stopped first) or
 * SPIKARD_E_STATE (called in a worker). */
int spikard_supervise(spikard_supervisor **out, const char *const *argv, const char *const *envp,
                      const char *options_json, size_t options_len);

/* Check a supervisor options document by the rules of spikard_supervise
 * without spawning anything, so that a binding refuses a bad "workers" where
 * its user wrote it, in the core's words:
 *   supervise: "workers": must be an integer in 1..1024
 * SPIKARD_OK or SPIKARD_E_INVALID ("workers" is required, as there). */
int spikard_supervise_check(const char *options_json, size_t options_len);

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
