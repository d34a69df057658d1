/* similar.c — see similar.h. Owns the similar-question index: the gram dictionary (an open
 * addressing table of gram ids over an array of gram records, each with its postings: the
 * numbers of the questions that hold it, oldest first), the questions by number, the map from
 * question id to number, and the scratch arrays a query uses.
 *
 * Numbers: every added question gets the next number, so a gram's postings are sorted by age
 * and its most recent entries are at the end. A removed question leaves dead entries behind
 * (a gram's df counts the live ones: len - df are dead); a gram's list is compacted when half of
 * it is dead, and the whole index is renumbered (postings rewritten, dead entries dropped) when
 * the numbers handed out reach the array's capacity while fewer than half of them are live. */
#include "similar.h"

#include "containers.h"
#include "similar_t2s.h"
#include "utf8.h"

#include <utf8proc.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define INLINE_POSTINGS 2   /* a gram with at most this many postings keeps them in its record */
#define LN_TABLE_MIN 4096   /* ln(df) is precomputed for df up to the number of questions */
#define INPUT_BYTES_MAX (SIMILAR_MAX_CHARS * 16) /* raw bytes folded, enough for MAX_CHARS */
#define KEYS_MAX (3 * SIMILAR_MAX_CHARS)

typedef struct {
    uint64_t key;  /* the packed code points (see gram_key); 0 = a free record */
    uint32_t df;   /* live questions holding the gram */
    uint32_t len;  /* postings, oldest first; len - df of them are dead */
    uint32_t cap;  /* <= INLINE_POSTINGS: the postings are in post.in */
    union {
        uint32_t *heap;
        uint32_t in[INLINE_POSTINGS];
    } post;
} gram;

typedef struct {
    int64_t id;
    uint32_t num;     /* its number; during a renumbering, the new one */
    uint32_t n;       /* grams */
    uint32_t grams[]; /* gram ids */
} doc;

typedef struct {
    int64_t id;
    uint32_t num; /* NONE = empty slot */
} id_slot;

struct similar_index {
    similar_options opt;
    size_t bytes; /* heap held, see similar_memory */

    gram *grams;
    uint32_t n_grams, grams_cap; /* records used (free ones included), allocated */
    uint32_t free_gram;          /* first free record (chained through post.in[0]), NONE */
    uint32_t live_grams;
    float *mark;                 /* by gram id: its weight in the running query, else 0 */
    uint32_t *table;             /* gram id + 1 per slot, 0 = empty; linear probing */
    size_t table_mask;

    doc **docs;                  /* by number; NULL = removed */
    uint16_t *lens;              /* by number: its grams, 0 = removed (dense, for the queries) */
    float *acc;                  /* by number: a query's shared weight, zero between queries */
    uint32_t next_num, docs_cap;
    uint32_t oldest;             /* no live question has a smaller number */
    size_t live;

    id_slot *ids;                /* question id -> number; linear probing */
    size_t ids_mask;

    uint32_t *touched;           /* a query's candidates, SIMILAR_POSTINGS_BUDGET of them */
    float *ln;                   /* ln(df) for df < ln_cap */
    uint32_t ln_cap;
    float inv_sqrt[SIMILAR_MAX_GRAMS + 1]; /* 1 / sqrt(grams) */
};

/* ---- folding ---------------------------------------------------------------------------- */

static uint32_t to_simplified(uint32_t cp)
{
    if (cp < similar_t2s[0][0] || cp > similar_t2s[SIMILAR_T2S_COUNT - 1][0])
        return cp;
    size_t lo = 0, hi = SIMILAR_T2S_COUNT;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (similar_t2s[mid][0] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < SIMILAR_T2S_COUNT && similar_t2s[lo][0] == cp) ? similar_t2s[lo][1] : cp;
}

static bool kept_category(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

/* The folded code points of text[0..len) (see similar.h), at most SIMILAR_MAX_CHARS, in cps.
 * Returns their number, or -1 for invalid UTF-8, -2 when memory runs out. */
static int fold_text(const char *text, size_t len, uint32_t *cps)
{
    if (len == 0)
        return 0;
    if (!text || !utf8_valid(text, len))
        return -1;
    if (len > INPUT_BYTES_MAX) { /* fold a prefix, cut on a character boundary */
        len = INPUT_BYTES_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    char *folded = utf8_fold(text, len);
    if (!folded)
        return -2; /* the text is valid, so only memory can fail */
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)folded;
    utf8proc_ssize_t rest = (utf8proc_ssize_t)strlen(folded);
    int n = 0;
    while (rest > 0 && n < SIMILAR_MAX_CHARS) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t used = utf8proc_iterate(s, rest, &cp);
        if (used <= 0)
            break;
        s += used;
        rest -= used;
        if (kept_category(cp))
            cps[n++] = to_simplified((uint32_t)cp);
    }
    free(folded);
    return n;
}

