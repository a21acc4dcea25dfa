/* Job control on a controlling pty: a background process group reading gets SIGTTIN (EIO when
 * it ignores or blocks it, or when its group is orphaned), writing with TOSTOP or changing the
 * attributes gets SIGTTOU; the default action stops it until the shell (the session leader)
 * moves it to the foreground with tcsetpgrp and continues it. */
#include "pty_util.h"

static int m, s;
static volatile sig_atomic_t got;
static int report[2];

static void on_sig(int sig)
{
	got = sig;
}

static void handle(int sig, void (*h)(int))
{
	struct sigaction sa = { 0 };
	sa.sa_handler = h;
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void block(int sig, int how)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	CHECK(sigprocmask(how, &set, NULL) == 0);
}

/* A background group: every check prints from here. */
static int background(void)
{
	char buf[16];
	pid_t fg = 0;
	T_ERRNO("TIOCGPGRP from the background", ioctl(s, TIOCGPGRP, &fg), 0);
	printf("foreground is the parent's group: %d\n", fg == getppid());

	handle(SIGTTIN, on_sig);
	got = 0;
	T_ERRNO("background read, SIGTTIN handled", read(s, buf, sizeof buf), EINTR);
	printf("handler got %s\n", got ? t_signame(got) : "nothing");
	handle(SIGTTIN, SIG_IGN);
	T_ERRNO("background read, SIGTTIN ignored", read(s, buf, sizeof buf), EIO);
	handle(SIGTTIN, on_sig);
	block(SIGTTIN, SIG_BLOCK);
	T_ERRNO("background read, SIGTTIN blocked", read(s, buf, sizeof buf), EIO);
	block(SIGTTIN, SIG_UNBLOCK);

	handle(SIGTTOU, on_sig);
	got = 0;
	T_ERRNO("background write without TOSTOP", write(s, "w", 1), 0);
	printf("handler got %s\n", got ? t_signame(got) : "nothing");
	handle(SIGTTOU, SIG_IGN);
	p_lflag(s, TOSTOP, 0);
	handle(SIGTTOU, on_sig);
	got = 0;
	T_ERRNO("background write with TOSTOP", write(s, "x", 1), EINTR);
	printf("handler got %s\n", got ? t_signame(got) : "nothing");
	block(SIGTTOU, SIG_BLOCK);
	T_ERRNO("background write with TOSTOP, SIGTTOU blocked", write(s, "y", 1), 0);
	block(SIGTTOU, SIG_UNBLOCK);
	handle(SIGTTOU, SIG_IGN);
	T_ERRNO("background write with TOSTOP, SIGTTOU ignored", write(s, "z", 1), 0);
	T_ERRNO("tcsetpgrp to itself, SIGTTOU ignored", tcsetpgrp(s, getpgrp()), 0);
	T_ERRNO("tcsetpgrp back", tcsetpgrp(s, getppid()), 0);
	handle(SIGTTOU, on_sig);
	struct termios t;
	CHECK(tcgetattr(s, &t) == 0);
	t.c_lflag &= ~TOSTOP;
	got = 0;
	T_ERRNO("tcsetattr from the background, SIGTTOU handled", tcsetattr(s, TCSANOW, &t),
		EINTR);
	printf("handler got %s\n", got ? t_signame(got) : "nothing");
	handle(SIGTTOU, SIG_IGN);
	CHECK(tcsetattr(s, TCSANOW, &t) == 0);
	return t_failures ? 1 : 0;
}

