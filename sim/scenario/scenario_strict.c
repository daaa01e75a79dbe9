/* scenario_strict.c - what RFC 8259 forbids and cJSON lets through, and what
 * a scenario's input may be.
 *
 * cJSON is lenient: it accepts numbers with leading zeros ("02"), raw control
 * characters and NUL inside strings, invalid UTF-8 and lone UTF-16 surrogates,
 * and stops at a NUL byte. Each would give a wrong answer later (\u0000 cuts a
 * name short, so two names alias; invalid UTF-8 makes every export invalid
 * JSON or XML). One pass over the bytes before parsing finds the first such
 * place and says what it is and what to write instead.
 *
 * Input: a scenario is read from a regular file, or from a descriptor the
 * caller already holds: "-" or /dev/stdin (standard input), /dev/fd/N or
 * /proc/self/fd/N (what a shell's <(...) passes). Anything else is opened
 * without blocking (a FIFO with no writer would otherwise hang the command
 * or the viewer's reload) and refused unless it is a regular file, saying
 * what it is. */
#include "scenario_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- input --------------------------------------------------------------- */

static const char *what_it_is(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a named pipe (FIFO)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

int gs__scen_read_input(const char *path, char **out, size_t *out_len, char *why, size_t n)
{
    int inherited = gs_path_fd(path, STDIN_FILENO);
    bool std_in = inherited >= 0;
    int fd = std_in ? inherited : open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, n, "%s", strerror(errno));
        return GS_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, n, "%s", strerror(errno));
        if (!std_in)
            close(fd);
        return GS_EIO;
    }
    if (!std_in && !S_ISREG(st.st_mode)) {
        snprintf(why, n, "this is %s; a scenario must be a regular file (or - to read standard "
                 "input)", what_it_is(st.st_mode));
        close(fd);
        return GS_EIO;
    }
    if (std_in && (S_ISDIR(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISBLK(st.st_mode))) {
        snprintf(why, n, "this is %s; a scenario must be a regular file, a pipe or standard input",
                 what_it_is(st.st_mode));
        return GS_EIO;
    }
    if (!std_in)
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    /* A buffer the size of the file (grown for standard input), not of the
     * 4 MiB limit; one byte more than the limit is read to tell "too large". */
    size_t cap = 4096;
    if (S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size < GS_SCEN_MAX_BYTES ? (size_t)st.st_size + 1
                                                     : (size_t)GS_SCEN_MAX_BYTES + 1;
    char *buf = malloc(cap + 1);
    size_t len = 0;
    int rc = 0;
    while (buf) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, n, "%s", strerror(errno));
            rc = GS_EIO;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len < cap)
            continue;
        if (cap > GS_SCEN_MAX_BYTES)
            break;
        size_t grown = cap * 2 > (size_t)GS_SCEN_MAX_BYTES + 1 ? (size_t)GS_SCEN_MAX_BYTES + 1
                                                               : cap * 2;
        char *nb = realloc(buf, grown + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap = grown;
    }
    if (!std_in)
        close(fd);
    if (!buf) {
        snprintf(why, n, "out of memory");
        return GS_ENOMEM;
    }
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

/* ---- strict JSON --------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    unsigned cp = c & (0xFFu >> (k + 1));
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A \u escape at s[i] (s[i] == '\\', s[i+1] == 'u'): 0 if fine, else the
 * message. *skip receives the bytes it covers. */
static const char *check_u_escape(const char *s, size_t i, size_t len, size_t *skip, char *msg,
                                  size_t n)
{
    *skip = 2;
    if (i + 6 > len)
        return NULL; /* cJSON reports the truncated escape */
    int v = hex4(s + i + 2);
    if (v < 0)
        return NULL;
    *skip = 6;
    if (v == 0) {
        snprintf(msg, n, "\\u0000 (the NUL character) inside a string: a name or text cannot "
                 "hold it (it would end the string there)");
        return msg;
    }
    if (v >= 0xDC00 && v <= 0xDFFF) {
        snprintf(msg, n, "a lone UTF-16 low surrogate \\u%04X: it must follow a high surrogate "
                 "(\\uD800..\\uDBFF); write the character itself, in UTF-8", (unsigned)v);
        return msg;
    }
    if (v >= 0xD800 && v <= 0xDBFF) {
        int lo = i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(s + i + 8) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF) {
            snprintf(msg, n, "a lone UTF-16 high surrogate \\u%04X: it must be followed by a low "
                     "surrogate (\\uDC00..\\uDFFF); write the character itself, in UTF-8",
                     (unsigned)v);
            return msg;
        }
        *skip = 12;
    }
    return NULL;
}

