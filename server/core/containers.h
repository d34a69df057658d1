/* containers.h — small containers the server's modules share: growable arrays, and hash sets
 * and maps with open addressing and linear probing (int64 keys, or copied string keys). Pure;
 * every function that allocates reports failure and leaves the container as it was. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set of positive int64 keys; 0 marks an empty slot, -1 a deleted one. */
typedef struct iset {
    int64_t *keys;
    size_t cap, len, used; /* used = len + tombstones */
} iset;

#define ISET_EMPTY 0
#define ISET_DELETED (-1)

/* Map from positive int64 keys to int64 values; no deletion. */
typedef struct imap {
    int64_t *keys;
    int64_t *vals;
    size_t cap, len;
} imap;

/* Map from strings (copied) to int64 values; no deletion. */
typedef struct smap {
    char **keys;
    int64_t *vals;
    size_t cap, len;
} smap;

/* MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit over the output, so
 * equal hashes mean equal keys (for tables keyed by integers). */
uint64_t mix64(uint64_t x);
/* A 64-bit hash of a NUL-terminated string (FNV-1a, mixed). */
uint64_t hash_str(const char *s);

/* Ensures *arr has room for need elements of size elem. Returns 0 or -1 (arr unchanged). */
int grow(void **arr, size_t *cap, size_t need, size_t elem);

bool iset_has(const iset *s, int64_t k);

/* Adds k (> 0). Returns 1 if added, 0 if already present, -1 on allocation failure. */
int iset_add(iset *s, int64_t k);

/* Removes k. Returns true if it was present. */
bool iset_remove(iset *s, int64_t k);

void iset_free(iset *s);
int64_t *imap_get(const imap *m, int64_t k);
int imap_put(imap *m, int64_t k, int64_t v);
void imap_free(imap *m);
int64_t *smap_get(const smap *m, const char *k);
int smap_put(smap *m, const char *k, int64_t v);
void smap_free(smap *m);
