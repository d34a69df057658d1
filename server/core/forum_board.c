/* forum_board.c — what anyone may read without a key: the front page (live and upcoming
 * episodes of the listed programmes), a programme's page (its episodes) and its commitment
 * board (the published commitments with the question that prompted them, their status
 * history, follow-ups in later sessions and ratings), rendered from the live state as JSON
 * with jsonw; and which programme's boards a committed event concerns. Nothing staff-only is
 * rendered here: no viewer ids, no staff notes, no unpublished commitment, no question that is
 * not public. Pure like the rest of the core. */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOARD_COMMENTS_SHOWN 5 /* newest published rating comments per item */
#define UPCOMING_SHOWN 20      /* upcoming episodes on the front page */
#define CHAIN_DEPTH_MAX 100    /* follow-up links followed from an item to its first one */

static int64_t episode_date(const session *s)
{
    return s->cfg.started_at ? s->cfg.started_at : s->cfg.scheduled_at;
}

static int64_t session_index(const forum_state *st, const session *s)
{
    int64_t *idx = smap_get(&st->session_index, s->code);
    return idx ? *idx : 0;
}

static const panelist *find_panelist(const session *s, int64_t id)
{
    for (size_t i = 0; id && i < s->cfg.n_panelists; i++)
        if (s->cfg.panelists[i].id == id)
            return &s->cfg.panelists[i];
    return NULL;
}

static void write_panelist(jsonw *w, bool *first, const char *key, const panelist *p)
{
    jsonw_key(w, first, key);
    if (!p) {
        jsonw_puts(w, "null");
        return;
    }
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", p->id);
    jsonw_kv_str(w, &f, "name", p->name);
    jsonw_kv_str_or_null(w, &f, "affiliation", p->affiliation);
    jsonw_kv_str_or_null(w, &f, "role", p->role);
    jsonw_put(w, "}", 1);
}

static void write_program(jsonw *w, const program *p)
{
    forum_program_rec rec = {p->id, p->title ? p->title : "", p->description, p->unlisted};
    forum_write_program(w, &rec);
}

/* One episode (a session that is not a draft) as the public sees it. */
static void write_episode(jsonw *w, const forum_state *st, const session *s)
{
    char url[64];
    bool f = true;
    const program *p = find_program(st, s->cfg.program_id);
    jsonw_put(w, "{", 1);
    jsonw_kv_str(w, &f, "code", s->code);
    jsonw_kv_int(w, &f, "program_id", s->cfg.program_id);
    jsonw_kv_str_or_null(w, &f, "program", p ? p->title : NULL);
    jsonw_kv_str(w, &f, "title", s->cfg.title ? s->cfg.title : "");
    jsonw_kv_str_or_null(w, &f, "topic", s->cfg.topic);
    jsonw_kv_str(w, &f, "status", FORUM_STATUS_NAMES[s->cfg.status % S__COUNT]);
    jsonw_kv_int_or_null(w, &f, "scheduled_at", s->cfg.scheduled_at);
    jsonw_kv_int_or_null(w, &f, "started_at", s->cfg.started_at);
    jsonw_kv_int_or_null(w, &f, "ended_at", s->cfg.ended_at);
    snprintf(url, sizeof url, "/s/%s", s->code);
    jsonw_kv_str(w, &f, "join_url", url);
    snprintf(url, sizeof url, "/s/%s#minutes", s->code);
    jsonw_kv_str_or_null(w, &f, "minutes_url", s->cfg.status == S_ARCHIVED ? url : NULL);
    jsonw_put(w, "}", 1);
}

/* Episodes of programme pid (0: every listed programme) with status, sorted by cmp; at most max
 * (0 = all). */
typedef int (*episode_order)(const void *, const void *);

static int by_schedule(const void *x, const void *y)
{
    const session *a = *(const session *const *)x, *b = *(const session *const *)y;
    int64_t da = a->cfg.scheduled_at ? a->cfg.scheduled_at : INT64_MAX;
    int64_t db = b->cfg.scheduled_at ? b->cfg.scheduled_at : INT64_MAX;
    if (da != db)
        return da < db ? -1 : 1;
    return strcmp(a->code, b->code);
}

