/* tu_main.h - the main() of a check suite (tu_main.c), for every suite
 * binary: gs_check_test (tests/CMakeLists.txt) links it into each. */
#ifndef GILSIM_TU_MAIN_H
#define GILSIM_TU_MAIN_H

#include <check.h>

/* Runs every test of s and frees it: main()'s body for a suite. Returns
 * EXIT_SUCCESS or EXIT_FAILURE. */
int tu_main(Suite *s);

#endif
