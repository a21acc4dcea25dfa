/* The signal frame: a handler edits registers and rip in the ucontext and rt_sigreturn applies
 * them; uc_sigmask is the interrupted mask and editing it changes the mask after return;
 * trapno/err/cr2 for a page fault; callee-saved registers survive a signal. */
#include "test_util.h"
#include <setjmp.h>
#include <ucontext.h>

static volatile int mask_had_hup, mask_had_ill;
static volatile long long trapno, err, cr2_ok;
static volatile int stack_flags;

static void on_ill(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	ucontext_t *uc = ucv;
	mask_had_hup = sigismember(&uc->uc_sigmask, SIGHUP);
	mask_had_ill = sigismember(&uc->uc_sigmask, SIGILL);
	stack_flags = uc->uc_stack.ss_flags;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	if ((void *)uc->uc_mcontext.gregs[REG_RIP] != si->si_addr)
		_exit(50);
	uc->uc_mcontext.gregs[REG_RIP] += 2; /* skip ud2 */
	uc->uc_mcontext.gregs[REG_RCX] = 0x1234;
	sigaddset(&uc->uc_sigmask, SIGUSR2);
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	ucontext_t *uc = ucv;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	err = uc->uc_mcontext.gregs[REG_ERR];
	cr2_ok = (void *)uc->uc_mcontext.gregs[REG_CR2] == si->si_addr;
	/* Resume after the 3-byte "movl %eax,(%rdx)"... instead jump over via the rip in rbx. */
	uc->uc_mcontext.gregs[REG_RIP] = uc->uc_mcontext.gregs[REG_RBX];
}

static void on_usr1(int sig)
{
	(void)sig;
	/* Clobber callee-saved registers; the frame must restore them. */
	__asm__ volatile("mov $-1, %%r12\n\tmov $-1, %%r13\n\tmov $-1, %%r14\n\tmov $-1, %%r15\n\tmov $-1, %%rbx" ::
				 : "r12", "r13", "r14", "r15", "rbx");
}

int main(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_ill;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGILL, &sa, NULL) == 0);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGHUP);
	CHECK(sigprocmask(SIG_BLOCK, &m, NULL) == 0);

	long out;
	__asm__ volatile("xor %%ecx, %%ecx\n\tud2\n\tmov %%rcx, %0" : "=r"(out) : : "rcx");
	printf("rcx_set_by_handler=%d rip_skipped=1\n", out == 0x1234);
	printf("uc_sigmask: hup=%d ill=%d; uc_stack.ss_flags=%d trapno=%lld\n", mask_had_hup, mask_had_ill,
	       stack_flags, trapno);
	sigset_t cur;
	CHECK(sigprocmask(SIG_BLOCK, NULL, &cur) == 0);
	printf("after return: usr2 blocked=%d hup blocked=%d ill blocked=%d\n", sigismember(&cur, SIGUSR2),
	       sigismember(&cur, SIGHUP), sigismember(&cur, SIGILL));

	sa.sa_sigaction = on_segv;
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	/* A user-mode write to an unmapped page; the handler resumes at label 1 (in rbx). */
	__asm__ volatile("lea 1f(%%rip), %%rbx\n\t"
			 "mov $0x1000, %%rdx\n\t"
			 "movl $7, (%%rdx)\n\t"
			 "1:\n\t" ::
				 : "rbx", "rdx", "memory");
	printf("page fault: trapno=%lld err=%lld cr2_is_si_addr=%lld\n", trapno, err, cr2_ok);

	signal(SIGUSR1, on_usr1);
	unsigned long regs[5];
	pid_t pid = getpid();
	__asm__ volatile("mov $0x1111, %%r12\n\t"
			 "mov $0x2222, %%r13\n\t"
			 "mov $0x3333, %%r14\n\t"
			 "mov $0x4444, %%r15\n\t"
			 "mov $0x5555, %%rbx\n\t"
			 "mov $62, %%eax\n\t" /* kill(pid, SIGUSR1) */
			 "syscall\n\t"
			 "mov %%r12, 0(%1)\n\t"
			 "mov %%r13, 8(%1)\n\t"
			 "mov %%r14, 16(%1)\n\t"
			 "mov %%r15, 24(%1)\n\t"
			 "mov %%rax, 32(%1)\n\t"
			 :
			 : "D"((long)pid), "r"(regs), "S"((long)SIGUSR1)
			 : "rax", "rcx", "r11", "r12", "r13", "r14", "r15", "rbx", "memory");
	printf("registers kept across handler=%d syscall_result=%ld\n",
	       regs[0] == 0x1111 && regs[1] == 0x2222 && regs[2] == 0x3333 && regs[3] == 0x4444, (long)regs[4]);
	return t_done();
}
