/*
 * abi_test.c — pins the ownership, error, growth and refusal rules of
 * spikard.h, using only that header and libspikard.so. HTTP traffic comes
 * from tiny blocking clients on other threads, so the test drives the raw
 * poll/respond flow itself.
 *
 * run.sh runs this one binary, compiled against the header (2.3, whose
 * records are 2.0's) as a host is, twice: against the library built from
 * capi/, and against the next-minor test library (go build -tags
 * spikard_abi_next; see capi/abinext.go), which reports
 * SPIKARD_ABI_VERSION + 1, appends one uint64_t to the event record at the
 * 2.0 (and 2.1 to 2.3) sizeof and knows response flag bit 23. ws_test.c has the
 * WebSocket rules 2.1 added. The few checks that differ ask spikard_abi_version() which of the
 * two is loaded.
 */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spikard.h"

#include "check.h"
#include "client.h"

/* The next-minor test library (capi/abinext.go): its version, the value it
 * writes into the field it appends at offset sizeof(spikard_event), and the
 * response flag it adds. */
#define NEXT_LIB_VERSION (SPIKARD_ABI_VERSION + 1)
#define NEXT_PROBE_VALUE 0x5350494b41524431ULL
#define FLAG_NEXT_MINOR (1u << 23)
/* Bits 24..31 are never assigned, so every 2.x library refuses them. */
#define FLAG_NEVER (1u << 31)

/* What every refused answer's client gets (core/problem's Internal). */
static const char standard_500[] = "{\"type\":\"https://spikard.dev/errors/internal-server-error\","
                                   "\"title\":\"Internal Server Error\",\"status\":500,"
                                   "\"detail\":\"Internal server error\"}";

static int loaded; /* spikard_abi_version(), read first, as a binding does at load */

static int str_is(spikard_str s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static int str_has(spikard_str s, const char *want) {
    size_t n = strlen(want);
    for (size_t i = 0; i + n <= s.len; i++) {
        if (memcmp(s.ptr + i, want, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- one-shot HTTP/1.1 clients ----------------------------------------- */

typedef struct exchange_io {
    int port;
    const char *request;
    char response[4096];
    size_t len;
} exchange_io;

/* Sends io->request and reads the response until the server closes. */
static void *client(void *arg) {
    exchange_io *io = arg;
    int fd = dial(io->port, 0);
    if (fd < 0) {
        return NULL;
    }
    if (write_all(fd, io->request) == 0) {
        ssize_t r;
        while (io->len + 1 < sizeof io->response &&
               (r = read(fd, io->response + io->len, sizeof io->response - 1 - io->len)) > 0) {
            io->len += (size_t)r;
        }
    }
    io->response[io->len] = '\0';
    close(fd);
    return NULL;
}

static void start_client(pthread_t *t, exchange_io *io, int port, const char *request) {
    memset(io, 0, sizeof *io);
    io->port = port;
    io->request = request;
    pthread_create(t, NULL, client, io);
}

static int status_is(const exchange_io *io, int status) {
    char want[16];
    snprintf(want, sizeof want, "HTTP/1.1 %d", status);
    return strncmp(io->response, want, strlen(want)) == 0;
}

static const char *body_of(const exchange_io *io) {
    const char *b = strstr(io->response, "\r\n\r\n");
    return b == NULL ? "" : b + 4;
}

/* ---- held requests: GET /items/<id>, polled and not yet answered -------- */

typedef struct held {
    pthread_t thread;
    exchange_io io;
    char request[160];
    int id;            /* the item id in its path */
    uint64_t exchange; /* 0 until its REQUEST has been polled */
} held;

/* Starts k clients, for /items/first_id .. /items/first_id+k-1. */
static void send_held(held *h, int k, int port, int first_id) {
    for (int i = 0; i < k; i++) {
        h[i].id = first_id + i;
        h[i].exchange = 0;
        snprintf(h[i].request, sizeof h[i].request,
                 "GET /items/%d HTTP/1.1\r\nHost: test\r\nX-Probe: yes\r\nConnection: close\r\n\r\n", h[i].id);
        start_client(&h[i].thread, &h[i].io, port, h[i].request);
    }
}

static void join_held(held *h, int k) {
    for (int i = 0; i < k; i++) {
        pthread_join(h[i].thread, NULL);
    }
}

/* Checks the bytes of an event element past the 2.0 record: a field the
 * loaded library appends is written when it lies wholly inside the element
 * (the next-minor library's next_probe), and everything else is zeroed, so
 * a host of a later minor reads its unknown fields as absent. */
static void check_tail(const unsigned char *elem, size_t event_size) {
    size_t at = sizeof(spikard_event);
    if (loaded == NEXT_LIB_VERSION && event_size >= at + sizeof(uint64_t)) {
        uint64_t probe;
        memcpy(&probe, elem + at, sizeof probe);
        CHECK(probe == NEXT_PROBE_VALUE, "next_probe %#llx", (unsigned long long)probe);
        at += sizeof probe;
    }
    size_t dirty = 0;
    for (size_t i = at; i < event_size; i++) {
        dirty += elem[i] != 0;
    }
    CHECK(dirty == 0, "%zu of the %zu bytes past the library's record are not zeroed (event_size %zu)",
          dirty, event_size - at, event_size);
}

/* Checks one REQUEST of the "meta" route /items/{item_id:int} and returns
 * its item id, or -1. */
static int check_item_event(const spikard_event *ev, uint32_t item_route) {
    CHECK(ev->exchange != 0, "exchange 0");
    CHECK(ev->kind == SPIKARD_EVENT_REQUEST, "kind %u", ev->kind);
    CHECK(ev->route == item_route, "route %u want %u", ev->route, item_route);
    CHECK(ev->code == 0 && ev->flags == 0, "code %u flags %u", ev->code, ev->flags);
    CHECK(str_is(ev->method, "GET"), "method %.*s", (int)ev->method.len, ev->method.ptr);
    CHECK(ev->query.len == 0 && ev->body.len == 0, "query %zu body %zu bytes", ev->query.len, ev->body.len);
    int probe = 0;
    for (size_t i = 0; i < ev->header_count; i++) {
        probe |= str_is(ev->headers[i].name, "x-probe") && str_is(ev->headers[i].value, "yes");
    }
    CHECK(probe, "header x-probe missing among %zu", ev->header_count);
    /* Facts the route did not ask for stay empty. */
    CHECK(ev->cookie_count == 0 && ev->query_pair_count == 0 && ev->upload_count == 0,
          "unasked facts: %zu cookies %zu query pairs %zu uploads", ev->cookie_count, ev->query_pair_count,
          ev->upload_count);
    char path[64];
    if (ev->path.len < 8 || ev->path.len >= sizeof path || memcmp(ev->path.ptr, "/items/", 7) != 0) {
        CHECK(0, "path %.*s", (int)ev->path.len, ev->path.ptr);
        return -1;
    }
    memcpy(path, ev->path.ptr, ev->path.len);
    path[ev->path.len] = '\0';
    int id = atoi(path + 7);
    char params[64];
    snprintf(params, sizeof params, "{\"item_id\":%d}", id);
    CHECK(str_is(ev->params, params), "params %.*s want %s", (int)ev->params.len, ev->params.ptr, params);
    return id;
}

/* Polls until the REQUEST of every one of the k held clients has come, each
 * poll into an array of exactly the capacity it asks for (malloc'ed, filled
 * with 0xAA first), event_size bytes an element. Every event is checked, and
 * every element's bytes past the library's record. Returns how many came. */
static int take_held(spikard_poller *poller, held *h, int k, uint32_t item_route, size_t event_size) {
    size_t remaining = (size_t)k;
    while (remaining > 0) {
        size_t bytes = remaining * event_size;
        unsigned char *events = malloc(bytes);
        memset(events, 0xAA, bytes);
        size_t n = 99;
        int rc = spikard_poller_poll(&n, poller, (spikard_event *)events, remaining, event_size, 5000);
        CHECK(rc == SPIKARD_OK && n > 0 && n <= remaining, "poll %zu of %d: rc %d n %zu %s", remaining, k, rc, n,
              rc == SPIKARD_OK ? "" : spikard_last_error());
        if (rc != SPIKARD_OK || n == 0 || n > remaining) {
            free(events);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            const spikard_event *ev = (const spikard_event *)(events + i * event_size);
            int id = check_item_event(ev, item_route);
            check_tail(events + i * event_size, event_size);
            held *mine = NULL;
            for (int j = 0; j < k; j++) {
                mine = h[j].id == id ? &h[j] : mine;
            }
            CHECK(mine != NULL && mine->exchange == 0, "event for item %d, not one of ours or twice", id);
            if (mine != NULL && mine->exchange == 0) {
                mine->exchange = ev->exchange;
            }
        }
        free(events);
        remaining -= n;
    }
    return k - (int)remaining;
}

/* Answers one exchange; *result is its out_results entry. */
static int respond_one(spikard_app *app, spikard_response r, int *result) {
    *result = 99;
    return spikard_respond(result, app, &r, 1, sizeof r);
}

/* ---- tests ------------------------------------------------------------- */

static void test_version(void) {
    loaded = spikard_abi_version();
    /* The 2.0 load check every binding makes. */
    CHECK(SPIKARD_ABI_MAJOR(loaded) == SPIKARD_ABI_MAJOR(SPIKARD_ABI_VERSION) && loaded >= SPIKARD_ABI_VERSION,
          "library %d, header %d", loaded, SPIKARD_ABI_VERSION);
    CHECK(SPIKARD_ABI_VERSION == 20003, "header %d: this test is 2.3's", SPIKARD_ABI_VERSION);
    /* The checks that differ know only these two. */
    CHECK(loaded == SPIKARD_ABI_VERSION || loaded == NEXT_LIB_VERSION, "library %d is neither %d nor %d", loaded,
          SPIKARD_ABI_VERSION, NEXT_LIB_VERSION);
    /* run.sh says which library it means this run to load, so that a run
     * meant for the test library cannot pass on the normal one. */
    const char *want = getenv("ABI_TEST_WANT_ABI");
    CHECK(want == NULL || atoi(want) == loaded, "loaded library ABI %d, run.sh meant %s", loaded, want);
}

static void test_app_new_errors(void) {
    spikard_app *app = (spikard_app *)&app; /* garbage that must be overwritten */
    int rc = spikard_app_new(&app, S("{\"port\":"));
    CHECK(rc == SPIKARD_E_INVALID, "invalid JSON: rc %d", rc);
    CHECK(app == NULL, "invalid JSON: *out not NULL");
    CHECK(spikard_last_error()[0] != '\0', "invalid JSON: empty spikard_last_error");

    app = (spikard_app *)&app;
    rc = spikard_app_new(&app, S("{\"prot\":8000}"));
    CHECK(rc == SPIKARD_E_INVALID && app == NULL, "unknown key: rc %d", rc);
    CHECK(strstr(spikard_last_error(), "prot") != NULL, "unknown key not named: \"%s\"", spikard_last_error());

    rc = spikard_app_new(&app, S("{\"port\":\"80\"}"));
    CHECK(rc == SPIKARD_E_INVALID, "ill-typed port: rc %d", rc);

    /* 2.3 keeps no config key for a later minor (core's config_test pins
     * the rule with one of its own). */
    app = (spikard_app *)&app;
    rc = spikard_app_new(&app, S("{\"port\":null}"));
    CHECK(rc == SPIKARD_E_INVALID && app == NULL, "null port: rc %d", rc);

    /* The config buffer is copied: freeing it right after must be harmless. */
    char *doc = strdup("{\"port\":0,\"quiet\":true}");
    rc = spikard_app_new(&app, doc, strlen(doc));
    memset(doc, 'x', strlen(doc));
    free(doc);
    CHECK(rc == SPIKARD_OK && app != NULL, "valid config: rc %d %s", rc, spikard_last_error());
    spikard_app_free(app);
}

static void test_config_check(void) {
    int rc = spikard_config_check(S("{\"port\":0,\"read_timeout\":2.5}"));
    CHECK(rc == SPIKARD_OK, "valid config: rc %d %s", rc, spikard_last_error());
    CHECK(spikard_config_check(NULL, 0) == SPIKARD_OK, "empty config refused: %s", spikard_last_error());
    rc = spikard_config_check(S("{\"port\":70000}"));
    CHECK(rc == SPIKARD_E_INVALID, "port 70000: rc %d", rc);
    CHECK(strcmp(spikard_last_error(), "config: \"port\": must be an integer in 0..65535") == 0,
          "port 70000: \"%s\"", spikard_last_error());
    /* 2.3's CORS policy: checked like any key, its errors naming the policy's key. */
    rc = spikard_config_check(S("{\"cors\":{}}"));
    CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), "\"allow_origins\"") != NULL,
          "empty cors policy: rc %d %s", rc, spikard_last_error());
    rc = spikard_config_check(S("{\"cors\":{\"allow_origins\":[\"https://a.example\"]},\"request_id\":false}"));
    CHECK(rc == SPIKARD_OK, "cors and request_id: rc %d %s", rc, spikard_last_error());
    rc = spikard_config_check(S("{\"quiet\":null}"));
    CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), "quiet") != NULL, "null quiet: rc %d %s", rc,
          spikard_last_error());
}

