/* mlock family: lock/unlock ranges, mlockall/munlockall, mlock2, errors. */
#include "test_util.h"
#include <sys/mman.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	T_ERRNO("mlock", mlock(p, 2 * pg), 0);
	p[0] = 1;
	T_ERRNO("munlock", munlock(p, 2 * pg), 0);
	T_ERRNO("mlock unaligned start", mlock(p + 10, pg), 0);
	T_ERRNO("munlock unaligned start", munlock(p + 10, pg), 0);
	T_ERRNO("mlock2 onfault", syscall(SYS_mlock2, p, pg, 1 /* MLOCK_ONFAULT */), 0);
	T_ERRNO("mlock2 bad flags", syscall(SYS_mlock2, p, pg, 0x10), EINVAL);
	T_ERRNO("munlock after mlock2", munlock(p, pg), 0);
	CHECK(munmap(p + 2 * pg, pg) == 0);
	T_ERRNO("mlock over hole", mlock(p, 4 * pg), ENOMEM);
	T_ERRNO("mlockall current", mlockall(MCL_CURRENT), 0);
	T_ERRNO("munlockall", munlockall(), 0);
	T_ERRNO("mlockall bad flags", mlockall(0x100), EINVAL);
	T_ERRNO("mlockall no flags", mlockall(0), EINVAL);
	return t_done();
}
