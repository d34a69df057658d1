/* forum_render.c — the JSON views of the state that are not events or acks of a change: the
 * welcome snapshot (a session for one actor, or the studio list), bounded in size, and the pages
 * of questions (questions.list) that complete it. Written with jsonw, in the same renderings the
 * events use (event.h). */

#include "forum_internal.h"

#include <stdlib.h>
#include <string.h>

void write_studio_members(jsonw *w, bool *first, const forum_state *st)
{
    jsonw_key(w, first, "programs");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < st->n_programs; i++) {
        const program *p = &st->programs[i];
        forum_program_rec rec = {p->id, p->title ? p->title : "", p->description, p->unlisted};
        if (i)
            jsonw_put(w, ",", 1);
        forum_write_program(w, &rec);
    }
    jsonw_put(w, "]", 1);
    jsonw_key(w, first, "sessions");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < st->n_sessions; i++) {
        const session *s = st->sessions[i];
        forum_session_rec rec = session_rec(st, s->code, &s->cfg);
        if (i)
            jsonw_put(w, ",", 1);
        forum_write_session(w, &rec, FORUM_VIEW_STAFF);
    }
    jsonw_put(w, "]", 1);
    write_webhooks(w, first, st);
}

/* True if the actor may see q (staff: all; a viewer: public ones and its own). */
static bool visible_to(const question *q, const forum_actor *a)
{
    if (a->role == FORUM_ROLE_MODERATOR || a->role == FORUM_ROLE_PRODUCER)
        return true;
    return forum_qstate_public(q->state) ||
           (a->viewer_id[0] && strcmp(q->viewer_id, a->viewer_id) == 0);
}

static void write_question_for(jsonw *w, const question *q, const forum_actor *a)
{
    forum_question_rec rec = question_rec(q);
    if (is_staff(a))
        forum_write_question(w, &rec, FORUM_VIEW_STAFF, false);
    else
        forum_write_question(w, &rec, FORUM_VIEW_SUBJECT,
                             a->viewer_id[0] && strcmp(q->viewer_id, a->viewer_id) == 0);
}

/* The questions a snapshot names, in the order they are chosen, and a set of their ids. */
typedef struct picks {
    const question **list;
    size_t n, cap;
    iset ids;
    size_t bytes, budget; /* rendered size so far (an estimate), and its limit (0 = none) */
    bool full;            /* the budget stopped the choice */
} picks;

/* Estimated rendered size of q (the texts and the fixed members). */
static size_t question_size(const question *q)
{
    size_t n = 330 + (q->text ? strlen(q->text) : 0);
    n += q->author ? strlen(q->author) : 0;
    n += q->answer_note ? strlen(q->answer_note) : 0;
    return n + (q->carried_from ? 40 : 0);
}

/* Adds q unless it is there or not visible; false once the budget is spent. */
static bool pick(picks *p, const question *q, const forum_actor *a)
{
    if (p->full)
        return false;
    if (!q || !visible_to(q, a) || iset_has(&p->ids, q->id))
        return true;
    size_t size = question_size(q);
    if (p->budget && p->bytes + size > p->budget) {
        p->full = true;
        return false;
    }
    if (grow((void **)&p->list, &p->cap, p->n + 1, sizeof *p->list) < 0 ||
        iset_add(&p->ids, q->id) < 0) {
        p->full = true;
        return false;
    }
    p->list[p->n++] = q;
    p->bytes += size;
    return true;
}

static int by_votes_then_newest(const void *x, const void *y)
{
    const question *a = *(const question *const *)x, *b = *(const question *const *)y;
    if (a->voters.len != b->voters.len)
        return a->voters.len > b->voters.len ? -1 : 1;
    return a->id > b->id ? -1 : a->id < b->id;
}

/* The session's public questions by votes (then newest first), rebuilt when the session changed
 * and the last order is older than a second: during a join storm every viewer's welcome uses
 * the same order (the questions themselves are rendered as they are now). */
