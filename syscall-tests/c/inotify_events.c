/* inotify: the events of a watched directory (with the child's name) and of watched files
 * (without one): create, open, modify, access, close (write and nowrite), attrib (chmod,
 * chown, utimensat, link count), truncate, mkdir (IN_ISDIR), symlink, link, socket bind,
 * getdents, unlink and rmdir (IN_DELETE, IN_DELETE_SELF, IN_IGNORED), coalescing of identical
 * consecutive events. */
#include "inotify_util.h"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

int main(void)
{
	const char *dir = t_tmp_path("inotify-ev");
	CHECK(mkdir(dir, 0755) == 0);
	int fd = inotify_init1(IN_NONBLOCK);
	CHECK(fd >= 0);
	int wd = inotify_add_watch(fd, dir, IN_ALL_EVENTS);
	printf("dir wd=%d\n", wd);
	in_drain(fd, "nothing yet");

	const char *f = in_join(dir, "file");
	int h = open(f, O_CREAT | O_WRONLY, 0644);
	CHECK(h >= 0);
	CHECK(write(h, "hello", 5) == 5);
	CHECK(write(h, "world", 5) == 5);
	CHECK(close(h) == 0);
	in_drain(fd, "create, two writes, close");

	h = open(f, O_RDONLY);
	CHECK(h >= 0);
	char buf[16];
	CHECK(read(h, buf, 4) == 4);
	CHECK(read(h, buf, 4) == 4);
	CHECK(read(h, buf, 16) == 2);
	CHECK(read(h, buf, 16) == 0);
	CHECK(pread(h, buf, 2, 0) == 2);
	CHECK(close(h) == 0);
	in_drain(fd, "open, reads to the end, pread, close");

	h = open(f, O_RDWR);
	CHECK(h >= 0);
	CHECK(pwrite(h, "H", 1, 0) == 1);
	CHECK(pread(h, buf, 1, 0) == 1);
	struct iovec iov[2] = { { "a", 1 }, { "b", 1 } };
	CHECK(writev(h, iov, 2) == 2);
	CHECK(ftruncate(h, 3) == 0);
	CHECK(close(h) == 0);
	in_drain(fd, "pwrite, pread, writev, ftruncate");

	CHECK(chmod(f, 0600) == 0);
	CHECK(chown(f, 0, 0) == 0);
	CHECK(chown(f, -1, -1) == 0);
	CHECK(utimensat(AT_FDCWD, f, NULL, 0) == 0);
	CHECK(truncate(f, 1) == 0);
	in_drain(fd, "chmod, chown, chown(-1,-1), utimensat, truncate");

	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 5, 0 } };
	CHECK(utimensat(AT_FDCWD, f, ts, 0) == 0);
	ts[0] = (struct timespec){ 5, 0 };
	ts[1] = (struct timespec){ 0, UTIME_OMIT };
	CHECK(utimensat(AT_FDCWD, f, ts, 0) == 0);
	in_drain(fd, "utimensat mtime only, atime only");

	h = creat(f, 0644);
	CHECK(h >= 0);
	CHECK(close(h) == 0);
	in_drain(fd, "creat of an existing file");
	h = creat(in_join(dir, "new"), 0644);
	CHECK(h >= 0);
	CHECK(close(h) == 0);
	CHECK(unlink(in_join(dir, "new")) == 0);
	in_drain(fd, "creat of a new file, unlink");

	/* A watch on the file itself: the same events without a name, after the directory's. */
	int wf = inotify_add_watch(fd, f, IN_ALL_EVENTS);
	printf("file wd=%d\n", wf);
	h = open(f, O_WRONLY | O_APPEND);
	CHECK(h >= 0);
	CHECK(write(h, "x", 1) == 1);
	CHECK(fchmod(h, 0644) == 0);
	CHECK(close(h) == 0);
	in_drain(fd, "file watched too: open, write, fchmod, close");

	const char *sub = in_join(dir, "sub");
	CHECK(mkdir(sub, 0755) == 0);
	in_drain(fd, "mkdir");
	h = open(sub, O_RDONLY | O_DIRECTORY);
	CHECK(h >= 0);
	char dents[512];
	CHECK(syscall(SYS_getdents64, h, dents, sizeof dents) > 0);
	CHECK(close(h) == 0);
	in_drain(fd, "open, getdents and close of a subdirectory");
	h = open(sub, O_PATH);
	CHECK(h >= 0);
	CHECK(close(h) == 0);
	in_drain(fd, "O_PATH open and close");

	const char *ln = in_join(dir, "link");
	CHECK(symlink("file", ln) == 0);
	const char *hard = in_join(dir, "hard");
	CHECK(link(f, hard) == 0);
	in_drain(fd, "symlink, link");

	const char *sp = in_join(dir, "sock");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(s >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sp);
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(close(s) == 0);
	in_drain(fd, "bind of a unix socket");

	CHECK(unlink(sp) == 0);
	CHECK(unlink(ln) == 0);
	CHECK(unlink(hard) == 0);
	in_drain(fd, "unlink socket, symlink, second link");
	CHECK(unlink(f) == 0);
	in_drain(fd, "unlink of the watched file");

	/* An open file outlives its name: IN_DELETE_SELF comes with its last close. A description
	 * shared with a child is closed when the child's copy goes too. */
	h = open(f, O_CREAT | O_RDWR, 0644);
	CHECK(h >= 0);
	wf = inotify_add_watch(fd, f, IN_ALL_EVENTS);
	printf("file wd=%d\n", wf);
	int go[2];
	CHECK(pipe(go) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char c;
		close(go[1]);
		CHECK(read(go[0], &c, 1) == 0);
		_exit(0);
	}
	CHECK(close(go[0]) == 0);
	CHECK(unlink(f) == 0);
	CHECK(write(h, "z", 1) == 1);
	CHECK(close(h) == 0);
	in_drain(fd, "open file: unlink, write, close (a child holds it)");
	CHECK(close(go[1]) == 0);
	printf("child: %s\n", t_status(t_wait(pid)));
	in_drain(fd, "after the child's exit");
	CHECK(rmdir(sub) == 0);
	in_drain(fd, "rmdir of a subdirectory");

	CHECK(rmdir(dir) == 0);
	in_drain(fd, "rmdir of the watched directory");
	T_ERRNO("rm_watch after IN_IGNORED", inotify_rm_watch(fd, wd), EINVAL);
	CHECK(close(fd) == 0);
	return t_done();
}
