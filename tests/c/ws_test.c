/*
 * ws_test.c — WebSockets and broadcast through spikard.h alone (ABI 2.1):
 * the route key and config keys, WS_OPEN with params and headers, the
 * WS_ACCEPT answer and its 101, whole messages out of fragments with a
 * ping between them, the flags of binary messages, host messages as exact
 * frames on the wire, refused chunks, close codes both ways (host, client,
 * 1009 from core) as the one terminal WS_CLOSE, back-pressure (AGAIN, then
 * one STREAM_CREDIT), channels, and 1001 at stop before the lane closes.
 *
 * The test is the host and the client, on one thread: the server runs on
 * libspikard's own threads, so a blocking poll or read here never stalls
 * it. The client is a raw socket that writes masked frames by hand.
 *
 * OWNERSHIP: every buffer handed to spikard_respond, spikard_stream_write
 * and spikard_ws_publish is a malloc'ed copy, scribbled over and freed as
 * soon as the call returns; a library that kept a pointer would send the
 * scribble, and the byte checks would see it. Events are polled into an
 * exactly-sized malloc'ed array, so ASan sees a write past it.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <poll.h>
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

#define WAIT_MS 10000
#define QUEUE_BYTES 65536
#define PIECE (16 << 10)
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" /* RFC 6455's example, for KEY */

static spikard_app *app;
static spikard_poller *poller;
static spikard_event *events; /* exactly one element, malloc'ed */

/* ---- the host side ------------------------------------------------------- */

/* A copy of the event polled last. */
typedef struct copied {
    uint64_t exchange;
    uint32_t kind, code, flags;
    char body[256];
    size_t body_len;
    char params[256];
    char protocol[64]; /* the sec-websocket-protocol header of a WS_OPEN */
} copied;

/* Polls one event into *out; 0 on timeout or error. */
static int next_event(copied *out) {
    size_t n = 0;
    int rc = spikard_poller_poll(&n, poller, events, 1, sizeof(spikard_event), WAIT_MS);
    if (rc != SPIKARD_OK || n != 1) {
        return 0;
    }
    const spikard_event *ev = &events[0];
    memset(out, 0, sizeof *out);
    out->exchange = ev->exchange;
    out->kind = ev->kind;
    out->code = ev->code;
    out->flags = ev->flags;
    out->body_len = ev->body.len < sizeof out->body ? ev->body.len : sizeof out->body - 1;
    memcpy(out->body, ev->body.ptr, out->body_len);
    snprintf(out->params, sizeof out->params, "%.*s", (int)ev->params.len, ev->params.ptr);
    for (size_t i = 0; i < ev->header_count; i++) {
        const spikard_pair *h = &ev->headers[i];
        if (h->name.len == 22 && memcmp(h->name.ptr, "sec-websocket-protocol", 22) == 0) {
            snprintf(out->protocol, sizeof out->protocol, "%.*s", (int)h->value.len, h->value.ptr);
        }
    }
    return 1;
}

static int never_called(const spikard_event *ev, spikard_response *resp, void *payload) {
    (void)ev;
    (void)resp;
    (void)payload;
    return 1;
}

static char *dup_bytes(const char *s, size_t n) {
    char *p = malloc(n ? n : 1);
    if (n > 0) {
        memcpy(p, s, n);
    }
    return p;
}

/* One chunk through spikard_stream_write from a scribbled copy. */
static int write_chunk(uint64_t exchange, uint32_t flags, uint32_t code, const char *data, size_t n) {
    char *copy = dup_bytes(data, n);
    spikard_chunk c = {.exchange = exchange, .flags = flags, .code = code, .data = {copy, n}};
    int result = 12345;
    int rc = spikard_stream_write(&result, app, &c, 1, sizeof c, 0);
    memset(copy, '#', n);
    free(copy);
    return rc == result ? rc : -100;
}