/* UTF-16 (with or without a byte order mark) and a file of only a UTF-8
 * BOM are refused (false, msg); otherwise *start is where the JSON begins
 * (after a UTF-8 BOM, which RFC 8259 section 8.1 allows). */
static bool check_encoding(const unsigned char *u, size_t len, char *msg, size_t n,
                           size_t *start)
{
    *start = 0;
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
        snprintf(msg, n, "the file is UTF-16 (%s byte order mark); save it as UTF-8",
                 u[0] == 0xFF ? "little-endian" : "big-endian");
        return false;
    }
    bool le = len >= 4, be = len >= 4;
    for (size_t k = 0; k < len && k < 8; k++) {
        le = le && (k % 2 ? u[k] == 0 : u[k] != 0);
        be = be && (k % 2 ? u[k] != 0 : u[k] == 0);
    }
    if (le || be) {
        snprintf(msg, n, "the file looks like UTF-16 (every other byte is NUL); save it as UTF-8");
        return false;
    }
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        size_t k = 3;
        while (k < len && (u[k] == ' ' || u[k] == '\t' || u[k] == '\n' || u[k] == '\r'))
            k++;
        if (k == len) {
            snprintf(msg, n, "the file holds only a UTF-8 byte order mark and no JSON; a scenario "
                     "is a JSON object like {\"threads\": [...]}");
            return false;
        }
        *start = 3;
    }
    return true;
}

/* A number starting at i (outside strings) with a leading zero: "02". */
static bool leading_zero(const char *text, size_t i, size_t len, char *msg, size_t n)
{
    const unsigned char *u = (const unsigned char *)text;
    unsigned char c = u[i];
    if (!((c == '-' || (c >= '0' && c <= '9')) &&
          (i == 0 || !(isdigit(u[i - 1]) || u[i - 1] == '.' || u[i - 1] == 'e' ||
                       u[i - 1] == 'E' || u[i - 1] == '+' || u[i - 1] == '-'))))
        return false;
    size_t d = c == '-' ? i + 1 : i;
    if (!(d + 1 < len && text[d] == '0' && text[d + 1] >= '0' && text[d + 1] <= '9'))
        return false;
    size_t e = d;
    while (e < len && text[e] >= '0' && text[e] <= '9')
        e++;
    snprintf(msg, n, "a number with a leading zero (%.*s): JSON does not allow one; "
             "write it without the zero", (int)(e - i > 20 ? 20 : e - i), text + i);
    return true;
}

size_t gs__scen_check_strict(const char *text, size_t len, char *msg, size_t n)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t i;
    if (!check_encoding(u, len, msg, n, &i))
        return 0;
    bool in_str = false;
    while (i < len) {
        unsigned char c = u[i];
        if (c == 0) {
            snprintf(msg, n, "a NUL byte: JSON text cannot hold one (is this a binary file?)");
            return i;
        }
        if (c >= 0x80) {
            size_t k = utf8_len(u + i, len - i);
            if (k == 0) {
                snprintf(msg, n, "invalid UTF-8 (byte 0x%02X): save the file as UTF-8", c);
                return i;
            }
            i += k;
            continue;
        }
        if (in_str) {
            if (c < 0x20) {
                snprintf(msg, n, "a raw control character (U+%04X) inside a string: write it as "
                         "an escape such as \\n or \\u%04x", c, c);
                return i;
            }
            if (c == '"') {
                in_str = false;
            } else if (c == '\\' && i + 1 < len) {
                size_t skip = 2;
                if (text[i + 1] == 'u' && check_u_escape(text, i, len, &skip, msg, n))
                    return i;
                i += skip;
                continue;
            }
            i++;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (leading_zero(text, i, len, msg, n))
            return i;
        i++;
    }
    return SIZE_MAX;
}
