/* AF_UNIX between processes: a forked server accepting several clients over a /tmp path, a
 * blocking accept/connect/read pair, blocked calls interrupted by signals (EINTR without
 * SA_RESTART, transparently restarted with it), and a socket inherited across fork. */
#include "test_util.h"
#include <fcntl.h>
#include <stddef.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t mkaddr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static volatile sig_atomic_t alarms;
/* The handler tells a waiting child that the signal came (so that the child acts only once
 * the parent's call has been interrupted). */
static int fired[2];

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	int e = errno;
	(void)!write(fired[1], "f", 1);
	errno = e;
}

/* A fresh notification pipe (earlier signals may have left bytes in the old one). */
static void new_fired(void)
{
	if (fired[0] > 0) {
		close(fired[0]);
		close(fired[1]);
	}
	CHECK(pipe(fired) == 0);
	CHECK(fcntl(fired[1], F_SETFL, O_NONBLOCK) == 0);
}

/* In a child: waits until the parent's handler ran. */
static void wait_fired(void)
{
	char c;
	CHECK(read(fired[0], &c, 1) == 1);
}

static void set_handler(int restart)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
}

/* Arms a one-shot 50 ms real-time timer. */
static void alarm_soon(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void server_and_clients(void)
{
	struct sockaddr_un a;
	const char *path = t_tmp_path("fork");
	unlink(path);
	socklen_t al = mkaddr(&a, path);
	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t srv = fork();
	CHECK(srv >= 0);
	if (srv == 0) {
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK(bind(l, (struct sockaddr *)&a, al) == 0);
		CHECK(listen(l, 8) == 0);
		CHECK(write(ready[1], "r", 1) == 1);
		/* Echo a line back upper-cased, for three clients in turn. */
		for (int i = 0; i < 3; i++) {
			int s = accept(l, NULL, NULL);
			CHECK(s >= 0);
			char buf[64];
			ssize_t n;
			while ((n = read(s, buf, sizeof buf)) > 0) {
				for (ssize_t k = 0; k < n; k++)
					if (buf[k] >= 'a' && buf[k] <= 'z')
						buf[k] -= 32;
				t_write_all(s, buf, n);
			}
			close(s);
		}
		_exit(0);
	}
	char r;
	CHECK(read(ready[0], &r, 1) == 1);
	pid_t kids[3];
	for (int i = 0; i < 3; i++) {
		kids[i] = fork();
		CHECK(kids[i] >= 0);
		if (kids[i] == 0) {
			int c = socket(AF_UNIX, SOCK_STREAM, 0);
			CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
			char msg[32], want[32] = { 0 }, back[32] = { 0 };
			int len = snprintf(msg, sizeof msg, "client %d says hi", i);
			snprintf(want, sizeof want, "CLIENT %d SAYS HI", i);
			t_write_all(c, msg, len);
			shutdown(c, SHUT_WR);
			t_read_all(c, back, len);
			char extra;
			_exit(strcmp(back, want) == 0 && read(c, &extra, 1) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < 3; i++)
		printf("client %d: %s\n", i, t_status(t_wait(kids[i])));
	printf("server: %s\n", t_status(t_wait(srv)));
	unlink(path);
}

static void interrupted(void)
{
	int sv[2];
	char b;
	new_fired();
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

	set_handler(0);
	alarms = 0;
	alarm_soon();
	T_ERRNO("read interrupted", read(sv[0], &b, 1), EINTR);
	printf("alarms=%d\n", (int)alarms);
	alarm_soon();
	T_ERRNO("recvmsg interrupted", recv(sv[0], &b, 1, 0), EINTR);

	/* With SA_RESTART the read resumes and gets the child's byte. */
	set_handler(1);
	alarms = 0;
	new_fired();
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		wait_fired();
		CHECK(write(sv[1], "R", 1) == 1);
		_exit(0);
	}
	alarm_soon();
	T_EQ(read(sv[0], &b, 1), 1);
	printf("restarted read got [%c] alarms=%d\n", b, (int)alarms);
	t_wait(pid);

	/* accept restarts too; without SA_RESTART it fails with EINTR. */
	struct sockaddr_un a;
	socklen_t al = mkaddr(&a, t_tmp_path("forkacc"));
	unlink(a.sun_path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, al) == 0);
	CHECK(listen(l, 1) == 0);
	set_handler(0);
	alarm_soon();
	T_ERRNO("accept interrupted", accept(l, NULL, NULL), EINTR);
	set_handler(1);
	alarms = 0;
	new_fired();
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		wait_fired();
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK(connect(c, (struct sockaddr *)&a, al) == 0);
		_exit(0);
	}
	alarm_soon();
	int s = accept(l, NULL, NULL);
	printf("restarted accept ok=%d alarms=%d\n", s >= 0, (int)alarms);
	t_wait(pid);
	close(s);
	close(l);
	unlink(a.sun_path);

	/* A blocked send on a full socket is interrupted too. */
	set_handler(0);
	static char chunk[65536];
	int fl = 0;
	for (;;) {
		ssize_t w = send(sv[1], chunk, sizeof chunk, MSG_DONTWAIT);
		if (w < 0)
			break;
		fl++;
	}
	alarm_soon();
	T_ERRNO("blocked send interrupted", send(sv[1], chunk, sizeof chunk, 0), EINTR);
	/* SO_RCVTIMEO: a timed-out read fails with EAGAIN. */
	struct timeval tv = { 0, 30000 };
	T_ERRNO("SO_RCVTIMEO", setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	long long t0 = t_now_ns(CLOCK_MONOTONIC);
	T_ERRNO("read with SO_RCVTIMEO", read(sv[1], &b, 1), EAGAIN);
	printf("waited>=30ms=%d\n", t_now_ns(CLOCK_MONOTONIC) - t0 >= 30000000LL);
	struct timeval got;
	socklen_t gl = sizeof got;
	CHECK(getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &got, &gl) == 0);
	/* Linux rounds to its clock tick. */
	printf("SO_RCVTIMEO about 30ms=%d len=%d\n", got.tv_sec == 0 && got.tv_usec >= 30000 && got.tv_usec <= 40000, (int)gl);
	tv.tv_usec = 2000000;
	T_ERRNO("SO_RCVTIMEO bad usec", setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), EDOM);
	T_ERRNO("SO_SNDTIMEO short", setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, 8), EINVAL);
	close(sv[0]);
	close(sv[1]);
}

/* Both processes hold the same socket after fork: the peer sees EOF only when both close. */
static void inherited(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	int go[2];
	CHECK(pipe(go) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char b;
		CHECK(read(go[0], &b, 1) == 1);
		CHECK(send(sv[0], "from child", 10, 0) == 10);
		_exit(0);
	}
	close(sv[0]);
	CHECK(write(go[1], "g", 1) == 1);
	char buf[16] = { 0 };
	T_EQ(recv(sv[1], buf, sizeof buf, 0), 10);
	printf("inherited: [%s]\n", buf);
	t_wait(pid);
	printf("inherited: EOF after both closed=%zd\n", recv(sv[1], buf, sizeof buf, 0));
	close(sv[1]);
}

int main(void)
{
	server_and_clients();
	interrupted();
	inherited();
	return t_done();
}
