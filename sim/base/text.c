/* text.c - scenario text made safe for a terminal.
 *
 * Names, descriptions and annotations come from scenario files, which may be
 * shared (a lesson handed out to a class). JSON lets a string hold any
 * character through an escape ("\u001b[2J" clears the screen, "\u001b]0;..."
 * sets the window title), so every piece of scenario text gilsim prints for
 * a person goes through here: C0 controls, DEL and the C1 controls (U+0080 to
 * U+009F, which some terminals obey too) are written as visible escapes
 * (\x1b, \u009b); everything else, UTF-8 included, is kept. */
#include "gilsim/common.h"

#include <stdio.h>
#include <string.h>

/* The visible form of the control at s (bytes it takes in *len), or NULL
 * when s does not start with a control to escape. */
static const char *control_at(const unsigned char *s, bool newlines, size_t *len, char *buf)
{
    if (s[0] < 0x20 || s[0] == 0x7F) {
        if (newlines && (s[0] == '\n' || s[0] == '\t'))
            return NULL;
        *len = 1;
        snprintf(buf, 8, "\\x%02x", s[0]);
        return buf;
    }
    if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F) {
        *len = 2;
        snprintf(buf, 8, "\\u%04x", s[1]);
        return buf;
    }
    return NULL;
}

char *gs_escape_controls(const char *s, char *buf, size_t n, bool newlines)
{
    size_t o = 0;
    if (n == 0)
        return buf;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && o + 1 < n;) {
        char esc[8];
        size_t len = 0;
        const char *e = control_at(p, newlines, &len, esc);
        if (!e) {
            buf[o++] = (char)*p++;
            continue;
        }
        size_t el = strlen(e);
        if (o + el >= n)
            break;
        memcpy(buf + o, e, el);
        o += el;
        p += len;
    }
    buf[o] = '\0';
    return buf;
}

void gs_fput_escaped(FILE *f, const char *s, bool newlines)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        char esc[8];
        size_t len = 0;
        const char *e = control_at(p, newlines, &len, esc);
        if (e) {
            fputs(e, f);
            p += len;
        } else {
            putc(*p++, f);
        }
    }
}
