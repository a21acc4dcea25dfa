/* How the set*uid calls change capabilities (capabilities(7), "Effect of user ID changes
 * on capabilities"): leaving uid 0 in real, effective and saved ids clears permitted,
 * effective and ambient (permitted stays with PR_SET_KEEPCAPS); an effective uid leaving 0
 * clears effective, coming back to 0 makes effective the permitted set; setfsuid toggles
 * the filesystem capabilities in effective; the bounding set stays. CAP_SETUID and
 * CAP_SETGID, not uid 0, let a caller pick any id; CAP_KILL lets it signal any process.
 * Every case runs in a forked child. */
#include "caps_util.h"
#include <grp.h>
#include <sys/fsuid.h>

static void show(const char *label)
{
	struct caps c = caps_get();
	uid_t r, e, s;
	CHECK(getresuid(&r, &e, &s) == 0);
	printf("  %s: uids=%u,%u,%u eff=%s prm=%s amb_empty=%d bnd SYS_ADMIN=%d\n", label, r, e, s,
	       c.eff == 0 ? "none" : c.eff == c.prm ? "=prm" : "some",
	       c.prm == 0 ? "none" : "kept", status_caps("CapAmb") == 0,
	       prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
	T_TRUE(status_matches());
}

/* An ambient capability to see it go or stay. */
static void raise_ambient(void)
{
	struct caps c = caps_get();
	CHECK(caps_set(c.eff, c.prm, BIT(CAP_NET_RAW)) == 0);
	CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) == 0);
}

static int all_away(void)
{
	raise_ambient();
	T_ERRNO("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000), 0);
	show("after");
	T_ERRNO("capset raise", caps_set(BIT(CAP_KILL), BIT(CAP_KILL), 0), EPERM);
	T_ERRNO("setuid(0)", setuid(0), EPERM);
	T_ERRNO("setgroups", setgroups(0, NULL), EPERM);
	return t_failures ? 1 : 0;
}

static int keepcaps(void)
{
	struct caps before = caps_get();
	raise_ambient();
	CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
	T_ERRNO("setresuid(1000,1000,1000)", setresuid(1000, 1000, 1000), 0);
	show("after");
	printf("  permitted unchanged=%d\n", caps_get().prm == before.prm);
	T_ERRNO("capset effective = permitted", caps_set(before.prm, before.prm, 0), 0);
	T_ERRNO("setgroups with CAP_SETGID", setgroups(0, NULL), 0);
	T_ERRNO("setresuid(0,0,0) with CAP_SETUID", setresuid(0, 0, 0), 0);
	show("back to root");
	return t_failures ? 1 : 0;
}

static int saved_root(void)
{
	raise_ambient();
	T_ERRNO("setresuid(-1,1000,-1)", setresuid(-1, 1000, -1), 0);
	show("euid 1000");
	T_ERRNO("seteuid(0)", seteuid(0), 0);
	show("euid 0");
	T_ERRNO("setreuid(1000,1000)", setreuid(1000, 1000), 0);
	show("setreuid");
	return t_failures ? 1 : 0;
}

static int plain_setuid(void)
{
	T_ERRNO("setuid(1000)", setuid(1000), 0);
	show("after");
	return t_failures ? 1 : 0;
}

static int fsuid(void)
{
	struct caps c = caps_get();
	/* DAC_OVERRIDE is not effective, but permitted: coming back to fsuid 0 raises it. */
	caps_drop_eff(BIT(CAP_DAC_OVERRIDE));
	printf("  setfsuid(1000) returns old=%d\n", setfsuid(1000));
	struct caps d = caps_get();
	printf("  fsuid 1000: fs caps gone=%d others kept=%d prm kept=%d\n", (d.eff & FS_CAPS) == 0,
	       d.eff == (c.eff & ~FS_CAPS), d.prm == c.prm);
	printf("  setfsuid(0) returns old=%d\n", setfsuid(0));
	d = caps_get();
	printf("  fsuid 0: eff back to permitted=%d DAC_OVERRIDE=%d\n", d.eff == c.prm, !!(d.eff & BIT(CAP_DAC_OVERRIDE)));
	/* The setuid family sets fsuid with euid; setresuid keeping every id does nothing. */
	T_ERRNO("setresuid(-1,-1,-1)", setresuid(-1, -1, -1), 0);
	T_TRUE(status_matches());
	return t_failures ? 1 : 0;
}

static int no_setuid_cap(void)
{
	caps_drop_eff(BIT(CAP_SETUID));
	T_ERRNO("setuid(1000) without CAP_SETUID", setuid(1000), EPERM);
	T_ERRNO("setresuid(1000,-1,-1) without CAP_SETUID", setresuid(1000, -1, -1), EPERM);
	T_ERRNO("setreuid(-1,0) (own ids)", setreuid(-1, 0), 0);
	setfsuid(1000);
	printf("  setfsuid(1000) refused, fsuid still 0: %d\n", setfsuid(-1) == 0);
	T_ERRNO("setgid(5) with CAP_SETGID", setgid(5), 0);
	caps_drop_eff(BIT(CAP_SETGID));
	T_ERRNO("setgid(6) without CAP_SETGID", setgid(6), EPERM);
	T_ERRNO("setgroups without CAP_SETGID", setgroups(0, NULL), EPERM);
	T_ERRNO("setregid(5,5) (own ids)", setregid(5, 5), 0);
	return t_failures ? 1 : 0;
}

static pid_t victim;

static int no_kill_cap(void)
{
	T_ERRNO("kill another user's process as root", kill(victim, 0), 0);
	caps_drop_eff(BIT(CAP_KILL));
	T_ERRNO("kill without CAP_KILL", kill(victim, 0), EPERM);
	T_ERRNO("SIGTERM without CAP_KILL", kill(victim, SIGTERM), EPERM);
	T_ERRNO("tgkill without CAP_KILL", syscall(SYS_tgkill, victim, victim, SIGTERM), EPERM);
	union sigval v = { 0 };
	T_ERRNO("sigqueue without CAP_KILL", sigqueue(victim, SIGTERM, v), EPERM);
	T_ERRNO("kill own process", kill(getpid(), 0), 0);
	return t_failures ? 1 : 0;
}

int main(void)
{
	in_child("all ids leave 0", all_away);
	in_child("keepcaps", keepcaps);
	in_child("saved uid 0", saved_root);
	in_child("setuid as root", plain_setuid);
	in_child("setfsuid", fsuid);
	in_child("without CAP_SETUID/CAP_SETGID", no_setuid_cap);

	int p[2];
	CHECK(pipe(p) == 0);
	victim = fork();
	CHECK(victim >= 0);
	if (victim == 0) {
		CHECK(setresuid(1001, 1001, 1001) == 0);
		char b = 1;
		CHECK(write(p[1], &b, 1) == 1);
		for (;;)
			pause();
	}
	char b;
	CHECK(read(p[0], &b, 1) == 1);
	in_child("without CAP_KILL", no_kill_cap);
	CHECK(kill(victim, SIGKILL) == 0);
	printf("victim: %s\n", t_status(t_wait(victim)));
	return t_done();
}
