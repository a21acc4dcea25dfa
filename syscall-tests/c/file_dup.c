/* dup, dup2, dup3: lowest free descriptor, shared offset and status flags, FD_CLOEXEC not
 * copied, dup2 onto an open fd closes it, errors. */
#include "test_util.h"
#include <fcntl.h>

int main(void)
{
	const char *path = t_tmp_path("dup");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	unlink(path);
	CHECK(write(fd, "0123456789", 10) == 10);

	int lowest = -1;
	for (int i = 0; i < 64; i++)
		if (fcntl(i, F_GETFD) == -1) {
			lowest = i;
			break;
		}
	int d = dup(fd);
	printf("dup returns lowest free=%d\n", d == lowest);
	printf("dup clears cloexec: orig=%d dup=%d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC, fcntl(d, F_GETFD) & FD_CLOEXEC);
	CHECK(lseek(fd, 3, SEEK_SET) == 3);
	printf("shared offset=%lld\n", (long long)lseek(d, 0, SEEK_CUR));
	CHECK(fcntl(d, F_SETFL, O_APPEND) == 0);
	printf("shared status flags: append on orig=%d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
	char c;
	CHECK(read(d, &c, 1) == 1);
	printf("read via dup=%c offset now=%lld\n", c, (long long)lseek(fd, 0, SEEK_CUR));

	int other = open("/dev/null", O_RDONLY);
	CHECK(other >= 0);
	printf("dup2 onto open fd returns it=%d\n", dup2(fd, other) == other);
	printf("it now refers to the file: offset=%lld\n", (long long)lseek(other, 0, SEEK_CUR));
	printf("dup2 same fd returns it=%d\n", dup2(fd, fd) == fd);
	T_ERRNO("dup2 same bad fd", dup2(999, 999), EBADF);
	T_ERRNO("dup2 bad oldfd", dup2(999, 30), EBADF);
	T_ERRNO("dup2 negative newfd", dup2(fd, -1), EBADF);
	T_ERRNO("dup bad fd", dup(-1), EBADF);

	int d3 = dup3(fd, 33, O_CLOEXEC);
	printf("dup3 O_CLOEXEC: fd=%d cloexec=%d\n", d3, fcntl(33, F_GETFD) & FD_CLOEXEC);
	T_ERRNO("dup3 same fd", dup3(fd, fd, 0), EINVAL);
	T_ERRNO("dup3 bad flags", dup3(fd, 34, O_NONBLOCK), EINVAL);

	/* Closing the original leaves the duplicate usable. */
	CHECK(close(fd) == 0);
	CHECK(lseek(d, 0, SEEK_SET) == 0);
	char buf[4] = { 0 };
	printf("after closing original: read=%zd [%.3s]\n", read(d, buf, 3), buf);
	T_ERRNO("close twice", close(fd), EBADF);
	return t_done();
}
