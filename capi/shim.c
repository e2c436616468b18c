/* The C half of capi: state that must live on a host thread, and the one
 * place that calls host code. */
#include <pthread.h>

#include "shim.h"

/* spikard_last_error is per thread. A Go goroutine may run on any thread, but
 * an exported call runs on its caller's thread, so a C thread-local set from
 * inside the call lands on the right one. The key frees the message when
 * the thread exits. */
static pthread_key_t last_error_key;
static pthread_once_t last_error_once = PTHREAD_ONCE_INIT;

static void last_error_init(void) { pthread_key_create(&last_error_key, free); }

void spikard_shim_set_last_error(const char *msg, size_t len) {
    pthread_once(&last_error_once, last_error_init);
    char *old = pthread_getspecific(last_error_key);
    char *copy = NULL;
    if (len > 0) {
        copy = malloc(len + 1);
        if (copy != NULL) {
            memcpy(copy, msg, len);
            copy[len] = '\0';
        }
    }
    pthread_setspecific(last_error_key, copy);
    free(old);
}

const char *spikard_last_error(void) {
    pthread_once(&last_error_once, last_error_init);
    const char *msg = pthread_getspecific(last_error_key);
    return msg != NULL ? msg : "";
}

int spikard_shim_call(const spikard_handler_entry *entry, const spikard_event *event,
                      spikard_response *response) {
    return entry->fn(event, response, entry->payload);
}
