/* mount(2) and umount2(2) in a private mount namespace: tmpfs with options, bind mounts
 * (of directories and files, recursive, made read-only by a remount), proc, MS_MOVE,
 * stacked mounts, mounts hiding what is under them, /proc/self/mounts and the errors. */
#include "test_util.h"
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define E(what, expr)                                                                     \
	do {                                                                              \
		errno = 0;                                                                \
		long r_ = (long)(expr);                                                   \
		printf("%s: %ld %s\n", what, r_ < 0 ? -1L : r_, r_ < 0 ? t_errname(errno) : "OK"); \
	} while (0)

static char base[64];

static const char *at(const char *rel)
{
	static char buf[8][160];
	static int n;
	char *b = buf[n++ % 8];
	snprintf(b, 160, "%s/%s", base, rel);
	return b;
}

/* What /proc/self/mounts says of the last mount at `rel`: type, rw/ro, some options. */
static void show_mount(const char *rel)
{
	const char *point = at(rel);
	FILE *f = fopen("/proc/self/mounts", "r");
	CHECK(f != NULL);
	char line[1024], found[1024] = "";
	while (fgets(line, sizeof line, f)) {
		char src[256], mp[256], type[64], opts[512];
		if (sscanf(line, "%255s %255s %63s %511s", src, mp, type, opts) == 4 && !strcmp(mp, point))
			snprintf(found, sizeof found, "%s %s", type, opts);
	}
	fclose(f);
	if (!found[0]) {
		printf("%s: not mounted\n", rel);
		return;
	}
	char type[64], opts[512];
	sscanf(found, "%63s %511s", type, opts);
	printf("%s: %s %s", rel, type, !strncmp(opts, "ro", 2) ? "ro" : "rw");
	char *save = NULL;
	for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
		if (!strcmp(o, "nosuid") || !strcmp(o, "nodev") || !strcmp(o, "noexec") ||
		    !strncmp(o, "size=", 5) || !strncmp(o, "mode=", 5))
			printf(" %s", o);
	printf("\n");
}

static int exists(const char *rel)
{
	struct stat st;
	return stat(at(rel), &st) == 0;
}

static void put(const char *rel, const char *text)
{
	int fd = open(at(rel), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0);
	t_write_all(fd, text, strlen(text));
	close(fd);
}

static int unprivileged_mount(void)
{
	CHECK(setresuid(1000, 1000, 1000) == 0);
	E("unprivileged mount", mount("none", at("a"), "tmpfs", 0, NULL));
	E("unprivileged umount", umount2(at("a"), 0));
	E("unprivileged unshare", unshare(CLONE_NEWNS));
	return 0;
}