/* ---- grams ------------------------------------------------------------------------------ */

/* A character, bigram or trigram as one 64-bit key: code points are 21 bits, a trigram fills
 * bits 0..62, a bigram sets bit 63 besides, a character bits 63 and 62. Never 0 (code point 0
 * is not kept). */
static uint64_t gram_key(const uint32_t *cp, int size)
{
    if (size == 1)
        return (3ULL << 62) | cp[0];
    if (size == 2)
        return (1ULL << 63) | ((uint64_t)cp[0] << 21) | cp[1];
    return ((uint64_t)cp[0] << 42) | ((uint64_t)cp[1] << 21) | cp[2];
}


/* Sorts a[0..n) ascending: Shell sort with Ciura's gaps, quick for the few hundred keys of a
 * question and without qsort's indirect calls. */
static void sort_u64(uint64_t *a, size_t n)
{
    static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t gi = 0; gi < sizeof gaps / sizeof *gaps; gi++) {
        size_t gap = gaps[gi];
        for (size_t i = gap; i < n; i++) {
            uint64_t v = a[i];
            size_t j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

/* The distinct gram keys of cps[0..n), at most SIMILAR_MAX_GRAMS (those with the smallest
 * hash), written to keys (KEYS_MAX entries). Returns how many. */
static size_t make_keys(unsigned which, const uint32_t *cps, int n, uint64_t *keys)
{
    size_t k = 0;
    for (int i = 0; (which & SIMILAR_UNIGRAMS) && n >= 2 && i < n; i++)
        keys[k++] = mix64(gram_key(cps + i, 1));
    for (int i = 0; i + 1 < n; i++) {
        if (which & SIMILAR_BIGRAMS)
            keys[k++] = mix64(gram_key(cps + i, 2));
        if ((which & SIMILAR_TRIGRAMS) && i + 2 < n)
            keys[k++] = mix64(gram_key(cps + i, 3));
    }
    sort_u64(keys, k); /* by hash: the cap keeps the smallest */
    size_t u = 0;
    for (size_t i = 0; i < k && u < SIMILAR_MAX_GRAMS; i++)
        if (u == 0 || keys[i] != keys[u - 1])
            keys[u++] = keys[i];
    return u; /* hashes stand for keys from here on: mix64 is a bijection */
}

static uint32_t gram_find(const similar_index *ix, uint64_t key)
{
    for (size_t i = mix64(key) & ix->table_mask;; i = (i + 1) & ix->table_mask) {
        uint32_t slot = ix->table[i];
        if (slot == 0)
            return NONE;
        if (ix->grams[slot - 1].key == key)
            return slot - 1;
    }
}

static uint32_t *postings(gram *g)
{
    return g->cap <= INLINE_POSTINGS ? g->post.in : g->post.heap;
}

/* Room for `more` grams in the records and the table (rehashing into a larger table). */
static bool grams_reserve(similar_index *ix, size_t more)
{
    size_t need = (size_t)ix->live_grams + more;
    if ((size_t)ix->n_grams + more > ix->grams_cap) {
        size_t cap = ix->grams_cap ? ix->grams_cap : 1024;
        while (cap < (size_t)ix->n_grams + more)
            cap *= 2;
        if (cap > UINT32_MAX - 1)
            return false;
        gram *g = realloc(ix->grams, cap * sizeof *g);
        if (!g)
            return false;
        ix->grams = g;
        float *m = realloc(ix->mark, cap * sizeof *m); /* if this fails, grams is just larger */
        if (!m)
            return false;
        memset(m + ix->grams_cap, 0, (cap - ix->grams_cap) * sizeof *m);
        ix->mark = m;
        ix->bytes += (cap - ix->grams_cap) * (sizeof *g + sizeof *m);
        ix->grams_cap = (uint32_t)cap;
    }
    if (need * 2 > ix->table_mask + 1) {
        size_t size = ix->table_mask + 1;
        while (need * 2 > size)
            size *= 2;
        uint32_t *t = calloc(size, sizeof *t);
        if (!t)
            return false;
        for (size_t i = 0; i <= ix->table_mask; i++) {
            uint32_t slot = ix->table[i];
            if (slot == 0)
                continue;
            size_t j = mix64(ix->grams[slot - 1].key) & (size - 1);
            while (t[j])
                j = (j + 1) & (size - 1);
            t[j] = slot;
        }
        ix->bytes += (size - (ix->table_mask + 1)) * sizeof *t;
        free(ix->table);
        ix->table = t;
        ix->table_mask = size - 1;
    }
    return true;
}

/* A new gram record for key; grams_reserve made room. */
static uint32_t gram_insert(similar_index *ix, uint64_t key)
{
    uint32_t id;
    if (ix->free_gram != NONE) {
        id = ix->free_gram;
        ix->free_gram = ix->grams[id].post.in[0];
    } else {
        id = ix->n_grams++;
    }
    gram *g = &ix->grams[id];
    memset(g, 0, sizeof *g);
    g->key = key;
    size_t i = mix64(key) & ix->table_mask;
    while (ix->table[i])
        i = (i + 1) & ix->table_mask;
    ix->table[i] = id + 1;
    ix->live_grams++;
    return id;
}

/* Forgets gram id (no live question holds it): out of the table (backward-shift deletion),
 * postings freed, record on the free list. */
static void gram_release(similar_index *ix, uint32_t id)
{
    gram *g = &ix->grams[id];
    size_t mask = ix->table_mask, i = mix64(g->key) & mask;
    while (ix->table[i] != id + 1)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; ix->table[j]; j = (j + 1) & mask) {
        size_t home = mix64(ix->grams[ix->table[j] - 1].key) & mask;
        /* move j's entry into the hole i unless its home lies cyclically in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            ix->table[i] = ix->table[j];
            i = j;
        }
    }
    ix->table[i] = 0;
    if (g->cap > INLINE_POSTINGS) {
        ix->bytes -= (size_t)g->cap * sizeof(uint32_t);
        free(g->post.heap);
    }
    memset(g, 0, sizeof *g);
    g->post.in[0] = ix->free_gram;
    ix->free_gram = id;
    ix->live_grams--;
}

/* Room for one more posting of gram g. */
static bool postings_reserve(similar_index *ix, gram *g)
{
    if (g->len < (g->cap > INLINE_POSTINGS ? g->cap : INLINE_POSTINGS))
        return true;
    uint32_t cap = g->cap > INLINE_POSTINGS ? g->cap + g->cap / 2 : 8;
    uint32_t *p;
    if (g->cap > INLINE_POSTINGS) {
        p = realloc(g->post.heap, (size_t)cap * sizeof *p);
        if (!p)
            return false;
        ix->bytes += (size_t)(cap - g->cap) * sizeof *p;
    } else {
        p = malloc((size_t)cap * sizeof *p);
        if (!p)
            return false;
        memcpy(p, g->post.in, (size_t)g->len * sizeof *p);
        ix->bytes += (size_t)cap * sizeof *p;
    }
    g->post.heap = p;
    g->cap = cap;
    return true;
}

/* Drops gram g's dead postings, keeping the order; gives memory back when mostly unused. */
static void postings_compact(similar_index *ix, gram *g)
{
    uint32_t *p = postings(g), n = 0;
    for (uint32_t i = 0; i < g->len; i++)
        if (ix->docs[p[i]])
            p[n++] = p[i];
    g->len = n;
    if (g->cap > INLINE_POSTINGS && g->cap >= 4 * n + 16) {
        uint32_t cap = 2 * n + 8;
        uint32_t *q = realloc(g->post.heap, (size_t)cap * sizeof *q);
        if (q) {
            ix->bytes -= (size_t)(g->cap - cap) * sizeof *q;
            g->post.heap = q;
            g->cap = cap;
        }
    }
}

/* ---- weights ---------------------------------------------------------------------------- */

static float ln_df(const similar_index *ix, uint32_t df)
{
    return df < ix->ln_cap ? ix->ln[df] : logf((float)df);
}

/* ln((live + 1) / df): from ln(live + 1) for a gram that df live questions hold (df >= 1). */
static float weight(const similar_index *ix, float ln_n1, uint32_t df)
{
    return ln_n1 - ln_df(ix, df ? df : 1);
}

static float ln_live(const similar_index *ix)
{
    return logf((float)ix->live + 1.0f);
}

/* The norm of a weighted gram set as the measure wants it. */
static float norm_of(const similar_index *ix, double sum_w, double sum_w2)
{
    return ix->opt.measure == SIMILAR_IDF_COSINE ? (float)sqrt(sum_w2) : (float)sum_w;
}

/* ---- questions by number and by id ------------------------------------------------------ */

static size_t id_slot_of(const similar_index *ix, int64_t id)
{
    size_t i = mix64((uint64_t)id) & ix->ids_mask;
    while (ix->ids[i].num != NONE && ix->ids[i].id != id)
        i = (i + 1) & ix->ids_mask;
    return i;
}

static uint32_t num_of(const similar_index *ix, int64_t id)
{
    return ix->ids[id_slot_of(ix, id)].num;
}

static bool ids_reserve(similar_index *ix, size_t more)
{
    size_t need = ix->live + more, size = ix->ids_mask + 1;
    if (need * 2 <= size)
        return true;
    while (need * 2 > size)
        size *= 2;
    id_slot *t = malloc(size * sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < size; i++)
        t[i].num = NONE;
    for (size_t i = 0; i <= ix->ids_mask; i++) {
        if (ix->ids[i].num == NONE)
            continue;
        size_t j = mix64((uint64_t)ix->ids[i].id) & (size - 1);
        while (t[j].num != NONE)
            j = (j + 1) & (size - 1);
        t[j] = ix->ids[i];
    }
    ix->bytes += (size - (ix->ids_mask + 1)) * sizeof *t;
    free(ix->ids);
    ix->ids = t;
    ix->ids_mask = size - 1;
    return true;
}

static void ids_erase(similar_index *ix, int64_t id)
{
    size_t mask = ix->ids_mask, i = id_slot_of(ix, id);
    if (ix->ids[i].num == NONE)
        return;
    for (size_t j = (i + 1) & mask; ix->ids[j].num != NONE; j = (j + 1) & mask) {
        size_t home = mix64((uint64_t)ix->ids[j].id) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            ix->ids[i] = ix->ids[j];
            i = j;
        }
    }
    ix->ids[i].num = NONE;
}

/* Gives every live question a dense number again, in the same order, and rewrites the postings
 * without their dead entries. Allocates nothing. */
static void renumber(similar_index *ix)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < ix->next_num; i++)
        if (ix->docs[i])
            ix->docs[i]->num = n++;
    for (uint32_t gi = 0; gi < ix->n_grams; gi++) {
        gram *g = &ix->grams[gi];
        if (g->key == 0)
            continue;
        uint32_t *p = postings(g), k = 0;
        for (uint32_t i = 0; i < g->len; i++)
            if (ix->docs[p[i]])
                p[k++] = ix->docs[p[i]]->num;
        g->len = k;
    }
    for (size_t i = 0; i <= ix->ids_mask; i++)
        if (ix->ids[i].num != NONE)
            ix->ids[i].num = ix->docs[ix->ids[i].num]->num;
    for (uint32_t i = 0; i < ix->next_num; i++) {
        doc *d = ix->docs[i];
        if (d) {
            ix->docs[i] = NULL;
            ix->lens[i] = 0;
            ix->docs[d->num] = d;
            ix->lens[d->num] = (uint16_t)d->n;
        }
    }
    ix->next_num = n;
    ix->oldest = 0;
}

