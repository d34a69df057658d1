/* report.c — the show's report (see report.h). Owns the tally of one session's transcript
 * document (export_transcript_json: final state plus events) into counts, the sum of several
 * sessions' tallies for a programme, and their rendering as report.json. Definitions (what
 * counts as approved, aired, the median) are in docs/archive.md and are what
 * tests/integration/report.test.js recomputes from transcript.json. */
#include "report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "export.h"

#define REPORT_MAX_PANELISTS 64   /* distinct panelist names tallied in a programme report */
#define REPORT_MAX_SESSIONS 1000  /* sessions in one programme report */
#define REPORT_MAX_SAMPLES 20000  /* audience samples listed per session (about two weeks) */

static const char *const CATEGORIES[] = {"question", "need", "suggestion"};
static const char *const SOURCES[] = {"web", "phone", "paper", "visit", "carried"};
static const char *const STATES[] = {"pending",  "published", "on_air",
                                     "answered", "dismissed", "withdrawn"};
static const char *const ACTION_STATUSES[] = {"open", "in_progress", "done"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct panel_tally {
    int64_t id; /* the session's panelist id (session reports), 0 in programme sums */
    char name[FORUM_NAME_BYTES];
    int64_t addressed, answered;
} panel_tally;

typedef struct tally {
    int64_t total, category[N_OF(CATEGORIES)], source[N_OF(SOURCES)], phase_pre, phase_live,
        state[N_OF(STATES)], approved, aired, merged;
    int64_t *waits; /* ms from submission to first airing, one per aired question */
    size_t n_waits, cap_waits;
    panel_tally panel[REPORT_MAX_PANELISTS];
    size_t n_panel;
    int64_t whole_addressed, whole_answered; /* questions to the whole panel */
    int64_t actions, action_status[N_OF(ACTION_STATUSES)];
    int64_t peak, samples, sample_sum, sample_max;
} tally;

#define num export_num
#define str export_str

static int name_at(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

static int push_wait(tally *t, int64_t ms)
{
    if (grow((void **)&t->waits, &t->cap_waits, t->n_waits + 1, sizeof *t->waits) < 0)
        return -1;
    t->waits[t->n_waits++] = ms;
    return 0;
}

/* The tally entry of a panelist: by id in a session, by name across sessions (id 0). */
static panel_tally *panel_entry(tally *t, int64_t id, const char *name)
{
    for (size_t i = 0; i < t->n_panel; i++)
        if (id ? t->panel[i].id == id : strcmp(t->panel[i].name, name) == 0)
            return &t->panel[i];
    if (t->n_panel == REPORT_MAX_PANELISTS)
        return NULL;
    panel_tally *p = &t->panel[t->n_panel++];
    memset(p, 0, sizeof *p);
    p->id = id;
    snprintf(p->name, sizeof p->name, "%s", name ? name : "");
    return p;
}

/* A small set of question ids (sorted array), for "ever approved" and "first airing". */
typedef struct idset {
    int64_t *ids;
    size_t n, cap;
} idset;

/* Where id is or would go in s; *found says which. */
static size_t idset_find(const idset *s, int64_t id, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->n && s->ids[lo] == id;
    return lo;
}

static bool idset_has(const idset *s, int64_t id)
{
    bool found;
    idset_find(s, id, &found);
    return found;
}

/* Adds id; returns 1 if added, 0 if present, -1 when memory runs out. */
static int idset_add(idset *s, int64_t id)
{
    bool found;
    size_t lo = idset_find(s, id, &found);
    if (found)
        return 0;
    if (grow((void **)&s->ids, &s->cap, s->n + 1, sizeof *s->ids) < 0)
        return -1;
    memmove(s->ids + lo + 1, s->ids + lo, (s->n - lo) * sizeof *s->ids);
    s->ids[lo] = id;
    s->n++;
    return 1;
}

static bool public_state(const char *state)
{
    return state && (strcmp(state, "published") == 0 || strcmp(state, "on_air") == 0 ||
                     strcmp(state, "answered") == 0);
}

/* Tallies one transcript document into t (adding to what t holds). samples, if not NULL,
 * receives the session's audience samples [{"at","viewers"}]. Returns 0 or -1. */
static int tally_transcript(tally *t, const cJSON *doc, bool by_name, cJSON *samples)
{
    idset approved = {0}, aired = {0};
    int rc = -1;
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(doc, "questions");
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events");
    const cJSON *ev, *q;
    /* walk the log: who was ever public, when each question first went on air */
    cJSON_ArrayForEach(ev, events)
    {
        const char *kind = str(ev, "kind");
        if (!kind)
            continue;
        if (strncmp(kind, "question.", 9) == 0) {
            const cJSON *eq = cJSON_GetObjectItemCaseSensitive(ev, "question");
            if (public_state(str(eq, "state")) && idset_add(&approved, num(eq, "id")) < 0)
                goto done;
        } else if (strcmp(kind, "onair.changed") == 0) {
            int64_t id = num(ev, "question_id");
            if (id > 0 && idset_add(&aired, id) == 1) {
                const cJSON *found = NULL;
                cJSON_ArrayForEach(q, qs) if (num(q, "id") == id)
                {
                    found = q;
                    break;
                }
                if (found && push_wait(t, num(ev, "at") - num(found, "created_at")) < 0)
                    goto done;
            }
        } else if (strcmp(kind, "viewers.sampled") == 0) {
            int64_t v = num(ev, "viewers");
            t->samples++;
            t->sample_sum += v;
            if (v > t->sample_max)
                t->sample_max = v;
            if (samples && cJSON_GetArraySize(samples) < REPORT_MAX_SAMPLES) {
                cJSON *s = cJSON_CreateObject();
                if (!s || !cJSON_AddItemToArray(samples, s) ||
                    !cJSON_AddNumberToObject(s, "at", (double)num(ev, "at")) ||
                    !cJSON_AddNumberToObject(s, "viewers", (double)v))
                    goto done;
            }
        }
    }
    const cJSON *session = cJSON_GetObjectItemCaseSensitive(doc, "session");
    const cJSON *panelists = cJSON_GetObjectItemCaseSensitive(session, "panelists");
    const cJSON *p;
    cJSON_ArrayForEach(p, panelists) panel_entry(t, by_name ? 0 : num(p, "id"), str(p, "name"));
    cJSON_ArrayForEach(q, qs)
    {
        int64_t id = num(q, "id");
        const char *state = str(q, "state");
        int c = name_at(CATEGORIES, N_OF(CATEGORIES), str(q, "category"));
        int src = name_at(SOURCES, N_OF(SOURCES), str(q, "source"));
        int s = name_at(STATES, N_OF(STATES), state);
        t->total++;
        if (c >= 0)
            t->category[c]++;
        if (src >= 0)
            t->source[src]++;
        if (s >= 0)
            t->state[s]++;
        const char *phase = str(q, "phase");
        if (phase && strcmp(phase, "live") == 0)
            t->phase_live++;
        else
            t->phase_pre++;
        if (idset_has(&approved, id) || public_state(state))
            t->approved++;
        if (idset_has(&aired, id))
            t->aired++;
        if (num(q, "merged_into") > 0)
            t->merged++;
        bool answered = state && strcmp(state, "answered") == 0;
        int64_t to = num(q, "to");
        if (to > 0) {
            const char *name = NULL;
            cJSON_ArrayForEach(p, panelists) if (num(p, "id") == to)
            {
                name = str(p, "name");
                break;
            }
            panel_tally *pt = name ? panel_entry(t, by_name ? 0 : to, name) : NULL;
            if (pt) {
                pt->addressed++;
                pt->answered += answered;
            }
        } else {
            t->whole_addressed++;
            t->whole_answered += answered;
        }
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(doc, "actions"))
    {
        int st = name_at(ACTION_STATUSES, N_OF(ACTION_STATUSES), str(a, "status"));
        t->actions++;
        if (st >= 0)
            t->action_status[st]++;
    }
    int64_t peak = num(doc, "peak_viewers");
    t->peak = peak > t->peak ? peak : t->peak;
    rc = 0;
done:
    free(approved.ids);
    free(aired.ids);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void add_counts(cJSON *o, const char *key, const char *const *names, size_t n,
                       const int64_t *counts)
{
    cJSON *c = cJSON_AddObjectToObject(o, key);
    for (size_t i = 0; c && i < n; i++)
        cJSON_AddNumberToObject(c, names[i], (double)counts[i]);
}

static double share(int64_t part, int64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

/* Renders t's members into o. */
static void render_tally(cJSON *o, tally *t)
{
    cJSON *q = cJSON_AddObjectToObject(o, "questions");
    if (q) {
        cJSON_AddNumberToObject(q, "total", (double)t->total);
        add_counts(q, "by_category", CATEGORIES, N_OF(CATEGORIES), t->category);
        add_counts(q, "by_source", SOURCES, N_OF(SOURCES), t->source);
        int64_t phases[2] = {t->phase_pre, t->phase_live};
        add_counts(q, "by_phase", (const char *const[]){"pre", "live"}, 2, phases);
        add_counts(q, "by_state", STATES, N_OF(STATES), t->state);
        int64_t answered = t->state[3];
        cJSON_AddNumberToObject(q, "approved", (double)t->approved);
        cJSON_AddNumberToObject(q, "aired", (double)t->aired);
        cJSON_AddNumberToObject(q, "answered", (double)answered);
        cJSON_AddNumberToObject(q, "merged", (double)t->merged);
        cJSON_AddNumberToObject(q, "approved_share", share(t->approved, t->total));
        cJSON_AddNumberToObject(q, "answered_share", share(answered, t->total));
        cJSON_AddNumberToObject(q, "answered_of_approved", share(answered, t->approved));
    }
    cJSON *w = cJSON_AddObjectToObject(o, "time_to_air");
    if (w) {
        if (t->n_waits > 1)
            qsort(t->waits, t->n_waits, sizeof *t->waits, cmp_i64);
        size_t n = t->n_waits;
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += t->waits[i];
        cJSON_AddNumberToObject(w, "count", (double)n);
        if (n) {
            /* the median as the minutes state it: the mean of the two middle ones if even */
            int64_t median =
                n % 2 ? t->waits[n / 2] : (t->waits[n / 2 - 1] + t->waits[n / 2]) / 2;
            cJSON_AddNumberToObject(w, "median_ms", (double)median);
            cJSON_AddNumberToObject(w, "p90_ms", (double)t->waits[(n * 9 + 9) / 10 - 1]);
            cJSON_AddNumberToObject(w, "mean_ms", (double)(sum / (int64_t)n));
            cJSON_AddNumberToObject(w, "min_ms", (double)t->waits[0]);
            cJSON_AddNumberToObject(w, "max_ms", (double)t->waits[n - 1]);
        } else {
            cJSON_AddNullToObject(w, "median_ms");
            cJSON_AddNullToObject(w, "p90_ms");
            cJSON_AddNullToObject(w, "mean_ms");
            cJSON_AddNullToObject(w, "min_ms");
            cJSON_AddNullToObject(w, "max_ms");
        }
    }
    cJSON *ps = cJSON_AddArrayToObject(o, "panelists");
    for (size_t i = 0; ps && i < t->n_panel; i++) {
        cJSON *p = cJSON_CreateObject();
        if (!p || !cJSON_AddItemToArray(ps, p))
            break;
        if (t->panel[i].id)
            cJSON_AddNumberToObject(p, "id", (double)t->panel[i].id);
        cJSON_AddStringToObject(p, "name", t->panel[i].name);
        cJSON_AddNumberToObject(p, "addressed", (double)t->panel[i].addressed);
        cJSON_AddNumberToObject(p, "answered", (double)t->panel[i].answered);
    }
    cJSON *whole = cJSON_AddObjectToObject(o, "whole_panel");
    if (whole) {
        cJSON_AddNumberToObject(whole, "addressed", (double)t->whole_addressed);
        cJSON_AddNumberToObject(whole, "answered", (double)t->whole_answered);
    }
    cJSON *c = cJSON_AddObjectToObject(o, "commitments");
    if (c) {
        cJSON_AddNumberToObject(c, "total", (double)t->actions);
        add_counts(c, "by_status", ACTION_STATUSES, N_OF(ACTION_STATUSES), t->action_status);
    }
    cJSON *au = cJSON_AddObjectToObject(o, "audience");
    if (au) {
        cJSON_AddNumberToObject(au, "peak", (double)t->peak);
        cJSON_AddNumberToObject(au, "samples", (double)t->samples);
        cJSON_AddNumberToObject(au, "sample_max", (double)t->sample_max);
        if (t->samples)
            cJSON_AddNumberToObject(au, "sample_mean", (double)(t->sample_sum / t->samples));
        else
            cJSON_AddNullToObject(au, "sample_mean");
    }
}

static cJSON *load_transcript(store *s, const forum_state *st, const char *code)
{
    size_t len = 0;
    char *text = export_transcript_json(s, st, code, &len);
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    return doc;
}

static void copy_member(cJSON *to, const cJSON *from, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
    cJSON *dup = v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
    if (dup && !cJSON_AddItemToObject(to, key, dup))
        cJSON_Delete(dup);
}

/* The session's identity in a report: code, programme, title, topic, status and dates. */
static cJSON *session_head(const cJSON *session)
{
    static const char *const keys[] = {"code",   "program_id",   "program",    "title",
                                       "topic",  "status",       "scheduled_at", "started_at",
                                       "ended_at"};
    cJSON *h = cJSON_CreateObject();
    for (size_t i = 0; h && i < N_OF(keys); i++)
        copy_member(h, session, keys[i]);
    return h;
}

static char *finish(cJSON *o, size_t *len)
{
    char *out = o ? cJSON_PrintUnformatted(o) : NULL;
    if (out)
        *len = strlen(out);
    cJSON_Delete(o);
    return out;
}

char *report_session_json(store *s, const forum_state *st, const char *code, size_t *len)
{
    tally t;
    memset(&t, 0, sizeof t);
    cJSON *out = NULL, *doc = load_transcript(s, st, code);
    if (!doc || !(out = cJSON_CreateObject()))
        goto fail;
    cJSON_AddStringToObject(out, "format", "forum.report.v1");
    cJSON *head = session_head(cJSON_GetObjectItemCaseSensitive(doc, "session"));
    if (!head || !cJSON_AddItemToObject(out, "session", head)) {
        cJSON_Delete(head);
        goto fail;
    }
    cJSON *samples = cJSON_CreateArray();
    if (!samples || tally_transcript(&t, doc, false, samples) < 0) {
        cJSON_Delete(samples);
        goto fail;
    }
    render_tally(out, &t);
    cJSON *au = cJSON_GetObjectItemCaseSensitive(out, "audience");
    if (!au || !cJSON_AddItemToObject(au, "curve", samples)) {
        cJSON_Delete(samples);
        goto fail;
    }
    copy_member(out, doc, "actions");
    cJSON_Delete(doc);
    free(t.waits);
    return finish(out, len);
fail:
    cJSON_Delete(doc);
    cJSON_Delete(out);
    free(t.waits);
    return NULL;
}

/* "YYYY-MM-DD" as days since 1970-01-01 (UTC), or false. */
static bool parse_day(const char *s, int64_t *days)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 ||
        m > 12 || d < 1 || d > 31 || y < 1970 || y > 9999)
        return false;
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > month_days[m - 1] || (m == 2 && d == 29 && !leap))
        return false;
    /* days from civil (Howard Hinnant's algorithm) */
    y -= m <= 2;
    int64_t era = y / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return true;
}

/* The value of key in a query string (no percent-decoding: dates need none), "" if absent. */
static void query_value(const char *query, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t v = n - klen - 1;
            snprintf(out, cap, "%.*s", (int)(v < cap ? v : cap - 1), p + klen + 1);
            return;
        }
        p = end ? end + 1 : NULL;
    }
}

