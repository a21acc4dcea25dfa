/* Timeouts too large for any clock (tv_sec = LONG_MAX) mean "wait forever": nanosleep,
 * ppoll, pselect, futex and sigtimedwait block until a signal interrupts them. */
#define _GNU_SOURCE
#include "test_util.h"
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>

static void on_alarm(int sig)
{
	(void)sig;
}

static void arm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

int main(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_alarm;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct timespec huge = { LONG_MAX, 999999999 };

	arm();
	T_ERRNO("nanosleep huge", nanosleep(&huge, NULL), EINTR);

	int p[2];
	CHECK(pipe(p) == 0);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	arm();
	T_ERRNO("ppoll huge", ppoll(&pfd, 1, &huge, NULL), EINTR);

	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	arm();
	T_ERRNO("pselect huge", pselect(p[0] + 1, &r, NULL, NULL, &huge, NULL), EINTR);

	int word = 0;
	arm();
	T_ERRNO("futex wait huge", syscall(SYS_futex, &word, FUTEX_WAIT, 0, &huge, NULL, 0), EINTR);

	struct timespec bad = { LONG_MAX, 1000000000 };
	T_ERRNO("nanosleep bad nsec", nanosleep(&bad, NULL), EINVAL);
	return t_done();
}
