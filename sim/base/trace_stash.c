/* trace_stash.c - interval and instant arrays kept between traces.
 *
 * A sweep or the viewer builds trace after trace of about the same size; a
 * lane's array grew from 64 intervals by doubling, each run, copying as it
 * went (realloc, memmove and fresh pages: 5% of a sweep of a fitted
 * scenario). gs_trace_free keeps a few freed arrays here and a lane's first
 * append takes one (trace.c grow). The memory budget still counts a lane as
 * grown from 64 (lane_buf_t.counted), so a run stops where it would alone,
 * whatever ran before it. At most STASH_N arrays of at most STASH_ONE bytes
 * each, so the stash holds at most 32 MiB; they are never given back (as
 * with the worker pool, a process that simulates once will again). */
#include "trace_priv.h"

#include <pthread.h>
#include <stdlib.h>

#define STASH_N 32
#define STASH_ONE ((size_t)1 << 20)

static pthread_mutex_t stash_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    gs_interval_t *iv; /* owned */
    size_t cap;
} stash[STASH_N]; /* stash_mu */
static int n_stash; /* stash_mu */
static struct {
    gs_instant_t *inst; /* owned, with seq */
    uint32_t *seq;
    size_t cap;
} istash[STASH_N]; /* stash_mu */
static int n_istash; /* stash_mu */

static pthread_once_t stash_once = PTHREAD_ONCE_INIT;

static void stash_after_fork(void)
{
    /* the child has one thread: a lock another thread held at the fork
     * would never be released; the arrays themselves are the child's too */
    pthread_mutex_init(&stash_mu, NULL);
}

static void stash_init(void)
{
    pthread_atfork(NULL, NULL, stash_after_fork);
}

void gs__trace_stash_put(gs_interval_t *iv, size_t cap)
{
    pthread_once(&stash_once, stash_init);
    if (iv && cap * sizeof *iv <= STASH_ONE) {
        pthread_mutex_lock(&stash_mu);
        if (n_stash < STASH_N) {
            stash[n_stash].iv = iv;
            stash[n_stash++].cap = cap;
            iv = NULL;
        }
        pthread_mutex_unlock(&stash_mu);
    }
    free(iv);
}

bool gs__trace_stash_take(lane_buf_t *l)
{
    pthread_once(&stash_once, stash_init);
    pthread_mutex_lock(&stash_mu);
    bool got = n_stash > 0;
    if (got) {
        l->iv = stash[--n_stash].iv;
        l->cap = stash[n_stash].cap;
    }
    pthread_mutex_unlock(&stash_mu);
    return got;
}


/* A trace's instants (and their seq numbers) grew from 64 by doubling in
 * every run too: 7 reallocs a run of the fitted producer_consumer, about 1%
 * of its instructions in the copies. */
void gs__trace_stash_put_inst(gs_instant_t *inst, uint32_t *seq, size_t cap)
{
    pthread_once(&stash_once, stash_init);
    if (inst && seq && cap > 0 && cap * sizeof *inst <= STASH_ONE) {
        pthread_mutex_lock(&stash_mu);
        if (n_istash < STASH_N) {
            istash[n_istash].inst = inst;
            istash[n_istash].seq = seq;
            istash[n_istash++].cap = cap;
            inst = NULL;
            seq = NULL;
        }
        pthread_mutex_unlock(&stash_mu);
    }
    free(inst);
    free(seq);
}

bool gs__trace_stash_take_inst(gs_trace_t *t)
{
    pthread_once(&stash_once, stash_init);
    pthread_mutex_lock(&stash_mu);
    bool got = n_istash > 0;
    if (got) {
        n_istash--;
        free(t->inst); /* NULL: a trace takes kept arrays before it has any */
        free(t->inst_seq);
        t->inst = istash[n_istash].inst;
        t->inst_seq = istash[n_istash].seq;
        t->cap_inst = istash[n_istash].cap;
    }
    pthread_mutex_unlock(&stash_mu);
    return got;
}
