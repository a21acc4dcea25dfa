/* inotify: reading the queue. EAGAIN when empty and non-blocking, poll and epoll readiness,
 * FIONREAD, record sizes (names padded to 16 bytes), EINVAL for a buffer too small for the
 * next event, partial reads of whole events, a blocking read woken by another process, a
 * blocking read interrupted by a signal (EINTR), and IN_Q_OVERFLOW when the queue is full. */
#include "inotify_util.h"
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>

static void on_alarm(int sig)
{
	(void)sig;
}

static int fionread(int fd)
{
	int n = -1;
	CHECK(ioctl(fd, FIONREAD, &n) == 0);
	return n;
}

int main(void)
{
	char dir[256];
	strcpy(dir, t_tmp_path("inotify-rd"));
	CHECK(mkdir(dir, 0755) == 0);
	int fd = inotify_init1(IN_NONBLOCK);
	CHECK(fd >= 0);
	int wd = inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE);
	CHECK(wd > 0);
	char buf[4096] __attribute__((aligned(8)));

	T_ERRNO("read empty non-blocking", read(fd, buf, sizeof buf), EAGAIN);
	printf("FIONREAD empty: %d\n", fionread(fd));
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	printf("poll empty: %d\n", poll(&p, 1, 0));
	int ep = epoll_create1(0);
	CHECK(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	printf("epoll empty: %d\n", epoll_wait(ep, &ev, 1, 0));

	in_touch(in_join(dir, "abc"));
	in_touch(in_join(dir, "0123456789abcde"));  /* 15 bytes: name field of 16 */
	in_touch(in_join(dir, "0123456789abcdef")); /* 16 bytes: name field of 32 */
	printf("FIONREAD 3 events: %d\n", fionread(fd));
	p.revents = 0;
	int pr = poll(&p, 1, 0);
	printf("poll: %d revents=%s%s\n", pr, (p.revents & POLLIN) ? "IN" : "",
	       (p.revents & POLLOUT) ? "OUT" : "");
	ev.data.u32 = 0;
	int er = epoll_wait(ep, &ev, 1, 0);
	printf("epoll: %d in=%d data=%u\n", er, (ev.events & EPOLLIN) != 0, ev.data.u32);

	T_ERRNO("read 0 bytes", read(fd, buf, 0), EINVAL);
	T_ERRNO("read 16 bytes", read(fd, buf, 16), EINVAL);
	T_ERRNO("read 31 bytes", read(fd, buf, 31), EINVAL);
	ssize_t r = read(fd, buf, 32);
	struct inotify_event *e = (struct inotify_event *)buf;
	printf("read 32: %zd len=%u name=%s mask=%s\n", r, e->len, e->name, in_mask_str(e->mask));
	r = read(fd, buf, 70);
	printf("read 70: %zd (one whole event) len=%u name=%s\n", r, e->len, e->name);
	printf("FIONREAD 1 event: %d\n", fionread(fd));
	r = read(fd, buf, sizeof buf);
	printf("read rest: %zd len=%u name=%s\n", r, e->len, e->name);
	printf("FIONREAD after: %d\n", fionread(fd));
	T_ERRNO("read empty again", read(fd, buf, sizeof buf), EAGAIN);

	/* Several events in one read. */
	CHECK(unlink(in_join(dir, "abc")) == 0);
	CHECK(unlink(in_join(dir, "0123456789abcde")) == 0);
	CHECK(unlink(in_join(dir, "0123456789abcdef")) == 0);
	r = read(fd, buf, sizeof buf);
	printf("read 3 deletes at once: %zd\n", r);

	/* Coalescing: only identical consecutive events merge. */
	in_touch(in_join(dir, "c"));
	CHECK(unlink(in_join(dir, "c")) == 0);
	in_touch(in_join(dir, "c"));
	CHECK(unlink(in_join(dir, "c")) == 0);
	CHECK(inotify_add_watch(fd, dir, IN_ATTRIB) == wd);
	CHECK(chmod(dir, 0700) == 0);
	CHECK(chmod(dir, 0755) == 0);
	in_drain(fd, "create, delete, create, delete, then ATTRIB twice");

	/* Blocking read woken by a child's create. */
	CHECK(inotify_add_watch(fd, dir, IN_CREATE) == wd);
	CHECK(fcntl(fd, F_SETFL, 0) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(50000);
		in_touch(in_join(dir, "child"));
		_exit(0);
	}
	r = read(fd, buf, sizeof buf);
	printf("blocking read: %zd name=%s mask=%s\n", r, e->name, in_mask_str(e->mask));
	printf("child: %s\n", t_status(t_wait(pid)));

	/* A signal interrupts a blocking read (no SA_RESTART). */
	struct sigaction sa = { .sa_handler = on_alarm };
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = { .it_value = { 0, 50000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_ERRNO("blocking read interrupted", read(fd, buf, sizeof buf), EINTR);

	/* Overflow: the queue holds 16384 events, then one IN_Q_OVERFLOW. */
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	CHECK(inotify_add_watch(fd, dir, IN_OPEN | IN_CLOSE_NOWRITE) == wd);
	const char *c = in_join(dir, "child");
	for (int i = 0; i < 10000; i++) {
		int h = open(c, O_RDONLY);
		CHECK(h >= 0);
		CHECK(close(h) == 0);
	}
	long total = 0, overflows = 0, last_overflow = 0;
	int fion = fionread(fd);
	long bytes = 0;
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		bytes += r;
		for (char *q = buf; q < buf + r;) {
			struct inotify_event *x = (struct inotify_event *)q;
			total++;
			last_overflow = x->mask == IN_Q_OVERFLOW && x->wd == -1 && x->len == 0;
			overflows += x->mask == IN_Q_OVERFLOW;
			q += sizeof *x + x->len;
		}
	}
	printf("overflow: events=%ld overflows=%ld last_is_overflow=%ld fionread_matches=%d\n", total,
	       overflows, last_overflow, fion == bytes);
	in_touch(in_join(dir, "child"));
	in_drain(fd, "after the overflow was read");

	CHECK(unlink(in_join(dir, "child")) == 0);
	CHECK(rmdir(dir) == 0);
	CHECK(close(ep) == 0);
	CHECK(close(fd) == 0);
	return t_done();
}
