/* utf8.c — see utf8.h. */
#include "utf8.h"

#include <utf8proc.h>

#include <string.h>

bool utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned int cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t utf8_count(const char *str, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)str[i] & 0xC0) != 0x80)
            count++;
    return count;
}

static size_t space_at(const unsigned char *s, size_t len)
{
    if (len >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' ||
                     s[0] == '\f' || s[0] == '\v'))
        return 1;
    if (len >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
        return 3;
    return 0;
}

static size_t space_before(const unsigned char *s, size_t end)
{
    if (end >= 1 && space_at(s + end - 1, 1) == 1)
        return 1;
    if (end >= 3 && space_at(s + end - 3, 3) == 3)
        return 3;
    return 0;
}

const char *utf8_trim(const char *str, size_t len, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t start = 0, end = len, n;
    while (start < end && (n = space_at(s + start, end - start)) > 0)
        start += n;
    while (end > start && (n = space_before(s + start, end - start)) > 0)
        end -= n;
    *out_len = end - start;
    return str + start;
}

bool utf8_has_control(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F)
            return true;
        if (c == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F)
            return true; /* C1 controls U+0080..U+009F */
    }
    return false;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool utf8_contains_nocase(const char *haystack, const char *needle)
{
    size_t hn = strlen(haystack), nn = strlen(needle);
    if (nn == 0)
        return false;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && lower((unsigned char)haystack[i + k]) == lower((unsigned char)needle[k]))
            k++;
        if (k == nn)
            return true;
    }
    return false;
}

char *utf8_fold(const char *s, size_t len)
{
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
                                      UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                                          UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    if (n < 0)
        return NULL;
    return (char *)out;
}
