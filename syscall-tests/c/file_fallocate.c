/* fallocate(2) on tmpfs (/dev/shm, a tmpfs natively too): mode 0 grows the file and allocates,
 * FALLOC_FL_KEEP_SIZE allocates without growing, PUNCH_HOLE|KEEP_SIZE zeroes; EOPNOTSUPP,
 * EINVAL, EBADF, ESPIPE, ENODEV, EFBIG, ENOSPC and RLIMIT_FSIZE; memfds. Also
 * sync_file_range(2) and readahead(2) argument checks. */
#include "test_util.h"
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

static long size_of(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (long)st.st_size;
}

static long blocks_of(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (long)st.st_blocks;
}

static int all(const char *buf, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != c)
			return 0;
	return 1;
}

static int fsize_child(void)
{
	const char *path = "/dev/shm/rvisor-st-falloc-fsize";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = { 4096, RLIM_INFINITY };
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	int e[4];
	errno = 0;
	e[0] = fallocate(fd, 0, 0, 4096) == 0 ? 0 : errno;
	e[1] = fallocate(fd, 0, 0, 8192) == 0 ? 0 : errno;
	e[2] = fallocate(fd, FALLOC_FL_KEEP_SIZE, 4000, 200) == 0 ? 0 : errno;
	e[3] = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 8192) == 0 ? 0 : errno;
	rl.rlim_cur = RLIM_INFINITY;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	printf("fsize: to the limit %s, past it %s, keep size past it %s, punch %s\n", t_errname(e[0]),
	       t_errname(e[1]), t_errname(e[2]), t_errname(e[3]));
	T_EQ(e[0], 0);
	T_EQ(e[1], EFBIG);
	T_EQ(e[2], EFBIG);
	T_EQ(e[3], 0);
	printf("fsize: size=%ld\n", size_of(fd));
	unlink(path);
	return t_failures;
}