static int accept_ws(uint64_t exchange, const char *protocol) {
    char *name = dup_bytes("sec-websocket-protocol", 22);
    char *value = protocol ? dup_bytes(protocol, strlen(protocol)) : NULL;
    spikard_pair h = {{name, 22}, {value, value ? strlen(protocol) : 0}};
    spikard_response r = {.exchange = exchange, .status = 101, .flags = SPIKARD_RESPONSE_WS_ACCEPT,
                          .headers = protocol ? &h : NULL, .header_count = protocol ? 1 : 0};
    int result = 12345;
    int rc = spikard_respond(&result, app, &r, 1, sizeof r);
    memset(name, '#', 22);
    free(name);
    if (value) {
        memset(value, '#', strlen(protocol));
        free(value);
    }
    return rc == result ? rc : -100;
}

/* ---- the client side: a raw socket --------------------------------------- */

typedef struct client {
    int fd;
    size_t len;
    unsigned char buf[1 << 17];
} client;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads more into c; 1 if bytes came, 0 at EOF, -1 on timeout. */
static int fill(client *c, int ms) {
    if (c->len == sizeof c->buf) {
        return -1;
    }
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) != 1) {
        return -1;
    }
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (r <= 0) {
        return 0;
    }
    c->len += (size_t)r;
    return 1;
}

static void consume(client *c, size_t n) {
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Sends the handshake for path with extra header lines. */
static int ws_dial(client *c, int port, const char *path, const char *extra, int rcvbuf) {
    c->len = 0;
    c->fd = dial(port, rcvbuf);
    if (c->fd < 0) {
        return -1;
    }
    char req[1024];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n%s\r\n",
             path, extra ? extra : "");
    return write_all(c->fd, req);
}

/* Reads the response head into head (NUL-terminated); its status, or 0. */
static int read_head(client *c, char *head, size_t cap) {
    int64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        for (size_t i = 0; i + 4 <= c->len; i++) {
            if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
                size_t n = i + 4 < cap ? i + 4 : cap - 1;
                memcpy(head, c->buf, n);
                head[n] = '\0';
                consume(c, i + 4);
                int status = 0;
                sscanf(head, "HTTP/1.1 %d", &status);
                return status;
            }
        }
        if (fill(c, (int)(deadline - now_ms())) <= 0) {
            return 0;
        }
    }
}

