/* check_state.c - the thread state machine's invariant check can fail.
 *
 * sim/engine/engine_int.h lists the invariants of a thread's state and
 * invariants.c checks them at every transition. Every other suite runs with
 * the check on and must never see it fire; here a C body corrupts its own
 * thread's state on purpose, in a child process, and the check must abort
 * the run at the next transition, naming the broken invariant. A failed OS
 * call the run depends on (GS_PTHREAD_OK, GS_ERRNO_OK) aborts loudly too. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_int.h"
#include "testutil.h"

typedef enum corruption { DROP_HOLDS_GIL, FAKE_READY_IDX, FAKE_GIL_WAIT, NOTHING } corruption_t;

static void body_corrupts(gs_ctx_t *c, void *user)
{
    corruption_t what = *(corruption_t *)user;
    gs_cpu(c, US(100)); /* now ON and holding the GIL */
    switch (what) {
    case DROP_HOLDS_GIL:
        c->holds_gil = false; /* the GIL still names it holder */
        break;
    case FAKE_READY_IDX:
        c->ready_idx = 0; /* ON, yet claims a slot in the ready queue */
        break;
    case FAKE_GIL_WAIT:
        c->gw = GW_COND; /* ON, yet claims to wait on the GIL condition */
        break;
    case NOTHING:
        break;
    }
    gs_cpu(c, US(100));
    gs_io(c, US(100));
    gs_cpu(c, US(100));
}

/* Runs fn(arg) in a child process with its stderr in err; returns the
 * child's wait status. */
static int in_child(void (*fn)(void *), void *arg, char *err, size_t n)
{
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        fn(arg);
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fd[0], err + got, n - 1 - got)) > 0)
        got += (size_t)r;
    err[got] = '\0';
    close(fd[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* A two-thread model whose first body applies the corruption *arg. */
static void run_corrupted(void *arg)
{
    setenv("GILSIM_CHECK_STATE", "1", 1);
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int th = gs_model_add_thread(m, "victim", 0);
    gs_model_set_body(m, th, body_corrupts, arg, NULL);
    tu_thread(m, "other", 1, tu_cpu(MS(1)));
    gs_trace_t *t = NULL;
    int rc = gs_sim_run(m, NULL, &t, NULL);
    gs_trace_free(t);
    gs_model_free(m);
    _exit(rc == 0 ? 0 : 3);
}

static int run_child(corruption_t what, char *err, size_t n)
{
    return in_child(run_corrupted, &what, err, n);
}

static void expect_abort_naming(corruption_t what, const char *invariant)
{
    char err[4096];
    int status = run_child(what, err, sizeof err);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "the corrupted run was not aborted (status %d): %s", status, err);
    ck_assert_msg(strstr(err, "thread state invariant") && strstr(err, invariant),
                  "the report does not name invariant %s: %s", invariant, err);
    ck_assert_msg(strstr(err, "'victim'"), "the report does not name the thread: %s", err);
}

START_TEST(test_state_uncorrupted_run_passes_the_check)
{
    char err[4096];
    int status = run_child(NOTHING, err, sizeof err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status, err);
}
END_TEST

START_TEST(test_state_check_fires_when_holds_gil_disagrees_with_the_gil)
{
    expect_abort_naming(DROP_HOLDS_GIL, "(8)");
}
END_TEST

START_TEST(test_state_check_fires_when_a_running_thread_claims_the_ready_queue)
{
    expect_abort_naming(FAKE_READY_IDX, "(1)");
}
END_TEST

START_TEST(test_state_check_fires_when_a_running_thread_claims_a_gil_wait)
{
    expect_abort_naming(FAKE_GIL_WAIT, "(5)");
}
END_TEST

static void fail_an_os_call(void *arg)
{
    GS_PTHREAD_OK(0); /* succeeds: nothing happens */
    GS_PTHREAD_OK(EAGAIN);
}

/* A failed OS call the run depends on aborts, naming the call and why. */
START_TEST(test_failed_os_call_aborts_naming_the_call)
{
    char err[1024];
    int status = in_child(fail_an_os_call, NULL, err, sizeof err);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    ck_assert_msg(strstr(err, "gilsim: fatal: EAGAIN failed") && strstr(err, "check_state.c:") &&
                      strstr(err, strerror(EAGAIN)),
                  "unclear message: %s", err);
}
END_TEST

static Suite *state_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_state_uncorrupted_run_passes_the_check);
    tcase_add_test(tc, test_state_check_fires_when_holds_gil_disagrees_with_the_gil);
    tcase_add_test(tc, test_state_check_fires_when_a_running_thread_claims_the_ready_queue);
    tcase_add_test(tc, test_state_check_fires_when_a_running_thread_claims_a_gil_wait);
    tcase_add_test(tc, test_failed_os_call_aborts_naming_the_call);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(state_suite());
}
