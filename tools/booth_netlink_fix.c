/* tools/booth_netlink_fix.c: lets Debian 12's booth 1.0 start on Linux 6.9 and later (tools/bench tickets).
 *
 * At start boothd finds its own address with an RTM_GETADDR dump and reads replies until the FIRST
 * message of a reply is NLMSG_DONE. Since Linux 6.9 the kernel may append NLMSG_DONE to the last
 * batch of addresses, so boothd waits forever for a reply that never comes (fixed upstream in
 * ClusterLabs/booth pull request 139, 2024; Debian 12's booth predates it). Loaded with LD_PRELOAD,
 * this splits such a reply in two: the addresses now, the NLMSG_DONE (or NLMSG_ERROR) at the next
 * recvmsg on that socket, which is what older kernels sent. Nothing else of booth changes.
 *
 * Build: cc -shared -fPIC -O2 -o booth_netlink_fix.so booth_netlink_fix.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

static int held_fd = -1;
static char held[8192];
static size_t held_len;

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
	static ssize_t (*real)(int, struct msghdr *, int);
	if (!real)
		real = (ssize_t (*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
	if (fd == held_fd && msg->msg_iovlen >= 1 && msg->msg_iov[0].iov_len >= held_len) {
		memcpy(msg->msg_iov[0].iov_base, held, held_len);
		if (msg->msg_name && msg->msg_namelen >= sizeof(struct sockaddr_nl)) {
			struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
			memcpy(msg->msg_name, &kernel, sizeof kernel);
			msg->msg_namelen = sizeof kernel;
		}
		msg->msg_flags = 0;
		held_fd = -1;
		return (ssize_t)held_len;
	}
	ssize_t n = real(fd, msg, flags);
	int domain = 0;
	socklen_t dlen = sizeof domain;
	if (n <= 0 || msg->msg_iovlen < 1 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0 || domain != AF_NETLINK)
		return n;
	char *buf = msg->msg_iov[0].iov_base;
	size_t off = 0, len = (size_t)n;
	while (off + NLMSG_HDRLEN <= len) {
		struct nlmsghdr *h = (struct nlmsghdr *)(buf + off);
		if (h->nlmsg_len < NLMSG_HDRLEN || off + h->nlmsg_len > len)
			break;
		if (off > 0 && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) && len - off <= sizeof held) {
			memcpy(held, buf + off, len - off);
			held_len = len - off;
			held_fd = fd;
			return (ssize_t)off;
		}
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	return n;
}
