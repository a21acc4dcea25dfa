/* AF_UNIX datagrams between named sockets: sendto/recvfrom with addresses (path and abstract),
 * connect and disconnect (AF_UNSPEC), EPERM toward a socket connected elsewhere, ECONNREFUSED
 * and ENOENT, EMSGSIZE, EISCONN-free sendto on a connected socket, sendmmsg/recvmmsg. */
#include "test_util.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t mkaddr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t mkabstract(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "rvisor-st-%s-%d", tag, (int)getpid());
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

int main(void)
{
	struct sockaddr_un pa, aa, from;
	const char *path = t_tmp_path("dgram");
	unlink(path);
	socklen_t pal = mkaddr(&pa, path), aal = mkabstract(&aa, "dgram");
	int ps = socket(AF_UNIX, SOCK_DGRAM, 0), as = socket(AF_UNIX, SOCK_DGRAM, 0), u = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(ps, (struct sockaddr *)&pa, pal) == 0);
	CHECK(bind(as, (struct sockaddr *)&aa, aal) == 0);
	char buf[64];

	/* From an unnamed socket: no sender address. */
	T_EQ(sendto(u, "one", 3, 0, (struct sockaddr *)&pa, pal), 3);
	socklen_t fl = sizeof from;
	memset(buf, 0, sizeof buf);
	ssize_t r = recvfrom(ps, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	printf("from unnamed: %zd [%s] fromlen=%d\n", r, buf, (int)fl);
	/* From named sockets: their addresses. */
	T_EQ(sendto(as, "two", 3, 0, (struct sockaddr *)&pa, pal), 3);
	fl = sizeof from;
	memset(buf, 0, sizeof buf);
	r = recvfrom(ps, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	printf("from abstract: %zd [%s] matches=%d\n", r, buf, fl == aal && memcmp(&from, &aa, aal) == 0);
	T_EQ(sendto(ps, "three", 5, 0, (struct sockaddr *)&aa, aal), 5);
	fl = sizeof from;
	memset(buf, 0, sizeof buf);
	r = recvfrom(as, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	printf("from path: %zd [%s] matches=%d\n", r, buf, fl == pal && memcmp(&from, &pa, pal) == 0);
	/* A short address buffer gets the start of the address and the real length. */
	T_EQ(sendto(ps, "four", 4, 0, (struct sockaddr *)&aa, aal), 4);
	fl = 4;
	memset(&from, 0, sizeof from);
	r = recvfrom(as, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	printf("short from buffer: %zd fromlen_is_full=%d family=%d\n", r, fl == pal, from.sun_family);
	/* recvmsg with msg_name. */
	T_EQ(sendto(ps, "five", 4, 0, (struct sockaddr *)&aa, aal), 4);
	struct iovec iov = { buf, sizeof buf };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
	r = recvmsg(as, &mh, 0);
	printf("recvmsg name: %zd matches=%d flags=%d\n", r, mh.msg_namelen == pal && memcmp(&from, &pa, pal) == 0, mh.msg_flags);

	/* Connect: a default destination. */
	T_ERRNO("write unconnected", write(u, "x", 1), ENOTCONN);
	T_ERRNO("connect", connect(u, (struct sockaddr *)&aa, aal), 0);
	T_EQ(write(u, "six", 3), 3);
	memset(buf, 0, sizeof buf);
	T_EQ(recv(as, buf, sizeof buf, 0), 3);
	printf("connected write [%s]\n", buf);
	struct sockaddr_un pn;
	socklen_t pnl = sizeof pn;
	T_ERRNO("getpeername", getpeername(u, (struct sockaddr *)&pn, &pnl), 0);
	printf("getpeername matches=%d\n", pnl == aal && memcmp(&pn, &aa, aal) == 0);
	/* sendto another address still works when connected. */
	T_EQ(sendto(u, "seven", 5, 0, (struct sockaddr *)&pa, pal), 5);
	T_EQ(recv(ps, buf, sizeof buf, 0), 5);
	/* A socket connected to someone else refuses others. */
	int x = socket(AF_UNIX, SOCK_DGRAM, 0);
	T_ERRNO("connect as to ps", connect(as, (struct sockaddr *)&pa, pal), 0);
	T_ERRNO("send to a socket connected elsewhere", sendto(x, "no", 2, 0, (struct sockaddr *)&aa, aal), EPERM);
	T_ERRNO("connect to a socket connected elsewhere", connect(x, (struct sockaddr *)&aa, aal), EPERM);
	/* Its peer may still send to it. */
	T_EQ(sendto(ps, "yes", 3, 0, (struct sockaddr *)&aa, aal), 3);
	T_EQ(recv(as, buf, sizeof buf, 0), 3);
	/* Disconnect with AF_UNSPEC. */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	T_ERRNO("disconnect", connect(as, &unspec, sizeof unspec), 0);
	T_ERRNO("getpeername after disconnect", getpeername(as, (struct sockaddr *)&pn, &pnl), ENOTCONN);
	T_EQ(sendto(x, "now", 3, 0, (struct sockaddr *)&aa, aal), 3);
	T_EQ(recv(as, buf, sizeof buf, 0), 3);
	T_ERRNO("disconnect unconnected", connect(x, &unspec, sizeof unspec), 0);
	T_ERRNO("connect addrlen 1", connect(x, &unspec, 1), EINVAL);

	/* Errors. */
	struct sockaddr_un bad;
	socklen_t bl = mkaddr(&bad, "/tmp/rvisor-st-no-such-socket");
	T_ERRNO("sendto missing path", sendto(x, "x", 1, 0, (struct sockaddr *)&bad, bl), ENOENT);
	bl = mkabstract(&bad, "no-such-name");
	T_ERRNO("sendto missing abstract", sendto(x, "x", 1, 0, (struct sockaddr *)&bad, bl), ECONNREFUSED);
	T_ERRNO("connect missing abstract", connect(x, (struct sockaddr *)&bad, bl), ECONNREFUSED);
	T_ERRNO("sendto addrlen too big", sendto(x, "x", 1, 0, (struct sockaddr *)&pa, sizeof pa + 1), EINVAL);
	T_ERRNO("sendto bad address pointer", sendto(x, "x", 1, 0, (struct sockaddr *)8, pal), EFAULT);
	T_ERRNO("sendto bad buffer", sendto(x, (void *)8, 10, 0, (struct sockaddr *)&pa, pal), EFAULT);
	static char huge[1 << 20];
	T_ERRNO("sendto too big", sendto(x, huge, sizeof huge, 0, (struct sockaddr *)&pa, pal), EMSGSIZE);
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa;
	socklen_t sal = mkabstract(&sa, "dgram-stream");
	CHECK(bind(st, (struct sockaddr *)&sa, sal) == 0);
	T_ERRNO("sendto a stream socket's name", sendto(x, "x", 1, 0, (struct sockaddr *)&sa, sal), ECONNREFUSED);
	close(st);
	/* A closed receiver. */
	int gone = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un ga;
	socklen_t gal = mkabstract(&ga, "gone");
	CHECK(bind(gone, (struct sockaddr *)&ga, gal) == 0);
	T_ERRNO("connect to soon-gone", connect(x, (struct sockaddr *)&ga, gal), 0);
	close(gone);
	T_ERRNO("send to a closed receiver", send(x, "x", 1, 0), ECONNREFUSED);
	T_ERRNO("then not connected", send(x, "x", 1, 0), ENOTCONN);

	/* sendmmsg / recvmmsg. */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	struct iovec si[3] = { { "a", 1 }, { "bb", 2 }, { "ccc", 3 } };
	struct mmsghdr sm[3];
	memset(sm, 0, sizeof sm);
	for (int i = 0; i < 3; i++) {
		sm[i].msg_hdr.msg_iov = &si[i];
		sm[i].msg_hdr.msg_iovlen = 1;
	}
	r = sendmmsg(sv[0], sm, 3, 0);
	printf("sendmmsg=%zd lens=%u,%u,%u\n", r, sm[0].msg_len, sm[1].msg_len, sm[2].msg_len);
	char rb[4][8];
	struct iovec ri[4];
	struct mmsghdr rm[4];
	memset(rm, 0, sizeof rm);
	memset(rb, 0, sizeof rb);
	for (int i = 0; i < 4; i++) {
		ri[i].iov_base = rb[i];
		ri[i].iov_len = 8;
		rm[i].msg_hdr.msg_iov = &ri[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	r = recvmmsg(sv[1], rm, 4, MSG_DONTWAIT, NULL);
	printf("recvmmsg=%zd [%s][%s][%s] lens=%u,%u,%u\n", r, rb[0], rb[1], rb[2], rm[0].msg_len, rm[1].msg_len, rm[2].msg_len);
	T_ERRNO("recvmmsg empty", recvmmsg(sv[1], rm, 4, MSG_DONTWAIT, NULL), EAGAIN);
	close(sv[0]);
	close(sv[1]);

	close(ps);
	close(as);
	close(u);
	close(x);
	unlink(path);
	return t_done();
}
