/* forum.c — the domain core (see forum.h). Owns the in-memory state of every programme,
 * session, panel, question, vote, poll, ban and undo record, the rules that turn a validated
 * command into events, and the single event-application path (apply_event) that both
 * forum_apply and forum_replay use, so live state and replayed state cannot drift apart.
 *
 * Event sourcing: forum_apply validates a command against the state, then builds its events one
 * at a time; each event is applied through apply_event before the next is built, so later
 * events in a batch see the effect of earlier ones. Every state change is carried by an event
 * payload (or its secret), never by the command. Pure: no I/O, no globals. */
#include "forum.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "utf8.h"

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                      */

enum { Q_PENDING, Q_PUBLISHED, Q_ON_AIR, Q_ANSWERED, Q_DISMISSED, Q_WITHDRAWN, Q__COUNT };
enum { S_DRAFT, S_OPEN, S_LIVE, S_ENDED, S_ARCHIVED, S__COUNT };
enum { P_DRAFT, P_OPEN, P_CLOSED, P__COUNT };

static const char *const QSTATE_NAMES[] = {"pending",  "published", "on_air",
                                           "answered", "dismissed", "withdrawn"};
static const char *const STATUS_NAMES[] = {"draft", "open", "live", "ended", "archived"};
static const char *const PSTATE_NAMES[] = {"draft", "open", "closed"};
static const char *const CATEGORY_NAMES[] = {"question", "need", "suggestion"};
static const char *const SOURCE_NAMES[] = {"web", "phone", "paper", "visit", "carried"};
static const char *const ACTION_STATUS_NAMES[] = {"open", "in_progress", "done"};

#define DEFAULT_QUESTION_RATE 6
#define JOIN_CODE_LEN 6
#define MODERATOR_KEY_LEN 24

/* Index of s in names[0..n), or -1. */
static int name_index(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Small containers: growable arrays, hash sets and maps (open addressing, linear probing)    */

/* Ensures *arr has room for need elements of size elem. Returns 0 or -1 (arr unchanged). */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
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

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return mix64(h);
}

/* Set of positive int64 keys; 0 marks an empty slot, -1 a deleted one. */
typedef struct iset {
    int64_t *keys;
    size_t cap, len, used; /* used = len + tombstones */
} iset;

#define ISET_EMPTY 0
#define ISET_DELETED (-1)

static bool iset_has(const iset *s, int64_t k)
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

/* Adds k (> 0). Returns 1 if added, 0 if already present, -1 on allocation failure. */
static int iset_add(iset *s, int64_t k)
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

/* Removes k. Returns true if it was present. */
static bool iset_remove(iset *s, int64_t k)
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

static void iset_free(iset *s)
{
    free(s->keys);
    memset(s, 0, sizeof *s);
}

/* Map from positive int64 keys to int64 values; no deletion. */
typedef struct imap {
    int64_t *keys;
    int64_t *vals;
    size_t cap, len;
} imap;

static int64_t *imap_get(const imap *m, int64_t k)
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

static int imap_put(imap *m, int64_t k, int64_t v)
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

/* Appends item to a global table (array plus id -> position index) and keeps *next_id past
 * id. Returns 0, or -1 with nothing registered. Callers grow any per-session array first. */
static int table_add(void ***items, size_t *n, size_t *cap, imap *index, int64_t id, void *item,
                     int64_t *next_id)
{
    if (grow((void **)items, cap, *n + 1, sizeof **items) < 0 ||
        imap_put(index, id, (int64_t)*n) < 0)
        return -1;
    (*items)[(*n)++] = item;
    if (id >= *next_id)
        *next_id = id + 1;
    return 0;
}

static void imap_free(imap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Map from strings (copied) to int64 values; no deletion. */
typedef struct smap {
    char **keys;
    int64_t *vals;
    size_t cap, len;
} smap;

static int64_t *smap_get(const smap *m, const char *k)
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

static int smap_put(smap *m, const char *k, int64_t v)
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

static void smap_free(smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* strdup that passes NULL through. */
static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Replaces *dst with a copy of src (NULL clears). Returns 0 or -1 (dst unchanged). */
static int set_str(char **dst, const char *src)
{
    char *copy = NULL;
    if (src && !(copy = strdup(src)))
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* State                                                                                      */

typedef struct session session;

typedef struct question {
    int64_t id;
    session *session;
    char *text, *author, *answer_note, *carried_from;
    forum_category category;
    forum_source source;
    int64_t to, parent_id, created_at, merged_into;
    int64_t carried_question_id; /* carried: the source question's id in carried_from, else 0 */
    int state;
    bool live_phase, starred, dirty;
    char viewer_id[FORUM_VIEWER_ID_MAX]; /* "" for staff submissions */
    iset voters;                         /* viewer index + 1 */
} question;

typedef struct poll {
    int64_t id;
    session *session;
    char *title;
    char **options;
    int64_t *counts;
    size_t n_options;
    bool multi, dirty;
    int state;
    imap ballots; /* viewer index + 1 -> option bit mask (bit i = option id i + 1) */
} poll;

typedef struct panelist {
    int64_t id;
    char *name, *affiliation, *role;
} panelist;

typedef struct segment {
    int64_t id;
    char *title;
} segment;

typedef struct undo_record {
    char actor[FORUM_ACTOR_MAX];
    cJSON *record; /* as carried in the secret of the action's first event */
} undo_record;

/* Session settings: everything session.changed carries. */
typedef struct session_config {
    int64_t program_id;
    char *title, *topic;
    int64_t scheduled_at, started_at, ended_at; /* 0 = null */
    int status;
    bool premoderation, anonymous_allowed;
    char **blocked_words;
    size_t n_blocked_words;
    int question_rate_per_min;
    panelist *panelists;
    size_t n_panelists;
    segment *segments;
    size_t n_segments;
} session_config;

struct session {
    char code[FORUM_CODE_MAX];
    session_config cfg;
    char key_hash[65];
    /* panel */
    int64_t segment_id; /* 0 = null */
    int64_t *speaker_ids;
    size_t n_speaker_ids;
    char *banner;
    int64_t on_air; /* 0 = null */
    int64_t *up_next;
    size_t n_up_next, cap_up_next;
    /* content */
    question **questions;
    size_t n_questions, cap_questions;
    poll **polls;
    size_t n_polls, cap_polls;
    iset bans;           /* viewer index + 1 */
    smap submits;        /* "<viewer or actor>\x1f<request id>" -> question id */
    undo_record *undos;
    size_t n_undos, cap_undos;
    int64_t *dirty_questions; /* ids whose vote count changed since the last votes.changed */
    size_t n_dirty_questions, cap_dirty_questions;
    int64_t seq;
    int64_t peak_viewers; /* highest concurrent viewer count recorded (viewers.peak) */
};

/* An action item: a commitment made on air, followed up across the programme's sessions. */
typedef struct action_item {
    int64_t id;
    session *session; /* the session it was made in */
    int64_t question_id; /* 0 = not linked to a question */
    char *text, *owner, *due; /* owner, due ("YYYY-MM-DD") may be NULL */
    int status;               /* forum_action_status */
    int64_t created_at, updated_at;
} action_item;

typedef struct program {
    int64_t id;
    char *title, *description;
} program;

typedef struct viewer {
    char id[FORUM_VIEWER_ID_MAX];
    iset votes; /* question ids */
} viewer;

struct forum_state {
    forum_limits limits;
    program *programs;
    size_t n_programs, cap_programs;
    session **sessions;
    size_t n_sessions, cap_sessions;
    smap session_index; /* code -> index in sessions */
    question **questions;
    size_t n_questions, cap_questions;
    imap question_index; /* id -> index in questions */
    poll **polls;
    size_t n_polls, cap_polls;
    imap poll_index;
    viewer *viewers;
    size_t n_viewers, cap_viewers;
    smap viewer_index; /* viewer id -> index in viewers */
    int64_t next_question_id, next_poll_id, next_program_id;
    int64_t studio_seq;
    action_item **actions;
    size_t n_actions, cap_actions;
    imap action_index; /* id -> index in actions */
    int64_t next_action_id;
};

void forum_limits_default(forum_limits *out)
{
    out->question_max_chars = 500;
    out->name_max_chars = 40;
    out->title_max_chars = 200;
    out->note_max_chars = 2000;
    out->max_panelists = 20;
    out->max_segments = 30;
    out->max_poll_options = 10;
    out->max_queue = 100;
    out->max_blocked_words = 200;
    out->questions_per_session = 20000;
}

forum_state *forum_new(const forum_limits *limits)
{
    forum_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (limits)
        st->limits = *limits;
    else
        forum_limits_default(&st->limits);
    st->next_question_id = st->next_poll_id = st->next_program_id = st->next_action_id = 1;
    return st;
}

static void config_free(session_config *c)
{
    free(c->title);
    free(c->topic);
    for (size_t i = 0; i < c->n_blocked_words; i++)
        free(c->blocked_words[i]);
    free(c->blocked_words);
    for (size_t i = 0; i < c->n_panelists; i++) {
        free(c->panelists[i].name);
        free(c->panelists[i].affiliation);
        free(c->panelists[i].role);
    }
    free(c->panelists);
    for (size_t i = 0; i < c->n_segments; i++)
        free(c->segments[i].title);
    free(c->segments);
    memset(c, 0, sizeof *c);
}

static void question_free(question *q)
{
    if (!q)
        return;
    free(q->text);
    free(q->author);
    free(q->answer_note);
    free(q->carried_from);
    iset_free(&q->voters);
    free(q);
}

static void poll_free(poll *p)
{
    if (!p)
        return;
    free(p->title);
    for (size_t i = 0; i < p->n_options; i++)
        free(p->options[i]);
    free(p->options);
    free(p->counts);
    imap_free(&p->ballots);
    free(p);
}

static void action_free(action_item *a)
{
    if (!a)
        return;
    free(a->text);
    free(a->owner);
    free(a->due);
    free(a);
}

static void session_free(session *s)
{
    if (!s)
        return;
    config_free(&s->cfg);
    free(s->speaker_ids);
    free(s->banner);
    free(s->up_next);
    free(s->questions); /* the questions themselves are owned by forum_state */
    free(s->polls);
    iset_free(&s->bans);
    smap_free(&s->submits);
    for (size_t i = 0; i < s->n_undos; i++)
        cJSON_Delete(s->undos[i].record);
    free(s->undos);
    free(s->dirty_questions);
    free(s);
}

void forum_free(forum_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n_programs; i++) {
        free(st->programs[i].title);
        free(st->programs[i].description);
    }
    free(st->programs);
    for (size_t i = 0; i < st->n_sessions; i++)
        session_free(st->sessions[i]);
    free(st->sessions);
    smap_free(&st->session_index);
    for (size_t i = 0; i < st->n_questions; i++)
        question_free(st->questions[i]);
    free(st->questions);
    imap_free(&st->question_index);
    for (size_t i = 0; i < st->n_polls; i++)
        poll_free(st->polls[i]);
    free(st->polls);
    imap_free(&st->poll_index);
    for (size_t i = 0; i < st->n_viewers; i++)
        iset_free(&st->viewers[i].votes);
    free(st->viewers);
    smap_free(&st->viewer_index);
    for (size_t i = 0; i < st->n_actions; i++)
        action_free(st->actions[i]);
    free(st->actions);
    imap_free(&st->action_index);
    free(st);
}

void forum_command_free(forum_command *cmd)
{
    if (!cmd)
        return;
    free(cmd->id);
    free(cmd->session);
    free(cmd->token);
    free(cmd->name);
    free(cmd->viewer_id);
    free(cmd->text);
    free(cmd->author);
    free(cmd->reason);
    free(cmd->note);
    free(cmd->ids);
    free(cmd->speaker_ids);
    free(cmd->banner);
    free(cmd->title);
    for (size_t i = 0; i < cmd->n_options; i++)
        free(cmd->options[i]);
    free(cmd->options);
    free(cmd->description);
    free(cmd->topic);
    for (size_t i = 0; i < cmd->n_panelists; i++) {
        free(cmd->panelists[i].name);
        free(cmd->panelists[i].affiliation);
        free(cmd->panelists[i].role);
    }
    free(cmd->panelists);
    for (size_t i = 0; i < cmd->n_segments; i++)
        free(cmd->segments[i]);
    free(cmd->segments);
    for (size_t i = 0; i < cmd->n_blocked_words; i++)
        free(cmd->blocked_words[i]);
    free(cmd->blocked_words);
    free(cmd->owner);
    free(cmd->due);
    free(cmd->from_session);
    free(cmd->to_session);
    free(cmd->query);
    free(cmd->state);
    free(cmd->path);
    memset(cmd, 0, sizeof *cmd);
}

void forum_event_clear(forum_event *ev)
{
    if (!ev)
        return;
    cJSON_Delete(ev->payload);
    cJSON_Delete(ev->secret);
    ev->payload = NULL;
    ev->secret = NULL;
}

void forum_result_free(forum_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_events; i++)
        forum_event_clear(&r->events[i]);
    free(r->events);
    cJSON_Delete(r->ack);
    r->events = NULL;
    r->n_events = 0;
    r->ack = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups                                                                                    */

static session *find_session(const forum_state *st, const char *code)
{
    if (!code || !*code)
        return NULL;
    int64_t *idx = smap_get(&st->session_index, code);
    return idx ? st->sessions[*idx] : NULL;
}

static question *find_question(const forum_state *st, int64_t id)
{
    int64_t *idx = imap_get(&st->question_index, id);
    return idx ? st->questions[*idx] : NULL;
}

static poll *find_poll(const forum_state *st, int64_t id)
{
    int64_t *idx = imap_get(&st->poll_index, id);
    return idx ? st->polls[*idx] : NULL;
}

static action_item *find_action(const forum_state *st, int64_t id)
{
    int64_t *idx = imap_get(&st->action_index, id);
    return idx ? st->actions[*idx] : NULL;
}

static program *find_program(const forum_state *st, int64_t id)
{
    for (size_t i = 0; i < st->n_programs; i++)
        if (st->programs[i].id == id)
            return &st->programs[i];
    return NULL;
}

/* Index + 1 of a known viewer id, or 0. */
static int64_t viewer_key(const forum_state *st, const char *viewer_id)
{
    int64_t *idx = viewer_id && *viewer_id ? smap_get(&st->viewer_index, viewer_id) : NULL;
    return idx ? *idx + 1 : 0;
}

/* Index + 1 of viewer_id, registering it if new; 0 on allocation failure or empty id. */
static int64_t viewer_intern(forum_state *st, const char *viewer_id)
{
    if (!viewer_id || !*viewer_id || strlen(viewer_id) >= FORUM_VIEWER_ID_MAX)
        return 0;
    int64_t key = viewer_key(st, viewer_id);
    if (key)
        return key;
    if (grow((void **)&st->viewers, &st->cap_viewers, st->n_viewers + 1, sizeof *st->viewers) < 0)
        return 0;
    viewer *v = &st->viewers[st->n_viewers];
    memset(v, 0, sizeof *v);
    snprintf(v->id, sizeof v->id, "%s", viewer_id);
    if (smap_put(&st->viewer_index, viewer_id, (int64_t)st->n_viewers) < 0)
        return 0;
    st->n_viewers++;
    return (int64_t)st->n_viewers;
}

static bool is_public_state(int state)
{
    return state == Q_PUBLISHED || state == Q_ON_AIR || state == Q_ANSWERED;
}

static bool in_up_next(const session *s, int64_t id)
{
    for (size_t i = 0; i < s->n_up_next; i++)
        if (s->up_next[i] == id)
            return true;
    return false;
}

static bool has_panelist(const session *s, int64_t id)
{
    for (size_t i = 0; i < s->cfg.n_panelists; i++)
        if (s->cfg.panelists[i].id == id)
            return true;
    return false;
}

static bool has_segment(const session *s, int64_t id)
{
    for (size_t i = 0; i < s->cfg.n_segments; i++)
        if (s->cfg.segments[i].id == id)
            return true;
    return false;
}

static undo_record *find_undo(session *s, const char *actor)
{
    for (size_t i = 0; i < s->n_undos; i++)
        if (strcmp(s->undos[i].actor, actor) == 0)
            return &s->undos[i];
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Rendering                                                                                  */

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_int(cJSON *o, const char *k, int64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

/* Adds v, or null when v is 0 (ids and timestamps use 0 for "none"). */
static void add_int_or_null(cJSON *o, const char *k, int64_t v)
{
    if (v)
        add_int(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *id_array(const int64_t *ids, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)ids[i]));
    return a;
}

/* A question object. staff adds viewer_id; mine is the value of "mine". */
static cJSON *question_json(const question *q, bool staff, bool mine)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int(o, "id", q->id);
    cJSON_AddStringToObject(o, "session", q->session->code);
    cJSON_AddStringToObject(o, "text", q->text ? q->text : "");
    add_str_or_null(o, "author", q->author);
    cJSON_AddStringToObject(o, "category", CATEGORY_NAMES[q->category]);
    add_int_or_null(o, "to", q->to);
    add_int_or_null(o, "parent_id", q->parent_id);
    cJSON_AddStringToObject(o, "state", QSTATE_NAMES[q->state]);
    add_int(o, "votes", (int64_t)q->voters.len);
    add_int(o, "created_at", q->created_at);
    cJSON_AddStringToObject(o, "phase", q->live_phase ? "live" : "pre");
    add_str_or_null(o, "answer_note", q->answer_note);
    cJSON_AddBoolToObject(o, "starred", q->starred);
    cJSON_AddBoolToObject(o, "mine", mine);
    cJSON_AddStringToObject(o, "source", SOURCE_NAMES[q->source]);
    add_str_or_null(o, "carried_from", q->carried_from);
    if (q->carried_question_id)
        add_int(o, "carried_question_id", q->carried_question_id);
    add_int_or_null(o, "merged_into", q->merged_into);
    if (staff)
        add_str_or_null(o, "viewer_id", q->viewer_id[0] ? q->viewer_id : NULL);
    return o;
}

/* A poll object; my_mask >= 0 adds a viewer's "my_option_ids". */
static cJSON *poll_json(const poll *p, int64_t my_mask)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int(o, "id", p->id);
    cJSON_AddStringToObject(o, "title", p->title ? p->title : "");
    cJSON *opts = cJSON_AddArrayToObject(o, "options");
    for (size_t i = 0; opts && i < p->n_options; i++) {
        cJSON *opt = cJSON_CreateObject();
        add_int(opt, "id", (int64_t)i + 1);
        cJSON_AddStringToObject(opt, "text", p->options[i]);
        add_int(opt, "votes", p->counts[i]);
        cJSON_AddItemToArray(opts, opt);
    }
    cJSON_AddBoolToObject(o, "multi", p->multi);
    cJSON_AddStringToObject(o, "state", PSTATE_NAMES[p->state]);
    if (my_mask >= 0) {
        cJSON *mine = cJSON_AddArrayToObject(o, "my_option_ids");
        for (size_t i = 0; mine && i < p->n_options; i++)
            if (my_mask & ((int64_t)1 << i))
                cJSON_AddItemToArray(mine, cJSON_CreateNumber((double)i + 1));
    }
    return o;
}

static cJSON *action_json(const action_item *a)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int(o, "id", a->id);
    cJSON_AddStringToObject(o, "session", a->session->code);
    add_int_or_null(o, "question_id", a->question_id);
    cJSON_AddStringToObject(o, "text", a->text ? a->text : "");
    add_str_or_null(o, "owner", a->owner);
    add_str_or_null(o, "due", a->due);
    cJSON_AddStringToObject(o, "status", ACTION_STATUS_NAMES[a->status]);
    add_int(o, "created_at", a->created_at);
    add_int(o, "updated_at", a->updated_at);
    return o;
}

