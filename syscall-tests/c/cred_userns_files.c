/* The user namespace a process runs in, as it sees it: /proc/self/uid_map, gid_map and
 * setgroups (the identity over every valid id outside a container's namespace), writes to
 * them once they are set (EPERM; "allow" to setgroups is accepted, anything else EINVAL),
 * and ids with no mapping given to the set*id calls, chown and tmpfs's uid= and gid= (EINVAL;
 * -1 itself never maps). */
#include "test_util.h"
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>

static void show(const char *file)
{
	char buf[256] = "";
	int fd = open(file, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(read(fd, buf, sizeof buf - 1) >= 0);
	close(fd);
	printf("%s: %s", file, buf);
}

static void put(const char *file, const char *v)
{
	int fd = open(file, O_WRONLY);
	if (fd < 0) {
		printf("open %s: %s\n", file, t_errname(errno));
		return;
	}
	errno = 0;
	int r = (int)write(fd, v, strlen(v));
	printf("write \"%.*s\" to %s: %s\n", (int)strcspn(v, "\n"), v, file,
	       r < 0 ? t_errname(errno) : "OK");
	close(fd);
}

int main(void)
{
	show("/proc/self/uid_map");
	show("/proc/self/gid_map");
	show("/proc/self/setgroups");
	struct stat st;
	CHECK(stat("/proc/self/uid_map", &st) == 0);
	printf("uid_map mode %o\n", st.st_mode & 07777);
	put("/proc/self/uid_map", "0 0 1\n");
	put("/proc/self/gid_map", "0 0 1\n");
	put("/proc/self/setgroups", "allow\n");
	put("/proc/self/setgroups", "deny");
	put("/proc/self/setgroups", "maybe");
	put("/proc/self/setgroups", "allowed");

	/* -1 is "unchanged" where the call has one, and never a mapped id. */
	errno = 0;
	printf("setuid(-1): %s\n", syscall(SYS_setuid, -1) < 0 ? t_errname(errno) : "OK");
	printf("setgid(-1): %s\n", syscall(SYS_setgid, -1) < 0 ? t_errname(errno) : "OK");
	gid_t bad[2] = {0, (gid_t)-1};
	printf("setgroups({0,-1}): %s\n", setgroups(2, bad) < 0 ? t_errname(errno) : "OK");
	printf("setresuid(-1,-1,-1): %s\n",
	       syscall(SYS_setresuid, -1, -1, -1) < 0 ? t_errname(errno) : "OK");
	/* setfsuid(-1) changes nothing and returns the current fsuid. */
	printf("setfsuid(-1): %ld\n", syscall(SYS_setfsuid, -1));
	/* The highest valid id maps to itself. */
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	char name[64];
	snprintf(name, sizeof name, "rvisor-st-userns-%d", (int)getpid());
	int f = openat(fd, name, O_CREAT | O_WRONLY | O_EXCL, 0600);
	CHECK(f >= 0);
	CHECK(fchown(f, 4294967294u, 4294967294u) == 0);
	CHECK(fstat(f, &st) == 0);
	printf("owner %u group %u\n", st.st_uid, st.st_gid);
	close(f);
	CHECK(unlinkat(fd, name, 0) == 0);

	/* tmpfs's uid= and gid=, in a mount namespace of a child's own. */
	snprintf(name, sizeof name, "rvisor-st-userns-mnt-%d", (int)getpid());
	CHECK(mkdirat(fd, name, 0700) == 0);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		char path[96];
		snprintf(path, sizeof path, "/tmp/%s", name);
		CHECK(unshare(CLONE_NEWNS) == 0);
		CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
		const char *opts[] = {"uid=4294967295", "gid=4294967295", "uid=4294967294,gid=7"};
		for (int i = 0; i < 3; i++) {
			int r = mount("none", path, "tmpfs", 0, opts[i]);
			printf("tmpfs %s: %s\n", opts[i], r < 0 ? t_errname(errno) : "OK");
			if (r == 0) {
				CHECK(stat(path, &st) == 0);
				printf("root owner %u group %u\n", st.st_uid, st.st_gid);
				CHECK(umount(path) == 0);
			}
		}
		fflush(stdout);
		_exit(0);
	}
	int status;
	CHECK(waitpid(child, &status, 0) == child);
	printf("child: %s\n", t_status(status));
	CHECK(unlinkat(fd, name, AT_REMOVEDIR) == 0);
	close(fd);
	return t_done();
}
