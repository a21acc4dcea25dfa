/* fcntl record locks: F_SETLK/F_GETLK byte ranges split and merged as POSIX says, read and
 * write lock conflicts seen from another process (with the holder's pid), l_len 0 (to EOF),
 * negative lengths, SEEK_CUR and SEEK_END, and the EINVAL/EBADF/EOVERFLOW/EFAULT cases. */
#include "test_util.h"
#include <fcntl.h>
#include <limits.h>

static int fd;
static int phase;

static int lk(int f, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
	return fcntl(f, cmd, &fl);
}

static const char *tname(short t)
{
	return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

/* F_GETLK for [start, start+len) from this process; prints what conflicts. */
static void probe(short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len, .l_pid = 4242 };
	printf("  %s %lld,%lld -> ", tname(type), (long long)start, (long long)len);
	if (fcntl(fd, F_GETLK, &fl) != 0) {
		printf("%s\n", t_errname(errno));
		return;
	}
	if (fl.l_type == F_UNLCK) {
		printf("free (fields kept=%d)\n", fl.l_start == start && fl.l_len == len && fl.l_pid == 4242 &&
							  fl.l_whence == SEEK_SET);
		return;
	}
	printf("%s start=%lld len=%lld whence=%d pid_is_holder=%d\n", tname(fl.l_type), (long long)fl.l_start,
	       (long long)fl.l_len, fl.l_whence, fl.l_pid == getppid());
}

/* What another process sees, by phase. */
static int child_probes(void)
{
	printf("phase %d:\n", phase);
	switch (phase) {
	case 1: /* write lock 0-99 with 40-59 unlocked */
		probe(F_WRLCK, 0, 1);
		probe(F_RDLCK, 39, 1);
		probe(F_WRLCK, 40, 20);
		probe(F_WRLCK, 59, 1);
		probe(F_WRLCK, 60, 1);
		probe(F_WRLCK, 50, 100);
		probe(F_WRLCK, 99, 1);
		probe(F_WRLCK, 100, 10);
		probe(F_WRLCK, 0, 0);
		T_ERRNO("  child F_SETLK the hole", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 40, 20), 0);
		T_ERRNO("  child F_SETLK over the lock", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 30, 20), EAGAIN);
		T_ERRNO("  child F_SETLK read over the lock", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 99, 1), EAGAIN);
		break;
	case 2: /* read lock 200-299 */
		probe(F_RDLCK, 250, 1);
		probe(F_WRLCK, 250, 1);
		probe(F_WRLCK, 0, 0);
		T_ERRNO("  child F_SETLK read", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 250, 10), 0);
		T_ERRNO("  child F_SETLK write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 290, 20), EAGAIN);
		break;
	case 3: /* read 0-49, write 50-59, read 60-99 */
		probe(F_RDLCK, 0, 0);
		probe(F_WRLCK, 0, 0);
		probe(F_WRLCK, 55, 100);
		probe(F_WRLCK, 70, 1);
		probe(F_RDLCK, 60, 40);
		break;
	case 4: /* downgraded back: read 0-99 in one piece */
		probe(F_WRLCK, 0, 0);
		probe(F_WRLCK, 99, 1);
		break;
	case 5: /* write 0-9 and 10-19 (merged), read 20-29 */
		probe(F_RDLCK, 0, 0);
		probe(F_WRLCK, 15, 10);
		probe(F_WRLCK, 20, 1);
		probe(F_RDLCK, 25, 100);
		break;
	case 6: /* to EOF, SEEK_END, SEEK_CUR, negative lengths */
		probe(F_WRLCK, 5000, 1);
		probe(F_RDLCK, 2000, 0);
		probe(F_WRLCK, 2999, 1);
		probe(F_WRLCK, LLONG_MAX, 1);
		probe(F_WRLCK, 1499, 1);
		probe(F_WRLCK, 1500, 1);
		probe(F_WRLCK, 1000, 0);
		probe(F_WRLCK, 0, 2000);
		probe(F_WRLCK, 0, 60);
		probe(F_WRLCK, 64, 1);
		probe(F_WRLCK, 65, 100);
		probe(F_WRLCK, 300, -100);
		probe(F_WRLCK, 450, 100);
		probe(F_WRLCK, 480, 15);
		break;
	case 7: /* a host file (the test binary), read lock 0-99 */
		probe(F_RDLCK, 0, 0);
		probe(F_WRLCK, 50, 1);
		probe(F_WRLCK, 100, 1);
		T_ERRNO("  child F_SETLK write", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
		T_ERRNO("  child F_SETLK read", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), 0);
		break;
	}
	return t_failures ? 1 : 0;
}

static void run_probes(int p)
{
	phase = p;
	int st = t_in_child(child_probes);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("phase %d child: %s\n", p, t_status(st));
		t_failures++;
	}
}