static cJSON *panel_json(const session *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int_or_null(o, "segment_id", s->segment_id);
    cJSON_AddItemToObject(o, "speaker_ids", id_array(s->speaker_ids, s->n_speaker_ids));
    add_str_or_null(o, "banner", s->banner);
    add_int_or_null(o, "on_air", s->on_air);
    cJSON_AddItemToObject(o, "up_next", id_array(s->up_next, s->n_up_next));
    return o;
}

static cJSON *program_json(const program *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int(o, "id", p->id);
    cJSON_AddStringToObject(o, "title", p->title ? p->title : "");
    add_str_or_null(o, "description", p->description);
    return o;
}

/* A session object from code and settings (staff adds blocked_words). */
static cJSON *config_json(const forum_state *st, const char *code, const session_config *c,
                          bool staff)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "code", code);
    add_int(o, "program_id", c->program_id);
    const program *p = find_program(st, c->program_id);
    add_str_or_null(o, "program", p ? p->title : NULL);
    cJSON_AddStringToObject(o, "title", c->title ? c->title : "");
    add_str_or_null(o, "topic", c->topic);
    cJSON_AddStringToObject(o, "status", STATUS_NAMES[c->status]);
    cJSON_AddBoolToObject(o, "premoderation", c->premoderation);
    cJSON_AddBoolToObject(o, "anonymous_allowed", c->anonymous_allowed);
    add_int_or_null(o, "scheduled_at", c->scheduled_at);
    add_int_or_null(o, "started_at", c->started_at);
    add_int_or_null(o, "ended_at", c->ended_at);
    cJSON *pa = cJSON_AddArrayToObject(o, "panelists");
    for (size_t i = 0; pa && i < c->n_panelists; i++) {
        cJSON *x = cJSON_CreateObject();
        add_int(x, "id", c->panelists[i].id);
        cJSON_AddStringToObject(x, "name", c->panelists[i].name);
        add_str_or_null(x, "affiliation", c->panelists[i].affiliation);
        add_str_or_null(x, "role", c->panelists[i].role);
        cJSON_AddItemToArray(pa, x);
    }
    cJSON *sa = cJSON_AddArrayToObject(o, "segments");
    for (size_t i = 0; sa && i < c->n_segments; i++) {
        cJSON *x = cJSON_CreateObject();
        add_int(x, "id", c->segments[i].id);
        cJSON_AddStringToObject(x, "title", c->segments[i].title);
        cJSON_AddItemToArray(sa, x);
    }
    if (staff) {
        cJSON *bw = cJSON_AddArrayToObject(o, "blocked_words");
        for (size_t i = 0; bw && i < c->n_blocked_words; i++)
            cJSON_AddItemToArray(bw, cJSON_CreateString(c->blocked_words[i]));
    }
    add_int(o, "question_rate_per_min", c->question_rate_per_min);
    return o;
}

static cJSON *session_json(const forum_state *st, const session *s, bool staff)
{
    return config_json(st, s->code, &s->cfg, staff);
}

/* ------------------------------------------------------------------------------------------ */
/* Payload parsing (replay input is untrusted: every accessor checks types)                   */

/* Integral JSON number > 0 -> *out. false if missing or not one. */
static bool json_id(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9007199254740991.0 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* Integral number (any sign), or null/missing -> 0. false if present with another type. */
static bool json_int_or_null(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v)) {
        *out = 0;
        return true;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < -9007199254740991.0 ||
        v->valuedouble > 9007199254740991.0 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

/* String, or null/missing -> NULL with true. false if present with another type. */
static bool json_str_or_null(const cJSON *o, const char *k, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v))
        return false;
    *out = v->valuestring;
    return true;
}

static const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Boolean, missing -> dflt. false if present with another type. */
static bool json_bool(const cJSON *o, const char *k, bool dflt, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v) {
        *out = dflt;
        return true;
    }
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

/* Array of ids -> malloc'd *ids (NULL when empty), *n. false if malformed. */
static bool json_ids(const cJSON *o, const char *k, int64_t **ids, size_t *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k);
    *ids = NULL;
    *n = 0;
    if (!cJSON_IsArray(a))
        return false;
    int count = cJSON_GetArraySize(a);
    if (count == 0)
        return true;
    int64_t *out = calloc((size_t)count, sizeof *out);
    if (!out)
        return false;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsNumber(it) || it->valuedouble < 1 ||
            it->valuedouble > 9007199254740991.0 ||
            it->valuedouble != (double)(int64_t)it->valuedouble) {
            free(out);
            return false;
        }
        out[i++] = (int64_t)it->valuedouble;
    }
    *ids = out;
    *n = i;
    return true;
}

/* Parses a session object into *c (fresh). Returns 0 or -1 (c freed). */
static int parse_config(const cJSON *o, session_config *c)
{
    memset(c, 0, sizeof *c);
    const char *title, *topic, *status;
    int64_t rate;
    const cJSON *arr, *it;
    if (!cJSON_IsObject(o) || !json_id(o, "program_id", &c->program_id) ||
        !(title = json_str(o, "title")) || !json_str_or_null(o, "topic", &topic) ||
        !(status = json_str(o, "status")) ||
        (c->status = name_index(STATUS_NAMES, S__COUNT, status)) < 0 ||
        !json_bool(o, "premoderation", false, &c->premoderation) ||
        !json_bool(o, "anonymous_allowed", true, &c->anonymous_allowed) ||
        !json_int_or_null(o, "scheduled_at", &c->scheduled_at) ||
        !json_int_or_null(o, "started_at", &c->started_at) ||
        !json_int_or_null(o, "ended_at", &c->ended_at) ||
        !json_int_or_null(o, "question_rate_per_min", &rate) || rate < 0 || rate > 1000000)
        goto fail;
    c->question_rate_per_min = rate ? (int)rate : DEFAULT_QUESTION_RATE;
    if (!(c->title = strdup(title)) || (topic && !(c->topic = strdup(topic))))
        goto fail;

    arr = cJSON_GetObjectItemCaseSensitive(o, "panelists");
    if (arr && !cJSON_IsArray(arr))
        goto fail;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        c->panelists = calloc((size_t)cJSON_GetArraySize(arr), sizeof *c->panelists);
        if (!c->panelists)
            goto fail;
        cJSON_ArrayForEach(it, arr)
        {
            panelist *p = &c->panelists[c->n_panelists];
            const char *name = json_str(it, "name"), *aff, *role;
            if (!cJSON_IsObject(it) || !json_id(it, "id", &p->id) || !name ||
                !json_str_or_null(it, "affiliation", &aff) || !json_str_or_null(it, "role", &role))
                goto fail;
            c->n_panelists++;
            if (!(p->name = strdup(name)) || (aff && !(p->affiliation = strdup(aff))) ||
                (role && !(p->role = strdup(role))))
                goto fail;
        }
    }
    arr = cJSON_GetObjectItemCaseSensitive(o, "segments");
    if (arr && !cJSON_IsArray(arr))
        goto fail;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        c->segments = calloc((size_t)cJSON_GetArraySize(arr), sizeof *c->segments);
        if (!c->segments)
            goto fail;
        cJSON_ArrayForEach(it, arr)
        {
            segment *sg = &c->segments[c->n_segments];
            const char *t = json_str(it, "title");
            if (!cJSON_IsObject(it) || !json_id(it, "id", &sg->id) || !t)
                goto fail;
            c->n_segments++;
            if (!(sg->title = strdup(t)))
                goto fail;
        }
    }
    arr = cJSON_GetObjectItemCaseSensitive(o, "blocked_words");
    if (arr && !cJSON_IsArray(arr))
        goto fail;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        c->blocked_words = calloc((size_t)cJSON_GetArraySize(arr), sizeof *c->blocked_words);
        if (!c->blocked_words)
            goto fail;
        cJSON_ArrayForEach(it, arr)
        {
            if (!cJSON_IsString(it))
                goto fail;
            if (!(c->blocked_words[c->n_blocked_words] = strdup(it->valuestring)))
                goto fail;
            c->n_blocked_words++;
        }
    }
    return 0;
fail:
    config_free(c);
    return -1;
}

/* Deep copy of a config. Returns 0 or -1 (dst freed). */
static int config_copy(session_config *dst, const session_config *src)
{
    memset(dst, 0, sizeof *dst);
    *dst = *src;
    dst->title = dst->topic = NULL;
    dst->blocked_words = NULL;
    dst->panelists = NULL;
    dst->segments = NULL;
    dst->n_blocked_words = dst->n_panelists = dst->n_segments = 0;
    if (!(dst->title = dup_or_null(src->title)) && src->title)
        goto fail;
    if (!(dst->topic = dup_or_null(src->topic)) && src->topic)
        goto fail;
    if (src->n_blocked_words) {
        if (!(dst->blocked_words = calloc(src->n_blocked_words, sizeof(char *))))
            goto fail;
        for (; dst->n_blocked_words < src->n_blocked_words; dst->n_blocked_words++)
            if (!(dst->blocked_words[dst->n_blocked_words] =
                      strdup(src->blocked_words[dst->n_blocked_words])))
                goto fail;
    }
    if (src->n_panelists) {
        if (!(dst->panelists = calloc(src->n_panelists, sizeof(panelist))))
            goto fail;
        for (size_t i = 0; i < src->n_panelists; i++) {
            const panelist *p = &src->panelists[i];
            panelist *d = &dst->panelists[i];
            dst->n_panelists++;
            d->id = p->id;
            if (!(d->name = strdup(p->name)) ||
                (p->affiliation && !(d->affiliation = strdup(p->affiliation))) ||
                (p->role && !(d->role = strdup(p->role))))
                goto fail;
        }
    }
    if (src->n_segments) {
        if (!(dst->segments = calloc(src->n_segments, sizeof(segment))))
            goto fail;
        for (size_t i = 0; i < src->n_segments; i++) {
            dst->n_segments++;
            dst->segments[i].id = src->segments[i].id;
            if (!(dst->segments[i].title = strdup(src->segments[i].title)))
                goto fail;
        }
    }
    return 0;
fail:
    config_free(dst);
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Applying events: the one path for live commands and start-up replay                        */

static int mark_question_dirty(session *s, question *q)
{
    if (q->dirty)
        return 0;
    if (grow((void **)&s->dirty_questions, &s->cap_dirty_questions, s->n_dirty_questions + 1,
             sizeof *s->dirty_questions) < 0)
        return -1;
    s->dirty_questions[s->n_dirty_questions++] = q->id;
    q->dirty = true;
    return 0;
}

/* Creates or updates a question of session s from a question object. Votes are not taken from
 * the object (they come from vote events). create: the question must not exist yet; otherwise
 * it must exist in s. Returns the question or NULL (state unchanged). */
static question *apply_question_object(forum_state *st, session *s, const cJSON *o, bool create)
{
    int64_t id, to, parent_id, created_at, merged_into, carried_qid;
    const char *text, *author, *note, *carried, *vid, *category, *state, *phase, *source;
    bool starred;
    int state_i, cat_i, src_i;
    if (!cJSON_IsObject(o) || !json_id(o, "id", &id) || !(text = json_str(o, "text")) ||
        !json_str_or_null(o, "author", &author) || !json_int_or_null(o, "to", &to) ||
        !json_int_or_null(o, "parent_id", &parent_id) ||
        !json_int_or_null(o, "created_at", &created_at) ||
        !json_int_or_null(o, "merged_into", &merged_into) ||
        !json_int_or_null(o, "carried_question_id", &carried_qid) || carried_qid < 0 ||
        !json_str_or_null(o, "answer_note", &note) ||
        !json_str_or_null(o, "carried_from", &carried) ||
        !json_str_or_null(o, "viewer_id", &vid) || !json_bool(o, "starred", false, &starred) ||
        !(state = json_str(o, "state")) ||
        (state_i = name_index(QSTATE_NAMES, Q__COUNT, state)) < 0)
        return NULL;
    category = json_str(o, "category");
    phase = json_str(o, "phase");
    source = json_str(o, "source");
    cat_i = category ? name_index(CATEGORY_NAMES, 3, category) : 0;
    src_i = source ? name_index(SOURCE_NAMES, 5, source) : 0;
    if (cat_i < 0 || src_i < 0 || (vid && strlen(vid) >= FORUM_VIEWER_ID_MAX))
        return NULL;

    question *q = find_question(st, id);
    if (create ? q != NULL : (!q || q->session != s))
        return NULL;
    char *ntext = strdup(text), *nauthor = dup_or_null(author), *nnote = dup_or_null(note),
         *ncarried = dup_or_null(carried);
    if (!ntext || (author && !nauthor) || (note && !nnote) || (carried && !ncarried))
        goto fail;
    if (create) {
        if (!(q = calloc(1, sizeof *q)))
            goto fail;
        if (grow((void **)&s->questions, &s->cap_questions, s->n_questions + 1,
                 sizeof *s->questions) < 0 ||
            table_add((void ***)&st->questions, &st->n_questions, &st->cap_questions,
                      &st->question_index, id, q, &st->next_question_id) < 0) {
            free(q);
            goto fail;
        }
        q->id = id;
        q->session = s;
        s->questions[s->n_questions++] = q;
    }
    free(q->text);
    free(q->author);
    free(q->answer_note);
    free(q->carried_from);
    q->text = ntext;
    q->author = nauthor;
    q->answer_note = nnote;
    q->carried_from = ncarried;
    q->category = (forum_category)cat_i;
    q->source = (forum_source)src_i;
    q->to = to;
    q->parent_id = parent_id;
    q->created_at = created_at;
    q->merged_into = merged_into;
    q->carried_question_id = carried_qid;
    q->state = state_i;
    q->starred = starred;
    q->live_phase = phase && strcmp(phase, "live") == 0;
    snprintf(q->viewer_id, sizeof q->viewer_id, "%s", vid ? vid : "");
    return q;
fail:
    free(ntext);
    free(nauthor);
    free(nnote);
    free(ncarried);
    return NULL;
}

static int apply_session_changed(forum_state *st, const forum_event *ev)
{
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(ev->payload, "session");
    const char *code = json_str(so, "code");
    if (!code || strcmp(code, ev->session) != 0 || strlen(code) >= FORUM_CODE_MAX)
        return -1;
    session_config cfg;
    if (parse_config(so, &cfg) < 0)
        return -1;
    const char *hash = ev->secret ? json_str(ev->secret, "moderator_key_hash") : NULL;
    if (hash && strlen(hash) != 64)
        goto fail;
    session *s = find_session(st, code);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            goto fail;
        if (grow((void **)&st->sessions, &st->cap_sessions, st->n_sessions + 1,
                 sizeof *st->sessions) < 0 ||
            smap_put(&st->session_index, code, (int64_t)st->n_sessions) < 0) {
            free(s);
            goto fail;
        }
        snprintf(s->code, sizeof s->code, "%s", code);
        st->sessions[st->n_sessions++] = s;
    }
    config_free(&s->cfg);
    s->cfg = cfg;
    if (hash)
        snprintf(s->key_hash, sizeof s->key_hash, "%s", hash);
    return 0;
fail:
    config_free(&cfg);
    return -1;
}

