/* check_cpost.c - a c_call that posts a queue at its end, from C
 * (sim/engine/cpost.c; c_call "posts", docs/scenarios.md).
 *
 * A socket send wakes the reader blocked in recv inside the system call,
 * off the GIL (sock_def_readable), then takes the GIL back. A `put` op
 * after the send waits for the sender's GIL first; a `put` before it wakes
 * the reader while the sender still holds the GIL. The post from C does
 * neither: the reader is woken where the send ends, whoever holds the GIL
 * (tests/reality/replay_notes.md, point 36: convoy.py --socket). */
#include <check.h>
#include <stdlib.h>

#include "testutil.h"

#define N_SENDS 30
#define SEND_NS US(100)

/* A CPU-bound thread beside a sender that, after each sleep, runs a little
 * Python and sends (100 us of C releasing the GIL: long enough for the
 * CPU-bound thread, signalled by the send's drop, to take the GIL); a
 * reader gets each send. The send either posts the reader's queue (post)
 * or is followed by a put op (the fit's --send-put-after). */
static gs_model_t *sender_model(uint64_t seed, bool post, int *sender, int *reader)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->seed = seed;
    m->machine.wakeup_jitter_ns = US(10);
    int q = gs_model_add_queue(m, "reply", 0);
    ck_assert_int_ge(q, 0);
    gs_op_t send = tu_c(SEND_NS, true);
    if (post)
        send.posts = q + 1;
    tu_thread(m, "cpu", 1, tu_cpu(MS(400)));
    *sender = post ? tu_thread(m, "sender", 1,
                               tu_repeat(N_SENDS, 3, tu_sleep(MS(1)), tu_cpu(US(20)), send))
                   : tu_thread(m, "sender", 1,
                               tu_repeat(N_SENDS, 4, tu_sleep(MS(1)), tu_cpu(US(20)), send,
                                         tu_sync(GS_OP_PUT, q)));
    *reader = tu_thread(m, "reader", 1,
                        tu_repeat(N_SENDS, 2, tu_sync(GS_OP_GET, q), tu_cpu(US(10))));
    return m;
}

/* thread's intervals in state st, in order; returns how many. */
static int intervals(const gs_trace_t *t, int thread, gs_state_t st, gs_interval_t *v, int max)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, thread));
    int n = 0;
    for (size_t i = 0; i < l->n && n < max; i++)
        if (l->iv[i].state == st)
            v[n++] = l->iv[i];
    return n;
}

/* Who held the GIL of process 0 at t (-1: nobody). */
static int holder_at(const gs_trace_t *t, int64_t at)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].start_ns <= at && at < l->iv[i].end_ns)
            return l->iv[i].who;
    return -1;
}

/* Whether at lies in one of v's n intervals, (start, end]. */
static bool inside(const gs_interval_t *v, int n, int64_t at)
{
    for (int j = 0; j < n; j++)
        if (v[j].start_ns < at && at <= v[j].end_ns)
            return true;
    return false;
}

/* The median time from a send's C code's end (its start plus SEND_NS) to
 * the end of the reader's wait that send ended (the reader's queue waits
 * in order, each matched to the last send begun before it). *n_held: the
 * wake-ups made while the sender held the GIL. */
static int64_t wake_after_send(uint64_t seed, bool post, int *n_held)
{
    int s, r;
    gs_model_t *m = sender_model(seed, post, &s, &r);
    gs_trace_t *t = tu_run(m, NULL);
    gs_interval_t sends[4 * N_SENDS], waits[4 * N_SENDS];
    int ns = intervals(t, s, GS_ST_C_NOGIL, sends, 4 * N_SENDS);
    int nw = intervals(t, r, GS_ST_WAIT_QUEUE, waits, 4 * N_SENDS);
    ck_assert_int_ge(ns, N_SENDS); /* a send cut by a preemption is two */
    ck_assert_int_ge(nw, N_SENDS / 2); /* the reader waited for most */
    int64_t gaps[4 * N_SENDS];
    *n_held = 0;
    for (int k = 0; k < nw; k++) {
        int64_t woke = waits[k].end_ns;
        int j = ns - 1;
        while (j >= 0 && sends[j].start_ns >= woke)
            j--;
        ck_assert_int_ge(j, 0); /* no wake before the first send */
        gaps[k] = woke - (sends[j].start_ns + SEND_NS);
        *n_held += holder_at(t, woke) == s;
    }
    gs_trace_free(t);
    gs_model_free(m);
    return tu_median(gaps, nw);
}

