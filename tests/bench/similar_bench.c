/* similar_bench.c — the similar-question index (server/core/similar.c) measured: microseconds
 * per added question and per query at 1,000 / 5,000 / 20,000 questions, memory per question,
 * hostile floods, how often the pruned query misses a hint that scoring every question would
 * give, and (with --compare) the measures and gram sizes side by side on the labelled set.
 * Prints Markdown tables. Run through tests/bench/similar.sh (a Release build, under the
 * benchmark lock).
 *
 *   similar_bench [--sizes 1000,5000,20000] [--new 2000] [--flood 20000] [--data FILE]
 *                 [--compare] [--no-check]
 *
 * The filler questions are made from the labelled set's own clauses, recombined at random with
 * numbers (3号楼, 12栋), so that character frequencies look like a district forum's. */
#include "similar.h"
#include "../unit/similar_eval.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CLAUSES 4096

static eval_set set;
static char *clauses[MAX_CLAUSES];
static int n_clauses;
static uint64_t rng = 88172645463325252ULL;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Splits every labelled question into clauses at Chinese punctuation. */
static void split_clauses(void)
{
    static const char *marks[] = {"，", "？", "。", "！", "、", "；", "：", ",", "?", "!"};
    for (int i = 0; i < set.n && n_clauses < MAX_CLAUSES; i++) {
        const char *s = set.text[i];
        while (*s && n_clauses < MAX_CLAUSES) {
            const char *end = s + strlen(s);
            size_t mark_len = 0;
            for (size_t m = 0; m < sizeof marks / sizeof *marks; m++) {
                const char *p = strstr(s, marks[m]);
                if (p && p < end) {
                    end = p;
                    mark_len = strlen(marks[m]);
                }
            }
            if (end > s)
                clauses[n_clauses++] = strndup(s, (size_t)(end - s));
            s = end + mark_len;
            if (!mark_len)
                break;
        }
    }
}

/* A filler question: 1..4 random clauses, sometimes a building number. */
static size_t filler(char *out, size_t cap)
{
    size_t len = 0;
    int parts = 1 + (int)(next_rand() % 4);
    if (next_rand() % 3 == 0)
        len += (size_t)snprintf(out, cap, "%u号楼", 1 + next_rand() % 40);
    for (int p = 0; p < parts && len + 200 < cap; p++) {
        const char *c = clauses[next_rand() % (uint32_t)n_clauses];
        len += (size_t)snprintf(out + len, cap - len, "%s%s", p ? "，" : "", c);
    }
    len += (size_t)snprintf(out + len, cap - len, "？");
    return len;
}

typedef struct {
    double add_us, query_us, p99_us; /* per question: add, query, add+query 99th percentile */
    double bytes_per_q, heap_per_q;
    double missed;                   /* exhaustive hints the pruned query did not return */
} run_result;

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* make(i, buf, cap) writes question i's text. */
typedef size_t (*maker)(int i, char *buf, size_t cap);

static size_t make_filler(int i, char *buf, size_t cap)
{
    (void)i;
    return filler(buf, cap);
}

static size_t make_spam(int i, char *buf, size_t cap)
{
    return (size_t)snprintf(buf, cap, "关注我的直播间领取免费礼品！！%d号", i % 10);
}

