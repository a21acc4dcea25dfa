/* Helpers shared by the pseudo-terminal tests (pty_*.c). */
#ifndef RVISOR_PTY_UTIL_H
#define RVISOR_PTY_UTIL_H

#include "test_util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

/* A new master (O_NOCTTY) with its slave unlocked; *slave gets the slave opened O_NOCTTY
 * unless slave is NULL. */
static inline int p_open_pair(int *slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0);
	CHECK(grantpt(m) == 0);
	CHECK(unlockpt(m) == 0);
	if (slave) {
		*slave = open(ptsname(m), O_RDWR | O_NOCTTY);
		CHECK(*slave >= 0);
	}
	return m;
}

/* Waits up to ms for fd to report one of events; returns revents (0 on timeout). */
static inline int p_wait(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;
	do {
		r = poll(&p, 1, ms);
	} while (r < 0 && errno == EINTR);
	CHECK(r >= 0);
	return r ? p.revents : 0;
}

/* Reads what fd has until want bytes came or nothing more arrives for 2 s; returns the count
 * (the buffer is NUL-terminated). */
static inline int p_read_upto(int fd, char *buf, int want)
{
	int got = 0;
	while (got < want) {
		if (!(p_wait(fd, POLLIN, 2000) & POLLIN))
			break;
		ssize_t r = read(fd, buf + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	buf[got] = 0;
	return got;
}

/* Whether fd has nothing more to read within 20 ms (a correct run never has more). */
static inline int p_quiet(int fd)
{
	return !(p_wait(fd, POLLIN, 20) & POLLIN);
}

/* Prints buf[0..n) with control bytes escaped, as "label: \"...\"". */
static inline void p_show(const char *label, const char *buf, int n)
{
	printf("%s: \"", label);
	for (int i = 0; i < n; i++) {
		unsigned char c = buf[i];
		if (c == '\n')
			printf("\\n");
		else if (c == '\r')
			printf("\\r");
		else if (c == '\b')
			printf("\\b");
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

/* Writes s to the master and shows what comes back on fd (up to want bytes). */
static inline void p_expect(const char *label, int fd, int want)
{
	char buf[512];
	CHECK(want < (int)sizeof buf);
	int n = p_read_upto(fd, buf, want);
	p_show(label, buf, n);
}

/* Sets the terminal's lflag bits on and off. */
static inline void p_lflag(int fd, tcflag_t on, tcflag_t off)
{
	struct termios t;
	CHECK(tcgetattr(fd, &t) == 0);
	t.c_lflag = (t.c_lflag | on) & ~off;
	CHECK(tcsetattr(fd, TCSANOW, &t) == 0);
}

#endif
