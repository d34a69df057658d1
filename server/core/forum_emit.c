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

int emit_in(ctx *c, const char *code, forum_kind kind, const forum_payload *p, bool visible,
            const char *subject, const char *request_id)
{
    forum_result *r = c->res;
    forum_event *grown = realloc(r->events, (r->n_events + 1) * sizeof *grown);
    if (!grown)
        return -1;
    r->events = grown;
    forum_event *ev = &r->events[r->n_events];
    memset(ev, 0, sizeof *ev);
    snprintf(ev->session, sizeof ev->session, "%s", code);
    const session *s = find_session(c->st, code);
    ev->seq = (code[0] ? (s ? s->seq : 0) : c->st->studio_seq) + 1;
    ev->at = c->env->now_ms;
    snprintf(ev->actor, sizeof ev->actor, "%s", c->actor);
    ev->kind = kind;
    ev->p = *p;
    ev->audience = forum_kind_audience(kind, visible);
    snprintf(ev->subject, sizeof ev->subject, "%s", subject ? subject : "");
    snprintf(ev->request_id, sizeof ev->request_id, "%s", request_id ? request_id : "");
    ev->secret = c->secret;
    memset(&c->secret, 0, sizeof c->secret);
    if (c->erased_viewer_id) {
        snprintf(ev->erased_viewer_id, sizeof ev->erased_viewer_id, "%s", c->erased_viewer_id);
        c->erased_viewer_id = NULL;
    }
    /* The event owns copies of what its payload points at before the state changes under it. */
    if (forum_event_own(ev) < 0 || apply_event(c->st, ev) < 0) {
        forum_event_clear(ev);
        return -1;
    }
    s = find_session(c->st, code);
    ev->offset_ms = s && s->cfg.started_at ? c->env->now_ms - s->cfg.started_at : -1;
    r->n_events++;
    return 0;
}

int emit(ctx *c, session *s, forum_kind kind, const forum_payload *p, bool visible,
         const char *subject)
{
    return emit_in(c, s->code, kind, p, visible, subject, NULL);
}

forum_question_rec question_rec(const question *q)
{
    forum_question_rec r = {
        .id = q->id,
        .session = q->session->code,
        .text = q->text ? q->text : "",
        .author = q->author,
        .answer_note = q->answer_note,
        .carried_from = q->carried_from,
        .viewer_id = q->viewer_id,
        .external_ref = q->external_ref,
        .to = q->to,
        .parent_id = q->parent_id,
        .created_at = q->created_at,
        .merged_into = q->merged_into,
        .carried_question_id = q->carried_question_id,
        .votes = (int64_t)q->voters.len,
        .state = (uint8_t)q->state,
        .category = (uint8_t)q->category,
        .source = (uint8_t)q->source,
        .live_phase = q->live_phase,
        .starred = q->starred,
        .dismiss_reason = q->dismiss_reason,
        .held_for = q->held_for,
        .carried_source = (uint8_t)q->carried_source,
    };
    return r;
}

forum_payload question_payload(const question *q)
{
    forum_payload p;
    memset(&p, 0, sizeof p);
    p.question.q = question_rec(q);
    return p;
}

int emit_question(ctx *c, forum_kind kind, const question *q, bool visible)
{
    forum_payload p = question_payload(q);
    return emit(c, q->session, kind, &p, visible, q->viewer_id);
}

int leave_queue(ctx *c, session *s, int64_t id)
{
    if (!in_up_next(s, id))
        return 0;
    int64_t *ids = forum_arena_alloc(&c->scratch, (s->n_up_next ? s->n_up_next : 1) * sizeof *ids);
    if (!ids)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < s->n_up_next; i++)
        if (s->up_next[i] != id)
            ids[n++] = s->up_next[i];
    forum_payload p = {.queue = {ids, n}};
    return emit(c, s, FORUM_EV_QUEUE_CHANGED, &p, true, NULL);
}

