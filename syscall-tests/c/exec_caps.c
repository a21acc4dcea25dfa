/* Capabilities across execve (capabilities(7), "Transformation of capabilities during
 * execve()"), with no file capabilities:
 * - root (euid 0) gets the bounding set (with the inheritable one) permitted and
 *   effective, whatever it dropped from effective or permitted; real uid 0 alone gives
 *   permitted but not effective; SECBIT_NOROOT gives nothing;
 * - a non-root program keeps only its ambient capabilities (permitted = effective =
 *   ambient); without them it has none; keepcaps is cleared;
 * - a set-user-ID-root (and set-group-ID) executable makes the effective ids the file's,
 *   with root's capabilities and AT_SECURE, and clears the ambient set; under
 *   no_new_privs the ids stay;
 * - execute permission on the file and search permission on its directories (EACCES).
 * The program executes itself (argv[0]) with "show" to print what it got. */
#include "caps_util.h"
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>

static const char *self;
static char dir[128];

static int show(void)
{
	struct caps c = caps_get();
	uid_t r, e, s;
	gid_t gr, ge, gs;
	CHECK(getresuid(&r, &e, &s) == 0 && getresgid(&gr, &ge, &gs) == 0);
	uint64_t amb = status_caps("CapAmb");
	printf("  uids=%u,%u,%u egid=%u sgid=%u secure=%lu nnp=%d keepcaps=%d\n", r, e, s, ge, gs,
	       getauxval(AT_SECURE), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	printf("  eff==prm=%d eff_empty=%d prm_empty=%d SYS_ADMIN=%d/%d NET_RAW=%d/%d DAC_OVERRIDE=%d/%d\n",
	       c.eff == c.prm, c.eff == 0, c.prm == 0, !!(c.eff & BIT(CAP_SYS_ADMIN)),
	       !!(c.prm & BIT(CAP_SYS_ADMIN)), !!(c.eff & BIT(CAP_NET_RAW)), !!(c.prm & BIT(CAP_NET_RAW)),
	       !!(c.eff & BIT(CAP_DAC_OVERRIDE)), !!(c.prm & BIT(CAP_DAC_OVERRIDE)));
	printf("  ambient: %s prm==amb=%d\n",
	       amb == 0 ? "none" : amb == (BIT(CAP_DAC_OVERRIDE) | BIT(CAP_NET_RAW)) ? "DAC_OVERRIDE,NET_RAW" : "other",
	       c.prm == amb);
	char path[160];
	snprintf(path, sizeof path, "%s/secret", dir);
	int fd = open(path, O_RDONLY);
	printf("  read root's 0600 file: %s\n", fd >= 0 ? "OK" : t_errname(errno));
	if (fd >= 0)
		close(fd);
	T_TRUE(status_matches());
	return t_failures ? 1 : 0;
}

static int run(const char *prog)
{
	char *argv[] = { (char *)prog, "show", dir, NULL };
	execv(prog, argv);
	printf("  execv: %s\n", t_errname(errno));
	return 0;
}

static int root_dropped_effective(void)
{
	caps_drop_eff(BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_RAW));
	return run(self);
}

static int root_dropped_permitted(void)
{
	caps_drop(BIT(CAP_SYS_ADMIN));
	CHECK(prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) == 0);
	CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
	return run(self);
}

static int real_root_only(void)
{
	CHECK(setresuid(0, 1000, 1000) == 0);
	return run(self);
}

static int noroot(void)
{
	CHECK(prctl(PR_SET_SECUREBITS, 1, 0, 0, 0) == 0);
	return run(self);
}

static int user_plain(void)
{
	CHECK(setresuid(1000, 1000, 1000) == 0);
	return run(self);
}

/* Keeps DAC_OVERRIDE and NET_RAW as ambient capabilities through setuid and exec. */
static void ambient_user(void)
{
	CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
	CHECK(setresuid(1000, 1000, 1000) == 0);
	struct caps c = caps_get();
	uint64_t keep = BIT(CAP_DAC_OVERRIDE) | BIT(CAP_NET_RAW);
	CHECK(caps_set(c.prm, c.prm, keep) == 0);
	CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_OVERRIDE, 0, 0) == 0);
	CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) == 0);
}

static int user_ambient(void)
{
	ambient_user();
	return run(self);
}

static char suid[160], noexec[160], hidden[160];

static int user_ambient_suid(void)
{
	ambient_user();
	return run(suid);
}

static int user_suid_nnp(void)
{
	CHECK(setresuid(1000, 1000, 1000) == 0);
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	return run(suid);
}

static int user_denied(void)
{
	CHECK(setresuid(1000, 1000, 1000) == 0);
	run(noexec);
	run(hidden);
	return 0;
}

static int root_denied(void)
{
	char p[200];
	snprintf(p, sizeof p, "%s/secret", dir);
	run(p);
	return 0;
}

/* Copies the test program to `to` with an owner and mode. */
static void copy_self(const char *to, uid_t uid, gid_t gid, mode_t mode)
{
	int in = open(self, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0700);
	CHECK(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		t_write_all(out, buf, (size_t)n);
	CHECK(n == 0);
	close(in);
	close(out);
	CHECK(chown(to, uid, gid) == 0);
	CHECK(chmod(to, mode) == 0);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "show")) {
		snprintf(dir, sizeof dir, "%s", argv[2]);
		return show();
	}
	self = argv[0];
	snprintf(dir, sizeof dir, "/var/tmp/rvisor-st-capexec-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chmod(dir, 0755) == 0);
	char secret[160], priv[160];
	snprintf(secret, sizeof secret, "%s/secret", dir);
	int fd = open(secret, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	close(fd);
	snprintf(suid, sizeof suid, "%s/suid", dir);
	copy_self(suid, 0, 3000, 06755);
	snprintf(noexec, sizeof noexec, "%s/rootonly", dir);
	copy_self(noexec, 0, 0, 0700);
	snprintf(priv, sizeof priv, "%s/priv", dir);
	CHECK(mkdir(priv, 0700) == 0);
	snprintf(hidden, sizeof hidden, "%s/priv/prog", dir);
	copy_self(hidden, 0, 0, 0755);

	in_child("root, SYS_ADMIN and NET_RAW dropped from effective", root_dropped_effective);
	in_child("root, SYS_ADMIN dropped from permitted, NET_RAW from bounding, keepcaps", root_dropped_permitted);
	in_child("real uid 0, effective 1000", real_root_only);
	in_child("root with SECBIT_NOROOT", noroot);
	in_child("user", user_plain);
	in_child("user with ambient DAC_OVERRIDE,NET_RAW", user_ambient);
	in_child("user with ambient, set-user-ID root program", user_ambient_suid);
	in_child("user, no_new_privs, set-user-ID root program", user_suid_nnp);
	in_child("user, no execute or search permission", user_denied);
	in_child("root, no execute bit", root_denied);

	CHECK(unlink(secret) == 0 && unlink(suid) == 0 && unlink(noexec) == 0 && unlink(hidden) == 0);
	CHECK(rmdir(priv) == 0 && rmdir(dir) == 0);
	return t_done();
}
