/* Edge-triggered epoll: one report per new arrival, not per wait; partial reads do not re-arm;
 * a waiter woken by another process's write; nested epoll (an epoll fd watched by another,
 * ELOOP for a cycle); EPOLLHUP when the writer goes. */
#include "test_util.h"
#include <sys/epoll.h>

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	int ep = epoll_create1(0);
	CHECK(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = 7 }, out[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);

	printf("idle: %d\n", epoll_wait(ep, out, 4, 0));
	CHECK(write(p[1], "abcd", 4) == 4);
	int n = epoll_wait(ep, out, 4, 0);
	printf("after write: %d\n", n);
	printf("again without new data: %d\n", epoll_wait(ep, out, 4, 0));
	char buf[8];
	CHECK(read(p[0], buf, 2) == 2);
	printf("after partial read: %d\n", epoll_wait(ep, out, 4, 0));
	CHECK(write(p[1], "e", 1) == 1);
	n = epoll_wait(ep, out, 4, 0);
	printf("after another write: %d data=%u\n", n, out[0].data.u32);
	CHECK(read(p[0], buf, sizeof buf) == 3);

	/* A blocked waiter is woken by a write from a child. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(20000);
		CHECK(write(p[1], "f", 1) == 1);
		_exit(0);
	}
	n = epoll_wait(ep, out, 4, 10000);
	printf("woken by child write: %d\n", n);
	t_wait(pid);
	CHECK(read(p[0], buf, 1) == 1);

	/* Nested: the inner epoll fd is readable when it has events. */
	int outer = epoll_create1(0);
	CHECK(outer >= 0);
	struct epoll_event oev = { .events = EPOLLIN, .data.u32 = 99 };
	T_ERRNO("watch epoll fd", epoll_ctl(outer, EPOLL_CTL_ADD, ep, &oev), 0);
	printf("outer idle: %d\n", epoll_wait(outer, out, 4, 0));
	CHECK(write(p[1], "g", 1) == 1);
	n = epoll_wait(outer, out, 4, 0);
	printf("outer sees inner ready: %d data=%u\n", n, out[0].data.u32);
	T_ERRNO("cycle", epoll_ctl(ep, EPOLL_CTL_ADD, outer, &oev), ELOOP);

	/* EPOLLRDHUP when the writer goes away. */
	int q[2];
	CHECK(pipe(q) == 0);
	struct epoll_event rev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u32 = 1 };
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &rev) == 0);
	close(q[1]);
	struct epoll_event o2[4];
	n = epoll_wait(ep, o2, 4, 0);
	int hup = 0;
	for (int i = 0; i < n; i++)
		if (o2[i].data.u32 == 1)
			hup = (o2[i].events & EPOLLHUP) != 0;
	printf("writer gone: hup=%d\n", hup);
	return t_done();
}
