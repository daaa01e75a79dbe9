/* check_delayed.c - EEVDF's delayed dequeue meets the tick (engine internals).
 *
 * Linux 6.12+ keeps a thread that blocks while not eligible on its CPU's run
 * queue, "delayed" (DELAY_DEQUEUE), counted in the queue's average vruntime
 * V, until a pick meets it or it wakes (kernel/sched/fair.c dequeue_entity,
 * pick_next_entity, finish_delayed_dequeue_entity). A delayed thread stays
 * counted in cfs_rq->nr_running, so when the running thread uses its slice,
 * the tick's update_curr -> update_deadline asks for a reschedule even with
 * nothing else runnable (nr_running > 1), and the pick (pick_eevdf) meets the
 * delayed thread: once it is eligible with an earlier deadline than the
 * running thread's new one, it is dequeued there, its lag zeroed
 * (DELAY_ZERO), and the running thread goes on. So on a core whose thread
 * runs alone a delayed thread does not stay delayed much longer than V takes
 * to catch up with it and one more slice and tick. These tests look at the
 * engine's own state (delayed_core) from a C body on that core. */
#include <check.h>

#include "engine_int.h"
#include "testutil.h"

typedef struct watch {
    int other;            /* the thread that blocks delayed */
    int64_t last_delayed; /* the last look that saw it delayed, -1 none */
    int64_t first_delayed;
} watch_t;

/* 80 ms of Python in 0.5 ms steps, looking at the other thread after each. */
static void runner(gs_ctx_t *c, void *user)
{
    watch_t *w = user;
    for (int i = 0; i < 160; i++) {
        gs_cpu(c, US(500));
        const gs_thr_t *o = &c->e->thr[w->other];
        if (o->delayed_core >= 0) {
            if (w->first_delayed < 0)
                w->first_delayed = c->e->now;
            w->last_delayed = c->e->now;
        }
    }
}

/* One core, eevdf, a queue per core (one V per core: the delayed dequeue),
 * no GIL, the base slice 0.75 ms and a 4 ms tick. A thread that runs 6 ms,
 * then sleeps `nap` (and runs 1 ms), and the runner: the two share the core
 * by ticks, the sleeper first (0-4 ms), the runner (4-8 ms), the sleeper
 * again (8-10 ms): it has run 6 ms against 4, V is 5, and it blocks 1 ms
 * past V, not eligible: delayed, with a deadline of about 4.7 ms. V reaches
 * it when the runner has run 6 ms (at 12 ms), and the runner's slice end
 * there gives the runner a deadline of 6.7 ms: the pick meets the sleeper,
 * eligible with the earlier deadline. Returns when the sleeper blocked; *w
 * has what the runner saw. */
static int64_t delayed_beside_a_lone_runner(int64_t nap, watch_t *w)
{
    gs_model_t *m = tu_model(1, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.per_core_queues = true;
    m->machine.timer_wake_local = true;
    m->machine.eevdf_slice_ns = US(750);
    m->machine.tick_ns = MS(4);
    int s = tu_thread(m, "sleeper", 3, tu_cpu(MS(6)), tu_sleep(nap), tu_cpu(MS(1)));
    int r = gs_model_add_thread(m, "runner", 0);
    *w = (watch_t){s, -1, -1};
    gs_model_set_body(m, r, runner, w, NULL);
    gs_trace_t *t = tu_run(m, NULL);
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, s));
    int64_t blocked = -1;
    for (size_t i = 0; i < l->n && blocked < 0; i++)
        if (l->iv[i].state == GS_ST_SLEEP)
            blocked = l->iv[i].start_ns;
    gs_trace_free(t);
    gs_model_free(m);
    return blocked;
}

/* Whatever the figures above, a thread blocks delayed at most a tick (4 ms
 * of lag) past V: V catches up once the runner has run 2 x 4 ms more, the
 * sleeper's deadline is then at most a slice on, and the runner's next
 * slice end after that is within a slice and a tick: the sleeper must have
 * left by 8 + 0.75 + 0.75 + 4 + 4 ms (rounding to ticks) after it blocked,
 * long before it wakes 60 ms later. Before the slice end settled delayed
 * threads with nobody ready (os.c slice_over_preempts returned first), it
 * stayed delayed until it woke, 60 ms, counted in V all along. */
START_TEST(test_delayed_a_sleeper_behind_a_lone_runner_leaves_at_a_slice_end)
{
    watch_t w;
    int64_t blocked = delayed_beside_a_lone_runner(MS(60), &w);
    ck_assert_int_gt(blocked, 0);
    ck_assert_msg(w.first_delayed >= blocked && w.first_delayed <= blocked + US(500),
                  "the sleeper (blocked at %lld ns) was first seen delayed at %lld ns",
                  (long long)blocked, (long long)w.first_delayed);
    ck_assert_msg(w.last_delayed <= blocked + MS(18),
                  "the sleeper (blocked at %lld ns) was still delayed at %lld ns",
                  (long long)blocked, (long long)w.last_delayed);
}
END_TEST

static Suite *delayed_suite(void)
{
    Suite *s = suite_create("delayed");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_delayed_a_sleeper_behind_a_lone_runner_leaves_at_a_slice_end);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return tu_main(delayed_suite());
}
