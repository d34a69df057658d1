/* handle_question.c — requests about questions: a viewer's submit, edit, withdraw and votes,
 * and moderation (approve, dismiss, star, merge, on air, answered, up-next queue, panel, bans,
 * undo). */

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
    if (cmd->parent_id) {
        question *parent = request_question(c, s, cmd->parent_id, "parent_id");
        if (!parent)
            return;
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

    if (emit_in(c, s->code, "question.submitted", question_payload(&q), FORUM_AUD_STAFF_AND_SUBJECT,
                q.viewer_id, cmd->id) < 0)
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

void do_vote(ctx *c, session *s, const forum_actor *a, const forum_command *cmd, bool add)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
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

void do_approve(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
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
    if (emit(c, s, "question.published", question_payload(&after), FORUM_AUD_PUBLIC, q->viewer_id) <
        0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_question(r, q);
}

void do_dismiss(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
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

void do_star(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
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
    if (was_public && !is_public_state(into->state)) {
        /* The merged question's audience would receive the target: it must be public too. */
        set_error(r, FORUM_E_CONFLICT, "into_id",
                  "a published question can be merged only into a published one; approve "
                  "question %lld first",
                  (long long)into->id);
        return;
    }
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
        set_error(r, FORUM_E_CONFLICT, "question_id",
                  "only published or answered questions can go on air (this one is %s)",
                  QSTATE_NAMES[q->state]);
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

void do_answered(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    question *q = request_question(c, s, cmd->question_id, "question_id");
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
    if (emit(c, s, "question.answered", question_payload(&after), FORUM_AUD_PUBLIC, q->viewer_id) <
            0 ||
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
    cJSON_ArrayForEach (it, after) {
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
        cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(merge, "moved")) {
            int64_t vk = cJSON_IsString(it) ? viewer_key(st, it->valuestring) : 0;
            if (vk && iset_has(&into->voters, vk) &&
                emit_vote(c, s, "vote.removed", into->id, it->valuestring) < 0)
                goto oom;
        }
        question *fq = find_question(st, from);
        cJSON_ArrayForEach (it, cJSON_GetObjectItemCaseSensitive(merge, "voters")) {
            int64_t vk = cJSON_IsString(it) ? viewer_key(st, it->valuestring) : 0;
            if (fq && vk && !iset_has(&fq->voters, vk) &&
                emit_vote(c, s, "vote.added", from, it->valuestring) < 0)
                goto oom;
        }
    }
    cJSON_ArrayForEach (it, before) {
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
