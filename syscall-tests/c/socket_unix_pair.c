/* AF_UNIX socketpair: stream, dgram and seqpacket data paths, message boundaries, MSG_PEEK,
 * MSG_DONTWAIT, MSG_TRUNC, MSG_WAITALL, readv/writev, FIONREAD, fstat, socket options, flags,
 * EOF on close, socket() and socketpair() argument errors. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

static int getint(int fd, int opt)
{
	int v = -12345;
	socklen_t l = sizeof v;
	CHECK(getsockopt(fd, SOL_SOCKET, opt, &v, &l) == 0);
	CHECK(l == sizeof v);
	return v;
}

static const char *tname(int t)
{
	return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" : "seqpacket";
}

static void common(int type)
{
	int sv[2];
	char buf[64];
	const char *n = tname(type);
	T_ERRNO(n, socketpair(AF_UNIX, type, 0, sv), 0);
	printf("%s: SO_TYPE=%d SO_DOMAIN=%d SO_PROTOCOL=%d SO_ACCEPTCONN=%d SO_ERROR=%d\n", n,
	       getint(sv[0], SO_TYPE), getint(sv[0], SO_DOMAIN), getint(sv[0], SO_PROTOCOL),
	       getint(sv[0], SO_ACCEPTCONN), getint(sv[0], SO_ERROR));
	struct stat st;
	CHECK(fstat(sv[0], &st) == 0);
	printf("%s: S_ISSOCK=%d\n", n, S_ISSOCK(st.st_mode));
	printf("%s: O_RDWR=%d\n", n, (fcntl(sv[0], F_GETFL) & O_ACCMODE) == O_RDWR);

	/* Both directions. */
	T_EQ(write(sv[0], "hello", 5), 5);
	T_EQ(write(sv[1], "world!", 6), 6);
	memset(buf, 0, sizeof buf);
	T_EQ(read(sv[1], buf, sizeof buf), 5);
	printf("%s: 0->1 [%s]\n", n, buf);
	memset(buf, 0, sizeof buf);
	T_EQ(read(sv[0], buf, sizeof buf), 6);
	printf("%s: 1->0 [%s]\n", n, buf);

	/* Two writes: stream merges them, the others keep boundaries. */
	T_EQ(send(sv[0], "abc", 3, 0), 3);
	T_EQ(send(sv[0], "defg", 4, 0), 4);
	int avail = -1;
	T_ERRNO("FIONREAD", ioctl(sv[1], FIONREAD, &avail), 0);
	printf("%s: FIONREAD=%d\n", n, avail);
	memset(buf, 0, sizeof buf);
	ssize_t r = recv(sv[1], buf, sizeof buf, MSG_PEEK);
	printf("%s: peek=%zd [%s]\n", n, r, buf);
	memset(buf, 0, sizeof buf);
	r = recv(sv[1], buf, sizeof buf, 0);
	printf("%s: recv=%zd [%s]\n", n, r, buf);
	if (type != SOCK_STREAM) {
		memset(buf, 0, sizeof buf);
		r = recv(sv[1], buf, sizeof buf, 0);
		printf("%s: recv second=%zd [%s]\n", n, r, buf);
	}
	T_ERRNO("empty MSG_DONTWAIT", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

	/* A short buffer: stream leaves the rest, the others truncate. */
	T_EQ(send(sv[0], "0123456789", 10, 0), 10);
	struct iovec iov = { buf, 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	memset(buf, 0, sizeof buf);
	r = recvmsg(sv[1], &mh, 0);
	printf("%s: short recvmsg=%zd [%s] MSG_TRUNC=%d\n", n, r, buf, (mh.msg_flags & MSG_TRUNC) != 0);
	if (type == SOCK_STREAM) {
		memset(buf, 0, sizeof buf);
		printf("%s: rest=%zd [%s]\n", n, recv(sv[1], buf, sizeof buf, 0), buf);
	} else {
		T_EQ(send(sv[0], "0123456789", 10, 0), 10);
		memset(buf, 0, sizeof buf);
		r = recv(sv[1], buf, 4, MSG_TRUNC);
		printf("%s: recv MSG_TRUNC=%zd [%s]\n", n, r, buf);
		T_EQ(send(sv[0], "xyz", 3, 0), 3);
		r = recv(sv[1], NULL, 0, MSG_TRUNC | MSG_PEEK);
		printf("%s: peek length with MSG_TRUNC=%zd\n", n, r);
		CHECK(recv(sv[1], buf, sizeof buf, 0) == 3);
	}

	/* writev / readv. */
	struct iovec wv[3] = { { "ab", 2 }, { "", 0 }, { "cde", 3 } };
	T_EQ(writev(sv[0], wv, 3), 5);
	char a[2] = { 0 }, b[8] = { 0 };
	struct iovec rv[2] = { { a, 2 }, { b, 8 } };
	r = readv(sv[1], rv, 2);
	printf("%s: readv=%zd [%.2s][%s]\n", n, r, a, b);

	/* Zero-length writes. */
	T_EQ(write(sv[0], "", 0), 0);
	r = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
	printf("%s: after zero-length write: %zd %s\n", n, r, r < 0 ? t_errname(errno) : "");

	/* Nonblocking via fcntl and FIONBIO. */
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	T_ERRNO("read O_NONBLOCK", read(sv[1], buf, 1), EAGAIN);
	int off = 0;
	CHECK(ioctl(sv[1], FIONBIO, &off) == 0);
	printf("%s: O_NONBLOCK after FIONBIO 0=%d\n", n, (fcntl(sv[1], F_GETFL) & O_NONBLOCK) != 0);

	/* EOF (or not) once the peer is closed. */
	T_EQ(write(sv[0], "z", 1), 1);
	CHECK(close(sv[0]) == 0);
	memset(buf, 0, sizeof buf);
	printf("%s: data after peer close=%zd [%s]\n", n, read(sv[1], buf, sizeof buf), buf);
	r = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
	printf("%s: then %zd %s\n", n, r, r < 0 ? t_errname(errno) : "");
	close(sv[1]);
}

int main(void)
{
	common(SOCK_STREAM);
	common(SOCK_DGRAM);
	common(SOCK_SEQPACKET);

	int sv[2];
	char buf[64];

	/* Flags. */
	T_ERRNO("socketpair NONBLOCK|CLOEXEC", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	printf("flags: nonblock=%d/%d cloexec=%d/%d\n", (fcntl(sv[0], F_GETFL) & O_NONBLOCK) != 0,
	       (fcntl(sv[1], F_GETFL) & O_NONBLOCK) != 0, (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(sv[1], F_GETFD) & FD_CLOEXEC) != 0);
	T_ERRNO("nonblocking read", read(sv[0], buf, 1), EAGAIN);
	close(sv[0]);
	close(sv[1]);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(s >= 0);
	printf("socket cloexec=%d nonblock=%d\n", (fcntl(s, F_GETFD) & FD_CLOEXEC) != 0, (fcntl(s, F_GETFL) & O_NONBLOCK) != 0);
	close(s);

	/* MSG_WAITALL on a stream waits for the whole buffer. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			usleep(10000);
			CHECK(write(sv[1], "wxyz" + i, 1) == 1);
		}
		_exit(0);
	}
	memset(buf, 0, sizeof buf);
	ssize_t r = recv(sv[0], buf, 4, MSG_WAITALL);
	printf("MSG_WAITALL=%zd [%s]\n", r, buf);
	t_wait(pid);
	close(sv[0]);
	close(sv[1]);

	/* A big stream transfer through a blocking pair, with a child writer. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		static char big[3 << 20];
		for (size_t i = 0; i < sizeof big; i++)
			big[i] = (char)(i * 7);
		t_write_all(sv[1], big, sizeof big);
		_exit(0);
	}
	close(sv[1]);
	size_t total = 0;
	int ok = 1;
	for (;;) {
		static char rb[100000];
		ssize_t n = read(sv[0], rb, sizeof rb);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			ok &= rb[i] == (char)((total + i) * 7);
		total += n;
	}
	printf("big transfer: total=%zu ok=%d\n", total, ok);
	t_wait(pid);
	close(sv[0]);

	/* Argument errors. */
	T_ERRNO("socket family 99", socket(99, SOCK_STREAM, 0), EAFNOSUPPORT);
	T_ERRNO("socket type 4", socket(AF_UNIX, 4, 0), ESOCKTNOSUPPORT);
	T_ERRNO("socket type 11", socket(AF_UNIX, 11, 0), EINVAL);
	T_ERRNO("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x100000, 0), EINVAL);
	T_ERRNO("socket protocol 2", socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
	s = T_ERRNO("socket protocol PF_UNIX", socket(AF_UNIX, SOCK_STREAM, PF_UNIX), 0);
	close(s);
	s = T_ERRNO("socket SOCK_RAW", socket(AF_UNIX, SOCK_RAW, 0), 0);
	printf("SOCK_RAW is SO_TYPE=%d\n", getint(s, SO_TYPE));
	close(s);
	T_ERRNO("socketpair bad pointer", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (int *)8), EFAULT);
	T_ERRNO("socketpair type 4", socketpair(AF_UNIX, 4, 0, sv), ESOCKTNOSUPPORT);
	T_ERRNO("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	int p[2];
	CHECK(pipe(p) == 0);
	int v = 0;
	socklen_t l = sizeof v;
	T_ERRNO("getsockopt on a pipe", getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &l), ENOTSOCK);
	T_ERRNO("shutdown on a pipe", shutdown(p[0], SHUT_RD), ENOTSOCK);
	T_ERRNO("recv on a pipe", recv(p[0], buf, 1, MSG_DONTWAIT), ENOTSOCK);
	T_ERRNO("getsockopt bad fd", getsockopt(999, SOL_SOCKET, SO_TYPE, &v, &l), EBADF);
	return t_done();
}
