/* PR_SET_PDEATHSIG fires when the parent thread exits; PR_SET_CHILD_SUBREAPER adopts orphans. */
#include "test_util.h"
#include <sys/prctl.h>

static int report_fd;

static void on_usr1(int sig)
{
	(void)sig;
	char c = 'D';
	(void)write(report_fd, &c, 1);
	_exit(0);
}

int main(void)
{
	T_ERRNO("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	int v = -1;
	CHECK(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0) == 0);
	printf("subreaper=%d\n", v);

	int rep[2], ready[2];
	CHECK(pipe(rep) == 0 && pipe(ready) == 0);
	pid_t mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		pid_t leaf = fork();
		CHECK(leaf >= 0);
		if (leaf == 0) {
			report_fd = rep[1];
			signal(SIGUSR1, on_usr1);
			CHECK(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0) == 0);
			/* The parent is alive until it reads this. */
			pid_t me = getpid();
			CHECK(write(ready[1], &me, sizeof me) == sizeof me);
			for (;;)
				pause();
		}
		/* Wait until the leaf has armed its death signal, then die. */
		pid_t l;
		CHECK(read(ready[0], &l, sizeof l) == sizeof l);
		_exit(0);
	}
	close(rep[1]);
	close(ready[1]);
	printf("middle: %s\n", t_status(t_wait(mid)));
	char c = 0;
	ssize_t n = read(rep[0], &c, 1);
	printf("leaf got pdeathsig=%d\n", n == 1 && c == 'D');
	/* The orphaned leaf was adopted by us (the subreaper) and can be reaped. */
	int st;
	pid_t r;
	do
		r = wait(&st);
	while (r == -1 && errno == EINTR);
	printf("adopted leaf reaped=%d %s\n", r > 0, t_status(st));
	return t_done();
}
