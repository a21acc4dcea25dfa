/* inotify: watch management. Errors of inotify_init1, inotify_add_watch and inotify_rm_watch;
 * one watch descriptor per inode (IN_MASK_ADD, IN_MASK_CREATE, replacing the mask);
 * IN_ONESHOT; inotify_rm_watch queues IN_IGNORED; IN_DONT_FOLLOW watches the symlink;
 * IN_EXCL_UNLINK; two instances see the same events; files of the read-only root. */
#include "inotify_util.h"
#include <sys/stat.h>

int main(int argc, char **argv)
{
	(void)argc;
	char dir[256], f[256], ln[256];
	strcpy(dir, t_tmp_path("inotify-w"));
	CHECK(mkdir(dir, 0755) == 0);
	strcpy(f, in_join(dir, "f"));
	strcpy(ln, in_join(dir, "ln"));
	in_touch(f);
	CHECK(symlink("f", ln) == 0);

	T_ERRNO("init1 bad flags", inotify_init1(1), EINVAL);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	CHECK(fd >= 0);
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	T_ERRNO("add_watch bad fd", inotify_add_watch(-1, dir, IN_ALL_EVENTS), EBADF);
	T_ERRNO("add_watch closed fd", inotify_add_watch(1000, dir, IN_ALL_EVENTS), EBADF);
	T_ERRNO("add_watch pipe", inotify_add_watch(pfd[0], dir, IN_ALL_EVENTS), EINVAL);
	T_ERRNO("add_watch mask 0", inotify_add_watch(fd, dir, 0), EINVAL);
	T_ERRNO("add_watch mask 0 bad fd", inotify_add_watch(-1, dir, 0), EINVAL);
	T_ERRNO("add_watch unknown bit", inotify_add_watch(fd, dir, IN_MODIFY | 0x1000), EINVAL);
	T_ERRNO("add_watch MASK_ADD|MASK_CREATE", inotify_add_watch(fd, dir, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE), EINVAL);
	T_ERRNO("add_watch missing", inotify_add_watch(fd, in_join(dir, "missing"), IN_ALL_EVENTS), ENOENT);
	T_ERRNO("add_watch empty path", inotify_add_watch(fd, "", IN_ALL_EVENTS), ENOENT);
	T_ERRNO("add_watch through a file", inotify_add_watch(fd, in_join(f, "x"), IN_ALL_EVENTS), ENOTDIR);
	T_ERRNO("add_watch ONLYDIR file", inotify_add_watch(fd, f, IN_MODIFY | IN_ONLYDIR), ENOTDIR);
	T_ERRNO("add_watch ONLYDIR link to file", inotify_add_watch(fd, ln, IN_MODIFY | IN_ONLYDIR), ENOTDIR);
	T_ERRNO("add_watch bad address", inotify_add_watch(fd, (const char *)8, IN_MODIFY), EFAULT);
	T_ERRNO("rm_watch bad fd", inotify_rm_watch(-1, 1), EBADF);
	T_ERRNO("rm_watch pipe", inotify_rm_watch(pfd[0], 1), EINVAL);
	T_ERRNO("rm_watch unknown wd", inotify_rm_watch(fd, 1), EINVAL);
	T_ERRNO("rm_watch negative wd", inotify_rm_watch(fd, -1), EINVAL);
	T_ERRNO("write to the instance (read-only)", write(fd, "x", 1), EBADF);
	printf("access mode O_RDONLY: %d\n", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);

	/* One descriptor per inode, whatever the path. */
	int wd = inotify_add_watch(fd, dir, IN_CREATE | IN_ONLYDIR);
	printf("dir wd=%d\n", wd);
	char dotted[300];
	snprintf(dotted, sizeof dotted, "%s/.", dir);
	printf("same inode, same wd: %d\n", inotify_add_watch(fd, dotted, IN_CREATE) == wd);
	T_ERRNO("MASK_CREATE on a watched inode", inotify_add_watch(fd, dir, IN_CREATE | IN_MASK_CREATE), EEXIST);
	int wf = inotify_add_watch(fd, f, IN_ATTRIB);
	printf("file wd=%d\n", wf);
	printf("link followed, same wd: %d\n", inotify_add_watch(fd, ln, IN_ATTRIB) == wf);
	int wl = inotify_add_watch(fd, ln, IN_ATTRIB | IN_DONT_FOLLOW);
	printf("link not followed: new wd=%d\n", wl);
	CHECK(chmod(f, 0600) == 0);
	CHECK(utimensat(AT_FDCWD, ln, NULL, AT_SYMLINK_NOFOLLOW) == 0);
	in_drain(fd, "chmod file, utimensat link (nofollow)");

	/* IN_MASK_ADD adds to the mask; without it the mask is replaced. */
	CHECK(inotify_add_watch(fd, f, IN_MODIFY | IN_MASK_ADD) == wf);
	int h = open(f, O_WRONLY);
	CHECK(h >= 0);
	CHECK(write(h, "a", 1) == 1);
	CHECK(fchmod(h, 0644) == 0);
	in_drain(fd, "mask ATTRIB|MODIFY: write, fchmod");
	CHECK(inotify_add_watch(fd, f, IN_CLOSE_WRITE) == wf);
	CHECK(write(h, "a", 1) == 1);
	CHECK(fchmod(h, 0600) == 0);
	CHECK(close(h) == 0);
	in_drain(fd, "mask CLOSE_WRITE: write, fchmod, close");

	/* rm_watch queues IN_IGNORED; the descriptor is gone after. */
	T_ERRNO("rm_watch link watch", inotify_rm_watch(fd, wl), 0);
	T_ERRNO("rm_watch again", inotify_rm_watch(fd, wl), EINVAL);
	in_drain(fd, "after rm_watch");

	/* IN_ONESHOT: one event, then IN_IGNORED. A new watch gets a new descriptor. */
	CHECK(inotify_rm_watch(fd, wf) == 0);
	in_drain(fd, "rm_watch of the file watch");
	int wo = inotify_add_watch(fd, f, IN_MODIFY | IN_ONESHOT);
	printf("oneshot wd is new: %d\n", wo != wf && wo > 0);
	h = open(f, O_WRONLY);
	CHECK(h >= 0);
	CHECK(write(h, "b", 1) == 1);
	CHECK(write(h, "c", 1) == 1);
	CHECK(close(h) == 0);
	h = open(f, O_WRONLY);
	CHECK(write(h, "d", 1) == 1);
	CHECK(close(h) == 0);
	int n = 0;
	char buf[256];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		for (char *q = buf; q < buf + r;) {
			struct inotify_event *e = (struct inotify_event *)q;
			printf("  oneshot event %d: %s same_wd=%d\n", n++, in_mask_str(e->mask), e->wd == wo);
			q += sizeof *e + e->len;
		}
	}
	T_ERRNO("rm_watch of a fired oneshot watch", inotify_rm_watch(fd, wo), EINVAL);

	/* IN_EXCL_UNLINK: no events from children once they are unlinked. */
	CHECK(inotify_add_watch(fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_EXCL_UNLINK) == wd);
	h = open(f, O_WRONLY);
	CHECK(h >= 0);
	CHECK(write(h, "e", 1) == 1);
	CHECK(unlink(f) == 0);
	CHECK(write(h, "f", 1) == 1);
	CHECK(close(h) == 0);
	in_drain(fd, "EXCL_UNLINK: write, unlink, write, close");
	CHECK(inotify_add_watch(fd, dir, IN_MODIFY | IN_CLOSE_WRITE) == wd);
	in_touch(f);
	h = open(f, O_WRONLY);
	CHECK(h >= 0);
	CHECK(unlink(f) == 0);
	CHECK(write(h, "g", 1) == 1);
	CHECK(close(h) == 0);
	in_drain(fd, "without EXCL_UNLINK: unlink, write, close");

	/* Two instances watching the same directory both hear of a change. */
	int fd2 = inotify_init();
	CHECK(fd2 >= 0);
	printf("second instance cloexec=%d nonblock=%d\n", (fcntl(fd2, F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(fd2, F_GETFL) & O_NONBLOCK) != 0);
	printf("first instance cloexec=%d nonblock=%d\n", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
	       (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	CHECK(fcntl(fd2, F_SETFL, O_NONBLOCK) == 0);
	printf("second instance wd=%d\n", inotify_add_watch(fd2, dir, IN_CREATE | IN_DELETE));
	in_touch(f);
	in_drain(fd, "first instance");
	in_drain(fd2, "second instance");
	CHECK(close(fd2) == 0);

	/* A file of the read-only root: the test binary itself. */
	int wb = inotify_add_watch(fd, argv[0], IN_OPEN | IN_ACCESS | IN_CLOSE | IN_MODIFY);
	CHECK(wb > 0);
	h = open(argv[0], O_RDONLY);
	CHECK(h >= 0);
	CHECK(read(h, buf, 4) == 4);
	CHECK(close(h) == 0);
	in_drain(fd, "open, read, close of the test binary");
	CHECK(inotify_rm_watch(fd, wb) == 0);
	in_drain(fd, "rm_watch of it");

	CHECK(unlink(f) == 0);
	CHECK(unlink(ln) == 0);
	CHECK(rmdir(dir) == 0);
	in_drain(fd, "cleanup");
	CHECK(close(fd) == 0);
	return t_done();
}
