/* event.c — see event.h: the kind table, event memory (arena), rendering typed payloads to JSON
 * per view, and decoding stored JSON back into typed payloads. */
#include "event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names -------------------------------------------------------------------------------- */

const char *const FORUM_QSTATE_NAMES[Q__COUNT] = {"pending",  "published", "on_air",
                                                  "answered", "dismissed", "withdrawn"};
const char *const FORUM_STATUS_NAMES[S__COUNT] = {"draft", "open", "live", "ended", "archived"};
const char *const FORUM_POLL_STATE_NAMES[P__COUNT] = {"draft", "open", "closed"};
const char *const FORUM_CATEGORY_NAMES[FORUM_CAT__COUNT] = {"question", "need", "suggestion"};
const char *const FORUM_SOURCE_NAMES[FORUM_SRC__COUNT] = {"web",     "phone",   "paper", "visit",
                                                          "carried", "hotline", "form"};
const char *const FORUM_ACTION_STATUS_NAMES[FORUM_ACTION__COUNT] = {"open", "in_progress", "done",
                                                                    "withdrawn"};
const char *const FORUM_WEBHOOK_PRESET_NAMES[FORUM_HOOK__COUNT] = {"json", "wecom", "dingtalk",
                                                                   "feishu"};
const char *const FORUM_WEBHOOK_TRIGGER_NAMES[FORUM_TRIGGER__COUNT] = {
    "question.on_air",    "question.answered", "commitment.created", "commitment.updated",
    "session.started",    "session.ended",     "session.archived"};
const char *const FORUM_PUBLICATION_NAMES[FORUM_PUB__COUNT] = {"auto", "public", "staff"};
const char *const FORUM_RATING_NAMES[FORUM_RATING__COUNT] = {"satisfied", "basically_satisfied",
                                                             "dissatisfied"};
const char *const FORUM_COMMENT_STATE_NAMES[FORUM_COMMENT__COUNT] = {"none", "pending",
                                                                     "published", "dismissed"};
const char *const FORUM_UNDO_ACTION_NAMES[UNDO__COUNT] = {"approve", "dismiss",  "star", "edit",
                                                          "merge",   "answered", "onair", "restore"};

