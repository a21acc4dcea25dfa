/* Privileged calls ask for a capability, not for uid 0 (capabilities(7)): mount(2),
 * umount2(2), unshare(CLONE_NEWNS/CLONE_NEWUTS), sethostname(2) and trusted.* extended
 * attributes need CAP_SYS_ADMIN; lowering the nice value CAP_SYS_NICE; raising a hard
 * resource limit CAP_SYS_RESOURCE. Root without them gets EPERM (EACCES for the nice
 * value); with CAP_SYS_ADMIN mounting works in a private mount namespace. */
#include "caps_util.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static char dir[64];

static int admin(void)
{
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	T_ERRNO("mount tmpfs with SYS_ADMIN", mount("none", dir, "tmpfs", 0, "size=1m"), 0);
	caps_drop_eff(BIT(CAP_SYS_ADMIN));
	T_ERRNO("umount2 without SYS_ADMIN", umount2(dir, 0), EPERM);
	T_ERRNO("mount without SYS_ADMIN", mount("none", dir, "tmpfs", 0, NULL), EPERM);
	T_ERRNO("remount without SYS_ADMIN", mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), EPERM);
	T_ERRNO("unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS), EPERM);
	T_ERRNO("unshare(CLONE_NEWUTS)", unshare(CLONE_NEWUTS), EPERM);
	T_ERRNO("sethostname", sethostname("x", 1), EPERM);
	T_ERRNO("setdomainname", setdomainname("x", 1), EPERM);
	char path[128];
	snprintf(path, sizeof path, "%s/f", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	close(fd);
	T_ERRNO("set trusted.* xattr", setxattr(path, "trusted.x", "v", 1, 0), EPERM);
	T_ERRNO("set user.* xattr", setxattr(path, "user.x", "v", 1, 0), 0);
	/* Back in the effective set: umount works again. */
	struct caps c = caps_get();
	CHECK(caps_set(c.prm, c.prm, c.inh) == 0);
	T_ERRNO("umount2 with SYS_ADMIN again", umount2(dir, 0), 0);
	return t_failures ? 1 : 0;
}

static int nice_and_limits(void)
{
	caps_drop_eff(BIT(CAP_SYS_NICE) | BIT(CAP_SYS_RESOURCE));
	T_ERRNO("nice +5", setpriority(PRIO_PROCESS, 0, 5), 0);
	T_ERRNO("nice back to 0 without SYS_NICE", setpriority(PRIO_PROCESS, 0, 0), EACCES);
	struct rlimit rl = { 64, 128 };
	T_ERRNO("lower hard limit", setrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_max = 129;
	T_ERRNO("raise hard limit without SYS_RESOURCE", setrlimit(RLIMIT_NOFILE, &rl), EPERM);
	return t_failures ? 1 : 0;
}

int main(void)
{
	snprintf(dir, sizeof dir, "/var/tmp/rvisor-st-capadm-%d", (int)getpid());
	CHECK(mkdir(dir, 0755) == 0);
	in_child("SYS_ADMIN", admin);
	in_child("SYS_NICE and SYS_RESOURCE", nice_and_limits);
	char path[128];
	snprintf(path, sizeof path, "%s/f", dir);
	printf("file under the mount is gone with it: %d\n", access(path, F_OK) != 0);
	CHECK(rmdir(dir) == 0);
	return t_done();
}
