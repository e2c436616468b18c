/*
 * server.c — the C fixture server of the conformance/parity runner: a C
 * consumer of spikard.h alone (libc and pthreads) that speaks the protocol
 * of tests/parity/servers/PROTOCOL.md on stdin/stdout.
 *
 * It reads one plan per case (case, config, route blocks, serve), builds the
 * app through spikard_app_new and spikard_app_add_handler, starts it on an
 * ephemeral loopback port, replies "listening <port>", and serves lane 0
 * with spikard_serve on a thread of its own until "stop". Every route's
 * handler answers its plan verbatim: the status, the headers in order and
 * the body bytes, nothing else; a "raise" route's handler returns non-zero,
 * so libspikard answers its standard 500. JSON is never parsed here: route
 * lines go to the library as they came, and the config line gets
 * "port":0,"quiet":true spliced in front of its keys.
 *
 * Replies: "listening <port>"; "error <message>" when a library call fails
 * (spikard_last_error(), the framework's own words) or the plan is
 * malformed ("fixture: ..."); "unsupported <message>" when the library
 * keeps what the plan asks for for a later version (SPIKARD_E_UNSUPPORTED);
 * "stopped" after "stop". stdout is flushed
 * after every reply. stderr gets one line per failure, nothing else, so a
 * runner that does not drain it never blocks us. End of stdin stops a
 * running app and exits 0; stdin ending inside a body's bytes, or a body
 * not followed by "\n", loses the protocol's framing and exits 1.
 *
 * COMPILE-TIME SWITCH. -DFIXTURE_BROKEN_STATUS builds a deliberately broken
 * server: every answer's status is the plan's plus 1 (201 for 200; raise
 * routes keep the library's 500). A test runs the parity run against it to
 * prove that a wrong server fails the run with a readable diff. build.sh
 * broken builds it as build/parity/server-c-broken.
 *
 * OWNERSHIP. A plan owns every buffer its routes' answers point to. Once
 * served, the plan moves into the running server and is freed only after
 * spikard_app_free, because each handler's payload is its route and
 * libspikard reads the answer's buffers after the handler returns.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "spikard.h"

#ifdef FIXTURE_BROKEN_STATUS
#define STATUS_SKEW 1u
#else
#define STATUS_SKEW 0u
#endif

/* How long "stop" lets in-flight requests finish. */
#define STOP_TIMEOUT_MS 1000

/* What a route's handler does. */
enum outcome { OUTCOME_NONE, OUTCOME_ANSWER, OUTCOME_RAISE };

/* One route block of a plan. headers[i] points into header_text[i]. */
typedef struct route_plan {
    char *json;
    size_t json_len;
    enum outcome outcome;
    uint32_t status;
    spikard_pair *headers;
    char **header_text;
    size_t header_count;
    char *body;
    size_t body_len;
    int has_body;
} route_plan;

/* One case: its name (for logs), its config document, its routes, and the
 * first mistake found in it (reported at "serve"). */
typedef struct plan {
    char *name;
    char *config;
    size_t config_len;
    route_plan *routes;
    size_t route_count;
    size_t route_cap;
    char mistake[256];
    char unsupported[256];
} plan;

/* The app being served, if any, with the plan its handlers answer from. */
typedef struct server {
    int running;
    spikard_app *app;
    pthread_t thread;
    plan served;
} server;

/* ---- replies ------------------------------------------------------------ */

static void reply(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* "<verdict> <message>", the message kept on one line. */
static void reply_refusal(const char *verdict, const char *msg) {
    fputs(verdict, stdout);
    fputc(' ', stdout);
    for (const char *p = msg; *p != '\0'; p++) {
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stdout);
    }
    fputc('\n', stdout);
    fflush(stdout);
}

/* "error <message>": building the app failed. */
static void reply_error(const char *msg) { reply_refusal("error", msg); }

static void *xmalloc(size_t n) {
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "server-c: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static char *copy_bytes(const char *src, size_t n) {
    char *p = xmalloc(n + 1);
    memcpy(p, src, n);
    p[n] = '\0';
    return p;
}

/* ---- plans -------------------------------------------------------------- */

static void route_free(route_plan *r) {
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->header_text[i]);
    }
    free(r->header_text);
    free(r->headers);
    free(r->body);
    free(r->json);
}

static void plan_free(plan *p) {
    for (size_t i = 0; i < p->route_count; i++) {
        route_free(&p->routes[i]);
    }
    free(p->routes);
    free(p->config);
    free(p->name);
    memset(p, 0, sizeof *p);
}

