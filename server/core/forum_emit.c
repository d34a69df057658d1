/* forum_emit.c — building events and results for the request handlers: the event envelope
 * (emit_in applies each event before the next is built), payload builders, errors, the checks
 * handlers share, and undo records. */

#include "forum_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "utf8.h"

int emit_in(ctx *c, const char *code, const char *kind, cJSON *payload, forum_audience audience,
            const char *subject, const char *request_id)
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

int emit(ctx *c, session *s, const char *kind, cJSON *payload, forum_audience audience,
         const char *subject)
{
    return emit_in(c, s->code, kind, payload, audience, subject, NULL);
}

cJSON *question_payload(const question *q)
{
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddItemToObject(o, "question", question_json(q, true, false));
    return o;
}

int emit_question(ctx *c, const char *kind, const question *q, forum_audience audience)
{
    return emit(c, q->session, kind, question_payload(q), audience, q->viewer_id);
}

int leave_queue(ctx *c, session *s, int64_t id)
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

int emit_onair(ctx *c, session *s, int64_t id)
{
    cJSON *p = cJSON_CreateObject();
    if (p)
        add_int_or_null(p, "question_id", id);
    return emit(c, s, "onair.changed", p, FORUM_AUD_PUBLIC, NULL);
}

int emit_vote(ctx *c, session *s, const char *kind, int64_t qid, const char *viewer_id)
{
    cJSON *p = cJSON_CreateObject();
    if (p)
        add_int(p, "question_id", qid);
    return emit(c, s, kind, p, FORUM_AUD_NOBODY, viewer_id);
}

question shadow(const question *q)
{
    return *q;
}

forum_result *set_error(forum_result *r, forum_err err, const char *field, const char *fmt, ...)
{
    r->err = err;
    r->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return r;
}

bool is_staff(const forum_actor *a)
{
    return a->role == FORUM_ROLE_MODERATOR || a->role == FORUM_ROLE_PRODUCER;
}

question *request_question(ctx *c, const session *s, int64_t id, const char *field)
{
    question *q = id > 0 ? find_question(c->st, id) : NULL;
    bool visible = q && q->session == s;
    if (visible && c->who && c->who->role == FORUM_ROLE_VIEWER && !is_public_state(q->state))
        visible = strcmp(q->viewer_id, c->who->viewer_id) == 0;
    if (!visible) {
        if (id <= 0)
            set_error(c->res, FORUM_E_BAD_REQUEST, field, "%s is required", field);
        else
            set_error(c->res, FORUM_E_NOT_FOUND, field,
                      "question %lld does not exist in this session", (long long)id);
        return NULL;
    }
    return q;
}

bool has_blocked_word(const session *s, const char *text)
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

bool too_long(const char *text, int max)
{
    return text && max > 0 && utf8_count(text, strlen(text)) > (size_t)max;
}

cJSON *undo_begin(ctx *c, const char *action)
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

void undo_question(cJSON *rec, const question *q, int after_state)
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

void undo_air(cJSON *rec, int64_t before, int64_t after)
{
    add_int(rec, "air_before", before);
    add_int(rec, "air_after", after);
}

void ack_question(forum_result *r, const question *q)
{
    r->ack = cJSON_CreateObject();
    cJSON_AddItemToObject(r->ack, "question", question_json(q, true, false));
}

int emit_poll(ctx *c, session *s, const poll *p)
{
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        cJSON_AddItemToObject(payload, "poll", poll_json(p, -1));
    return emit(c, s, "poll.changed", payload,
                p->state == P_DRAFT ? FORUM_AUD_STAFF : FORUM_AUD_PUBLIC, NULL);
}

int emit_session(ctx *c, const char *code, const session_config *cfg, const char *plain_key)
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

int emit_action(ctx *c, session *in, const action_item *a)
{
    cJSON *payload = cJSON_CreateObject();
    if (payload)
        cJSON_AddItemToObject(payload, "action", action_json(a));
    return emit(c, in, "action.changed", payload, FORUM_AUD_STAFF, NULL);
}

void ack_action(forum_result *r, const forum_state *st, int64_t id)
{
    const action_item *a = find_action(st, id);
    r->ack = cJSON_CreateObject();
    if (a)
        cJSON_AddItemToObject(r->ack, "action", action_json(a));
}
