/* handle_question.c — requests about questions: a viewer's submit, edit, withdraw and votes,
 * and moderation (approve, dismiss, restore, star, merge, on air, answered, up-next queue,
 * panel, bans, undo; approve and dismiss also in bulk). */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void do_submit(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
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
    question *parent = NULL;
    if (cmd->parent_id) {
        parent = request_question(c, s, cmd->parent_id, "parent_id");
        if (!parent)
            return;
        if (!forum_qstate_public(parent->state)) {
            set_error(r, FORUM_E_CONFLICT, "parent_id",
                      "follow-ups can only be asked about public questions");
            return;
        }
    }
    const char *author = NULL;
    if (staff) {
        author = cmd->author;
    } else {
        /* The name given with the question, else the one of the hello. */
        const char *name = cmd->name ? cmd->name : a->name;
        if (!s->cfg.anonymous_allowed && cmd->anonymous) {
            set_error(r, FORUM_E_BAD_REQUEST, "anonymous",
                      "this session does not accept anonymous questions");
            return;
        }
        if (!s->cfg.anonymous_allowed && !name[0]) {
            set_error(r, FORUM_E_BAD_REQUEST, "name",
                      "this session needs a display name to ask a question");
            return;
        }
        author = cmd->anonymous || !name[0] ? NULL : name;
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
    /* A follow-up without "to" goes to whom its question went ("to": null = the whole panel). */
    q.to = cmd->has_to ? cmd->to : parent && has_panelist(s, parent->to) ? parent->to : 0;
    q.parent_id = cmd->parent_id;
    q.created_at = c->env->now_ms;
    q.live_phase = s->cfg.started_at != 0;
    q.source = staff && cmd->has_source ? cmd->source : FORUM_SRC_WEB;
    if (q.source == FORUM_SRC_CARRIED)
        q.source = FORUM_SRC_WEB;
    snprintf(q.viewer_id, sizeof q.viewer_id, "%s", staff ? "" : a->viewer_id);
    q.external_ref = staff ? cmd->external_ref : NULL;
    const char *word = staff ? NULL : blocked_word_in(s, cmd->text);
    bool held = !staff && (s->cfg.premoderation || word);
    q.state = held ? Q_PENDING : Q_PUBLISHED;
    q.held_for = (char *)word;

    forum_payload submitted = question_payload(&q);
    if (emit_in(c, s->code, FORUM_EV_QUESTION_SUBMITTED, &submitted, false, q.viewer_id, cmd->id) <
        0)
        goto oom;
    question *added = find_question(st, q.id);
    if (!added)
        goto oom;
    if (!held && emit_question(c, FORUM_EV_QUESTION_PUBLISHED, added, true) < 0)
        goto oom;
    ack_question_as(r, "question", added, staff ? FORUM_VIEW_STAFF : FORUM_VIEW_SUBJECT);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_edit(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    bool staff = is_staff(a);
    question *q = request_question(c, s, cmd->question_id, "question_id");
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
                      FORUM_QSTATE_NAMES[q->state]);
            return;
        }
    }
    question after = shadow(q);
    after.text = cmd->text;
    /* An author's edit goes back to review when the session premoderates or the new text holds
     * a blocked word. */
    const char *word = staff ? NULL : blocked_word_in(s, cmd->text);
    if (!staff && q->state == Q_PUBLISHED && (s->cfg.premoderation || word))
        after.state = Q_PENDING;
    if (!staff && after.state == Q_PENDING)
        after.held_for = (char *)word;
    bool public = forum_qstate_public(q->state) || forum_qstate_public(after.state);
    if (staff) {
        undo_begin(c, UNDO_EDIT);
        undo_question(c, q, -1);
    }
    if (emit_question(c, FORUM_EV_QUESTION_UPDATED, &after, public) < 0 ||
        (q->state != Q_PUBLISHED && leave_queue(c, s, q->id) < 0)) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question_as(r, "question", q, staff ? FORUM_VIEW_STAFF : FORUM_VIEW_SUBJECT);
}

