/* Job control: SIGSTOP/SIGTSTP stop, SIGCONT continues (and runs a handler), waitpid
 * WUNTRACED/WCONTINUED and waitid WSTOPPED/WCONTINUED, a signal sent while stopped acts after
 * SIGCONT, SIGKILL ends a stopped process. */
#include "test_util.h"

static int report_fd;

static void on_cont(int sig)
{
	(void)sig;
	char c = 'C';
	(void)write(report_fd, &c, 1);
}

static pid_t spawn(int rep[2])
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		report_fd = rep[1];
		signal(SIGCONT, on_cont);
		char c = 'R';
		CHECK(write(rep[1], &c, 1) == 1);
		for (;;)
			pause();
	}
	char c;
	CHECK(read(rep[0], &c, 1) == 1 && c == 'R');
	return pid;
}

int main(void)
{
	int rep[2];
	CHECK(pipe(rep) == 0);
	pid_t pid = spawn(rep);
	int st;

	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid);
	printf("after SIGSTOP: %s\n", t_status(st));
	printf("stop reported once: second WUNTRACED|WNOHANG returns 0=%d\n", waitpid(pid, &st, WUNTRACED | WNOHANG) == 0);
	CHECK(kill(pid, SIGCONT) == 0);
	CHECK(waitpid(pid, &st, WCONTINUED) == pid);
	printf("after SIGCONT: %s\n", t_status(st));
	char c;
	CHECK(read(rep[0], &c, 1) == 1);
	printf("SIGCONT handler ran=%d\n", c == 'C');

	CHECK(kill(pid, SIGTSTP) == 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, (id_t)pid, &si, WSTOPPED) == 0);
	printf("waitid WSTOPPED: code_stopped=%d status=%s\n", si.si_code == CLD_STOPPED, t_signame(si.si_status));

	/* SIGTERM while stopped stays pending: the child is still there. */
	CHECK(kill(pid, SIGTERM) == 0);
	usleep(20000);
	printf("still there while stopped: WNOHANG returns 0=%d\n", waitpid(pid, &st, WNOHANG) == 0);
	CHECK(kill(pid, SIGCONT) == 0);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED) == 0);
	printf("after SIGCONT the pending SIGTERM acts: code_killed=%d status=%s\n", si.si_code == CLD_KILLED,
	       t_signame(si.si_status));

	/* SIGKILL ends a stopped process. */
	close(rep[0]);
	close(rep[1]);
	CHECK(pipe(rep) == 0);
	pid = spawn(rep);
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(waitpid(pid, &st, WUNTRACED) == pid);
	CHECK(kill(pid, SIGKILL) == 0);
	printf("SIGKILL while stopped: %s\n", t_status(t_wait(pid)));
	return t_done();
}
