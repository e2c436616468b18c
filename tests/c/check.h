/*
 * check.h — the few lines every C test of spikard.h shares: a CHECK that
 * counts instead of stopping, so one run reports every failure, and S()
 * for passing a string literal with its length.
 */
#ifndef SPIKARD_TEST_CHECK_H
#define SPIKARD_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (cond) {                                                         \
            passed++;                                                       \
        } else {                                                            \
            failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

#define S(lit) lit, sizeof lit - 1

#endif
