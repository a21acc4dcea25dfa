/* AF_UNIX control messages: SCM_RIGHTS (a pipe and a file passed, several at once,
 * MSG_CMSG_CLOEXEC, MSG_CTRUNC when the buffer is short, MSG_PEEK, fds lost by read(2), over
 * stream/dgram/seqpacket), SCM_CREDENTIALS with SO_PASSCRED (defaults, explicit values, the
 * checks for unprivileged senders), SO_PEERCRED, and malformed control data. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

/* Sends `data` with the given fds (n of them) in one SCM_RIGHTS message. */
static ssize_t send_fds(int s, const char *data, size_t len, const int *fds, int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 16)];
	memset(ctl, 0, sizeof ctl);
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > 0) {
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(s, &mh, 0);
}

/* Receives into buf; fills fds (up to max) from SCM_RIGHTS; returns the byte count. */
static ssize_t recv_fds(int s, char *buf, size_t len, int *fds, int *nfds, size_t ctlsize, int flags,
			int *msg_flags)
{
	char ctl[512];
	memset(ctl, 0, sizeof ctl);
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctlsize ? ctl : NULL,
			     .msg_controllen = ctlsize };
	ssize_t r = recvmsg(s, &mh, flags);
	*nfds = 0;
	if (msg_flags)
		*msg_flags = mh.msg_flags;
	if (r < 0)
		return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + *nfds, CMSG_DATA(c), n * sizeof(int));
			*nfds += n;
		}
	}
	return r;
}

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void rights(int type)
{
	const char *n = type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" : "seqpacket";
	int sv[2];
	CHECK(socketpair(AF_UNIX, type, 0, sv) == 0);

	/* A pipe's write end and a file. */
	int p[2];
	CHECK(pipe(p) == 0);
	const char *path = t_tmp_path("scm");
	int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(f >= 0);
	CHECK(write(f, "file-data", 9) == 9);
	unlink(path);
	int two[2] = { p[1], f };
	T_EQ(send_fds(sv[0], "F", 1, two, 2), 1);
	close(p[1]);
	int base = open_fds();
	char buf[16] = { 0 };
	int got[16], ngot, mf;
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, CMSG_SPACE(sizeof(int) * 2), 0, &mf), 1);
	printf("%s: got %d fds, data [%s], CTRUNC=%d, new open fds=%d\n", n, ngot, buf, (mf & MSG_CTRUNC) != 0,
	       open_fds() - base);
	if (ngot == 2) {
		/* The passed pipe end writes into our pipe. */
		T_EQ(write(got[0], "via-pipe", 8), 8);
		memset(buf, 0, sizeof buf);
		T_EQ(read(p[0], buf, sizeof buf), 8);
		printf("%s: pipe [%s]\n", n, buf);
		/* The passed file shares the description (and its offset) with ours. */
		printf("%s: shared offset=%ld\n", n, (long)lseek(got[1], 0, SEEK_CUR));
		CHECK(lseek(f, 0, SEEK_SET) == 0);
		memset(buf, 0, sizeof buf);
		T_EQ(read(got[1], buf, 4), 4);
		printf("%s: file read [%s], offset seen by the original=%ld\n", n, buf, (long)lseek(f, 0, SEEK_CUR));
		printf("%s: cloexec without MSG_CMSG_CLOEXEC=%d\n", n, (fcntl(got[0], F_GETFD) & FD_CLOEXEC) != 0);
		struct stat a, b;
		CHECK(fstat(got[1], &a) == 0 && fstat(f, &b) == 0);
		printf("%s: same inode=%d\n", n, a.st_ino == b.st_ino && a.st_dev == b.st_dev);
		close(got[0]);
		close(got[1]);
	}

	/* MSG_CMSG_CLOEXEC. */
	T_EQ(send_fds(sv[0], "C", 1, &f, 1), 1);
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, 64, MSG_CMSG_CLOEXEC, NULL), 1);
	printf("%s: MSG_CMSG_CLOEXEC: fds=%d cloexec=%d\n", n, ngot, ngot == 1 && (fcntl(got[0], F_GETFD) & FD_CLOEXEC) != 0);
	if (ngot == 1)
		close(got[0]);

	/* A short control buffer: what fits is installed, the rest closed, MSG_CTRUNC. */
	int three[3] = { f, f, f };
	T_EQ(send_fds(sv[0], "T", 1, three, 3), 1);
	base = open_fds();
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, CMSG_LEN(sizeof(int) * 2), 0, &mf), 1);
	printf("%s: short control: fds=%d CTRUNC=%d new open fds=%d\n", n, ngot, (mf & MSG_CTRUNC) != 0, open_fds() - base);
	for (int i = 0; i < ngot; i++)
		close(got[i]);
	/* No control buffer at all. */
	T_EQ(send_fds(sv[0], "N", 1, &f, 1), 1);
	base = open_fds();
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, 0, 0, &mf), 1);
	printf("%s: no control buffer: fds=%d CTRUNC=%d new open fds=%d\n", n, ngot, (mf & MSG_CTRUNC) != 0, open_fds() - base);
	/* A control buffer smaller than a header. */
	T_EQ(send_fds(sv[0], "H", 1, &f, 1), 1);
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, 8, 0, &mf), 1);
	printf("%s: 8-byte control buffer: fds=%d CTRUNC=%d\n", n, ngot, (mf & MSG_CTRUNC) != 0);
	/* read(2) drops passed files. */
	T_EQ(send_fds(sv[0], "R", 1, &f, 1), 1);
	base = open_fds();
	T_EQ(read(sv[1], buf, sizeof buf), 1);
	printf("%s: read(2) of a message with fds: new open fds=%d\n", n, open_fds() - base);
	/* MSG_PEEK installs copies and leaves the message. */
	T_EQ(send_fds(sv[0], "P", 1, &f, 1), 1);
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, 64, MSG_PEEK, NULL), 1);
	printf("%s: peek fds=%d\n", n, ngot);
	if (ngot)
		close(got[0]);
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, 64, 0, NULL), 1);
	printf("%s: after peek fds=%d\n", n, ngot);
	if (ngot)
		close(got[0]);

	/* Passing a socket end itself, then using it. */
	int inner[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, inner) == 0);
	T_EQ(send_fds(sv[0], "S", 1, &inner[1], 1), 1);
	close(inner[1]);
	T_EQ(recv_fds(sv[1], buf, sizeof buf, got, &ngot, 64, 0, NULL), 1);
	if (ngot == 1) {
		T_EQ(write(got[0], "through", 7), 7);
		memset(buf, 0, sizeof buf);
		T_EQ(read(inner[0], buf, sizeof buf), 7);
		printf("%s: passed socket [%s]\n", n, buf);
		close(got[0]);
		printf("%s: EOF once the passed end is closed=%zd\n", n, read(inner[0], buf, 1));
	}
	close(inner[0]);
	/* Files still in flight when the receiver is closed are released. */
	int q[2];
	CHECK(pipe(q) == 0);
	T_EQ(send_fds(sv[0], "L", 1, &q[1], 1), 1);
	close(q[1]);
	close(sv[1]);
	printf("%s: pipe EOF after in-flight end dropped=%zd\n", n, read(q[0], buf, 1));
	close(q[0]);
	close(sv[0]);
	close(p[0]);
	close(f);
}