int forum_name_index(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static const struct kind_info {
    const char *name;
    forum_payload_type payload;
    forum_audience_rule rule;
} KINDS[FORUM_EV__COUNT] = {
#define FORUM_KIND_INFO(name, wire, payload, rule) \
    [FORUM_EV_##name] = {wire, PAYLOAD_##payload, rule},
    FORUM_EVENT_KINDS(FORUM_KIND_INFO)
#undef FORUM_KIND_INFO
};

const char *forum_kind_name(forum_kind k)
{
    return (unsigned)k < FORUM_EV__COUNT ? KINDS[k].name : "unknown";
}

forum_kind forum_kind_from_name(const char *name)
{
    for (int k = 0; name && k < FORUM_EV__COUNT; k++)
        if (strcmp(KINDS[k].name, name) == 0)
            return (forum_kind)k;
    return FORUM_EV__COUNT;
}

forum_payload_type forum_kind_payload(forum_kind k)
{
    return KINDS[k].payload;
}

forum_audience_rule forum_kind_rule(forum_kind k)
{
    return KINDS[k].rule;
}

forum_audience forum_kind_audience(forum_kind k, bool visible)
{
    switch (KINDS[k].rule) {
    case RULE_PUBLIC:
        return FORUM_AUD_PUBLIC;
    case RULE_STAFF:
        return FORUM_AUD_STAFF;
    case RULE_NOBODY:
        return FORUM_AUD_NOBODY;
    case RULE_STAFF_AND_SUBJECT:
        return FORUM_AUD_STAFF_AND_SUBJECT;
    case RULE_VISIBLE:
        if (visible)
            return FORUM_AUD_PUBLIC;
        return KINDS[k].payload == PAYLOAD_QUESTION ? FORUM_AUD_STAFF_AND_SUBJECT : FORUM_AUD_STAFF;
    }
    return FORUM_AUD_STAFF;
}

/* ---- memory ------------------------------------------------------------------------------- */

typedef struct forum_arena_block {
    struct forum_arena_block *next;
    size_t used, cap;
    _Alignas(16) char data[];
} arena_block;

void *forum_arena_alloc(forum_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = b ? b->cap * 2 : 512;
        if (cap > 16384)
            cap = 16384;
        if (cap < n)
            cap = n;
        arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *forum_arena_strdup(forum_arena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = forum_arena_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void forum_arena_free(forum_arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void forum_event_clear(forum_event *ev)
{
    if (!ev)
        return;
    forum_arena_free(&ev->arena);
    memset(&ev->p, 0, sizeof ev->p);
    memset(&ev->secret, 0, sizeof ev->secret);
}

static bool own_undo(forum_arena *a, forum_undo_rec *u);

/* ---- owning a payload: copying what it points at into the event's arena -------------------- */

/* Each returns false on allocation failure. */
static bool own_str(forum_arena *a, const char **s)
{
    if (!*s)
        return true;
    return (*s = forum_arena_strdup(a, *s)) != NULL;
}

static bool own_array(forum_arena *a, const void **arr, size_t n, size_t elem)
{
    if (!*arr || n == 0) {
        *arr = NULL;
        return true;
    }
    void *copy = forum_arena_alloc(a, n * elem);
    if (!copy)
        return false;
    memcpy(copy, *arr, n * elem);
    *arr = copy;
    return true;
}

static bool own_strings(forum_arena *a, const char *const **arr, size_t n)
{
    if (!own_array(a, (const void **)arr, n, sizeof **arr))
        return false;
    const char **list = (const char **)*arr;
    for (size_t i = 0; i < n; i++)
        if (!own_str(a, &list[i]))
            return false;
    return true;
}

static bool own_question(forum_arena *a, forum_question_rec *q)
{
    return own_str(a, &q->session) && own_str(a, &q->text) && own_str(a, &q->author) &&
           own_str(a, &q->answer_note) && own_str(a, &q->carried_from) &&
           own_str(a, &q->viewer_id) && own_str(a, &q->external_ref) &&
           own_str(a, &q->dismiss_reason) && own_str(a, &q->held_for);
}

static bool own_questions(forum_arena *a, const forum_question_rec **qs, size_t n)
{
    if (!own_array(a, (const void **)qs, n, sizeof **qs))
        return false;
    forum_question_rec *list = (forum_question_rec *)*qs;
    for (size_t i = 0; i < n; i++)
        if (!own_question(a, &list[i]))
            return false;
    return true;
}

static bool own_session(forum_arena *a, forum_session_rec *s)
{
    if (!own_str(a, &s->code) || !own_str(a, &s->program) || !own_str(a, &s->title) ||
        !own_str(a, &s->topic) || !own_str(a, &s->stream_url) ||
        !own_array(a, (const void **)&s->panelists, s->n_panelists, sizeof *s->panelists) ||
        !own_array(a, (const void **)&s->segments, s->n_segments, sizeof *s->segments) ||
        !own_strings(a, &s->blocked_words, s->n_blocked_words))
        return false;
    forum_panelist_rec *ps = (forum_panelist_rec *)s->panelists;
    for (size_t i = 0; i < s->n_panelists; i++)
        if (!own_str(a, &ps[i].name) || !own_str(a, &ps[i].affiliation) || !own_str(a, &ps[i].role))
            return false;
    forum_segment_rec *sg = (forum_segment_rec *)s->segments;
    for (size_t i = 0; i < s->n_segments; i++)
        if (!own_str(a, &sg[i].title))
            return false;
    return true;
}

int forum_undo_own(forum_arena *a, forum_undo_rec *u)
{
    return own_undo(a, u) ? 0 : -1;
}

static bool own_undo(forum_arena *a, forum_undo_rec *u)
{
    return own_questions(a, &u->before, u->n_before) &&
           own_array(a, (const void **)&u->after, u->n_after, sizeof *u->after) &&
           own_strings(a, &u->voters, u->n_voters) && own_strings(a, &u->moved, u->n_moved);
}

static bool own_payload(forum_arena *a, forum_kind kind, forum_payload *p)
{
    switch (KINDS[kind].payload) {
    case PAYLOAD_QUESTION:
        return own_question(a, &p->question.q) && own_str(a, &p->question.reason) &&
               (!p->question.has_into || own_question(a, &p->question.into));
    case PAYLOAD_VOTE:
    case PAYLOAD_ONAIR:
    case PAYLOAD_PEAK:
        return true;
    case PAYLOAD_COUNTS:
        return own_array(a, (const void **)&p->counts.items, p->counts.n, sizeof(forum_count));
    case PAYLOAD_QUEUE:
        return own_array(a, (const void **)&p->queue.ids, p->queue.n, sizeof(int64_t));
    case PAYLOAD_PANEL:
        return own_array(a, (const void **)&p->panel.speaker_ids, p->panel.n_speaker_ids,
                         sizeof(int64_t)) &&
               own_array(a, (const void **)&p->panel.up_next, p->panel.n_up_next,
                         sizeof(int64_t)) &&
               own_str(a, &p->panel.banner);
    case PAYLOAD_POLL:
        return own_str(a, &p->poll.title) && own_strings(a, &p->poll.options, p->poll.n_options) &&
               own_array(a, (const void **)&p->poll.counts, p->poll.n_options, sizeof(int64_t));
    case PAYLOAD_BALLOT:
        return own_array(a, (const void **)&p->ballot.option_ids, p->ballot.n, sizeof(int64_t));
    case PAYLOAD_VIEWER:
        return own_str(a, &p->viewer_id);
    case PAYLOAD_ACTION:
        return own_str(a, &p->action.session) && own_str(a, &p->action.text) &&
               own_str(a, &p->action.owner) && own_str(a, &p->action.due) &&
               own_str(a, &p->action.reason) && own_str(a, &p->action.note);
    case PAYLOAD_RATING:
        return own_str(a, &p->rating.session) && own_str(a, &p->rating.viewer_id) &&
               own_str(a, &p->rating.comment);
    case PAYLOAD_RATING_COUNTS:
        return own_array(a, (const void **)&p->ratings.items, p->ratings.n,
                         sizeof(forum_rating_count));
    case PAYLOAD_ERASED:
        return own_str(a, &p->erased.placeholder) &&
               own_questions(a, &p->erased.questions, p->erased.n);
    case PAYLOAD_SESSION:
        return own_session(a, &p->session);
    case PAYLOAD_PROGRAM:
        return own_str(a, &p->program.title) && own_str(a, &p->program.description);
    case PAYLOAD_WEBHOOK:
        return own_str(a, &p->webhook.name) && own_str(a, &p->webhook.url);
    }
    return false;
}

int forum_event_own(forum_event *ev)
{
    if (!own_payload(&ev->arena, ev->kind, &ev->p) ||
        (ev->secret.has_undo && !own_undo(&ev->arena, &ev->secret.undo)) ||
        !own_str(&ev->arena, &ev->secret.webhook_secret))
        return -1;
    return 0;
}

int forum_event_copy(forum_event *dst, const forum_event *src)
{
    *dst = *src;
    dst->arena.head = NULL;
    if (forum_event_own(dst) < 0) {
        forum_event_clear(dst);
        return -1;
    }
    return 0;
}

/* ---- rendering ---------------------------------------------------------------------------- */

void forum_write_question(jsonw *w, const forum_question_rec *q, forum_view view, bool mine)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", q->id);
    jsonw_kv_str(w, &f, "session", q->session);
    jsonw_kv_str(w, &f, "text", q->text);
    jsonw_kv_str_or_null(w, &f, "author", q->author);
    jsonw_kv_str(w, &f, "category", FORUM_CATEGORY_NAMES[q->category % FORUM_CAT__COUNT]);
    jsonw_kv_int_or_null(w, &f, "to", q->to);
    jsonw_kv_int_or_null(w, &f, "parent_id", q->parent_id);
    jsonw_kv_str(w, &f, "state", FORUM_QSTATE_NAMES[q->state % Q__COUNT]);
    jsonw_kv_int(w, &f, "votes", q->votes);
    jsonw_kv_int(w, &f, "created_at", q->created_at);
    jsonw_kv_str(w, &f, "phase", q->live_phase ? "live" : "pre");
    jsonw_kv_str_or_null(w, &f, "answer_note", q->answer_note);
    jsonw_kv_bool(w, &f, "starred", q->starred);
    jsonw_kv_bool(w, &f, "mine", view == FORUM_VIEW_STAFF ? false : mine);
    jsonw_kv_str(w, &f, "source", FORUM_SOURCE_NAMES[q->source % FORUM_SRC__COUNT]);
    jsonw_kv_str_or_null(w, &f, "carried_from", q->carried_from);
    if (q->carried_question_id)
        jsonw_kv_int(w, &f, "carried_question_id", q->carried_question_id);
    jsonw_kv_int_or_null(w, &f, "merged_into", q->merged_into);
    if (q->source == FORUM_SRC_CARRIED && q->carried_source < FORUM_SRC_CARRIED)
        jsonw_kv_str(w, &f, "carried_source", FORUM_SOURCE_NAMES[q->carried_source]);
    /* The reason goes to staff and the asker; the blocked word that held a question to staff
     * only (telling the asker would show how to get round it). */
    if (view != FORUM_VIEW_PUBLIC && q->dismiss_reason)
        jsonw_kv_str(w, &f, "dismiss_reason", q->dismiss_reason);
    if (view == FORUM_VIEW_STAFF && q->held_for)
        jsonw_kv_str(w, &f, "held_for", q->held_for);
    if (view == FORUM_VIEW_STAFF)
        jsonw_kv_str_or_null(w, &f, "viewer_id",
                             q->viewer_id && q->viewer_id[0] ? q->viewer_id : NULL);
    if (view == FORUM_VIEW_STAFF && q->external_ref)
        jsonw_kv_str(w, &f, "external_ref", q->external_ref);
    jsonw_put(w, "}", 1);
}

void forum_write_session(jsonw *w, const forum_session_rec *s, forum_view view)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_str(w, &f, "code", s->code);
    jsonw_kv_int(w, &f, "program_id", s->program_id);
    jsonw_kv_str_or_null(w, &f, "program", s->program);
    jsonw_kv_str(w, &f, "title", s->title);
    jsonw_kv_str_or_null(w, &f, "topic", s->topic);
    jsonw_kv_str(w, &f, "status", FORUM_STATUS_NAMES[s->status % S__COUNT]);
    jsonw_kv_bool(w, &f, "premoderation", s->premoderation);
    jsonw_kv_bool(w, &f, "anonymous_allowed", s->anonymous_allowed);
    jsonw_kv_int_or_null(w, &f, "scheduled_at", s->scheduled_at);
    jsonw_kv_int_or_null(w, &f, "started_at", s->started_at);
    jsonw_kv_int_or_null(w, &f, "ended_at", s->ended_at);
    jsonw_key(w, &f, "panelists");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < s->n_panelists; i++) {
        bool g = true;
        jsonw_put(w, i ? ",{" : "{", i ? 2 : 1);
        jsonw_kv_int(w, &g, "id", s->panelists[i].id);
        jsonw_kv_str(w, &g, "name", s->panelists[i].name);
        jsonw_kv_str_or_null(w, &g, "affiliation", s->panelists[i].affiliation);
        jsonw_kv_str_or_null(w, &g, "role", s->panelists[i].role);
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
    jsonw_key(w, &f, "segments");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < s->n_segments; i++) {
        bool g = true;
        jsonw_put(w, i ? ",{" : "{", i ? 2 : 1);
        jsonw_kv_int(w, &g, "id", s->segments[i].id);
        jsonw_kv_str(w, &g, "title", s->segments[i].title);
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
    if (view == FORUM_VIEW_STAFF) {
        jsonw_key(w, &f, "blocked_words");
        jsonw_put(w, "[", 1);
        for (size_t i = 0; i < s->n_blocked_words; i++) {
            if (i)
                jsonw_put(w, ",", 1);
            jsonw_string(w, s->blocked_words[i]);
        }
        jsonw_put(w, "]", 1);
    }
    jsonw_kv_int(w, &f, "question_rate_per_min", s->question_rate_per_min);
    jsonw_key(w, &f, "stream");
    if (s->stream_kind != FORUM_STREAM_NONE && s->stream_kind < FORUM_STREAM__COUNT &&
        s->stream_url) {
        bool g = true;
        jsonw_put(w, "{", 1);
        jsonw_kv_str(w, &g, "kind", FORUM_STREAM_KIND_NAMES[s->stream_kind]);
        jsonw_kv_str(w, &g, "url", s->stream_url);
        jsonw_put(w, "}", 1);
    } else {
        jsonw_puts(w, "null");
    }
    jsonw_put(w, "}", 1);
}

void forum_write_program(jsonw *w, const forum_program_rec *p)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", p->id);
    jsonw_kv_str(w, &f, "title", p->title);
    jsonw_kv_str_or_null(w, &f, "description", p->description);
    jsonw_kv_bool(w, &f, "listed", !p->unlisted);
    jsonw_put(w, "}", 1);
}

void forum_write_poll(jsonw *w, const forum_poll_rec *p, const int64_t *my_mask)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", p->id);
    jsonw_kv_str(w, &f, "title", p->title);
    jsonw_key(w, &f, "options");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < p->n_options; i++) {
        bool g = true;
        jsonw_put(w, i ? ",{" : "{", i ? 2 : 1);
        jsonw_kv_int(w, &g, "id", (int64_t)i + 1);
        jsonw_kv_str(w, &g, "text", p->options[i]);
        jsonw_kv_int(w, &g, "votes", p->counts ? p->counts[i] : 0);
        jsonw_put(w, "}", 1);
    }
    jsonw_put(w, "]", 1);
    jsonw_kv_bool(w, &f, "multi", p->multi);
    jsonw_kv_str(w, &f, "state", FORUM_POLL_STATE_NAMES[p->state % P__COUNT]);
    if (my_mask) {
        jsonw_key(w, &f, "my_option_ids");
        jsonw_put(w, "[", 1);
        bool first = true;
        for (size_t i = 0; i < p->n_options; i++)
            if (*my_mask & ((int64_t)1 << i)) {
                if (!first)
                    jsonw_put(w, ",", 1);
                first = false;
                jsonw_int(w, (int64_t)i + 1);
            }
        jsonw_put(w, "]", 1);
    }
    jsonw_put(w, "}", 1);
}

