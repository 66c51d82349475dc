/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the drm/ tests, on top of test.h: the bed's DRM
 * exporter (the vgem driver, CONFIG_DRM_VGEM in kernel/config: its absence
 * fails), and passing a descriptor over a unix socket (SCM_RIGHTS), as a
 * GPU program hands its dma-buf to another process.
 */
#ifndef DMABUF_RW_DRM_TEST_H
#define DMABUF_RW_DRM_TEST_H

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "test.h"

/* /dev/dri/cardN of the vgem device; fails the test when there is none. */
static inline const char *td_vgem_card(void)
{
	static char card[64];
	char path[300], link[256];
	struct dirent *e;
	ssize_t n;
	DIR *d = opendir("/sys/class/drm");

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "card", 4) || strchr(e->d_name, '-'))
			continue;
		snprintf(path, sizeof(path), "/sys/class/drm/%s/device/driver", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link, "vgem"))
			continue;
		snprintf(card, sizeof(card), "/dev/dri/%.40s", e->d_name);
		closedir(d);
		if (access(card, R_OK | W_OK))
			t_missing("%s (vgem's device node): %s", card, strerror(errno));
		return card;
	}
	if (d)
		closedir(d);
	t_missing("the vgem DRM device (CONFIG_DRM_VGEM): no /sys/class/drm/card* driven by vgem");
}

/* Send fd over the unix socket sock (SCM_RIGHTS); 0 or -errno. */
static inline int td_send_fd(int sock, int fd)
{
	char byte = 'd', ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;

	memset(ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receive a descriptor sent with td_send_fd(); the fd or -errno. */
static inline int td_recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

#endif /* DMABUF_RW_DRM_TEST_H */
