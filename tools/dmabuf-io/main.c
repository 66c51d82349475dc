// SPDX-License-Identifier: MIT
/* dmabuf-io: command dispatch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmabuf-io.h"
#include "dmabuf-rw.h"

static const char main_help[] =
"usage: dmabuf-io COMMAND [options] ...\n"
"\n"
"O_DIRECT I/O between NVMe block devices and dma-bufs through io_uring\n"
"registered buffers (IORING_RSRC_UPDATE_EXTENDED, IO_REGBUF_TYPE_DMABUF).\n"
"\n"
"commands:\n"
"  copy  [options] SRC DST   copy through a dma-buf: READ_FIXED into it from a\n"
"                            device, WRITE_FIXED from it to a device; verify\n"
"  bench [options] DEVICE    IOPS, MB/s, CPU per I/O and latency percentiles for\n"
"                            --mode plain, fixed, dmabuf, bounce or premapped\n"
"  probe                     does this kernel support dma-buf registered buffers?\n"
"                            exit 0 yes, 1 no; also says whether it can premap\n"
"                            host memory (IO_REGBUF_F_TARGET)\n"
"\n"
"  dmabuf-io COMMAND --help  the command's options\n"
"  dmabuf-io --version\n"
"\n"
"examples:\n"
"  dmabuf-io copy -s 16m -o 1g /dev/nvme0n1 /dev/nvme0n1\n"
"  dmabuf-io bench -m fixed  -b 4k -q 32 -t 10 /dev/nvme0n1\n"
"  dmabuf-io bench -m dmabuf -b 4k -q 32 -t 10 --json /dev/nvme0n1\n"
"  dmabuf-io bench -m premapped -b 4k -q 32 -t 10 /dev/nvme0n1\n"
"\n"
"See dmabuf-io(1).\n";

static int dio_cmd_probe(int argc, char **argv)
{
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: dmabuf-io probe\n\nExit 0 when the kernel supports dma-buf "
		       "registered buffers, 1 when it does not.  Also says whether it\n"
		       "maps registered host memory once for a target (IO_REGBUF_F_TARGET,\n"
		       "bench --mode premapped); that does not change the exit status.\n");
		return 0;
	}
	if (argc > 1) {
		dio_usage_err("probe", "takes no arguments");
		return DIO_EXIT_USAGE;
	}
	ret = dmabuf_rw_probe();
	if (!ret) {
		printf("dma-buf registered buffers: supported\n");
		ret = dio_premap_supported();
		printf("premapped registered buffers (IO_REGBUF_F_TARGET): %s%s\n",
		       ret > 0 ? "supported" : ret == 0 ? "not supported by this kernel" :
		       "unknown: ", ret < 0 ? strerror(-ret) : "");
		return 0;
	}
	if (ret == -EOPNOTSUPP)
		printf("dma-buf registered buffers: not supported by this kernel "
		       "(IORING_RSRC_UPDATE_EXTENDED rejected)\n");
	else
		printf("dma-buf registered buffers: unknown, io_uring unavailable: %s\n",
		       strerror(-ret));
	return DIO_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(main_help, stderr);
		return DIO_EXIT_USAGE;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(main_help, stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("dmabuf-io %s\n", DIO_VERSION);
		return 0;
	}
	/* getopt_long names the program in its messages */
	if (!strcmp(cmd, "copy")) {
		argv[1] = "dmabuf-io copy";
		return dio_cmd_copy(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "bench")) {
		argv[1] = "dmabuf-io bench";
		return dio_cmd_bench(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "probe"))
		return dio_cmd_probe(argc - 1, argv + 1);
	dio_usage_err(NULL, "unknown command '%s': use copy, bench or probe", cmd);
	return DIO_EXIT_USAGE;
}
