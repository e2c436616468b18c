/*
 * supervise_test.c — the workers and signals section of spikard.h, using
 * only that header and libspikard.so. The program is its own worker: when
 * spikard_worker_index succeeds it serves GET /pid (its process id) until
 * SIGTERM; otherwise it is the test, and supervises copies of itself.
 *
 * Each worker also writes "<index> <pid>\n" on SUPERVISE_TEST_REPORT_FD (a
 * pipe the test passes in envp) once its app has started, so the test
 * knows when both listen, and which pid replaced a killed one, without
 * sleeping.
 */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spikard.h"

#include "check.h"

#define WORKER_ARG "--as-worker" /* argv[1] of every worker: argv passes through */
#define REPORT_ENV "SUPERVISE_TEST_REPORT_FD"
#define MODE_ENV "SUPERVISE_TEST_MODE"

/* ---- the worker ---------------------------------------------------------- */

static int worker_stop_pipe[2];

static void worker_on_signal(int sig) {
    (void)sig;
    int saved = errno;
    char c = 1;
    ssize_t r = write(worker_stop_pipe[1], &c, 1);
    (void)r;
    errno = saved;
}

static void *worker_stopper(void *arg) {
    char c;
    while (read(worker_stop_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    spikard_app_stop((spikard_app *)arg, -1);
    return NULL;
}

typedef struct pid_buf {
    char text[32];
} pid_buf;

static int answer_pid(const spikard_event *ev, spikard_response *resp, void *payload) {
    (void)ev;
    pid_buf *buf = payload;
    int n = snprintf(buf->text, sizeof buf->text, "%ld", (long)getpid());
    resp->status = 200;
    resp->body.ptr = buf->text;
    resp->body.len = (size_t)n;
    return 0;
}

static int worker_main(int index, int argc, char **argv) {
    const char *mode = getenv(MODE_ENV);
    if (mode != NULL && strcmp(mode, "exit-before-ready") == 0) {
        return 3;
    }
    if (argc != 2 || strcmp(argv[1], WORKER_ARG) != 0) {
        fprintf(stderr, "worker %d: argv did not pass through\n", index);
        return 4;
    }
    /* A worker's app binds the supervisor's address whatever this says. */
    static const char config[] = "{\"port\":1,\"quiet\":false}";
    static const char route[] = "{\"method\":\"GET\",\"path\":\"/pid\"}";
    static pid_buf buf;
    spikard_app *app;
    uint32_t id;
    if (spikard_app_new(&app, S(config)) != SPIKARD_OK ||
        spikard_app_add_handler(&id, app, S(route), answer_pid, &buf) != SPIKARD_OK) {
        fprintf(stderr, "worker %d: %s\n", index, spikard_last_error());
        return 5;
    }
    if (pipe(worker_stop_pipe) != 0) {
        return 6;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = worker_on_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t stopper;
    pthread_create(&stopper, NULL, worker_stopper, app);

    int rc = spikard_app_start(app);
    if (rc != SPIKARD_OK) {
        fprintf(stderr, "worker %d: start: %d %s\n", index, rc, spikard_last_error());
        _exit(7); /* the stopper thread still waits */
    }
    const char *report = getenv(REPORT_ENV);
    if (report != NULL) {
        int fd = atoi(report);
        char line[64];
        int n = snprintf(line, sizeof line, "%d %ld\n", index, (long)getpid());
        ssize_t w = write(fd, line, (size_t)n); /* one write under PIPE_BUF: never interleaved */
        (void)w;
        close(fd);
    }
    int serve_rc = spikard_serve(app);
    worker_on_signal(0); /* release the stopper if serve ended on its own */
    pthread_join(stopper, NULL);
    spikard_app_free(app);
    close(worker_stop_pipe[0]);
    close(worker_stop_pipe[1]);
    return serve_rc == SPIKARD_OK ? 0 : 8;
}

/* ---- the test's tools ------------------------------------------------------ */

/* GET /pid on a fresh connection; the answering pid, or -1. */
static long get_pid(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char req[] = "GET /pid HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    char resp[1024];
    size_t len = 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t r = read(fd, resp + len, sizeof resp - 1 - len);
        if (r <= 0) {
            break;
        }
        len += (size_t)r;
    }
    close(fd);
    resp[len] = '\0';
    const char *body = strstr(resp, "\r\n\r\n");
    if (strncmp(resp, "HTTP/1.1 200", 12) != 0 || body == NULL) {
        return -1;
    }
    return strtol(body + 4, NULL, 10);
}

/* Fresh connections until want has answered (the kernel picks a worker by
 * a hash of the client's port, so a few dozen suffice); 1 if it did. */
static int answers_from(int port, long want) {
    for (int i = 0; i < 500; i++) {
        if (get_pid(port) == want) {
            return 1;
        }
    }
    return 0;
}

/* The workers' report pipe: lines "<index> <pid>". */
typedef struct report {
    int fd;
    char buf[512];
    size_t len;
} report;

/* The next report line, waiting up to 60 s; 0 on success. */
static int next_report(report *r, int *index, long *pid) {
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        if (nl != NULL) {
            *nl = '\0';
            int ok = sscanf(r->buf, "%d %ld", index, pid) == 2;
            size_t used = (size_t)(nl + 1 - r->buf);
            memmove(r->buf, nl + 1, r->len - used);
            r->len -= used;
            return ok ? 0 : -1;
        }
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 60000) != 1) {
            return -1;
        }
        ssize_t n = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
        if (n <= 0) {
            return -1;
        }
        r->len += (size_t)n;
    }
}