static int apply_program_changed(forum_state *st, const forum_event *ev)
{
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(ev->payload, "program");
    int64_t id;
    const char *title = json_str(po, "title"), *desc;
    if (!json_id(po, "id", &id) || !title || !json_str_or_null(po, "description", &desc))
        return -1;
    char *ntitle = strdup(title), *ndesc = dup_or_null(desc);
    if (!ntitle || (desc && !ndesc))
        goto fail;
    program *p = find_program(st, id);
    if (!p) {
        if (grow((void **)&st->programs, &st->cap_programs, st->n_programs + 1,
                 sizeof *st->programs) < 0)
            goto fail;
        p = &st->programs[st->n_programs++];
        memset(p, 0, sizeof *p);
        p->id = id;
        if (id >= st->next_program_id)
            st->next_program_id = id + 1;
    }
    free(p->title);
    free(p->description);
    p->title = ntitle;
    p->description = ndesc;
    return 0;
fail:
    free(ntitle);
    free(ndesc);
    return -1;
}

/* vote.added / vote.removed: the subject's vote on payload question_id. */
static int apply_vote(forum_state *st, session *s, const forum_event *ev, bool add)
{
    int64_t qid;
    if (!json_id(ev->payload, "question_id", &qid))
        return -1;
    question *q = find_question(st, qid);
    int64_t vk = viewer_intern(st, ev->subject);
    if (!q || q->session != s || !vk)
        return -1;
    viewer *v = &st->viewers[vk - 1];
    if (add) {
        if (iset_add(&q->voters, vk) < 0 || iset_add(&v->votes, qid) < 0)
            return -1;
    } else {
        iset_remove(&q->voters, vk);
        iset_remove(&v->votes, qid);
    }
    return mark_question_dirty(s, q);
}

/* poll.voted: the subject's ballot (replaces any previous one). */
static int apply_poll_voted(forum_state *st, session *s, const forum_event *ev)
{
    int64_t pid, *ids = NULL;
    size_t n = 0;
    if (!json_id(ev->payload, "poll_id", &pid) || !json_ids(ev->payload, "option_ids", &ids, &n))
        return -1;
    poll *p = find_poll(st, pid);
    int64_t vk = viewer_intern(st, ev->subject);
    int64_t mask = 0;
    for (size_t i = 0; i < n; i++) {
        if (!p || ids[i] > (int64_t)p->n_options) {
            free(ids);
            return -1;
        }
        mask |= (int64_t)1 << (ids[i] - 1);
    }
    free(ids);
    if (!p || p->session != s || !vk)
        return -1;
    int64_t *old = imap_get(&p->ballots, vk);
    int64_t old_mask = old ? *old : 0;
    if (imap_put(&p->ballots, vk, mask) < 0)
        return -1;
    for (size_t i = 0; i < p->n_options; i++) {
        if (old_mask & ((int64_t)1 << i))
            p->counts[i]--;
        if (mask & ((int64_t)1 << i))
            p->counts[i]++;
    }
    p->dirty = true;
    return 0;
}

/* poll.changed: creates or updates a poll's title, options, multi and state (counts come from
 * ballots) and marks its counts as published. */
static int apply_poll_changed(forum_state *st, session *s, const forum_event *ev)
{
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(ev->payload, "poll");
    int64_t id;
    const char *title = json_str(po, "title"), *state = json_str(po, "state");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(po, "options"), *it;
    bool multi;
    int state_i = name_index(PSTATE_NAMES, P__COUNT, state);
    if (!json_id(po, "id", &id) || !title || state_i < 0 || !cJSON_IsArray(opts) ||
        !json_bool(po, "multi", false, &multi))
        return -1;
    int n = cJSON_GetArraySize(opts);
    if (n < 1 || n > 62)
        return -1;
    cJSON_ArrayForEach(it, opts) if (!json_str(it, "text")) return -1;
    poll *p = find_poll(st, id);
    if (p && (p->session != s || p->n_options != (size_t)n))
        return -1;
    if (!p) {
        if (!(p = calloc(1, sizeof *p)))
            return -1;
        p->options = calloc((size_t)n, sizeof *p->options);
        p->counts = calloc((size_t)n, sizeof *p->counts);
        if (!p->options || !p->counts ||
            grow((void **)&s->polls, &s->cap_polls, s->n_polls + 1, sizeof *s->polls) < 0 ||
            table_add((void ***)&st->polls, &st->n_polls, &st->cap_polls, &st->poll_index, id,
                      p, &st->next_poll_id) < 0) {
            poll_free(p);
            return -1;
        }
        p->id = id;
        p->session = s;
        p->n_options = (size_t)n;
        s->polls[s->n_polls++] = p;
    }
    if (set_str(&p->title, title) < 0)
        return -1;
    size_t i = 0;
    cJSON_ArrayForEach(it, opts)
    {
        if (set_str(&p->options[i++], json_str(it, "text")) < 0)
            return -1;
    }
    p->multi = multi;
    p->state = state_i;
    p->dirty = false;
    return 0;
}

static int apply_votes_changed(forum_state *st, session *s, const forum_event *ev)
{
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(ev->payload, "counts"), *it;
    if (!cJSON_IsObject(counts))
        return -1;
    cJSON_ArrayForEach(it, counts)
    {
        char *end;
        long long id = strtoll(it->string, &end, 10);
        if (*end || id <= 0 || !cJSON_IsNumber(it))
            return -1;
        question *q = find_question(st, id);
        if (q && q->session == s)
            q->dirty = false;
    }
    size_t kept = 0;
    for (size_t i = 0; i < s->n_dirty_questions; i++) {
        question *q = find_question(st, s->dirty_questions[i]);
        if (q && q->dirty)
            s->dirty_questions[kept++] = s->dirty_questions[i];
    }
    s->n_dirty_questions = kept;
    return 0;
}

static int apply_panel_changed(forum_state *st, session *s, const forum_event *ev)
{
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(ev->payload, "panel");
    int64_t seg, *ids;
    size_t n;
    const char *banner;
    if (!cJSON_IsObject(po) || !json_int_or_null(po, "segment_id", &seg) || seg < 0 ||
        !json_str_or_null(po, "banner", &banner))
        return -1;
    if (!json_ids(po, "speaker_ids", &ids, &n))
        return -1;
    if (set_str(&s->banner, banner) < 0) {
        free(ids);
        return -1;
    }
    free(s->speaker_ids);
    s->speaker_ids = ids;
    s->n_speaker_ids = n;
    s->segment_id = seg;
    return 0;
}

static int apply_queue_changed(session *s, const forum_event *ev)
{
    int64_t *ids;
    size_t n;
    if (!json_ids(ev->payload, "up_next", &ids, &n))
        return -1;
    free(s->up_next);
    s->up_next = ids;
    s->n_up_next = s->cap_up_next = n;
    return 0;
}

static int apply_ban(forum_state *st, session *s, const forum_event *ev, bool ban)
{
    const char *vid = json_str(ev->payload, "viewer_id");
    int64_t vk = viewer_intern(st, vid);
    if (!vk)
        return -1;
    if (ban)
        return iset_add(&s->bans, vk) < 0 ? -1 : 0;
    iset_remove(&s->bans, vk);
    return 0;
}

/* Undo bookkeeping carried in secrets: {"undo":{...}} records the actor's last covered action;
 * {"undo_clear":true} forgets it (the undo itself). */
static int apply_undo_secret(session *s, const forum_event *ev)
{
    if (!ev->secret)
        return 0;
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(ev->secret, "undo");
    undo_record *u = find_undo(s, ev->actor);
    if (cJSON_IsObject(rec)) {
        cJSON *copy = cJSON_Duplicate(rec, true);
        if (!copy)
            return -1;
        if (!u) {
            if (grow((void **)&s->undos, &s->cap_undos, s->n_undos + 1, sizeof *s->undos) < 0) {
                cJSON_Delete(copy);
                return -1;
            }
            u = &s->undos[s->n_undos++];
            snprintf(u->actor, sizeof u->actor, "%s", ev->actor);
            u->record = NULL;
        }
        cJSON_Delete(u->record);
        u->record = copy;
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->secret, "undo_clear")) && u) {
        cJSON_Delete(u->record);
        *u = s->undos[--s->n_undos];
    }
    return 0;
}

/* action.changed: creates or updates an action item from payload "action". The action keeps
 * the session it was made in (its "session"), whichever session's log the event is in. */
static int apply_action_changed(forum_state *st, const forum_event *ev)
{
    const cJSON *ao = cJSON_GetObjectItemCaseSensitive(ev->payload, "action");
    int64_t id, qid, created_at, updated_at;
    const char *code = json_str(ao, "session"), *text = json_str(ao, "text"), *owner, *due;
    int status = name_index(ACTION_STATUS_NAMES, 3, json_str(ao, "status"));
    if (!cJSON_IsObject(ao) || !json_id(ao, "id", &id) || !code || !text || status < 0 ||
        !json_int_or_null(ao, "question_id", &qid) || qid < 0 ||
        !json_str_or_null(ao, "owner", &owner) || !json_str_or_null(ao, "due", &due) ||
        !json_int_or_null(ao, "created_at", &created_at) ||
        !json_int_or_null(ao, "updated_at", &updated_at))
        return -1;
    session *origin = find_session(st, code);
    if (!origin)
        return -1;
    action_item *a = find_action(st, id);
    if (a && a->session != origin)
        return -1;
    char *ntext = strdup(text), *nowner = dup_or_null(owner), *ndue = dup_or_null(due);
    if (!ntext || (owner && !nowner) || (due && !ndue))
        goto fail;
    if (!a) {
        if (!(a = calloc(1, sizeof *a)))
            goto fail;
        if (table_add((void ***)&st->actions, &st->n_actions, &st->cap_actions,
                      &st->action_index, id, a, &st->next_action_id) < 0) {
            free(a);
            goto fail;
        }
        a->id = id;
        a->session = origin;
    }
    free(a->text);
    free(a->owner);
    free(a->due);
    a->text = ntext;
    a->owner = nowner;
    a->due = ndue;
    a->question_id = qid;
    a->status = status;
    a->created_at = created_at;
    a->updated_at = updated_at;
    return 0;
fail:
    free(ntext);
    free(nowner);
    free(ndue);
    return -1;
}

/* Replaces every string equal to from with to, anywhere in node. Returns -1 on OOM. */
static int json_replace_strings(cJSON *node, const char *from, const char *to)
{
    for (cJSON *it = node; it; it = it->next) {
        if (cJSON_IsString(it) && it->valuestring && strcmp(it->valuestring, from) == 0) {
            char *copy = strdup(to);
            if (!copy)
                return -1;
            cJSON_free(it->valuestring);
            it->valuestring = copy;
        }
        if ((cJSON_IsObject(it) || cJSON_IsArray(it)) &&
            json_replace_strings(it->child, from, to) < 0)
            return -1;
    }
    return 0;
}

/* viewer.erased: the payload's "questions" are the erased viewer's questions of this session,
 * already anonymised (author null, viewer_id the placeholder in "viewer_id"). Live, the
 * transient erased_viewer_id also moves that viewer's votes, ballots, ban and undo traces in
 * this session to the placeholder; in replay it is empty, and the stored events it rewrote
 * already carry the placeholder. */
