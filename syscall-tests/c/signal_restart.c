/* Interrupted system calls: read on a pipe is restarted with SA_RESTART and fails with EINTR
 * without it; nanosleep, select and pause-like calls always fail with EINTR; alarm(). */
#include "test_util.h"
#include <sys/select.h>
#include <sys/time.h>

static volatile int ticks;
static int pipe_w = -1;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
	if (pipe_w >= 0 && ticks == 3) {
		char c = 'z';
		(void)write(pipe_w, &c, 1);
	}
}

static void arm(int restart, int writer)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_tick;
	sa.sa_flags = restart ? SA_RESTART : 0;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	ticks = 0;
	pipe_w = writer;
	/* A repeating timer: one tick eventually lands while the call is blocked. */
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void disarm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	pipe_w = -1;
}

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	char c = 0;

	/* With SA_RESTART the read survives the ticks and returns the byte the 3rd tick writes. */
	arm(1, p[1]);
	ssize_t n = read(p[0], &c, 1);
	disarm();
	printf("SA_RESTART read: n=%zd byte=%c ticks>=3=%d\n", n, c, ticks >= 3);

	arm(0, -1);
	T_ERRNO("no SA_RESTART read", read(p[0], &c, 1), EINTR);
	disarm();

	/* nanosleep is not restarted after a handler, even with SA_RESTART; rem is the rest. */
	arm(1, -1);
	struct timespec req = { 5, 0 }, rem = { 0, 0 };
	T_ERRNO("nanosleep with SA_RESTART", nanosleep(&req, &rem), EINTR);
	disarm();
	printf("rem within (0, 5s]=%d\n", (rem.tv_sec > 0 || rem.tv_nsec > 0) && rem.tv_sec <= 5);

	arm(1, -1);
	fd_set rf;
	FD_ZERO(&rf);
	FD_SET(p[0], &rf);
	T_ERRNO("select with SA_RESTART", select(p[0] + 1, &rf, NULL, NULL, NULL), EINTR);
	disarm();

	/* waitpid is restarted with SA_RESTART. */
	int gate[2];
	CHECK(pipe(gate) == 0);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		char b;
		close(gate[1]);
		(void)read(gate[0], &b, 1);
		_exit(6);
	}
	close(gate[0]);
	arm(1, gate[1]); /* the 3rd tick releases the child */
	int st;
	pid_t r = waitpid(child, &st, 0);
	disarm();
	printf("SA_RESTART waitpid: returned_child=%d %s ticks>=3=%d\n", r == child, t_status(st), ticks >= 3);

	/* alarm() returns the seconds left on the previous alarm, rounded. */
	signal(SIGALRM, on_tick);
	printf("alarm(10) previous=%u\n", alarm(10));
	printf("alarm(3) previous=%u\n", alarm(3));
	printf("alarm(0) previous=%u\n", alarm(0));
	printf("alarm(0) again previous=%u\n", alarm(0));
	return t_done();
}
