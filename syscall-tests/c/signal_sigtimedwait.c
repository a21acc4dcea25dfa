/* sigtimedwait/sigwaitinfo: timeouts (EAGAIN), dequeueing a pending signal with its info,
 * EINTR by a handled signal outside the set, errors. */
#include "test_util.h"
#include <sys/time.h>

static void on_alrm(int sig)
{
	(void)sig;
}

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	siginfo_t si;
	struct timespec zero = { 0, 0 }, short_ts = { 0, 20 * 1000 * 1000 };

	T_ERRNO("zero timeout, nothing pending", sigtimedwait(&set, &si, &zero), EAGAIN);
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	T_ERRNO("20ms timeout", sigtimedwait(&set, &si, &short_ts), EAGAIN);
	printf("waited_at_least_20ms=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 20 * 1000 * 1000);

	raise(SIGUSR1);
	memset(&si, 0, sizeof si);
	int s = sigtimedwait(&set, &si, &zero);
	printf("dequeued=%s si_signo=%s si_code=%d pid_is_self=%d\n", t_signame(s), t_signame(si.si_signo),
	       si.si_code, si.si_pid == getpid());
	sigset_t p;
	sigpending(&p);
	printf("no longer pending=%d\n", !sigismember(&p, SIGUSR1));

	union sigval v = { .sival_int = 31 };
	CHECK(sigqueue(getpid(), SIGRTMIN, v) == 0);
	s = sigwaitinfo(&set, &si);
	printf("sigwaitinfo=%s value=%d\n", t_signame(s), si.si_value.sival_int);

	/* A child sends the signal later; we block in sigwaitinfo. */
	pid_t parent = getpid();
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		usleep(20000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	s = sigwaitinfo(&set, &si);
	printf("from child=%s pid_is_child=%d code_user=%d\n", t_signame(s), si.si_pid == c, si.si_code == SI_USER);
	t_wait(c);

	/* A handled signal not in the set interrupts the wait. */
	signal(SIGALRM, on_alrm);
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	struct timespec long_ts = { 10, 0 };
	T_ERRNO("interrupted by SIGALRM", sigtimedwait(&set, &si, &long_ts), EINTR);

	struct timespec bad = { 0, 1000000000 };
	T_ERRNO("bad timeout", sigtimedwait(&set, &si, &bad), EINVAL);
	struct timespec neg = { -1, 0 };
	T_ERRNO("negative timeout", sigtimedwait(&set, &si, &neg), EINVAL);
	T_ERRNO("sigsetsize 4", syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 4), EINVAL);
	T_ERRNO("bad set pointer", syscall(SYS_rt_sigtimedwait, (void *)1, &si, &zero, 8), EFAULT);
	return t_done();
}
