/* AF_UNIX names: bind/listen/connect/accept on a path in /tmp (a socket file: stat, EADDRINUSE,
 * unlink, ENXIO on open, ECONNREFUSED) and on abstract names, autobind, getsockname and
 * getpeername, accept4 flags, nonblocking accept and connect, the listen backlog, and the errno
 * cases of each call. */
#include "test_util.h"
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static socklen_t mkaddr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

/* An abstract name: a NUL, then the tag and the pid (unique on the host for the native run). */
static socklen_t mkabstract(struct sockaddr_un *a, const char *tag)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "rvisor-st-%s-%d", tag, (int)getpid());
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

/* Prints what getsockname/getpeername report, without the pid in it. */
static void show(const char *label, int fd, int peer, const struct sockaddr_un *want, socklen_t wantlen)
{
	struct sockaddr_un a;
	memset(&a, 0x55, sizeof a);
	socklen_t l = sizeof a;
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l);
	if (r != 0) {
		printf("%s: %s\n", label, t_errname(errno));
		return;
	}
	int same = want && l == wantlen && memcmp(&a, want, l) == 0;
	/* Named addresses hold the pid: print whether they match, not their length. */
	printf("%s: family=%d unnamed_len=%d abstract=%d matches=%d\n", label, a.sun_family,
	       l == 2 ? 2 : -1, l > 2 && a.sun_path[0] == 0, same);
}

