/* ".." is resolved physically: after a symlink it leads to the target's parent, and
 * "file/.." is ENOTDIR, on the read-only root as in /tmp. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	char base[200], d1[256], d2[512], link[512], via[768], f[768], fdot[1024];
	snprintf(base, sizeof base, "%s", t_tmp_path("dotdot"));
	snprintf(d1, sizeof d1, "%s", base);
	snprintf(d2, sizeof d2, "%s/inner", d1);
	snprintf(link, sizeof link, "%s-link", base);
	snprintf(via, sizeof via, "%s/..", link);
	snprintf(f, sizeof f, "%s/file", d2);
	snprintf(fdot, sizeof fdot, "%s/..", f);
	CHECK(mkdir(d1, 0755) == 0);
	CHECK(mkdir(d2, 0755) == 0);
	CHECK(symlink(d2, link) == 0);
	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	struct stat a, b;
	CHECK(stat(via, &a) == 0);
	CHECK(stat(d1, &b) == 0);
	printf("link/.. is the target's parent=%d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	struct stat s;
	T_ERRNO("tmp file/..", stat(fdot, &s), ENOTDIR);
	T_ERRNO("root file/..", stat("/etc/passwd/..", &s), ENOTDIR);
	T_ERRNO("root file/x", open("/etc/passwd/x", O_RDONLY), ENOTDIR);
	CHECK(stat("/etc/../etc/./passwd", &s) == 0);
	printf("/etc/../etc/./passwd regular=%d\n", S_ISREG(s.st_mode));
	CHECK(stat("/../../..", &a) == 0 && stat("/", &b) == 0);
	printf("/../../.. is /=%d\n", a.st_ino == b.st_ino);
	unlink(f);
	unlink(link);
	rmdir(d2);
	rmdir(d1);
	return t_done();
}
