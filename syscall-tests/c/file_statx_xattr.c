/* statx agrees with fstat on the basic fields (size, mode, nlink, ino, times); its flag
 * errors; extended attributes that are not there read as ENODATA, on a missing file ENOENT. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

int main(void)
{
	const char *path = t_tmp_path("statx");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0640);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello statx", 11) == 11);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	struct statx sx;
	CHECK(T_ERRNO("statx", statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx), 0) == 0);
	printf("basic mask=%d\n", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
	printf("size=%llu mode=%o nlink=%u\n", (unsigned long long)sx.stx_size, sx.stx_mode & 07777, sx.stx_nlink);
	printf("ino matches=%d mtime matches=%d type regular=%d\n", sx.stx_ino == st.st_ino,
	       sx.stx_mtime.tv_sec == st.st_mtim.tv_sec && sx.stx_mtime.tv_nsec == (unsigned)st.st_mtim.tv_nsec,
	       S_ISREG(sx.stx_mode));
	CHECK(T_ERRNO("statx AT_EMPTY_PATH", statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx), 0) == 0);
	printf("empty path size=%llu\n", (unsigned long long)sx.stx_size);
	T_ERRNO("statx empty without flag", statx(fd, "", 0, STATX_SIZE, &sx), ENOENT);
	T_ERRNO("statx both sync flags", statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, 0, &sx), EINVAL);
	T_ERRNO("statx bad flag", statx(AT_FDCWD, path, 0x10000000, 0, &sx), EINVAL);
	T_ERRNO("statx missing", statx(AT_FDCWD, "/nonexistent/x", 0, 0, &sx), ENOENT);

	char v[16];
	T_ERRNO("getxattr absent", getxattr(path, "user.rvisor", v, sizeof v), ENODATA);
	T_ERRNO("lgetxattr absent", lgetxattr(path, "user.rvisor", v, sizeof v), ENODATA);
	T_ERRNO("fgetxattr absent", fgetxattr(fd, "user.rvisor", v, sizeof v), ENODATA);
	T_ERRNO("getxattr missing file", getxattr("/nonexistent/x", "user.rvisor", v, sizeof v), ENOENT);
	T_ERRNO("fgetxattr bad fd", fgetxattr(-1, "user.rvisor", v, sizeof v), EBADF);
	close(fd);
	unlink(path);
	return t_done();
}
