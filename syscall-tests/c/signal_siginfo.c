/* SA_SIGINFO: si_code, si_pid, si_uid, si_value for kill, sigqueue, tgkill, rt_sigqueueinfo,
 * an interval timer, and for faults (si_code, si_addr). */
#include "test_util.h"
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/time.h>

static siginfo_t last;
static volatile int hits;
static sigjmp_buf jb;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	last = *si;
	hits++;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	last = *si;
	siglongjmp(jb, 1);
}

static const char *code(int c)
{
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_TIMER: return "SI_TIMER";
	default: {
		static char b[16];
		snprintf(b, sizeof b, "%d", c);
		return b;
	}
	}
}

static void show(const char *what)
{
	printf("%s: signo=%s code=%s pid_is_self=%d uid=%d\n", what, t_signame(last.si_signo), code(last.si_code),
	       last.si_pid == getpid(), (int)last.si_uid);
}

int main(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);

	CHECK(kill(getpid(), SIGUSR1) == 0);
	show("kill");
	union sigval v = { .sival_int = 1234 };
	CHECK(sigqueue(getpid(), SIGUSR1, v) == 0);
	show("sigqueue");
	printf("sigqueue value=%d\n", last.si_value.sival_int);
	CHECK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1) == 0);
	show("tgkill");
	CHECK(raise(SIGUSR1) == 0);
	show("raise");

	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = -42;
	si.si_pid = 777;
	si.si_uid = 888;
	si.si_value.sival_int = 99;
	T_ERRNO("rt_sigqueueinfo to self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si), 0);
	printf("rt_sigqueueinfo: code=%d pid=%d uid=%d value=%d\n", last.si_code, last.si_pid, (int)last.si_uid,
	       last.si_value.sival_int);

	/* An interval timer's SIGALRM comes from the kernel. */
	sigset_t m, old;
	sigemptyset(&m);
	sigaddset(&m, SIGALRM);
	CHECK(sigprocmask(SIG_BLOCK, &m, &old) == 0);
	struct itimerval it = { { 0, 0 }, { 0, 10000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	sigsuspend(&old);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	printf("itimer: signo=%s code=%s\n", t_signame(last.si_signo), code(last.si_code));

	/* Faults. */
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	CHECK(sigaction(SIGFPE, &sa, NULL) == 0);
	CHECK(sigaction(SIGILL, &sa, NULL) == 0);
	CHECK(sigaction(SIGTRAP, &sa, NULL) == 0);
	CHECK(sigaction(SIGBUS, &sa, NULL) == 0);

	volatile int *bad = (volatile int *)0x1000;
	if (sigsetjmp(jb, 1) == 0)
		*bad = 1;
	printf("segv: code=%s addr_ok=%d\n", last.si_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other", last.si_addr == (void *)bad);

	volatile int a = 1, b = 0;
	if (sigsetjmp(jb, 1) == 0)
		a = a / b;
	printf("fpe: code=%s\n", last.si_code == FPE_INTDIV ? "FPE_INTDIV" : "other");

	if (sigsetjmp(jb, 1) == 0)
		__asm__ volatile("ud2");
	printf("ill: code=%s\n", last.si_code == ILL_ILLOPN ? "ILL_ILLOPN" : "other");

	if (sigsetjmp(jb, 1) == 0)
		__asm__ volatile("int3");
	printf("trap: code=%s\n", code(last.si_code));

	int fd = memfd_create("bus", 0);
	CHECK(fd >= 0);
	volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	if (sigsetjmp(jb, 1) == 0)
		(void)*p;
	printf("bus: code=%s addr_ok=%d\n", last.si_code == BUS_ADRERR ? "BUS_ADRERR" : "other", last.si_addr == (void *)p);
	return t_done();
}
