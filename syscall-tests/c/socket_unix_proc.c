/* /proc/net/unix lists the process's unix sockets: type, state, listening flag, inode
 * (as fstat gives it) and bound path or abstract name. */
#include "test_util.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static unsigned long ino_of(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return st.st_ino;
}

/* Prints the fields of /proc/net/unix's line for inode `ino`, without the kernel address
 * and reference count. */
static void show(const char *what, unsigned long ino)
{
	FILE *f = fopen("/proc/net/unix", "r");
	CHECK(f != NULL);
	char line[512];
	int found = 0;
	CHECK(fgets(line, sizeof line, f) != NULL);
	while (fgets(line, sizeof line, f)) {
		unsigned long refs, proto, flags, type, st, inode;
		char path[256] = "";
		int n = sscanf(line, "%*x: %lx %lx %lx %lx %lx %lu %255s", &refs, &proto, &flags, &type, &st,
			       &inode, path);
		if (n >= 6 && inode == ino) {
			const char *shown = path;
			if (strstr(path, "rvisor-procunix"))
				shown = path[0] == '@' ? "@abstract" : "path";
			printf("%s: proto %lx flags %05lx type %04lx st %02lx %s\n", what, proto, flags, type,
			       st, shown);
			found++;
		}
	}
	fclose(f);
	if (!found)
		printf("%s: missing\n", what);
}

int main(void)
{
	FILE *f = fopen("/proc/net/unix", "r");
	CHECK(f != NULL);
	char head[256];
	CHECK(fgets(head, sizeof head, f) != NULL);
	fclose(f);
	printf("header: %s", head);

	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "/tmp/rvisor-procunix-%d.sock", getpid());
	unlink(a.sun_path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(l >= 0);
	show("unbound stream", ino_of(l));
	CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
	show("bound stream", ino_of(l));
	CHECK(listen(l, 4) == 0);
	show("listening", ino_of(l));
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	show("connected client", ino_of(c));
	show("accepted", ino_of(s));

	int p[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p) == 0);
	show("dgram pair", ino_of(p[0]));
	int q[2];
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, q) == 0);
	show("seqpacket pair", ino_of(q[0]));

	struct sockaddr_un b = {.sun_family = AF_UNIX};
	int len = snprintf(b.sun_path + 1, sizeof b.sun_path - 1, "rvisor-procunix-%d", getpid());
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(d, (struct sockaddr *)&b, offsetof(struct sockaddr_un, sun_path) + 1 + len) == 0);
	show("abstract dgram", ino_of(d));

	unsigned long gone = ino_of(c);
	close(c);
	close(s);
	show("closed", gone);
	unlink(a.sun_path);
	return t_done();
}
