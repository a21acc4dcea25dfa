/* setitimer/getitimer: ITIMER_REAL with an interval (exact interval read back, old value
 * returned), ITIMER_VIRTUAL and ITIMER_PROF on CPU time, alarm() firing, errors. */
#include "test_util.h"
#include <sys/time.h>

static volatile int alrm, vtalrm, prof;

static void handler(int sig)
{
	if (sig == SIGALRM)
		alrm++;
	else if (sig == SIGVTALRM)
		vtalrm++;
	else if (sig == SIGPROF)
		prof++;
}

int main(void)
{
	signal(SIGALRM, handler);
	signal(SIGVTALRM, handler);
	signal(SIGPROF, handler);
	struct itimerval it, old, cur;

	CHECK(getitimer(ITIMER_REAL, &cur) == 0);
	printf("initially disarmed=%d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);

	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = 30000;
	it.it_value = it.it_interval;
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	T_ERRNO("setitimer REAL", setitimer(ITIMER_REAL, &it, &old), 0);
	printf("old was disarmed=%d\n", old.it_value.tv_sec == 0 && old.it_value.tv_usec == 0);
	CHECK(getitimer(ITIMER_REAL, &cur) == 0);
	printf("interval=%ld.%06ld value in (0,30ms]=%d\n", (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 30000);
	while (alrm < 3)
		pause();
	long long elapsed = t_now_ns(CLOCK_MONOTONIC) - t0;
	struct itimerval zero = { { 0, 0 }, { 0, 0 } };
	CHECK(setitimer(ITIMER_REAL, &zero, &old) == 0);
	printf("3 expirations took >= 90ms=%d; old interval kept=%d\n", elapsed >= 90 * 1000 * 1000LL,
	       old.it_interval.tv_usec == 30000);

	/* Virtual and profiling timers count CPU time. */
	it.it_interval.tv_usec = 10000;
	it.it_value.tv_usec = 10000;
	T_ERRNO("setitimer VIRTUAL", setitimer(ITIMER_VIRTUAL, &it, NULL), 0);
	T_ERRNO("setitimer PROF", setitimer(ITIMER_PROF, &it, NULL), 0);
	volatile unsigned long spin = 0;
	long long spin_start = t_now_ns(CLOCK_MONOTONIC);
	while (vtalrm < 2 || prof < 2) {
		spin++;
		if ((spin & 0xffff) == 0)
			t_deadline(spin_start, 10, "SIGVTALRM and SIGPROF");
	}
	CHECK(setitimer(ITIMER_VIRTUAL, &zero, NULL) == 0);
	CHECK(setitimer(ITIMER_PROF, &zero, NULL) == 0);
	printf("virtual>=2=%d prof>=2=%d\n", vtalrm >= 2, prof >= 2);

	/* alarm() fires SIGALRM once. */
	alrm = 0;
	t0 = t_now_ns(CLOCK_MONOTONIC);
	alarm(1);
	while (alrm == 0)
		pause();
	printf("alarm(1) fired after >= 1s=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 1000 * 1000 * 1000LL);

	T_ERRNO("getitimer bad which", getitimer(42, &cur), EINVAL);
	T_ERRNO("setitimer bad which", setitimer(42, &it, NULL), EINVAL);
	struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
	T_ERRNO("setitimer usec 1000000", setitimer(ITIMER_REAL, &bad, NULL), EINVAL);
	T_ERRNO("getitimer bad pointer", syscall(SYS_getitimer, ITIMER_REAL, (void *)1), EFAULT);
	return t_done();
}