/* Sends one masked client frame. */
static int send_frame(client *c, int fin, int op, const void *data, size_t n) {
    unsigned char f[16 + 70000];
    size_t at = 0;
    static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    f[at++] = (unsigned char)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        f[at++] = (unsigned char)(0x80 | n);
    } else {
        f[at++] = 0x80 | 126;
        f[at++] = (unsigned char)(n >> 8);
        f[at++] = (unsigned char)n;
    }
    memcpy(f + at, key, 4);
    at += 4;
    for (size_t i = 0; i < n; i++) {
        f[at + i] = ((const unsigned char *)data)[i] ^ key[i % 4];
    }
    at += n;
    size_t off = 0;
    while (off < at) {
        ssize_t w = write(c->fd, f + off, at - off);
        if (w <= 0) {
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

/* Reads one server frame: its opcode (and FIN in *fin), payload into out
 * (NUL-terminated, cut at cap). The payload's length, or -1. */
static long read_frame(client *c, int *op, unsigned char *out, size_t cap) {
    int64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        if (c->len >= 2) {
            size_t n = c->buf[1] & 0x7f, head = 2;
            if (c->buf[1] & 0x80) {
                return -1; /* a server never masks */
            }
            if (n == 126 && c->len >= 4) {
                n = ((size_t)c->buf[2] << 8) | c->buf[3];
                head = 4;
            } else if (n == 127 && c->len >= 10) {
                n = 0;
                for (int i = 2; i < 10; i++) {
                    n = (n << 8) | c->buf[i];
                }
                head = 10;
            } else if (n >= 126) {
                head = 0; /* length not in yet */
            }
            if (head > 0 && c->len >= head + n) {
                *op = c->buf[0] & 0x0f;
                size_t k = n < cap - 1 ? n : cap - 1;
                memcpy(out, c->buf + head, k);
                out[k] = '\0';
                consume(c, head + n);
                return (long)n;
            }
        }
        if (fill(c, (int)(deadline - now_ms())) <= 0) {
            return -1;
        }
    }
}

/* A close frame's code from its payload. */
static int close_code(const unsigned char *p, long n) {
    return n >= 2 ? (p[0] << 8) | p[1] : (n == 0 ? 1005 : -1);
}

/* ---- the tests -------------------------------------------------------------- */

static void test_documents(void) {
    CHECK(spikard_config_check(S("{\"ws_max_message_size\":64,\"ws_inbound_bytes\":4096,"
                                 "\"ws_ping_interval\":0,\"ws_origins\":[\"*\"]}")) == SPIKARD_OK,
          "%s", spikard_last_error());
    CHECK(spikard_config_check(S("{\"ws_origins\":[\"not an origin\"]}")) == SPIKARD_E_INVALID, "ws_origins");
    CHECK(spikard_config_check(S("{\"broadcast\":{\"redis\":\"mysql://x\"}}")) == SPIKARD_E_INVALID, "broadcast");
    CHECK(spikard_config_check(S("{\"broadcast\":{\"redis\":\"redis://127.0.0.1:6379/0\",\"prefix\":\"a:\"}}")) ==
              SPIKARD_OK,
          "%s", spikard_last_error());
    spikard_app *a = NULL;
    CHECK(spikard_app_new(&a, S("{\"port\":0,\"quiet\":true}")) == SPIKARD_OK, "app");
    uint32_t route = 99;
    CHECK(spikard_app_add_route(&route, a, S("{\"method\":\"POST\",\"path\":\"/w\",\"websocket\":true}")) ==
              SPIKARD_E_INVALID,
          "a POST WebSocket route");
    CHECK(spikard_app_add_route(&route, a,
                                S("{\"method\":\"GET\",\"path\":\"/w\",\"websocket\":{\"subprotocol\":[]}}")) ==
              SPIKARD_E_INVALID,
          "a misspelt websocket key");
    CHECK(strstr(spikard_last_error(), "subprotocol") != NULL, "%s", spikard_last_error());
    CHECK(spikard_app_add_route(&route, a, S("{\"method\":\"GET\",\"path\":\"/w\",\"websocket\":true,\"hooks\":[]}")) ==
              SPIKARD_E_INVALID,
          "hooks are not for WebSocket routes (2.3)");
    CHECK(spikard_ws_subscribe(a, 77, S("room")) == SPIKARD_E_NOT_FOUND, "subscribe before start");
    CHECK(spikard_ws_publish(a, S("room"), 0, S("nobody")) == SPIKARD_OK, "publish to nobody");
    CHECK(spikard_ws_publish(a, S("room"), SPIKARD_CHUNK_WS_CLOSE, S("x")) == SPIKARD_E_UNSUPPORTED, "publish flags");
    CHECK(spikard_ws_publish(a, S("room"), 0, S("\xff")) == SPIKARD_E_INVALID, "publish bad UTF-8");
    CHECK(spikard_ws_publish(a, "", 0, 0, S("x")) == SPIKARD_E_INVALID, "publish to no channel");
    spikard_app_free(a);
}

static void test_connection(int port) {
    client *c = calloc(1, sizeof *c);
    copied ev;
    char head[2048];
    unsigned char got[256];
    int op = 0;
    long n;

    CHECK(ws_dial(c, port, "/ws/7", "Sec-WebSocket-Protocol: chat, superchat\r\n", 0) == 0, "dial");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_OPEN, "WS_OPEN, got kind %u", ev.kind);
    CHECK(strcmp(ev.params, "{\"room\":7}") == 0, "WS_OPEN params %s", ev.params);
    CHECK(strcmp(ev.protocol, "chat, superchat") == 0, "WS_OPEN headers: protocol %s", ev.protocol);
    uint64_t id = ev.exchange;
    /* Writing before the 101 is out is fine: it waits in the queue. */
    CHECK(accept_ws(id, "superchat") == SPIKARD_OK, "accept: %s", spikard_last_error());
    CHECK(write_chunk(id, 0, 0, S("welcome")) == SPIKARD_OK, "an early write: %s", spikard_last_error());
    CHECK(read_head(c, head, sizeof head) == 101, "status of %s", head);
    CHECK(strcasestr(head, "sec-websocket-accept: " ACCEPT "\r\n") != NULL, "accept key in %s", head);
    CHECK(strcasestr(head, "sec-websocket-protocol: superchat\r\n") != NULL, "protocol in %s", head);
    n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 1 && n == 7 && memcmp(got, "welcome", 7) == 0, "frame %d %ld %s", op, n, got);

    /* Fragments with a ping between them: one whole message, one pong. */
    CHECK(send_frame(c, 0, 0x1, "hel", 3) == 0 && send_frame(c, 1, 0x9, "ping!", 5) == 0 &&
              send_frame(c, 1, 0x0, "lo", 2) == 0,
          "send fragments");
    n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 0xA && n == 5 && memcmp(got, "ping!", 5) == 0, "pong %d %ld %s", op, n, got);
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_MESSAGE && ev.exchange == id, "WS_MESSAGE");
    CHECK(ev.flags == 0 && ev.body_len == 5 && memcmp(ev.body, "hello", 5) == 0, "text %u %.*s", ev.flags,
          (int)ev.body_len, ev.body);
    CHECK(send_frame(c, 1, 0x2, "\x00\x01", 2) == 0, "send binary");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_MESSAGE, "binary WS_MESSAGE");
    CHECK(ev.flags == SPIKARD_EVENT_F_BINARY && ev.body_len == 2 && ev.body[1] == 1, "binary flags %u", ev.flags);

    /* Host messages are exact frames. */
    CHECK(write_chunk(id, SPIKARD_CHUNK_WS_BINARY, 0, "\xff\x00z", 3) == SPIKARD_OK, "binary chunk");
    n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 2 && n == 3 && got[0] == 0xff && got[2] == 'z', "binary frame %d %ld", op, n);

    /* Refusals change nothing. */
    CHECK(write_chunk(id, SPIKARD_CHUNK_END, 0, NULL, 0) == SPIKARD_E_INVALID, "END on a WebSocket");
    CHECK(write_chunk(id, 0, 0, S("\xc3(")) == SPIKARD_E_INVALID, "text not UTF-8");
    CHECK(write_chunk(id, SPIKARD_CHUNK_WS_CLOSE, 1005, NULL, 0) == SPIKARD_E_INVALID, "close 1005");
    CHECK(write_chunk(id, 0, 1000, S("x")) == SPIKARD_E_INVALID, "a code without WS_CLOSE");
    CHECK(write_chunk(id, 1u << 10, 0, S("x")) == SPIKARD_E_UNSUPPORTED, "an unknown chunk flag");
    CHECK(write_chunk(id, 0, 0, S("still open")) == SPIKARD_OK, "after refusals");
    n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 1 && n == 10, "after refusals: frame %d %ld", op, n);

    /* Channels. */
    CHECK(spikard_ws_subscribe(app, id, S("room")) == SPIKARD_OK, "subscribe: %s", spikard_last_error());
    char *msg = dup_bytes("to everyone", 11);
    CHECK(spikard_ws_publish(app, S("room"), 0, msg, 11) == SPIKARD_OK, "publish: %s", spikard_last_error());
    memset(msg, '#', 11);
    free(msg);
    n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 1 && n == 11 && memcmp(got, "to everyone", 11) == 0, "published frame %d %ld %s", op, n, got);
    CHECK(spikard_ws_unsubscribe(app, id, S("room")) == SPIKARD_OK, "unsubscribe");
    CHECK(spikard_ws_publish(app, S("room"), SPIKARD_CHUNK_WS_BINARY, S("gone")) == SPIKARD_OK, "publish again");
    CHECK(spikard_ws_subscribe(app, id + 1, S("room")) == SPIKARD_E_NOT_FOUND, "subscribe no WebSocket");

    /* The host closes: its WS_CLOSE comes at once, the frame follows. */
    CHECK(write_chunk(id, SPIKARD_CHUNK_WS_CLOSE, 4000, S("done")) == SPIKARD_OK, "close: %s", spikard_last_error());
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_CLOSE && ev.code == 4000, "WS_CLOSE %u %u", ev.kind,
          ev.code);
    CHECK(ev.body_len == 4 && memcmp(ev.body, "done", 4) == 0, "close reason %.*s", (int)ev.body_len, ev.body);
    n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 8 && close_code(got, n) == 4000 && n == 6 && memcmp(got + 2, "done", 4) == 0, "close frame %d %ld",
          op, n);
    CHECK(send_frame(c, 1, 0x8, "\x0f\xa0", 2) == 0, "answer the close");
    CHECK(write_chunk(id, 0, 0, S("late")) == SPIKARD_E_NOT_FOUND, "a write after the close");
    CHECK(spikard_ws_subscribe(app, id, S("room")) == SPIKARD_E_NOT_FOUND, "subscribe after the close");
    close(c->fd);
    free(c);
}

