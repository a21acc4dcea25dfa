/* Open file description locks (F_OFD_SETLK/F_OFD_GETLK): two opens in one process conflict,
 * F_OFD_GETLK reports l_pid -1, OFD and process-owned record locks conflict even in one
 * process, dup'ed and inherited descriptors share the owner, the lock goes with the last
 * descriptor of the description, ranges split and merge, l_pid must be 0. */
#include "test_util.h"
#include <fcntl.h>

static int lk(int f, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(f, cmd, &fl);
}

static const char *tname(short t)
{
	return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

static void probe(const char *label, int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	printf("%s: ", label);
	if (fcntl(fd, cmd, &fl) != 0) {
		printf("%s\n", t_errname(errno));
		return;
	}
	if (fl.l_type == F_UNLCK) {
		printf("free\n");
		return;
	}
	printf("%s start=%lld len=%lld pid=%s\n", tname(fl.l_type), (long long)fl.l_start, (long long)fl.l_len,
	       fl.l_pid == -1 ? "-1" : fl.l_pid == getpid() ? "self" : fl.l_pid == getppid() ? "parent" : "other");
}

int main(void)
{
	const char *path = t_tmp_path("ofd");
	int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int b = open(path, O_RDWR);
	CHECK(a >= 0 && b >= 0);

	T_ERRNO("a OFD write 0-9", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10), 0);
	T_ERRNO("b OFD write 5-14", lk(b, F_OFD_SETLK, F_WRLCK, 5, 10), EAGAIN);
	T_ERRNO("b OFD read 9", lk(b, F_OFD_SETLK, F_RDLCK, 9, 1), EAGAIN);
	T_ERRNO("b OFD write 10-19", lk(b, F_OFD_SETLK, F_WRLCK, 10, 10), 0);
	probe("b OFD_GETLK 0-99", b, F_OFD_GETLK, F_WRLCK, 0, 100);
	probe("a OFD_GETLK 0-99", a, F_OFD_GETLK, F_WRLCK, 0, 100);
	probe("a OFD_GETLK 0-9 (own)", a, F_OFD_GETLK, F_WRLCK, 0, 10);
	T_ERRNO("a OFD write 0-9 again (own)", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10), 0);
	/* F_UNLCK asks F_OFD_GETLK for the description's own locks. */
	probe("a OFD_GETLK F_UNLCK 5-9", a, F_OFD_GETLK, F_UNLCK, 5, 5);
	probe("a OFD_GETLK F_UNLCK 10-14", a, F_OFD_GETLK, F_UNLCK, 10, 5);
	probe("b OFD_GETLK F_UNLCK 5-14", b, F_OFD_GETLK, F_UNLCK, 5, 10);

	/* Process-owned record locks conflict with OFD locks, even the same process's. */
	T_ERRNO("F_SETLK over a's OFD lock", lk(a, F_SETLK, F_WRLCK, 5, 1), EAGAIN);
	probe("F_GETLK over the OFD locks", a, F_GETLK, F_RDLCK, 0, 0);
	T_ERRNO("F_SETLK read 100-109", lk(a, F_SETLK, F_RDLCK, 100, 10), 0);
	T_ERRNO("b OFD write over the process lock", lk(b, F_OFD_SETLK, F_WRLCK, 105, 1), EAGAIN);
	T_ERRNO("b OFD read over the process lock", lk(b, F_OFD_SETLK, F_RDLCK, 105, 1), 0);
	probe("b OFD_GETLK write 100-109", b, F_OFD_GETLK, F_WRLCK, 100, 10);
	T_ERRNO("b OFD unlock 100-109", lk(b, F_OFD_SETLK, F_UNLCK, 100, 10), 0);
	/* Closing a descriptor releases the process's record locks, not OFD locks. */
	int c = open(path, O_RDONLY);
	CHECK(c >= 0);
	CHECK(close(c) == 0);
	probe("b OFD_GETLK 100-109 after a close", b, F_OFD_GETLK, F_WRLCK, 100, 10);
	probe("b OFD_GETLK 0-9 after a close", b, F_OFD_GETLK, F_WRLCK, 0, 10);

	/* Split and merge. */
	T_ERRNO("a OFD write 0-99", lk(a, F_OFD_SETLK, F_WRLCK, 0, 100), EAGAIN);
	T_ERRNO("b OFD unlock all", lk(b, F_OFD_SETLK, F_UNLCK, 0, 0), 0);
	T_ERRNO("a OFD write 0-99", lk(a, F_OFD_SETLK, F_WRLCK, 0, 100), 0);
	T_ERRNO("a OFD unlock 40-59", lk(a, F_OFD_SETLK, F_UNLCK, 40, 20), 0);
	probe("b OFD_GETLK at 50", b, F_OFD_GETLK, F_WRLCK, 50, 1);
	probe("b OFD_GETLK at 30", b, F_OFD_GETLK, F_WRLCK, 30, 1);
	probe("b OFD_GETLK at 70", b, F_OFD_GETLK, F_RDLCK, 70, 1);
	T_ERRNO("a OFD read 40-59", lk(a, F_OFD_SETLK, F_RDLCK, 40, 20), 0);
	probe("b OFD_GETLK read 0-99", b, F_OFD_GETLK, F_RDLCK, 0, 100);
	T_ERRNO("b OFD read 45", lk(b, F_OFD_SETLK, F_RDLCK, 45, 1), 0);
	T_ERRNO("a OFD unlock all", lk(a, F_OFD_SETLK, F_UNLCK, 0, 0), 0);
	T_ERRNO("b OFD unlock all", lk(b, F_OFD_SETLK, F_UNLCK, 0, 0), 0);

	/* dup'ed descriptors are the same owner; the lock goes with the last one. */
	T_ERRNO("a OFD write 0-9", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10), 0);
	int d = dup(a);
	CHECK(d >= 0);
	T_ERRNO("dup OFD write 0-19", lk(d, F_OFD_SETLK, F_WRLCK, 0, 20), 0);
	CHECK(close(a) == 0);
	T_ERRNO("b OFD write while the dup lives", lk(b, F_OFD_SETLK, F_WRLCK, 15, 1), EAGAIN);
	CHECK(close(d) == 0);
	T_ERRNO("b OFD write after the last close", lk(b, F_OFD_SETLK, F_WRLCK, 15, 1), 0);
	T_ERRNO("b OFD unlock all", lk(b, F_OFD_SETLK, F_UNLCK, 0, 0), 0);

	/* A child inherits the description, so it is the same owner. */
	a = open(path, O_RDWR);
	CHECK(a >= 0);
	T_ERRNO("a OFD write 0-9", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int bad = 0;
		if (lk(a, F_OFD_SETLK, F_WRLCK, 0, 10) != 0)
			bad |= 1;
		int e = open(path, O_RDWR);
		if (e < 0 || lk(e, F_OFD_SETLK, F_WRLCK, 0, 10) != -1 || errno != EAGAIN)
			bad |= 2;
		if (lk(e, F_SETLK, F_WRLCK, 0, 10) != -1 || errno != EAGAIN)
			bad |= 4;
		/* The child may unlock the shared description's lock. */
		if (lk(a, F_OFD_SETLK, F_UNLCK, 0, 0) != 0)
			bad |= 8;
		if (lk(e, F_OFD_SETLK, F_WRLCK, 0, 10) != 0)
			bad |= 16;
		_exit(bad);
	}
	printf("child: %s\n", t_status(t_wait(pid)));
	T_ERRNO("b OFD write after the child", lk(b, F_OFD_SETLK, F_WRLCK, 0, 10), 0);
	probe("a OFD_GETLK", a, F_OFD_GETLK, F_WRLCK, 0, 0);
	/* A process-owned lock of the parent as a child sees it with F_OFD_GETLK. */
	T_ERRNO("a F_SETLK read 200-209", lk(a, F_SETLK, F_RDLCK, 200, 10), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		probe("child OFD_GETLK on the parent's record lock", a, F_OFD_GETLK, F_WRLCK, 200, 1);
		_exit(0);
	}
	t_wait(pid);

	/* l_pid must be 0; bad values. */
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 300, .l_len = 1, .l_pid = 1 };
	T_ERRNO("F_OFD_SETLK l_pid 1", fcntl(a, F_OFD_SETLK, &fl), EINVAL);
	T_ERRNO("F_OFD_SETLKW l_pid 1", fcntl(a, F_OFD_SETLKW, &fl), EINVAL);
	T_ERRNO("F_OFD_GETLK l_pid 1", fcntl(a, F_OFD_GETLK, &fl), EINVAL);
	fl.l_pid = -1;
	T_ERRNO("F_OFD_SETLK l_pid -1", fcntl(a, F_OFD_SETLK, &fl), EINVAL);
	T_ERRNO("F_OFD_SETLK l_type 5", lk(a, F_OFD_SETLK, 5, 0, 1), EINVAL);
	T_ERRNO("F_OFD_GETLK l_type 5", lk(a, F_OFD_GETLK, 5, 0, 1), EINVAL);
	T_ERRNO("F_OFD_SETLK start -1", lk(a, F_OFD_SETLK, F_WRLCK, -1, 1), EINVAL);
	int ro = open(path, O_RDONLY);
	CHECK(ro >= 0);
	T_ERRNO("F_OFD_SETLK write on O_RDONLY", lk(ro, F_OFD_SETLK, F_WRLCK, 300, 1), EBADF);
	T_ERRNO("F_OFD_SETLK read on O_RDONLY", lk(ro, F_OFD_SETLK, F_RDLCK, 300, 1), 0);
	close(ro);
	T_ERRNO("F_OFD_GETLK on a closed fd", lk(999, F_OFD_GETLK, F_WRLCK, 0, 1), EBADF);
	T_ERRNO("F_OFD_SETLK bad pointer", fcntl(a, F_OFD_SETLK, (void *)8), EFAULT);

	close(a);
	close(b);
	unlink(path);
	return t_done();
}
