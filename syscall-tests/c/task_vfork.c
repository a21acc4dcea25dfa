/* vfork: the parent is suspended until the child exits or execs, and memory is shared. */
#include "test_util.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-role") == 0)
		return 17;

	volatile int shared = 0;
	pid_t pid = vfork();
	CHECK(pid >= 0);
	if (pid == 0) {
		shared = 1;
		_exit(3);
	}
	/* The child has exited by now, and its write is visible. */
	printf("child_write_visible=%d\n", shared == 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("vfork child: %s\n", t_status(st));

	/* vfork + execve: the parent resumes once the child has exec'd. */
	shared = 0;
	pid = vfork();
	CHECK(pid >= 0);
	if (pid == 0) {
		shared = 5;
		char *args[] = { argv[0], "exec-role", NULL };
		execv(argv[0], args);
		_exit(99);
	}
	printf("after exec child: shared=%d\n", shared);
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("exec'd child: %s\n", t_status(st));
	return t_done();
}
