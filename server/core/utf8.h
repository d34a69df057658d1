/* utf8.h — UTF-8 helpers shared by the codec and the domain core: strict validation,
 * code-point counting, trimming and the folded form used for matching (utf8proc). Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* True if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/* Number of code points in valid UTF-8 s[0..len). */
size_t utf8_count(const char *s, size_t len);

/* Trims ASCII white space and U+3000 (ideographic space) from both ends of valid UTF-8:
 * returns the start and sets *out_len. */
const char *utf8_trim(const char *s, size_t len, size_t *out_len);

/* True if s contains a control character other than \n, \r and \t (C0, DEL or C1). */
bool utf8_has_control(const char *s, size_t len);

/* The form text is compared in for matching (blocked words, similar questions): Unicode NFKC
 * (full-width letters and digits become ASCII, compatibility forms their plain letters), case
 * folded, with default-ignorable code points removed (zero-width space and joiners, word
 * joiner, soft hyphen, byte order mark, variation selectors), so that invisible or look-alike
 * characters cannot hide a word. Returns a malloc'd NUL-terminated string (caller frees), or
 * NULL for invalid UTF-8 or on allocation failure. */
char *utf8_fold(const char *s, size_t len);

/* Case-insensitive (ASCII letters only) substring search; works for any UTF-8 text because
 * multi-byte sequences compare byte for byte. */
bool utf8_contains_nocase(const char *haystack, const char *needle);
