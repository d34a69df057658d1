/* containers.c — see containers.h. */

#include "containers.h"

#include <stdlib.h>
#include <string.h>

int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return mix64(h);
}

bool iset_has(const iset *s, int64_t k)
{
    if (!s->cap)
        return false;
    size_t mask = s->cap - 1;
    for (size_t i = mix64((uint64_t)k) & mask;; i = (i + 1) & mask) {
        if (s->keys[i] == k)
            return true;
        if (s->keys[i] == ISET_EMPTY)
            return false;
    }
}

static int iset_rehash(iset *s, size_t ncap)
{
    int64_t *keys = calloc(ncap, sizeof *keys);
    if (!keys)
        return -1;
    size_t mask = ncap - 1;
    for (size_t j = 0; j < s->cap; j++) {
        int64_t k = s->keys[j];
        if (k <= 0)
            continue;
        size_t i = mix64((uint64_t)k) & mask;
        while (keys[i] != ISET_EMPTY)
            i = (i + 1) & mask;
        keys[i] = k;
    }
    free(s->keys);
    s->keys = keys;
    s->cap = ncap;
    s->used = s->len;
    return 0;
}

int iset_add(iset *s, int64_t k)
{
    if (iset_has(s, k))
        return 0;
    if ((s->used + 1) * 4 >= s->cap * 3) {
        size_t ncap = s->cap ? s->cap : 8;
        while ((s->len + 1) * 2 >= ncap)
            ncap *= 2;
        if (iset_rehash(s, ncap) < 0)
            return -1;
    }
    size_t mask = s->cap - 1;
    size_t i = mix64((uint64_t)k) & mask;
    while (s->keys[i] > 0)
        i = (i + 1) & mask;
    if (s->keys[i] == ISET_EMPTY)
        s->used++;
    s->keys[i] = k;
    s->len++;
    return 1;
}

bool iset_remove(iset *s, int64_t k)
{
    if (!s->cap)
        return false;
    size_t mask = s->cap - 1;
    for (size_t i = mix64((uint64_t)k) & mask;; i = (i + 1) & mask) {
        if (s->keys[i] == k) {
            s->keys[i] = ISET_DELETED;
            s->len--;
            return true;
        }
        if (s->keys[i] == ISET_EMPTY)
            return false;
    }
}

void iset_free(iset *s)
{
    free(s->keys);
    memset(s, 0, sizeof *s);
}

int64_t *imap_get(const imap *m, int64_t k)
{
    if (!m->cap || k <= 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = mix64((uint64_t)k) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == k)
            return &m->vals[i];
        if (m->keys[i] == 0)
            return NULL;
    }
}

int imap_put(imap *m, int64_t k, int64_t v)
{
    int64_t *slot = imap_get(m, k);
    if (slot) {
        *slot = v;
        return 0;
    }
    if ((m->len + 1) * 4 >= m->cap * 3) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        int64_t *keys = calloc(ncap, sizeof *keys), *vals = calloc(ncap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return -1;
        }
        for (size_t j = 0; j < m->cap; j++) {
            if (!m->keys[j])
                continue;
            size_t i = mix64((uint64_t)m->keys[j]) & (ncap - 1);
            while (keys[i])
                i = (i + 1) & (ncap - 1);
            keys[i] = m->keys[j];
            vals[i] = m->vals[j];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = ncap;
    }
    size_t i = mix64((uint64_t)k) & (m->cap - 1);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = k;
    m->vals[i] = v;
    m->len++;
    return 0;
}

void imap_free(imap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

int64_t *smap_get(const smap *m, const char *k)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash_str(k) & mask;; i = (i + 1) & mask) {
        if (!m->keys[i])
            return NULL;
        if (strcmp(m->keys[i], k) == 0)
            return &m->vals[i];
    }
}

int smap_put(smap *m, const char *k, int64_t v)
{
    int64_t *slot = smap_get(m, k);
    if (slot) {
        *slot = v;
        return 0;
    }
    if ((m->len + 1) * 4 >= m->cap * 3) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        char **keys = calloc(ncap, sizeof *keys);
        int64_t *vals = calloc(ncap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return -1;
        }
        for (size_t j = 0; j < m->cap; j++) {
            if (!m->keys[j])
                continue;
            size_t i = hash_str(m->keys[j]) & (ncap - 1);
            while (keys[i])
                i = (i + 1) & (ncap - 1);
            keys[i] = m->keys[j];
            vals[i] = m->vals[j];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = ncap;
    }
    char *copy = strdup(k);
    if (!copy)
        return -1;
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = copy;
    m->vals[i] = v;
    m->len++;
    return 0;
}

void smap_free(smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
