/* The filesystem capabilities of root, one by one (capabilities(7), path_resolution(7)):
 * without CAP_DAC_OVERRIDE root reads through CAP_DAC_READ_SEARCH but cannot write what
 * the mode bits refuse (EACCES); without both it cannot even search a directory whose bits
 * refuse it; without CAP_FOWNER no chmod or explicit times of another's file, no removal in
 * another's sticky directory (EPERM); without CAP_CHOWN no chown (EPERM); without
 * CAP_FSETID a write clears set-user-ID. Search (execute) permission on every directory
 * of a path, for a user: EACCES under a 0600 directory, fine under a 0711 one, chdir
 * needs it too, and so do procfs directories (/proc/PID/fd). access(2) checks with the
 * real uid and, for root, the permitted set.
 * Every case runs under /tmp and /var/tmp (inside rvisor: the private tmpfs and the
 * overlay root), in a forked child. */
#include "caps_util.h"
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <sys/stat.h>

static char dir[256];

static const char *p(const char *name)
{
	static char buf[8][512];
	static int n;
	char *b = buf[n++ % 8];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

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

static void setup(void)
{
	mkfile("u600", 1000, 1000, 0600);
	mkfile("u000", 1000, 1000, 0000);
	mkdir_as("udir", 1000, 1000, 0700);
	mkfile("udir/f", 1000, 1000, 0644);
	mkdir_as("r600", 0, 0, 0600);
	mkfile("r600/f", 0, 0, 0644);
	mkdir_as("r711", 0, 0, 0711);
	mkfile("r711/f", 0, 0, 0644);
	mkdir_as("r711/sub", 0, 0, 0755);
	mkdir_as("sticky", 1000, 1000, 01777);
	mkfile("sticky/f", 1001, 1001, 0644);
	mkfile("suid", 0, 0, 04755);
	mkfile("suid2", 0, 0, 04755);
}

static int try_open(const char *label, const char *name, int flags, int want)
{
	int fd = T_ERRNO(label, open(p(name), flags), want);
	if (fd >= 0)
		close(fd);
	return fd;
}

static int stat_errno(const char *name)
{
	struct stat st;
	return stat(p(name), &st) == 0 ? 0 : errno;
}

static int no_dac_override(void)
{
	caps_drop_eff(BIT(CAP_DAC_OVERRIDE));
	try_open("read another's 0600 file (DAC_READ_SEARCH)", "u600", O_RDONLY, 0);
	try_open("read a 0000 file (DAC_READ_SEARCH)", "u000", O_RDONLY, 0);
	try_open("write another's 0600 file", "u600", O_WRONLY, EACCES);
	printf("  stat through another's 0700 dir: %s\n", t_errname(stat_errno("udir/f")));
	T_ERRNO("create in another's 0700 dir", open(p("udir/new"), O_WRONLY | O_CREAT, 0644), EACCES);
	return t_failures ? 1 : 0;
}

static int no_dac(void)
{
	caps_drop_eff(BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH));
	try_open("read another's 0600 file", "u600", O_RDONLY, EACCES);
	printf("  stat through another's 0700 dir: %s\n", t_errname(stat_errno("udir/f")));
	printf("  stat through own 0600 dir: %s\n", t_errname(stat_errno("r600/f")));
	printf("  stat own 0600 dir itself: %s\n", t_errname(stat_errno("r600")));
	printf("  stat through own 0711 dir: %s\n", t_errname(stat_errno("r711/f")));
	T_ERRNO("chdir into own 0600 dir", chdir(p("r600")), EACCES);
	/* access(2) of root checks with the permitted set, which still has them. */
	T_ERRNO("access R_OK (permitted has DAC_OVERRIDE)", access(p("u600"), R_OK), 0);
	T_ERRNO("faccessat AT_EACCESS R_OK", faccessat(AT_FDCWD, p("u600"), R_OK, AT_EACCESS), EACCES);
	caps_drop(BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH));
	T_ERRNO("access R_OK (gone from permitted)", access(p("u600"), R_OK), EACCES);
	T_ERRNO("access through own 0600 dir", access(p("r600/f"), F_OK), EACCES);
	return t_failures ? 1 : 0;
}

static int no_fowner(void)
{
	caps_drop_eff(BIT(CAP_FOWNER));
	T_ERRNO("chmod another's file", chmod(p("u600"), 0644), EPERM);
	struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };
	T_ERRNO("utimensat explicit times", utimensat(AT_FDCWD, p("u600"), ts, 0), EPERM);
	T_ERRNO("utimensat now (writable through DAC_OVERRIDE)", utimensat(AT_FDCWD, p("u600"), NULL, 0), 0);
	T_ERRNO("unlink another's file in another's sticky dir", unlink(p("sticky/f")), EPERM);
	T_ERRNO("chmod own file", chmod(p("suid2"), 04755), 0);
	return t_failures ? 1 : 0;
}

