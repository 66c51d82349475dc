// SPDX-License-Identifier: MIT
/*
 * dmabuf-io's commands leave the process's descriptors alone: usage errors
 * before and after the device is opened, and a plain bench run on a file,
 * must not close standard input (its structures used to start with fd 0).
 * A regular file's I/O alignment is its STATX_DIOALIGN offset alignment,
 * not st_blksize.  Runs the commands in this process, on files in $TMPDIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "test.h"
#include "dmabuf-io.h"

static struct stat stdin_st;

static int run(int (*cmd)(int, char **), const char *const *args)
{
	char *argv[32];
	int argc = 0, ret;
	struct stat st;

	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	ret = cmd(argc, argv);
	if (fstat(0, &st) || st.st_ino != stdin_st.st_ino || st.st_dev != stdin_st.st_dev)
		t_fail("%s %s ... closed or replaced standard input", args[0], args[1]);
	return ret;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char file[256];
	struct dio_target t;
	struct statx stx;
	int fd, ret;

	/* standard input: a pipe of our own, to tell it from anything reopened */
	int p[2];

	if (pipe(p) || dup2(p[0], 0) < 0 || fstat(0, &stdin_st))
		t_fail("pipe: %s", strerror(errno));
	snprintf(file, sizeof(file), "%s/dmabuf-rw-fds.%d", tmp, getpid());
	fd = open(file, O_CREAT | O_TRUNC | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		t_fail("%s: %s", file, strerror(errno));
	close(fd);

	ret = run(dio_cmd_bench, (const char *[]){ "bench", "--qd", "0", file, NULL });
	t_assert(ret == DIO_EXIT_USAGE);
	ret = run(dio_cmd_bench, (const char *[]){ "bench", "--bs", "3", "-m", "plain", file, NULL });
	t_assert(ret == DIO_EXIT_USAGE);
	ret = run(dio_cmd_copy, (const char *[]){ "copy", "--qd", "0", file, file, NULL });
	t_assert(ret == DIO_EXIT_USAGE);
	ret = run(dio_cmd_copy, (const char *[]){ "copy", "-s", "1m", "-o", "512k", file, file,
						  NULL });
	t_assert(ret == DIO_EXIT_USAGE);
	ret = run(dio_cmd_bench, (const char *[]){ "bench", "-m", "plain", "-n", "64",
						   "--no-progress", file, NULL });
	if (ret == DIO_EXIT_FAIL)
		printf("(plain bench on %s failed: this file system may lack O_DIRECT)\n", file);
	else
		t_assert(ret == 0);
	ret = run(dio_cmd_bench, (const char *[]){ "bench", "-m", "fixed", "-n", "64",
						   "--no-progress", file, NULL });
	t_assert(ret == 0 || ret == DIO_EXIT_FAIL);

	/* the file's direct I/O alignment */
	fd = open(file, O_RDONLY | O_DIRECT);
	if (fd >= 0 && !statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		if (dio_target_open(&t, file, false, true, false))
			t_fail("dio_target_open(%s)", file);
		printf("%s: STATX_DIOALIGN offset %u, st_blksize %u, tool uses %u\n", file,
		       stx.stx_dio_offset_align, (unsigned int)stx.stx_blksize, t.lbsize);
		t_assert(t.lbsize == stx.stx_dio_offset_align);
		dio_target_close(&t);
	} else {
		printf("%s: no STATX_DIOALIGN here; alignment not checked\n", file);
	}
	if (fd >= 0)
		close(fd);
	unlink(file);
	return T_EXIT_PASS;
}