static void clear(void)
{
	CHECK(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *path = t_tmp_path("range");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 500) == 0);

	T_ERRNO("lock 0-99", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100), 0);
	T_ERRNO("unlock 40-59", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 20), 0);
	run_probes(1);

	clear();
	T_ERRNO("read lock 200-299", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 200, 100), 0);
	run_probes(2);

	clear();
	T_ERRNO("read lock 0-99", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 100), 0);
	T_ERRNO("write lock 50-59 inside it", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 50, 10), 0);
	run_probes(3);
	T_ERRNO("read lock 50-59 again", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 50, 10), 0);
	run_probes(4);

	clear();
	T_ERRNO("write 0-9", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10), 0);
	T_ERRNO("write 10-19", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10), 0);
	T_ERRNO("read 20-29", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 20, 10), 0);
	run_probes(5);

	clear();
	T_ERRNO("write 1000-EOF", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1000, 0), 0);
	T_ERRNO("unlock 1500-EOF", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 1500, 0), 0);
	T_ERRNO("write 3000-EOF", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 3000, 0), 0);
	T_ERRNO("write SEEK_END-100 len 50", lk(fd, F_SETLK, F_WRLCK, SEEK_END, -100, 50), 0);
	CHECK(lseek(fd, 50, SEEK_SET) == 50);
	T_ERRNO("write SEEK_CUR+10 len 5", lk(fd, F_SETLK, F_WRLCK, SEEK_CUR, 10, 5), 0);
	T_ERRNO("write 300 len -100", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 300, -100), 0);
	T_ERRNO("write SEEK_END len -10", lk(fd, F_SETLK, F_WRLCK, SEEK_END, 0, -10), 0);
	run_probes(6);

	/* The owner's own locks never conflict with it. */
	printf("own view:\n");
	probe(F_WRLCK, 0, 0);
	T_ERRNO("relock own range as read", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0), 0);
	probe(F_WRLCK, 0, 0);
	clear();

	/* Bad values. */
	T_ERRNO("l_type 7", lk(fd, F_SETLK, 7, SEEK_SET, 0, 1), EINVAL);
	T_ERRNO("F_GETLK with F_UNLCK", lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1), EINVAL);
	T_ERRNO("F_GETLK l_type 7", lk(fd, F_GETLK, 7, SEEK_SET, 0, 1), EINVAL);
	T_ERRNO("l_whence 3", lk(fd, F_SETLK, F_WRLCK, 3, 0, 1), EINVAL);
	T_ERRNO("F_GETLK l_whence -1", lk(fd, F_GETLK, F_WRLCK, -1, 0, 1), EINVAL);
	T_ERRNO("l_start -1", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1), EINVAL);
	T_ERRNO("SEEK_CUR before 0", lk(fd, F_SETLK, F_WRLCK, SEEK_CUR, -51, 1), EINVAL);
	T_ERRNO("SEEK_END before 0", lk(fd, F_SETLK, F_WRLCK, SEEK_END, -501, 1), EINVAL);
	T_ERRNO("negative length past 0", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, -11), EINVAL);
	T_ERRNO("negative length to 0", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, -10), 0);
	T_ERRNO("l_start LLONG_MAX len 1", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 1), 0);
	T_ERRNO("l_start LLONG_MAX len 2", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 2), EOVERFLOW);
	T_ERRNO("SEEK_END + LLONG_MAX", lk(fd, F_SETLK, F_WRLCK, SEEK_END, LLONG_MAX, 1), EOVERFLOW);
	T_ERRNO("len LLONG_MAX from 2", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, LLONG_MAX), EOVERFLOW);
	T_ERRNO("len LLONG_MAX from 1", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, LLONG_MAX), 0);
	T_ERRNO("len LLONG_MAX from 0", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, LLONG_MAX), 0);
	clear();
	T_ERRNO("F_SETLK bad pointer", fcntl(fd, F_SETLK, (void *)8), EFAULT);
	T_ERRNO("F_GETLK bad pointer", fcntl(fd, F_GETLK, (void *)8), EFAULT);
	T_ERRNO("F_SETLKW bad pointer", fcntl(fd, F_SETLKW, (void *)8), EFAULT);

	/* Access modes: a read lock needs a readable descriptor, a write lock a writable one. */
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY);
	CHECK(ro >= 0 && wo >= 0);
	T_ERRNO("F_WRLCK on O_RDONLY", lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	T_ERRNO("F_RDLCK on O_WRONLY", lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), EBADF);
	T_ERRNO("F_SETLKW F_WRLCK on O_RDONLY", lk(ro, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	T_ERRNO("F_RDLCK on O_RDONLY", lk(ro, F_SETLK, F_RDLCK, SEEK_SET, 0, 1), 0);
	T_ERRNO("F_WRLCK on O_WRONLY", lk(wo, F_SETLK, F_WRLCK, SEEK_SET, 10, 1), 0);
	T_ERRNO("F_UNLCK on O_RDONLY", lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 0), 0);
	T_ERRNO("F_GETLK F_WRLCK on O_RDONLY", lk(ro, F_GETLK, F_WRLCK, SEEK_SET, 0, 1), 0);
	T_ERRNO("bad type before access mode", lk(ro, F_SETLK, 9, SEEK_SET, 0, 1), EINVAL);
	T_ERRNO("F_SETLK on a closed fd", lk(999, F_SETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	T_ERRNO("F_GETLK on fd -1", lk(-1, F_GETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	int pfd = open(path, O_PATH);
	CHECK(pfd >= 0);
	T_ERRNO("F_GETLK on O_PATH", lk(pfd, F_GETLK, F_WRLCK, SEEK_SET, 0, 1), EBADF);
	T_ERRNO("F_SETLK F_UNLCK on O_PATH", lk(pfd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1), EBADF);
	close(pfd);
	close(ro);
	close(wo);

	close(fd);
	unlink(path);

	/* Host files lock as well (read locks: the sandbox sees them read-only). */
	fd = open(argv[0], O_RDONLY);
	CHECK(fd >= 0);
	T_ERRNO("host file read lock 0-99", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 100), 0);
	run_probes(7);
	int fd2 = open(argv[0], O_RDONLY);
	CHECK(fd2 >= 0);
	close(fd2);
	printf("after closing another open of the host file:\n");
	run_probes(7);
	close(fd);
	return t_done();
}
