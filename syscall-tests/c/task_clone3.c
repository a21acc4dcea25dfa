/* clone3 via syscall(): fork-like child, CLONE_PARENT_SETTID, CLONE_PIDFD, size errors. */
#include "test_util.h"
#include <linux/sched.h>
#include <poll.h>

static long sys_clone3(struct clone_args *a, size_t size)
{
	return syscall(SYS_clone3, a, size);
}

int main(void)
{
	struct clone_args a;
	memset(&a, 0, sizeof a);
	pid_t ptid = 0;
	int pidfd = -1;
	a.flags = CLONE_PARENT_SETTID | CLONE_PIDFD;
	a.parent_tid = (uintptr_t)&ptid;
	a.pidfd = (uintptr_t)&pidfd;
	a.exit_signal = SIGCHLD;
	long pid = sys_clone3(&a, sizeof a);
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(21);
	printf("parent_tid_matches=%d pidfd_valid=%d\n", ptid == pid, pidfd >= 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int n = poll(&pfd, 1, 10000);
	printf("pidfd readable after exit: n=%d pollin=%d\n", n, (pfd.revents & POLLIN) != 0);
	printf("child: %s\n", t_status(t_wait((pid_t)pid)));
	close(pidfd);

	/* Minimal size (CLONE_ARGS_SIZE_VER0 = 64). */
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	pid = sys_clone3(&a, 64);
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(22);
	printf("size 64 child: %s\n", t_status(t_wait((pid_t)pid)));

	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	T_ERRNO("size too small", sys_clone3(&a, 32), EINVAL);
	T_ERRNO("size 0", sys_clone3(&a, 0), EINVAL);
	static char big[8192];
	memcpy(big, &a, sizeof a);
	big[sizeof a + 8] = 1;
	T_ERRNO("larger struct with nonzero tail", sys_clone3((struct clone_args *)big, sizeof a + 16), E2BIG);
	T_ERRNO("larger than a page", sys_clone3((struct clone_args *)big, 4096 + 8), E2BIG);
	a.exit_signal = 65;
	T_ERRNO("bad exit signal", sys_clone3(&a, sizeof a), EINVAL);
	a.exit_signal = SIGCHLD;
	a.flags = CLONE_THREAD;
	T_ERRNO("CLONE_THREAD without SIGHAND", sys_clone3(&a, sizeof a), EINVAL);
	T_ERRNO("bad pointer", sys_clone3((struct clone_args *)1, sizeof a), EFAULT);
	return t_done();
}
