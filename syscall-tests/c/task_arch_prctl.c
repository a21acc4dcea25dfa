/* arch_prctl: ARCH_GET_FS is the thread pointer, ARCH_SET_FS/GS take effect for %fs/%gs
 * loads, per-thread values, errors. */
#include "test_util.h"
#include <asm/prctl.h>
#include <pthread.h>

static inline __attribute__((always_inline)) long raw_arch_prctl(long code, unsigned long addr)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_arch_prctl), "D"(code), "S"(addr)
			 : "rcx", "r11", "memory");
	return ret;
}

struct fake_tcb {
	unsigned long self;
	unsigned long magic;
};

static unsigned long thread_fs;

static void *thr(void *arg)
{
	(void)arg;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &thread_fs);
	return NULL;
}

int main(void)
{
	unsigned long fs = 0;
	T_ERRNO("ARCH_GET_FS", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	printf("fs_is_pthread_self=%d\n", fs == (unsigned long)pthread_self());
	unsigned long self_ptr;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self_ptr));
	printf("fs:0_is_fs=%d\n", self_ptr == fs);

	/* Switch %fs to our own block, read through it, switch back: no libc in between. */
	static struct fake_tcb fake = { 0, 0x5eed1234abcdULL };
	fake.self = (unsigned long)&fake;
	unsigned long magic = 0, got_fs = 0;
	long r1 = raw_arch_prctl(ARCH_SET_FS, (unsigned long)&fake);
	__asm__ volatile("mov %%fs:8, %0" : "=r"(magic));
	long r2 = raw_arch_prctl(ARCH_GET_FS, (unsigned long)&got_fs);
	long r3 = raw_arch_prctl(ARCH_SET_FS, fs);
	printf("set_fs=%ld read_through_fs=%d get_after_set=%d restore=%ld\n", r1, magic == fake.magic,
	       got_fs == (unsigned long)&fake, r3);
	(void)r2;

	static struct fake_tcb gblock = { 0, 0xfeedf00dULL };
	T_ERRNO("ARCH_SET_GS", syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)&gblock), 0);
	unsigned long gmagic = 0, gs = 0;
	__asm__ volatile("mov %%gs:8, %0" : "=r"(gmagic));
	T_ERRNO("ARCH_GET_GS", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), 0);
	printf("read_through_gs=%d get_gs=%d\n", gmagic == gblock.magic, gs == (unsigned long)&gblock);

	pthread_t t;
	CHECK(pthread_create(&t, NULL, thr, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	printf("thread_fs_distinct=%d thread_fs_is_its_self=%d\n", thread_fs != fs && thread_fs != 0,
	       thread_fs == (unsigned long)t);

	T_ERRNO("ARCH_SET_FS non-canonical", syscall(SYS_arch_prctl, ARCH_SET_FS, 0x8000000000000000UL), EPERM);
	T_ERRNO("ARCH_GET_FS bad pointer", syscall(SYS_arch_prctl, ARCH_GET_FS, 1UL), EFAULT);
	T_ERRNO("unknown code", syscall(SYS_arch_prctl, 0x1fff, 0UL), EINVAL);
	return t_done();
}
