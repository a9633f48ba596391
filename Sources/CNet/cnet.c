#define _GNU_SOURCE
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include "include/cnet.h"

_Static_assert(sizeof(struct vigil_mmsghdr) == sizeof(struct mmsghdr), "struct mmsghdr layout");
_Static_assert(offsetof(struct vigil_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "struct mmsghdr layout");

int vigil_recvmmsg(int fd, struct vigil_mmsghdr *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}

int vigil_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout) {
    return ppoll(fds, count, timeout, NULL);
}
