// Linux socket calls the Swift Glibc module does not import (they need _GNU_SOURCE): batched
// receive and poll with a nanosecond timeout, for the heartbeat loop (VigilDaemon/Heartbeat).
#ifndef VIGIL_CNET_H
#define VIGIL_CNET_H
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

/// struct mmsghdr, declared here with the same layout (checked in cnet.c).
struct vigil_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// recvmmsg(2) without a timeout.
int vigil_recvmmsg(int fd, struct vigil_mmsghdr *messages, unsigned int count, int flags);

/// ppoll(2) without a signal mask.
int vigil_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout);

#endif
