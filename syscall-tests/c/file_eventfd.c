/* eventfd: counter semantics, EFD_SEMAPHORE, EFD_NONBLOCK (EAGAIN on empty and on overflow),
 * 4-byte buffers and the 0xffffffffffffffff value (EINVAL), poll readiness, a blocked reader. */
#include "test_util.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>

int main(void)
{
	int fd = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
	CHECK(fd >= 0);
	printf("flags: nonblock=%d cloexec=%d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	uint64_t v = 4;
	CHECK(write(fd, &v, 8) == 8);
	v = 0;
	ssize_t r = read(fd, &v, 8);
	printf("read=%zd value=%llu\n", r, (unsigned long long)v);
	T_ERRNO("read when zero", read(fd, &v, 8), EAGAIN);
	v = 0xfffffffffffffffeULL;
	T_ERRNO("write max", write(fd, &v, 8), 0);
	v = 1;
	T_ERRNO("write past max", write(fd, &v, 8), EAGAIN);
	CHECK(read(fd, &v, 8) == 8);
	v = 0xffffffffffffffffULL;
	T_ERRNO("write all-ones", write(fd, &v, 8), EINVAL);
	uint32_t small = 1;
	T_ERRNO("write 4 bytes", write(fd, &small, 4), EINVAL);
	T_ERRNO("read 4 bytes", read(fd, &small, 4), EINVAL);
	/* Semaphore mode. */
	int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(sem >= 0);
	v = 0;
	CHECK(read(sem, &v, 8) == 8);
	printf("sem read 1=%llu", (unsigned long long)v);
	CHECK(read(sem, &v, 8) == 8);
	printf(" read 2=%llu", (unsigned long long)v);
	printf(" read 3=%s\n", read(sem, &v, 8) < 0 ? t_errname(errno) : "value");

	/* poll: readable when nonzero, writable unless at the max. */
	struct pollfd pf = { fd, POLLIN | POLLOUT, 0 };
	CHECK(poll(&pf, 1, 0) == 1);
	printf("zero: in=%d out=%d\n", (pf.revents & POLLIN) != 0, (pf.revents & POLLOUT) != 0);
	v = 0xfffffffffffffffeULL;
	CHECK(write(fd, &v, 8) == 8);
	CHECK(poll(&pf, 1, 0) == 1);
	printf("max: in=%d out=%d\n", (pf.revents & POLLIN) != 0, (pf.revents & POLLOUT) != 0);

	/* A blocking reader woken by a child's write. */
	int b = eventfd(0, 0);
	CHECK(b >= 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(20000);
		uint64_t one = 9;
		CHECK(write(b, &one, 8) == 8);
		_exit(0);
	}
	v = 0;
	r = read(b, &v, 8);
	printf("blocking read=%zd value=%llu\n", r, (unsigned long long)v);
	t_wait(pid);
	T_ERRNO("bad flags", eventfd(0, 0x2), EINVAL);
	return t_done();
}