/* A heap copy of a NULL-terminated array of strings with extra appended,
 * so that the test can scribble over it and free it right after the call. */
static char **copy_strings(char *const *list, const char *extra) {
    size_t n = 0;
    while (list != NULL && list[n] != NULL) {
        n++;
    }
    char **out = calloc(n + 2, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(list[i]);
    }
    if (extra != NULL) {
        out[n++] = strdup(extra);
    }
    out[n] = NULL;
    return out;
}

static void scribble_and_free(char **list) {
    for (size_t i = 0; list[i] != NULL; i++) {
        memset(list[i], 'x', strlen(list[i]));
        free(list[i]);
        list[i] = (char *)"scribbled";
    }
    free(list);
}

extern char **environ;

/* ---- the cases ------------------------------------------------------------- */

static void test_refusals(const char *self) {
    int index = 77;
    CHECK(spikard_worker_index(&index) == SPIKARD_E_NOT_FOUND && index == 0, "index %d", index);
    CHECK(spikard_worker_index(NULL) == SPIKARD_E_INVALID, "NULL out_index");

    const char *argv[] = {self, WORKER_ARG, NULL};
    const char *no_args[] = {NULL};
    spikard_supervisor *sup = (spikard_supervisor *)&index; /* garbage: must become NULL */
    int rc = spikard_supervise(&sup, argv, NULL, S("{\"workers\":1,\"wrokers\":2}"));
    CHECK(rc == SPIKARD_E_INVALID && sup == NULL, "unknown key: %d", rc);
    CHECK(strcmp(spikard_last_error(), "supervise: unknown key \"wrokers\"") == 0, "message: %s", spikard_last_error());
    rc = spikard_supervise(&sup, argv, NULL, S("{\"port\":0}"));
    CHECK(rc == SPIKARD_E_INVALID && strstr(spikard_last_error(), "\"workers\" is required") != NULL, "no workers: %d %s", rc,
          spikard_last_error());
    rc = spikard_supervise(&sup, argv, NULL, S("{\"workers\":0}"));
    CHECK(rc == SPIKARD_E_INVALID, "0 workers: %d", rc);
    CHECK(spikard_supervise(NULL, argv, NULL, S("{\"workers\":1}")) == SPIKARD_E_INVALID, "NULL out");
    sup = (spikard_supervisor *)&index;
    CHECK(spikard_supervise(&sup, NULL, NULL, S("{\"workers\":1}")) == SPIKARD_E_INVALID && sup == NULL, "NULL argv");
    sup = (spikard_supervisor *)&index;
    CHECK(spikard_supervise(&sup, no_args, NULL, S("{\"workers\":1}")) == SPIKARD_E_INVALID && sup == NULL, "empty argv");
    const char *missing[] = {"/nonexistent/supervise_test", NULL};
    sup = (spikard_supervisor *)&index;
    rc = spikard_supervise(&sup, missing, NULL, S("{\"workers\":2,\"port\":0}"));
    CHECK(rc == SPIKARD_E_IO && sup == NULL && strstr(spikard_last_error(), "start worker 0") != NULL,
          "missing executable: %d %s", rc, spikard_last_error());

    int port = 5;
    CHECK(spikard_supervisor_port(&port, NULL) == SPIKARD_E_INVALID && port == 0, "port of NULL");
    int done = 5, status = 5;
    CHECK(spikard_supervisor_wait(&done, &status, NULL, 0) == SPIKARD_E_INVALID && done == 0 && status == 0,
          "wait on NULL");
    CHECK(spikard_supervisor_signal(NULL, SIGTERM) == SPIKARD_E_INVALID, "signal to NULL");
    spikard_supervisor_free(NULL);
    passed++;

    /* The options check spawns nothing and judges as spikard_supervise does. */
    CHECK(spikard_supervise_check(S("{\"workers\":4}")) == SPIKARD_OK, "check workers 4");
    CHECK(spikard_supervise_check(S("{}")) == SPIKARD_E_INVALID &&
              strstr(spikard_last_error(), "\"workers\" is required") != NULL,
          "check no workers: %s", spikard_last_error());
    CHECK(spikard_supervise_check(S("{\"workers\":0}")) == SPIKARD_E_INVALID &&
              strstr(spikard_last_error(), "\"workers\": must be an integer in 1..1024") != NULL,
          "check workers 0: %s", spikard_last_error());
    CHECK(spikard_supervise_check(S("{\"wrokers\":2}")) == SPIKARD_E_INVALID &&
              strstr(spikard_last_error(), "unknown key \"wrokers\"") != NULL,
          "check a typo: %s", spikard_last_error());
}

