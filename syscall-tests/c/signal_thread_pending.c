/* Per-thread and process-wide pending sets: tgkill pends on one thread, kill on the process;
 * sigpending shows both; a process signal goes to a thread that does not block it. */
#include "test_util.h"
#include <pthread.h>

static volatile pid_t handled_by[65];
static int to_thread[2], to_main[2];
static pid_t thread_tid;

static void handler(int sig)
{
	handled_by[sig] = (pid_t)syscall(SYS_gettid);
}

static void step_wait(int fd)
{
	char c;
	CHECK(read(fd, &c, 1) == 1);
}

static void step_go(int fd)
{
	CHECK(write(fd, "s", 1) == 1);
}

static int pend(int sig)
{
	sigset_t p;
	sigpending(&p);
	return sigismember(&p, sig);
}

static void *thr(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	step_go(to_main[1]);
	/* 1: main has sent USR1 to this thread and USR2 to the process. */
	step_wait(to_thread[0]);
	printf("thread sees: USR1 pending=%d USR2 pending=%d\n", pend(SIGUSR1), pend(SIGUSR2));
	step_go(to_main[1]);
	/* 2: unblock USR1 here: it is delivered to this thread. */
	step_wait(to_thread[0]);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &m, NULL);
	printf("USR1 handled by this thread=%d\n", handled_by[SIGUSR1] == thread_tid);
	/* Keep SIGHUP unblocked here for step 3. */
	step_go(to_main[1]);
	step_wait(to_thread[0]);
	return NULL;
}

int main(void)
{
	CHECK(pipe(to_thread) == 0 && pipe(to_main) == 0);
	signal(SIGUSR1, handler);
	signal(SIGUSR2, handler);
	signal(SIGHUP, handler);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	CHECK(pthread_sigmask(SIG_BLOCK, &m, NULL) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, thr, NULL) == 0);
	step_wait(to_main[0]);
	/* The thread has the same mask, plus SIGHUP unblocked; block SIGHUP in main. */
	sigset_t h;
	sigemptyset(&h);
	sigaddset(&h, SIGHUP);
	CHECK(pthread_sigmask(SIG_BLOCK, &h, NULL) == 0);

	CHECK(syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR1) == 0);
	CHECK(kill(getpid(), SIGUSR2) == 0);
	printf("main sees: USR1 pending=%d USR2 pending=%d\n", pend(SIGUSR1), pend(SIGUSR2));
	step_go(to_thread[1]);
	step_wait(to_main[0]);
	step_go(to_thread[1]);
	step_wait(to_main[0]);

	/* Unblocking USR2 in main delivers the process-wide signal here. */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	CHECK(pthread_sigmask(SIG_UNBLOCK, &m, NULL) == 0);
	printf("USR2 handled by main=%d\n", handled_by[SIGUSR2] == getpid());

	/* A process-directed SIGHUP goes to the thread that does not block it. */
	CHECK(kill(getpid(), SIGHUP) == 0);
	long long start = t_now_ns(CLOCK_MONOTONIC);
	while (handled_by[SIGHUP] == 0) {
		t_deadline(start, 10, "SIGHUP to reach the other thread");
		usleep(1000);
	}
	printf("HUP handled by the unblocking thread=%d main pending HUP=%d\n", handled_by[SIGHUP] == thread_tid,
	       pend(SIGHUP));
	step_go(to_thread[1]);
	CHECK(pthread_join(t, NULL) == 0);
	/* The tid is cleared just before the thread is released: poll until it is gone. */
	int gone = 0;
	for (int i = 0; i < 5000 && !gone; i++) {
		gone = syscall(SYS_tgkill, getpid(), thread_tid, 0) == -1 && errno == ESRCH;
		if (!gone)
			usleep(1000);
	}
	printf("tgkill on exited thread gives ESRCH=%d\n", gone);
	return t_done();
}