void forum_write_action(jsonw *w, const forum_action_rec *a)
{
    forum_write_action_view(w, a, FORUM_VIEW_STAFF);
}

void forum_write_action_view(jsonw *w, const forum_action_rec *a, forum_view view)
{
    bool f = true, staff = view == FORUM_VIEW_STAFF;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", a->id);
    jsonw_kv_str(w, &f, "session", a->session);
    if (!staff && !a->published) { /* a retraction tells nothing but that */
        jsonw_kv_bool(w, &f, "published", false);
        jsonw_put(w, "}", 1);
        return;
    }
    jsonw_kv_int_or_null(w, &f, "question_id", a->question_id);
    jsonw_kv_int_or_null(w, &f, "follows_action_id", a->follows_action_id);
    jsonw_kv_str(w, &f, "text", a->text);
    jsonw_kv_str_or_null(w, &f, "owner", a->owner);
    jsonw_kv_str_or_null(w, &f, "due", a->due);
    jsonw_kv_str(w, &f, "status", FORUM_ACTION_STATUS_NAMES[a->status % FORUM_ACTION__COUNT]);
    jsonw_kv_str_or_null(w, &f, "reason", a->reason);
    jsonw_kv_int_or_null(w, &f, "promised_by", a->promised_by);
    jsonw_kv_int(w, &f, "created_at", a->created_at);
    jsonw_kv_int(w, &f, "updated_at", a->updated_at);
    jsonw_kv_bool(w, &f, "published", a->published);
    if (staff) {
        jsonw_kv_str(w, &f, "publication",
                     FORUM_PUBLICATION_NAMES[a->publication % FORUM_PUB__COUNT]);
        jsonw_kv_str_or_null(w, &f, "note", a->note);
    }
    jsonw_put(w, "}", 1);
}

void forum_write_rating(jsonw *w, const forum_rating_rec *r, forum_view view)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", r->id);
    jsonw_kv_str(w, &f, "session", r->session);
    jsonw_kv_int_or_null(w, &f, "question_id", r->question_id);
    jsonw_kv_int_or_null(w, &f, "action_id", r->action_id);
    jsonw_kv_str(w, &f, "value", FORUM_RATING_NAMES[r->value % FORUM_RATING__COUNT]);
    jsonw_kv_str_or_null(w, &f, "comment", r->comment);
    jsonw_kv_str_or_null(w, &f, "comment_state",
                         r->comment_state != FORUM_COMMENT_NONE
                             ? FORUM_COMMENT_STATE_NAMES[r->comment_state % FORUM_COMMENT__COUNT]
                             : NULL);
    jsonw_kv_int(w, &f, "created_at", r->created_at);
    jsonw_kv_int(w, &f, "updated_at", r->updated_at);
    if (view == FORUM_VIEW_STAFF)
        jsonw_kv_str_or_null(w, &f, "viewer_id",
                             r->viewer_id && r->viewer_id[0] ? r->viewer_id : NULL);
    jsonw_put(w, "}", 1);
}

