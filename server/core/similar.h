/* similar.h — similar-question hints: an incremental index of question texts, keyed by question
 * id, that answers "which indexed questions ask much the same thing as this one?" with scores
 * in 0..1. Pure: no I/O, no globals; one index per owner, not thread-safe.
 *
 * Text is compared in a folded form: utf8_fold() (NFKC, case folded, invisible characters
 * removed), traditional Chinese characters mapped to simplified ones (電梯 = 电梯), then only
 * letters, digits and combining marks kept (punctuation, white space, symbols and emoji
 * dropped). A question is the set of its characters by default (options can add or choose
 * character bigrams and trigrams: "加装电梯" gives 加装 装电 电梯, 加装电 装电梯; no word
 * segmenter either way), at most SIMILAR_MAX_GRAMS of them (a longer question keeps the ones
 * with the smallest hash, the same choice for every question). The score is the cosine of the
 * two sets weighted by inverse document frequency: characters that many indexed questions
 * share (的, 小, 区, 什, 么) weigh little, rare ones (梯, 闸, 漏) much. On the labelled set this
 * beat bigram and trigram sets, weighted or not, by a wide margin; docs/similar.md
 * describes the method, the labelled set it was chosen on, and its figures.
 *
 * Cost: adding or querying touches the question's own grams and a bounded number of postings
 * (rarest grams first, SIMILAR_POSTINGS_PER_GRAM most recent entries of each, at most
 * SIMILAR_POSTINGS_BUDGET in all), then scores at most SIMILAR_CANDIDATES candidates exactly
 * with the weights of the moment; it never scans the indexed texts, so 20,000 identical spam
 * questions cost a query no more than 20 different ones. Memory: per question its gram ids and
 * postings (8 bytes per gram, at most SIMILAR_MAX_GRAMS grams) and a 24-byte record, plus about
 * 40 bytes per distinct gram in the index; similar_memory() tells the total. Removing is lazy
 * and amortised: dead postings are dropped when they are half of a gram's list, and the index
 * renumbers itself when it has handed out twice as many numbers as it holds questions. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIMILAR_MAX_CHARS 1000        /* folded characters considered per question */
#define SIMILAR_MAX_GRAMS 256         /* distinct grams kept per question */
#define SIMILAR_POSTINGS_PER_GRAM 1024 /* most recent postings read per gram in a query */
#define SIMILAR_POSTINGS_BUDGET 4096  /* postings read per query in all */
#define SIMILAR_CANDIDATES 32         /* candidates scored exactly per query */
#define SIMILAR_MAX_HITS SIMILAR_CANDIDATES /* largest k a query accepts */
#define SIMILAR_MAX_QUESTIONS 1000000 /* largest max_questions */

/* The default threshold: hints scoring below it are not worth a moderator's glance. Chosen on
 * the labelled set (tests/data/similar, docs/similar.md) with the default options: F1 peaks
 * there, with 0.62 of the pairs above it asking the same thing. */
#define SIMILAR_DEFAULT_MIN_SCORE 0.25f

typedef enum {
    SIMILAR_OK = 0,
    SIMILAR_EINVAL = -1, /* text is not valid UTF-8, or an argument is out of range */
    SIMILAR_ENOMEM = -2, /* allocation failed; the index is unchanged */
} similar_status;

typedef enum {
    SIMILAR_IDF_COSINE = 0, /* cosine of the IDF-weighted gram vectors (default) */
    SIMILAR_IDF_JACCARD,    /* sum of the shared grams' weights / sum of the union's */
    SIMILAR_JACCARD,        /* shared grams / grams of either, unweighted */
} similar_measure;

enum { SIMILAR_BIGRAMS = 1, SIMILAR_TRIGRAMS = 2, SIMILAR_UNIGRAMS = 4 };

typedef struct {
    size_t max_questions;    /* 1..SIMILAR_MAX_QUESTIONS; adding one more evicts the oldest */
    similar_measure measure;
    unsigned grams;          /* SIMILAR_UNIGRAMS | SIMILAR_BIGRAMS | SIMILAR_TRIGRAMS, not 0 */
    bool exhaustive;         /* queries score every question (slow: for checking the pruning) */
} similar_options;

typedef struct {
    int64_t id;
    float score; /* 0..1; 1 = the same folded text */
} similar_hit;

typedef struct similar_index similar_index;

/* The defaults: 20,000 questions, IDF-weighted cosine over characters, pruned queries. */
void similar_options_default(similar_options *out);

/* A new empty index (opt NULL = defaults), or NULL on allocation failure or options out of
 * range. Free it with similar_free. */
similar_index *similar_create(const similar_options *opt);
void similar_free(similar_index *ix);

/* Indexes question id with text[0..len) (not NUL-terminated; any length, only the first
 * SIMILAR_MAX_CHARS folded characters count). An id already indexed is replaced (an edit), and
 * becomes the most recent question. When the index holds max_questions, the oldest question is
 * evicted first. A text with fewer than two folded characters is indexed but never similar to
 * anything. Returns SIMILAR_OK, SIMILAR_EINVAL (invalid UTF-8) or SIMILAR_ENOMEM; on an error
 * the index is as it was. */
similar_status similar_add(similar_index *ix, int64_t id, const char *text, size_t len);

/* Removes question id (withdrawn, merged, erased). False if it was not indexed. */
bool similar_remove(similar_index *ix, int64_t id);

/* True if question id is indexed. */
bool similar_contains(const similar_index *ix, int64_t id);

/* Number of questions indexed. */
size_t similar_count(const similar_index *ix);

/* The up to k (<= SIMILAR_MAX_HITS) indexed questions most similar to indexed question id,
 * itself excluded, whose score is at least min_score, best first (equal scores: the more
 * recently added first), written to out[0..k). Returns how many; 0 if id is not indexed. */
size_t similar_query_id(similar_index *ix, int64_t id, size_t k, float min_score,
                        similar_hit *out);

/* The same for a text that need not be indexed (every indexed question is a candidate).
 * Returns how many, or 0 for invalid UTF-8 or when memory runs out. */
size_t similar_query_text(similar_index *ix, const char *text, size_t len, size_t k,
                          float min_score, similar_hit *out);

/* Bytes the index holds on the heap (its arrays at their capacity, without malloc's own
 * overhead). */
size_t similar_memory(const similar_index *ix);