static const question *const *top_by_votes(forum_state *st, session *s, int64_t now_ms,
                                           size_t *n)
{
    (void)st;
    if (s->top_seq != s->seq && (s->top_built_ms == 0 || now_ms - s->top_built_ms >= 1000 ||
                                 now_ms < s->top_built_ms)) {
        size_t k = 0;
        if (grow((void **)&s->top, &s->cap_top, s->n_questions + 1, sizeof *s->top) == 0) {
            for (size_t i = 0; i < s->n_questions; i++)
                if (forum_qstate_public(s->questions[i]->state))
                    s->top[k++] = s->questions[i];
            qsort(s->top, k, sizeof *s->top, by_votes_then_newest);
            s->n_top = k;
            s->top_seq = s->seq;
            s->top_built_ms = now_ms ? now_ms : 1;
        }
    }
    *n = s->n_top;
    return (const question *const *)s->top;
}

/* Chooses the questions of a welcome, most useful first, until budget: what is on air (and the
 * question it follows up) and up next; then for staff the pending ones (oldest first, they wait for review), the starred ones
 * and the newest; for a viewer its own (newest first), the most voted and the newest. */
static void choose(forum_state *st, session *s, const forum_actor *a, int64_t now_ms, picks *p)
{
    const question *air = s->on_air ? find_question(st, s->on_air) : NULL;
    pick(p, air, a);
    pick(p, air && air->parent_id ? find_question(st, air->parent_id) : NULL, a); /* shown with it */
    for (size_t i = 0; i < s->n_up_next; i++)
        pick(p, find_question(st, s->up_next[i]), a);
    if (is_staff(a)) {
        for (size_t i = 0; i < s->n_questions; i++)
            if (s->questions[i]->state == Q_PENDING && !pick(p, s->questions[i], a))
                return;
        for (size_t i = s->n_questions; i-- > 0;)
            if (s->questions[i]->starred && !pick(p, s->questions[i], a))
                return;
    } else if (a->viewer_id[0]) {
        for (size_t i = s->n_questions; i-- > 0;)
            if (strcmp(s->questions[i]->viewer_id, a->viewer_id) == 0 &&
                !pick(p, s->questions[i], a))
                return;
        size_t n;
        const question *const *top = top_by_votes(st, s, now_ms, &n);
        for (size_t i = 0; i < n && i < SNAPSHOT_TOP_VOTED; i++)
            if (top[i]->session == s && !pick(p, top[i], a))
                return;
    }
    for (size_t i = s->n_questions; i-- > 0;)
        if (!pick(p, s->questions[i], a))
            return;
}

