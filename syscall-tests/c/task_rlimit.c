/* getrlimit/setrlimit/prlimit64: RLIMIT_NOFILE enforcement (EMFILE, dup2 EBADF), RLIMIT_FSIZE
 * (EFBIG, SIGXFSZ), RLIMIT_AS, prlimit on a child, errors. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>

static int nofile_child(void)
{
	/* Only 0, 1 and 2 open, whatever the runner let us inherit. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	struct rlimit rl = { 16, 16 };
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	int last = -1;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			printf("nofile: stopped with %s at highest fd %d\n", t_errname(errno), last);
			break;
		}
		last = fd;
	}
	T_ERRNO("dup2 to fd >= limit", dup2(0, 16), EBADF);
	T_ERRNO("F_DUPFD from >= limit", fcntl(0, F_DUPFD, 16), EINVAL);
	/* Raising the hard limit back needs CAP_SYS_RESOURCE; lowering is always allowed. */
	rl.rlim_cur = 8;
	T_ERRNO("lower soft", setrlimit(RLIMIT_NOFILE, &rl), 0);
	return t_failures ? 1 : 0;
}

static int fsize_child(void)
{
	/* Only the soft limit, so it can be lifted again to print (stdout may be a file). */
	struct rlimit old;
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	struct rlimit rl = { 100, old.rlim_max };
	signal(SIGXFSZ, SIG_IGN);
	const char *p = t_tmp_path("fsize");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	unlink(p);
	char buf[200] = { 0 };
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	ssize_t w1 = write(fd, buf, 200);
	ssize_t w2 = write(fd, buf, 1);
	int e2 = errno;
	int t = ftruncate(fd, 1000);
	int e3 = errno;
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	printf("fsize: write 200 -> %zd\n", w1);
	printf("fsize: write at limit -> %zd %s\n", w2, t_errname(w2 < 0 ? e2 : 0));
	printf("fsize: ftruncate past limit -> %d %s\n", t, t_errname(t < 0 ? e3 : 0));
	signal(SIGXFSZ, SIG_DFL);
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	(void)write(fd, buf, 1);
	return 50; /* not reached: SIGXFSZ kills */
}

static int as_child(void)
{
	struct rlimit rl = { 64 << 20, 64 << 20 };
	struct rlimit cur;
	CHECK(getrlimit(RLIMIT_AS, &cur) == 0);
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0);
	void *p = mmap(NULL, 128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("as: 128MiB mmap under 64MiB limit: %s\n", p == MAP_FAILED ? t_errname(errno) : "mapped");
	return 0;
}

int main(void)
{
	struct rlimit rl;
	T_ERRNO("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &rl), 0);
	printf("soft<=hard=%d\n", rl.rlim_cur <= rl.rlim_max);
	struct rlimit bad = { rl.rlim_max, rl.rlim_max - 1 };
	T_ERRNO("soft above hard", setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
	T_ERRNO("bad resource", getrlimit((__rlimit_resource_t)99, &rl), EINVAL);
	T_ERRNO("getrlimit bad pointer", syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)1), EFAULT);

	struct rlimit st;
	CHECK(getrlimit(RLIMIT_STACK, &st) == 0);
	printf("stack soft nonzero=%d\n", st.rlim_cur > 0);

	printf("nofile child: %s\n", t_status(t_in_child(nofile_child)));
	printf("fsize child: %s\n", t_status(t_in_child(fsize_child)));
	printf("as child: %s\n", t_status(t_in_child(as_child)));

	/* prlimit64 on ourselves and on a child. */
	struct rlimit old, newl;
	CHECK(getrlimit(RLIMIT_CORE, &old) == 0);
	newl.rlim_cur = 0;
	newl.rlim_max = old.rlim_max;
	struct rlimit prev;
	T_ERRNO("prlimit self set", prlimit(0, RLIMIT_CORE, &newl, &prev), 0);
	printf("prlimit returned old=%d\n", prev.rlim_cur == old.rlim_cur && prev.rlim_max == old.rlim_max);
	struct rlimit now;
	CHECK(getrlimit(RLIMIT_CORE, &now) == 0);
	printf("core soft now=%lu\n", (unsigned long)now.rlim_cur);

	int gate[2];
	CHECK(pipe(gate) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char c;
		close(gate[1]);
		CHECK(read(gate[0], &c, 1) == 1);
		struct rlimit r;
		getrlimit(RLIMIT_NOFILE, &r);
		_exit(r.rlim_cur == 32 ? 0 : 1);
	}
	struct rlimit c32 = { 32, 32 };
	T_ERRNO("prlimit child set", prlimit(pid, RLIMIT_NOFILE, &c32, NULL), 0);
	struct rlimit got;
	T_ERRNO("prlimit child get", prlimit(pid, RLIMIT_NOFILE, NULL, &got), 0);
	printf("child nofile=%lu\n", (unsigned long)got.rlim_cur);
	CHECK(write(gate[1], "g", 1) == 1);
	printf("child saw new limit: %s\n", t_status(t_wait(pid)));
	T_ERRNO("prlimit reaped child", prlimit(pid, RLIMIT_NOFILE, NULL, &got), ESRCH);
	return t_done();
}
