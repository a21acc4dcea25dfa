/* copy_file_range(2) between tmpfs files: file offsets and offset pointers, short copies at end
 * of file, holes, copies within one file; EINVAL (flags, overlap, non-regular files,
 * negative offsets), EISDIR, EBADF, EOVERFLOW, EXDEV (/tmp to /dev/shm), EFAULT; RLIMIT_FSIZE. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define SIZE 30000

static char pattern[SIZE];

static ssize_t cfr(int in, loff_t *oin, int out, loff_t *oout, size_t len, unsigned flags)
{
	return copy_file_range(in, oin, out, oout, len, flags);
}

static int fsize_child(void)
{
	const char *src = t_tmp_path("cfr-fsize-in");
	const char *dst = t_tmp_path("cfr-fsize-out");
	int in = open(src, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int out = open(dst, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(in >= 0 && out >= 0);
	t_write_all(in, pattern, 5000);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = { 1000, RLIM_INFINITY };
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	loff_t oi = 0;
	ssize_t first = cfr(in, &oi, out, NULL, 4000, 0);
	errno = 0;
	ssize_t second = cfr(in, &oi, out, NULL, 10, 0);
	int e = errno;
	rl.rlim_cur = RLIM_INFINITY;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	printf("fsize: copy 4000 -> %zd\n", first);
	printf("fsize: at the limit -> %zd %s\n", second, t_errname(e));
	T_EQ(e, EFBIG);
	unlink(src);
	unlink(dst);
	return t_failures;
}

int main(void)
{
	for (int i = 0; i < SIZE; i++)
		pattern[i] = (char)(i * 7 % 253);
	static char buf[SIZE * 2];
	const char *src = t_tmp_path("cfr-src");
	const char *dst = t_tmp_path("cfr-dst");
	int in = open(src, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(in >= 0);
	t_write_all(in, pattern, SIZE);
	CHECK(lseek(in, 0, SEEK_SET) == 0);
	int out = open(dst, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(out >= 0);

	/* File offsets. */
	ssize_t n = cfr(in, NULL, out, NULL, 10000, 0);
	printf("copy 10000: %zd offsets in=%ld out=%ld\n", n, (long)lseek(in, 0, SEEK_CUR),
	       (long)lseek(out, 0, SEEK_CUR));
	CHECK(pread(out, buf, 10000, 0) == 10000);
	printf("bytes match=%d\n", memcmp(buf, pattern, 10000) == 0);

	/* Offset pointers: the file offsets stay. */
	loff_t oi = 25000, oo = 40000;
	n = cfr(in, &oi, out, &oo, 10000, 0);
	printf("copy past end of input: %zd oi=%ld oo=%ld offsets in=%ld out=%ld\n", n, (long)oi,
	       (long)oo, (long)lseek(in, 0, SEEK_CUR), (long)lseek(out, 0, SEEK_CUR));
	struct stat st;
	CHECK(fstat(out, &st) == 0);
	printf("output size=%ld\n", (long)st.st_size);
	CHECK(pread(out, buf, 35000, 10000) == 35000);
	int zeros = 1;
	for (int i = 0; i < 30000; i++)
		zeros &= buf[i] == 0;
	printf("hole reads zeros=%d tail matches=%d\n", zeros, memcmp(buf + 30000, pattern + 25000, 5000) == 0);
	n = cfr(in, &oi, out, &oo, 10000, 0);
	printf("copy at end of input: %zd\n", n);
	oi = 100000;
	n = cfr(in, &oi, out, NULL, 10, 0);
	printf("copy beyond end of input: %zd\n", n);
	printf("len 0: %zd\n", cfr(in, NULL, out, NULL, 0, 0));

	/* Copying a hole gives zeros. */
	CHECK(ftruncate(in, SIZE + 8192) == 0);
	oi = SIZE;
	oo = 0;
	n = cfr(in, &oi, out, &oo, 8192, 0);
	CHECK(pread(out, buf, 8192, 0) == 8192);
	zeros = 1;
	for (int i = 0; i < 8192; i++)
		zeros &= buf[i] == 0;
	printf("copy a hole: %zd zeros=%d\n", n, zeros);

	/* Within one file: fine apart, EINVAL when the ranges overlap. */
	oi = 0;
	oo = 20000;
	n = cfr(in, &oi, in, &oo, 5000, 0);
	CHECK(pread(in, buf, 5000, 20000) == 5000);
	printf("same file apart: %zd match=%d\n", n, memcmp(buf, pattern, 5000) == 0);
	oi = 0;
	oo = 4999;
	T_ERRNO("same file overlapping", cfr(in, &oi, in, &oo, 5000, 0), EINVAL);
	oo = 5000;
	printf("same file adjacent: %zd\n", cfr(in, &oi, in, &oo, 5000, 0));
	int in2 = open(src, O_RDWR);
	CHECK(in2 >= 0);
	oi = 100;
	oo = 200;
	T_ERRNO("same file via two descriptions, overlapping", cfr(in, &oi, in2, &oo, 1000, 0), EINVAL);

	/* Errors. */
	int rdonly = open(dst, O_RDONLY);
	int wronly = open(src, O_WRONLY);
	int append = open(dst, O_WRONLY | O_APPEND);
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	int p[2], sv[2];
	CHECK(rdonly >= 0 && wronly >= 0 && append >= 0 && dir >= 0);
	CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(write(p[1], "abc", 3) == 3);
	T_ERRNO("flags", cfr(in, NULL, out, NULL, 10, 1), EINVAL);
	T_ERRNO("bad fd_in", cfr(9999, NULL, out, NULL, 10, 0), EBADF);
	T_ERRNO("bad fd_out", cfr(in, NULL, 9999, NULL, 10, 0), EBADF);
	T_ERRNO("bad fd and flags", cfr(9999, NULL, out, NULL, 10, 1), EBADF);
	T_ERRNO("input write-only", cfr(wronly, NULL, out, NULL, 10, 0), EBADF);
	T_ERRNO("output read-only", cfr(in, NULL, rdonly, NULL, 10, 0), EBADF);
	T_ERRNO("output O_APPEND", cfr(in, NULL, append, NULL, 10, 0), EBADF);
	T_ERRNO("input a pipe", cfr(p[0], NULL, out, NULL, 10, 0), EINVAL);
	T_ERRNO("output a pipe", cfr(in, NULL, p[1], NULL, 10, 0), EINVAL);
	T_ERRNO("input a socket", cfr(sv[0], NULL, out, NULL, 10, 0), EINVAL);
	T_ERRNO("input a directory", cfr(dir, NULL, out, NULL, 10, 0), EISDIR);
	T_ERRNO("directory and pipe", cfr(dir, NULL, p[1], NULL, 10, 0), EISDIR);
	oi = -1;
	T_ERRNO("input offset -1", cfr(in, &oi, out, NULL, 10, 0), EOVERFLOW);
	oi = -1000;
	T_ERRNO("input offset -1000", cfr(in, &oi, out, NULL, 10, 0), EINVAL);
	oi = -1;
	T_ERRNO("input offset -1, len 0", cfr(in, &oi, out, NULL, 0, 0), EINVAL);
	oi = 0;
	oo = -1;
	T_ERRNO("output offset -1", cfr(in, &oi, out, &oo, 10, 0), EOVERFLOW);
	oo = -1000;
	T_ERRNO("output offset -1000", cfr(in, &oi, out, &oo, 10, 0), EINVAL);
	T_ERRNO("bad offset pointer", cfr(in, (loff_t *)8, out, NULL, 10, 0), EFAULT);
	T_ERRNO("bad offset pointer and flags", cfr(in, (loff_t *)8, out, NULL, 10, 1), EFAULT);

	/* /tmp and /dev/shm are different filesystems. */
	const char *shm = "/dev/shm/rvisor-st-cfr";
	int s = open(shm, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(s >= 0);
	oi = 0;
	T_ERRNO("across filesystems", cfr(in, &oi, s, NULL, 10, 0), EXDEV);
	unlink(shm);

	int status = t_in_child(fsize_child);
	printf("fsize child: %s\n", t_status(status));
	unlink(src);
	unlink(dst);
	return t_done();
}
