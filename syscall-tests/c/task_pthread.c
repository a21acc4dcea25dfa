/* pthreads: create/join with return values, tids, shared memory, TLS, detached threads,
 * exit_group from a thread. */
#include "test_util.h"
#include <pthread.h>
#include <stdatomic.h>

static __thread int tls_value = 5;
static atomic_int counter;
static pid_t main_pid;

static void *worker(void *arg)
{
	long n = (long)arg;
	int ok = tls_value == 5;
	tls_value = (int)n;
	for (int i = 0; i < 10000; i++)
		atomic_fetch_add(&counter, 1);
	pid_t tid = (pid_t)syscall(SYS_gettid);
	ok &= getpid() == main_pid && tid != main_pid && tid > 0 && tls_value == n;
	return (void *)(ok ? n * 10 : -1);
}

static void *exiter(void *arg)
{
	(void)arg;
	pthread_exit((void *)77);
}

static void *group_exit(void *arg)
{
	(void)arg;
	exit(9);
}

static void *blocker(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	main_pid = getpid();
	printf("main_tid_is_pid=%d\n", (pid_t)syscall(SYS_gettid) == main_pid);
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0);
	for (int i = 0; i < 4; i++) {
		void *ret;
		CHECK(pthread_join(t[i], &ret) == 0);
		printf("thread %d returned %ld\n", i, (long)ret);
	}
	printf("counter=%d main_tls=%d\n", atomic_load(&counter), tls_value);

	pthread_t e;
	void *ret;
	CHECK(pthread_create(&e, NULL, exiter, NULL) == 0);
	CHECK(pthread_join(e, &ret) == 0);
	printf("pthread_exit value=%ld\n", (long)ret);

	/* exit() from a thread ends the whole process with that status, while another thread is
	 * blocked. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		pthread_t b, g;
		pthread_create(&b, NULL, blocker, NULL);
		pthread_create(&g, NULL, group_exit, NULL);
		for (;;)
			pause();
	}
	printf("exit from thread: %s\n", t_status(t_wait(pid)));

	/* The main thread calling pthread_exit: the process lives on until the last thread. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		pthread_t w;
		pthread_create(&w, NULL, worker, (void *)3);
		pthread_detach(w);
		pthread_exit(NULL);
	}
	printf("main pthread_exit: %s\n", t_status(t_wait(pid)));
	return t_done();
}
