/* capget(2), capset(2) and the capability options of prctl(2) (capabilities(7)):
 * - capget: the version probe (NULL data: the kernel's version in the header, 0), EINVAL
 *   for a bad version, v1 copies only the low 32 bits, pid 0 / own / another process's
 *   sets, EINVAL for a negative pid, ESRCH for a missing one;
 * - capset: permitted only shrinks, effective within permitted, inheritable within the old
 *   inheritable and permitted (without CAP_SETPCAP) and the bounding set; only the caller
 *   (EPERM for another pid); EINVAL for a bad version;
 * - PR_CAPBSET_READ/DROP (CAP_SETPCAP), PR_CAP_AMBIENT (IS_SET, RAISE needs permitted and
 *   inheritable, LOWER, CLEAR_ALL; capset dropping inheritable drops ambient),
 *   PR_GET/SET_KEEPCAPS, PR_GET/SET_SECUREBITS (locks, unknown bits, CAP_SETPCAP);
 * - /proc/self/status CapInh/CapPrm/CapEff/CapBnd/CapAmb and NoNewPrivs agree.
 * Every change runs in a forked child. */
#include "caps_util.h"

static int sets(void)
{
	struct caps c = caps_get();
	/* Drop CAP_SYS_ADMIN from effective only: it can come back. */
	T_ERRNO("capset: effective without SYS_ADMIN", caps_set(c.eff & ~BIT(CAP_SYS_ADMIN), c.prm, 0), 0);
	struct caps d = caps_get();
	printf("  eff SYS_ADMIN=%d prm SYS_ADMIN=%d\n", !!(d.eff & BIT(CAP_SYS_ADMIN)), !!(d.prm & BIT(CAP_SYS_ADMIN)));
	T_ERRNO("capset: raise effective within permitted", caps_set(c.eff, c.prm, 0), 0);
	/* Drop it from permitted: it can never come back. */
	uint64_t prm = c.prm & ~BIT(CAP_SYS_ADMIN);
	T_ERRNO("capset: drop from permitted", caps_set(prm, prm, 0), 0);
	T_ERRNO("capset: effective beyond permitted", caps_set(prm | BIT(CAP_SYS_ADMIN), prm, 0), EPERM);
	T_ERRNO("capset: permitted grows", caps_set(prm, c.prm, 0), EPERM);
	/* Inheritable: within permitted without CAP_SETPCAP. */
	T_ERRNO("capset: inheritable NET_RAW", caps_set(prm, prm, BIT(CAP_NET_RAW)), 0);
	prm &= ~(BIT(CAP_SETPCAP) | BIT(CAP_NET_RAW));
	T_ERRNO("capset: drop SETPCAP, keep inheritable", caps_set(prm, prm, BIT(CAP_NET_RAW)), 0);
	T_ERRNO("capset: inheritable beyond permitted", caps_set(prm, prm, BIT(CAP_NET_RAW) | BIT(CAP_SYS_ADMIN)), EPERM);
	T_ERRNO("capset: inheritable within permitted", caps_set(prm, prm, BIT(CAP_NET_RAW) | BIT(CAP_KILL)), 0);
	/* Only the caller. */
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, getppid() };
	struct __user_cap_data_struct dd[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	T_ERRNO("capset: another process", syscall(SYS_capset, &h, dd), EPERM);
	h.pid = getpid();
	T_ERRNO("capset: own pid (nothing left)", syscall(SYS_capset, &h, dd), 0);
	h.version = 0x12345678;
	T_ERRNO("capset: bad version", syscall(SYS_capset, &h, dd), EINVAL);
	printf("  header version now v3: %d\n", h.version == _LINUX_CAPABILITY_VERSION_3);
	d = caps_get();
	printf("  all gone: eff=%d prm=%d inh=%d\n", d.eff == 0, d.prm == 0, d.inh == 0);
	T_TRUE(status_matches());
	return t_failures ? 1 : 0;
}

