/* AF_UNIX shutdown(2) and close: EOF for the reader, EPIPE (with SIGPIPE unless MSG_NOSIGNAL,
 * never for seqpacket/dgram) for the writer, ECONNRESET when unread data is dropped, and the
 * poll bits (POLLHUP, POLLRDHUP, POLLIN, POLLOUT, POLLERR) of each state. */
#include "test_util.h"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

static volatile sig_atomic_t sigpipes;

static void on_pipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static const char *bits(int fd)
{
	static char buf[4][80];
	static int n;
	char *p = buf[n++ % 4];
	struct pollfd pf = { fd, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0 };
	int r = poll(&pf, 1, 0);
	snprintf(p, 80, "%s%s%s%s%s%s", r == 0 ? "none" : "", pf.revents & POLLIN ? "IN " : "",
		 pf.revents & POLLOUT ? "OUT " : "", pf.revents & POLLHUP ? "HUP " : "",
		 pf.revents & POLLRDHUP ? "RDHUP " : "", pf.revents & POLLERR ? "ERR " : "");
	return p;
}

static int soerror(int fd)
{
	int v = -1;
	socklen_t l = sizeof v;
	CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &l) == 0);
	return v;
}

static void conn(int type)
{
	const char *n = type == SOCK_STREAM ? "stream" : "seqpacket";
	int sv[2];
	char buf[16];
	CHECK(socketpair(AF_UNIX, type, 0, sv) == 0);
	printf("%s: connected: %s| %s\n", n, bits(sv[0]), bits(sv[1]));

	/* SHUT_WR: the peer reads what was sent, then EOF; our writes fail. */
	CHECK(write(sv[0], "bye", 3) == 3);
	T_ERRNO("SHUT_WR", shutdown(sv[0], SHUT_WR), 0);
	printf("%s: after SHUT_WR: writer %s| reader %s\n", n, bits(sv[0]), bits(sv[1]));
	sigpipes = 0;
	T_ERRNO("write after SHUT_WR", write(sv[0], "x", 1), EPIPE);
	printf("%s: SIGPIPEs=%d\n", n, (int)sigpipes);
	sigpipes = 0;
	T_ERRNO("send MSG_NOSIGNAL after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	printf("%s: SIGPIPEs with MSG_NOSIGNAL=%d\n", n, (int)sigpipes);
	memset(buf, 0, sizeof buf);
	printf("%s: reader gets %zd [%s]\n", n, read(sv[1], buf, sizeof buf), buf);
	printf("%s: then EOF %zd\n", n, read(sv[1], buf, sizeof buf));
	printf("%s: reader after EOF %s\n", n, bits(sv[1]));
	/* The other direction still works. */
	T_EQ(write(sv[1], "back", 4), 4);
	memset(buf, 0, sizeof buf);
	T_EQ(read(sv[0], buf, sizeof buf), 4);
	printf("%s: other direction [%s]\n", n, buf);
	/* SHUT_RD on the other side too: both directions closed. */
	T_ERRNO("SHUT_RD", shutdown(sv[0], SHUT_RD), 0);
	printf("%s: after SHUT_RD: %s| %s\n", n, bits(sv[0]), bits(sv[1]));
	sigpipes = 0;
	T_ERRNO("peer writes to a SHUT_RD socket", write(sv[1], "y", 1), EPIPE);
	printf("%s: SIGPIPEs=%d\n", n, (int)sigpipes);
	T_ERRNO("read after SHUT_RD", read(sv[0], buf, sizeof buf), 0);
	T_ERRNO("shutdown bad how", shutdown(sv[0], 7), EINVAL);
	T_ERRNO("shutdown again", shutdown(sv[0], SHUT_RDWR), 0);
	close(sv[0]);
	close(sv[1]);

	/* Close: the survivor reads the rest then EOF, writes get EPIPE. */
	CHECK(socketpair(AF_UNIX, type, 0, sv) == 0);
	CHECK(write(sv[0], "last", 4) == 4);
	close(sv[0]);
	printf("%s: after peer close: %s\n", n, bits(sv[1]));
	memset(buf, 0, sizeof buf);
	ssize_t r1 = read(sv[1], buf, sizeof buf);
	ssize_t r2 = read(sv[1], buf + 8, 8);
	printf("%s: read %zd [%s], then %zd\n", n, r1, buf, r2);
	sigpipes = 0;
	T_ERRNO("write to closed peer", write(sv[1], "x", 1), EPIPE);
	printf("%s: SIGPIPEs=%d\n", n, (int)sigpipes);
	sigpipes = 0;
	T_ERRNO("sendto to closed peer", sendto(sv[1], "x", 1, 0, NULL, 0), EPIPE);
	printf("%s: SIGPIPEs=%d\n", n, (int)sigpipes);
	close(sv[1]);

	/* Close with unread data: the peer gets ECONNRESET once. */
	CHECK(socketpair(AF_UNIX, type, 0, sv) == 0);
	CHECK(write(sv[1], "unread", 6) == 6);
	close(sv[0]);
	printf("%s: unread data dropped: %s\n", n, bits(sv[1]));
	T_ERRNO("read after reset", read(sv[1], buf, sizeof buf), ECONNRESET);
	T_ERRNO("read again", read(sv[1], buf, sizeof buf), 0);
	close(sv[1]);
	CHECK(socketpair(AF_UNIX, type, 0, sv) == 0);
	CHECK(write(sv[1], "unread", 6) == 6);
	close(sv[0]);
	int e1 = soerror(sv[1]);
	int e2 = soerror(sv[1]);
	printf("%s: SO_ERROR=%s then %d\n", n, t_errname(e1), e2);
	printf("%s: after SO_ERROR: %s\n", n, bits(sv[1]));
	close(sv[1]);
}

static void dgram(void)
{
	int sv[2];
	char buf[8];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	printf("dgram: pair: %s| %s\n", bits(sv[0]), bits(sv[1]));
	T_ERRNO("dgram SHUT_WR", shutdown(sv[0], SHUT_WR), 0);
	sigpipes = 0;
	T_ERRNO("dgram write after SHUT_WR", write(sv[0], "x", 1), EPIPE);
	printf("dgram: SIGPIPEs=%d\n", (int)sigpipes);
	printf("dgram: after SHUT_WR: %s| %s\n", bits(sv[0]), bits(sv[1]));
	T_EQ(write(sv[1], "ok", 2), 2);
	T_ERRNO("dgram SHUT_RD", shutdown(sv[1], SHUT_RD), 0);
	printf("dgram: after SHUT_RD: %s| %s\n", bits(sv[0]), bits(sv[1]));
	T_ERRNO("dgram write to a SHUT_RD peer", write(sv[0], "x", 1), EPIPE);
	T_EQ(read(sv[0], buf, sizeof buf), 2);
	T_ERRNO("dgram read after SHUT_RD", read(sv[1], buf, sizeof buf), 0);
	close(sv[0]);
	close(sv[1]);
	/* A closed peer: no EOF for datagrams; a write is refused, then not connected. */
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	CHECK(write(sv[0], "q", 1) == 1);
	close(sv[0]);
	printf("dgram: after peer close: %s\n", bits(sv[1]));
	T_EQ(read(sv[1], buf, sizeof buf), 1);
	T_ERRNO("dgram read after peer close", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	T_ERRNO("dgram write after peer close", write(sv[1], "x", 1), ECONNREFUSED);
	T_ERRNO("dgram write again", write(sv[1], "x", 1), ENOTCONN);
	close(sv[1]);
	/* shutdown of an unconnected socket is allowed. */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("unconnected stream: %s\n", bits(s));
	T_ERRNO("shutdown unconnected", shutdown(s, SHUT_RDWR), 0);
	printf("unconnected stream after shutdown: %s\n", bits(s));
	close(s);
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	printf("unconnected seqpacket: %s\n", bits(s));
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("unconnected dgram: %s\n", bits(s));
	close(s);
}

/* SIGPIPE's default action kills the writer. */
static int killed_by_sigpipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[1]);
	if (send(sv[0], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		return 2;
	(void)write(sv[0], "x", 1);
	return 3;
}

static int seqpacket_no_sigpipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	close(sv[1]);
	return write(sv[0], "x", 1) == -1 && errno == EPIPE ? 0 : 4;
}

int main(void)
{
	signal(SIGPIPE, on_pipe);
	conn(SOCK_STREAM);
	conn(SOCK_SEQPACKET);
	dgram();
	printf("stream writer with default SIGPIPE: %s\n", t_status(t_in_child(killed_by_sigpipe)));
	printf("seqpacket writer with default SIGPIPE: %s\n", t_status(t_in_child(seqpacket_no_sigpipe)));
	return t_done();
}
