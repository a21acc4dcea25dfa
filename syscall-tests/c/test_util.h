/* Shared helpers for the rvisor syscall compatibility tests.
 *
 * Every test prints only deterministic facts on stdout (never pids, addresses, times or host
 * names) and exits 0 when every check held. A failed check prints its line and expression on
 * stderr and makes the test exit 1 at the end (T_* macros) or at once (CHECK).
 */
#ifndef RVISOR_TEST_UTIL_H
#define RVISOR_TEST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int t_failures;

/* stdout is a pipe under the runner: make it unbuffered so that fork() never duplicates
 * buffered output and output order matches the order of events. */
__attribute__((constructor)) static void t_init(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
}

static inline const char *t_errname(int e)
{
	const char *n = e == 0 ? "OK" : strerrorname_np(e);
	return n ? n : "E?";
}

/* A fatal check: setup that the rest of the test depends on. */
#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			int e_ = errno;                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s (errno %s)\n", __FILE__, \
				__LINE__, #cond, t_errname(e_));                           \
			exit(1);                                                           \
		}                                                                          \
	} while (0)

/* A non-fatal check: records the failure and goes on. */
#define T_TRUE(cond)                                                                        \
	do {                                                                                \
		if (!(cond)) {                                                              \
			int e_ = errno;                                                     \
			fprintf(stderr, "%s:%d: FAILED: %s (errno %s)\n", __FILE__, __LINE__, \
				#cond, t_errname(e_));                                      \
			t_failures++;                                                       \
		}                                                                           \
	} while (0)

#define T_EQ(a, b)                                                                        \
	do {                                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);                       \
		if (a_ != b_) {                                                           \
			fprintf(stderr, "%s:%d: FAILED: %s == %s (%lld != %lld)\n", __FILE__, \
				__LINE__, #a, #b, a_, b_);                                \
			t_failures++;                                                     \
		}                                                                         \
	} while (0)

/* Evaluates expr (a call returning -1 and setting errno on error), prints
 * "label: ENAME" (or "label: OK" on success) on stdout, and checks the errno. */
#define T_ERRNO(label, expr, want)                                                     \
	({                                                                             \
		errno = 0;                                                             \
		long r_ = (long)(expr);                                                \
		int e_ = r_ == -1 ? errno : 0;                                         \
		printf("%s: %s\n", (label), t_errname(e_));                           \
		if (e_ != (want)) {                                                    \
			fprintf(stderr, "%s:%d: FAILED: %s: want %s, got %s (ret %ld)\n", \
				__FILE__, __LINE__, #expr, t_errname(want),            \
				t_errname(e_), r_);                                    \
			t_failures++;                                                  \
		}                                                                      \
		r_;                                                                    \
	})

/* Like T_ERRNO for calls that return an error number (pthread_*, posix_*, clock_nanosleep). */
#define T_RET(label, expr, want)                                                        \
	({                                                                              \
		int e_ = (expr);                                                        \
		printf("%s: %s\n", (label), t_errname(e_));                            \
		if (e_ != (want)) {                                                     \
			fprintf(stderr, "%s:%d: FAILED: %s: want %s, got %s\n", __FILE__, \
				__LINE__, #expr, t_errname(want), t_errname(e_));       \
			t_failures++;                                                   \
		}                                                                       \
		e_;                                                                     \
	})

static inline int t_done(void)
{
	if (t_failures) {
		fprintf(stderr, "%d check(s) failed\n", t_failures);
		return 1;
	}
	printf("done\n");
	return 0;
}

/* "TERM", "RTMIN+2", ... */
static inline const char *t_signame(int sig)
{
	static char buf[4][32];
	static int n;
	char *p = buf[n++ % 4];
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(p, 32, "RTMIN+%d", sig - SIGRTMIN);
	else if (sigabbrev_np(sig))
		snprintf(p, 32, "%s", sigabbrev_np(sig));
	else
		snprintf(p, 32, "SIG%d", sig);
	return p;
}

/* Describes a wait status deterministically (never the core-dump bit, which depends on the
 * host's core limits). */
static inline const char *t_status(int status)
{
	static char buf[64];
	if (WIFEXITED(status))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof buf, "signaled %s", t_signame(WTERMSIG(status)));
	else if (WIFSTOPPED(status))
		snprintf(buf, sizeof buf, "stopped %s", t_signame(WSTOPSIG(status)));
	else if (WIFCONTINUED(status))
		snprintf(buf, sizeof buf, "continued");
	else
		snprintf(buf, sizeof buf, "unknown 0x%x", status);
	return buf;
}

/* Waits for pid (retrying on EINTR) and returns its status. */
static inline int t_wait(pid_t pid)
{
	int status = 0;
	pid_t r;
	do {
		r = waitpid(pid, &status, 0);
	} while (r == -1 && errno == EINTR);
	CHECK(r == pid);
	return status;
}

/* Runs fn in a forked child and returns the child's wait status. */
static inline int t_in_child(int (*fn)(void))
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(fn());
	return t_wait(pid);
}

static inline long long t_now_ns(clockid_t clk)
{
	struct timespec ts;
	CHECK(clock_gettime(clk, &ts) == 0);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Fails the test (instead of hanging it) when a polled condition does not come true within
 * `seconds` of wall time. Use as: while (!cond) { t_deadline(start, 10, "what"); ... } */
static inline void t_deadline(long long start_ns, int seconds, const char *what)
{
	if (t_now_ns(CLOCK_MONOTONIC) - start_ns > (long long)seconds * 1000000000LL) {
		fprintf(stderr, "gave up after %ds waiting for %s\n", seconds, what);
		printf("timed out waiting for %s\n", what);
		exit(1);
	}
}

/* A unique scratch path under /tmp for this test process. */
static inline const char *t_tmp_path(const char *tag)
{
	static char buf[8][128];
	static int n;
	char *p = buf[n++ % 8];
	snprintf(p, 128, "/tmp/rvisor-st-%s-%d", tag, (int)getpid());
	return p;
}

static inline void t_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		CHECK(w > 0);
		p += w;
		len -= (size_t)w;
	}
}

static inline void t_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		CHECK(r > 0);
		p += r;
		len -= (size_t)r;
	}
}

#endif
