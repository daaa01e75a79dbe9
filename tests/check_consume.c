/* check_consume.c - end markers in a queue and the consume loop
 * (`for item in iter(q.get, None)`, sim/engine/qend.c): a get takes a
 * marker in its FIFO turn, a consumer leaves its loop on it, and two
 * consumers split the items as the run goes, each ending shortly after the
 * producer's last put. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define N_ITEMS 60
/* C keeping the GIL, once per item a consumer takes: its count (the
 * thread's other C holding the GIL, its start and exit, is a few us) */
#define BODY_C_NS US(50)

static gs_op_t consume(int queue, int n, const gs_op_t *body)
{
    gs_op_t o;
    memset(&o, 0, sizeof o);
    o.kind = GS_OP_CONSUME;
    o.id = UINT32_MAX;
    o.target = queue;
    o.body = calloc((size_t)n + 1, sizeof *o.body);
    ck_assert_ptr_nonnull(o.body);
    memcpy(o.body, body, (size_t)n * sizeof *body);
    o.n_body = n;
    return o;
}

static gs_op_t put_end(int queue)
{
    gs_op_t o = tu_sync(GS_OP_PUT, queue);
    o.end = true;
    return o;
}

/* A producer (thread 0) of N_ITEMS, then `first` markers, then `later`
 * more items and one marker each for the remaining consumers; two
 * consumers (1, 2) whose turn is C of BODY_C_NS and Python drawn
 * from 5 to 200 us. */
static gs_model_t *producer_consumers(int later)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int q = gs_model_add_queue(m, "jobs", 4);
    gs_op_t py = tu_cpu(US(5));
    py.dur.dist = GS_DIST_UNIFORM;
    py.dur.b_ns = US(200);
    gs_op_t body[2] = {tu_c(BODY_C_NS, false), py};
    if (later == 0)
        tu_thread(m, "producer", 3, tu_repeat(N_ITEMS, 2, tu_cpu(US(3)), tu_sync(GS_OP_PUT, q)),
                  put_end(q), put_end(q));
    else /* a marker between items: one consumer leaves, the other takes the rest */
        tu_thread(m, "producer", 4, tu_repeat(N_ITEMS - later, 2, tu_cpu(US(3)), tu_sync(GS_OP_PUT, q)),
                  put_end(q), tu_repeat(later, 2, tu_cpu(US(3)), tu_sync(GS_OP_PUT, q)), put_end(q));
    tu_thread(m, "consumer1", 2, consume(q, 2, body), tu_cpu(US(10)));
    tu_thread(m, "consumer2", 2, consume(q, 2, body), tu_cpu(US(10)));
    return m;
}

static int64_t items_of(const gs_trace_t *t, int thread)
{
    int64_t c = tu_time_in(t, thread, GS_ST_C_GIL);
    ck_assert_int_lt(c % BODY_C_NS, BODY_C_NS / 2);
    return c / BODY_C_NS;
}

START_TEST(test_consume_split_is_the_runs_and_both_end_with_the_producer)
{
    int64_t first_split = -1;
    bool differs = false;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        gs_model_t *m = producer_consumers(0);
        m->seed = seed;
        gs_trace_t *t = tu_run(m, NULL);
        int64_t a = items_of(t, 1), b = items_of(t, 2);
        ck_assert_int_eq(a + b, N_ITEMS); /* every item, no marker, run once */
        int64_t end_p = tu_finish(t, 0);
        for (int c = 1; c <= 2; c++) /* at most the queue's 4 items after it, 250 us each */
            ck_assert_msg(tu_finish(t, c) - end_p < US(2000),
                          "seed %llu: consumer%d ended %lld ns after the producer",
                          (unsigned long long)seed, c, (long long)(tu_finish(t, c) - end_p));
        if (first_split < 0)
            first_split = a;
        differs |= a != first_split;
        gs_trace_free(t);
        gs_model_free(m);
    }
    ck_assert_msg(differs, "every seed split the items %lld / %lld", (long long)first_split,
                  (long long)(N_ITEMS - first_split));
}
END_TEST

START_TEST(test_consume_marker_is_taken_in_its_fifo_turn)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        gs_model_t *m = producer_consumers(20);
        m->seed = seed;
        gs_trace_t *t = tu_run(m, NULL);
        int64_t a = items_of(t, 1), b = items_of(t, 2);
        ck_assert_int_eq(a + b, N_ITEMS);
        /* the one that took the first marker left before the last 20 items */
        int early = tu_finish(t, 1) < tu_finish(t, 2) ? 1 : 2;
        ck_assert_int_lt(tu_finish(t, early), tu_finish(t, 0));
        gs_trace_free(t);
        gs_model_free(m);
    }
}
END_TEST

START_TEST(test_consume_plain_get_takes_a_marker_as_an_item)
{
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int q = gs_model_add_queue(m, "jobs", 0);
    tu_thread(m, "producer", 2, put_end(q), tu_sync(GS_OP_PUT, q));
    gs_op_t c = tu_c(BODY_C_NS, false);
    tu_thread(m, "getter", 2, tu_sync(GS_OP_GET, q), consume(q, 1, &c));
    /* the plain get took the marker, the loop the item, then waits for ever */
    int rc = 0;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_ne(gs_trace_outcome(t), GS_OUT_DONE);
    ck_assert_int_eq(items_of(t, 1), 1);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

static Suite *consume_suite(void)
{
    Suite *s = suite_create("consume");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_consume_marker_is_taken_in_its_fifo_turn);
    tcase_add_test(core, test_consume_plain_get_takes_a_marker_as_an_item);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_add_test(props, test_consume_split_is_the_runs_and_both_end_with_the_producer);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(consume_suite());
}
