/* AF_UNIX readiness through poll, select and epoll: a listener with pending connections, data
 * arriving, a full send buffer (EAGAIN, then writable again once the reader drains it), peer
 * close, and blocking poll woken by a connection from a child. */
#include "test_util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>

static int revents(int fd, int events, int timeout)
{
	struct pollfd pf = { fd, (short)events, 0 };
	int r = poll(&pf, 1, timeout);
	return r < 0 ? -1 : pf.revents;
}

static socklen_t mkabstract(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "rvisor-st-%s-%d", tag, (int)getpid());
	return sizeof(sa_family_t) + 1 + n;
}

static void listener(int type)
{
	const char *n = type == SOCK_STREAM ? "stream" : "seqpacket";
	struct sockaddr_un a;
	socklen_t al = mkabstract(&a, type == SOCK_STREAM ? "pollS" : "pollQ");
	int srv = socket(AF_UNIX, type, 0);
	CHECK(bind(srv, (struct sockaddr *)&a, al) == 0);
	CHECK(listen(srv, 4) == 0);
	printf("%s listener idle: 0x%x\n", n, revents(srv, POLLIN | POLLOUT | POLLRDHUP, 0));
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 }, out[2];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev) == 0);
	printf("%s listener epoll idle: %d\n", n, epoll_wait(ep, out, 2, 0));
	int c = socket(AF_UNIX, type, 0);
	CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
	printf("%s listener pending: 0x%x\n", n, revents(srv, POLLIN | POLLOUT, 0));
	int r = epoll_wait(ep, out, 2, 0);
	printf("%s listener epoll pending: %d events=0x%x data=%u\n", n, r, r > 0 ? out[0].events : 0, r > 0 ? out[0].data.u32 : 0);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(srv, &rs);
	struct timeval tv = { 0, 0 };
	r = select(srv + 1, &rs, NULL, NULL, &tv);
	printf("%s listener select: %d isset=%d\n", n, r, FD_ISSET(srv, &rs));
	int s = accept(srv, NULL, NULL);
	CHECK(s >= 0);
	printf("%s listener drained: 0x%x\n", n, revents(srv, POLLIN, 0));
	printf("%s accepted idle: 0x%x client idle: 0x%x\n", n, revents(s, POLLIN | POLLOUT, 0), revents(c, POLLIN | POLLOUT, 0));
	CHECK(write(c, "x", 1) == 1);
	printf("%s accepted with data: 0x%x\n", n, revents(s, POLLIN | POLLOUT, 0));
	close(c);
	printf("%s accepted after client close: 0x%x\n", n, revents(s, POLLIN | POLLOUT | POLLRDHUP, 0));
	close(s);
	close(ep);
	close(srv);
}

/* Fill a nonblocking socket until EAGAIN, check it is not writable, drain, writable again. */
static void fill(int type)
{
	const char *n = type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" : "seqpacket";
	int sv[2];
	CHECK(socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv) == 0);
	static char chunk[1000];
	long sent = 0;
	int err = 0;
	for (int i = 0; i < 100000; i++) {
		ssize_t w = write(sv[0], chunk, sizeof chunk);
		if (w < 0) {
			err = errno;
			break;
		}
		sent += w;
	}
	printf("%s: filled, then %s; sent>0=%d\n", n, t_errname(err), sent > 0);
	printf("%s: full: writable=%d readable=%d\n", n, (revents(sv[0], POLLOUT, 0) & POLLOUT) != 0,
	       (revents(sv[1], POLLIN, 0) & POLLIN) != 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.u32 = 1 }, out[2];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) == 0);
	printf("%s: epoll OUT while full: %d\n", n, epoll_wait(ep, out, 2, 0));
	static char big[1 << 16];
	long got = 0;
	for (;;) {
		ssize_t r = read(sv[1], big, sizeof big);
		if (r <= 0)
			break;
		got += r;
	}
	printf("%s: drained all=%d\n", n, got == sent);
	printf("%s: writable again=%d\n", n, (revents(sv[0], POLLOUT, 0) & POLLOUT) != 0);
	printf("%s: epoll OUT after drain: %d\n", n, epoll_wait(ep, out, 2, 1000));
	close(ep);
	close(sv[0]);
	close(sv[1]);
}

/* A blocked poll is woken when a child connects; a blocked epoll_wait when it writes. */
static void wakeups(void)
{
	struct sockaddr_un a;
	socklen_t al = mkabstract(&a, "pollwake");
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(srv, (struct sockaddr *)&a, al) == 0);
	CHECK(listen(srv, 4) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(50000);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
		usleep(50000);
		CHECK(write(c, "late", 4) == 4);
		char b;
		CHECK(read(c, &b, 1) == 0);
		_exit(0);
	}
	struct pollfd pf = { srv, POLLIN, 0 };
	int r = poll(&pf, 1, 10000);
	printf("poll woken by connect: r=%d revents=0x%x\n", r, pf.revents);
	int s = accept(srv, NULL, NULL);
	CHECK(s >= 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = 3 }, out[2];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0);
	r = epoll_wait(ep, out, 2, 10000);
	printf("epoll woken by data: r=%d events=0x%x\n", r, r > 0 ? out[0].events : 0);
	char buf[8] = { 0 };
	CHECK(read(s, buf, sizeof buf) == 4);
	close(s);
	t_wait(pid);
	close(ep);
	close(srv);
}

int main(void)
{
	listener(SOCK_STREAM);
	listener(SOCK_SEQPACKET);
	fill(SOCK_STREAM);
	fill(SOCK_DGRAM);
	fill(SOCK_SEQPACKET);
	wakeups();
	return t_done();
}
