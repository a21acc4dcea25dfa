/* /sys: the CPUs (as glibc's get_nprocs reads them), directory types, statfs, errno. */
#include "test_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>

static int count_range(const char *path)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	int lo, hi;
	if (sscanf(buf, "%d-%d", &lo, &hi) == 2)
		return hi - lo + 1;
	return sscanf(buf, "%d", &lo) == 1 ? 1 : -1;
}

int main(void)
{
	printf("online matches get_nprocs: %d\n",
	       count_range("/sys/devices/system/cpu/online") == get_nprocs());
	printf("possible >= online: %d\n",
	       count_range("/sys/devices/system/cpu/possible") >= get_nprocs());
	int dirs = 0;
	DIR *d = opendir("/sys/devices/system/cpu");
	CHECK(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "cpu", 3) == 0 && e->d_name[3] >= '0' && e->d_name[3] <= '9')
			dirs++;
	closedir(d);
	printf("cpuN directories >= online: %d\n", dirs >= get_nprocs());
	struct stat st;
	CHECK(stat("/sys/devices/system/cpu/cpu0", &st) == 0);
	printf("cpu0 is a directory: %d\n", S_ISDIR(st.st_mode));
	CHECK(stat("/sys/fs/cgroup", &st) == 0);
	printf("cgroup mount point is a directory: %d\n", S_ISDIR(st.st_mode));
	struct statfs sf;
	CHECK(statfs("/sys", &sf) == 0);
	printf("statfs magic is sysfs: %d\n", sf.f_type == 0x62656572);
	errno = 0;
	printf("missing: %s\n", t_errname(open("/sys/no-such-thing", O_RDONLY) >= 0 ? 0 : errno));
	errno = 0;
	printf("mkdir: %s\n", t_errname(mkdir("/sys/newdir", 0755) == 0 ? 0 : errno));
	errno = 0;
	printf("file as dir: %s\n",
	       t_errname(open("/sys/devices/system/cpu/online", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : errno));
	return t_failures ? 1 : 0;
}