/* Stream: data of messages with fds is not merged across them. */
static void stream_boundaries(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int f = open("/dev/null", O_RDONLY);
	CHECK(write(sv[0], "ab", 2) == 2);
	CHECK(send_fds(sv[0], "cd", 2, &f, 1) == 2);
	CHECK(write(sv[0], "ef", 2) == 2);
	char buf[16] = { 0 };
	int got[4], ngot;
	ssize_t r = recv_fds(sv[1], buf, sizeof buf, got, &ngot, 64, 0, NULL);
	printf("stream: first recv=%zd [%s] fds=%d\n", r, buf, ngot);
	for (int i = 0; i < ngot; i++)
		close(got[i]);
	memset(buf, 0, sizeof buf);
	r = recv_fds(sv[1], buf, sizeof buf, got, &ngot, 64, 0, NULL);
	printf("stream: second recv=%zd [%s] fds=%d\n", r, buf, ngot);
	/* fds with no data are not sent on a stream. */
	T_EQ(send_fds(sv[0], "", 0, &f, 1), 0);
	T_ERRNO("nothing to read", recv_fds(sv[1], buf, sizeof buf, got, &ngot, 64, MSG_DONTWAIT, NULL), EAGAIN);
	close(f);
	close(sv[0]);
	close(sv[1]);
}

