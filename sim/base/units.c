/* units.c - time in gilsim: one exact parser and the formatters.
 *
 * The clock is int64 nanoseconds and never passes through floating point on
 * the way in: gs_parse_ns reads "1.5ms" digit by digit into 1500000 ns, and
 * refuses what it cannot represent exactly (a bare number with no unit, a
 * negative, finer than 1 ns, longer than a day), saying why. The scenario
 * loader, the CLI (through --set) and the viewer (--at, --range) all read
 * durations with it, so they accept the same language. gs_format_ns_exact
 * writes a duration so that gs_parse_ns reads it back unchanged;
 * gs_format_ns writes it for people, to three significant digits (a double
 * is fine there: it is only shown). */
#include "gilsim/units.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct unit {
    const char *name;
    int64_t scale;
    int digits; /* fraction digits that are still whole nanoseconds */
} units[] = {
    {"ns", 1, 0},
    {"us", 1000, 3},
    {"ms", 1000000, 6},
    {"s", 1000000000, 9},
};

int gs_parse_ns(const char *s, int64_t *ns, char *why, size_t n)
{
    const char *p = s;
    if (*p == '-') {
        snprintf(why, n, "must not be negative, got \"%.40s\"", s);
        return -1;
    }
    const char *int_start = p;
    while (isdigit((unsigned char)*p))
        p++;
    size_t n_int = (size_t)(p - int_start);
    const char *frac = NULL;
    size_t n_frac = 0;
    if (*p == '.') {
        frac = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        n_frac = (size_t)(p - frac);
    }
    if (n_int == 0 || (frac && n_frac == 0)) {
        snprintf(why, n,
                 "expected a duration like \"5ms\" or \"1.5us\" (a number, then ns, us, ms "
                 "or s), got \"%.40s\"",
                 s);
        return -1;
    }
    const struct unit *u = NULL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(p, units[i].name) == 0)
            u = &units[i];
    if (!u) {
        if (*p == '\0')
            snprintf(why, n, "\"%.40s\" has no unit: write \"%.40sms\" (units: ns, us, ms, s)",
                     s, s);
        else
            snprintf(why, n, "unknown unit \"%.20s\" in \"%.40s\": use ns, us, ms or s", p, s);
        return -1;
    }
    /* whole part: at most 1 day, checked digit by digit so nothing overflows */
    int64_t whole = 0;
    for (size_t i = 0; i < n_int; i++) {
        whole = whole * 10 + (int_start[i] - '0');
        if (whole > GS_MAX_DURATION_NS / u->scale) {
            snprintf(why, n, "\"%.40s\" is longer than 1 day, the longest duration", s);
            return -1;
        }
    }
    int64_t total = whole * u->scale, f = 0;
    for (size_t i = 0; i < n_frac; i++) {
        int dgt = frac[i] - '0';
        if ((int)i >= u->digits) {
            if (dgt != 0) {
                snprintf(why, n, "\"%.40s\" is finer than 1 ns, the clock's resolution", s);
                return -1;
            }
            continue;
        }
        f = f * 10 + dgt;
    }
    for (size_t i = n_frac; (int)i < u->digits; i++)
        f *= 10;
    total += f;
    if (total > GS_MAX_DURATION_NS) {
        snprintf(why, n, "\"%.40s\" is longer than 1 day, the longest duration", s);
        return -1;
    }
    *ns = total;
    return 0;
}

char *gs_format_ns_exact(int64_t ns, char *buf, size_t n)
{
    int u = 0;
    for (int i = 3; i > 0; i--)
        if (ns >= units[i].scale) {
            u = i;
            break;
        }
    int64_t whole = ns / units[u].scale, rest = ns % units[u].scale;
    if (rest == 0) {
        snprintf(buf, n, "%" PRId64 "%s", whole, units[u].name);
        return buf;
    }
    char frac[16];
    snprintf(frac, sizeof frac, "%0*" PRId64, units[u].digits, rest);
    size_t l = strlen(frac);
    while (l > 0 && frac[l - 1] == '0')
        frac[--l] = '\0';
    snprintf(buf, n, "%" PRId64 ".%s%s", whole, frac, units[u].name);
    return buf;
}

/* v with three significant digits at most, trailing zeros trimmed. */
static void fmt3(char *buf, size_t n, double v, const char *unit)
{
    double a = v < 0 ? -v : v;
    int prec = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    int len = snprintf(buf, n, "%.*f", prec, v);
    if (len > 0 && (size_t)len < n && prec > 0) {
        while (len > 0 && buf[len - 1] == '0')
            buf[--len] = '\0';
        if (len > 0 && buf[len - 1] == '.')
            buf[--len] = '\0';
    }
    if (len >= 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len, " %s", unit);
}

char *gs_format_ns(int64_t ns, char *buf, size_t n)
{
    int64_t a = ns < 0 ? -ns : ns;
    if (a < 1000)
        snprintf(buf, n, "%lld ns", (long long)ns);
    else if (a < 1000000)
        fmt3(buf, n, (double)ns / 1e3, "us");
    else if (a < 1000000000)
        fmt3(buf, n, (double)ns / 1e6, "ms");
    else
        fmt3(buf, n, (double)ns / 1e9, "s");
    return buf;
}