static int bounding(void)
{
	printf("  READ SYS_ADMIN=%d\n", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
	T_ERRNO("PR_CAPBSET_READ 64", prctl(PR_CAPBSET_READ, 64, 0, 0, 0), EINVAL);
	T_ERRNO("PR_CAPBSET_DROP 64", prctl(PR_CAPBSET_DROP, 64, 0, 0, 0), EINVAL);
	T_ERRNO("PR_CAPBSET_DROP SYS_ADMIN", prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0), 0);
	printf("  READ SYS_ADMIN=%d still effective=%d\n", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0),
	       !!(caps_get().eff & BIT(CAP_SYS_ADMIN)));
	struct caps c = caps_get();
	T_ERRNO("capset: inheritable outside bounding", caps_set(c.eff, c.prm, BIT(CAP_SYS_ADMIN)), EPERM);
	T_ERRNO("capset: inheritable inside bounding", caps_set(c.eff, c.prm, BIT(CAP_NET_RAW)), 0);
	caps_drop_eff(BIT(CAP_SETPCAP));
	T_ERRNO("PR_CAPBSET_DROP without SETPCAP", prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0), EPERM);
	T_ERRNO("PR_CAPBSET_DROP 64 without SETPCAP", prctl(PR_CAPBSET_DROP, 64, 0, 0, 0), EPERM);
	T_TRUE(status_matches());
	return t_failures ? 1 : 0;
}

static int ambient(void)
{
	struct caps c = caps_get();
	printf("  IS_SET NET_RAW=%d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0));
	T_ERRNO("RAISE not inheritable", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0), EPERM);
	CHECK(caps_set(c.eff, c.prm, BIT(CAP_NET_RAW) | BIT(CAP_KILL)) == 0);
	T_ERRNO("RAISE NET_RAW", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0), 0);
	T_ERRNO("RAISE KILL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), 0);
	printf("  IS_SET NET_RAW=%d KILL=%d status CapAmb is both=%d\n",
	       prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0),
	       prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0),
	       status_caps("CapAmb") == (BIT(CAP_NET_RAW) | BIT(CAP_KILL)));
	T_TRUE(status_matches());
	T_ERRNO("LOWER NET_RAW", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_RAW, 0, 0), 0);
	printf("  IS_SET NET_RAW=%d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0));
	T_ERRNO("CLEAR_ALL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 0);
	printf("  IS_SET KILL=%d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	T_ERRNO("CLEAR_ALL with an argument", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), EINVAL);
	T_ERRNO("unknown operation", prctl(PR_CAP_AMBIENT, 99, CAP_KILL, 0, 0), EINVAL);
	T_ERRNO("RAISE 64", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 64, 0, 0), EINVAL);
	T_ERRNO("IS_SET with arg4", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 1, 0), EINVAL);
	/* Losing inheritable (or permitted) loses the ambient capability. */
	T_ERRNO("RAISE KILL again", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), 0);
	CHECK(caps_set(c.eff, c.prm, BIT(CAP_NET_RAW)) == 0);
	printf("  after inheritable dropped: IS_SET KILL=%d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	T_ERRNO("RAISE NET_RAW again", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0), 0);
	caps_drop(BIT(CAP_NET_RAW));
	printf("  after permitted dropped: IS_SET NET_RAW=%d\n", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0));
	/* SECBIT_NO_CAP_AMBIENT_RAISE. */
	c = caps_get();
	CHECK(caps_set(c.eff, c.prm, BIT(CAP_KILL)) == 0);
	T_ERRNO("set NO_CAP_AMBIENT_RAISE", prctl(PR_SET_SECUREBITS, 1 << 6, 0, 0, 0), 0);
	T_ERRNO("RAISE refused by securebits", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0), EPERM);
	return t_failures ? 1 : 0;
}

