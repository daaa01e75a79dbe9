/* lockturns.h - a hand-made recording of two threads taking turns on one
 * Lock, for the --lock-race tests (check_fit_lockgap, check_fit_lockplace). */
#ifndef GILSIM_TESTS_FIT_LOCKTURNS_H
#define GILSIM_TESTS_FIT_LOCKTURNS_H

/* The turn's timing: a round every LT_P ns from LT_T0, a context switch of
 * LT_CS, the holder's try LT_GAP after it is back. */
enum { LT_P = 100000, LT_CS = 2000, LT_GAP = 3000, LT_T0 = 50000 };

/* Writes to path (a mkstemp template, filled in) `rounds` rounds of two
 * threads on one Lock (semaphore 4242): at each round the holder posts, the
 * waiter's wait ends 5 us later (it won), it asks for the GIL at 5.5 us and
 * sleeps; the holder, back after LT_CS, tries again LT_GAP later, fails,
 * drops the GIL (its signal) and blocks. t0's events carry CPU cpu0, t1's
 * cpu1; a negative CPU writes none (a recording made before CPUs were). */
void lockturns_write(char *path, int rounds, int cpu0, int cpu1);

#endif
