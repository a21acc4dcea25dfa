/* madvise (DONTNEED zeroes private anon pages, errors) and mincore residency and errors. */
#include "test_util.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	unsigned char vec[4] = { 0xff, 0xff, 0xff, 0xff };
	T_ERRNO("mincore untouched", mincore(p, 4 * pg, vec), 0);
	printf("untouched residency: %d%d%d%d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
	p[0] = 1;
	p[2 * pg] = 2;
	T_ERRNO("mincore touched", mincore(p, 4 * pg, vec), 0);
	printf("touched residency: %d%d%d%d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);

	T_ERRNO("madvise dontneed", madvise(p, pg, MADV_DONTNEED), 0);
	printf("dontneed_zeroed=%d other_kept=%d\n", p[0] == 0, p[2 * pg] == 2);
	T_ERRNO("madvise normal", madvise(p, 4 * pg, MADV_NORMAL), 0);
	T_ERRNO("madvise willneed", madvise(p, 4 * pg, MADV_WILLNEED), 0);
	T_ERRNO("madvise sequential", madvise(p, 4 * pg, MADV_SEQUENTIAL), 0);
	T_ERRNO("madvise bad advice", madvise(p, pg, 12345), EINVAL);
	T_ERRNO("madvise unaligned", madvise(p + 1, pg, MADV_NORMAL), EINVAL);

	T_ERRNO("mincore unaligned", mincore(p + 1, pg, vec), EINVAL);
	T_ERRNO("mincore bad vec", mincore(p, pg, (unsigned char *)1), EFAULT);
	CHECK(munmap(p + 3 * pg, pg) == 0);
	T_ERRNO("mincore over hole", mincore(p, 4 * pg, vec), ENOMEM);
	T_ERRNO("madvise over hole", madvise(p, 4 * pg, MADV_NORMAL), ENOMEM);
	CHECK(munmap(p, 3 * pg) == 0);
	return t_done();
}
