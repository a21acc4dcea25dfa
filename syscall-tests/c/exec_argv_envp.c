/* execve: argv and envp arrive exactly (empty strings, spaces, many/long arguments), the pid is
 * kept, and the auxiliary vector is sane. The test execs itself to take the second role. */
#include "test_util.h"
#include <sys/auxv.h>

extern char **environ;

static int child_role(int argc, char **argv)
{
	printf("child argc=%d\n", argc);
	for (int i = 2; i < argc && i < 6; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	if (argc > 6) {
		size_t total = 0;
		for (int i = 6; i < argc; i++)
			total += strlen(argv[i]);
		printf("argv[6..] total length=%zu\n", total);
	}
	printf("argv[argc] is NULL=%d\n", argv[argc] == NULL);
	int n = 0;
	for (char **e = environ; *e; e++, n++)
		printf("env[%d]=[%s]\n", n, *e);
	printf("getenv FOO=[%s] MISSING is NULL=%d\n", getenv("FOO") ? getenv("FOO") : "(unset)", getenv("MISSING") == NULL);
	printf("pid kept=%d\n", atoi(argv[1]) == getpid());
	printf("auxv: pagesz=%lu random_set=%d uid=%lu euid=%lu secure=%lu execfn_matches_argv0=%d\n", getauxval(AT_PAGESZ),
	       getauxval(AT_RANDOM) != 0, getauxval(AT_UID), getauxval(AT_EUID), getauxval(AT_SECURE),
	       getauxval(AT_EXECFN) != 0 && strcmp((char *)getauxval(AT_EXECFN), argv[0]) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	/* The second role is told apart by its first argument: the pid, as digits. */
	if (argc >= 2 && argv[1][0] >= '0' && argv[1][0] <= '9')
		return child_role(argc, argv);

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char pidbuf[16];
		snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
		char *args[] = { argv[0], pidbuf, "", "two words", "tab\there", "x", NULL };
		char *env[] = { "FOO=bar", "EMPTY=", "WITH=equals=sign", NULL };
		execve(argv[0], args, env);
		_exit(99);
	}
	printf("first exec: %s\n", t_status(t_wait(pid)));

	/* Many long arguments and an empty environment. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		static char big[64][4097];
		char *args[6 + 64 + 1];
		char pidbuf[16];
		snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
		args[0] = argv[0];
		args[1] = pidbuf;
		args[2] = "a";
		args[3] = "b";
		args[4] = "c";
		args[5] = "d";
		for (int i = 0; i < 64; i++) {
			memset(big[i], 'a' + i % 26, 4096);
			big[i][4096] = 0;
			args[6 + i] = big[i];
		}
		args[6 + 64] = NULL;
		char *env[] = { NULL };
		execve(argv[0], args, env);
		_exit(99);
	}
	printf("second exec: %s\n", t_status(t_wait(pid)));
	return t_done();
}
