/* timerfd: one-shot and periodic expirations counted on read, settime/gettime (old value,
 * interval read back exactly), TFD_TIMER_ABSTIME in the past, nonblocking EAGAIN, disarming,
 * poll, errors. */
#include "test_util.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/timerfd.h>

int main(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	CHECK(fd >= 0);
	uint64_t n = 0;
	T_ERRNO("read disarmed", read(fd, &n, 8), EAGAIN);
	struct itimerspec cur;
	CHECK(timerfd_gettime(fd, &cur) == 0);
	printf("disarmed gettime zero=%d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	struct itimerspec its = { { 0, 20 * 1000 * 1000 }, { 0, 20 * 1000 * 1000 } }, old;
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	T_ERRNO("settime periodic", timerfd_settime(fd, 0, &its, &old), 0);
	CHECK(timerfd_gettime(fd, &cur) == 0);
	printf("interval=%ld.%09ld value in (0,20ms]=%d\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20 * 1000 * 1000);
	struct pollfd pf = { fd, POLLIN, 0 };
	CHECK(poll(&pf, 1, 10000) == 1);
	uint64_t total = 0;
	while (total < 3) {
		CHECK(poll(&pf, 1, 10000) == 1);
		CHECK(read(fd, &n, 8) == 8);
		total += n;
	}
	printf("3 expirations took >= 60ms=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 60 * 1000 * 1000LL);
	struct itimerspec zero = { { 0, 0 }, { 0, 0 } };
	T_ERRNO("disarm", timerfd_settime(fd, 0, &zero, &old), 0);
	printf("old interval kept=%d\n", old.it_interval.tv_nsec == 20 * 1000 * 1000);
	T_ERRNO("read after disarm", read(fd, &n, 8), EAGAIN);

	/* Absolute time in the past: fires at once, once. */
	struct timespec now;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
	struct itimerspec abs = { { 0, 0 }, { now.tv_sec - 1, now.tv_nsec } };
	T_ERRNO("settime abstime past", timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL), 0);
	n = 0;
	ssize_t r = read(fd, &n, 8);
	printf("read=%zd expirations=%llu\n", r, (unsigned long long)n);

	/* Blocking one-shot. */
	int b = timerfd_create(CLOCK_REALTIME, 0);
	CHECK(b >= 0);
	struct itimerspec once = { { 0, 0 }, { 0, 10 * 1000 * 1000 } };
	CHECK(timerfd_settime(b, 0, &once, NULL) == 0);
	n = 0;
	r = read(b, &n, 8);
	printf("blocking read=%zd expirations=%llu\n", r, (unsigned long long)n);
	T_ERRNO("read 4 bytes", read(b, &n, 4), EINVAL);

	T_ERRNO("bad clock", timerfd_create(12345, 0), EINVAL);
	T_ERRNO("bad create flags", timerfd_create(CLOCK_MONOTONIC, 0x1), EINVAL);
	T_ERRNO("bad settime flags", timerfd_settime(fd, 0x100, &once, NULL), EINVAL);
	struct itimerspec bad = { { 0, 0 }, { 0, 1000000000 } };
	T_ERRNO("bad nsec", timerfd_settime(fd, 0, &bad, NULL), EINVAL);
	T_ERRNO("settime on non-timerfd", timerfd_settime(0, 0, &once, NULL), EINVAL);
	T_ERRNO("gettime bad fd", timerfd_gettime(999, &cur), EBADF);
	return t_done();
}
