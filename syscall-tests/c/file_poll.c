/* poll/ppoll: readiness of pipe ends (POLLIN, POLLOUT, POLLHUP, POLLERR), POLLNVAL, negative
 * fds ignored, timeouts, ppoll's signal mask (EINTR), errors. */
#include "test_util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>

static void on_usr1(int sig)
{
	(void)sig;
}

static void show(const char *what, struct pollfd *p, int n, int r)
{
	printf("%s: ret=%d", what, r);
	for (int i = 0; i < n; i++)
		printf(" [%s%s%s%s%s]", p[i].revents & POLLIN ? "IN" : "", p[i].revents & POLLOUT ? "OUT" : "",
		       p[i].revents & POLLHUP ? "HUP" : "", p[i].revents & POLLERR ? "ERR" : "",
		       p[i].revents & POLLNVAL ? "NVAL" : "");
	printf("\n");
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	struct pollfd f[4] = { { p[0], POLLIN, 0 }, { p[1], POLLOUT, 0 }, { 9999, POLLIN, 0 }, { -1, POLLIN, 0 } };
	show("empty pipe", f, 4, poll(f, 4, 0));
	CHECK(write(p[1], "x", 1) == 1);
	show("after write", f, 2, poll(f, 2, 0));

	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	struct pollfd r1 = { p[0], POLLIN, 0 };
	char c;
	CHECK(read(p[0], &c, 1) == 1);
	show("timeout 30ms", &r1, 1, poll(&r1, 1, 30));
	printf("waited >= 30ms=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 30 * 1000 * 1000LL);

	/* A child writes later: poll blocks until then. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(20000);
		CHECK(write(p[1], "y", 1) == 1);
		_exit(0);
	}
	show("blocking until child writes", &r1, 1, poll(&r1, 1, 10000));
	t_wait(pid);
	CHECK(read(p[0], &c, 1) == 1);

	close(p[1]);
	show("writer closed", &r1, 1, poll(&r1, 1, 0));
	CHECK(pipe(p) == 0);
	close(p[0]);
	struct pollfd w1 = { p[1], POLLOUT, 0 };
	show("reader closed", &w1, 1, poll(&w1, 1, 0));
	/* POLLHUP/POLLERR are reported even when not requested. */
	w1.events = 0;
	show("reader closed, no events requested", &w1, 1, poll(&w1, 1, 0));
	close(p[1]);

	/* ppoll: a signal blocked outside is let in only during the call. */
	CHECK(pipe(p) == 0);
	signal(SIGUSR1, on_usr1);
	sigset_t m, empty;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigemptyset(&empty);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
	raise(SIGUSR1);
	r1.fd = p[0]; /* an empty pipe: nothing ready */
	struct timespec ts = { 5, 0 };
	T_ERRNO("ppoll lets the pending signal in", ppoll(&r1, 1, &ts, &empty), EINTR);
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	show("ppoll timeout", &r1, 1, ppoll(&r1, 1, &ts, NULL));
	struct timespec bad = { 0, 1000000000 };
	T_ERRNO("ppoll bad timeout", ppoll(&r1, 1, &bad, NULL), EINVAL);

	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	T_ERRNO("nfds above RLIMIT_NOFILE", poll(&r1, (nfds_t)rl.rlim_cur + 1, 0), EINVAL);
	T_ERRNO("bad fds pointer", syscall(SYS_poll, (struct pollfd *)1, 1, 0), EFAULT);
	T_ERRNO("no fds, 10ms", poll(NULL, 0, 10), 0);
	return t_done();
}
