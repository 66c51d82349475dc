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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "test.h"

/* struct drm_version and DRM_IOCTL_VERSION (stable uapi; no libdrm here) */
struct td_drm_version {
	int version_major, version_minor, version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};
#define TD_DRM_IOCTL_VERSION	_IOWR('d', 0x00, struct td_drm_version)

/* /dev/dri/cardN of the vgem device; fails the test when there is none. */
static inline const char *td_vgem_card(void)
{
	static char card[64];
	char name[32];
	struct td_drm_version v;
	struct dirent *e;
	DIR *d = opendir("/dev/dri");
	int fd;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "card", 4))
			continue;
		snprintf(card, sizeof(card), "/dev/dri/%.40s", e->d_name);
		fd = open(card, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, TD_DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem")) {
			close(fd);
			closedir(d);
			return card;
		}
		close(fd);
	}
	if (d)
		closedir(d);
	t_missing("the vgem DRM device (CONFIG_DRM_VGEM): no /dev/dri/card* whose driver is vgem");
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
