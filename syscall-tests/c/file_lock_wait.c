/* Blocking lock waits: F_SETLKW, F_OFD_SETLKW and flock without LOCK_NB sleep until the
 * holder lets go; a signal ends the wait with EINTR when its handler lacks SA_RESTART and the
 * call is restarted with SA_RESTART; EDEADLK for a two-process deadlock of record locks. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/time.h>

static const char *path;
static volatile int ticks;
static int release_w = -1;

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
	if (release_w >= 0 && ticks == 3)
		(void)write(release_w, "r", 1);
}

static void arm(int restart, int writer)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_tick;
	sa.sa_flags = restart ? SA_RESTART : 0;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	ticks = 0;
	release_w = writer;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static void disarm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	release_w = -1;
}

static int lk(int f, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(f, cmd, &fl);
}

enum kind { POSIX, OFD, FLOCK };

static const char *kname(enum kind k)
{
	return k == POSIX ? "F_SETLKW" : k == OFD ? "F_OFD_SETLKW" : "flock";
}

static int take(enum kind k, int fd, int wait)
{
	switch (k) {
	case POSIX:
		return lk(fd, wait ? F_SETLKW : F_SETLK, F_WRLCK, 0, 10);
	case OFD:
		return lk(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, F_WRLCK, 0, 10);
	default:
		return flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
	}
}

static int drop(enum kind k, int fd)
{
	switch (k) {
	case POSIX:
		return lk(fd, F_SETLK, F_UNLCK, 0, 0);
	case OFD:
		return lk(fd, F_OFD_SETLK, F_UNLCK, 0, 0);
	default:
		return flock(fd, LOCK_UN);
	}
}

/* A child that takes the lock on its own open of the file, says so on `up`, waits for a byte
 * on `down`, then writes 'U' on `up` and unlocks (or just exits). */
static pid_t holder_ex(enum kind k, int up[2], int down[2], int unlock)
{
	CHECK(pipe(up) == 0 && pipe(down) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		int fd = open(path, O_RDWR);
		if (fd < 0 || take(k, fd, 0) != 0)
			_exit(1);
		t_write_all(up[1], "L", 1);
		char c;
		t_read_all(down[0], &c, 1);
		usleep(100000);
		t_write_all(up[1], "U", 1);
		if (unlock && drop(k, fd) != 0)
			_exit(2);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	char c;
	t_read_all(up[0], &c, 1);
	return pid;
}

static pid_t holder(enum kind k, int up[2], int down[2])
{
	return holder_ex(k, up, down, 1);
}

static void finish_holder(pid_t pid, int up[2], int down[2])
{
	close(down[1]);
	printf("  holder: %s\n", t_status(t_wait(pid)));
	close(up[0]);
}

static void scenarios(enum kind k, int fd)
{
	int up[2], down[2];
	char c;
	printf("%s:\n", kname(k));

	/* The wait ends when the holder unlocks. */
	pid_t pid = holder(k, up, down);
	T_ERRNO("  try while held", take(k, fd, 0), EWOULDBLOCK);
	t_write_all(down[1], "x", 1);
	T_ERRNO("  wait for the holder", take(k, fd, 1), 0);
	t_read_all(up[0], &c, 1);
	printf("  holder unlocked first=%d\n", c == 'U');
	finish_holder(pid, up, down);
	CHECK(drop(k, fd) == 0);

	/* The wait ends when the holder exits without unlocking. */
	pid = holder_ex(k, up, down, 0);
	t_write_all(down[1], "x", 1);
	T_ERRNO("  wait for the holder's exit", take(k, fd, 1), 0);
	t_read_all(up[0], &c, 1);
	printf("  holder said goodbye first=%d\n", c == 'U');
	finish_holder(pid, up, down);
	CHECK(drop(k, fd) == 0);

	/* A handler without SA_RESTART: EINTR, and no lock. */
	pid = holder(k, up, down);
	arm(0, -1);
	T_ERRNO("  interrupted wait", take(k, fd, 1), EINTR);
	disarm();
	printf("  ticks>=1=%d\n", ticks >= 1);
	T_ERRNO("  still held by the child", take(k, fd, 0), EWOULDBLOCK);
	t_write_all(down[1], "x", 1);
	finish_holder(pid, up, down);

	/* With SA_RESTART the wait goes on; the third tick lets the holder go. */
	pid = holder(k, up, down);
	arm(1, down[1]);
	T_ERRNO("  SA_RESTART wait", take(k, fd, 1), 0);
	disarm();
	printf("  ticks>=3=%d\n", ticks >= 3);
	finish_holder(pid, up, down);
	CHECK(drop(k, fd) == 0);
}

/* Parent holds 0-9 and waits for 20-29; the child holds 20-29 and waits for 0-9. Whichever
 * blocks second gets EDEADLK and lets go, and the other one gets its lock. */
static void deadlock(int fd)
{
	int up[2];
	CHECK(pipe(up) == 0);
	T_ERRNO("parent locks 0-9", lk(fd, F_SETLK, F_WRLCK, 0, 10), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		if (lk(fd, F_SETLK, F_WRLCK, 20, 10) != 0)
			_exit(10);
		t_write_all(up[1], "L", 1);
		int r = lk(fd, F_SETLKW, F_WRLCK, 0, 10);
		if (r == 0)
			_exit(0);
		if (errno != EDEADLK)
			_exit(11);
		lk(fd, F_SETLK, F_UNLCK, 0, 0);
		_exit(1);
	}
	close(up[1]);
	char c;
	t_read_all(up[0], &c, 1);
	close(up[0]);
	int r = lk(fd, F_SETLKW, F_WRLCK, 20, 10);
	int parent_deadlk = r == -1 && errno == EDEADLK;
	int parent_ok = r == 0;
	if (parent_deadlk)
		CHECK(lk(fd, F_SETLK, F_UNLCK, 0, 0) == 0);
	int st = t_wait(pid);
	int child_deadlk = WIFEXITED(st) && WEXITSTATUS(st) == 1;
	int child_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("deadlock: one EDEADLK=%d, the other got its lock=%d\n", parent_deadlk + child_deadlk == 1,
	       parent_ok + child_ok == 1);
	if (!(parent_deadlk + child_deadlk == 1 && parent_ok + child_ok == 1))
		fprintf(stderr, "parent r=%d errno=%s child %s\n", r, t_errname(errno), t_status(st));
	CHECK(lk(fd, F_SETLK, F_UNLCK, 0, 0) == 0);
}

int main(void)
{
	path = t_tmp_path("wait");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	scenarios(POSIX, fd);
	scenarios(OFD, fd);
	scenarios(FLOCK, fd);
	deadlock(fd);

	/* Read locks do not wait for read locks. */
	int up[2], down[2];
	CHECK(pipe(up) == 0 && pipe(down) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (lk(fd, F_SETLK, F_RDLCK, 0, 10) != 0)
			_exit(1);
		t_write_all(up[1], "L", 1);
		char c;
		t_read_all(down[0], &c, 1);
		_exit(0);
	}
	char c;
	t_read_all(up[0], &c, 1);
	T_ERRNO("F_SETLKW read lock beside a read lock", lk(fd, F_SETLKW, F_RDLCK, 5, 10), 0);
	t_write_all(down[1], "x", 1);
	printf("reader: %s\n", t_status(t_wait(pid)));

	close(fd);
	unlink(path);
	return t_done();
}
