/*
 * abi_test.c — pins the ownership and error rules of spikard.h, using only
 * that header and libspikard.so. HTTP traffic comes from a tiny blocking
 * client on a second thread, so the test drives the raw poll/respond flow
 * itself.
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

/* ---- a one-shot HTTP/1.1 client ---------------------------------------- */

typedef struct exchange_io {
    int port;
    const char *request;
    char response[4096];
    size_t len;
} exchange_io;

static void *client(void *arg) {
    exchange_io *io = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)io->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("client connect");
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    size_t off = 0, n = strlen(io->request);
    while (off < n) {
        ssize_t w = write(fd, io->request + off, n - off);
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    ssize_t r;
    while (io->len + 1 < sizeof io->response &&
           (r = read(fd, io->response + io->len, sizeof io->response - 1 - io->len)) > 0) {
        io->len += (size_t)r;
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

/* ---- tests ------------------------------------------------------------- */

static void test_version(void) {
    CHECK(spikard_abi_version() == SPIKARD_ABI_VERSION, "library %d, header %d", spikard_abi_version(),
          SPIKARD_ABI_VERSION);
}

static void test_app_new_errors(void) {
    spikard_app *app = (spikard_app *)&app; /* garbage that must be overwritten */
    int rc = spikard_app_new(&app, S("{\"port\":"));
    CHECK(rc == SPIKARD_E_INVALID, "invalid JSON: rc %d", rc);
    CHECK(app == NULL, "invalid JSON: *out not NULL");
    CHECK(spikard_last_error()[0] != '\0', "invalid JSON: empty spikard_last_error");

    rc = spikard_app_new(&app, S("{\"prot\":8000}"));
    CHECK(rc == SPIKARD_E_INVALID, "unknown key: rc %d", rc);
    CHECK(strstr(spikard_last_error(), "prot") != NULL, "unknown key not named: \"%s\"", spikard_last_error());

    rc = spikard_app_new(&app, S("{\"port\":\"80\"}"));
    CHECK(rc == SPIKARD_E_INVALID, "ill-typed port: rc %d", rc);

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
}

static void test_free_null(void) {
    spikard_app_free(NULL);
    spikard_poller_free(NULL);
    CHECK(1, "unreachable");
}

static void test_route_errors(spikard_app *app) {
    uint32_t id;
    int rc = spikard_app_add_route(app, &id, S("{\"method\":\"GET\",\"path\":\"/users/{id\"}"));
    CHECK(rc == SPIKARD_E_INVALID, "bad pattern: rc %d", rc);
    CHECK(spikard_last_error()[0] != '\0', "bad pattern: empty errmsg");

    rc = spikard_app_add_route(app, &id, S("{\"method\":\"FETCH\",\"path\":\"/x\"}"));
    CHECK(rc == SPIKARD_E_INVALID, "unknown method: rc %d", rc);

    rc = spikard_app_add_route(app, &id, S("{\"method\":\"POST\",\"path\":\"/x\",\"body_schema\":{\"type\":12}}"));
    CHECK(rc == SPIKARD_E_INVALID, "invalid schema: rc %d", rc);

    /* A misspelt key must not turn validation off silently (ABI 1.2). */
    rc = spikard_app_add_route(app, &id, S("{\"method\":\"POST\",\"path\":\"/x\",\"body_shema\":{\"type\":\"object\"}}"));
    CHECK(rc == SPIKARD_E_INVALID, "unknown route key: rc %d", rc);
    CHECK(strstr(spikard_last_error(), "body_shema") != NULL, "unknown route key: errmsg %s", spikard_last_error());

    CHECK(spikard_app_port(app) < 0, "port before start: %d", spikard_app_port(app));
}

/* Polls exactly one event into ev, counting a failure otherwise. */
static int poll_one(spikard_poller *poller, spikard_event *ev) {
    size_t n = 0;
    int rc = spikard_poller_poll(poller, ev, 1, 5000, &n);
    CHECK(rc == SPIKARD_OK && n == 1, "poll: rc %d n %zu", rc, n);
    return rc == SPIKARD_OK && n == 1;
}

static void test_raw_flow(spikard_app *app, uint32_t item_route) {
    int port = spikard_app_port(app);
    spikard_poller *poller = NULL;
    int rc = spikard_poller_new(&poller, app, 0);
    CHECK(rc == SPIKARD_OK && poller != NULL, "poller_new: %d", rc);
    if (poller == NULL) {
        return;
    }
    int fd = spikard_poller_fd(poller);
    CHECK(fd >= 0, "poller_fd: %d %s", fd, spikard_last_error());

    size_t n = 99;
    spikard_event events[4];
    rc = spikard_poller_poll(poller, events, 4, 0, &n);
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
    rc = spikard_poller_poll(poller, &ev, 1, 0, &n);
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
        spikard_header *hs = malloc(sizeof *hs);
        hs[0] = (spikard_header){{hname, strlen(hname)}, {hvalue, strlen(hvalue)}};
        spikard_response *resp = calloc(1, sizeof *resp);
        *resp = (spikard_response){.exchange = ev.exchange, .status = 200, .headers = hs, .header_count = 1,
                                   .body = {body, strlen(body)}};
        rc = spikard_respond(app, resp, 1);
        CHECK(rc == SPIKARD_OK, "respond: %d %s", rc, spikard_last_error());
        memset(body, 'Z', 4);
        memset(hvalue, 'Z', 2);
        free(body);
        free(hname);
        free(hvalue);
        free(hs);

        /* Answering twice: the exchange is gone. */
        rc = spikard_respond(app, resp, 1);
        CHECK(rc == SPIKARD_E_NOT_FOUND, "second respond: %d", rc);
        free(resp);
    }
    pthread_join(t, NULL);
    CHECK(strncmp(io.response, "HTTP/1.1 200", 12) == 0, "response: %s", io.response);
    CHECK(strstr(io.response, "pong") != NULL, "body: %s", io.response);
    CHECK(strstr(io.response, "42") != NULL, "header: %s", io.response);

    /* A status outside 100..599 turns into a 500. */
    start_client(&t, &io, port, "GET /items/7 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        spikard_response bad = {.exchange = ev.exchange, .status = 42};
        rc = spikard_respond(app, &bad, 1);
        CHECK(rc == SPIKARD_OK, "respond bad status: %d", rc);
    }
    pthread_join(t, NULL);
    CHECK(strncmp(io.response, "HTTP/1.1 500", 12) == 0, "bad status: %s", io.response);

    /* Unknown exchanges are skipped; the rest of the batch is delivered. */
    start_client(&t, &io, port, "GET /items/8 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        spikard_response batch[2] = {
            {.exchange = 0xdeadbeefULL, .status = 200},
            {.exchange = ev.exchange, .status = 204},
        };
        rc = spikard_respond(app, batch, 2);
        CHECK(rc == SPIKARD_E_NOT_FOUND, "respond unknown: %d", rc);
        CHECK(spikard_last_error()[0] != '\0', "respond unknown: empty errmsg");
    }
    pthread_join(t, NULL);
    CHECK(strncmp(io.response, "HTTP/1.1 204", 12) == 0, "batch with unknown: %s", io.response);

    /* Errors are core's: a problem answer is a description core renders. */
    start_client(&t, &io, port, "GET /items/9 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        static const char desc[] = "{\"detail\":\"Item 9 is archived\"}";
        spikard_header retry = {{"retry-after", 11}, {"5", 1}};
        spikard_response problem = {.exchange = ev.exchange, .status = 409, .flags = SPIKARD_RESPONSE_PROBLEM,
                                    .headers = &retry, .header_count = 1, .body = {desc, sizeof desc - 1}};
        rc = spikard_respond(app, &problem, 1);
        CHECK(rc == SPIKARD_OK, "respond problem: %d %s", rc, spikard_last_error());
    }
    pthread_join(t, NULL);
    CHECK(strncmp(io.response, "HTTP/1.1 409", 12) == 0, "problem: %s", io.response);
    CHECK(strstr(io.response, "Content-Type: application/problem+json") != NULL, "problem type: %s", io.response);
    CHECK(strstr(io.response, "Retry-After: 5") != NULL, "problem header: %s", io.response);
    CHECK(strstr(io.response, "{\"type\":\"https://spikard.dev/errors/conflict\",\"title\":\"Conflict\","
                              "\"status\":409,\"detail\":\"Item 9 is archived\"}") != NULL,
          "problem body: %s", io.response);

    /* A description core refuses still answers (500) and says why. */
    start_client(&t, &io, port, "GET /items/10 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        static const char typo[] = "{\"detial\":\"x\"}";
        spikard_response problem = {.exchange = ev.exchange, .status = 409, .flags = SPIKARD_RESPONSE_PROBLEM,
                                    .body = {typo, sizeof typo - 1}};
        rc = spikard_respond(app, &problem, 1);
        CHECK(rc == SPIKARD_E_INVALID, "respond refused problem: %d", rc);
        CHECK(strstr(spikard_last_error(), "detial") != NULL, "refused problem: errmsg %s", spikard_last_error());
    }
    pthread_join(t, NULL);
    CHECK(strncmp(io.response, "HTTP/1.1 500", 12) == 0, "refused problem: %s", io.response);

    /* Flags this library does not know are refused, never ignored. */
    start_client(&t, &io, port, "GET /items/11 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    if (poll_one(poller, &ev)) {
        spikard_response flagged = {.exchange = ev.exchange, .status = 200, .flags = 1u << 31};
        rc = spikard_respond(app, &flagged, 1);
        CHECK(rc == SPIKARD_E_UNSUPPORTED, "respond unknown flag: %d", rc);
    }
    pthread_join(t, NULL);
    CHECK(strncmp(io.response, "HTTP/1.1 500", 12) == 0, "unknown flag: %s", io.response);

    spikard_poller_free(poller);
}

/* Each poller has a fd of its own, and one request makes exactly one of
 * them readable: the lane wakes one waiting poller, not the whole pool. */
static void test_wake_one(spikard_app *app) {
    int port = spikard_app_port(app);
    spikard_poller *pollers[2] = {NULL, NULL};
    struct pollfd pfds[2];
    for (int i = 0; i < 2; i++) {
        int rc = spikard_poller_new(&pollers[i], app, 0);
        CHECK(rc == SPIKARD_OK && pollers[i] != NULL, "poller_new: %d", rc);
        if (pollers[i] == NULL) {
            spikard_poller_free(pollers[0]);
            return;
        }
        pfds[i] = (struct pollfd){.fd = spikard_poller_fd(pollers[i]), .events = POLLIN};
        CHECK(pfds[i].fd >= 0, "poller_fd: %d %s", pfds[i].fd, spikard_last_error());
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
    int rc = spikard_poller_poll(pollers[woken], &ev, 1, 0, &n);
    CHECK(rc == SPIKARD_OK && n == 1, "poll of the woken poller: rc %d n %zu", rc, n);
    if (n == 1 || poll_one(pollers[woken], &ev)) {
        spikard_response resp = {.exchange = ev.exchange, .status = 204};
        rc = spikard_respond(app, &resp, 1);
        CHECK(rc == SPIKARD_OK, "respond: %d %s", rc, spikard_last_error());
    }
    pthread_join(t, NULL);
    CHECK(strncmp(io.response, "HTTP/1.1 204", 12) == 0, "response: %s", io.response);
    spikard_poller_free(pollers[0]);
    spikard_poller_free(pollers[1]);
}

static void *poll_forever(void *arg) {
    spikard_poller *poller = arg;
    spikard_event ev;
    size_t n = 0;
    return (void *)(intptr_t)spikard_poller_poll(poller, &ev, 1, -1, &n);
}

static void test_lifecycle(void) {
    spikard_app *app;
    int rc = spikard_app_new(&app, S("{\"port\":0,\"quiet\":true}"));
    CHECK(rc == SPIKARD_OK, "app_new: %d", rc);
    if (rc != SPIKARD_OK) {
        return;
    }
    test_route_errors(app);

    uint32_t item_route = 99, other;
    rc = spikard_app_add_route(app, &other, S("{\"method\":\"GET\",\"path\":\"/health\"}"));
    CHECK(rc == SPIKARD_OK && other == 0, "add /health: %d %u %s", rc, other, spikard_last_error());
    rc = spikard_app_add_route(app, &item_route,
                               S("{\"method\":\"GET\",\"path\":\"/items/{item_id:int}\",\"wants_request\":true,"
                                 "\"parameter_schema\":{\"type\":\"object\",\"properties\":{\"item_id\":"
                                 "{\"type\":\"integer\",\"source\":\"path\"}}}}"));
    CHECK(rc == SPIKARD_OK && item_route == 1, "add /items: %d %u %s", rc, item_route, spikard_last_error());

    rc = spikard_app_start(app);
    CHECK(rc == SPIKARD_OK, "start: %d %s", rc, spikard_last_error());
    if (rc != SPIKARD_OK) {
        spikard_app_free(app);
        return;
    }
    CHECK(spikard_app_port(app) > 0, "port: %d", spikard_app_port(app));
    rc = spikard_app_start(app);
    CHECK(rc == SPIKARD_E_STATE, "start twice: %d", rc);
    uint32_t late;
    rc = spikard_app_add_route(app, &late, S("{\"method\":\"GET\",\"path\":\"/late\"}"));
    CHECK(rc == SPIKARD_E_STATE, "add_route after start: %d", rc);

    test_raw_flow(app, item_route);
    test_wake_one(app);

    /* A poll that waits forever ends with SPIKARD_E_CLOSED at stop. */
    spikard_poller *poller;
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
    rc = spikard_poller_poll(poller, &ev, 1, 0, &n);
    CHECK(rc == SPIKARD_E_CLOSED && n == 0, "poll after stop: %d n %zu", rc, n);
    rc = spikard_app_start(app);
    CHECK(rc == SPIKARD_E_STATE, "start after stop: %d", rc);
    spikard_poller_free(poller);
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
        spikard_app_free(app);
        CHECK(spikard_config_check(S("{\"port\":0}")) == SPIKARD_OK, "config_check");
    }
    CHECK(strcmp(msg, copy) == 0 && strstr(msg, "prot") != NULL, "message after successful calls: %s", msg);
    CHECK(spikard_last_error() == msg, "a successful call replaced the message");
}

int main(void) {
    test_version();
    test_last_error_lifetime();
    test_app_new_errors();
    test_config_check();
    test_free_null();
    test_lifecycle();
    test_free_running();
    printf("abi_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
