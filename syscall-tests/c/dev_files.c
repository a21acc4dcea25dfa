/* Device files: /dev/null, /dev/zero, /dev/full, /dev/urandom and /dev/random: reads, writes,
 * ENOSPC, stat types, mmap of /dev/zero. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void show_stat(const char *path)
{
	struct stat st;
	CHECK(stat(path, &st) == 0);
	printf("%s: chr=%d major=%u minor=%u\n", path, S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
}

int main(void)
{
	char buf[4096];
	int n = open("/dev/null", O_RDWR);
	CHECK(n >= 0);
	printf("/dev/null read=%zd write=%zd\n", read(n, buf, sizeof buf), write(n, buf, sizeof buf));
	show_stat("/dev/null");

	int z = open("/dev/zero", O_RDWR);
	CHECK(z >= 0);
	memset(buf, 'x', sizeof buf);
	ssize_t r = read(z, buf, sizeof buf);
	int zero = 1;
	for (int i = 0; i < (int)sizeof buf; i++)
		zero &= buf[i] == 0;
	printf("/dev/zero read=%zd all zero=%d write=%zd\n", r, zero, write(z, buf, 100));
	show_stat("/dev/zero");
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
	CHECK(m != MAP_FAILED);
	printf("/dev/zero mmap zero=%d writable=%d\n", m[0] == 0 && m[8191] == 0, (m[5] = 3) == 3);
	char *sm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	CHECK(sm != MAP_FAILED);
	sm[0] = 1;
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		sm[1] = 2;
		_exit(sm[0] == 1 ? 0 : 1);
	}
	t_wait(pid);
	printf("/dev/zero MAP_SHARED is shared with children=%d\n", sm[1] == 2);

	int f = open("/dev/full", O_RDWR);
	CHECK(f >= 0);
	T_ERRNO("/dev/full write", write(f, "x", 1), ENOSPC);
	memset(buf, 'x', 16);
	r = read(f, buf, 16);
	printf("/dev/full read=%zd zero=%d\n", r, buf[0] == 0 && buf[15] == 0);
	show_stat("/dev/full");

	int u = open("/dev/urandom", O_RDONLY);
	CHECK(u >= 0);
	unsigned char a[64], b[64];
	CHECK(read(u, a, 64) == 64 && read(u, b, 64) == 64);
	int nonzero = 0;
	for (int i = 0; i < 64; i++)
		nonzero |= a[i];
	printf("/dev/urandom read 64 twice: differ=%d nonzero=%d\n", memcmp(a, b, 64) != 0, nonzero != 0);
	r = read(u, buf, sizeof buf);
	printf("/dev/urandom read 4096=%zd\n", r);
	show_stat("/dev/urandom");
	int rnd = open("/dev/random", O_RDONLY | O_NONBLOCK);
	CHECK(rnd >= 0);
	printf("/dev/random read=%zd\n", read(rnd, a, 32));
	show_stat("/dev/random");

	T_ERRNO("open missing device", open("/dev/rvisor-no-such-device", O_RDONLY), ENOENT);
	return t_done();
}
