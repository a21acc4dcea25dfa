/* nanosleep and clock_nanosleep: relative and TIMER_ABSTIME sleeps last at least as asked, an
 * absolute time in the past returns at once, interruption fills rem, error numbers (returned,
 * not in errno, for clock_nanosleep). */
#include "test_util.h"
#include <sys/time.h>

static void on_alrm(int sig)
{
	(void)sig;
}

int main(void)
{
	struct timespec req = { 0, 30 * 1000 * 1000 }, rem;
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	T_ERRNO("nanosleep 30ms", nanosleep(&req, NULL), 0);
	printf("slept >= 30ms=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 30 * 1000 * 1000LL);

	t0 = t_now_ns(CLOCK_MONOTONIC);
	T_RET("clock_nanosleep relative", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), 0);
	printf("slept >= 30ms=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 30 * 1000 * 1000LL);

	struct timespec now;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
	struct timespec target = now;
	target.tv_nsec += 30 * 1000 * 1000;
	if (target.tv_nsec >= 1000000000) {
		target.tv_sec++;
		target.tv_nsec -= 1000000000;
	}
	T_RET("clock_nanosleep TIMER_ABSTIME", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, NULL), 0);
	struct timespec after;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &after) == 0);
	printf("woke at or after target=%d\n",
	       after.tv_sec > target.tv_sec || (after.tv_sec == target.tv_sec && after.tv_nsec >= target.tv_nsec));

	struct timespec past = { now.tv_sec - 10, 0 };
	t0 = t_now_ns(CLOCK_MONOTONIC);
	T_RET("TIMER_ABSTIME in the past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
	printf("returned within 1s=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 < 1000 * 1000 * 1000LL);
	struct timespec rt;
	CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0);
	rt.tv_nsec = 0;
	rt.tv_sec -= 1;
	T_RET("REALTIME abstime in the past", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &rt, NULL), 0);
	struct timespec zero = { 0, 0 };
	T_ERRNO("nanosleep zero", nanosleep(&zero, NULL), 0);

	/* Interrupted by a handled signal: EINTR and rem holds the time left. */
	struct sigaction sa = { 0 };
	sa.sa_handler = on_alrm;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	struct timespec longreq = { 10, 0 };
	rem.tv_sec = -1;
	T_ERRNO("nanosleep interrupted", nanosleep(&longreq, &rem), EINTR);
	printf("rem in (9s,10s]=%d\n", rem.tv_sec == 9 || (rem.tv_sec == 10 && rem.tv_nsec == 0));
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	rem.tv_sec = -1;
	T_RET("clock_nanosleep interrupted", clock_nanosleep(CLOCK_MONOTONIC, 0, &longreq, &rem), EINTR);
	printf("rem in (9s,10s]=%d\n", rem.tv_sec == 9 || (rem.tv_sec == 10 && rem.tv_nsec == 0));
	CHECK(clock_gettime(CLOCK_MONOTONIC, &target) == 0);
	target.tv_sec += 10;
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	rem.tv_sec = 77;
	T_RET("abstime interrupted", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, &rem), EINTR);
	printf("rem untouched for TIMER_ABSTIME=%d\n", rem.tv_sec == 77);

	struct timespec bad = { 0, 1000000000 };
	T_ERRNO("nanosleep nsec 1e9", nanosleep(&bad, NULL), EINVAL);
	struct timespec neg = { -1, 0 };
	T_ERRNO("nanosleep negative", nanosleep(&neg, NULL), EINVAL);
	T_RET("clock_nanosleep bad nsec", clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
	T_RET("clock_nanosleep bad clock", clock_nanosleep(12345, 0, &req, NULL), EINVAL);
	T_RET("clock_nanosleep THREAD_CPUTIME", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL), EINVAL);
	T_ERRNO("raw clock_nanosleep bad pointer", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, (void *)1, NULL), EFAULT);
	return t_done();
}
