/* File mappings in /tmp: MAP_SHARED writes reach the file, msync, MAP_PRIVATE does not, SIGBUS
 * past EOF, and mmap/msync argument errors. */
#include "test_util.h"
#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_code = si->si_code;
	siglongjmp(jb, 1);
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	const char *path = t_tmp_path("mmapfile");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 2 * pg) == 0);

	char *sh = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(sh != MAP_FAILED);
	memcpy(sh + 10, "shared-write", 12);
	T_ERRNO("msync sync", msync(sh, 2 * pg, MS_SYNC), 0);
	char buf[32] = { 0 };
	CHECK(pread(fd, buf, 12, 10) == 12);
	printf("file sees mapping write: %s\n", buf);

	CHECK(pwrite(fd, "via-write", 9, pg + 3) == 9);
	printf("mapping sees file write: %.9s\n", sh + pg + 3);

	char *pv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(pv != MAP_FAILED);
	printf("private initial: %.12s\n", pv + 10);
	memcpy(pv + 10, "PRIVATE-COPY", 12);
	memset(buf, 0, sizeof buf);
	CHECK(pread(fd, buf, 12, 10) == 12);
	printf("file after private write: %s\n", buf);
	printf("shared after private write: %.12s\n", sh + 10);

	T_ERRNO("msync async", msync(sh, pg, MS_ASYNC), 0);
	T_ERRNO("msync invalidate", msync(sh, pg, MS_INVALIDATE), 0);
	T_ERRNO("msync sync|async", msync(sh, pg, MS_SYNC | MS_ASYNC), EINVAL);
	T_ERRNO("msync unaligned", msync(sh + 1, pg, MS_SYNC), EINVAL);
	T_ERRNO("msync bad flags", msync(sh, pg, 0x100), EINVAL);

	/* A mapping that extends past EOF: the whole page past the end raises SIGBUS. */
	CHECK(ftruncate(fd, pg / 2) == 0);
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
	printf("tail of last page reads zero: %d\n", sh[pg - 1] == 0);
	if (sigsetjmp(jb, 1) == 0) {
		volatile char c = sh[pg + 1];
		(void)c;
		printf("read past EOF: no fault\n");
	} else {
		printf("read past EOF: SIGBUS adrerr=%d\n", bus_code == BUS_ADRERR);
	}

	T_ERRNO("mmap unaligned offset", (long)mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 1), EINVAL);
	int ro = open(path, O_RDONLY);
	CHECK(ro >= 0);
	T_ERRNO("shared writable on O_RDONLY", (long)mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
	void *okp = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	printf("private writable on O_RDONLY: %s\n", okp == MAP_FAILED ? t_errname(errno) : "OK");
	int wo = open(path, O_WRONLY);
	CHECK(wo >= 0);
	T_ERRNO("mmap O_WRONLY", (long)mmap(NULL, pg, PROT_READ, MAP_SHARED, wo, 0), EACCES);
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	T_ERRNO("mmap pipe", (long)mmap(NULL, pg, PROT_READ, MAP_SHARED, pfd[0], 0), ENODEV);
	CHECK(unlink(path) == 0);
	return t_done();
}
