/* handle_outcome.c — the archive's outcomes: action items (commitments made on air, their
 * status, publication and follow-up in later sessions), carrying unanswered questions into a later session, and
 * erasing one viewer's personal data from a session. */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks the optional fields shared by action.create and action.update. */
static bool check_action_fields(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (cmd->has_question_id && cmd->question_id) {
        const question *q = find_question(c->st, cmd->question_id);
        if (!q || q->session != s) {
            set_error(r, FORUM_E_NOT_FOUND, "question_id",
                      "question %lld does not exist in this session", (long long)cmd->question_id);
            return false;
        }
    }
    if (cmd->text && too_long(cmd->text, c->st->limits.question_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "text", "the action text is longer than %d characters",
                  c->st->limits.question_max_chars);
        return false;
    }
    if (cmd->has_reason && too_long(cmd->reason, c->st->limits.question_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "reason", "the reason is longer than %d characters",
                  c->st->limits.question_max_chars);
        return false;
    }
    if (cmd->has_note && too_long(cmd->note, c->st->limits.note_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "note", "the note is longer than %d characters",
                  c->st->limits.note_max_chars);
        return false;
    }
    if (cmd->has_promised_by && cmd->promised_by && !has_panelist(s, cmd->promised_by)) {
        set_error(r, FORUM_E_NOT_FOUND, "promised_by",
                  "panelist %lld is not on the panel of session %s", (long long)cmd->promised_by,
                  s->code);
        return false;
    }
    if (cmd->has_publication && (!c->who || c->who->role != FORUM_ROLE_PRODUCER)) {
        set_error(r, FORUM_E_FORBIDDEN, "publication", "only producers publish commitments");
        return false;
    }
    return true;
}

/* A withdrawn item says why. */
static bool check_action_result(ctx *c, const action_item *a)
{
    if (a->status == FORUM_ACTION_WITHDRAWN && (!a->reason || !*a->reason)) {
        set_error(c->res, FORUM_E_BAD_REQUEST, "reason", "a withdrawn commitment needs a reason");
        return false;
    }
    return true;
}

/* Applies the optional fields both requests share to a. */
static void merge_action_fields(action_item *a, const forum_command *cmd)
{
    if (cmd->has_owner)
        a->owner = cmd->owner;
    if (cmd->has_due)
        a->due = cmd->due;
    if (cmd->has_status && cmd->status != a->status)
        a->reason = NULL; /* a reason goes with the status it was given for */
    if (cmd->has_status)
        a->status = cmd->status;
    if (cmd->has_reason)
        a->reason = cmd->reason && *cmd->reason ? cmd->reason : NULL;
    if (cmd->has_note)
        a->note = cmd->note && *cmd->note ? cmd->note : NULL;
    if (cmd->has_promised_by)
        a->promised_by = cmd->promised_by;
    if (cmd->has_publication)
        a->publication = cmd->publication;
}