void forum_write_rating_count(jsonw *w, const forum_rating_count *c)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    if (c->question_id)
        jsonw_kv_int(w, &f, "question_id", c->question_id);
    else
        jsonw_kv_int(w, &f, "action_id", c->action_id);
    for (int i = 0; i < FORUM_RATING__COUNT; i++)
        jsonw_kv_int(w, &f, FORUM_RATING_NAMES[i], c->counts[i]);
    jsonw_put(w, "}", 1);
}

void forum_write_panel(jsonw *w, const forum_panel_rec *p)
{
    bool f = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int_or_null(w, &f, "segment_id", p->segment_id);
    jsonw_key(w, &f, "speaker_ids");
    jsonw_ids(w, p->speaker_ids, p->n_speaker_ids);
    jsonw_kv_str_or_null(w, &f, "banner", p->banner);
    jsonw_kv_int_or_null(w, &f, "on_air", p->on_air);
    jsonw_key(w, &f, "up_next");
    jsonw_ids(w, p->up_next, p->n_up_next);
    jsonw_put(w, "}", 1);
}

void forum_event_write_payload(jsonw *w, bool *first, const forum_event *ev, forum_view view)
{
    const forum_payload *p = &ev->p;
    bool mine = view == FORUM_VIEW_SUBJECT;
    switch (KINDS[ev->kind].payload) {
    case PAYLOAD_QUESTION:
        jsonw_key(w, first, "question");
        forum_write_question(w, &p->question.q, view, mine);
        if (p->question.reason)
            jsonw_kv_str(w, first, "reason", p->question.reason);
        if (p->question.has_into) {
            jsonw_key(w, first, "into");
            forum_write_question(w, &p->question.into, view,
                                 mine && p->question.into.viewer_id &&
                                     strcmp(p->question.into.viewer_id, ev->subject) == 0);
        }
        if (p->question.undo)
            jsonw_kv_bool(w, first, "undo", true);
        if (p->question.restored)
            jsonw_kv_bool(w, first, "restored", true);
        break;
    case PAYLOAD_VOTE:
    case PAYLOAD_ONAIR:
        if (ev->kind == FORUM_EV_ONAIR_CHANGED)
            jsonw_kv_int_or_null(w, first, "question_id", p->question_id);
        else
            jsonw_kv_int(w, first, "question_id", p->question_id);
        break;
    case PAYLOAD_COUNTS:
        jsonw_key(w, first, "counts");
        jsonw_put(w, "{", 1);
        for (size_t i = 0; i < p->counts.n; i++) {
            char key[24];
            snprintf(key, sizeof key, "%lld", (long long)p->counts.items[i].id);
            bool g = i == 0;
            jsonw_kv_int(w, &g, key, p->counts.items[i].count);
        }
        jsonw_put(w, "}", 1);
        break;
    case PAYLOAD_QUEUE:
        jsonw_key(w, first, "up_next");
        jsonw_ids(w, p->queue.ids, p->queue.n);
        break;
    case PAYLOAD_PANEL:
        jsonw_key(w, first, "panel");
        forum_write_panel(w, &p->panel);
        break;
    case PAYLOAD_POLL:
        jsonw_key(w, first, "poll");
        forum_write_poll(w, &p->poll, NULL);
        break;
    case PAYLOAD_BALLOT:
        jsonw_kv_int(w, first, "poll_id", p->ballot.poll_id);
        jsonw_key(w, first, "option_ids");
        jsonw_ids(w, p->ballot.option_ids, p->ballot.n);
        break;
    case PAYLOAD_VIEWER:
        if (view == FORUM_VIEW_STAFF)
            jsonw_kv_str(w, first, "viewer_id", p->viewer_id);
        break;
    case PAYLOAD_ACTION:
        jsonw_key(w, first, "action");
        forum_write_action_view(w, &p->action, view);
        break;
    case PAYLOAD_RATING:
        jsonw_key(w, first, "rating");
        forum_write_rating(w, &p->rating, view);
        break;
    case PAYLOAD_RATING_COUNTS:
        jsonw_key(w, first, "ratings");
        jsonw_put(w, "[", 1);
        for (size_t i = 0; i < p->ratings.n; i++) {
            if (i)
                jsonw_put(w, ",", 1);
            forum_write_rating_count(w, &p->ratings.items[i]);
        }
        jsonw_put(w, "]", 1);
        break;
    case PAYLOAD_PEAK:
        jsonw_kv_int(w, first, "viewers", p->viewers);
        break;
    case PAYLOAD_ERASED:
        jsonw_key(w, first, "questions");
        jsonw_put(w, "[", 1);
        for (size_t i = 0; i < p->erased.n; i++) {
            if (i)
                jsonw_put(w, ",", 1);
            forum_write_question(w, &p->erased.questions[i], view, false);
        }
        jsonw_put(w, "]", 1);
        if (view == FORUM_VIEW_STAFF)
            jsonw_kv_str(w, first, "viewer_id", p->erased.placeholder);
        break;
    case PAYLOAD_SESSION:
        jsonw_key(w, first, "session");
        forum_write_session(w, &p->session, view);
        break;
    case PAYLOAD_PROGRAM:
        jsonw_key(w, first, "program");
        forum_write_program(w, &p->program);
        break;
    case PAYLOAD_WEBHOOK:
        jsonw_key(w, first, "webhook");
        forum_write_webhook(w, &p->webhook);
        break;
    }
}

void forum_write_webhook(jsonw *w, const forum_webhook_rec *h)
{
    bool f = true, g = true;
    jsonw_put(w, "{", 1);
    jsonw_kv_int(w, &f, "id", h->id);
    jsonw_kv_int_or_null(w, &f, "program_id", h->program_id);
    jsonw_kv_str_or_null(w, &f, "name", h->name);
    jsonw_kv_str(w, &f, "url", h->url);
    jsonw_kv_str(w, &f, "preset", FORUM_WEBHOOK_PRESET_NAMES[h->preset % FORUM_HOOK__COUNT]);
    jsonw_key(w, &f, "events");
    jsonw_put(w, "[", 1);
    for (int i = 0; i < FORUM_TRIGGER__COUNT; i++)
        if (h->triggers & (1u << i)) {
            if (!g)
                jsonw_put(w, ",", 1);
            g = false;
            jsonw_string(w, FORUM_WEBHOOK_TRIGGER_NAMES[i]);
        }
    jsonw_put(w, "]", 1);
    jsonw_kv_bool(w, &f, "enabled", h->enabled);
    jsonw_kv_bool(w, &f, "signing", h->signing);
    if (h->deleted)
        jsonw_kv_bool(w, &f, "deleted", true);
    jsonw_kv_int(w, &f, "created_at", h->created_at);
    jsonw_kv_int(w, &f, "updated_at", h->updated_at);
    jsonw_put(w, "}", 1);
}

char *forum_event_payload_text(const forum_event *ev, forum_view view)
{
    jsonw w = {0};
    bool first = true;
    jsonw_put(&w, "{", 1);
    forum_event_write_payload(&w, &first, ev, view);
    jsonw_put(&w, "}", 1);
    return jsonw_finish(&w);
}

