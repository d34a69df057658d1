/* jsonw.h — the one text writer of the server: appends JSON (and, for the exports, Markdown and
 * CSV) to a growable buffer without the printf/sscanf round trips of cJSON's printer. Integers
 * (any integral double below 2^63) print exactly, without exponents; other numbers print with the
 * fewest of 15 or 17 digits that read back exactly. Used by proto (wire messages, rendered per
 * view while printing), store (payload text in the database) and export. Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef struct jsonw {
    char *p;     /* NUL-terminated while !failed */
    size_t len, cap;
    bool failed; /* an allocation failed: the text is incomplete */
} jsonw;

void jsonw_put(jsonw *w, const char *text, size_t n);
void jsonw_puts(jsonw *w, const char *text);
/* Formatted text, as printf (for the Markdown and CSV exports: no JSON escaping). */
void jsonw_printf(jsonw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jsonw_string(jsonw *w, const char *s); /* quoted and escaped; NULL prints "" */
void jsonw_int(jsonw *w, int64_t v);
void jsonw_number(jsonw *w, double v);      /* NaN and infinities print null */
void jsonw_value(jsonw *w, const cJSON *item); /* the whole tree, unformatted */

/* Members of an object: each writes `"key":value`, preceded by a comma unless *first (which it
 * then clears). _or_null variants write null for NULL strings and for 0 ids/times. */
void jsonw_key(jsonw *w, bool *first, const char *key);
void jsonw_kv_str(jsonw *w, bool *first, const char *key, const char *v); /* NULL prints "" */
void jsonw_kv_str_or_null(jsonw *w, bool *first, const char *key, const char *v);
void jsonw_kv_int(jsonw *w, bool *first, const char *key, int64_t v);
void jsonw_kv_int_or_null(jsonw *w, bool *first, const char *key, int64_t v);
void jsonw_kv_bool(jsonw *w, bool *first, const char *key, bool v);
/* [ids...] */
void jsonw_ids(jsonw *w, const int64_t *ids, size_t n);

/* Hands the text over (caller frees), or frees it and returns NULL if anything failed. */
char *jsonw_finish(jsonw *w);

/* For a reused buffer: empties w, prints item, returns the text (owned by w) or NULL. */
const char *jsonw_print(jsonw *w, const cJSON *item);
