/*
 * LD_PRELOAD shim for the IKE lab: this kernel has no ESP/AH, so installing an IPsec SA fails and
 * the daemons then tear down what quick mode / IKE_AUTH just negotiated. The shim rewrites XFRM
 * NEWSA/UPDSA/DELSA/FLUSHSA requests into NLMSG_NOOP before they reach the kernel; the kernel
 * answers a NOOP with an ACK (error 0) when NLM_F_ACK is set, which the daemon takes as success.
 * Everything else (ALLOCSPI, policies, queries) goes to the kernel unchanged, so the IKE exchange on
 * the wire is the daemon's normal one; only ESP itself never flows.
 *
 * Set XFRM_SHIM_LOG=/path to get one line per neutralised request.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 4096
static volatile unsigned char xfrm_fd[MAX_FD];  /* 1 = fd is a NETLINK_XFRM socket */

static int is_xfrm(int fd)
{
	return fd >= 0 && fd < MAX_FD && xfrm_fd[fd];
}

static int neutralise_type(unsigned short type)
{
	return type == XFRM_MSG_NEWSA || type == XFRM_MSG_UPDSA ||
	       type == XFRM_MSG_DELSA || type == XFRM_MSG_FLUSHSA;
}

static void note(unsigned short type, unsigned int seq)
{
	const char *path = getenv("XFRM_SHIM_LOG");
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char line[96];
	int n = snprintf(line, sizeof(line), "xfrm-shim: pid %d: XFRM msg type %u seq %u -> NOOP\n",
			 (int)getpid(), type, seq);
	if (n > 0) {
		ssize_t w = write(fd, line, (size_t)n);
		(void)w;
	}
	close(fd);
}

/* Returns a malloc'ed rewritten copy of buf if it holds a message to neutralise, else NULL. */
static void *rewrite(const void *buf, size_t len)
{
	const struct nlmsghdr *h;
	size_t left = len;
	int hit = 0;

	for (h = buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
		if (neutralise_type(h->nlmsg_type))
			hit = 1;
	if (!hit)
		return NULL;
	void *copy = malloc(len);
	if (!copy)
		return NULL;
	memcpy(copy, buf, len);
	left = len;
	for (struct nlmsghdr *m = copy; NLMSG_OK(m, left); m = NLMSG_NEXT(m, left)) {
		if (neutralise_type(m->nlmsg_type)) {
			note(m->nlmsg_type, m->nlmsg_seq);
			m->nlmsg_type = NLMSG_NOOP;
		}
	}
	return copy;
}

#define REAL(name) static __typeof__(name) *real_##name; \
	if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

int socket(int domain, int type, int protocol)
{
	REAL(socket);
	int fd = real_socket(domain, type, protocol);
	if (fd >= 0 && fd < MAX_FD)
		xfrm_fd[fd] = (domain == AF_NETLINK && protocol == NETLINK_XFRM);
	return fd;
}

int close(int fd)
{
	REAL(close);
	if (fd >= 0 && fd < MAX_FD)
		xfrm_fd[fd] = 0;
	return real_close(fd);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
	       socklen_t alen)
{
	REAL(sendto);
	void *copy = is_xfrm(fd) ? rewrite(buf, len) : NULL;
	ssize_t r = real_sendto(fd, copy ? copy : buf, len, flags, addr, alen);
	free(copy);
	return r;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	REAL(send);
	void *copy = is_xfrm(fd) ? rewrite(buf, len) : NULL;
	ssize_t r = real_send(fd, copy ? copy : buf, len, flags);
	free(copy);
	return r;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	REAL(write);
	void *copy = is_xfrm(fd) ? rewrite(buf, len) : NULL;
	ssize_t r = real_write(fd, copy ? copy : buf, len);
	free(copy);
	return r;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg);
	/* Daemons send one netlink request per call, in a single iovec. */
	if (!is_xfrm(fd) || !msg || msg->msg_iovlen != 1)
		return real_sendmsg(fd, msg, flags);
	void *copy = rewrite(msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
	if (!copy)
		return real_sendmsg(fd, msg, flags);
	struct iovec iov = { copy, msg->msg_iov[0].iov_len };
	struct msghdr m = *msg;
	m.msg_iov = &iov;
	ssize_t r = real_sendmsg(fd, &m, flags);
	free(copy);
	return r;
}
