/* Discretionary access control beyond the file's own bits, as Linux does it (inode(7),
 * credentials(7), unlink(2), rename(2), chmod(2), chown(2), utimensat(2)):
 * - write and search permission on the directory to create, remove or rename a name (EACCES);
 * - sticky directories: only the owner of the entry or of the directory removes or renames
 *   it (EPERM);
 * - set-group-ID directories: new files get the directory's group, new directories also get
 *   S_ISGID; S_ISGID is stripped from a new file of a group the creator is not in;
 * - supplementary groups select the group class;
 * - chmod only by the owner (EPERM), S_ISGID dropped unless in the file's group; chown of the
 *   owner only by root, chgrp by the owner to one of its groups; chown clears S_ISUID (and
 *   S_ISGID if group-executable), for root too;
 * - utimensat: explicit times need ownership (EPERM), "now" needs ownership or write
 *   permission (EACCES);
 * - write and truncate by an unprivileged caller clear S_ISUID (and S_ISGID if
 *   group-executable).
 * Every case runs twice: under /tmp and under /var/tmp (inside rvisor: the private tmpfs and
 * the overlay root), each time in a fresh mkdtemp directory. The unprivileged side runs in a
 * forked child as uid 1000, gid 1000, groups {1000, 2000}. */
#include "test_util.h"
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <sys/stat.h>

static char dir[256];
static const char *self;

static const char *p(const char *name)
{
	static char buf[8][512];
	static int n;
	char *b = buf[n++ % 8];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

/* Creates `name` as root with the given owner and mode (chown first: it clears set-id bits). */
static void mkfile(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	int fd = open(p(name), O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "data", 4) == 4);
	close(fd);
	CHECK(chown(p(name), uid, gid) == 0);
	CHECK(chmod(p(name), mode) == 0);
}

static void mkdir_as(const char *name, uid_t uid, gid_t gid, mode_t mode)
{
	CHECK(mkdir(p(name), 0700) == 0);
	CHECK(chown(p(name), uid, gid) == 0);
	CHECK(chmod(p(name), mode) == 0);
}

static void show(const char *label, const char *name)
{
	struct stat st;
	if (stat(p(name), &st) != 0) {
		printf("%s: %s\n", label, t_errname(errno));
		return;
	}
	printf("%s: mode=%04o uid=%u gid=%u\n", label, st.st_mode & 07777, st.st_uid, st.st_gid);
}

static void setup(void)
{
	/* Sticky. */
	mkdir_as("sticky", 0, 0, 01777);
	mkfile("sticky/rootfile", 0, 0, 0666);
	mkfile("sticky/userfile", 1000, 1000, 0644);
	mkfile("sticky/otherfile", 1001, 1001, 0666);
	mkdir_as("sticky/rootdir", 0, 0, 0777);
	mkdir_as("sticky/userdir", 1000, 1000, 01777);
	mkfile("sticky/userdir/rootfile", 0, 0, 0644);
	/* Not writable for the child. */
	mkdir_as("plain", 0, 0, 0755);
	mkfile("plain/f", 1000, 1000, 0666);
	/* Set-group-ID directory of a group the child is not in. */
	mkdir_as("sgid", 0, 3000, 02777);
	/* Attributes. */
	mkfile("own", 1000, 1000, 0644);
	mkfile("own3000", 1000, 3000, 0644);
	mkfile("notown", 0, 0, 0666);
	mkfile("notown-ro", 0, 0, 0644);
	mkfile("grp2000", 0, 2000, 0640);
	mkfile("grp2001", 0, 2001, 0640);
	mkfile("grp2000-noread", 0, 2000, 0604);
	mkfile("suid-chown", 1000, 1000, 06755);
	mkfile("sgid-noexec-chown", 1000, 1000, 06745);
	mkfile("suid-root-chown", 1000, 1000, 06755);
	mkfile("suid-write", 1000, 1000, 06755);
	mkfile("sgid-noexec-write", 1000, 1000, 02745);
	mkfile("suid-ftruncate", 1000, 1000, 04755);
	mkfile("suid-notown", 0, 0, 04777);
	mkfile("suid-root-write", 1000, 1000, 06755);
}