static void on_usr(int sig) { (void)sig; }

static void test_signal_onstack(void) {
    struct sigaction sa, got;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr;
    sa.sa_flags = SA_RESTART; /* as a runtime that knows nothing of Go would install it */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaction(SIGUSR2, &sa, NULL);
    CHECK(spikard_signal_onstack(SIGUSR2) == SPIKARD_OK, "onstack: %s", spikard_last_error());
    sigaction(SIGUSR2, NULL, &got);
    CHECK((got.sa_flags & SA_ONSTACK) && (got.sa_flags & SA_RESTART) && got.sa_handler == on_usr &&
              sigismember(&got.sa_mask, SIGUSR1) == 1,
          "flags %#x", (unsigned)got.sa_flags);
    CHECK(spikard_signal_onstack(SIGUSR2) == SPIKARD_OK, "twice");
    signal(SIGUSR2, SIG_DFL);

    signal(SIGUSR1, SIG_DFL);
    CHECK(spikard_signal_onstack(SIGUSR1) == SPIKARD_OK, "SIG_DFL");
    sigaction(SIGUSR1, NULL, &got);
    CHECK(got.sa_handler == SIG_DFL && !(got.sa_flags & SA_ONSTACK), "SIG_DFL was changed: %#x", (unsigned)got.sa_flags);
    CHECK(spikard_signal_onstack(0) == SPIKARD_E_INVALID && spikard_last_error()[0] != '\0', "signal 0");
    CHECK(spikard_signal_onstack(100000) == SPIKARD_E_INVALID, "signal 100000");
}

static spikard_supervisor *signalled_sup;
static volatile sig_atomic_t signal_rc = 1;

/* A host's handler: SA_ONSTACK, and nothing but the ABI's async-signal-safe call. */
static void forward_signal(int sig) { signal_rc = spikard_supervisor_signal(signalled_sup, sig); }

