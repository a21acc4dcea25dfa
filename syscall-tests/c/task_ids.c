/* getpid/getppid/gettid consistency across threads, children and the raw syscalls. */
#include "test_util.h"
#include <pthread.h>

static pid_t thread_tid, thread_pid;

static void *thr(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	thread_pid = getpid();
	return NULL;
}

int main(void)
{
	pid_t pid = getpid();
	printf("pid_positive=%d\n", pid > 0);
	printf("raw_getpid_matches=%d\n", (pid_t)syscall(SYS_getpid) == pid);
	printf("main_gettid_is_pid=%d\n", (pid_t)syscall(SYS_gettid) == pid);
	printf("gettid_wrapper_matches=%d\n", gettid() == pid);
	printf("ppid_nonnegative=%d\n", getppid() >= 0);

	pthread_t t;
	CHECK(pthread_create(&t, NULL, thr, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	printf("thread: same_pid=%d distinct_tid=%d tid_positive=%d\n", thread_pid == pid, thread_tid != pid, thread_tid > 0);

	int p[2];
	CHECK(pipe(p) == 0);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		pid_t v[3] = { getpid(), getppid(), (pid_t)syscall(SYS_gettid) };
		CHECK(write(p[1], v, sizeof v) == sizeof v);
		_exit(0);
	}
	pid_t v[3];
	CHECK(read(p[0], v, sizeof v) == sizeof v);
	t_wait(child);
	printf("child: getpid_is_fork_result=%d ppid_is_parent=%d tid_is_pid=%d\n", v[0] == child, v[1] == pid, v[2] == child);
	/* A new pid is never one in use. */
	printf("child_pid_differs=%d\n", child != pid);
	return t_done();
}
