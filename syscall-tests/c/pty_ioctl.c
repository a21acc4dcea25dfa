/* Less common pty requests: packet mode, TIOCSIG, TIOCGDEV, TIOCEXCL, line disciplines,
 * flow control (VSTOP/VSTART with IXON, tcflow), TIOCSTI, TCOFLUSH from either end, and
 * what a pty answers to requests it does not know. */
#include "pty_util.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>

int main(void)
{
	int s;
	int m = p_open_pair(&s);
	char buf[64];
	int n;

	/* Packet mode: each master read starts with TIOCPKT_DATA. */
	int one = 1, zero = 0, v = -1;
	T_ERRNO("TIOCPKT on", ioctl(m, TIOCPKT, &one), 0);
	T_ERRNO("TIOCGPKT", ioctl(m, TIOCGPKT, &v), 0);
	printf("packet mode: %d\n", v);
	T_ERRNO("TIOCPKT on the slave", ioctl(s, TIOCPKT, &one), ENOTTY);
	t_write_all(s, "hi", 2);
	CHECK(p_wait(m, POLLIN, 2000) & POLLIN);
	n = read(m, buf, sizeof buf);
	p_show("packet read", buf, n > 0 ? n : 0);
	T_ERRNO("TIOCPKT off", ioctl(m, TIOCPKT, &zero), 0);

	/* TIOCGDEV names the slave from both ends. */
	unsigned int dev = 0;
	struct stat st;
	CHECK(fstat(s, &st) == 0);
	T_ERRNO("TIOCGDEV on master", ioctl(m, TIOCGDEV, &dev), 0);
	printf("TIOCGDEV is the slave: %d\n", major(dev) == major(st.st_rdev) && minor(dev) == minor(st.st_rdev));
	dev = 0;
	T_ERRNO("TIOCGDEV on slave", ioctl(s, TIOCGDEV, &dev), 0);
	printf("slave TIOCGDEV is the slave: %d\n", major(dev) == 136 && minor(dev) == minor(st.st_rdev));

	/* TIOCSIG takes only the terminal's signals. */
	T_ERRNO("TIOCSIG SIGKILL", ioctl(m, TIOCSIG, SIGKILL), EINVAL);
	T_ERRNO("TIOCSIG SIGINT without a foreground group", ioctl(m, TIOCSIG, SIGINT), 0);
	T_ERRNO("TIOCSIG on the slave", ioctl(s, TIOCSIG, SIGINT), ENOTTY);

	/* Line discipline. */
	v = -1;
	T_ERRNO("TIOCGETD", ioctl(s, TIOCGETD, &v), 0);
	printf("line discipline: %d\n", v);
	T_ERRNO("TIOCSETD N_TTY", ioctl(s, TIOCSETD, &zero), 0);

	/* Exclusive mode. */
	T_ERRNO("TIOCEXCL", ioctl(s, TIOCEXCL), 0);
	v = -1;
	T_ERRNO("TIOCGEXCL", ioctl(s, TIOCGEXCL, &v), 0);
	printf("exclusive: %d\n", v);
	T_ERRNO("TIOCNXCL", ioctl(s, TIOCNXCL), 0);

	/* Raw output for the flow-control checks. */
	struct termios t;
	CHECK(tcgetattr(s, &t) == 0);
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ICANON);
	CHECK(tcsetattr(s, TCSANOW, &t) == 0);
	CHECK(fcntl(s, F_SETFL, O_NONBLOCK) == 0);

	/* ^S from the master stops the slave's output, ^Q restarts it. */
	t_write_all(m, "\x13", 1);
	long long start = t_now_ns(CLOCK_MONOTONIC);
	while (p_wait(s, POLLOUT, 0) & POLLOUT) {
		t_deadline(start, 10, "^S to stop output");
		usleep(1000);
	}
	T_ERRNO("slave write while stopped", write(s, "a", 1), EAGAIN);
	t_write_all(m, "\x11", 1);
	start = t_now_ns(CLOCK_MONOTONIC);
	while (!(p_wait(s, POLLOUT, 0) & POLLOUT)) {
		t_deadline(start, 10, "^Q to restart output");
		usleep(1000);
	}
	T_ERRNO("slave write after ^Q", write(s, "b", 1), 0);
	p_expect("master reads", m, 1);
	printf("^S and ^Q are not input: %d\n", !(p_wait(s, POLLIN, 100) & POLLIN));

	/* tcflow: TCOOFF/TCOON on the slave, TCIOFF sends VSTOP to the master. */
	T_ERRNO("tcflow TCOOFF", tcflow(s, TCOOFF), 0);
	T_ERRNO("slave write after TCOOFF", write(s, "c", 1), EAGAIN);
	t_write_all(m, "\x11", 1);
	usleep(50000);
	T_ERRNO("^Q does not undo TCOOFF", write(s, "c", 1), EAGAIN);
	T_ERRNO("tcflow TCOON", tcflow(s, TCOON), 0);
	T_ERRNO("slave write after TCOON", write(s, "d", 1), 0);
	p_expect("master reads", m, 1);
	T_ERRNO("tcflow TCIOFF", tcflow(s, TCIOFF), 0);
	p_expect("master gets VSTOP", m, 1);
	T_ERRNO("tcflow bad", tcflow(s, 9), EINVAL);

	/* TCOFLUSH on the slave drops what the master has not read; on the master it drops
	 * the slave's pending input. */
	t_write_all(s, "gone", 4);
	CHECK(p_wait(m, POLLIN, 2000) & POLLIN);
	T_ERRNO("tcflush(slave, TCOFLUSH)", tcflush(s, TCOFLUSH), 0);
	printf("master has nothing after TCOFLUSH: %d\n", p_quiet(m));
	t_write_all(m, "lost", 4);
	CHECK(p_wait(s, POLLIN, 2000) & POLLIN);
	T_ERRNO("tcflush(master, TCOFLUSH)", tcflush(m, TCOFLUSH), 0);
	printf("slave has nothing after the master's TCOFLUSH: %d\n", !(p_wait(s, POLLIN, 100) & POLLIN));
	t_write_all(s, "kept", 4);
	CHECK(p_wait(m, POLLIN, 2000) & POLLIN);
	T_ERRNO("tcflush(master, TCIFLUSH)", tcflush(m, TCIFLUSH), 0);
	printf("master input dropped: %d\n", p_quiet(m));

	/* TIOCSTI (the test runs as root) fakes input. */
	char c = 'z';
	T_ERRNO("TIOCSTI", ioctl(s, TIOCSTI, &c), 0);
	n = p_read_upto(s, buf, 1);
	p_show("faked input", buf, n);

	/* Requests a pty does not know. */
	int mbits;
	T_ERRNO("TIOCMGET", ioctl(s, TIOCMGET, &mbits), ENOTTY);
	T_ERRNO("TIOCGPTN on the slave", ioctl(s, TIOCGPTN, &mbits), ENOTTY);
	T_ERRNO("unknown request", ioctl(m, 0x54ff, &mbits), ENOTTY);
	return t_done();
}
