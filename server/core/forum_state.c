/* forum_state.c — the in-memory state of the domain core: creating and
 * freeing programmes, sessions, questions, polls and action items, lookups by id and code, and
 * the read-only queries forum.h offers the dispatcher. See forum_internal.h for the structs. */

#include "forum_internal.h"
#include "similar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int set_str(char **dst, const char *src)
{
    char *copy = NULL;
    if (src && !(copy = strdup(src)))
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

int table_add(void ***items, size_t *n, size_t *cap, imap *index, int64_t id, void *item,
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
    out->stream_hosts = FORUM_DEFAULT_STREAM_HOSTS;
    out->embed_hosts = FORUM_DEFAULT_EMBED_HOSTS;
    out->webhook_hosts = "";
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
    st->next_rating_id = 1;
    return st;
}

void config_free(session_config *c)
{
    free(c->title);
    free(c->topic);
    for (size_t i = 0; i < c->n_blocked_words; i++)
        free(c->blocked_words[i]);
    free(c->blocked_words);
    for (size_t i = 0; i < c->n_panelists; i++) {
        free((char *)c->panelists[i].name);
        free((char *)c->panelists[i].affiliation);
        free((char *)c->panelists[i].role);
    }
    free(c->panelists);
    for (size_t i = 0; i < c->n_segments; i++)
        free((char *)c->segments[i].title);
    free(c->segments);
    free(c->stream_url);
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
    free(q->external_ref);
    free(q->dismiss_reason);
    free(q->held_for);
    iset_free(&q->voters);
    free(q);
}

void poll_free(poll *p)
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
    free(a->reason);
    free(a->note);
    for (size_t i = 0; i < a->n_history; i++)
        free(a->history[i].reason);
    free(a->history);
    free(a);
}

static void rating_free(rating *x)
{
    if (!x)
        return;
    free(x->comment);
    free(x);
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
        forum_arena_free(&s->undos[i].arena);
    free(s->undos);
    free(s->dirty_questions);
    free(s->dirty_ratings);
    free(s->top);
    similar_free(s->similar);
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
    for (size_t i = 0; i < st->n_viewers; i++) {
        iset_free(&st->viewers[i].votes);
        iset_free(&st->viewers[i].ratings);
    }
    free(st->viewers);
    smap_free(&st->viewer_index);
    for (size_t i = 0; i < st->n_actions; i++)
        action_free(st->actions[i]);
    free(st->actions);
    imap_free(&st->action_index);
    webhooks_free(st);
    for (size_t i = 0; i < st->n_ratings; i++)
        rating_free(st->ratings[i]);
    free(st->ratings);
    imap_free(&st->rating_index);
    smap_free(&st->rating_keys);
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
    free(cmd->external_ref);
    free(cmd->reason);
    free(cmd->note);
    free(cmd->ids);
    free(cmd->speaker_ids);
    free(cmd->banner);
    free(cmd->title);
    free(cmd->url);
    free(cmd->secret);
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
    free(cmd->stream_url);
    free(cmd->comment);
    memset(cmd, 0, sizeof *cmd);
}

void forum_result_free(forum_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_events; i++)
        forum_event_clear(&r->events[i]);
    free(r->events);
    free(r->ack.p);
    r->events = NULL;
    r->n_events = 0;
    memset(&r->ack, 0, sizeof r->ack);
}

cJSON *forum_result_ack_json(const forum_result *r)
{
    jsonw w = {0};
    jsonw_put(&w, "{", 1);
    if (r->ack.len)
        jsonw_put(&w, r->ack.p, r->ack.len);
    jsonw_put(&w, "}", 1);
    char *text = jsonw_finish(&w);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    return o;
}

session *find_session(const forum_state *st, const char *code)
{
    if (!code || !*code)
        return NULL;
    int64_t *idx = smap_get(&st->session_index, code);
    return idx ? st->sessions[*idx] : NULL;
}

