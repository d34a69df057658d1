/* auth.h — secrets and identities: SHA-256 hashing of device tokens and keys, constant-time
 * comparison, random keys and join codes, and per-viewer token-bucket rate limits. Pure
 * except for auth_random_bytes (the OS CSPRNG). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lowercase hex SHA-256 of data, written to out[65]. */
void auth_sha256_hex(const void *data, size_t len, char out[65]);

/* True when sha256_hex(secret) equals expected_hex, compared in constant time. */
bool auth_key_matches(const char *secret, const char *expected_hex);

/* The public, stable viewer id for a device token: "v" + 16 hex chars of a domain-separated
 * hash. Not reversible to the token. out must hold 18 bytes. */
void auth_viewer_id(const char *token, char out[18]);

/* Fills buf with n bytes from the OS CSPRNG (getrandom); aborts if the OS cannot provide them. */
void auth_random_bytes(void *buf, size_t n);

/* A random secret of n characters from [A-Za-z0-9] (n < cap). */
void auth_random_key(char *out, size_t n);

/* Token bucket: capacity tokens, refilled at rate per second. */
typedef struct auth_bucket {
    double tokens;
    int64_t last_ms;
} auth_bucket;

/* Takes one token if available (returns 0), else returns the ms until one is (> 0). */
int64_t auth_bucket_take(auth_bucket *b, double capacity, double per_second, int64_t now_ms);
