/* bench_timeit K CMD... [';;' CMD...]... - wall time of whole commands.
 *
 * Runs the commands in turn, K rounds (1st, 2nd, ..., 1st, 2nd, ...), so a
 * slow spell of the machine touches all of them alike, and prints one line
 * per command: "median_ms min_ms". Output of the commands goes to /dev/null.
 * Timed from fork to reaped exit: what a user waiting for the shell sees.
 * Used by bench_cli.sh (the sweep scaling figures of docs/performance.md). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int k = argc > 2 ? atoi(argv[1]) : 0;
    if (k < 1) {
        fprintf(stderr, "usage: bench_timeit ROUNDS CMD [ARGS...] [';;' CMD [ARGS...]]...\n");
        return 1;
    }
    char **cmds[64];
    int n = 0;
    cmds[n++] = &argv[2];
    for (int i = 2; i < argc && n < 64; i++)
        if (strcmp(argv[i], ";;") == 0) {
            argv[i] = NULL;
            cmds[n++] = &argv[i + 1];
        }
    double *t = calloc((size_t)(k * n), sizeof *t);
    if (!t)
        return 1;
    for (int r = 0; r < k; r++)
        for (int c = 0; c < n; c++) {
            double t0 = now_ms();
            pid_t pid = fork();
            if (pid < 0) {
                perror("bench_timeit: fork");
                return 1;
            }
            if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execvp(cmds[c][0], cmds[c]);
                _exit(127);
            }
            int st;
            waitpid(pid, &st, 0);
            t[c * k + r] = now_ms() - t0;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "bench_timeit: '%s' failed (status %d)\n", cmds[c][0], st);
                return 1;
            }
        }
    for (int c = 0; c < n; c++) {
        qsort(t + c * k, (size_t)k, sizeof *t, by_value);
        printf("%.2f %.2f\n", t[c * k + k / 2], t[c * k]);
    }
    free(t);
    return 0;
}
