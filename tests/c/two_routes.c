/*
 * two_routes.c — a C consumer of spikard.h alone, serving two routes through
 * spikard_app_add_handler + spikard_serve on the main thread:
 *
 *   GET  /users/{user_id:int}  -> {"id":<id>,"name":"Alice","email":"alice@example.com"}
 *   POST /users                -> the validated body, echoed
 *
 * It prints the bound port (it listens on port 0) and exits 0 after SIGTERM
 * or SIGINT. run.sh drives it with curl.
 *
 * Signals: the usual sigwait() thread does not work reliably here, because
 * the Go runtime starts its threads when libspikard loads, before main can
 * block anything, so a process-directed SIGTERM may land on a Go thread that
 * has it unblocked and kill the process. A plain handler works from any
 * thread; it only write()s to a pipe (async-signal-safe), and a thread of
 * ours reads the pipe and calls spikard_app_stop.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spikard.h"

static int stop_pipe[2];

static void on_signal(int sig) {
    (void)sig;
    int saved = errno;
    char c = 1;
    ssize_t r = write(stop_pipe[1], &c, 1);
    (void)r;
    errno = saved;
}

static void *stopper(void *arg) {
    char c;
    while (read(stop_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    spikard_app_stop((spikard_app *)arg, -1);
    return NULL;
}

static const spikard_pair json_headers[] = {
    {{"content-type", 12}, {"application/json", 16}},
};

/* Response buffers must outlive the handler's return (libspikard copies them
 * after), so the GET handler writes into its payload, not its stack. */
typedef struct user_buf {
    char json[128];
} user_buf;

/* Finds "key": in a flat JSON object and parses the integer after it. */
static int json_int(spikard_str doc, const char *key, long long *out) {
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 2 < doc.len; i++) {
        if (doc.ptr[i] == '"' && memcmp(doc.ptr + i + 1, key, klen) == 0 && doc.ptr[i + 1 + klen] == '"') {
            size_t j = i + klen + 2;
            while (j < doc.len && (doc.ptr[j] == ':' || doc.ptr[j] == ' ')) {
                j++;
            }
            char num[32];
            size_t n = 0;
            while (j < doc.len && n + 1 < sizeof num && (doc.ptr[j] == '-' || (doc.ptr[j] >= '0' && doc.ptr[j] <= '9'))) {
                num[n++] = doc.ptr[j++];
            }
            if (n == 0) {
                return -1;
            }
            num[n] = '\0';
            *out = strtoll(num, NULL, 10);
            return 0;
        }
    }
    return -1;
}

static int get_user(const spikard_event *ev, spikard_response *resp, void *payload) {
    user_buf *buf = payload;
    long long id;
    if (json_int(ev->params, "user_id", &id) != 0) {
        return 1;
    }
    int n = snprintf(buf->json, sizeof buf->json,
                     "{\"id\":%lld,\"name\":\"Alice\",\"email\":\"alice@example.com\"}", id);
    resp->status = 200;
    resp->headers = json_headers;
    resp->header_count = 1;
    resp->body.ptr = buf->json;
    resp->body.len = (size_t)n;
    return 0;
}

/* The event's body lives in the poller's buffer until the next poll, which
 * is after libspikard has copied this answer. */
static int create_user(const spikard_event *ev, spikard_response *resp, void *payload) {
    (void)payload;
    resp->status = 200;
    resp->headers = json_headers;
    resp->header_count = 1;
    resp->body = ev->body;
    return 0;
}

static int fail(const char *what, int rc) {
    fprintf(stderr, "two_routes: %s: %d %s\n", what, rc, spikard_last_error());
    return 1;
}

int main(void) {
    static const char config[] = "{\"port\":0,\"quiet\":true}";
    static const char get_route[] =
        "{\"method\":\"GET\",\"path\":\"/users/{user_id:int}\","
        "\"parameter_schema\":{\"type\":\"object\",\"properties\":{\"user_id\":{\"type\":\"integer\",\"source\":\"path\"}},\"required\":[\"user_id\"]}}";
    static const char post_route[] =
        "{\"method\":\"POST\",\"path\":\"/users\","
        "\"body_schema\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}},"
        "\"required\":[\"id\",\"name\",\"email\"]}}";

    int loaded = spikard_abi_version();
    if (SPIKARD_ABI_MAJOR(loaded) != SPIKARD_ABI_MAJOR(SPIKARD_ABI_VERSION) || loaded < SPIKARD_ABI_VERSION) {
        fprintf(stderr, "two_routes: libspikard ABI %d, header %d\n", loaded, SPIKARD_ABI_VERSION);
        return 1;
    }
    spikard_app *app;
    int rc = spikard_app_new(&app, config, sizeof config - 1);
    if (rc != SPIKARD_OK) {
        return fail("spikard_app_new", rc);
    }
    static user_buf buf;
    uint32_t route;
    if ((rc = spikard_app_add_handler(&route, app, get_route, sizeof get_route - 1, get_user, &buf)) != SPIKARD_OK) {
        return fail("add GET /users/{user_id}", rc);
    }
    if ((rc = spikard_app_add_handler(&route, app, post_route, sizeof post_route - 1, create_user, NULL)) != SPIKARD_OK) {
        return fail("add POST /users", rc);
    }

    if (pipe(stop_pipe) != 0) {
        perror("pipe");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESTART; /* SA_ONSTACK: Go threads run handlers on their signal stack */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t stop_thread;
    pthread_create(&stop_thread, NULL, stopper, app);

    if ((rc = spikard_app_start(app)) != SPIKARD_OK) {
        return fail("spikard_app_start", rc);
    }
    int port;
    if ((rc = spikard_app_port(&port, app)) != SPIKARD_OK) {
        return fail("spikard_app_port", rc);
    }
    printf("%d\n", port);
    fflush(stdout);

    int serve_rc = spikard_serve(app);
    if (serve_rc != SPIKARD_OK) {
        fail("spikard_serve", serve_rc);
    }
    on_signal(0); /* release the stopper if serve ended on its own */
    pthread_join(stop_thread, NULL);
    spikard_app_free(app);
    return serve_rc == SPIKARD_OK ? 0 : 1;
}
