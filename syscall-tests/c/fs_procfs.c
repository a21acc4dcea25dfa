/* /proc: the calling process's own view (self links, status, stat, cmdline, environ, fd/,
 * maps, task/), another process's directory, system files and errno cases. */
#include "test_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

extern char **environ;

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap + 1);
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	b[n] = 0;
	if (len)
		*len = n;
	return b;
}

/* The value after "Key:\t" in a status file, as a number. */
static long status_field(const char *status, const char *key)
{
	const char *p = strstr(status, key);
	if (!p)
		return -1;
	return strtol(p + strlen(key) + 1, NULL, 10);
}

static int dir_has(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int found = 0;
	while ((e = readdir(d)))
		found |= strcmp(e->d_name, name) == 0;
	closedir(d);
	return found;
}

static volatile int thread_go;
static pid_t thread_tid;

static void *thr(void *a)
{
	(void)a;
	thread_tid = (pid_t)syscall(SYS_gettid);
	while (!thread_go)
		usleep(1000);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	char buf[PATH_MAX], want[PATH_MAX];
	pid_t me = getpid();

	/* The initial environment, as the kernel laid it out, before anything changes it. */
	size_t envlen = 0;
	for (char **e = environ; *e; e++)
		envlen += strlen(*e) + 1;
	char *envblock = malloc(envlen + 1), *q = envblock;
	for (char **e = environ; *e; e++)
		q = stpcpy(q, *e) + 1;

	ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n] = 0;
	snprintf(want, sizeof want, "%d", me);
	printf("self link names our pid: %d\n", strcmp(buf, want) == 0);
	n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n] = 0;
	CHECK(realpath(argv[0], want));
	printf("exe link is the program: %d\n", strcmp(buf, want) == 0);
	CHECK(chdir("/tmp") == 0);
	n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("cwd link: %s\n", buf);
	n = readlink("/proc/self/root", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("root link: %s\n", buf);

	CHECK(prctl(PR_SET_NAME, "procfs-test") == 0);
	char *st = slurp("/proc/self/status", NULL);
	CHECK(st);
	printf("status name: %d\n", strncmp(st, "Name:\tprocfs-test\n", 18) == 0);
	printf("status ids: pid=%d ppid=%d tgid=%d uid=%d\n", status_field(st, "\nPid:") == me,
	       status_field(st, "\nPPid:") == getppid(), status_field(st, "\nTgid:") == me,
	       status_field(st, "\nUid:") == (long)getuid());
	printf("status threads: %ld\n", status_field(st, "\nThreads:"));
	printf("status has VmRSS and SigBlk: %d\n", strstr(st, "\nVmRSS:") && strstr(st, "\nSigBlk:"));

	char *sp = slurp("/proc/self/stat", NULL);
	CHECK(sp);
	int spid, sppid, spgrp, ssid;
	char comm[64], state;
	CHECK(sscanf(sp, "%d (%63[^)]) %c %d %d %d", &spid, comm, &state, &sppid, &spgrp, &ssid) == 6);
	printf("stat: pid=%d comm=%s state=%c ppid=%d pgrp=%d sid=%d\n", spid == me, comm, state,
	       sppid == getppid(), spgrp == getpgrp(), ssid == getsid(0));

	size_t len;
	char *cl = slurp("/proc/self/cmdline", &len);
	CHECK(cl);
	printf("cmdline is argv: %d\n", len == strlen(argv[0]) + 1 && strcmp(cl, argv[0]) == 0);
	char *env = slurp("/proc/self/environ", &len);
	CHECK(env);
	printf("environ is the initial environment: %d\n",
	       len == envlen && memcmp(env, envblock, envlen) == 0);

	/* fd/: the pipe, the directory being read, magic links that reopen. */
	int p[2];
	CHECK(pipe(p) == 0);
	char name[32];
	snprintf(name, sizeof name, "%d", p[1]);
	printf("fd dir lists the pipe: %d\n", dir_has("/proc/self/fd", name));
	DIR *d = opendir("/proc/self/fd");
	CHECK(d);
	snprintf(name, sizeof name, "%d", dirfd(d));
	int self_listed = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		self_listed |= strcmp(e->d_name, name) == 0;
	closedir(d);
	printf("fd dir lists its own descriptor: %d\n", self_listed);
	snprintf(want, sizeof want, "/proc/self/fd/%d", p[0]);
	n = readlink(want, buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n] = 0;
	struct stat ps;
	CHECK(fstat(p[0], &ps) == 0);
	snprintf(name, sizeof name, "pipe:[%lu]", (unsigned long)ps.st_ino);
	printf("pipe link names the pipe inode: %d\n", strcmp(buf, name) == 0);
	struct stat ls, fs;
	CHECK(lstat(want, &ls) == 0 && stat(want, &fs) == 0);
	printf("fd link: lstat link=%d stat fifo=%d\n", S_ISLNK(ls.st_mode), S_ISFIFO(fs.st_mode));
	snprintf(want, sizeof want, "/proc/self/fd/%d", p[1]);
	int w = open(want, O_WRONLY);
	CHECK(w >= 0);
	CHECK(write(w, "hi", 2) == 2);
	char two[2];
	CHECK(read(p[0], two, 2) == 2);
	printf("reopened pipe carries data: %d\n", memcmp(two, "hi", 2) == 0);
	snprintf(want, sizeof want, "/proc/self/fdinfo/%d", p[0]);
	char *fi = slurp(want, NULL);
	printf("fdinfo has pos and flags: %d\n", fi && strncmp(fi, "pos:\t0\nflags:\t", 14) == 0);

	/* maps follows mmap and mprotect. */
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	char line[64];
	snprintf(line, sizeof line, "%08lx-%08lx rw-p ", (unsigned long)m, (unsigned long)m + 8192);
	char *maps = slurp("/proc/self/maps", NULL);
	printf("maps shows the mapping: %d\n", maps && strstr(maps, line) != NULL);
	CHECK(mprotect(m, 4096, PROT_READ) == 0);
	snprintf(line, sizeof line, "%08lx-%08lx r--p ", (unsigned long)m, (unsigned long)m + 4096);
	maps = slurp("/proc/self/maps", NULL);
	printf("maps shows mprotect: %d\n", maps && strstr(maps, line) != NULL);

	/* task/ lists a running thread. */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, thr, NULL) == 0);
	while (!thread_tid)
		usleep(1000);
	snprintf(name, sizeof name, "%d", thread_tid);
	printf("task lists the thread: %d main: %d\n", dir_has("/proc/self/task", name),
	       dir_has("/proc/self/task", want + 0 * snprintf(want, sizeof want, "%d", me)));
	snprintf(want, sizeof want, "/proc/self/task/%d/stat", thread_tid);
	char *ts = slurp(want, NULL);
	printf("thread stat names the thread: %d\n", ts && atoi(ts) == thread_tid);
	thread_go = 1;
	pthread_join(th, NULL);

	/* Another process. */
	int go[2];
	CHECK(pipe(go) == 0);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		prctl(PR_SET_NAME, "child-proc");
		char x;
		CHECK(write(go[1], "r", 1) == 1);
		pause();
		(void)x;
		_exit(0);
	}
	char r;
	CHECK(read(go[0], &r, 1) == 1);
	snprintf(want, sizeof want, "/proc/%d/status", c);
	char *cs = slurp(want, NULL);
	printf("child status: name=%d ppid=%d\n", cs && strncmp(cs, "Name:\tchild-proc\n", 17) == 0,
	       cs && status_field(cs, "\nPPid:") == me);
	snprintf(name, sizeof name, "%d", c);
	printf("/proc lists the child: %d and self: %d\n", dir_has("/proc", name), dir_has("/proc", "self"));
	kill(c, SIGKILL);
	t_wait(c);
	struct stat cst;
	snprintf(want, sizeof want, "/proc/%d", c);
	errno = 0;
	printf("reaped child's directory: %s\n", t_errname(stat(want, &cst) == 0 ? 0 : errno));

	/* System files. */
	struct utsname u;
	CHECK(uname(&u) == 0);
	char *hn = slurp("/proc/sys/kernel/hostname", NULL);
	printf("hostname matches uname: %d\n", hn && strncmp(hn, u.nodename, strlen(u.nodename)) == 0);
	char *rel = slurp("/proc/sys/kernel/osrelease", NULL);
	printf("osrelease matches uname: %d\n", rel && strncmp(rel, u.release, strlen(u.release)) == 0);
	char *pm = slurp("/proc/sys/kernel/pid_max", NULL);
	printf("pid_max positive: %d\n", pm && atol(pm) > 0);
	char *up = slurp("/proc/uptime", NULL);
	printf("uptime positive: %d\n", up && atof(up) > 0);
	char *mi = slurp("/proc/meminfo", NULL);
	printf("meminfo starts with MemTotal: %d\n", mi && strncmp(mi, "MemTotal:", 9) == 0);
	char *la = slurp("/proc/loadavg", NULL);
	float l1, l5, l15;
	int run, tot, last;
	printf("loadavg fields: %d\n", la && sscanf(la, "%f %f %f %d/%d %d", &l1, &l5, &l15, &run, &tot, &last) == 6);
	char *ps_ = slurp("/proc/stat", NULL);
	printf("stat has btime: %d\n", ps_ && strstr(ps_, "\nbtime ") != NULL);
	char *mounts = slurp("/proc/self/mounts", NULL);
	printf("mounts has proc: %d\n", mounts && strstr(mounts, " /proc proc ") != NULL);

	/* Types and errno. */
	struct stat s1;
	CHECK(lstat("/proc/self", &s1) == 0);
	printf("lstat self: link=%d\n", S_ISLNK(s1.st_mode));
	CHECK(stat("/proc/self", &s1) == 0);
	printf("stat self: dir=%d\n", S_ISDIR(s1.st_mode));
	struct statfs sf;
	CHECK(statfs("/proc", &sf) == 0);
	printf("statfs magic is proc: %d\n", sf.f_type == 0x9fa0);
	errno = 0;
	printf("mkdir /proc/x: %s\n", t_errname(mkdir("/proc/x", 0755) == 0 ? 0 : errno));
	errno = 0;
	printf("unlink status: %s\n", t_errname(unlink("/proc/self/status") == 0 ? 0 : errno));
	errno = 0;
	printf("open missing: %s\n", t_errname(open("/proc/no-such-file", O_RDONLY) >= 0 ? 0 : errno));
	errno = 0;
	printf("open file as dir: %s\n",
	       t_errname(open("/proc/self/status", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : errno));
	errno = 0;
	printf("open self nofollow: %s\n",
	       t_errname(open("/proc/self", O_RDONLY | O_NOFOLLOW) >= 0 ? 0 : errno));
	return t_failures ? 1 : 0;
}
