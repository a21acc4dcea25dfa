/* A path walk crosses mount points wherever it meets them, not only where the path names
 * them: a relative symlink pointing into a mount on top of a directory of its own
 * filesystem (/dev/ptmx -> pts/ptmx), `..` at a mount's root (the parent of the mount
 * point, in the mount below), and both together. In a private mount namespace, under
 * /tmp (a tmpfs in the sandbox), with a tmpfs mounted inside it. */
#include "test_util.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

static char base[64];

static const char *at(const char *rel)
{
	static char buf[8][200];
	static int n;
	char *b = buf[n++ % 8];
	snprintf(b, 200, "%s/%s", base, rel);
	return b;
}

/* What `path` names: which filesystem (the mount or the one below) and what it is. */
static void show_path(const char *what, const char *path, dev_t upper)
{
	struct stat st;
	errno = 0;
	if (stat(path, &st) != 0) {
		printf("%s: %s\n", what, t_errname(errno));
		return;
	}
	printf("%s: %s %s\n", what, st.st_dev == upper ? "mount" : "below",
	       S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : "other");
}

static void show(const char *what, const char *rel, dev_t upper)
{
	show_path(what, at(rel), upper);
}

int main(void)
{
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	snprintf(base, sizeof base, "/tmp/rvisor-cross-%d", getpid());
	CHECK(mkdir(base, 0755) == 0);
	CHECK(mkdir(at("m"), 0755) == 0);
	CHECK(mkdir(at("m/hidden"), 0755) == 0);
	CHECK(mount("tmpfs", at("m"), "tmpfs", 0, "size=1m") == 0);
	struct stat st;
	CHECK(stat(at("m"), &st) == 0);
	dev_t upper = st.st_dev;
	CHECK(mkdir(at("m/sub"), 0755) == 0);
	int fd = open(at("m/sub/f"), O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(symlink("m/sub/f", at("to-file")) == 0);
	CHECK(symlink("m", at("to-mount")) == 0);
	CHECK(symlink("m/hidden", at("to-hidden")) == 0);
	CHECK(symlink("../../m/sub", at("m/sub/up")) == 0);

	show("relative link into the mount", "to-file", upper);
	show("relative link to the mount point", "to-mount", upper);
	show("through it", "to-mount/sub/f", upper);
	show("to what the mount hides", "to-hidden", upper);
	show("dot-dot at the mount's root", "m/..", upper);
	show("back in through dot-dot", "m/../m/sub/f", upper);
	show("dot-dot then the mount point", "m/sub/../../m", upper);
	show("link climbing out and in again", "m/sub/up/f", upper);
	CHECK(chdir(at("m")) == 0);
	show_path("from the mount's root: ..", "..", upper);
	show_path("from the mount's root: ../m/sub", "../m/sub", upper);
	show_path("from the mount's root: ./sub/../..", "./sub/../..", upper);
	char cwd[200];
	CHECK(chdir("..") == 0);
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	printf("chdir .. from the mount's root: %s\n", strcmp(cwd, base) == 0 ? "parent" : cwd);
	fd = open("m/../to-file", O_RDONLY);
	printf("open m/../to-file: %s\n", fd >= 0 ? "OK" : t_errname(errno));
	if (fd >= 0)
		close(fd);

	/* A bind of a directory of the mount: `..` at its root is the bind point's parent,
	 * not the directory's parent in the mounted filesystem. */
	CHECK(mkdir(at("b"), 0755) == 0);
	CHECK(mount(at("m/sub"), at("b"), NULL, MS_BIND, NULL) == 0);
	show("bind of a subdirectory", "b/f", upper);
	show("dot-dot at the bind's root", "b/..", upper);
	show("and on from there", "b/../to-file", upper);
	show("not the mounted filesystem's root", "b/../sub", upper);
	CHECK(umount2(at("b"), 0) == 0);

	CHECK(chdir("/") == 0);
	CHECK(umount2(at("m"), MNT_DETACH) == 0);
	show("after umount: the link finds the directory below", "to-hidden", upper);
	return t_done();
}
