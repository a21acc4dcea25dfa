/* execve from a non-leader thread: other threads are killed, the process keeps its pid, the
 * exec'd image sees one thread whose tid is the pid. */
#include "test_util.h"
#include <pthread.h>

static char *self;
static char pidbuf[16];

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *execer(void *arg)
{
	(void)arg;
	char *args[] = { self, "child", pidbuf, NULL };
	execv(self, args);
	_exit(99);
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "child") == 0) {
		printf("after exec: pid kept=%d tid is pid=%d\n", atoi(argv[2]) == getpid(),
		       (pid_t)syscall(SYS_gettid) == getpid());
		return 0;
	}
	self = argv[0];
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
		pthread_t a, b;
		pthread_create(&a, NULL, sleeper, NULL);
		pthread_create(&b, NULL, execer, NULL);
		for (;;)
			pause();
	}
	printf("child: %s\n", t_status(t_wait(pid)));
	return t_done();
}