static int no_chown(void)
{
	caps_drop_eff(BIT(CAP_CHOWN));
	T_ERRNO("chown owner", chown(p("u600"), 5, -1), EPERM);
	T_ERRNO("chown group", chown(p("u600"), -1, 5), EPERM);
	T_ERRNO("chown own file to itself", chown(p("suid2"), 0, 0), 0);
	return t_failures ? 1 : 0;
}

static int no_fsetid(void)
{
	caps_drop_eff(BIT(CAP_FSETID));
	int fd = open(p("suid"), O_WRONLY);
	CHECK(fd >= 0);
	T_EQ(write(fd, "x", 1), 1);
	close(fd);
	struct stat st;
	CHECK(stat(p("suid"), &st) == 0);
	printf("  write without FSETID: mode=%04o\n", st.st_mode & 07777);
	return t_failures ? 1 : 0;
}

static int user(void)
{
	CHECK(setgroups(0, NULL) == 0);
	CHECK(setresgid(1000, 1000, 1000) == 0);
	CHECK(setresuid(1000, 1000, 1000) == 0);
	printf("  stat through root's 0600 dir: %s\n", t_errname(stat_errno("r600/f")));
	printf("  stat missing name in root's 0600 dir: %s\n", t_errname(stat_errno("r600/nope")));
	printf("  stat root's 0600 dir/.: %s\n", t_errname(stat_errno("r600/.")));
	printf("  stat through root's 0711 dir: %s\n", t_errname(stat_errno("r711/f")));
	printf("  stat two levels through 0711: %s\n", t_errname(stat_errno("r711/sub/..")));
	try_open("open through root's 0600 dir", "r600/f", O_RDONLY, EACCES);
	try_open("open through root's 0711 dir", "r711/f", O_RDONLY, 0);
	try_open("list root's 0711 dir", "r711", O_RDONLY | O_DIRECTORY, EACCES);
	T_ERRNO("unlink in root's 0600 dir", unlink(p("r600/f")), EACCES);
	T_ERRNO("mkdir in root's 0600 dir", mkdir(p("r600/d"), 0755), EACCES);
	T_ERRNO("rename out of root's 0600 dir", rename(p("r600/f"), p("sticky/g")), EACCES);
	T_ERRNO("chdir into root's 0600 dir", chdir(p("r600")), EACCES);
	T_ERRNO("chdir into root's 0711 dir", chdir(p("r711")), 0);
	T_ERRNO("relative access from there", access("f", R_OK), 0);
	T_ERRNO("access through root's 0600 dir", access(p("r600/f"), F_OK), EACCES);
	/* procfs: /proc/PID/fd is dr-x------, its owner's. */
	char fd0[64];
	struct stat st;
	snprintf(fd0, sizeof fd0, "/proc/%d/fd/0", (int)getppid());
	T_ERRNO("stat root's /proc/PID/fd/0", stat(fd0, &st), EACCES);
	T_ERRNO("stat own /proc/self/fd/0", stat("/proc/self/fd/0", &st), 0);
	return t_failures ? 1 : 0;
}

/* Real uid 1000, effective 0: access(2) asks as the real uid. */
static int real_user(void)
{
	CHECK(setresuid(1000, 0, 0) == 0);
	T_ERRNO("open root's 0600-dir file as euid 0", open(p("r600/f"), O_RDONLY) >= 0 ? 0 : -1, 0);
	T_ERRNO("access as real uid 1000", access(p("r600/f"), R_OK), EACCES);
	T_ERRNO("access AT_EACCESS", faccessat(AT_FDCWD, p("r600/f"), R_OK, AT_EACCESS), 0);
	T_ERRNO("access own file as real uid", access(p("u600"), R_OK | W_OK), 0);
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
	snprintf(dir, sizeof dir, "%s/rvisor-st-capdac-XXXXXX", base);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chmod(dir, 0755) == 0);
	setup();
	struct stat st;
	printf("root stats through another's 0700 dir: %s\n", t_errname(stat_errno("udir/f")));
	in_child("without DAC_OVERRIDE", no_dac_override);
	in_child("without DAC_OVERRIDE and DAC_READ_SEARCH", no_dac);
	in_child("without FOWNER", no_fowner);
	in_child("without CHOWN", no_chown);
	in_child("without FSETID", no_fsetid);
	in_child("user 1000", user);
	in_child("real uid 1000", real_user);
	CHECK(stat(p("u600"), &st) == 0);
	printf("u600 after: mode=%04o uid=%u\n", st.st_mode & 07777, st.st_uid);
	CHECK(nftw(dir, rm, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

int main(void)
{
	printf("== /tmp\n");
	run("/tmp");
	printf("== /var/tmp\n");
	run("/var/tmp");
	return t_done();
}
