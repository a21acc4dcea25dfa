/* Real-time signals queue (every instance, with its value, in order); standard signals
 * coalesce; the lowest-numbered pending signal is delivered first; sigwaitinfo dequeues in the
 * same order. */
#include "test_util.h"

static int order_sig[256], order_val[256];
static volatile int n;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (n < 256) {
		order_sig[n] = sig;
		order_val[n] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
		n++;
	}
}

static void queue(int sig, int v)
{
	union sigval sv = { .sival_int = v };
	CHECK(sigqueue(getpid(), sig, sv) == 0);
}

static void fill(void)
{
	queue(SIGRTMIN + 1, 10);
	queue(SIGRTMIN, 1);
	queue(SIGRTMIN, 2);
	CHECK(raise(SIGUSR1) == 0);
	queue(SIGRTMIN, 3);
	CHECK(raise(SIGUSR1) == 0);
	queue(SIGRTMIN + 1, 11);
	queue(SIGRTMIN, 4);
	queue(SIGUSR2, 5);
}

int main(void)
{
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	struct sigaction sa = { 0 };
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask); /* one handler at a time, so the order is the dequeue order */
	int sigs[] = { SIGUSR1, SIGUSR2, SIGRTMIN, SIGRTMIN + 1 };
	for (int i = 0; i < 4; i++)
		CHECK(sigaction(sigs[i], &sa, NULL) == 0);

	CHECK(sigprocmask(SIG_SETMASK, &all, NULL) == 0);
	fill();
	sigset_t p;
	sigpending(&p);
	printf("pending: USR1=%d USR2=%d RTMIN=%d RTMIN+1=%d\n", sigismember(&p, SIGUSR1), sigismember(&p, SIGUSR2),
	       sigismember(&p, SIGRTMIN), sigismember(&p, SIGRTMIN + 1));
	CHECK(sigprocmask(SIG_SETMASK, &none, NULL) == 0);
	printf("delivered %d:", n);
	for (int i = 0; i < n; i++)
		printf(" %s/%d", t_signame(order_sig[i]), order_val[i]);
	printf("\n");

	/* The same through sigwaitinfo. */
	CHECK(sigprocmask(SIG_SETMASK, &all, NULL) == 0);
	fill();
	printf("dequeued:");
	struct timespec zero = { 0, 0 };
	sigset_t want;
	sigemptyset(&want);
	for (int i = 0; i < 4; i++)
		sigaddset(&want, sigs[i]);
	for (;;) {
		siginfo_t si;
		int s = sigtimedwait(&want, &si, &zero);
		if (s < 0) {
			printf(" then %s\n", t_errname(errno));
			break;
		}
		printf(" %s/%d", t_signame(s), si.si_code == SI_QUEUE ? si.si_value.sival_int : -1);
	}

	/* Many instances of one real-time signal are all kept. */
	for (int i = 0; i < 200; i++)
		queue(SIGRTMIN + 2, i);
	int got = 0, in_order = 1;
	sigemptyset(&want);
	sigaddset(&want, SIGRTMIN + 2);
	for (;;) {
		siginfo_t si;
		if (sigtimedwait(&want, &si, &zero) < 0)
			break;
		in_order &= si.si_value.sival_int == got;
		got++;
	}
	printf("queued 200, dequeued %d, in_order=%d\n", got, in_order);
	return t_done();
}
