/* /proc/PID/oom_score_adj and the older oom_adj, without CAP_SYS_RESOURCE: what a process
 * reads after writing them (oom_adj scaled by 17/1000), raising and lowering back (not
 * below the floor a privileged writer left: EACCES), the range checks, and inheritance
 * across fork. */
#include "test_util.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int put(const char *file, const char *v)
{
	int fd = open(file, O_WRONLY);
	CHECK(fd >= 0);
	errno = 0;
	int r = (int)write(fd, v, strlen(v));
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static void show(const char *what)
{
	char a[32] = "", b[32] = "";
	int fd = open("/proc/self/oom_score_adj", O_RDONLY);
	CHECK(fd >= 0 && read(fd, a, sizeof a - 1) > 0);
	close(fd);
	fd = open("/proc/self/oom_adj", O_RDONLY);
	CHECK(fd >= 0 && read(fd, b, sizeof b - 1) > 0);
	close(fd);
	a[strcspn(a, "\n")] = 0;
	b[strcspn(b, "\n")] = 0;
	printf("%s: oom_score_adj=%s oom_adj=%s\n", what, a, b);
}

static void try_put(const char *file, const char *v)
{
	int r = put(file, v);
	printf("write %s to %s: %s\n", v, strrchr(file, '/') + 1, r < 0 ? t_errname(errno) : "OK");
}

int main(void)
{
	/* Without CAP_SYS_RESOURCE in the effective set, wherever this runs. */
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	CHECK(syscall(SYS_capget, &h, d) == 0);
	d[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
	CHECK(syscall(SYS_capset, &h, d) == 0);

	const char *adj = "/proc/self/oom_score_adj", *old = "/proc/self/oom_adj";
	try_put(adj, "1000");
	show("1000");
	try_put(adj, "500");
	show("500");
	try_put(old, "4");
	show("oom_adj 4");
	try_put(old, "15");
	show("oom_adj 15");
	try_put(adj, "-1000");
	try_put(old, "-17");
	show("after refused lowering");
	try_put(adj, "1001");
	try_put(adj, "-1001");
	try_put(adj, "ten");
	try_put(old, "16");
	try_put(adj, " 300\n");
	show("300");
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		show("child");
		try_put(adj, "700");
		show("child after");
		fflush(stdout);
		_exit(0);
	}
	int st;
	CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st));
	show("parent");
	return t_done();
}