/* Room for one more number: renumbering when at most half the numbers are live, else larger
 * arrays. */
static bool docs_reserve(similar_index *ix)
{
    if (ix->next_num < ix->docs_cap)
        return true;
    if (ix->live * 2 <= ix->next_num && ix->docs_cap > 0) {
        renumber(ix);
        return true;
    }
    size_t cap = ix->docs_cap ? (size_t)ix->docs_cap * 2 : 256;
    if (cap > UINT32_MAX - 1)
        return false;
    /* a failure half way leaves some arrays larger, which is harmless: docs_cap is the size */
    doc **d = realloc(ix->docs, cap * sizeof *d);
    if (!d)
        return false;
    ix->docs = d;
    uint16_t *l = realloc(ix->lens, cap * sizeof *l);
    if (!l)
        return false;
    ix->lens = l;
    float *a = realloc(ix->acc, cap * sizeof *a);
    if (!a)
        return false;
    ix->acc = a;
    size_t more = cap - ix->docs_cap;
    memset(d + ix->docs_cap, 0, more * sizeof *d);
    memset(l + ix->docs_cap, 0, more * sizeof *l);
    memset(a + ix->docs_cap, 0, more * sizeof *a);
    ix->bytes += more * (sizeof *d + sizeof *l + sizeof *a);
    ix->docs_cap = (uint32_t)cap;
    return true;
}