static int child(void)
{
	gid_t groups[2] = { 1000, 2000 };
	CHECK(setgroups(2, groups) == 0);
	CHECK(setresgid(1000, 1000, 1000) == 0);
	CHECK(setresuid(1000, 1000, 1000) == 0);
	CHECK(geteuid() == 1000 && getegid() == 1000);
	umask(0);

	/* Sticky directory. */
	T_ERRNO("sticky: unlink root's file", unlink(p("sticky/rootfile")), EPERM);
	T_ERRNO("sticky: unlink another user's file", unlink(p("sticky/otherfile")), EPERM);
	T_ERRNO("sticky: rename root's file", rename(p("sticky/rootfile"), p("sticky/x")), EPERM);
	T_ERRNO("sticky: rmdir root's dir", rmdir(p("sticky/rootdir")), EPERM);
	int fd = open(p("sticky/mine"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	T_TRUE(fd >= 0);
	close(fd);
	T_ERRNO("sticky: rename own file", rename(p("sticky/mine"), p("sticky/mine2")), 0);
	T_ERRNO("sticky: rename over another user's file",
		rename(p("sticky/mine2"), p("sticky/otherfile")), EPERM);
	T_ERRNO("sticky: exchange with another user's file",
		syscall(SYS_renameat2, AT_FDCWD, p("sticky/mine2"), AT_FDCWD, p("sticky/otherfile"),
			RENAME_EXCHANGE),
		EPERM);
	T_ERRNO("sticky: unlink own file", unlink(p("sticky/mine2")), 0);
	T_ERRNO("sticky: unlink own file root created", unlink(p("sticky/userfile")), 0);
	T_ERRNO("sticky: unlink root's file in own dir", unlink(p("sticky/userdir/rootfile")), 0);
	T_ERRNO("sticky: rmdir own dir", rmdir(p("sticky/userdir")), 0);
	T_ERRNO("sticky: root's file still there", access(p("sticky/rootfile"), F_OK), 0);

	/* A directory the child may not write. */
	T_ERRNO("plain: unlink", unlink(p("plain/f")), EACCES);
	T_ERRNO("plain: create", open(p("plain/new"), O_WRONLY | O_CREAT, 0644), EACCES);
	T_ERRNO("plain: mkdir", mkdir(p("plain/d"), 0755), EACCES);
	T_ERRNO("plain: symlink", symlink("x", p("plain/l")), EACCES);
	T_ERRNO("plain: link", link(p("own"), p("plain/own")), EACCES);
	T_ERRNO("plain: rename out", rename(p("plain/f"), p("sticky/f")), EACCES);
	T_ERRNO("plain: rename in", rename(p("own"), p("plain/own")), EACCES);
	fd = T_ERRNO("plain: existing file still writable", open(p("plain/f"), O_WRONLY), 0);
	close(fd);

	/* Set-group-ID directory. */
	fd = open(p("sgid/f"), O_WRONLY | O_CREAT | O_EXCL, 02775);
	T_TRUE(fd >= 0);
	close(fd);
	show("sgid: new file", "sgid/f");
	T_ERRNO("sgid: mkdir", mkdir(p("sgid/sub"), 0775), 0);
	show("sgid: new dir", "sgid/sub");
	T_ERRNO("sgid: mkdir below", mkdir(p("sgid/sub/subsub"), 0700), 0);
	show("sgid: dir below", "sgid/sub/subsub");
	T_ERRNO("sgid: symlink", symlink("f", p("sgid/l")), 0);
	struct stat st;
	CHECK(lstat(p("sgid/l"), &st) == 0);
	printf("sgid: symlink gid=%u\n", st.st_gid);

	/* Supplementary groups select the group class. */
	fd = open(p("grp2000"), O_RDONLY);
	printf("groups: read via supplementary group: %s\n", fd >= 0 ? "OK" : t_errname(errno));
	close(fd);
	T_ERRNO("groups: read a group not held", open(p("grp2001"), O_RDONLY), EACCES);
	T_ERRNO("groups: group class denies what other allows", open(p("grp2000-noread"), O_RDONLY),
		EACCES);

	/* chmod. */
	T_ERRNO("chmod: not owner", chmod(p("notown"), 0600), EPERM);
	T_ERRNO("chmod: owner", chmod(p("own"), 0600), 0);
	T_ERRNO("chmod: owner sets S_ISGID of own group", chmod(p("own"), 02755), 0);
	show("chmod: own group", "own");
	T_ERRNO("chmod: owner sets S_ISGID of a foreign group", chmod(p("own3000"), 02755), 0);
	show("chmod: foreign group", "own3000");

	/* chown. */
	T_ERRNO("chown: give away", chown(p("own"), 1001, -1), EPERM);
	T_ERRNO("chown: to self", chown(p("own"), 1000, -1), 0);
	T_ERRNO("chown: to a supplementary group", chown(p("own"), -1, 2000), 0);
	T_ERRNO("chown: to a group not held", chown(p("own"), -1, 3000), EPERM);
	T_ERRNO("chown: not owner, same owner", chown(p("notown"), 0, -1), EPERM);
	T_ERRNO("chown: not owner, same group", chown(p("notown"), -1, 0), EPERM);
	T_ERRNO("chown: not owner, nothing", chown(p("notown"), -1, -1), 0);
	T_ERRNO("chown: not owner, nothing, set-user-ID", chown(p("suid-notown"), -1, -1), EPERM);
	T_ERRNO("chown: clears set-id bits", chown(p("suid-chown"), -1, 2000), 0);
	show("chown: suid file", "suid-chown");
	T_ERRNO("chown: non-group-exec S_ISGID", chown(p("sgid-noexec-chown"), -1, 2000), 0);
	show("chown: sgid non-exec file", "sgid-noexec-chown");
	T_ERRNO("lchown: symlink", lchown(p("sgid/l"), 1000, 1000), 0);
	fd = open(p("notown"), O_RDWR);
	T_TRUE(fd >= 0);
	T_ERRNO("fchmod: not owner", fchmod(fd, 0600), EPERM);
	T_ERRNO("fchown: not owner", fchown(fd, 1000, -1), EPERM);
	T_ERRNO("fchown: not owner, nothing", fchown(fd, -1, -1), 0);
	close(fd);
	fd = open(p("own3000"), O_RDONLY);
	T_TRUE(fd >= 0);
	T_ERRNO("fchmod: owner", fchmod(fd, 0640), 0);
	T_ERRNO("fchown: owner to a group held", fchown(fd, -1, 1000), 0);
	close(fd);
	show("fchown: owner", "own3000");

	/* utimensat. */
	struct timespec explicit[2] = { { 1000, 0 }, { 2000, 0 } };
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct timespec now_omit[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
	struct timespec omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	T_ERRNO("utimensat: explicit, not owner", utimensat(AT_FDCWD, p("notown"), explicit, 0),
		EPERM);
	T_ERRNO("utimensat: NULL, writable", utimensat(AT_FDCWD, p("notown"), NULL, 0), 0);
	T_ERRNO("utimensat: NOW, writable", utimensat(AT_FDCWD, p("notown"), now, 0), 0);
	T_ERRNO("utimensat: NOW+OMIT, writable", utimensat(AT_FDCWD, p("notown"), now_omit, 0),
		EPERM);
	T_ERRNO("utimensat: OMIT, read-only", utimensat(AT_FDCWD, p("notown-ro"), omit, 0), 0);
	T_ERRNO("utimensat: NULL, read-only", utimensat(AT_FDCWD, p("notown-ro"), NULL, 0), EACCES);
	T_ERRNO("utimensat: NOW, read-only", utimensat(AT_FDCWD, p("notown-ro"), now, 0), EACCES);
	T_ERRNO("utimensat: explicit, owner", utimensat(AT_FDCWD, p("own"), explicit, 0), 0);
	CHECK(stat(p("own"), &st) == 0);
	printf("utimensat: owner's times set=%d\n", st.st_atime == 1000 && st.st_mtime == 2000);

	/* Writes clear set-id bits. */
	fd = open(p("suid-write"), O_WRONLY);
	T_TRUE(fd >= 0);
	T_EQ(write(fd, "x", 1), 1);
	CHECK(fstat(fd, &st) == 0);
	printf("write: suid file mode=%04o\n", st.st_mode & 07777);
	close(fd);
	fd = open(p("sgid-noexec-write"), O_WRONLY);
	T_TRUE(fd >= 0);
	T_EQ(pwrite(fd, "x", 1, 10), 1);
	close(fd);
	show("write: sgid non-exec file", "sgid-noexec-write");
	fd = open(p("suid-ftruncate"), O_WRONLY);
	T_TRUE(fd >= 0);
	T_ERRNO("ftruncate", ftruncate(fd, 1), 0);
	close(fd);
	show("ftruncate: suid file", "suid-ftruncate");
	T_ERRNO("truncate: not writable", truncate(p("notown-ro"), 0), EACCES);
	T_ERRNO("truncate: writable", truncate(p("notown"), 1), 0);
	return t_failures ? 1 : 0;
}

/* Files of the root filesystem the child does not own (the test binary). */
static int lower_child(void)
{
	CHECK(setresgid(1000, 1000, 1000) == 0);
	CHECK(setresuid(1000, 1000, 1000) == 0);
	CHECK(geteuid() == 1000);
	T_ERRNO("rootfs: chmod", chmod(self, 0755), EPERM);
	T_ERRNO("rootfs: chown", chown(self, 1000, -1), EPERM);
	T_ERRNO("rootfs: utimensat NULL", utimensat(AT_FDCWD, self, NULL, 0), EACCES);
	T_ERRNO("rootfs: unlink", unlink(self), EACCES);
	T_ERRNO("rootfs: mkdir in /", mkdir("/rvisor-st-dac-never", 0755), EACCES);
	T_ERRNO("rootfs: create in /", open("/rvisor-st-dac-never", O_WRONLY | O_CREAT, 0644),
		EACCES);
	return t_failures ? 1 : 0;
}

static int rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void run(const char *base)
{
	snprintf(dir, sizeof dir, "%s/rvisor-st-dac-XXXXXX", base);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chmod(dir, 0755) == 0);
	setup();
	printf("child: %s\n", t_status(t_in_child(child)));

	/* Root: chown clears S_ISUID, and S_ISGID when group-executable. */
	T_ERRNO("root: chown", chown(p("suid-root-chown"), 1000, 1000), 0);
	show("root: chown suid file", "suid-root-chown");
	/* Root (CAP_FSETID) keeps set-id bits when writing. */
	int fd = open(p("suid-root-write"), O_WRONLY);
	CHECK(fd >= 0);
	T_EQ(write(fd, "x", 1), 1);
	close(fd);
	show("root: write suid file", "suid-root-write");
	/* Root removes anything in a sticky directory. */
	T_ERRNO("root: unlink in sticky dir", unlink(p("sticky/otherfile")), 0);
	CHECK(nftw(dir, rm, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	self = argv[0];
	if (geteuid() != 0) {
		printf("not root: skipped\n");
		return t_done();
	}
	printf("== /tmp\n");
	run("/tmp");
	printf("== /var/tmp\n");
	run("/var/tmp");
	printf("== root filesystem\n");
	printf("lower child: %s\n", t_status(t_in_child(lower_child)));
	return t_done();
}