static int apply_viewer_erased(forum_state *st, session *s, const forum_event *ev)
{
    const char *placeholder = json_str(ev->payload, "viewer_id");
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(ev->payload, "questions"), *it;
    if (!placeholder || !*placeholder || strlen(placeholder) >= FORUM_VIEWER_ID_MAX ||
        (qs && !cJSON_IsArray(qs)))
        return -1;
    cJSON_ArrayForEach(it, qs)
    {
        if (!apply_question_object(st, s, it, false))
            return -1;
    }
    const char *orig = ev->erased_viewer_id;
    int64_t ko = orig[0] ? viewer_key(st, orig) : 0;
    if (!ko)
        return 0;
    int64_t kp = viewer_intern(st, placeholder);
    if (!kp)
        return -1;
    for (size_t i = 0; i < s->n_questions; i++) {
        question *q = s->questions[i];
        if (!iset_remove(&q->voters, ko))
            continue;
        iset_remove(&st->viewers[ko - 1].votes, q->id);
        if (iset_add(&q->voters, kp) < 0 || iset_add(&st->viewers[kp - 1].votes, q->id) < 0)
            return -1;
    }
    if (iset_remove(&s->bans, ko) && iset_add(&s->bans, kp) < 0)
        return -1;
    for (size_t i = 0; i < s->n_polls; i++) {
        int64_t *mask = imap_get(&s->polls[i]->ballots, ko);
        if (mask && *mask) {
            int64_t m = *mask;
            *mask = 0;
            if (imap_put(&s->polls[i]->ballots, kp, m) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < s->n_undos; i++)
        if (json_replace_strings(s->undos[i].record, orig, placeholder) < 0)
            return -1;
    return 0;
}

/* Applies one event to st. Returns 0 or -1 (unknown kind, malformed payload, missing session
 * or question); on -1 the state is unchanged except for interned viewer ids. */
static int apply_event(forum_state *st, const forum_event *ev)
{
    const char *k = ev->kind;
    if (!ev->payload || !cJSON_IsObject(ev->payload))
        return -1;
    if (ev->session[0] == '\0') {
        if (strcmp(k, "program.changed") != 0 || apply_program_changed(st, ev) < 0)
            return -1;
        if (ev->seq > st->studio_seq)
            st->studio_seq = ev->seq;
        return 0;
    }
    if (strcmp(k, "session.changed") == 0) {
        if (apply_session_changed(st, ev) < 0)
            return -1;
        goto done;
    }
    session *s = find_session(st, ev->session);
    if (!s)
        return -1;
    int rc = 0;
    if (strcmp(k, "question.submitted") == 0) {
        question *q = apply_question_object(
            st, s, cJSON_GetObjectItemCaseSensitive(ev->payload, "question"), true);
        if (!q)
            return -1;
        if (ev->request_id[0]) {
            char key[FORUM_ACTOR_MAX + FORUM_REQUEST_ID_MAX + 2];
            snprintf(key, sizeof key, "%s\x1f%s", ev->subject[0] ? ev->subject : ev->actor,
                     ev->request_id);
            rc = smap_put(&s->submits, key, q->id);
        }
    } else if (strcmp(k, "question.published") == 0 || strcmp(k, "question.updated") == 0 ||
               strcmp(k, "question.dismissed") == 0 || strcmp(k, "question.withdrawn") == 0 ||
               strcmp(k, "question.answered") == 0) {
        if (!apply_question_object(st, s,
                                   cJSON_GetObjectItemCaseSensitive(ev->payload, "question"),
                                   false))
            return -1;
    } else if (strcmp(k, "question.merged") == 0) {
        const cJSON *into = cJSON_GetObjectItemCaseSensitive(ev->payload, "into");
        int64_t into_id;
        if (!json_id(into, "id", &into_id) || !find_question(st, into_id))
            return -1;
        if (!apply_question_object(st, s,
                                   cJSON_GetObjectItemCaseSensitive(ev->payload, "question"),
                                   false))
            return -1;
    } else if (strcmp(k, "vote.added") == 0 || strcmp(k, "vote.removed") == 0) {
        rc = apply_vote(st, s, ev, k[5] == 'a');
    } else if (strcmp(k, "votes.changed") == 0) {
        rc = apply_votes_changed(st, s, ev);
    } else if (strcmp(k, "onair.changed") == 0) {
        int64_t id;
        if (!json_int_or_null(ev->payload, "question_id", &id) || id < 0)
            return -1;
        s->on_air = id;
    } else if (strcmp(k, "queue.changed") == 0) {
        rc = apply_queue_changed(s, ev);
    } else if (strcmp(k, "panel.changed") == 0) {
        rc = apply_panel_changed(st, s, ev);
    } else if (strcmp(k, "poll.changed") == 0) {
        rc = apply_poll_changed(st, s, ev);
    } else if (strcmp(k, "poll.voted") == 0) {
        rc = apply_poll_voted(st, s, ev);
    } else if (strcmp(k, "viewer.banned") == 0 || strcmp(k, "viewer.unbanned") == 0) {
        rc = apply_ban(st, s, ev, k[7] == 'b');
    } else if (strcmp(k, "action.changed") == 0) {
        rc = apply_action_changed(st, ev);
    } else if (strcmp(k, "viewers.peak") == 0) {
        int64_t n;
        if (!json_int_or_null(ev->payload, "viewers", &n) || n < 0)
            return -1;
        s->peak_viewers = n;
    } else if (strcmp(k, "viewer.erased") == 0) {
        rc = apply_viewer_erased(st, s, ev);
    } else {
        return -1;
    }
    if (rc < 0)
        return -1;
    if (apply_undo_secret(s, ev) < 0)
        return -1;
done:;
    session *done_s = find_session(st, ev->session);
    if (done_s && ev->seq > done_s->seq)
        done_s->seq = ev->seq;
    return 0;
}

int forum_replay(forum_state *st, const forum_event *ev)
{
    if (!st || !ev)
        return -1;
    return apply_event(st, ev);
}

/* ------------------------------------------------------------------------------------------ */
/* Building events                                                                            */

typedef struct ctx {
    forum_state *st;
    const forum_env *env;
    forum_result *res;
    char actor[FORUM_ACTOR_MAX];
    cJSON *secret; /* attached to the next emitted event */
    const char *erased_viewer_id; /* set on the next emitted event (viewer.erased), then NULL */
} ctx;

/* Fills the envelope of a new event (seq, at, actor, ...), applies it to the state and appends
 * it to the result. Takes ownership of payload (and ctx->secret). Returns 0 or -1. */
static int emit_in(ctx *c, const char *code, const char *kind, cJSON *payload,
                   forum_audience audience, const char *subject, const char *request_id)
{
    forum_result *r = c->res;
    forum_event *grown = realloc(r->events, (r->n_events + 1) * sizeof *grown);
    if (!grown || !payload) {
        if (grown)
            r->events = grown;
        cJSON_Delete(payload);
        return -1;
    }
    r->events = grown;
    forum_event *ev = &r->events[r->n_events];
    memset(ev, 0, sizeof *ev);
    snprintf(ev->session, sizeof ev->session, "%s", code);
    const session *s = find_session(c->st, code);
    ev->seq = (code[0] ? (s ? s->seq : 0) : c->st->studio_seq) + 1;
    ev->at = c->env->now_ms;
    snprintf(ev->actor, sizeof ev->actor, "%s", c->actor);
    snprintf(ev->kind, sizeof ev->kind, "%s", kind);
    ev->payload = payload;
    ev->audience = audience;
    snprintf(ev->subject, sizeof ev->subject, "%s", subject ? subject : "");
    snprintf(ev->request_id, sizeof ev->request_id, "%s", request_id ? request_id : "");
    ev->secret = c->secret;
    c->secret = NULL;
    if (c->erased_viewer_id) {
        snprintf(ev->erased_viewer_id, sizeof ev->erased_viewer_id, "%s", c->erased_viewer_id);
        c->erased_viewer_id = NULL;
    }
    if (apply_event(c->st, ev) < 0) {
        forum_event_clear(ev);
        return -1;
    }
    s = find_session(c->st, code);
    ev->offset_ms = s && s->cfg.started_at ? c->env->now_ms - s->cfg.started_at : -1;
    r->n_events++;
    return 0;
}

static int emit(ctx *c, session *s, const char *kind, cJSON *payload, forum_audience audience,
                const char *subject)
{
    return emit_in(c, s->code, kind, payload, audience, subject, NULL);
}

/* Payload {"question": <staff rendering of q>}. */
static cJSON *question_payload(const question *q)
{
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddItemToObject(o, "question", question_json(q, true, false));
    return o;
}

/* Emits question.<kind> for q (staff rendering) with the given audience. */
static int emit_question(ctx *c, const char *kind, const question *q, forum_audience audience)
{
    return emit(c, q->session, kind, question_payload(q), audience, q->viewer_id);
}

/* Emits queue.changed without id, if id is in the up-next queue. */
static int leave_queue(ctx *c, session *s, int64_t id)
{
    if (!in_up_next(s, id))
        return 0;
    int64_t *ids = malloc((s->n_up_next ? s->n_up_next : 1) * sizeof *ids);
    if (!ids)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < s->n_up_next; i++)
        if (s->up_next[i] != id)
            ids[n++] = s->up_next[i];
    cJSON *p = cJSON_CreateObject();
    if (p)
        cJSON_AddItemToObject(p, "up_next", id_array(ids, n));
    free(ids);
    return emit(c, s, "queue.changed", p, FORUM_AUD_PUBLIC, NULL);
}

static int emit_onair(ctx *c, session *s, int64_t id)
{
    cJSON *p = cJSON_CreateObject();
    if (p)
        add_int_or_null(p, "question_id", id);
    return emit(c, s, "onair.changed", p, FORUM_AUD_PUBLIC, NULL);
}

static int emit_vote(ctx *c, session *s, const char *kind, int64_t qid, const char *viewer_id)
{
    cJSON *p = cJSON_CreateObject();
    if (p)
        add_int(p, "question_id", qid);
    return emit(c, s, kind, p, FORUM_AUD_NOBODY, viewer_id);
}

/* A working copy of q for building an event payload: shares q's strings (never freed). */
static question shadow(const question *q)
{
    return *q;
}

/* ------------------------------------------------------------------------------------------ */
/* Results                                                                                    */

static forum_result *set_error(forum_result *r, forum_err err, const char *field,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static forum_result *set_error(forum_result *r, forum_err err, const char *field,
                               const char *fmt, ...)
{
    r->err = err;
    r->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return r;
}

static bool is_staff(const forum_actor *a)
{
    return a->role == FORUM_ROLE_MODERATOR || a->role == FORUM_ROLE_PRODUCER;
}

/* Looks up the question id of a request in s: not_found (field) unless it exists there. */
static question *request_question(const forum_state *st, const session *s, int64_t id,
                                  const char *field, forum_result *r)
{
    question *q = id > 0 ? find_question(st, id) : NULL;
    if (!q || q->session != s) {
        if (id <= 0)
            set_error(r, FORUM_E_BAD_REQUEST, field, "%s is required", field);
        else
            set_error(r, FORUM_E_NOT_FOUND, field, "question %lld does not exist in this session",
                      (long long)id);
        return NULL;
    }
    return q;
}

/* Blocked words match in the folded form (utf8_fold), so full-width letters, case and invisible
 * characters inside a word do not hide it. */
static bool has_blocked_word(const session *s, const char *text)
{
    if (s->cfg.n_blocked_words == 0)
        return false;
    char *folded = utf8_fold(text, strlen(text));
    bool found = false;
    for (size_t i = 0; !found && i < s->cfg.n_blocked_words; i++) {
        char *word = utf8_fold(s->cfg.blocked_words[i], strlen(s->cfg.blocked_words[i]));
        if (word && folded)
            found = word[0] && strstr(folded, word) != NULL;
        else /* out of memory: the plain comparison still catches the word as written */
            found = utf8_contains_nocase(text, s->cfg.blocked_words[i]);
        free(word);
    }
    free(folded);
    return found;
}

/* Too long (code points) for limit max? */
static bool too_long(const char *text, int max)
{
    return text && max > 0 && utf8_count(text, strlen(text)) > (size_t)max;
}

/* Starts an undo record {"action", "questions":[before...], "after":[...]} for the next event. */
static cJSON *undo_begin(ctx *c, const char *action)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "action", action);
    cJSON_AddArrayToObject(rec, "questions");
    cJSON_AddArrayToObject(rec, "after");
    cJSON_Delete(c->secret);
    c->secret = cJSON_CreateObject();
    cJSON_AddItemToObject(c->secret, "undo", rec);
    return rec;
}

/* Records q's current state (before) and the state the action leaves it in (after_state; -1
 * for actions that leave the state alone: undo then does not care about later state changes). */
static void undo_question(cJSON *rec, const question *q, int after_state)
{
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(rec, "questions"),
                         question_json(q, true, false));
    if (after_state < 0)
        return;
    cJSON *af = cJSON_CreateObject();
    add_int(af, "id", q->id);
    cJSON_AddStringToObject(af, "state", QSTATE_NAMES[after_state]);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(rec, "after"), af);
}

static void undo_air(cJSON *rec, int64_t before, int64_t after)
{
    add_int(rec, "air_before", before);
    add_int(rec, "air_after", after);
}

/* ------------------------------------------------------------------------------------------ */
/* Viewer requests                                                                            */

static void submit_key(char *key, size_t cap, const char *who, const char *request_id)
{
    snprintf(key, cap, "%s\x1f%s", who, request_id);
}

static void do_submit(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    forum_state *st = c->st;
    bool staff = is_staff(a);
    if (!cmd->text || !*cmd->text) {
        set_error(r, FORUM_E_BAD_REQUEST, "text", "the question text is required");
        return;
    }
    if (too_long(cmd->text, st->limits.question_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "text", "the question text is longer than %d characters",
                  st->limits.question_max_chars);
        return;
    }
    if (cmd->has_to && cmd->to && !has_panelist(s, cmd->to)) {
        set_error(r, FORUM_E_NOT_FOUND, "to", "panelist %lld is not on this session's panel",
                  (long long)cmd->to);
        return;
    }
    if (cmd->parent_id) {
        question *parent = find_question(st, cmd->parent_id);
        if (!parent || parent->session != s) {
            set_error(r, FORUM_E_NOT_FOUND, "parent_id",
                      "question %lld does not exist in this session", (long long)cmd->parent_id);
            return;
        }
        if (!is_public_state(parent->state)) {
            set_error(r, FORUM_E_CONFLICT, "parent_id",
                      "follow-ups can only be asked about public questions");
            return;
        }
    }
    const char *author = NULL;
    if (staff) {
        author = cmd->author;
    } else {
        if (!s->cfg.anonymous_allowed && cmd->anonymous) {
            set_error(r, FORUM_E_BAD_REQUEST, "anonymous",
                      "this session does not accept anonymous questions");
            return;
        }
        if (!s->cfg.anonymous_allowed && !a->name[0]) {
            set_error(r, FORUM_E_BAD_REQUEST, "name",
                      "this session needs a display name to ask a question");
            return;
        }
        author = cmd->anonymous || !a->name[0] ? NULL : a->name;
    }
    if (st->limits.questions_per_session > 0 &&
        s->n_questions >= (size_t)st->limits.questions_per_session) {
        set_error(r, FORUM_E_RATE_LIMITED, NULL,
                  "this session has reached its limit of %d questions",
                  st->limits.questions_per_session);
        r->retry_after_ms = 60000;
        return;
    }

    question q;
    memset(&q, 0, sizeof q);
    q.id = st->next_question_id;
    q.session = s;
    q.text = cmd->text;
    q.author = (char *)author;
    q.category = cmd->has_category ? cmd->category : FORUM_CAT_QUESTION;
    q.to = cmd->has_to ? cmd->to : 0;
    q.parent_id = cmd->parent_id;
    q.created_at = c->env->now_ms;
    q.live_phase = s->cfg.started_at != 0;
    q.source = staff && cmd->has_source ? cmd->source : FORUM_SRC_WEB;
    if (q.source == FORUM_SRC_CARRIED)
        q.source = FORUM_SRC_WEB;
    snprintf(q.viewer_id, sizeof q.viewer_id, "%s", staff ? "" : a->viewer_id);
    bool held = !staff && (s->cfg.premoderation || has_blocked_word(s, cmd->text));
    q.state = held ? Q_PENDING : Q_PUBLISHED;

    if (emit_in(c, s->code, "question.submitted", question_payload(&q),
                FORUM_AUD_STAFF_AND_SUBJECT, q.viewer_id, cmd->id) < 0)
        goto oom;
    question *added = find_question(st, q.id);
    if (!added)
        goto oom;
    if (!held && emit_question(c, "question.published", added, FORUM_AUD_PUBLIC) < 0)
        goto oom;
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "question", question_json(added, staff, !staff));
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

static void do_edit(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    bool staff = is_staff(a);
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    if (!cmd->text || !*cmd->text) {
        set_error(r, FORUM_E_BAD_REQUEST, "text", "the question text is required");
        return;
    }
    if (too_long(cmd->text, c->st->limits.question_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "text", "the question text is longer than %d characters",
                  c->st->limits.question_max_chars);
        return;
    }
    if (!staff) {
        if (strcmp(q->viewer_id, a->viewer_id) != 0) {
            set_error(r, FORUM_E_FORBIDDEN, "question_id", "you can only edit your own questions");
            return;
        }
        if (q->state != Q_PENDING && q->state != Q_PUBLISHED) {
            set_error(r, FORUM_E_CONFLICT, "question_id",
                      "a question can be edited only while pending or published (it is %s)",
                      QSTATE_NAMES[q->state]);
            return;
        }
    }
    question after = shadow(q);
    after.text = cmd->text;
    /* An author's edit goes back to review when the session premoderates or the new text holds
     * a blocked word. */
    if (!staff && q->state == Q_PUBLISHED &&
        (s->cfg.premoderation || has_blocked_word(s, cmd->text)))
        after.state = Q_PENDING;
    bool public = is_public_state(q->state) || is_public_state(after.state);
    if (staff) {
        undo_question(undo_begin(c, "edit"), q, -1);
    }
    if (emit(c, s, "question.updated", question_payload(&after),
             public ? FORUM_AUD_PUBLIC : FORUM_AUD_STAFF_AND_SUBJECT, q->viewer_id) < 0 ||
        (q->state != Q_PUBLISHED && leave_queue(c, s, q->id) < 0)) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "question", question_json(q, staff, !staff));
}

static void do_withdraw(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    if (strcmp(q->viewer_id, a->viewer_id) != 0) {
        set_error(r, FORUM_E_FORBIDDEN, "question_id", "you can only withdraw your own questions");
        return;
    }
    if (q->state != Q_PENDING && q->state != Q_PUBLISHED) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "a question can be withdrawn only while pending or published (it is %s)",
                  QSTATE_NAMES[q->state]);
        return;
    }
    bool was_public = is_public_state(q->state);
    question after = shadow(q);
    after.state = Q_WITHDRAWN;
    if (emit(c, s, "question.withdrawn", question_payload(&after),
             was_public ? FORUM_AUD_PUBLIC : FORUM_AUD_STAFF_AND_SUBJECT, q->viewer_id) < 0 ||
        leave_queue(c, s, q->id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "question", question_json(q, false, true));
}

