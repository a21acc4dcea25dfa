/* select/pselect6: read and write sets on pipes, the timeout is updated with the time left,
 * pselect's signal mask (EINTR), EBADF for closed descriptors, errors. */
#include "test_util.h"
#include <sys/select.h>

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = { 0, 0 };
	int n = select(p[1] + 1, &r, &w, NULL, &tv);
	printf("empty: ret=%d readable=%d writable=%d\n", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));

	CHECK(write(p[1], "x", 1) == 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	FD_SET(p[1], &r); /* the write end is never readable */
	n = select(p[1] + 1, &r, NULL, NULL, &tv);
	printf("after write: ret=%d read end=%d write end=%d\n", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &r));
	char c;
	CHECK(read(p[0], &c, 1) == 1);

	/* Timeout: select writes back the time left (zero after expiry). */
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv.tv_sec = 0;
	tv.tv_usec = 30000;
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	n = select(p[0] + 1, &r, NULL, NULL, &tv);
	printf("timeout: ret=%d left=%ld.%06ld waited>=30ms=%d set cleared=%d\n", n, (long)tv.tv_sec, (long)tv.tv_usec,
	       t_now_ns(CLOCK_MONOTONIC) - t0 >= 30 * 1000 * 1000LL, !FD_ISSET(p[0], &r));

	/* Ready before the timeout: time left is positive and at most the timeout. */
	CHECK(write(p[1], "y", 1) == 1);
	FD_SET(p[0], &r);
	tv.tv_sec = 5;
	tv.tv_usec = 0;
	n = select(p[0] + 1, &r, NULL, NULL, &tv);
	printf("ready: ret=%d left in (0,5s]=%d\n", n, (tv.tv_sec > 0 || tv.tv_usec > 0) && tv.tv_sec <= 5);
	CHECK(read(p[0], &c, 1) == 1);

	/* pselect with a mask that lets a pending blocked signal in. */
	signal(SIGUSR1, on_usr1);
	sigset_t m, empty;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigemptyset(&empty);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
	raise(SIGUSR1);
	FD_SET(p[0], &r);
	struct timespec ts = { 5, 0 };
	T_ERRNO("pselect EINTR", pselect(p[0] + 1, &r, NULL, NULL, &ts, &empty), EINTR);
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	FD_SET(p[0], &r);
	T_ERRNO("pselect timeout", pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL), 0);

	int closed = dup(p[0]);
	close(closed);
	FD_ZERO(&r);
	FD_SET(closed, &r);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	T_ERRNO("closed fd in set", select(closed + 1, &r, NULL, NULL, &tv), EBADF);
	T_ERRNO("negative nfds", select(-1, NULL, NULL, NULL, &tv), EINVAL);
	tv.tv_sec = -1;
	tv.tv_usec = 0;
	T_ERRNO("negative timeout", select(0, NULL, NULL, NULL, &tv), EINVAL);
	tv.tv_sec = 0;
	tv.tv_usec = 10000;
	T_ERRNO("no fds, 10ms", select(0, NULL, NULL, NULL, &tv), 0);
	return t_done();
}
