/* epoll: create1 flags, ctl ADD/MOD/DEL and their errors (EEXIST, ENOENT, EINVAL, EPERM,
 * adding itself, EBADF, EFAULT), wait results with user data, timeouts, level triggering,
 * EPOLLONESHOT, epoll_pwait's mask. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/epoll.h>

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	int ep = epoll_create1(0);
	CHECK(ep >= 0);
	int epc = epoll_create1(EPOLL_CLOEXEC);
	printf("EPOLL_CLOEXEC=%d\n", fcntl(epc, F_GETFD) & FD_CLOEXEC);
	T_ERRNO("create1 bad flags", epoll_create1(1), EINVAL);
	T_ERRNO("create size 0", epoll_create(0), EINVAL);
	T_ERRNO("create size 1", epoll_create(1) >= 0 ? 0 : -1, 0);

	int p[2];
	CHECK(pipe(p) == 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1122334455667788ULL };
	T_ERRNO("ADD", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	T_ERRNO("ADD again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
	T_ERRNO("MOD not added", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), ENOENT);
	T_ERRNO("DEL not added", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], &ev), ENOENT);
	T_ERRNO("add itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	T_ERRNO("bad op", epoll_ctl(ep, 42, p[0], &ev), EINVAL);
	T_ERRNO("bad target fd", epoll_ctl(ep, EPOLL_CTL_ADD, 9999, &ev), EBADF);
	T_ERRNO("bad epoll fd", epoll_ctl(9999, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	T_ERRNO("not an epoll fd", epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev), EINVAL);
	const char *path = t_tmp_path("epoll");
	int reg = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(reg >= 0);
	unlink(path);
	T_ERRNO("regular file", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM);
	T_ERRNO("ADD bad event pointer", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (struct epoll_event *)1), EFAULT);

	struct epoll_event out[4];
	printf("nothing ready: %d\n", epoll_wait(ep, out, 4, 0));
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	int n = epoll_wait(ep, out, 4, 30);
	printf("timeout 30ms: %d waited>=30ms=%d\n", n, t_now_ns(CLOCK_MONOTONIC) - t0 >= 30 * 1000 * 1000LL);
	CHECK(write(p[1], "ab", 2) == 2);
	n = epoll_wait(ep, out, 4, 0);
	printf("ready: n=%d events=0x%x data_ok=%d\n", n, out[0].events, out[0].data.u64 == 0x1122334455667788ULL);
	printf("level triggered, still ready: n=%d\n", epoll_wait(ep, out, 4, 0));

	/* MOD to EPOLLOUT on the read end: never ready. */
	ev.events = EPOLLOUT;
	T_ERRNO("MOD", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), 0);
	printf("after MOD to OUT: n=%d\n", epoll_wait(ep, out, 4, 0));

	/* Both ends. */
	ev.events = EPOLLIN;
	ev.data.fd = p[0];
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
	ev.events = EPOLLOUT;
	ev.data.fd = p[1];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev) == 0);
	n = epoll_wait(ep, out, 4, 0);
	int saw_in = 0, saw_out = 0;
	for (int i = 0; i < n; i++) {
		saw_in |= out[i].data.fd == p[0] && (out[i].events & EPOLLIN);
		saw_out |= out[i].data.fd == p[1] && (out[i].events & EPOLLOUT);
	}
	printf("both: n=%d in=%d out=%d\n", n, saw_in, saw_out);
	printf("maxevents 1: n=%d\n", epoll_wait(ep, out, 1, 0));
	T_ERRNO("DEL", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), 0);

	/* EPOLLONESHOT: one report, then disabled until MOD re-arms it. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = p[0];
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
	n = epoll_wait(ep, out, 4, 0);
	printf("oneshot: first=%d second=%d\n", n, epoll_wait(ep, out, 4, 0));
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
	printf("oneshot re-armed=%d\n", epoll_wait(ep, out, 4, 0));

	/* Writer closed: EPOLLHUP along with EPOLLIN. */
	ev.events = EPOLLIN;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
	close(p[1]);
	n = epoll_wait(ep, out, 4, 0);
	printf("writer closed: n=%d in=%d hup=%d\n", n, (out[0].events & EPOLLIN) != 0, (out[0].events & EPOLLHUP) != 0);

	/* Closing the last reference to a watched fd removes it. */
	char buf[4];
	CHECK(read(p[0], buf, 2) == 2);
	close(p[0]);
	printf("after closing the watched fd: n=%d\n", epoll_wait(ep, out, 4, 0));

	signal(SIGUSR1, on_usr1);
	sigset_t m, empty;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigemptyset(&empty);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
	raise(SIGUSR1);
	T_ERRNO("epoll_pwait lets the signal in", epoll_pwait(ep, out, 4, 5000, &empty), EINTR);

	T_ERRNO("maxevents 0", epoll_wait(ep, out, 0, 0), EINVAL);
	T_ERRNO("wait on non-epoll fd", epoll_wait(reg, out, 4, 0), EINVAL);
	return t_done();
}