static int by_date_desc(const void *x, const void *y)
{
    const session *a = *(const session *const *)x, *b = *(const session *const *)y;
    int64_t da = episode_date(a), db = episode_date(b);
    if (da != db)
        return da > db ? -1 : 1;
    return strcmp(a->code, b->code);
}

static void write_episodes(jsonw *w, bool *first, const char *key, const forum_state *st,
                           int64_t pid, int status_a, int status_b, episode_order cmp, size_t max)
{
    const session **list = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < st->n_sessions; i++) {
        const session *s = st->sessions[i];
        const program *p = find_program(st, s->cfg.program_id);
        if ((s->cfg.status != status_a && s->cfg.status != status_b) || !p ||
            (pid ? p->id != pid : p->unlisted))
            continue;
        if (grow((void **)&list, &cap, n + 1, sizeof *list) == 0)
            list[n++] = s;
    }
    if (n)
        qsort(list, n, sizeof *list, cmp);
    jsonw_key(w, first, key);
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < n && (!max || i < max); i++) {
        if (i)
            jsonw_put(w, ",", 1);
        write_episode(w, st, list[i]);
    }
    jsonw_put(w, "]", 1);
    free(list);
}

char *forum_public_programs(const forum_state *st)
{
    jsonw w = {0};
    bool f = true;
    jsonw_put(&w, "{", 1);
    write_episodes(&w, &f, "live", st, 0, S_LIVE, S_LIVE, by_date_desc, 0);
    write_episodes(&w, &f, "upcoming", st, 0, S_OPEN, S_OPEN, by_schedule, UPCOMING_SHOWN);
    jsonw_key(&w, &f, "programs");
    jsonw_put(&w, "[", 1);
    bool any = false;
    for (size_t i = 0; i < st->n_programs; i++) {
        if (st->programs[i].unlisted)
            continue;
        if (any)
            jsonw_put(&w, ",", 1);
        any = true;
        write_program(&w, &st->programs[i]);
    }
    jsonw_put(&w, "]", 1);
    jsonw_put(&w, "}", 1);
    return jsonw_finish(&w);
}

/* ---- commitment chains ------------------------------------------------------------------- */

/* A published commitment of the programme and the first one of its chain (follow-ups link to
 * the item they report on with follows_action_id). */
typedef struct board_item {
    const action_item *a;
    const action_item *root;
    int64_t order; /* its session's creation order */
} board_item;

typedef struct board {
    const forum_state *st;
    board_item *items;
    size_t n;
    const char *today;
} board;

/* The first published item of a's chain (a itself when it follows nothing published). */
static const action_item *chain_root(const forum_state *st, const action_item *a)
{
    for (int depth = 0; depth < CHAIN_DEPTH_MAX && a->follows_action_id; depth++) {
        const action_item *up = find_action(st, a->follows_action_id);
        if (!up || !action_published(up) ||
            up->session->cfg.program_id != a->session->cfg.program_id)
            break;
        a = up;
    }
    return a;
}

/* Items by chain (roots' newest session first, then root id), then within a chain in the order
 * they were recorded (session, then id). */
static int by_chain(const void *x, const void *y)
{
    const board_item *a = x, *b = y;
    if (a->root != b->root) {
        int64_t da = episode_date(a->root->session), db = episode_date(b->root->session);
        if (da != db)
            return da > db ? -1 : 1;
        int byname = strcmp(a->root->session->code, b->root->session->code);
        if (byname)
            return byname;
        return a->root->id < b->root->id ? -1 : 1;
    }
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    return a->a->id < b->a->id ? -1 : a->a->id > b->a->id;
}

