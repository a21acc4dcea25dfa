/* sendfile(2): file to file, pipe, socket and /dev/null; the file offset (advanced without an
 * offset pointer, left alone with one); short counts at end of file and for a pipe's
 * capacity; EBADF, ESPIPE, EINVAL, EFAULT, EPIPE, EAGAIN; EINTR for a blocked pipe; RLIMIT_FSIZE. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#define SIZE 100000

static char pattern[SIZE];

static int same(const char *buf, size_t off, size_t n)
{
	return memcmp(buf, pattern + off, n) == 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Writes SIZE bytes of the pattern into a new file and reopens it read-only. */
static int make_input(const char *path)
{
	int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(w >= 0);
	t_write_all(w, pattern, SIZE);
	CHECK(close(w) == 0);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	return fd;
}

static int fsize_child(void)
{
	const char *path = t_tmp_path("sendfile-fsize");
	int in = make_input(t_tmp_path("sendfile-fsize-in"));
	int out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(out >= 0);
	signal(SIGXFSZ, SIG_IGN);
	/* Only the soft limit, so that it can be lifted again before printing (stdout may be
	 * a file). */
	struct rlimit rl = { 1000, RLIM_INFINITY };
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	ssize_t first = sendfile(out, in, NULL, 4000);
	errno = 0;
	ssize_t second = sendfile(out, in, NULL, 10);
	int e = errno;
	rl.rlim_cur = RLIM_INFINITY;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	printf("fsize: sendfile 4000 -> %zd\n", first);
	printf("fsize: at the limit -> %zd %s\n", second, t_errname(e));
	T_EQ(e, EFBIG);
	struct stat st;
	CHECK(fstat(out, &st) == 0);
	printf("fsize: size=%ld\n", (long)st.st_size);
	unlink(path);
	unlink(t_tmp_path("sendfile-fsize-in"));
	return t_failures;
}

