/* The line discipline in canonical mode: line buffering, VERASE/VWERASE/VKILL/VEOF/VLNEXT,
 * ICRNL/INLCR/IGNCR, ECHO/ECHOE/ECHOK/ECHOKE/ECHOCTL/ECHONL, FIONREAD of whole lines, and
 * output processing (OPOST, ONLCR, OCRNL, ONOCR, OLCUC, XTABS). */
#include "pty_util.h"

static int m, s;

/* Writes `in` to the master, shows the echo (expected length `echo_len`) and what one read
 * of the slave returns. */
static void step(const char *label, const char *in, int echo_len)
{
	char buf[256], lab[128];
	t_write_all(m, in, strlen(in));
	snprintf(lab, sizeof lab, "%s echo", label);
	int n = p_read_upto(m, buf, echo_len);
	p_show(lab, buf, n);
	if (!p_quiet(m))
		printf("%s: more echo than expected\n", label);
	snprintf(lab, sizeof lab, "%s read", label);
	if (!(p_wait(s, POLLIN, 2000) & POLLIN)) {
		printf("%s: nothing\n", lab);
		return;
	}
	ssize_t r = read(s, buf, sizeof buf);
	CHECK(r >= 0);
	p_show(lab, buf, r);
}

/* What the master reads after the slave writes `out`. */
static void output(const char *label, const char *out, int want)
{
	t_write_all(s, out, strlen(out));
	p_expect(label, m, want);
	if (!p_quiet(m))
		printf("%s: more output than expected\n", label);
}

static void iflag(tcflag_t on, tcflag_t off)
{
	struct termios t;
	CHECK(tcgetattr(s, &t) == 0);
	t.c_iflag = (t.c_iflag | on) & ~off;
	CHECK(tcsetattr(s, TCSANOW, &t) == 0);
}

static void oflag(tcflag_t on, tcflag_t off)
{
	struct termios t;
	CHECK(tcgetattr(s, &t) == 0);
	t.c_oflag = (t.c_oflag | on) & ~off;
	CHECK(tcsetattr(s, TCSANOW, &t) == 0);
}

int main(void)
{
	m = p_open_pair(&s);
	struct termios orig;
	CHECK(tcgetattr(s, &orig) == 0);

	step("plain", "hello\n", 7);
	step("erase", "ab\x7f" "c\n", 8);
	step("kill", "xyz\x15ok\n", 16);
	step("werase", "foo bar\x17" "baz\n", 21);
	step("control char", "a\x01" "b\n", 6);
	step("erase control char", "\x01\x7f\n", 10);
	step("erase at line start", "\x7f" "z\n", 3);
	step("lnext", "\x16\x7f\n", 6);
	step("eof after text", "abc\x04", 3);
	step("eof alone", "\x04", 0);
	step("cr mapped", "hi\r", 4);
	step("eof mid-line", "ab\x04" "cd\n", 6);
	char more[16];
	ssize_t k = read(s, more, sizeof more);
	p_show("eof mid-line rest", more, k > 0 ? k : 0);
	/* A read that fills its buffer right before VEOF takes the VEOF with it. */
	t_write_all(m, "xyz\x04", 4);
	p_expect("exact fit echo", m, 3);
	CHECK(p_wait(s, POLLIN, 2000) & POLLIN);
	k = read(s, more, 3);
	p_show("exact fit read", more, k > 0 ? k : 0);
	printf("VEOF left after exact fit: %d\n", (p_wait(s, POLLIN, 100) & POLLIN) != 0);

	/* A partial line is not readable, nor counted. */
	t_write_all(m, "part", 4);
	p_expect("partial echo", m, 4);
	printf("partial line readable: %d\n", (p_wait(s, POLLIN, 200) & POLLIN) != 0);
	int n = -1;
	CHECK(ioctl(s, FIONREAD, &n) == 0);
	printf("partial FIONREAD=%d\n", n);
	step("line completed", "ial\n", 5);

	/* One line per read; a short buffer takes the rest next time. */
	t_write_all(m, "one\ntwo\nthree\n", 14);
	p_expect("lines echo", m, 17);
	CHECK(p_wait(s, POLLIN, 2000) & POLLIN);
	CHECK(ioctl(s, FIONREAD, &n) == 0);
	printf("three lines FIONREAD=%d\n", n);
	char buf[64];
	ssize_t r = read(s, buf, sizeof buf);
	p_show("first read", buf, r);
	r = read(s, buf, 2);
	p_show("short read", buf, r);
	r = read(s, buf, sizeof buf);
	p_show("rest of line", buf, r);
	r = read(s, buf, sizeof buf);
	p_show("third line", buf, r);

	/* Echo variants. */
	p_lflag(s, 0, ECHOE);
	step("no ECHOE", "ab\x7f\n", 6);
	p_lflag(s, 0, ECHOKE);
	step("ECHOK without ECHOKE", "ab\x15" "c\n", 9);
	p_lflag(s, 0, ECHOCTL);
	step("no ECHOCTL", "q\x02\n", 4);
	CHECK(tcsetattr(s, TCSANOW, &orig) == 0);
	p_lflag(s, ECHONL, ECHO);
	step("ECHONL only", "quiet\n", 2);
	p_lflag(s, 0, ECHONL);
	step("no echo", "silent\x7f\n", 0);
	CHECK(tcsetattr(s, TCSANOW, &orig) == 0);

	/* Input mapping. */
	iflag(INLCR, ICRNL);
	step("INLCR", "q\n\x04", 3);
	iflag(IGNCR, INLCR);
	step("IGNCR", "a\rb\n", 4);
	iflag(ICRNL, IGNCR);

	/* Output processing. */
	output("ONLCR", "x\ny\n", 6);
	oflag(OCRNL, ONLCR);
	output("OCRNL", "a\rb", 3);
	oflag(ONOCR, OCRNL);
	output("ONOCR", "x\r\ry", 3);
	oflag(OLCUC, ONOCR);
	output("OLCUC", "MixEd", 5);
	oflag(XTABS, OLCUC);
	output("XTABS", "\rab\tc\t", 17);
	oflag(0, XTABS);
	oflag(0, OPOST);
	output("raw output", "r\ns\r", 4);
	CHECK(tcsetattr(s, TCSANOW, &orig) == 0);

	/* Echo goes through output processing too. */
	oflag(0, ONLCR);
	step("echo without ONLCR", "e\n", 2);
	CHECK(tcsetattr(s, TCSANOW, &orig) == 0);

	/* The master side reads what the slave wrote, raw, and FIONREAD counts it. */
	t_write_all(s, "abc", 3);
	CHECK(p_wait(m, POLLIN, 2000) & POLLIN);
	CHECK(ioctl(m, FIONREAD, &n) == 0);
	printf("master FIONREAD=%d\n", n);
	p_expect("master read", m, 3);
	return t_done();
}
