/* sigprocmask: blocking keeps a signal pending, standard signals coalesce, unblocking delivers
 * before the call returns, SIGKILL/SIGSTOP cannot be blocked, fork inherits the mask but not
 * pending signals, errors. */
#include "test_util.h"

static volatile int count;

static void handler(int sig)
{
	(void)sig;
	count++;
}

int main(void)
{
	signal(SIGUSR1, handler);
	sigset_t m, old, cur, pend;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	T_ERRNO("block USR1", sigprocmask(SIG_BLOCK, &m, &old), 0);
	printf("old mask had USR1=%d\n", sigismember(&old, SIGUSR1));
	raise(SIGUSR1);
	raise(SIGUSR1);
	sigpending(&pend);
	printf("while blocked: count=%d pending=%d\n", count, sigismember(&pend, SIGUSR1));

	/* Fork: the child inherits the mask, not the pending signal. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		sigset_t c, p;
		sigprocmask(SIG_BLOCK, NULL, &c);
		sigpending(&p);
		_exit(sigismember(&c, SIGUSR1) && !sigismember(&p, SIGUSR1) ? 0 : 1);
	}
	printf("child inherits mask, not pending: %s\n", t_status(t_wait(pid)));

	T_ERRNO("unblock USR1", sigprocmask(SIG_UNBLOCK, &m, NULL), 0);
	printf("after unblock: count=%d (coalesced)\n", count);
	sigpending(&pend);
	printf("pending after delivery=%d\n", sigismember(&pend, SIGUSR1));

	sigset_t all;
	sigfillset(&all);
	T_ERRNO("block everything", sigprocmask(SIG_SETMASK, &all, NULL), 0);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
	printf("KILL blocked=%d STOP blocked=%d TERM blocked=%d RTMAX blocked=%d\n", sigismember(&cur, SIGKILL),
	       sigismember(&cur, SIGSTOP), sigismember(&cur, SIGTERM), sigismember(&cur, SIGRTMAX));
	/* SIG_SETMASK replaces, SIG_UNBLOCK removes. */
	sigemptyset(&m);
	sigaddset(&m, SIGTERM);
	CHECK(sigprocmask(SIG_SETMASK, &m, NULL) == 0);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
	printf("setmask: TERM=%d USR1=%d\n", sigismember(&cur, SIGTERM), sigismember(&cur, SIGUSR1));
	CHECK(sigprocmask(SIG_UNBLOCK, &m, NULL) == 0);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
	printf("unblock: TERM=%d\n", sigismember(&cur, SIGTERM));

	T_ERRNO("bad how", sigprocmask(42, &m, NULL), EINVAL);
	T_ERRNO("bad how with NULL set", syscall(SYS_rt_sigprocmask, 42, NULL, &cur, 8), 0);
	T_ERRNO("sigsetsize 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &m, NULL, 4), EINVAL);
	T_ERRNO("bad set pointer", syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8), EFAULT);
	T_ERRNO("bad oldset pointer", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)1, 8), EFAULT);
	T_ERRNO("rt_sigpending sigsetsize 16", syscall(SYS_rt_sigpending, &pend, 16), EINVAL);
	return t_done();
}
