/* uname (stable fields only) and, in a private UTS namespace, sethostname/gethostname and
 * setdomainname: values read back, length limits, EINVAL, EFAULT; the host name is never
 * printed and the host's is never changed. */
#include "test_util.h"
#include <sched.h>
#include <sys/utsname.h>

static int uts_child(void)
{
	/* Natively as root this would rename the host: always work in a new UTS namespace. */
	if (unshare(CLONE_NEWUTS) != 0) {
		printf("unshare(CLONE_NEWUTS): %s\n", t_errname(errno));
		return 10;
	}
	T_ERRNO("sethostname", sethostname("rvisor-test", 11), 0);
	char buf[128] = { 0 };
	T_ERRNO("gethostname", gethostname(buf, sizeof buf), 0);
	printf("hostname=%s\n", buf);
	struct utsname u;
	CHECK(uname(&u) == 0);
	printf("uname nodename=%s\n", u.nodename);
	char max[65];
	memset(max, 'h', 64);
	max[64] = 0;
	T_ERRNO("sethostname 64 bytes", sethostname(max, 64), 0);
	CHECK(uname(&u) == 0);
	printf("nodename length=%zu\n", strlen(u.nodename));
	T_ERRNO("sethostname 65 bytes", sethostname(max, 65), EINVAL);
	T_ERRNO("sethostname negative length", syscall(SYS_sethostname, "x", -1L), EINVAL);
	T_ERRNO("sethostname bad pointer", syscall(SYS_sethostname, (void *)1, 5), EFAULT);
	char small[4];
	T_ERRNO("gethostname small buffer", gethostname(small, sizeof small), ENAMETOOLONG);
	T_ERRNO("setdomainname", setdomainname("example.test", 12), 0);
	CHECK(uname(&u) == 0);
	printf("domainname=%s\n", u.domainname);
	T_ERRNO("sethostname empty", sethostname("", 0), 0);
	CHECK(uname(&u) == 0);
	printf("empty nodename=[%s]\n", u.nodename);

	/* A child shares the namespace; an unprivileged process may not change it. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct utsname cu;
		uname(&cu);
		if (strcmp(cu.domainname, "example.test") != 0)
			_exit(1);
		if (setuid(1000) != 0)
			_exit(2);
		errno = 0;
		_exit(sethostname("nope", 4) == -1 && errno == EPERM ? 0 : 3);
	}
	printf("child: %s\n", t_status(t_wait(pid)));
	return t_failures ? 1 : 0;
}

int main(void)
{
	struct utsname u;
	T_ERRNO("uname", uname(&u), 0);
	printf("sysname=%s machine=%s\n", u.sysname, u.machine);
	printf("release nonempty=%d version nonempty=%d\n", u.release[0] != 0, u.version[0] != 0);
	char host[256];
	T_ERRNO("gethostname", gethostname(host, sizeof host), 0);
	printf("gethostname matches uname=%d\n", strcmp(host, u.nodename) == 0);
	printf("uts child: %s\n", t_status(t_in_child(uts_child)));
	struct utsname after;
	CHECK(uname(&after) == 0);
	printf("our hostname unchanged=%d\n", strcmp(after.nodename, u.nodename) == 0);
	return t_done();
}