/* A member of an orphaned process group. */
static int orphan(pid_t first)
{
	alarm(20);
	long long start = t_now_ns(CLOCK_MONOTONIC);
	while (getppid() == first) {
		t_deadline(start, 10, "the orphan's parent to exit");
		usleep(1000);
	}
	CHECK(setpgid(0, 0) == 0);
	char buf[8];
	int codes[3];
	errno = 0;
	codes[0] = read(s, buf, sizeof buf) < 0 ? errno : 0;
	struct termios t;
	CHECK(tcgetattr(s, &t) == 0);
	errno = 0;
	codes[1] = tcsetattr(s, TCSANOW, &t) < 0 ? errno : 0;
	errno = 0;
	codes[2] = write(s, "o", 1) < 0 ? errno : 0;
	CHECK(write(report[1], codes, sizeof codes) == sizeof codes);
	return 0;
}

static int session(void)
{
	/* Out of the runner's process group: never outlive a hung test. */
	alarm(30);
	CHECK(setsid() == getpid());
	CHECK(ioctl(s, TIOCSCTTY, 0) == 0);

	pid_t b = fork();
	CHECK(b >= 0);
	if (b == 0) {
		CHECK(setpgid(0, 0) == 0);
		_exit(background());
	}
	setpgid(b, b);
	printf("background child: %s\n", t_status(t_wait(b)));

	/* The default action stops the reader; in the foreground it reads. */
	int gate[2];
	CHECK(pipe(gate) == 0);
	b = fork();
	CHECK(b >= 0);
	if (b == 0) {
		CHECK(setpgid(0, 0) == 0);
		char c;
		CHECK(read(gate[0], &c, 1) == 1);
		char buf[16];
		ssize_t r = read(s, buf, sizeof buf);
		_exit(r == 3 && !memcmp(buf, "fg\n", 3) ? 0 : 1);
	}
	setpgid(b, b);
	CHECK(write(gate[1], "g", 1) == 1);
	int st;
	CHECK(waitpid(b, &st, WUNTRACED) == b);
	printf("default SIGTTIN: %s\n", t_status(st));
	handle(SIGTTOU, SIG_IGN);
	T_ERRNO("tcsetpgrp to the stopped group", tcsetpgrp(s, b), 0);
	printf("tcgetpgrp is the child: %d\n", tcgetpgrp(s) == b);
	CHECK(kill(b, SIGCONT) == 0);
	CHECK(write(report[1], "w", 1) == 1);
	printf("foreground reader: %s\n", t_status(t_wait(b)));
	T_ERRNO("tcsetpgrp back", tcsetpgrp(s, getpgrp()), 0);
	T_ERRNO("tcsetpgrp to a group of no process", tcsetpgrp(s, 0x3ffffff0), ESRCH);
	T_ERRNO("tcsetpgrp to a negative group", tcsetpgrp(s, -5), EINVAL);
	handle(SIGTTOU, SIG_DFL);

	/* An orphaned group gets EIO instead of a stop. */
	p_lflag(s, TOSTOP, 0);
	pid_t d = fork();
	CHECK(d >= 0);
	if (d == 0) {
		pid_t dpid = getpid();
		pid_t e = fork();
		CHECK(e >= 0);
		if (e == 0)
			_exit(orphan(dpid));
		_exit(0);
	}
	t_wait(d);
	int codes[3];
	CHECK(p_wait(report[0], POLLIN, 10000) & POLLIN);
	CHECK(read(report[0], codes, sizeof codes) == sizeof codes);
	printf("orphaned read: %s, tcsetattr: %s, write with TOSTOP: %s\n", t_errname(codes[0]),
	       t_errname(codes[1]), t_errname(codes[2]));
	return t_failures ? 1 : 0;
}

int main(void)
{
	m = p_open_pair(&s);
	CHECK(pipe(report) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0)
		_exit(session());
	char w;
	CHECK(p_wait(report[0], POLLIN, 20000) & POLLIN);
	CHECK(read(report[0], &w, 1) == 1);
	t_write_all(m, "fg\n", 3);
	printf("session: %s\n", t_status(t_wait(c)));
	/* What reached the master: the background writes that were allowed, the echo of "fg". */
	char buf[64];
	int n = p_read_upto(m, buf, 7);
	p_show("master read", buf, n);
	return t_done();
}
