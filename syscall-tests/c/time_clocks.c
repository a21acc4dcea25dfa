/* clock_gettime (monotonic never goes back, realtime is after 2020, boottime >= monotonic,
 * CPU clocks advance with work), clock_getres, gettimeofday/time agree with realtime, vDSO and
 * raw syscall agree, errors. */
#include "test_util.h"
#include <sys/time.h>

static long long raw_ns(clockid_t c)
{
	struct timespec ts;
	CHECK(syscall(SYS_clock_gettime, c, &ts) == 0);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void)
{
	long long prev = t_now_ns(CLOCK_MONOTONIC);
	int mono = 1;
	for (int i = 0; i < 10000; i++) {
		long long now = i % 2 ? t_now_ns(CLOCK_MONOTONIC) : raw_ns(CLOCK_MONOTONIC);
		mono &= now >= prev;
		prev = now;
	}
	printf("monotonic never decreases (vdso and syscall mixed)=%d\n", mono);

	struct timespec ts;
	clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
			       CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID };
	const char *names[] = { "REALTIME", "MONOTONIC", "MONOTONIC_RAW", "REALTIME_COARSE", "MONOTONIC_COARSE",
				"BOOTTIME", "PROCESS_CPUTIME_ID", "THREAD_CPUTIME_ID" };
	for (int i = 0; i < 8; i++) {
		int ok = clock_gettime(clocks[i], &ts) == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000;
		struct timespec res = { -1, -1 };
		int rok = clock_getres(clocks[i], &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0;
		printf("%s: gettime ok=%d getres ok=%d\n", names[i], ok, rok);
	}
	CHECK(clock_getres(CLOCK_MONOTONIC, &ts) == 0);
	printf("MONOTONIC resolution=%ldns\n", ts.tv_nsec);
	CHECK(clock_getres(CLOCK_REALTIME, &ts) == 0);
	printf("REALTIME resolution=%ldns\n", ts.tv_nsec);

	long long rt = t_now_ns(CLOCK_REALTIME);
	printf("realtime after 2020=%d\n", rt / 1000000000LL > 1577836800LL);
	long long mono_now = t_now_ns(CLOCK_MONOTONIC);
	long long boot_now = t_now_ns(CLOCK_BOOTTIME);
	printf("boottime >= monotonic=%d\n", boot_now >= mono_now);
	struct timeval tv;
	CHECK(gettimeofday(&tv, NULL) == 0);
	time_t t = time(NULL);
	long long rt2 = t_now_ns(CLOCK_REALTIME);
	printf("gettimeofday within 2s of realtime=%d usec<1e6=%d\n", llabs((long long)tv.tv_sec * 1000000000LL - rt) < 2000000000LL,
	       tv.tv_usec < 1000000);
	printf("time() within 2s=%d\n", llabs((long long)t * 1000000000LL - rt2) < 2000000000LL);
	time_t t2 = 0;
	CHECK(syscall(SYS_time, &t2) != -1);
	printf("raw time syscall within 2s=%d\n", llabs((long long)t2 - t) <= 2);

	/* CPU clocks advance with work, and not while sleeping. */
	long long c0 = t_now_ns(CLOCK_PROCESS_CPUTIME_ID), th0 = t_now_ns(CLOCK_THREAD_CPUTIME_ID);
	long long start = t_now_ns(CLOCK_MONOTONIC);
	volatile unsigned long x = 0;
	while (t_now_ns(CLOCK_MONOTONIC) - start < 20 * 1000 * 1000)
		x++;
	long long c1 = t_now_ns(CLOCK_PROCESS_CPUTIME_ID), th1 = t_now_ns(CLOCK_THREAD_CPUTIME_ID);
	printf("cpu clocks advance with work: process=%d thread=%d\n", c1 > c0, th1 > th0);
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	long long c2 = t_now_ns(CLOCK_PROCESS_CPUTIME_ID);
	printf("cpu clock advanced less than 40ms during a 50ms sleep=%d\n", c2 - c1 < 40 * 1000 * 1000);

	clockid_t cid;
	T_RET("clock_getcpuclockid self", clock_getcpuclockid(0, &cid), 0);
	T_ERRNO("gettime with that id", clock_gettime(cid, &ts), 0);

	T_ERRNO("bad clock", clock_gettime(12345, &ts), EINVAL);
	T_ERRNO("getres bad clock", clock_getres(12345, &ts), EINVAL);
	T_ERRNO("getres NULL", clock_getres(CLOCK_MONOTONIC, NULL), 0);
	T_ERRNO("settime MONOTONIC", clock_settime(CLOCK_MONOTONIC, &ts), EINVAL);
	T_ERRNO("gettimeofday bad pointer", syscall(SYS_gettimeofday, (void *)1, NULL), EFAULT);
	return t_done();
}
