/* sigaltstack: SA_ONSTACK handlers run on it and see SS_ONSTACK, changing it while on it is
 * EPERM, handlers without SA_ONSTACK stay on the normal stack, stack overflow is caught on the
 * alternate stack, errors. */
#include "test_util.h"

static char alt[65536] __attribute__((aligned(16)));
static volatile int on_alt, flags_in_handler, change_errno;

static int in_alt(void *p)
{
	return (char *)p >= alt && (char *)p < alt + sizeof alt;
}

static void handler(int sig)
{
	(void)sig;
	volatile char local;
	on_alt = in_alt((void *)&local);
	stack_t cur;
	sigaltstack(NULL, &cur);
	flags_in_handler = cur.ss_flags;
	stack_t ns = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
	change_errno = sigaltstack(&ns, NULL) == -1 ? errno : 0;
}

static const char *fl(int f)
{
	switch (f) {
	case 0: return "0";
	case SS_ONSTACK: return "SS_ONSTACK";
	case SS_DISABLE: return "SS_DISABLE";
	default: return "other";
	}
}

static char overflow_alt[65536] __attribute__((aligned(16)));

static void on_overflow(int sig)
{
	(void)sig;
	volatile char local;
	_exit((char *)&local >= overflow_alt && (char *)&local < overflow_alt + sizeof overflow_alt ? 7 : 8);
}

static volatile int stop_recursion;

static int recurse(int n)
{
	volatile char buf[1024];
	buf[0] = (char)n;
	if (stop_recursion)
		return 0;
	return recurse(n + 1) + buf[0];
}

static int overflow_child(void)
{
	stack_t ss = { .ss_sp = overflow_alt, .ss_size = sizeof overflow_alt, .ss_flags = 0 };
	CHECK(sigaltstack(&ss, NULL) == 0);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_overflow;
	sa.sa_flags = SA_ONSTACK;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	return recurse(0);
}

int main(void)
{
	stack_t old;
	T_ERRNO("query", sigaltstack(NULL, &old), 0);
	printf("initial flags=%s size=%zu\n", fl(old.ss_flags), old.ss_size);

	stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
	T_ERRNO("install", sigaltstack(&ss, NULL), 0);
	CHECK(sigaltstack(NULL, &old) == 0);
	printf("installed: flags=%s sp_matches=%d size=%zu\n", fl(old.ss_flags), old.ss_sp == alt, old.ss_size);

	struct sigaction sa = { 0 };
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	raise(SIGUSR1);
	printf("SA_ONSTACK handler: on_alt=%d flags=%s change_while_on=%s\n", on_alt, fl(flags_in_handler),
	       t_errname(change_errno));

	sa.sa_flags = 0;
	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
	raise(SIGUSR2);
	printf("plain handler: on_alt=%d flags=%s change=%s\n", on_alt, fl(flags_in_handler), t_errname(change_errno));

	stack_t small = { .ss_sp = alt, .ss_size = 1024, .ss_flags = 0 };
	T_ERRNO("too small", sigaltstack(&small, NULL), ENOMEM);
	stack_t badf = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0x1234 };
	T_ERRNO("bad flags", sigaltstack(&badf, NULL), EINVAL);
	T_ERRNO("bad pointer", sigaltstack((stack_t *)1, NULL), EFAULT);
	stack_t dis = { .ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE };
	T_ERRNO("disable", sigaltstack(&dis, &old), 0);
	printf("old on disable: sp_matches=%d\n", old.ss_sp == alt);
	CHECK(sigaltstack(NULL, &old) == 0);
	printf("after disable: flags=%s\n", fl(old.ss_flags));
	raise(SIGUSR1);
	printf("SA_ONSTACK with no stack: on_alt=%d\n", on_alt);

	printf("stack overflow caught on alt stack: %s\n", t_status(t_in_child(overflow_child)));
	return t_done();
}