/* ln(df) precomputed for every df up to live + 1. */
static bool ln_reserve(similar_index *ix)
{
    if (ix->live + 2 <= ix->ln_cap)
        return true;
    size_t cap = ix->ln_cap ? (size_t)ix->ln_cap * 2 : LN_TABLE_MIN;
    float *ln = realloc(ix->ln, cap * sizeof *ln);
    if (!ln)
        return false;
    for (size_t i = ix->ln_cap; i < cap; i++)
        ln[i] = i ? logf((float)i) : 0;
    ix->bytes += (cap - ix->ln_cap) * sizeof *ln;
    ix->ln = ln;
    ix->ln_cap = (uint32_t)cap;
    return true;
}

/* Takes question number num out: its postings become dead (compacted when half of a list is),
 * its grams lose it from their df. Grams left with no question are released unless
 * keep_empty (the caller releases them with release_empty, after adding a question that may
 * hold them). The doc is freed unless keep_empty; returns it otherwise. */
static doc *doc_remove(similar_index *ix, uint32_t num, bool keep_empty)
{
    doc *d = ix->docs[num];
    ix->docs[num] = NULL;
    ix->lens[num] = 0;
    ids_erase(ix, d->id);
    ix->live--;
    for (uint32_t i = 0; i < d->n; i++) {
        gram *g = &ix->grams[d->grams[i]];
        g->df--;
        if (g->df == 0 && !keep_empty)
            gram_release(ix, d->grams[i]);
        else if (g->len >= 8 && (g->len - g->df) * 2 > g->len)
            postings_compact(ix, g);
    }
    while (ix->oldest < ix->next_num && !ix->docs[ix->oldest])
        ix->oldest++;
    if (keep_empty)
        return d;
    ix->bytes -= sizeof *d + (size_t)d->n * sizeof(uint32_t);
    free(d);
    return NULL;
}

