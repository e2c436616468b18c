/*
 * A Spikard app in C: two routes on 127.0.0.1:8000 (or the port in argv[1]).
 *
 *   curl http://127.0.0.1:8000/users/7
 *   curl -H 'content-type: application/json' \
 *        -d '{"id":1,"name":"Alice","email":"alice@example.com"}' http://127.0.0.1:8000/users
 *
 * Ctrl+C stops it cleanly: in-flight requests finish, then main returns.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spikard.h"

static const spikard_header json[] = {{{"content-type", 12}, {"application/json", 16}}};

/* The answer's buffers must outlive the handler (libspikard copies them once
 * it returns), and spikard_serve runs handlers one at a time on one thread,
 * so one static buffer will do. */
static char user_json[128];

static int get_user(const spikard_event *ev, spikard_response *resp, void *payload) {
    (void)payload;
    /* params is the validated parameters as JSON: {"user_id":7}. */
    const char *colon = memchr(ev->params.ptr, ':', ev->params.len);
    if (colon == NULL) {
        return 1; /* answered 500 */
    }
    long long id = strtoll(colon + 1, NULL, 10);
    int n = snprintf(user_json, sizeof user_json,
                     "{\"id\":%lld,\"name\":\"Alice\",\"email\":\"alice@example.com\"}", id);
    *resp = (spikard_response){.exchange = resp->exchange, .status = 200, .headers = json, .header_count = 1,
                               .body = {user_json, (size_t)n}};
    return 0;
}

static int create_user(const spikard_event *ev, spikard_response *resp, void *payload) {
    (void)payload;
    /* The body already passed body_schema; echo it back. */
    *resp = (spikard_response){.exchange = resp->exchange, .status = 200, .headers = json, .header_count = 1,
                               .body = ev->body};
    return 0;
}

/* Ctrl+C: a signal handler may only do async-signal-safe things, so it
 * wakes a thread that does the stopping. (sigwait alone is not enough: the
 * Go runtime's threads exist before main runs and do not block SIGINT.) */
static int wake[2];

static void on_signal(int sig) {
    (void)sig;
    int saved = errno;
    ssize_t r = write(wake[1], "", 1);
    (void)r;
    errno = saved;
}

static void *stopper(void *app) {
    char c;
    while (read(wake[0], &c, 1) < 0 && errno == EINTR) {
    }
    spikard_app_stop(app, -1);
    return NULL;
}

int main(int argc, char **argv) {
    if (spikard_abi_version() / 10000 != SPIKARD_ABI_VERSION / 10000) {
        fprintf(stderr, "libspikard ABI %d does not match spikard.h %d\n", spikard_abi_version(), SPIKARD_ABI_VERSION);
        return 1;
    }
    char config[64];
    int port = argc > 1 ? atoi(argv[1]) : 8000;
    int len = snprintf(config, sizeof config, "{\"host\":\"127.0.0.1\",\"port\":%d}", port);

    spikard_app *app;
    if (spikard_app_new(&app, config, (size_t)len) != SPIKARD_OK) {
        fprintf(stderr, "config: %s\n", spikard_last_error());
        return 1;
    }
    static const char get_route[] =
        "{\"method\":\"GET\",\"path\":\"/users/{user_id:int}\",\"parameter_schema\":{\"type\":\"object\","
        "\"properties\":{\"user_id\":{\"type\":\"integer\",\"source\":\"path\"}},\"required\":[\"user_id\"]}}";
    static const char post_route[] =
        "{\"method\":\"POST\",\"path\":\"/users\",\"body_schema\":{\"type\":\"object\",\"properties\":{"
        "\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}},"
        "\"required\":[\"id\",\"name\",\"email\"]}}";
    uint32_t route;
    if (spikard_app_add_handler(app, &route, get_route, sizeof get_route - 1, get_user, NULL) != SPIKARD_OK ||
        spikard_app_add_handler(app, &route, post_route, sizeof post_route - 1, create_user, NULL) != SPIKARD_OK) {
        fprintf(stderr, "route: %s\n", spikard_last_error());
        spikard_app_free(app);
        return 1;
    }

    pthread_t thread;
    if (pipe(wake) != 0 || pthread_create(&thread, NULL, stopper, app) != 0) {
        perror("setup");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_ONSTACK | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Runs the handlers on this thread until the stopper stops the app. */
    int rc = spikard_serve(app);
    if (rc != SPIKARD_OK) {
        fprintf(stderr, "serve: %s\n", spikard_last_error());
    }
    on_signal(0); /* if serve failed on its own, release the stopper */
    pthread_join(thread, NULL);
    spikard_app_free(app);
    return rc == SPIKARD_OK ? 0 : 1;
}