static void bad_control(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	char ctl[CMSG_SPACE(sizeof(int) * 300)];
	memset(ctl, 0, sizeof ctl);
	struct iovec iov = { "x", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl };
	struct cmsghdr *c = (struct cmsghdr *)ctl;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;

	c->cmsg_len = CMSG_LEN(sizeof(int));
	*(int *)CMSG_DATA(c) = 999;
	mh.msg_controllen = CMSG_SPACE(sizeof(int));
	T_ERRNO("SCM_RIGHTS bad fd", sendmsg(sv[0], &mh, 0), EBADF);
	*(int *)CMSG_DATA(c) = -1;
	T_ERRNO("SCM_RIGHTS fd -1", sendmsg(sv[0], &mh, 0), EBADF);
	*(int *)CMSG_DATA(c) = 0;
	c->cmsg_len = CMSG_SPACE(sizeof(int)) + 1;
	T_ERRNO("cmsg_len beyond controllen", sendmsg(sv[0], &mh, 0), EINVAL);
	c->cmsg_len = 8;
	T_ERRNO("cmsg_len below header", sendmsg(sv[0], &mh, 0), EINVAL);
	c->cmsg_len = CMSG_LEN(0);
	T_ERRNO("SCM_RIGHTS with no fds", sendmsg(sv[0], &mh, 0), 0);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 99;
	T_ERRNO("unknown cmsg type", sendmsg(sv[0], &mh, 0), EINVAL);
	c->cmsg_level = 42;
	T_ERRNO("other cmsg level ignored", sendmsg(sv[0], &mh, 0), 0);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	int *fds = (int *)CMSG_DATA(c);
	for (int i = 0; i < 300; i++)
		fds[i] = 0;
	c->cmsg_len = CMSG_LEN(sizeof(int) * 254);
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * 254);
	T_ERRNO("254 fds", sendmsg(sv[0], &mh, 0), EINVAL);
	c->cmsg_len = CMSG_LEN(sizeof(int) * 253);
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * 253);
	T_ERRNO("253 fds", sendmsg(sv[0], &mh, 0), 0);
	mh.msg_controllen = 8;
	T_ERRNO("controllen below a header is ignored", sendmsg(sv[0], &mh, 0), 0);
	mh.msg_control = (void *)8;
	mh.msg_controllen = 64;
	T_ERRNO("control bad pointer", sendmsg(sv[0], &mh, 0), EFAULT);
	mh.msg_control = ctl;
	mh.msg_controllen = 1 << 30;
	T_ERRNO("huge controllen", sendmsg(sv[0], &mh, 0), ENOBUFS);
	/* SCM_CREDENTIALS with the wrong length. */
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred) - 1);
	mh.msg_controllen = CMSG_SPACE(sizeof(struct ucred));
	T_ERRNO("SCM_CREDENTIALS short", sendmsg(sv[0], &mh, 0), EINVAL);
	/* Drain, counting what arrived: every successful send above. */
	int n = 0;
	char buf[4];
	int got[300], ngot;
	char big[CMSG_SPACE(sizeof(int) * 300)];
	for (;;) {
		struct iovec ri = { buf, sizeof buf };
		struct msghdr rm = { .msg_iov = &ri, .msg_iovlen = 1, .msg_control = big, .msg_controllen = sizeof big };
		if (recvmsg(sv[1], &rm, MSG_DONTWAIT) < 0)
			break;
		n++;
		ngot = 0;
		for (struct cmsghdr *k = CMSG_FIRSTHDR(&rm); k; k = CMSG_NXTHDR(&rm, k))
			if (k->cmsg_type == SCM_RIGHTS) {
				int m = (k->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				memcpy(got, CMSG_DATA(k), m * sizeof(int));
				ngot += m;
			}
		for (int i = 0; i < ngot; i++)
			close(got[i]);
		if (ngot)
			printf("message %d carried %d fds\n", n, ngot);
	}
	printf("messages sent with odd control data: %d\n", n);
	close(sv[0]);
	close(sv[1]);
}

