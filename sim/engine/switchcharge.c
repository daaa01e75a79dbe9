/* switchcharge.c - whose runtime a context switch is (machine.switch_charged).
 *
 * In Linux's __schedule the pick of the next task comes before the switch:
 * pick_next_task -> set_next_entity sets the next entity's exec_start to
 * the pick's clock, then context_switch (switch_mm, switch_to) runs and the
 * task returns from schedule() and from its system call to user space. The
 * next update_curr charges all of it to the incoming task's sum_exec_runtime
 * and vruntime (kernel/sched/fair.c update_curr, set_next_entity). The
 * outgoing task's time up to the pick was charged to it when it left
 * (dequeue_entity's update_curr).
 *
 * The model's core is busy `context_switch` before the incoming thread runs
 * (os.c, gs__os_dispatch_after) and, without the key, nobody's vruntime
 * counts that time. It matters for EEVDF's wake-up preemption: a thread
 * woken by a thread that was just switched in preempts it only once that
 * waker is no longer eligible (RUN_TO_PARITY protects it until then), so
 * the waker's vruntime at the wake decides it. The Lock ping-pong beside a
 * CPU-bound thread hinges on it (docs/model.md, "The Lock ping-pong's
 * window"): its woken partner preempting its waker is what ends the pair's
 * window, and its waker wakes it one futex call after it is switched in.
 *
 * With the key true (eevdf only) the incoming thread's vruntime gains the
 * switch's time at its arrival, before its deadline is renewed and its slice
 * protected (os.c start_on). The waking latency of an idle core is not
 * charged: the kernel's pick on that core comes after it woke.
 * Default false: the golden corpus is unchanged.
 */
#include "switchcharge.h"
#include "engine_int.h"

void gs__switch_charge(gs_engine_t *e, gs_thr_t *t, int prev_thread)
{
    const gs_machine_t *m = &e->m->machine;
    if (!m->switch_charged || m->policy != GS_POLICY_EEVDF || prev_thread == t->id)
        return;
    t->vruntime += m->context_switch_ns * 1024 / t->weight;
}

