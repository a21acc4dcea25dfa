/* set_tid_address (clear + futex wake at thread exit), get/set_robust_list, and robust mutexes
 * whose owner died (thread and process). */
#include "test_util.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

static char stack[65536] __attribute__((aligned(16)));
static pid_t word;
static long set_ret;
static pid_t thr_tid;

static int thread_fn(void *arg)
{
	(void)arg;
	thr_tid = (pid_t)syscall(SYS_gettid);
	set_ret = syscall(SYS_set_tid_address, &word);
	return 0;
}

static pthread_mutex_t *robust;

/* pthread_mutex_lock, but failing with ETIMEDOUT after 10 s instead of hanging the test. */
static int lock10(pthread_mutex_t *m)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	return pthread_mutex_timedlock(m, &until);
}

static void *locker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(robust);
	return NULL; /* exits holding it */
}

int main(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	pid_t dummy;
	long r = syscall(SYS_set_tid_address, &dummy);
	printf("set_tid_address_returns_tid=%d\n", r == tid);

	word = 12345;
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	CHECK(clone(thread_fn, stack + sizeof stack, flags, NULL) > 0);
	long long start = t_now_ns(CLOCK_MONOTONIC);
	for (;;) {
		pid_t v = __atomic_load_n(&word, __ATOMIC_SEQ_CST);
		if (v == 0)
			break;
		t_deadline(start, 10, "the set_tid_address word to be cleared");
		struct timespec slice = { 0, 100 * 1000 * 1000 };
		long fr = syscall(SYS_futex, &word, FUTEX_WAIT, v, &slice, NULL, 0);
		CHECK(fr == 0 || errno == EAGAIN || errno == EINTR || errno == ETIMEDOUT);
	}
	printf("thread set_tid_address_returns_its_tid=%d word_cleared_at_exit=1\n", set_ret == thr_tid);

	struct robust_list_head *head = NULL;
	size_t len = 0;
	T_ERRNO("get_robust_list self", syscall(SYS_get_robust_list, 0, &head, &len), 0);
	printf("robust head registered=%d len=%zu\n", head != NULL, len);
	T_ERRNO("set_robust_list bad len", syscall(SYS_set_robust_list, head, len + 1), EINVAL);
	T_ERRNO("set_robust_list same", syscall(SYS_set_robust_list, head, len), 0);
	T_ERRNO("get_robust_list no such pid", syscall(SYS_get_robust_list, 0x3ffffff0, &head, &len), ESRCH);

	/* A thread dies holding a robust mutex. */
	pthread_mutexattr_t at;
	pthread_mutexattr_init(&at);
	pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
	robust = mmap(NULL, sizeof *robust, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(robust != MAP_FAILED);
	CHECK(pthread_mutex_init(robust, &at) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, locker, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	T_RET("lock after thread owner died", lock10(robust), EOWNERDEAD);
	T_RET("consistent", pthread_mutex_consistent(robust), 0);
	T_RET("unlock", pthread_mutex_unlock(robust), 0);

	/* A process dies holding it. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		pthread_mutex_lock(robust);
		_exit(0);
	}
	t_wait(pid);
	T_RET("lock after process owner died", lock10(robust), EOWNERDEAD);
	T_RET("consistent", pthread_mutex_consistent(robust), 0);
	T_RET("unlock", pthread_mutex_unlock(robust), 0);
	T_RET("lock again", lock10(robust), 0);
	T_RET("unlock again", pthread_mutex_unlock(robust), 0);
	return t_done();
}
