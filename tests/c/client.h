/*
 * client.h — the loopback client side the C tests of spikard.h share: a
 * connect with an optional receive buffer size, and a write that sends a
 * whole string.
 */
#ifndef SPIKARD_TEST_CLIENT_H
#define SPIKARD_TEST_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connects to the app; rcvbuf, if not 0, is set before connecting. The
 * socket, or -1. */
static int dial(int port, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        return -1;
    }
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) {
        perror("SO_RCVBUF");
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *s) {
    size_t off = 0, n = strlen(s);
    while (off < n) {
        ssize_t w = write(fd, s + off, n - off);
        if (w <= 0) {
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

#endif
