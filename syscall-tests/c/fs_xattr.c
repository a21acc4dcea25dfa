/* Extended attributes: set/get/list/remove with flags, sizes and errno, through paths,
 * symlinks and descriptors. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define E(what, expr)                                                                     \
	do {                                                                              \
		errno = 0;                                                                \
		long r_ = (long)(expr);                                                   \
		printf("%s: %ld %s\n", what, r_ < 0 ? -1L : r_, r_ < 0 ? t_errname(errno) : "OK"); \
	} while (0)

int main(void)
{
	char path[64], link_[80], dir[80];
	snprintf(path, sizeof path, "/tmp/rvisor-xattr-%d", getpid());
	snprintf(link_, sizeof link_, "%s.lnk", path);
	snprintf(dir, sizeof dir, "%s.d", path);
	int fd = open(path, O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0);
	CHECK(symlink(path, link_) == 0);
	CHECK(mkdir(dir, 0755) == 0);
	char v[64];

	E("set", setxattr(path, "user.a", "one", 3, 0));
	E("set create existing", setxattr(path, "user.a", "x", 1, XATTR_CREATE));
	E("set replace missing", setxattr(path, "user.b", "x", 1, XATTR_REPLACE));
	E("set replace", setxattr(path, "user.a", "uno", 3, XATTR_REPLACE));
	E("set bad flags", setxattr(path, "user.a", "x", 1, 4));
	E("set empty value", fsetxattr(fd, "user.empty", "", 0, 0));
	E("get size", getxattr(path, "user.a", NULL, 0));
	memset(v, 0, sizeof v);
	E("get", getxattr(path, "user.a", v, sizeof v));
	printf("value: %s\n", v);
	E("get small buffer", getxattr(path, "user.a", v, 1));
	E("get via symlink", getxattr(link_, "user.a", v, sizeof v));
	E("lget on symlink", lgetxattr(link_, "user.a", v, sizeof v));
	E("lset user on symlink", lsetxattr(link_, "user.a", "x", 1, 0));
	E("fget", fgetxattr(fd, "user.a", v, sizeof v));
	E("get empty", getxattr(path, "user.empty", v, sizeof v));
	E("get missing", getxattr(path, "user.none", v, sizeof v));
	E("unknown namespace", setxattr(path, "bogus.a", "x", 1, 0));
	E("no name after prefix", setxattr(path, "user.", "x", 1, 0));
	E("empty name", setxattr(path, "", "x", 1, 0));
	char big[300];
	memset(big, 'n', sizeof big);
	memcpy(big, "user.", 5);
	big[299] = 0;
	E("long name", setxattr(path, big, "x", 1, 0));
	static char huge[70000];
	E("too big value", setxattr(path, "user.big", huge, sizeof huge, 0));
	E("dir set", setxattr(dir, "user.d", "dd", 2, 0));
	E("dir get", getxattr(dir, "user.d", v, sizeof v));

	char list[256];
	ssize_t n = listxattr(path, list, sizeof list);
	printf("list size: %zd\n", n);
	int names = 0, has_a = 0, has_empty = 0;
	for (char *p = list; n > 0 && p < list + n; p += strlen(p) + 1) {
		names++;
		has_a |= strcmp(p, "user.a") == 0;
		has_empty |= strcmp(p, "user.empty") == 0;
	}
	printf("list: names=%d a=%d empty=%d\n", names, has_a, has_empty);
	E("list size query", listxattr(path, NULL, 0));
	E("list small", listxattr(path, list, 3));
	E("flist", flistxattr(fd, list, sizeof list));
	E("remove", removexattr(path, "user.a"));
	E("remove again", removexattr(path, "user.a"));
	E("fremove", fremovexattr(fd, "user.empty"));
	E("list after", listxattr(path, list, sizeof list));
	E("missing file", getxattr("/tmp/rvisor-xattr-none", "user.a", v, sizeof v));
	E("bad fd", fgetxattr(-1, "user.a", v, sizeof v));
	unlink(link_);
	rmdir(dir);
	unlink(path);
	return t_failures ? 1 : 0;
}