static void test_free_null(void) {
    spikard_app_free(NULL);
    spikard_poller_free(NULL);
    CHECK(1, "unreachable");
}

static int no_handler(const spikard_event *event, spikard_response *response, void *payload) {
    (void)event;
    (void)response;
    (void)payload;
    return 1;
}

/* OUT-PARAMETERS: written on every return, NULL or 0 on failure, whatever
 * the caller left in them. */
static void test_out_parameters(spikard_app *app) {
    uint32_t id = 0xdeadbeef;
    int rc = spikard_app_add_route(&id, app, S("{\"method\":\"GET\",\"path\":\"/users/{id\"}"));
    CHECK(rc == SPIKARD_E_INVALID && id == 0, "add_route, bad pattern: rc %d id %#x", rc, id);
    id = 0xdeadbeef;
    rc = spikard_app_add_route(&id, NULL, S("{\"method\":\"GET\",\"path\":\"/x\"}"));
    CHECK(rc == SPIKARD_E_INVALID && id == 0, "add_route, NULL app: rc %d id %#x", rc, id);
    id = 0xdeadbeef;
    rc = spikard_app_add_handler(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\"}"), NULL, NULL);
    CHECK(rc == SPIKARD_E_INVALID && id == 0, "add_handler, NULL handler: rc %d id %#x", rc, id);
    id = 0xdeadbeef;
    rc = spikard_app_add_handler(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\",\"nope\":1}"), no_handler, NULL);
    CHECK(rc == SPIKARD_E_INVALID && id == 0, "add_handler, bad document: rc %d id %#x", rc, id);

    int port = 12345;
    rc = spikard_app_port(&port, app);
    CHECK(rc == SPIKARD_E_STATE && port == 0, "port before start: rc %d port %d", rc, port);
    port = 12345;
    rc = spikard_app_port(&port, NULL);
    CHECK(rc == SPIKARD_E_INVALID && port == 0, "port of NULL: rc %d port %d", rc, port);

    spikard_poller *poller = (spikard_poller *)&port;
    rc = spikard_poller_new(&poller, NULL, 0);
    CHECK(rc == SPIKARD_E_INVALID && poller == NULL, "poller_new of NULL: rc %d", rc);

    int fd = 12345;
    rc = spikard_poller_fd(&fd, NULL);
    CHECK(rc == SPIKARD_E_INVALID && fd == -1, "poller_fd of NULL: rc %d fd %d (the header: -1 on failure)", rc, fd);

    spikard_event ev;
    size_t n = 12345;
    rc = spikard_poller_poll(&n, NULL, &ev, 1, sizeof ev, 0);
    CHECK(rc == SPIKARD_E_INVALID && n == 0, "poll of NULL: rc %d n %zu", rc, n);

    int results[2] = {12345, 12345};
    spikard_response rs[2] = {{.exchange = 1, .status = 200}, {.exchange = 2, .status = 200}};
    rc = spikard_respond(results, NULL, rs, 2, sizeof rs[0]);
    CHECK(rc == SPIKARD_E_INVALID && results[0] == SPIKARD_E_INVALID && results[1] == SPIKARD_E_INVALID,
          "respond to NULL: rc %d results %d %d", rc, results[0], results[1]);
}

