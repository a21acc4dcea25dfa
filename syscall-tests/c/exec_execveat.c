/* execveat (AT_EMPTY_PATH on an fd, relative to a directory fd, AT_SYMLINK_NOFOLLOW) and execve
 * errors: ENOENT, EACCES (mode, directory), ENOEXEC, ENOTDIR, ELOOP, EINVAL, EBADF. */
#include "test_util.h"
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

static int run(int dirfd, const char *path, int flags, char *self)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *args[] = { self, "child", NULL };
		char *env[] = { NULL };
		syscall(SYS_execveat, dirfd, path, args, env, flags);
		_exit(100 + errno);
	}
	int st = t_wait(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *res(int code)
{
	static char b[32];
	if (code == 42)
		return "ran";
	if (code >= 100)
		return t_errname(code - 100);
	snprintf(b, sizeof b, "code %d", code);
	return b;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return 42;
	char *self = argv[0];
	CHECK(self[0] == '/');

	int fd = open(self, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	printf("execveat(fd, \"\", AT_EMPTY_PATH): %s\n", res(run(fd, "", AT_EMPTY_PATH, self)));
	int pfd = open(self, O_PATH | O_CLOEXEC);
	CHECK(pfd >= 0);
	printf("execveat(O_PATH fd, \"\", AT_EMPTY_PATH): %s\n", res(run(pfd, "", AT_EMPTY_PATH, self)));
	printf("execveat(fd, \"\", 0): %s\n", res(run(fd, "", 0, self)));

	char dir[4096], base[4096];
	snprintf(dir, sizeof dir, "%s", self);
	snprintf(base, sizeof base, "%s", self);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dfd >= 0);
	printf("execveat(dirfd, basename): %s\n", res(run(dfd, basename(base), 0, self)));
	printf("execveat(AT_FDCWD, absolute): %s\n", res(run(AT_FDCWD, self, 0, self)));
	printf("execveat bad flags: %s\n", res(run(AT_FDCWD, self, 0x1, self)));
	printf("execveat bad dirfd: %s\n", res(run(9999, "x", 0, self)));

	/* Symlink to ourselves in /tmp: followed, unless AT_SYMLINK_NOFOLLOW. */
	const char *link = t_tmp_path("execlink");
	unlink(link);
	CHECK(symlink(self, link) == 0);
	printf("via symlink: %s\n", res(run(AT_FDCWD, link, 0, self)));
	printf("via symlink NOFOLLOW: %s\n", res(run(AT_FDCWD, link, AT_SYMLINK_NOFOLLOW, self)));
	unlink(link);

	/* Error paths. */
	printf("missing file: %s\n", res(run(AT_FDCWD, "/nonexistent/prog", 0, self)));
	printf("directory: %s\n", res(run(AT_FDCWD, "/tmp", 0, self)));
	const char *noexec = t_tmp_path("noexec");
	int nfd = open(noexec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(nfd >= 0);
	CHECK(write(nfd, "\x7f" "ELF garbage that is not an executable", 38) == 38);
	close(nfd);
	printf("mode 0644: %s\n", res(run(AT_FDCWD, noexec, 0, self)));
	CHECK(chmod(noexec, 0755) == 0);
	printf("mode 0755 garbage: %s\n", res(run(AT_FDCWD, noexec, 0, self)));
	char under_file[256];
	snprintf(under_file, sizeof under_file, "%s/x", noexec);
	printf("path through a file: %s\n", res(run(AT_FDCWD, under_file, 0, self)));
	unlink(noexec);
	printf("empty path without AT_EMPTY_PATH at cwd: %s\n", res(run(AT_FDCWD, "", 0, self)));
	return t_done();
}
