/*
 * stream_test.c — streams through spikard.h alone: the exact bytes of a
 * raw, a content-length and an SSE stream on the wire; END and ABORT and
 * the terminal event each gets; per-chunk results and refusals; and
 * back-pressure: AGAIN from a client that does not read, memory flat while
 * the host keeps retrying, a blocking write that waits, then exactly one
 * STREAM_CREDIT once the client reads, and every byte in order. And file
 * answers (SPIKARD_RESPONSE_FILE, 2.3): the bytes of a file core reads,
 * its type, validators, download name, a Range, WRITTEN, and the 500 for
 * a file that is not there.
 *
 * The test is the host: it polls and answers on its own thread. Clients are
 * raw sockets on loopback; the main thread reads them, except the one that
 * must start reading while the host writes, which has a thread of its own.
 *
 * OWNERSHIP: every buffer handed to spikard_respond and spikard_stream_write
 * is a malloc'ed copy, scribbled over and freed as soon as the call returns
 * (the back-pressure retry loop scribbles one reused buffer instead). A
 * library that kept a pointer would send the scribble, and the byte checks
 * would see it.
 */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "spikard.h"

#include "check.h"
#include "client.h"

#define QUEUE_BYTES 65536 /* the app's "stream_queue_bytes" */
#define PIECE (16 << 10)  /* the back-pressure test's chunk */
/* Every wait for the wire or an event: far above what a loaded machine
 * needs, so reaching it means a hang. */
#define WAIT_MS 10000
/* An AGAIN whose credit has not come this long after it means the client
 * has stopped the stream; one whose credit comes meant only that core's
 * writer had not caught up yet. */
#define STUCK_MS 2000
/* AGAIN must come before about the bound plus the kernel's socket buffers;
 * this cap is far above both. */
#define FILL_CAP (64u << 20)
#define RETRY_MS 5000           /* how long the host retries against a stopped stream */
#define RSS_SLACK (16l << 20)   /* how much the process may grow meanwhile */
#define SMALL_RCVBUF 4096       /* so that a client that does not read stops the server soon */
#define STR(lit) ((spikard_str){lit, sizeof lit - 1})

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int str_is(spikard_str s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* Where needle starts in hay[0..n), or -1. */
static long find(const char *hay, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* The process's resident set, from /proc/self/statm, or -1. */
static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f == NULL) {
        return -1;
    }
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
        resident = -1;
    }
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* ---- clients: raw sockets on loopback ----------------------------------- */

/* Connects and sends "GET /s/<name>"; the socket, or -1. */
static int send_get(int port, const char *name, int rcvbuf) {
    int fd = dial(port, rcvbuf);
    char req[128];
    snprintf(req, sizeof req, "GET /s/%s HTTP/1.1\r\nHost: test\r\n\r\n", name);
    if (fd >= 0 && write_all(fd, req) != 0) {
        close(fd);
        fd = -1;
    }
    CHECK(fd >= 0, "client for /s/%s could not connect or send", name);
    return fd;
}

/* What one client has received. */
typedef struct wire {
    int fd;
    size_t len;
    int closed; /* the server closed the connection (EOF or reset) */
    char buf[8192];
} wire;

/* The length of the response head in w (through its blank line), or 0. */
static size_t head_len(const wire *w) {
    long at = find(w->buf, w->len, "\r\n\r\n");
    return at < 0 ? 0 : (size_t)at + 4;
}

/* Reads what arrives within ms: 1 if bytes came, 0 at the end of the
 * connection, -1 on timeout or a full buffer. */
static int wire_read(wire *w, int ms) {
    if (w->len + 1 >= sizeof w->buf) {
        return -1;
    }
    struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) != 1) {
        return -1;
    }
    ssize_t r = read(w->fd, w->buf + w->len, sizeof w->buf - 1 - w->len);
    if (r <= 0) {
        w->closed = 1;
        return 0;
    }
    w->len += (size_t)r;
    w->buf[w->len] = '\0';
    return 1;
}

/* Reads until the head and body_len bytes after it are in (or more), the
 * connection ends, or WAIT_MS pass. Returns the head's length, 0 if no
 * complete head came. */
static size_t wire_response(wire *w, size_t body_len) {
    int64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        size_t head = head_len(w);
        if (head > 0 && w->len >= head + body_len) {
            return head;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0 || wire_read(w, (int)left) <= 0) {
            return head_len(w);
        }
    }
}

/* Reads until the server closes the connection; 1 if it did within WAIT_MS. */
static int wire_until_closed(wire *w) {
    int64_t deadline = now_ms() + WAIT_MS;
    while (!w->closed) {
        int64_t left = deadline - now_ms();
        if (left <= 0 || wire_read(w, (int)left) < 0) {
            return 0;
        }
    }
    return 1;
}

/* 1 if no byte past what w holds has arrived (the kernel has the whole
 * answer once its terminal event came: loopback delivers on send). */
