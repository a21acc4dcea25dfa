/* mremap: grow in place or moved (contents kept), shrink, MREMAP_FIXED, errors. */
#include "test_util.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	/* Reserve 8 pages, then keep only the first two so growing in place is possible. */
	char *p = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(munmap(p + 2 * pg, 6 * pg) == 0);
	for (long i = 0; i < 2 * pg; i++)
		p[i] = (char)(i % 251);

	char *q = mremap(p, 2 * pg, 4 * pg, 0);
	printf("grow in place: %s same_addr=%d\n", q == MAP_FAILED ? t_errname(errno) : "OK", q == p);
	int ok = 1;
	for (long i = 0; i < 2 * pg; i++)
		ok &= q[i] == (char)(i % 251);
	printf("contents_kept=%d new_zero=%d\n", ok, q[3 * pg] == 0);

	/* Block growth with a neighbouring mapping: without MAYMOVE it fails. */
	char *blk = mmap(p + 4 * pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(blk == p + 4 * pg);
	T_ERRNO("grow blocked no maymove", (long)mremap(p, 4 * pg, 6 * pg, 0), ENOMEM);
	char *m = mremap(p, 4 * pg, 6 * pg, MREMAP_MAYMOVE);
	CHECK(m != MAP_FAILED);
	printf("maymove_moved=%d\n", m != p);
	ok = 1;
	for (long i = 0; i < 2 * pg; i++)
		ok &= m[i] == (char)(i % 251);
	printf("moved_contents_kept=%d\n", ok);
	m[6 * pg - 1] = 1;

	/* Shrink. */
	char *s = mremap(m, 6 * pg, pg, 0);
	printf("shrink_same_addr=%d first_byte_kept=%d\n", s == m, s[1] == 1);

	/* MREMAP_FIXED to a chosen place. */
	char *dst = mmap(NULL, 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(dst != MAP_FAILED);
	char *f = mremap(s, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	printf("fixed_at_dst=%d fixed_contents=%d\n", f == dst, f != MAP_FAILED && f[1] == 1);

	T_ERRNO("fixed without maymove", (long)mremap(dst, pg, pg, MREMAP_FIXED, dst + pg), EINVAL);
	T_ERRNO("bad flags", (long)mremap(dst, pg, pg, 0x80), EINVAL);
	T_ERRNO("unaligned old", (long)mremap(dst + 1, pg, pg, 0), EINVAL);
	T_ERRNO("new size 0", (long)mremap(dst, pg, 0, MREMAP_MAYMOVE), EINVAL);
	T_ERRNO("unmapped old", (long)mremap(s, pg, 2 * pg, MREMAP_MAYMOVE), EFAULT);
	CHECK(munmap(dst, 2 * pg) == 0);
	CHECK(munmap(blk, pg) == 0);
	return t_done();
}