static int by_id(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static bool any_rating(const rating_tally *t)
{
    for (int i = 0; i < FORUM_RATING__COUNT; i++)
        if (t->counts[i])
            return true;
    return false;
}

/* Is a commitment of s's programme, made in s or before it? */
static bool programme_commitment(const forum_state *st, const session *s, const action_item *ai)
{
    return ai->session->cfg.program_id == s->cfg.program_id &&
           (ai->session == s || session_before(st, ai->session, s));
}

static int by_rating_order(const void *x, const void *y)
{
    const rating *a = *(const rating *const *)x, *b = *(const rating *const *)y;
    bool pa = a->comment_state == FORUM_COMMENT_PENDING, pb = b->comment_state == FORUM_COMMENT_PENDING;
    if (pa != pb)
        return pa ? -1 : 1;
    return a->updated_at > b->updated_at ? -1 : a->updated_at < b->updated_at;
}

/* The ratings members of a session welcome: "rating_counts" (the answers of this session and the
 * commitments of its programme that have ratings; viewers: published commitments only); for a
 * viewer "my_ratings"; for staff "ratings", this session's ratings with a comment (pending ones
 * first, then the newest; at most SNAPSHOT_RATINGS_MAX, "ratings_complete" says whether all). */
static void write_rating_members(jsonw *w, bool *f, const forum_state *st, const session *s,
                                 const forum_actor *a, bool staff)
{
    jsonw_key(w, f, "rating_counts");
    jsonw_put(w, "[", 1);
    bool any = false;
    for (size_t i = 0; i < s->n_questions; i++) {
        const question *q = s->questions[i];
        if (!any_rating(&q->ratings))
            continue;
        forum_rating_count rc = {.question_id = q->id};
        memcpy(rc.counts, q->ratings.counts, sizeof rc.counts);
        if (any)
            jsonw_put(w, ",", 1);
        any = true;
        forum_write_rating_count(w, &rc);
    }
    for (size_t i = 0; i < st->n_actions; i++) {
        const action_item *ai = st->actions[i];
        if (!any_rating(&ai->ratings) || !programme_commitment(st, s, ai) ||
            (!staff && !action_published(ai)))
            continue;
        forum_rating_count rc = {.action_id = ai->id};
        memcpy(rc.counts, ai->ratings.counts, sizeof rc.counts);
        if (any)
            jsonw_put(w, ",", 1);
        any = true;
        forum_write_rating_count(w, &rc);
    }
    jsonw_put(w, "]", 1);
    if (!staff) {
        int64_t vk = viewer_key(st, a->viewer_id);
        const iset *mine = vk ? &st->viewers[vk - 1].ratings : NULL;
        /* the viewer's own, in id order */
        int64_t *ids = mine && mine->len ? malloc(mine->len * sizeof *ids) : NULL;
        size_t n_ids = 0;
        for (size_t i = 0; ids && i < mine->cap; i++)
            if (mine->keys[i] > 0 && n_ids < mine->len)
                ids[n_ids++] = mine->keys[i];
        if (n_ids)
            qsort(ids, n_ids, sizeof *ids, by_id);
        jsonw_key(w, f, "my_ratings");
        jsonw_put(w, "[", 1);
        any = false;
        for (size_t i = 0; i < n_ids; i++) {
            const rating *x = find_rating(st, ids[i]);
            if (!x)
                continue;
            const question *q = x->question_id ? find_question(st, x->question_id) : NULL;
            const action_item *ai = x->action_id ? find_action(st, x->action_id) : NULL;
            if (!(q && q->session == s) && !(ai && programme_commitment(st, s, ai)))
                continue;
            forum_rating_rec rec = rating_rec(x);
            if (any)
                jsonw_put(w, ",", 1);
            any = true;
            forum_write_rating(w, &rec, FORUM_VIEW_SUBJECT);
        }
        jsonw_put(w, "]", 1);
        free(ids);
        return;
    }
    const rating **list = NULL;
    size_t n = 0, cap = 0, total = 0;
    for (size_t i = 0; s->n_ratings && i < st->n_ratings; i++) {
        const rating *x = st->ratings[i];
        if (x->session != s || x->comment_state == FORUM_COMMENT_NONE)
            continue;
        total++;
        if (grow((void **)&list, &cap, n + 1, sizeof *list) == 0)
            list[n++] = x;
    }
    if (n)
        qsort(list, n, sizeof *list, by_rating_order);
    jsonw_key(w, f, "ratings");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < n && i < SNAPSHOT_RATINGS_MAX; i++) {
        forum_rating_rec rec = rating_rec(list[i]);
        if (i)
            jsonw_put(w, ",", 1);
        forum_write_rating(w, &rec, FORUM_VIEW_STAFF);
    }
    jsonw_put(w, "]", 1);
    jsonw_kv_bool(w, f, "ratings_complete", total <= SNAPSHOT_RATINGS_MAX && n == total);
    free(list);
}