static int board_load(board *b, const forum_state *st, int64_t pid, const char *today)
{
    memset(b, 0, sizeof *b);
    b->st = st;
    b->today = today;
    size_t cap = 0;
    for (size_t i = 0; i < st->n_actions; i++) {
        const action_item *a = st->actions[i];
        if (a->session->cfg.program_id != pid || !action_published(a))
            continue;
        if (grow((void **)&b->items, &cap, b->n + 1, sizeof *b->items) < 0)
            return -1;
        b->items[b->n++] =
            (board_item){.a = a, .root = chain_root(st, a), .order = session_index(st, a->session)};
    }
    if (b->n)
        qsort(b->items, b->n, sizeof *b->items, by_chain);
    return 0;
}

/* The current state of the chain starting at items[i]: the newest item's status, and the owner
 * and due date most recently given. */
typedef struct chain_state {
    size_t first, end; /* items[first..end) */
    int status;
    const char *owner, *due;
    bool overdue;
} chain_state;

static bool is_overdue(const char *due, int status, const char *today)
{
    return today && due && strcmp(due, today) < 0 &&
           (status == FORUM_ACTION_OPEN || status == FORUM_ACTION_IN_PROGRESS);
}

static chain_state chain_at(const board *b, size_t i)
{
    chain_state c = {.first = i, .end = i};
    while (c.end < b->n && b->items[c.end].root == b->items[i].root)
        c.end++;
    for (size_t k = c.first; k < c.end; k++) {
        const action_item *a = b->items[k].a;
        c.status = a->status;
        if (a->owner)
            c.owner = a->owner;
        if (a->due)
            c.due = a->due;
    }
    c.overdue = is_overdue(c.due, c.status, b->today);
    return c;
}

/* Does a status list ("open,overdue") hold the chain's status? */
static bool status_matches(const char *list, const chain_state *c)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        bool overdue = n == 7 && strncmp(p, "overdue", 7) == 0;
        const char *name = FORUM_ACTION_STATUS_NAMES[c->status % FORUM_ACTION__COUNT];
        if ((overdue && c->overdue) || (strlen(name) == n && strncmp(p, name, n) == 0))
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Is every entry of a status list a status name or "overdue"? */
static bool status_list_valid(const char *list)
{
    if (!*list)
        return false;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        bool known = n == 7 && strncmp(p, "overdue", 7) == 0;
        for (int i = 0; i < FORUM_ACTION__COUNT && !known; i++)
            known = strlen(FORUM_ACTION_STATUS_NAMES[i]) == n &&
                    strncmp(p, FORUM_ACTION_STATUS_NAMES[i], n) == 0;
        if (!known)
            return false;
        p += n;
        if (*p == ',' && !*++p)
            return false;
    }
    return true;
}

static bool chain_matches(const board *b, const chain_state *c, const forum_board_filter *f)
{
    if (!f)
        return true;
    if (f->status && !status_matches(f->status, c))
        return false;
    if (f->owner && (!c->owner || strcmp(c->owner, f->owner) != 0))
        return false;
    if (f->session && strcmp(b->items[c->first].root->session->code, f->session) != 0)
        return false;
    if (f->action_id) {
        bool found = false;
        for (size_t k = c->first; k < c->end && !found; k++)
            found = b->items[k].a->id == f->action_id;
        if (!found)
            return false;
    }
    return true;
}

