/* AF_UNIX socket options (SO_SNDBUF/SO_RCVBUF sizing, SO_REUSEADDR, SO_KEEPALIVE, SO_TYPE and
 * friends, errors for unknown levels and names) and hostile sendmsg/recvmsg arguments: iovec
 * counts and pointers, lengths, bad msghdr pointers. */
#include "test_util.h"
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

static int getint(int fd, int opt)
{
	int v = -12345;
	socklen_t l = sizeof v;
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &l) != 0)
		return -errno;
	return v;
}

static void options(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int v = 5000;
	T_ERRNO("SO_SNDBUF", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
	printf("SO_SNDBUF 5000 -> %d\n", getint(s, SO_SNDBUF));
	v = 1;
	T_ERRNO("SO_SNDBUF tiny", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0);
	printf("SO_SNDBUF 1 -> %d\n", getint(s, SO_SNDBUF));
	v = 7000;
	T_ERRNO("SO_RCVBUF", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0);
	printf("SO_RCVBUF 7000 -> %d\n", getint(s, SO_RCVBUF));
	v = 1;
	CHECK(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) == 0);
	printf("SO_RCVBUF 1 -> %d\n", getint(s, SO_RCVBUF));
	printf("defaults positive: sndbuf=%d rcvbuf=%d\n", getint(socket(AF_UNIX, SOCK_DGRAM, 0), SO_SNDBUF) > 0,
	       getint(socket(AF_UNIX, SOCK_DGRAM, 0), SO_RCVBUF) > 0);
	printf("SO_REUSEADDR default=%d\n", getint(s, SO_REUSEADDR));
	v = 9;
	T_ERRNO("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), 0);
	printf("SO_REUSEADDR=%d\n", getint(s, SO_REUSEADDR));
	v = 1;
	T_ERRNO("SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), 0);
	printf("SO_KEEPALIVE=%d\n", getint(s, SO_KEEPALIVE));
	printf("SO_TYPE=%d SO_DOMAIN=%d SO_PROTOCOL=%d SO_ACCEPTCONN=%d SO_ERROR=%d SO_PASSCRED=%d\n",
	       getint(s, SO_TYPE), getint(s, SO_DOMAIN), getint(s, SO_PROTOCOL), getint(s, SO_ACCEPTCONN),
	       getint(s, SO_ERROR), getint(s, SO_PASSCRED));
	T_ERRNO("set SO_TYPE", setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof v), ENOPROTOOPT);
	T_ERRNO("unknown option", setsockopt(s, SOL_SOCKET, 999, &v, sizeof v), ENOPROTOOPT);
	socklen_t l = sizeof v;
	T_ERRNO("get unknown option", getsockopt(s, SOL_SOCKET, 999, &v, &l), ENOPROTOOPT);
	T_ERRNO("set other level", setsockopt(s, 0 /* SOL_IP */, 1, &v, sizeof v), EOPNOTSUPP);
	T_ERRNO("get other level", getsockopt(s, 0 /* SOL_IP */, 1, &v, &l), EOPNOTSUPP);
	T_ERRNO("set short optlen", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 3), EINVAL);
	T_ERRNO("set bad optval", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)8, sizeof v), EFAULT);
	l = 2;
	v = 0;
	T_ERRNO("get short optlen", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), 0);
	printf("short get: len=%d value=%d\n", (int)l, v);
	l = 64;
	T_ERRNO("get long optlen", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), 0);
	printf("long get: len=%d\n", (int)l);
	l = -1;
	T_ERRNO("get negative optlen", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	T_ERRNO("get bad optlen pointer", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8), EFAULT);
	l = sizeof v;
	T_ERRNO("get bad optval", getsockopt(s, SOL_SOCKET, SO_TYPE, (void *)8, &l), EFAULT);
	struct linger lg = { 1, 5 };
	T_ERRNO("SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	memset(&lg, 0, sizeof lg);
	l = sizeof lg;
	CHECK(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &l) == 0);
	printf("SO_LINGER=%d,%d len=%d\n", lg.l_onoff, lg.l_linger, (int)l);
	close(s);
}

static void hostile(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	char buf[16];
	struct iovec iov[1100];
	for (int i = 0; i < 1100; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = 1;
	}
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 1025 };
	T_ERRNO("sendmsg 1025 iovecs", sendmsg(sv[0], &mh, 0), EMSGSIZE);
	mh.msg_iovlen = 1024;
	T_ERRNO("sendmsg 1024 iovecs", sendmsg(sv[0], &mh, 0), 0);
	mh.msg_iovlen = 1025;
	T_ERRNO("recvmsg 1025 iovecs", recvmsg(sv[1], &mh, 0), EMSGSIZE);
	mh.msg_iovlen = 1024;
	printf("recvmsg 1024 iovecs=%zd\n", recvmsg(sv[1], &mh, 0));
	mh.msg_iov = (struct iovec *)8;
	mh.msg_iovlen = 1;
	T_ERRNO("sendmsg bad iov pointer", sendmsg(sv[0], &mh, 0), EFAULT);
	iov[0].iov_base = (void *)8;
	iov[0].iov_len = 4;
	mh.msg_iov = iov;
	T_ERRNO("sendmsg bad iov base", sendmsg(sv[0], &mh, 0), EFAULT);
	iov[0].iov_len = (size_t)-1;
	T_ERRNO("sendmsg iov_len -1", sendmsg(sv[0], &mh, 0), EINVAL);
	T_ERRNO("sendmsg bad msghdr", sendmsg(sv[0], (struct msghdr *)8, 0), EFAULT);
	T_ERRNO("recvmsg bad msghdr", recvmsg(sv[1], (struct msghdr *)8, MSG_DONTWAIT), EFAULT);
	iov[0].iov_base = buf;
	iov[0].iov_len = 4;
	mh.msg_name = buf;
	mh.msg_namelen = (socklen_t)-1;
	T_ERRNO("sendmsg negative namelen", sendmsg(sv[0], &mh, 0), EINVAL);
	mh.msg_name = NULL;
	mh.msg_namelen = 0;
	T_ERRNO("sendmsg empty iovec list", ({ struct msghdr e = { 0 }; sendmsg(sv[0], &e, 0); }), 0);
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 0);
	/* The receiver's buffer faults: EFAULT. */
	CHECK(send(sv[0], "abcd", 4, 0) == 4);
	T_ERRNO("recv into a bad buffer", recv(sv[1], (void *)8, 4, 0), EFAULT);
	T_ERRNO("recvfrom bad addrlen pointer", ({ char b2[4]; struct sockaddr_un a; send(sv[0], "x", 1, 0); recvfrom(sv[1], b2, 4, 0, (struct sockaddr *)&a, (socklen_t *)8); }), EFAULT);
	T_ERRNO("send bad flags ok", send(sv[0], "x", 1, 0x40000000), 0);
	CHECK(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) >= 0);
	T_ERRNO("sendmmsg bad vector", sendmmsg(sv[0], (struct mmsghdr *)8, 2, 0), EFAULT);
	T_ERRNO("recvmmsg bad timeout", ({ struct mmsghdr m[1] = { 0 }; struct timespec ts = { 0, 2000000000 }; recvmmsg(sv[1], m, 1, 0, &ts); }), EINVAL);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	options();
	hostile();
	return t_done();
}
