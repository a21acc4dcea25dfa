/* mknod, mknodat and mkfifo in a tmpfs: named pipes (shared by every opener, Linux's
 * blocking open rules, interruptible), empty regular files, socket inodes; device nodes are
 * refused (EPERM without CAP_MKNOD), bad types are EINVAL; umask applies. */
#include "test_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>

static char dir[128];

static const char *P(const char *name)
{
	static char buf[4][256];
	static int n;
	char *p = buf[n++ % 4];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFIFO:
		return "fifo";
	case S_IFREG:
		return "reg";
	case S_IFSOCK:
		return "sock";
	case S_IFDIR:
		return "dir";
	case S_IFCHR:
		return "chr";
	case S_IFBLK:
		return "blk";
	case S_IFLNK:
		return "lnk";
	}
	return "?";
}

static void show(const char *label, const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		printf("%s: lstat %s\n", label, t_errname(errno));
		return;
	}
	printf("%s: type=%s perm=%o nlink=%ld size=%ld rdev0=%d\n", label, type_name(st.st_mode),
	       st.st_mode & 07777, (long)st.st_nlink, (long)st.st_size, st.st_rdev == 0);
}

static const char *dtype_name(unsigned char t)
{
	switch (t) {
	case DT_FIFO:
		return "fifo";
	case DT_REG:
		return "reg";
	case DT_SOCK:
		return "sock";
	case DT_DIR:
		return "dir";
	}
	return "?";
}

static int not_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* As an unprivileged user: no device nodes, but FIFOs are fine. */
static int unprivileged(void)
{
	CHECK(setgid(65534) == 0 && setuid(65534) == 0);
	T_ERRNO("nobody: mknod S_IFCHR", mknod(P("chr"), S_IFCHR | 0600, makedev(1, 3)), EPERM);
	T_ERRNO("nobody: mknod S_IFBLK", mknod(P("blk"), S_IFBLK | 0600, makedev(7, 0)), EPERM);
	T_ERRNO("nobody: mknod S_IFIFO", mknod(P("nobody-fifo"), S_IFIFO | 0600, 0), 0);
	struct stat st;
	CHECK(stat(P("nobody-fifo"), &st) == 0);
	printf("nobody: fifo owned by nobody=%d\n", st.st_uid == 65534 && st.st_gid == 65534);
	CHECK(unlink(P("nobody-fifo")) == 0);
	return t_failures ? 1 : 0;
}

