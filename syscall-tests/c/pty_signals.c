/* Controlling terminals and ISIG: a child that makes a pty its controlling terminal (setsid +
 * TIOCSCTTY) gets SIGINT/SIGQUIT/SIGTSTP from ^C/^\/^Z typed on the master, with echo and
 * input flushing (or not, with NOFLSH); TIOCGPGRP/TIOCGSID/tcgetpgrp, /dev/tty, TIOCSCTTY
 * from another session, TIOCNOTTY. */
#include "pty_util.h"
#include <sys/stat.h>

static int m, s;
static int ready[2], go[2];

static void tell(void)
{
	CHECK(write(ready[1], "r", 1) == 1);
}

static void await(void)
{
	char b;
	CHECK(read(go[0], &b, 1) == 1);
}

/* Waits up to 5 s for one of the blocked signals in `set`. */
static const char *next_signal(const sigset_t *set)
{
	struct timespec ts = { 5, 0 };
	int sig;
	do {
		sig = sigtimedwait(set, NULL, &ts);
	} while (sig < 0 && errno == EINTR);
	return sig > 0 ? t_signame(sig) : "nothing";
}

static int steal_child(void)
{
	alarm(30); /* out of the runner's process group: never outlive a hung test */
	CHECK(setsid() == getpid());
	errno = 0;
	int r = ioctl(s, TIOCSCTTY, 0);
	printf("TIOCSCTTY from another session: %s\n", r == 0 ? "OK" : t_errname(errno));
	return 0;
}

static int session_child(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTSTP);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCONT);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	alarm(30); /* out of the runner's process group: never outlive a hung test */
	CHECK(setsid() == getpid());
	T_ERRNO("/dev/tty before TIOCSCTTY", open("/dev/tty", O_RDWR), ENXIO);
	pid_t pg;
	T_ERRNO("TIOCGPGRP of a tty that is not ours", ioctl(s, TIOCGPGRP, &pg), ENOTTY);
	T_ERRNO("TIOCSCTTY", ioctl(s, TIOCSCTTY, 0), 0);
	T_ERRNO("TIOCSCTTY again", ioctl(s, TIOCSCTTY, 0), 0);
	pg = 0;
	T_ERRNO("TIOCGPGRP", ioctl(s, TIOCGPGRP, &pg), 0);
	printf("foreground group is mine: %d\n", pg == getpgrp());
	pid_t sid = 0;
	T_ERRNO("TIOCGSID", ioctl(s, TIOCGSID, &sid), 0);
	printf("session is mine: %d\n", sid == getpid());
	sid = 0;
	T_ERRNO("TIOCGSID on master", ioctl(m, TIOCGSID, &sid), 0);
	printf("master reports my session: %d\n", sid == getpid());
	printf("tcgetpgrp(master) is mine: %d\n", tcgetpgrp(m) == getpgrp());
	int t = open("/dev/tty", O_RDWR);
	T_TRUE(t >= 0);
	struct stat a, b;
	CHECK(fstat(t, &a) == 0 && fstat(s, &b) == 0);
	printf("/dev/tty is the slave: %d\n", a.st_rdev == b.st_rdev);
	char link[64], fdp[64];
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", t);
	ssize_t ln = readlink(fdp, link, sizeof link - 1);
	CHECK(ln > 0);
	link[ln] = 0;
	printf("/dev/tty link: %s\n", link);
	printf("another session's TIOCSCTTY: %s\n", t_status(t_in_child(steal_child)));

	/* ^C flushes pending input and raises SIGINT. */
	tell();
	await();
	printf("after ^C: %s\n", next_signal(&set));
	char buf[64];
	ssize_t r = read(s, buf, sizeof buf);
	p_show("read after ^C", buf, r > 0 ? r : 0);
	tell();
	await();
	printf("after ^\\: %s\n", next_signal(&set));
	printf("after ^Z: %s\n", next_signal(&set));
	/* NOFLSH keeps the input. */
	p_lflag(s, NOFLSH, 0);
	tell();
	await();
	printf("after ^C with NOFLSH: %s\n", next_signal(&set));
	r = read(s, buf, sizeof buf);
	p_show("read with NOFLSH", buf, r > 0 ? r : 0);
	/* Without ISIG the characters are data. */
	p_lflag(s, 0, ISIG | NOFLSH);
	tell();
	await();
	r = read(s, buf, sizeof buf);
	p_show("read without ISIG", buf, r > 0 ? r : 0);
	sigset_t pend;
	CHECK(sigpending(&pend) == 0);
	printf("nothing pending without ISIG: %d\n", !sigismember(&pend, SIGINT));
	p_lflag(s, ISIG, 0);
	/* A changed VINTR. */
	struct termios tio;
	CHECK(tcgetattr(s, &tio) == 0);
	tio.c_cc[VINTR] = 'K';
	CHECK(tcsetattr(s, TCSANOW, &tio) == 0);
	tell();
	await();
	printf("after the new VINTR: %s\n", next_signal(&set));

	/* TIOCNOTTY as session leader: the foreground group (ours) gets SIGHUP and SIGCONT. */
	T_ERRNO("TIOCNOTTY on master", ioctl(m, TIOCNOTTY), ENOTTY);
	T_ERRNO("TIOCNOTTY", ioctl(s, TIOCNOTTY), 0);
	printf("after TIOCNOTTY: %s", next_signal(&set));
	printf(", %s\n", next_signal(&set));
	T_ERRNO("/dev/tty after TIOCNOTTY", open("/dev/tty", O_RDWR), ENXIO);
	T_ERRNO("TIOCGSID after TIOCNOTTY", ioctl(m, TIOCGSID, &sid), ENOTTY);
	T_ERRNO("TIOCNOTTY again", ioctl(s, TIOCNOTTY), ENOTTY);
	/* /dev/tty still open keeps working as a tty. */
	printf("old /dev/tty descriptor isatty: %d\n", isatty(t));
	return t_failures ? 1 : 0;
}

static void expect_step(const char *what, const char *input, int echo_len)
{
	char b;
	CHECK(read(ready[0], &b, 1) == 1);
	t_write_all(m, input, strlen(input));
	char lab[64];
	snprintf(lab, sizeof lab, "%s echo", what);
	p_expect(lab, m, echo_len);
	CHECK(write(go[1], "g", 1) == 1);
}

int main(void)
{
	m = p_open_pair(&s);
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0)
		_exit(session_child());
	expect_step("^C", "abc\x03" "d\n", 5);
	expect_step("^\\ ^Z", "\x1c\x1a", 2);
	expect_step("^C NOFLSH", "keep\x03\n", 8);
	expect_step("no ISIG", "\x03\x1c\n", 6);
	expect_step("VINTR K", "xK", 1);
	printf("session child: %s\n", t_status(t_wait(c)));
	printf("master quiet at the end: %d\n", p_quiet(m));
	return t_done();
}
