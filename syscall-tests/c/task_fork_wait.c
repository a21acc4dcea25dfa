/* fork + wait4: exit codes, WNOHANG, ECHILD, getppid in the child, rusage from wait4. */
#include "test_util.h"
#include <sys/resource.h>

int main(void)
{
	int codes[] = { 0, 1, 7, 255, 256 + 3 };
	for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(codes[i]);
		int st;
		struct rusage ru;
		pid_t r = wait4(pid, &st, 0, &ru);
		printf("_exit(%d): wait4_returns_pid=%d %s\n", codes[i], r == pid, t_status(st));
	}

	/* exit() through libc, and returning from a function run in the child. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		exit(42);
	printf("exit(42): %s\n", t_status(t_wait(pid)));

	/* The child's view of its parent. */
	pid_t me = getpid();
	int up[2], down[2];
	CHECK(pipe(up) == 0 && pipe(down) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int ok = getppid() == me && getpid() != me && getpid() > 0;
		char c = ok ? 'y' : 'n';
		CHECK(write(up[1], &c, 1) == 1);
		/* Block until the parent says go, so WNOHANG sees us running. */
		CHECK(read(down[0], &c, 1) == 1);
		_exit(0);
	}
	char c;
	CHECK(read(up[0], &c, 1) == 1);
	printf("child_sees_parent=%c child_pid_positive=%d\n", c, pid > 0);
	int st = 0;
	T_ERRNO("wait4 WNOHANG running child", wait4(pid, &st, WNOHANG, NULL), 0);
	printf("wnohang_returned_zero=%d\n", wait4(pid, &st, WNOHANG, NULL) == 0);
	CHECK(write(down[1], "g", 1) == 1);
	printf("released: %s\n", t_status(t_wait(pid)));

	T_ERRNO("wait4 no children", wait4(-1, &st, 0, NULL), ECHILD);
	T_ERRNO("wait4 WNOHANG no children", wait4(-1, &st, WNOHANG, NULL), ECHILD);
	T_ERRNO("wait4 bad options", wait4(-1, &st, 0x4000000, NULL), EINVAL);
	T_ERRNO("waitpid not our child", waitpid(1, &st, 0), ECHILD);

	/* Several children, reaped by wait(-1) in any order: collect the set of codes. */
	int seen = 0;
	for (int i = 0; i < 5; i++) {
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(10 + i);
	}
	for (int i = 0; i < 5; i++) {
		CHECK(wait(&st) > 0);
		if (WIFEXITED(st))
			seen |= 1 << (WEXITSTATUS(st) - 10);
	}
	printf("reaped all five=%d\n", seen == 0x1f);
	return t_done();
}
