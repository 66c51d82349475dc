// SPDX-License-Identifier: MIT
/*
 * bar-agent: the host side of the device-memory bed (vm/run-vm.sh --p2p).
 *
 * usage: bar-agent MAILBOX NAME=FILE...
 *
 * Maps MAILBOX (the backing file of the control ivshmem device) and the
 * named files (the BARs standing in for device memory, the NVMe drive
 * images), then carries out the guest's requests (vm/bar-agent.h) until
 * SIGTERM: check or write the tests' position pattern (tests/lib/test.c)
 * or a byte over a range of one of the files.  Every request and mismatch
 * is logged on standard output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bar-agent.h"
#include "test.h"

#define MAX_TARGETS	16
#define CHUNK		(1U << 20)
#define NAP_MIN_NS	(50 * 1000L)	/* polling the mailbox: 50 us ... */
#define NAP_MAX_NS	(2 * 1000 * 1000L)	/* ... up to 2 ms when idle */

struct target {
	const char *name;
	const char *path;
	unsigned char *map;
	uint64_t size;
};

static struct target targets[MAX_TARGETS];
static unsigned int nr_targets;
static volatile sig_atomic_t stop;
static unsigned long requests, mismatches, errors;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void *map_file(const char *path, uint64_t *size)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "bar-agent: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "bar-agent: mmap %s: %s\n", path, strerror(errno));
		exit(2);
	}
	close(fd);
	*size = st.st_size;
	return p;
}

static struct target *find_target(const char *name)
{
	unsigned int i;

	for (i = 0; i < nr_targets; i++)
		if (!strcmp(targets[i].name, name))
			return &targets[i];
	return NULL;
}

/* Compare p[0, len) with want[0, len); note the first difference. */
static void compare(struct bar_agent_mbox *m, const unsigned char *p,
		    const unsigned char *want, size_t len, uint64_t done)
{
	size_t i;

	if (!memcmp(p, want, len))
		return;
	for (i = 0; i < len; i++) {
		if (p[i] == want[i])
			continue;
		if (!m->bad++) {
			m->first = done + i;
			m->got = p[i];
			m->want = want[i];
		}
	}
}

static void carry_out(struct bar_agent_mbox *m, struct target *t)
{
	unsigned char *p = t->map + m->off;
	unsigned char *buf = NULL;
	uint64_t done;

	switch (m->op) {
	case BAR_AGENT_FILL:
		t_fill(p, m->len, m->pos, m->seed);
		break;
	case BAR_AGENT_SET:
		memset(p, m->byte, m->len);
		break;
	case BAR_AGENT_VERIFY:
		buf = malloc(CHUNK);
		if (!buf) {
			m->status = -ENOMEM;
			return;
		}
		for (done = 0; done < m->len; done += CHUNK) {
			size_t n = m->len - done < CHUNK ? m->len - done : CHUNK;

			t_fill(buf, n, m->pos + done, m->seed);
			compare(m, p + done, buf, n, done);
		}
		free(buf);
		break;
	case BAR_AGENT_CHECK:
		buf = malloc(CHUNK);
		if (!buf) {
			m->status = -ENOMEM;
			return;
		}
		memset(buf, m->byte, CHUNK);
		for (done = 0; done < m->len; done += CHUNK) {
			size_t n = m->len - done < CHUNK ? m->len - done : CHUNK;

			compare(m, p + done, buf, n, done);
		}
		free(buf);
		break;
	}
	m->status = m->bad ? 1 : 0;
}

