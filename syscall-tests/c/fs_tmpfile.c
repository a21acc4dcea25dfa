/* O_TMPFILE: an unnamed regular file in a directory (nlink 0), named later with
 * linkat(AT_EMPTY_PATH) or through /proc/self/fd unless O_EXCL was given; the flag rules
 * (EINVAL without write access, with O_CREAT, without O_DIRECTORY), ENOTDIR, ENOENT,
 * EOPNOTSUPP where the filesystem has no unnamed files. */
#include "test_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static char dir[128];

static const char *P(const char *name)
{
	static char buf[4][256];
	static int n;
	char *p = buf[n++ % 4];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static int entries(const char *d)
{
	DIR *dp = opendir(d);
	CHECK(dp != NULL);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dp);
	return n;
}

/* Whether /proc/self/fd/FD reads "DIR/#INO (deleted)". */
static int proc_name_ok(int fd, const char *in)
{
	char link[64], got[512], want[512];
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, got, sizeof got - 1);
	if (n < 0)
		return 0;
	got[n] = 0;
	snprintf(want, sizeof want, "%s/#%lu (deleted)", in, (unsigned long)st.st_ino);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "readlink %s: got \"%s\", want \"%s\"\n", link, got, want);
	return strcmp(got, want) == 0;
}

int main(void)
{
	umask(022);
	snprintf(dir, sizeof dir, "%s", t_tmp_path("tmpfile"));
	CHECK(mkdir(dir, 0755) == 0);
	struct stat st, st2;
	char buf[64];

	int fd = T_ERRNO("O_TMPFILE|O_RDWR", open(dir, O_TMPFILE | O_RDWR, 0666), 0);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &st) == 0);
	printf("fstat: reg=%d perm=%o nlink=%ld size=%ld\n", S_ISREG(st.st_mode), st.st_mode & 07777,
	       (long)st.st_nlink, (long)st.st_size);
	printf("directory entries: %d\n", entries(dir));
	printf("/proc/self/fd name: %d\n", proc_name_ok(fd, dir));
	t_write_all(fd, "unnamed data", 12);
	memset(buf, 0, sizeof buf);
	T_EQ(pread(fd, buf, sizeof buf, 0), 12);
	printf("pread: %s\n", buf);
	char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	printf("mapped: %.12s\n", m);
	munmap(m, 4096);
	T_ERRNO("fchmod", fchmod(fd, 0600), 0);
	T_ERRNO("ftruncate", ftruncate(fd, 8), 0);
	CHECK(fstat(fd, &st) == 0);
	printf("after fchmod, ftruncate: perm=%o size=%ld\n", st.st_mode & 07777, (long)st.st_size);

	/* Naming it. */
	T_ERRNO("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, P("named"), AT_EMPTY_PATH), 0);
	CHECK(stat(P("named"), &st2) == 0 && fstat(fd, &st) == 0);
	printf("named: same inode=%d nlink=%ld size=%ld perm=%o\n", st.st_ino == st2.st_ino,
	       (long)st2.st_nlink, (long)st2.st_size, st2.st_mode & 07777);
	printf("directory entries: %d\n", entries(dir));
	int rfd = open(P("named"), O_RDONLY);
	CHECK(rfd >= 0);
	memset(buf, 0, sizeof buf);
	T_EQ(read(rfd, buf, sizeof buf), 8);
	printf("read by name: %s\n", buf);
	close(rfd);
	T_ERRNO("linkat a second name", linkat(fd, "", AT_FDCWD, P("second"), AT_EMPTY_PATH), 0);
	T_ERRNO("linkat over an existing name", linkat(fd, "", AT_FDCWD, P("named"), AT_EMPTY_PATH), EEXIST);
	T_ERRNO("linkat to a missing directory", linkat(fd, "", AT_FDCWD, P("nodir/x"), AT_EMPTY_PATH), ENOENT);
	T_ERRNO("linkat to /dev/shm", linkat(fd, "", AT_FDCWD, "/dev/shm/rvisor-st-tmpfile", AT_EMPTY_PATH), EXDEV);
	T_ERRNO("linkat without AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, P("third"), 0), ENOENT);
	CHECK(fstat(fd, &st) == 0);
	printf("nlink with two names: %ld\n", (long)st.st_nlink);
	CHECK(unlink(P("named")) == 0 && unlink(P("second")) == 0);
	CHECK(fstat(fd, &st) == 0);
	printf("nlink after unlinking both: %ld\n", (long)st.st_nlink);
	T_ERRNO("linkat once unlinked again", linkat(fd, "", AT_FDCWD, P("again"), AT_EMPTY_PATH), ENOENT);
	close(fd);

	/* O_EXCL: never linkable. */
	fd = T_ERRNO("O_TMPFILE|O_WRONLY|O_EXCL", open(dir, O_TMPFILE | O_WRONLY | O_EXCL, 0600), 0);
	CHECK(fd >= 0);
	T_ERRNO("linkat an O_EXCL one", linkat(fd, "", AT_FDCWD, P("excl"), AT_EMPTY_PATH), ENOENT);
	close(fd);

	/* The unprivileged way: a /proc/self/fd link followed. */
	fd = T_ERRNO("O_TMPFILE|O_WRONLY", open(dir, O_TMPFILE | O_WRONLY, 0644), 0);
	CHECK(fd >= 0);
	t_write_all(fd, "via proc", 8);
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	T_ERRNO("linkat /proc/self/fd/N AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, link, AT_FDCWD, P("viaproc"), AT_SYMLINK_FOLLOW), 0);
	CHECK(stat(P("viaproc"), &st) == 0);
	printf("viaproc: reg=%d size=%ld nlink=%ld\n", S_ISREG(st.st_mode), (long)st.st_size, (long)st.st_nlink);
	close(fd);
	CHECK(unlink(P("viaproc")) == 0);

	/* A relative directory, and /dev/shm. */
	CHECK(chdir(dir) == 0);
	fd = T_ERRNO("O_TMPFILE on \".\"", open(".", O_TMPFILE | O_RDWR, 0600), 0);
	printf("/proc/self/fd name: %d\n", proc_name_ok(fd, dir));
	close(fd);
	CHECK(chdir("/") == 0);
	fd = T_ERRNO("O_TMPFILE in /dev/shm", open("/dev/shm", O_TMPFILE | O_RDWR, 0600), 0);
	printf("/proc/self/fd name: %d\n", proc_name_ok(fd, "/dev/shm"));
	close(fd);

	/* A regular file gets another name the same way; a directory never. */
	fd = open(P("plain"), O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	T_ERRNO("linkat AT_EMPTY_PATH, a named file", linkat(fd, "", AT_FDCWD, P("plain2"), AT_EMPTY_PATH), 0);
	CHECK(fstat(fd, &st) == 0);
	printf("plain nlink: %ld\n", (long)st.st_nlink);
	close(fd);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	T_ERRNO("linkat AT_EMPTY_PATH, a directory", linkat(dfd, "", AT_FDCWD, P("dirlink"), AT_EMPTY_PATH), EPERM);
	T_ERRNO("O_TMPFILE with a dirfd", openat(dfd, ".", O_TMPFILE | O_RDWR, 0600), 0);

	/* Flag rules and errors. */
	T_ERRNO("O_TMPFILE|O_RDONLY", open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
	T_ERRNO("O_TMPFILE|O_CREAT", open(dir, O_TMPFILE | O_RDWR | O_CREAT, 0600), EINVAL);
	T_ERRNO("__O_TMPFILE without O_DIRECTORY", open(dir, (O_TMPFILE & ~O_DIRECTORY) | O_RDWR, 0600), EINVAL);
	T_ERRNO("O_TMPFILE on a file", open(P("plain"), O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	T_ERRNO("O_TMPFILE in a missing directory", open(P("nodir"), O_TMPFILE | O_RDWR, 0600), ENOENT);
	T_ERRNO("O_TMPFILE in /proc", open("/proc", O_TMPFILE | O_RDWR, 0600), EOPNOTSUPP);
	fd = T_ERRNO("O_PATH|O_TMPFILE opens the directory", open(dir, O_PATH | O_TMPFILE | O_RDWR, 0600), 0);
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	printf("O_PATH|O_TMPFILE: dir=%d\n", S_ISDIR(st.st_mode));
	T_ERRNO("fchmod an O_PATH descriptor", fchmod(fd, 0700), EBADF);
	T_ERRNO("fchown an O_PATH descriptor", fchown(fd, 0, 0), EBADF);
	close(fd);
	/* The read-only root: natively a writable disk (the file vanishes on close), sandboxed
	 * EROFS. */
	fd = open("/etc", O_TMPFILE | O_RDWR, 0600);
	printf("O_TMPFILE in /etc: ok_or_erofs=%d\n", fd >= 0 || errno == EROFS);
	if (fd >= 0)
		close(fd);

	CHECK(unlink(P("plain")) == 0 && unlink(P("plain2")) == 0);
	CHECK(rmdir(dir) == 0);
	return t_done();
}
