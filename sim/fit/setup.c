/* setup.c - what a fitted scenario takes from the recording before any
 * thread is fitted: the machine's costs and the threads' names. */
#include "fit_int.h"
#include "recfile_int.h"

#include <stdio.h>
#include <string.h>

/* The machine's costs: from the recording's calibration, else the defaults
 * (docs/scenarios.md). tests/reality/scenarios.py sets the same keys from
 * the same measurements. */
void fit_machine_costs(const gsr_recording_t *r, fscenario_t *f)
{
    f->wakeup_ns = 20000;
    f->context_switch_ns = 2000;
    if (!r->has_calibration)
        return;
    f->calibrated = true;
    f->wakeup_ns = r->cal_wake_hot_ns < r->cal_wake_cold_ns ? r->cal_wake_hot_ns
                                                            : r->cal_wake_cold_ns;
    f->context_switch_ns = r->cal_context_switch_ns;
    f->timer_jitter_ns = r->cal_timer_jitter_ns;
    int64_t slack = r->cal_wake_cold_ns - f->wakeup_ns - f->timer_jitter_ns / 2;
    f->timer_slack_ns = slack > 0 ? slack : 0;
}

/* A thread name the scenario accepts: at most 64 bytes (cut at a UTF-8
 * boundary), no control characters, unique (else " #i"). */
void fit_name_thread(fscenario_t *f, int i, const char *raw)
{
    char *d = f->th[i].name;
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)raw; *s && n < 60; s++)
        d[n++] = *s < 0x20 || *s == 0x7f ? '?' : (char)*s;
    while (n > 0 && ((unsigned char)d[n - 1] & 0xC0) == 0x80) /* a cut sequence */
        n--;
    if (n > 0 && ((unsigned char)d[n - 1] & 0xC0) == 0xC0)
        n--;
    d[n] = 0;
    if (!n)
        snprintf(d, 72, "thread-%d", i);
    for (int j = 0; j < i; j++)
        if (strcmp(f->th[j].name, d) == 0) {
            char tmp[72];
            snprintf(tmp, sizeof tmp, "%.50s #%d", d, i);
            memcpy(d, tmp, sizeof tmp);
            break;
        }
}