static int getcred(int s, struct ucred *uc)
{
	socklen_t l = sizeof *uc;
	return getsockopt(s, SOL_SOCKET, SO_PEERCRED, uc, &l);
}

/* Receives one byte and the SCM_CREDENTIALS that came with it. */
static int recv_cred(int s, struct ucred *uc)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	if (recvmsg(s, &mh, 0) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS || c->cmsg_len != CMSG_LEN(sizeof *uc))
		return 0;
	memcpy(uc, CMSG_DATA(c), sizeof *uc);
	return 1;
}

static int send_cred(int s, pid_t pid, uid_t uid, gid_t gid)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { "c", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred uc = { pid, uid, gid };
	memcpy(CMSG_DATA(c), &uc, sizeof uc);
	return sendmsg(s, &mh, 0);
}

static int creds_unprivileged(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	int on = 1;
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
	CHECK(setgid(1234) == 0 && setuid(4321) == 0);
	T_ERRNO("own creds", send_cred(sv[0], getpid(), 4321, 1234), 0);
	T_ERRNO("other uid", send_cred(sv[0], getpid(), 0, 1234), EPERM);
	T_ERRNO("other gid", send_cred(sv[0], getpid(), 4321, 0), EPERM);
	T_ERRNO("other pid", send_cred(sv[0], getppid(), 4321, 1234), EPERM);
	struct ucred uc;
	int r = recv_cred(sv[1], &uc);
	printf("unprivileged: got=%d uid=%d gid=%d pid_ok=%d\n", r, uc.uid, uc.gid, uc.pid == getpid());
	CHECK(getcred(sv[0], &uc) == 0);
	printf("unprivileged: SO_PEERCRED of a pair made as root: uid=%d gid=%d\n", uc.uid, uc.gid);
	int sv2[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) == 0);
	CHECK(getcred(sv2[0], &uc) == 0);
	printf("unprivileged: SO_PEERCRED of a new pair: uid=%d gid=%d pid_ok=%d\n", uc.uid, uc.gid, uc.pid == getpid());
	return t_failures;
}

