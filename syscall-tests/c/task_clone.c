/* Raw clone(): a thread with CLONE_PARENT_SETTID/CHILD_CLEARTID (futex wake on exit), a
 * fork-like child with a custom exit signal, and flag combination errors. */
#include "test_util.h"
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>

static char stack1[65536] __attribute__((aligned(16)));
static char stack2[65536] __attribute__((aligned(16)));
static volatile int shared_word;
static pid_t ptid, ctid;

static int thread_fn(void *arg)
{
	shared_word = (int)(long)arg;
	return 0; /* the glibc wrapper calls exit (the thread only) */
}

static int proc_fn(void *arg)
{
	(void)arg;
	shared_word = 99; /* separate memory: the parent does not see this */
	return 12;
}

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	ctid = -1;
	int tid = clone(thread_fn, stack1 + sizeof stack1, flags, (void *)7L, &ptid, NULL, &ctid);
	CHECK(tid > 0);
	printf("parent_settid_matches=%d\n", ptid == tid);
	/* Wait for the kernel to clear ctid and wake us. */
	long long start = t_now_ns(CLOCK_MONOTONIC);
	while (1) {
		pid_t v = __atomic_load_n(&ctid, __ATOMIC_SEQ_CST);
		if (v == 0)
			break;
		t_deadline(start, 10, "CLONE_CHILD_CLEARTID to clear the tid");
		struct timespec slice = { 0, 100 * 1000 * 1000 };
		long r = syscall(SYS_futex, &ctid, FUTEX_WAIT, v, &slice, NULL, 0);
		CHECK(r == 0 || errno == EAGAIN || errno == EINTR || errno == ETIMEDOUT);
	}
	printf("child_cleartid_zeroed=1 thread_wrote=%d\n", shared_word);

	/* A thread is not a child: waitpid does not see it. */
	int st;
	T_ERRNO("waitpid on thread", waitpid(tid, &st, __WALL | WNOHANG), ECHILD);

	/* A separate process with SIGUSR1 as its exit signal: needs __WALL or __WCLONE. */
	shared_word = 0;
	int pid = clone(proc_fn, stack2 + sizeof stack2, SIGUSR1, NULL);
	CHECK(pid > 0);
	T_ERRNO("waitpid non-SIGCHLD child without __WCLONE", waitpid(pid, &st, WNOHANG), ECHILD);
	pid_t r;
	do
		r = waitpid(pid, &st, __WCLONE);
	while (r == -1 && errno == EINTR);
	printf("clone child reaped with __WCLONE=%d %s parent_memory_untouched=%d\n", r == pid, t_status(st), shared_word == 0);

	T_ERRNO("CLONE_THREAD without CLONE_SIGHAND", clone(thread_fn, stack1 + sizeof stack1, CLONE_VM | CLONE_THREAD, NULL), EINVAL);
	T_ERRNO("CLONE_SIGHAND without CLONE_VM", clone(thread_fn, stack1 + sizeof stack1, CLONE_SIGHAND, NULL), EINVAL);
	T_ERRNO("CLONE_NEWNS with CLONE_FS", clone(thread_fn, stack1 + sizeof stack1, CLONE_NEWNS | CLONE_FS, NULL), EINVAL);
	return t_done();
}
