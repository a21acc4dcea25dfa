/* fcntl: F_GETFL access modes, F_SETFL changeable flags only, F_GETFD/F_SETFD, F_DUPFD and
 * F_DUPFD_CLOEXEC minimums, errors. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/resource.h>

int main(void)
{
	const char *path = t_tmp_path("fcntl");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY | O_APPEND);
	CHECK(ro >= 0 && wo >= 0);
	unlink(path);
	printf("accmode: rdwr=%d rdonly=%d wronly=%d append=%d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
	       (fcntl(ro, F_GETFL) & O_ACCMODE) == O_RDONLY, (fcntl(wo, F_GETFL) & O_ACCMODE) == O_WRONLY,
	       (fcntl(wo, F_GETFL) & O_APPEND) != 0);

	/* F_SETFL changes O_APPEND/O_NONBLOCK, ignores the access mode and creation flags. */
	T_ERRNO("F_SETFL", fcntl(ro, F_SETFL, O_WRONLY | O_APPEND | O_NONBLOCK | O_CREAT | O_TRUNC), 0);
	int fl = fcntl(ro, F_GETFL);
	printf("after F_SETFL: rdonly=%d append=%d nonblock=%d creat=%d trunc=%d\n", (fl & O_ACCMODE) == O_RDONLY,
	       (fl & O_APPEND) != 0, (fl & O_NONBLOCK) != 0, (fl & O_CREAT) != 0, (fl & O_TRUNC) != 0);
	CHECK(fcntl(ro, F_SETFL, 0) == 0);
	printf("cleared: append=%d nonblock=%d\n", (fcntl(ro, F_GETFL) & O_APPEND) != 0,
	       (fcntl(ro, F_GETFL) & O_NONBLOCK) != 0);

	printf("F_GETFD initially=%d\n", fcntl(fd, F_GETFD));
	T_ERRNO("F_SETFD", fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
	printf("F_GETFD=%d\n", fcntl(fd, F_GETFD));
	CHECK(fcntl(fd, F_SETFD, 0) == 0);

	int d = fcntl(fd, F_DUPFD, 20);
	printf("F_DUPFD 20 -> >=20=%d cloexec=%d\n", d >= 20, fcntl(d, F_GETFD));
	int d2 = fcntl(fd, F_DUPFD, 20);
	printf("F_DUPFD 20 again -> next=%d\n", d2 == d + 1);
	int dc = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	printf("F_DUPFD_CLOEXEC -> cloexec=%d\n", fcntl(dc, F_GETFD));

	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	T_ERRNO("F_DUPFD beyond RLIMIT_NOFILE", fcntl(fd, F_DUPFD, (int)rl.rlim_cur), EINVAL);
	T_ERRNO("F_DUPFD negative", fcntl(fd, F_DUPFD, -1), EINVAL);
	T_ERRNO("bad fd", fcntl(999, F_GETFL), EBADF);
	T_ERRNO("bad cmd", fcntl(fd, 0x7fff), EINVAL);
	T_ERRNO("F_SETFD on closed fd", fcntl(999, F_SETFD, 0), EBADF);

	/* O_PATH descriptors: F_GETFL works, reading does not. */
	int pfd = open("/", O_PATH);
	CHECK(pfd >= 0);
	printf("O_PATH flag reported=%d\n", (fcntl(pfd, F_GETFL) & O_PATH) != 0);
	char b;
	T_ERRNO("read O_PATH fd", read(pfd, &b, 1), EBADF);
	return t_done();
}