static size_t make_random_cjk(int i, char *buf, size_t cap)
{
    (void)i;
    size_t len = 0;
    for (int k = 0; k < 500 && len + 4 < cap; k++) {
        uint32_t cp = 0x4E00 + next_rand() % 0x51A6;
        buf[len++] = (char)(0xE0 | (cp >> 12));
        buf[len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[len++] = (char)(0x80 | (cp & 0x3F));
    }
    return len;
}

static size_t make_repeated(int i, char *buf, size_t cap)
{
    (void)i;
    size_t len = 0;
    for (int k = 0; k < 500 && len + 3 < cap; k++) {
        memcpy(buf + len, "吵", 3);
        len += 3;
    }
    return len;
}

/* Fills an index with `size` questions from make, then times `fresh` more, each added and
 * asked for its 5 hints at the default threshold, as the submit path would. With `check`, an
 * exhaustive index holding the same questions tells how many hints the pruning missed. */
static bool run(int size, int fresh, maker make, bool check, run_result *r)
{
    similar_options o;
    similar_options_default(&o);
    o.max_questions = (size_t)size + (size_t)fresh;
    size_t heap0 = heap_bytes();
    similar_index *ix = similar_create(&o), *all = NULL;
    o.exhaustive = true;
    if (check)
        all = similar_create(&o);
    double *lat = malloc(sizeof(double) * (size_t)fresh);
    char buf[4096];
    bool ok = ix && (!check || all) && lat;
    for (int i = 0; ok && i < size; i++) {
        size_t len = make(i, buf, sizeof buf);
        ok = similar_add(ix, i, buf, len) == SIMILAR_OK &&
             (!check || similar_add(all, i, buf, len) == SIMILAR_OK);
    }
    double add_total = 0, query_total = 0;
    long expected = 0, missed = 0;
    for (int i = 0; ok && i < fresh; i++) {
        size_t len = make(size + i, buf, sizeof buf);
        similar_hit hits[5], want[5];
        double t0 = now_us();
        ok = similar_add(ix, size + i, buf, len) == SIMILAR_OK;
        double t1 = now_us();
        size_t n = similar_query_id(ix, size + i, 5, SIMILAR_DEFAULT_MIN_SCORE, hits);
        double t2 = now_us();
        add_total += t1 - t0;
        query_total += t2 - t1;
        lat[i] = t2 - t0;
        if (check && ok) {
            ok = similar_add(all, size + i, buf, len) == SIMILAR_OK;
            size_t m = similar_query_id(all, size + i, 5, SIMILAR_DEFAULT_MIN_SCORE, want);
            for (size_t a = 0; a < m; a++) {
                bool found = false;
                for (size_t b = 0; b < n; b++)
                    found |= hits[b].id == want[a].id ||
                             fabsf(hits[b].score - want[a].score) < 1e-6f; /* a tie */
                expected++;
                missed += !found;
            }
        }
    }
    if (ok) {
        qsort(lat, (size_t)fresh, sizeof *lat, compare_double);
        r->add_us = add_total / fresh;
        r->query_us = query_total / fresh;
        r->p99_us = lat[(size_t)fresh * 99 / 100];
        r->bytes_per_q = (double)similar_memory(ix) / (double)similar_count(ix);
        r->heap_per_q = check ? NAN : (double)(heap_bytes() - heap0) / (double)similar_count(ix);
        r->missed = expected ? (double)missed / (double)expected : 0;
    }
    similar_free(ix);
    similar_free(all);
    free(lat);
    return ok;
}

/* Average precision and the best F1 of one configuration on the labelled set (5 orders). */
typedef struct {
    float s;
    int rel;
} scored_pair;

static int compare_pair(const void *a, const void *b)
{
    float x = ((const scored_pair *)a)->s, y = ((const scored_pair *)b)->s;
    return (x < y) - (x > y);
}

static bool compare_one(const similar_options *o, double *ap_out, double *f1_out, double *th_out)
{
    int n = set.n, seeds = 5;
    float *scores = malloc(sizeof(float) * (size_t)n * (size_t)n);
    scored_pair *p = malloc(sizeof *p * (size_t)n * (size_t)n / 2);
    eval_result r;
    bool ok = scores && p;
    *ap_out = *f1_out = *th_out = 0;
    for (int seed = 1; ok && seed <= seeds; seed++) {
        ok = eval_run(&set, o, (unsigned)seed, SIMILAR_DEFAULT_MIN_SCORE, scores, &r);
        int np = 0, npos = 0, tp = 0;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < a; b++) {
                float s = fmaxf(scores[a * n + b], scores[b * n + a]);
                int rel = eval_relation(&set, a, b);
                p[np++] = (scored_pair){s, rel};
                npos += rel == 1;
            }
        qsort(p, (size_t)np, sizeof *p, compare_pair);
        double ap = 0, best = 0, best_th = 0;
        for (int i = 0; i < np; i++) {
            if (p[i].rel == 1) {
                tp++;
                ap += (double)tp / (i + 1);
            }
            double prec = (double)tp / (i + 1), rec = (double)tp / npos;
            double f1 = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
            if (f1 > best && (i + 1 == np || p[i + 1].s < p[i].s)) {
                best = f1;
                best_th = p[i].s;
            }
        }
        *ap_out += ap / npos / seeds;
        *f1_out += best / seeds;
        *th_out += best_th / seeds;
    }
    free(scores);
    free(p);
    return ok;
}

