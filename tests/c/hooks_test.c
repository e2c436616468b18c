/*
 * hooks_test.c — lifecycle hooks through spikard.h alone: a pre visit
 * (SPIKARD_EVENT_HOOK, ON_REQUEST) continued with a changed request header
 * that validation then sees, a pre visit short-circuited with a 401, an
 * error visit of core's 404 (SPIKARD_NO_ROUTE, its status and headers in
 * params) whose answer replaces core's, and CONTINUE refused for a
 * REQUEST.
 *
 * The test is both sides on one thread: it writes a whole request on a
 * loopback socket (it fits the socket buffer), polls and answers the
 * events it causes, then reads the answer until the server closes.
 *
 * OWNERSHIP: header names and values handed to spikard_respond are
 * malloc'ed copies, scribbled over and freed as soon as the call returns;
 * a library that kept a pointer would validate the scribble.
 */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spikard.h"

#include "check.h"
#include "client.h"

#define WAIT_MS 10000 /* far above what a loaded machine needs: reaching it means a hang */

static int has(spikard_str s, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= s.len; i++) {
        if (memcmp(s.ptr + i, needle, k) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Polls one event into *ev; 0 when none came. */
static int poll_one(spikard_poller *p, spikard_event *ev) {
    size_t n = 0;
    int rc = spikard_poller_poll(&n, p, ev, 1, sizeof *ev, WAIT_MS);
    CHECK(rc == SPIKARD_OK && n == 1, "poll: rc %d n %zu %s", rc, n, spikard_last_error());
    return rc == SPIKARD_OK && n == 1;
}

/* Answers exchange with status, one header (name NULL: none) and body,
 * from scribbled-over copies. The result code. */
static int answer(spikard_app *app, uint64_t exchange, uint32_t status, uint32_t flags, const char *name,
                  const char *value, const char *body) {
    char *n = name ? strdup(name) : NULL, *v = value ? strdup(value) : NULL;
    spikard_pair h = {{n, n ? strlen(n) : 0}, {v, v ? strlen(v) : 0}};
    spikard_response r = {exchange, status, flags, name ? &h : NULL, name ? 1 : 0, {body, body ? strlen(body) : 0}};
    int result = 0;
    int rc = spikard_respond(&result, app, &r, 1, sizeof r);
    if (n) {
        memset(n, 'X', strlen(n));
        free(n);
    }
    if (v) {
        memset(v, 'X', strlen(v));
        free(v);
    }
    return rc == SPIKARD_OK ? result : rc;
}

/* Reads the whole answer (the request asked Connection: close). */
static size_t read_answer(int fd, char *buf, size_t cap) {
    size_t off = 0;
    ssize_t r;
    while (off + 1 < cap && (r = read(fd, buf + off, cap - 1 - off)) > 0) {
        off += (size_t)r;
    }
    buf[off] = 0;
    close(fd);
    return off;
}

int main(void) {
    spikard_app *app = NULL;
    int rc = spikard_app_new(&app, S("{\"port\":0,\"quiet\":true,\"hooks\":[\"on_error\"]}"));
    CHECK(rc == SPIKARD_OK, "app_new: %s", spikard_last_error());
    if (rc != SPIKARD_OK) {
        return 1;
    }
    uint32_t me = 0, plain = 0;
    rc = spikard_app_add_route(&me, app,
                               S("{\"method\":\"GET\",\"path\":\"/me\",\"hooks\":[\"on_request\"],"
                                 "\"parameter_schema\":{\"type\":\"object\",\"properties\":{\"x_user\":"
                                 "{\"type\":\"string\",\"source\":\"header\"}},\"required\":[\"x_user\"]}}"));
    CHECK(rc == SPIKARD_OK, "add /me: %s", spikard_last_error());
    rc = spikard_app_add_route(&plain, app, S("{\"method\":\"GET\",\"path\":\"/plain\"}"));
    CHECK(rc == SPIKARD_OK, "add /plain: %s", spikard_last_error());
    rc = spikard_app_add_route(&plain, app, S("{\"method\":\"GET\",\"path\":\"/ws\",\"websocket\":true,\"hooks\":[]}"));
    CHECK(rc == SPIKARD_E_INVALID, "hooks on a websocket route: rc %d", rc);
    spikard_poller *p = NULL;
    CHECK(spikard_poller_new(&p, app, 0) == SPIKARD_OK, "poller: %s", spikard_last_error());
    CHECK(spikard_app_start(app) == SPIKARD_OK, "start: %s", spikard_last_error());
    int port = 0;
    spikard_app_port(&port, app);
    spikard_event ev;
    char buf[8192];

    /* A pre visit continued: the header it sets is what validation sees. */
    int fd = dial(port, 0);
    write_all(fd, "GET /me HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nConnection: close\r\n\r\n");
    if (poll_one(p, &ev)) {
        CHECK(ev.kind == SPIKARD_EVENT_HOOK && ev.code == SPIKARD_HOOK_ON_REQUEST && ev.route == me,
              "pre visit: kind %u code %u route %u", ev.kind, ev.code, ev.route);
        int seen = 0;
        for (size_t i = 0; i < ev.header_count; i++) {
            seen |= has(ev.headers[i].name, "authorization") && has(ev.headers[i].value, "Bearer ok");
        }
        CHECK(seen, "the pre visit carries the request's headers");
        CHECK(ev.params.len == 0, "a pre visit has no params yet");
        CHECK(answer(app, ev.exchange, 0, SPIKARD_RESPONSE_CONTINUE, "x-user", "ada", NULL) == SPIKARD_OK,
              "continue: %s", spikard_last_error());
    }
    if (poll_one(p, &ev)) {
        CHECK(ev.kind == SPIKARD_EVENT_REQUEST && has(ev.params, "\"x_user\":\"ada\""), "request after continue: %u %.*s",
              ev.kind, (int)ev.params.len, ev.params.ptr);
        char params[256];
        snprintf(params, sizeof params, "%.*s", (int)ev.params.len, ev.params.ptr);
        CHECK(answer(app, ev.exchange, 200, 0, "content-type", "application/json", params) == SPIKARD_OK, "answer");
    }
    read_answer(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "{\"x_user\":\"ada\"}") != NULL, "continued: %s", buf);

    /* A pre visit short-circuited: its answer is the client's. */
    fd = dial(port, 0);
    write_all(fd, "GET /me HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    if (poll_one(p, &ev)) {
        CHECK(ev.kind == SPIKARD_EVENT_HOOK, "second pre visit: kind %u", ev.kind);
        CHECK(answer(app, ev.exchange, 401, 0, "www-authenticate", "Bearer", "no") == SPIKARD_OK, "401");
    }
    read_answer(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 401", 12) == 0 && strstr(buf, "\r\n\r\nno") != NULL, "short circuit: %s", buf);

    /* An error visit of core's own 404, answered with a replacement. */
    fd = dial(port, 0);
    write_all(fd, "GET /nothing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    if (poll_one(p, &ev)) {
        CHECK(ev.kind == SPIKARD_EVENT_HOOK && ev.code == SPIKARD_HOOK_ON_ERROR && ev.route == SPIKARD_NO_ROUTE,
              "error visit: kind %u code %u route %u", ev.kind, ev.code, ev.route);
        CHECK(has(ev.params, "{\"status\":404,\"headers\":[[\"content-type\",\"application/problem+json\"]"),
              "error visit params %.*s", (int)ev.params.len, ev.params.ptr);
        CHECK(has(ev.body, "\"status\":404") && has(ev.path, "/nothing"), "error visit body and path");
        CHECK(answer(app, ev.exchange, 418, 0, "content-type", "text/plain", "teapot") == SPIKARD_OK, "replace");
    }
    read_answer(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 418", 12) == 0 && strstr(buf, "\r\n\r\nteapot") != NULL &&
              strstr(buf, "problem") == NULL,
          "replaced 404: %s", buf);

    /* CONTINUE answers visits only: for a REQUEST it is refused, with the 500. */
    fd = dial(port, 0);
    write_all(fd, "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    if (poll_one(p, &ev)) {
        CHECK(ev.kind == SPIKARD_EVENT_REQUEST, "plain: kind %u", ev.kind);
        rc = answer(app, ev.exchange, 0, SPIKARD_RESPONSE_CONTINUE, NULL, NULL, NULL);
        CHECK(rc == SPIKARD_E_INVALID, "continue for a request: %d", rc);
    }
    /* The refused answer's 500 is core's problem: it makes an error visit. */
    if (poll_one(p, &ev)) {
        CHECK(ev.kind == SPIKARD_EVENT_HOOK && has(ev.params, "\"status\":500"), "500's visit: %u", ev.kind);
        CHECK(answer(app, ev.exchange, 0, SPIKARD_RESPONSE_CONTINUE, "x-error-id", "e1", NULL) == SPIKARD_OK, "go on");
    }
    read_answer(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 500", 12) == 0 && strstr(buf, "X-Error-Id: e1") != NULL &&
              strstr(buf, "internal-server-error") != NULL,
          "refused continue: %s", buf);

    spikard_app_stop(app, 1000);
    spikard_poller_free(p);
    spikard_app_free(app);
    printf("hooks_test: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
