/* /dev/shm: POSIX shared memory and named semaphores between processes, its own tmpfs
 * (EXDEV to and from /tmp). */
#include "test_util.h"
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>

int main(void)
{
	struct statfs sf;
	CHECK(statfs("/dev/shm", &sf) == 0);
	printf("tmpfs: %d\n", sf.f_type == 0x01021994);

	const char *name = "/rvisor-test-shm";
	shm_unlink(name);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 8192) == 0);
	struct stat st;
	CHECK(stat("/dev/shm/rvisor-test-shm", &st) == 0);
	printf("visible in /dev/shm: size=%ld mode=%o\n", (long)st.st_size, st.st_mode & 07777);
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);

	sem_t *s = sem_open("/rvisor-test-sem", O_CREAT, 0600, 0);
	CHECK(s != SEM_FAILED);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		int cfd = shm_open(name, O_RDWR, 0);
		char *cm = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
		strcpy(cm + 4096, "written by the child");
		sem_t *cs = sem_open("/rvisor-test-sem", 0);
		sem_post(cs);
		_exit(0);
	}
	CHECK(sem_wait(s) == 0);
	printf("parent reads: %s\n", m + 4096);
	t_wait(c);

	int t = open("/tmp/plain", O_CREAT | O_WRONLY, 0600);
	CHECK(t >= 0);
	close(t);
	errno = 0;
	printf("rename /tmp -> /dev/shm: %s\n",
	       t_errname(rename("/tmp/plain", "/dev/shm/plain") == 0 ? 0 : errno));
	errno = 0;
	printf("link /dev/shm -> /tmp: %s\n",
	       t_errname(link("/dev/shm/rvisor-test-shm", "/tmp/l") == 0 ? 0 : errno));
	CHECK(sem_unlink("/rvisor-test-sem") == 0);
	CHECK(shm_unlink(name) == 0);
	errno = 0;
	printf("after unlink: %s\n", t_errname(shm_open(name, O_RDWR, 0) >= 0 ? 0 : errno));
	return t_failures ? 1 : 0;
}