static void write_strings(jsonw *w, const char *const *list, size_t n)
{
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            jsonw_put(w, ",", 1);
        jsonw_string(w, list[i]);
    }
    jsonw_put(w, "]", 1);
}

bool forum_event_write_secret(jsonw *w, const forum_event *ev)
{
    const forum_secret *s = &ev->secret;
    if (!s->moderator_key_hash[0] && !s->has_undo && !s->undo_clear && !s->webhook_secret &&
        !s->webhook_secret_clear)
        return false;
    bool f = true;
    jsonw_put(w, "{", 1);
    if (s->moderator_key_hash[0])
        jsonw_kv_str(w, &f, "moderator_key_hash", s->moderator_key_hash);
    if (s->webhook_secret)
        jsonw_kv_str(w, &f, "webhook_secret", s->webhook_secret);
    if (s->webhook_secret_clear)
        jsonw_kv_bool(w, &f, "webhook_secret_clear", true);
    if (s->has_undo) {
        const forum_undo_rec *u = &s->undo;
        bool g = true;
        jsonw_key(w, &f, "undo");
        jsonw_put(w, "{", 1);
        jsonw_kv_str(w, &g, "action", FORUM_UNDO_ACTION_NAMES[u->action % UNDO__COUNT]);
        jsonw_key(w, &g, "questions");
        jsonw_put(w, "[", 1);
        for (size_t i = 0; i < u->n_before; i++) {
            if (i)
                jsonw_put(w, ",", 1);
            forum_write_question(w, &u->before[i], FORUM_VIEW_STAFF, false);
        }
        jsonw_put(w, "]", 1);
        jsonw_key(w, &g, "after");
        jsonw_put(w, "[", 1);
        for (size_t i = 0; i < u->n_after; i++) {
            bool h = true;
            jsonw_put(w, i ? ",{" : "{", i ? 2 : 1);
            jsonw_kv_int(w, &h, "id", u->after[i].id);
            jsonw_kv_str(w, &h, "state", FORUM_QSTATE_NAMES[u->after[i].state % Q__COUNT]);
            jsonw_put(w, "}", 1);
        }
        jsonw_put(w, "]", 1);
        if (u->has_air) {
            jsonw_kv_int(w, &g, "air_before", u->air_before);
            jsonw_kv_int(w, &g, "air_after", u->air_after);
        }
        if (u->has_merge) {
            bool h = true;
            jsonw_key(w, &g, "merge");
            jsonw_put(w, "{", 1);
            jsonw_kv_int(w, &h, "from", u->merge_from);
            jsonw_kv_int(w, &h, "into", u->merge_into);
            jsonw_key(w, &h, "voters");
            write_strings(w, u->voters, u->n_voters);
            jsonw_key(w, &h, "moved");
            write_strings(w, u->moved, u->n_moved);
            jsonw_put(w, "}", 1);
        }
        jsonw_put(w, "}", 1);
    }
    if (s->undo_clear)
        jsonw_kv_bool(w, &f, "undo_clear", true);
    jsonw_put(w, "}", 1);
    return true;
}

/* ---- decoding (stored payloads are untrusted: every accessor checks types) ---------------- */

#define MAX_SAFE_INT 9007199254740991.0

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool is_integral(const cJSON *v, double min)
{
    return cJSON_IsNumber(v) && v->valuedouble >= min && v->valuedouble <= MAX_SAFE_INT &&
           v->valuedouble == (double)(int64_t)v->valuedouble;
}

/* Integral JSON number > 0 -> *out. false if missing or not one. */
static bool get_id(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = get(o, k);
    if (!is_integral(v, 1))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* Integral number (any sign), or null/missing -> 0. false if present with another type. */
static bool get_int_or_null(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = get(o, k);
    *out = 0;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!is_integral(v, -MAX_SAFE_INT))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* String copied into a, or null/missing -> NULL with true. false if another type or OOM. */
static bool get_str_or_null(forum_arena *a, const cJSON *o, const char *k, const char **out)
{
    const cJSON *v = get(o, k);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v))
        return false;
    return (*out = forum_arena_strdup(a, v->valuestring)) != NULL;
}

/* Required string copied into a. */
static bool get_str(forum_arena *a, const cJSON *o, const char *k, const char **out)
{
    const cJSON *v = get(o, k);
    if (!cJSON_IsString(v))
        return false;
    return (*out = forum_arena_strdup(a, v->valuestring)) != NULL;
}

