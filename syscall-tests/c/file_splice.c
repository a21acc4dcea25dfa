/* splice(2) and tee(2): file to pipe and back (with and without offset pointers), pipe to
 * pipe, pipe to socket and back, tee keeping the input; SPLICE_F_NONBLOCK, end of file, EPIPE,
 * EINTR; EINVAL, ESPIPE, EBADF and EFAULT cases. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>

#define SIZE 20000

static char pattern[SIZE];

static void on_alarm(int sig)
{
	(void)sig;
}

static void ticking(int on)
{
	struct itimerval it = { { 0, on ? 20000 : 0 }, { 0, on ? 20000 : 0 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

int main(void)
{
	for (int i = 0; i < SIZE; i++)
		pattern[i] = (char)('a' + i % 26);
	static char buf[65536];
	const char *path = t_tmp_path("splice");
	const char *path2 = t_tmp_path("splice2");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	t_write_all(fd, pattern, SIZE);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	int p[2], q[2];
	CHECK(pipe(p) == 0 && pipe(q) == 0);

	/* File to pipe, with an offset pointer: the file offset stays. */
	loff_t off = 100;
	ssize_t n = splice(fd, &off, p[1], NULL, 50, 0);
	printf("file->pipe at 100: %zd off=%ld file offset=%ld\n", n, (long)off,
	       (long)lseek(fd, 0, SEEK_CUR));
	CHECK(read(p[0], buf, sizeof buf) == 50);
	printf("bytes match=%d\n", memcmp(buf, pattern + 100, 50) == 0);
	/* Without one: the file offset moves. */
	n = splice(fd, NULL, p[1], NULL, 30, 0);
	printf("file->pipe: %zd file offset=%ld\n", n, (long)lseek(fd, 0, SEEK_CUR));
	/* Near the end of the file: short; at the end: 0. */
	off = SIZE - 10;
	n = splice(fd, &off, p[1], NULL, 100, 0);
	printf("file->pipe near end: %zd off=%ld\n", n, (long)off);
	n = splice(fd, &off, p[1], NULL, 100, 0);
	printf("file->pipe at end: %zd\n", n);
	CHECK(read(p[0], buf, sizeof buf) == 40);
	printf("bytes match=%d\n", memcmp(buf, pattern, 30) == 0 && memcmp(buf + 30, pattern + SIZE - 10, 10) == 0);

	/* Pipe to file, with and without an offset pointer. */
	int out = open(path2, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(out >= 0);
	CHECK(write(p[1], "hello, world", 12) == 12);
	off = 1000;
	n = splice(p[0], NULL, out, &off, 5, 0);
	printf("pipe->file at 1000: %zd off=%ld file offset=%ld\n", n, (long)off,
	       (long)lseek(out, 0, SEEK_CUR));
	n = splice(p[0], NULL, out, NULL, 100, 0);
	printf("pipe->file rest: %zd file offset=%ld\n", n, (long)lseek(out, 0, SEEK_CUR));
	memset(buf, 0, 16);
	CHECK(pread(out, buf, 5, 1000) == 5);
	printf("at 1000: [%s]\n", buf);
	memset(buf, 0, 16);
	CHECK(pread(out, buf, 7, 0) == 7);
	printf("at 0: [%s]\n", buf);

	/* Pipe to pipe moves the bytes. */
	CHECK(write(p[1], "0123456789", 10) == 10);
	n = splice(p[0], NULL, q[1], NULL, 4, 0);
	printf("pipe->pipe 4: %zd\n", n);
	memset(buf, 0, 16);
	CHECK(read(q[0], buf, sizeof buf) == 4);
	printf("moved [%s]\n", buf);
	n = splice(p[0], NULL, q[1], NULL, 100, 0);
	printf("pipe->pipe rest: %zd\n", n);
	memset(buf, 0, 16);
	CHECK(read(q[0], buf, sizeof buf) == 6);
	printf("moved [%s]\n", buf);

	/* tee copies without consuming. */
	CHECK(write(p[1], "abcdef", 6) == 6);
	n = tee(p[0], q[1], 4, 0);
	printf("tee 4: %zd\n", n);
	memset(buf, 0, 16);
	CHECK(read(q[0], buf, sizeof buf) == 4);
	printf("teed [%s]\n", buf);
	n = tee(p[0], q[1], 100, 0);
	printf("tee all: %zd\n", n);
	memset(buf, 0, 16);
	CHECK(read(q[0], buf, sizeof buf) == 6);
	printf("teed [%s]\n", buf);
	memset(buf, 0, 16);
	CHECK(read(p[0], buf, sizeof buf) == 6);
	printf("input still has [%s]\n", buf);

	/* Pipe to socket and socket to pipe. */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(write(p[1], "socket data", 11) == 11);
	n = splice(p[0], NULL, sv[0], NULL, 100, 0);
	printf("pipe->socket: %zd\n", n);
	n = splice(sv[1], NULL, q[1], NULL, 100, 0);
	printf("socket->pipe: %zd\n", n);
	memset(buf, 0, 16);
	CHECK(read(q[0], buf, sizeof buf) == 11);
	printf("through the socket [%s]\n", buf);

	/* Out of a pipe into stdout (itself a pipe under the runner). */
	CHECK(write(p[1], "spliced to stdout\n", 18) == 18);
	T_EQ(splice(p[0], NULL, STDOUT_FILENO, NULL, 100, 0), 18);

	/* A big file into an empty pipe: what the pipe holds. */
	int big = open(t_tmp_path("splice-big"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(big >= 0);
	for (int i = 0; i < 5; i++)
		t_write_all(big, pattern, SIZE);
	off = 0;
	n = splice(big, &off, p[1], NULL, 5 * SIZE, 0);
	printf("big file->empty pipe: %zd\n", n);
	T_ERRNO("file->full pipe NONBLOCK", splice(big, &off, p[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	T_ERRNO("pipe->full pipe NONBLOCK", ({
			CHECK(write(q[1], "x", 1) == 1);
			splice(q[0], NULL, p[1], NULL, 1, SPLICE_F_NONBLOCK);
		}),
		EAGAIN);
	T_ERRNO("tee->full pipe NONBLOCK", tee(q[0], p[1], 1, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK(read(q[0], buf, 1) == 1);
	/* Drain p: everything arrived in order. */
	t_read_all(p[0], buf, 65536);
	int ok = 1;
	for (int i = 0; i < 65536; i++)
		ok &= buf[i] == pattern[i % SIZE];
	printf("big bytes match=%d\n", ok);

	/* Empty pipes. */
	T_ERRNO("pipe->file NONBLOCK empty", splice(p[0], NULL, out, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	T_ERRNO("pipe->pipe NONBLOCK empty", splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	T_ERRNO("tee NONBLOCK empty", tee(p[0], q[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	T_ERRNO("pipe->file O_NONBLOCK empty", splice(p[0], NULL, out, NULL, 10, 0), EAGAIN);
	CHECK(fcntl(p[0], F_SETFL, 0) == 0);

	/* A blocked splice or tee is interrupted by a signal. */
	struct sigaction sa = { 0 };
	sa.sa_handler = on_alarm;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	ticking(1);
	T_ERRNO("pipe->file blocked, interrupted", splice(p[0], NULL, out, NULL, 10, 0), EINTR);
	T_ERRNO("pipe->pipe blocked, interrupted", splice(p[0], NULL, q[1], NULL, 10, 0), EINTR);
	T_ERRNO("tee blocked, interrupted", tee(p[0], q[1], 10, 0), EINTR);
	ticking(0);

	/* End of file: no writers. */
	int r[2];
	CHECK(pipe(r) == 0);
	close(r[1]);
	printf("pipe->file no writers: %zd\n", splice(r[0], NULL, out, NULL, 10, 0));
	printf("pipe->pipe no writers: %zd\n", splice(r[0], NULL, q[1], NULL, 10, 0));
	printf("tee no writers: %zd\n", tee(r[0], q[1], 10, 0));
	close(r[0]);
	/* No readers. */
	CHECK(pipe(r) == 0);
	close(r[0]);
	signal(SIGPIPE, SIG_IGN);
	T_ERRNO("file->pipe no readers", splice(fd, NULL, r[1], NULL, 10, 0), EPIPE);
	CHECK(write(p[1], "z", 1) == 1);
	T_ERRNO("pipe->pipe no readers", splice(p[0], NULL, r[1], NULL, 10, 0), EPIPE);
	T_ERRNO("tee no readers", tee(p[0], r[1], 10, 0), EPIPE);
	close(r[1]);
	CHECK(read(p[0], buf, 1) == 1);

	/* Errors. */
	int rdonly = open(path, O_RDONLY);
	int wronly = open(path, O_WRONLY);
	int append = open(path2, O_WRONLY | O_APPEND);
	int efd = eventfd(0, 0);
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK(rdonly >= 0 && wronly >= 0 && append >= 0 && efd >= 0 && dir >= 0);
	printf("len 0 with bad fds: %zd\n", splice(9999, NULL, 9998, NULL, 0, 0));
	printf("tee len 0: %zd\n", tee(p[0], q[1], 0, 0));
	T_ERRNO("bad flags", splice(fd, NULL, p[1], NULL, 10, 0x100), EINVAL);
	T_ERRNO("tee bad flags", tee(p[0], q[1], 10, 0x100), EINVAL);
	T_ERRNO("bad fd_in", splice(9999, NULL, p[1], NULL, 10, 0), EBADF);
	T_ERRNO("bad fd_out", splice(fd, NULL, 9999, NULL, 10, 0), EBADF);
	T_ERRNO("tee bad fd", tee(9999, q[1], 10, 0), EBADF);
	T_ERRNO("file->file", splice(fd, NULL, out, NULL, 10, 0), EINVAL);
	T_ERRNO("socket->file", splice(sv[1], NULL, out, NULL, 10, 0), EINVAL);
	T_ERRNO("eventfd->pipe", splice(efd, NULL, p[1], NULL, 10, 0), EINVAL);
	T_ERRNO("directory->pipe", splice(dir, NULL, p[1], NULL, 10, 0), EINVAL);
	T_ERRNO("pipe->eventfd", ({
			CHECK(write(p[1], "e", 1) == 1);
			splice(p[0], NULL, efd, NULL, 10, 0);
		}),
		EINVAL);
	CHECK(read(p[0], buf, 1) == 1);
	T_ERRNO("same pipe", splice(p[0], NULL, p[1], NULL, 10, 0), EINVAL);
	T_ERRNO("tee same pipe", tee(p[0], p[1], 10, 0), EINVAL);
	T_ERRNO("tee file", tee(fd, q[1], 10, 0), EINVAL);
	T_ERRNO("tee to file", tee(p[0], out, 10, 0), EINVAL);
	off = 0;
	T_ERRNO("offset for the input pipe", splice(p[0], &off, out, NULL, 10, 0), ESPIPE);
	T_ERRNO("offset for the output pipe", splice(fd, NULL, p[1], &off, 10, 0), ESPIPE);
	T_ERRNO("offsets pipe->pipe", splice(p[0], &off, q[1], NULL, 10, 0), ESPIPE);
	T_ERRNO("offset for a socket", splice(sv[1], &off, p[1], NULL, 10, 0), EINVAL);
	T_ERRNO("pipe write end as input", splice(p[1], NULL, out, NULL, 10, 0), EBADF);
	T_ERRNO("pipe read end as output", splice(fd, NULL, p[0], NULL, 10, 0), EBADF);
	T_ERRNO("write-only file as input", splice(wronly, NULL, p[1], NULL, 10, 0), EBADF);
	T_ERRNO("read-only file as output", splice(p[0], NULL, rdonly, NULL, 10, 0), EBADF);
	T_ERRNO("tee wrong ends", tee(p[1], q[0], 10, 0), EBADF);
	T_ERRNO("O_APPEND output", splice(p[0], NULL, append, NULL, 10, 0), EINVAL);
	off = -1;
	T_ERRNO("negative input offset", splice(fd, &off, p[1], NULL, 10, 0), EINVAL);
	CHECK(write(p[1], "n", 1) == 1);
	T_ERRNO("negative output offset", splice(p[0], NULL, out, &off, 10, 0), EINVAL);
	CHECK(read(p[0], buf, 1) == 1);
	T_ERRNO("bad offset pointer", splice(fd, (loff_t *)8, p[1], NULL, 10, 0), EFAULT);

	unlink(path);
	unlink(path2);
	unlink(t_tmp_path("splice-big"));
	return t_done();
}