/* Releases the grams of a doc kept by doc_remove that no live question holds, and frees it. */
static void release_empty(similar_index *ix, doc *d)
{
    if (!d)
        return;
    for (uint32_t i = 0; i < d->n; i++)
        if (ix->grams[d->grams[i]].key != 0 && ix->grams[d->grams[i]].df == 0)
            gram_release(ix, d->grams[i]);
    ix->bytes -= sizeof *d + (size_t)d->n * sizeof(uint32_t);
    free(d);
}

/* ---- public: life cycle ----------------------------------------------------------------- */

void similar_options_default(similar_options *out)
{
    out->max_questions = 20000;
    out->measure = SIMILAR_IDF_COSINE;
    out->grams = SIMILAR_UNIGRAMS;
    out->exhaustive = false;
}

similar_index *similar_create(const similar_options *opt)
{
    similar_options o;
    similar_options_default(&o);
    if (opt)
        o = *opt;
    if (o.max_questions < 1 || o.max_questions > SIMILAR_MAX_QUESTIONS ||
        (unsigned)o.measure > SIMILAR_JACCARD || o.grams == 0 ||
        (o.grams & ~(unsigned)(SIMILAR_UNIGRAMS | SIMILAR_BIGRAMS | SIMILAR_TRIGRAMS)))
        return NULL;
    similar_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->opt = o;
    ix->free_gram = NONE;
    ix->table = calloc(1024, sizeof *ix->table);
    ix->ids = malloc(256 * sizeof *ix->ids);
    ix->touched = malloc(SIMILAR_POSTINGS_BUDGET * sizeof *ix->touched);
    if (!ix->table || !ix->ids || !ix->touched)
        goto fail;
    ix->table_mask = 1023;
    ix->ids_mask = 255;
    for (size_t i = 0; i <= ix->ids_mask; i++)
        ix->ids[i].num = NONE;
    ix->inv_sqrt[0] = 0;
    for (uint32_t i = 1; i <= SIMILAR_MAX_GRAMS; i++)
        ix->inv_sqrt[i] = 1.0f / sqrtf((float)i);
    ix->bytes = sizeof *ix + 1024 * sizeof *ix->table + 256 * sizeof *ix->ids +
                SIMILAR_POSTINGS_BUDGET * sizeof *ix->touched;
    if (!ln_reserve(ix))
        goto fail;
    return ix;
fail:
    similar_free(ix);
    return NULL;
}

void similar_free(similar_index *ix)
{
    if (!ix)
        return;
    for (uint32_t i = 0; i < ix->n_grams; i++)
        if (ix->grams[i].key != 0 && ix->grams[i].cap > INLINE_POSTINGS)
            free(ix->grams[i].post.heap);
    for (uint32_t i = 0; i < ix->next_num; i++)
        free(ix->docs[i]);
    free(ix->grams);
    free(ix->mark);
    free(ix->table);
    free(ix->docs);
    free(ix->lens);
    free(ix->acc);
    free(ix->ln);
    free(ix->ids);
    free(ix->touched);
    free(ix);
}