/* Records the plan's first mistake; later ones would only repeat it. */
static void plan_mistake(plan *p, const char *fmt, ...) {
    if (p->mistake[0] != '\0') {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->mistake, sizeof p->mistake, fmt, ap);
    va_end(ap);
}

/* The route the answer lines that follow belong to, or NULL. */
static route_plan *last_route(plan *p) {
    return p->route_count > 0 ? &p->routes[p->route_count - 1] : NULL;
}

/* config <json>: the runner's object with "port":0,"quiet":true spliced in
 * front of its keys. Anything but an object goes to the library as it is,
 * which refuses it in its own words. */
static void plan_config(plan *p, const char *arg, size_t n) {
    static const char prefix[] = "{\"port\":0,\"quiet\":true";
    if (p->config != NULL) {
        plan_mistake(p, "fixture: a second config line");
        return;
    }
    size_t i = 0;
    while (i < n && (arg[i] == ' ' || arg[i] == '\t')) {
        i++;
    }
    if (i == n || arg[i] != '{') {
        p->config = copy_bytes(arg, n);
        p->config_len = n;
        return;
    }
    const char *rest = arg + i + 1; /* after the '{' */
    size_t rest_len = n - i - 1;
    size_t j = 0;
    while (j < rest_len && (rest[j] == ' ' || rest[j] == '\t')) {
        j++;
    }
    int empty = j < rest_len && rest[j] == '}';
    size_t len = sizeof prefix - 1 + (empty ? 0 : 1) + rest_len;
    char *doc = xmalloc(len + 1);
    memcpy(doc, prefix, sizeof prefix - 1);
    size_t at = sizeof prefix - 1;
    if (!empty) {
        doc[at++] = ',';
    }
    memcpy(doc + at, rest, rest_len);
    doc[len] = '\0';
    p->config = doc;
    p->config_len = len;
}

static void plan_route(plan *p, const char *arg, size_t n) {
    if (p->route_count == p->route_cap) {
        size_t cap = p->route_cap > 0 ? 2 * p->route_cap : 4;
        route_plan *grown = realloc(p->routes, cap * sizeof *grown);
        if (grown == NULL) {
            fprintf(stderr, "server-c: out of memory (%zu routes)\n", cap);
            exit(1);
        }
        p->routes = grown;
        p->route_cap = cap;
    }
    route_plan *r = &p->routes[p->route_count++];
    memset(r, 0, sizeof *r);
    r->json = copy_bytes(arg, n);
    r->json_len = n;
}

