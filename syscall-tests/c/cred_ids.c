/* Credentials: get*id, setresuid/setresgid transitions, setuid as root drops all ids, EPERM
 * once unprivileged, setgroups/getgroups, and file permission checks with the new ids. All
 * changes happen in forked children so the test process keeps its ids. */
#include "test_util.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>

static const char *secret;

static int resuid_child(void)
{
	uid_t r, e, s;
	CHECK(setresgid(2000, 2001, 2002) == 0);
	CHECK(getresgid(&r, &e, &s) == 0);
	printf("resgid=%u,%u,%u getgid=%u getegid=%u\n", r, e, s, getgid(), getegid());
	CHECK(setresuid(1000, 1001, 1002) == 0);
	CHECK(getresuid(&r, &e, &s) == 0);
	printf("resuid=%u,%u,%u getuid=%u geteuid=%u\n", r, e, s, getuid(), geteuid());
	/* Unprivileged: may switch among real/effective/saved only. */
	T_ERRNO("seteuid to saved", seteuid(1002), 0);
	T_ERRNO("seteuid to real", seteuid(1000), 0);
	T_ERRNO("seteuid to a stranger", seteuid(3000), EPERM);
	T_ERRNO("setuid(0)", setuid(0), EPERM);
	T_ERRNO("setresuid -1s", setresuid(-1, -1, -1), 0);
	T_ERRNO("setgroups unprivileged", setgroups(0, NULL), EPERM);
	/* Permission checks follow the effective uid. */
	T_ERRNO("open root's 0600 file", open(secret, O_RDONLY), EACCES);
	T_ERRNO("kill a root process", kill(getppid(), 0), EPERM);
	return t_failures ? 1 : 0;
}

static int setuid_child(void)
{
	/* Root calling setuid sets all three. */
	T_ERRNO("setuid(1234) as root", setuid(1234), 0);
	uid_t r, e, s;
	CHECK(getresuid(&r, &e, &s) == 0);
	printf("after setuid: %u,%u,%u\n", r, e, s);
	T_ERRNO("setuid back to 0", setuid(0), EPERM);
	return t_failures ? 1 : 0;
}

static int groups_child(void)
{
	gid_t g[3] = { 10, 20, 30 };
	T_ERRNO("setgroups 3", setgroups(3, g), 0);
	gid_t out[8];
	int n = getgroups(8, out);
	printf("getgroups=%d:", n);
	for (int i = 0; i < n; i++)
		printf(" %u", out[i]);
	printf("\n");
	printf("getgroups(0) counts=%d\n", getgroups(0, NULL));
	T_ERRNO("getgroups too small", getgroups(1, out), EINVAL);
	T_ERRNO("setgroups negative", syscall(SYS_setgroups, -1, g), EINVAL);
	/* Group permission: a 0060 file of group 20 is readable via the supplementary group. */
	char path[128];
	snprintf(path, sizeof path, "%s-g", secret);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK(chown(path, 0, 20) == 0 && chmod(path, 0040) == 0);
	CHECK(setresgid(5, 5, 5) == 0 && setresuid(7, 7, 7) == 0);
	fd = open(path, O_RDONLY);
	printf("read via supplementary group: %s\n", fd >= 0 ? "OK" : t_errname(errno));
	T_ERRNO("write via supplementary group", open(path, O_WRONLY), EACCES);
	return t_failures ? 1 : 0;
}

int main(void)
{
	uid_t r, e, s;
	CHECK(getresuid(&r, &e, &s) == 0);
	printf("uid=%u euid=%u suid=%u consistent=%d\n", r, e, s, r == getuid() && e == geteuid());
	gid_t gr, ge, gs;
	CHECK(getresgid(&gr, &ge, &gs) == 0);
	printf("gid=%u egid=%u sgid=%u consistent=%d\n", gr, ge, gs, gr == getgid() && ge == getegid());
	if (geteuid() != 0) {
		printf("not root: privileged checks skipped\n");
		return t_done();
	}
	secret = t_tmp_path("secret");
	int fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK(chmod(secret, 0600) == 0);

	printf("resuid child: %s\n", t_status(t_in_child(resuid_child)));
	printf("setuid child: %s\n", t_status(t_in_child(setuid_child)));
	printf("groups child: %s\n", t_status(t_in_child(groups_child)));
	char gpath[128];
	snprintf(gpath, sizeof gpath, "%s-g", secret);
	unlink(gpath);
	unlink(secret);
	CHECK(getresuid(&r, &e, &s) == 0);
	printf("parent still root=%d\n", r == 0 && e == 0 && s == 0);
	return t_done();
}