/* REFUSALS of the route document: a typo is INVALID and named, a key kept
 * for a later minor is UNSUPPORTED. */
static void test_route_refusals(spikard_app *app) {
    uint32_t id;
    int rc = spikard_app_add_route(&id, app, S("{\"method\":\"FETCH\",\"path\":\"/x\"}"));
    CHECK(rc == SPIKARD_E_INVALID, "unknown method: rc %d", rc);

    rc = spikard_app_add_route(&id, app, S("{\"method\":\"POST\",\"path\":\"/x\",\"body_schema\":{\"type\":12}}"));
    CHECK(rc == SPIKARD_E_INVALID, "invalid schema: rc %d", rc);

    /* A misspelt key must not turn validation off silently. */
    rc = spikard_app_add_route(&id, app, S("{\"method\":\"POST\",\"path\":\"/x\",\"body_shema\":{\"type\":\"object\"}}"));
    CHECK(rc == SPIKARD_E_INVALID, "unknown route key: rc %d", rc);
    CHECK(strstr(spikard_last_error(), "body_shema") != NULL, "unknown route key: errmsg %s", spikard_last_error());

    /* 1.x's key is unknown now, with a hint at what replaced it. */
    rc = spikard_app_add_route(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\",\"wants_request\":true}"));
    CHECK(rc == SPIKARD_E_INVALID, "wants_request: rc %d", rc);
    CHECK(strstr(spikard_last_error(), "wants_request") != NULL && strstr(spikard_last_error(), "facts") != NULL,
          "wants_request: errmsg %s", spikard_last_error());

    /* 2.3's OpenAPI keys are read, and refused by their rules. */
    rc = spikard_app_add_route(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\",\"tags\":\"users\"}"));
    CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), "\"tags\"") != NULL, "tags \"users\": rc %d %s",
          rc, spikard_last_error());
    rc = spikard_app_add_route(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\",\"status_code\":99}"));
    CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), "100..599") != NULL, "status_code 99: rc %d %s",
          rc, spikard_last_error());

    rc = spikard_app_add_route(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\",\"facts\":[\"nope\"]}"));
    CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), "nope") != NULL, "facts [nope]: rc %d %s", rc,
          spikard_last_error());
    rc = spikard_app_add_route(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\",\"events\":[\"nope\"]}"));
    CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), "nope") != NULL, "events [nope]: rc %d %s", rc,
          spikard_last_error());

    static const char *const nulls[] = {
        "{\"method\":\"GET\",\"path\":\"/x\",\"lane\":null}",
        "{\"method\":\"GET\",\"path\":\"/x\",\"body_schema\":null}",
        "{\"method\":\"GET\",\"path\":\"/x\",\"events\":null}",
        "{\"method\":\"GET\",\"path\":\"/x\",\"facts\":null}",
        "{\"method\":null,\"path\":\"/x\"}",
    };
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
        id = 0xdeadbeef;
        rc = spikard_app_add_route(&id, app, nulls[i], strlen(nulls[i]));
        CHECK(rc == SPIKARD_E_INVALID && id == 0, "%s: rc %d", nulls[i], rc);
    }
}

/* Polls exactly one event into ev, counting a failure otherwise. */
static int poll_one(spikard_poller *poller, spikard_event *ev) {
    size_t n = 0;
    int rc = spikard_poller_poll(&n, poller, ev, 1, sizeof *ev, 5000);
    CHECK(rc == SPIKARD_OK && n == 1, "poll: rc %d n %zu", rc, n);
    return rc == SPIKARD_OK && n == 1;
}

