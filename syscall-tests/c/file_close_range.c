/* close_range: closing a range, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, open-ended ranges,
 * errors; close on bad descriptors. */
#include "test_util.h"
#include <fcntl.h>
#include <linux/close_range.h>

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void open_at(int fd)
{
	int t = open("/dev/null", O_RDONLY);
	CHECK(t >= 0);
	if (t != fd) {
		CHECK(dup2(t, fd) == fd);
		close(t);
	}
}

int main(void)
{
	for (int fd = 10; fd <= 20; fd++)
		open_at(fd);
	T_ERRNO("close_range 12..14", syscall(SYS_close_range, 12, 14, 0), 0);
	printf("open: ");
	for (int fd = 10; fd <= 20; fd++)
		printf("%d", is_open(fd));
	printf("\n");

	T_ERRNO("CLOSE_RANGE_CLOEXEC 15..16", syscall(SYS_close_range, 15, 16, CLOSE_RANGE_CLOEXEC), 0);
	printf("cloexec 15,16,17: %d%d%d\n", fcntl(15, F_GETFD) & FD_CLOEXEC, fcntl(16, F_GETFD) & FD_CLOEXEC,
	       fcntl(17, F_GETFD) & FD_CLOEXEC);

	T_ERRNO("close_range 18..~0", syscall(SYS_close_range, 18, ~0U, 0), 0);
	printf("18,19,20 open: %d%d%d\n", is_open(18), is_open(19), is_open(20));
	T_ERRNO("close_range on nothing open", syscall(SYS_close_range, 100, 200, 0), 0);

	/* CLOSE_RANGE_UNSHARE in a thread-less child: just works like a plain close. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		long r = syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE);
		_exit(r == 0 && !is_open(10) && is_open(2) ? 0 : 1);
	}
	printf("unshare child: %s; parent keeps 10=%d\n", t_status(t_wait(pid)), is_open(10));

	T_ERRNO("first > last", syscall(SYS_close_range, 20, 10, 0), EINVAL);
	T_ERRNO("bad flags", syscall(SYS_close_range, 10, 20, 0x80), EINVAL);
	T_ERRNO("close bad fd", close(9999), EBADF);
	T_ERRNO("close negative", close(-1), EBADF);
	return t_done();
}
