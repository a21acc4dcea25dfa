/* getpid()/getppid() called many times from the same call sites (which rvisor rewrites into
 * trampolines after the first trap) stay right across fork, vfork, CLONE_VM children,
 * reparenting, code moved by mremap and code rewritten by the program itself. */
#include "test_util.h"
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>

static pid_t loop_pid(int n)
{
	pid_t p = getpid();
	for (int i = 0; i < n; i++)
		if (getpid() != p)
			return -1;
	return p;
}

static pid_t loop_ppid(int n)
{
	pid_t p = getppid();
	for (int i = 0; i < n; i++)
		if (getppid() != p)
			return -1;
	return p;
}

static volatile pid_t vf_pid, vf_ppid;

static int clone_child(void *arg)
{
	(void)arg;
	pid_t raw = (pid_t)syscall(SYS_getpid);
	for (int i = 0; i < 10000; i++)
		if (getpid() != raw)
			return 1;
	return 0;
}

typedef long (*fn_t)(void);

int main(void)
{
	pid_t me = loop_pid(1000);
	pid_t parent = loop_ppid(1000);
	printf("stable: pid=%d ppid=%d\n", me == (pid_t)syscall(SYS_getpid),
	       parent == (pid_t)syscall(SYS_getppid));

	/* fork: the child answers with its own ids at once. */
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		pid_t v[2] = { loop_pid(1000), loop_ppid(1000) };
		CHECK(write(p[1], v, sizeof v) == sizeof v);
		_exit(0);
	}
	pid_t v[2];
	CHECK(read(p[0], v, sizeof v) == sizeof v);
	t_wait(c);
	printf("fork child: pid=%d ppid=%d\n", v[0] == c, v[1] == me);
	printf("parent after fork: pid=%d\n", loop_pid(100) == me);

	/* vfork: the child runs in our address space but is another process. */
	c = vfork();
	CHECK(c >= 0);
	if (c == 0) {
		vf_pid = getpid();
		vf_ppid = getppid();
		_exit(0);
	}
	t_wait(c);
	printf("vfork child: pid=%d ppid=%d\n", vf_pid == c, vf_ppid == me);
	printf("parent after vfork: pid=%d\n", loop_pid(100) == me);

	/* clone(CLONE_VM) without CLONE_THREAD, both sides calling getpid at once. */
	size_t sz = 256 * 1024;
	char *stk = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(stk != MAP_FAILED);
	c = clone(clone_child, stk + sz, CLONE_VM | SIGCHLD, NULL);
	CHECK(c > 0);
	int bad = 0;
	for (int i = 0; i < 10000; i++)
		bad |= getpid() != me;
	int st;
	CHECK(waitpid(c, &st, 0) == c);
	printf("clone_vm: child_ok=%d parent_ok=%d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0, !bad);
	printf("parent after clone_vm: pid=%d\n", loop_pid(100) == me);

	/* Reparenting: a grandchild polling getppid() sees its parent die. */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	int q[2];
	CHECK(pipe(q) == 0);
	c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		pid_t mid = getpid();
		pid_t g = fork();
		CHECK(g >= 0);
		if (g == 0) {
			alarm(60); /* a watchdog, not a time limit: the loop must end */
			pid_t first = loop_ppid(100);
			CHECK(write(q[1], &first, sizeof first) == sizeof first);
			pid_t now;
			while ((now = getppid()) == mid)
				;
			CHECK(write(q[1], &now, sizeof now) == sizeof now);
			_exit(0);
		}
		pid_t first;
		CHECK(read(q[0], &first, sizeof first) == sizeof first);
		_exit(first == mid ? 0 : 3);
	}
	close(q[1]);
	t_wait(c);
	pid_t now;
	CHECK(read(q[0], &now, sizeof now) == sizeof now);
	printf("reparented to subreaper: %d\n", now == me);
	CHECK(wait(&st) > 0);
	printf("grandchild exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	/* Code that moves, and code the program rewrites. */
	static const unsigned char getppid_code[] = { 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	static const unsigned char getpid_code[] = { 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(code != MAP_FAILED);
	memcpy(code, getppid_code, sizeof getppid_code);
	int ok = 1;
	for (int i = 0; i < 100; i++)
		ok &= ((fn_t)code)() == (long)getppid();
	printf("jit getppid: %d\n", ok);
	unsigned char *dest = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(dest != MAP_FAILED);
	unsigned char *moved = mremap(code, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dest + 4096);
	CHECK(moved == dest + 4096);
	printf("moved code intact: %d\n", memcmp(moved, getppid_code, sizeof getppid_code) == 0);
	ok = 1;
	for (int i = 0; i < 100; i++)
		ok &= ((fn_t)moved)() == (long)getppid();
	printf("moved getppid: %d\n", ok);
	memcpy(moved, getpid_code, sizeof getpid_code);
	ok = 1;
	for (int i = 0; i < 100; i++)
		ok &= ((fn_t)moved)() == (long)me;
	printf("rewritten to getpid: %d\n", ok);
	return t_failures ? 1 : 0;
}