static void test_two_workers(const char *self) {
    report r = {.len = 0};
    int fds[2];
    if (pipe(fds) != 0) { /* no O_CLOEXEC: the workers inherit the write end */
        perror("pipe");
        failed++;
        return;
    }
    r.fd = fds[0];
    char report_var[64];
    snprintf(report_var, sizeof report_var, REPORT_ENV "=%d", fds[1]);
    char *const args[] = {(char *)self, (char *)WORKER_ARG, NULL};
    char **argv = copy_strings(args, NULL);
    char **envp = copy_strings(environ, report_var);
    static const char options[] = "{\"workers\":2,\"host\":\"127.0.0.1\",\"port\":0,\"quiet\":true,\"shutdown_timeout\":2}";
    char *opts = strdup(options);
    spikard_supervisor *sup = NULL;
    int rc = spikard_supervise(&sup, (const char *const *)argv, (const char *const *)envp, opts, strlen(opts));
    /* OWNERSHIP: argv, envp and options were copied. */
    scribble_and_free(argv);
    scribble_and_free(envp);
    memset(opts, 'x', strlen(opts));
    free(opts);
    CHECK(rc == SPIKARD_OK && sup != NULL, "spikard_supervise: %d %s", rc, spikard_last_error());
    if (rc != SPIKARD_OK) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    int port = 0;
    CHECK(spikard_supervisor_port(&port, sup) == SPIKARD_OK && port > 0, "port %d", port);
    int done = 5, status = 5;
    CHECK(spikard_supervisor_wait(&done, &status, sup, 0) == SPIKARD_OK && done == 0 && status == 0, "running: done %d",
          done);

    long pids[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        int index = -1;
        long pid = 0;
        int got = next_report(&r, &index, &pid) == 0 && (index == 0 || index == 1) && pids[index] == 0 && pid > 0;
        CHECK(got, "report %d: index %d pid %ld", i, index, pid);
        if (!got) {
            goto out; /* freeing the supervisor kills what it started */
        }
        pids[index] = pid;
    }
    CHECK(pids[0] != pids[1] && pids[0] != getpid() && pids[1] != getpid(), "worker pids %ld %ld", pids[0], pids[1]);
    CHECK(answers_from(port, pids[0]), "worker 0 (pid %ld) never answered", pids[0]);
    CHECK(answers_from(port, pids[1]), "worker 1 (pid %ld) never answered", pids[1]);

    /* A worker killed while serving is replaced under its index. */
    kill((pid_t)pids[1], SIGKILL);
    int index = -1;
    long replacement = 0;
    int replaced = next_report(&r, &index, &replacement) == 0 && index == 1 && replacement > 0 &&
                   replacement != pids[0] && replacement != pids[1];
    CHECK(replaced, "replacement: index %d pid %ld", index, replacement);
    if (!replaced) {
        goto out;
    }
    CHECK(answers_from(port, replacement), "the replacement (pid %ld) never answered", replacement);

    CHECK(spikard_supervisor_signal(sup, SIGHUP) == SPIKARD_E_UNSUPPORTED, "SIGHUP");
    CHECK(spikard_supervisor_signal(sup, SIGUSR1) == SPIKARD_E_INVALID, "SIGUSR1");

    /* SIGTERM to the whole process, through a handler as a C host installs it. */
    signalled_sup = sup;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old);
    kill(getpid(), SIGTERM);
    rc = spikard_supervisor_wait(&done, &status, sup, 60000);
    CHECK(rc == SPIKARD_OK && done == 1 && status == 0, "after SIGTERM: rc %d done %d status %d %s", rc, done, status,
          rc == SPIKARD_OK ? "" : spikard_last_error());
    CHECK(signal_rc == SPIKARD_OK, "the handler's call returned %d", signal_rc);
    sigaction(SIGTERM, &old, NULL);
    rc = spikard_supervisor_wait(&done, &status, sup, -1);
    CHECK(rc == SPIKARD_OK && done == 1 && status == 0, "a second wait: %d %d %d", rc, done, status);

    /* Every worker is gone, and reaped: this process has no child left. */
    CHECK(kill((pid_t)pids[0], 0) != 0 && kill((pid_t)replacement, 0) != 0, "a worker outlived the stop");
    CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "children left");
out:
    spikard_supervisor_free(sup);
    close(fds[0]);
    close(fds[1]);
}

static void test_worker_dies_before_ready(const char *self) {
    char *const args[] = {(char *)self, (char *)WORKER_ARG, NULL};
    char **envp = copy_strings(environ, MODE_ENV "=exit-before-ready");
    spikard_supervisor *sup = NULL;
    int rc = spikard_supervise(&sup, (const char *const *)args, (const char *const *)envp,
                               S("{\"workers\":2,\"port\":0,\"quiet\":true}"));
    scribble_and_free(envp);
    CHECK(rc == SPIKARD_OK, "spikard_supervise: %d %s", rc, spikard_last_error());
    if (rc != SPIKARD_OK) {
        return;
    }
    int done = 0, status = 0;
    rc = spikard_supervisor_wait(&done, &status, sup, 60000);
    CHECK(rc == SPIKARD_E_WORKER && done == 1 && status == 3, "rc %d done %d status %d", rc, done, status);
    const char *msg = spikard_last_error();
    CHECK(strstr(msg, "spikard: worker ") == msg && strstr(msg, " exited with status 3 before it listened") != NULL,
          "message: %s", msg);
    rc = spikard_supervisor_wait(&done, &status, sup, 0);
    CHECK(rc == SPIKARD_E_WORKER && done == 1 && status == 3, "a second wait: %d %d %d", rc, done, status);
    spikard_supervisor_free(sup);
    CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "children left");
}

int main(int argc, char **argv) {
    int index;
    if (spikard_worker_index(&index) == SPIKARD_OK) {
        return worker_main(index, argc, argv);
    }
    int loaded = spikard_abi_version();
    CHECK(SPIKARD_ABI_MAJOR(loaded) == SPIKARD_ABI_MAJOR(SPIKARD_ABI_VERSION) && loaded >= SPIKARD_ABI_VERSION,
          "library %d, header %d", loaded, SPIKARD_ABI_VERSION);
    test_refusals(argv[0]);
    test_signal_onstack();
    test_two_workers(argv[0]);
    test_worker_dies_before_ready(argv[0]);
    printf("supervise_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
