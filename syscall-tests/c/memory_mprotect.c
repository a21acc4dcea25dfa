/* mprotect: read-only and PROT_NONE faults (SEGV_ACCERR, si_addr), restoring access, errors. */
#include "test_util.h"
#include <setjmp.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile int seen_code;
static void *volatile seen_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	seen_code = si->si_code;
	seen_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static const char *try_write(volatile char *addr)
{
	seen_addr = NULL;
	if (sigsetjmp(jb, 1) == 0) {
		*addr = 1;
		return "ok";
	}
	if (seen_addr != (void *)addr)
		return "fault at wrong address";
	return seen_code == SEGV_ACCERR ? "SEGV_ACCERR" : seen_code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_other";
}

static const char *try_read(volatile char *addr)
{
	seen_addr = NULL;
	if (sigsetjmp(jb, 1) == 0) {
		(void)*addr;
		return "ok";
	}
	if (seen_addr != (void *)addr)
		return "fault at wrong address";
	return seen_code == SEGV_ACCERR ? "SEGV_ACCERR" : seen_code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_other";
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);

	char *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[pg + 5] = 9;

	T_ERRNO("mprotect middle read-only", mprotect(p + pg, pg, PROT_READ), 0);
	printf("write ro: %s\n", try_write(p + pg + 17));
	printf("read ro: %s value_kept=%d\n", try_read(p + pg + 5), p[pg + 5] == 9);
	printf("write neighbour: %s\n", try_write(p + 2 * pg));

	T_ERRNO("mprotect none", mprotect(p + pg, pg, PROT_NONE), 0);
	printf("read none: %s\n", try_read(p + pg + 100));

	T_ERRNO("mprotect rw again", mprotect(p + pg, pg, PROT_READ | PROT_WRITE), 0);
	printf("write rw: %s value_kept=%d\n", try_write(p + pg + 17), p[pg + 5] == 9);

	T_ERRNO("mprotect unaligned", mprotect(p + 1, pg, PROT_READ), EINVAL);
	T_ERRNO("mprotect bad prot", mprotect(p, pg, 0x100), EINVAL);
	CHECK(munmap(p + 2 * pg, pg) == 0);
	T_ERRNO("mprotect over hole", mprotect(p, 3 * pg, PROT_READ), ENOMEM);
	printf("read unmapped: %s\n", try_read(p + 2 * pg));
	CHECK(munmap(p, 2 * pg) == 0);
	return t_done();
}
