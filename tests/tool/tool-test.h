/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the tool/ tests, on top of test.h: run the dmabuf-io
 * binary (/bin/dmabuf-io in the guest, $DMABUF_IO overrides) or another
 * program with fork/exec, capture its exit status, standard output and
 * error, and read dmabuf-io's --json output with a small strict JSON
 * parser.
 */
#ifndef DMABUF_RW_TOOL_TEST_H
#define DMABUF_RW_TOOL_TEST_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "test.h"

#define TT_MAX_ARGS	32

struct tt_run {
	int status;		/* exit code, or 128 + signal */
	char *out, *err;	/* NUL-terminated, malloc'ed */
	char cmd[512];		/* the command line, for messages */
};

static inline const char *tt_tool(void)
{
	const char *p = getenv("DMABUF_IO");

	p = p ? p : "/bin/dmabuf-io";
	if (access(p, X_OK))
		t_missing("the dmabuf-io binary at %s", p);
	return p;
}

/* Append what fd has to *buf; 0 at EOF. */
static inline int tt_drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	*buf = realloc(*buf, *len + n + 1);
	if (!*buf)
		t_fail("out of memory");
	memcpy(*buf + *len, chunk, n);
	*len += n;
	(*buf)[*len] = 0;
	return 1;
}

/* Run prog with the NULL-terminated argument array (argv[1]...). */
static inline void tt_execv(struct tt_run *r, const char *prog, const char *const *args)
{
	const char *argv[TT_MAX_ARGS + 2];
	int out[2], err[2], st, n = 0;
	size_t olen = 0, elen = 0, at;
	struct pollfd pfd[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	argv[n++] = prog;
	at = snprintf(r->cmd, sizeof(r->cmd), "%s",
		      strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog);
	for (; *args && n <= TT_MAX_ARGS; args++) {
		argv[n++] = *args;
		if (at < sizeof(r->cmd))
			at += snprintf(r->cmd + at, sizeof(r->cmd) - at, " %s", *args);
	}
	argv[n] = NULL;
	if (pipe(out) || pipe(err))
		t_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (!pid) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			t_fail("poll: %s", strerror(errno));
		}
		if (pfd[0].revents && !tt_drain(out[0], &r->out, &olen)) {
			close(out[0]);
			pfd[0].fd = -1;
		}
		if (pfd[1].revents && !tt_drain(err[0], &r->err, &elen)) {
			close(err[0]);
			pfd[1].fd = -1;
		}
	}
	if (waitpid(pid, &st, 0) < 0)
		t_fail("waitpid: %s", strerror(errno));
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run dmabuf-io with the NULL-terminated argument array. */
static inline void tt_runv(struct tt_run *r, const char *const *args)
{
	tt_execv(r, tt_tool(), args);
}

