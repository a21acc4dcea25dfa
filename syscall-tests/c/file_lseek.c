/* lseek: SEEK_SET/CUR/END, seeking past the end and writing leaves a zero-filled hole, errors
 * (EINVAL for a negative result or bad whence, ESPIPE on pipes). */
#include "test_util.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(void)
{
	const char *path = t_tmp_path("lseek");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	unlink(path);
	CHECK(write(fd, "0123456789", 10) == 10);
	printf("SEEK_SET 4=%lld\n", (long long)lseek(fd, 4, SEEK_SET));
	printf("SEEK_CUR +3=%lld\n", (long long)lseek(fd, 3, SEEK_CUR));
	printf("SEEK_CUR -5=%lld\n", (long long)lseek(fd, -5, SEEK_CUR));
	printf("SEEK_END 0=%lld\n", (long long)lseek(fd, 0, SEEK_END));
	printf("SEEK_END -2=%lld\n", (long long)lseek(fd, -2, SEEK_END));
	char c;
	CHECK(read(fd, &c, 1) == 1);
	printf("read at END-2=%c\n", c);

	printf("SEEK_END +100=%lld\n", (long long)lseek(fd, 100, SEEK_END));
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	printf("size unchanged by seeking=%lld\n", (long long)st.st_size);
	CHECK(write(fd, "X", 1) == 1);
	CHECK(fstat(fd, &st) == 0);
	printf("size after write past end=%lld\n", (long long)st.st_size);
	char hole[100];
	CHECK(pread(fd, hole, 100, 10) == 100);
	int zero = 1;
	for (int i = 0; i < 100; i++)
		zero &= hole[i] == 0;
	printf("hole reads as zeros=%d\n", zero);

	/* A big sparse offset. */
	off_t big = (off_t)1 << 32;
	printf("SEEK_SET 4GiB=%d\n", lseek(fd, big, SEEK_SET) == big);
	CHECK(write(fd, "E", 1) == 1);
	CHECK(fstat(fd, &st) == 0);
	printf("sparse size=%lld\n", (long long)st.st_size);
	CHECK(pread(fd, &c, 1, big - 1) == 1);
	printf("byte before it=%d\n", c);

	T_ERRNO("negative result", lseek(fd, -1, SEEK_SET), EINVAL);
	T_ERRNO("negative via SEEK_CUR", lseek(fd, -(big + 100), SEEK_CUR), EINVAL);
	T_ERRNO("bad whence", lseek(fd, 0, 42), EINVAL);
	T_ERRNO("bad fd", lseek(999, 0, SEEK_SET), EBADF);
	int p[2];
	CHECK(pipe(p) == 0);
	T_ERRNO("pipe", lseek(p[0], 0, SEEK_CUR), ESPIPE);
	/* Character devices: /dev/zero and /dev/null seek to 0. */
	int z = open("/dev/zero", O_RDONLY);
	CHECK(z >= 0);
	printf("/dev/zero lseek=%lld\n", (long long)lseek(z, 100, SEEK_SET));
	return t_done();
}
