/* similar_eval.h — the evaluation of similar-question hints on the labelled set
 * (tests/data/similar/questions.tsv), shared by tests/unit/test_similar.c (which asserts the
 * figures) and tests/bench/similar_bench.c (which compares measures and prints the curve).
 * Header-only, like check.h.
 *
 * The set: one question per line, "id<TAB>group<TAB>variant<TAB>text", a header line first.
 * Questions of the same group ask the same thing (a moderator would merge them); the group's
 * topic is the part of its name before the dot, and two questions of one topic but different
 * groups are a near miss (same subject, different ask).
 *
 * The protocol is the one the server would follow: questions arrive one by one in a shuffled
 * order (a fixed seed), each is added to the index and its hints are asked for at once
 * (similar_query_id), so every pair is scored once, when its later question arrives, against
 * the index as it stood then (document frequencies of the questions so far). */
#pragma once
#include "similar.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_MAX_QUESTIONS 1024
#define EVAL_MAX_TEXT 2048
#define EVAL_THRESHOLDS 23 /* 0.050, 0.075, ... 0.600 */

typedef struct {
    int n;
    char group[EVAL_MAX_QUESTIONS][48];
    char variant[EVAL_MAX_QUESTIONS][16];
    char text[EVAL_MAX_QUESTIONS][EVAL_MAX_TEXT];
} eval_set;

typedef struct {
    int positives;                      /* pairs of the same group */
    int near_misses;                    /* pairs of one topic, different groups */
    double precision[EVAL_THRESHOLDS];  /* pairs scored >= threshold that are positives */
    double recall[EVAL_THRESHOLDS];     /* positives scored >= threshold */
    double near_rate[EVAL_THRESHOLDS];  /* near misses scored >= threshold */
    /* The moderator's view at the threshold asked for, top 5 hints per arriving question: */
    int with_earlier;    /* arriving questions that have an earlier one of their group */
    int found;           /* ... of which one is among the hints */
    int hints, good;     /* hints shown, hints of the same group */
    int near_shown;      /* hints that were near misses */
    /* Recall at the threshold `shown` by the variant of the pairs' later-listed question: */
    int n_variants;
    char variant[16][16];
    int variant_pairs[16], variant_found[16];
} eval_result;

static inline double eval_threshold(int i)
{
    return 0.05 + 0.025 * i;
}

/* Loads the set from path; false (with a message on stderr) if it cannot. */
static inline bool eval_load(eval_set *set, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return false;
    }
    char line[EVAL_MAX_TEXT + 128];
    set->n = 0;
    bool ok = fgets(line, sizeof line, f) != NULL; /* header */
    while (ok && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        char *group = strchr(line, '\t');
        char *variant = group ? strchr(group + 1, '\t') : NULL;
        char *text = variant ? strchr(variant + 1, '\t') : NULL;
        if (!text || set->n == EVAL_MAX_QUESTIONS) {
            fprintf(stderr, "%s: bad line %d\n", path, set->n + 2);
            ok = false;
            break;
        }
        *group++ = 0;
        *variant++ = 0;
        *text++ = 0;
        snprintf(set->group[set->n], sizeof set->group[0], "%s", group);
        snprintf(set->variant[set->n], sizeof set->variant[0], "%s", variant);
        snprintf(set->text[set->n], sizeof set->text[0], "%s", text);
        set->n++;
    }
    fclose(f);
    return ok && set->n > 0;
}

static inline bool eval_same_topic(const char *a, const char *b)
{
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    return la == lb && memcmp(a, b, la) == 0;
}

/* 1 = same group, 2 = near miss, 0 = unrelated. */
static inline int eval_relation(const eval_set *set, int a, int b)
{
    if (strcmp(set->group[a], set->group[b]) == 0)
        return 1;
    return eval_same_topic(set->group[a], set->group[b]) ? 2 : 0;
}