static int compare_measures(void)
{
    static const char *measures[] = {"IDF cosine", "IDF Jaccard", "Jaccard"};
    static const struct {
        unsigned grams;
        const char *name;
    } grams[] = {
        {SIMILAR_UNIGRAMS, "characters"},
        {SIMILAR_BIGRAMS, "bigrams"},
        {SIMILAR_TRIGRAMS, "trigrams"},
        {SIMILAR_BIGRAMS | SIMILAR_TRIGRAMS, "bigrams + trigrams"},
        {SIMILAR_UNIGRAMS | SIMILAR_BIGRAMS, "characters + bigrams"},
        {SIMILAR_UNIGRAMS | SIMILAR_BIGRAMS | SIMILAR_TRIGRAMS, "all three"},
    };
    printf("\n## Measures on the labelled set (%d questions, 5 arrival orders)\n\n", set.n);
    printf("| measure | grams | average precision | best F1 | at threshold |\n");
    printf("|---|---|---|---|---|\n");
    for (int m = 0; m < 3; m++) {
        for (size_t g = 0; g < sizeof grams / sizeof *grams; g++) {
            similar_options o;
            similar_options_default(&o);
            o.max_questions = 1000;
            o.measure = (similar_measure)m;
            o.grams = grams[g].grams;
            double ap, f1, th;
            if (!compare_one(&o, &ap, &f1, &th))
                return 1;
            printf("| %s | %s | %.3f | %.3f | %.3f |\n", measures[m], grams[g].name, ap, f1, th);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *data = "tests/data/similar/questions.tsv";
    char sizes_arg[256] = "1000,5000,20000";
    int fresh = 2000, flood = 20000;
    bool compare = false, check = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
            snprintf(sizes_arg, sizeof sizes_arg, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--new") && i + 1 < argc)
            fresh = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--compare"))
            compare = true;
        else if (!strcmp(argv[i], "--flood") && i + 1 < argc)
            flood = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-check"))
            check = false;
        else {
            fprintf(stderr, "usage: %s [--sizes 1000,5000,20000] [--new N] [--flood N] "
                            "[--data FILE] [--compare] [--no-check]\n", argv[0]);
            return 2;
        }
    }
    if (fresh < 100 || flood < 1 || !eval_load(&set, data))
        return 2;
    split_clauses();

    printf("## Submit path: add a question, then ask for its 5 hints (default options, %d new "
           "questions per row)\n\n", fresh);
    printf("| questions held | µs per add | µs per query | µs add+query, 99th pct | "
           "index bytes per question | heap bytes per question | exhaustive hints missed |\n");
    printf("|---|---|---|---|---|---|---|\n");
    int status = 0;
    for (char *tok = strtok(sizes_arg, ","); tok; tok = strtok(NULL, ",")) {
        int size = atoi(tok);
        run_result timed, checked;
        /* timed on its own, then again beside an exhaustive index for the miss rate */
        rng = 88172645463325252ULL;
        if (!run(size, fresh, make_filler, false, &timed)) {
            status = 1;
            break;
        }
        rng = 88172645463325252ULL;
        checked.missed = NAN;
        if (check && !run(size, fresh / 4, make_filler, true, &checked)) {
            status = 1;
            break;
        }
        printf("| %d | %.1f | %.1f | %.1f | %.0f | %.0f | %.2f%% |\n", size, timed.add_us,
               timed.query_us, timed.p99_us, timed.bytes_per_q, timed.heap_per_q,
               100 * checked.missed);
    }

    static const struct {
        maker make;
        const char *name;
    } floods[] = {
        {make_spam, "near-identical spam"},
        {make_repeated, "500 × one character"},
        {make_random_cjk, "500 random CJK characters"},
    };
    printf("\n## Floods: %d hostile questions held, %d more added and queried\n\n", flood,
           fresh);
    printf("| flood | µs per add | µs per query | µs add+query, 99th pct | index bytes per "
           "question | heap bytes per question |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t f = 0; status == 0 && f < sizeof floods / sizeof *floods; f++) {
        run_result r;
        if (!run(flood, fresh, floods[f].make, false, &r)) {
            status = 1;
            break;
        }
        printf("| %s | %.1f | %.1f | %.1f | %.0f | %.0f |\n", floods[f].name, r.add_us,
               r.query_us, r.p99_us, r.bytes_per_q, r.heap_per_q);
    }
    if (status == 0 && compare)
        status = compare_measures();
    for (int i = 0; i < n_clauses; i++)
        free(clauses[i]);
    if (status)
        fprintf(stderr, "similar_bench: an index operation failed\n");
    return status;
}