static void serve(struct bar_agent_mbox *m)
{
	static const char *const ops[] = { "?", "verify", "fill", "set", "check" };
	uint32_t seq = __atomic_load_n(&m->guest_seq, __ATOMIC_ACQUIRE);
	char name[sizeof(m->target) + 1];
	struct target *t;

	memcpy(name, m->target, sizeof(m->target));
	name[sizeof(m->target)] = 0;
	t = find_target(name);
	m->msg[0] = 0;
	m->bad = m->first = 0;
	m->got = m->want = 0;
	requests++;
	if (m->op < BAR_AGENT_VERIFY || m->op > BAR_AGENT_CHECK) {
		m->status = -EINVAL;
		snprintf(m->msg, sizeof(m->msg), "unknown op %u", m->op);
	} else if (!t) {
		m->status = -ENOENT;
		snprintf(m->msg, sizeof(m->msg), "no target \"%s\"", name);
	} else if (m->off > t->size || m->len > t->size - m->off) {
		m->status = -ERANGE;
		snprintf(m->msg, sizeof(m->msg), "%s: [%llu, +%llu) beyond %llu bytes",
			 name, (unsigned long long)m->off, (unsigned long long)m->len,
			 (unsigned long long)t->size);
	} else {
		carry_out(m, t);
	}

	printf("#%u %s %s +%llu len %llu", seq, ops[m->op <= 4 ? m->op : 0], name,
	       (unsigned long long)m->off, (unsigned long long)m->len);
	if (m->op == BAR_AGENT_VERIFY || m->op == BAR_AGENT_FILL)
		printf(" pos %llu seed %#x", (unsigned long long)m->pos, m->seed);
	else
		printf(" byte %#x", m->byte);
	if (m->status < 0) {
		errors++;
		printf(": error %d: %s\n", m->status, m->msg);
	} else if (m->status) {
		mismatches++;
		printf(": %llu bytes differ, first at +%llu: got %#x want %#x\n",
		       (unsigned long long)m->bad, (unsigned long long)m->first,
		       m->got, m->want);
	} else {
		printf(": ok\n");
	}
	fflush(stdout);
	__atomic_store_n(&m->agent_seq, seq, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	struct timespec nap = { 0, NAP_MIN_NS };
	struct bar_agent_mbox *m;
	uint64_t size;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: bar-agent MAILBOX NAME=FILE...\n");
		return 2;
	}
	for (i = 2; i < argc && nr_targets < MAX_TARGETS; i++) {
		struct target *t = &targets[nr_targets++];
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || eq - argv[i] >= (long)sizeof(m->target)) {
			fprintf(stderr, "bar-agent: bad target \"%s\" (NAME=FILE)\n", argv[i]);
			return 2;
		}
		*eq = 0;
		t->name = argv[i];
		t->path = eq + 1;
		t->map = map_file(t->path, &t->size);
	}
	m = map_file(argv[1], &size);
	if (size < sizeof(*m)) {
		fprintf(stderr, "bar-agent: %s: %llu bytes, too small\n", argv[1],
			(unsigned long long)size);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(m, 0, sizeof(*m));
	__atomic_store_n(&m->magic, BAR_AGENT_MAGIC, __ATOMIC_RELEASE);
	printf("bar-agent: serving %s for", argv[1]);
	for (i = 0; i < (int)nr_targets; i++)
		printf(" %s=%s (%llu bytes)", targets[i].name, targets[i].path,
		       (unsigned long long)targets[i].size);
	printf("\n");

	/*
	 * The mailbox has no doorbell: poll it, quickly while the guest is
	 * sending requests, backing off to 2 ms while it is quiet so that an
	 * idle agent does not take CPU time from the guest it serves.
	 */
	while (!stop) {
		if (__atomic_load_n(&m->guest_seq, __ATOMIC_ACQUIRE) !=
		    __atomic_load_n(&m->agent_seq, __ATOMIC_RELAXED)) {
			serve(m);
			nap.tv_nsec = NAP_MIN_NS;
		} else {
			nanosleep(&nap, NULL);
			nap.tv_nsec = nap.tv_nsec * 2 < NAP_MAX_NS ?
				      nap.tv_nsec * 2 : NAP_MAX_NS;
		}
	}
	printf("bar-agent: %lu requests, %lu mismatches, %lu errors\n",
	       requests, mismatches, errors);
	return 0;
}