static void write_session_snapshot(jsonw *w, forum_state *st, session *s, const forum_actor *a,
                                   size_t budget, int64_t now_ms)
{
    bool staff = is_staff(a), f = true;
    int64_t vk = staff ? 0 : viewer_key(st, a->viewer_id);
    jsonw_put(w, "{", 1);
    forum_session_rec srec = session_rec(st, s->code, &s->cfg);
    jsonw_key(w, &f, "session");
    forum_write_session(w, &srec, staff ? FORUM_VIEW_STAFF : FORUM_VIEW_PUBLIC);
    forum_panel_rec prec = panel_rec(s);
    jsonw_key(w, &f, "panel");
    forum_write_panel(w, &prec);
    jsonw_key(w, &f, "polls");
    jsonw_put(w, "[", 1);
    bool first = true;
    for (size_t i = 0; i < s->n_polls; i++) {
        const poll *p = s->polls[i];
        if (!staff && p->state == P_DRAFT)
            continue;
        if (!first)
            jsonw_put(w, ",", 1);
        first = false;
        forum_poll_rec rec = poll_rec(p);
        int64_t *mask = vk ? imap_get(&p->ballots, vk) : NULL;
        int64_t none = 0;
        forum_write_poll(w, &rec, staff ? NULL : mask ? mask : &none);
    }
    jsonw_put(w, "]", 1);

    size_t total = 0;
    for (size_t i = 0; i < s->n_questions; i++)
        total += visible_to(s->questions[i], a);
    picks p = {.budget = budget};
    if (budget)
        choose(st, s, a, now_ms, &p);
    else /* everything, in the order the questions came */
        for (size_t i = 0; i < s->n_questions; i++)
            pick(&p, s->questions[i], a);
    jsonw_key(w, &f, "questions");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < p.n; i++) {
        if (i)
            jsonw_put(w, ",", 1);
        write_question_for(w, p.list[i], a);
    }
    jsonw_put(w, "]", 1);
    jsonw_kv_int(w, &f, "questions_total", (int64_t)total);
    jsonw_kv_bool(w, &f, "questions_complete", p.n == total);

    if (staff) {
        /* This session's action items, then the open ones of earlier sessions of the programme
         * (so the show starts by reporting on the last one's commitments). */
        for (int pass = 0; pass < 2; pass++) {
            jsonw_key(w, &f, pass == 0 ? "actions" : "open_actions");
            jsonw_put(w, "[", 1);
            bool any = false;
            for (size_t i = 0; i < st->n_actions; i++) {
                const action_item *ai = st->actions[i];
                bool take = pass == 0 ? ai->session == s
                                      : ai->session != s && ai->status != FORUM_ACTION_DONE &&
                                            !action_followed_up(st, ai) &&
                                            ai->session->cfg.program_id == s->cfg.program_id &&
                                            session_before(st, ai->session, s);
                if (!take)
                    continue;
                if (any)
                    jsonw_put(w, ",", 1);
                any = true;
                forum_action_rec rec = action_rec(ai);
                forum_write_action(w, &rec);
            }
            jsonw_put(w, "]", 1);
        }
        /* The viewers banned in this session (the moderator console lists them), in the order
         * the server first saw them, so the output is deterministic. */
        jsonw_key(w, &f, "banned");
        jsonw_put(w, "[", 1);
        int64_t *keys = s->bans.len ? malloc(s->bans.len * sizeof *keys) : NULL;
        size_t nk = 0;
        for (size_t i = 0; keys && i < s->bans.cap; i++)
            if (s->bans.keys[i] > 0 && nk < s->bans.len)
                keys[nk++] = s->bans.keys[i];
        if (nk)
            qsort(keys, nk, sizeof *keys, by_id);
        bool any = false;
        for (size_t i = 0; i < nk; i++)
            if ((size_t)keys[i] <= st->n_viewers) {
                if (any)
                    jsonw_put(w, ",", 1);
                any = true;
                jsonw_string(w, st->viewers[keys[i] - 1].id);
            }
        free(keys);
        jsonw_put(w, "]", 1);
    } else {
        /* The viewer's votes among the questions named here, in question order. */
        const iset *votes = vk ? &st->viewers[vk - 1].votes : NULL;
        jsonw_key(w, &f, "my_votes");
        jsonw_put(w, "[", 1);
        bool any = false;
        for (size_t i = 0; votes && votes->len && i < s->n_questions; i++) {
            const question *q = s->questions[i];
            if (iset_has(votes, q->id) && iset_has(&p.ids, q->id)) {
                if (any)
                    jsonw_put(w, ",", 1);
                any = true;
                jsonw_int(w, q->id);
            }
        }
        jsonw_put(w, "]", 1);
    }
    write_rating_members(w, &f, st, s, a, staff);
    jsonw_put(w, "}", 1);
    free(p.list);
    iset_free(&p.ids);
}

