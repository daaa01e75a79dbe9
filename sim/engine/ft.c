/* ft.c - free-threaded CPython: shared-object contention, stop-the-world
 * pauses, and the GIL switched back on by an import.
 *
 * Contention (PEP 703 "Reference Counting", "Python Critical Sections";
 * Python/lock.c): a cpu op may read or write a shared object once every
 * `every` of its own Python time. At each instant, k threads are running
 * Python on that object (on a core, in such an op), kw of them writing.
 *   - refcounting: an access is an atomic on the object's reference count,
 *     a cache line the k threads pass around, one at a time. Below
 *     saturation an access finds the line on another core with probability
 *     (k - 1) / k and pays one transfer (refcount); at saturation the line
 *     serves one access per transfer, so each thread's period between
 *     accesses is at least k * refcount, and the threads together make one
 *     access per transfer however many they are (ftscalingbench's
 *     contended loops are "slower than one thread" at every thread count).
 *     Period = max(every + refcount (k-1)/k, k refcount). Immortal objects (None, small ints, interned strings) and
 *     functions (immortalised in 3.13t once a second thread starts, deferred
 *     refcounting in 3.14t) have no such traffic.
 *   - writes hold the object's PyMutex for pymutex_hold. While the writers'
 *     demand kw * hold fits in one access period, a write waits for about
 *     half the others' holds (PyMutex spins first); once it does not, the
 *     lock is saturated, every write parks and is handed over
 *     (pymutex_park: a futex wait, a wake-up), and the writers' period is
 *     kw * (hold + park). PyMutex hands the lock straight to a waiter that
 *     waited 1 ms, so writers share it fairly over a run: the model gives
 *     each the same share.
 *   `every` is Python work, so a slower build (slowdown) spaces the
 *   accesses out; the line's transfer does not slow down with it.
 *   So the op runs at 1 / stretch of its speed, stretch = period / every,
 *   recomputed for every accessor of an object whenever k or kw changes (a
 *   thread starts or stops running on it). It is a rate model, not one event
 *   per access: a run with a million accesses costs a few events.
 * Stop-the-world (Python/pystate.c _PyEval_StopTheWorld): gc and enabling
 *   the GIL pause every other thread of the process that is executing: its
 *   current segment ends that much later. Threads off a core are not delayed.
 * The GIL switched on (gh-116322, PR #118560): importing an extension that
 *   does not declare Py_mod_gil, on a free-threaded build whose GIL is off
 *   and without PYTHON_GIL=0, stops the world and enables the GIL for good
 *   (cpython3 from then on): every thread running Python must take it.
 * kernel.c counts the sharers as threads change state; ft.c re-times them.
 * Invariants: obj_k[o] counts the threads with `accessing` on o, obj_kw[o]
 * the writers among them; stretch_ppm >= 1000000, and 1000000 unless
 * accessing. */
#include "ft.h"
#include "engine_int.h"
#include "gil.h"
#include "kernel.h"
#include "os.h"

#include <stdlib.h>

#define PPM INT64_C(1000000)

int gs__ft_init(gs_engine_t *e)
{
    int n = e->m->n_objects;
    if (n == 0)
        return 0;
    e->obj_k = calloc((size_t)n, sizeof *e->obj_k);
    e->obj_kw = calloc((size_t)n, sizeof *e->obj_kw);
    return e->obj_k && e->obj_kw ? 0 : GS_ENOMEM;
}

void gs__ft_destroy(gs_engine_t *e)
{
    free(e->obj_k);
    free(e->obj_kw);
}

static bool contends(const gs_engine_t *e, int o)
{
    gs_obj_kind_t k = e->m->objects[o].kind;
    return k == GS_OBJ_DICT || k == GS_OBJ_LIST || k == GS_OBJ_OBJECT;
}

static int64_t stretch_of(const gs_engine_t *e, const gs_thr_t *t)
{
    int o = t->acc_obj - 1;
    const gs_python_t *py = &e->m->processes[t->process].python;
    int64_t k = e->obj_k[o], kw = e->obj_kw[o];
    /* `every` is Python work: a build that runs Python slower (3.13t) spaces
     * the accesses out by as much; the cache line does not get slower */
    int64_t every = t->acc_every;
    if (py->free_threaded || py->gil == GS_GIL_NONE)
        every = every * py->slowdown_pct / 100;
    if (every < 1)
        every = 1;
    int64_t period = every;
    if (contends(e, o) && k > 1) {
        /* the line is one server: an access finds it on another core with
         * probability (k-1)/k and pays a transfer; and k threads cannot
         * get it more often than once per transfer each */
        int64_t c = py->refcount_ns;
        int64_t miss = every + c * (k - 1) / k, saturated = k * c;
        period = miss > saturated ? miss : saturated;
    }
    if (t->acc_writes && kw > 1) {
        int64_t demand = kw * py->pymutex_hold_ns;
        if (demand < period)
            period += (kw - 1) * py->pymutex_hold_ns * demand / period / 2;
        else if (kw * (py->pymutex_hold_ns + py->pymutex_park_ns) > period)
            period = kw * (py->pymutex_hold_ns + py->pymutex_park_ns);
    }
    int64_t s = period * PPM / every;
    return s < PPM ? PPM : s;
}

/* EV_FT: object o's sharers changed (kernel.c counted them): each thread
 * running on it goes on at its new speed. */
void gs__ft_retime(gs_engine_t *e, int o)
{
    for (int i = 0; i < e->n_thr; i++) {
        gs_thr_t *u = &e->thr[i];
        if (!u->accessing || u->acc_obj != o + 1)
            continue;
        gs__os_account(e, u); /* at the old speed */
        int64_t s = stretch_of(e, u);
        if (s == u->stretch_ppm)
            continue;
        u->stretch_ppm = s;
        gs__thr_timer(e, u, e->now + gs__ft_wall(u, u->remaining_ns));
    }
}

/* Every other executing thread of t's process stands still for ns. */
static void stop_the_world(gs_engine_t *e, gs_thr_t *t, int64_t ns)
{
    if (ns <= 0)
        return;
    for (int i = 0; i < e->n_thr; i++) {
        gs_thr_t *u = &e->thr[i];
        if (u == t || u->process != t->process || u->os != OS_ON || !u->exec_active)
            continue;
        gs__os_account(e, u);
        u->remaining_ns += u->accessing ? gs__ft_progress(u, ns) : ns;
        if (!u->in_sys)
            gs__thr_timer(e, u, e->now + gs__ft_wall(u, u->remaining_ns));
    }
    gs__trace_instant(e->trace, e->now, GS_IN_STOP_THE_WORLD, t->id, t->process, ns);
}

/* M_FT of a gc or import request; the C time of the op follows it. */
void gs__ft_step(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    const gs_python_t *py = g->py;
    if (t->req.kind == RQ_GC) {
        if (py->free_threaded || py->gil == GS_GIL_NONE)
            stop_the_world(e, t, py->stw_ns + t->req.ns);
        return;
    }
    /* import: an extension without Py_mod_gil on a build whose GIL is off */
    if (t->req.target || g->kind != GS_GIL_NONE || py->python_gil == 0 || !py->free_threaded)
        return;
    stop_the_world(e, t, py->stw_ns);
    t->req.ns += py->stw_ns; /* the importer waits for the world to stop too */
    gs__gil_switch_on(e, t);
}