static void fifo_semantics(void)
{
	const char *f = P("fifo");
	char buf[64];
	struct pollfd pfd;

	/* A non-blocking reader opens at once; with no writer it reads EOF, and poll does not
	 * report a hang-up before any writer came. */
	int r = T_ERRNO("open O_RDONLY|O_NONBLOCK, no writer", open(f, O_RDONLY | O_NONBLOCK), 0);
	CHECK(r >= 0);
	T_EQ(read(r, buf, sizeof buf), 0);
	pfd = (struct pollfd){ .fd = r, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) >= 0);
	printf("poll before any writer: revents=%#x\n", pfd.revents);
	struct stat a, b;
	CHECK(fstat(r, &a) == 0 && stat(f, &b) == 0);
	printf("fstat: fifo=%d same inode=%d\n", S_ISFIFO(a.st_mode), a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	T_ERRNO("fcntl F_GETPIPE_SZ", fcntl(r, F_GETPIPE_SZ), 0);

	/* Writers share the one pipe of the inode. */
	int w1 = T_ERRNO("open O_WRONLY|O_NONBLOCK, with a reader", open(f, O_WRONLY | O_NONBLOCK), 0);
	int w2 = T_ERRNO("open O_WRONLY, with a reader", open(f, O_WRONLY | O_TRUNC), 0);
	CHECK(w1 >= 0 && w2 >= 0);
	t_write_all(w1, "one ", 4);
	t_write_all(w2, "two", 3);
	memset(buf, 0, sizeof buf);
	ssize_t n = read(r, buf, sizeof buf);
	printf("reader got %zd bytes: %s\n", n, buf);
	T_ERRNO("read empty, writers open", read(r, buf, sizeof buf), EAGAIN);
	close(w1);
	close(w2);
	pfd = (struct pollfd){ .fd = r, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) >= 0);
	printf("poll after the writers closed: revents=%#x\n", pfd.revents);
	T_EQ(read(r, buf, sizeof buf), 0);
	close(r);

	T_ERRNO("open O_WRONLY|O_NONBLOCK, no reader", open(f, O_WRONLY | O_NONBLOCK), ENXIO);

	/* O_RDWR never blocks; the data goes when the last end closes. */
	int rw = T_ERRNO("open O_RDWR", open(f, O_RDWR), 0);
	CHECK(rw >= 0);
	t_write_all(rw, "self", 4);
	memset(buf, 0, sizeof buf);
	T_EQ(read(rw, buf, sizeof buf), 4);
	printf("O_RDWR reads its own write: %s\n", buf);
	t_write_all(rw, "left behind", 11);
	close(rw);
	rw = open(f, O_RDWR | O_NONBLOCK);
	CHECK(rw >= 0);
	T_ERRNO("reopened: the data is gone", read(rw, buf, sizeof buf), EAGAIN);
	close(rw);

	/* Blocking opens wait for each other. */
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(20);
		int w = open(f, O_WRONLY);
		if (w < 0)
			_exit(2);
		t_write_all(w, "from the child", 14);
		_exit(0);
	}
	alarm(20);
	r = T_ERRNO("blocking O_RDONLY meets a writer", open(f, O_RDONLY), 0);
	CHECK(r >= 0);
	memset(buf, 0, sizeof buf);
	t_read_all(r, buf, 14);
	printf("read: %s\n", buf);
	T_EQ(read(r, buf, sizeof buf), 0);
	printf("writer: %s\n", t_status(t_wait(c)));
	close(r);

	c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(20);
		int rd = open(f, O_RDONLY);
		if (rd < 0)
			_exit(2);
		char cb[16] = { 0 };
		t_read_all(rd, cb, 5);
		_exit(strcmp(cb, "hello") == 0 ? 0 : 3);
	}
	int w = T_ERRNO("blocking O_WRONLY meets a reader", open(f, O_WRONLY), 0);
	CHECK(w >= 0);
	t_write_all(w, "hello", 5);
	close(w);
	printf("reader: %s\n", t_status(t_wait(c)));
	alarm(0);

	/* A signal ends a blocking open (no SA_RESTART: EINTR), in either direction. */
	struct sigaction sa = { .sa_handler = on_alarm };
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = { .it_value = { .tv_usec = 100000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_ERRNO("blocking O_RDONLY, signal", open(f, O_RDONLY), EINTR);
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	T_ERRNO("blocking O_WRONLY, signal", open(f, O_WRONLY), EINTR);
	/* The interrupted opener no longer counts as a reader. */
	T_ERRNO("O_WRONLY|O_NONBLOCK after it", open(f, O_WRONLY | O_NONBLOCK), ENXIO);

	/* Still usable after unlink. */
	rw = open(f, O_RDWR);
	CHECK(rw >= 0);
	CHECK(unlink(f) == 0);
	t_write_all(rw, "x", 1);
	T_EQ(read(rw, buf, 1), 1);
	CHECK(fstat(rw, &a) == 0);
	printf("after unlink: fifo=%d nlink=%ld\n", S_ISFIFO(a.st_mode), (long)a.st_nlink);
	close(rw);
}

int main(void)
{
	umask(022);
	snprintf(dir, sizeof dir, "%s", t_tmp_path("mknod"));
	CHECK(mkdir(dir, 0777) == 0);
	CHECK(chmod(dir, 0777) == 0);

	T_ERRNO("mknod S_IFIFO", mknod(P("fifo"), S_IFIFO | 0666, 0), 0);
	show("fifo", P("fifo"));
	T_ERRNO("mknod S_IFREG", mknod(P("reg"), S_IFREG | 0640, 0), 0);
	show("reg", P("reg"));
	T_ERRNO("mknod mode 0", mknod(P("zero"), 0, 0), 0);
	show("zero", P("zero"));
	T_ERRNO("mknod S_IFSOCK", mknod(P("sock"), S_IFSOCK | 0777, 0), 0);
	show("sock", P("sock"));
	T_ERRNO("mkfifo", mkfifo(P("mkfifo"), 0600), 0);
	show("mkfifo", P("mkfifo"));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	T_ERRNO("mknodat S_IFIFO", mknodat(dfd, "at-fifo", S_IFIFO | 0777, 0), 0);
	show("at-fifo", P("at-fifo"));
	T_ERRNO("mknodat EEXIST", mknodat(dfd, "at-fifo", S_IFIFO | 0777, 0), EEXIST);
	umask(077);
	T_ERRNO("mknod, umask 077", mknod(P("masked"), S_IFIFO | 0666, 0), 0);
	show("masked", P("masked"));
	umask(022);

	/* Errors. */
	T_ERRNO("EEXIST fifo", mknod(P("fifo"), S_IFIFO | 0600, 0), EEXIST);
	T_ERRNO("EEXIST reg over fifo", mknod(P("fifo"), S_IFREG | 0600, 0), EEXIST);
	T_ERRNO("EEXIST dir", mknod(dir, S_IFIFO | 0600, 0), EEXIST);
	T_ERRNO("EEXIST trailing slash", mknod(P("fifo/"), S_IFIFO | 0600, 0), EEXIST);
	T_ERRNO("ENOENT trailing slash", mknod(P("new/"), S_IFIFO | 0600, 0), ENOENT);
	T_ERRNO("ENOENT dir", mknod(P("nodir/x"), S_IFIFO | 0600, 0), ENOENT);
	T_ERRNO("ENOTDIR", mknod(P("reg/x"), S_IFIFO | 0600, 0), ENOTDIR);
	T_ERRNO("EINVAL S_IFLNK", mknod(P("bad"), S_IFLNK | 0777, 0), EINVAL);
	T_ERRNO("EINVAL S_IFMT", mknod(P("bad"), S_IFMT | 0777, 0), EINVAL);
	T_ERRNO("EPERM S_IFDIR", mknod(P("bad"), S_IFDIR | 0777, 0), EPERM);
	T_ERRNO("EEXIST on the root", mknod("/etc/passwd", S_IFIFO | 0600, 0), EEXIST);
	T_ERRNO("ENOENT on the root", mknod("/rvisor-st-no-such-dir/x", S_IFIFO | 0600, 0), ENOENT);
	T_ERRNO("ENOENT empty path", mknod("", S_IFIFO | 0600, 0), ENOENT);
	T_ERRNO("EBADF dirfd", mknodat(-1, "x", S_IFIFO | 0600, 0), EBADF);
	T_ERRNO("ENOTDIR dirfd", mknodat(open(P("reg"), O_RDONLY), "x", S_IFIFO | 0600, 0), ENOTDIR);
	printf("nobody child: %s\n", t_status(t_in_child(unprivileged)));

	/* The directory lists each with its type. */
	struct dirent **list;
	int n = scandir(dir, &list, not_dots, alphasort);
	CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		printf("entry %s: %s\n", list[i]->d_name, dtype_name(list[i]->d_type));
		free(list[i]);
	}
	free(list);

	/* Regular files and socket inodes made by mknod. */
	int fd = open(P("reg"), O_RDWR);
	T_TRUE(fd >= 0);
	t_write_all(fd, "abc", 3);
	close(fd);
	show("reg after write", P("reg"));
	T_ERRNO("truncate a fifo", truncate(P("fifo"), 0), EINVAL);
	T_ERRNO("open a socket inode", open(P("sock"), O_RDWR), ENXIO);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", P("sock"));
	T_ERRNO("connect to a socket inode", connect(s, (struct sockaddr *)&sun, sizeof sun), ECONNREFUSED);
	T_ERRNO("bind over a socket inode", bind(s, (struct sockaddr *)&sun, sizeof sun), EADDRINUSE);
	close(s);

	fifo_semantics();

	const char *names[] = { "reg", "zero", "sock", "mkfifo", "at-fifo", "masked" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		CHECK(unlink(P(names[i])) == 0);
	CHECK(rmdir(dir) == 0);
	return t_done();
}
