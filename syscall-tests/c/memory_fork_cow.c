/* fork: private anonymous memory is copy-on-write, shared anonymous memory is shared. */
#include "test_util.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	int *priv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(priv != MAP_FAILED && shared != MAP_FAILED);
	static int global = 1;
	int *heap = malloc(sizeof(int));
	CHECK(heap);
	*heap = 1;
	priv[0] = 1;
	shared[0] = 1;
	/* An untouched private page, first touched only in the child. */
	int *lazy = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(lazy != MAP_FAILED);

	int p2c[2], c2p[2];
	CHECK(pipe(p2c) == 0 && pipe(c2p) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char b;
		int ok = priv[0] == 1 && shared[0] == 1 && global == 1 && *heap == 1;
		priv[0] = 2;
		shared[0] = 2;
		global = 2;
		*heap = 2;
		lazy[0] = 7;
		CHECK(write(c2p[1], "x", 1) == 1);
		/* Wait for the parent's writes, which the child must not see (except shared). */
		CHECK(read(p2c[0], &b, 1) == 1);
		ok &= priv[0] == 2 && global == 2 && *heap == 2 && shared[0] == 3 && lazy[0] == 7;
		_exit(ok ? 0 : 1);
	}
	char b;
	CHECK(read(c2p[0], &b, 1) == 1);
	printf("parent sees: priv=%d shared=%d global=%d heap=%d lazy=%d\n", priv[0], shared[0], global, *heap, lazy[0]);
	priv[0] = 3;
	shared[0] = 3;
	global = 3;
	*heap = 3;
	CHECK(write(p2c[1], "y", 1) == 1);
	printf("child: %s\n", t_status(t_wait(pid)));
	printf("parent after: priv=%d shared=%d global=%d heap=%d\n", priv[0], shared[0], global, *heap);

	/* A child writing many private pages leaves the parent's copy intact. */
	char *big = mmap(NULL, 64 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(big != MAP_FAILED);
	memset(big, 'a', 64 * pg);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		memset(big, 'b', 64 * pg);
		_exit(big[63 * pg] == 'b' ? 0 : 1);
	}
	printf("big child: %s\n", t_status(t_wait(pid)));
	int intact = 1;
	for (long i = 0; i < 64 * pg; i++)
		intact &= big[i] == 'a';
	printf("big_intact=%d\n", intact);
	return t_done();
}