/* tt_run(&r, "bench", "--mode", "plain", dev, NULL) */
static inline void tt_run(struct tt_run *r, ...)
{
	const char *args[TT_MAX_ARGS + 1];
	va_list ap;
	int n = 0;

	va_start(ap, r);
	while (n < TT_MAX_ARGS && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	tt_runv(r, args);
}

static inline void tt_free(struct tt_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* Fail, showing the command and what it printed. */
#define tt_fail(r, fmt, ...) \
	t_fail("%s: " fmt "\n--- status %d, stdout:\n%s--- stderr:\n%s---", (r)->cmd, \
	       ##__VA_ARGS__, (r)->status, (r)->out, (r)->err)

/*
 * JSON (RFC 8259), strictly: tt_json() returns 0 when text is exactly one
 * JSON value (with surrounding white space) and, if want is not NULL,
 * stores in *num the number found at path want ("lat_us/p99.9": key names
 * of nested objects joined with '/'), -1 when it is not valid JSON.  *found
 * says whether want was there (as a number).
 */
struct tt_json {
	const char *s;
	const char *want;
	char path[256];
	double *num;
	int found;
};

static int tt_json_value(struct tt_json *j);

static inline void tt_json_ws(struct tt_json *j)
{
	while (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r')
		j->s++;
}

/* A string; its contents (escapes kept as written) into key if not NULL. */
static inline int tt_json_string(struct tt_json *j, char *key, size_t keylen)
{
	size_t n = 0;

	if (*j->s++ != '"')
		return -1;
	while (*j->s != '"') {
		unsigned char ch = *j->s;

		if (!ch || ch < 0x20)
			return -1;
		if (ch == '\\') {
			j->s++;
			if (*j->s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", j->s[i]) || !j->s[i])
						return -1;
				j->s += 4;
			} else if (!*j->s || !strchr("\"\\/bfnrt", *j->s)) {
				return -1;
			}
		}
		if (key && n + 1 < keylen)
			key[n++] = *j->s;
		j->s++;
	}
	j->s++;
	if (key)
		key[n] = 0;
	return 0;
}

static inline int tt_json_number(struct tt_json *j)
{
	const char *start = j->s;

	if (*j->s == '-')
		j->s++;
	if (*j->s == '0')
		j->s++;
	else if (*j->s >= '1' && *j->s <= '9')
		while (*j->s >= '0' && *j->s <= '9')
			j->s++;
	else
		return -1;
	if (*j->s == '.') {
		j->s++;
		if (*j->s < '0' || *j->s > '9')
			return -1;
		while (*j->s >= '0' && *j->s <= '9')
			j->s++;
	}
	if (*j->s == 'e' || *j->s == 'E') {
		j->s++;
		if (*j->s == '+' || *j->s == '-')
			j->s++;
		if (*j->s < '0' || *j->s > '9')
			return -1;
		while (*j->s >= '0' && *j->s <= '9')
			j->s++;
	}
	if (j->want && !strcmp(j->path, j->want)) {
		*j->num = strtod(start, NULL);
		j->found = 1;
	}
	return 0;
}

static inline int tt_json_object(struct tt_json *j)
{
	size_t plen = strlen(j->path);
	char key[128];

	j->s++;
	tt_json_ws(j);
	if (*j->s == '}') {
		j->s++;
		return 0;
	}
	for (;;) {
		tt_json_ws(j);
		if (*j->s != '"' || tt_json_string(j, key, sizeof(key)))
			return -1;
		tt_json_ws(j);
		if (*j->s++ != ':')
			return -1;
		snprintf(j->path + plen, sizeof(j->path) - plen, "%s%s", plen ? "/" : "", key);
		if (tt_json_value(j))
			return -1;
		j->path[plen] = 0;
		tt_json_ws(j);
		if (*j->s == '}') {
			j->s++;
			return 0;
		}
		if (*j->s++ != ',')
			return -1;
	}
}

static inline int tt_json_array(struct tt_json *j)
{
	j->s++;
	tt_json_ws(j);
	if (*j->s == ']') {
		j->s++;
		return 0;
	}
	for (;;) {
		if (tt_json_value(j))
			return -1;
		tt_json_ws(j);
		if (*j->s == ']') {
			j->s++;
			return 0;
		}
		if (*j->s++ != ',')
			return -1;
	}
}

static int tt_json_value(struct tt_json *j)
{
	tt_json_ws(j);
	switch (*j->s) {
	case '{':	return tt_json_object(j);
	case '[':	return tt_json_array(j);
	case '"':	return tt_json_string(j, NULL, 0);
	case 't':	return strncmp(j->s, "true", 4) ? -1 : (j->s += 4, 0);
	case 'f':	return strncmp(j->s, "false", 5) ? -1 : (j->s += 5, 0);
	case 'n':	return strncmp(j->s, "null", 4) ? -1 : (j->s += 4, 0);
	default:	return tt_json_number(j);
	}
}

static inline int tt_json(const char *text, const char *want, double *num, int *found)
{
	struct tt_json j = { .s = text, .want = want, .num = num };
	int ret = tt_json_value(&j);

	tt_json_ws(&j);
	if (found)
		*found = j.found;
	return ret || *j.s ? -1 : 0;
}

/* The number at path in r's JSON output; fails the test if absent. */
static inline double tt_json_get(struct tt_run *r, const char *path)
{
	double v = 0;
	int found;

	if (tt_json(r->out, path, &v, &found))
		tt_fail(r, "output is not valid JSON");
	if (!found)
		tt_fail(r, "no number \"%s\" in the JSON output", path);
	return v;
}

#endif /* DMABUF_RW_TOOL_TEST_H */