static void write_comments(jsonw *w, bool *first, const forum_state *st, const rating_tally *t)
{
    jsonw_key(w, first, "comments");
    jsonw_put(w, "[", 1);
    size_t shown = 0;
    for (size_t i = 0; i < t->n_comments && shown < BOARD_COMMENTS_SHOWN; i++) {
        const rating *x = find_rating(st, t->comments[i]);
        if (!x || x->comment_state != FORUM_COMMENT_PUBLISHED || !x->comment)
            continue;
        bool f = true;
        jsonw_put(w, shown ? ",{" : "{", shown ? 2 : 1);
        shown++;
        jsonw_kv_str(w, &f, "text", x->comment);
        jsonw_kv_str(w, &f, "value", FORUM_RATING_NAMES[x->value % FORUM_RATING__COUNT]);
        jsonw_kv_int(w, &f, "at", x->updated_at);
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
}

/* The question a commitment answers, when it is public: its text, asker (null = anonymous),
 * addressed panelist, answer note and the ratings of its answer. */
static void write_public_question(jsonw *w, bool *first, const forum_state *st,
                                  const action_item *a)
{
    const question *q = a->question_id ? find_question(st, a->question_id) : NULL;
    jsonw_key(w, first, "question");
    if (!q || !forum_qstate_public(q->state)) {
        jsonw_puts(w, "null");
        return;
    }
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", q->id);
    jsonw_kv_str(w, &f, "text", q->text ? q->text : "");
    jsonw_kv_str_or_null(w, &f, "author", q->author);
    jsonw_kv_str(w, &f, "category", FORUM_CATEGORY_NAMES[q->category % FORUM_CAT__COUNT]);
    jsonw_kv_str(w, &f, "state", FORUM_QSTATE_NAMES[q->state % Q__COUNT]);
    write_panelist(w, &f, "to", find_panelist(q->session, q->to));
    jsonw_kv_str_or_null(w, &f, "answer_note", q->answer_note);
    write_tally_counts(w, &f, &q->ratings);
    write_comments(w, &f, st, &q->ratings);
    jsonw_put(w, "}", 1);
}

/* One published commitment as the board shows it. */
static void write_public_item(jsonw *w, const board *b, const action_item *a)
{
    const session *s = a->session;
    char url[64];
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", a->id);
    jsonw_kv_str(w, &f, "session", s->code);
    jsonw_kv_str(w, &f, "session_title", s->cfg.title ? s->cfg.title : "");
    jsonw_kv_int_or_null(w, &f, "session_date", episode_date(s));
    jsonw_kv_str(w, &f, "session_status", FORUM_STATUS_NAMES[s->cfg.status % S__COUNT]);
    snprintf(url, sizeof url, "/s/%s#minutes", s->code);
    jsonw_kv_str_or_null(w, &f, "minutes_url", s->cfg.status == S_ARCHIVED ? url : NULL);
    jsonw_kv_int_or_null(w, &f, "follows_action_id", a->follows_action_id);
    jsonw_kv_str(w, &f, "text", a->text ? a->text : "");
    jsonw_kv_str_or_null(w, &f, "owner", a->owner);
    jsonw_kv_str_or_null(w, &f, "due", a->due);
    jsonw_kv_str(w, &f, "status", FORUM_ACTION_STATUS_NAMES[a->status % FORUM_ACTION__COUNT]);
    jsonw_kv_str_or_null(w, &f, "reason", a->reason);
    jsonw_kv_bool(w, &f, "overdue", is_overdue(a->due, a->status, b->today));
    write_panelist(w, &f, "promised_by", find_panelist(s, a->promised_by));
    write_public_question(w, &f, b->st, a);
    jsonw_kv_int(w, &f, "created_at", a->created_at);
    jsonw_kv_int(w, &f, "updated_at", a->updated_at);
    jsonw_key(w, &f, "history");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < a->n_history; i++) {
        const action_history *h = &a->history[i];
        bool g = true;
        jsonw_put(w, i ? ",{" : "{", i ? 2 : 1);
        jsonw_kv_str(w, &g, "status", FORUM_ACTION_STATUS_NAMES[h->status % FORUM_ACTION__COUNT]);
        jsonw_kv_int(w, &g, "at", h->at);
        jsonw_kv_str_or_null(w, &g, "reason", h->reason);
        jsonw_kv_str(w, &g, "session", h->session);
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
    write_tally_counts(w, &f, &a->ratings);
    write_comments(w, &f, b->st, &a->ratings);
    jsonw_put(w, "}", 1);
}

static void write_chain(jsonw *w, const board *b, const chain_state *c)
{
    const action_item *root = b->items[c->first].a;
    jsonw_put(w, "{", 1);
    /* the root's members, then its follow-ups and the chain's current state */
    jsonw mark = {0};
    write_public_item(&mark, b, root);
    if (mark.len >= 2) /* drop the closing brace */
        jsonw_put(w, mark.p + 1, mark.len - 2);
    free(mark.p);
    bool f = false;
    jsonw_key(w, &f, "follow_ups");
    jsonw_put(w, "[", 1);
    for (size_t k = c->first + 1; k < c->end; k++) {
        if (k > c->first + 1)
            jsonw_put(w, ",", 1);
        write_public_item(w, b, b->items[k].a);
    }
    jsonw_put(w, "]", 1);
    bool g = true;
    jsonw_key(w, &f, "current");
    jsonw_put(w, "{", 1);
    jsonw_kv_str(w, &g, "status", FORUM_ACTION_STATUS_NAMES[c->status % FORUM_ACTION__COUNT]);
    jsonw_kv_str_or_null(w, &g, "owner", c->owner);
    jsonw_kv_str_or_null(w, &g, "due", c->due);
    jsonw_kv_bool(w, &g, "overdue", c->overdue);
    jsonw_put(w, "}", 1);
    jsonw_put(w, "}", 1);
}

/* "counts": chains by current status, and how many are overdue. */
static void write_chain_counts(jsonw *w, bool *first, const board *b)
{
    int64_t by_status[FORUM_ACTION__COUNT] = {0}, total = 0, overdue = 0;
    for (size_t i = 0; i < b->n;) {
        chain_state c = chain_at(b, i);
        by_status[c.status % FORUM_ACTION__COUNT]++;
        overdue += c.overdue;
        total++;
        i = c.end;
    }
    bool f = true;
    jsonw_key(w, first, "counts");
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "total", total);
    for (int i = 0; i < FORUM_ACTION__COUNT; i++)
        jsonw_kv_int(w, &f, FORUM_ACTION_STATUS_NAMES[i], by_status[i]);
    jsonw_kv_int(w, &f, "overdue", overdue);
    jsonw_put(w, "}", 1);
}