/* Parses a decimal number of at most 19 digits; 0 on success. */
static int parse_count(const char *s, size_t n, unsigned long long *out) {
    if (n == 0 || n > 19) {
        return -1;
    }
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static void plan_answer(plan *p, const char *arg, size_t n) {
    route_plan *r = last_route(p);
    unsigned long long status;
    if (r == NULL || r->outcome != OUTCOME_NONE) {
        plan_mistake(p, "fixture: an answer line not right after a route line");
    } else if (parse_count(arg, n, &status) != 0 || status > UINT32_MAX - STATUS_SKEW) {
        plan_mistake(p, "fixture: answer %.*s is not a status", (int)n, arg);
    } else {
        r->outcome = OUTCOME_ANSWER;
        r->status = (uint32_t)status;
    }
}

/* header <name>: <value>, split at the first ':'; one space after it is the
 * separator, anything more belongs to the value. */
static void plan_header(plan *p, const char *arg, size_t n) {
    route_plan *r = last_route(p);
    if (p->unsupported[0] != '\0') {
        return; /* a stream block's headers: the plan is refused whole */
    }
    const char *colon = memchr(arg, ':', n);
    if (r == NULL || r->outcome != OUTCOME_ANSWER || r->has_body) {
        plan_mistake(p, "fixture: a header line outside an answer block");
        return;
    }
    if (colon == NULL || colon == arg) {
        plan_mistake(p, "fixture: header %.*s is not \"<name>: <value>\"", (int)n, arg);
        return;
    }
    char *text = copy_bytes(arg, n);
    size_t name_len = (size_t)(colon - arg);
    size_t value_at = name_len + 1;
    if (value_at < n && text[value_at] == ' ') {
        value_at++;
    }
    spikard_pair *headers = realloc(r->headers, (r->header_count + 1) * sizeof *headers);
    char **texts = headers == NULL ? NULL : realloc(r->header_text, (r->header_count + 1) * sizeof *texts);
    if (headers == NULL || texts == NULL) {
        fprintf(stderr, "server-c: out of memory (%zu headers)\n", r->header_count + 1);
        exit(1);
    }
    r->headers = headers;
    r->header_text = texts;
    r->headers[r->header_count] = (spikard_pair){{text, name_len}, {text + value_at, n - value_at}};
    r->header_text[r->header_count] = text;
    r->header_count++;
}

/* What the C server leaves to the bindings: a stream, SSE or WebSocket
 * block needs the poller loop and spikard_stream_write, which the callback
 * convenience this server answers through does not offer (spikard.h: a
 * callback "cannot open a stream"; tests/c/stream_test.c covers those calls),
 * and background work with a record needs a JSON decoder; a file answer
 * (SPIKARD_RESPONSE_FILE) is a flag the callbacks cannot set. The plan is
 * answered "unsupported", never served without it. */
static void plan_unsupported(plan *p, const char *word) {
    if (p->unsupported[0] == '\0') {
        snprintf(p->unsupported, sizeof p->unsupported,
                 "%s: the C fixture server answers through spikard_serve's callbacks, which cannot stream, "
                 "hold a WebSocket, record background work, answer lifecycle hook visits, inject dependencies or "
                 "answer with a file",
                 word);
    }
}

/* Reads and drops the n raw bytes (and "\n") after a chunk, event or send
 * line, to keep the framing; -1 when it is lost. */
static int skip_bytes(const char *what, const char *arg, size_t n) {
    const char *space = memchr(arg, ' ', n);
    size_t digits = space != NULL ? (size_t)(space - arg) : n;
    unsigned long long len;
    if (parse_count(arg, digits, &len) != 0) {
        fprintf(stderr, "server-c: %s %.*s is not a byte count\n", what, (int)n, arg);
        return -1;
    }
    for (unsigned long long i = 0; i < len; i++) {
        if (getc(stdin) == EOF) {
            fprintf(stderr, "server-c: %s of %llu bytes cut short by the end of stdin\n", what, len);
            return -1;
        }
    }
    if (getc(stdin) != '\n') {
        fprintf(stderr, "server-c: %s of %llu bytes not followed by \"\\n\"\n", what, len);
        return -1;
    }
    return 0;
}

/* body <n>: then exactly n raw bytes and "\n". The bytes are read whatever
 * state the plan is in, so the framing survives a mistake. Returns -1 when
 * the framing is lost (the caller exits). */
static int plan_body(plan *p, const char *arg, size_t n) {
    unsigned long long len;
    if (parse_count(arg, n, &len) != 0 || len > SIZE_MAX - 1) {
        fprintf(stderr, "server-c: body %.*s is not a byte count\n", (int)n, arg);
        return -1;
    }
    char *bytes = xmalloc((size_t)len);
    size_t got = 0;
    while (got < len) {
        size_t k = fread(bytes + got, 1, (size_t)len - got, stdin);
        if (k == 0) {
            break;
        }
        got += k;
    }
    if (got < len || getc(stdin) != '\n') {
        fprintf(stderr, "server-c: body of %llu bytes %s\n", len,
                got < len ? "cut short by the end of stdin" : "not followed by \"\\n\"");
        free(bytes);
        return -1;
    }
    route_plan *r = last_route(p);
    if (r == NULL || r->outcome != OUTCOME_ANSWER || r->has_body) {
        plan_mistake(p, "fixture: a body line outside an answer block");
        free(bytes);
        return 0;
    }
    r->body = bytes;
    r->body_len = (size_t)len;
    r->has_body = 1;
    return 0;
}

static void plan_raise(plan *p) {
    route_plan *r = last_route(p);
    if (r == NULL || r->outcome != OUTCOME_NONE) {
        plan_mistake(p, "fixture: a raise line not right after a route line");
        return;
    }
    r->outcome = OUTCOME_RAISE;
}

/* The mistakes only visible once the plan is complete. */
static void plan_check(plan *p) {
    if (p->config == NULL) {
        plan_mistake(p, "fixture: the plan has no config line");
    }
    if (p->route_count == 0) {
        plan_mistake(p, "fixture: the plan has no route");
    }
    for (size_t i = 0; i < p->route_count && p->unsupported[0] == '\0'; i++) {
        const route_plan *r = &p->routes[i];
        if (r->outcome == OUTCOME_NONE || (r->outcome == OUTCOME_ANSWER && !r->has_body)) {
            plan_mistake(p, "fixture: route %zu has no complete answer or raise", i + 1);
        }
    }
}

/* ---- serving ------------------------------------------------------------ */

/* Every route's handler: its payload is its route_plan, which outlives the
 * app, so the answer may point into it. */
static int answer_route(const spikard_event *event, spikard_response *response, void *payload) {
    (void)event;
    const route_plan *r = payload;
    if (r->outcome != OUTCOME_ANSWER) {
        return 1; /* raise: libspikard answers its standard 500 */
    }
    response->status = r->status + STATUS_SKEW;
    response->headers = r->headers;
    response->header_count = r->header_count;
    response->body.ptr = r->body;
    response->body.len = r->body_len;
    return 0;
}

static void *serve_thread(void *arg) {
    server *s = arg;
    int rc = spikard_serve(s->app);
    if (rc != SPIKARD_OK) {
        fprintf(stderr, "server-c: %s: spikard_serve: %d %s\n", s->served.name != NULL ? s->served.name : "",
                rc, spikard_last_error());
    }
    return NULL;
}

/* Stops the running app, if any; 0, or -1 if spikard_app_stop failed (the
 * app is freed all the same). */
static int server_stop(server *s) {
    if (!s->running) {
        return 0;
    }
    int rc = spikard_app_stop(s->app, STOP_TIMEOUT_MS);
    if (rc != SPIKARD_OK) {
        fprintf(stderr, "server-c: %s: spikard_app_stop: %d %s\n", s->served.name != NULL ? s->served.name : "",
                rc, spikard_last_error());
    }
    pthread_join(s->thread, NULL);
    spikard_app_free(s->app);
    s->app = NULL;
    s->running = 0;
    plan_free(&s->served);
    return rc == SPIKARD_OK ? 0 : -1;
}

/* Replies "error <message>" for a failed library call ("unsupported
 * <message>" when the library keeps what the plan asks for for a later
 * version: this language cannot express it yet), then frees what serve
 * built. The message is copied first: spikard_app_free could set another. */
static void serve_failed(spikard_app *app, plan *p, const char *what, int rc) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", spikard_last_error());
    fprintf(stderr, "server-c: %s: %s: %d %s\n", p->name != NULL ? p->name : "", what, rc, msg);
    spikard_app_free(app);
    plan_free(p);
    reply_refusal(rc == SPIKARD_E_UNSUPPORTED ? "unsupported" : "error", msg);
}