static void do_vote(ctx *c, session *s, const forum_actor *a, const forum_command *cmd, bool add)
{
    forum_result *r = c->res;
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    int64_t vk = viewer_key(c->st, a->viewer_id);
    bool voted = vk && iset_has(&q->voters, vk);
    if (add && !voted && q->state != Q_PUBLISHED) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "only published questions can be voted on (this one is %s)",
                  QSTATE_NAMES[q->state]);
        return;
    }
    if (add != voted &&
        emit_vote(c, s, add ? "vote.added" : "vote.removed", q->id, a->viewer_id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    add_int(r->ack, "question_id", q->id);
    cJSON_AddBoolToObject(r->ack, "voted", add);
}

static void do_poll_vote(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    poll *p = cmd->poll_id > 0 ? find_poll(c->st, cmd->poll_id) : NULL;
    if (!p || p->session != s) {
        set_error(r, cmd->poll_id > 0 ? FORUM_E_NOT_FOUND : FORUM_E_BAD_REQUEST, "poll_id",
                  "poll %lld does not exist in this session", (long long)cmd->poll_id);
        return;
    }
    if (p->state != P_OPEN) {
        set_error(r, FORUM_E_CONFLICT, "poll_id", "this poll is %s, not open",
                  PSTATE_NAMES[p->state]);
        return;
    }
    if (cmd->n_ids == 0 || (!p->multi && cmd->n_ids != 1)) {
        set_error(r, FORUM_E_BAD_REQUEST, "option_ids",
                  p->multi ? "choose at least one option" : "choose exactly one option");
        return;
    }
    int64_t mask = 0;
    for (size_t i = 0; i < cmd->n_ids; i++) {
        int64_t id = cmd->ids[i];
        if (id < 1 || id > (int64_t)p->n_options) {
            set_error(r, FORUM_E_BAD_REQUEST, "option_ids", "option %lld is not in this poll",
                      (long long)id);
            return;
        }
        if (mask & ((int64_t)1 << (id - 1))) {
            set_error(r, FORUM_E_BAD_REQUEST, "option_ids", "option %lld is chosen twice",
                      (long long)id);
            return;
        }
        mask |= (int64_t)1 << (id - 1);
    }
    int64_t vk = viewer_key(c->st, a->viewer_id);
    int64_t *old = vk ? imap_get(&p->ballots, vk) : NULL;
    cJSON *ids = id_array(cmd->ids, cmd->n_ids);
    if (!old || *old != mask) {
        cJSON *payload = cJSON_CreateObject();
        if (payload) {
            add_int(payload, "poll_id", p->id);
            cJSON_AddItemToObject(payload, "option_ids", cJSON_Duplicate(ids, true));
        }
        if (emit(c, s, "poll.voted", payload, FORUM_AUD_NOBODY, a->viewer_id) < 0) {
            cJSON_Delete(ids);
            set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
            return;
        }
    }
    r->ack = cJSON_CreateObject();
    add_int(r->ack, "poll_id", p->id);
    cJSON_AddItemToObject(r->ack, "option_ids", ids);
}

/* ------------------------------------------------------------------------------------------ */
/* Moderation                                                                                 */

static void ack_question(forum_result *r, const question *q)
{
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "question", question_json(q, true, false));
}

