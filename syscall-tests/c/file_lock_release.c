/* When fcntl record locks go: closing ANY descriptor of the file (another open, a dup, dup2
 * over it, close_range, close-on-exec at execve) releases the process's locks on it; they are
 * not inherited by fork, a child's close does not touch its parent's locks, and they go when
 * the process exits or is killed. Threads share their process's locks. flock and OFD locks
 * survive the close of another descriptor. */
#include "test_util.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>

static int lk(int f, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(f, cmd, &fl);
}

/* Whether another process sees a write-lock conflict on byte `at` of fd's file. */
static const char *seen(int fd, off_t at)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };
		if (fcntl(fd, F_GETLK, &fl) != 0)
			_exit(2);
		_exit(fl.l_type == F_UNLCK ? 0 : 1);
	}
	int st = t_wait(pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		return "error";
	return WEXITSTATUS(st) ? "locked" : "free";
}

static int lock_fd;

static void *thread_lock(void *arg)
{
	(void)arg;
	long r = lk(lock_fd, F_SETLK, F_WRLCK, 400, 10);
	return (void *)r;
}

static void *thread_close(void *arg)
{
	return (void *)(long)close((int)(long)arg);
}

static int exec_role(char **argv)
{
	int a = atoi(argv[2]), x = atoi(argv[3]);
	printf("after exec: kept lock %s, lock with a close-on-exec descriptor %s\n", seen(a, 5), seen(x, 5));
	return t_done();
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "exec-role") == 0)
		return exec_role(argv);
	const char *path = t_tmp_path("release");
	int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(a >= 0);

	T_ERRNO("lock 0-9", lk(a, F_SETLK, F_WRLCK, 0, 10), 0);
	printf("held: %s\n", seen(a, 5));
	int b = open(path, O_RDONLY);
	CHECK(b >= 0);
	CHECK(close(b) == 0);
	printf("after closing another open of the file: %s\n", seen(a, 5));

	T_ERRNO("lock 0-9", lk(a, F_SETLK, F_WRLCK, 0, 10), 0);
	int d = dup(a);
	CHECK(d >= 0);
	CHECK(close(d) == 0);
	printf("after closing a dup: %s\n", seen(a, 5));

	int p[2];
	CHECK(pipe(p) == 0);
	T_ERRNO("lock 0-9", lk(a, F_SETLK, F_WRLCK, 0, 10), 0);
	d = dup(a);
	CHECK(d >= 0);
	CHECK(dup2(p[0], d) == d);
	printf("after dup2 over a dup: %s\n", seen(a, 5));
	close(d);

	T_ERRNO("lock 0-9", lk(a, F_SETLK, F_WRLCK, 0, 10), 0);
	d = dup(a);
	CHECK(d >= 0);
	CHECK(syscall(SYS_close_range, d, d, 0) == 0);
	printf("after close_range of a dup: %s\n", seen(a, 5));

	/* Closing a pipe or another file does not matter. */
	T_ERRNO("lock 0-9", lk(a, F_SETLK, F_WRLCK, 0, 10), 0);
	close(p[0]);
	close(p[1]);
	printf("after closing unrelated descriptors: %s\n", seen(a, 5));

	/* Not inherited: the child conflicts with its parent, and its closes do not release. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int bad = 0;
		if (lk(a, F_SETLK, F_WRLCK, 0, 10) != -1 || errno != EAGAIN)
			bad |= 1;
		if (lk(a, F_SETLK, F_WRLCK, 100, 10) != 0)
			bad |= 2;
		close(a);
		int c = open(path, O_RDWR);
		if (c < 0 || lk(c, F_SETLK, F_WRLCK, 100, 10) != 0)
			bad |= 4;
		close(c);
		_exit(bad);
	}
	printf("child: %s\n", t_status(t_wait(pid)));
	printf("parent's lock after the child closed its copies: %s\n", seen(a, 5));
	printf("child's lock after it closed the file: %s\n", seen(a, 105));

	/* A child's locks go with it: at exit, and when killed. */
	int sync[2];
	CHECK(pipe(sync) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(lk(a, F_SETLK, F_WRLCK, 200, 10) == 0 ? 0 : 1);
	printf("child (locks and exits): %s\n", t_status(t_wait(pid)));
	T_ERRNO("lock the exited child's range", lk(a, F_SETLK, F_WRLCK, 200, 10), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (lk(a, F_SETLK, F_WRLCK, 300, 10) != 0)
			_exit(1);
		t_write_all(sync[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	t_read_all(sync[0], &c, 1);
	T_ERRNO("lock the live child's range", lk(a, F_SETLK, F_WRLCK, 300, 10), EAGAIN);
	CHECK(kill(pid, SIGKILL) == 0);
	printf("child (killed): %s\n", t_status(t_wait(pid)));
	T_ERRNO("lock the killed child's range", lk(a, F_SETLK, F_WRLCK, 300, 10), 0);

	/* Threads share the process's locks. */
	lock_fd = a;
	pthread_t th;
	void *ret;
	CHECK(pthread_create(&th, NULL, thread_lock, NULL) == 0);
	CHECK(pthread_join(th, &ret) == 0);
	printf("thread lock: %s\n", t_errname(ret == 0 ? 0 : errno));
	T_ERRNO("main thread locks the thread's range", lk(a, F_SETLK, F_WRLCK, 400, 10), 0);
	printf("thread's lock seen from a child: %s\n", seen(a, 405));
	d = dup(a);
	CHECK(d >= 0);
	CHECK(pthread_create(&th, NULL, thread_close, (void *)(long)d) == 0);
	CHECK(pthread_join(th, &ret) == 0);
	printf("after a thread closed a dup: 0-9 %s, 400-409 %s\n", seen(a, 5), seen(a, 405));

	/* flock and OFD locks belong to the description: another close leaves them. */
	T_ERRNO("flock LOCK_EX", flock(a, LOCK_EX), 0);
	struct flock ofd = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 500, .l_len = 10 };
	T_ERRNO("F_OFD_SETLK", fcntl(a, F_OFD_SETLK, &ofd), 0);
	b = open(path, O_RDONLY);
	CHECK(b >= 0);
	CHECK(close(b) == 0);
	b = open(path, O_RDWR);
	CHECK(b >= 0);
	T_ERRNO("flock from another open after a close", flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	T_ERRNO("F_OFD_SETLK from another open after a close", fcntl(b, F_OFD_SETLK, &ofd), EAGAIN);
	printf("OFD lock seen from a child: %s\n", seen(a, 505));
	CHECK(close(b) == 0);

	/* execve keeps the locks, but closing a close-on-exec descriptor of a file releases the
	 * locks on that file. */
	const char *path2 = t_tmp_path("release2");
	int x = open(path2, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(x >= 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (lk(a, F_SETLK, F_WRLCK, 0, 10) != 0 || lk(x, F_SETLK, F_WRLCK, 0, 10) != 0)
			_exit(10);
		int y = fcntl(x, F_DUPFD_CLOEXEC, 0);
		if (y < 0)
			_exit(11);
		char sa[16], sx[16];
		snprintf(sa, sizeof sa, "%d", a);
		snprintf(sx, sizeof sx, "%d", x);
		execl(argv[0], argv[0], "exec-role", sa, sx, (char *)NULL);
		_exit(12);
	}
	printf("exec child: %s\n", t_status(t_wait(pid)));
	close(x);
	unlink(path2);

	close(a);
	unlink(path);
	return t_done();
}
