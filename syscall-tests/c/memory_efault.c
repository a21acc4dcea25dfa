/* Bad user pointers give EFAULT, never a crash: read, write, pipe, uname, clock_gettime,
 * getrandom, rt_sigaction, nanosleep, open; a read straddling into an unmapped page. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/mman.h>

int main(void)
{
	void *bad = (void *)1;
	int fd = open("/dev/zero", O_RDONLY);
	CHECK(fd >= 0);
	int nul = open("/dev/null", O_WRONLY);
	CHECK(nul >= 0);
	T_ERRNO("read into bad buffer", syscall(SYS_read, fd, bad, 16), EFAULT);
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	T_ERRNO("write from bad buffer", syscall(SYS_write, pfd[1], bad, 16), EFAULT);
	T_ERRNO("pipe bad array", syscall(SYS_pipe2, bad, 0), EFAULT);
	T_ERRNO("uname bad", syscall(SYS_uname, bad), EFAULT);
	T_ERRNO("clock_gettime bad", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad), EFAULT);
	T_ERRNO("getrandom bad", syscall(SYS_getrandom, bad, 16, 0), EFAULT);
	T_ERRNO("rt_sigaction bad", syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8), EFAULT);
	T_ERRNO("nanosleep bad", syscall(SYS_nanosleep, bad, NULL), EFAULT);
	T_ERRNO("open bad path", syscall(SYS_open, bad, O_RDONLY), EFAULT);
	T_ERRNO("wait4 bad status", syscall(SYS_wait4, -1, bad, WNOHANG, NULL), ECHILD);
	/* A buffer whose second page is unmapped: write() copies what it can or fails, and the
	 * process survives. */
	long pg = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(two != MAP_FAILED);
	CHECK(munmap(two + pg, pg) == 0);
	T_ERRNO("read spanning into unmapped page", syscall(SYS_read, fd, two + pg, 8), EFAULT);
	long n = syscall(SYS_read, fd, two + pg - 8, 16);
	printf("read straddling unmapped page: %s\n", n == 8 ? "partial 8" : n == -1 && errno == EFAULT ? "EFAULT" : "other");
	return t_done();
}
