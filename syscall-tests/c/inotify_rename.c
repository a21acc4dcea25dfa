/* inotify: renames. IN_MOVED_FROM and IN_MOVED_TO share a cookie (a fresh one per rename),
 * IN_MOVE_SELF on the moved object, IN_ISDIR for directories, a replaced watched target gets
 * IN_ATTRIB, IN_DELETE_SELF and IN_IGNORED, RENAME_EXCHANGE is two moves, and a watch follows
 * its directory when the directory itself is renamed. */
#include "inotify_util.h"
#include <stdio.h>
#include <sys/stat.h>

int main(void)
{
	const char *top = t_tmp_path("inotify-mv");
	CHECK(mkdir(top, 0755) == 0);
	char a[256], b[256];
	strcpy(a, in_join(top, "a"));
	strcpy(b, in_join(top, "b"));
	CHECK(mkdir(a, 0755) == 0);
	CHECK(mkdir(b, 0755) == 0);
	int fd = inotify_init1(IN_NONBLOCK);
	CHECK(fd >= 0);
	int wa = inotify_add_watch(fd, a, IN_ALL_EVENTS);
	int wb = inotify_add_watch(fd, b, IN_ALL_EVENTS);
	printf("wa=%d wb=%d\n", wa, wb);

	char x[256], y[256], z[256], t[256], d1[256], d2[256];
	strcpy(x, in_join(a, "x"));
	strcpy(y, in_join(a, "y"));
	strcpy(z, in_join(b, "z"));
	strcpy(t, in_join(b, "t"));
	strcpy(d1, in_join(a, "d"));
	strcpy(d2, in_join(b, "d"));
	in_touch(x);
	int wx = inotify_add_watch(fd, x, IN_ALL_EVENTS);
	printf("wx=%d\n", wx);
	in_drain(fd, "create x");

	CHECK(rename(x, y) == 0);
	in_drain(fd, "rename a/x -> a/y");
	CHECK(rename(y, z) == 0);
	in_drain(fd, "rename a/y -> b/z");
	CHECK(rename(z, z) == 0);
	in_drain(fd, "rename b/z onto itself");

	CHECK(mkdir(d1, 0755) == 0);
	CHECK(rename(d1, d2) == 0);
	in_drain(fd, "mkdir a/d, rename a/d -> b/d");

	in_touch(t);
	int wt = inotify_add_watch(fd, t, IN_ALL_EVENTS);
	printf("wt=%d\n", wt);
	in_drain(fd, "create b/t");
	CHECK(rename(z, t) == 0);
	in_drain(fd, "rename b/z over the watched b/t");

	in_touch(y);
	CHECK(renameat2(AT_FDCWD, y, AT_FDCWD, t, RENAME_EXCHANGE) == 0);
	in_drain(fd, "create a/y, exchange a/y and b/t");
	T_ERRNO("rename NOREPLACE onto existing", renameat2(AT_FDCWD, y, AT_FDCWD, t, RENAME_NOREPLACE), EEXIST);
	in_drain(fd, "failed rename");

	/* The watch on a follows it to its new name. */
	char a2[256];
	strcpy(a2, in_join(top, "a2"));
	CHECK(rename(a, a2) == 0);
	in_drain(fd, "rename the watched directory a -> a2");
	char y2[256];
	strcpy(y2, in_join(a2, "y"));
	CHECK(unlink(y2) == 0);
	in_drain(fd, "unlink a2/y");

	CHECK(unlink(t) == 0);
	CHECK(rmdir(d2) == 0);
	CHECK(rmdir(b) == 0);
	CHECK(rmdir(a2) == 0);
	in_drain(fd, "cleanup");
	CHECK(rmdir(top) == 0);
	CHECK(close(fd) == 0);
	return t_done();
}