int main(void)
{
	for (int i = 0; i < SIZE; i++)
		pattern[i] = (char)(i % 251);
	static char buf[SIZE + 16];
	const char *inpath = t_tmp_path("sendfile-in");
	const char *outpath = t_tmp_path("sendfile-out");
	int in = make_input(inpath);
	int out = open(outpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(out >= 0);

	/* Without an offset pointer: both file offsets move. */
	printf("sendfile 4000 -> %zd\n", sendfile(out, in, NULL, 4000));
	printf("in offset=%ld out offset=%ld\n", (long)lseek(in, 0, SEEK_CUR),
	       (long)lseek(out, 0, SEEK_CUR));
	CHECK(pread(out, buf, 4000, 0) == 4000);
	printf("copied bytes match=%d\n", same(buf, 0, 4000));

	/* With one: the pointer moves, the input's file offset does not. */
	off_t off = 90000;
	ssize_t n = sendfile(out, in, &off, 50000);
	printf("sendfile at 90000 count 50000 -> %zd off=%ld\n", n, (long)off);
	printf("in offset still=%ld out offset=%ld\n", (long)lseek(in, 0, SEEK_CUR),
	       (long)lseek(out, 0, SEEK_CUR));
	CHECK(pread(out, buf, 10000, 4000) == 10000);
	printf("tail bytes match=%d\n", same(buf, 90000, 10000));
	n = sendfile(out, in, &off, 10);
	printf("at end of file -> %zd off=%ld\n", n, (long)off);
	off = 200000;
	printf("past end of file -> %zd\n", sendfile(out, in, &off, 10));
	printf("count 0 -> %zd\n", sendfile(out, in, NULL, 0));

	/* The whole file in one call, on to a larger count. */
	int out2 = open(outpath, O_RDWR | O_TRUNC);
	CHECK(out2 >= 0);
	off = 0;
	n = sendfile(out2, in, &off, 1 << 30);
	printf("whole file -> %zd off=%ld\n", n, (long)off);
	CHECK(pread(out2, buf, SIZE, 0) == SIZE);
	printf("whole file matches=%d\n", same(buf, 0, SIZE));
	close(out2);

	/* To a pipe: at most what the pipe holds. */
	int p[2];
	CHECK(pipe(p) == 0);
	off = 10;
	n = sendfile(p[1], in, &off, 100);
	printf("to pipe 100 -> %zd off=%ld\n", n, (long)off);
	CHECK(read(p[0], buf, sizeof buf) == 100);
	printf("pipe bytes match=%d\n", same(buf, 10, 100));
	off = 0;
	n = sendfile(p[1], in, &off, SIZE);
	printf("to empty pipe %d -> %zd off=%ld\n", SIZE, n, (long)off);
	CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
	T_ERRNO("to a full nonblocking pipe", sendfile(p[1], in, &off, 10), EAGAIN);
	t_read_all(p[0], buf, 65536);
	printf("pipe bytes match=%d\n", same(buf, 0, 65536));
	CHECK(fcntl(p[1], F_SETFL, 0) == 0);

	/* A blocked sendfile into a full pipe is interrupted by a signal. */
	CHECK(write(p[1], pattern, 65536) == 65536);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_alarm;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_ERRNO("into a full pipe, interrupted", sendfile(p[1], in, NULL, 10), EINTR);
	struct itimerval stop = { { 0, 0 }, { 0, 0 } };
	CHECK(setitimer(ITIMER_REAL, &stop, NULL) == 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	T_ERRNO("to a pipe without readers", sendfile(p[1], in, NULL, 10), EPIPE);
	close(p[1]);

	/* To a socket and to /dev/null. */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	off = 500;
	printf("to socket 3000 -> %zd\n", sendfile(sv[0], in, &off, 3000));
	t_read_all(sv[1], buf, 3000);
	printf("socket bytes match=%d\n", same(buf, 500, 3000));
	int null = open("/dev/null", O_WRONLY);
	CHECK(null >= 0);
	off = 0;
	n = sendfile(null, in, &off, 7000);
	printf("to /dev/null -> %zd off=%ld\n", n, (long)off);
	int zero = open("/dev/zero", O_RDONLY);
	CHECK(zero >= 0);
	CHECK(lseek(out, 0, SEEK_SET) == 0);
	printf("from /dev/zero -> %zd\n", sendfile(out, zero, NULL, 100));
	CHECK(pread(out, buf, 100, 0) == 100);
	int zeros = 1;
	for (int i = 0; i < 100; i++)
		zeros &= buf[i] == 0;
	printf("zeros=%d\n", zeros);

	/* Into stdout (a pipe under the runner). */
	const char *txtpath = t_tmp_path("sendfile-txt");
	int txt = open(txtpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(txt >= 0);
	t_write_all(txt, "sent to stdout\n", 15);
	off = 0;
	T_EQ(sendfile(STDOUT_FILENO, txt, &off, 100), 15);
	close(txt);
	unlink(txtpath);

	/* Errors. */
	int wronly = open(inpath, O_WRONLY);
	CHECK(wronly >= 0);
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK(dir >= 0);
	int efd = eventfd(0, 0);
	CHECK(efd >= 0);
	int append = open(outpath, O_WRONLY | O_APPEND);
	CHECK(append >= 0);
	CHECK(pipe(p) == 0);
	T_ERRNO("bad in_fd", sendfile(out, 9999, NULL, 10), EBADF);
	T_ERRNO("bad out_fd", sendfile(9999, in, NULL, 10), EBADF);
	T_ERRNO("in_fd write-only", sendfile(out, wronly, NULL, 10), EBADF);
	T_ERRNO("out_fd read-only", sendfile(in, in, NULL, 10), EBADF);
	T_ERRNO("offset with a pipe", sendfile(out, p[0], &off, 10), ESPIPE);
	T_ERRNO("offset with a socket", sendfile(out, sv[1], &off, 10), ESPIPE);
	T_ERRNO("in_fd a pipe", sendfile(out, p[0], NULL, 10), EINVAL);
	T_ERRNO("in_fd a pipe, out a pipe", sendfile(p[1], p[0], NULL, 10), EINVAL);
	T_ERRNO("in_fd a socket", sendfile(out, sv[1], NULL, 10), EINVAL);
	T_ERRNO("in_fd a directory", sendfile(out, dir, NULL, 10), EINVAL);
	T_ERRNO("in_fd an eventfd", sendfile(out, efd, NULL, 10), EINVAL);
	T_ERRNO("out_fd O_APPEND", sendfile(append, in, NULL, 10), EINVAL);
	off = -1;
	T_ERRNO("negative offset", sendfile(out, in, &off, 10), EINVAL);
	T_ERRNO("count with the sign bit", sendfile(out, in, NULL, (size_t)-1), EINVAL);
	T_ERRNO("bad offset pointer", sendfile(out, in, (off_t *)8, 10), EFAULT);

	int st = t_in_child(fsize_child);
	printf("fsize child: %s\n", t_status(st));

	unlink(inpath);
	unlink(outpath);
	return t_done();
}