/* serve: build the app from the plan, start it and serve it on a thread. The
 * plan moves into the server on success and is freed on failure. */
static void server_serve(server *s, plan *p) {
    if (s->running) {
        fprintf(stderr, "server-c: serve before the previous case's stop; stopping it\n");
        server_stop(s);
    }
    plan_check(p);
    if (p->mistake[0] != '\0') {
        fprintf(stderr, "server-c: %s: %s\n", p->name != NULL ? p->name : "", p->mistake);
        reply_error(p->mistake);
        plan_free(p);
        return;
    }
    if (p->unsupported[0] != '\0') {
        reply_refusal("unsupported", p->unsupported);
        plan_free(p);
        return;
    }
    spikard_app *app;
    int rc = spikard_app_new(&app, p->config, p->config_len);
    if (rc != SPIKARD_OK) {
        serve_failed(NULL, p, "spikard_app_new", rc);
        return;
    }
    for (size_t i = 0; i < p->route_count; i++) {
        uint32_t id;
        route_plan *r = &p->routes[i];
        rc = spikard_app_add_handler(&id, app, r->json, r->json_len, answer_route, r);
        if (rc != SPIKARD_OK) {
            serve_failed(app, p, "spikard_app_add_handler", rc);
            return;
        }
    }
    int port;
    if ((rc = spikard_app_start(app)) != SPIKARD_OK) {
        serve_failed(app, p, "spikard_app_start", rc);
        return;
    }
    if ((rc = spikard_app_port(&port, app)) != SPIKARD_OK) {
        serve_failed(app, p, "spikard_app_port", rc);
        return;
    }
    s->app = app;
    s->served = *p; /* the routes array, and so every payload, stays where it is */
    memset(p, 0, sizeof *p);
    if ((rc = pthread_create(&s->thread, NULL, serve_thread, s)) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "fixture: pthread_create: %s", strerror(rc));
        fprintf(stderr, "server-c: %s: %s\n", s->served.name != NULL ? s->served.name : "", msg);
        spikard_app_free(app);
        s->app = NULL;
        plan_free(&s->served);
        reply_error(msg);
        return;
    }
    s->running = 1;
    reply("listening %d", port);
}

/* ---- the protocol loop -------------------------------------------------- */

/* Is line (n bytes) the keyword kw, alone or followed by a space? *arg is
 * what follows the space. */
