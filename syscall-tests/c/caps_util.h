/* Capability helpers for the cred_caps* and fs_caps* tests: raw capget/capset (v3), the
 * sets as 64-bit masks, and what /proc/self/status says of them. Never print a raw set: the
 * host running the native side may lack some capabilities (print facts about bits). */
#ifndef RVISOR_CAPS_UTIL_H
#define RVISOR_CAPS_UTIL_H

#include "test_util.h"
#include <linux/capability.h>
#include <sys/prctl.h>

#define BIT(c) (1ULL << (c))
/* The filesystem capabilities a filesystem uid of 0 stands for (CAP_FS_MASK). */
#define FS_CAPS                                                                         \
	(BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_FOWNER) | \
	 BIT(CAP_FSETID) | BIT(CAP_LINUX_IMMUTABLE) | BIT(CAP_MAC_OVERRIDE) | BIT(CAP_MKNOD))

struct caps {
	uint64_t eff, prm, inh;
};

static inline int caps_get_pid(pid_t pid, struct caps *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, pid };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static inline struct caps caps_get(void)
{
	struct caps c;
	CHECK(caps_get_pid(0, &c) == 0);
	return c;
}

static inline int caps_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};
	return (int)syscall(SYS_capset, &h, d);
}

/* Removes `mask` from the effective set only (the permitted set keeps it). */
static inline void caps_drop_eff(uint64_t mask)
{
	struct caps c = caps_get();
	CHECK(caps_set(c.eff & ~mask, c.prm, c.inh) == 0);
}

/* Removes `mask` from the effective and permitted sets. */
static inline void caps_drop(uint64_t mask)
{
	struct caps c = caps_get();
	CHECK(caps_set(c.eff & ~mask, c.prm & ~mask, c.inh & ~mask) == 0);
}

/* A "CapXxx:" line of /proc/self/status, as a mask. */
static inline uint64_t status_caps(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f != NULL);
	char line[256];
	unsigned long long v = ~0ULL;
	size_t n = strlen(key);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':')
			sscanf(line + n + 1, "%llx", &v);
	fclose(f);
	return v;
}

/* Whether /proc/self/status agrees with capget and the bounding and ambient sets. */
static inline int status_matches(void)
{
	struct caps c = caps_get();
	uint64_t bnd = 0, amb = 0;
	for (int i = 0; i <= 63; i++) {
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			bnd |= BIT(i);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) == 1)
			amb |= BIT(i);
	}
	return status_caps("CapEff") == c.eff && status_caps("CapPrm") == c.prm &&
	       status_caps("CapInh") == c.inh && status_caps("CapBnd") == bnd &&
	       status_caps("CapAmb") == amb;
}

/* Runs fn in a forked child and reports its exit as "label: exited N". */
static inline void in_child(const char *label, int (*fn)(void))
{
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0)
		_exit(fn());
	int st = t_wait(p);
	printf("%s: %s\n", label, t_status(st));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		t_failures++;
}

#endif
