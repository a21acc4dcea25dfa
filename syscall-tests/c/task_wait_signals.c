/* Wait statuses of children ended by signals: kill, raise, abort, faults (SIGSEGV, SIGFPE,
 * SIGILL, SIGTRAP, SIGBUS), and ignored-by-default signals. */
#include "test_util.h"
#include <sys/mman.h>
#include <sys/resource.h>

static void no_core(void)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);
}

static int do_raise(int sig)
{
	no_core();
	raise(sig);
	return 0;
}

static int r_term(void) { return do_raise(SIGTERM); }
static int r_int(void) { return do_raise(SIGINT); }
static int r_hup(void) { return do_raise(SIGHUP); }
static int r_usr1(void) { return do_raise(SIGUSR1); }
static int r_quit(void) { return do_raise(SIGQUIT); }
static int r_pipe(void) { return do_raise(SIGPIPE); }
static int r_rtmin(void) { return do_raise(SIGRTMIN); }
static int r_chld(void) { return do_raise(SIGCHLD) + 10; }
static int r_urg(void) { return do_raise(SIGURG) + 11; }
static int r_winch(void) { return do_raise(SIGWINCH) + 12; }
static int r_cont(void) { return do_raise(SIGCONT) + 13; }

static int do_abort(void)
{
	no_core();
	abort();
}

static int null_deref(void)
{
	no_core();
	volatile int *p = NULL;
	return *p;
}

static int div_zero(void)
{
	no_core();
	volatile int a = 1, b = 0;
	return a / b;
}

static int illegal(void)
{
	no_core();
	__asm__ volatile("ud2");
	return 0;
}

static int trap(void)
{
	no_core();
	__asm__ volatile("int3");
	return 0;
}

static int bus(void)
{
	no_core();
	/* A file mapping past EOF gives SIGBUS; use a memfd of size 0. */
	int fd = memfd_create("bus", 0);
	if (fd < 0)
		return 99;
	volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 98;
	return *p;
}

static int write_to_closed_pipe(void)
{
	int p[2];
	if (pipe(p))
		return 97;
	close(p[0]);
	(void)write(p[1], "x", 1);
	return 96;
}

struct tcase {
	const char *name;
	int (*fn)(void);
};

int main(void)
{
	struct tcase cases[] = {
		{ "raise SIGTERM", r_term }, { "raise SIGINT", r_int }, { "raise SIGHUP", r_hup },
		{ "raise SIGUSR1", r_usr1 }, { "raise SIGQUIT", r_quit }, { "raise SIGPIPE", r_pipe },
		{ "raise SIGRTMIN", r_rtmin }, { "raise SIGCHLD", r_chld }, { "raise SIGURG", r_urg },
		{ "raise SIGWINCH", r_winch }, { "raise SIGCONT", r_cont }, { "abort", do_abort },
		{ "null deref", null_deref }, { "divide by zero", div_zero }, { "ud2", illegal },
		{ "int3", trap }, { "read past EOF of mapping", bus },
		{ "write to pipe without reader", write_to_closed_pipe },
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
		printf("%s: %s\n", cases[i].name, t_status(t_in_child(cases[i].fn)));

	/* kill() from the parent. */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK(kill(pid, SIGKILL) == 0);
	printf("kill SIGKILL: %s\n", t_status(t_wait(pid)));
	return t_done();
}
