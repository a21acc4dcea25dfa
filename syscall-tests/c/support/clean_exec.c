/* The suite's launcher: runs argv[1..] with only descriptors 0, 1 and 2 open, so that a native
 * run starts with the same descriptors as a sandboxed one, whatever the runner inherited. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: clean_exec PROGRAM [ARG...]\n");
		return 127;
	}
	if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
		for (int fd = 3; fd < 4096; fd++)
			close(fd);
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
