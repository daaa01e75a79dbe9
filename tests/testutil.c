/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gs_op_t op(gs_op_kind_t k, int64_t ns)
{
    gs_op_t o;
    memset(&o, 0, sizeof o);
    o.kind = k;
    o.dur.dist = GS_DIST_FIXED;
    o.dur.a_ns = ns;
    o.id = UINT32_MAX;
    o.target = -1;
    return o;
}

gs_op_t tu_cpu(int64_t ns)
{
    return op(GS_OP_CPU, ns);
}
gs_op_t tu_io(int64_t ns)
{
    return op(GS_OP_IO, ns);
}
gs_op_t tu_sleep(int64_t ns)
{
    return op(GS_OP_SLEEP, ns);
}
gs_op_t tu_c(int64_t ns, bool releases_gil)
{
    gs_op_t o = op(GS_OP_C_CALL, ns);
    o.releases_gil = releases_gil;
    return o;
}
gs_op_t tu_sync(gs_op_kind_t k, int target)
{
    gs_op_t o = op(k, 0);
    o.target = target;
    return o;
}

static gs_op_t *copy_ops(int n, va_list ap)
{
    gs_op_t *v = calloc((size_t)n + 1, sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < n; i++)
        v[i] = va_arg(ap, gs_op_t);
    return v;
}

gs_op_t tu_repeat(int64_t count, int n, ...)
{
    gs_op_t o = op(GS_OP_REPEAT, 0);
    va_list ap;
    va_start(ap, n);
    o.body = copy_ops(n, ap);
    va_end(ap);
    o.n_body = n;
    o.count = count;
    return o;
}

gs_model_t *tu_model(int cores, gs_policy_t policy, gs_gil_kind_t gil)
{
    gs_model_t *m = gs_model_new();
    ck_assert_ptr_nonnull(m);
    m->machine.cores = cores;
    m->machine.policy = policy;
    m->processes[0].python.gil = gil;
    m->seed = 1;
    return m;
}

static int add_thread(gs_model_t *m, int process, const char *name, int n, va_list ap)
{
    int t = gs_model_add_thread(m, name, process);
    ck_assert_int_ge(t, 0);
    m->threads[t].program = copy_ops(n, ap);
    m->threads[t].n_program = n;
    return t;
}

int tu_thread(gs_model_t *m, const char *name, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    int t = add_thread(m, 0, name, n, ap);
    va_end(ap);
    return t;
}

int tu_thread_in(gs_model_t *m, int process, const char *name, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    int t = add_thread(m, process, name, n, ap);
    va_end(ap);
    return t;
}

gs_trace_t *tu_run(const gs_model_t *m, int *rc_out)
{
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, NULL, &t, &err);
    if (rc_out)
        *rc_out = rc;
    else
        ck_assert_msg(rc == 0, "run failed: %s (%s)", gs_strerror(rc), err.msg);
    ck_assert_ptr_nonnull(t);
    gs_error_t inv;
    int bad = gs_trace_check(t, &inv);
    ck_assert_msg(bad == 0, "invariant: %s", inv.msg);
    return t;
}

static const gs_lane_t *tlane(const gs_trace_t *t, int thread)
{
    return gs_trace_lane(t, gs_trace_thread_lane(t, thread));
}

int64_t tu_time_in(const gs_trace_t *t, int thread, gs_state_t st)
{
    const gs_lane_t *l = tlane(t, thread);
    int64_t sum = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].state == st)
            sum += l->iv[i].end_ns - l->iv[i].start_ns;
    return sum;
}

int64_t tu_finish(const gs_trace_t *t, int thread)
{
    const gs_lane_t *l = tlane(t, thread);
    return l->n ? l->iv[l->n - 1].end_ns : -1;
}

int64_t tu_last_finish(const gs_trace_t *t, int n)
{
    if (n < 0)
        n = gs_trace_n_threads(t);
    int64_t end = 0;
    for (int i = 0; i < n; i++)
        if (tu_finish(t, i) > end)
            end = tu_finish(t, i);
    return end;
}

int64_t tu_run_last_finish(gs_model_t *m, int n)
{
    gs_trace_t *t = tu_run(m, NULL);
    int64_t end = tu_last_finish(t, n);
    gs_trace_free(t);
    gs_model_free(m);
    return end;
}

int64_t tu_count(const gs_trace_t *t, gs_instant_kind_t k, int thread)
{
    const gs_instant_t *in = gs_trace_instants(t);
    int64_t n = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t); i++)
        if (in[i].kind == k && (thread < 0 || in[i].thread == thread))
            n++;
    return n;
}

int tu_io_to_gil(const gs_trace_t *t, int thread, int64_t *out, int max)
{
    const gs_lane_t *l = tlane(t, thread);
    int n = 0;
    for (size_t i = 0; i < l->n && n < max; i++) {
        if (l->iv[i].state != GS_ST_IO && l->iv[i].state != GS_ST_SLEEP)
            continue;
        int64_t end = l->iv[i].end_ns;
        for (size_t j = i + 1; j < l->n; j++)
            if (gs_interval_holds_gil(&l->iv[j])) {
                out[n++] = l->iv[j].start_ns - end;
                break;
            }
    }
    return n;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t tu_median(int64_t *v, int n)
{
    if (n == 0)
        return -1;
    qsort(v, (size_t)n, sizeof *v, cmp64);
    return v[n / 2];
}

int64_t tu_longest_gil_wait(const gs_trace_t *t, int thread)
{
    const gs_lane_t *l = tlane(t, thread);
    int64_t best = 0, start = -1;
    for (size_t i = 0; i < l->n; i++) {
        int st = l->iv[i].state;
        bool waiting = st == GS_ST_WAIT_GIL || st == GS_ST_READY || st == GS_ST_SWITCH;
        if (waiting && start < 0)
            start = l->iv[i].start_ns;
        if (!waiting)
            start = -1;
        if (start >= 0 && l->iv[i].end_ns - start > best)
            best = l->iv[i].end_ns - start;
    }
    return best;
}

char *tu_dump(const gs_trace_t *t, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gs_trace_dump(t, f), 0);
    fclose(f);
    return buf;
}

void tu_text_add(tu_text_t *b, const char *sep, const char *fmt, ...)
{
    size_t k0 = strlen(sep);
    if (b->n) {
        ck_assert(b->n + k0 < sizeof b->s);
        memcpy(b->s + b->n, sep, k0);
        b->n += k0;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    ck_assert(k >= 0 && (size_t)k < sizeof b->s - b->n);
    b->n += (size_t)k;
}

void tu_requester_takes(const gs_trace_t *t, int *n, int *won)
{
    const gs_instant_t *in = gs_trace_instants(t);
    const gs_lane_t *gl = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    size_t k = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t); i++) {
        if (in[i].kind != GS_IN_DROP_REQUEST || in[i].process != 0)
            continue;
        while (k < gl->n && (gl->iv[k].start_ns <= in[i].t_ns || gl->iv[k].who < 0))
            k++;
        if (k == gl->n)
            break;
        (*n)++;
        *won += gl->iv[k].who == in[i].thread;
    }
}
