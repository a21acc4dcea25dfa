/* Anonymous mappings: zero fill, read/write, munmap, MAP_FIXED, argument errors. */
#include "test_util.h"
#include <setjmp.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile int seen_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	seen_code = si->si_code;
	siglongjmp(jb, 1);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	printf("page_size=%ld\n", pg);

	unsigned char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	int zero = 1;
	for (long i = 0; i < 4 * pg; i++)
		zero &= p[i] == 0;
	printf("zero_filled=%d\n", zero);
	for (long i = 0; i < 4 * pg; i++)
		p[i] = (unsigned char)(i * 7);
	int ok = 1;
	for (long i = 0; i < 4 * pg; i++)
		ok &= p[i] == (unsigned char)(i * 7);
	printf("readback=%d\n", ok);
	printf("page_aligned=%d\n", ((uintptr_t)p % (uintptr_t)pg) == 0);

	/* Unmap the middle two pages; the ends stay usable, the middle faults. */
	T_ERRNO("munmap middle", munmap(p + pg, 2 * pg), 0);
	printf("ends_kept=%d\n", p[0] == 0 && p[3 * pg] == (unsigned char)(3 * pg * 7));

	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	if (sigsetjmp(jb, 1) == 0) {
		volatile unsigned char *q = p + pg;
		(void)*q;
		printf("unmapped access did not fault\n");
	} else {
		printf("unmapped_access=SIGSEGV code_maperr=%d\n", seen_code == SEGV_MAPERR);
	}

	/* MAP_FIXED into the hole. */
	unsigned char *f = mmap(p + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("map_fixed_at_hint=%d\n", f == p + pg);
	f[0] = 42;
	printf("fixed_usable=%d\n", f[0] == 42);
	/* MAP_FIXED over an existing mapping replaces it with zeroes. */
	unsigned char *g = mmap(p, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("fixed_replaces_zeroed=%d\n", g == p && p[1] == 0);
	/* MAP_FIXED_NOREPLACE over an existing mapping fails. */
	void *n = mmap(p, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("fixed_noreplace: %s\n", n == MAP_FAILED ? t_errname(errno) : "mapped");
	T_TRUE(n == MAP_FAILED && errno == EEXIST);

	T_ERRNO("mmap len 0", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
	T_ERRNO("mmap no share type", (long)mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	T_ERRNO("mmap fixed unaligned", (long)mmap(p + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
	T_ERRNO("mmap file bad fd", (long)mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 12345, 0), EBADF);
	T_ERRNO("munmap unaligned", munmap(p + 1, pg), EINVAL);
	T_ERRNO("munmap len 0", munmap(p, 0), EINVAL);
	T_ERRNO("munmap unmapped range", munmap(p + pg, pg), 0);
	T_ERRNO("munmap twice", munmap(p + pg, pg), 0);
	T_ERRNO("munmap rest", munmap(p, 4 * pg), 0);
	return t_done();
}
