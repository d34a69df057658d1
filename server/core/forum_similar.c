/* forum_similar.c — similar-question hints in the forum state: each session keeps a similar.c
 * index of its questions that could still be merged into or answered (every state but
 * withdrawn and dismissed, merged questions left out), kept in step by apply (so replay rebuilds
 * it, and a question costs one similar_add, about 5 µs, on the path that applies its event), and
 * the staff request questions.similar answered from it: for each asked question, the most
 * similar questions of its session and of the programme's recent earlier sessions, with a
 * score. Hints are computed when asked, never stored, never sent to viewers. docs/similar.md. */

#include "forum_internal.h"
#include "similar.h"

#include <stdlib.h>
#include <string.h>

#define HINTS_MAX 5           /* hints per question */
#define HINT_RECENT_SESSIONS 3 /* earlier sessions of the programme searched too */

/* Should q be found as a hint? */
static bool hintable(const question *q)
{
    return q->state != Q_WITHDRAWN && q->state != Q_DISMISSED && q->merged_into == 0;
}

void similar_sync(forum_state *st, session *s, const question *q, bool text_may_change)
{
    if (!hintable(q)) {
        if (s->similar)
            similar_remove(s->similar, q->id);
        return;
    }
    if (!s->similar) {
        similar_options o;
        similar_options_default(&o);
        if (st->limits.questions_per_session > 0)
            o.max_questions = (size_t)st->limits.questions_per_session;
        if (!(s->similar = similar_create(&o)))
            return; /* hints are advice: without memory there are none, nothing else fails */
    }
    if (text_may_change || !similar_contains(s->similar, q->id))
        similar_add(s->similar, q->id, q->text, strlen(q->text));
}

/* The up to HINT_RECENT_SESSIONS latest sessions of s's programme that come before s. */
static size_t recent_sessions(const forum_state *st, const session *s, const session **out)
{
    size_t n = 0;
    if (!s->cfg.program_id)
        return 0;
    for (size_t i = 0; i < st->n_sessions; i++) {
        const session *o = st->sessions[i];
        if (o == s || o->cfg.program_id != s->cfg.program_id || !o->similar ||
            !session_before(st, o, s))
            continue;
        /* insertion into the latest-first list */
        size_t at = n;
        while (at > 0 && session_before(st, out[at - 1], o))
            at--;
        if (at >= HINT_RECENT_SESSIONS)
            continue;
        if (n < HINT_RECENT_SESSIONS)
            n++;
        memmove(out + at + 1, out + at, (n - 1 - at) * sizeof *out);
        out[at] = o;
    }
    return n;
}

/* Merges hits[0..n) into best[0..*nb) (at most HINTS_MAX, best first; ties: as found). */
static void keep_best(similar_hit *best, size_t *nb, const similar_hit *hits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = *nb;
        while (at > 0 && best[at - 1].score < hits[i].score)
            at--;
        if (at >= HINTS_MAX)
            continue;
        if (*nb < HINTS_MAX)
            (*nb)++;
        memmove(best + at + 1, best + at, (*nb - 1 - at) * sizeof *best);
        best[at] = hits[i];
    }
}

static void write_hints(jsonw *w, const forum_state *st, const session *s, const question *q)
{
    similar_hit best[HINTS_MAX], hits[HINTS_MAX];
    size_t nb = 0, n;
    if (s->similar && similar_contains(s->similar, q->id)) {
        n = similar_query_id(s->similar, q->id, HINTS_MAX, SIMILAR_DEFAULT_MIN_SCORE, hits);
    } else if (s->similar) { /* a dismissed or withdrawn question: what it resembles */
        n = similar_query_text(s->similar, q->text, strlen(q->text), HINTS_MAX,
                               SIMILAR_DEFAULT_MIN_SCORE, hits);
    } else {
        n = 0;
    }
    keep_best(best, &nb, hits, n);
    const session *recent[HINT_RECENT_SESSIONS];
    size_t nr = recent_sessions(st, s, recent);
    for (size_t i = 0; i < nr; i++) {
        n = similar_query_text(recent[i]->similar, q->text, strlen(q->text), HINTS_MAX,
                               SIMILAR_DEFAULT_MIN_SCORE, hits);
        keep_best(best, &nb, hits, n);
    }
    jsonw_put(w, "[", 1);
    bool any = false;
    for (size_t i = 0; i < nb; i++) {
        const question *h = find_question(st, best[i].id);
        /* another session's staff only see what was public there: never its pending ones */
        if (!h || h->id == q->id || (h->session != s && !forum_qstate_public(h->state)))
            continue;
        bool f = true;
        jsonw_put(w, any ? ",{" : "{", any ? 2 : 1);
        any = true;
        jsonw_kv_int(w, &f, "id", h->id);
        jsonw_kv_str(w, &f, "session", h->session->code);
        jsonw_key(w, &f, "score");
        jsonw_number(w, (double)(int)(best[i].score * 1000.0f + 0.5f) / 1000.0);
        jsonw_kv_str(w, &f, "state", FORUM_QSTATE_NAMES[h->state]);
        jsonw_kv_str(w, &f, "category", FORUM_CATEGORY_NAMES[h->category]);
        jsonw_kv_str(w, &f, "text", h->text);
        jsonw_kv_int(w, &f, "votes", (int64_t)h->voters.len);
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
}

void do_questions_similar(ctx *c, session *s, const forum_command *cmd)
{
    for (size_t i = 0; i < cmd->n_ids; i++) {
        const question *q = find_question(c->st, cmd->ids[i]);
        if (!q || q->session != s) {
            set_error(c->res, FORUM_E_NOT_FOUND, "question_ids",
                      "question %lld is not in this session", (long long)cmd->ids[i]);
            return;
        }
    }
    jsonw *w = ack_key(c->res, "similar");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < cmd->n_ids; i++) {
        const question *q = find_question(c->st, cmd->ids[i]);
        bool f = true;
        jsonw_put(w, i ? ",{" : "{", i ? 2 : 1);
        jsonw_kv_int(w, &f, "question_id", q->id);
        jsonw_key(w, &f, "hints");
        write_hints(w, c->st, s, q);
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
}
