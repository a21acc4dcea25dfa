/* sigaction: handlers and the mask while they run, old action, SA_NODEFER, SA_RESETHAND,
 * SIG_IGN discarding a pending signal, errors. */
#include "test_util.h"

#define SA_RESTORER 0x04000000

static volatile int count;
static volatile int had_self, had_usr2;

static void handler(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	had_self = sigismember(&cur, sig);
	had_usr2 = sigismember(&cur, SIGUSR2);
	count++;
}

static int blocked(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

static int pending(int sig)
{
	sigset_t p;
	sigpending(&p);
	return sigismember(&p, sig);
}

int main(void)
{
	struct sigaction sa = { 0 }, old = { 0 };
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	T_ERRNO("sigaction USR1", sigaction(SIGUSR1, &sa, &old), 0);
	printf("old was SIG_DFL=%d\n", old.sa_handler == SIG_DFL);
	raise(SIGUSR1);
	printf("count=%d mask_in_handler: self=%d sa_mask=%d; after: self=%d usr2=%d\n", count, had_self, had_usr2,
	       blocked(SIGUSR1), blocked(SIGUSR2));

	struct sigaction q = { 0 };
	T_ERRNO("query", sigaction(SIGUSR1, NULL, &q), 0);
	printf("query: handler_matches=%d mask_has_usr2=%d flags=0x%x\n", q.sa_handler == handler,
	       sigismember(&q.sa_mask, SIGUSR2), (unsigned)(q.sa_flags & ~SA_RESTORER));

	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	raise(SIGUSR1);
	printf("SA_NODEFER: count=%d self_blocked_in_handler=%d\n", count, had_self);

	/* SA_RESETHAND on a signal whose default is to be ignored. */
	sa.sa_flags = SA_RESETHAND;
	CHECK(sigaction(SIGURG, &sa, NULL) == 0);
	raise(SIGURG);
	printf("SA_RESETHAND: count=%d self_blocked_in_handler=%d\n", count, had_self);
	CHECK(sigaction(SIGURG, NULL, &q) == 0);
	printf("after delivery: handler_is_default=%d flags=0x%x\n", q.sa_handler == SIG_DFL,
	       (unsigned)(q.sa_flags & ~SA_RESTORER));
	raise(SIGURG);
	printf("second SIGURG ignored by default: count=%d\n", count);

	/* SIG_IGN discards a pending signal and drops new ones. */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
	raise(SIGUSR2);
	printf("usr2 pending=%d\n", pending(SIGUSR2));
	CHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
	printf("after SIG_IGN: usr2 pending=%d\n", pending(SIGUSR2));
	raise(SIGUSR2);
	printf("raise while ignored but blocked: usr2 pending=%d\n", pending(SIGUSR2));
	CHECK(sigprocmask(SIG_UNBLOCK, &m, NULL) == 0);

	/* signal() returns the previous disposition. */
	void (*prev)(int) = signal(SIGHUP, handler);
	printf("signal() previous is SIG_DFL=%d\n", prev == SIG_DFL);
	prev = signal(SIGHUP, SIG_DFL);
	printf("signal() previous is handler=%d\n", prev == handler);

	sa.sa_handler = handler;
	sa.sa_flags = 0;
	T_ERRNO("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL), EINVAL);
	T_ERRNO("sigaction SIGSTOP", sigaction(SIGSTOP, &sa, NULL), EINVAL);
	T_ERRNO("query SIGKILL", sigaction(SIGKILL, NULL, &q), 0);
	T_ERRNO("sigaction 0", sigaction(0, &sa, NULL), EINVAL);
	T_ERRNO("sigaction 65", syscall(SYS_rt_sigaction, 65, NULL, &q, 8), EINVAL);
	T_ERRNO("rt_sigaction sigsetsize 4", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &q, 4), EINVAL);
	return t_done();
}