/* Boolean, missing -> dflt. false if present with another type. */
static bool get_bool(const cJSON *o, const char *k, bool dflt, bool *out)
{
    const cJSON *v = get(o, k);
    if (!v) {
        *out = dflt;
        return true;
    }
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

/* One of names (required when required, else missing -> dflt). */
static bool get_enum(const cJSON *o, const char *k, const char *const *names, int n, bool required,
                     int dflt, uint8_t *out)
{
    const cJSON *v = get(o, k);
    if (!v && !required) {
        *out = (uint8_t)dflt;
        return true;
    }
    int i = cJSON_IsString(v) ? forum_name_index(names, n, v->valuestring) : -1;
    if (i < 0)
        return false;
    *out = (uint8_t)i;
    return true;
}

/* Array of ids (each >= 1) into a; a missing array is an error unless optional. */
static bool get_ids(forum_arena *a, const cJSON *o, const char *k, bool optional,
                    const int64_t **ids, size_t *n)
{
    const cJSON *arr = get(o, k), *it;
    *ids = NULL;
    *n = 0;
    if (!arr && optional)
        return true;
    if (!cJSON_IsArray(arr))
        return false;
    int count = cJSON_GetArraySize(arr);
    if (count == 0)
        return true;
    int64_t *out = forum_arena_alloc(a, (size_t)count * sizeof *out);
    if (!out)
        return false;
    cJSON_ArrayForEach (it, arr) {
        if (!is_integral(it, 1))
            return false;
        out[(*n)++] = (int64_t)it->valuedouble;
    }
    *ids = out;
    return true;
}

static bool get_strings(forum_arena *a, const cJSON *arr, const char *const **out, size_t *n)
{
    const cJSON *it;
    *out = NULL;
    *n = 0;
    if (!arr)
        return true;
    if (!cJSON_IsArray(arr))
        return false;
    int count = cJSON_GetArraySize(arr);
    if (count == 0)
        return true;
    const char **list = forum_arena_alloc(a, (size_t)count * sizeof *list);
    if (!list)
        return false;
    cJSON_ArrayForEach (it, arr) {
        if (!cJSON_IsString(it) || !(list[*n] = forum_arena_strdup(a, it->valuestring)))
            return false;
        (*n)++;
    }
    *out = list;
    return true;
}

static bool decode_question(forum_arena *a, const cJSON *o, forum_question_rec *q)
{
    const char *phase = NULL;
    memset(q, 0, sizeof *q);
    if (!cJSON_IsObject(o) || !get_id(o, "id", &q->id) || !get_str(a, o, "text", &q->text) ||
        !get_str_or_null(a, o, "session", &q->session) ||
        !get_str_or_null(a, o, "author", &q->author) || !get_int_or_null(o, "to", &q->to) ||
        !get_int_or_null(o, "parent_id", &q->parent_id) ||
        !get_int_or_null(o, "created_at", &q->created_at) ||
        !get_int_or_null(o, "merged_into", &q->merged_into) ||
        !get_int_or_null(o, "carried_question_id", &q->carried_question_id) ||
        q->carried_question_id < 0 || !get_int_or_null(o, "votes", &q->votes) ||
        !get_str_or_null(a, o, "answer_note", &q->answer_note) ||
        !get_str_or_null(a, o, "carried_from", &q->carried_from) ||
        !get_str_or_null(a, o, "viewer_id", &q->viewer_id) ||
        !get_str_or_null(a, o, "external_ref", &q->external_ref) ||
        !get_bool(o, "starred", false, &q->starred) ||
        !get_enum(o, "state", FORUM_QSTATE_NAMES, Q__COUNT, true, 0, &q->state) ||
        !get_enum(o, "category", FORUM_CATEGORY_NAMES, FORUM_CAT__COUNT, false, 0, &q->category) ||
        !get_enum(o, "source", FORUM_SOURCE_NAMES, FORUM_SRC__COUNT, false, 0, &q->source) ||
        !get_enum(o, "carried_source", FORUM_SOURCE_NAMES, FORUM_SRC__COUNT, false,
                  FORUM_SRC_CARRIED, &q->carried_source) ||
        !get_str_or_null(a, o, "dismiss_reason", &q->dismiss_reason) ||
        !get_str_or_null(a, o, "held_for", &q->held_for) ||
        !get_str_or_null(a, o, "phase", &phase))
        return false;
    if (q->viewer_id && strlen(q->viewer_id) >= FORUM_VIEWER_ID_MAX)
        return false;
    q->live_phase = phase && strcmp(phase, "live") == 0;
    return true;
}

static bool decode_questions(forum_arena *a, const cJSON *arr, const forum_question_rec **out,
                             size_t *n)
{
    const cJSON *it;
    *out = NULL;
    *n = 0;
    if (!arr)
        return true;
    if (!cJSON_IsArray(arr))
        return false;
    int count = cJSON_GetArraySize(arr);
    if (count == 0)
        return true;
    forum_question_rec *list = forum_arena_alloc(a, (size_t)count * sizeof *list);
    if (!list)
        return false;
    cJSON_ArrayForEach (it, arr) {
        if (!decode_question(a, it, &list[*n]))
            return false;
        (*n)++;
    }
    *out = list;
    return true;
}

/* The stream setting: absent (events written before it existed) or null is none; else
 * {"kind":"hls"|"embed","url"} with a URL of the accepted form. The host allowlists are the
 * configuration's, checked when the setting is made, not here: a database replays whatever
 * they are now (the viewer page leaves out a stream whose host is no longer allowed). */
static bool decode_stream(forum_arena *a, const cJSON *o, forum_session_rec *s)
{
    forum_url u;
    s->stream_kind = FORUM_STREAM_NONE;
    s->stream_url = NULL;
    if (!o || cJSON_IsNull(o))
        return true;
    if (!cJSON_IsObject(o) ||
        !get_enum(o, "kind", FORUM_STREAM_KIND_NAMES, FORUM_STREAM__COUNT, true, 0,
                  &s->stream_kind) ||
        s->stream_kind == FORUM_STREAM_NONE || !get_str(a, o, "url", &s->stream_url))
        return false;
    return forum_url_parse(s->stream_url, &u) == NULL;
}

static bool decode_session(forum_arena *a, const cJSON *o, forum_session_rec *s)
{
    int64_t rate;
    const cJSON *arr, *it;
    memset(s, 0, sizeof *s);
    if (!cJSON_IsObject(o) || !get_str(a, o, "code", &s->code) ||
        strlen(s->code) >= FORUM_CODE_MAX || !get_id(o, "program_id", &s->program_id) ||
        !get_str_or_null(a, o, "program", &s->program) || !get_str(a, o, "title", &s->title) ||
        !get_str_or_null(a, o, "topic", &s->topic) ||
        !get_enum(o, "status", FORUM_STATUS_NAMES, S__COUNT, true, 0, &s->status) ||
        !get_bool(o, "premoderation", false, &s->premoderation) ||
        !get_bool(o, "anonymous_allowed", true, &s->anonymous_allowed) ||
        !get_int_or_null(o, "scheduled_at", &s->scheduled_at) ||
        !get_int_or_null(o, "started_at", &s->started_at) ||
        !get_int_or_null(o, "ended_at", &s->ended_at) ||
        !get_int_or_null(o, "question_rate_per_min", &rate) || rate < 0 || rate > 1000000)
        return false;
    s->question_rate_per_min = (int)rate;
    arr = get(o, "panelists");
    if (arr && !cJSON_IsArray(arr))
        return false;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        forum_panelist_rec *ps = forum_arena_alloc(a, (size_t)cJSON_GetArraySize(arr) * sizeof *ps);
        if (!ps)
            return false;
        cJSON_ArrayForEach (it, arr) {
            forum_panelist_rec *p = &ps[s->n_panelists++];
            if (!cJSON_IsObject(it) || !get_id(it, "id", &p->id) ||
                !get_str(a, it, "name", &p->name) ||
                !get_str_or_null(a, it, "affiliation", &p->affiliation) ||
                !get_str_or_null(a, it, "role", &p->role))
                return false;
        }
        s->panelists = ps;
    }
    arr = get(o, "segments");
    if (arr && !cJSON_IsArray(arr))
        return false;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        forum_segment_rec *sg = forum_arena_alloc(a, (size_t)cJSON_GetArraySize(arr) * sizeof *sg);
        if (!sg)
            return false;
        cJSON_ArrayForEach (it, arr) {
            forum_segment_rec *g = &sg[s->n_segments++];
            if (!cJSON_IsObject(it) || !get_id(it, "id", &g->id) ||
                !get_str(a, it, "title", &g->title))
                return false;
        }
        s->segments = sg;
    }
    return get_strings(a, get(o, "blocked_words"), &s->blocked_words, &s->n_blocked_words) &&
           decode_stream(a, get(o, "stream"), s);
}

static bool decode_poll(forum_arena *a, const cJSON *o, forum_poll_rec *p)
{
    const cJSON *opts = get(o, "options"), *it;
    memset(p, 0, sizeof *p);
    if (!cJSON_IsObject(o) || !get_id(o, "id", &p->id) || !get_str(a, o, "title", &p->title) ||
        !get_enum(o, "state", FORUM_POLL_STATE_NAMES, P__COUNT, true, 0, &p->state) ||
        !cJSON_IsArray(opts) || !get_bool(o, "multi", false, &p->multi))
        return false;
    int n = cJSON_GetArraySize(opts);
    if (n < 1 || n > 62)
        return false;
    const char **texts = forum_arena_alloc(a, (size_t)n * sizeof *texts);
    int64_t *counts = forum_arena_alloc(a, (size_t)n * sizeof *counts);
    if (!texts || !counts)
        return false;
    cJSON_ArrayForEach (it, opts) {
        if (!get_str(a, it, "text", &texts[p->n_options]) ||
            !get_int_or_null(it, "votes", &counts[p->n_options]))
            return false;
        p->n_options++;
    }
    p->options = texts;
    p->counts = counts;
    return true;
}