static void do_approve(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    if (q->state != Q_PENDING) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "only pending questions can be approved (this one is %s)",
                  QSTATE_NAMES[q->state]);
        return;
    }
    undo_question(undo_begin(c, "approve"), q, Q_PUBLISHED);
    question after = shadow(q);
    after.state = Q_PUBLISHED;
    if (emit(c, s, "question.published", question_payload(&after), FORUM_AUD_PUBLIC,
             q->viewer_id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

static void do_dismiss(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    if (q->state != Q_PENDING && q->state != Q_PUBLISHED) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "only pending or published questions can be dismissed (this one is %s)",
                  QSTATE_NAMES[q->state]);
        return;
    }
    bool was_public = is_public_state(q->state);
    undo_question(undo_begin(c, "dismiss"), q, Q_DISMISSED);
    question after = shadow(q);
    after.state = Q_DISMISSED;
    cJSON *payload = question_payload(&after);
    if (payload && cmd->reason)
        cJSON_AddStringToObject(payload, "reason", cmd->reason);
    if (emit(c, s, "question.dismissed", payload,
             was_public ? FORUM_AUD_PUBLIC : FORUM_AUD_STAFF_AND_SUBJECT, q->viewer_id) < 0 ||
        leave_queue(c, s, q->id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

static void do_star(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    undo_question(undo_begin(c, "star"), q, -1);
    question after = shadow(q);
    after.starred = cmd->starred;
    if (emit(c, s, "question.updated", question_payload(&after),
             is_public_state(q->state) ? FORUM_AUD_PUBLIC : FORUM_AUD_STAFF_AND_SUBJECT,
             q->viewer_id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

static void do_merge(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    forum_state *st = c->st;
    question *q = request_question(st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    question *into = request_question(st, s, cmd->into_id, "into_id", r);
    if (!into)
        return;
    if (q == into) {
        set_error(r, FORUM_E_BAD_REQUEST, "into_id", "a question cannot be merged into itself");
        return;
    }
    if (q->state != Q_PENDING && q->state != Q_PUBLISHED) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "only pending or published questions can be merged (this one is %s)",
                  QSTATE_NAMES[q->state]);
        return;
    }
    if (into->state == Q_DISMISSED || into->state == Q_WITHDRAWN) {
        set_error(r, FORUM_E_CONFLICT, "into_id", "cannot merge into a %s question",
                  QSTATE_NAMES[into->state]);
        return;
    }
    bool was_public = is_public_state(q->state);
    cJSON *rec = undo_begin(c, "merge");
    undo_question(rec, q, Q_DISMISSED);
    cJSON *mv = cJSON_AddObjectToObject(rec, "merge");
    add_int(mv, "from", q->id);
    add_int(mv, "into", into->id);
    cJSON *voters = cJSON_AddArrayToObject(mv, "voters");
    cJSON *moved = cJSON_AddArrayToObject(mv, "moved");
    /* Collect voters first: the vote events below change q->voters. */
    size_t n = 0;
    int64_t *keys = malloc((q->voters.len ? q->voters.len : 1) * sizeof *keys);
    if (!keys)
        goto oom;
    for (size_t i = 0; i < q->voters.cap; i++)
        if (q->voters.keys[i] > 0)
            keys[n++] = q->voters.keys[i];
    for (size_t i = 0; i < n; i++) {
        const char *vid = st->viewers[keys[i] - 1].id;
        cJSON_AddItemToArray(voters, cJSON_CreateString(vid));
        if (!iset_has(&into->voters, keys[i]))
            cJSON_AddItemToArray(moved, cJSON_CreateString(vid));
    }
    for (size_t i = 0; i < n; i++) {
        const char *vid = st->viewers[keys[i] - 1].id;
        bool move = !iset_has(&into->voters, keys[i]);
        if (emit_vote(c, s, "vote.removed", q->id, vid) < 0 ||
            (move && emit_vote(c, s, "vote.added", into->id, vid) < 0)) {
            free(keys);
            goto oom;
        }
    }
    free(keys);
    question after = shadow(q);
    after.state = Q_DISMISSED;
    after.merged_into = into->id;
    cJSON *payload = question_payload(&after);
    if (payload)
        cJSON_AddItemToObject(payload, "into", question_json(into, true, false));
    if (emit(c, s, "question.merged", payload,
             was_public ? FORUM_AUD_PUBLIC : FORUM_AUD_STAFF_AND_SUBJECT, q->viewer_id) < 0 ||
        leave_queue(c, s, q->id) < 0)
        goto oom;
    ack_question(r, q);
    cJSON_AddItemToObject(r->ack, "into", question_json(into, true, false));
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

/* Puts q on air (q published or answered; validated by the caller). */
static void put_on_air(ctx *c, session *s, question *q)
{
    forum_result *r = c->res;
    question *prev = s->on_air ? find_question(c->st, s->on_air) : NULL;
    cJSON *rec = undo_begin(c, "onair");
    if (prev && prev != q)
        undo_question(rec, prev, prev->state == Q_ON_AIR ? Q_PUBLISHED : prev->state);
    undo_question(rec, q, q->state == Q_PUBLISHED ? Q_ON_AIR : q->state);
    undo_air(rec, s->on_air, q->id);
    if (prev && prev != q && prev->state == Q_ON_AIR) {
        question after = shadow(prev);
        after.state = Q_PUBLISHED;
        if (emit(c, s, "question.updated", question_payload(&after), FORUM_AUD_PUBLIC,
                 prev->viewer_id) < 0)
            goto oom;
    }
    if (q->state == Q_PUBLISHED) {
        question after = shadow(q);
        after.state = Q_ON_AIR;
        if (emit(c, s, "question.updated", question_payload(&after), FORUM_AUD_PUBLIC,
                 q->viewer_id) < 0)
            goto oom;
    }
    if (leave_queue(c, s, q->id) < 0 || emit_onair(c, s, q->id) < 0)
        goto oom;
    r->ack = cJSON_CreateObject();
    add_int(r->ack, "question_id", q->id);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

static void do_onair_set(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    if (s->on_air == q->id) {
        set_error(r, FORUM_E_CONFLICT, "question_id", "this question is already on air");
        return;
    }
    if (q->state != Q_PUBLISHED && q->state != Q_ANSWERED) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "only published or answered questions can go on air (this one is %s)",
                  QSTATE_NAMES[q->state]);
        return;
    }
    put_on_air(c, s, q);
}

static void do_onair_next(ctx *c, session *s)
{
    if (s->n_up_next == 0) {
        set_error(c->res, FORUM_E_CONFLICT, NULL, "the up-next queue is empty");
        return;
    }
    question *q = find_question(c->st, s->up_next[0]);
    if (!q || (q->state != Q_PUBLISHED && q->state != Q_ANSWERED) || s->on_air == q->id) {
        set_error(c->res, FORUM_E_CONFLICT, NULL, "the head of the up-next queue cannot go on air");
        return;
    }
    put_on_air(c, s, q);
}

static void do_onair_clear(ctx *c, session *s)
{
    forum_result *r = c->res;
    question *cur = s->on_air ? find_question(c->st, s->on_air) : NULL;
    if (s->on_air) {
        if (cur && cur->state == Q_ON_AIR) {
            question after = shadow(cur);
            after.state = Q_PUBLISHED;
            if (emit(c, s, "question.updated", question_payload(&after), FORUM_AUD_PUBLIC,
                     cur->viewer_id) < 0)
                goto oom;
        }
        if (emit_onair(c, s, 0) < 0)
            goto oom;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddNullToObject(r->ack, "question_id");
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

static void do_answered(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c->st, s, cmd->question_id, "question_id", r);
    if (!q)
        return;
    bool airing = s->on_air == q->id;
    if (q->state != Q_PUBLISHED && q->state != Q_ON_AIR && !(q->state == Q_ANSWERED && airing)) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "only published or on-air questions can be marked answered (this one is %s)",
                  QSTATE_NAMES[q->state]);
        return;
    }
    cJSON *rec = undo_begin(c, "answered");
    undo_question(rec, q, Q_ANSWERED);
    if (airing)
        undo_air(rec, s->on_air, 0);
    question after = shadow(q);
    after.state = Q_ANSWERED;
    if (cmd->note)
        after.answer_note = cmd->note;
    if (emit(c, s, "question.answered", question_payload(&after), FORUM_AUD_PUBLIC,
             q->viewer_id) < 0 ||
        (airing && emit_onair(c, s, 0) < 0) || leave_queue(c, s, q->id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

static void do_queue_set(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if ((int)cmd->n_ids > c->st->limits.max_queue) {
        set_error(r, FORUM_E_BAD_REQUEST, "question_ids",
                  "the up-next queue holds at most %d questions", c->st->limits.max_queue);
        return;
    }
    for (size_t i = 0; i < cmd->n_ids; i++) {
        question *q = find_question(c->st, cmd->ids[i]);
        if (!q || q->session != s) {
            set_error(r, FORUM_E_NOT_FOUND, "question_ids",
                      "question %lld does not exist in this session", (long long)cmd->ids[i]);
            return;
        }
        if (q->state != Q_PUBLISHED) {
            set_error(r, FORUM_E_CONFLICT, "question_ids",
                      "only published questions can be queued (question %lld is %s)",
                      (long long)q->id, QSTATE_NAMES[q->state]);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (cmd->ids[j] == cmd->ids[i]) {
                set_error(r, FORUM_E_BAD_REQUEST, "question_ids",
                          "question %lld appears twice in the queue", (long long)cmd->ids[i]);
                return;
            }
    }
    cJSON *p = cJSON_CreateObject();
    if (p)
        cJSON_AddItemToObject(p, "up_next", id_array(cmd->ids, cmd->n_ids));
    if (emit(c, s, "queue.changed", p, FORUM_AUD_PUBLIC, NULL) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "up_next", id_array(s->up_next, s->n_up_next));
}

static void do_panel_set(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (cmd->has_segment_id && cmd->segment_id && !has_segment(s, cmd->segment_id)) {
        set_error(r, FORUM_E_NOT_FOUND, "segment_id", "segment %lld does not exist in this session",
                  (long long)cmd->segment_id);
        return;
    }
    if (cmd->has_speaker_ids) {
        for (size_t i = 0; i < cmd->n_speaker_ids; i++) {
            if (!has_panelist(s, cmd->speaker_ids[i])) {
                set_error(r, FORUM_E_NOT_FOUND, "speaker_ids",
                          "panelist %lld is not on this session's panel",
                          (long long)cmd->speaker_ids[i]);
                return;
            }
            for (size_t j = 0; j < i; j++)
                if (cmd->speaker_ids[j] == cmd->speaker_ids[i]) {
                    set_error(r, FORUM_E_BAD_REQUEST, "speaker_ids",
                              "panelist %lld is listed twice", (long long)cmd->speaker_ids[i]);
                    return;
                }
        }
    }
    if (cmd->has_banner && too_long(cmd->banner, c->st->limits.note_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "banner", "the banner is longer than %d characters",
                  c->st->limits.note_max_chars);
        return;
    }
    cJSON *panel = panel_json(s);
    if (panel && cmd->has_segment_id) {
        cJSON_DeleteItemFromObjectCaseSensitive(panel, "segment_id");
        add_int_or_null(panel, "segment_id", cmd->segment_id);
    }
    if (panel && cmd->has_speaker_ids)
        cJSON_ReplaceItemInObjectCaseSensitive(panel, "speaker_ids",
                                               id_array(cmd->speaker_ids, cmd->n_speaker_ids));
    if (panel && cmd->has_banner) {
        cJSON_DeleteItemFromObjectCaseSensitive(panel, "banner");
        add_str_or_null(panel, "banner", cmd->banner);
    }
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        cJSON_AddItemToObject(payload, "panel", panel);
    else
        cJSON_Delete(panel);
    if (emit(c, s, "panel.changed", payload, FORUM_AUD_PUBLIC, NULL) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "panel", panel_json(s));
}

static void do_ban(ctx *c, session *s, const forum_command *cmd, bool ban)
{
    forum_result *r = c->res;
    const char *vid = cmd->viewer_id;
    if (!vid || !*vid || strlen(vid) >= FORUM_VIEWER_ID_MAX) {
        set_error(r, FORUM_E_BAD_REQUEST, "viewer_id", "a valid viewer_id is required");
        return;
    }
    int64_t vk = viewer_key(c->st, vid);
    bool banned = vk && iset_has(&s->bans, vk);
    if (banned != ban) {
        cJSON *p = cJSON_CreateObject();
        if (p)
            cJSON_AddStringToObject(p, "viewer_id", vid);
        if (emit(c, s, ban ? "viewer.banned" : "viewer.unbanned", p, FORUM_AUD_STAFF, NULL) < 0) {
            set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
            return;
        }
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddStringToObject(r->ack, "viewer_id", vid);
    cJSON_AddBoolToObject(r->ack, "banned", ban);
}

/* Reverts this actor's last covered action: restores the questions it changed (state, text,
 * star, note, merge link), the votes it moved and the air. Conflict when nothing is recorded or
 * the questions have changed since. */
static void do_undo(ctx *c, session *s)
{
    forum_result *r = c->res;
    forum_state *st = c->st;
    undo_record *u = find_undo(s, c->actor);
    if (!u) {
        set_error(r, FORUM_E_CONFLICT, NULL, "there is nothing to undo");
        return;
    }
    /* The first event below clears the stored record: work on a copy. */
    cJSON *rec = cJSON_Duplicate(u->record, true);
    if (!rec) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    const cJSON *before = cJSON_GetObjectItemCaseSensitive(rec, "questions");
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(rec, "after");
    const cJSON *merge = cJSON_GetObjectItemCaseSensitive(rec, "merge");
    const char *action = json_str(rec, "action");
    int64_t air_before = 0, air_after = 0;
    bool has_air = cJSON_GetObjectItemCaseSensitive(rec, "air_after") != NULL;
    const cJSON *it;
    if (!cJSON_IsArray(before) || !cJSON_IsArray(after) || !action ||
        !json_int_or_null(rec, "air_before", &air_before) ||
        !json_int_or_null(rec, "air_after", &air_after)) {
        set_error(r, FORUM_E_INTERNAL, NULL, "the undo record is damaged");
        goto out;
    }
    cJSON_ArrayForEach(it, after)
    {
        int64_t id;
        question *q = json_id(it, "id", &id) ? find_question(st, id) : NULL;
        const char *state = json_str(it, "state");
        if (!q || !state || strcmp(QSTATE_NAMES[q->state], state) != 0) {
            set_error(r, FORUM_E_CONFLICT, NULL,
                      "the last %s cannot be undone: the question has changed since", action);
            goto out;
        }
    }
    if (has_air && s->on_air != air_after) {
        set_error(r, FORUM_E_CONFLICT, NULL,
                  "the last %s cannot be undone: the air has changed since", action);
        goto out;
    }
    int64_t from = 0, into_id = 0;
    question *into = NULL;
    if (merge && (!json_id(merge, "from", &from) || !json_id(merge, "into", &into_id) ||
                  !(into = find_question(st, into_id)))) {
        set_error(r, FORUM_E_CONFLICT, NULL,
                  "the last merge cannot be undone: the target question is gone");
        goto out;
    }

    c->secret = cJSON_CreateObject();
    cJSON_AddTrueToObject(c->secret, "undo_clear");
    if (merge) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(merge, "moved"))
        {
            int64_t vk = cJSON_IsString(it) ? viewer_key(st, it->valuestring) : 0;
            if (vk && iset_has(&into->voters, vk) &&
                emit_vote(c, s, "vote.removed", into->id, it->valuestring) < 0)
                goto oom;
        }
        question *fq = find_question(st, from);
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(merge, "voters"))
        {
            int64_t vk = cJSON_IsString(it) ? viewer_key(st, it->valuestring) : 0;
            if (fq && vk && !iset_has(&fq->voters, vk) &&
                emit_vote(c, s, "vote.added", from, it->valuestring) < 0)
                goto oom;
        }
    }
    cJSON_ArrayForEach(it, before)
    {
        int64_t id, merged_into;
        const char *state = json_str(it, "state"), *text = json_str(it, "text"), *note;
        bool starred;
        question *q = json_id(it, "id", &id) ? find_question(st, id) : NULL;
        int state_i = name_index(QSTATE_NAMES, Q__COUNT, state);
        if (!q || state_i < 0 || !text || !json_bool(it, "starred", false, &starred) ||
            !json_str_or_null(it, "answer_note", &note) ||
            !json_int_or_null(it, "merged_into", &merged_into))
            continue;
        /* Each action restores only what it changed. */
        question restored = shadow(q);
        if (strcmp(action, "star") == 0) {
            restored.starred = starred;
        } else if (strcmp(action, "edit") == 0) {
            restored.text = (char *)text;
        } else {
            restored.state = state_i;
            if (strcmp(action, "answered") == 0)
                restored.answer_note = (char *)note;
            if (strcmp(action, "merge") == 0)
                restored.merged_into = merged_into;
        }
        state_i = restored.state;
        bool public = is_public_state(q->state) || is_public_state(state_i);
        cJSON *payload = question_payload(&restored);
        if (payload)
            cJSON_AddTrueToObject(payload, "undo");
        if (emit(c, s, "question.updated", payload,
                 public ? FORUM_AUD_PUBLIC : FORUM_AUD_STAFF_AND_SUBJECT, q->viewer_id) < 0)
            goto oom;
        if (state_i != Q_PUBLISHED && leave_queue(c, s, q->id) < 0)
            goto oom;
    }
    if (has_air && air_before != s->on_air && emit_onair(c, s, air_before) < 0)
        goto oom;
    if (r->n_events == 0) {
        /* Nothing to restore any more: forget the record all the same. */
        cJSON_Delete(c->secret);
        c->secret = NULL;
        set_error(r, FORUM_E_CONFLICT, NULL, "there is nothing to undo");
        goto out;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddStringToObject(r->ack, "undone", action);
    goto out;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
out:
    cJSON_Delete(rec);
}

/* ------------------------------------------------------------------------------------------ */
/* Polls                                                                                      */

static poll *request_poll(ctx *c, session *s, const forum_command *cmd)
{
    poll *p = cmd->poll_id > 0 ? find_poll(c->st, cmd->poll_id) : NULL;
    if (!p || p->session != s) {
        set_error(c->res, cmd->poll_id > 0 ? FORUM_E_NOT_FOUND : FORUM_E_BAD_REQUEST, "poll_id",
                  "poll %lld does not exist in this session", (long long)cmd->poll_id);
        return NULL;
    }
    return p;
}

static int emit_poll(ctx *c, session *s, const poll *p)
{
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        cJSON_AddItemToObject(payload, "poll", poll_json(p, -1));
    return emit(c, s, "poll.changed", payload,
                p->state == P_DRAFT ? FORUM_AUD_STAFF : FORUM_AUD_PUBLIC, NULL);
}

static void do_poll_create(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    int max = c->st->limits.max_poll_options;
    if (max > 62)
        max = 62;
    if (!cmd->title || !*cmd->title) {
        set_error(r, FORUM_E_BAD_REQUEST, "title", "the poll needs a title");
        return;
    }
    if (cmd->n_options < 2 || cmd->n_options > (size_t)max) {
        set_error(r, FORUM_E_BAD_REQUEST, "options", "a poll has 2 to %d options", max);
        return;
    }
    for (size_t i = 0; i < cmd->n_options; i++)
        if (!cmd->options[i] || !*cmd->options[i]) {
            set_error(r, FORUM_E_BAD_REQUEST, "options", "poll options cannot be empty");
            return;
        }
    poll p;
    memset(&p, 0, sizeof p);
    int64_t zero[62] = {0};
    p.id = c->st->next_poll_id;
    p.session = s;
    p.title = cmd->title;
    p.options = cmd->options;
    p.n_options = cmd->n_options;
    p.counts = zero;
    p.multi = cmd->multi;
    p.state = P_DRAFT;
    if (emit_poll(c, s, &p) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "poll", poll_json(find_poll(c->st, p.id), -1));
}

static void do_poll_state(ctx *c, session *s, const forum_command *cmd, int from, int to)
{
    forum_result *r = c->res;
    poll *p = request_poll(c, s, cmd);
    if (!p)
        return;
    if (p->state != from) {
        set_error(r, FORUM_E_CONFLICT, "poll_id", "this poll is %s; it must be %s",
                  PSTATE_NAMES[p->state], PSTATE_NAMES[from]);
        return;
    }
    poll after = *p;
    after.state = to;
    if (emit_poll(c, s, &after) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "poll", poll_json(p, -1));
}

/* ------------------------------------------------------------------------------------------ */
/* Programmes and sessions (producer)                                                         */

static void do_program(ctx *c, const forum_command *cmd, bool create)
{
    forum_result *r = c->res;
    program *existing = NULL;
    if (!create && !(existing = find_program(c->st, cmd->program_id))) {
        set_error(r, cmd->program_id > 0 ? FORUM_E_NOT_FOUND : FORUM_E_BAD_REQUEST, "program_id",
                  "programme %lld does not exist", (long long)cmd->program_id);
        return;
    }
    if (create && (!cmd->title || !*cmd->title)) {
        set_error(r, FORUM_E_BAD_REQUEST, "title", "the programme needs a title");
        return;
    }
    if (too_long(cmd->title, c->st->limits.title_max_chars) ||
        too_long(cmd->description, c->st->limits.note_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, cmd->description ? "description" : "title",
                  "the programme's title or description is too long");
        return;
    }
    program p = {
        .id = create ? c->st->next_program_id : existing->id,
        .title = cmd->title && *cmd->title ? cmd->title : (existing ? existing->title : NULL),
        .description = cmd->description ? cmd->description : (existing ? existing->description
                                                                        : NULL),
    };
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        cJSON_AddItemToObject(payload, "program", program_json(&p));
    if (emit_in(c, "", "program.changed", payload, FORUM_AUD_PUBLIC, NULL, NULL) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "program", program_json(find_program(c->st, p.id)));
}

/* Checks the settings fields of a session.create/update against the limits. */
static bool check_session_fields(ctx *c, const forum_command *cmd)
{
    forum_result *r = c->res;
    const forum_limits *l = &c->st->limits;
    if (too_long(cmd->title, l->title_max_chars) || (cmd->has_topic &&
                                                      too_long(cmd->topic, l->title_max_chars))) {
        set_error(r, FORUM_E_TOO_LONG, too_long(cmd->title, l->title_max_chars) ? "title" : "topic",
                  "at most %d characters", l->title_max_chars);
        return false;
    }
    if (cmd->has_panelists) {
        if ((int)cmd->n_panelists > l->max_panelists) {
            set_error(r, FORUM_E_BAD_REQUEST, "panelists", "a session has at most %d panelists",
                      l->max_panelists);
            return false;
        }
        for (size_t i = 0; i < cmd->n_panelists; i++)
            if (!cmd->panelists[i].name || !*cmd->panelists[i].name) {
                set_error(r, FORUM_E_BAD_REQUEST, "panelists", "every panelist needs a name");
                return false;
            }
    }
    if (cmd->has_segments) {
        if ((int)cmd->n_segments > l->max_segments) {
            set_error(r, FORUM_E_BAD_REQUEST, "segments", "a session has at most %d segments",
                      l->max_segments);
            return false;
        }
        for (size_t i = 0; i < cmd->n_segments; i++)
            if (!cmd->segments[i] || !*cmd->segments[i]) {
                set_error(r, FORUM_E_BAD_REQUEST, "segments", "every segment needs a title");
                return false;
            }
    }
    if (cmd->has_blocked_words) {
        if ((int)cmd->n_blocked_words > l->max_blocked_words) {
            set_error(r, FORUM_E_BAD_REQUEST, "blocked_words",
                      "a session has at most %d blocked words", l->max_blocked_words);
            return false;
        }
        for (size_t i = 0; i < cmd->n_blocked_words; i++)
            if (!cmd->blocked_words[i] || !*cmd->blocked_words[i]) {
                set_error(r, FORUM_E_BAD_REQUEST, "blocked_words",
                          "blocked words cannot be empty");
                return false;
            }
    }
    if (cmd->has_question_rate && cmd->question_rate_per_min < 0) {
        set_error(r, FORUM_E_BAD_REQUEST, "question_rate_per_min", "must not be negative");
        return false;
    }
    if (cmd->program_id && !find_program(c->st, cmd->program_id)) {
        set_error(r, FORUM_E_NOT_FOUND, "program_id", "programme %lld does not exist",
                  (long long)cmd->program_id);
        return false;
    }
    return true;
}

/* Builds cfg (a copy of base, or fresh) with the command's settings fields applied. Panelists
 * and segments keep their id when their name/title is unchanged; new ones get the next id. */
static int merge_session_fields(session_config *cfg, const session_config *base,
                                const forum_command *cmd)
{
    if (base) {
        if (config_copy(cfg, base) < 0)
            return -1;
    } else {
        memset(cfg, 0, sizeof *cfg);
        cfg->anonymous_allowed = true;
        cfg->question_rate_per_min = DEFAULT_QUESTION_RATE;
    }
    if (cmd->program_id)
        cfg->program_id = cmd->program_id;
    if (cmd->title && *cmd->title && set_str(&cfg->title, cmd->title) < 0)
        goto fail;
    if (cmd->has_topic && set_str(&cfg->topic, cmd->topic) < 0)
        goto fail;
    if (cmd->has_scheduled_at)
        cfg->scheduled_at = cmd->scheduled_at;
    if (cmd->has_premoderation)
        cfg->premoderation = cmd->premoderation;
    if (cmd->has_anonymous_allowed)
        cfg->anonymous_allowed = cmd->anonymous_allowed;
    if (cmd->has_question_rate)
        cfg->question_rate_per_min =
            cmd->question_rate_per_min ? cmd->question_rate_per_min : DEFAULT_QUESTION_RATE;
    if (cmd->has_blocked_words) {
        char **words = cmd->n_blocked_words ? calloc(cmd->n_blocked_words, sizeof *words) : NULL;
        if (cmd->n_blocked_words && !words)
            goto fail;
        for (size_t i = 0; i < cmd->n_blocked_words; i++)
            if (!(words[i] = strdup(cmd->blocked_words[i]))) {
                for (size_t j = 0; j < i; j++)
                    free(words[j]);
                free(words);
                goto fail;
            }
        for (size_t i = 0; i < cfg->n_blocked_words; i++)
            free(cfg->blocked_words[i]);
        free(cfg->blocked_words);
        cfg->blocked_words = words;
        cfg->n_blocked_words = cmd->n_blocked_words;
    }
    if (cmd->has_panelists) {
        panelist *np = cmd->n_panelists ? calloc(cmd->n_panelists, sizeof *np) : NULL;
        if (cmd->n_panelists && !np)
            goto fail;
        int64_t next = 1;
        for (size_t i = 0; i < cfg->n_panelists; i++)
            if (cfg->panelists[i].id >= next)
                next = cfg->panelists[i].id + 1;
        for (size_t i = 0; i < cmd->n_panelists; i++) {
            const forum_panelist_in *in = &cmd->panelists[i];
            np[i].id = 0;
            for (size_t j = 0; j < cfg->n_panelists && !np[i].id; j++) {
                bool taken = false;
                for (size_t k = 0; k < i; k++)
                    taken |= np[k].id == cfg->panelists[j].id;
                if (!taken && strcmp(cfg->panelists[j].name, in->name) == 0)
                    np[i].id = cfg->panelists[j].id;
            }
            if (!np[i].id)
                np[i].id = next++;
            np[i].name = strdup(in->name);
            np[i].affiliation = dup_or_null(in->affiliation);
            np[i].role = dup_or_null(in->role);
        }
        for (size_t i = 0; i < cfg->n_panelists; i++) {
            free(cfg->panelists[i].name);
            free(cfg->panelists[i].affiliation);
            free(cfg->panelists[i].role);
        }
        free(cfg->panelists);
        cfg->panelists = np;
        cfg->n_panelists = cmd->n_panelists;
        for (size_t i = 0; i < cfg->n_panelists; i++)
            if (!np[i].name || (cmd->panelists[i].affiliation && !np[i].affiliation) ||
                (cmd->panelists[i].role && !np[i].role))
                goto fail;
    }
    if (cmd->has_segments) {
        segment *ns = cmd->n_segments ? calloc(cmd->n_segments, sizeof *ns) : NULL;
        if (cmd->n_segments && !ns)
            goto fail;
        int64_t next = 1;
        for (size_t i = 0; i < cfg->n_segments; i++)
            if (cfg->segments[i].id >= next)
                next = cfg->segments[i].id + 1;
        for (size_t i = 0; i < cmd->n_segments; i++) {
            ns[i].id = 0;
            for (size_t j = 0; j < cfg->n_segments && !ns[i].id; j++) {
                bool taken = false;
                for (size_t k = 0; k < i; k++)
                    taken |= ns[k].id == cfg->segments[j].id;
                if (!taken && strcmp(cfg->segments[j].title, cmd->segments[i]) == 0)
                    ns[i].id = cfg->segments[j].id;
            }
            if (!ns[i].id)
                ns[i].id = next++;
            ns[i].title = strdup(cmd->segments[i]);
        }
        for (size_t i = 0; i < cfg->n_segments; i++)
            free(cfg->segments[i].title);
        free(cfg->segments);
        cfg->segments = ns;
        cfg->n_segments = cmd->n_segments;
        for (size_t i = 0; i < cfg->n_segments; i++)
            if (!ns[i].title)
                goto fail;
    }
    return 0;
fail:
    config_free(cfg);
    return -1;
}

/* Emits session.changed for code with cfg; secret_key (plaintext) adds the key hash secret. */
static int emit_session(ctx *c, const char *code, const session_config *cfg,
                        const char *plain_key)
{
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        cJSON_AddItemToObject(payload, "session", config_json(c->st, code, cfg, true));
    if (plain_key) {
        char hash[65];
        auth_sha256_hex(plain_key, strlen(plain_key), hash);
        cJSON_Delete(c->secret);
        c->secret = cJSON_CreateObject();
        cJSON_AddStringToObject(c->secret, "moderator_key_hash", hash);
    }
    return emit_in(c, code, "session.changed", payload, FORUM_AUD_PUBLIC, NULL, NULL);
}

/* A random moderator key of MODERATOR_KEY_LEN alphanumerics from env->random_bytes. */
static void new_moderator_key(const forum_env *env, char out[MODERATOR_KEY_LEN + 1])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    while (n < MODERATOR_KEY_LEN) {
        unsigned char buf[32];
        env->random_bytes(buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf && n < MODERATOR_KEY_LEN; i++)
            if (buf[i] < 248) /* 4 * 62: no modulo bias */
                out[n++] = alphabet[buf[i] % 62];
    }
    out[n] = '\0';
}

static void do_session_create(ctx *c, const forum_command *cmd)
{
    forum_result *r = c->res;
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* 32 symbols */
    if (cmd->program_id <= 0) {
        set_error(r, FORUM_E_BAD_REQUEST, "program_id", "program_id is required");
        return;
    }
    if (!cmd->title || !*cmd->title) {
        set_error(r, FORUM_E_BAD_REQUEST, "title", "the session needs a title");
        return;
    }
    if (!check_session_fields(c, cmd))
        return;
    char code[FORUM_CODE_MAX];
    int tries = 0;
    do {
        unsigned char b[JOIN_CODE_LEN];
        c->env->random_bytes(b, sizeof b);
        for (int i = 0; i < JOIN_CODE_LEN; i++)
            code[i] = alphabet[b[i] & 31];
        code[JOIN_CODE_LEN] = '\0';
    } while (find_session(c->st, code) && ++tries < 1000);
    if (find_session(c->st, code)) {
        set_error(r, FORUM_E_INTERNAL, NULL, "could not find a free join code");
        return;
    }
    char key[MODERATOR_KEY_LEN + 1];
    new_moderator_key(c->env, key);
    session_config cfg;
    if (merge_session_fields(&cfg, NULL, cmd) < 0)
        goto oom;
    cfg.status = S_DRAFT;
    int rc = emit_session(c, code, &cfg, key);
    config_free(&cfg);
    if (rc < 0)
        goto oom;
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "session", session_json(c->st, find_session(c->st, code), true));
    cJSON_AddStringToObject(r->ack, "moderator_key", key);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

static void do_session_update(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (!check_session_fields(c, cmd))
        return;
    session_config cfg;
    if (merge_session_fields(&cfg, &s->cfg, cmd) < 0)
        goto oom;
    int rc = emit_session(c, s->code, &cfg, NULL);
    config_free(&cfg);
    if (rc < 0)
        goto oom;
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "session", session_json(c->st, s, true));
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

static void do_session_status(ctx *c, session *s, forum_cmd_type type)
{
    forum_result *r = c->res;
    int from = s->cfg.status, to;
    bool ok;
    switch (type) {
    case FORUM_CMD_SESSION_OPEN: to = S_OPEN; ok = from == S_DRAFT; break;
    case FORUM_CMD_SESSION_START: to = S_LIVE; ok = from == S_DRAFT || from == S_OPEN; break;
    case FORUM_CMD_SESSION_END: to = S_ENDED; ok = from == S_LIVE; break;
    default: to = S_ARCHIVED; ok = from == S_ENDED; break;
    }
    if (!ok) {
        set_error(r, FORUM_E_CONFLICT, NULL, "a %s session cannot become %s", STATUS_NAMES[from],
                  STATUS_NAMES[to]);
        return;
    }
    session_config cfg;
    if (config_copy(&cfg, &s->cfg) < 0)
        goto oom;
    cfg.status = to;
    if (to == S_LIVE)
        cfg.started_at = c->env->now_ms;
    if (to == S_ENDED)
        cfg.ended_at = c->env->now_ms;
    int rc = emit_session(c, s->code, &cfg, NULL);
    config_free(&cfg);
    if (rc < 0)
        goto oom;
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "session", session_json(c->st, s, true));
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

static void do_rotate_key(ctx *c, session *s)
{
    char key[MODERATOR_KEY_LEN + 1];
    new_moderator_key(c->env, key);
    if (emit_session(c, s->code, &s->cfg, key) < 0) {
        set_error(c->res, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    c->res->ack = cJSON_CreateObject();
    cJSON_AddStringToObject(c->res->ack, "moderator_key", key);
}

/* ------------------------------------------------------------------------------------------ */
/* Action items, carry-over and erasure (the archive's outcomes)                             */

/* Creation order of a session (its index in st->sessions). */
static int64_t session_order(const forum_state *st, const session *s)
{
    int64_t *idx = smap_get(&st->session_index, s->code);
    return idx ? *idx : -1;
}

/* The date a session took place or is planned for: started_at, else scheduled_at, else 0. */
static int64_t session_date(const session *s)
{
    return s->cfg.started_at ? s->cfg.started_at : s->cfg.scheduled_at;
}

/* Is a an earlier session than b? By date when both have one, else by creation order. */
static bool session_before(const forum_state *st, const session *a, const session *b)
{
    int64_t da = session_date(a), db = session_date(b);
    if (da && db && da != db)
        return da < db;
    return session_order(st, a) < session_order(st, b);
}

static int emit_action(ctx *c, session *in, const action_item *a)
{
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        cJSON_AddItemToObject(payload, "action", action_json(a));
    return emit(c, in, "action.changed", payload, FORUM_AUD_STAFF, NULL);
}

static void ack_action(forum_result *r, const forum_state *st, int64_t id)
{
    const action_item *a = find_action(st, id);
    r->ack = cJSON_CreateObject();
    if (a)
        cJSON_AddItemToObject(r->ack, "action", action_json(a));
}

/* Checks the optional fields shared by action.create and action.update. */
static bool check_action_fields(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (cmd->has_question_id && cmd->question_id) {
        const question *q = find_question(c->st, cmd->question_id);
        if (!q || q->session != s) {
            set_error(r, FORUM_E_NOT_FOUND, "question_id",
                      "question %lld does not exist in this session",
                      (long long)cmd->question_id);
            return false;
        }
    }
    if (cmd->text && too_long(cmd->text, c->st->limits.question_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "text", "the action text is longer than %d characters",
                  c->st->limits.question_max_chars);
        return false;
    }
    return true;
}

static void do_action_create(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (!cmd->text || !*cmd->text) {
        set_error(r, FORUM_E_BAD_REQUEST, "text", "the action needs a text");
        return;
    }
    if (!check_action_fields(c, s, cmd))
        return;
    action_item a = {
        .id = c->st->next_action_id,
        .session = s,
        .question_id = cmd->has_question_id ? cmd->question_id : 0,
        .text = cmd->text,
        .owner = cmd->has_owner ? cmd->owner : NULL,
        .due = cmd->has_due ? cmd->due : NULL,
        .status = cmd->has_status ? cmd->status : FORUM_ACTION_OPEN,
        .created_at = c->env->now_ms,
        .updated_at = c->env->now_ms,
    };
    if (emit_action(c, s, &a) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_action(r, c->st, a.id);
}

/* Updates an action of session s, or of an earlier session of the same programme (the
 * follow-up of last show's commitments happens in this show: the event goes to s's log). */
static void do_action_update(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    action_item *cur = cmd->action_id > 0 ? find_action(c->st, cmd->action_id) : NULL;
    if (!cur || (cur->session != s && (cur->session->cfg.program_id != s->cfg.program_id ||
                                       !session_before(c->st, cur->session, s)))) {
        set_error(r, cmd->action_id > 0 ? FORUM_E_NOT_FOUND : FORUM_E_BAD_REQUEST, "action_id",
                  "action %lld does not exist in this session or an earlier one of its "
                  "programme", (long long)cmd->action_id);
        return;
    }
    if (!check_action_fields(c, cur->session, cmd))
        return;
    action_item a = *cur;
    if (cmd->text && *cmd->text)
        a.text = cmd->text;
    if (cmd->has_owner)
        a.owner = cmd->owner;
    if (cmd->has_due)
        a.due = cmd->due;
    if (cmd->has_status)
        a.status = cmd->status;
    if (cmd->has_question_id)
        a.question_id = cmd->question_id;
    a.updated_at = c->env->now_ms;
    if (emit_action(c, s, &a) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_action(r, c->st, a.id);
}

/* The panelist of to with the name of from's panelist id, or 0. */
static int64_t same_panelist(const session *from, int64_t id, const session *to)
{
    for (size_t i = 0; id && i < from->cfg.n_panelists; i++) {
        if (from->cfg.panelists[i].id != id)
            continue;
        for (size_t j = 0; j < to->cfg.n_panelists; j++)
            if (strcmp(to->cfg.panelists[j].name, from->cfg.panelists[i].name) == 0)
                return to->cfg.panelists[j].id;
    }
    return 0;
}

/* The question of to carried from question src_id of from, or NULL. */
static question *carried_copy(const session *to, const session *from, int64_t src_id)
{
    for (size_t i = 0; i < to->n_questions; i++) {
        question *q = to->questions[i];
        if (q->carried_question_id == src_id && q->carried_from &&
            strcmp(q->carried_from, from->code) == 0)
            return q;
    }
    return NULL;
}

/* Copies the unanswered public questions (published or on air) of one session into a later
 * session of the same programme as published pre-show questions: source "carried", a link
 * back (carried_from, carried_question_id), votes reset, follow-up links kept when the parent
 * is carried too, the addressed panelist matched by name. Questions carried before are
 * skipped, so repeating the request adds nothing. */
static void do_carry_over(ctx *c, const forum_command *cmd)
{
    forum_result *r = c->res;
    forum_state *st = c->st;
    if (!cmd->from_session || !cmd->to_session) {
        set_error(r, FORUM_E_BAD_REQUEST, cmd->from_session ? "to" : "from",
                  "name both sessions (from, to)");
        return;
    }
    session *from = find_session(st, cmd->from_session), *to = find_session(st, cmd->to_session);
    if (!from || !to) {
        set_error(r, FORUM_E_NOT_FOUND, from ? "to" : "from", "session %s does not exist",
                  from ? cmd->to_session : cmd->from_session);
        return;
    }
    if (from == to) {
        set_error(r, FORUM_E_BAD_REQUEST, "to", "carry questions into another session");
        return;
    }
    if (to->cfg.status == S_ARCHIVED) {
        set_error(r, FORUM_E_SESSION_CLOSED, "to", "session %s is archived", to->code);
        return;
    }
    if (from->cfg.program_id != to->cfg.program_id) {
        set_error(r, FORUM_E_CONFLICT, "to", "both sessions must belong to the same programme");
        return;
    }
    if (to->cfg.status == S_ENDED || !session_before(st, from, to)) {
        set_error(r, FORUM_E_CONFLICT, "to",
                  "questions can be carried only into a later session that has not ended");
        return;
    }
    size_t n_new = 0;
    for (size_t i = 0; i < from->n_questions; i++) {
        const question *src = from->questions[i];
        if ((src->state == Q_PUBLISHED || src->state == Q_ON_AIR) &&
            !carried_copy(to, from, src->id))
            n_new++;
    }
    if (st->limits.questions_per_session > 0 &&
        to->n_questions + n_new > (size_t)st->limits.questions_per_session) {
        set_error(r, FORUM_E_CONFLICT, "to", "session %s would exceed its limit of %d questions",
                  to->code, st->limits.questions_per_session);
        return;
    }
    cJSON *ids = cJSON_CreateArray(), *skipped = cJSON_CreateArray();
    cJSON *objs = cJSON_CreateArray();
    if (!ids || !skipped || !objs)
        goto oom;
    for (size_t i = 0; i < from->n_questions; i++) {
        const question *src = from->questions[i];
        if (src->state != Q_PUBLISHED && src->state != Q_ON_AIR)
            continue;
        if (carried_copy(to, from, src->id)) {
            cJSON_AddItemToArray(skipped, cJSON_CreateNumber((double)src->id));
            continue;
        }
        const question *parent = src->parent_id ? carried_copy(to, from, src->parent_id) : NULL;
        question q = shadow(src);
        memset(&q.voters, 0, sizeof q.voters);
        q.id = st->next_question_id;
        q.session = to;
        q.source = FORUM_SRC_CARRIED;
        q.carried_from = from->code;
        q.carried_question_id = src->id;
        q.parent_id = parent ? parent->id : 0;
        q.to = same_panelist(from, src->to, to);
        q.state = Q_PUBLISHED;
        q.live_phase = false;
        q.starred = false;
        q.merged_into = 0;
        q.answer_note = NULL;
        q.created_at = c->env->now_ms;
        q.dirty = false;
        if (emit_in(c, to->code, "question.submitted", question_payload(&q),
                    FORUM_AUD_STAFF_AND_SUBJECT, q.viewer_id, NULL) < 0)
            goto oom;
        question *added = find_question(st, q.id);
        if (!added || emit_question(c, "question.published", added, FORUM_AUD_PUBLIC) < 0)
            goto oom;
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)added->id));
        cJSON_AddItemToArray(objs, question_json(added, true, false));
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddStringToObject(r->ack, "from", from->code);
    cJSON_AddStringToObject(r->ack, "to", to->code);
    cJSON_AddItemToObject(r->ack, "question_ids", ids);
    cJSON_AddItemToObject(r->ack, "questions", objs);
    cJSON_AddItemToObject(r->ack, "already_carried", skipped);
    return;
oom:
    cJSON_Delete(ids);
    cJSON_Delete(skipped);
    cJSON_Delete(objs);
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

/* Removes one viewer's personal data from session s: their questions lose the author name and
 * the device-derived viewer id (replaced by a random placeholder "x" + 16 hex that nothing
 * links back to the device); their votes, ballots and ban move to the placeholder so counts
 * stay right. The store rewrites every stored event and projection row of s that holds the
 * viewer id (see forum_event.erased_viewer_id). Allowed on archived sessions: erasure is the
 * one write the archive must still accept. */
static void do_viewer_erase(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    const char *vid = cmd->viewer_id;
    if (!vid || !*vid || strlen(vid) >= FORUM_VIEWER_ID_MAX) {
        set_error(r, FORUM_E_BAD_REQUEST, "viewer_id", "a valid viewer_id is required");
        return;
    }
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[8];
    char placeholder[FORUM_VIEWER_ID_MAX];
    c->env->random_bytes(rnd, sizeof rnd);
    placeholder[0] = 'x';
    for (int i = 0; i < 8; i++) {
        placeholder[1 + 2 * i] = hex[rnd[i] >> 4];
        placeholder[2 + 2 * i] = hex[rnd[i] & 15];
    }
    placeholder[17] = '\0';

    cJSON *payload = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *others = NULL;
    cJSON *qs = payload ? cJSON_AddArrayToObject(payload, "questions") : NULL;
    if (!payload || !ids || !qs)
        goto oom;
    cJSON_AddStringToObject(payload, "viewer_id", placeholder);
    for (size_t i = 0; i < s->n_questions; i++) {
        const question *q = s->questions[i];
        if (strcmp(q->viewer_id, vid) != 0)
            continue;
        question anon = shadow(q);
        anon.author = NULL;
        snprintf(anon.viewer_id, sizeof anon.viewer_id, "%s", placeholder);
        cJSON_AddItemToArray(qs, question_json(&anon, true, false));
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)q->id));
    }
    c->erased_viewer_id = vid;
    if (emit(c, s, "viewer.erased", payload, FORUM_AUD_STAFF, NULL) < 0) {
        payload = NULL;
        goto oom;
    }
    payload = NULL;
    /* Viewers showing the name of a public question get the anonymised one. */
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        question *q = find_question(c->st, (int64_t)it->valuedouble);
        if (q && is_public_state(q->state) &&
            emit_question(c, "question.updated", q, FORUM_AUD_PUBLIC) < 0)
            goto oom;
    }
    others = cJSON_CreateArray();
    for (size_t i = 0; others && i < c->st->n_sessions; i++) {
        const session *o = c->st->sessions[i];
        for (size_t j = 0; o != s && j < o->n_questions; j++)
            if (strcmp(o->questions[j]->viewer_id, vid) == 0) {
                cJSON_AddItemToArray(others, cJSON_CreateString(o->code));
                break;
            }
    }
    r->ack = cJSON_CreateObject();
    cJSON_AddStringToObject(r->ack, "session", s->code);
    cJSON_AddStringToObject(r->ack, "placeholder", placeholder);
    cJSON_AddItemToObject(r->ack, "question_ids", ids);
    cJSON_AddItemToObject(r->ack, "other_sessions", others);
    return;
oom:
    c->erased_viewer_id = NULL;
    cJSON_Delete(payload);
    cJSON_Delete(ids);
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

static cJSON *studio_json(const forum_state *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON *pa = cJSON_AddArrayToObject(o, "programs");
    for (size_t i = 0; pa && i < st->n_programs; i++)
        cJSON_AddItemToArray(pa, program_json(&st->programs[i]));
    cJSON *sa = cJSON_AddArrayToObject(o, "sessions");
    for (size_t i = 0; sa && i < st->n_sessions; i++)
        cJSON_AddItemToArray(sa, session_json(st, st->sessions[i], true));
    return o;
}

/* ------------------------------------------------------------------------------------------ */
/* forum_apply                                                                                */

typedef enum who { WHO_VIEWER, WHO_ANYONE, WHO_STAFF, WHO_PRODUCER_STUDIO, WHO_PRODUCER } who;

static who command_class(forum_cmd_type t)
{
    switch (t) {
    case FORUM_CMD_QUESTION_WITHDRAW:
    case FORUM_CMD_VOTE_ADD:
    case FORUM_CMD_VOTE_REMOVE:
    case FORUM_CMD_POLL_VOTE: return WHO_VIEWER;
    case FORUM_CMD_QUESTION_SUBMIT:
    case FORUM_CMD_QUESTION_EDIT: return WHO_ANYONE;
    case FORUM_CMD_PROGRAM_CREATE:
    case FORUM_CMD_PROGRAM_UPDATE:
    case FORUM_CMD_SESSION_CREATE:
    case FORUM_CMD_SESSION_LIST:
    case FORUM_CMD_SESSION_CARRY_OVER:
    case FORUM_CMD_SEARCH:
    case FORUM_CMD_BACKUP: return WHO_PRODUCER_STUDIO;
    case FORUM_CMD_VIEWER_ERASE: return WHO_PRODUCER;
    case FORUM_CMD_SESSION_UPDATE:
    case FORUM_CMD_SESSION_OPEN:
    case FORUM_CMD_SESSION_START:
    case FORUM_CMD_SESSION_END:
    case FORUM_CMD_SESSION_ARCHIVE:
    case FORUM_CMD_SESSION_ROTATE_KEY: return WHO_PRODUCER;
    default: return WHO_STAFF;
    }
}

static void actor_string(const forum_actor *a, char *out, size_t cap)
{
    switch (a->role) {
    case FORUM_ROLE_VIEWER: snprintf(out, cap, "viewer:%s", a->viewer_id); break;
    case FORUM_ROLE_MODERATOR:
        snprintf(out, cap, "moderator:%s", a->name[0] ? a->name : "moderator");
        break;
    case FORUM_ROLE_PRODUCER: snprintf(out, cap, "producer"); break;
    default: snprintf(out, cap, "system"); break;
    }
}

forum_result forum_apply(forum_state *st, const forum_actor *actor, const forum_command *cmd,
                         const forum_env *env)
{
    forum_result res;
    memset(&res, 0, sizeof res);
    ctx c = {.st = st, .env = env, .res = &res};
    if (!st || !actor || !cmd || !env) {
        set_error(&res, FORUM_E_INTERNAL, NULL, "forum_apply called without state");
        return res;
    }
    actor_string(actor, c.actor, sizeof c.actor);
    if (actor->role == FORUM_ROLE_NONE) {
        set_error(&res, FORUM_E_UNAUTHORIZED, NULL, "say hello first");
        return res;
    }
    if (cmd->type <= FORUM_CMD_HELLO || cmd->type >= FORUM_CMD__COUNT) {
        set_error(&res, FORUM_E_UNKNOWN_TYPE, "type", "this request type is not a forum request");
        return res;
    }
    who cls = command_class(cmd->type);
    bool staff = is_staff(actor), producer = actor->role == FORUM_ROLE_PRODUCER;
    if ((cls == WHO_VIEWER && actor->role != FORUM_ROLE_VIEWER) ||
        (cls == WHO_STAFF && !staff) ||
        ((cls == WHO_PRODUCER || cls == WHO_PRODUCER_STUDIO) && !producer)) {
        set_error(&res, FORUM_E_FORBIDDEN, NULL, "your role may not do this");
        return res;
    }

    if (cls == WHO_PRODUCER_STUDIO) {
        switch (cmd->type) {
        case FORUM_CMD_PROGRAM_CREATE: do_program(&c, cmd, true); break;
        case FORUM_CMD_PROGRAM_UPDATE: do_program(&c, cmd, false); break;
        case FORUM_CMD_SESSION_CREATE: do_session_create(&c, cmd); break;
        case FORUM_CMD_SESSION_CARRY_OVER: do_carry_over(&c, cmd); break;
        case FORUM_CMD_SEARCH:
        case FORUM_CMD_BACKUP: break; /* authorized here; the dispatcher does the work */
        default: res.ack = studio_json(st); break;
        }
        goto out;
    }

    /* The target session. */
    const char *code;
    if (producer) {
        code = cmd->session && *cmd->session ? cmd->session : actor->session;
        if (!*code && cmd->type == FORUM_CMD_ACTION_UPDATE && find_action(st, cmd->action_id))
            code = find_action(st, cmd->action_id)->session->code; /* where it was made */
        if (!*code) {
            set_error(&res, FORUM_E_BAD_REQUEST, "session",
                      "name the session this request acts on");
            return res;
        }
    } else {
        if (cmd->session && *cmd->session && strcmp(cmd->session, actor->session) != 0) {
            set_error(&res, FORUM_E_FORBIDDEN, "session",
                      "you may act only in the session you joined");
            return res;
        }
        code = actor->session;
    }
    session *s = find_session(st, code);
    if (!s) {
        set_error(&res, FORUM_E_NOT_FOUND, "session", "session %s does not exist", code);
        return res;
    }

    /* An idempotent repeat of a submit gets the original ack, whatever happened since. */
    if (cmd->type == FORUM_CMD_QUESTION_SUBMIT && cmd->id && *cmd->id) {
        char key[FORUM_ACTOR_MAX + FORUM_REQUEST_ID_MAX + 2];
        submit_key(key, sizeof key, staff ? c.actor : actor->viewer_id, cmd->id);
        int64_t *qid = smap_get(&s->submits, key);
        question *q = qid ? find_question(st, *qid) : NULL;
        if (q) {
            res.ack = cJSON_CreateObject();
            cJSON_AddItemToObject(res.ack, "question", question_json(q, staff, !staff));
            return res;
        }
    }

    if (s->cfg.status == S_ARCHIVED && cmd->type != FORUM_CMD_VIEWER_ERASE) {
        set_error(&res, FORUM_E_SESSION_CLOSED, NULL, "this session is archived");
        return res;
    }
    if (actor->role == FORUM_ROLE_VIEWER) {
        int64_t vk = viewer_key(st, actor->viewer_id);
        if (vk && iset_has(&s->bans, vk)) {
            set_error(&res, FORUM_E_BANNED, NULL, "you have been banned from this session");
            return res;
        }
        if (s->cfg.status != S_OPEN && s->cfg.status != S_LIVE) {
            set_error(&res, FORUM_E_SESSION_CLOSED, NULL,
                      "this session is not taking questions or votes (it is %s)",
                      STATUS_NAMES[s->cfg.status]);
            return res;
        }
    }

    switch (cmd->type) {
    case FORUM_CMD_QUESTION_SUBMIT: do_submit(&c, s, actor, cmd); break;
    case FORUM_CMD_QUESTION_EDIT: do_edit(&c, s, actor, cmd); break;
    case FORUM_CMD_QUESTION_WITHDRAW: do_withdraw(&c, s, actor, cmd); break;
    case FORUM_CMD_VOTE_ADD: do_vote(&c, s, actor, cmd, true); break;
    case FORUM_CMD_VOTE_REMOVE: do_vote(&c, s, actor, cmd, false); break;
    case FORUM_CMD_POLL_VOTE: do_poll_vote(&c, s, actor, cmd); break;
    case FORUM_CMD_QUESTION_APPROVE: do_approve(&c, s, cmd); break;
    case FORUM_CMD_QUESTION_DISMISS: do_dismiss(&c, s, cmd); break;
    case FORUM_CMD_QUESTION_STAR: do_star(&c, s, cmd); break;
    case FORUM_CMD_QUESTION_MERGE: do_merge(&c, s, cmd); break;
    case FORUM_CMD_QUESTION_ANSWERED: do_answered(&c, s, cmd); break;
    case FORUM_CMD_QUESTION_UNDO: do_undo(&c, s); break;
    case FORUM_CMD_ONAIR_SET: do_onair_set(&c, s, cmd); break;
    case FORUM_CMD_ONAIR_CLEAR: do_onair_clear(&c, s); break;
    case FORUM_CMD_ONAIR_NEXT: do_onair_next(&c, s); break;
    case FORUM_CMD_QUEUE_SET: do_queue_set(&c, s, cmd); break;
    case FORUM_CMD_PANEL_SET: do_panel_set(&c, s, cmd); break;
    case FORUM_CMD_VIEWER_BAN: do_ban(&c, s, cmd, true); break;
    case FORUM_CMD_VIEWER_UNBAN: do_ban(&c, s, cmd, false); break;
    case FORUM_CMD_POLL_CREATE: do_poll_create(&c, s, cmd); break;
    case FORUM_CMD_POLL_OPEN: do_poll_state(&c, s, cmd, P_DRAFT, P_OPEN); break;
    case FORUM_CMD_POLL_CLOSE: do_poll_state(&c, s, cmd, P_OPEN, P_CLOSED); break;
    case FORUM_CMD_SESSION_UPDATE: do_session_update(&c, s, cmd); break;
    case FORUM_CMD_SESSION_OPEN:
    case FORUM_CMD_SESSION_START:
    case FORUM_CMD_SESSION_END:
    case FORUM_CMD_SESSION_ARCHIVE: do_session_status(&c, s, cmd->type); break;
    case FORUM_CMD_SESSION_ROTATE_KEY: do_rotate_key(&c, s); break;
    case FORUM_CMD_ACTION_CREATE: do_action_create(&c, s, cmd); break;
    case FORUM_CMD_ACTION_UPDATE: do_action_update(&c, s, cmd); break;
    case FORUM_CMD_VIEWER_ERASE: do_viewer_erase(&c, s, cmd); break;
    default: set_error(&res, FORUM_E_UNKNOWN_TYPE, "type", "unknown request type"); break;
    }
out:
    cJSON_Delete(c.secret);
    if (res.err != FORUM_OK) {
        /* Validation precedes every event, so events exist here only after an allocation
         * failure mid-batch; they are already applied and must still be committed. */
        cJSON_Delete(res.ack);
        res.ack = NULL;
    }
    return res;
}

/* ------------------------------------------------------------------------------------------ */
/* Coalesced counts                                                                           */

size_t forum_flush_counts(forum_state *st, const forum_env *env, forum_event **out, size_t *n)
{
    forum_result res;
    memset(&res, 0, sizeof res);
    res.events = *out;
    res.n_events = *n;
    size_t before = *n;
    ctx c = {.st = st, .env = env, .res = &res};
    snprintf(c.actor, sizeof c.actor, "system");
    for (size_t i = 0; i < st->n_sessions; i++) {
        session *s = st->sessions[i];
        if (s->n_dirty_questions) {
            cJSON *payload = cJSON_CreateObject();
            cJSON *counts = cJSON_AddObjectToObject(payload, "counts");
            for (size_t j = 0; counts && j < s->n_dirty_questions; j++) {
                const question *q = find_question(st, s->dirty_questions[j]);
                char key[24];
                snprintf(key, sizeof key, "%lld", (long long)s->dirty_questions[j]);
                if (q)
                    add_int(counts, key, (int64_t)q->voters.len);
            }
            emit(&c, s, "votes.changed", payload, FORUM_AUD_PUBLIC, NULL);
        }
        for (size_t j = 0; j < s->n_polls; j++) {
            const poll *p = s->polls[j];
            if (p->dirty && p->state != P_DRAFT)
                emit_poll(&c, s, p);
        }
    }
    *out = res.events;
    *n = res.n_events;
    return res.n_events - before;
}

/* ------------------------------------------------------------------------------------------ */
/* Snapshot and lookups                                                                       */

cJSON *forum_snapshot(const forum_state *st, const forum_actor *actor, const char *code)
{
    if (!st || !actor)
        return NULL;
    if (!code || !*code)
        return studio_json(st);
    const session *s = find_session(st, code);
    if (!s)
        return NULL;
    bool staff = is_staff(actor);
    int64_t vk = staff ? 0 : viewer_key(st, actor->viewer_id);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddItemToObject(o, "session", session_json(st, s, staff));
    cJSON_AddItemToObject(o, "panel", panel_json(s));
    cJSON *polls = cJSON_AddArrayToObject(o, "polls");
    for (size_t i = 0; polls && i < s->n_polls; i++) {
        const poll *p = s->polls[i];
        if (staff) {
            cJSON_AddItemToArray(polls, poll_json(p, -1));
        } else if (p->state != P_DRAFT) {
            int64_t *mask = vk ? imap_get(&p->ballots, vk) : NULL;
            cJSON_AddItemToArray(polls, poll_json(p, mask ? *mask : 0));
        }
    }
    cJSON *qs = cJSON_AddArrayToObject(o, "questions");
    for (size_t i = 0; qs && i < s->n_questions; i++) {
        const question *q = s->questions[i];
        bool mine = !staff && actor->viewer_id[0] && strcmp(q->viewer_id, actor->viewer_id) == 0;
        if (staff || mine || is_public_state(q->state))
            cJSON_AddItemToArray(qs, question_json(q, staff, mine));
    }
    if (staff) {
        /* This session's action items, then the open ones of earlier sessions of the programme
         * (so the show starts by reporting on the last one's commitments). */
        cJSON *acts = cJSON_AddArrayToObject(o, "actions");
        cJSON *open = cJSON_AddArrayToObject(o, "open_actions");
        for (size_t i = 0; acts && open && i < st->n_actions; i++) {
            const action_item *a = st->actions[i];
            if (a->session == s)
                cJSON_AddItemToArray(acts, action_json(a));
            else if (a->status != FORUM_ACTION_DONE &&
                     a->session->cfg.program_id == s->cfg.program_id &&
                     session_before(st, a->session, s))
                cJSON_AddItemToArray(open, action_json(a));
        }
        /* The viewers banned in this session (the moderator console lists them), in the order
         * the server first saw them, so the output is deterministic. */
        cJSON *banned = cJSON_AddArrayToObject(o, "banned");
        int64_t *keys = s->bans.len ? malloc(s->bans.len * sizeof *keys) : NULL;
        size_t nk = 0;
        for (size_t i = 0; keys && i < s->bans.cap; i++)
            if (s->bans.keys[i] > 0 && nk < s->bans.len)
                keys[nk++] = s->bans.keys[i];
        for (size_t i = 1; i < nk; i++) /* insertion sort: ban lists are short */
            for (size_t j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
                int64_t t = keys[j];
                keys[j] = keys[j - 1];
                keys[j - 1] = t;
            }
        for (size_t i = 0; banned && i < nk; i++)
            if ((size_t)keys[i] <= st->n_viewers)
                cJSON_AddItemToArray(banned, cJSON_CreateString(st->viewers[keys[i] - 1].id));
        free(keys);
    }
    if (!staff) {
        cJSON *mv = cJSON_AddArrayToObject(o, "my_votes");
        /* In question order, so the output is deterministic. */
        const iset *votes = vk ? &st->viewers[vk - 1].votes : NULL;
        for (size_t i = 0; mv && votes && votes->len && i < s->n_questions; i++)
            if (iset_has(votes, s->questions[i]->id))
                cJSON_AddItemToArray(mv, cJSON_CreateNumber((double)s->questions[i]->id));
    }
    return o;
}

bool forum_session_exists(const forum_state *st, const char *code)
{
    return find_session(st, code) != NULL;
}

const char *forum_session_status(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    return s ? STATUS_NAMES[s->cfg.status] : NULL;
}

const char *forum_moderator_key_hash(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    return s && s->key_hash[0] ? s->key_hash : NULL;
}

bool forum_viewer_banned(const forum_state *st, const char *code, const char *viewer_id)
{
    const session *s = find_session(st, code);
    int64_t vk = viewer_key(st, viewer_id);
    return s && vk && iset_has(&s->bans, vk);
}

int64_t forum_last_seq(const forum_state *st, const char *code)
{
    if (!code || !*code)
        return st->studio_seq;
    const session *s = find_session(st, code);
    return s ? s->seq : 0;
}

int forum_question_rate_per_min(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    return s && s->cfg.question_rate_per_min > 0 ? s->cfg.question_rate_per_min
                                                 : DEFAULT_QUESTION_RATE;
}

void forum_count_questions(const forum_state *st, const char *code, int counts[6])
{
    for (int i = 0; i < 6; i++)
        counts[i] = 0;
    const session *s = find_session(st, code);
    for (size_t i = 0; s && i < s->n_questions; i++)
        counts[s->questions[i]->state]++;
}

size_t forum_note_viewers(forum_state *st, const char *code, int64_t viewers,
                          const forum_env *env, forum_event **out, size_t *n)
{
    session *s = find_session(st, code);
    if (!s || viewers <= s->peak_viewers ||
        (s->cfg.status != S_OPEN && s->cfg.status != S_LIVE))
        return 0;
    forum_result res;
    memset(&res, 0, sizeof res);
    res.events = *out;
    res.n_events = *n;
    ctx c = {.st = st, .env = env, .res = &res};
    snprintf(c.actor, sizeof c.actor, "system");
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        add_int(payload, "viewers", viewers);
    int rc = emit(&c, s, "viewers.peak", payload, FORUM_AUD_STAFF, NULL);
    *out = res.events;
    *n = res.n_events;
    return rc == 0 ? 1 : 0;
}

int64_t forum_peak_viewers(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    return s ? s->peak_viewers : 0;
}

bool forum_submit_is_repeat(const forum_state *st, const forum_actor *actor,
                            const forum_command *cmd)
{
    if (cmd->type != FORUM_CMD_QUESTION_SUBMIT || !cmd->id || !*cmd->id ||
        actor->role != FORUM_ROLE_VIEWER)
        return false;
    session *s = find_session((forum_state *)st, actor->session);
    if (!s)
        return false;
    char key[FORUM_ACTOR_MAX + FORUM_REQUEST_ID_MAX + 2];
    submit_key(key, sizeof key, actor->viewer_id, cmd->id);
    return smap_get(&s->submits, key) != NULL;
}
