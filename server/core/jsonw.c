/* jsonw.c — see jsonw.h. */
#include "jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(jsonw *w, size_t more)
{
    if (w->failed)
        return false;
    if (w->len + more + 1 <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + more + 1)
        cap *= 2;
    char *p = realloc(w->p, cap);
    if (!p) {
        w->failed = true;
        return false;
    }
    w->p = p;
    w->cap = cap;
    return true;
}

void jsonw_put(jsonw *w, const char *text, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->p + w->len, text, n);
    w->len += n;
    w->p[w->len] = '\0';
}

void jsonw_puts(jsonw *w, const char *text)
{
    jsonw_put(w, text, strlen(text));
}

void jsonw_printf(jsonw *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(w, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(w->p + w->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}

void jsonw_string(jsonw *w, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    jsonw_put(w, "\"", 1);
    for (;;) {
        const unsigned char *run = s;
        while (*s >= 0x20 && *s != '"' && *s != '\\')
            s++;
        jsonw_put(w, (const char *)run, (size_t)(s - run));
        if (!*s)
            break;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*s) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[*s >> 4];
            esc[5] = hex[*s & 15];
            n = 6;
        }
        jsonw_put(w, esc, n);
        s++;
    }
    jsonw_put(w, "\"", 1);
}

void jsonw_int(jsonw *w, int64_t v)
{
    char tmp[24], *end = tmp + sizeof tmp, *q = end;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    jsonw_put(w, q, (size_t)(end - q));
}

void jsonw_number(jsonw *w, double v)
{
    if (!isfinite(v)) {
        jsonw_put(w, "null", 4);
        return;
    }
    if (v > -9.2e18 && v < 9.2e18 && (double)(int64_t)v == v) {
        jsonw_int(w, (int64_t)v);
        return;
    }
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%1.15g", v);
    if (strtod(tmp, NULL) != v)
        n = snprintf(tmp, sizeof tmp, "%1.17g", v);
    jsonw_put(w, tmp, (size_t)n);
}

void jsonw_value(jsonw *w, const cJSON *item)
{
    const cJSON *c;
    switch (item->type & 0xFF) {
    case cJSON_False: jsonw_put(w, "false", 5); break;
    case cJSON_True: jsonw_put(w, "true", 4); break;
    case cJSON_NULL: jsonw_put(w, "null", 4); break;
    case cJSON_Number: jsonw_number(w, item->valuedouble); break;
    case cJSON_String: jsonw_string(w, item->valuestring); break;
    case cJSON_Raw: jsonw_puts(w, item->valuestring ? item->valuestring : "null"); break;
    case cJSON_Array:
        jsonw_put(w, "[", 1);
        cJSON_ArrayForEach(c, item) {
            jsonw_value(w, c);
            if (c->next)
                jsonw_put(w, ",", 1);
        }
        jsonw_put(w, "]", 1);
        break;
    case cJSON_Object:
        jsonw_put(w, "{", 1);
        cJSON_ArrayForEach(c, item) {
            jsonw_string(w, c->string);
            jsonw_put(w, ":", 1);
            jsonw_value(w, c);
            if (c->next)
                jsonw_put(w, ",", 1);
        }
        jsonw_put(w, "}", 1);
        break;
    default:
        w->failed = true; /* cJSON_Invalid */
    }
}

void jsonw_key(jsonw *w, bool *first, const char *key)
{
    if (!*first)
        jsonw_put(w, ",", 1);
    *first = false;
    jsonw_string(w, key);
    jsonw_put(w, ":", 1);
}

void jsonw_kv_str(jsonw *w, bool *first, const char *key, const char *v)
{
    jsonw_key(w, first, key);
    jsonw_string(w, v);
}

void jsonw_kv_str_or_null(jsonw *w, bool *first, const char *key, const char *v)
{
    jsonw_key(w, first, key);
    if (v)
        jsonw_string(w, v);
    else
        jsonw_put(w, "null", 4);
}

void jsonw_kv_int(jsonw *w, bool *first, const char *key, int64_t v)
{
    jsonw_key(w, first, key);
    jsonw_int(w, v);
}

void jsonw_kv_int_or_null(jsonw *w, bool *first, const char *key, int64_t v)
{
    jsonw_key(w, first, key);
    if (v)
        jsonw_int(w, v);
    else
        jsonw_put(w, "null", 4);
}

void jsonw_kv_bool(jsonw *w, bool *first, const char *key, bool v)
{
    jsonw_key(w, first, key);
    if (v)
        jsonw_put(w, "true", 4);
    else
        jsonw_put(w, "false", 5);
}

void jsonw_ids(jsonw *w, const int64_t *ids, size_t n)
{
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            jsonw_put(w, ",", 1);
        jsonw_int(w, ids[i]);
    }
    jsonw_put(w, "]", 1);
}

char *jsonw_finish(jsonw *w)
{
    if (w->failed || !reserve(w, 0)) {
        free(w->p);
        w->p = NULL;
        return NULL;
    }
    w->p[w->len] = '\0';
    return w->p;
}

const char *jsonw_print(jsonw *w, const cJSON *item)
{
    w->len = 0;
    w->failed = false;
    jsonw_value(w, item);
    if (w->failed || !reserve(w, 0))
        return NULL;
    w->p[w->len] = '\0';
    return w->p;
}
