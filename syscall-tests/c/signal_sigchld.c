/* SIGCHLD: siginfo for exited/killed/stopped/continued children, SA_NOCLDSTOP, SA_NOCLDWAIT and
 * SIG_IGN auto-reaping (wait gives ECHILD). */
#include "test_util.h"

static siginfo_t last;
static volatile int count;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	last = *si;
	count++;
}

static const char *code(int c)
{
	switch (c) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	default: return "?";
	}
}

/* Waits (with SIGCHLD blocked outside) until the handler has run `want` times in total. */
static void await_count(int want, const sigset_t *waitmask)
{
	while (count < want)
		sigsuspend(waitmask);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

int main(void)
{
	sigset_t chld, waitmask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &chld, &waitmask) == 0);
	sigdelset(&waitmask, SIGCHLD);

	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(5);
	await_count(1, &waitmask);
	printf("exit: signo=%s code=%s status=%d pid_ok=%d\n", t_signame(last.si_signo), code(last.si_code),
	       last.si_status, last.si_pid == pid);
	t_wait(pid);

	pid = spawn_sleeper();
	CHECK(kill(pid, SIGSTOP) == 0);
	await_count(2, &waitmask);
	printf("stop: code=%s status=%s\n", code(last.si_code), t_signame(last.si_status));
	int st;
	CHECK(waitpid(pid, &st, WUNTRACED) == pid);
	CHECK(kill(pid, SIGCONT) == 0);
	await_count(3, &waitmask);
	printf("continue: code=%s status=%s\n", code(last.si_code), t_signame(last.si_status));
	CHECK(kill(pid, SIGKILL) == 0);
	await_count(4, &waitmask);
	printf("kill: code=%s status=%s\n", code(last.si_code), t_signame(last.si_status));
	t_wait(pid);

	/* SA_NOCLDSTOP: no SIGCHLD for stop/continue, still for the exit. */
	sa.sa_flags = SA_SIGINFO | SA_NOCLDSTOP;
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	pid = spawn_sleeper();
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid);
	CHECK(kill(pid, SIGCONT) == 0);
	CHECK(waitpid(pid, &st, WCONTINUED) == pid);
	sigset_t p;
	sigpending(&p);
	printf("SA_NOCLDSTOP: pending after stop+cont=%d count=%d\n", sigismember(&p, SIGCHLD), count);
	CHECK(kill(pid, SIGTERM) == 0);
	await_count(5, &waitmask);
	printf("SA_NOCLDSTOP exit: code=%s status=%s\n", code(last.si_code), t_signame(last.si_status));
	t_wait(pid);

	/* SA_NOCLDWAIT: children are reaped by the kernel; wait() waits for them, then ECHILD. */
	sa.sa_flags = SA_SIGINFO | SA_NOCLDWAIT;
	CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
	for (int i = 0; i < 3; i++) {
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(1);
	}
	T_ERRNO("wait with SA_NOCLDWAIT", wait(&st), ECHILD);

	/* SIG_IGN for SIGCHLD: the same. */
	CHECK(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	for (int i = 0; i < 3; i++) {
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			_exit(1);
	}
	T_ERRNO("wait with SIGCHLD ignored", wait(&st), ECHILD);
	return t_done();
}