static int by_string(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* "owners" (the chains' current owners, sorted, once each) and "sessions" (the sessions the
 * chains were made in, newest first): what the board's filters offer. */
static void write_filter_choices(jsonw *w, bool *first, const board *b)
{
    const char **owners = b->n ? malloc(b->n * sizeof *owners) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < b->n;) {
        chain_state c = chain_at(b, i);
        if (c.owner && owners)
            owners[n++] = c.owner;
        i = c.end;
    }
    if (n)
        qsort(owners, n, sizeof *owners, by_string);
    jsonw_key(w, first, "owners");
    jsonw_put(w, "[", 1);
    for (size_t i = 0, shown = 0; i < n; i++) {
        if (i && strcmp(owners[i], owners[i - 1]) == 0)
            continue;
        if (shown++)
            jsonw_put(w, ",", 1);
        jsonw_string(w, owners[i]);
    }
    jsonw_put(w, "]", 1);
    free(owners);
    jsonw_key(w, first, "sessions");
    jsonw_put(w, "[", 1);
    const session *last = NULL;
    bool any = false;
    for (size_t i = 0; i < b->n; i++) { /* chains come grouped by their root's session */
        const session *s = b->items[i].root->session;
        if (s == last)
            continue;
        last = s;
        bool f = true;
        jsonw_put(w, any ? ",{" : "{", any ? 2 : 1);
        any = true;
        jsonw_kv_str(w, &f, "code", s->code);
        jsonw_kv_str(w, &f, "title", s->cfg.title ? s->cfg.title : "");
        jsonw_kv_int_or_null(w, &f, "date", episode_date(s));
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
}

char *forum_public_commitments(const forum_state *st, int64_t program_id,
                               const forum_board_filter *filter, const char **bad_field)
{
    *bad_field = NULL;
    const program *p = find_program(st, program_id);
    if (!p)
        return NULL;
    if (filter && filter->status && !status_list_valid(filter->status)) {
        *bad_field = "status";
        return NULL;
    }
    board b;
    if (board_load(&b, st, program_id, filter ? filter->today : NULL) < 0) {
        free(b.items);
        return NULL;
    }
    jsonw w = {0};
    bool f = true;
    jsonw_put(&w, "{", 1);
    jsonw_key(&w, &f, "program");
    write_program(&w, p);
    jsonw_kv_str_or_null(&w, &f, "today", b.today);
    write_chain_counts(&w, &f, &b);
    write_filter_choices(&w, &f, &b);
    jsonw_key(&w, &f, "commitments");
    jsonw_put(&w, "[", 1);
    bool any = false;
    for (size_t i = 0; i < b.n;) {
        chain_state c = chain_at(&b, i);
        if (chain_matches(&b, &c, filter)) {
            if (any)
                jsonw_put(&w, ",", 1);
            any = true;
            write_chain(&w, &b, &c);
        }
        i = c.end;
    }
    jsonw_put(&w, "]", 1);
    jsonw_put(&w, "}", 1);
    free(b.items);
    return jsonw_finish(&w);
}

char *forum_public_program(const forum_state *st, int64_t program_id, const char *today)
{
    const program *p = find_program(st, program_id);
    if (!p)
        return NULL;
    board b;
    if (board_load(&b, st, program_id, today) < 0) {
        free(b.items);
        return NULL;
    }
    jsonw w = {0};
    bool f = true;
    jsonw_put(&w, "{", 1);
    jsonw_key(&w, &f, "program");
    write_program(&w, p);
    write_episodes(&w, &f, "live", st, program_id, S_LIVE, S_LIVE, by_date_desc, 0);
    write_episodes(&w, &f, "upcoming", st, program_id, S_OPEN, S_OPEN, by_schedule, 0);
    write_episodes(&w, &f, "past", st, program_id, S_ENDED, S_ARCHIVED, by_date_desc, 0);
    jsonw_key(&w, &f, "commitments");
    jsonw_put(&w, "{", 1);
    bool g = true;
    write_chain_counts(&w, &g, &b);
    jsonw_put(&w, "}", 1);
    jsonw_put(&w, "}", 1);
    free(b.items);
    return jsonw_finish(&w);
}

int64_t forum_event_program(const forum_state *st, const forum_event *ev)
{
    const session *s;
    switch (ev->kind) {
    case FORUM_EV_ACTION_CHANGED:
        s = ev->audience == FORUM_AUD_PUBLIC ? find_session(st, ev->p.action.session) : NULL;
        return s ? s->cfg.program_id : 0;
    case FORUM_EV_RATINGS_CHANGED:
        s = find_session(st, ev->session);
        return s ? s->cfg.program_id : 0;
    case FORUM_EV_SESSION_CHANGED:
        return ev->p.session.status != S_DRAFT ? ev->p.session.program_id : 0;
    case FORUM_EV_PROGRAM_CHANGED:
        return ev->p.program.id;
    case FORUM_EV_QUESTION_SUBMITTED:
    case FORUM_EV_QUESTION_PUBLISHED:
    case FORUM_EV_QUESTION_UPDATED:
    case FORUM_EV_QUESTION_DISMISSED:
    case FORUM_EV_QUESTION_WITHDRAWN:
    case FORUM_EV_QUESTION_ANSWERED:
    case FORUM_EV_QUESTION_MERGED:
    case FORUM_EV_VOTE_ADDED:
    case FORUM_EV_VOTE_REMOVED:
    case FORUM_EV_VOTES_CHANGED:
    case FORUM_EV_ONAIR_CHANGED:
    case FORUM_EV_QUEUE_CHANGED:
    case FORUM_EV_PANEL_CHANGED:
    case FORUM_EV_POLL_CHANGED:
    case FORUM_EV_POLL_VOTED:
    case FORUM_EV_VIEWER_BANNED:
    case FORUM_EV_VIEWER_UNBANNED:
    case FORUM_EV_VIEWERS_PEAK:
    case FORUM_EV_VIEWERS_SAMPLED:
    case FORUM_EV_VIEWER_ERASED:
    case FORUM_EV_RATING_CHANGED:
    case FORUM_EV_WEBHOOK_CHANGED:
    case FORUM_EV__COUNT:
        return 0;
    }
    return 0;
}
