/* Terminal attributes of a pseudo-terminal: Linux's defaults, TCGETS/TCSETS* round trips from
 * either end, what a pty forces in c_cflag, speeds, TCSETSF flushing input, window sizes and
 * SIGWINCH to the foreground process group. */
#include "pty_util.h"

static void show_termios(const char *label, int fd)
{
	struct termios t;
	CHECK(tcgetattr(fd, &t) == 0);
	printf("%s: iflag=%#o oflag=%#o cflag=%#o lflag=%#o line=%d ispeed=%u ospeed=%u\n", label,
	       t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag, t.c_line, (unsigned)cfgetispeed(&t),
	       (unsigned)cfgetospeed(&t));
	printf("%s: cc=", label);
	for (int i = 0; i < 19; i++)
		printf("%s%d", i ? "," : "", t.c_cc[i]);
	printf("\n");
}

static int winch_child(int s, int ready, int go)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	alarm(30); /* out of the runner's process group: never outlive a hung test */
	CHECK(setsid() == getpid());
	CHECK(ioctl(s, TIOCSCTTY, 0) == 0);
	char b = 'r';
	CHECK(write(ready, &b, 1) == 1);
	/* The parent changes the size: one SIGWINCH. */
	CHECK(read(go, &b, 1) == 1);
	struct timespec ts = { 5, 0 };
	int sig = sigtimedwait(&set, NULL, &ts);
	printf("child: got %s after a size change\n", sig > 0 ? t_signame(sig) : "nothing");
	struct winsize ws;
	CHECK(ioctl(s, TIOCGWINSZ, &ws) == 0);
	printf("child sees rows=%d cols=%d\n", ws.ws_row, ws.ws_col);
	CHECK(write(ready, &b, 1) == 1);
	/* The parent sets the same size again: no signal. */
	CHECK(read(go, &b, 1) == 1);
	sigset_t pend;
	CHECK(sigpending(&pend) == 0);
	printf("child: SIGWINCH pending after the same size: %d\n", sigismember(&pend, SIGWINCH));
	/* The child itself changes it through its slave. */
	ws.ws_col = 100;
	CHECK(ioctl(s, TIOCSWINSZ, &ws) == 0);
	CHECK(sigpending(&pend) == 0);
	printf("child: SIGWINCH pending after its own change: %d\n", sigismember(&pend, SIGWINCH));
	return 0;
}

int main(void)
{
	int s;
	int m = p_open_pair(&s);
	show_termios("slave default", s);
	show_termios("master", m);

	/* A round trip through the slave, seen from the master. */
	struct termios t, back, orig;
	CHECK(tcgetattr(s, &orig) == 0);
	t = orig;
	t.c_lflag &= ~(ECHO | ICANON);
	t.c_iflag |= INLCR | IGNBRK;
	t.c_oflag &= ~ONLCR;
	t.c_cc[VMIN] = 5;
	t.c_cc[VTIME] = 7;
	t.c_cc[VINTR] = 0x01;
	T_ERRNO("tcsetattr TCSANOW", tcsetattr(s, TCSANOW, &t), 0);
	CHECK(tcgetattr(m, &back) == 0);
	printf("master sees the slave's change: %d\n",
	       back.c_lflag == t.c_lflag && back.c_iflag == t.c_iflag &&
		       back.c_oflag == t.c_oflag && back.c_cc[VMIN] == 5 &&
		       back.c_cc[VTIME] == 7 && back.c_cc[VINTR] == 1);
	show_termios("after set", s);

	/* Through the master, with TCSADRAIN and TCSAFLUSH. */
	t.c_lflag |= ECHO;
	T_ERRNO("tcsetattr TCSADRAIN on master", tcsetattr(m, TCSADRAIN, &t), 0);
	CHECK(tcgetattr(s, &back) == 0);
	printf("slave sees ECHO again: %d\n", (back.c_lflag & ECHO) != 0);

	/* A pty keeps 8 data bits, no parity, receiver on. */
	t.c_cflag = (t.c_cflag & ~CSIZE) | CS7 | PARENB | PARODD;
	t.c_cflag &= ~CREAD;
	CHECK(tcsetattr(s, TCSANOW, &t) == 0);
	CHECK(tcgetattr(s, &back) == 0);
	printf("cflag forced: cs8=%d parenb=%d parodd=%d cread=%d\n",
	       (back.c_cflag & CSIZE) == CS8, (back.c_cflag & PARENB) != 0,
	       (back.c_cflag & PARODD) != 0, (back.c_cflag & CREAD) != 0);

	/* Speeds. */
	CHECK(cfsetospeed(&t, B9600) == 0);
	CHECK(cfsetispeed(&t, B9600) == 0);
	CHECK(tcsetattr(s, TCSANOW, &t) == 0);
	CHECK(tcgetattr(s, &back) == 0);
	printf("speed 9600 kept: %d\n", cfgetospeed(&back) == B9600 && cfgetispeed(&back) == B9600);

	/* TCSAFLUSH drops pending input. */
	CHECK(tcsetattr(s, TCSANOW, &orig) == 0);
	t_write_all(m, "pending\n", 8);
	printf("line pending: %d\n", (p_wait(s, POLLIN, 2000) & POLLIN) != 0);
	CHECK(tcgetattr(s, &t) == 0);
	T_ERRNO("tcsetattr TCSAFLUSH", tcsetattr(s, TCSAFLUSH, &t), 0);
	int n = -1;
	CHECK(ioctl(s, FIONREAD, &n) == 0);
	printf("after TCSAFLUSH: FIONREAD=%d\n", n);
	T_ERRNO("tcflush TCIFLUSH", tcflush(s, TCIFLUSH), 0);
	T_ERRNO("tcflush bad queue", tcflush(s, 7), EINVAL);
	T_ERRNO("tcdrain", tcdrain(s), 0);
	T_ERRNO("TIOCOUTQ", ioctl(s, TIOCOUTQ, &n), 0);

	/* Window size: zero at first, set through either end. */
	struct winsize ws = { 0 };
	CHECK(ioctl(s, TIOCGWINSZ, &ws) == 0);
	printf("default winsize rows=%d cols=%d\n", ws.ws_row, ws.ws_col);
	ws.ws_row = 24;
	ws.ws_col = 80;
	ws.ws_xpixel = 640;
	T_ERRNO("TIOCSWINSZ on master", ioctl(m, TIOCSWINSZ, &ws), 0);
	struct winsize got = { 0 };
	CHECK(ioctl(s, TIOCGWINSZ, &got) == 0);
	printf("slave winsize rows=%d cols=%d xpixel=%d\n", got.ws_row, got.ws_col, got.ws_xpixel);

	/* A process whose controlling terminal it is gets SIGWINCH. */
	int ready[2], go[2];
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0)
		_exit(winch_child(s, ready[1], go[0]));
	char b;
	CHECK(read(ready[0], &b, 1) == 1);
	ws.ws_row = 50;
	CHECK(ioctl(m, TIOCSWINSZ, &ws) == 0);
	CHECK(write(go[1], "g", 1) == 1);
	CHECK(read(ready[0], &b, 1) == 1);
	CHECK(ioctl(m, TIOCSWINSZ, &ws) == 0);
	CHECK(write(go[1], "g", 1) == 1);
	printf("winsize child: %s\n", t_status(t_wait(c)));
	CHECK(ioctl(m, TIOCGWINSZ, &got) == 0);
	printf("master winsize rows=%d cols=%d\n", got.ws_row, got.ws_col);

	T_ERRNO("TCGETS on a pipe", tcgetattr(ready[0], &t), ENOTTY);
	return t_done();
}
