/* Helpers for the inotify tests: reading the queued events and printing them
 * deterministically (event names, watch descriptors, names; cookies as C1, C2... in order of
 * first appearance, so that equal cookies print equal). */
#ifndef RVISOR_INOTIFY_UTIL_H
#define RVISOR_INOTIFY_UTIL_H

#include "test_util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif

static inline const char *in_mask_str(uint32_t m)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ IN_ACCESS, "ACCESS" },
		{ IN_MODIFY, "MODIFY" },
		{ IN_ATTRIB, "ATTRIB" },
		{ IN_CLOSE_WRITE, "CLOSE_WRITE" },
		{ IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" },
		{ IN_OPEN, "OPEN" },
		{ IN_MOVED_FROM, "MOVED_FROM" },
		{ IN_MOVED_TO, "MOVED_TO" },
		{ IN_CREATE, "CREATE" },
		{ IN_DELETE, "DELETE" },
		{ IN_DELETE_SELF, "DELETE_SELF" },
		{ IN_MOVE_SELF, "MOVE_SELF" },
		{ IN_UNMOUNT, "UNMOUNT" },
		{ IN_Q_OVERFLOW, "Q_OVERFLOW" },
		{ IN_IGNORED, "IGNORED" },
		{ IN_ISDIR, "ISDIR" },
	};
	static char buf[256];
	buf[0] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (m & names[i].bit) {
			if (buf[0])
				strcat(buf, "|");
			strcat(buf, names[i].name);
			m &= ~names[i].bit;
		}
	}
	if (m) {
		char extra[32];
		snprintf(extra, sizeof extra, "%s0x%x", buf[0] ? "|" : "", m);
		strcat(buf, extra);
	}
	return buf;
}

/* Cookie labels: the n-th distinct nonzero cookie prints as Cn. */
static uint32_t in_cookies[64];
static int in_ncookies;

static inline int in_cookie_label(uint32_t c)
{
	for (int i = 0; i < in_ncookies; i++)
		if (in_cookies[i] == c)
			return i + 1;
	if (in_ncookies < 64)
		in_cookies[in_ncookies++] = c;
	return in_ncookies;
}

static inline void in_print_event(const struct inotify_event *e)
{
	printf("  wd=%d %s", e->wd, in_mask_str(e->mask));
	if (e->len)
		printf(" name=%s", e->name);
	if (e->cookie)
		printf(" cookie=C%d", in_cookie_label(e->cookie));
	printf("\n");
}

/* Prints every event queued on fd now (without blocking), under a heading; returns their
 * count. */
static inline int in_drain(int fd, const char *what)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0;
	printf("%s:\n", what);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, 0);
		CHECK(r >= 0);
		if (r == 0)
			break;
		ssize_t len = read(fd, buf, sizeof buf);
		CHECK(len > 0);
		for (char *q = buf; q < buf + len;) {
			struct inotify_event *e = (struct inotify_event *)q;
			in_print_event(e);
			n++;
			q += sizeof *e + e->len;
		}
	}
	if (n == 0)
		printf("  (none)\n");
	return n;
}

/* "DIR/NAME" in a static buffer (8 in rotation). */
static inline const char *in_join(const char *dir, const char *name)
{
	static char buf[8][256];
	static int k;
	char *p = buf[k++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static inline void in_touch(const char *path)
{
	int f = open(path, O_CREAT | O_WRONLY, 0644);
	CHECK(f >= 0);
	CHECK(close(f) == 0);
}

#endif
