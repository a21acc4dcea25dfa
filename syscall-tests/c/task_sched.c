/* Scheduler basics: sched_yield, affinity, policies and priorities, nice values, errors. */
#include "test_util.h"
#include <sched.h>
#include <sys/resource.h>

int main(void)
{
	T_ERRNO("sched_yield", sched_yield(), 0);

	cpu_set_t set;
	CPU_ZERO(&set);
	T_ERRNO("sched_getaffinity", sched_getaffinity(0, sizeof set, &set), 0);
	int n = CPU_COUNT(&set);
	printf("cpus>0=%d\n", n > 0);
	long raw = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
	printf("raw returns size: positive_multiple_of_8=%d\n", raw > 0 && raw % 8 == 0);
	T_ERRNO("sched_setaffinity same", sched_setaffinity(0, sizeof set, &set), 0);
	cpu_set_t empty;
	CPU_ZERO(&empty);
	T_ERRNO("sched_setaffinity empty", sched_setaffinity(0, sizeof empty, &empty), EINVAL);
	T_ERRNO("sched_getaffinity bad pointer", syscall(SYS_sched_getaffinity, 0, sizeof set, (void *)1), EFAULT);

	printf("policy=%s\n", sched_getscheduler(0) == SCHED_OTHER ? "SCHED_OTHER" : "other");
	struct sched_param sp = { 0 };
	T_ERRNO("sched_getparam", sched_getparam(0, &sp), 0);
	printf("priority=%d\n", sp.sched_priority);
	sp.sched_priority = 0;
	T_ERRNO("setscheduler OTHER prio 0", sched_setscheduler(0, SCHED_OTHER, &sp), 0);
	sp.sched_priority = 1;
	T_ERRNO("setscheduler OTHER prio 1", sched_setscheduler(0, SCHED_OTHER, &sp), EINVAL);
	sp.sched_priority = 0;
	T_ERRNO("setscheduler FIFO prio 0", sched_setscheduler(0, SCHED_FIFO, &sp), EINVAL);
	T_ERRNO("setscheduler bad policy", sched_setscheduler(0, 42, &sp), EINVAL);
	T_ERRNO("getscheduler negative pid", sched_getscheduler(-1), EINVAL);
	printf("FIFO max=%d min=%d OTHER max=%d min=%d RR max=%d\n", sched_get_priority_max(SCHED_FIFO),
	       sched_get_priority_min(SCHED_FIFO), sched_get_priority_max(SCHED_OTHER),
	       sched_get_priority_min(SCHED_OTHER), sched_get_priority_max(SCHED_RR));
	T_ERRNO("priority_max bad policy", sched_get_priority_max(42), EINVAL);
	struct timespec ts;
	T_ERRNO("sched_rr_get_interval", sched_rr_get_interval(0, &ts), 0);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(0);
	t_wait(pid);
	T_ERRNO("getscheduler reaped pid", sched_getscheduler(pid), ESRCH);
	T_ERRNO("getaffinity reaped pid", sched_getaffinity(pid, sizeof set, &set), ESRCH);

	/* Nice values, in a child so the parent keeps its own. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		errno = 0;
		int before = getpriority(PRIO_PROCESS, 0);
		int ok = errno == 0 && before == 0;
		ok &= setpriority(PRIO_PROCESS, 0, 5) == 0;
		errno = 0;
		ok &= getpriority(PRIO_PROCESS, 0) == 5 && errno == 0;
		ok &= nice(2) == 7;
		ok &= setpriority(PRIO_PROCESS, 0, 100) == 0 && getpriority(PRIO_PROCESS, 0) == 19;
		errno = 0;
		ok &= setpriority(42, 0, 1) == -1 && errno == EINVAL;
		_exit(ok ? 0 : 1);
	}
	printf("nice child: %s\n", t_status(t_wait(pid)));
	return t_done();
}
