/* Process groups and sessions: setpgid/getpgid/getpgrp, setsid, getsid, errors. */
#include "test_util.h"

static int session_child(void)
{
	pid_t me = getpid();
	int ok = 1;
	/* Not a group leader after fork: setsid works. */
	pid_t sid = setsid();
	ok &= sid == me;
	ok &= getsid(0) == me && getpgrp() == me && getpgid(0) == me;
	/* A session leader cannot make a new session or change its group. */
	errno = 0;
	ok &= setsid() == -1 && errno == EPERM;
	errno = 0;
	ok &= setpgid(0, 0) == -1 && errno == EPERM;
	if (!ok)
		return 1;

	/* A grandchild in the new session: it may move to its own group, not to a group of another
	 * session, and cannot setsid while leading a group. */
	pid_t gc = fork();
	if (gc < 0)
		return 2;
	if (gc == 0) {
		int k = getsid(0) == me && getpgrp() == me;
		k &= setpgid(0, 0) == 0 && getpgrp() == getpid();
		errno = 0;
		k &= setsid() == -1 && errno == EPERM;
		k &= setpgid(0, me) == 0 && getpgrp() == me;
		_exit(k ? 0 : 1);
	}
	int st = t_wait(gc);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 3;
}

int main(void)
{
	pid_t me = getpid();
	pid_t pg = getpgrp();
	printf("getpgrp_matches_getpgid0=%d\n", pg == getpgid(0) && pg == getpgid(me));
	printf("getsid_ok=%d\n", getsid(0) >= 0);

	printf("session child: %s\n", t_status(t_in_child(session_child)));

	/* Parent moves a child into a new group; the child sees it. */
	int gate[2], back[2];
	CHECK(pipe(gate) == 0 && pipe(back) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		char b;
		CHECK(read(gate[0], &b, 1) == 1);
		pid_t g = getpgrp();
		CHECK(write(back[1], &g, sizeof g) == sizeof g);
		CHECK(read(gate[0], &b, 1) == 1);
		_exit(0);
	}
	T_ERRNO("setpgid child into own group", setpgid(c, c), 0);
	printf("getpgid(child)_is_child=%d\n", getpgid(c) == c);
	CHECK(write(gate[1], "a", 1) == 1);
	pid_t seen;
	CHECK(read(back[0], &seen, sizeof seen) == sizeof seen);
	printf("child_sees_own_group=%d\n", seen == c);
	/* kill(-pgid) reaches the group. */
	T_ERRNO("kill(-pgid, 0)", kill(-c, 0), 0);
	CHECK(write(gate[1], "b", 1) == 1);
	t_wait(c);

	T_ERRNO("setpgid negative pgid", setpgid(0, -1), EINVAL);
	T_ERRNO("setpgid to foreign group", setpgid(0, 0x3ffffff0), EPERM);
	T_ERRNO("setpgid on reaped child", setpgid(c, c), ESRCH);
	T_ERRNO("getpgid on reaped child", getpgid(c), ESRCH);
	T_ERRNO("getsid on reaped child", getsid(c), ESRCH);
	T_ERRNO("kill group that does not exist", kill(-c, 0), ESRCH);
	return t_done();
}
