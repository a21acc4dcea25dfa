/* FPU/SSE/AVX state across a signal handler: xmm and ymm registers and the rounding mode are
 * restored at sigreturn; the handler starts with the default rounding mode; the saved MXCSR is
 * visible in the ucontext. */
#include "test_util.h"
#include <cpuid.h>
#include <ucontext.h>

/* MXCSR rounding control (bits 13-14) and the x87 control word's (bits 10-11), set and read
 * directly (fenv.h lives in libm, which the suite does not link). */
enum { RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3 };

static unsigned get_mxcsr(void)
{
	unsigned v;
	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static int get_round(void)
{
	unsigned short cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	int sse = (get_mxcsr() >> 13) & 3, x87 = (cw >> 10) & 3;
	return sse == x87 ? sse : -1;
}

static void set_round(int rc)
{
	unsigned m = (get_mxcsr() & ~(3u << 13)) | ((unsigned)rc << 13);
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
	unsigned short cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	cw = (unsigned short)((cw & ~(3u << 10)) | ((unsigned)rc << 10));
	__asm__ volatile("fldcw %0" : : "m"(cw));
}

static volatile int handler_round_nearest;
static volatile unsigned saved_mxcsr;
static volatile double handler_result;

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	handler_round_nearest = get_round() == RC_NEAREST;
	saved_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
	/* Clobber vector and x87 state. */
	volatile double x = 1.0;
	for (int i = 0; i < 100; i++)
		x = x * 1.0001 + 0.5;
	handler_result = x;
	set_round(RC_ZERO);
	__asm__ volatile("pcmpeqd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm9, %%xmm9\n\tpcmpeqd %%xmm15, %%xmm15" ::
				 : "xmm8", "xmm9", "xmm15");
}

static void on_usr2(int sig)
{
	(void)sig;
	__asm__ volatile("vpcmpeqd %%ymm8, %%ymm8, %%ymm8\n\tvpcmpeqd %%ymm9, %%ymm9, %%ymm9" ::: "xmm8", "xmm9");
}

static int have_avx(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if (!(c & bit_AVX) || !(c & bit_OSXSAVE))
		return 0;
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

int main(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	signal(SIGUSR2, on_usr2);

	unsigned char in[48], out[48];
	for (int i = 0; i < 48; i++)
		in[i] = (unsigned char)(i * 13 + 1);
	set_round(RC_UP);
	pid_t pid = getpid();
	__asm__ volatile("movdqu 0(%0), %%xmm8\n\t"
			 "movdqu 16(%0), %%xmm9\n\t"
			 "movdqu 32(%0), %%xmm15\n\t"
			 "mov $62, %%eax\n\t"
			 "syscall\n\t"
			 "movdqu %%xmm8, 0(%1)\n\t"
			 "movdqu %%xmm9, 16(%1)\n\t"
			 "movdqu %%xmm15, 32(%1)\n\t"
			 :
			 : "r"(in), "r"(out), "D"((long)pid), "S"((long)SIGUSR1)
			 : "rax", "rcx", "r11", "xmm8", "xmm9", "xmm15", "memory");
	printf("xmm preserved=%d\n", memcmp(in, out, 48) == 0);
	printf("rounding after return is upward=%d\n", get_round() == RC_UP);
	printf("handler started with round-to-nearest=%d\n", handler_round_nearest);
	printf("saved mxcsr rounding is upward=%d\n", ((saved_mxcsr >> 13) & 3) == 2);
	set_round(RC_NEAREST);

	/* x87 and SSE arithmetic in flight across a signal. */
	volatile double acc = 0;
	for (int i = 1; i <= 1000; i++) {
		acc += 1.0 / i;
		if (i == 500)
			raise(SIGUSR1);
	}
	printf("harmonic(1000)=%.12f\n", acc);

	if (have_avx()) {
		unsigned char yin[64], yout[64];
		for (int i = 0; i < 64; i++)
			yin[i] = (unsigned char)(200 - i);
		__asm__ volatile("vmovdqu 0(%0), %%ymm8\n\t"
				 "vmovdqu 32(%0), %%ymm9\n\t"
				 "mov $62, %%eax\n\t"
				 "syscall\n\t"
				 "vmovdqu %%ymm8, 0(%1)\n\t"
				 "vmovdqu %%ymm9, 32(%1)\n\t"
				 "vzeroupper\n\t"
				 :
				 : "r"(yin), "r"(yout), "D"((long)pid), "S"((long)SIGUSR2)
				 : "rax", "rcx", "r11", "xmm8", "xmm9", "memory");
		printf("ymm preserved=%d\n", memcmp(yin, yout, 64) == 0);
	} else {
		printf("ymm preserved=1\n"); /* no AVX on this CPU: nothing to check */
	}
	return t_done();
}