static void creds(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct ucred uc;
	T_ERRNO("SO_PEERCRED", getcred(sv[0], &uc), 0);
	printf("SO_PEERCRED: pid_ok=%d uid=%d gid=%d\n", uc.pid == getpid(), uc.uid, uc.gid);
	socklen_t l = 4;
	T_ERRNO("SO_PEERCRED short", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l), 0);
	printf("SO_PEERCRED short len=%d\n", (int)l);
	int v = -1;
	l = sizeof v;
	CHECK(getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, &l) == 0);
	printf("SO_PASSCRED default=%d\n", v);
	/* Without SO_PASSCRED, no credentials arrive. */
	CHECK(write(sv[0], "a", 1) == 1);
	printf("without SO_PASSCRED: got=%d\n", recv_cred(sv[1], &uc));
	int on = 5;
	T_ERRNO("SO_PASSCRED on", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
	CHECK(getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, &l) == 0);
	printf("SO_PASSCRED now=%d\n", v);
	/* The sender's own credentials by default. */
	CHECK(write(sv[0], "b", 1) == 1);
	memset(&uc, 0x7f, sizeof uc);
	int r = recv_cred(sv[1], &uc);
	printf("default creds: got=%d pid_ok=%d uid=%d gid=%d\n", r, uc.pid == getpid(), uc.uid, uc.gid);
	/* Explicit credentials: root may claim others. */
	T_ERRNO("explicit creds", send_cred(sv[0], getpid(), 1000, 2000), 0);
	r = recv_cred(sv[1], &uc);
	printf("explicit creds: got=%d pid_ok=%d uid=%d gid=%d\n", r, uc.pid == getpid(), uc.uid, uc.gid);
	T_ERRNO("creds uid -1", send_cred(sv[0], getpid(), -1, 0), EINVAL);
	T_ERRNO("creds no such pid", send_cred(sv[0], 0x3ffffff, 0, 0), ESRCH);
	/* Writes from different credentials are not merged in one read. */
	CHECK(write(sv[0], "x", 1) == 1);
	CHECK(send_cred(sv[0], getpid(), 7, 7) == 1);
	char buf[8];
	printf("recv across creds=%zd\n", recv(sv[1], buf, sizeof buf, 0));
	CHECK(recv(sv[1], buf, sizeof buf, 0) == 1);
	close(sv[0]);
	close(sv[1]);

	/* Data sent while neither side had SO_PASSCRED carries no credentials. */
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	CHECK(write(sv[0], "e", 1) == 1);
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
	CHECK(write(sv[0], "l", 1) == 1);
	r = recv_cred(sv[1], &uc);
	printf("sent before SO_PASSCRED: got=%d pid=%d uid=%d gid=%d\n", r, uc.pid, uc.uid, uc.gid);
	r = recv_cred(sv[1], &uc);
	printf("sent after SO_PASSCRED: got=%d pid_ok=%d uid=%d\n", r, uc.pid == getpid(), uc.uid);
	close(sv[0]);
	close(sv[1]);

	/* Connected sockets: each side sees the other's credentials at connect/listen time. */
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	CHECK(bind(srv, (struct sockaddr *)&a, sizeof(sa_family_t)) == 0);
	socklen_t al = sizeof a;
	CHECK(getsockname(srv, (struct sockaddr *)&a, &al) == 0);
	CHECK(listen(srv, 1) == 0);
	T_ERRNO("SO_PEERCRED of a listener", getcred(srv, &uc), 0);
	printf("listener: pid_ok=%d uid=%d\n", uc.pid == getpid(), uc.uid);
	int pr[2];
	CHECK(pipe(pr) == 0);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		CHECK(setgid(55) == 0 && setuid(66) == 0);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
		struct ucred pc;
		CHECK(getcred(c, &pc) == 0);
		printf("client sees server: uid=%d gid=%d pid_is_parent=%d\n", pc.uid, pc.gid, pc.pid == getppid());
		char b;
		CHECK(write(pr[1], "k", 1) == 1);
		CHECK(read(c, &b, 1) == 0);
		_exit(0);
	}
	int s = accept(srv, NULL, NULL);
	CHECK(s >= 0);
	char b;
	CHECK(read(pr[0], &b, 1) == 1);
	CHECK(getcred(s, &uc) == 0);
	printf("server sees client: uid=%d gid=%d pid_is_child=%d\n", uc.uid, uc.gid, uc.pid == child);
	close(s);
	t_wait(child);
	close(srv);

	/* SO_PASSCRED on an unbound socket autobinds it at connect/send. */
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(setsockopt(d, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
	srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(srv, (struct sockaddr *)&a, sizeof(sa_family_t)) == 0);
	al = sizeof a;
	CHECK(getsockname(srv, (struct sockaddr *)&a, &al) == 0);
	CHECK(sendto(d, "z", 1, 0, (struct sockaddr *)&a, al) == 1);
	struct sockaddr_un from;
	socklen_t fl = sizeof from;
	CHECK(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl) == 1);
	printf("passcred sender autobound: from len=%d abstract=%d\n", (int)fl, fl > 2 && from.sun_path[0] == 0);
	close(d);
	close(srv);
	close(sv[0]);
	close(sv[1]);

	printf("unprivileged child: %s\n", t_status(t_in_child(creds_unprivileged)));
}

int main(void)
{
	rights(SOCK_STREAM);
	rights(SOCK_DGRAM);
	rights(SOCK_SEQPACKET);
	stream_boundaries();
	bad_control();
	creds();
	return t_done();
}