question *find_question(const forum_state *st, int64_t id)
{
    int64_t *idx = imap_get(&st->question_index, id);
    return idx ? st->questions[*idx] : NULL;
}

poll *find_poll(const forum_state *st, int64_t id)
{
    int64_t *idx = imap_get(&st->poll_index, id);
    return idx ? st->polls[*idx] : NULL;
}

action_item *find_action(const forum_state *st, int64_t id)
{
    int64_t *idx = imap_get(&st->action_index, id);
    return idx ? st->actions[*idx] : NULL;
}

rating *find_rating(const forum_state *st, int64_t id)
{
    int64_t *idx = imap_get(&st->rating_index, id);
    return idx ? st->ratings[*idx] : NULL;
}

void rating_key(char *key, size_t cap, const char *viewer_id, int64_t question_id,
                int64_t action_id)
{
    snprintf(key, cap, "%s\x1f%c%lld", viewer_id, question_id ? 'q' : 'a',
             (long long)(question_id ? question_id : action_id));
}

rating *find_viewer_rating(const forum_state *st, const char *viewer_id, int64_t question_id,
                           int64_t action_id)
{
    char key[FORUM_VIEWER_ID_MAX + 32];
    if (!viewer_id || !*viewer_id)
        return NULL;
    rating_key(key, sizeof key, viewer_id, question_id, action_id);
    int64_t *id = smap_get(&st->rating_keys, key);
    return id ? find_rating(st, *id) : NULL;
}

bool action_published(const action_item *a)
{
    if (a->publication == FORUM_PUB_PUBLIC)
        return true;
    return a->publication == FORUM_PUB_AUTO &&
           (a->session->cfg.status == S_ENDED || a->session->cfg.status == S_ARCHIVED);
}

bool forum_program_exists(const forum_state *st, int64_t program_id)
{
    return program_id > 0 && find_program(st, program_id) != NULL;
}

program *find_program(const forum_state *st, int64_t id)
{
    for (size_t i = 0; i < st->n_programs; i++)
        if (st->programs[i].id == id)
            return &st->programs[i];
    return NULL;
}

int64_t viewer_key(const forum_state *st, const char *viewer_id)
{
    int64_t *idx = viewer_id && *viewer_id ? smap_get(&st->viewer_index, viewer_id) : NULL;
    return idx ? *idx + 1 : 0;
}

int64_t viewer_intern(forum_state *st, const char *viewer_id)
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

bool in_up_next(const session *s, int64_t id)
{
    for (size_t i = 0; i < s->n_up_next; i++)
        if (s->up_next[i] == id)
            return true;
    return false;
}

bool has_panelist(const session *s, int64_t id)
{
    for (size_t i = 0; i < s->cfg.n_panelists; i++)
        if (s->cfg.panelists[i].id == id)
            return true;
    return false;
}

bool has_segment(const session *s, int64_t id)
{
    for (size_t i = 0; i < s->cfg.n_segments; i++)
        if (s->cfg.segments[i].id == id)
            return true;
    return false;
}

undo_record *find_undo(session *s, const char *actor)
{
    for (size_t i = 0; i < s->n_undos; i++)
        if (strcmp(s->undos[i].actor, actor) == 0)
            return &s->undos[i];
    return NULL;
}

forum_session_rec session_rec(const forum_state *st, const char *code, const session_config *c)
{
    const program *p = st ? find_program(st, c->program_id) : NULL;
    forum_session_rec r = {
        .code = code,
        .program_id = c->program_id,
        .program = p ? p->title : NULL,
        .title = c->title ? c->title : "",
        .topic = c->topic,
        .scheduled_at = c->scheduled_at,
        .started_at = c->started_at,
        .ended_at = c->ended_at,
        .status = (uint8_t)c->status,
        .premoderation = c->premoderation,
        .anonymous_allowed = c->anonymous_allowed,
        .question_rate_per_min = c->question_rate_per_min,
        .panelists = c->panelists,
        .n_panelists = c->n_panelists,
        .segments = c->segments,
        .n_segments = c->n_segments,
        .blocked_words = (const char *const *)c->blocked_words,
        .n_blocked_words = c->n_blocked_words,
        .stream_kind = (uint8_t)c->stream_kind,
        .stream_url = c->stream_url,
    };
    return r;
}

