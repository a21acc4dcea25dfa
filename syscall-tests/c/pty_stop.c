/* A shell's job control round trip on a pty: a foreground reader blocked in read() is
 * stopped by ^Z; while it is stopped the shell takes the terminal back, switches it to
 * non-canonical mode and reads input itself (the stopped reader must not take it); then the
 * shell restores the job's modes, gives it the terminal (tcsetpgrp) and continues it
 * (SIGCONT), and the job's read goes on with the next line. */
#include "pty_util.h"

static int m, s;
static int type_req[2], done_req[2];

/* Asks the "terminal emulator" (main) to type `what` on the master and waits until it did. */
static void type(const char *what)
{
	size_t n = strlen(what);
	CHECK(write(type_req[1], what, n) == (ssize_t)n);
	char b;
	CHECK(read(done_req[0], &b, 1) == 1);
}

static int job(void)
{
	char buf[64];
	ssize_t r = read(s, buf, sizeof buf);
	/* Only the line typed after fg may arrive here. */
	return r == 5 && !memcmp(buf, "line\n", 5) ? 0 : 1;
}

static int shell(void)
{
	alarm(30); /* out of the runner's process group: never outlive a hung test */
	CHECK(setsid() == getpid());
	CHECK(ioctl(s, TIOCSCTTY, 0) == 0);
	signal(SIGTTOU, SIG_IGN);
	struct termios cooked, raw;
	CHECK(tcgetattr(s, &cooked) == 0);
	pid_t j = fork();
	CHECK(j >= 0);
	if (j == 0) {
		signal(SIGTTOU, SIG_DFL);
		CHECK(setpgid(0, 0) == 0);
		_exit(job());
	}
	setpgid(j, j);
	CHECK(tcsetpgrp(s, j) == 0);
	/* Let the job block in read, then ^Z. */
	usleep(100000);
	type("\x1a");
	int st;
	CHECK(waitpid(j, &st, WUNTRACED) == j);
	printf("job: %s\n", t_status(st));
	/* The shell's turn: its own group in the foreground, non-canonical, no echo. */
	CHECK(tcsetpgrp(s, getpgrp()) == 0);
	raw = cooked;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	CHECK(tcsetattr(s, TCSADRAIN, &raw) == 0);
	type("f");
	char c = 0;
	int ready = p_wait(s, POLLIN, 2000) & POLLIN;
	printf("shell reads the key: %d\n", ready && read(s, &c, 1) == 1 && c == 'f');
	/* fg: the job's modes, the terminal, SIGCONT. */
	CHECK(tcsetattr(s, TCSADRAIN, &cooked) == 0);
	CHECK(tcsetpgrp(s, j) == 0);
	CHECK(kill(-j, SIGCONT) == 0);
	CHECK(waitpid(j, &st, WCONTINUED) == j);
	printf("job: %s\n", t_status(st));
	type("line\n");
	CHECK(waitpid(j, &st, 0) == j);
	printf("job after fg: %s\n", t_status(st));
	CHECK(write(type_req[1], "", 1) == 1);
	return 0;
}

int main(void)
{
	m = p_open_pair(&s);
	CHECK(pipe(type_req) == 0 && pipe(done_req) == 0);
	pid_t sh = fork();
	CHECK(sh >= 0);
	if (sh == 0)
		_exit(shell());
	/* Type what the shell asks for; a NUL ends. */
	for (;;) {
		CHECK(p_wait(type_req[0], POLLIN, 20000) & POLLIN);
		char req[16];
		ssize_t n = read(type_req[0], req, sizeof req);
		CHECK(n > 0);
		if (req[0] == 0)
			break;
		t_write_all(m, req, n);
		CHECK(write(done_req[1], "d", 1) == 1);
	}
	printf("shell: %s\n", t_status(t_wait(sh)));
	return t_done();
}