static void path_names(void)
{
	struct sockaddr_un a, b;
	const char *path = t_tmp_path("bind");
	socklen_t alen = mkaddr(&a, path);
	unlink(path);

	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(srv >= 0);
	show("unbound getsockname", srv, 0, NULL, 0);
	show("unbound getpeername", srv, 1, NULL, 0);
	T_ERRNO("listen unbound", listen(srv, 5), EINVAL);
	T_ERRNO("bind path", bind(srv, (struct sockaddr *)&a, alen), 0);
	show("bound getsockname", srv, 0, &a, alen);
	struct stat st;
	T_ERRNO("stat socket file", stat(path, &st), 0);
	printf("S_ISSOCK=%d perm=%o nlink=%d size=%d\n", S_ISSOCK(st.st_mode), st.st_mode & 0777,
	       (int)st.st_nlink, (int)st.st_size);
	T_ERRNO("lstat socket file", lstat(path, &st), 0);
	printf("lstat S_ISSOCK=%d\n", S_ISSOCK(st.st_mode));
	T_ERRNO("open socket file", open(path, O_RDWR), ENXIO);
	T_ERRNO("open socket file O_RDONLY", open(path, O_RDONLY), ENXIO);
	T_ERRNO("open socket file O_CREAT", open(path, O_RDWR | O_CREAT, 0600), ENXIO);
	T_ERRNO("open socket file O_CREAT|O_EXCL", open(path, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	int op = T_ERRNO("open socket file O_PATH", open(path, O_PATH), 0);
	if (op >= 0) {
		CHECK(fstat(op, &st) == 0);
		printf("O_PATH fstat S_ISSOCK=%d\n", S_ISSOCK(st.st_mode));
		close(op);
	}
	T_ERRNO("truncate socket file", truncate(path, 0), EINVAL);
	T_ERRNO("bind again", bind(srv, (struct sockaddr *)&a, alen), EADDRINUSE);
	mkaddr(&b, t_tmp_path("bind2"));
	T_ERRNO("bind a bound socket to a new path", bind(srv, (struct sockaddr *)&b, sizeof b), EINVAL);
	T_ERRNO("which is not left behind", access(b.sun_path, F_OK), ENOENT);

	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(c >= 0);
	T_ERRNO("connect before listen", connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
	int other = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("bind existing path", bind(other, (struct sockaddr *)&a, alen), EADDRINUSE);
	close(other);

	T_ERRNO("listen", listen(srv, 5), 0);
	T_ERRNO("listen again", listen(srv, 10), 0);
	int v = 0;
	socklen_t vl = sizeof v;
	CHECK(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0);
	printf("SO_ACCEPTCONN=%d\n", v);
	T_ERRNO("connect", connect(c, (struct sockaddr *)&a, alen), 0);
	T_ERRNO("connect again", connect(c, (struct sockaddr *)&a, alen), EISCONN);
	T_ERRNO("connect on listener", connect(srv, (struct sockaddr *)&a, alen), EINVAL);
	show("client getsockname", c, 0, NULL, 0);
	show("client getpeername", c, 1, &a, alen);
	/* Data sent before accept waits in the new connection. */
	T_EQ(write(c, "early", 5), 5);
	memset(&b, 0x55, sizeof b);
	socklen_t bl = sizeof b;
	int s = accept(srv, (struct sockaddr *)&b, &bl);
	T_TRUE(s >= 0);
	printf("accept: peer len=%d family=%d\n", (int)bl, b.sun_family);
	show("accepted getsockname", s, 0, &a, alen);
	show("accepted getpeername", s, 1, NULL, 0);
	char buf[32] = { 0 };
	T_EQ(read(s, buf, sizeof buf), 5);
	printf("accepted read [%s]\n", buf);
	T_EQ(write(s, "reply", 5), 5);
	memset(buf, 0, sizeof buf);
	T_EQ(read(c, buf, sizeof buf), 5);
	printf("client read [%s]\n", buf);
	T_ERRNO("accept on connected", accept(s, NULL, NULL), EINVAL);
	T_ERRNO("listen on connected", listen(s, 1), EINVAL);

	/* Nonblocking accept. */
	CHECK(fcntl(srv, F_SETFL, O_NONBLOCK) == 0);
	T_ERRNO("nonblocking accept, none pending", accept(srv, NULL, NULL), EAGAIN);
	T_ERRNO("accept4 bad flags", accept4(srv, NULL, NULL, 0x4000000), EINVAL);
	int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("connect 2", connect(c2, (struct sockaddr *)&a, alen), 0);
	int s2 = T_ERRNO("accept4 NONBLOCK|CLOEXEC", accept4(srv, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), 0);
	if (s2 >= 0)
		printf("accept4 flags: nonblock=%d cloexec=%d\n", (fcntl(s2, F_GETFL) & O_NONBLOCK) != 0,
		       (fcntl(s2, F_GETFD) & FD_CLOEXEC) != 0);
	int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("connect 3", connect(c3, (struct sockaddr *)&a, alen), 0);
	int s3 = accept(srv, NULL, NULL);
	printf("plain accept: nonblock=%d\n", (fcntl(s3, F_GETFL) & O_NONBLOCK) != 0);

	/* unlink removes the name; the listener keeps its address. */
	T_ERRNO("unlink", unlink(path), 0);
	int c4 = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("connect after unlink", connect(c4, (struct sockaddr *)&a, alen), ENOENT);
	show("listener after unlink", srv, 0, &a, alen);
	/* The path can be bound again by another socket. */
	int srv2 = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("bind after unlink", bind(srv2, (struct sockaddr *)&a, alen), 0);
	T_ERRNO("listen 2", listen(srv2, 1), 0);
	T_ERRNO("connect to new listener", connect(c4, (struct sockaddr *)&a, alen), 0);
	/* Closing a listener leaves the file: connect is refused. */
	close(srv2);
	int c5 = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("connect to closed listener", connect(c5, (struct sockaddr *)&a, alen), ECONNREFUSED);
	T_ERRNO("stat after close", stat(path, &st), 0);
	/* The wrong type. */
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	unlink(path);
	CHECK(bind(srv2 = socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, alen) == 0);
	CHECK(listen(srv2, 1) == 0);
	T_ERRNO("dgram connect to stream listener", connect(d, (struct sockaddr *)&a, alen), EPROTOTYPE);
	int sp = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	T_ERRNO("seqpacket connect to stream listener", connect(sp, (struct sockaddr *)&a, alen), EPROTOTYPE);
	/* A regular file is not a socket. */
	const char *fpath = t_tmp_path("bindfile");
	int fd = open(fpath, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	mkaddr(&b, fpath);
	T_ERRNO("connect to a regular file", connect(c5, (struct sockaddr *)&b, sizeof b), ECONNREFUSED);
	T_ERRNO("bind over a regular file", bind(c5, (struct sockaddr *)&b, sizeof b), EADDRINUSE);
	unlink(fpath);
	T_ERRNO("connect to a missing path", connect(c5, (struct sockaddr *)&b, sizeof b), ENOENT);
	mkaddr(&b, "/tmp/rvisor-st-no-such-dir/sock");
	T_ERRNO("bind in a missing directory", bind(c5, (struct sockaddr *)&b, sizeof b), ENOENT);
	mkaddr(&b, "/proc/rvisor-st-sock");
	/* Natively /proc has no place for it (ENOENT); sandboxed the host root is read-only (EROFS). */
	int r = bind(c5, (struct sockaddr *)&b, sizeof b);
	printf("bind on a read-only place: failed=%d errno_ok=%d\n", r == -1, errno == ENOENT || errno == EROFS);

	/* Relative paths, from the working directory. */
	CHECK(chdir("/tmp") == 0);
	const char *rel = strrchr(path, '/') + 1;
	socklen_t rlen = mkaddr(&b, rel);
	int r1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	T_ERRNO("bind relative", bind(r1, (struct sockaddr *)&b, rlen), EADDRINUSE);
	unlink(path);
	T_ERRNO("bind relative after unlink", bind(r1, (struct sockaddr *)&b, rlen), 0);
	show("relative getsockname", r1, 0, &b, rlen);
	T_ERRNO("stat by absolute path", stat(path, &st), 0);
	CHECK(chdir("/") == 0);
	unlink(path);

	close(r1);
	close(d);
	close(sp);
	close(c);
	close(c2);
	close(c3);
	close(c4);
	close(c5);
	close(s);
	close(s2);
	close(s3);
	close(srv);
	close(srv2);
}

static void abstract_names(void)
{
	struct sockaddr_un a, b;
	socklen_t alen = mkabstract(&a, "abs");
	int srv = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	T_ERRNO("bind abstract", bind(srv, (struct sockaddr *)&a, alen), 0);
	show("abstract getsockname", srv, 0, &a, alen);
	int other = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	T_ERRNO("bind abstract in use", bind(other, (struct sockaddr *)&a, alen), EADDRINUSE);
	int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	T_ERRNO("connect abstract before listen", connect(c, (struct sockaddr *)&a, alen), ECONNREFUSED);
	T_ERRNO("listen abstract", listen(srv, 2), 0);
	T_ERRNO("connect abstract", connect(c, (struct sockaddr *)&a, alen), 0);
	/* The same bytes plus one more NUL are another name. */
	T_ERRNO("connect longer name", connect(other, (struct sockaddr *)&a, alen + 1), ECONNREFUSED);
	/* Names are per type: a stream socket does not see the seqpacket listener. */
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("stream connect to seqpacket name", connect(st, (struct sockaddr *)&a, alen), ECONNREFUSED);
	int s = accept(srv, NULL, NULL);
	T_TRUE(s >= 0);
	show("abstract peer of client", c, 1, &a, alen);
	show("abstract name of accepted", s, 0, &a, alen);
	T_EQ(send(c, "m1", 2, 0), 2);
	T_EQ(send(c, "m22", 3, 0), 3);
	char buf[8];
	T_EQ(recv(s, buf, sizeof buf, 0), 2);
	T_EQ(recv(s, buf, sizeof buf, 0), 3);
	/* Closing frees the name. */
	close(srv);
	close(s);
	close(c);
	T_ERRNO("bind abstract after close", bind(other, (struct sockaddr *)&a, alen), 0);
	close(other);
	close(st);

	/* Autobind: bind with only the family. */
	int u = socket(AF_UNIX, SOCK_DGRAM, 0);
	T_ERRNO("autobind", bind(u, (struct sockaddr *)&a, sizeof(sa_family_t)), 0);
	memset(&b, 0, sizeof b);
	socklen_t bl = sizeof b;
	CHECK(getsockname(u, (struct sockaddr *)&b, &bl) == 0);
	int hex = 1;
	for (int i = 1; i < (int)bl - 2; i++)
		hex &= strchr("0123456789abcdef", b.sun_path[i]) != NULL;
	printf("autobind: len=%d abstract=%d hex=%d\n", (int)bl, b.sun_path[0] == 0, hex);
	T_ERRNO("autobind again", bind(u, (struct sockaddr *)&a, sizeof(sa_family_t)), 0);
	T_ERRNO("bind after autobind", bind(u, (struct sockaddr *)&a, alen), EINVAL);
	/* The autobound name is reachable. */
	int v = socket(AF_UNIX, SOCK_DGRAM, 0);
	T_EQ(sendto(v, "hi", 2, 0, (struct sockaddr *)&b, bl), 2);
	char m[4] = { 0 };
	T_EQ(recv(u, m, sizeof m, 0), 2);
	printf("autobind received [%s]\n", m);
	close(u);
	close(v);
}

static void errors(void)
{
	struct sockaddr_un a;
	socklen_t alen = mkaddr(&a, t_tmp_path("err"));
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	T_ERRNO("bind addrlen too big", bind(s, (struct sockaddr *)&a, sizeof a + 1), EINVAL);
	T_ERRNO("bind addrlen 200", bind(s, (struct sockaddr *)&a, 200), EINVAL);
	T_ERRNO("bind addrlen -1", bind(s, (struct sockaddr *)&a, -1), EINVAL);
	T_ERRNO("bind addrlen 1", bind(s, (struct sockaddr *)&a, 1), EINVAL);
	T_ERRNO("bind addrlen 0", bind(s, (struct sockaddr *)&a, 0), EINVAL);
	T_ERRNO("bind bad pointer", bind(s, (struct sockaddr *)8, alen), EFAULT);
	a.sun_family = AF_INET;
	T_ERRNO("bind wrong family", bind(s, (struct sockaddr *)&a, alen), EINVAL);
	T_ERRNO("connect wrong family", connect(s, (struct sockaddr *)&a, alen), EINVAL);
	a.sun_family = AF_UNIX;
	T_ERRNO("connect addrlen too big", connect(s, (struct sockaddr *)&a, sizeof a + 1), EINVAL);
	T_ERRNO("connect addrlen 2", connect(s, (struct sockaddr *)&a, 2), EINVAL);
	T_ERRNO("connect bad pointer", connect(s, (struct sockaddr *)8, alen), EFAULT);
	T_ERRNO("accept unbound", accept(s, NULL, NULL), EINVAL);
	T_ERRNO("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &alen), ENOTCONN);
	socklen_t l = sizeof a;
	T_ERRNO("getsockname bad pointer", getsockname(s, (struct sockaddr *)8, &l), EFAULT);
	T_ERRNO("getsockname bad len pointer", getsockname(s, (struct sockaddr *)&a, (socklen_t *)8), EFAULT);
	l = -1;
	T_ERRNO("getsockname negative len", getsockname(s, (struct sockaddr *)&a, &l), EINVAL);
	l = 1;
	T_ERRNO("getsockname short len", getsockname(s, (struct sockaddr *)&a, &l), 0);
	printf("getsockname short len -> %d\n", (int)l);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	T_ERRNO("listen on dgram", listen(d, 1), EOPNOTSUPP);
	T_ERRNO("accept on dgram", accept(d, NULL, NULL), EOPNOTSUPP);
	T_ERRNO("listen bad fd", listen(999, 1), EBADF);
	int p[2];
	CHECK(pipe(p) == 0);
	T_ERRNO("bind on a pipe", bind(p[0], (struct sockaddr *)&a, alen), ENOTSOCK);
	T_ERRNO("accept on a pipe", accept(p[0], NULL, NULL), ENOTSOCK);
	close(p[0]);
	close(p[1]);
	close(s);
	close(d);
}

/* The backlog: connections beyond it wait (or fail with EAGAIN when nonblocking). */
static void backlog(void)
{
	struct sockaddr_un a;
	socklen_t alen = mkabstract(&a, "backlog");
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(srv, (struct sockaddr *)&a, alen) == 0);
	CHECK(listen(srv, 1) == 0);
	int cs[8], ok = 0, eagain = 0;
	for (int i = 0; i < 8; i++) {
		cs[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int r = connect(cs[i], (struct sockaddr *)&a, alen);
		if (r == 0)
			ok++;
		else if (errno == EAGAIN)
			eagain++;
	}
	printf("backlog 1: connected=%d EAGAIN=%d\n", ok, eagain);
	int s = accept(srv, NULL, NULL);
	CHECK(s >= 0);
	close(s);
	int late = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	T_ERRNO("connect after an accept", connect(late, (struct sockaddr *)&a, alen), 0);
	/* Closing the listener resets the pending connections. */
	close(srv);
	char c;
	T_ERRNO("pending client read after listener close", read(cs[1], &c, 1), ECONNRESET);
	T_ERRNO("then EOF", read(cs[1], &c, 1), 0);
	T_ERRNO("pending client write", send(cs[1], "x", 1, MSG_NOSIGNAL), EPIPE);
	for (int i = 0; i < 8; i++)
		close(cs[i]);
	close(late);
}

int main(void)
{
	path_names();
	abstract_names();
	errors();
	backlog();
	return t_done();
}