static int wire_quiet(const wire *w) {
    char c;
    ssize_t r = recv(w->fd, &c, 1, MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Copies the value of header name (any case) from the head head[0..n) into
 * out; 1 if the header is there. */
static int header_value(const char *head, size_t n, const char *name, char *out, size_t cap) {
    size_t k = strlen(name);
    long first = find(head, n, "\r\n");
    size_t at = first < 0 ? n : (size_t)first + 2;
    while (at < n) {
        long eol = find(head + at, n - at, "\r\n");
        if (eol <= 0) {
            break; /* the blank line, or a head cut short */
        }
        const char *line = head + at;
        size_t len = (size_t)eol;
        if (len > k && line[k] == ':' && strncasecmp(line, name, k) == 0) {
            size_t v = k + 1;
            while (v < len && line[v] == ' ') {
                v++;
            }
            snprintf(out, cap, "%.*s", (int)(len - v), line + v);
            return 1;
        }
        at += len + 2;
    }
    return 0;
}

static int header_is(const char *head, size_t n, const char *name, const char *want) {
    char v[256];
    return header_value(head, n, name, v, sizeof v) && strcmp(v, want) == 0;
}

static int status_is(const wire *w, const char *line) {
    return strncmp(w->buf, line, strlen(line)) == 0;
}

/* Checks that the body after head is exactly want[0..n). */
static void check_body(const wire *w, size_t head, const char *want, size_t n, const char *what) {
    size_t got = w->len - head;
    CHECK(head > 0 && got == n && memcmp(w->buf + head, want, n) == 0,
          "%s: body of %zu bytes\n  got  \"%.*s\"\n  want \"%.*s\"", what, got, (int)got, w->buf + head, (int)n,
          want);
}

/* ---- the host: one app, one poller -------------------------------------- */

typedef struct host {
    spikard_app *app;
    spikard_poller *poller;
    uint32_t route;
    int port;
} host;

/* Polls one event into *ev, waiting up to ms; 1 if one came. Its pointers
 * stay valid until the next poll. */
static int next_event(host *h, spikard_event *ev, int ms) {
    size_t n = 0;
    int rc = spikard_poller_poll(&n, h->poller, ev, 1, sizeof *ev, ms);
    CHECK(rc == SPIKARD_OK, "poll: %d %s", rc, spikard_last_error());
    return rc == SPIKARD_OK && n == 1;
}

/* Takes the REQUEST of GET /s/<name> and returns its exchange, or 0. */
static uint64_t take_request(host *h, const char *name) {
    char path[64];
    snprintf(path, sizeof path, "/s/%s", name);
    spikard_event ev;
    if (!next_event(h, &ev, WAIT_MS)) {
        CHECK(0, "no REQUEST for %s", path);
        return 0;
    }
    int ok = ev.kind == SPIKARD_EVENT_REQUEST && ev.route == h->route && str_is(ev.path, path);
    CHECK(ok, "waiting for the REQUEST of %s, got kind %u route %u path %.*s", path, ev.kind, ev.route,
          (int)ev.path.len, ev.path.ptr);
    return ok ? ev.exchange : 0;
}

/* Checks that the next event, within ms, is kind with code for ex. */
static int expect_event(host *h, uint64_t ex, uint32_t kind, uint32_t code, int ms, const char *what) {
    spikard_event ev;
    if (!next_event(h, &ev, ms)) {
        CHECK(0, "%s: no event within %d ms (want kind %u code %u)", what, ms, kind, code);
        return 0;
    }
    int ok = ev.exchange == ex && ev.kind == kind && ev.code == code && ev.route == h->route;
    CHECK(ok, "%s: event kind %u code %u route %u of exchange %llu, want kind %u code %u of %llu", what, ev.kind,
          ev.code, ev.route, (unsigned long long)ev.exchange, kind, code, (unsigned long long)ex);
    return ok;
}

static spikard_str dup_str(spikard_str s) {
    if (s.ptr == NULL) {
        return s;
    }
    char *p = malloc(s.len > 0 ? s.len : 1);
    memcpy(p, s.ptr, s.len);
    return (spikard_str){p, s.len};
}

/* Scribbles over a dup_str copy and frees it. */
static void drop_str(spikard_str s) {
    if (s.ptr != NULL) {
        memset((char *)s.ptr, 0xA5, s.len);
        free((char *)s.ptr);
    }
}

/* spikard_respond of one answer, every buffer a copy scribbled over and
 * freed on return. */
static int respond_copied(host *h, uint64_t ex, uint32_t status, uint32_t flags, const spikard_pair *headers,
                          size_t header_count, spikard_str body) {
    spikard_pair *hs = malloc((header_count > 0 ? header_count : 1) * sizeof *hs);
    for (size_t i = 0; i < header_count; i++) {
        hs[i] = (spikard_pair){dup_str(headers[i].name), dup_str(headers[i].value)};
    }
    spikard_response *r = malloc(sizeof *r);
    *r = (spikard_response){.exchange = ex, .status = status, .flags = flags, .headers = hs,
                            .header_count = header_count, .body = dup_str(body)};
    int result = 99;
    int rc = spikard_respond(&result, h->app, r, 1, sizeof *r);
    CHECK(rc == result, "respond: rc %d, result %d", rc, result);
    for (size_t i = 0; i < header_count; i++) {
        drop_str(hs[i].name);
        drop_str(hs[i].value);
    }
    drop_str(r->body);
    memset(hs, 0xA5, (header_count > 0 ? header_count : 1) * sizeof *hs);
    memset(r, 0xA5, sizeof *r);
    free(hs);
    free(r);
    return rc;
}

/* spikard_stream_write of count chunks, the array and every data, event
 * and id a copy scribbled over and freed on return. */
static int write_copied(int *out_results, host *h, const spikard_chunk *chunks, size_t count, int timeout_ms) {
    spikard_chunk *copy = malloc((count > 0 ? count : 1) * sizeof *copy);
    for (size_t i = 0; i < count; i++) {
        copy[i] = chunks[i];
        copy[i].data = dup_str(chunks[i].data);
        copy[i].event = dup_str(chunks[i].event);
        copy[i].id = dup_str(chunks[i].id);
    }
    int rc = spikard_stream_write(out_results, h->app, copy, count, sizeof *copy, timeout_ms);
    for (size_t i = 0; i < count; i++) {
        drop_str(copy[i].data);
        drop_str(copy[i].event);
        drop_str(copy[i].id);
    }
    memset(copy, 0xA5, (count > 0 ? count : 1) * sizeof *copy);
    free(copy);
    return rc;
}

/* A chunk of a raw stream; data NULL: empty. */
static spikard_chunk raw(uint64_t ex, uint32_t flags, const char *data) {
    return (spikard_chunk){.exchange = ex, .flags = flags, .data = {data, data != NULL ? strlen(data) : 0}};
}

/* Writes one chunk, which must be queued. */
static void write_ok(host *h, spikard_chunk c, const char *what) {
    int result = 99;
    int rc = write_copied(&result, h, &c, 1, 0);
    CHECK(rc == SPIKARD_OK && result == SPIKARD_OK, "%s: rc %d result %d %s", what, rc, result,
          rc == SPIKARD_OK ? "" : spikard_last_error());
}

/* A chunk after the stream's end: NOT_FOUND, its terminal event already
 * delivered. */
static void check_over(host *h, uint64_t ex, const char *what) {
    int result = 99;
    spikard_chunk late = raw(ex, 0, "late");
    int rc = write_copied(&result, h, &late, 1, 0);
    CHECK(rc == SPIKARD_E_NOT_FOUND && result == SPIKARD_E_NOT_FOUND, "%s: a write after the end: rc %d result %d",
          what, rc, result);
}

/* ---- raw, content-length and SSE streams: their exact bytes ------------- */

/* A raw stream is chunked: the open's body is the first chunk, each write
 * one chunk (an empty one nothing), END the terminator; then WRITTEN. */
static void test_raw_stream(host *h) {
    wire w = {.fd = send_get(h->port, "raw", 0)};
    uint64_t ex = w.fd < 0 ? 0 : take_request(h, "raw");
    if (ex == 0) {
        if (w.fd >= 0) {
            close(w.fd);
        }
        return;
    }
    spikard_pair header = {STR("x-stream"), STR("raw")};
    int rc = respond_copied(h, ex, 200, SPIKARD_RESPONSE_STREAM, &header, 1, STR("hello"));
    CHECK(rc == SPIKARD_OK, "open: %d %s", rc, spikard_last_error());
    char zs[301];
    memset(zs, 'z', 300);
    zs[300] = '\0';
    spikard_chunk batch[3] = {raw(ex, 0, "chunk-two"), raw(ex, 0, NULL), raw(ex, 0, zs)};
    int results[3] = {99, 99, 99};
    rc = write_copied(results, h, batch, 3, 0);
    CHECK(rc == SPIKARD_OK && results[0] == SPIKARD_OK && results[1] == SPIKARD_OK && results[2] == SPIKARD_OK,
          "write: rc %d results %d %d %d %s", rc, results[0], results[1], results[2], spikard_last_error());
    write_ok(h, raw(ex, SPIKARD_CHUNK_END, NULL), "END");

    char want[512];
    int n = snprintf(want, sizeof want, "5\r\nhello\r\n9\r\nchunk-two\r\n12c\r\n%s\r\n0\r\n\r\n", zs);
    size_t head = wire_response(&w, (size_t)n);
    CHECK(status_is(&w, "HTTP/1.1 200 OK\r\n"), "raw stream: status %.40s", w.buf);
    CHECK(header_is(w.buf, head, "transfer-encoding", "chunked"), "raw stream: no chunked: %.*s", (int)head, w.buf);
    CHECK(header_is(w.buf, head, "x-stream", "raw"), "raw stream: the host's header: %.*s", (int)head, w.buf);
    char v[64];
    CHECK(!header_value(w.buf, head, "content-length", v, sizeof v), "raw stream: content-length %s", v);
    check_body(&w, head, want, (size_t)n, "raw stream");
    expect_event(h, ex, SPIKARD_EVENT_WRITTEN, 0, WAIT_MS, "raw stream's end");
    CHECK(wire_quiet(&w), "raw stream: bytes after the terminator");
    check_over(h, ex, "raw stream");
    close(w.fd);
}

/* With the host's content-length, exactly that many bytes and no chunked
 * framing. */
static void test_length_stream(host *h) {
    wire w = {.fd = send_get(h->port, "length", 0)};
    uint64_t ex = w.fd < 0 ? 0 : take_request(h, "length");
    if (ex == 0) {
        if (w.fd >= 0) {
            close(w.fd);
        }
        return;
    }
    spikard_pair header = {STR("content-length"), STR("10")};
    int rc = respond_copied(h, ex, 200, SPIKARD_RESPONSE_STREAM, &header, 1, STR("hello"));
    CHECK(rc == SPIKARD_OK, "open: %d %s", rc, spikard_last_error());
    write_ok(h, raw(ex, 0, "wor"), "content-length chunk");
    write_ok(h, raw(ex, SPIKARD_CHUNK_END, "ld"), "content-length END");
    size_t head = wire_response(&w, 10);
    CHECK(status_is(&w, "HTTP/1.1 200 OK\r\n"), "content-length stream: status %.40s", w.buf);
    CHECK(header_is(w.buf, head, "content-length", "10"), "content-length stream: %.*s", (int)head, w.buf);
    char v[64];
    CHECK(!header_value(w.buf, head, "transfer-encoding", v, sizeof v), "content-length stream: transfer-encoding %s",
          v);
    expect_event(h, ex, SPIKARD_EVENT_WRITTEN, 0, WAIT_MS, "content-length stream's end");
    check_body(&w, head, "helloworld", 10, "content-length stream");
    CHECK(wire_quiet(&w), "content-length stream: bytes past the length");
    check_over(h, ex, "content-length stream");
    close(w.fd);
}

/* STREAM|SSE: core's headers, one chunk per event framed by core; an event
 * name with a line break is refused and changes nothing; END. */
static void test_sse_stream(host *h) {
    wire w = {.fd = send_get(h->port, "sse", 0)};
    uint64_t ex = w.fd < 0 ? 0 : take_request(h, "sse");
    if (ex == 0) {
        if (w.fd >= 0) {
            close(w.fd);
        }
        return;
    }
    int rc = respond_copied(h, ex, 200, SPIKARD_RESPONSE_STREAM | SPIKARD_RESPONSE_SSE, NULL, 0, (spikard_str){0});
    CHECK(rc == SPIKARD_OK, "open SSE: %d %s", rc, spikard_last_error());
    spikard_chunk events[3] = {
        {.exchange = ex, .event = STR("greet"), .id = STR("1"), .retry_ms = 1500, .data = STR("hello\nworld")},
        {.exchange = ex, .event = STR("bad\nname"), .data = STR("dropped")},
        {.exchange = ex, .event = STR("tick"), .id = STR("2"), .retry_ms = 250, .data = STR("line one\r\nline two")},
    };
    int results[3] = {99, 99, 99};
    rc = write_copied(results, h, events, 3, 0);
    CHECK(rc == SPIKARD_E_INVALID && results[0] == SPIKARD_OK && results[1] == SPIKARD_E_INVALID &&
              results[2] == SPIKARD_OK,
          "SSE write: rc %d results %d %d %d", rc, results[0], results[1], results[2]);
    CHECK(strstr(spikard_last_error(), "chunk 1") != NULL, "SSE refusal does not name chunk 1: %s",
          spikard_last_error());
    spikard_chunk bad_id = {.exchange = ex, .id = STR("3\n4"), .data = STR("dropped")};
    int result = 99;
    rc = write_copied(&result, h, &bad_id, 1, 0);
    CHECK(rc == SPIKARD_E_INVALID && result == SPIKARD_E_INVALID, "an SSE id with a line break: rc %d", rc);
    write_ok(h, raw(ex, SPIKARD_CHUNK_END, NULL), "SSE END");

    static const char e1[] = "event: greet\nid: 1\nretry: 1500\ndata: hello\ndata: world\n\n";
    static const char e2[] = "event: tick\nid: 2\nretry: 250\ndata: line one\ndata: line two\n\n";
    char want[512];
    int n = snprintf(want, sizeof want, "%zx\r\n%s\r\n%zx\r\n%s\r\n0\r\n\r\n", sizeof e1 - 1, e1, sizeof e2 - 1, e2);
    size_t head = wire_response(&w, (size_t)n);
    CHECK(status_is(&w, "HTTP/1.1 200 OK\r\n"), "SSE: status %.40s", w.buf);
    CHECK(header_is(w.buf, head, "content-type", "text/event-stream") &&
              header_is(w.buf, head, "cache-control", "no-cache") &&
              header_is(w.buf, head, "transfer-encoding", "chunked"),
          "SSE head: %.*s", (int)head, w.buf);
    check_body(&w, head, want, (size_t)n, "SSE stream");
    expect_event(h, ex, SPIKARD_EVENT_WRITTEN, 0, WAIT_MS, "SSE stream's end");
    CHECK(wire_quiet(&w), "SSE: bytes after the terminator");
    close(w.fd);
}

/* out_results: one code per chunk, the first failure's returned and named;
 * NULL out_results; a chunk_size below sizeof(spikard_chunk) refused, one
 * above it (a later minor's host, zero tail) accepted. Refused chunks
 * change nothing: the bytes show only the accepted ones. */
static void test_results(host *h) {
    wire w = {.fd = send_get(h->port, "results", 0)};
    uint64_t ex = w.fd < 0 ? 0 : take_request(h, "results");
    if (ex == 0) {
        if (w.fd >= 0) {
            close(w.fd);
        }
        return;
    }
    int rc = respond_copied(h, ex, 200, SPIKARD_RESPONSE_STREAM, NULL, 0, STR("zero"));
    CHECK(rc == SPIKARD_OK, "open: %d %s", rc, spikard_last_error());
    enum { N = 6 };
    spikard_chunk batch[N] = {
        raw(ex, 0, "one"),
        {.exchange = ex, .event = STR("e"), .data = STR("x")}, /* an SSE field on a raw stream */
        {.exchange = ex, .flags = SPIKARD_CHUNK_WS_BINARY, .data = STR("x")}, /* a WebSocket's */
        {.exchange = ex, .code = 1000, .data = STR("x")},                     /* a close code: 0 */
        raw(0xdeadbeefULL, 0, "x"),                                           /* no such exchange */
        raw(ex, 0, "two"),
    };
    int want[N] = {SPIKARD_OK,    SPIKARD_E_INVALID,   SPIKARD_E_UNSUPPORTED,
                   SPIKARD_E_INVALID, SPIKARD_E_NOT_FOUND, SPIKARD_OK};
    int results[N];
    for (int i = 0; i < N; i++) {
        results[i] = 99;
    }
    rc = write_copied(results, h, batch, N, 0);
    CHECK(rc == SPIKARD_E_INVALID, "batch: rc %d, want the first failure's", rc);
    CHECK(strstr(spikard_last_error(), "chunk 1") != NULL, "the message does not name chunk 1: %s",
          spikard_last_error());
    for (int i = 0; i < N; i++) {
        CHECK(results[i] == want[i], "chunk %d: result %d, want %d", i, results[i], want[i]);
    }

    spikard_chunk three = raw(ex, 0, "three");
    rc = write_copied(NULL, h, &three, 1, 0);
    CHECK(rc == SPIKARD_OK, "NULL out_results: %d %s", rc, spikard_last_error());
    rc = spikard_stream_write(NULL, h->app, NULL, 0, sizeof(spikard_chunk), 0);
    CHECK(rc == SPIKARD_OK, "no chunks: %d %s", rc, spikard_last_error());

    spikard_chunk never = raw(ex, 0, "never");
    int result = 99;
    rc = spikard_stream_write(&result, h->app, &never, 1, sizeof never - 8, 0);
    CHECK(rc == SPIKARD_E_INVALID && result == SPIKARD_E_INVALID, "chunk_size %zu: rc %d result %d",
          sizeof never - 8, rc, result);
    rc = spikard_stream_write(&result, h->app, &never, 1, 0, 0);
    CHECK(rc == SPIKARD_E_INVALID && result == SPIKARD_E_INVALID, "chunk_size 0: rc %d result %d", rc, result);

    size_t big = sizeof(spikard_chunk) + 16;
    unsigned char *grown = calloc(2, big);
    spikard_chunk four = raw(ex, 0, "four"), five = raw(ex, 0, "five");
    memcpy(grown, &four, sizeof four);
    memcpy(grown + big, &five, sizeof five);
    int pair[2] = {99, 99};
    rc = spikard_stream_write(pair, h->app, (const spikard_chunk *)grown, 2, big, 0);
    CHECK(rc == SPIKARD_OK && pair[0] == SPIKARD_OK && pair[1] == SPIKARD_OK, "chunk_size %zu: rc %d results %d %d %s",
          big, rc, pair[0], pair[1], spikard_last_error());
    memset(grown, 0xA5, 2 * big);
    free(grown);
    write_ok(h, raw(ex, SPIKARD_CHUNK_END, NULL), "END");

    static const char body[] = "4\r\nzero\r\n3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n4\r\nfour\r\n4\r\nfive\r\n0\r\n\r\n";
    size_t head = wire_response(&w, sizeof body - 1);
    check_body(&w, head, body, sizeof body - 1, "after refused chunks");
    expect_event(h, ex, SPIKARD_EVENT_WRITTEN, 0, WAIT_MS, "the results stream's end");
    close(w.fd);
}

/* ABORT: the connection closes without a terminator, DISCONNECT
 * SPIKARD_GONE_ABORTED is queued when the call returns, and a later write
 * is NOT_FOUND. */
static void test_abort(host *h) {
    wire w = {.fd = send_get(h->port, "abort", 0)};
    uint64_t ex = w.fd < 0 ? 0 : take_request(h, "abort");
    if (ex == 0) {
        if (w.fd >= 0) {
            close(w.fd);
        }
        return;
    }
    int rc = respond_copied(h, ex, 200, SPIKARD_RESPONSE_STREAM, NULL, 0, STR("before"));
    CHECK(rc == SPIKARD_OK, "open: %d %s", rc, spikard_last_error());
    static const char first[] = "6\r\nbefore\r\n";
    size_t head = wire_response(&w, sizeof first - 1);
    check_body(&w, head, first, sizeof first - 1, "before the abort");

    spikard_chunk with_data = {.exchange = ex, .flags = SPIKARD_CHUNK_ABORT, .data = STR("x")};
    int result = 99;
    rc = write_copied(&result, h, &with_data, 1, 0);
    CHECK(rc == SPIKARD_E_INVALID && result == SPIKARD_E_INVALID, "an ABORT with data: rc %d", rc);
    write_ok(h, raw(ex, SPIKARD_CHUNK_ABORT, NULL), "ABORT");
    spikard_event ev;
    size_t n = 0;
    rc = spikard_poller_poll(&n, h->poller, &ev, 1, sizeof ev, 0);
    CHECK(rc == SPIKARD_OK && n == 1, "the abort's DISCONNECT was not queued when the write returned");
    if (rc == SPIKARD_OK && n == 1) {
        CHECK(ev.exchange == ex && ev.kind == SPIKARD_EVENT_DISCONNECT && ev.code == SPIKARD_GONE_ABORTED,
              "after ABORT: kind %u code %u of %llu", ev.kind, ev.code, (unsigned long long)ev.exchange);
    } else {
        expect_event(h, ex, SPIKARD_EVENT_DISCONNECT, SPIKARD_GONE_ABORTED, WAIT_MS, "after ABORT, late");
    }
    CHECK(wire_until_closed(&w), "the connection of an aborted stream is still open");
    CHECK(find(w.buf + head, w.len - head, "0\r\n\r\n") < 0, "an aborted stream was terminated: %s", w.buf + head);
    check_over(h, ex, "aborted stream");
    close(w.fd);
}

/* RESPONSE_WRITTEN on a plain answer: WRITTEN once the client has it. */
static void test_written_plain(host *h) {
    wire w = {.fd = send_get(h->port, "plain", 0)};
    uint64_t ex = w.fd < 0 ? 0 : take_request(h, "plain");
    if (ex == 0) {
        if (w.fd >= 0) {
            close(w.fd);
        }
        return;
    }
    int rc = respond_copied(h, ex, 200, SPIKARD_RESPONSE_WRITTEN, NULL, 0, STR("plain answer"));
    CHECK(rc == SPIKARD_OK, "respond WRITTEN: %d %s", rc, spikard_last_error());
    size_t head = wire_response(&w, 12);
    CHECK(status_is(&w, "HTTP/1.1 200 OK\r\n") && header_is(w.buf, head, "content-length", "12"),
          "WRITTEN answer: %.*s", (int)head, w.buf);
    check_body(&w, head, "plain answer", 12, "WRITTEN answer");
    expect_event(h, ex, SPIKARD_EVENT_WRITTEN, 0, WAIT_MS, "the plain answer's WRITTEN");
    check_over(h, ex, "WRITTEN answer");
    close(w.fd);
}

/* ---- file answers (2.3) -------------------------------------------------- */

/* Sends "GET /s/<name>" with one extra header line (may be ""). */
static int send_get_with(int port, const char *name, const char *extra) {
    int fd = dial(port, 0);
    char req[256];
    snprintf(req, sizeof req, "GET /s/%s HTTP/1.1\r\nHost: test\r\n%s\r\n", name, extra);
    if (fd >= 0 && write_all(fd, req) != 0) {
        close(fd);
        fd = -1;
    }
    CHECK(fd >= 0, "client for /s/%s could not connect or send", name);
    return fd;
}

/* One file answer: body is path (and NUL and a name), the client sent
 * extra; checks the status line, the body and one header. */
static void file_case(host *h, const char *name, const char *extra, uint32_t flags, spikard_str body,
                      const char *status, const char *want_body, const char *hname, const char *hwant) {
    wire w = {.fd = send_get_with(h->port, name, extra)};
    uint64_t ex = w.fd < 0 ? 0 : take_request(h, name);
    if (ex == 0) {
        if (w.fd >= 0) {
            close(w.fd);
        }
        return;
    }
    int rc = respond_copied(h, ex, 200, flags, NULL, 0, body);
    CHECK(rc == SPIKARD_OK, "%s: respond FILE: %d %s", name, rc, spikard_last_error());
    size_t head = wire_response(&w, want_body ? strlen(want_body) : 0);
    CHECK(status_is(&w, status), "%s: %.*s", name, (int)head, w.buf);
    if (want_body != NULL) {
        check_body(&w, head, want_body, strlen(want_body), name);
    }
    if (hname != NULL) {
        CHECK(header_is(w.buf, head, hname, hwant), "%s: %s is not %s in %.*s", name, hname, hwant, (int)head,
              w.buf);
    }
    if (flags & SPIKARD_RESPONSE_WRITTEN) {
        expect_event(h, ex, SPIKARD_EVENT_WRITTEN, 0, WAIT_MS, "the file answer's WRITTEN");
    }
    close(w.fd);
}

static void test_file_answer(host *h) {
    char dir[] = "/tmp/spikard-file-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp");
        return;
    }
    char path[128], named[160], missing[128];
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    snprintf(missing, sizeof missing, "%s/gone.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "fopen %s", path);
    if (f == NULL) {
        return;
    }
    fputs("file body 0123456789", f);
    fclose(f);
    size_t plen = strlen(path);
    memcpy(named, path, plen + 1);
    memcpy(named + plen + 1, "t\xc3\xa9.txt", 7); /* path NUL "té.txt" */
    spikard_str body = {path, plen};
    file_case(h, "file", "", SPIKARD_RESPONSE_FILE, body, "HTTP/1.1 200 OK\r\n", "file body 0123456789",
              "content-type", "text/plain");
    file_case(h, "file-range", "Range: bytes=10-13\r\n", SPIKARD_RESPONSE_FILE, body,
              "HTTP/1.1 206 Partial Content\r\n", "0123", "content-range", "bytes 10-13/20");
    file_case(h, "file-416", "Range: bytes=50-\r\n", SPIKARD_RESPONSE_FILE, body,
              "HTTP/1.1 416 Requested Range Not Satisfiable\r\n", NULL, "content-range", "bytes */20");
    file_case(h, "file-named", "", SPIKARD_RESPONSE_FILE, (spikard_str){named, plen + 8}, "HTTP/1.1 200 OK\r\n",
              "file body 0123456789", "content-disposition",
              "attachment; filename=\"t_.txt\"; filename*=UTF-8''t%C3%A9.txt");
    file_case(h, "file-written", "", SPIKARD_RESPONSE_FILE | SPIKARD_RESPONSE_WRITTEN, body, "HTTP/1.1 200 OK\r\n",
              "file body 0123456789", "accept-ranges", "bytes");
    file_case(h, "file-missing", "", SPIKARD_RESPONSE_FILE, (spikard_str){missing, strlen(missing)},
              "HTTP/1.1 500 Internal Server Error\r\n", NULL, "content-type", "application/problem+json");
    unlink(path);
    rmdir(dir);
}

/* ---- back-pressure ----------------------------------------------------- */

/* The stream's bytes are a counter: 32-bit little-endian words 0, 1, 2...,
 * so a byte lost, doubled or moved shows where. */
static unsigned char pattern_byte(uint64_t k) {
    return (unsigned char)((k >> 2) >> (8 * (k & 3)));
}

static void fill_pattern(char *b, uint64_t offset, size_t n) {
    for (size_t i = 0; i < n; i++) {
        b[i] = (char)pattern_byte(offset + i);
    }
}

/* A chunked-body reader fed as bytes arrive; the data must be the pattern. */
enum { D_HEAD, D_SIZE, D_DATA, D_DATA_END, D_LAST, D_DONE, D_BAD };

typedef struct dechunk {
    int state;
    char head[4096];
    size_t head_len;
    char line[32]; /* a chunk-size line */
    size_t line_len;
    uint64_t remain; /* D_DATA: the chunk's bytes still to come */
    int crlf;        /* D_DATA_END, D_LAST: bytes of the CRLF seen */
    uint64_t body;   /* data bytes so far */
    uint64_t bad_at; /* the first byte off the pattern, or UINT64_MAX */
    char why[96];    /* D_BAD: what was wrong */
} dechunk;

static void dechunk_bad(dechunk *d, const char *why) {
    d->state = D_BAD;
    snprintf(d->why, sizeof d->why, "%s after %llu data bytes", why, (unsigned long long)d->body);
}

static void dechunk_feed(dechunk *d, const char *p, size_t n) {
    size_t i = 0;
    while (i < n && d->state != D_DONE && d->state != D_BAD) {
        char c = p[i];
        switch (d->state) {
        case D_HEAD:
            if (d->head_len + 1 >= sizeof d->head) {
                dechunk_bad(d, "a head too long");
                break;
            }
            d->head[d->head_len++] = c;
            i++;
            if (d->head_len >= 4 && memcmp(d->head + d->head_len - 4, "\r\n\r\n", 4) == 0) {
                d->state = D_SIZE;
            }
            break;
        case D_SIZE:
            i++;
            if (c != '\n') {
                if (d->line_len + 1 >= sizeof d->line) {
                    dechunk_bad(d, "a chunk-size line too long");
                } else {
                    d->line[d->line_len++] = c;
                }
                break;
            }
            if (d->line_len < 2 || d->line[d->line_len - 1] != '\r') {
                dechunk_bad(d, "a chunk-size line without CRLF");
                break;
            }
            d->line[d->line_len - 1] = '\0';
            char *end;
            unsigned long long size = strtoull(d->line, &end, 16);
            if (*end != '\0') {
                dechunk_bad(d, "a malformed chunk size");
                break;
            }
            d->line_len = 0;
            d->remain = size;
            d->crlf = 0;
            d->state = size == 0 ? D_LAST : D_DATA;
            break;
        case D_DATA: {
            size_t k = n - i < d->remain ? n - i : (size_t)d->remain;
            for (size_t j = 0; j < k && d->bad_at == UINT64_MAX; j++) {
                if ((unsigned char)p[i + j] != pattern_byte(d->body + j)) {
                    d->bad_at = d->body + j;
                }
            }
            d->body += k;
            d->remain -= k;
            i += k;
            if (d->remain == 0) {
                d->state = D_DATA_END;
            }
            break;
        }
        case D_DATA_END:
        case D_LAST:
            if (c != (d->crlf == 0 ? '\r' : '\n')) {
                dechunk_bad(d, d->state == D_LAST ? "no CRLF after the last chunk" : "a chunk not ended by CRLF");
                break;
            }
            i++;
            if (++d->crlf == 2) {
                d->state = d->state == D_LAST ? D_DONE : D_SIZE;
                d->crlf = 0;
            }
            break;
        }
    }
}

/* A client that reads only once told to, then everything, on its thread. */
typedef struct reader {
    int fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go;      /* guarded by mu */
    int stalled; /* nothing came for WAIT_MS */
    int eof;     /* the server closed first */
    dechunk d;
} reader;

static void *reader_main(void *arg) {
    reader *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->go) {
        pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    size_t cap = 256 << 10;
    char *buf = malloc(cap);
    while (r->d.state != D_DONE && r->d.state != D_BAD) {
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        if (poll(&pfd, 1, WAIT_MS) != 1) {
            r->stalled = 1;
            break;
        }
        ssize_t n = read(r->fd, buf, cap);
        if (n <= 0) {
            r->eof = 1;
            break;
        }
        dechunk_feed(&r->d, buf, (size_t)n);
    }
    free(buf);
    return NULL;
}

static void reader_start(reader *r) {
    pthread_mutex_lock(&r->mu);
    r->go = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* The producer side of one stream: the pattern, and the credit it is owed. */
typedef struct pump {
    host *h;
    uint64_t ex;
    uint64_t offset; /* pattern bytes queued so far */
    int owed;        /* an AGAIN came since the last credit */
    int credits;     /* credits received */
    char *piece;     /* PIECE bytes: filled before each write, scribbled after */
} pump;

/* Writes the next PIECE of the pattern, and returns its result. copied:
 * through write_copied; else from p->piece, scribbled after the call (the
 * hot retry loop, where malloc's churn would swell ASan's quarantine and so
 * the resident set being measured). */
static int pump_write(pump *p, int timeout_ms, int copied) {
    fill_pattern(p->piece, p->offset, PIECE);
    spikard_chunk c = {.exchange = p->ex, .data = {p->piece, PIECE}};
    int result = 99;
    int rc = copied ? write_copied(&result, p->h, &c, 1, timeout_ms)
                    : spikard_stream_write(&result, p->h->app, &c, 1, sizeof c, timeout_ms);
    memset(p->piece, 0xA5, PIECE);
    CHECK(rc == result, "write: rc %d, result %d", rc, result);
    if (rc == SPIKARD_OK) {
        p->offset += PIECE;
    } else if (rc == SPIKARD_E_AGAIN) {
        p->owed = 1;
    } else {
        CHECK(0, "write at byte %llu: rc %d %s", (unsigned long long)p->offset, rc, spikard_last_error());
    }
    return rc;
}

/* Polls one event, waiting up to ms; 1 if it was the stream's credit. Any
 * other event is a failure: until the stream ends only credits are due. */
static int pump_credit(pump *p, int ms) {
    spikard_event ev;
    if (!next_event(p->h, &ev, ms)) {
        return 0;
    }
    int credit = ev.exchange == p->ex && ev.kind == SPIKARD_EVENT_STREAM_CREDIT && ev.code == 0;
    CHECK(credit, "while streaming: event kind %u code %u of %llu", ev.kind, ev.code,
          (unsigned long long)ev.exchange);
    if (credit) {
        CHECK(p->owed, "a STREAM_CREDIT that no AGAIN owed");
        p->owed = 0;
        p->credits++;
    }
    return credit;
}

/* Writes with timeout 0 until the client has stopped the stream: an AGAIN
 * whose credit does not come within STUCK_MS. 1 once it has. */
static int fill_until_stuck(pump *p) {
    while (p->offset < FILL_CAP) {
        int rc = pump_write(p, 0, 1);
        if (rc == SPIKARD_OK) {
            continue;
        }
        if (rc != SPIKARD_E_AGAIN) {
            return 0;
        }
        if (!pump_credit(p, STUCK_MS)) {
            return 1;
        }
    }
    CHECK(0, "no lasting AGAIN after %llu bytes to a client that does not read", (unsigned long long)p->offset);
    return 0;
}

/* A client that does not read stops the stream (AGAIN) within the bound
 * plus the kernel's buffers. Retries for RETRY_MS, each with timeout 0,
 * keep the resident set flat. A write with a 200 ms timeout waits about
 * that long, then AGAIN. Once the client reads, exactly one STREAM_CREDIT
 * comes; writes succeed again; after END every byte has arrived in order,
 * then WRITTEN. */
static void test_back_pressure(host *h) {
    reader r = {.fd = send_get(h->port, "pressure", SMALL_RCVBUF)};
    r.d.bad_at = UINT64_MAX;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    uint64_t ex = r.fd < 0 ? 0 : take_request(h, "pressure");
    if (ex == 0) {
        if (r.fd >= 0) {
            close(r.fd);
        }
        pthread_cond_destroy(&r.cv);
        pthread_mutex_destroy(&r.mu);
        return;
    }
    pthread_t t;
    pthread_create(&t, NULL, reader_main, &r);
    int rc = respond_copied(h, ex, 200, SPIKARD_RESPONSE_STREAM, NULL, 0, (spikard_str){0});
    CHECK(rc == SPIKARD_OK, "open: %d %s", rc, spikard_last_error());
    pump p = {.h = h, .ex = ex, .piece = malloc(PIECE)};
    int ended = 0;
    if (rc == SPIKARD_OK && fill_until_stuck(&p)) {
        uint64_t stuck_at = p.offset;
        long base = rss_bytes(), peak = base;
        CHECK(base > 0, "no resident set from /proc/self/statm");
        int tries = 0, agains = 0;
        int64_t until = now_ms() + RETRY_MS;
        while (now_ms() < until) {
            int wrc = pump_write(&p, 0, 0);
            tries++;
            agains += wrc == SPIKARD_E_AGAIN;
            if (wrc != SPIKARD_OK && wrc != SPIKARD_E_AGAIN) {
                break;
            }
            /* As an event-loop host would: wait a little for the credit. */
            pump_credit(&p, 1);
            if (tries % 64 == 0) {
                long now = rss_bytes();
                peak = now > peak ? now : peak;
            }
        }
        long now = rss_bytes();
        peak = now > peak ? now : peak;
        CHECK(agains > 0, "no AGAIN in %d retries", tries);
        CHECK(peak - base <= RSS_SLACK, "the resident set grew by %ld KiB over %d retries (%d AGAIN)",
              (peak - base) >> 10, tries, agains);
        printf("stream_test: AGAIN after %llu bytes; %d retries in %d ms, %d AGAIN; resident set %+ld KiB\n",
               (unsigned long long)stuck_at, tries, RETRY_MS, agains, (peak - base) >> 10);

        /* A timed write waits for room, then gives up. */
        int64_t t0 = now_ms();
        rc = pump_write(&p, 200, 1);
        int64_t took = now_ms() - t0;
        CHECK(rc == SPIKARD_E_AGAIN, "a 200 ms write to a stopped stream: %d", rc);
        CHECK(took >= 150 && took < WAIT_MS, "a 200 ms write gave up after %lld ms", (long long)took);
        /* Should the last retries have been taken after all, fill again,
         * so that a credit is owed. */
        while (!p.owed && p.offset < FILL_CAP && pump_write(&p, 0, 1) == SPIKARD_OK) {
        }
        CHECK(p.owed, "no credit owed before the client reads");

        int before = p.credits;
        reader_start(&r);
        int64_t deadline = now_ms() + WAIT_MS;
        int credited = 0;
        while (!credited && now_ms() < deadline) {
            credited = pump_credit(&p, (int)(deadline - now_ms()));
        }
        CHECK(credited, "no STREAM_CREDIT after the client began to read");
        rc = pump_write(&p, 0, 1);
        CHECK(rc == SPIKARD_OK, "a write right after the credit: %d", rc);
        for (int i = 0; i < 64 && rc == SPIKARD_OK; i++) {
            rc = pump_write(&p, WAIT_MS, 1); /* waits for room: owes no credit */
        }
        CHECK(rc == SPIKARD_OK, "writes to a reading client: %d", rc);
        rc = pump_write(&p, -1, 1);
        CHECK(rc == SPIKARD_OK, "a write without time limit: %d", rc);
        spikard_chunk end = raw(ex, SPIKARD_CHUNK_END, NULL);
        int result = 99;
        rc = write_copied(&result, h, &end, 1, WAIT_MS);
        CHECK(rc == SPIKARD_OK && result == SPIKARD_OK, "END: %d %s", rc, spikard_last_error());
        ended = rc == SPIKARD_OK;
        /* Only credits may come before the terminal event: count them. */
        spikard_event ev;
        while (ended && next_event(h, &ev, WAIT_MS)) {
            if (ev.exchange == ex && ev.kind == SPIKARD_EVENT_STREAM_CREDIT) {
                p.credits++;
                continue;
            }
            CHECK(ev.exchange == ex && ev.kind == SPIKARD_EVENT_WRITTEN && ev.code == 0,
                  "the stream's end: kind %u code %u of %llu", ev.kind, ev.code, (unsigned long long)ev.exchange);
            break;
        }
        CHECK(p.credits - before == 1, "%d STREAM_CREDITs once the client read, want exactly 1",
              p.credits - before);
    }
    if (!ended) {
        spikard_chunk abort_chunk = raw(ex, SPIKARD_CHUNK_ABORT, NULL);
        write_copied(NULL, h, &abort_chunk, 1, 0); /* closes the connection: the reader sees EOF */
        spikard_event ev;
        while (next_event(h, &ev, 1000) && ev.kind == SPIKARD_EVENT_STREAM_CREDIT) {
        }
    }
    reader_start(&r);
    pthread_join(t, NULL);
    if (ended) {
        CHECK(r.d.state == D_DONE, "the client's read ended in state %d (%s%s%s)", r.d.state, r.d.why,
              r.stalled ? "stalled" : "", r.eof ? "eof" : "");
        CHECK(strncmp(r.d.head, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
                  header_is(r.d.head, r.d.head_len, "transfer-encoding", "chunked"),
              "head %.*s", (int)r.d.head_len, r.d.head);
        CHECK(r.d.body == p.offset, "the client got %llu bytes, %llu were queued", (unsigned long long)r.d.body,
              (unsigned long long)p.offset);
        CHECK(r.d.bad_at == UINT64_MAX, "the client's bytes leave the pattern at byte %llu",
              (unsigned long long)r.d.bad_at);
    }
    free(p.piece);
    close(r.fd);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
}

int main(void) {
    host h = {0};
    /* No keep-alive comments, so SSE bytes are exact; read_timeout far
     * above the time the back-pressure test holds its stream stopped. */
    int rc = spikard_app_new(&h.app, S("{\"port\":0,\"quiet\":true,\"stream_queue_bytes\":65536,"
                                       "\"sse_keepalive\":0,\"read_timeout\":120}"));
    CHECK(rc == SPIKARD_OK, "app_new: %d %s", rc, spikard_last_error());
    if (rc != SPIKARD_OK) {
        return 1;
    }
    rc = spikard_app_add_route(&h.route, h.app, S("{\"method\":\"GET\",\"path\":\"/s/{name}\",\"facts\":[\"meta\"]}"));
    CHECK(rc == SPIKARD_OK, "add_route: %d %s", rc, spikard_last_error());
    if (rc == SPIKARD_OK) {
        rc = spikard_poller_new(&h.poller, h.app, 0);
        CHECK(rc == SPIKARD_OK, "poller_new: %d %s", rc, spikard_last_error());
    }
    if (rc == SPIKARD_OK) {
        rc = spikard_app_start(h.app);
        CHECK(rc == SPIKARD_OK, "start: %d %s", rc, spikard_last_error());
    }
    if (rc == SPIKARD_OK) {
        rc = spikard_app_port(&h.port, h.app);
        CHECK(rc == SPIKARD_OK && h.port > 0, "port: %d %d", rc, h.port);
    }
    if (rc == SPIKARD_OK) {
        test_raw_stream(&h);
        test_length_stream(&h);
        test_sse_stream(&h);
        test_results(&h);
        test_abort(&h);
        test_written_plain(&h);
        test_file_answer(&h);
        test_back_pressure(&h);
        rc = spikard_app_stop(h.app, 1000);
        CHECK(rc == SPIKARD_OK, "stop: %d %s", rc, spikard_last_error());
        spikard_event ev = {0};
        size_t n = 0;
        rc = spikard_poller_poll(&n, h.poller, &ev, 1, sizeof ev, WAIT_MS);
        CHECK(rc == SPIKARD_E_CLOSED && n == 0, "after stop: rc %d, %zu events (kind %u)", rc, n,
              n > 0 ? ev.kind : 0);
    }
    spikard_poller_free(h.poller);
    spikard_app_free(h.app);
    printf("stream_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
