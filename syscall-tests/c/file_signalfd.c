/* signalfd: reading a blocked pending signal as a signalfd_siginfo (signo, code, pid, value),
 * consuming it, nonblocking EAGAIN, poll, changing the mask on an existing fd, errors. */
#include "test_util.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>

int main(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGRTMIN);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);
	int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK(fd >= 0);
	struct signalfd_siginfo si;
	T_ERRNO("read nothing pending", read(fd, &si, sizeof si), EAGAIN);
	struct pollfd pf = { fd, POLLIN, 0 };
	printf("poll idle=%d\n", poll(&pf, 1, 0));

	CHECK(kill(getpid(), SIGUSR1) == 0);
	printf("poll pending=%d\n", poll(&pf, 1, 0));
	memset(&si, 0, sizeof si);
	printf("read=%zd\n", read(fd, &si, sizeof si));
	printf("signo=%s code_user=%d pid_is_self=%d uid=%u\n", t_signame((int)si.ssi_signo), si.ssi_code == SI_USER,
	       si.ssi_pid == (uint32_t)getpid(), si.ssi_uid);
	sigset_t p;
	sigpending(&p);
	printf("consumed=%d\n", !sigismember(&p, SIGUSR1));

	union sigval v = { .sival_int = 77 };
	CHECK(sigqueue(getpid(), SIGRTMIN, v) == 0);
	CHECK(sigqueue(getpid(), SIGRTMIN, v) == 0);
	struct signalfd_siginfo two[2];
	ssize_t r = read(fd, two, sizeof two);
	printf("read two at once=%zd values=%d,%d\n", r, two[0].ssi_int, two[1].ssi_int);
	T_ERRNO("short buffer", read(fd, &si, 10), EINVAL);

	/* Change the mask of the existing fd. */
	sigset_t m2;
	sigemptyset(&m2);
	sigaddset(&m2, SIGUSR2);
	CHECK(sigprocmask(SIG_BLOCK, &m2, NULL) == 0);
	printf("same fd returned=%d\n", signalfd(fd, &m2, 0) == fd);
	raise(SIGUSR1);
	T_ERRNO("USR1 no longer in mask", read(fd, &si, sizeof si), EAGAIN);
	raise(SIGUSR2);
	r = read(fd, &si, sizeof si);
	printf("read USR2=%zd signo=%s\n", r, t_signame((int)si.ssi_signo));

	/* A blocking signalfd woken by a child's signal. */
	int b = signalfd(-1, &m, 0);
	CHECK(b >= 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(20000);
		kill(parent, SIGRTMIN);
		_exit(0);
	}
	sigset_t p2;
	sigpending(&p2);
	printf("USR1 still pending=%d\n", sigismember(&p2, SIGUSR1));
	printf("blocking read=%zd\n", read(b, &si, sizeof si));
	printf("first is the older USR1=%s\n", t_signame((int)si.ssi_signo));
	r = read(b, &si, sizeof si);
	printf("then=%zd %s pid_is_child=%d\n", r, t_signame((int)si.ssi_signo), si.ssi_pid == (uint32_t)pid);
	t_wait(pid);

	T_ERRNO("bad flags", signalfd(-1, &m, 0x1), EINVAL);
	T_ERRNO("not a signalfd", signalfd(0, &m, 0), EINVAL);
	T_ERRNO("bad sizemask", syscall(SYS_signalfd4, -1, &m, 4, 0), EINVAL);
	return t_done();
}