size_t similar_count(const similar_index *ix)
{
    return ix->live;
}

size_t similar_memory(const similar_index *ix)
{
    return ix->bytes;
}

bool similar_contains(const similar_index *ix, int64_t id)
{
    return num_of(ix, id) != NONE;
}

/* ---- public: add and remove ------------------------------------------------------------- */

similar_status similar_add(similar_index *ix, int64_t id, const char *text, size_t len)
{
    uint32_t cps[SIMILAR_MAX_CHARS];
    uint64_t keys[KEYS_MAX];
    uint32_t found[SIMILAR_MAX_GRAMS];
    int n = fold_text(text, len, cps);
    if (n == -1)
        return SIMILAR_EINVAL;
    if (n < 0)
        return SIMILAR_ENOMEM;
    size_t nk = make_keys(ix->opt.grams, cps, n, keys);

    /* Reserve everything the change needs; nothing visible changes until it is in place. */
    if (!grams_reserve(ix, nk) || !ids_reserve(ix, 1) || !docs_reserve(ix) || !ln_reserve(ix))
        return SIMILAR_ENOMEM;
    uint32_t old = num_of(ix, id); /* after docs_reserve: a renumbering changes numbers */
    for (size_t i = 0; i < nk; i++) {
        found[i] = gram_find(ix, keys[i]);
        if (found[i] != NONE && !postings_reserve(ix, &ix->grams[found[i]]))
            return SIMILAR_ENOMEM;
    }
    doc *d = malloc(sizeof *d + nk * sizeof(uint32_t));
    if (!d)
        return SIMILAR_ENOMEM;
    ix->bytes += sizeof *d + nk * sizeof(uint32_t);

    /* The question it replaces, or the oldest when full, leaves first; grams only it held stay
     * until the new question is in (their records and postings are reserved above). */
    doc *gone = NULL;
    if (old != NONE)
        gone = doc_remove(ix, old, true);
    else if (ix->live >= ix->opt.max_questions)
        gone = doc_remove(ix, ix->oldest, true);

    uint32_t num = ix->next_num++;
    d->id = id;
    d->num = num;
    d->n = (uint32_t)nk;
    for (size_t i = 0; i < nk; i++) {
        uint32_t gid = found[i] != NONE ? found[i] : gram_insert(ix, keys[i]);
        gram *g = &ix->grams[gid];
        postings(g)[g->len++] = num;
        g->df++;
        d->grams[i] = gid;
    }
    ix->docs[num] = d;
    ix->lens[num] = (uint16_t)nk;
    ix->ids[id_slot_of(ix, id)] = (id_slot){.id = id, .num = num};
    ix->live++;
    while (!ix->docs[ix->oldest]) /* stops at num at the latest */
        ix->oldest++;
    release_empty(ix, gone);
    return SIMILAR_OK;
}

bool similar_remove(similar_index *ix, int64_t id)
{
    uint32_t num = num_of(ix, id);
    if (num == NONE)
        return false;
    doc_remove(ix, num, false);
    return true;
}

/* ---- public: queries -------------------------------------------------------------------- */

typedef struct {
    float est;
    uint32_t num;
} candidate;

/* Orders candidates worst first (a min-heap's order): lower estimate, then older. */
static bool worse(candidate a, candidate b)
{
    return a.est < b.est || (a.est == b.est && a.num < b.num);
}

