/* flock(2): shared and exclusive locks between open file descriptions, LOCK_NB, conversion
 * (not atomic: a failed conversion loses the old lock), locks shared by dup'ed and inherited
 * descriptors and released with the description's last descriptor, pipes and host files,
 * errors. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/file.h>

static void wait_byte(int fd)
{
	char c;
	t_read_all(fd, &c, 1);
}

static void send_byte(int fd)
{
	t_write_all(fd, "x", 1);
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *path = t_tmp_path("flock");
	int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int b = open(path, O_RDWR);
	CHECK(a >= 0 && b >= 0);

	/* Shared locks coexist; an exclusive one conflicts with them. */
	T_ERRNO("a LOCK_SH", flock(a, LOCK_SH), 0);
	T_ERRNO("b LOCK_SH", flock(b, LOCK_SH), 0);
	T_ERRNO("b LOCK_SH again", flock(b, LOCK_SH | LOCK_NB), 0);
	T_ERRNO("b LOCK_EX|LOCK_NB while a shares", flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* The failed conversion dropped b's shared lock: a may now convert. */
	T_ERRNO("a LOCK_EX|LOCK_NB after b's failed conversion", flock(a, LOCK_EX | LOCK_NB), 0);
	T_ERRNO("b LOCK_SH|LOCK_NB while a is exclusive", flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	T_ERRNO("b LOCK_EX|LOCK_NB while a is exclusive", flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	T_ERRNO("a LOCK_EX again", flock(a, LOCK_EX | LOCK_NB), 0);
	T_ERRNO("a downgrades to LOCK_SH", flock(a, LOCK_SH | LOCK_NB), 0);
	T_ERRNO("b LOCK_SH after the downgrade", flock(b, LOCK_SH | LOCK_NB), 0);
	T_ERRNO("a LOCK_UN", flock(a, LOCK_UN), 0);
	T_ERRNO("a LOCK_UN without a lock", flock(a, LOCK_UN), 0);
	T_ERRNO("a LOCK_EX|LOCK_NB while b shares", flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	T_ERRNO("b LOCK_UN", flock(b, LOCK_UN), 0);
	T_ERRNO("a LOCK_EX|LOCK_NB when free", flock(a, LOCK_EX | LOCK_NB), 0);

	/* flock locks do not interact with fcntl record locks. */
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	T_ERRNO("fcntl F_SETLK on a flock'ed file", fcntl(b, F_SETLK, &fl), 0);
	fl.l_type = F_UNLCK;
	CHECK(fcntl(b, F_SETLK, &fl) == 0);

	/* dup'ed descriptors share the description's lock, which goes with the last of them. */
	int a2 = dup(a);
	CHECK(a2 >= 0);
	T_ERRNO("dup LOCK_EX (same description)", flock(a2, LOCK_EX | LOCK_NB), 0);
	CHECK(close(a) == 0);
	T_ERRNO("b LOCK_SH|LOCK_NB while the dup is open", flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	int b2 = open(path, O_RDONLY);
	CHECK(b2 >= 0);
	CHECK(close(b2) == 0);
	T_ERRNO("closing another open of the file keeps the lock", flock(b, LOCK_SH | LOCK_NB),
		EWOULDBLOCK);
	CHECK(close(a2) == 0);
	T_ERRNO("b LOCK_EX|LOCK_NB after the last close", flock(b, LOCK_EX | LOCK_NB), 0);
	T_ERRNO("b LOCK_UN", flock(b, LOCK_UN), 0);

	/* Across fork the child's descriptor is the same description: same lock. */
	a = open(path, O_RDWR);
	CHECK(a >= 0);
	T_ERRNO("parent LOCK_EX", flock(a, LOCK_EX), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int bad = 0;
		if (flock(a, LOCK_EX | LOCK_NB) != 0)
			bad |= 1;
		int c = open(path, O_RDONLY);
		if (c < 0 || flock(c, LOCK_SH | LOCK_NB) != -1 || errno != EWOULDBLOCK)
			bad |= 2;
		/* The child may unlock the lock it shares with its parent. */
		if (flock(a, LOCK_UN) != 0)
			bad |= 4;
		if (flock(c, LOCK_SH | LOCK_NB) != 0)
			bad |= 8;
		_exit(bad);
	}
	printf("child (inherited lock): %s\n", t_status(t_wait(pid)));
	T_ERRNO("b LOCK_EX|LOCK_NB after the child unlocked", flock(b, LOCK_EX | LOCK_NB), 0);
	CHECK(flock(b, LOCK_UN) == 0);

	/* The lock lives while the child still holds the description. */
	int go[2];
	CHECK(pipe(go) == 0);
	T_ERRNO("parent LOCK_EX", flock(a, LOCK_EX), 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		wait_byte(go[0]);
		_exit(0);
	}
	close(go[0]);
	CHECK(close(a) == 0);
	T_ERRNO("b LOCK_SH|LOCK_NB while the child has the description", flock(b, LOCK_SH | LOCK_NB),
		EWOULDBLOCK);
	send_byte(go[1]);
	printf("child (holder): %s\n", t_status(t_wait(pid)));
	close(go[1]);
	T_ERRNO("b LOCK_SH|LOCK_NB after the child exited", flock(b, LOCK_SH | LOCK_NB), 0);
	CHECK(flock(b, LOCK_UN) == 0);

	/* Access modes do not matter; O_PATH descriptors are refused. */
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY);
	CHECK(ro >= 0 && wo >= 0);
	T_ERRNO("LOCK_EX on O_RDONLY", flock(ro, LOCK_EX | LOCK_NB), 0);
	T_ERRNO("LOCK_SH on O_WRONLY while O_RDONLY is exclusive", flock(wo, LOCK_SH | LOCK_NB),
		EWOULDBLOCK);
	CHECK(close(ro) == 0);
	T_ERRNO("LOCK_SH on O_WRONLY", flock(wo, LOCK_SH | LOCK_NB), 0);
	CHECK(close(wo) == 0);
	int pfd = open(path, O_PATH);
	CHECK(pfd >= 0);
	T_ERRNO("LOCK_SH on O_PATH", flock(pfd, LOCK_SH), EBADF);
	T_ERRNO("LOCK_UN on O_PATH", flock(pfd, LOCK_UN), EBADF);
	close(pfd);

	/* Errors: the operation is checked before the descriptor. */
	T_ERRNO("op 0", flock(b, 0), EINVAL);
	T_ERRNO("LOCK_NB alone", flock(b, LOCK_NB), EINVAL);
	T_ERRNO("LOCK_SH|LOCK_EX", flock(b, LOCK_SH | LOCK_EX), EINVAL);
	T_ERRNO("LOCK_SH|LOCK_UN", flock(b, LOCK_SH | LOCK_UN), EINVAL);
	T_ERRNO("op 16", flock(b, 16), EINVAL);
	T_ERRNO("bad op on a bad fd", flock(-1, LOCK_SH | LOCK_EX | LOCK_NB), EINVAL);
	/* LOCK_MAND requests are ignored (and succeed) since Linux 5.15. */
	T_ERRNO("LOCK_MAND", flock(b, 32 | 64), 0);
	T_ERRNO("fd -1", flock(-1, LOCK_SH), EBADF);
	T_ERRNO("closed fd", flock(999, LOCK_UN), EBADF);

	/* A pipe's two ends are two descriptions of one inode. */
	int p[2];
	CHECK(pipe(p) == 0);
	T_ERRNO("pipe read end LOCK_EX", flock(p[0], LOCK_EX | LOCK_NB), 0);
	T_ERRNO("pipe write end LOCK_SH", flock(p[1], LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(p[0]);
	T_ERRNO("pipe write end LOCK_SH after close", flock(p[1], LOCK_SH | LOCK_NB), 0);
	close(p[1]);

	/* Host files (the test binary, read-only). */
	int h1 = open(argv[0], O_RDONLY), h2 = open(argv[0], O_RDONLY);
	CHECK(h1 >= 0 && h2 >= 0);
	T_ERRNO("host file LOCK_EX", flock(h1, LOCK_EX | LOCK_NB), 0);
	T_ERRNO("host file second open LOCK_SH", flock(h2, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	close(h1);
	T_ERRNO("host file LOCK_SH after close", flock(h2, LOCK_SH | LOCK_NB), 0);
	close(h2);

	close(b);
	unlink(path);
	return t_done();
}