void do_withdraw(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    if (strcmp(q->viewer_id, a->viewer_id) != 0) {
        set_error(r, FORUM_E_FORBIDDEN, "question_id", "you can only withdraw your own questions");
        return;
    }
    if (q->state != Q_PENDING && q->state != Q_PUBLISHED) {
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "a question can be withdrawn only while pending or published (it is %s)",
                  FORUM_QSTATE_NAMES[q->state]);
        return;
    }
    bool was_public = forum_qstate_public(q->state);
    question after = shadow(q);
    after.state = Q_WITHDRAWN;
    if (emit_question(c, FORUM_EV_QUESTION_WITHDRAWN, &after, was_public) < 0 ||
        leave_queue(c, s, q->id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question_as(r, "question", q, FORUM_VIEW_SUBJECT);
}

void do_vote(ctx *c, session *s, const forum_actor *a, const forum_command *cmd, bool add)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    int64_t vk = viewer_key(c->st, a->viewer_id);
    bool voted = vk && iset_has(&q->voters, vk);
    if (add && !voted && q->state != Q_PUBLISHED) {
        question_state_conflict(r, q, "only published questions can be voted on");
        return;
    }
    if (add != voted && emit_vote(c, s, add ? FORUM_EV_VOTE_ADDED : FORUM_EV_VOTE_REMOVED, q->id,
                                  a->viewer_id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    jsonw_int(ack_key(r, "question_id"), q->id);
    jsonw_puts(ack_key(r, "voted"), add ? "true" : "false");
}

void do_approve(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    if (q->state != Q_PENDING) {
        question_state_conflict(r, q, "only pending questions can be approved");
        return;
    }
    undo_begin(c, UNDO_APPROVE);
    undo_question(c, q, Q_PUBLISHED);
    question after = shadow(q);
    after.state = Q_PUBLISHED;
    if (emit_question(c, FORUM_EV_QUESTION_PUBLISHED, &after, true) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

/* Emits question.dismissed for q (pending or published) with reason (NULL or "" = none), kept
 * on the question while it stays dismissed, and takes q out of the up-next queue. Returns 0 or
 * -1. */
static int emit_dismissed(ctx *c, session *s, const question *q, const char *reason)
{
    bool was_public = forum_qstate_public(q->state);
    question after = shadow(q);
    after.state = Q_DISMISSED;
    after.dismiss_reason = reason && *reason ? (char *)reason : NULL;
    forum_payload payload = question_payload(&after);
    payload.question.reason = reason;
    if (emit(c, s, FORUM_EV_QUESTION_DISMISSED, &payload, was_public, q->viewer_id) < 0)
        return -1;
    return leave_queue(c, s, q->id);
}

void do_dismiss(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    if (q->state != Q_PENDING && q->state != Q_PUBLISHED) {
        question_state_conflict(r, q, "only pending or published questions can be dismissed");
        return;
    }
    undo_begin(c, UNDO_DISMISS);
    undo_question(c, q, Q_DISMISSED);
    if (emit_dismissed(c, s, q, cmd->reason) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

void do_restore(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    int to = cmd->state ? forum_name_index(FORUM_QSTATE_NAMES, Q__COUNT, cmd->state) : Q_PUBLISHED;
    if (to != Q_PUBLISHED && to != Q_PENDING) {
        set_error(r, FORUM_E_BAD_REQUEST, "state", "a question is restored to published or pending");
        return;
    }
    if (q->state != Q_DISMISSED) {
        question_state_conflict(r, q, "only dismissed questions can be restored");
        return;
    }
    undo_begin(c, UNDO_RESTORE);
    undo_question(c, q, to);
    question after = shadow(q);
    after.state = to;
    after.merged_into = 0; /* a merged one comes back on its own; moved votes stay moved */
    after.dismiss_reason = NULL;
    forum_payload payload = question_payload(&after);
    payload.question.restored = true;
    forum_kind kind = to == Q_PUBLISHED ? FORUM_EV_QUESTION_PUBLISHED : FORUM_EV_QUESTION_UPDATED;
    if (emit(c, s, kind, &payload, to == Q_PUBLISHED, q->viewer_id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

void do_bulk(ctx *c, session *s, const forum_command *cmd, bool approve)
{
    forum_result *r = c->res;
    if (cmd->n_ids == 0 || cmd->n_ids > FORUM_BULK_MAX || cmd->n_ids > UNDO_MAX_QUESTIONS) {
        set_error(r, FORUM_E_BAD_REQUEST, "question_ids", "name 1 to %d questions",
                  FORUM_BULK_MAX);
        return;
    }
    question **qs = forum_arena_alloc(&c->scratch, cmd->n_ids * sizeof *qs);
    int64_t *skipped = forum_arena_alloc(&c->scratch, cmd->n_ids * sizeof *skipped);
    if (!qs || !skipped)
        goto oom;
    for (size_t i = 0; i < cmd->n_ids; i++) {
        question *q = find_question(c->st, cmd->ids[i]);
        if (!q || q->session != s) {
            set_error(r, FORUM_E_NOT_FOUND, "question_ids",
                      "question %lld does not exist in this session", (long long)cmd->ids[i]);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (qs[j] == q) {
                set_error(r, FORUM_E_BAD_REQUEST, "question_ids",
                          "question %lld is named twice", (long long)q->id);
                return;
            }
        qs[i] = q;
    }
    /* What can change is changed; what another moderator got to first is reported. */
    size_t n_changed = 0, n_skipped = 0;
    undo_begin(c, approve ? UNDO_APPROVE : UNDO_DISMISS);
    for (size_t i = 0; i < cmd->n_ids; i++) {
        bool can = approve ? qs[i]->state == Q_PENDING
                           : qs[i]->state == Q_PENDING || qs[i]->state == Q_PUBLISHED;
        if (can) {
            undo_question(c, qs[i], approve ? Q_PUBLISHED : Q_DISMISSED);
            qs[n_changed++] = qs[i];
        } else {
            skipped[n_skipped++] = qs[i]->id;
        }
    }
    if (n_changed == 0)
        memset(&c->secret, 0, sizeof c->secret);
    for (size_t i = 0; i < n_changed; i++) {
        question after = shadow(qs[i]);
        after.state = Q_PUBLISHED;
        int rc = approve ? emit_question(c, FORUM_EV_QUESTION_PUBLISHED, &after, true)
                         : emit_dismissed(c, s, qs[i], cmd->reason);
        if (rc < 0)
            goto oom;
    }
    jsonw *w = ack_key(r, "questions");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < n_changed; i++) {
        forum_question_rec rec = question_rec(qs[i]);
        if (i)
            jsonw_put(w, ",", 1);
        forum_write_question(w, &rec, FORUM_VIEW_STAFF, false);
    }
    jsonw_put(w, "]", 1);
    jsonw_ids(ack_key(r, "skipped"), skipped, n_skipped);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_star(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    undo_begin(c, UNDO_STAR);
    undo_question(c, q, -1);
    question after = shadow(q);
    after.starred = cmd->starred;
    if (emit_question(c, FORUM_EV_QUESTION_UPDATED, &after, forum_qstate_public(q->state)) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

void do_merge(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    forum_state *st = c->st;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    question *into = request_question(c, s, cmd->into_id, "into_id");
    if (!into)
        return;
    if (q == into) {
        set_error(r, FORUM_E_BAD_REQUEST, "into_id", "a question cannot be merged into itself");
        return;
    }
    if (q->state != Q_PENDING && q->state != Q_PUBLISHED) {
        question_state_conflict(r, q, "only pending or published questions can be merged");
        return;
    }
    if (into->state == Q_DISMISSED || into->state == Q_WITHDRAWN) {
        set_error(r, FORUM_E_CONFLICT, "into_id", "cannot merge into a %s question",
                  FORUM_QSTATE_NAMES[into->state]);
        return;
    }
    bool was_public = forum_qstate_public(q->state);
    if (was_public && !forum_qstate_public(into->state)) {
        /* The merged question's audience would receive the target: it must be public too. */
        set_error(r, FORUM_E_CONFLICT, "into_id",
                  "a published question can be merged only into a published one; approve "
                  "question %lld first",
                  (long long)into->id);
        return;
    }
    forum_undo_rec *u = undo_begin(c, UNDO_MERGE);
    undo_question(c, q, Q_DISMISSED);
    u->has_merge = true;
    u->merge_from = q->id;
    u->merge_into = into->id;
    /* Collect the voters first (copies: the vote events below change q->voters). */
    size_t n = 0, n_moved = 0;
    const char **voters = forum_arena_alloc(&c->scratch, (q->voters.len + 1) * sizeof *voters);
    const char **moved = forum_arena_alloc(&c->scratch, (q->voters.len + 1) * sizeof *moved);
    if (!voters || !moved)
        goto oom;
    for (size_t i = 0; i < q->voters.cap; i++) {
        int64_t key = q->voters.keys[i];
        if (key <= 0)
            continue;
        if (!(voters[n] = forum_arena_strdup(&c->scratch, st->viewers[key - 1].id)))
            goto oom;
        if (!iset_has(&into->voters, key))
            moved[n_moved++] = voters[n];
        n++;
    }
    /* The asker's support goes with her question too (as if she had voted for it), unless she
     * has a vote there already or is banned: her question is combined, not turned down. */
    int64_t asker = q->viewer_id[0] ? viewer_key(st, q->viewer_id) : 0;
    const char *asker_vote = NULL;
    if (q->viewer_id[0] && !(asker && (iset_has(&q->voters, asker) ||
                                       iset_has(&into->voters, asker) || iset_has(&s->bans, asker)))) {
        if (!(asker_vote = forum_arena_strdup(&c->scratch, q->viewer_id)))
            goto oom;
        moved[n_moved++] = asker_vote;
    }
    u->voters = voters;
    u->n_voters = n;
    u->moved = moved;
    u->n_moved = n_moved;
    for (size_t i = 0, m = 0; i < n; i++) {
        bool move = m < n_moved && moved[m] == voters[i];
        m += move;
        if (emit_vote(c, s, FORUM_EV_VOTE_REMOVED, q->id, voters[i]) < 0 ||
            (move && emit_vote(c, s, FORUM_EV_VOTE_ADDED, into->id, voters[i]) < 0))
            goto oom;
    }
    if (asker_vote && emit_vote(c, s, FORUM_EV_VOTE_ADDED, into->id, asker_vote) < 0)
        goto oom;
    question after = shadow(q);
    after.state = Q_DISMISSED;
    after.merged_into = into->id;
    forum_payload payload = question_payload(&after);
    payload.question.has_into = true;
    payload.question.into = question_rec(into);
    if (emit(c, s, FORUM_EV_QUESTION_MERGED, &payload, was_public, q->viewer_id) < 0 ||
        leave_queue(c, s, q->id) < 0)
        goto oom;
    ack_question(r, q);
    ack_question_as(r, "into", into, FORUM_VIEW_STAFF);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

/* Puts q on air (q published or answered; validated by the caller). */
static void put_on_air(ctx *c, session *s, question *q)
{
    forum_result *r = c->res;
    question *prev = s->on_air ? find_question(c->st, s->on_air) : NULL;
    undo_begin(c, UNDO_ONAIR);
    if (prev && prev != q)
        undo_question(c, prev, prev->state == Q_ON_AIR ? Q_PUBLISHED : prev->state);
    undo_question(c, q, q->state == Q_PUBLISHED ? Q_ON_AIR : q->state);
    undo_air(c, s->on_air, q->id);
    if (prev && prev != q && prev->state == Q_ON_AIR) {
        question after = shadow(prev);
        after.state = Q_PUBLISHED;
        if (emit_question(c, FORUM_EV_QUESTION_UPDATED, &after, true) < 0)
            goto oom;
    }
    if (q->state == Q_PUBLISHED) {
        question after = shadow(q);
        after.state = Q_ON_AIR;
        if (emit_question(c, FORUM_EV_QUESTION_UPDATED, &after, true) < 0)
            goto oom;
    }
    if (leave_queue(c, s, q->id) < 0 || emit_onair(c, s, q->id) < 0)
        goto oom;
    jsonw_int(ack_key(r, "question_id"), q->id);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_onair_set(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    if (s->on_air == q->id) {
        set_error(r, FORUM_E_CONFLICT, "question_id", "this question is already on air");
        return;
    }
    if (q->state != Q_PUBLISHED && q->state != Q_ANSWERED) {
        question_state_conflict(r, q, "only published or answered questions can go on air");
        return;
    }
    put_on_air(c, s, q);
}

void do_onair_next(ctx *c, session *s)
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

void do_onair_clear(ctx *c, session *s)
{
    forum_result *r = c->res;
    question *cur = s->on_air ? find_question(c->st, s->on_air) : NULL;
    if (s->on_air) {
        if (cur && cur->state == Q_ON_AIR) {
            question after = shadow(cur);
            after.state = Q_PUBLISHED;
            if (emit_question(c, FORUM_EV_QUESTION_UPDATED, &after, true) < 0)
                goto oom;
        }
        if (emit_onair(c, s, 0) < 0)
            goto oom;
    }
    jsonw_puts(ack_key(r, "question_id"), "null");
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_answered(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
    if (!q)
        return;
    bool airing = s->on_air == q->id;
    if (q->state != Q_PUBLISHED && q->state != Q_ON_AIR && !(q->state == Q_ANSWERED && airing)) {
        question_state_conflict(r, q, "only published or on-air questions can be marked answered");
        return;
    }
    undo_begin(c, UNDO_ANSWERED);
    undo_question(c, q, Q_ANSWERED);
    if (airing)
        undo_air(c, s->on_air, 0);
    question after = shadow(q);
    after.state = Q_ANSWERED;
    if (cmd->note)
        after.answer_note = cmd->note;
    if (emit_question(c, FORUM_EV_QUESTION_ANSWERED, &after, true) < 0 ||
        (airing && emit_onair(c, s, 0) < 0) || leave_queue(c, s, q->id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

void do_queue_set(ctx *c, session *s, const forum_command *cmd)
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
                      (long long)q->id, FORUM_QSTATE_NAMES[q->state]);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (cmd->ids[j] == cmd->ids[i]) {
                set_error(r, FORUM_E_BAD_REQUEST, "question_ids",
                          "question %lld appears twice in the queue", (long long)cmd->ids[i]);
                return;
            }
    }
    forum_payload p = {.queue = {cmd->ids, cmd->n_ids}};
    if (emit(c, s, FORUM_EV_QUEUE_CHANGED, &p, true, NULL) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    jsonw_ids(ack_key(r, "up_next"), s->up_next, s->n_up_next);
}

void do_panel_set(ctx *c, session *s, const forum_command *cmd)
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
    forum_payload p = {.panel = panel_rec(s)};
    if (cmd->has_segment_id)
        p.panel.segment_id = cmd->segment_id;
    if (cmd->has_speaker_ids) {
        p.panel.speaker_ids = cmd->speaker_ids;
        p.panel.n_speaker_ids = cmd->n_speaker_ids;
    }
    if (cmd->has_banner)
        p.panel.banner = cmd->banner;
    if (emit(c, s, FORUM_EV_PANEL_CHANGED, &p, true, NULL) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    forum_panel_rec panel = panel_rec(s);
    forum_write_panel(ack_key(r, "panel"), &panel);
}

void do_ban(ctx *c, session *s, const forum_command *cmd, bool ban)
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
        forum_payload p = {.viewer_id = vid};
        if (emit(c, s, ban ? FORUM_EV_VIEWER_BANNED : FORUM_EV_VIEWER_UNBANNED, &p, false, NULL) <
            0)
            goto oom;
    }
    jsonw_string(ack_key(r, "viewer_id"), vid);
    jsonw_puts(ack_key(r, "banned"), ban ? "true" : "false");
    if (!ban || !cmd->dismiss_pending)
        return;
    /* Ban and clear: the viewer's questions still waiting for review are dismissed with it. */
    jsonw *w = ack_key(r, "dismissed");
    jsonw_put(w, "[", 1);
    size_t n = 0;
    for (size_t i = 0; i < s->n_questions; i++) {
        question *q = s->questions[i];
        if (q->state != Q_PENDING || strcmp(q->viewer_id, vid) != 0)
            continue;
        if (emit_dismissed(c, s, q, cmd->reason) < 0)
            goto oom;
        if (n++)
            jsonw_put(w, ",", 1);
        jsonw_int(w, q->id);
    }
    jsonw_put(w, "]", 1);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_undo(ctx *c, session *s)
{
    forum_result *r = c->res;
    forum_state *st = c->st;
    undo_record *u = find_undo(s, c->actor);
    if (!u) {
        set_error(r, FORUM_E_CONFLICT, NULL, "there is nothing to undo");
        return;
    }
    /* The first event below clears the stored record: work on a copy. */
    forum_undo_rec rec = u->rec;
    if (forum_undo_own(&c->scratch, &rec) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    const char *action = FORUM_UNDO_ACTION_NAMES[rec.action % UNDO__COUNT];
    for (size_t i = 0; i < rec.n_after; i++) {
        question *q = find_question(st, rec.after[i].id);
        if (!q || q->state != rec.after[i].state) {
            set_error(r, FORUM_E_CONFLICT, NULL,
                      "the last %s cannot be undone: the question has changed since", action);
            return;
        }
    }
    if (rec.has_air && s->on_air != rec.air_after) {
        set_error(r, FORUM_E_CONFLICT, NULL,
                  "the last %s cannot be undone: the air has changed since", action);
        return;
    }
    question *into = rec.has_merge ? find_question(st, rec.merge_into) : NULL;
    if (rec.has_merge && !into) {
        set_error(r, FORUM_E_CONFLICT, NULL,
                  "the last merge cannot be undone: the target question is gone");
        return;
    }

    c->secret.undo_clear = true;
    if (rec.has_merge) {
        for (size_t i = 0; i < rec.n_moved; i++) {
            int64_t vk = viewer_key(st, rec.moved[i]);
            if (vk && iset_has(&into->voters, vk) &&
                emit_vote(c, s, FORUM_EV_VOTE_REMOVED, into->id, rec.moved[i]) < 0)
                goto oom;
        }
        question *fq = find_question(st, rec.merge_from);
        for (size_t i = 0; i < rec.n_voters; i++) {
            int64_t vk = viewer_key(st, rec.voters[i]);
            if (fq && vk && !iset_has(&fq->voters, vk) &&
                emit_vote(c, s, FORUM_EV_VOTE_ADDED, rec.merge_from, rec.voters[i]) < 0)
                goto oom;
        }
    }
    for (size_t i = 0; i < rec.n_before; i++) {
        const forum_question_rec *b = &rec.before[i];
        question *q = find_question(st, b->id);
        if (!q || b->state >= Q__COUNT || !b->text)
            continue;
        /* Each action restores only what it changed. */
        question restored = shadow(q);
        switch ((forum_undo_action)rec.action) {
        case UNDO_STAR:
            restored.starred = b->starred;
            break;
        case UNDO_EDIT:
            restored.text = (char *)b->text;
            break;
        case UNDO_ANSWERED:
            restored.state = b->state;
            restored.answer_note = (char *)b->answer_note;
            break;
        case UNDO_MERGE:
            restored.state = b->state;
            restored.merged_into = b->merged_into;
            break;
        case UNDO_RESTORE:
            restored.state = b->state;
            restored.merged_into = b->merged_into;
            restored.dismiss_reason = (char *)b->dismiss_reason;
            break;
        case UNDO_APPROVE:
        case UNDO_DISMISS:
        case UNDO_ONAIR:
        case UNDO__COUNT:
            restored.state = b->state;
            break;
        }
        bool public = forum_qstate_public(q->state) || forum_qstate_public(restored.state);
        forum_payload payload = question_payload(&restored);
        payload.question.undo = true;
        if (emit(c, s, FORUM_EV_QUESTION_UPDATED, &payload, public, q->viewer_id) < 0)
            goto oom;
        if (restored.state != Q_PUBLISHED && leave_queue(c, s, q->id) < 0)
            goto oom;
    }
    if (rec.has_air && rec.air_before != s->on_air && emit_onair(c, s, rec.air_before) < 0)
        goto oom;
    if (r->n_events == 0) {
        /* Nothing to restore any more: forget the record all the same. */
        memset(&c->secret, 0, sizeof c->secret);
        set_error(r, FORUM_E_CONFLICT, NULL, "there is nothing to undo");
        return;
    }
    jsonw_string(ack_key(r, "undone"), action);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}
