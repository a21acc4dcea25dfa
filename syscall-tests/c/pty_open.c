/* Pseudo-terminal pairs: posix_openpt/grantpt/unlockpt/ptsname, the slave lock, TIOCGPTN,
 * TIOCGPTPEER, isatty/ttyname, stat of master and slave, /dev/pts listing and
 * /proc/self/fd links, and what becomes of /dev/pts/N when the master goes. */
#include "pty_util.h"
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Whether /dev/pts lists `name` (a bare number) and "ptmx". */
static void list_pts(const char *label, const char *name)
{
	DIR *d = opendir("/dev/pts");
	CHECK(d != NULL);
	int mine = 0, ptmx = 0, dots = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, name))
			mine = e->d_type == DT_CHR;
		if (!strcmp(e->d_name, "ptmx"))
			ptmx = 1;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			dots++;
	}
	closedir(d);
	printf("%s: lists mine=%d ptmx=%d dots=%d\n", label, mine, ptmx, dots);
}

static int is_pts_path(const char *p)
{
	if (strncmp(p, "/dev/pts/", 9) || !p[9])
		return 0;
	for (const char *c = p + 9; *c; c++)
		if (*c < '0' || *c > '9')
			return 0;
	return 1;
}

int main(void)
{
	T_ERRNO("open /dev/ptmx", open("/dev/ptmx", O_RDWR | O_NOCTTY), 0);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0);
	unsigned int n = 12345;
	T_ERRNO("TIOCGPTN", ioctl(m, TIOCGPTN, &n), 0);
	char *name = ptsname(m);
	CHECK(name != NULL);
	char path[64];
	snprintf(path, sizeof path, "/dev/pts/%u", n);
	printf("ptsname is /dev/pts/<number>: %d\n", is_pts_path(name));
	printf("ptsname matches TIOCGPTN: %d\n", strcmp(name, path) == 0);

	/* Locked until unlockpt. */
	int lock = -1;
	T_ERRNO("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &lock), 0);
	printf("locked at first: %d\n", lock);
	T_ERRNO("open locked slave", open(name, O_RDWR | O_NOCTTY), EIO);
	T_RET("grantpt", grantpt(m), 0);
	T_RET("unlockpt", unlockpt(m), 0);
	T_ERRNO("TIOCGPTLCK after unlockpt", ioctl(m, TIOCGPTLCK, &lock), 0);
	printf("locked after unlockpt: %d\n", lock);
	int s = open(name, O_RDWR | O_NOCTTY);
	T_TRUE(s >= 0);
	/* Locking again only stops new opens. */
	int one = 1, zero = 0;
	T_ERRNO("TIOCSPTLCK 1", ioctl(m, TIOCSPTLCK, &one), 0);
	T_ERRNO("open relocked slave", open(name, O_RDWR | O_NOCTTY), EIO);
	T_ERRNO("TIOCSPTLCK 0", ioctl(m, TIOCSPTLCK, &zero), 0);

	/* isatty and ttyname. */
	printf("isatty master=%d slave=%d\n", isatty(m), isatty(s));
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	errno = 0;
	int pt = isatty(pfd[0]);
	printf("isatty pipe=%d errno=%s\n", pt, t_errname(errno));
	T_ERRNO("TIOCGPTN on slave", ioctl(s, TIOCGPTN, &n), ENOTTY);
	T_ERRNO("TIOCGPTN on pipe", ioctl(pfd[0], TIOCGPTN, &n), ENOTTY);
	char *tn = ttyname(s);
	printf("ttyname(slave) is ptsname: %d\n", tn && !strcmp(tn, path));
	char link[64], fdp[64];
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", s);
	ssize_t ln = readlink(fdp, link, sizeof link - 1);
	CHECK(ln > 0);
	link[ln] = 0;
	printf("/proc/self/fd link is ptsname: %d\n", !strcmp(link, path));
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", m);
	ln = readlink(fdp, link, sizeof link - 1);
	CHECK(ln > 0);
	link[ln] = 0;
	printf("master link: %s\n", link);

	/* stat of both ends. */
	struct stat st, st2;
	CHECK(fstat(s, &st) == 0);
	printf("slave: chr=%d major=%u minor_is_n=%d uid_mine=%d owner_rw=%d other=%o\n",
	       S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev) == n,
	       st.st_uid == getuid(), (st.st_mode & 0600) == 0600, st.st_mode & 07);
	CHECK(stat(path, &st2) == 0);
	printf("stat(path) same rdev=%d\n", st2.st_rdev == st.st_rdev && S_ISCHR(st2.st_mode));
	CHECK(fstat(m, &st) == 0);
	printf("master: chr=%d major=%u minor=%u\n", S_ISCHR(st.st_mode), major(st.st_rdev),
	       minor(st.st_rdev));
	CHECK(stat("/dev/ptmx", &st) == 0);
	printf("/dev/ptmx: chr=%d major=%u minor=%u\n", S_ISCHR(st.st_mode), major(st.st_rdev),
	       minor(st.st_rdev));
	CHECK(stat("/dev/pts", &st) == 0);
	printf("/dev/pts is a directory: %d\n", S_ISDIR(st.st_mode));
	CHECK(stat("/dev/tty", &st) == 0);
	printf("/dev/tty: chr=%d major=%u minor=%u\n", S_ISCHR(st.st_mode), major(st.st_rdev),
	       minor(st.st_rdev));
	char num[16];
	snprintf(num, sizeof num, "%u", n);
	list_pts("open pair", num);

	/* Relative opens inside /dev/pts. */
	int dfd = open("/dev/pts", O_RDONLY | O_DIRECTORY);
	T_TRUE(dfd >= 0);
	int s2 = openat(dfd, num, O_RDWR | O_NOCTTY);
	T_TRUE(s2 >= 0);
	printf("openat(/dev/pts, N) is a tty: %d\n", isatty(s2));
	close(s2);
	close(dfd);

	/* TIOCGPTPEER opens the slave from the master. */
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	T_TRUE(peer >= 0);
	CHECK(fstat(peer, &st) == 0);
	printf("TIOCGPTPEER: minor_is_n=%d\n", minor(st.st_rdev) == n);
	T_ERRNO("TIOCGPTPEER on slave", ioctl(s, TIOCGPTPEER, O_RDWR), EIO);
	t_write_all(peer, "x", 1);
	char c = 0;
	CHECK(p_read_upto(m, &c, 1) == 1);
	printf("peer write reaches master: %d\n", c == 'x');
	close(peer);

	/* Two pairs have different numbers. */
	int m2 = p_open_pair(NULL);
	unsigned int n2 = n;
	CHECK(ioctl(m2, TIOCGPTN, &n2) == 0);
	printf("second pair has another number: %d\n", n2 != n);
	close(m2);

	/* When the master goes, so does /dev/pts/N. */
	close(m);
	list_pts("master closed", num);
	T_ERRNO("open after master close", open(path, O_RDWR | O_NOCTTY), ENOENT);
	T_ERRNO("stat after master close", stat(path, &st), ENOENT);
	close(s);
	return t_done();
}
