/* futex: REQUEUE and CMP_REQUEUE counts, CMP_REQUEUE value mismatch, WAKE_OP with a true and a
 * false condition. */
#include "test_util.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>

static long futex(int *uaddr, int op, int val, long val2, int *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op | FUTEX_PRIVATE_FLAG, val, (void *)val2, uaddr2, val3);
}

static void gather(int *stage, int *target, int n)
{
	int moved = 0;
	long long start = t_now_ns(CLOCK_MONOTONIC);
	while (moved < n) {
		t_deadline(start, 10, "futex waiters to block");
		long r = futex(stage, FUTEX_CMP_REQUEUE, 0, INT_MAX, target, *stage);
		CHECK(r >= 0);
		moved += (int)r;
		if (moved < n)
			usleep(1000);
	}
}

#define N 4
static int stage1, stage2, a, b, c;
static long rets[N];

static void *w1(void *arg)
{
	rets[(long)arg] = futex(&stage1, FUTEX_WAIT, 0, 0, NULL, 0);
	return NULL;
}

static void *w2(void *arg)
{
	rets[(long)arg] = futex(&stage2, FUTEX_WAIT, 0, 0, NULL, 0);
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	for (long i = 0; i < N; i++)
		CHECK(pthread_create(&t[i], NULL, w1, (void *)i) == 0);
	gather(&stage1, &a, N);
	printf("REQUEUE wake 1 requeue all: %ld\n", futex(&a, FUTEX_REQUEUE, 1, INT_MAX, &b, 0));
	T_ERRNO("CMP_REQUEUE value mismatch", futex(&b, FUTEX_CMP_REQUEUE, 0, INT_MAX, &c, b + 1), EAGAIN);
	printf("CMP_REQUEUE wake 1 requeue 1: %ld\n", futex(&b, FUTEX_CMP_REQUEUE, 1, 1, &c, b));
	printf("WAKE c: %ld\n", futex(&c, FUTEX_WAKE, INT_MAX, 0, NULL, 0));
	printf("WAKE b: %ld\n", futex(&b, FUTEX_WAKE, INT_MAX, 0, NULL, 0));
	printf("WAKE a: %ld\n", futex(&a, FUTEX_WAKE, INT_MAX, 0, NULL, 0));
	for (int i = 0; i < N; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	int zeros = 0;
	for (int i = 0; i < N; i++)
		zeros += rets[i] == 0;
	printf("waiters returned 0: %d\n", zeros);
	T_ERRNO("CMP_REQUEUE negative nr_wake", futex(&a, FUTEX_CMP_REQUEUE, -1, 1, &b, a), EINVAL);

	/* WAKE_OP: *b += 5 and wake one waiter on a, plus one on b if old *b == 0. */
	for (int round = 0; round < 2; round++) {
		pthread_t x, y;
		CHECK(pthread_create(&x, NULL, w1, (void *)0L) == 0);
		CHECK(pthread_create(&y, NULL, w2, (void *)1L) == 0);
		gather(&stage1, &a, 1);
		gather(&stage2, &b, 1);
		int op = FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0);
		long woke = futex(&a, FUTEX_WAKE_OP, 1, 1, &b, op);
		printf("round %d: WAKE_OP woke %ld, b=%d\n", round, woke, b);
		if (woke < 2)
			printf("round %d: leftover woken %ld\n", round, futex(&b, FUTEX_WAKE, 1, 0, NULL, 0));
		CHECK(pthread_join(x, NULL) == 0);
		CHECK(pthread_join(y, NULL) == 0);
	}
	T_ERRNO("WAKE_OP bad op", futex(&a, FUTEX_WAKE_OP, 1, 1, &b, (int)(0x7u << 28)), ENOSYS);
	return t_done();
}
