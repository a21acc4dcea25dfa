/* brk: query, grow (zeroed, writable), shrink, refusing to go below the start. */
#include "test_util.h"

static uintptr_t sys_brk(uintptr_t addr)
{
	return (uintptr_t)syscall(SYS_brk, addr);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t start = sys_brk(0);
	printf("brk_nonzero=%d\n", start != 0);
	uintptr_t again = sys_brk(0);
	printf("brk_stable=%d\n", again == start);

	uintptr_t want = start + 16 * (uintptr_t)pg;
	uintptr_t got = sys_brk(want);
	printf("grow_ok=%d\n", got == want);
	volatile char *mem = (volatile char *)start;
	int zero = 1;
	for (long i = 0; i < 16 * pg; i++)
		zero &= mem[i] == 0;
	printf("grown_zeroed=%d\n", zero);
	for (long i = 0; i < 16 * pg; i += 512)
		mem[i] = 5;
	printf("grown_writable=%d\n", mem[512] == 5);

	got = sys_brk(start + 4 * (uintptr_t)pg);
	printf("shrink_ok=%d\n", got == start + 4 * (uintptr_t)pg);
	/* Growing again must give zeroed memory where it was shrunk away. */
	got = sys_brk(start + 16 * (uintptr_t)pg);
	printf("regrow_ok=%d regrown_zeroed=%d kept=%d\n", got == start + 16 * (uintptr_t)pg,
	       mem[8 * pg] == 0, mem[512] == 5);

	/* A request below the initial break is refused: the current break is returned. */
	got = sys_brk(start - 64 * (uintptr_t)pg);
	printf("below_start_refused=%d\n", got == start + 16 * (uintptr_t)pg);
	got = sys_brk(start);
	printf("back_to_start=%d\n", got == start);
	return t_done();
}