static void test_client_closes_and_limits(int port) {
    client *c = calloc(1, sizeof *c);
    copied ev;
    char head[2048];
    unsigned char got[256];
    int op = 0;

    /* The client closes first: its code, answered. */
    CHECK(ws_dial(c, port, "/ws/1", NULL, 0) == 0, "dial");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_OPEN, "WS_OPEN");
    CHECK(accept_ws(ev.exchange, NULL) == SPIKARD_OK, "accept");
    CHECK(read_head(c, head, sizeof head) == 101, "101");
    CHECK(strcasestr(head, "sec-websocket-protocol") == NULL, "no protocol chosen: %s", head);
    CHECK(send_frame(c, 1, 0x8, "\x03\xe9going", 7) == 0, "client close");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_CLOSE && ev.code == 1001, "WS_CLOSE %u", ev.code);
    CHECK(ev.body_len == 5 && memcmp(ev.body, "going", 5) == 0, "reason %.*s", (int)ev.body_len, ev.body);
    long n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 8 && close_code(got, n) == 1001, "the answered close: %d %d", op, close_code(got, n));
    close(c->fd);

    /* Past ws_max_message_size (64): core closes with 1009. */
    CHECK(ws_dial(c, port, "/ws/2", NULL, 0) == 0, "dial");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_OPEN, "WS_OPEN");
    CHECK(accept_ws(ev.exchange, NULL) == SPIKARD_OK, "accept");
    CHECK(read_head(c, head, sizeof head) == 101, "101");
    char big[100];
    memset(big, 'b', sizeof big);
    CHECK(send_frame(c, 1, 0x2, big, sizeof big) == 0, "send 100 bytes");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_CLOSE && ev.code == 1009, "WS_CLOSE %u", ev.code);
    n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 8 && close_code(got, n) == 1009, "close frame %d %d", op, close_code(got, n));
    close(c->fd);
    free(c);
}

