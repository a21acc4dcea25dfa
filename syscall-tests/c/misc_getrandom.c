/* getrandom: sizes, flags (GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE), zero length, errors. */
#include "test_util.h"
#include <sys/random.h>

int main(void)
{
	unsigned char a[256], b[256];
	printf("getrandom 256=%zd\n", getrandom(a, sizeof a, 0));
	printf("getrandom 256 again=%zd\n", getrandom(b, sizeof b, 0));
	printf("differ=%d\n", memcmp(a, b, sizeof a) != 0);
	printf("nonblock=%zd\n", getrandom(a, 16, GRND_NONBLOCK));
	printf("random=%zd\n", getrandom(a, 16, GRND_RANDOM | GRND_NONBLOCK));
	printf("insecure=%zd\n", getrandom(a, 16, GRND_INSECURE));
	printf("zero length=%zd\n", getrandom(a, 0, 0));
	static unsigned char big[1 << 20];
	ssize_t r = getrandom(big, sizeof big, 0);
	printf("1MiB: positive=%d at_most_1MiB=%d\n", r > 0, r <= (ssize_t)sizeof big);
	/* Bits look random: roughly half of them set. */
	long ones = 0;
	for (int i = 0; i < 65536; i++)
		ones += __builtin_popcount(big[i]);
	printf("ones fraction in [0.45,0.55]=%d\n", ones > 65536 * 8 * 45 / 100 && ones < 65536 * 8 * 55 / 100);
	T_ERRNO("bad flags", getrandom(a, 16, 0x40), EINVAL);
	T_ERRNO("INSECURE|RANDOM", getrandom(a, 16, GRND_INSECURE | GRND_RANDOM), EINVAL);
	T_ERRNO("bad pointer", syscall(SYS_getrandom, (void *)1, 16, 0), EFAULT);
	return t_done();
}
