/* wsutil.h — the small pieces of a WebSocket client and a JSON scanner for the load generator:
 * SHA-1 and base64 (for Sec-WebSocket-Accept), a latency histogram, and a zero-copy JSON
 * scanner that reads the top-level fields of one object without building a tree.
 * Header-only: the load generator is one compilation unit. */
#pragma once
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- SHA-1 (RFC 3174), only for the handshake ----------------------------------------- */
typedef struct { uint32_t h[5]; uint64_t len; unsigned char buf[64]; size_t n; } sha1_ctx;
#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (b & cc) | (~b & d); k = 0x5A827999; }
        else if (i < 40) { f = b ^ cc ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (b & cc) | (b & d) | (cc & d); k = 0x8F1BBCDC; }
        else { f = b ^ cc ^ d; k = 0xCA62C1D6; }
        uint32_t t = ROL(a, 5) + f + e + k + w[i];
        e = d; d = cc; cc = ROL(b, 30); b = a; a = t;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e;
}
static void sha1(const void *data, size_t len, unsigned char out[20])
{
    sha1_ctx c = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, 0, {0}, 0};
    const unsigned char *p = data;
    c.len = (uint64_t)len * 8;
    while (len >= 64) { sha1_block(&c, p); p += 64; len -= 64; }
    unsigned char tail[128] = {0};
    memcpy(tail, p, len);
    tail[len] = 0x80;
    size_t tl = len + 1 + 8 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (unsigned char)(c.len >> (8 * i));
    sha1_block(&c, tail);
    if (tl == 128)
        sha1_block(&c, tail + 64);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(c.h[i] >> 24); out[4 * i + 1] = (unsigned char)(c.h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c.h[i] >> 8); out[4 * i + 3] = (unsigned char)c.h[i];
    }
}