static void test_back_pressure(int port) {
    client *c = calloc(1, sizeof *c);
    copied ev;
    char head[2048];
    CHECK(ws_dial(c, port, "/ws/3", NULL, 4096) == 0, "dial");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_OPEN, "WS_OPEN");
    uint64_t id = ev.exchange;
    CHECK(accept_ws(id, NULL) == SPIKARD_OK, "accept");
    CHECK(read_head(c, head, sizeof head) == 101, "101");
    char *piece = malloc(PIECE);
    memset(piece, 'p', PIECE);
    int rc = SPIKARD_OK;
    long sent = 0;
    while (rc == SPIKARD_OK && sent < 10000) {
        rc = write_chunk(id, SPIKARD_CHUNK_WS_BINARY, 0, piece, PIECE);
        sent += rc == SPIKARD_OK;
    }
    CHECK(rc == SPIKARD_E_AGAIN, "AGAIN after %ld pieces: %d", sent, rc);
    /* The client reads everything: exactly one credit comes. */
    long frames = 0;
    unsigned char *got = malloc(PIECE + 1);
    int op = 0;
    while (frames < sent && read_frame(c, &op, got, PIECE + 1) == PIECE) {
        frames++;
    }
    CHECK(frames == sent, "read %ld of %ld messages", frames, sent);
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_STREAM_CREDIT && ev.exchange == id, "credit: kind %u",
          ev.kind);
    free(got);
    free(piece);
    close(c->fd);
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_CLOSE && ev.code == 1006, "dropped: %u %u", ev.kind,
          ev.code);
    free(c);
}