static void test_raw_flow(spikard_app *app, uint32_t item_route) {
    int port = 0;
    spikard_app_port(&port, app);
    spikard_poller *poller = NULL;
    int rc = spikard_poller_new(&poller, app, 0);
    CHECK(rc == SPIKARD_OK && poller != NULL, "poller_new: %d", rc);
    if (poller == NULL) {
        return;
    }
    int fd = -1;
    rc = spikard_poller_fd(&fd, poller);
    CHECK(rc == SPIKARD_OK && fd >= 0, "poller_fd: %d %d %s", rc, fd, spikard_last_error());

    size_t n = 99;
    spikard_event events[4];
    rc = spikard_poller_poll(&n, poller, events, 4, sizeof events[0], 0);
    CHECK(rc == SPIKARD_OK && n == 0, "idle poll: rc %d n %zu", rc, n);

    pthread_t t;
    exchange_io io;
    start_client(&t, &io, port,
                 "GET /items/42?x=1 HTTP/1.1\r\nHost: test\r\nX-Probe: yes\r\nConnection: close\r\n\r\n");
    /* The event-loop way: wait for the fd, then poll without waiting. */
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN), "fd not readable with a request queued");
    spikard_event ev;
    n = 0;
    rc = spikard_poller_poll(&n, poller, &ev, 1, sizeof ev, 0);
    CHECK(rc == SPIKARD_OK && n == 1, "poll after fd: rc %d n %zu", rc, n);
    if (n == 1) {
        pfd.revents = 0;
        CHECK(poll(&pfd, 1, 0) == 0, "fd still readable with the lane drained");
    } else if (poll_one(poller, &ev)) {
        n = 1; /* the fd failed us; go on with the rest regardless */
    }
    if (n == 1) {
        CHECK(ev.exchange != 0, "exchange 0");
        CHECK(ev.kind == SPIKARD_EVENT_REQUEST, "kind %u", ev.kind);
        CHECK(ev.route == item_route, "route %u want %u", ev.route, item_route);
        CHECK(str_is(ev.method, "GET"), "method %.*s", (int)ev.method.len, ev.method.ptr);
        CHECK(str_is(ev.path, "/items/42"), "path %.*s", (int)ev.path.len, ev.path.ptr);
        CHECK(str_is(ev.query, "x=1"), "query %.*s", (int)ev.query.len, ev.query.ptr);
        CHECK(str_has(ev.params, "42"), "params %.*s", (int)ev.params.len, ev.params.ptr);
        int probe = 0;
        for (size_t i = 0; i < ev.header_count; i++) {
            probe |= str_is(ev.headers[i].name, "x-probe") && str_is(ev.headers[i].value, "yes");
        }
        CHECK(probe, "header x-probe missing among %zu", ev.header_count);

        /* Every buffer passed to respond is copied: scribble over and free
         * them right after the call. */
        char *body = strdup("pong");
        char *hname = strdup("x-answer");
        char *hvalue = strdup("42");
        spikard_pair *hs = malloc(sizeof *hs);
        hs[0] = (spikard_pair){{hname, strlen(hname)}, {hvalue, strlen(hvalue)}};
        spikard_response *resp = calloc(1, sizeof *resp);
        *resp = (spikard_response){.exchange = ev.exchange, .status = 200, .headers = hs, .header_count = 1,
                                   .body = {body, strlen(body)}};
        rc = spikard_respond(NULL, app, resp, 1, sizeof *resp);
        CHECK(rc == SPIKARD_OK, "respond: %d %s", rc, spikard_last_error());
        memset(body, 'Z', 4);
        memset(hvalue, 'Z', 2);
        free(body);
        free(hname);
        free(hvalue);
        free(hs);

        /* Answering twice: the exchange is gone. */
        resp->headers = NULL;
        resp->header_count = 0;
        resp->body = (spikard_str){NULL, 0};
        int result = 99;
        rc = spikard_respond(&result, app, resp, 1, sizeof *resp);
        CHECK(rc == SPIKARD_E_NOT_FOUND && result == SPIKARD_E_NOT_FOUND, "second respond: %d result %d", rc, result);
        free(resp);
    }
    pthread_join(t, NULL);
    CHECK(status_is(&io, 200), "response: %s", io.response);
    CHECK(strstr(io.response, "pong") != NULL, "body: %s", io.response);
    CHECK(strstr(io.response, "42") != NULL, "header: %s", io.response);

    /* A status outside 100..599 is refused, and its client gets the 500. */
    start_client(&t, &io, port, "GET /items/7 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        int result;
        rc = respond_one(app, (spikard_response){.exchange = ev.exchange, .status = 42}, &result);
        CHECK(rc == SPIKARD_E_INVALID && result == SPIKARD_E_INVALID, "respond bad status: %d result %d", rc, result);
    }
    pthread_join(t, NULL);
    CHECK(status_is(&io, 500), "bad status: %s", io.response);
    CHECK(strcmp(body_of(&io), standard_500) == 0, "bad status body: %s", body_of(&io));

    /* Unknown exchanges are skipped; the rest of the batch is delivered. */
    start_client(&t, &io, port, "GET /items/8 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        spikard_response batch[2] = {
            {.exchange = 0xdeadbeefULL, .status = 200},
            {.exchange = ev.exchange, .status = 204},
        };
        int results[2] = {99, 99};
        rc = spikard_respond(results, app, batch, 2, sizeof batch[0]);
        CHECK(rc == SPIKARD_E_NOT_FOUND, "respond unknown: %d", rc);
        CHECK(results[0] == SPIKARD_E_NOT_FOUND && results[1] == SPIKARD_OK, "results %d %d", results[0], results[1]);
        CHECK(spikard_last_error()[0] != '\0', "respond unknown: empty errmsg");
    }
    pthread_join(t, NULL);
    CHECK(status_is(&io, 204), "batch with unknown: %s", io.response);

    /* Errors are core's: a problem answer is a description core renders. */
    start_client(&t, &io, port, "GET /items/9 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        static const char desc[] = "{\"detail\":\"Item 9 is archived\"}";
        spikard_pair retry = {{"retry-after", 11}, {"5", 1}};
        int result;
        rc = respond_one(app,
                         (spikard_response){.exchange = ev.exchange, .status = 409, .flags = SPIKARD_RESPONSE_PROBLEM,
                                            .headers = &retry, .header_count = 1, .body = {desc, sizeof desc - 1}},
                         &result);
        CHECK(rc == SPIKARD_OK && result == SPIKARD_OK, "respond problem: %d %s", rc, spikard_last_error());
    }
    pthread_join(t, NULL);
    CHECK(status_is(&io, 409), "problem: %s", io.response);
    CHECK(strstr(io.response, "Content-Type: application/problem+json") != NULL, "problem type: %s", io.response);
    CHECK(strstr(io.response, "Retry-After: 5") != NULL, "problem header: %s", io.response);
    CHECK(strcmp(body_of(&io), "{\"type\":\"https://spikard.dev/errors/conflict\",\"title\":\"Conflict\","
                               "\"status\":409,\"detail\":\"Item 9 is archived\"}") == 0,
          "problem body: %s", io.response);

    /* A description core refuses still answers (500) and says why. */
    start_client(&t, &io, port, "GET /items/10 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        static const char typo[] = "{\"detial\":\"x\"}";
        int result;
        rc = respond_one(app,
                         (spikard_response){.exchange = ev.exchange, .status = 409, .flags = SPIKARD_RESPONSE_PROBLEM,
                                            .body = {typo, sizeof typo - 1}},
                         &result);
        CHECK(rc == SPIKARD_E_INVALID && result == SPIKARD_E_INVALID, "respond refused problem: %d", rc);
        CHECK(strstr(spikard_last_error(), "detial") != NULL, "refused problem: errmsg %s", spikard_last_error());
    }
    pthread_join(t, NULL);
    CHECK(status_is(&io, 500), "refused problem: %s", io.response);
    CHECK(strcmp(body_of(&io), standard_500) == 0, "refused problem body: %s", body_of(&io));

    spikard_poller_free(poller);
}

/* GROWTH, events: every poll into an exact allocation, at the 2.0 size and
 * at the size of a host of a later minor; sizes below 2.0's refused. */
static void test_event_records(spikard_app *app, spikard_poller *poller, uint32_t item_route) {
    int port = 0;
    spikard_app_port(&port, app);

    /* A 2.0 host: elements of sizeof(spikard_event), in an array of exactly
     * the capacity (ASan sees our reads; the canary below, the library's
     * writes). Answered in one batch, all delivered. */
    held h[4];
    send_held(h, 4, port, 400);
    int got = take_held(poller, h, 4, item_route, sizeof(spikard_event));
    CHECK(got == 4, "%d of 4 requests at the 2.0 size", got);
    spikard_response rs[4];
    int results[4] = {99, 99, 99, 99};
    for (int i = 0; i < 4; i++) {
        rs[i] = (spikard_response){.exchange = h[i].exchange, .status = 204};
    }
    int rc = spikard_respond(results, app, rs, 4, sizeof rs[0]);
    CHECK(rc == SPIKARD_OK, "respond 4: %d %s", rc, spikard_last_error());
    join_held(h, 4);
    for (int i = 0; i < 4; i++) {
        CHECK(results[i] == SPIKARD_OK && status_is(&h[i].io, 204), "item %d: result %d, %s", h[i].id, results[i],
              h[i].io.response);
    }

    /* A host of a later minor: 16 bytes more per event, which the library
     * zeroes (past whatever fields it knows itself), and 16 bytes more per
     * response, which a 2.0 library does not read (zero means absent). */
    size_t big = sizeof(spikard_event) + 16;
    send_held(h, 3, port, 410);
    got = take_held(poller, h, 3, item_route, big);
    CHECK(got == 3, "%d of 3 requests at size %zu", got, big);
    size_t rsize = sizeof(spikard_response) + 16;
    unsigned char *answers = calloc(3, rsize);
    for (int i = 0; i < 3; i++) {
        spikard_response r = {.exchange = h[i].exchange, .status = 202};
        memcpy(answers + (size_t)i * rsize, &r, sizeof r);
    }
    rc = spikard_respond(results, app, (const spikard_response *)answers, 3, rsize);
    CHECK(rc == SPIKARD_OK, "respond at size %zu: %d %s", rsize, rc, spikard_last_error());
    free(answers);
    join_held(h, 3);
    for (int i = 0; i < 3; i++) {
        CHECK(results[i] == SPIKARD_OK && status_is(&h[i].io, 202), "item %d: result %d, %s", h[i].id, results[i],
              h[i].io.response);
    }

    /* Nothing is written past the array: ASan does not see the library's
     * own (Go) stores, so a canary follows the one element asked for. */
    size_t sizes[2] = {sizeof(spikard_event), big};
    for (int s = 0; s < 2; s++) {
        send_held(h, 1, port, 420 + s);
        unsigned char *buf = malloc(sizes[s] + 64);
        memset(buf, 0xAA, sizes[s] + 64);
        size_t n = 0;
        rc = spikard_poller_poll(&n, poller, (spikard_event *)buf, 1, sizes[s], 5000);
        CHECK(rc == SPIKARD_OK && n == 1, "canary poll at size %zu: rc %d n %zu", sizes[s], rc, n);
        size_t dirty = 0;
        for (size_t i = sizes[s]; i < sizes[s] + 64; i++) {
            dirty += buf[i] != 0xAA;
        }
        CHECK(dirty == 0, "the library wrote %zu bytes past the %zu-byte element", dirty, sizes[s]);
        if (n == 1) {
            const spikard_event *ev = (const spikard_event *)buf;
            CHECK(check_item_event(ev, item_route) == 420 + s, "canary poll: another request");
            int result;
            rc = respond_one(app, (spikard_response){.exchange = ev->exchange, .status = 204}, &result);
            CHECK(rc == SPIKARD_OK, "respond: %d %s", rc, spikard_last_error());
        }
        free(buf);
        join_held(h, 1);
    }

    /* Below the 2.0 size: refused, nothing written, nothing taken. The fd
     * shows the request queued; a poll that returns fewer than asked for
     * comes first, as the poller then counts as waiting. */
    int fd = -1;
    rc = spikard_poller_fd(&fd, poller);
    CHECK(rc == SPIKARD_OK, "poller_fd: %d", rc);
    spikard_event idle;
    size_t n = 99;
    rc = spikard_poller_poll(&n, poller, &idle, 1, sizeof idle, 0);
    CHECK(rc == SPIKARD_OK && n == 0, "idle poll: rc %d n %zu", rc, n);
    send_held(h, 1, port, 430);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK(poll(&pfd, 1, 5000) == 1, "fd not readable with a request queued");
    size_t small = sizeof(spikard_event) - 8;
    unsigned char *buf = malloc(small);
    memset(buf, 0xAA, small);
    n = 99;
    rc = spikard_poller_poll(&n, poller, (spikard_event *)buf, 1, small, 0);
    CHECK(rc == SPIKARD_E_INVALID && n == 0, "poll at size %zu: rc %d n %zu", small, rc, n);
    size_t dirty = 0;
    for (size_t i = 0; i < small; i++) {
        dirty += buf[i] != 0xAA;
    }
    CHECK(dirty == 0, "a refused poll wrote %zu bytes", dirty);
    free(buf);
    got = take_held(poller, h, 1, item_route, sizeof(spikard_event));
    CHECK(got == 1, "the request a refused poll left queued did not come");

    /* The same for answers: refused whole, so the exchange is still open. */
    int result = 99;
    spikard_response r = {.exchange = h[0].exchange, .status = 200};
    rc = spikard_respond(&result, app, &r, 1, sizeof r - 8);
    CHECK(rc == SPIKARD_E_INVALID && result == SPIKARD_E_INVALID, "respond at size %zu: rc %d result %d",
          sizeof r - 8, rc, result);
    r.status = 208;
    rc = respond_one(app, r, &result);
    CHECK(rc == SPIKARD_OK && result == SPIKARD_OK, "respond after a refused size: %d %s", rc, spikard_last_error());
    join_held(h, 1);
    CHECK(status_is(&h[0].io, 208), "after a refused size: %s", h[0].io.response);
}

/* spikard_respond's out_results, and its return: the first failure's code,
 * with spikard_last_error() naming that entry. */
static void test_respond_results(spikard_app *app, spikard_poller *poller, uint32_t item_route) {
    int port = 0;
    spikard_app_port(&port, app);
    held h[2];
    send_held(h, 2, port, 500);
    if (take_held(poller, h, 2, item_route, sizeof(spikard_event)) != 2) {
        join_held(h, 2); /* request_timeout ends what is left */
        return;
    }
    spikard_response batch[3] = {
        {.exchange = h[0].exchange, .status = 200, .body = {"ok", 2}},
        {.exchange = 0xdeadbeefULL, .status = 200},
        {.exchange = h[1].exchange, .status = 200, .flags = FLAG_NEVER, .body = {"no", 2}},
    };
    int results[3] = {99, 99, 99};
    int rc = spikard_respond(results, app, batch, 3, sizeof batch[0]);
    CHECK(rc == SPIKARD_E_NOT_FOUND, "respond: %d, want the first failure's", rc);
    CHECK(results[0] == SPIKARD_OK && results[1] == SPIKARD_E_NOT_FOUND && results[2] == SPIKARD_E_UNSUPPORTED,
          "results %d %d %d", results[0], results[1], results[2]);
    CHECK(strstr(spikard_last_error(), "entry 1") != NULL, "the message does not name entry 1: %s",
          spikard_last_error());
    join_held(h, 2);
    CHECK(status_is(&h[0].io, 200) && strcmp(body_of(&h[0].io), "ok") == 0, "good entry: %s", h[0].io.response);
    CHECK(status_is(&h[1].io, 500) && strcmp(body_of(&h[1].io), standard_500) == 0, "refused entry: %s",
          h[1].io.response);
}

/* GROWTH, flags: bit 23 is the next minor's (the test library knows it),
 * bit 31 no library's. Either refusal answers the standard 500. */
static void test_growth_probe(spikard_app *app, spikard_poller *poller, uint32_t item_route) {
    int port = 0;
    spikard_app_port(&port, app);
    held h[2];
    send_held(h, 2, port, 600);
    if (take_held(poller, h, 2, item_route, sizeof(spikard_event)) != 2) {
        join_held(h, 2);
        return;
    }
    int next = loaded == NEXT_LIB_VERSION;
    int result;
    int rc = respond_one(app,
                         (spikard_response){.exchange = h[0].exchange, .status = 200, .flags = FLAG_NEXT_MINOR,
                                            .body = {"probe", 5}},
                         &result);
    int want = next ? SPIKARD_OK : SPIKARD_E_UNSUPPORTED;
    CHECK(rc == want && result == want, "bit 23 against ABI %d: rc %d result %d, want %d", loaded, rc, result, want);
    rc = respond_one(app, (spikard_response){.exchange = h[1].exchange, .status = 200, .flags = FLAG_NEVER}, &result);
    CHECK(rc == SPIKARD_E_UNSUPPORTED && result == SPIKARD_E_UNSUPPORTED, "bit 31 against ABI %d: rc %d", loaded, rc);
    join_held(h, 2);
    if (next) {
        CHECK(status_is(&h[0].io, 200) && strcmp(body_of(&h[0].io), "probe") == 0, "bit 23 delivered: %s",
              h[0].io.response);
    } else {
        CHECK(status_is(&h[0].io, 500) && strcmp(body_of(&h[0].io), standard_500) == 0, "bit 23 refused: %s",
              h[0].io.response);
    }
    CHECK(status_is(&h[1].io, 500) && strcmp(body_of(&h[1].io), standard_500) == 0, "bit 31 refused: %s",
          h[1].io.response);
}

/* REFUSALS, answers: kept flags and known flags that do not go together are
 * UNSUPPORTED; fields the flags do not use, and a flag the exchange's state
 * does not allow, are INVALID. Never half-applied:
 * each client gets the standard 500. */
static void test_answer_refusals(spikard_app *app, spikard_poller *poller, uint32_t item_route) {
    enum { N = 10 };
    static const char desc[] = "{\"detail\":\"x\"}";
    static const spikard_pair header = {{"x-a", 3}, {"b", 1}};
    struct {
        const char *what;
        spikard_response r;
        int want;
    } cases[N] = {
        {"CONTINUE on a request (2.3: it answers a HOOK)", {.flags = SPIKARD_RESPONSE_CONTINUE}, SPIKARD_E_INVALID},
        {"WS_ACCEPT on a request", {.status = 101, .flags = SPIKARD_RESPONSE_WS_ACCEPT}, SPIKARD_E_INVALID},
        {"FILE|STREAM",
         {.status = 200, .flags = SPIKARD_RESPONSE_FILE | SPIKARD_RESPONSE_STREAM, .body = {"/etc/hostname", 13}},
         SPIKARD_E_UNSUPPORTED},
        {"SSE without STREAM", {.status = 200, .flags = SPIKARD_RESPONSE_SSE}, SPIKARD_E_UNSUPPORTED},
        {"PROBLEM|STREAM",
         {.status = 409, .flags = SPIKARD_RESPONSE_PROBLEM | SPIKARD_RESPONSE_STREAM, .body = {desc, sizeof desc - 1}},
         SPIKARD_E_UNSUPPORTED},
        {"HANDLER_ERROR with a body", {.flags = SPIKARD_RESPONSE_HANDLER_ERROR, .body = {"x", 1}}, SPIKARD_E_INVALID},
        {"HANDLER_ERROR with a header",
         {.flags = SPIKARD_RESPONSE_HANDLER_ERROR, .headers = &header, .header_count = 1},
         SPIKARD_E_INVALID},
        {"HANDLER_ERROR with status 404", {.status = 404, .flags = SPIKARD_RESPONSE_HANDLER_ERROR}, SPIKARD_E_INVALID},
        {"HANDLER_ERROR, status 0", {.status = 0, .flags = SPIKARD_RESPONSE_HANDLER_ERROR}, SPIKARD_OK},
        {"HANDLER_ERROR, status 500", {.status = 500, .flags = SPIKARD_RESPONSE_HANDLER_ERROR}, SPIKARD_OK},
    };
    int port = 0;
    spikard_app_port(&port, app);
    held h[N];
    send_held(h, N, port, 700);
    if (take_held(poller, h, N, item_route, sizeof(spikard_event)) != N) {
        join_held(h, N);
        return;
    }
    spikard_response batch[N];
    int results[N];
    for (int i = 0; i < N; i++) {
        batch[i] = cases[i].r;
        batch[i].exchange = h[i].exchange;
        results[i] = 99;
    }
    int rc = spikard_respond(results, app, batch, N, sizeof batch[0]);
    CHECK(rc == cases[0].want && strstr(spikard_last_error(), "entry 0") != NULL,
          "respond: %d, want entry 0's: %s", rc, spikard_last_error());
    join_held(h, N);
    for (int i = 0; i < N; i++) {
        CHECK(results[i] == cases[i].want, "%s: result %d, want %d", cases[i].what, results[i], cases[i].want);
        CHECK(status_is(&h[i].io, 500) && strcmp(body_of(&h[i].io), standard_500) == 0, "%s: the client got %s",
              cases[i].what, h[i].io.response);
    }
}

/* Each poller has a fd of its own, and one request makes exactly one of
 * them readable: the lane wakes one waiting poller, not the whole pool. */
static void test_wake_one(spikard_app *app) {
    int port = 0;
    spikard_app_port(&port, app);
    spikard_poller *pollers[2] = {NULL, NULL};
    struct pollfd pfds[2];
    for (int i = 0; i < 2; i++) {
        int rc = spikard_poller_new(&pollers[i], app, 0);
        CHECK(rc == SPIKARD_OK && pollers[i] != NULL, "poller_new: %d", rc);
        if (pollers[i] == NULL) {
            spikard_poller_free(pollers[0]);
            return;
        }
        int fd = -1;
        rc = spikard_poller_fd(&fd, pollers[i]);
        pfds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
        CHECK(rc == SPIKARD_OK && fd >= 0, "poller_fd: %d %d %s", rc, fd, spikard_last_error());
    }
    CHECK(pfds[0].fd != pfds[1].fd, "two pollers share fd %d", pfds[0].fd);
    CHECK(poll(pfds, 2, 0) == 0, "a fd readable with an empty lane");

    pthread_t t;
    exchange_io io;
    start_client(&t, &io, port, "GET /items/5 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    CHECK(poll(pfds, 2, 5000) >= 1, "no fd readable with a request queued");
    /* Nothing takes a wake-up back but a poll, so this count is final. */
    int ready = poll(pfds, 2, 0);
    CHECK(ready == 1, "%d fds readable for one request", ready);
    int woken = (pfds[0].revents & POLLIN) ? 0 : 1;
    spikard_event ev;
    size_t n = 0;
    int rc = spikard_poller_poll(&n, pollers[woken], &ev, 1, sizeof ev, 0);
    CHECK(rc == SPIKARD_OK && n == 1, "poll of the woken poller: rc %d n %zu", rc, n);
    if (n == 1 || poll_one(pollers[woken], &ev)) {
        int result;
        rc = respond_one(app, (spikard_response){.exchange = ev.exchange, .status = 204}, &result);
        CHECK(rc == SPIKARD_OK, "respond: %d %s", rc, spikard_last_error());
    }
    pthread_join(t, NULL);
    CHECK(status_is(&io, 204), "response: %s", io.response);
    spikard_poller_free(pollers[0]);
    spikard_poller_free(pollers[1]);
}

static void *poll_forever(void *arg) {
    spikard_poller *poller = arg;
    spikard_event ev;
    size_t n = 0;
    return (void *)(intptr_t)spikard_poller_poll(&n, poller, &ev, 1, sizeof ev, -1);
}

static void test_lifecycle(void) {
    spikard_app *app;
    int rc = spikard_app_new(&app, S("{\"port\":0,\"quiet\":true}"));
    CHECK(rc == SPIKARD_OK, "app_new: %d", rc);
    if (rc != SPIKARD_OK) {
        return;
    }
    test_out_parameters(app);
    test_route_refusals(app);

    uint32_t item_route = 99, other = 99;
    rc = spikard_app_add_route(&other, app, S("{\"method\":\"GET\",\"path\":\"/health\"}"));
    CHECK(rc == SPIKARD_OK && other == 0, "add /health: %d %u %s", rc, other, spikard_last_error());
    rc = spikard_app_add_route(&item_route, app,
                               S("{\"method\":\"GET\",\"path\":\"/items/{item_id:int}\",\"facts\":[\"meta\"],"
                                 "\"parameter_schema\":{\"type\":\"object\",\"properties\":{\"item_id\":"
                                 "{\"type\":\"integer\",\"source\":\"path\"}}}}"));
    CHECK(rc == SPIKARD_OK && item_route == 1, "add /items: %d %u %s", rc, item_route, spikard_last_error());

    rc = spikard_app_start(app);
    CHECK(rc == SPIKARD_OK, "start: %d %s", rc, spikard_last_error());
    if (rc != SPIKARD_OK) {
        spikard_app_free(app);
        return;
    }
    int port = 0;
    rc = spikard_app_port(&port, app);
    CHECK(rc == SPIKARD_OK && port > 0, "port: %d %d", rc, port);
    rc = spikard_app_start(app);
    CHECK(rc == SPIKARD_E_STATE, "start twice: %d", rc);
    uint32_t late = 0xdeadbeef;
    rc = spikard_app_add_route(&late, app, S("{\"method\":\"GET\",\"path\":\"/late\"}"));
    CHECK(rc == SPIKARD_E_STATE && late == 0, "add_route after start: %d id %#x", rc, late);

    test_raw_flow(app, item_route);
    spikard_poller *poller = NULL;
    rc = spikard_poller_new(&poller, app, 0);
    CHECK(rc == SPIKARD_OK, "poller_new: %d", rc);
    if (rc == SPIKARD_OK) {
        test_event_records(app, poller, item_route);
        test_respond_results(app, poller, item_route);
        test_growth_probe(app, poller, item_route);
        test_answer_refusals(app, poller, item_route);
        spikard_poller_free(poller);
    }
    test_wake_one(app);

    /* A poll that waits forever ends with SPIKARD_E_CLOSED at stop. The
     * pause only makes it likely that the poll is already waiting; the
     * result is the same if stop comes first. */
    rc = spikard_poller_new(&poller, app, 0);
    CHECK(rc == SPIKARD_OK, "poller_new: %d", rc);
    pthread_t t;
    pthread_create(&t, NULL, poll_forever, poller);
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    rc = spikard_app_stop(app, 1000);
    CHECK(rc == SPIKARD_OK, "stop: %d %s", rc, spikard_last_error());
    void *pending;
    pthread_join(t, &pending);
    CHECK((intptr_t)pending == SPIKARD_E_CLOSED, "pending poll at stop: %d", (int)(intptr_t)pending);

    rc = spikard_app_stop(app, 1000);
    CHECK(rc == SPIKARD_OK, "stop twice: %d", rc);
    spikard_event ev;
    size_t n = 7;
    rc = spikard_poller_poll(&n, poller, &ev, 1, sizeof ev, 0);
    CHECK(rc == SPIKARD_E_CLOSED && n == 0, "poll after stop: %d n %zu", rc, n);
    rc = spikard_app_start(app);
    CHECK(rc == SPIKARD_E_STATE, "start after stop: %d", rc);
    spikard_poller_free(poller);
    spikard_app_free(app);
}

/* Opt-in kinds: a route with "events": ["disconnect"] is told when the
 * client of a request its host holds goes away; a route without it is sent
 * nothing, so a host never gets a kind it did not ask for. */
static void test_opt_in_kinds(void) {
    spikard_app *app = NULL;
    int rc = spikard_app_new(&app, S("{\"port\":0,\"quiet\":true,\"shutdown_timeout\":1}"));
    CHECK(rc == SPIKARD_OK, "app_new: %d %s", rc, spikard_last_error());
    if (rc != SPIKARD_OK) {
        return;
    }
    uint32_t watched = 99, plain = 99;
    rc = spikard_app_add_route(&watched, app, S("{\"method\":\"GET\",\"path\":\"/watched\",\"events\":[\"disconnect\"]}"));
    CHECK(rc == SPIKARD_OK, "add /watched: %d %s", rc, spikard_last_error());
    rc = spikard_app_add_route(&plain, app, S("{\"method\":\"GET\",\"path\":\"/plain\"}"));
    CHECK(rc == SPIKARD_OK, "add /plain: %d %s", rc, spikard_last_error());
    spikard_poller *poller = NULL;
    int port = 0;
    if (rc != SPIKARD_OK || spikard_app_start(app) != SPIKARD_OK || spikard_app_port(&port, app) != SPIKARD_OK ||
        spikard_poller_new(&poller, app, 0) != SPIKARD_OK) {
        CHECK(0, "setup: %s", spikard_last_error());
        spikard_poller_free(poller);
        spikard_app_free(app);
        return;
    }

    /* Both requests are taken (held) before their clients leave. */
    int fd_watched = dial(port, 0);
    int fd_plain = dial(port, 0);
    CHECK(fd_watched >= 0 && fd_plain >= 0, "connect");
    if (fd_watched >= 0) {
        write_all(fd_watched, "GET /watched HTTP/1.1\r\nHost: test\r\n\r\n");
    }
    if (fd_plain >= 0) {
        write_all(fd_plain, "GET /plain HTTP/1.1\r\nHost: test\r\nX-Probe: yes\r\n\r\n");
    }
    uint64_t ex_watched = 0, ex_plain = 0;
    spikard_event evs[4];
    for (int round = 0; round < 10 && (ex_watched == 0 || ex_plain == 0); round++) {
        size_t n = 0;
        rc = spikard_poller_poll(&n, poller, evs, 4, sizeof evs[0], 1000);
        CHECK(rc == SPIKARD_OK, "poll: %d %s", rc, spikard_last_error());
        for (size_t i = 0; i < n; i++) {
            CHECK(evs[i].kind == SPIKARD_EVENT_REQUEST, "kind %u before any client left", evs[i].kind);
            if (evs[i].route == watched) {
                ex_watched = evs[i].exchange;
            } else if (evs[i].route == plain) {
                ex_plain = evs[i].exchange;
                /* No "facts": the meta fields stay empty. */
                CHECK(evs[i].method.len == 0 && evs[i].path.len == 0 && evs[i].header_count == 0,
                      "a route without facts got meta: %zu %zu %zu", evs[i].method.len, evs[i].path.len,
                      evs[i].header_count);
            }
        }
    }
    CHECK(ex_watched != 0 && ex_plain != 0, "requests taken: watched %llu plain %llu",
          (unsigned long long)ex_watched, (unsigned long long)ex_plain);

    /* The plain client leaves first, so that a DISCONNECT it should not
     * get would most likely come before the one we wait for. */
    if (fd_plain >= 0) {
        close(fd_plain);
    }
    if (fd_watched >= 0) {
        close(fd_watched);
    }
    int gone = 0, plain_events = 0;
    uint32_t plain_kind = 0, plain_code = 0; /* of the first event for /plain, if any */
    for (int round = 0; round < 20 && !gone && ex_watched != 0; round++) {
        size_t n = 0;
        rc = spikard_poller_poll(&n, poller, evs, 4, sizeof evs[0], 500);
        CHECK(rc == SPIKARD_OK, "poll: %d %s", rc, spikard_last_error());
        for (size_t i = 0; i < n; i++) {
            if (evs[i].exchange == ex_watched) {
                CHECK(evs[i].kind == SPIKARD_EVENT_DISCONNECT && evs[i].route == watched,
                      "watched: kind %u route %u", evs[i].kind, evs[i].route);
                CHECK(evs[i].code == SPIKARD_GONE_CLIENT, "watched: DISCONNECT code %u, want SPIKARD_GONE_CLIENT",
                      evs[i].code);
                gone = 1;
            } else {
                CHECK(evs[i].exchange == ex_plain, "an event of no held exchange: kind %u", evs[i].kind);
                if (evs[i].exchange == ex_plain && plain_events++ == 0) {
                    plain_kind = evs[i].kind;
                    plain_code = evs[i].code;
                }
            }
        }
    }
    CHECK(gone, "no DISCONNECT for the route that asked, 10 s after its client left");
    size_t n = 0;
    rc = spikard_poller_poll(&n, poller, evs, 4, sizeof evs[0], 200);
    CHECK(rc == SPIKARD_OK, "poll: %d", rc);
    for (size_t i = 0; i < n; i++) {
        if (evs[i].exchange == ex_plain && plain_events++ == 0) {
            plain_kind = evs[i].kind;
            plain_code = evs[i].code;
        }
    }
    CHECK(plain_events == 0, "%d events (the first: kind %u, code %u) for the route that did not opt in",
          plain_events, plain_kind, plain_code);

    /* Its DISCONNECT came, so the exchange is over. */
    if (gone) {
        int result;
        rc = respond_one(app, (spikard_response){.exchange = ex_watched, .status = 200}, &result);
        CHECK(rc == SPIKARD_E_NOT_FOUND && result == SPIKARD_E_NOT_FOUND, "answer after DISCONNECT: %d", rc);
    }
    int ignored;
    respond_one(app, (spikard_response){.exchange = ex_plain, .status = 200}, &ignored);

    spikard_app_stop(app, 1000);
    spikard_poller_free(poller);
    spikard_app_free(app);
}

/* 2.3: "access_log": {"lane": N} delivers the core's access lines as
 * SPIKARD_EVENT_LOG batches on lane N (exchange 0, whole lines ending in
 * '\n'); a batch comes within its interval, and the stop ships the last
 * one before the lane closes. */
static void test_access_log(void) {
    spikard_app *app = NULL;
    int rc = spikard_app_new(&app, S("{\"port\":0,\"quiet\":true,\"shutdown_timeout\":1,\"access_log\":{\"lane\":1}}"));
    CHECK(rc == SPIKARD_OK, "app_new: %d %s", rc, spikard_last_error());
    if (rc != SPIKARD_OK) {
        return;
    }
    uint32_t route = 99;
    rc = spikard_app_add_route(&route, app, S("{\"method\":\"GET\",\"path\":\"/logged\"}"));
    CHECK(rc == SPIKARD_OK, "add_route: %d %s", rc, spikard_last_error());
    spikard_poller *requests = NULL, *logs = NULL;
    int port = 0;
    if (rc != SPIKARD_OK || spikard_poller_new(&requests, app, 0) != SPIKARD_OK ||
        spikard_poller_new(&logs, app, 1) != SPIKARD_OK || spikard_app_start(app) != SPIKARD_OK ||
        spikard_app_port(&port, app) != SPIKARD_OK) {
        CHECK(0, "setup: %s", spikard_last_error());
        spikard_poller_free(requests);
        spikard_poller_free(logs);
        spikard_app_free(app);
        return;
    }
    char lines[4096] = "";
    size_t used = 0;
    spikard_event ev;
    for (int k = 0; k < 2; k++) { /* one answered by the host, then core's own 404 */
        int fd = dial(port, 0);
        CHECK(fd >= 0, "connect");
        if (fd < 0) {
            break;
        }
        write_all(fd, k == 0 ? "GET /logged?k=0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                             : "GET /nothing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        if (k == 0) {
            size_t n = 0;
            rc = spikard_poller_poll(&n, requests, &ev, 1, sizeof ev, 5000);
            CHECK(rc == SPIKARD_OK && n == 1 && ev.kind == SPIKARD_EVENT_REQUEST, "request: %d %zu", rc, n);
            int result;
            if (n == 1) {
                respond_one(app, (spikard_response){.exchange = ev.exchange, .status = 204}, &result);
            }
        }
        char buf[512];
        while (read(fd, buf, sizeof buf) > 0) {
        }
        close(fd);
        if (k == 0) {
            /* The first batch comes without a stop, within its 100 ms. */
            size_t n = 0;
            rc = spikard_poller_poll(&n, logs, &ev, 1, sizeof ev, 5000);
            CHECK(rc == SPIKARD_OK && n == 1 && ev.kind == SPIKARD_EVENT_LOG, "log batch: %d %zu kind %u", rc, n,
                  n ? ev.kind : 0);
            if (n == 1 && ev.kind == SPIKARD_EVENT_LOG) {
                CHECK(ev.exchange == 0 && ev.route == 0 && ev.body.len > 0 && ev.body.ptr[ev.body.len - 1] == '\n',
                      "batch: exchange %llu route %u len %zu", (unsigned long long)ev.exchange, ev.route, ev.body.len);
                if (used + ev.body.len < sizeof lines) {
                    memcpy(lines + used, ev.body.ptr, ev.body.len);
                    used += ev.body.len;
                    lines[used] = 0;
                }
            }
        }
    }
    spikard_app_stop(app, 1000);
    for (;;) { /* the stop's batch, then E_CLOSED */
        size_t n = 0;
        rc = spikard_poller_poll(&n, logs, &ev, 1, sizeof ev, 5000);
        if (rc != SPIKARD_OK || n == 0) {
            break;
        }
        CHECK(ev.kind == SPIKARD_EVENT_LOG, "kind %u on the log lane", ev.kind);
        if (used + ev.body.len < sizeof lines) {
            memcpy(lines + used, ev.body.ptr, ev.body.len);
            used += ev.body.len;
            lines[used] = 0;
        }
    }
    CHECK(rc == SPIKARD_E_CLOSED, "the log lane ends with SPIKARD_E_CLOSED: %d", rc);
    const char *first = strstr(lines, "\"GET /logged?k=0 HTTP/1.1\" 204 ");
    const char *second = strstr(lines, "\"GET /nothing HTTP/1.1\" 404 ");
    CHECK(first != NULL && second != NULL && first < second, "access lines: %s", lines);
    int count = 0;
    for (size_t i = 0; i < used; i++) {
        count += lines[i] == '\n';
    }
    CHECK(count == 2, "%d lines: %s", count, lines);
    spikard_poller_free(requests);
    spikard_poller_free(logs);
    spikard_app_free(app);
}

static void test_free_running(void) {
    /* Freeing a running app stops it. */
    spikard_app *app;
    int rc = spikard_app_new(&app, S("{\"port\":0,\"quiet\":true,\"shutdown_timeout\":1}"));
    CHECK(rc == SPIKARD_OK, "app_new: %d", rc);
    if (rc == SPIKARD_OK) {
        rc = spikard_app_start(app);
        CHECK(rc == SPIKARD_OK, "start: %d %s", rc, spikard_last_error());
        spikard_app_free(app);
    }
}

/* spikard_last_error's string stays valid until the next failing call on
 * the thread: successful calls leave it alone (ASan sees a use after free
 * if they do not). */
static void test_last_error_lifetime(void) {
    int rc = spikard_config_check(S("{\"prot\":1}"));
    CHECK(rc == SPIKARD_E_INVALID, "config_check typo: rc %d", rc);
    const char *msg = spikard_last_error();
    char copy[256];
    snprintf(copy, sizeof copy, "%s", msg);
    for (int i = 0; i < 5; i++) {
        spikard_app *app = NULL;
        CHECK(spikard_app_new(&app, S("{}")) == SPIKARD_OK, "app_new: %s", spikard_last_error());
        uint32_t id;
        CHECK(spikard_app_add_route(&id, app, S("{\"method\":\"GET\",\"path\":\"/x\"}")) == SPIKARD_OK, "add_route");
        spikard_app_free(app);
        CHECK(spikard_config_check(S("{\"port\":0}")) == SPIKARD_OK, "config_check");
    }
    CHECK(strcmp(msg, copy) == 0 && strstr(msg, "prot") != NULL, "message after successful calls: %s", msg);
    CHECK(spikard_last_error() == msg, "a successful call replaced the message");
}

/* 2.3's "openapi": a page on a path a route already has, or one
 * operation_id on two routes, makes the start fail with E_INVALID and the
 * reason; the config key itself is checked like every other. */
static void test_openapi_refusals(void) {
    CHECK(spikard_config_check(S("{\"openapi\":{\"title\":\"\"}}")) == SPIKARD_E_INVALID &&
              strstr(spikard_last_error(), "\"title\"") != NULL,
          "openapi title \"\": %s", spikard_last_error());
    const char *routes[][2] = {
        {"{\"method\":\"GET\",\"path\":\"/docs\"}", "serving /docs"},
        {"{\"method\":\"GET\",\"path\":\"/a\",\"operation_id\":\"x\"}", "operation_id \"x\""},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        spikard_app *app = NULL;
        int rc = spikard_app_new(&app, S("{\"port\":0,\"quiet\":true,\"openapi\":{}}"));
        CHECK(rc == SPIKARD_OK, "app_new openapi: %d %s", rc, spikard_last_error());
        if (rc != SPIKARD_OK) {
            return;
        }
        uint32_t id;
        CHECK(spikard_app_add_route(&id, app, routes[i][0], strlen(routes[i][0])) == SPIKARD_OK, "add %s",
              routes[i][0]);
        if (i == 1) {
            const char *b = "{\"method\":\"GET\",\"path\":\"/b\",\"operation_id\":\"x\"}";
            CHECK(spikard_app_add_route(&id, app, b, strlen(b)) == SPIKARD_OK, "add /b");
        }
        rc = spikard_app_start(app);
        CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), routes[i][1]) != NULL,
              "start with %s: rc %d %s", routes[i][0], rc, spikard_last_error());
        spikard_app_free(app);
    }
}

int main(void) {
    test_version();
    test_openapi_refusals();
    test_last_error_lifetime();
    test_app_new_errors();
    test_config_check();
    test_free_null();
    test_lifecycle();
    test_opt_in_kinds();
    test_access_log();
    test_free_running();
    printf("abi_test: %d passed, %d failed (library ABI %d)\n", passed, failed, loaded);
    return failed == 0 ? 0 : 1;
}