/* One of names, or null/missing -> dflt. */
static bool get_enum_or_null(const cJSON *o, const char *k, const char *const *names, int n,
                             int dflt, uint8_t *out)
{
    const cJSON *v = get(o, k);
    if (v && cJSON_IsNull(v)) {
        *out = (uint8_t)dflt;
        return true;
    }
    return get_enum(o, k, names, n, false, dflt, out);
}

static bool decode_action(forum_arena *a, const cJSON *o, forum_action_rec *r)
{
    memset(r, 0, sizeof *r);
    return cJSON_IsObject(o) && get_id(o, "id", &r->id) && get_str(a, o, "session", &r->session) &&
           get_str(a, o, "text", &r->text) &&
           get_enum(o, "status", FORUM_ACTION_STATUS_NAMES, FORUM_ACTION__COUNT, true, 0,
                    &r->status) &&
           get_int_or_null(o, "question_id", &r->question_id) && r->question_id >= 0 &&
           get_int_or_null(o, "follows_action_id", &r->follows_action_id) &&
           r->follows_action_id >= 0 && get_str_or_null(a, o, "owner", &r->owner) &&
           get_str_or_null(a, o, "due", &r->due) &&
           get_int_or_null(o, "created_at", &r->created_at) &&
           get_int_or_null(o, "updated_at", &r->updated_at) &&
           get_str_or_null(a, o, "reason", &r->reason) && get_str_or_null(a, o, "note", &r->note) &&
           get_int_or_null(o, "promised_by", &r->promised_by) && r->promised_by >= 0 &&
           get_enum_or_null(o, "publication", FORUM_PUBLICATION_NAMES, FORUM_PUB__COUNT,
                            FORUM_PUB_AUTO, &r->publication) &&
           get_bool(o, "published", false, &r->published);
}

static bool decode_rating(forum_arena *a, const cJSON *o, forum_rating_rec *r)
{
    memset(r, 0, sizeof *r);
    if (!cJSON_IsObject(o) || !get_id(o, "id", &r->id) ||
        !get_str(a, o, "session", &r->session) ||
        !get_int_or_null(o, "question_id", &r->question_id) ||
        !get_int_or_null(o, "action_id", &r->action_id) ||
        !get_enum(o, "value", FORUM_RATING_NAMES, FORUM_RATING__COUNT, true, 0, &r->value) ||
        !get_str_or_null(a, o, "comment", &r->comment) ||
        !get_enum_or_null(o, "comment_state", FORUM_COMMENT_STATE_NAMES, FORUM_COMMENT__COUNT,
                          FORUM_COMMENT_NONE, &r->comment_state) ||
        !get_int_or_null(o, "created_at", &r->created_at) ||
        !get_int_or_null(o, "updated_at", &r->updated_at) ||
        !get_str_or_null(a, o, "viewer_id", &r->viewer_id))
        return false;
    /* exactly one target; a comment has a moderation state and only then */
    return (r->question_id > 0) != (r->action_id > 0) && r->question_id >= 0 &&
           r->action_id >= 0 && strlen(r->session) < FORUM_CODE_MAX &&
           (!r->viewer_id || strlen(r->viewer_id) < FORUM_VIEWER_ID_MAX) &&
           (r->comment != NULL) == (r->comment_state != FORUM_COMMENT_NONE);
}

static bool decode_rating_counts(forum_arena *a, const cJSON *o, forum_payload *p)
{
    const cJSON *arr = get(o, "ratings"), *it;
    if (!cJSON_IsArray(arr))
        return false;
    int n = cJSON_GetArraySize(arr);
    forum_rating_count *items = n ? forum_arena_alloc(a, (size_t)n * sizeof *items) : NULL;
    if (n && !items)
        return false;
    size_t k = 0;
    cJSON_ArrayForEach (it, arr) {
        forum_rating_count *c = &items[k];
        memset(c, 0, sizeof *c);
        if (!cJSON_IsObject(it) || !get_int_or_null(it, "question_id", &c->question_id) ||
            !get_int_or_null(it, "action_id", &c->action_id) ||
            (c->question_id > 0) == (c->action_id > 0) || c->question_id < 0 || c->action_id < 0)
            return false;
        for (int i = 0; i < FORUM_RATING__COUNT; i++)
            if (!get_int_or_null(it, FORUM_RATING_NAMES[i], &c->counts[i]) || c->counts[i] < 0)
                return false;
        k++;
    }
    p->ratings.items = items;
    p->ratings.n = k;
    return true;
}

static bool decode_webhook(forum_arena *a, const cJSON *o, forum_webhook_rec *h)
{
    const cJSON *events = get(o, "events"), *it;
    memset(h, 0, sizeof *h);
    if (!cJSON_IsObject(o) || !get_id(o, "id", &h->id) ||
        !get_int_or_null(o, "program_id", &h->program_id) || h->program_id < 0 ||
        !get_str_or_null(a, o, "name", &h->name) || !get_str(a, o, "url", &h->url) ||
        !get_enum(o, "preset", FORUM_WEBHOOK_PRESET_NAMES, FORUM_HOOK__COUNT, true, 0,
                  &h->preset) ||
        !get_bool(o, "enabled", true, &h->enabled) || !get_bool(o, "signing", false, &h->signing) ||
        !get_bool(o, "deleted", false, &h->deleted) ||
        !get_int_or_null(o, "created_at", &h->created_at) ||
        !get_int_or_null(o, "updated_at", &h->updated_at) || !cJSON_IsArray(events))
        return false;
    cJSON_ArrayForEach (it, events) {
        int i = cJSON_IsString(it) ? forum_name_index(FORUM_WEBHOOK_TRIGGER_NAMES,
                                                      FORUM_TRIGGER__COUNT, it->valuestring)
                                   : -1;
        if (i < 0)
            return false;
        h->triggers |= 1u << i;
    }
    return true;
}

static bool decode_counts(forum_arena *a, const cJSON *o, forum_payload *p)
{
    const cJSON *counts = get(o, "counts"), *it;
    if (!cJSON_IsObject(counts))
        return false;
    int n = cJSON_GetArraySize(counts);
    forum_count *items = n ? forum_arena_alloc(a, (size_t)n * sizeof *items) : NULL;
    if (n && !items)
        return false;
    size_t k = 0;
    cJSON_ArrayForEach (it, counts) {
        char *end;
        long long id = strtoll(it->string, &end, 10);
        if (*end || id <= 0 || !is_integral(it, -MAX_SAFE_INT))
            return false;
        items[k].id = id;
        items[k++].count = (int64_t)it->valuedouble;
    }
    p->counts.items = items;
    p->counts.n = k;
    return true;
}

