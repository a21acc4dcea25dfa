/* umask (returned old value, applied to new files and directories), getcwd/chdir/fchdir
 * (absolute results, "..", errors ENOENT/ENOTDIR/ERANGE/EBADF), cwd inherited by children. */
#include "test_util.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

int main(void)
{
	mode_t old = umask(027);
	printf("umask(027) returned old value (restored later)\n");
	printf("umask(022) returns 027=%d\n", umask(022) == 027);
	umask(027);
	const char *f = t_tmp_path("umask-file");
	int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	CHECK(fd >= 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	printf("file mode with umask 027=%o\n", st.st_mode & 0777);
	close(fd);
	unlink(f);
	const char *d = t_tmp_path("umask-dir");
	CHECK(mkdir(d, 0777) == 0);
	CHECK(stat(d, &st) == 0);
	printf("dir mode with umask 027=%o\n", st.st_mode & 0777);
	umask(0);
	CHECK(chmod(d, 0755) == 0);
	umask(old);

	char buf[PATH_MAX];
	T_ERRNO("chdir /tmp", chdir("/tmp"), 0);
	printf("getcwd=%s\n", getcwd(buf, sizeof buf));
	CHECK(chdir(d) == 0);
	CHECK(getcwd(buf, sizeof buf) != NULL);
	printf("getcwd is the new dir=%d\n", strcmp(buf, d) == 0);
	T_ERRNO("chdir ..", chdir(".."), 0);
	printf("after ..=%s\n", getcwd(buf, sizeof buf));
	CHECK(chdir("/") == 0);
	T_ERRNO("chdir .. at root", chdir(".."), 0);
	printf("still=%s\n", getcwd(buf, sizeof buf));

	int dfd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	T_ERRNO("fchdir", fchdir(dfd), 0);
	CHECK(getcwd(buf, sizeof buf) != NULL);
	printf("fchdir went there=%d\n", strcmp(buf, d) == 0);
	/* Relative paths resolve against the cwd. */
	fd = open("rel-file", O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	close(fd);
	char full[PATH_MAX];
	snprintf(full, sizeof full, "%s/rel-file", d);
	printf("relative create landed in cwd=%d\n", access(full, F_OK) == 0);

	/* A child inherits the cwd; its chdir does not affect us. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char b[PATH_MAX];
		int ok = getcwd(b, sizeof b) && strcmp(b, d) == 0;
		ok &= chdir("/") == 0;
		_exit(ok ? 0 : 1);
	}
	printf("child: %s\n", t_status(t_wait(pid)));
	CHECK(getcwd(buf, sizeof buf) != NULL);
	printf("parent cwd unchanged=%d\n", strcmp(buf, d) == 0);
	unlink(full);

	T_ERRNO("chdir missing", chdir("/tmp/rvisor-st-no-such-dir"), ENOENT);
	T_ERRNO("chdir to a file", chdir("/dev/null"), ENOTDIR);
	T_ERRNO("fchdir on a file", fchdir(open("/dev/null", O_RDONLY)), ENOTDIR);
	T_ERRNO("fchdir bad fd", fchdir(999), EBADF);
	T_ERRNO("chdir empty", chdir(""), ENOENT);
	T_ERRNO("getcwd small buffer", syscall(SYS_getcwd, buf, 2), ERANGE);
	T_ERRNO("getcwd size 0", syscall(SYS_getcwd, buf, 0), ERANGE);
	T_ERRNO("getcwd bad pointer", syscall(SYS_getcwd, (void *)1, sizeof buf), EFAULT);
	long n = syscall(SYS_getcwd, buf, sizeof buf);
	printf("raw getcwd returns length+1=%d\n", n == (long)strlen(d) + 1);
	CHECK(chdir("/") == 0);
	CHECK(rmdir(d) == 0);
	return t_done();
}
