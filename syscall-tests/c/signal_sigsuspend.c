/* sigsuspend and pause: wait for a signal with a temporary mask, EINTR, the mask in the handler
 * and after return, a signal already pending returns at once. */
#include "test_util.h"
#include <sys/time.h>

static volatile int count;
static volatile int usr1_blocked_in_handler, usr2_blocked_in_handler;

static void handler(int sig)
{
	(void)sig;
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_blocked_in_handler = sigismember(&cur, SIGUSR1);
	usr2_blocked_in_handler = sigismember(&cur, SIGUSR2);
	count++;
}

int main(void)
{
	signal(SIGUSR1, handler);
	signal(SIGALRM, handler);
	sigset_t block, waitmask, cur;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGALRM);
	CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0);

	/* A child sends the signal while we are blocked in sigsuspend, or before: either way it is
	 * pending until sigsuspend unblocks it, so there is no race. */
	pid_t parent = getpid();
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		kill(parent, SIGUSR1);
		_exit(0);
	}
	sigemptyset(&waitmask);
	sigaddset(&waitmask, SIGUSR2); /* the temporary mask: only USR2 blocked */
	T_ERRNO("sigsuspend", sigsuspend(&waitmask), EINTR);
	printf("handler ran=%d usr1 blocked in handler=%d usr2 blocked in handler=%d\n", count, usr1_blocked_in_handler,
	       usr2_blocked_in_handler);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
	printf("mask restored: usr1=%d usr2=%d\n", sigismember(&cur, SIGUSR1), sigismember(&cur, SIGUSR2));
	t_wait(c);

	/* Already pending: returns at once. */
	raise(SIGUSR1);
	sigemptyset(&waitmask);
	T_ERRNO("sigsuspend with pending", sigsuspend(&waitmask), EINTR);
	printf("count=%d\n", count);

	/* pause() woken by a timer. */
	CHECK(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0);
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_ERRNO("pause", pause(), EINTR);
	printf("count=%d\n", count);

	T_ERRNO("rt_sigsuspend sigsetsize 4", syscall(SYS_rt_sigsuspend, &waitmask, 4), EINVAL);
	T_ERRNO("rt_sigsuspend bad pointer", syscall(SYS_rt_sigsuspend, (void *)1, 8), EFAULT);
	return t_done();
}