char *forum_snapshot_text(forum_state *st, const forum_actor *actor, const char *code,
                          size_t question_budget, int64_t now_ms)
{
    if (!st || !actor)
        return NULL;
    jsonw w = {0};
    if (!code || !*code) {
        bool first = true;
        jsonw_put(&w, "{", 1);
        write_studio_members(&w, &first, st);
        jsonw_put(&w, "}", 1);
        return jsonw_finish(&w);
    }
    session *s = find_session(st, code);
    if (!s)
        return NULL;
    write_session_snapshot(&w, st, s, actor, question_budget, now_ms);
    return jsonw_finish(&w);
}

cJSON *forum_snapshot(const forum_state *st, const forum_actor *actor, const char *code)
{
    char *text = forum_snapshot_text((forum_state *)st, actor, code, 0, 0);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    return o;
}

void do_questions_list(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    int state = -1;
    if (cmd->state && (state = forum_name_index(FORUM_QSTATE_NAMES, Q__COUNT, cmd->state)) < 0) {
        set_error(r, FORUM_E_BAD_REQUEST, "state", "no question state is called %s", cmd->state);
        return;
    }
    size_t limit = cmd->limit > 0 ? (size_t)cmd->limit : QUESTIONS_PAGE_DEFAULT;
    picks p = {.budget = QUESTIONS_PAGE_BYTES};
    size_t i = s->n_questions;
    /* questions are in id order: find where the page starts */
    while (cmd->before && i > 0 && s->questions[i - 1]->id >= cmd->before)
        i--;
    bool more = false;
    for (; i-- > 0;) {
        const question *q = s->questions[i];
        if ((state >= 0 && q->state != state) || !visible_to(q, a))
            continue;
        if (p.n == limit || !pick(&p, q, a)) {
            more = true;
            break;
        }
    }
    jsonw *w = ack_key(r, "questions");
    jsonw_put(w, "[", 1);
    for (size_t k = 0; k < p.n; k++) {
        if (k)
            jsonw_put(w, ",", 1);
        write_question_for(w, p.list[k], a);
    }
    jsonw_put(w, "]", 1);
    jsonw_puts(ack_key(r, "more"), more ? "true" : "false");
    if (more && p.n)
        jsonw_int(ack_key(r, "next_before"), p.list[p.n - 1]->id);
    else
        jsonw_puts(ack_key(r, "next_before"), "null");
    if (!is_staff(a)) {
        int64_t vk = viewer_key(c->st, a->viewer_id);
        const iset *votes = vk ? &c->st->viewers[vk - 1].votes : NULL;
        w = ack_key(r, "my_votes");
        jsonw_put(w, "[", 1);
        bool any = false;
        for (size_t k = 0; votes && k < p.n; k++)
            if (iset_has(votes, p.list[k]->id)) {
                if (any)
                    jsonw_put(w, ",", 1);
                any = true;
                jsonw_int(w, p.list[k]->id);
            }
        jsonw_put(w, "]", 1);
    }
    free(p.list);
    iset_free(&p.ids);
}

/* ---- the public live state (GET /api/sessions/CODE/state) -------------------------------- */

static const panelist *panelist_of(const session *s, int64_t id)
{
    for (size_t i = 0; id && i < s->cfg.n_panelists; i++)
        if (s->cfg.panelists[i].id == id)
            return &s->cfg.panelists[i];
    return NULL;
}

