/* scale.c - a thread's fitted CPU ops brought down to the kernel's CPU time
 * of it, and where the time it had no core is taken from.
 *
 * A recording's spans hold the time a thread was runnable without a core:
 * its own program's threads outnumbering the cores, and other programs'.
 * Both are the model's to add, the first by itself, the second as the
 * fitted other load (load.c), so where the kernel counted less CPU time
 * than the fitted CPU ops (cpu, c_call), they are brought down to it.
 *
 * Where from: a C call that releases the GIL runs as long whether or not
 * others run beside it (examples/mixed_pool.py's sha256 of 512 KiB: 290-305
 * us of CPU time alone, beside another one and beside Python, on the
 * project's two vCPUs; tests/reality/mixed_trace.py --overlap), so a call
 * much longer than the median of its name's calls spent the difference
 * without a core (traced: the kernel ran another thread on its CPU). Those
 * excesses give the thread's lost time first; the rest is taken from every
 * CPU op evenly. Taking it all evenly took it from the Python, which the
 * GIL serialises: mixed_pool's workers kept 76-83% of their held Python and
 * its replay on the recorded two cores ended 17-23% early. The median, not
 * the least call: a name's calls may differ in size, and a long call stays
 * as it is unless the thread's own account says it lost that time.
 * Source: docs/validation.md, "Replays", point 13. */
#include "fit_int.h"

#include <stdlib.h>

static int cmp_typical(const void *a, const void *b)
{
    const fit_typical_t *x = a, *y = b;
    if (x->name != y->name)
        return (uintptr_t)x->name < (uintptr_t)y->name ? -1 : 1;
    return (x->off > y->off) - (x->off < y->off);
}

size_t fit_typical_build(fit_typical_t *v, size_t n)
{
    size_t out = 0;
    qsort(v, n, sizeof *v, cmp_typical);
    for (size_t a = 0, b; a < n; a = b) {
        for (b = a; b < n && v[b].name == v[a].name; b++)
            ;
        if (b - a >= FIT_TYPICAL_MIN)
            v[out++] = (fit_typical_t){v[a].name, v[a + (b - a) / 2].off};
    }
    return out;
}

int64_t fit_typical_late(const fit_typical_t *v, size_t n, const char *name, int64_t off)
{
    for (size_t k = 0; k < n; k++)
        if (v[k].name == name)
            return off > v[k].off ? off - v[k].off : 0;
    return 0;
}

/* Takes up to `lost` from the thread's late C calls, in proportion to how
 * late each was; returns what it took. */
static int64_t take_late_c_calls(fthread_t *ft, int64_t lost)
{
    int64_t late = 0;
    for (int k = 0; k < ft->ops.n; k++)
        late += ft->ops.v[k].kind == FOP_CCALL ? ft->ops.v[k].late : 0;
    if (late <= 0)
        return 0;
    int64_t take = late < lost ? late : lost, taken = 0;
    for (int k = 0; k < ft->ops.n; k++) {
        fop_t *op = &ft->ops.v[k];
        if (op->kind != FOP_CCALL || op->late <= 0)
            continue;
        int64_t d = (int64_t)((long double)op->late * take / late + 0.5L);
        d = d < op->dur ? d : op->dur;
        op->dur -= d;
        taken += d;
    }
    return taken;
}

/* A socket send's work is the same for messages of a size: queue the bytes,
 * wake the reader (examples/http_server.py traced beside a recording,
 * tests/reality/send_trace.py: a client's request took 9.2 to 10.6 us off
 * the GIL, quartiles, when the handler it woke was queued on its CPU; 18 to
 * 98 us when another program held the CPU it woke). A send far longer than
 * the thread's median was preempted, and the kernel's run delay of the
 * thread says whether it had that much time without a core: then the send
 * is fitted at the median, and the model makes the preemption itself
 * (placement, the other load). Left as they were, a few sends of a
 * millisecond made a repeat block's send uniform from 6 to 105 us around a
 * 10 us median, and the replayed reader, woken 20 us after the request,
 * took the GIL before its sender came back in most requests. */
int fit_sends_to_median(fscenario_t *f, int i, int64_t run_delay_ns)
{
    fthread_t *ft = &f->th[i];
    int n = 0;
    for (int k = 0; k < ft->ops.n; k++)
        n += ft->ops.v[k].kind == FOP_CCALL && ft->ops.v[k].send;
    if (n < FIT_TYPICAL_MIN)
        return 0;
    int64_t *d = malloc((size_t)n * sizeof *d);
    if (!d)
        return -1;
    n = 0;
    for (int k = 0; k < ft->ops.n; k++)
        if (ft->ops.v[k].kind == FOP_CCALL && ft->ops.v[k].send)
            d[n++] = ft->ops.v[k].dur;
    qsort(d, (size_t)n, sizeof *d, fit_cmp_i64);
    if (run_delay_ns < 0)
        run_delay_ns = 0; /* unknown: nothing is known to be time without a core */
    int64_t med = d[n / 2], over = 0;
    for (int k = 0; k < n; k++)
        over += d[k] > med ? d[k] - med : 0;
    free(d);
    bool cut = over > 0 && over <= run_delay_ns;
    for (int k = 0; k < ft->ops.n; k++) {
        fop_t *op = &ft->ops.v[k];
        if (op->kind != FOP_CCALL || !op->send)
            continue;
        /* late against the thread's own sends (a request and a reply differ
         * in size), for fit_scale_to_os_cpu when the run delay does not
         * cover them */
        op->late = op->dur > med ? op->dur - med : 0;
        if (cut && op->dur > med) {
            op->dur = med;
            op->late = 0;
        }
    }
    if (!cut)
        return 0;
    ft->st.send_late_ns = over;
    ft->st.send_median_ns = med;
    return 0;
}

void fit_scale_to_os_cpu(fscenario_t *f, int i, int64_t os_cpu_ns)
{
    fthread_t *ft = &f->th[i];
    int64_t fitted = 0;
    for (int k = 0; k < ft->ops.n; k++)
        if (ft->ops.v[k].kind == FOP_CPU || ft->ops.v[k].kind == FOP_CCALL)
            fitted += ft->ops.v[k].dur;
    if (os_cpu_ns < 0 || fitted <= 0 || os_cpu_ns >= fitted)
        return;
    ft->st.os_cpu_ns = os_cpu_ns;
    ft->st.raw_cpu_ns = fitted;
    ft->st.c_late_ns = take_late_c_calls(ft, fitted - os_cpu_ns);
    long double s = (long double)os_cpu_ns / (fitted - ft->st.c_late_ns);
    s = s < 1 ? s : 1;
    ft->st.sum[FOP_CPU] = ft->st.sum[FOP_CCALL] = 0;
    for (int k = 0; k < ft->ops.n; k++) {
        fop_t *op = &ft->ops.v[k];
        if (op->kind != FOP_CPU && op->kind != FOP_CCALL)
            continue;
        op->dur = (int64_t)(op->dur * s + 0.5L);
        ft->st.sum[op->kind] += op->dur;
    }
    ft->st.cpu_scale = (double)s;
    f->n_scaled++;
}