static void heap_sift_down(candidate *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(h[l], h[m]))
            m = l;
        if (r < n && worse(h[r], h[m]))
            m = r;
        if (m == i)
            return;
        candidate t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_push(candidate *h, size_t *n, size_t cap, candidate c)
{
    if (*n == cap) {
        if (!worse(h[0], c))
            return;
        h[0] = c;
        heap_sift_down(h, *n, 0);
        return;
    }
    size_t i = (*n)++;
    h[i] = c;
    while (i > 0 && worse(h[i], h[(i - 1) / 2])) {
        candidate t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

typedef struct {
    const uint32_t *ids; /* known gram ids */
    const float *w;      /* their weights */
    uint32_t n_known;
    uint32_t n_total;    /* grams, unknown ones too */
    float norm;          /* weighted norm, unknown grams included */
    float ln_n1;         /* ln(live + 1): weights are ln_n1 - ln(df) */
    uint32_t self;       /* its own number, NONE for a text */
} query;

static int compare_hits(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->est != y->est)
        return x->est < y->est ? 1 : -1;
    return (x->num < y->num) - (x->num > y->num);
}

/* The exact score of q against question d, with the weights of now; q's grams are marked
 * (see run_query). One pass over d's grams, no merge: its branches would not predict. */
static float score(const similar_index *ix, const query *q, const doc *d)
{
    double iw = 0, sum = 0, sum2 = 0;
    uint32_t inter = 0;
    for (uint32_t g = 0; g < d->n; g++) {
        uint32_t gid = d->grams[g];
        double m = ix->mark[gid];
        if (ix->opt.measure == SIMILAR_JACCARD) {
            inter += m > 0;
            continue;
        }
        double w = weight(ix, q->ln_n1, ix->grams[gid].df);
        sum += w;
        sum2 += w * w;
        iw += ix->opt.measure == SIMILAR_IDF_COSINE ? m * w : m;
    }
    double s;
    if (ix->opt.measure == SIMILAR_JACCARD) {
        s = (double)inter / (double)(q->n_total + d->n - inter);
    } else if (ix->opt.measure == SIMILAR_IDF_COSINE) {
        double den = (double)q->norm * sqrt(sum2);
        s = den > 0 ? iw / den : 0;
    } else {
        double den = (double)q->norm + sum - iw;
        s = den > 0 ? iw / den : 0;
    }
    return s > 1 ? 1.0f : s < 0 ? 0.0f : (float)s;
}

/* The k best hits in order. */
static size_t emit_hits(const similar_index *ix, candidate *c, size_t n, size_t k,
                        similar_hit *out)
{
    qsort(c, n, sizeof *c, compare_hits);
    if (n > k)
        n = k;
    for (size_t i = 0; i < n; i++)
        out[i] = (similar_hit){.id = ix->docs[c[i].num]->id, .score = c[i].est};
    return n;
}

/* Scores every indexed question (options.exhaustive): what the pruned query approximates. */
static size_t run_exhaustive(similar_index *ix, const query *q, size_t k, float min_score,
                             similar_hit *out)
{
    candidate best[SIMILAR_MAX_HITS];
    size_t n = 0;
    for (uint32_t num = ix->oldest; num < ix->next_num; num++) {
        const doc *d = ix->docs[num];
        if (!d || num == q->self)
            continue;
        float s = score(ix, q, d);
        if (s >= min_score && s > 0)
            heap_push(best, &n, k, (candidate){.est = s, .num = num});
    }
    return emit_hits(ix, best, n, k, out);
}

/* Candidates from the postings of q's grams, rarest first within the budgets, the
 * SIMILAR_CANDIDATES best by an estimate scored exactly. */
static size_t run_pruned(similar_index *ix, const query *q, size_t k, float min_score,
                         similar_hit *out)
{
    /* Rarest grams first: they say the most and their postings are short. */
    uint64_t order[SIMILAR_MAX_GRAMS];
    for (uint32_t i = 0; i < q->n_known; i++)
        order[i] = ((uint64_t)ix->grams[q->ids[i]].len << 32) | i;
    sort_u64(order, q->n_known);

    /* MaxScore: once the grams left could not lift a question that shares none of the grams
     * read so far to min_score, stop looking for new candidates. rest[i] bounds what the
     * grams from order[i] on can add: cosine <= sqrt(sum w^2) / |q|, weighted Jaccard <=
     * sum w / sum_q w, Jaccard <= count / n_total. */
    float rest[SIMILAR_MAX_GRAMS + 1];
    rest[q->n_known] = 0;
    for (uint32_t oi = q->n_known; oi-- > 0;) {
        float w = ix->mark[q->ids[(uint32_t)order[oi]]];
        rest[oi] = rest[oi + 1] + (ix->opt.measure == SIMILAR_IDF_COSINE  ? w * w
                                   : ix->opt.measure == SIMILAR_IDF_JACCARD ? w
                                                                            : 1.0f);
    }
    float whole = ix->opt.measure == SIMILAR_IDF_COSINE    ? q->norm
                  : ix->opt.measure == SIMILAR_IDF_JACCARD ? q->norm
                                                           : (float)q->n_total;
    size_t n_touched = 0, budget = SIMILAR_POSTINGS_BUDGET;
    for (uint32_t oi = 0; oi < q->n_known && budget > 0; oi++) {
        float bound = ix->opt.measure == SIMILAR_IDF_COSINE ? sqrtf(rest[oi]) : rest[oi];
        if (min_score > 0 && bound < min_score * whole)
            break;
        gram *g = &ix->grams[q->ids[(uint32_t)order[oi]]];
        const uint32_t *p = postings(g);
        size_t take = g->len < SIMILAR_POSTINGS_PER_GRAM ? g->len : SIMILAR_POSTINGS_PER_GRAM;
        if (take > budget)
            take = budget;
        budget -= take;
        float w = ix->mark[q->ids[(uint32_t)order[oi]]]; /* > 0: acc 0 means untouched */
        for (size_t t = 0; t < take; t++) {
            uint32_t num = p[g->len - 1 - t];
            if (num == q->self || ix->lens[num] == 0) /* itself, or removed */
                continue;
            if (ix->acc[num] == 0)
                ix->touched[n_touched++] = num;
            ix->acc[num] += w;
        }
    }

    /* The estimate: shared weight over the root of the candidate's size (a cosine with the
     * candidate's weights taken as 1), from the dense arrays only. */
    candidate heap[SIMILAR_CANDIDATES];
    size_t n_heap = 0;
    for (size_t t = 0; t < n_touched; t++) {
        uint32_t num = ix->touched[t];
        candidate c = {.est = ix->acc[num] * ix->inv_sqrt[ix->lens[num]], .num = num};
        ix->acc[num] = 0;
        heap_push(heap, &n_heap, SIMILAR_CANDIDATES, c);
    }

    size_t n_out = 0;
    for (size_t i = 0; i < n_heap; i++) {
        float s = score(ix, q, ix->docs[heap[i].num]);
        if (s >= min_score && s > 0)
            heap[n_out++] = (candidate){.est = s, .num = heap[i].num};
    }
    return emit_hits(ix, heap, n_out, k, out);
}

static size_t run_query(similar_index *ix, const query *q, size_t k, float min_score,
                        similar_hit *out)
{
    if (k > SIMILAR_MAX_HITS)
        k = SIMILAR_MAX_HITS;
    if (k == 0 || q->n_known == 0)
        return 0;
    for (uint32_t i = 0; i < q->n_known; i++)
        ix->mark[q->ids[i]] = fmaxf(q->w[i], 1e-6f); /* > 0: 0 means not in the query */
    size_t n = ix->opt.exhaustive ? run_exhaustive(ix, q, k, min_score, out)
                                  : run_pruned(ix, q, k, min_score, out);
    for (uint32_t i = 0; i < q->n_known; i++)
        ix->mark[q->ids[i]] = 0;
    return n;
}

size_t similar_query_id(similar_index *ix, int64_t id, size_t k, float min_score,
                        similar_hit *out)
{
    uint32_t num = num_of(ix, id);
    if (num == NONE)
        return 0;
    const doc *d = ix->docs[num];
    float w[SIMILAR_MAX_GRAMS], ln_n1 = ln_live(ix);
    double s = 0, s2 = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        w[i] = weight(ix, ln_n1, ix->grams[d->grams[i]].df);
        s += w[i];
        s2 += (double)w[i] * w[i];
    }
    query q = {.ids = d->grams, .w = w, .n_known = d->n, .n_total = d->n,
               .norm = norm_of(ix, s, s2), .ln_n1 = ln_n1, .self = num};
    return run_query(ix, &q, k, min_score, out);
}

