/* alloc_fail.h - makes one allocation fail, for the out-of-memory paths of
 * the fit (check_fit_race, check_fit_ipi).
 *
 * A test linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (the
 * static libgilsim's calls included; cJSON's, a shared library, not) has
 * its allocations counted from af_arm(n): the n-th of them (0: the first)
 * returns NULL, once; the rest succeed. af_failed() says whether it came,
 * af_used() how many were made. */
#ifndef GILSIM_TEST_ALLOC_FAIL_H
#define GILSIM_TEST_ALLOC_FAIL_H

#include <stdbool.h>

#include "gilsim/gilsim.h"

void af_arm(long n); /* n < 0: none fails */
bool af_failed(void);
long af_used(void); /* allocations since af_arm */

/* gs_fit_recording(path, defaults) with allocation k failing: its return
 * code, its text in *json (NULL or the caller's to free) and its error;
 * *failed says whether allocation k came (else the fit ran through). */
int af_fit(const char *path, long k, char **json, gs_error_t *err, bool *failed);

#endif