/* The arrival order for a seed: a Fisher-Yates shuffle driven by a fixed LCG. */
static inline void eval_order(int n, unsigned seed, int *order)
{
    uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = (int)((s >> 33) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Runs the protocol once with opt, arrival order from seed; scores[a * n + b] (a arrived
 * after b) gets each pair's score (0 when not among the candidates). The moderator's view is
 * counted at threshold `shown`. False if the index could not be built. */
static inline bool eval_run(const eval_set *set, const similar_options *opt, unsigned seed,
                            float shown, float *scores, eval_result *r)
{
    int n = set->n, order[EVAL_MAX_QUESTIONS];
    bool ok = false;
    similar_index *ix = similar_create(opt);
    if (!ix)
        return false;
    memset(r, 0, sizeof *r);
    for (int i = 0; i < n * n; i++)
        scores[i] = 0;
    eval_order(n, seed, order);
    for (int i = 0; i < n; i++) {
        int q = order[i];
        similar_hit hits[SIMILAR_MAX_HITS];
        if (similar_add(ix, q, set->text[q], strlen(set->text[q])) != SIMILAR_OK)
            goto done;
        size_t got = similar_query_id(ix, q, SIMILAR_MAX_HITS, 0.0f, hits);
        for (size_t h = 0; h < got; h++)
            scores[q * n + hits[h].id] = hits[h].score;
        bool earlier = false, found = false;
        for (int j = 0; j < i; j++)
            earlier |= eval_relation(set, q, order[j]) == 1;
        for (size_t h = 0; h < got && h < 5; h++) {
            if (hits[h].score < shown)
                break;
            int rel = eval_relation(set, q, (int)hits[h].id);
            r->hints++;
            r->good += rel == 1;
            r->near_shown += rel == 2;
            found |= rel == 1;
        }
        r->with_earlier += earlier;
        r->found += earlier && found;
    }
    for (int a = 0; a < n; a++) {
        for (int b = 0; b < a; b++) {
            if (eval_relation(set, a, b) != 1)
                continue;
            int v = 0;
            while (v < r->n_variants && strcmp(r->variant[v], set->variant[a]) != 0)
                v++;
            if (v == r->n_variants) {
                if (v == 16)
                    continue;
                snprintf(r->variant[v], sizeof r->variant[v], "%s", set->variant[a]);
                r->n_variants++;
            }
            float s = scores[a * n + b] > scores[b * n + a] ? scores[a * n + b]
                                                            : scores[b * n + a];
            r->variant_pairs[v]++;
            r->variant_found[v] += s >= shown;
        }
    }
    for (int t = 0; t < EVAL_THRESHOLDS; t++) {
        int tp = 0, fp = 0, near = 0;
        float th = (float)eval_threshold(t);
        r->positives = r->near_misses = 0;
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < a; b++) {
                float s = scores[a * n + b] > scores[b * n + a] ? scores[a * n + b]
                                                                : scores[b * n + a];
                int rel = eval_relation(set, a, b);
                r->positives += rel == 1;
                r->near_misses += rel == 2;
                if (s >= th) {
                    tp += rel == 1;
                    fp += rel != 1;
                    near += rel == 2;
                }
            }
        }
        r->precision[t] = tp + fp ? (double)tp / (tp + fp) : 1.0;
        r->recall[t] = (double)tp / r->positives;
        r->near_rate[t] = (double)near / r->near_misses;
    }
    ok = true;
done:
    similar_free(ix);
    return ok;
}

/* Mean of eval_run over seeds 1..n_seeds. */
static inline bool eval_average(const eval_set *set, const similar_options *opt, int n_seeds,
                                float shown, eval_result *mean)
{
    float *scores = malloc(sizeof(float) * (size_t)set->n * (size_t)set->n);
    eval_result r;
    bool ok = scores != NULL;
    memset(mean, 0, sizeof *mean);
    for (int s = 1; ok && s <= n_seeds; s++) {
        ok = eval_run(set, opt, (unsigned)s, shown, scores, &r);
        for (int t = 0; ok && t < EVAL_THRESHOLDS; t++) {
            mean->precision[t] += r.precision[t] / n_seeds;
            mean->recall[t] += r.recall[t] / n_seeds;
            mean->near_rate[t] += r.near_rate[t] / n_seeds;
        }
        mean->positives = r.positives;
        mean->near_misses = r.near_misses;
        mean->with_earlier += r.with_earlier;
        mean->found += r.found;
        mean->hints += r.hints;
        mean->good += r.good;
        mean->near_shown += r.near_shown;
        for (int v = 0; v < r.n_variants; v++) {
            int m = 0;
            while (m < mean->n_variants && strcmp(mean->variant[m], r.variant[v]) != 0)
                m++;
            if (m == mean->n_variants) {
                snprintf(mean->variant[m], sizeof mean->variant[m], "%s", r.variant[v]);
                mean->n_variants++;
            }
            mean->variant_pairs[m] += r.variant_pairs[v];
            mean->variant_found[m] += r.variant_found[v];
        }
    }
    free(scores);
    return ok;
}

static inline double eval_f1(const eval_result *r, int t)
{
    double p = r->precision[t], q = r->recall[t];
    return p + q > 0 ? 2 * p * q / (p + q) : 0;
}

/* Prints the precision-recall table. */
static inline void eval_print_curve(FILE *out, const eval_result *r)
{
    fprintf(out, "| threshold | precision | recall | F1 | near misses above |\n");
    fprintf(out, "|---|---|---|---|---|\n");
    for (int t = 0; t < EVAL_THRESHOLDS; t++)
        fprintf(out, "| %.3f | %.3f | %.3f | %.3f | %.3f |\n", eval_threshold(t),
                r->precision[t], r->recall[t], eval_f1(r, t), r->near_rate[t]);
}