int emit_onair(ctx *c, session *s, int64_t id)
{
    forum_payload p = {.question_id = id};
    return emit(c, s, FORUM_EV_ONAIR_CHANGED, &p, true, NULL);
}

int emit_vote(ctx *c, session *s, forum_kind kind, int64_t qid, const char *viewer_id)
{
    forum_payload p = {.question_id = qid};
    return emit(c, s, kind, &p, false, viewer_id);
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
    if (visible && c->who && c->who->role == FORUM_ROLE_VIEWER && !forum_qstate_public(q->state))
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

void question_state_conflict(forum_result *r, const question *q, const char *rule)
{
    set_error(r, FORUM_E_CONFLICT, "question_id", "%s (this one is %s)", rule,
              FORUM_QSTATE_NAMES[q->state]);
}

void random_alnum(const forum_env *env, char *out, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    while (n < len) {
        unsigned char buf[48];
        env->random_bytes(buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf && n < len; i++)
            if (buf[i] < 248) /* 4 * 62: no modulo bias */
                out[n++] = alphabet[buf[i] % 62];
    }
    out[n] = '\0';
}

const char *blocked_word_in(const session *s, const char *text)
{
    if (s->cfg.n_blocked_words == 0)
        return NULL;
    char *folded = utf8_fold(text, strlen(text));
    const char *found = NULL;
    for (size_t i = 0; !found && i < s->cfg.n_blocked_words; i++) {
        char *word = utf8_fold(s->cfg.blocked_words[i], strlen(s->cfg.blocked_words[i]));
        bool hit;
        if (word && folded)
            hit = word[0] && strstr(folded, word) != NULL;
        else /* out of memory: the plain comparison still catches the word as written */
            hit = utf8_contains_nocase(text, s->cfg.blocked_words[i]);
        if (hit)
            found = s->cfg.blocked_words[i];
        free(word);
    }
    free(folded);
    return found;
}

bool has_blocked_word(const session *s, const char *text)
{
    return blocked_word_in(s, text) != NULL;
}

bool too_long(const char *text, int max)
{
    return text && max > 0 && utf8_count(text, strlen(text)) > (size_t)max;
}

forum_undo_rec *undo_begin(ctx *c, forum_undo_action action)
{
    memset(&c->secret, 0, sizeof c->secret);
    c->secret.has_undo = true;
    forum_undo_rec *u = &c->secret.undo;
    u->action = (uint8_t)action;
    u->before = c->undo_before;
    u->after = c->undo_after;
    return u;
}

void undo_question(ctx *c, const question *q, int after_state)
{
    forum_undo_rec *u = &c->secret.undo;
    if (u->n_before < UNDO_MAX_QUESTIONS)
        c->undo_before[u->n_before++] = question_rec(q);
    if (after_state >= 0 && u->n_after < UNDO_MAX_QUESTIONS)
        c->undo_after[u->n_after++] = (forum_undo_after){q->id, (uint8_t)after_state};
}

void undo_air(ctx *c, int64_t before, int64_t after)
{
    c->secret.undo.has_air = true;
    c->secret.undo.air_before = before;
    c->secret.undo.air_after = after;
}

jsonw *ack_key(forum_result *r, const char *key)
{
    bool first = r->ack.len == 0;
    jsonw_key(&r->ack, &first, key);
    return &r->ack;
}

void ack_question_as(forum_result *r, const char *key, const question *q, forum_view view)
{
    forum_question_rec rec = question_rec(q);
    forum_write_question(ack_key(r, key), &rec, view, view == FORUM_VIEW_SUBJECT);
}

void ack_question(forum_result *r, const question *q)
{
    ack_question_as(r, "question", q, FORUM_VIEW_STAFF);
}

forum_poll_rec poll_rec(const poll *p)
{
    forum_poll_rec r = {
        .id = p->id,
        .title = p->title ? p->title : "",
        .options = (const char *const *)p->options,
        .counts = p->counts,
        .n_options = p->n_options,
        .multi = p->multi,
        .state = (uint8_t)p->state,
    };
    return r;
}

int emit_poll(ctx *c, session *s, const poll *p)
{
    forum_payload pl = {.poll = poll_rec(p)};
    return emit(c, s, FORUM_EV_POLL_CHANGED, &pl, p->state != P_DRAFT, NULL);
}

int emit_session(ctx *c, const char *code, const session_config *cfg, const char *plain_key)
{
    forum_payload p = {.session = session_rec(c->st, code, cfg)};
    if (plain_key) {
        memset(&c->secret, 0, sizeof c->secret);
        auth_sha256_hex(plain_key, strlen(plain_key), c->secret.moderator_key_hash);
    }
    return emit_in(c, code, FORUM_EV_SESSION_CHANGED, &p, true, NULL, NULL);
}

forum_action_rec action_rec(const action_item *a)
{
    forum_action_rec r = {
        .id = a->id,
        .session = a->session->code,
        .question_id = a->question_id,
        .follows_action_id = a->follows_action_id,
        .text = a->text ? a->text : "",
        .owner = a->owner,
        .due = a->due,
        .status = (uint8_t)a->status,
        .created_at = a->created_at,
        .updated_at = a->updated_at,
        .reason = a->reason,
        .note = a->note,
        .promised_by = a->promised_by,
        .publication = (uint8_t)a->publication,
        .published = action_published(a),
    };
    return r;
}

forum_rating_rec rating_rec(const rating *x)
{
    forum_rating_rec r = {
        .id = x->id,
        .session = x->session ? x->session->code : "",
        .question_id = x->question_id,
        .action_id = x->action_id,
        .viewer_id = x->viewer_id,
        .value = (uint8_t)x->value,
        .comment = x->comment,
        .comment_state = (uint8_t)x->comment_state,
        .created_at = x->created_at,
        .updated_at = x->updated_at,
    };
    return r;
}

void write_tally_counts(jsonw *w, bool *first, const rating_tally *t)
{
    bool f = true;
    jsonw_key(w, first, "ratings");
    jsonw_put(w, "{", 1);
    for (int i = 0; i < FORUM_RATING__COUNT; i++)
        jsonw_kv_int(w, &f, FORUM_RATING_NAMES[i], t->counts[i]);
    jsonw_put(w, "}", 1);
}

forum_panel_rec panel_rec(const session *s)
{
    forum_panel_rec r = {
        .segment_id = s->segment_id,
        .speaker_ids = s->speaker_ids,
        .n_speaker_ids = s->n_speaker_ids,
        .banner = s->banner,
        .on_air = s->on_air,
        .up_next = s->up_next,
        .n_up_next = s->n_up_next,
    };
    return r;
}

int emit_action(ctx *c, session *in, const action_item *a)
{
    forum_payload p = {.action = action_rec(a)};
    const action_item *cur = find_action(c->st, a->id);
    bool visible = p.action.published || (cur && action_published(cur));
    return emit(c, in, FORUM_EV_ACTION_CHANGED, &p, visible, NULL);
}

void ack_action(forum_result *r, const forum_state *st, int64_t id)
{
    const action_item *a = find_action(st, id);
    if (a) {
        forum_action_rec rec = action_rec(a);
        forum_write_action(ack_key(r, "action"), &rec);
    }
}

void ack_session(forum_result *r, const forum_state *st, const session *s)
{
    forum_session_rec rec = session_rec(st, s->code, &s->cfg);
    forum_write_session(ack_key(r, "session"), &rec, FORUM_VIEW_STAFF);
}

void ack_poll(forum_result *r, const poll *p)
{
    forum_poll_rec rec = poll_rec(p);
    forum_write_poll(ack_key(r, "poll"), &rec, NULL);
}

void ack_studio(forum_result *r, const forum_state *st)
{
    bool first = r->ack.len == 0;
    write_studio_members(&r->ack, &first, st);
}
