/* POSIX message queues: mq_open (names, O_CREAT/O_EXCL, attributes and their limits, modes),
 * mq_timedsend/mq_timedreceive (priority order, FIFO within a priority, EMSGSIZE, a full or
 * empty queue with O_NONBLOCK and with timeouts, wake-ups, EINTR), mq_getsetattr, mq_notify
 * (SIGEV_SIGNAL, SIGEV_NONE, EBUSY), mq_unlink, the descriptor (fstat, read, poll, O_CLOEXEC,
 * EBADF) and the mqueue filesystem mounted in a private mount namespace. */
#include "test_util.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/vfs.h>

static char names[8][64];
static int mypid;

/* A queue name unique to this run ("/rvmq_<pid>_<tag>"). */
static const char *qn(int i, const char *tag)
{
	snprintf(names[i], sizeof names[i], "/rvmq_%d_%s", mypid, tag);
	return names[i];
}

static void show_attr(const char *label, mqd_t q)
{
	struct mq_attr a;
	memset(&a, 0xff, sizeof a);
	if (mq_getattr(q, &a) != 0) {
		printf("%s: getattr %s\n", label, t_errname(errno));
		return;
	}
	printf("%s: flags=%s maxmsg=%ld msgsize=%ld curmsgs=%ld\n", label,
	       a.mq_flags == O_NONBLOCK ? "O_NONBLOCK" : a.mq_flags == 0 ? "0" : "?", a.mq_maxmsg,
	       a.mq_msgsize, a.mq_curmsgs);
}

static struct timespec in_ms(long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static const char *pollbits(short r)
{
	static char b[96];
	b[0] = 0;
	if (r & POLLIN)
		strcat(b, "IN ");
	if (r & POLLRDNORM)
		strcat(b, "RDNORM ");
	if (r & POLLOUT)
		strcat(b, "OUT ");
	if (r & POLLWRNORM)
		strcat(b, "WRNORM ");
	if (r & ~(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM))
		strcat(b, "other ");
	if (!b[0])
		strcat(b, "none");
	return b;
}

static short poll_of(mqd_t q)
{
	struct pollfd p = {.fd = q, .events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM};
	CHECK(poll(&p, 1, 0) >= 0);
	return p.revents;
}

/* The status line a read of a queue gives, with NOTIFY_PID shown as self/0/other, and
 * whether its layout is exactly Linux's. */
static void show_status(const char *label, const char *buf)
{
	unsigned long qsize;
	int notify, signo, pid;
	if (sscanf(buf, "QSIZE:%lu NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qsize, &notify, &signo,
		   &pid) != 4) {
		printf("%s: unparsable\n", label);
		return;
	}
	char want[128];
	snprintf(want, sizeof want, "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", qsize,
		 notify, signo, pid);
	printf("%s: QSIZE:%lu NOTIFY:%d SIGNO:%d NOTIFY_PID:%s exact=%s\n", label, qsize, notify,
	       signo, pid == 0 ? "0" : pid == getpid() ? "self" : "other",
	       strcmp(want, buf) == 0 ? "yes" : "no");
}

static void read_status(const char *label, int fd)
{
	char buf[256] = "";
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n < 0) {
		/* A queue descriptor has no pread: read from where it is. */
		CHECK(lseek(fd, 0, SEEK_SET) == 0);
		n = read(fd, buf, sizeof buf - 1);
	}
	CHECK(n >= 0);
	buf[n] = 0;
	show_status(label, buf);
}