int main(void)
{
	static char buf[65536];
	const char *path = "/dev/shm/rvisor-st-falloc";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);

	/* Mode 0: grows the file, allocates its pages, reads zeros. */
	T_ERRNO("allocate 8192", fallocate(fd, 0, 0, 8192), 0);
	printf("size=%ld blocks=%ld\n", size_of(fd), blocks_of(fd));
	CHECK(pread(fd, buf, sizeof buf, 0) == 8192);
	printf("zeros=%d\n", all(buf, 8192, 0));
	T_ERRNO("allocate inside", fallocate(fd, 0, 100, 200), 0);
	printf("size unchanged=%ld\n", size_of(fd));
	T_ERRNO("allocate past the end, unaligned", fallocate(fd, 0, 10000, 1000), 0);
	printf("size=%ld blocks=%ld\n", size_of(fd), blocks_of(fd));

	/* KEEP_SIZE: allocates past the end without growing. */
	T_ERRNO("keep size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 32768), 0);
	printf("size=%ld blocks=%ld\n", size_of(fd), blocks_of(fd));
	CHECK(pread(fd, buf, sizeof buf, 0) == 11000);

	/* PUNCH_HOLE|KEEP_SIZE: zeroes a range, keeps the size. */
	memset(buf, 'x', 12288);
	CHECK(pwrite(fd, buf, 12288, 0) == 12288);
	T_ERRNO("punch hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000), 0);
	printf("size=%ld\n", size_of(fd));
	CHECK(pread(fd, buf, sizeof buf, 0) == 12288);
	printf("before x=%d hole zeros=%d after x=%d\n", all(buf, 100, 'x'), all(buf + 100, 5000, 0),
	       all(buf + 5100, 12288 - 5100, 'x'));
	T_ERRNO("punch past the end", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 12000, 100000), 0);
	printf("size=%ld\n", size_of(fd));
	CHECK(pread(fd, buf, sizeof buf, 0) == 12288);
	printf("tail zeros=%d kept x=%d\n", all(buf + 12000, 288, 0), all(buf + 5100, 12000 - 5100, 'x'));

	/* A shared mapping sees allocation and punched holes. */
	char *m = mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	memset(m + 8192, 'm', 4096);
	T_ERRNO("punch a mapped page", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8192, 4096), 0);
	printf("mapping sees zeros=%d\n", all(m + 8192, 4096, 0));
	CHECK(munmap(m, 12288) == 0);

	/* Unsupported modes and bad arguments. */
	T_ERRNO("punch without keep size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
	T_ERRNO("zero range", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 10), EOPNOTSUPP);
	T_ERRNO("collapse range", fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), EOPNOTSUPP);
	T_ERRNO("insert range", fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096), EOPNOTSUPP);
	T_ERRNO("punch and zero", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 10), EOPNOTSUPP);
	T_ERRNO("unknown mode bit", fallocate(fd, 0x1000, 0, 10), EOPNOTSUPP);
	T_ERRNO("negative offset", fallocate(fd, 0, -1, 10), EINVAL);
	T_ERRNO("zero length", fallocate(fd, 0, 0, 0), EINVAL);
	T_ERRNO("negative length", fallocate(fd, 0, 0, -5), EINVAL);
	T_ERRNO("offset + length wraps", fallocate(fd, 0, 0x7fffffffffffff00LL, 0x1000), EFBIG);
	T_ERRNO("more than the filesystem holds", fallocate(fd, 0, 0, 1LL << 50), ENOSPC);
	printf("size after ENOSPC=%ld\n", size_of(fd));

	int rdonly = open(path, O_RDONLY);
	int p[2], sv[2];
	CHECK(rdonly >= 0 && pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int null = open("/dev/null", O_WRONLY);
	CHECK(null >= 0);
	T_ERRNO("bad fd", fallocate(9999, 0, 0, 10), EBADF);
	T_ERRNO("read-only descriptor", fallocate(rdonly, 0, 0, 10), EBADF);
	T_ERRNO("pipe read end", fallocate(p[0], 0, 0, 10), EBADF);
	T_ERRNO("pipe write end", fallocate(p[1], 0, 0, 10), ESPIPE);
	T_ERRNO("socket", fallocate(sv[0], 0, 0, 10), ENODEV);
	T_ERRNO("/dev/null", fallocate(null, 0, 0, 10), ENODEV);

	/* memfds are tmpfs files. */
	int mfd = memfd_create("falloc", 0);
	CHECK(mfd >= 0);
	T_ERRNO("memfd", fallocate(mfd, 0, 0, 5000), 0);
	printf("memfd size=%ld\n", size_of(mfd));

	int st = t_in_child(fsize_child);
	printf("fsize child: %s\n", t_status(st));

	/* sync_file_range. */
	T_ERRNO("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER), 0);
	T_ERRNO("sync_file_range range", sync_file_range(fd, 4096, 100, SYNC_FILE_RANGE_WRITE), 0);
	T_ERRNO("sync_file_range read-only", sync_file_range(rdonly, 0, 0, 0), 0);
	T_ERRNO("sync_file_range bad flags", sync_file_range(fd, 0, 0, 8), EINVAL);
	T_ERRNO("sync_file_range negative offset", sync_file_range(fd, -1, 0, 0), EINVAL);
	T_ERRNO("sync_file_range negative nbytes", sync_file_range(fd, 0, -1, 0), EINVAL);
	T_ERRNO("sync_file_range wraps", sync_file_range(fd, 0x7fffffffffffff00LL, 0x1000, 0), EINVAL);
	T_ERRNO("sync_file_range bad fd", sync_file_range(9999, 0, 0, 0), EBADF);
	T_ERRNO("sync_file_range pipe", sync_file_range(p[0], 0, 0, 0), ESPIPE);
	T_ERRNO("sync_file_range socket", sync_file_range(sv[0], 0, 0, 0), ESPIPE);
	T_ERRNO("sync_file_range /dev/null", sync_file_range(null, 0, 0, 0), ESPIPE);
	T_ERRNO("sync_file_range bad flags on a pipe", sync_file_range(p[0], 0, 0, 8), EINVAL);

	/* readahead. */
	int wronly = open(path, O_WRONLY);
	CHECK(wronly >= 0);
	T_ERRNO("readahead", readahead(fd, 0, 4096), 0);
	T_ERRNO("readahead past the end", readahead(rdonly, 1 << 20, 1 << 20), 0);
	T_ERRNO("readahead bad fd", readahead(9999, 0, 10), EBADF);
	T_ERRNO("readahead write-only", readahead(wronly, 0, 10), EBADF);
	T_ERRNO("readahead pipe", readahead(p[0], 0, 10), EINVAL);
	T_ERRNO("readahead socket", readahead(sv[0], 0, 10), EINVAL);

	unlink(path);
	return t_done();
}
