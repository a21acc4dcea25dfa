/* futex: WAIT value mismatch and timeouts, WAKE counts, bitsets, shared futexes across fork,
 * argument errors. */
#include "test_util.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>

static long futex(int *uaddr, int op, int val, const void *timeout_or_val2, int *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

/* Moves n waiters blocked (or about to block) on stage to target, so that the caller knows
 * they are all asleep in the kernel. */
static void gather(int *stage, int *target, int n, int priv)
{
	int moved = 0;
	long long start = t_now_ns(CLOCK_MONOTONIC);
	while (moved < n) {
		t_deadline(start, 10, "futex waiters to block");
		long r = futex(stage, FUTEX_CMP_REQUEUE | priv, 0, (void *)(long)INT_MAX, target, *stage);
		CHECK(r >= 0);
		moved += (int)r;
		if (moved < n)
			usleep(1000);
	}
}

static int stage, target;
static long waiter_ret;
static int waiter_errno;

static void *waiter(void *arg)
{
	long bits = (long)arg;
	waiter_ret = futex(&stage, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, (int)bits);
	waiter_errno = errno;
	return NULL;
}

int main(void)
{
	int word = 1;
	T_ERRNO("WAIT value mismatch", futex(&word, FUTEX_WAIT, 2, NULL, NULL, 0), EAGAIN);
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	T_ERRNO("WAIT relative timeout", futex(&word, FUTEX_WAIT, 1, &ten_ms, NULL, 0), ETIMEDOUT);
	printf("waited_at_least_timeout=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 10 * 1000 * 1000);
	struct timespec past = { 0, 0 };
	T_ERRNO("WAIT_BITSET absolute past", futex(&word, FUTEX_WAIT_BITSET, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	T_ERRNO("WAIT_BITSET realtime past", futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 1, &past, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	printf("WAKE without waiters=%ld\n", futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0));

	/* A thread waiting with bitset 0x1: a wake with bitset 0x2 misses it, 0x1 wakes it. */
	pthread_t t;
	CHECK(pthread_create(&t, NULL, waiter, (void *)1L) == 0);
	gather(&stage, &target, 1, FUTEX_PRIVATE_FLAG);
	printf("WAKE_BITSET 0x2=%ld\n", futex(&target, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 2));
	printf("WAKE_BITSET 0x1=%ld\n", futex(&target, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 1));
	CHECK(pthread_join(t, NULL) == 0);
	printf("waiter returned=%ld\n", waiter_ret);

	/* A private wake does not reach a shared waiter on another process. */
	int *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	sh[0] = 0; /* stage */
	sh[1] = 0; /* target */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		long r = futex(&sh[0], FUTEX_WAIT, 0, NULL, NULL, 0);
		_exit(r == 0 ? 0 : 1);
	}
	gather(&sh[0], &sh[1], 1, 0);
	long priv_woke = futex(&sh[1], FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
	long shared_woke = futex(&sh[1], FUTEX_WAKE, 1, NULL, NULL, 0);
	printf("shared: private WAKE=%ld shared WAKE=%ld\n", priv_woke, shared_woke);
	printf("shared waiter: %s\n", t_status(t_wait(pid)));

	T_ERRNO("WAIT_BITSET zero mask", futex(&word, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0), EINVAL);
	T_ERRNO("WAKE_BITSET zero mask", futex(&word, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
	T_ERRNO("unaligned address", futex((int *)((char *)&word + 1), FUTEX_WAIT, 1, NULL, NULL, 0), EINVAL);
	T_ERRNO("bad address", futex((int *)8, FUTEX_WAIT, 1, NULL, NULL, 0), EFAULT);
	struct timespec bad = { 0, 1000000000 };
	T_ERRNO("bad timeout nsec", futex(&word, FUTEX_WAIT, 1, &bad, NULL, 0), EINVAL);
	T_ERRNO("unknown op", futex(&word, 99, 1, NULL, NULL, 0), ENOSYS);
	return t_done();
}