static int keepcaps(void)
{
	printf("  keepcaps=%d securebits=%#x\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	T_ERRNO("SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
	printf("  keepcaps=%d securebits=%#x\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	T_ERRNO("SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
	T_ERRNO("SET_SECUREBITS unknown bit", prctl(PR_SET_SECUREBITS, 1 << 20, 0, 0, 0), EPERM);
	T_ERRNO("SET_SECUREBITS keepcaps locked", prctl(PR_SET_SECUREBITS, 0x30, 0, 0, 0), 0);
	T_ERRNO("SET_KEEPCAPS 0 when locked", prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), EPERM);
	T_ERRNO("SET_SECUREBITS clear a locked bit", prctl(PR_SET_SECUREBITS, 0x20, 0, 0, 0), EPERM);
	T_ERRNO("SET_SECUREBITS unlock", prctl(PR_SET_SECUREBITS, 0x10, 0, 0, 0), EPERM);
	T_ERRNO("SET_SECUREBITS add NOROOT", prctl(PR_SET_SECUREBITS, 0x31, 0, 0, 0), 0);
	printf("  securebits=%#x\n", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	caps_drop_eff(BIT(CAP_SETPCAP));
	T_ERRNO("SET_SECUREBITS without SETPCAP", prctl(PR_SET_SECUREBITS, 0x31, 0, 0, 0), EPERM);
	T_ERRNO("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	printf("  status NoNewPrivs=%llu\n", (unsigned long long)status_caps("NoNewPrivs"));
	return t_failures ? 1 : 0;
}

static int dropper(int *ready, int *go)
{
	caps_drop(BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_RAW));
	char b = 1;
	CHECK(write(ready[1], &b, 1) == 1);
	CHECK(read(go[0], &b, 1) == 1);
	return 0;
}

int main(void)
{
	/* The version probe. */
	struct __user_cap_header_struct h = { 0, 0 };
	T_ERRNO("capget probe", syscall(SYS_capget, &h, NULL), 0);
	printf("probe version is v3: %d\n", h.version == _LINUX_CAPABILITY_VERSION_3);
	struct __user_cap_data_struct d[2];
	h.version = 0x12345678;
	T_ERRNO("capget bad version", syscall(SYS_capget, &h, d), EINVAL);
	printf("header version now v3: %d\n", h.version == _LINUX_CAPABILITY_VERSION_3);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	T_ERRNO("capget v3 NULL data", syscall(SYS_capget, &h, NULL), 0);
	h.pid = -1;
	T_ERRNO("capget pid -1", syscall(SYS_capget, &h, d), EINVAL);
	h.pid = 0x3ffffff0;
	T_ERRNO("capget missing pid", syscall(SYS_capget, &h, d), ESRCH);
	/* v1: one word per set, the second untouched. */
	memset(d, 0xaa, sizeof d);
	h.version = _LINUX_CAPABILITY_VERSION_1;
	h.pid = 0;
	T_ERRNO("capget v1", syscall(SYS_capget, &h, d), 0);
	printf("v1: low word set=%d second word untouched=%d\n", d[0].effective != 0xaaaaaaaa,
	       d[1].effective == 0xaaaaaaaa && d[1].permitted == 0xaaaaaaaa);

	struct caps c = caps_get();
	printf("root: eff==prm=%d inh=%d SYS_ADMIN=%d DAC_OVERRIDE=%d SETPCAP=%d beyond last cap=%d\n",
	       c.eff == c.prm, c.inh == 0, !!(c.eff & BIT(CAP_SYS_ADMIN)), !!(c.eff & BIT(CAP_DAC_OVERRIDE)),
	       !!(c.eff & BIT(CAP_SETPCAP)), (c.prm >> (CAP_LAST_CAP + 1)) != 0);
	struct caps own;
	CHECK(caps_get_pid(getpid(), &own) == 0);
	printf("own pid same=%d\n", own.eff == c.eff && own.prm == c.prm);
	printf("status matches=%d ambient empty=%d\n", status_matches(), status_caps("CapAmb") == 0);
	printf("keepcaps=%d securebits=%d\n", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));

	/* Another process's sets. */
	int ready[2], go[2];
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0)
		_exit(dropper(ready, go));
	char b;
	CHECK(read(ready[0], &b, 1) == 1);
	struct caps other;
	T_ERRNO("capget child", caps_get_pid(p, &other), 0);
	printf("child: lacks SYS_ADMIN=%d lacks NET_RAW=%d has KILL=%d\n", !(other.prm & BIT(CAP_SYS_ADMIN)),
	       !(other.eff & BIT(CAP_NET_RAW)), !!(other.eff & BIT(CAP_KILL)));
	CHECK(write(go[1], &b, 1) == 1);
	t_wait(p);

	in_child("sets", sets);
	in_child("bounding", bounding);
	in_child("ambient", ambient);
	in_child("keepcaps", keepcaps);
	return t_done();
}
