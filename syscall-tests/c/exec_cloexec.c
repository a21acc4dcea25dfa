/* execve and file descriptors: FD_CLOEXEC (open O_CLOEXEC, fcntl, pipe2, dup3, F_DUPFD_CLOEXEC)
 * descriptors are closed, others survive with their offset and flags. */
#include "test_util.h"
#include <fcntl.h>

static int child_role(char **argv)
{
	for (int i = 2; argv[i]; i++) {
		int fd = atoi(argv[i]);
		int fl = fcntl(fd, F_GETFD);
		printf("fd %s: %s", argv[i] + strlen(argv[i]) - 1, fl < 0 ? t_errname(errno) : "open");
		if (fl >= 0) {
			off_t off = lseek(fd, 0, SEEK_CUR);
			int acc = fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK);
			printf(" cloexec=%d offset=%lld flags=0x%x", fl & FD_CLOEXEC, (long long)off, acc);
		}
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child_role(argv);

	const char *path = t_tmp_path("cloexec");
	int keep = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	CHECK(keep >= 0);
	CHECK(write(keep, "hello", 5) == 5);
	int ocx = open(path, O_RDONLY | O_CLOEXEC);
	int setfd = open(path, O_RDONLY);
	CHECK(ocx >= 0 && setfd >= 0);
	CHECK(fcntl(setfd, F_SETFD, FD_CLOEXEC) == 0);
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
	int d3 = dup3(keep, 40, O_CLOEXEC);
	int dcx = fcntl(keep, F_DUPFD_CLOEXEC, 50);
	int dplain = dup2(ocx, 60); /* dup2 clears FD_CLOEXEC on the copy */
	CHECK(d3 == 40 && dcx >= 50 && dplain == 60);
	/* Label each fd with a one-letter suffix so the output does not depend on fd numbers. */
	char a[8][24];
	int fds[] = { keep, ocx, setfd, p[0], p[1], d3, dcx, dplain };
	const char *tags = "kostuvwx";
	char *args[12];
	args[0] = argv[0];
	args[1] = "child";
	for (int i = 0; i < 8; i++) {
		snprintf(a[i], sizeof a[i], "%d%c", fds[i], tags[i]);
		args[2 + i] = a[i];
	}
	args[10] = NULL;
	printf("k=plain o=O_CLOEXEC s=F_SETFD t,u=pipe2 v=dup3 w=F_DUPFD_CLOEXEC x=dup2 of O_CLOEXEC\n");
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		execv(argv[0], args);
		_exit(99);
	}
	printf("child: %s\n", t_status(t_wait(pid)));
	unlink(path);
	return t_done();
}
