/* "#!" scripts: the interpreter (this static binary) gets its optional argument, the script
 * path and the original arguments; nested interpreters; a missing interpreter is ENOENT. */
#include "test_util.h"
#include <fcntl.h>
#include <sys/stat.h>

static void write_script(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	CHECK(fd >= 0);
	t_write_all(fd, content, strlen(content));
	CHECK(close(fd) == 0);
}

static int run(char *path, char *arg)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *args[] = { "argv0-replaced", arg, NULL };
		char *env[] = { NULL };
		execve(path, args, env);
		printf("execve: %s\n", t_errname(errno));
		_exit(99);
	}
	return t_wait(pid);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strncmp(argv[1], "interp", 6) == 0) {
		/* argv: self, [optional-arg], script, original args after argv[0]. */
		printf("interpreter argc=%d\n", argc);
		for (int i = 1; i < argc; i++) {
			const char *a = argv[i];
			if (strncmp(a, "/tmp/rvisor-st-", 15) == 0)
				a = "<script path>";
			printf("  argv[%d]=[%s]\n", i, a);
		}
		return 0;
	}
	CHECK(argv[0][0] == '/');
	char content[4200];
	char *script = strdup(t_tmp_path("script"));
	snprintf(content, sizeof content, "#!%s interp\nignored body\n", argv[0]);
	write_script(script, content);
	printf("script: %s\n", t_status(run(script, "user-arg")));

	/* Arguments after the interpreter are one single argument; surrounding blanks stripped. */
	snprintf(content, sizeof content, "#! %s interp  two words \t\n", argv[0]);
	write_script(script, content);
	printf("spaced: %s\n", t_status(run(script, "x")));

	/* A script whose interpreter is another script. */
	char *outer = strdup(t_tmp_path("outer"));
	snprintf(content, sizeof content, "#!%s\n", script);
	write_script(outer, content);
	printf("nested: %s\n", t_status(run(outer, "y")));

	write_script(script, "#!/nonexistent/interpreter\n");
	printf("missing interpreter: %s\n", t_status(run(script, "z")));
	unlink(script);
	unlink(outer);
	return t_done();
}
