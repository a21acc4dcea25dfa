/* read/write/readv/writev/pread/pwrite/preadv/pwritev on a file in /tmp: offsets, O_APPEND,
 * short reads at EOF, O_EXCL, O_TRUNC, ftruncate, access-mode and argument errors. */
#include "test_util.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>

int main(void)
{
	const char *path = t_tmp_path("rw");
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	T_ERRNO("O_EXCL on existing", open(path, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	printf("write=%zd\n", write(fd, "hello world", 11));
	printf("offset=%lld\n", (long long)lseek(fd, 0, SEEK_CUR));
	char buf[64] = { 0 };
	printf("read at EOF=%zd\n", read(fd, buf, sizeof buf));
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	printf("read=%zd [%s]\n", read(fd, buf, sizeof buf), buf);

	/* pread/pwrite leave the offset alone. */
	CHECK(lseek(fd, 2, SEEK_SET) == 2);
	printf("pwrite=%zd\n", pwrite(fd, "WORLD", 5, 6));
	memset(buf, 0, sizeof buf);
	printf("pread=%zd [%s] offset still=%lld\n", pread(fd, buf, sizeof buf - 1, 0), buf, (long long)lseek(fd, 0, SEEK_CUR));
	T_ERRNO("pwrite negative offset", pwrite(fd, "x", 1, -1), EINVAL);
	T_ERRNO("pread negative offset", pread(fd, buf, 1, -5), EINVAL);

	/* Vectored I/O. */
	struct iovec iov[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
	CHECK(lseek(fd, 0, SEEK_END) == 11);
	printf("writev=%zd\n", writev(fd, iov, 3));
	char a[3] = { 0 }, b[5] = { 0 }, c[64] = { 0 };
	struct iovec riov[3] = { { a, 2 }, { b, 4 }, { c, sizeof c - 1 } };
	CHECK(lseek(fd, 9, SEEK_SET) == 9);
	printf("readv=%zd [%s][%s][%s]\n", readv(fd, riov, 3), a, b, c);
	struct iovec piov[2] = { { "XY", 2 }, { "Z", 1 } };
	printf("pwritev=%zd offset=%lld\n", pwritev(fd, piov, 2, 0), (long long)lseek(fd, 0, SEEK_CUR));
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	struct iovec priov[2] = { { a, 2 }, { b, 3 } };
	printf("preadv=%zd [%s][%s]\n", preadv(fd, priov, 2, 0), a, b);
	struct iovec many[IOV_MAX + 1];
	for (int i = 0; i <= IOV_MAX; i++)
		many[i] = (struct iovec){ buf, 1 };
	T_ERRNO("writev IOV_MAX+1", writev(fd, many, IOV_MAX + 1), EINVAL);
	T_ERRNO("writev negative count", syscall(SYS_writev, fd, many, -1), EINVAL);
	struct iovec badlen[1] = { { buf, (size_t)-1 } };
	T_ERRNO("writev huge length", writev(fd, badlen, 1), EINVAL);
	T_ERRNO("readv bad iov pointer", syscall(SYS_readv, fd, (struct iovec *)1, 1), EFAULT);

	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	printf("size=%lld regular=%d mode=%o\n", (long long)st.st_size, S_ISREG(st.st_mode), st.st_mode & 07777);
	T_ERRNO("ftruncate shrink", ftruncate(fd, 4), 0);
	CHECK(fstat(fd, &st) == 0);
	printf("size after ftruncate=%lld\n", (long long)st.st_size);
	T_ERRNO("ftruncate negative", ftruncate(fd, -1), EINVAL);

	/* O_APPEND: every write goes to the end, whatever the offset. */
	int ap = open(path, O_WRONLY | O_APPEND);
	CHECK(ap >= 0);
	CHECK(lseek(ap, 0, SEEK_SET) == 0);
	CHECK(write(ap, "++", 2) == 2);
	printf("append offset after write=%lld\n", (long long)lseek(ap, 0, SEEK_CUR));
	memset(buf, 0, sizeof buf);
	printf("content=[%.*s]\n", (int)pread(fd, buf, sizeof buf, 0), buf);

	/* Access modes. */
	int ro = open(path, O_RDONLY);
	CHECK(ro >= 0);
	T_ERRNO("write on O_RDONLY", write(ro, "x", 1), EBADF);
	T_ERRNO("read on O_WRONLY", read(ap, buf, 1), EBADF);
	T_ERRNO("ftruncate on O_RDONLY", ftruncate(ro, 0), EINVAL);
	T_ERRNO("write to closed fd", write(999, "x", 1), EBADF);
	T_ERRNO("read from a directory", read(open("/tmp", O_RDONLY | O_DIRECTORY), buf, 1), EISDIR);
	T_ERRNO("open directory for writing", open("/tmp", O_WRONLY), EISDIR);
	T_ERRNO("O_DIRECTORY on a file", open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
	T_ERRNO("missing file", open("/tmp/rvisor-st-definitely-missing", O_RDONLY), ENOENT);

	int tr = open(path, O_RDWR | O_TRUNC);
	CHECK(tr >= 0);
	CHECK(fstat(tr, &st) == 0);
	printf("O_TRUNC size=%lld\n", (long long)st.st_size);
	T_ERRNO("unlink", unlink(path), 0);
	printf("still usable after unlink: write=%zd\n", write(tr, "x", 1));
	return t_done();
}