size_t similar_query_text(similar_index *ix, const char *text, size_t len, size_t k,
                          float min_score, similar_hit *out)
{
    uint32_t cps[SIMILAR_MAX_CHARS];
    uint64_t keys[KEYS_MAX];
    uint32_t ids[SIMILAR_MAX_GRAMS];
    float w[SIMILAR_MAX_GRAMS];
    int n = fold_text(text, len, cps);
    if (n < 0)
        return 0;
    size_t nk = make_keys(ix->opt.grams, cps, n, keys);
    uint32_t known = 0;
    for (size_t i = 0; i < nk; i++) {
        uint32_t gid = gram_find(ix, keys[i]);
        if (gid != NONE)
            ids[known++] = gid;
    }
    /* Weighed like the indexed questions; a gram no question holds weighs as one held once. */
    float ln_n1 = ln_live(ix);
    double s = 0, s2 = 0;
    for (uint32_t i = 0; i < known; i++) {
        w[i] = weight(ix, ln_n1, ix->grams[ids[i]].df);
        s += w[i];
        s2 += (double)w[i] * w[i];
    }
    double w_new = weight(ix, ln_n1, 1);
    s += w_new * (double)(nk - known);
    s2 += w_new * w_new * (double)(nk - known);
    query q = {.ids = ids, .w = w, .n_known = known, .n_total = (uint32_t)nk,
               .norm = norm_of(ix, s, s2), .ln_n1 = ln_n1, .self = NONE};
    return run_query(ix, &q, k, min_score, out);
}