static volatile sig_atomic_t got_sig, got_code, got_value, got_pid_self;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid_self = si->si_pid == getpid();
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void names_and_attrs(void)
{
	struct mq_attr a = {0};
	T_ERRNO("open no slash", mq_open("noslash", O_RDWR | O_CREAT, 0600, NULL), EINVAL);
	T_ERRNO("raw open empty", syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL), ENOENT);
	T_ERRNO("raw open a/b", syscall(SYS_mq_open, "rvmq_a/b", O_RDWR | O_CREAT, 0600, NULL),
		EACCES);
	T_ERRNO("raw open dot", syscall(SYS_mq_open, ".", O_RDWR | O_CREAT, 0600, NULL), EACCES);
	char longname[300];
	memset(longname, 'x', sizeof longname);
	longname[0] = '/';
	longname[299] = 0;
	T_ERRNO("open long name", mq_open(longname, O_RDWR | O_CREAT, 0600, NULL), ENAMETOOLONG);
	T_ERRNO("open missing", mq_open(qn(0, "missing"), O_RDWR), ENOENT);
	a.mq_maxmsg = 0, a.mq_msgsize = 16;
	T_ERRNO("maxmsg 0", mq_open(qn(0, "bad"), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = 4, a.mq_msgsize = 0;
	T_ERRNO("msgsize 0", mq_open(qn(0, "bad"), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = -1, a.mq_msgsize = 16;
	T_ERRNO("maxmsg -1", mq_open(qn(0, "bad"), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = 100000, a.mq_msgsize = 16;
	T_ERRNO("maxmsg 100000", mq_open(qn(0, "bad"), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	a.mq_maxmsg = 4, a.mq_msgsize = 64L << 20;
	T_ERRNO("msgsize 64M", mq_open(qn(0, "bad"), O_RDWR | O_CREAT, 0600, &a), EINVAL);
	T_ERRNO("bad not created", mq_unlink(qn(0, "bad")), ENOENT);

	/* Defaults, and the limits /proc/sys/fs/mqueue shows. */
	const char *knobs[] = {"msg_default", "msg_max", "msgsize_default", "msgsize_max"};
	for (int i = 0; i < 4; i++) {
		char p[96], v[32] = "";
		snprintf(p, sizeof p, "/proc/sys/fs/mqueue/%s", knobs[i]);
		FILE *f = fopen(p, "r");
		if (f) {
			if (!fgets(v, sizeof v, f))
				v[0] = 0;
			fclose(f);
		}
		v[strcspn(v, "\n")] = 0;
		printf("%s: %s\n", knobs[i], f ? v : t_errname(errno));
	}
	mqd_t d = T_ERRNO("create default", mq_open(qn(1, "def"), O_RDWR | O_CREAT, 0600, NULL), 0);
	show_attr("default attrs", d);
	T_ERRNO("create excl again", mq_open(qn(1, "def"), O_RDWR | O_CREAT | O_EXCL, 0600, NULL),
		EEXIST);
	/* Existing queue: O_CREAT without O_EXCL opens it and ignores bad attributes. */
	a.mq_maxmsg = 0;
	mqd_t d2 = T_ERRNO("reopen creat", mq_open(qn(1, "def"), O_RDONLY | O_CREAT, 0600, &a), 0);
	show_attr("reopened attrs", d2);
	T_ERRNO("accmode 3", syscall(SYS_mq_open, qn(1, "def") + 1, 3, 0600, NULL), EINVAL);
	mq_close(d2);
	mq_close(d);
	T_ERRNO("unlink def", mq_unlink(qn(1, "def")), 0);
	T_ERRNO("unlink def again", mq_unlink(qn(1, "def")), ENOENT);
	T_ERRNO("unlink no slash", mq_unlink("noslash"), EINVAL);
}

static void order_and_limits(void)
{
	struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
	mode_t old = umask(022);
	mqd_t q = T_ERRNO("create 4x64", mq_open(qn(2, "q"), O_RDWR | O_CREAT | O_EXCL, 0666, &a), 0);
	umask(old);
	show_attr("attrs", q);
	struct stat st;
	CHECK(fstat(q, &st) == 0);
	printf("fstat: reg=%d mode=%o nlink=%ld\n", S_ISREG(st.st_mode), st.st_mode & 07777,
	       (long)st.st_nlink);
	printf("cloexec without O_CLOEXEC: %d\n", fcntl(q, F_GETFD) & FD_CLOEXEC);
	printf("poll empty: %s\n", pollbits(poll_of(q)));

	T_ERRNO("send p1 a", mq_send(q, "a", 1, 1), 0);
	T_ERRNO("send p5 b", mq_send(q, "bb", 2, 5), 0);
	T_ERRNO("send p1 c", mq_send(q, "ccc", 3, 1), 0);
	printf("poll 3 msgs: %s\n", pollbits(poll_of(q)));
	read_status("status 3 msgs", q);
	T_ERRNO("send p5 d", mq_send(q, "", 0, 5), 0);
	show_attr("full attrs", q);
	printf("poll full: %s\n", pollbits(poll_of(q)));
	struct timespec past = {.tv_sec = 1, .tv_nsec = 0};
	T_ERRNO("timedsend full past", mq_timedsend(q, "x", 1, 0, &past), ETIMEDOUT);
	struct timespec soon = in_ms(30);
	T_ERRNO("timedsend full 30ms", mq_timedsend(q, "x", 1, 0, &soon), ETIMEDOUT);
	struct timespec bad = {.tv_sec = 0, .tv_nsec = 2000000000L};
	T_ERRNO("timedsend bad timeout", mq_timedsend(q, "x", 1, 0, &bad), EINVAL);
	struct mq_attr nb = {.mq_flags = O_NONBLOCK}, oa;
	T_ERRNO("setattr nonblock", mq_setattr(q, &nb, &oa), 0);
	printf("old flags: %ld\n", oa.mq_flags);
	printf("F_GETFL has O_NONBLOCK: %d\n", !!(fcntl(q, F_GETFL) & O_NONBLOCK));
	T_ERRNO("send full nonblock", mq_send(q, "x", 1, 0), EAGAIN);
	T_ERRNO("send prio 32768", mq_send(q, "x", 1, 32768), EINVAL);
	T_ERRNO("send too big", mq_send(q, names[0], 65, 0), EMSGSIZE);
	char buf[128];
	unsigned prio = 99;
	T_ERRNO("receive small buffer", mq_receive(q, buf, 63, &prio), EMSGSIZE);
	for (int i = 0; i < 4; i++) {
		memset(buf, 0, sizeof buf);
		ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
		printf("receive %d: len=%zd prio=%u \"%s\"\n", i, n, prio, n >= 0 ? buf : "");
	}
	T_ERRNO("receive empty nonblock", mq_receive(q, buf, sizeof buf, &prio), EAGAIN);
	a.mq_flags = 0x1234;
	T_ERRNO("setattr bad flags", mq_setattr(q, &a, NULL), EINVAL);
	nb.mq_flags = 0;
	T_ERRNO("setattr blocking", mq_setattr(q, &nb, NULL), 0);
	printf("F_GETFL has O_NONBLOCK: %d\n", !!(fcntl(q, F_GETFL) & O_NONBLOCK));
	CHECK(fcntl(q, F_SETFL, O_NONBLOCK) == 0);
	show_attr("after F_SETFL", q);
	CHECK(fcntl(q, F_SETFL, 0) == 0);
	T_ERRNO("send p32767", mq_send(q, "top", 3, 32767), 0);
	T_ERRNO("send p0", mq_send(q, "low", 3, 0), 0);
	ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
	printf("receive: len=%zd prio=%u\n", n, prio);
	n = mq_receive(q, buf, sizeof buf, &prio);
	printf("receive: len=%zd prio=%u\n", n, prio);

	soon = in_ms(30);
	T_ERRNO("timedreceive empty 30ms", mq_timedreceive(q, buf, sizeof buf, &prio, &soon),
		ETIMEDOUT);
	T_ERRNO("timedreceive bad timeout", mq_timedreceive(q, buf, sizeof buf, &prio, &bad), EINVAL);
	T_ERRNO("timedreceive past", mq_timedreceive(q, buf, sizeof buf, &prio, &past), ETIMEDOUT);
	struct timespec never = {.tv_sec = 0x7fffffffffffffffL, .tv_nsec = 999999999};
	T_ERRNO("send for huge timeout", mq_send(q, "n", 1, 2), 0);
	T_ERRNO("timedreceive huge timeout", mq_timedreceive(q, buf, sizeof buf, &prio, &never), 0);

	/* Access modes of descriptors and things that are not queues. */
	mqd_t r = T_ERRNO("open rdonly", mq_open(qn(2, "q"), O_RDONLY), 0);
	mqd_t w = T_ERRNO("open wronly cloexec", mq_open(qn(2, "q"), O_WRONLY | O_CLOEXEC), 0);
	printf("cloexec with O_CLOEXEC: %d\n", fcntl(w, F_GETFD) & FD_CLOEXEC);
	T_ERRNO("send on rdonly", mq_send(r, "x", 1, 0), EBADF);
	T_ERRNO("receive on wronly", mq_receive(w, buf, sizeof buf, &prio), EBADF);
	T_ERRNO("write on wronly", write(w, "x", 1), EINVAL);
	int p[2];
	CHECK(pipe(p) == 0);
	T_ERRNO("send on pipe", mq_send(p[1], "x", 1, 0), EBADF);
	T_ERRNO("getattr on pipe", mq_getattr(p[0], &oa), EBADF);
	T_ERRNO("notify on pipe", mq_notify(p[0], NULL), EBADF);
	close(p[0]);
	close(p[1]);
	mq_close(r);
	mq_close(w);

	/* A receiver blocked on an empty queue is woken by a sender. */
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		usleep(50000);
		_exit(mq_send(q, "wake", 4, 7) == 0 ? 0 : 1);
	}
	memset(buf, 0, sizeof buf);
	n = mq_receive(q, buf, sizeof buf, &prio);
	printf("blocked receive: len=%zd prio=%u \"%s\"\n", n, prio, n > 0 ? buf : "");
	int status;
	CHECK(waitpid(c, &status, 0) == c);
	printf("sender: %s\n", t_status(status));

	/* A sender blocked on a full queue is woken by a receiver. */
	for (int i = 0; i < 4; i++)
		CHECK(mq_send(q, "f", 1, 0) == 0);
	c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		usleep(50000);
		char b[64];
		_exit(mq_receive(q, b, sizeof b, NULL) == 1 ? 0 : 1);
	}
	T_ERRNO("blocked send", mq_send(q, "g", 1, 0), 0);
	CHECK(waitpid(c, &status, 0) == c);
	printf("receiver: %s\n", t_status(status));
	show_attr("after blocked send", q);

	/* A signal interrupts a blocked send (no SA_RESTART). */
	struct sigaction sa = {.sa_handler = on_alarm};
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = {.it_value = {.tv_usec = 50000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_ERRNO("send interrupted", mq_send(q, "h", 1, 0), EINTR);
	for (int i = 0; i < 4; i++)
		CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_ERRNO("receive interrupted", mq_receive(q, buf, sizeof buf, NULL), EINTR);

	/* Unlinked but open: still works; the name is free for a new queue. */
	T_ERRNO("unlink open queue", mq_unlink(qn(2, "q")), 0);
	CHECK(fstat(q, &st) == 0);
	printf("nlink after unlink: %ld\n", (long)st.st_nlink);
	T_ERRNO("send after unlink", mq_send(q, "u", 1, 3), 0);
	n = mq_receive(q, buf, sizeof buf, &prio);
	printf("receive after unlink: len=%zd prio=%u\n", n, prio);
	mqd_t q2 = T_ERRNO("recreate", mq_open(qn(2, "q"), O_RDWR | O_CREAT | O_EXCL, 0600, NULL), 0);
	show_attr("recreated attrs", q2);
	mq_close(q2);
	mq_unlink(qn(2, "q"));
	T_ERRNO("close", mq_close(q), 0);
	T_ERRNO("getattr closed", mq_getattr(q, &oa), EBADF);
}

static void notify(void)
{
	struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 16};
	mqd_t q = T_ERRNO("create notify q", mq_open(qn(3, "n"), O_RDWR | O_CREAT, 0600, &a), 0);
	struct sigaction sa = {.sa_sigaction = on_sig, .sa_flags = SA_SIGINFO};
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	ev.sigev_value.sival_int = 42;
	T_ERRNO("notify", mq_notify(q, &ev), 0);
	read_status("status registered", q);
	T_ERRNO("notify again", mq_notify(q, &ev), EBUSY);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		int e = mq_notify(q, &ev) == 0 ? 0 : errno;
		_exit(e == EBUSY ? 0 : 1);
	}
	int status;
	CHECK(waitpid(c, &status, 0) == c);
	printf("child notify EBUSY: %s\n", t_status(status));
	T_ERRNO("send first", mq_send(q, "1", 1, 0), 0);
	for (int i = 0; i < 100 && !got_sig; i++)
		usleep(1000);
	printf("signal: %s code=%s value=%d pid_self=%d\n", got_sig ? t_signame(got_sig) : "none",
	       got_code == SI_MESGQ ? "SI_MESGQ" : "?", (int)got_value, (int)got_pid_self);
	read_status("status after", q);
	/* Registered on a non-empty queue: another message does not notify. */
	got_sig = 0;
	T_ERRNO("notify non-empty", mq_notify(q, &ev), 0);
	T_ERRNO("send second", mq_send(q, "2", 1, 0), 0);
	usleep(20000);
	printf("signal on non-empty: %s\n", got_sig ? "yes" : "no");
	T_ERRNO("unregister", mq_notify(q, NULL), 0);
	T_ERRNO("unregister again", mq_notify(q, NULL), 0);
	ev.sigev_notify = 99;
	T_ERRNO("notify bad kind", mq_notify(q, &ev), EINVAL);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = 65;
	T_ERRNO("notify bad signal", mq_notify(q, &ev), EINVAL);
	ev.sigev_notify = SIGEV_NONE;
	T_ERRNO("notify none", mq_notify(q, &ev), 0);
	read_status("status none", q);
	char buf[16];
	CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
	CHECK(mq_receive(q, buf, sizeof buf, NULL) == 1);
	T_ERRNO("send after none", mq_send(q, "3", 1, 0), 0);
	read_status("status after none fired", q);
	T_ERRNO("unregister after fired", mq_notify(q, NULL), 0);
	/* Closing the registering process's descriptor removes the registration. */
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	T_ERRNO("notify before close", mq_notify(q, &ev), 0);
	mq_close(q);
	q = T_ERRNO("reopen notify q", mq_open(qn(3, "n"), O_RDWR), 0);
	read_status("status after close", q);
	mq_close(q);
	mq_unlink(qn(3, "n"));
}

static void permissions(void)
{
	mode_t old = umask(0);
	mqd_t a = T_ERRNO("create 0600", mq_open(qn(4, "p600"), O_RDWR | O_CREAT, 0600, NULL), 0);
	mqd_t b = T_ERRNO("create 0644", mq_open(qn(5, "p644"), O_RDWR | O_CREAT, 0644, NULL), 0);
	umask(old);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		if (geteuid() == 0) {
			CHECK(setgid(65534) == 0);
			CHECK(setuid(65534) == 0);
		}
		T_ERRNO("other rdonly 0600", mq_open(qn(4, "p600"), O_RDONLY), EACCES);
		T_ERRNO("other rdonly 0644", mq_open(qn(5, "p644"), O_RDONLY), 0);
		T_ERRNO("other wronly 0644", mq_open(qn(5, "p644"), O_WRONLY), EACCES);
		T_ERRNO("other unlink", mq_unlink(qn(5, "p644")), EACCES);
		_exit(t_failures ? 1 : 0);
	}
	int status;
	CHECK(waitpid(c, &status, 0) == c);
	printf("unprivileged child: %s\n", t_status(status));
	mq_close(a);
	mq_close(b);
	mq_unlink(qn(4, "p600"));
	mq_unlink(qn(5, "p644"));
}

static void filesystem(void)
{
	if (geteuid() != 0) {
		printf("mqueue fs: needs root\n");
		return;
	}
	pid_t c = fork();
	CHECK(c >= 0);
	if (c) {
		int status;
		CHECK(waitpid(c, &status, 0) == c);
		printf("fs child: %s\n", t_status(status));
		return;
	}
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	char dir[] = "/tmp/rvmqXXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	T_ERRNO("mount mqueue", mount("none", dir, "mqueue", 0, NULL), 0);
	struct stat st;
	CHECK(stat(dir, &st) == 0);
	printf("root: dir=%d mode=%o\n", S_ISDIR(st.st_mode), st.st_mode & 07777);
	struct statfs sf;
	CHECK(statfs(dir, &sf) == 0);
	printf("statfs magic: %#lx\n", (unsigned long)sf.f_type);

	struct mq_attr a = {.mq_maxmsg = 3, .mq_msgsize = 32};
	mqd_t q1 = mq_open(qn(6, "fs1"), O_RDWR | O_CREAT, 0640, &a);
	mqd_t q2 = mq_open(qn(7, "fs2"), O_RDWR | O_CREAT, 0600, NULL);
	CHECK(q1 >= 0 && q2 >= 0);
	CHECK(mq_send(q1, "hello", 5, 1) == 0);
	CHECK(mq_send(q1, "xy", 2, 2) == 0);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
	CHECK(mq_notify(q2, &ev) == 0);

	char prefix[32];
	int plen = snprintf(prefix, sizeof prefix, "rvmq_%d_", mypid);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	int count = 0;
	struct dirent *e;
	char seen[4][64];
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		if (count < 4)
			snprintf(seen[count], 64, "%s type=%s", e->d_name + plen,
				 e->d_type == DT_REG ? "reg" : "?");
		count++;
	}
	closedir(d);
	if (count == 2 && strcmp(seen[0], seen[1]) > 0) {
		char tmp[64];
		memcpy(tmp, seen[0], 64);
		memcpy(seen[0], seen[1], 64);
		memcpy(seen[1], tmp, 64);
	}
	printf("listing: %d queues\n", count);
	for (int i = 0; i < count && i < 4; i++)
		printf("  %s\n", seen[i]);

	char path[128];
	snprintf(path, sizeof path, "%s%s", dir, qn(6, "fs1"));
	CHECK(stat(path, &st) == 0);
	printf("fs1 stat: reg=%d mode=%o\n", S_ISREG(st.st_mode), st.st_mode & 07777);
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	read_status("fs1 file", fd);
	T_ERRNO("mq_send on opened file", mq_send(fd, "z", 1, 0), 0);
	show_attr("opened file attrs", fd);
	close(fd);
	T_ERRNO("open fs1 excl", open(path, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	T_ERRNO("open fs1 as dir", open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
	char p3[128];
	snprintf(p3, sizeof p3, "%s%s", dir, qn(0, "fs3"));
	T_ERRNO("open missing in fs", open(p3, O_RDWR), ENOENT);
	fd = T_ERRNO("create via open", open(p3, O_RDWR | O_CREAT, 0600), 0);
	show_attr("created via open", fd);
	close(fd);
	mqd_t q3 = T_ERRNO("mq_open created", mq_open(qn(0, "fs3"), O_RDONLY), 0);
	mq_close(q3);
	T_ERRNO("unlink fs3", mq_unlink(qn(0, "fs3")), 0);
	snprintf(path, sizeof path, "%s%s", dir, qn(7, "fs2"));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	read_status("fs2 file", fd);
	close(fd);
	T_ERRNO("unlink fs2 via fs", unlink(path), 0);
	T_ERRNO("open fs2 after", mq_open(qn(7, "fs2"), O_RDWR), ENOENT);
	T_ERRNO("stat fs2 after", stat(path, &st), ENOENT);
	T_ERRNO("mkdir in mqueue", mkdir(path, 0700), EPERM);
	mq_close(q1);
	mq_close(q2);
	T_ERRNO("mq_unlink fs1", mq_unlink(qn(6, "fs1")), 0);
	snprintf(path, sizeof path, "%s%s", dir, qn(6, "fs1"));
	T_ERRNO("stat fs1 after", stat(path, &st), ENOENT);
	T_ERRNO("umount", umount(dir), 0);
	rmdir(dir);
	_exit(t_failures ? 1 : 0);
}

/* RLIMIT_MSGQUEUE counts each queue's maxmsg * (msgsize + 48) + min(maxmsg, 32768) * 48
 * bytes against its creator's real uid until the queue is gone. */
static void rlimit(void)
{
	pid_t c = fork();
	CHECK(c >= 0);
	if (c) {
		int status;
		CHECK(waitpid(c, &status, 0) == c);
		printf("rlimit child: %s\n", t_status(status));
		return;
	}
	struct rlimit rl = {.rlim_cur = 200000, .rlim_max = 200000};
	CHECK(setrlimit(RLIMIT_MSGQUEUE, &rl) == 0);
	mqd_t a = T_ERRNO("first default queue", mq_open(qn(0, "r1"), O_RDWR | O_CREAT, 0600, NULL), 0);
	mqd_t b = T_ERRNO("second default queue", mq_open(qn(1, "r2"), O_RDWR | O_CREAT, 0600, NULL), 0);
	T_ERRNO("third default queue", mq_open(qn(2, "r3"), O_RDWR | O_CREAT, 0600, NULL), EMFILE);
	struct mq_attr at = {.mq_maxmsg = 10, .mq_msgsize = 3329};
	T_ERRNO("queue 10 bytes over", mq_open(qn(3, "r4"), O_RDWR | O_CREAT, 0600, &at), EMFILE);
	at.mq_msgsize = 3328;
	T_ERRNO("queue up to the limit", mq_open(qn(3, "r4"), O_RDWR | O_CREAT, 0600, &at), 0);
	mq_unlink(qn(3, "r4"));
	T_ERRNO("unlink open first", mq_unlink(qn(0, "r1")), 0);
	T_ERRNO("third while first open", mq_open(qn(2, "r3"), O_RDWR | O_CREAT, 0600, NULL), EMFILE);
	mq_close(a);
	mqd_t d = T_ERRNO("third after close", mq_open(qn(2, "r3"), O_RDWR | O_CREAT, 0600, NULL), 0);
	mq_close(b);
	mq_close(d);
	mq_unlink(qn(1, "r2"));
	mq_unlink(qn(2, "r3"));
	_exit(t_failures ? 1 : 0);
}

int main(void)
{
	mypid = getpid();
	names_and_attrs();
	order_and_limits();
	notify();
	permissions();
	filesystem();
	rlimit();
	return t_done();
}