static void write_panelist_obj(jsonw *w, const panelist *p)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", p->id);
    jsonw_kv_str(w, &f, "name", p->name);
    jsonw_kv_str_or_null(w, &f, "affiliation", p->affiliation);
    jsonw_kv_str_or_null(w, &f, "role", p->role);
    jsonw_put(w, "}", 1);
}

/* A public question as a studio display shows it: text, asker, the panelist it addresses. */
static void write_live_question(jsonw *w, const session *s, const question *q)
{
    bool f = true;
    const panelist *to = panelist_of(s, q->to);
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", q->id);
    jsonw_kv_str(w, &f, "text", q->text);
    jsonw_kv_str_or_null(w, &f, "author", q->author);
    jsonw_kv_str(w, &f, "category", FORUM_CATEGORY_NAMES[q->category % FORUM_CAT__COUNT]);
    jsonw_key(w, &f, "to");
    if (to)
        write_panelist_obj(w, to);
    else
        jsonw_puts(w, "null");
    jsonw_kv_int(w, &f, "votes", (int64_t)q->voters.len);
    jsonw_put(w, "}", 1);
}

char *forum_live_state_text(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    if (!s)
        return NULL;
    const program *prog = find_program(st, s->cfg.program_id);
    jsonw w = {0};
    bool f = true, sf = true;
    jsonw_put(&w, "{", 1);
    jsonw_key(&w, &f, "session");
    jsonw_put(&w, "{", 1);
    jsonw_kv_str(&w, &sf, "code", s->code);
    jsonw_kv_str(&w, &sf, "title", s->cfg.title);
    jsonw_kv_str_or_null(&w, &sf, "topic", s->cfg.topic);
    jsonw_kv_str_or_null(&w, &sf, "program", prog ? prog->title : NULL);
    jsonw_kv_str(&w, &sf, "status", FORUM_STATUS_NAMES[s->cfg.status % S__COUNT]);
    jsonw_put(&w, "}", 1);
    jsonw_kv_str(&w, &f, "status", FORUM_STATUS_NAMES[s->cfg.status % S__COUNT]);
    const question *air = s->on_air ? find_question(st, s->on_air) : NULL;
    jsonw_key(&w, &f, "on_air");
    if (air)
        write_live_question(&w, s, air);
    else
        jsonw_puts(&w, "null");
    jsonw_key(&w, &f, "up_next");
    jsonw_put(&w, "[", 1);
    for (size_t i = 0, k = 0; i < s->n_up_next; i++) {
        const question *q = find_question(st, s->up_next[i]);
        if (!q || !forum_qstate_public(q->state))
            continue;
        if (k++)
            jsonw_put(&w, ",", 1);
        write_live_question(&w, s, q);
    }
    jsonw_put(&w, "]", 1);
    jsonw_kv_str_or_null(&w, &f, "banner", s->banner && *s->banner ? s->banner : NULL);
    jsonw_key(&w, &f, "segment");
    const segment *seg = NULL;
    for (size_t i = 0; s->segment_id && i < s->cfg.n_segments; i++)
        if (s->cfg.segments[i].id == s->segment_id)
            seg = &s->cfg.segments[i];
    if (seg) {
        bool gf = true;
        jsonw_put(&w, "{", 1);
        jsonw_kv_int(&w, &gf, "id", seg->id);
        jsonw_kv_str(&w, &gf, "title", seg->title);
        jsonw_put(&w, "}", 1);
    } else {
        jsonw_puts(&w, "null");
    }
    jsonw_key(&w, &f, "speakers");
    jsonw_put(&w, "[", 1);
    for (size_t i = 0, k = 0; i < s->n_speaker_ids; i++) {
        const panelist *p = panelist_of(s, s->speaker_ids[i]);
        if (!p)
            continue;
        if (k++)
            jsonw_put(&w, ",", 1);
        write_panelist_obj(&w, p);
    }
    jsonw_put(&w, "]", 1);
    jsonw_kv_int(&w, &f, "seq", s->seq);
    jsonw_put(&w, "}", 1);
    return jsonw_finish(&w);
}
