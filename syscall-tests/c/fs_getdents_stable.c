/* getdents64 cursors stay good across changes to the directory (readdir(3), seekdir(3)):
 * - a listing read a little at a time while entries are created, removed and renamed over
 *   never returns a name twice and never misses a name that existed throughout;
 * - after rewinding, the listing is exactly the current contents;
 * - an offset returned earlier (what telldir gives) still works after other entries, the
 *   one just before it included, are removed: reading from it returns what followed it,
 *   less what was removed, each once.
 * Runs in a fresh directory under /tmp and under /var/tmp, and in /var/tmp itself (inside
 * rvisor: the private tmpfs, a directory of the overlay's upper layer, and a directory merged
 * from both layers), looking only at its own names. */
#include "test_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#define N 120
#define NEW 40

static char dir[256];
static char prefix[64];
static int dfd;

struct dirent64_raw {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Name kinds: 0..N-1 original "oNNN", N..N+NEW-1 new "nNNN". */
static int index_of(const char *name)
{
	size_t l = strlen(prefix);
	if (strncmp(name, prefix, l) != 0)
		return -1;
	const char *s = name + l;
	if ((s[0] != 'o' && s[0] != 'n') || strlen(s) != 4)
		return -1;
	int v = atoi(s + 1);
	return s[0] == 'o' ? v : N + v;
}

static const char *name_of(int i)
{
	static char buf[4][512];
	static int n;
	char *b = buf[n++ % 4];
	if (i < N)
		snprintf(b, 512, "%s/%so%03d", dir, prefix, i);
	else
		snprintf(b, 512, "%s/%sn%03d", dir, prefix, i - N);
	return b;
}

static void create(int i)
{
	int fd = open(name_of(i), O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	close(fd);
}

/* One getdents64 call with a `size`-byte buffer: counts our names in `seen`, and returns the
 * number of records (0 at the end); *last_off gets the d_off of the last record, *last the
 * index of the last of our names (or -1). */
static int read_some(int size, int *seen, long long *last_off, int *last)
{
	char buf[4096];
	CHECK(size <= (int)sizeof buf);
	long n = syscall(SYS_getdents64, dfd, buf, size);
	CHECK(n >= 0);
	int recs = 0;
	for (long o = 0; o < n;) {
		struct dirent64_raw *d = (struct dirent64_raw *)(buf + o);
		int i = index_of(d->d_name);
		if (i >= 0) {
			seen[i]++;
			if (last)
				*last = i;
		} else if (last) {
			*last = -1;
		}
		if (last_off)
			*last_off = d->d_off;
		recs++;
		o += d->d_reclen;
	}
	return recs;
}

static int count(const int *seen, int from, int to)
{
	int c = 0;
	for (int i = from; i < to; i++)
		c += seen[i] > 0;
	return c;
}

static void run(const char *label)
{
	int exists[N + NEW] = { 0 }, throughout[N + NEW] = { 0 }, seen[N + NEW] = { 0 };
	for (int i = 0; i < N; i++) {
		create(i);
		exists[i] = throughout[i] = 1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);

	/* Read about half of our names, a few records at a time. */
	while (count(seen, 0, N) < N / 2)
		CHECK(read_some(512, seen, NULL, NULL) > 0);
	/* Remove 20 names already read and 20 not read yet; rename over names read and not. */
	int gone_seen = 0, gone_unseen = 0, renamed = 0;
	/* Only the even names are removed, only odd ones renamed. */
	for (int i = 0; i < N; i++) {
		if (seen[i] && gone_seen < 20 && i % 2 == 0) {
			CHECK(unlink(name_of(i)) == 0);
			exists[i] = throughout[i] = 0;
			gone_seen++;
		} else if (!seen[i] && gone_unseen < 20 && i % 2 == 0) {
			CHECK(unlink(name_of(i)) == 0);
			exists[i] = throughout[i] = 0;
			gone_unseen++;
		}
	}
	/* Renames over names that existed throughout (b), from names that go away (a), for
	 * each of: a read or not, b read or not. */
	for (int k = 0; k < 4; k++) {
		int done_k = 0;
		for (int b = 1; b < N && !done_k; b += 2) {
			if (!exists[b] || !throughout[b] || (seen[b] > 0) != (k >> 1))
				continue;
			for (int a = 1; a < N; a += 2) {
				if (a == b || !exists[a] || (seen[a] > 0) != (k & 1))
					continue;
				CHECK(rename(name_of(a), name_of(b)) == 0);
				exists[a] = throughout[a] = 0;
				/* b is no longer a rename source. */
				throughout[b] = 2;
				renamed++;
				done_k = 1;
				break;
			}
		}
	}
	for (int i = N; i < N + NEW; i++) {
		create(i);
		exists[i] = 1;
	}
	while (read_some(512, seen, NULL, NULL) > 0)
		;
	int missing = 0, dups = 0;
	for (int i = 0; i < N + NEW; i++) {
		missing += throughout[i] && seen[i] == 0;
		dups += seen[i] > 1;
	}
	printf("%s: read while changing: removed=%d renamed=%d missing=%d dups=%d\n", label,
	       gone_seen + gone_unseen, renamed, missing, dups);

	/* Rewind: exactly what is there now. */
	CHECK(lseek(dfd, 0, SEEK_SET) == 0);
	memset(seen, 0, sizeof seen);
	while (read_some(4096, seen, NULL, NULL) > 0)
		;
	int exact = 1;
	for (int i = 0; i < N + NEW; i++)
		exact &= seen[i] == exists[i];
	printf("%s: after rewind: exact=%d\n", label, exact);

	/* telldir/seekdir: remember the offset after our 30th name, then what followed. */
	CHECK(lseek(dfd, 0, SEEK_SET) == 0);
	memset(seen, 0, sizeof seen);
	long long mark = -1;
	int before_mark[N + NEW] = { 0 }, marked = -1;
	while (mark < 0) {
		long long off = -1;
		int last = -1;
		int recs = read_some(512, seen, &off, &last);
		CHECK(recs > 0);
		if (count(seen, 0, N + NEW) >= 30 && last >= 0) {
			mark = off;
			marked = last;
		}
	}
	memcpy(before_mark, seen, sizeof seen);
	int after[N + NEW] = { 0 };
	while (read_some(512, after, NULL, NULL) > 0)
		;
	/* Remove the entry just before the mark, some before it and some after it. */
	CHECK(unlink(name_of(marked)) == 0);
	exists[marked] = 0;
	int removed_before = 0, removed_after = 0;
	for (int i = 0; i < N + NEW; i++) {
		if (!exists[i] || i % 3 != 0)
			continue;
		if (before_mark[i] && removed_before < 5) {
			CHECK(unlink(name_of(i)) == 0);
			exists[i] = 0;
			removed_before++;
		} else if (after[i] && removed_after < 10) {
			CHECK(unlink(name_of(i)) == 0);
			exists[i] = 0;
			removed_after++;
		}
	}
	CHECK(lseek(dfd, mark, SEEK_SET) == mark);
	int again[N + NEW] = { 0 };
	while (read_some(512, again, NULL, NULL) > 0)
		;
	int ok = 1;
	for (int i = 0; i < N + NEW; i++) {
		ok &= again[i] <= 1;
		ok &= !(after[i] && exists[i]) || again[i] == 1;
		ok &= !again[i] || after[i];
	}
	/* How many were removed on each side depends on the directory's order (on ext4, a
	 * hash of the names, which hold the pid): only that both sides lost some is fixed. */
	printf("%s: seek to an old offset: removed before=%d after=%d valid=%d\n", label,
	       removed_before > 0, removed_after > 0, ok);
	close(dfd);
	for (int i = 0; i < N + NEW; i++)
		if (exists[i])
			CHECK(unlink(name_of(i)) == 0);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/rvisor-st-gd-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	prefix[0] = 0;
	run("tmp");
	CHECK(rmdir(dir) == 0);

	snprintf(dir, sizeof dir, "/var/tmp/rvisor-st-gd-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	run("var-tmp-subdir");
	CHECK(rmdir(dir) == 0);

	snprintf(dir, sizeof dir, "/var/tmp");
	snprintf(prefix, sizeof prefix, "rvisor-st-gd-%d-", (int)getpid());
	run("var-tmp");
	return t_done();
}