void do_action_create(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (!cmd->text || !*cmd->text) {
        set_error(r, FORUM_E_BAD_REQUEST, "text", "the action needs a text");
        return;
    }
    if (!check_action_fields(c, s, cmd))
        return;
    if (cmd->follows_action_id) {
        const action_item *prev = find_action(c->st, cmd->follows_action_id);
        if (!prev || prev->session->cfg.program_id != s->cfg.program_id ||
            !session_before(c->st, prev->session, s)) {
            set_error(r, FORUM_E_NOT_FOUND, "follows_action_id",
                      "action %lld does not exist in an earlier session of this programme",
                      (long long)cmd->follows_action_id);
            return;
        }
    }
    size_t made = 0;
    for (size_t i = 0; i < c->st->n_actions; i++)
        made += c->st->actions[i]->session == s;
    if (made >= ACTIONS_PER_SESSION) {
        set_error(r, FORUM_E_CONFLICT, NULL, "a session holds at most %d action items",
                  ACTIONS_PER_SESSION);
        return;
    }
    action_item a = {
        .id = c->st->next_action_id,
        .session = s,
        .question_id = cmd->has_question_id ? cmd->question_id : 0,
        .follows_action_id = cmd->follows_action_id,
        .text = cmd->text,
        .status = FORUM_ACTION_OPEN,
        .created_at = c->env->now_ms,
        .updated_at = c->env->now_ms,
    };
    merge_action_fields(&a, cmd);
    if (!check_action_result(c, &a))
        return;
    if (emit_action(c, s, &a) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_action(r, c->st, a.id);
}

void do_action_update(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    action_item *cur = cmd->action_id > 0 ? find_action(c->st, cmd->action_id) : NULL;
    if (!cur || (cur->session != s && (cur->session->cfg.program_id != s->cfg.program_id ||
                                       !session_before(c->st, cur->session, s)))) {
        set_error(r, cmd->action_id > 0 ? FORUM_E_NOT_FOUND : FORUM_E_BAD_REQUEST, "action_id",
                  "action %lld does not exist in this session or an earlier one of its "
                  "programme",
                  (long long)cmd->action_id);
        return;
    }
    if (cur->session->cfg.status == S_ARCHIVED) {
        set_error(r, FORUM_E_SESSION_CLOSED, "action_id",
                  "action %lld belongs to archived session %s, whose record is read-only; record "
                  "the follow-up as a new action with follows_action_id",
                  (long long)cmd->action_id, cur->session->code);
        return;
    }
    if (!check_action_fields(c, cur->session, cmd))
        return;
    action_item a = *cur;
    if (cmd->text && *cmd->text)
        a.text = cmd->text;
    merge_action_fields(&a, cmd);
    if (cmd->has_question_id)
        a.question_id = cmd->question_id;
    if (!check_action_result(c, &a))
        return;
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

void do_carry_over(ctx *c, const forum_command *cmd)
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
    /* The producer may pick which ones (question_ids): each must be an unanswered public
     * question of from; without a pick, all of them. */
    iset picked = {0};
    for (size_t i = 0; i < cmd->n_ids; i++) {
        const question *src = find_question(st, cmd->ids[i]);
        if (!src || src->session != from) {
            set_error(r, FORUM_E_NOT_FOUND, "question_ids",
                      "question %lld is not a question of session %s", (long long)cmd->ids[i],
                      from->code);
            goto done;
        }
        if (src->state != Q_PUBLISHED && src->state != Q_ON_AIR) {
            set_error(r, FORUM_E_CONFLICT, "question_ids",
                      "question %lld is %s: only unanswered public questions are carried",
                      (long long)src->id, FORUM_QSTATE_NAMES[src->state]);
            goto done;
        }
        if (iset_has(&picked, src->id)) {
            set_error(r, FORUM_E_BAD_REQUEST, "question_ids", "question %lld is named twice",
                      (long long)src->id);
            goto done;
        }
        if (iset_add(&picked, src->id) < 0)
            goto oom;
    }
    size_t n_new = 0;
    for (size_t i = 0; i < from->n_questions; i++) {
        const question *src = from->questions[i];
        if ((src->state == Q_PUBLISHED || src->state == Q_ON_AIR) &&
            (!cmd->n_ids || iset_has(&picked, src->id)) && !carried_copy(to, from, src->id))
            n_new++;
    }
    if (st->limits.questions_per_session > 0 &&
        to->n_questions + n_new > (size_t)st->limits.questions_per_session) {
        set_error(r, FORUM_E_CONFLICT, "to", "session %s would exceed its limit of %d questions",
                  to->code, st->limits.questions_per_session);
        goto done;
    }
    int64_t *ids = forum_arena_alloc(&c->scratch, (from->n_questions + 1) * sizeof *ids);
    int64_t *skipped = forum_arena_alloc(&c->scratch, (from->n_questions + 1) * sizeof *skipped);
    size_t n_ids = 0, n_skipped = 0;
    if (!ids || !skipped)
        goto oom;
    for (size_t i = 0; i < from->n_questions; i++) {
        const question *src = from->questions[i];
        if ((src->state != Q_PUBLISHED && src->state != Q_ON_AIR) ||
            (cmd->n_ids && !iset_has(&picked, src->id)))
            continue;
        if (carried_copy(to, from, src->id)) {
            skipped[n_skipped++] = src->id;
            continue;
        }
        const question *parent = src->parent_id ? carried_copy(to, from, src->parent_id) : NULL;
        question q = shadow(src);
        memset(&q.voters, 0, sizeof q.voters);
        q.id = st->next_question_id;
        q.session = to;
        q.source = FORUM_SRC_CARRIED;
        /* where it first came from (a hotline call stays a hotline call) */
        q.carried_source = src->source == FORUM_SRC_CARRIED ? src->carried_source : src->source;
        q.held_for = NULL;
        q.carried_from = from->code;
        q.carried_question_id = src->id;
        q.external_ref = NULL; /* the import's reference stays with the original */
        q.parent_id = parent ? parent->id : 0;
        q.to = same_panelist(from, src->to, to);
        q.state = Q_PUBLISHED;
        q.live_phase = false;
        q.starred = false;
        q.merged_into = 0;
        q.answer_note = NULL;
        q.created_at = c->env->now_ms;
        q.dirty = false;
        forum_payload submitted = question_payload(&q);
        if (emit_in(c, to->code, FORUM_EV_QUESTION_SUBMITTED, &submitted, false, q.viewer_id,
                    NULL) < 0)
            goto oom;
        question *added = find_question(st, q.id);
        if (!added || emit_question(c, FORUM_EV_QUESTION_PUBLISHED, added, true) < 0)
            goto oom;
        ids[n_ids++] = added->id;
    }
    jsonw_string(ack_key(r, "from"), from->code);
    jsonw_string(ack_key(r, "to"), to->code);
    jsonw_ids(ack_key(r, "question_ids"), ids, n_ids);
    jsonw *w = ack_key(r, "questions");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < n_ids; i++) {
        forum_question_rec rec = question_rec(find_question(st, ids[i]));
        if (i)
            jsonw_put(w, ",", 1);
        forum_write_question(w, &rec, FORUM_VIEW_STAFF, false);
    }
    jsonw_put(w, "]", 1);
    jsonw_ids(ack_key(r, "already_carried"), skipped, n_skipped);
    goto done;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
done:
    iset_free(&picked);
}

