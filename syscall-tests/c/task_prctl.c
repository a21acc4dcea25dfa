/* prctl: PR_SET_NAME/GET_NAME (per thread, truncation), NO_NEW_PRIVS, DUMPABLE, PDEATHSIG
 * get/set, KEEPCAPS, errors. */
#include "test_util.h"
#include <pthread.h>
#include <sys/prctl.h>

static char thread_name[32];

static void *thr(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "worker", 0, 0, 0);
	prctl(PR_GET_NAME, thread_name, 0, 0, 0);
	return NULL;
}

static int nnp_child(void)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return 2;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 3;
	/* It cannot be unset. */
	errno = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) != -1 || errno != EINVAL)
		return 4;
	errno = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0) != -1 || errno != EINVAL)
		return 5;
	/* Inherited by children. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
	int st = t_wait(pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 6;
}

int main(void)
{
	char name[32] = { 0 };
	T_ERRNO("PR_SET_NAME", prctl(PR_SET_NAME, "rvisor-test", 0, 0, 0), 0);
	T_ERRNO("PR_GET_NAME", prctl(PR_GET_NAME, name, 0, 0, 0), 0);
	printf("name=%s\n", name);
	T_ERRNO("PR_SET_NAME long", prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz", 0, 0, 0), 0);
	memset(name, 'X', sizeof name);
	CHECK(prctl(PR_GET_NAME, name, 0, 0, 0) == 0);
	printf("truncated name=%s len=%zu\n", name, strlen(name));

	pthread_t t;
	CHECK(pthread_create(&t, NULL, thr, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(prctl(PR_GET_NAME, name, 0, 0, 0) == 0);
	printf("thread name=%s main name unchanged=%d\n", thread_name, strcmp(name, "abcdefghijklmno") == 0);
	char pname[32] = { 0 };
	CHECK(pthread_getname_np(pthread_self(), pname, sizeof pname) == 0);
	printf("pthread_getname_np matches=%d\n", strcmp(pname, name) == 0);

	printf("no_new_privs child: %s\n", t_status(t_in_child(nnp_child)));

	printf("dumpable initially=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	T_ERRNO("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), 0);
	printf("dumpable=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	T_ERRNO("PR_SET_DUMPABLE 1", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	printf("dumpable=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	T_ERRNO("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);

	int sig = -1;
	T_ERRNO("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0), 0);
	printf("pdeathsig initially=%d\n", sig);
	T_ERRNO("PR_SET_PDEATHSIG SIGUSR2", prctl(PR_SET_PDEATHSIG, SIGUSR2, 0, 0, 0), 0);
	CHECK(prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0);
	printf("pdeathsig=%s\n", t_signame(sig));
	T_ERRNO("PR_SET_PDEATHSIG 0", prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0), 0);
	T_ERRNO("PR_SET_PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL);
	T_ERRNO("PR_GET_PDEATHSIG bad pointer", prctl(PR_GET_PDEATHSIG, (int *)1, 0, 0, 0), EFAULT);

	printf("keepcaps initially=%d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	T_ERRNO("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
	T_ERRNO("unknown option", prctl(0x7fff1234, 0, 0, 0, 0), EINVAL);
	return t_done();
}
