/* openat2(2): struct open_how size and field checks, and the RESOLVE_* scoping flags:
 * NO_SYMLINKS, NO_MAGICLINKS, NO_XDEV, BENEATH (EXDEV on escapes), IN_ROOT (".." and
 * absolute paths clamped to the dirfd), CACHED. */
#include "test_util.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

static char top[128], root[192];

static long openat2_(int dirfd, const char *path, void *how, size_t size)
{
	return syscall(SYS_openat2, dirfd, path, how, size);
}

static long o2(int dirfd, const char *path, unsigned long long flags, unsigned long long mode,
	       unsigned long long resolve)
{
	struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
	/* With BENEATH or IN_ROOT, Linux answers EAGAIN for a ".." walked while anything on the
	 * host was renamed (other tests run in parallel): retry, as openat2(2) suggests. */
	unsigned long long scoped = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
	long r;
	int tries = 0;
	do
		r = openat2_(dirfd, path, &how, sizeof how);
	while (r == -1 && errno == EAGAIN && (resolve & scoped) && !(resolve & RESOLVE_CACHED) &&
	       ++tries < 1000);
	return r;
}

/* Prints "label: ERRNO" and, when it opened a readable file, its first line. */
#define TRY(label, expr, want)                                                   \
	do {                                                                     \
		long fd_ = T_ERRNO(label, expr, want);                           \
		if (fd_ >= 0) {                                                  \
			char b_[40] = { 0 };                                     \
			ssize_t n_ = read((int)fd_, b_, sizeof b_ - 1);          \
			if (n_ > 0)                                              \
				printf("  holds: %.*s\n", (int)strcspn(b_, "\n"), b_); \
			close((int)fd_);                                         \
		}                                                                \
	} while (0)

static void put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0);
	t_write_all(fd, text, strlen(text));
	close(fd);
}

static const char *R(const char *name)
{
	static char buf[8][320];
	static int n;
	char *p = buf[n++ % 8];
	snprintf(p, 320, "%s/%s", root, name);
	return p;
}

