/* auth.c — see auth.h. SHA-256 from OpenSSL's libcrypto; randomness from getrandom(2). */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void to_hex(const unsigned char *bin, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * n] = '\0';
}

void auth_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(data, len, digest);
    to_hex(digest, sizeof digest, out);
}

bool auth_key_matches(const char *secret, const char *expected_hex)
{
    if (!secret || !expected_hex || strlen(expected_hex) != 64)
        return false;
    char got[65];
    auth_sha256_hex(secret, strlen(secret), got);
    return CRYPTO_memcmp(got, expected_hex, 64) == 0;
}

void auth_viewer_id(const char *token, char out[18])
{
    static const char domain[] = "forum viewer id\n";
    size_t tlen = strlen(token);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char *buf = malloc(sizeof domain + tlen);
    if (!buf)
        abort();
    memcpy(buf, domain, sizeof domain - 1);
    memcpy(buf + sizeof domain - 1, token, tlen);
    SHA256(buf, sizeof domain - 1 + tlen, digest);
    free(buf);
    out[0] = 'v';
    to_hex(digest, 8, out + 1);
}

void auth_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            perror("getrandom");
            abort();
        }
        p += got;
        n -= (size_t)got;
    }
}

void auth_random_key(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++) {
        unsigned char b;
        do
            auth_random_bytes(&b, 1);
        while (b >= 248); /* 248 = 4 * 62: no modulo bias */
        out[i] = alphabet[b % 62];
    }
    out[n] = '\0';
}

int64_t auth_bucket_take(auth_bucket *b, double capacity, double per_second, int64_t now_ms)
{
    if (b->last_ms == 0) {
        b->tokens = capacity;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * per_second / 1000.0;
        if (b->tokens > capacity)
            b->tokens = capacity;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    int64_t wait = (int64_t)((1.0 - b->tokens) * 1000.0 / per_second) + 1;
    return wait > 0 ? wait : 1;
}
