/* Pipes: data order, EOF, EPIPE/SIGPIPE, O_NONBLOCK EAGAIN, capacity, pipe2 flags, atomic
 * writes up to PIPE_BUF, F_GETPIPE_SZ/F_SETPIPE_SZ, errors. */
#include "test_util.h"
#include <fcntl.h>
#include <limits.h>

int main(void)
{
	int p[2];
	T_ERRNO("pipe", pipe(p), 0);
	CHECK(write(p[1], "abc", 3) == 3 && write(p[1], "def", 3) == 3);
	char buf[16] = { 0 };
	printf("read 4=%zd [%.4s]\n", read(p[0], buf, 4), buf);
	memset(buf, 0, sizeof buf);
	printf("read rest=%zd [%s]\n", read(p[0], buf, sizeof buf), buf);
	printf("fds distinct and >2=%d\n", p[0] > 2 && p[1] > 2 && p[0] != p[1]);
	T_ERRNO("write to read end", write(p[0], "x", 1), EBADF);
	T_ERRNO("read from write end", read(p[1], buf, 1), EBADF);

	/* Nonblocking. */
	int fl = fcntl(p[0], F_GETFL);
	CHECK(fcntl(p[0], F_SETFL, fl | O_NONBLOCK) == 0);
	T_ERRNO("nonblocking read empty", read(p[0], buf, 1), EAGAIN);
	CHECK(fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK) == 0);
	printf("F_GETPIPE_SZ=%d\n", fcntl(p[1], F_GETPIPE_SZ));
	static char big[1 << 20];
	size_t total = 0;
	for (;;) {
		ssize_t w = write(p[1], big, 4096);
		if (w < 0) {
			printf("filled: total=%zu then %s\n", total, t_errname(errno));
			break;
		}
		total += (size_t)w;
	}
	/* Draining a page makes room for a page. */
	CHECK(read(p[0], big, 4096) == 4096);
	printf("after draining a page: write 4096=%zd\n", write(p[1], big, 4096));

	/* EOF once all writers are gone. */
	CHECK(close(p[1]) == 0);
	size_t drained = 0;
	for (;;) {
		ssize_t r = read(p[0], big, sizeof big);
		if (r <= 0) {
			printf("drained=%zu then read=%zd\n", drained, r);
			break;
		}
		drained += (size_t)r;
	}
	close(p[0]);

	/* EPIPE and SIGPIPE once all readers are gone. */
	CHECK(pipe(p) == 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	T_ERRNO("write without readers", write(p[1], "x", 1), EPIPE);
	close(p[1]);

	/* pipe2 flags. */
	T_ERRNO("pipe2 O_CLOEXEC|O_NONBLOCK", pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	printf("pipe2: cloexec=%d/%d nonblock=%d/%d rdonly=%d wronly=%d\n", (fcntl(p[0], F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(p[1], F_GETFD) & FD_CLOEXEC) != 0, (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0,
	       (fcntl(p[1], F_GETFL) & O_NONBLOCK) != 0, (fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY,
	       (fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
	T_ERRNO("F_SETPIPE_SZ 1MiB", fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 0);
	printf("F_GETPIPE_SZ=%d\n", fcntl(p[0], F_GETPIPE_SZ));
	T_ERRNO("F_SETPIPE_SZ 4097 rounds up", fcntl(p[1], F_SETPIPE_SZ, 4097), 0);
	printf("F_GETPIPE_SZ=%d\n", fcntl(p[0], F_GETPIPE_SZ));
	T_ERRNO("pipe2 bad flags", pipe2(p, O_APPEND), EINVAL);
	T_ERRNO("pipe bad pointer", syscall(SYS_pipe, (int *)1), EFAULT);

	/* Blocking: a child's writes, in PIPE_BUF chunks, arrive whole and in order. */
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char chunk[PIPE_BUF];
		for (int i = 0; i < 64; i++) {
			memset(chunk, 'A' + i % 26, sizeof chunk);
			t_write_all(p[1], chunk, sizeof chunk);
		}
		_exit(0);
	}
	close(p[1]);
	int ok = 1;
	char chunk[PIPE_BUF];
	for (int i = 0; i < 64; i++) {
		t_read_all(p[0], chunk, sizeof chunk);
		ok &= chunk[0] == 'A' + i % 26 && chunk[PIPE_BUF - 1] == 'A' + i % 26;
	}
	printf("64 chunks in order=%d eof=%zd\n", ok, read(p[0], chunk, 1));
	t_wait(pid);
	return t_done();
}
