// SPDX-License-Identifier: MIT
/*
 * dmabuf-io's command line: --help texts exit 0, and every bad option,
 * value, combination or target exits non-zero with a message on stderr that
 * names the problem (2 for usage errors, 1 for targets that cannot be used).
 * Nothing is read or written: every case is refused before any I/O.
 */
#include <fcntl.h>

#include "tool-test.h"

struct bad_case {
	int status;
	const char *msg;		/* expected in stderr */
	const char *args[12];		/* "DEV" is drive 0, "FILE" a file */
};

static const struct bad_case cases[] = {
	{ 2, "usage:",			{ NULL } },
	{ 2, "unknown command 'frob'",	{ "frob" } },
	{ 2, "no DEVICE given",		{ "bench" } },
	{ 2, "one DEVICE only",		{ "bench", "DEV", "DEV" } },
	{ 2, "unrecognized option '--frobnicate'", { "bench", "--frobnicate", "DEV" } },
	{ 2, "requires an argument",	{ "bench", "DEV", "--bs" } },
	{ 2, "unknown --mode 'turbo'",	{ "bench", "--mode", "turbo", "DEV" } },
	{ 2, "unknown --dmabuf 'ion'",	{ "bench", "--dmabuf", "ion", "DEV" } },
	{ 2, "unknown --dmabuf 'heap:'", { "bench", "-d", "heap:", "DEV" } },
	{ 2, "bad --bs '0'",		{ "bench", "--bs", "0", "DEV" } },
	{ 2, "bad --bs '4q'",		{ "bench", "-b", "4q", "DEV" } },
	{ 2, "bad --bs '-4k'",		{ "bench", "-b", "-4k", "DEV" } },
	{ 2, "not a multiple of",	{ "bench", "--bs", "1000", "DEV" } },
	{ 2, "bad --qd '0'",		{ "bench", "--qd", "0", "DEV" } },
	{ 2, "bad --qd '5000'",		{ "bench", "-q", "5000", "DEV" } },
	{ 2, "unknown --pattern 'zigzag'", { "bench", "--pattern", "zigzag", "DEV" } },
	{ 2, "unknown --rw 'trim'",	{ "bench", "--rw", "trim", "DEV" } },
	{ 2, "bad --time '-1'",		{ "bench", "--time", "-1", "DEV" } },
	{ 2, "bad --time '5h'",		{ "bench", "-t", "5h", "DEV" } },
	{ 2, "bad --ios '0'",		{ "bench", "--ios", "0", "DEV" } },
	{ 2, "--time and --ios exclude each other", { "bench", "-t", "1", "-n", "10", "DEV" } },
	{ 2, "--json and --csv exclude each other", { "bench", "--json", "--csv", "DEV" } },
	{ 2, "bad --jobs '65'",		{ "bench", "--jobs", "65", "DEV" } },
	{ 2, "less than one I/O per job", { "bench", "-j", "4", "-n", "3", "DEV" } },
	{ 2, "beyond the end",		{ "bench", "--offset", "1g", "DEV" } },
	{ 2, "not a multiple of --bs",	{ "bench", "--offset", "512", "DEV" } },
	{ 2, "reach beyond the end",	{ "bench", "--size", "1g", "DEV" } },
	{ 2, "smaller than one per job", { "bench", "-p", "seq", "-j", "4", "-s", "8k", "DEV" } },
	{ 1, "only ext4 and xfs",	{ "bench", "--mode", "dmabuf", "FILE" } },	/* tmpfs */
	{ 1, "No such file or directory", { "bench", "/dev/nonexistent-nvme" } },
	{ 1, "not a block device or a regular file", { "bench", "-m", "plain", "/dev/null" } },
	{ 2, "need SRC and DST",	{ "copy", "DEV" } },
	{ 2, "too many arguments",	{ "copy", "DEV", "DEV", "DEV" } },
	{ 2, "bad --size 'lots'",	{ "copy", "--size", "lots", "DEV", "DEV" } },
	{ 2, "bad --qd '0'",		{ "copy", "-q", "0", "DEV", "DEV" } },
	{ 2, "multiples of the block size", { "copy", "-s", "1000", "-o", "1m", "DEV", "DEV" } },
	{ 2, "ranges overlap",		{ "copy", "-s", "1m", "-o", "512k", "DEV", "DEV" } },
	{ 2, "do not fit",		{ "copy", "-s", "1m", "-o", "1g", "DEV", "DEV" } },
	{ 2, "beyond the end",		{ "copy", "-s", "1m", "-i", "1g", "DEV", "DEV" } },
	{ 2, "unrecognized option '--fast'", { "copy", "--fast", "DEV", "DEV" } },
	{ 1, "No such file or directory", { "copy", "/dev/nonexistent-nvme", "DEV" } },
	{ 2, "takes no arguments",	{ "probe", "now" } },
};

static const char *const helps[][3] = {
	{ "--help", NULL, "copy" },
	{ "help", NULL, "bench" },
	{ "bench", "--help", "--mode MODE" },
	{ "copy", "--help", "--dst-offset" },
	{ "probe", "--help", "usage: dmabuf-io probe" },
	{ "--version", NULL, "dmabuf-io " },
};

int main(void)
{
	const char *dev = t_need_nvme(0), *file = "/tmp/tool-usage.img";
	struct tt_run r;
	unsigned int i, j;
	int fd;

	fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		t_fail("creating %s", file);
	close(fd);

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		tt_run(&r, helps[i][0], helps[i][1], NULL);
		if (r.status || !strstr(r.out, helps[i][2]) || *r.err)
			tt_fail(&r, "want status 0 and \"%s\" on stdout only", helps[i][2]);
		tt_free(&r);
	}

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		const char *args[13];

		for (j = 0; c->args[j]; j++)
			args[j] = !strcmp(c->args[j], "DEV") ? dev :
				  !strcmp(c->args[j], "FILE") ? file : c->args[j];
		args[j] = NULL;
		tt_runv(&r, args);
		if (r.status != c->status || !strstr(r.err, c->msg))
			tt_fail(&r, "want status %d and \"%s\" on stderr", c->status, c->msg);
		if (*r.out)
			tt_fail(&r, "a refused command printed on stdout");
		tt_free(&r);
	}
	printf("%zu help texts, %zu bad command lines refused with their message\n",
	       sizeof(helps) / sizeof(helps[0]), sizeof(cases) / sizeof(cases[0]));

	/* the kernel under test has the feature */
	tt_run(&r, "probe", NULL);
	if (r.status || !strstr(r.out, "supported"))
		tt_fail(&r, "probe: want status 0, \"supported\"");
	tt_free(&r);
	unlink(file);
	return T_EXIT_PASS;
}
