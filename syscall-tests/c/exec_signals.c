/* Signals across execve: handled signals reset to SIG_DFL, ignored stay ignored, the mask and
 * pending signals are kept (a pending SIGTERM kills the new image once unblocked), the
 * alternate stack is dropped. */
#include "test_util.h"

static void handler(int sig)
{
	(void)sig;
}

static const char *disp(int sig)
{
	struct sigaction sa;
	CHECK(sigaction(sig, NULL, &sa) == 0);
	if (sa.sa_handler == SIG_DFL)
		return "SIG_DFL";
	if (sa.sa_handler == SIG_IGN)
		return "SIG_IGN";
	return "handler";
}

static int child_role(void)
{
	printf("after exec: USR1=%s USR2=%s HUP=%s CHLD=%s\n", disp(SIGUSR1), disp(SIGUSR2), disp(SIGHUP), disp(SIGCHLD));
	sigset_t m, p;
	sigprocmask(SIG_BLOCK, NULL, &m);
	sigpending(&p);
	printf("mask kept: TERM=%d INT=%d; pending kept: TERM=%d\n", sigismember(&m, SIGTERM), sigismember(&m, SIGINT),
	       sigismember(&p, SIGTERM));
	stack_t ss;
	sigaltstack(NULL, &ss);
	printf("altstack disabled=%d\n", ss.ss_flags == SS_DISABLE);
	/* The pending SIGTERM kills us when unblocked, since the handler is gone. */
	sigset_t t;
	sigemptyset(&t);
	sigaddset(&t, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &t, NULL);
	printf("not reached\n");
	return 3;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child_role();

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		signal(SIGUSR1, handler);
		signal(SIGUSR2, SIG_IGN);
		signal(SIGHUP, handler);
		signal(SIGTERM, handler);
		signal(SIGCHLD, SIG_IGN);
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGTERM);
		sigaddset(&m, SIGINT);
		sigprocmask(SIG_BLOCK, &m, NULL);
		raise(SIGTERM);
		static char alt[65536];
		stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
		CHECK(sigaltstack(&ss, NULL) == 0);
		printf("before exec: USR1=%s USR2=%s HUP=%s CHLD=%s\n", disp(SIGUSR1), disp(SIGUSR2), disp(SIGHUP),
		       disp(SIGCHLD));
		char *args[] = { argv[0], "child", NULL };
		execv(argv[0], args);
		_exit(99);
	}
	printf("child: %s\n", t_status(t_wait(pid)));
	return t_done();
}