int config_from_rec(session_config *dst, const forum_session_rec *src)
{
    memset(dst, 0, sizeof *dst);
    dst->program_id = src->program_id;
    dst->scheduled_at = src->scheduled_at;
    dst->started_at = src->started_at;
    dst->ended_at = src->ended_at;
    dst->status = src->status;
    dst->premoderation = src->premoderation;
    dst->anonymous_allowed = src->anonymous_allowed;
    dst->question_rate_per_min =
        src->question_rate_per_min > 0 ? src->question_rate_per_min : DEFAULT_QUESTION_RATE;
    if (!(dst->title = strdup(src->title ? src->title : "")) ||
        (src->topic && !(dst->topic = strdup(src->topic))))
        goto fail;
    if (src->stream_kind != FORUM_STREAM_NONE && src->stream_url) {
        dst->stream_kind = src->stream_kind;
        if (!(dst->stream_url = strdup(src->stream_url)))
            goto fail;
    }
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

int config_copy(session_config *dst, const session_config *src)
{
    forum_session_rec r = session_rec(NULL, "", src);
    return config_from_rec(dst, &r);
}

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

bool session_before(const forum_state *st, const session *a, const session *b)
{
    int64_t da = session_date(a), db = session_date(b);
    if (da && db && da != db)
        return da < db;
    return session_order(st, a) < session_order(st, b);
}

bool action_followed_up(const forum_state *st, const action_item *a)
{
    for (size_t i = 0; i < st->n_actions; i++)
        if (st->actions[i]->follows_action_id == a->id)
            return true;
    return false;
}

void submit_key(char *key, size_t cap, const char *who, const char *request_id)
{
    snprintf(key, cap, "%s\x1f%s", who, request_id);
}

void external_ref_key(char *key, size_t cap, const char *ref)
{
    snprintf(key, cap, "\x1e%s", ref);
}

int64_t forum_on_air(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    return s ? s->on_air : 0;
}

int64_t forum_panelist_id(const forum_state *st, const char *code, const char *name)
{
    const session *s = find_session(st, code);
    for (size_t i = 0; s && name && i < s->cfg.n_panelists; i++)
        if (s->cfg.panelists[i].name && strcmp(s->cfg.panelists[i].name, name) == 0)
            return s->cfg.panelists[i].id;
    return 0;
}

int64_t forum_session_program(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    return s ? s->cfg.program_id : 0;
}

bool forum_session_exists(const forum_state *st, const char *code)
{
    return find_session(st, code) != NULL;
}

const char *forum_session_status(const forum_state *st, const char *code)
{
    const session *s = find_session(st, code);
    return s ? FORUM_STATUS_NAMES[s->cfg.status] : NULL;
}

bool forum_session_settings(const forum_state *st, const char *code, forum_session_rec *out)
{
    const session *s = find_session(st, code);
    if (!s)
        return false;
    *out = session_rec(st, s->code, &s->cfg);
    return true;
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

bool forum_rating_is_repeat(const forum_state *st, const forum_actor *actor,
                            const forum_command *cmd)
{
    if (cmd->type != FORUM_CMD_RATING_SET || actor->role != FORUM_ROLE_VIEWER ||
        !cmd->has_rating_value)
        return false;
    const rating *x = find_viewer_rating(st, actor->viewer_id, cmd->question_id, cmd->action_id);
    if (!x || x->value != cmd->rating_value || strcmp(x->session->code, actor->session) != 0)
        return false;
    const char *comment = cmd->has_comment ? cmd->comment : x->comment;
    return (!comment && !x->comment) || (comment && x->comment && strcmp(comment, x->comment) == 0);
}
