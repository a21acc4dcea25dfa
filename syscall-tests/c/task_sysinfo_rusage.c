/* sysinfo, getrusage (self, children, thread, errors) and times. */
#include "test_util.h"
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>

static int burn(void)
{
	/* Spend 30 ms of CPU time (measured by the process CPU clock). */
	long long start = t_now_ns(CLOCK_PROCESS_CPUTIME_ID);
	long long wall = t_now_ns(CLOCK_MONOTONIC);
	volatile unsigned long x = 0;
	while (t_now_ns(CLOCK_PROCESS_CPUTIME_ID) - start < 30 * 1000 * 1000) {
		x++;
		t_deadline(wall, 10, "the process CPU clock to advance 30ms");
	}
	return 0;
}

static long long tv_ns(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

int main(void)
{
	struct sysinfo si;
	T_ERRNO("sysinfo", sysinfo(&si), 0);
	printf("uptime>0=%d totalram>0=%d freeram<=totalram=%d mem_unit>=1=%d procs>0=%d\n", si.uptime > 0,
	       si.totalram > 0, si.freeram <= si.totalram, si.mem_unit >= 1, si.procs > 0);
	T_ERRNO("sysinfo bad pointer", syscall(SYS_sysinfo, (void *)1), EFAULT);

	struct rusage ru;
	burn();
	T_ERRNO("getrusage self", getrusage(RUSAGE_SELF, &ru), 0);
	printf("self cpu>=30ms=%d maxrss>0=%d\n", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 30 * 1000 * 1000LL,
	       ru.ru_maxrss > 0);
	T_ERRNO("getrusage thread", getrusage(RUSAGE_THREAD, &ru), 0);
	T_ERRNO("getrusage children (none yet)", getrusage(RUSAGE_CHILDREN, &ru), 0);
	printf("children cpu before=%lld\n", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime));

	struct tms before, after;
	clock_t c0 = times(&before);
	printf("times ok=%d\n", c0 != (clock_t)-1);
	printf("child: %s\n", t_status(t_in_child(burn)));
	T_ERRNO("getrusage children", getrusage(RUSAGE_CHILDREN, &ru), 0);
	printf("children cpu>=30ms=%d\n", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 30 * 1000 * 1000LL);
	clock_t c1 = times(&after);
	long hz = sysconf(_SC_CLK_TCK);
	printf("clk_tck=%ld\n", hz);
	printf("times: elapsed_nondecreasing=%d child ticks>=2=%d self ticks>=2=%d\n", c1 >= c0,
	       (after.tms_cutime + after.tms_cstime) >= 2, (after.tms_utime + after.tms_stime) >= 2);
	T_ERRNO("getrusage bad who", getrusage(42, &ru), EINVAL);
	T_ERRNO("times bad pointer", syscall(SYS_times, (void *)1), EFAULT);
	return t_done();
}
