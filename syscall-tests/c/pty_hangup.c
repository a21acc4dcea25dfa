/* Hangups: the master before any slave opens, after every slave closed (EIO, POLLHUP) and with
 * a slave reopened; closing the master hangs the slave up (read EOF, write and ioctls EIO),
 * sends SIGHUP/SIGCONT to the session leader only (not to a foreground group without it) and
 * takes the controlling terminal away; a session leader's exit sends SIGHUP to the foreground
 * group; /dev/tty is ENXIO without a controlling terminal. */
#include "pty_util.h"

static int m, s;
static int ready[2], go[2];

static const char *next_signal(const sigset_t *set)
{
	struct timespec ts = { 5, 0 };
	int sig;
	do {
		sig = sigtimedwait(set, NULL, &ts);
	} while (sig < 0 && errno == EINTR);
	return sig > 0 ? t_signame(sig) : "nothing";
}

static int no_ctty(void)
{
	alarm(30); /* out of the runner's process group: never outlive a hung test */
	CHECK(setsid() == getpid());
	errno = 0;
	int r = open("/dev/tty", O_RDWR);
	printf("/dev/tty in a new session: %s\n", r >= 0 ? "OK" : t_errname(errno));
	return 0;
}

/* Opens the slave without O_NOCTTY as a session leader: it becomes the controlling terminal. */
static int leader(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCONT);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	alarm(30); /* out of the runner's process group: never outlive a hung test */
	CHECK(setsid() == getpid());
	close(s);
	s = open(ptsname(m), O_RDWR);
	CHECK(s >= 0);
	close(m);
	pid_t sid = 0;
	T_ERRNO("TIOCGSID after a plain open", ioctl(s, TIOCGSID, &sid), 0);
	printf("it is my controlling terminal: %d\n", sid == getpid());
	int t = open("/dev/tty", O_RDWR);
	T_TRUE(t >= 0);
	/* Another group of the session in the foreground. */
	int fpipe[2];
	CHECK(pipe(fpipe) == 0);
	pid_t f = fork();
	CHECK(f >= 0);
	if (f == 0) {
		CHECK(setpgid(0, 0) == 0);
		char b;
		CHECK(read(fpipe[0], &b, 1) == 1);
		sigset_t pend;
		CHECK(sigpending(&pend) == 0);
		printf("foreground group without the leader after hangup: HUP=%d CONT=%d\n",
		       sigismember(&pend, SIGHUP), sigismember(&pend, SIGCONT));
		_exit(0);
	}
	setpgid(f, f);
	signal(SIGTTOU, SIG_IGN);
	CHECK(tcsetpgrp(s, f) == 0);
	CHECK(write(ready[1], "r", 1) == 1);
	/* The parent closes the master. */
	printf("leader after hangup: %s", next_signal(&set));
	printf(", %s\n", next_signal(&set));
	CHECK(write(fpipe[1], "c", 1) == 1);
	t_wait(f);
	char buf[8];
	T_ERRNO("slave read after hangup (EOF)", read(s, buf, sizeof buf), 0);
	T_ERRNO("slave write after hangup", write(s, "x", 1), EIO);
	struct termios tio;
	T_ERRNO("tcgetattr after hangup", tcgetattr(s, &tio), EIO);
	errno = 0;
	int tty = isatty(s);
	printf("isatty after hangup: %d %s\n", tty, t_errname(errno));
	printf("poll after hangup: %#x\n", p_wait(s, POLLIN | POLLOUT, 0));
	T_ERRNO("/dev/tty descriptor read after hangup", read(t, buf, sizeof buf), 0);
	T_ERRNO("/dev/tty after hangup", open("/dev/tty", O_RDWR), ENXIO);
	return t_failures ? 1 : 0;
}

/* A session leader with a foreground member exits: the member gets SIGHUP. */
static int leader_exits(void)
{
	alarm(30); /* out of the runner's process group: never outlive a hung test */
	CHECK(setsid() == getpid());
	CHECK(ioctl(s, TIOCSCTTY, 0) == 0);
	pid_t f = fork();
	CHECK(f >= 0);
	if (f == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
		CHECK(write(ready[1], "r", 1) == 1);
		const char *got = next_signal(&set);
		errno = 0;
		int r = open("/dev/tty", O_RDWR);
		int e = r < 0 ? errno : 0;
		char line[64];
		int n = snprintf(line, sizeof line, "%s %s", got, t_errname(e));
		CHECK(write(ready[1], line, n) == n);
		_exit(0);
	}
	char b;
	CHECK(read(go[0], &b, 1) == 1);
	return 0;
}

int main(void)
{
	printf("no controlling terminal: %s\n", t_status(t_in_child(no_ctty)));

	/* Before the slave was ever opened. */
	m = p_open_pair(NULL);
	char buf[64];
	printf("master poll, slave never opened: %#x\n", p_wait(m, POLLIN | POLLOUT, 0));
	CHECK(fcntl(m, F_SETFL, O_NONBLOCK) == 0);
	T_ERRNO("master read, slave never opened", read(m, buf, sizeof buf), EAGAIN);
	T_ERRNO("master write, slave never opened", write(m, "ab\n", 3), 0);

	/* Open and close the slave: the master reads the echo, then EIO. */
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	CHECK(p_wait(s, POLLIN, 2000) & POLLIN);
	int n = -1;
	CHECK(ioctl(s, FIONREAD, &n) == 0);
	printf("slave FIONREAD, input written before it opened: %d\n", n);
	close(s);
	n = p_read_upto(m, buf, 4);
	p_show("echo of input written before the slave opened", buf, n);
	printf("master poll, slave closed: %#x\n", p_wait(m, POLLIN | POLLOUT, 0));
	T_ERRNO("master read, slave closed", read(m, buf, sizeof buf), EIO);
	T_ERRNO("master write, slave closed", write(m, "cd\n", 3), 0);
	CHECK(fcntl(m, F_SETFL, 0) == 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	n = read(s, buf, sizeof buf);
	p_show("first line", buf, n);
	n = read(s, buf, sizeof buf);
	p_show("second line", buf, n);
	printf("master poll, slave open again: %#x\n", p_wait(m, POLLIN | POLLOUT, 100));
	p_expect("echo while the slave was closed", m, 4);

	/* Closing the master hangs up the session. */
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0)
		_exit(leader());
	CHECK(read(ready[0], buf, 1) == 1);
	close(m);
	printf("leader: %s\n", t_status(t_wait(c)));
	close(s);

	/* A session leader's exit. */
	m = p_open_pair(&s);
	c = fork();
	CHECK(c >= 0);
	if (c == 0)
		_exit(leader_exits());
	CHECK(read(ready[0], buf, 1) == 1);
	CHECK(write(go[1], "x", 1) == 1);
	t_wait(c);
	CHECK(p_wait(ready[0], POLLIN, 10000) & POLLIN);
	n = read(ready[0], buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n] = 0;
	printf("foreground member after the leader exited: %s\n", buf);
	return t_done();
}
