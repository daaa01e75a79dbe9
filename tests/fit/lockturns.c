/* lockturns.c - the --lock-race tests' hand-made recording (lockturns.h). */
#include "lockturns.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void lockturns_write(char *path, int rounds, int cpu0, int cpu1)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"p.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
            " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": %d,\n"
            " \"calibration\": {\"syscall_ns\": 300, \"wake_hot_ns\": 20000, "
            "\"context_switch_ns\": %d, \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 10000},\n"
            " \"threads\": [\n",
            LT_T0 + (rounds + 1) * LT_P, LT_CS);
    for (int me = 0; me < 2; me++) {
        int cpu = me == 0 ? cpu0 : cpu1;
        char c[16] = "";
        if (cpu >= 0)
            snprintf(c, sizeof c, ", %d", cpu);
        fprintf(f, "  {\"name\": \"t%d\", \"events\": [[0, \"start\"%s]", me, c);
        if (me == 0)
            fprintf(f, ", [0, \"ask\"%s], [1000, \"hold\"%s]", c, c);
        else
            fprintf(f, ", [5000, \"release\", \"call\"%s], [5100, \"lock_wait\", %d, 4242%s]", c,
                    LT_T0 + 5000, c);
        for (int r = 0; r <= rounds; r++) {
            long t = LT_T0 + (long)r * LT_P;
            bool posts = r % 2 == me; /* the holder of round r posts at t */
            if (posts && r < rounds)
                fprintf(f,
                        ", [%ld, \"lock_post\", 4242%s], [%ld, \"signal\", %d%s],"
                        " [%ld, \"release\", \"call\"%s], [%ld, \"lock_wait\", %ld, 4242%s]",
                        t, c, t + 5500 + LT_CS + LT_GAP, 1 - me, c, t + 11000, c, t + 11500,
                        t + LT_P + 5000, c);
            else if (posts)
                fprintf(f, ", [%ld, \"lock_post\", 4242%s], [%ld, \"release\", \"exit\"%s]", t, c,
                        t + 1000, c);
            else if (r < rounds)
                fprintf(f, ", [%ld, \"ask\"%s], [%ld, \"hold\"%s]", t + 5500, c, t + 11200, c);
            else
                fprintf(f, ", [%ld, \"ask\"%s], [%ld, \"hold\"%s], [%ld, \"release\", \"exit\"%s]",
                        t + 5500, c, t + 6000, c, t + 50000, c);
        }
        long end = LT_T0 + (long)rounds * LT_P + (rounds % 2 == me ? 1000 : 50000);
        fprintf(f, ", [%ld, \"end\"%s]]}%s\n", end, c, me == 0 ? "," : "");
    }
    fprintf(f, "]}\n");
    fclose(f);
}
