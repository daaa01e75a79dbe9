/* alloc_fail.c - see alloc_fail.h. The engine's workers allocate too, but
 * one thread runs at a time (the baton), so one counter serves; atomic all
 * the same. */
#include "alloc_fail.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);

static _Atomic long left = -1; /* allocations before the one that fails; < 0 none */
static _Atomic bool failed;
static _Atomic long used; /* allocations since af_arm */

void af_arm(long n)
{
    atomic_store(&failed, false);
    atomic_store(&used, 0);
    atomic_store(&left, n);
}

long af_used(void)
{
    return atomic_load(&used);
}

bool af_failed(void)
{
    return atomic_load(&failed);
}

static bool due(void)
{
    atomic_fetch_add(&used, 1);
    long l = atomic_load(&left);
    while (l >= 0 && !atomic_compare_exchange_weak(&left, &l, l - 1))
        ;
    if (l != 0)
        return false;
    atomic_store(&failed, true);
    errno = ENOMEM; /* as glibc's */
    return true;
}

void *__wrap_malloc(size_t n)
{
    return due() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return due() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return due() ? NULL : __real_realloc(p, n);
}

int af_fit(const char *path, long k, char **json, gs_error_t *err, bool *failed_out)
{
    size_t len = 0;
    *json = NULL;
    memset(err, 0, sizeof *err);
    af_arm(k);
    int rc = gs_fit_recording(path, NULL, json, &len, err);
    *failed_out = af_failed();
    af_arm(-1);
    return rc;
}
