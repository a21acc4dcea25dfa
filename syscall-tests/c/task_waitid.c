/* waitid: CLD_EXITED/CLD_KILLED siginfo, WNOWAIT keeps the zombie, P_ALL, P_PGID, errors. */
#include "test_util.h"

static const char *code_name(int c)
{
	switch (c) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	case CLD_TRAPPED: return "CLD_TRAPPED";
	default: return "?";
	}
}

static int waitid_retry(idtype_t t, id_t id, siginfo_t *si, int opts)
{
	int r;
	do
		r = waitid(t, id, si, opts);
	while (r == -1 && errno == EINTR);
	return r;
}

int main(void)
{
	siginfo_t si;
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(33);

	memset(&si, 0, sizeof si);
	T_ERRNO("waitid WNOWAIT", waitid_retry(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	printf("nowait: signo=%s code=%s status=%d pid_ok=%d uid=%d\n", t_signame(si.si_signo), code_name(si.si_code),
	       si.si_status, si.si_pid == pid, (int)si.si_uid);
	memset(&si, 0, sizeof si);
	T_ERRNO("waitid again reaps", waitid_retry(P_PID, (id_t)pid, &si, WEXITED), 0);
	printf("reaped: code=%s status=%d pid_ok=%d\n", code_name(si.si_code), si.si_status, si.si_pid == pid);
	T_ERRNO("waitid after reap", waitid_retry(P_PID, (id_t)pid, &si, WEXITED), ECHILD);

	/* Killed by a signal. */
	int gate[2];
	CHECK(pipe(gate) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char c;
		close(gate[1]);
		(void)read(gate[0], &c, 1);
		_exit(0);
	}
	close(gate[0]);
	/* WNOHANG on a running child: returns 0 and si_pid is 0. */
	memset(&si, 0xff, sizeof si);
	T_ERRNO("waitid WNOHANG running", waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG), 0);
	printf("wnohang si_pid=%d\n", si.si_pid);
	CHECK(kill(pid, SIGKILL) == 0);
	memset(&si, 0, sizeof si);
	T_ERRNO("waitid killed", waitid_retry(P_PID, (id_t)pid, &si, WEXITED), 0);
	printf("killed: code=%s status=%s\n", code_name(si.si_code), t_signame(si.si_status));
	close(gate[1]);

	/* P_ALL and P_PGID. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(4);
	memset(&si, 0, sizeof si);
	T_ERRNO("waitid P_ALL", waitid_retry(P_ALL, 0, &si, WEXITED), 0);
	printf("p_all: pid_ok=%d status=%d\n", si.si_pid == pid, si.si_status);

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		_exit(5);
	}
	setpgid(pid, pid); /* both sides, to avoid the race */
	memset(&si, 0, sizeof si);
	T_ERRNO("waitid P_PGID", waitid_retry(P_PGID, (id_t)pid, &si, WEXITED), 0);
	printf("p_pgid: pid_ok=%d status=%d\n", si.si_pid == pid, si.si_status);

	T_ERRNO("waitid no options", waitid(P_ALL, 0, &si, 0), EINVAL);
	T_ERRNO("waitid bad idtype", waitid((idtype_t)42, 0, &si, WEXITED), EINVAL);
	T_ERRNO("waitid no children", waitid(P_ALL, 0, &si, WEXITED), ECHILD);
	return t_done();
}
