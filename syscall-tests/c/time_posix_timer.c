/* POSIX timers: timer_create with SIGEV_SIGNAL (si_code SI_TIMER, si_value), SIGEV_NONE,
 * settime/gettime, overruns, delete, errors. */
#include "test_util.h"

int main(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);

	struct sigevent sev = { 0 };
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN;
	sev.sigev_value.sival_int = 4242;
	timer_t t;
	/* Everything below depends on these two. */
	CHECK(T_ERRNO("timer_create", timer_create(CLOCK_MONOTONIC, &sev, &t), 0) == 0);
	struct itimerspec its = { { 0, 0 }, { 0, 10 * 1000 * 1000 } };
	CHECK(T_ERRNO("timer_settime", timer_settime(t, 0, &its, NULL), 0) == 0);
	siginfo_t si;
	int s = sigwaitinfo(&m, &si);
	printf("signal=%s code_timer=%d value=%d\n", t_signame(s), si.si_code == SI_TIMER, si.si_value.sival_int);
	struct itimerspec cur;
	CHECK(timer_gettime(t, &cur) == 0);
	printf("one-shot disarmed after firing=%d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	/* Periodic, with the signal left pending: expirations pile up as overruns. */
	struct itimerspec per = { { 0, 5 * 1000 * 1000 }, { 0, 5 * 1000 * 1000 } };
	CHECK(timer_settime(t, 0, &per, NULL) == 0);
	struct timespec nap = { 0, 60 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	s = sigwaitinfo(&m, &si);
	int over = timer_getoverrun(t);
	printf("periodic: one signal queued, overrun>=3=%d si_overrun>=3=%d\n", over >= 3, si.si_overrun >= 3);
	CHECK(timer_gettime(t, &cur) == 0);
	printf("interval read back=%ld\n", cur.it_interval.tv_nsec);
	T_ERRNO("timer_delete", timer_delete(t), 0);
	T_ERRNO("settime deleted", timer_settime(t, 0, &its, NULL), EINVAL);

	/* SIGEV_NONE: no signal, but the time counts down. */
	sev.sigev_notify = SIGEV_NONE;
	timer_t n;
	CHECK(timer_create(CLOCK_REALTIME, &sev, &n) == 0);
	struct itimerspec lng = { { 0, 0 }, { 100, 0 } };
	CHECK(timer_settime(n, 0, &lng, NULL) == 0);
	CHECK(timer_gettime(n, &cur) == 0);
	printf("SIGEV_NONE counting down=%d\n", cur.it_value.tv_sec <= 100 && cur.it_value.tv_sec >= 98);
	CHECK(timer_delete(n) == 0);

	T_ERRNO("bad clock", timer_create(12345, NULL, &n), EINVAL);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = 99;
	T_ERRNO("bad signal", timer_create(CLOCK_MONOTONIC, &sev, &n), EINVAL);
	return t_done();
}
