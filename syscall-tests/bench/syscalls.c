// Syscall cost benchmark: getppid (libc wrapper and syscall(2)), open+close, pread of 4 KiB.
// Prints one line per operation: "<name>_us=<microseconds per operation>".
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    const char *path = "/proc/self/exe";
    (void)path;
    // getppid() as programs call it: glibc's wrapper, `mov $110, %eax; syscall`, a site
    // rvisor rewrites into a trampoline after the first trap.
    long sum = 0;
    double t = now_us();
    for (int i = 0; i < n; i++) sum += getppid();
    printf("getppid_us=%.3f\n", (now_us() - t) / n);
    // The same syscall through syscall(2), whose site rvisor never rewrites: every call is
    // a full trap into the Sentry.
    t = now_us();
    for (int i = 0; i < n; i++) sum += syscall(SYS_getppid);
    printf("getppid_trap_us=%.3f\n", (now_us() - t) / n);
    if (sum == 42) puts("");

    int m = n / 4;
    t = now_us();
    for (int i = 0; i < m; i++) {
        int fd = open(argv[0], O_RDONLY);
        if (fd < 0) { perror("open"); return 1; }
        close(fd);
    }
    printf("open_close_us=%.3f\n", (now_us() - t) / m);

    int fd = open(argv[0], O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    static char buf[4096];
    t = now_us();
    for (int i = 0; i < n; i++) {
        if (pread(fd, buf, sizeof buf, 0) != sizeof buf) { perror("pread"); return 1; }
    }
    printf("pread4k_us=%.3f\n", (now_us() - t) / n);
    return 0;
}