int main(void)
{
	CHECK(unshare(CLONE_NEWNS) == 0);
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	snprintf(base, sizeof base, "/tmp/rvisor-mount-%d", getpid());
	CHECK(mkdir(base, 0755) == 0);
	CHECK(mkdir(at("a"), 0755) == 0);
	CHECK(mkdir(at("b"), 0755) == 0);
	CHECK(mkdir(at("c"), 0755) == 0);
	put("a/under", "hidden");
	put("file", "file text");
	put("file2", "other text");

	/* A tmpfs with options hides what was in the directory. */
	E("mount tmpfs", mount("tmpfs", at("a"), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700"));
	show_mount("a");
	struct stat st;
	CHECK(stat(at("a"), &st) == 0);
	printf("root mode %o uid %d\n", st.st_mode, st.st_uid);
	struct statfs sfs;
	CHECK(statfs(at("a"), &sfs) == 0);
	printf("statfs tmpfs: %d nosuid %d\n", sfs.f_type == 0x01021994, !!(sfs.f_flags & ST_NOSUID));
	printf("under hidden: %d\n", !exists("a/under"));
	put("a/new", "in tmpfs");
	int fd = open(at("a/big"), O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	static char chunk[256 * 1024];
	long total = 0, n;
	while ((n = write(fd, chunk, sizeof chunk)) > 0)
		total += n;
	printf("filled: %ld %s\n", total, t_errname(errno));
	close(fd);
	CHECK(unlink(at("a/big")) == 0);

	/* Bind mounts: the same files at two places; rename and link across are EXDEV. */
	E("bind", mount(at("a"), at("b"), NULL, MS_BIND, NULL));
	printf("seen through bind: %d\n", exists("b/new"));
	put("b/from-b", "x");
	printf("seen in source: %d\n", exists("a/from-b"));
	E("rename across mounts", rename(at("a/new"), at("c/new")));
	E("link across mounts", link(at("a/new"), at("c/new")));
	E("rename in mount", rename(at("b/from-b"), at("b/renamed")));

	/* A read-only remount of the bind: the source stays writable. */
	E("remount bind ro", mount(NULL, at("b"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
	show_mount("b");
	E("create in ro", open(at("b/x"), O_CREAT | O_WRONLY, 0644));
	E("write open in ro", open(at("b/new"), O_WRONLY));
	E("read open in ro", (fd = open(at("b/new"), O_RDONLY)));
	if (fd >= 0)
		close(fd);
	E("mkdir in ro", mkdir(at("b/d"), 0755));
	E("mkdir existing in ro", mkdir(at("b/renamed"), 0755));
	E("mkdir missing parent in ro", mkdir(at("b/no/d"), 0755));
	E("unlink in ro", unlink(at("b/new")));
	E("unlink missing in ro", unlink(at("b/none")));
	E("chmod in ro", chmod(at("b/new"), 0600));
	E("symlink in ro", symlink("x", at("b/l")));
	E("truncate in ro", truncate(at("b/new"), 0));
	CHECK(statfs(at("b"), &sfs) == 0);
	printf("statfs ro: %d\n", !!(sfs.f_flags & ST_RDONLY));
	put("a/still-writable", "y");
	printf("source writable: %d\n", exists("b/still-writable"));
	E("remount bind rw", mount(NULL, at("b"), NULL, MS_REMOUNT | MS_BIND, NULL));
	E("create after rw", (fd = open(at("b/x"), O_CREAT | O_WRONLY, 0644)));
	if (fd >= 0)
		close(fd);

	/* Busy and detached unmounts; what was under shows again. */
	CHECK(mkdir(at("b/sub"), 0755) == 0);
	E("mount inside bind", mount("none", at("b/sub"), "tmpfs", 0, NULL));
	E("umount busy", umount2(at("b"), 0));
	E("umount detach", umount2(at("b"), MNT_DETACH));
	show_mount("b");
	show_mount("b/sub");
	E("umount not a mount point", umount2(at("c"), 0));
	E("umount bad flags", umount2(at("a"), 0x100));
	E("umount expire+detach", umount2(at("a"), MNT_EXPIRE | MNT_DETACH));
	E("umount missing", umount2(at("nothing"), 0));
	E("umount tmpfs", umount2(at("a"), 0));
	printf("under shown again: %d, tmpfs files gone: %d\n", exists("a/under"), !exists("a/new"));

	/* Stacked mounts: the last one shows, unmounting it shows the one below. */
	CHECK(mount("none", at("a"), "tmpfs", 0, NULL) == 0);
	put("a/first", "1");
	CHECK(mount("none", at("a"), "tmpfs", 0, NULL) == 0);
	printf("stacked hides first: %d\n", !exists("a/first"));
	CHECK(umount2(at("a"), 0) == 0);
	printf("first back: %d\n", exists("a/first"));

	/* MS_MOVE. */
	E("move", mount(at("a"), at("c"), NULL, MS_MOVE, NULL));
	printf("moved: %d at old place: %d\n", exists("c/first"), exists("a/first"));
	show_mount("c");
	show_mount("a");
	E("move not a mount point", mount(at("b"), at("a"), NULL, MS_MOVE, NULL));
	CHECK(umount2(at("c"), 0) == 0);

	/* A file bind mount. */
	E("bind file", mount(at("file"), at("file2"), NULL, MS_BIND, NULL));
	char buf[64] = "";
	fd = open(at("file2"), O_RDONLY);
	CHECK(fd >= 0);
	CHECK(read(fd, buf, sizeof buf - 1) >= 0);
	close(fd);
	printf("file2 reads: %s\n", buf);
	E("bind dir on file", mount(at("c"), at("file"), NULL, MS_BIND, NULL));
	E("umount file bind", umount2(at("file2"), 0));

	/* proc elsewhere. */
	E("mount proc", mount("proc", at("c"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	show_mount("c");
	char link_[64] = "";
	CHECK(readlink(at("c/self"), link_, sizeof link_ - 1) > 0);
	printf("proc self is pid: %d\n", atoi(link_) == getpid());
	printf("proc has meminfo: %d\n", exists("c/meminfo"));
	CHECK(umount2(at("c"), 0) == 0);

	/* Recursive binds copy the mounts below. */
	CHECK(mount("none", at("a"), "tmpfs", 0, NULL) == 0);
	CHECK(mkdir(at("a/in"), 0755) == 0);
	CHECK(mount("none", at("a/in"), "tmpfs", 0, NULL) == 0);
	put("a/in/deep", "d");
	E("rbind", mount(at("a"), at("c"), NULL, MS_BIND | MS_REC, NULL));
	printf("deep through rbind: %d\n", exists("c/in/deep"));
	E("plain bind", mount(at("a"), at("b"), NULL, MS_BIND, NULL));
	printf("deep through bind: %d\n", exists("b/in/deep"));
	E("propagation private", mount(NULL, at("c"), NULL, MS_PRIVATE, NULL));
	E("propagation two kinds", mount(NULL, at("c"), NULL, MS_PRIVATE | MS_SHARED, NULL));
	E("propagation not a mount point", mount(NULL, base, NULL, MS_SLAVE, NULL));

	/* Errors. */
	E("unknown type", mount("none", at("c"), "nosuchfs", 0, NULL));
	E("missing target", mount("none", at("nothing"), "tmpfs", 0, NULL));
	E("tmpfs on a file", mount("none", at("file"), "tmpfs", 0, NULL));
	E("bad tmpfs option", mount("none", at("c"), "tmpfs", 0, "bogus=1"));
	E("bad tmpfs size", mount("none", at("c"), "tmpfs", 0, "size=lots"));
	E("bind missing source", mount(at("nothing"), at("c"), NULL, MS_BIND, NULL));
	E("remount not a mount point", mount(NULL, base, NULL, MS_REMOUNT, NULL));
	t_in_child(unprivileged_mount);

	/* Clean up: detach everything under base. */
	umount2(at("c"), MNT_DETACH);
	umount2(at("b"), MNT_DETACH);
	umount2(at("a"), MNT_DETACH);
	unlink(at("a/under"));
	unlink(at("file"));
	unlink(at("file2"));
	rmdir(at("a"));
	rmdir(at("b"));
	rmdir(at("c"));
	E("cleanup", rmdir(base));
	return t_done();
}