static size_t base64(const unsigned char *in, size_t n, char *out)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = T[v >> 18 & 63];
        out[o++] = T[v >> 12 & 63];
        out[o++] = i + 1 < n ? T[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? T[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

/* Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2). out: 29 bytes. */
static void ws_accept_for(const char *key, char out[29])
{
    char buf[128];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    unsigned char d[20];
    sha1(buf, n, d);
    base64(d, 20, out);
}

static inline uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* ---- latency histogram: log-linear, microseconds, ~3% resolution, 1 us .. ~2^40 us ------- */
#define H_N (64 + 35 * 32)
typedef struct hist {
    uint64_t n, sum_us, max_us;
    uint32_t c[H_N];
} hist;

static inline int h_idx(uint64_t v)
{
    if (v < 64)
        return (int)v;
    int m = 63 - __builtin_clzll(v);
    int i = 64 + (m - 6) * 32 + (int)((v >> (m - 5)) & 31);
    return i < H_N ? i : H_N - 1;
}
static inline uint64_t h_lo(int i)
{
    if (i < 64)
        return (uint64_t)i;
    int m = (i - 64) / 32 + 6, sub = (i - 64) % 32;
    return (uint64_t)(32 + sub) << (m - 5);
}
static inline void h_add(hist *h, int64_t ns)
{
    uint64_t us = ns > 0 ? (uint64_t)(ns / 1000) : 0;
    h->n++;
    h->sum_us += us;
    if (us > h->max_us)
        h->max_us = us;
    h->c[h_idx(us)]++;
}
static void h_merge(hist *a, const hist *b)
{
    a->n += b->n;
    a->sum_us += b->sum_us;
    if (b->max_us > a->max_us)
        a->max_us = b->max_us;
    for (int i = 0; i < H_N; i++)
        a->c[i] += b->c[i];
}
/* Percentile p (0..100) in ms; samples never received (missing) count as +infinity: returns
 * -1 then. Each bucket reports its upper bound (conservative). */
static double h_pct_ms(const hist *h, uint64_t missing, double p)
{
    uint64_t total = h->n + missing;
    if (total == 0)
        return 0;
    uint64_t rank = (uint64_t)((p / 100.0) * (double)total + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > h->n)
        return -1;
    uint64_t acc = 0;
    for (int i = 0; i < H_N; i++) {
        acc += h->c[i];
        if (acc >= rank) {
            uint64_t hi = i + 1 < H_N ? h_lo(i + 1) : h->max_us;
            if (hi > h->max_us)
                hi = h->max_us;
            return (double)hi / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

/* ---- JSON scanning ---------------------------------------------------------------------- */
typedef struct jspan { const char *p, *e; } jspan; /* p == NULL: absent */

static inline const char *js_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}
static inline const char *js_skip_str(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\') { p++; continue; }
        if (*p == '"') return p + 1;
    }
    return NULL;
}
/* Skips one value starting at p (after white space); returns the end or NULL. */
static const char *js_skip(const char *p, const char *e)
{
    p = js_ws(p, e);
    if (p >= e)
        return NULL;
    if (*p == '"')
        return js_skip_str(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            char ch = *p;
            if (ch == '"') {
                p = js_skip_str(p, e);
                if (!p) return NULL;
                continue;
            }
            if (ch == '{' || ch == '[') depth++;
            else if (ch == '}' || ch == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n')
        p++;
    return p;
}
/* Reads object members starting at p (just after '{' or after a ','), up to the closing '}':
 * vals[i] gets the value span of keys[i] (keys given without quotes). Stops early once
 * keys[0..need-1] have all been found (need 0: read to the end). Returns 0, or -1 if malformed.
 * vals must have been cleared by the caller. */
static int js_members(const char *p, const char *e, const char *const *keys, int nk, jspan *vals,
                      int need)
{
    size_t klen[16];
    int found_needed = 0;
    for (int i = 0; i < nk; i++)
        klen[i] = strlen(keys[i]);
    for (;;) {
        p = js_ws(p, e);
        if (p >= e) return -1;
        if (*p == '}') return 0;
        if (*p != '"') return -1;
        const char *ks = p + 1, *ke = js_skip_str(p, e);
        if (!ke) return -1;
        size_t kl = (size_t)(ke - 1 - ks);
        p = js_ws(ke, e);
        if (p >= e || *p != ':') return -1;
        const char *vs = js_ws(p + 1, e), *ve = js_skip(vs, e);
        if (!ve) return -1;
        for (int i = 0; i < nk; i++)
            if (!vals[i].p && klen[i] == kl && memcmp(keys[i], ks, kl) == 0) {
                vals[i].p = vs;
                vals[i].e = ve;
                if (i < need && ++found_needed == need)
                    return 0;
                break;
            }
        p = js_ws(ve, e);
        if (p < e && *p == ',') { p++; continue; }
        if (p < e && *p == '}') return 0;
        return -1;
    }
}

/* The top-level members of the object at p (see js_members). */
static int js_fields_n(const char *p, const char *e, const char *const *keys, int nk,
                       jspan *vals, int need)
{
    for (int i = 0; i < nk; i++)
        vals[i].p = vals[i].e = NULL;
    p = js_ws(p, e);
    if (p >= e || *p != '{')
        return -1;
    return js_members(p + 1, e, keys, nk, vals, need);
}

static inline int js_fields(const char *p, const char *e, const char *const *keys, int nk,
                            jspan *vals)
{
    return js_fields_n(p, e, keys, nk, vals, 0);
}

/* True if the span is the JSON string s (s given without quotes, no escapes). */
static inline bool js_is(jspan v, const char *s)
{
    size_t n = strlen(s);
    return v.p && (size_t)(v.e - v.p) == n + 2 && v.p[0] == '"' && memcmp(v.p + 1, s, n) == 0;
}
static inline int64_t js_int(jspan v, int64_t dflt)
{
    if (!v.p || v.p >= v.e || !(*v.p == '-' || isdigit((unsigned char)*v.p)))
        return dflt;
    return strtoll(v.p, NULL, 10);
}
/* Copies a string value without its quotes (no unescaping). */
static inline size_t js_str(jspan v, char *out, size_t cap)
{
    out[0] = 0;
    if (!v.p || v.e - v.p < 2 || v.p[0] != '"')
        return 0;
    size_t n = (size_t)(v.e - v.p - 2);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v.p + 1, n);
    out[n] = 0;
    return n;
}
