/* kill, tgkill, tkill, rt_sigqueueinfo, rt_tgsigqueueinfo, sigqueue: targets, signal 0,
 * process groups, permission (si_code rules) and errors. */
#include "test_util.h"

static volatile int got;
static volatile pid_t got_tid;

static void handler(int sig)
{
	got = sig;
	got_tid = (pid_t)syscall(SYS_gettid);
}

int main(void)
{
	signal(SIGUSR1, handler);
	T_ERRNO("kill self 0", kill(getpid(), 0), 0);
	T_ERRNO("kill self USR1", kill(getpid(), SIGUSR1), 0);
	printf("got=%s\n", t_signame(got));
	got = 0;
	T_ERRNO("tkill self", syscall(SYS_tkill, gettid(), SIGUSR1), 0);
	printf("got=%s on_self=%d\n", t_signame(got), got_tid == gettid());
	got = 0;
	T_ERRNO("tgkill self", syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1), 0);
	printf("got=%s\n", t_signame(got));
	got = 0;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	T_ERRNO("rt_tgsigqueueinfo self", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR1, &si), 0);
	printf("got=%s\n", t_signame(got));

	pid_t dead = fork();
	CHECK(dead >= 0);
	if (dead == 0)
		_exit(0);
	t_wait(dead);
	T_ERRNO("kill reaped", kill(dead, 0), ESRCH);
	T_ERRNO("kill bad signal", kill(getpid(), 65), EINVAL);
	T_ERRNO("kill negative signal", kill(getpid(), -1), EINVAL);
	T_ERRNO("tgkill wrong tgid", syscall(SYS_tgkill, dead, gettid(), SIGUSR1), ESRCH);
	T_ERRNO("tgkill tgid 0", syscall(SYS_tgkill, 0, gettid(), SIGUSR1), EINVAL);
	T_ERRNO("tgkill tid -1", syscall(SYS_tgkill, getpid(), -1, SIGUSR1), EINVAL);
	T_ERRNO("tkill tid 0", syscall(SYS_tkill, 0, SIGUSR1), EINVAL);
	T_ERRNO("tkill reaped", syscall(SYS_tkill, dead, SIGUSR1), ESRCH);
	union sigval sv = { .sival_int = 1 };
	T_ERRNO("sigqueue bad signal", sigqueue(getpid(), 99, sv), EINVAL);

	/* rt_sigqueueinfo to another process: si_code must be negative and not SI_TKILL. */
	int gate[2];
	CHECK(pipe(gate) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGUSR2);
		sigprocmask(SIG_BLOCK, &m, NULL);
		CHECK(write(gate[1], "r", 1) == 1);
		siginfo_t in;
		int s = sigwaitinfo(&m, &in);
		_exit(s == SIGUSR2 && in.si_code == SI_QUEUE ? in.si_value.sival_int : 100);
	}
	char b;
	CHECK(read(gate[0], &b, 1) == 1);
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR2;
	si.si_code = SI_USER;
	T_ERRNO("rt_sigqueueinfo other SI_USER", syscall(SYS_rt_sigqueueinfo, c, SIGUSR2, &si), EPERM);
	si.si_code = SI_TKILL;
	T_ERRNO("rt_sigqueueinfo other SI_TKILL", syscall(SYS_rt_sigqueueinfo, c, SIGUSR2, &si), EPERM);
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 42;
	T_ERRNO("rt_sigqueueinfo other SI_QUEUE", syscall(SYS_rt_sigqueueinfo, c, SIGUSR2, &si), 0);
	printf("receiver: %s\n", t_status(t_wait(c)));

	/* kill(0, sig) reaches the whole process group, kill(-pgid, sig) too. */
	pid_t leader = fork();
	CHECK(leader >= 0);
	if (leader == 0) {
		setpgid(0, 0);
		/* The leader survives its own broadcast by blocking it; the children unblock it, so
		 * it kills them whether it arrives before or after they unblock. */
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGUSR1);
		sigprocmask(SIG_BLOCK, &m, NULL);
		signal(SIGUSR1, SIG_DFL);
		pid_t kids[2];
		for (int i = 0; i < 2; i++) {
			kids[i] = fork();
			CHECK(kids[i] >= 0);
			if (kids[i] == 0) {
				sigprocmask(SIG_UNBLOCK, &m, NULL);
				for (;;)
					pause();
			}
		}
		CHECK(kill(0, SIGUSR1) == 0);
		int ok = 1;
		for (int i = 0; i < 2; i++) {
			int st = t_wait(kids[i]);
			ok &= WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1;
		}
		_exit(ok ? 0 : 1);
	}
	printf("kill(0) group broadcast: %s\n", t_status(t_wait(leader)));
	return t_done();
}
