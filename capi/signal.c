/* The ABI's signal functions, in C with no Go code: a signal handler calls
 * spikard_supervisor_signal (and may have interrupted the Go runtime
 * itself), and spikard_signal_onstack fixes up handlers that the host's
 * runtime installed behind Go's back. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "shim.h"
#include "supervise.h"

int spikard_supervisor_signal(spikard_supervisor *sup, int signo) {
    /* No message for spikard_last_error on failure: setting one allocates,
     * which a signal handler must not do. */
    if (sup == NULL) {
        return SPIKARD_E_INVALID;
    }
    if (signo == SIGHUP) {
        return SPIKARD_E_UNSUPPORTED; /* reload: a later minor */
    }
    if (signo != SIGINT && signo != SIGTERM) {
        return SPIKARD_E_INVALID;
    }
    int saved = errno; /* the interrupted code may be about to read it */
    unsigned char b = (unsigned char)signo;
    ssize_t n;
    do {
        n = write(sup->signal_fd, &b, 1);
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full of signals the supervisor has yet to read;
     * one more adds nothing. */
    int rc = (n == 1 || errno == EAGAIN) ? SPIKARD_OK : SPIKARD_E_STATE;
    errno = saved;
    return rc;
}

int spikard_signal_onstack(int signo) {
    struct sigaction sa;
    if (sigaction(signo, NULL, &sa) != 0) {
        static const char msg[] = "spikard_signal_onstack: not a signal number";
        spikard_shim_set_last_error(msg, sizeof msg - 1);
        return SPIKARD_E_INVALID;
    }
    if ((sa.sa_flags & SA_ONSTACK) != 0) {
        return SPIKARD_OK;
    }
    if ((sa.sa_flags & SA_SIGINFO) == 0 && (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)) {
        return SPIKARD_OK; /* no handler runs, on any stack */
    }
    sa.sa_flags |= SA_ONSTACK;
    if (sigaction(signo, &sa, NULL) != 0) {
        static const char msg[] = "spikard_signal_onstack: sigaction refused the handler";
        spikard_shim_set_last_error(msg, sizeof msg - 1);
        return SPIKARD_E_INVALID;
    }
    return SPIKARD_OK;
}