void do_viewer_erase(ctx *c, session *s, const forum_command *cmd)
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

    int64_t *ids = forum_arena_alloc(&c->scratch, (s->n_questions + 1) * sizeof *ids);
    forum_question_rec *anon = forum_arena_alloc(&c->scratch, (s->n_questions + 1) * sizeof *anon);
    size_t n = 0;
    if (!ids || !anon)
        goto oom;
    for (size_t i = 0; i < s->n_questions; i++) {
        const question *q = s->questions[i];
        if (strcmp(q->viewer_id, vid) != 0)
            continue;
        anon[n] = question_rec(q);
        anon[n].author = NULL;
        anon[n].viewer_id = placeholder;
        ids[n++] = q->id;
    }
    forum_payload payload = {.erased = {placeholder, anon, n}};
    c->erased_viewer_id = vid;
    if (emit(c, s, FORUM_EV_VIEWER_ERASED, &payload, false, NULL) < 0)
        goto oom;
    /* Viewers showing the name of a public question get the anonymised one. */
    for (size_t i = 0; i < n; i++) {
        question *q = find_question(c->st, ids[i]);
        if (q && forum_qstate_public(q->state) &&
            emit_question(c, FORUM_EV_QUESTION_UPDATED, q, true) < 0)
            goto oom;
    }
    jsonw_string(ack_key(r, "session"), s->code);
    jsonw_string(ack_key(r, "placeholder"), placeholder);
    jsonw_ids(ack_key(r, "question_ids"), ids, n);
    jsonw *w = ack_key(r, "other_sessions");
    jsonw_put(w, "[", 1);
    bool first = true;
    /* sessions where the viewer still has ratings (from the viewer's own list) */
    iset rated = {0};
    int64_t vk = viewer_key(c->st, vid);
    const iset *mine = vk ? &c->st->viewers[vk - 1].ratings : NULL;
    for (size_t i = 0; mine && i < mine->cap; i++) {
        const rating *x = mine->keys[i] > 0 ? find_rating(c->st, mine->keys[i]) : NULL;
        int64_t *idx = x ? smap_get(&c->st->session_index, x->session->code) : NULL;
        if (idx && x->session != s && iset_add(&rated, *idx + 1) < 0)
            goto oom_rated;
    }
    for (size_t i = 0; i < c->st->n_sessions; i++) {
        const session *o = c->st->sessions[i];
        bool holds = o != s && iset_has(&rated, (int64_t)i + 1);
        for (size_t j = 0; o != s && !holds && j < o->n_questions; j++)
            holds = strcmp(o->questions[j]->viewer_id, vid) == 0;
        if (holds) {
            if (!first)
                jsonw_put(w, ",", 1);
            first = false;
            jsonw_string(w, o->code);
        }
    }
    iset_free(&rated);
    jsonw_put(w, "]", 1);
    return;
oom_rated:
    iset_free(&rated);
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
    return;
oom:
    c->erased_viewer_id = NULL;
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}