static int keyword(const char *line, size_t n, const char *kw, const char **arg, size_t *arg_len) {
    size_t k = strlen(kw);
    if (n < k || memcmp(line, kw, k) != 0) {
        return 0;
    }
    if (n == k) {
        *arg = line + n;
        *arg_len = 0;
        return 1;
    }
    if (line[k] != ' ') {
        return 0;
    }
    *arg = line + k + 1;
    *arg_len = n - k - 1;
    return 1;
}

int main(void) {
    int loaded = spikard_abi_version();
    if (SPIKARD_ABI_MAJOR(loaded) != SPIKARD_ABI_MAJOR(SPIKARD_ABI_VERSION) || loaded < SPIKARD_ABI_VERSION) {
        fprintf(stderr, "server-c: libspikard has ABI %d, spikard.h describes %d\n", loaded, SPIKARD_ABI_VERSION);
        return 1;
    }
    reply("spikard-fixture 2 c");

    server s;
    plan p;
    memset(&s, 0, sizeof s);
    memset(&p, 0, sizeof p);
    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t n = (size_t)got;
        if (n > 0 && line[n - 1] == '\n') {
            n--;
        }
        const char *arg;
        size_t arg_len;
        if (keyword(line, n, "case", &arg, &arg_len)) {
            plan_free(&p);
            p.name = copy_bytes(arg, arg_len);
        } else if (keyword(line, n, "config", &arg, &arg_len)) {
            plan_config(&p, arg, arg_len);
        } else if (keyword(line, n, "route", &arg, &arg_len)) {
            plan_route(&p, arg, arg_len);
        } else if (keyword(line, n, "answer", &arg, &arg_len)) {
            plan_answer(&p, arg, arg_len);
        } else if (keyword(line, n, "header", &arg, &arg_len)) {
            plan_header(&p, arg, arg_len);
        } else if (keyword(line, n, "body", &arg, &arg_len)) {
            if (plan_body(&p, arg, arg_len) != 0) {
                status = 1;
                break;
            }
        } else if (n == 5 && memcmp(line, "raise", 5) == 0) {
            plan_raise(&p);
        } else if (keyword(line, n, "stream", &arg, &arg_len) || keyword(line, n, "sse", &arg, &arg_len) ||
                   keyword(line, n, "websocket", &arg, &arg_len) || keyword(line, n, "record", &arg, &arg_len) ||
                   keyword(line, n, "background", &arg, &arg_len) || keyword(line, n, "hook", &arg, &arg_len) ||
                   keyword(line, n, "file", &arg, &arg_len) || keyword(line, n, "dependency", &arg, &arg_len) ||
                   keyword(line, n, "inject", &arg, &arg_len)) {
            char word[16];
            snprintf(word, sizeof word, "%.*s", (int)strcspn(line, " \n"), line);
            plan_unsupported(&p, word);
        } else if (keyword(line, n, "delay", &arg, &arg_len)) {
            /* A slow handler would sleep inside spikard_serve's callback, on
             * the thread that polls the lane, holding every other request. */
            if (p.unsupported[0] == '\0') {
                snprintf(p.unsupported, sizeof p.unsupported,
                         "delay: the C fixture server answers inside spikard_serve's callbacks, where a sleeping "
                         "handler would hold the lane's other requests");
            }
        } else if (keyword(line, n, "chunk", &arg, &arg_len) || keyword(line, n, "event", &arg, &arg_len) ||
                   keyword(line, n, "send", &arg, &arg_len) || keyword(line, n, "path", &arg, &arg_len) ||
                   keyword(line, n, "filename", &arg, &arg_len) || keyword(line, n, "schema", &arg, &arg_len)) {
            if (skip_bytes("a block's bytes", arg, arg_len) != 0) {
                status = 1;
                break;
            }
        } else if (n == 3 && memcmp(line, "end", 3) == 0) {
            if (p.unsupported[0] == '\0') {
                plan_mistake(&p, "fixture: an end line outside a stream, sse or websocket block");
            }
        } else if (n == 5 && memcmp(line, "serve", 5) == 0) {
            server_serve(&s, &p);
        } else if (n == 4 && memcmp(line, "stop", 4) == 0) {
            server_stop(&s);
            reply("stopped");
        } else {
            int shown = (int)(n < 60 ? n : 60);
            fprintf(stderr, "server-c: unknown line %.*s\n", shown, line);
            plan_mistake(&p, "fixture: unknown line %.*s", shown, line);
        }
    }
    if (got < 0 && ferror(stdin)) {
        fprintf(stderr, "server-c: reading stdin: %s\n", strerror(errno));
        status = 1;
    }
    server_stop(&s);
    plan_free(&p);
    free(line);
    return status;
}