static bool decode_payload(forum_event *ev, const cJSON *o)
{
    forum_arena *a = &ev->arena;
    forum_payload *p = &ev->p;
    if (!cJSON_IsObject(o))
        return false;
    switch (KINDS[ev->kind].payload) {
    case PAYLOAD_QUESTION: {
        const cJSON *into = get(o, "into");
        bool undo, restored;
        if (!decode_question(a, get(o, "question"), &p->question.q) ||
            !get_str_or_null(a, o, "reason", &p->question.reason) ||
            !get_bool(o, "undo", false, &undo) || !get_bool(o, "restored", false, &restored))
            return false;
        p->question.undo = undo;
        p->question.restored = restored;
        if (into) {
            if (!decode_question(a, into, &p->question.into))
                return false;
            p->question.has_into = true;
        }
        return ev->kind != FORUM_EV_QUESTION_MERGED || p->question.has_into;
    }
    case PAYLOAD_VOTE:
        return get_id(o, "question_id", &p->question_id);
    case PAYLOAD_ONAIR:
        return get_int_or_null(o, "question_id", &p->question_id) && p->question_id >= 0;
    case PAYLOAD_COUNTS:
        return decode_counts(a, o, p);
    case PAYLOAD_QUEUE:
        return get_ids(a, o, "up_next", false, &p->queue.ids, &p->queue.n);
    case PAYLOAD_PANEL: {
        const cJSON *po = get(o, "panel");
        return cJSON_IsObject(po) && get_int_or_null(po, "segment_id", &p->panel.segment_id) &&
               p->panel.segment_id >= 0 &&
               get_ids(a, po, "speaker_ids", false, &p->panel.speaker_ids,
                       &p->panel.n_speaker_ids) &&
               get_str_or_null(a, po, "banner", &p->panel.banner) &&
               get_int_or_null(po, "on_air", &p->panel.on_air) && p->panel.on_air >= 0 &&
               get_ids(a, po, "up_next", true, &p->panel.up_next, &p->panel.n_up_next);
    }
    case PAYLOAD_POLL:
        return decode_poll(a, get(o, "poll"), &p->poll);
    case PAYLOAD_BALLOT:
        return get_id(o, "poll_id", &p->ballot.poll_id) &&
               get_ids(a, o, "option_ids", false, &p->ballot.option_ids, &p->ballot.n);
    case PAYLOAD_VIEWER:
        return get_str(a, o, "viewer_id", &p->viewer_id) && p->viewer_id[0] &&
               strlen(p->viewer_id) < FORUM_VIEWER_ID_MAX;
    case PAYLOAD_ACTION:
        return decode_action(a, get(o, "action"), &p->action);
    case PAYLOAD_PEAK:
        return get_int_or_null(o, "viewers", &p->viewers) && p->viewers >= 0;
    case PAYLOAD_ERASED:
        return get_str(a, o, "viewer_id", &p->erased.placeholder) && p->erased.placeholder[0] &&
               strlen(p->erased.placeholder) < FORUM_VIEWER_ID_MAX &&
               decode_questions(a, get(o, "questions"), &p->erased.questions, &p->erased.n);
    case PAYLOAD_SESSION:
        return decode_session(a, get(o, "session"), &p->session) &&
               strcmp(p->session.code, ev->session) == 0;
    case PAYLOAD_PROGRAM: {
        const cJSON *po = get(o, "program");
        bool listed;
        if (!cJSON_IsObject(po) || !get_id(po, "id", &p->program.id) ||
            !get_str(a, po, "title", &p->program.title) ||
            !get_str_or_null(a, po, "description", &p->program.description) ||
            !get_bool(po, "listed", true, &listed))
            return false;
        p->program.unlisted = !listed;
        return true;
    }
    case PAYLOAD_WEBHOOK:
        return decode_webhook(a, get(o, "webhook"), &p->webhook);
    case PAYLOAD_RATING:
        return decode_rating(a, get(o, "rating"), &p->rating);
    case PAYLOAD_RATING_COUNTS:
        return decode_rating_counts(a, o, p);
    }
    return false;
}

static bool decode_undo(forum_arena *a, const cJSON *o, forum_undo_rec *u)
{
    const cJSON *after = get(o, "after"), *merge = get(o, "merge"), *it;
    memset(u, 0, sizeof *u);
    if (!cJSON_IsObject(o) ||
        !get_enum(o, "action", FORUM_UNDO_ACTION_NAMES, UNDO__COUNT, true, 0, &u->action) ||
        !decode_questions(a, get(o, "questions"), &u->before, &u->n_before) ||
        (after && !cJSON_IsArray(after)))
        return false;
    int n = after ? cJSON_GetArraySize(after) : 0;
    if (n > 0) {
        forum_undo_after *list = forum_arena_alloc(a, (size_t)n * sizeof *list);
        if (!list)
            return false;
        cJSON_ArrayForEach (it, after) {
            forum_undo_after *x = &list[u->n_after++];
            if (!get_id(it, "id", &x->id) ||
                !get_enum(it, "state", FORUM_QSTATE_NAMES, Q__COUNT, true, 0, &x->state))
                return false;
        }
        u->after = list;
    }
    if (get(o, "air_after")) {
        u->has_air = true;
        if (!get_int_or_null(o, "air_before", &u->air_before) ||
            !get_int_or_null(o, "air_after", &u->air_after))
            return false;
    }
    if (merge) {
        u->has_merge = true;
        if (!get_id(merge, "from", &u->merge_from) || !get_id(merge, "into", &u->merge_into) ||
            !get_strings(a, get(merge, "voters"), &u->voters, &u->n_voters) ||
            !get_strings(a, get(merge, "moved"), &u->moved, &u->n_moved))
            return false;
    }
    return true;
}

static bool decode_secret(forum_event *ev, const cJSON *o)
{
    forum_secret *s = &ev->secret;
    const cJSON *hash = get(o, "moderator_key_hash"), *undo = get(o, "undo");
    if (!cJSON_IsObject(o) || !get_str_or_null(&ev->arena, o, "webhook_secret", &s->webhook_secret))
        return false;
    s->webhook_secret_clear = cJSON_IsTrue(get(o, "webhook_secret_clear"));
    if (hash) {
        if (!cJSON_IsString(hash) || strlen(hash->valuestring) != 64)
            return false;
        memcpy(s->moderator_key_hash, hash->valuestring, 65);
    }
    if (cJSON_IsObject(undo)) {
        if (!decode_undo(&ev->arena, undo, &s->undo))
            return false;
        s->has_undo = true;
    }
    s->undo_clear = cJSON_IsTrue(get(o, "undo_clear"));
    return true;
}

int forum_event_decode(forum_event *ev, const cJSON *payload, const cJSON *secret)
{
    memset(&ev->p, 0, sizeof ev->p);
    memset(&ev->secret, 0, sizeof ev->secret);
    if ((unsigned)ev->kind >= FORUM_EV__COUNT || !decode_payload(ev, payload) ||
        (secret && !cJSON_IsNull(secret) && !decode_secret(ev, secret))) {
        forum_event_clear(ev);
        return -1;
    }
    return 0;
}

int forum_event_decode_text(forum_event *ev, const char *payload_text, size_t payload_len,
                            const char *secret_text, size_t secret_len)
{
    cJSON *p = cJSON_ParseWithLength(payload_text, payload_len);
    cJSON *s = secret_text ? cJSON_ParseWithLength(secret_text, secret_len) : NULL;
    int rc = -1;
    if (p && (!secret_text || s))
        rc = forum_event_decode(ev, p, s);
    cJSON_Delete(p);
    cJSON_Delete(s);
    return rc;
}