int main(void)
{
	umask(022);
	snprintf(top, sizeof top, "%s", t_tmp_path("openat2"));
	snprintf(root, sizeof root, "%s/root", top);
	char outside[256];
	snprintf(outside, sizeof outside, "%s/outside", top);
	CHECK(mkdir(top, 0755) == 0);
	CHECK(mkdir(root, 0755) == 0);
	CHECK(mkdir(R("a"), 0755) == 0);
	put(outside, "above the root");
	put(R("outside"), "inside the root");
	put(R("file"), "root file");
	put(R("a/file"), "a's file");
	CHECK(symlink("a/file", R("link_rel")) == 0);
	CHECK(symlink("../outside", R("link_up")) == 0);
	CHECK(symlink(R("file"), R("link_abs")) == 0);
	CHECK(symlink("/file", R("link_slash")) == 0);
	CHECK(symlink("a/../file", R("link_in")) == 0);
	CHECK(symlink("a", R("dirlink")) == 0);
	CHECK(symlink("loop", R("loop")) == 0);
	CHECK(symlink("a/created", R("dangling")) == 0);
	int rootfd = open(root, O_PATH | O_DIRECTORY);
	CHECK(rootfd >= 0);

	/* The struct. */
	struct {
		struct open_how how;
		unsigned long long extra[8];
	} big = { .how = { .flags = O_RDONLY } };
	TRY("size 0", openat2_(rootfd, "file", &big, 0), EINVAL);
	TRY("size 23", openat2_(rootfd, "file", &big, 23), EINVAL);
	TRY("size 24", openat2_(rootfd, "file", &big, 24), 0);
	TRY("size 88, zero tail", openat2_(rootfd, "file", &big, sizeof big), 0);
	big.extra[7] = 1;
	TRY("size 88, non-zero tail", openat2_(rootfd, "file", &big, sizeof big), E2BIG);
	TRY("size past a page", openat2_(rootfd, "file", &big, 4097), E2BIG);
	TRY("NULL how", openat2_(rootfd, "file", NULL, 24), EFAULT);
	TRY("empty path", o2(rootfd, "", O_RDONLY, 0, 0), ENOENT);

	/* Flags and mode. */
	TRY("unknown flag bit 40", o2(rootfd, "file", 1ULL << 40, 0, 0), EINVAL);
	TRY("unknown flag bit 30", o2(rootfd, "file", 1ULL << 30, 0, 0), EINVAL);
	TRY("mode without O_CREAT", o2(rootfd, "file", O_RDONLY, 0644, 0), EINVAL);
	TRY("mode with type bits", o2(rootfd, "new", O_CREAT | O_WRONLY, S_IFREG | 0644, 0), EINVAL);
	TRY("O_CREAT|O_DIRECTORY", o2(rootfd, "new", O_CREAT | O_DIRECTORY, 0644, 0), EINVAL);
	TRY("O_PATH|O_RDWR", o2(rootfd, "file", O_PATH | O_RDWR, 0, 0), EINVAL);
	TRY("O_PATH|O_NOFOLLOW|O_CLOEXEC", o2(rootfd, "link_rel", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, 0), 0);
	TRY("O_TMPFILE|O_RDONLY", o2(rootfd, "a", O_TMPFILE | O_RDONLY, 0600, 0), EINVAL);
	TRY("unknown resolve bit", o2(rootfd, "file", O_RDONLY, 0, 0x40), EINVAL);
	TRY("BENEATH|IN_ROOT", o2(rootfd, "file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
	TRY("CACHED with O_CREAT", o2(rootfd, "new", O_CREAT | O_WRONLY, 0600, RESOLVE_CACHED), EAGAIN);
	TRY("CACHED with O_TRUNC", o2(rootfd, "file", O_WRONLY | O_TRUNC, 0, RESOLVE_CACHED), EAGAIN);
	long c = o2(rootfd, "file", O_RDONLY, 0, RESOLVE_CACHED);
	printf("CACHED plain: ok_or_eagain=%d\n", c >= 0 || errno == EAGAIN);
	if (c >= 0)
		close((int)c);

	/* Plain opens, creation, O_CLOEXEC. */
	TRY("plain", o2(rootfd, "file", O_RDONLY, 0, 0), 0);
	TRY("plain through links", o2(rootfd, "dirlink/file", O_RDONLY, 0, 0), 0);
	TRY("plain ../outside", o2(rootfd, "../outside", O_RDONLY, 0, 0), 0);
	TRY("plain link_up", o2(rootfd, "link_up", O_RDONLY, 0, 0), 0);
	long fd = T_ERRNO("O_CREAT 0640", o2(rootfd, "new", O_CREAT | O_WRONLY | O_CLOEXEC, 0640, 0), 0);
	struct stat st;
	CHECK(fd >= 0 && fstat((int)fd, &st) == 0);
	printf("  perm=%o cloexec=%d\n", st.st_mode & 07777, fcntl((int)fd, F_GETFD) == FD_CLOEXEC);
	int fl = fcntl((int)fd, F_GETFL);
	printf("  F_GETFL: wronly=%d nofollow=%d\n", (fl & O_ACCMODE) == O_WRONLY, !!(fl & O_NOFOLLOW));
	close((int)fd);
	TRY("O_CREAT|O_EXCL existing", o2(rootfd, "new", O_CREAT | O_EXCL | O_WRONLY, 0640, 0), EEXIST);
	TRY("O_CREAT|O_EXCL on a link", o2(rootfd, "link_rel", O_CREAT | O_EXCL | O_WRONLY, 0640, 0), EEXIST);
	TRY("O_NOFOLLOW on a link", o2(rootfd, "link_rel", O_RDONLY | O_NOFOLLOW, 0, 0), ELOOP);
	TRY("missing", o2(rootfd, "missing", O_RDONLY, 0, 0), ENOENT);
	TRY("file/x", o2(rootfd, "file/x", O_RDONLY, 0, 0), ENOTDIR);
	TRY("loop", o2(rootfd, "loop", O_RDONLY, 0, 0), ELOOP);
	TRY("AT_FDCWD absolute", o2(AT_FDCWD, R("file"), O_RDONLY, 0, 0), 0);
	TRY("bad dirfd", o2(-1, "file", O_RDONLY, 0, 0), EBADF);
	TRY("dirfd not a directory", o2(open(R("file"), O_RDONLY), "x", O_RDONLY, 0, 0), ENOTDIR);

	/* RESOLVE_NO_SYMLINKS. */
	TRY("NO_SYMLINKS file", o2(rootfd, "a/file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), 0);
	TRY("NO_SYMLINKS link", o2(rootfd, "link_rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	TRY("NO_SYMLINKS through a link", o2(rootfd, "dirlink/file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);
	TRY("NO_SYMLINKS O_PATH|O_NOFOLLOW link", o2(rootfd, "link_rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS), 0);
	TRY("NO_SYMLINKS dangling O_CREAT", o2(rootfd, "dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_NO_SYMLINKS), ELOOP);
	TRY("NO_SYMLINKS /proc/self", o2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);

	/* RESOLVE_BENEATH. */
	TRY("BENEATH a/file", o2(rootfd, "a/file", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH a/../file", o2(rootfd, "a/../file", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH ./a/./file", o2(rootfd, "./a/./file", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH ../outside", o2(rootfd, "../outside", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	TRY("BENEATH a/../../outside", o2(rootfd, "a/../../outside", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	TRY("BENEATH ..", o2(rootfd, "..", O_RDONLY | O_DIRECTORY, 0, RESOLVE_BENEATH), EXDEV);
	TRY("BENEATH absolute", o2(rootfd, R("file"), O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	TRY("BENEATH link_rel", o2(rootfd, "link_rel", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH link_in", o2(rootfd, "link_in", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH dirlink/file", o2(rootfd, "dirlink/file", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH link_up", o2(rootfd, "link_up", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	TRY("BENEATH link_abs", o2(rootfd, "link_abs", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);
	TRY("BENEATH link_up O_PATH|O_NOFOLLOW", o2(rootfd, "link_up", O_PATH | O_NOFOLLOW, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH .", o2(rootfd, ".", O_RDONLY | O_DIRECTORY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH a/", o2(rootfd, "a/", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH file/", o2(rootfd, "file/", O_RDONLY, 0, RESOLVE_BENEATH), ENOTDIR);
	TRY("BENEATH missing/x", o2(rootfd, "missing/x", O_RDONLY, 0, RESOLVE_BENEATH), ENOENT);
	TRY("BENEATH O_CREAT a/made", o2(rootfd, "a/made", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH), 0);
	TRY("BENEATH O_CREAT ../escaped", o2(rootfd, "../escaped", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH), EXDEV);
	char escaped[256];
	snprintf(escaped, sizeof escaped, "%s/escaped", top);
	printf("  ../escaped exists: %d\n", access(escaped, F_OK) == 0);
	TRY("BENEATH O_CREAT through a dangling link", o2(rootfd, "dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH), 0);
	printf("  a/created exists: %d\n", access(R("a/created"), F_OK) == 0);
	int procfd = open("/proc", O_PATH | O_DIRECTORY);
	CHECK(procfd >= 0);
	TRY("BENEATH /proc self/status", o2(procfd, "self/status", O_RDONLY, 0, RESOLVE_BENEATH), 0);
	TRY("BENEATH /proc self/fd/0 (magic)", o2(procfd, "self/fd/0", O_RDONLY, 0, RESOLVE_BENEATH), EXDEV);

	/* RESOLVE_IN_ROOT. */
	TRY("IN_ROOT a/file", o2(rootfd, "a/file", O_RDONLY, 0, RESOLVE_IN_ROOT), 0);
	TRY("IN_ROOT ../file", o2(rootfd, "../file", O_RDONLY, 0, RESOLVE_IN_ROOT), 0);
	TRY("IN_ROOT a/../../../outside", o2(rootfd, "a/../../../outside", O_RDONLY, 0, RESOLVE_IN_ROOT), 0);
	TRY("IN_ROOT /file", o2(rootfd, "/file", O_RDONLY, 0, RESOLVE_IN_ROOT), 0);
	TRY("IN_ROOT /a/file", o2(rootfd, "/a/file", O_RDONLY, 0, RESOLVE_IN_ROOT), 0);
	TRY("IN_ROOT link_up", o2(rootfd, "link_up", O_RDONLY, 0, RESOLVE_IN_ROOT), 0);
	TRY("IN_ROOT link_slash", o2(rootfd, "link_slash", O_RDONLY, 0, RESOLVE_IN_ROOT), 0);
	TRY("plain link_slash", o2(rootfd, "link_slash", O_RDONLY, 0, 0), ENOENT);
	TRY("IN_ROOT link_abs", o2(rootfd, "link_abs", O_RDONLY, 0, RESOLVE_IN_ROOT), ENOENT);
	TRY("IN_ROOT /etc/passwd", o2(rootfd, "/etc/passwd", O_RDONLY, 0, RESOLVE_IN_ROOT), ENOENT);
	TRY("IN_ROOT O_CREAT /a/made2", o2(rootfd, "/a/made2", O_CREAT | O_WRONLY, 0644, RESOLVE_IN_ROOT), 0);
	printf("  a/made2 exists: %d\n", access(R("a/made2"), F_OK) == 0);
	TRY("IN_ROOT /proc self/fd/0 (magic)", o2(procfd, "self/fd/0", O_RDONLY, 0, RESOLVE_IN_ROOT), EXDEV);

	/* RESOLVE_NO_MAGICLINKS. */
	int ffd = open(R("file"), O_RDONLY);
	CHECK(ffd >= 0);
	char magic[64];
	snprintf(magic, sizeof magic, "/proc/self/fd/%d", ffd);
	TRY("magic link", o2(AT_FDCWD, magic, O_RDONLY, 0, 0), 0);
	TRY("NO_MAGICLINKS magic link", o2(AT_FDCWD, magic, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	TRY("NO_MAGICLINKS magic O_PATH|O_NOFOLLOW", o2(AT_FDCWD, magic, O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS), 0);
	TRY("NO_MAGICLINKS /proc/self/status", o2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), 0);
	TRY("NO_MAGICLINKS /proc/self/cwd/", o2(AT_FDCWD, "/proc/self/cwd/", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), ELOOP);
	TRY("NO_MAGICLINKS plain link", o2(rootfd, "link_rel", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS), 0);
	TRY("NO_SYMLINKS magic link", o2(AT_FDCWD, magic, O_RDONLY, 0, RESOLVE_NO_SYMLINKS), ELOOP);

	/* RESOLVE_NO_XDEV. */
	TRY("NO_XDEV a/file", o2(rootfd, "a/file", O_RDONLY, 0, RESOLVE_NO_XDEV), 0);
	TRY("NO_XDEV link_rel", o2(rootfd, "link_rel", O_RDONLY, 0, RESOLVE_NO_XDEV), 0);
	TRY("NO_XDEV /proc/self/status", o2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	TRY("NO_XDEV proc: self/status", o2(procfd, "self/status", O_RDONLY, 0, RESOLVE_NO_XDEV), 0);
	TRY("NO_XDEV proc: ../etc/passwd", o2(procfd, "../etc/passwd", O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	TRY("NO_XDEV proc: magic link", o2(AT_FDCWD, magic, O_RDONLY, 0, RESOLVE_NO_XDEV), EXDEV);
	TRY("NO_XDEV /etc/passwd", o2(rootfd, "/etc/passwd", O_RDONLY, 0, RESOLVE_NO_XDEV), 0);

	const char *names[] = { "outside", "file", "a/file", "link_rel", "link_up", "link_abs",
				"link_slash", "link_in", "dirlink", "loop", "dangling", "new",
				"a/made", "a/created", "a/made2" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		CHECK(unlink(R(names[i])) == 0);
	CHECK(unlink(outside) == 0);
	CHECK(rmdir(R("a")) == 0);
	CHECK(rmdir(root) == 0);
	CHECK(rmdir(top) == 0);
	return t_done();
}