/* The post wakes the reader from inside the send, off the GIL: every wait
 * of the reader ends at a post of the sender, and every post lies in the
 * sender's C without the GIL (without the post the reader is never woken:
 * the run stalls, and tu_run fails). */
START_TEST(test_cpost_reader_woken_at_the_send_end_off_the_gil)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        int s, r;
        gs_model_t *m = sender_model(seed, true, &s, &r);
        gs_trace_t *t = tu_run(m, NULL);
        gs_interval_t sends[4 * N_SENDS], waits[4 * N_SENDS];
        int ns = intervals(t, s, GS_ST_C_NOGIL, sends, 4 * N_SENDS);
        int nw = intervals(t, r, GS_ST_WAIT_QUEUE, waits, 4 * N_SENDS);
        int64_t posts[N_SENDS + 1];
        int np = 0;
        const gs_instant_t *in = gs_trace_instants(t);
        for (size_t i = 0; i < gs_trace_n_instants(t); i++)
            if (in[i].kind == GS_IN_QUEUE_LEN && in[i].thread == s) {
                ck_assert_int_lt(np, N_SENDS);
                posts[np++] = in[i].t_ns;
                ck_assert_msg(inside(sends, ns, in[i].t_ns), "seed %d: a post at %lld outside "
                              "the sends", (int)seed, (long long)in[i].t_ns);
                ck_assert_int_ne(holder_at(t, in[i].t_ns), s);
            }
        ck_assert_int_eq(np, N_SENDS);
        for (int k = 0; k < nw; k++) {
            bool at_a_post = false;
            for (int j = 0; j < np && !at_a_post; j++)
                at_a_post = posts[j] == waits[k].end_ns;
            ck_assert_msg(at_a_post, "seed %d: wait %d ended at %lld, at no post", (int)seed, k,
                          (long long)waits[k].end_ns);
        }
        gs_trace_free(t);
        gs_model_free(m);
    }
}
END_TEST

/* The CPU-bound thread takes the GIL while the sender is in its send; a
 * put after the send then waits for the sender to win the GIL back, about
 * a switch interval (5 ms), while the post from C wakes the reader as the
 * send's C code ends (within the futex call of the send's own drop). */
START_TEST(test_cpost_wake_does_not_wait_for_the_senders_gil)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        int held_post, held_put;
        int64_t post = wake_after_send(seed, true, &held_post);
        int64_t put = wake_after_send(seed, false, &held_put);
        ck_assert_msg(post >= 0 && post <= US(5), "seed %d: the post woke %lld ns after the "
                      "send's C code", (int)seed, (long long)post);
        ck_assert_int_eq(held_post, 0);
        ck_assert_msg(put >= MS(1), "seed %d: a put after the send woke %lld ns after it",
                      (int)seed, (long long)put);
        ck_assert_int_gt(held_put, N_SENDS / 2); /* the put is made holding the GIL */
    }
}
END_TEST

/* A post needs a queue that exists and never waits for room. */
START_TEST(test_cpost_model_check_refuses_a_bounded_or_missing_queue)
{
    int s, r;
    gs_model_t *m = sender_model(1, true, &s, &r);
    gs_error_t err;
    ck_assert_int_eq(gs_model_check(m, &err), 0);
    m->queues[0].maxsize = 1;
    ck_assert_int_eq(gs_model_check(m, &err), GS_ESCENARIO);
    ck_assert_str_eq(err.msg, "a c_call posts to an unbounded queue that exists");
    m->queues[0].maxsize = 0;
    m->threads[s].program[0].body[2].posts = 2; /* queue 1: none */
    ck_assert_int_eq(gs_model_check(m, &err), GS_ESCENARIO);
    gs_model_free(m);
}
END_TEST

static Suite *cpost_suite(void)
{
    Suite *s = suite_create("cpost");
    TCase *tc = tcase_create("props");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cpost_reader_woken_at_the_send_end_off_the_gil);
    tcase_add_test(tc, test_cpost_wake_does_not_wait_for_the_senders_gil);
    TCase *lim = tcase_create("limits");
    tcase_add_test(lim, test_cpost_model_check_refuses_a_bounded_or_missing_queue);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, lim);
    return s;
}

int main(void)
{
    return tu_main(cpost_suite());
}