static char *error_body(int *status, int code, const char *err, const char *field,
                        const char *message, size_t *len)
{
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "error", err);
        cJSON_AddStringToObject(o, "message", message);
        if (field)
            cJSON_AddStringToObject(o, "field", field);
    }
    *status = code;
    return finish(o, len);
}

char *report_program_json(store *s, const forum_state *st, int64_t program_id, const char *query,
                          int *status, size_t *len)
{
    char from_s[32], to_s[32];
    int64_t from_day = 0, to_day = 0;
    query_value(query, "from", from_s, sizeof from_s);
    query_value(query, "to", to_s, sizeof to_s);
    if (from_s[0] && !parse_day(from_s, &from_day))
        return error_body(status, 400, "bad_request", "from", "from must be a date YYYY-MM-DD",
                          len);
    if (to_s[0] && !parse_day(to_s, &to_day))
        return error_body(status, 400, "bad_request", "to", "to must be a date YYYY-MM-DD", len);
    int64_t from_ms = from_s[0] ? from_day * 86400000LL : INT64_MIN;
    int64_t to_ms = to_s[0] ? (to_day + 1) * 86400000LL - 1 : INT64_MAX;

    forum_actor producer;
    memset(&producer, 0, sizeof producer);
    producer.role = FORUM_ROLE_PRODUCER;
    cJSON *studio = forum_snapshot(st, &producer, "");
    cJSON *out = NULL, *rows = NULL;
    tally t;
    memset(&t, 0, sizeof t);
    *status = 500;
    if (!studio)
        return NULL;
    const cJSON *prog = NULL, *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(studio, "programs"))
    {
        if (num(it, "id") == program_id) {
            prog = it;
            break;
        }
    }
    if (!prog) {
        cJSON_Delete(studio);
        return error_body(status, 404, "not_found", NULL, "no such programme", len);
    }
    if (!(out = cJSON_CreateObject()))
        goto fail;
    cJSON_AddStringToObject(out, "format", "forum.report.v1");
    cJSON *p = cJSON_AddObjectToObject(out, "program");
    if (!p)
        goto fail;
    copy_member(p, prog, "id");
    copy_member(p, prog, "title");
    if (from_s[0])
        cJSON_AddStringToObject(out, "from", from_s);
    else
        cJSON_AddNullToObject(out, "from");
    if (to_s[0])
        cJSON_AddStringToObject(out, "to", to_s);
    else
        cJSON_AddNullToObject(out, "to");
    if (!(rows = cJSON_AddArrayToObject(out, "sessions")))
        goto fail;
    size_t n_sessions = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(studio, "sessions"))
    {
        if (num(it, "program_id") != program_id)
            continue;
        int64_t when = num(it, "scheduled_at") ? num(it, "scheduled_at") : num(it, "started_at");
        if ((from_s[0] || to_s[0]) && (!when || when < from_ms || when > to_ms))
            continue;
        const char *code = str(it, "code");
        if (!code || ++n_sessions > REPORT_MAX_SESSIONS)
            continue;
        cJSON *doc = load_transcript(s, st, code);
        tally one;
        memset(&one, 0, sizeof one);
        if (!doc || tally_transcript(&one, doc, true, NULL) < 0 ||
            tally_transcript(&t, doc, true, NULL) < 0) {
            cJSON_Delete(doc);
            free(one.waits);
            goto fail;
        }
        cJSON *row = session_head(cJSON_GetObjectItemCaseSensitive(doc, "session"));
        cJSON_Delete(doc);
        if (!row || !cJSON_AddItemToArray(rows, row)) {
            cJSON_Delete(row);
            free(one.waits);
            goto fail;
        }
        cJSON_AddNumberToObject(row, "questions", (double)one.total);
        cJSON_AddNumberToObject(row, "approved", (double)one.approved);
        cJSON_AddNumberToObject(row, "answered", (double)one.state[3]);
        cJSON_AddNumberToObject(row, "commitments", (double)one.actions);
        cJSON_AddNumberToObject(row, "peak_viewers", (double)one.peak);
        free(one.waits);
    }
    render_tally(out, &t);
    /* in a programme the peak is per session: the sum of peaks says nothing, the highest does */
    cJSON_Delete(studio);
    free(t.waits);
    *status = 200;
    return finish(out, len);
fail:
    cJSON_Delete(studio);
    cJSON_Delete(out);
    free(t.waits);
    *status = 500;
    return NULL;
}
