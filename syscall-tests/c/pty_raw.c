/* Non-canonical input: cfmakeraw, VMIN/VTIME (all four cases), echo without ICANON,
 * O_NONBLOCK reads, poll and epoll readiness of both ends. */
#include "pty_util.h"
#include <sys/epoll.h>

static int m, s;

static void set_min_time(int vmin, int vtime)
{
	struct termios t;
	CHECK(tcgetattr(s, &t) == 0);
	t.c_cc[VMIN] = vmin;
	t.c_cc[VTIME] = vtime;
	CHECK(tcsetattr(s, TCSANOW, &t) == 0);
}

/* Writes `data` to the master after `ms` milliseconds, from a child. */
static pid_t later(int ms, const char *data)
{
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		usleep(ms * 1000);
		t_write_all(m, data, strlen(data));
		_exit(0);
	}
	return c;
}

int main(void)
{
	m = p_open_pair(&s);
	struct termios orig, raw;
	CHECK(tcgetattr(s, &orig) == 0);
	raw = orig;
	cfmakeraw(&raw);
	T_ERRNO("tcsetattr raw", tcsetattr(s, TCSANOW, &raw), 0);

	/* Everything passes untouched, nothing is echoed, no signal is raised. */
	t_write_all(m, "\x03" "a\x7f\r\n\x1a", 6);
	char buf[64];
	int n = p_read_upto(s, buf, 6);
	p_show("raw bytes", buf, n);
	printf("raw echo quiet: %d\n", p_quiet(m));

	/* VMIN=1 VTIME=0: a read returns what is there. */
	t_write_all(m, "xy", 2);
	n = p_read_upto(s, buf, 2);
	p_show("vmin 1", buf, n);

	/* VMIN=0 VTIME=0: a read never waits. */
	set_min_time(0, 0);
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	ssize_t r = read(s, buf, sizeof buf);
	printf("vmin 0 vtime 0 on empty: ret=%zd quick=%d\n", r,
	       t_now_ns(CLOCK_MONOTONIC) - t0 < 500000000LL);
	t_write_all(m, "q", 1);
	CHECK(p_wait(s, POLLIN, 2000) & POLLIN);
	r = read(s, buf, sizeof buf);
	p_show("vmin 0 vtime 0 with data", buf, r);

	/* VMIN=3 VTIME=0: a read waits for 3 bytes; poll agrees. */
	set_min_time(3, 0);
	t_write_all(m, "ab", 2);
	usleep(50000);
	printf("vmin 3 poll with 2 bytes: %d\n", p_wait(s, POLLIN, 100) & POLLIN);
	pid_t c = later(100, "cd");
	r = read(s, buf, sizeof buf);
	p_show("vmin 3 read", buf, r > 0 ? r : 0);
	t_wait(c);
	/* A smaller buffer than VMIN is filled and returns. */
	t_write_all(m, "efg", 3);
	CHECK(p_wait(s, POLLIN, 2000) & POLLIN);
	r = read(s, buf, 2);
	p_show("vmin 3 read 2", buf, r > 0 ? r : 0);
	set_min_time(1, 0);
	n = p_read_upto(s, buf, 1);
	p_show("left over", buf, n);

	/* VMIN=0 VTIME=2: waits up to 0.2 s for a byte. */
	set_min_time(0, 2);
	t0 = t_now_ns(CLOCK_MONOTONIC);
	r = read(s, buf, sizeof buf);
	long long el = t_now_ns(CLOCK_MONOTONIC) - t0;
	printf("vtime 2 on empty: ret=%zd waited=%d\n", r, el >= 150000000LL && el < 2000000000LL);
	c = later(50, "t");
	r = read(s, buf, sizeof buf);
	p_show("vtime 2 with a byte", buf, r > 0 ? r : 0);
	t_wait(c);

	/* VMIN=2 VTIME=1: after the first byte, 0.1 s between bytes ends the read. */
	set_min_time(2, 1);
	c = later(50, "u");
	t0 = t_now_ns(CLOCK_MONOTONIC);
	r = read(s, buf, sizeof buf);
	el = t_now_ns(CLOCK_MONOTONIC) - t0;
	p_show("vmin 2 vtime 1 one byte", buf, r > 0 ? r : 0);
	printf("inter-byte timer ended it: %d\n", el < 2000000000LL);
	t_wait(c);

	/* Echo without ICANON. */
	CHECK(tcsetattr(s, TCSANOW, &orig) == 0);
	p_lflag(s, 0, ICANON);
	t_write_all(m, "a\x01\r", 3);
	p_expect("non-canonical echo", m, 5);
	printf("non-canonical echo quiet after: %d\n", p_quiet(m));
	n = p_read_upto(s, buf, 3);
	p_show("non-canonical read", buf, n);
	p_lflag(s, ICANON, 0);

	/* O_NONBLOCK. */
	CHECK(fcntl(s, F_SETFL, O_NONBLOCK) == 0);
	T_ERRNO("nonblocking read, empty", read(s, buf, sizeof buf), EAGAIN);
	t_write_all(m, "half", 4);
	p_expect("half echo", m, 4);
	T_ERRNO("nonblocking read, partial line", read(s, buf, sizeof buf), EAGAIN);
	CHECK(fcntl(s, F_SETFL, 0) == 0);
	t_write_all(m, "\n", 1);
	p_expect("newline echo", m, 2);
	n = p_read_upto(s, buf, 5);
	p_show("whole line", buf, n);
	CHECK(fcntl(m, F_SETFL, O_NONBLOCK) == 0);
	T_ERRNO("nonblocking master read, empty", read(m, buf, sizeof buf), EAGAIN);
	CHECK(fcntl(m, F_SETFL, 0) == 0);

	/* poll: both ends writable, neither readable. */
	printf("poll slave=%#x master=%#x\n", p_wait(s, POLLIN | POLLOUT, 0),
	       p_wait(m, POLLIN | POLLOUT, 0));

	/* epoll on the master wakes when the slave writes. */
	int ep = epoll_create1(0);
	CHECK(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev) == 0);
	struct epoll_event out;
	printf("epoll before: %d\n", epoll_wait(ep, &out, 1, 0));
	c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		usleep(50000);
		t_write_all(s, "ping", 4);
		_exit(0);
	}
	int k = epoll_wait(ep, &out, 1, 5000);
	printf("epoll after slave write: %d in=%d data=%u\n", k, k == 1 && (out.events & EPOLLIN),
	       k == 1 ? out.data.u32 : 0);
	t_wait(c);
	p_expect("master got", m, 4);
	return t_done();
}