static void test_accept_answers_ws_open_only(int port) {
    int fd = dial(port, 0);
    CHECK(write_all(fd, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n") == 0, "send");
    copied ev;
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_REQUEST, "REQUEST");
    CHECK(accept_ws(ev.exchange, NULL) == SPIKARD_E_INVALID, "WS_ACCEPT on a request");
    char buf[512] = {0};
    ssize_t r = read(fd, buf, sizeof buf - 1);
    CHECK(r > 0 && strncmp(buf, "HTTP/1.1 500", 12) == 0, "the client got %s", buf);
    close(fd);
}

static void test_stop(int port) {
    client *c = calloc(1, sizeof *c);
    copied ev;
    char head[2048];
    unsigned char got[256];
    int op = 0;
    CHECK(ws_dial(c, port, "/ws/4", NULL, 0) == 0, "dial");
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_OPEN, "WS_OPEN");
    CHECK(accept_ws(ev.exchange, NULL) == SPIKARD_OK, "accept");
    CHECK(read_head(c, head, sizeof head) == 101, "101");
    CHECK(spikard_app_stop(app, 3000) == SPIKARD_OK, "stop");
    long n = read_frame(c, &op, got, sizeof got);
    CHECK(op == 8 && close_code(got, n) == 1001, "close at stop: %d %d", op, close_code(got, n));
    CHECK(next_event(&ev) && ev.kind == SPIKARD_EVENT_WS_CLOSE && ev.code == 1001, "WS_CLOSE %u", ev.code);
    size_t count = 9;
    CHECK(spikard_poller_poll(&count, poller, events, 1, sizeof(spikard_event), WAIT_MS) == SPIKARD_E_CLOSED,
          "then the lane is closed");
    close(c->fd);
    free(c);
}

int main(void) {
    int want = 20001;
    CHECK(spikard_abi_version() >= want, "ABI %d", spikard_abi_version());
    test_documents();
    CHECK(spikard_app_new(&app, S("{\"port\":0,\"quiet\":true,\"stream_queue_bytes\":65536,"
                                  "\"ws_max_message_size\":64}")) == SPIKARD_OK,
          "app: %s", spikard_last_error());
    uint32_t route = 0;
    CHECK(spikard_app_add_route(&route, app,
                                S("{\"method\":\"GET\",\"path\":\"/ws/{room:int}\",\"websocket\":{\"subprotocols\":"
                                  "[\"chat\",\"superchat\"]},\"facts\":[\"meta\"],\"parameter_schema\":{\"type\":"
                                  "\"object\",\"properties\":{\"room\":{\"type\":\"integer\",\"source\":\"path\"}}}}")) ==
              SPIKARD_OK,
          "route: %s", spikard_last_error());
    CHECK(spikard_app_add_route(&route, app, S("{\"method\":\"GET\",\"path\":\"/plain\"}")) == SPIKARD_OK, "plain");
    CHECK(spikard_app_add_handler(&route, app, S("{\"method\":\"GET\",\"path\":\"/h\",\"websocket\":true}"),
                                  never_called, NULL) == SPIKARD_E_INVALID,
          "a WebSocket route with a handler");
    CHECK(spikard_poller_new(&poller, app, 0) == SPIKARD_OK, "poller");
    events = malloc(sizeof(spikard_event));
    CHECK(spikard_app_start(app) == SPIKARD_OK, "start: %s", spikard_last_error());
    int port = 0;
    spikard_app_port(&port, app);
    test_connection(port);
    test_client_closes_and_limits(port);
    test_back_pressure(port);
    test_accept_answers_ws_open_only(port);
    test_stop(port);
    free(events);
    spikard_poller_free(poller);
    spikard_app_free(app);
    printf("ws_test: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
