/* handle_rating.c — satisfaction ratings (满意度): a viewer rates the answer to a question that
 * was answered on air, or the delivery of a published commitment; staff moderate the optional
 * comments; the counts reach everyone coalesced (ratings.changed, flushed with the vote
 * counts). One rating per viewer and item: rating again changes it, and moves it to the session
 * where it was given. */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The item a rating.set names, checked for this viewer in session s: a question of s that was
 * answered, or a published commitment of s's programme made in s or an earlier session. Sets
 * the error and returns false when there is none. */
static bool rating_target(ctx *c, session *s, const forum_command *cmd)
{
    forum_result *r = c->res;
    if ((cmd->question_id > 0) == (cmd->action_id > 0)) {
        set_error(r, FORUM_E_BAD_REQUEST, cmd->question_id ? "action_id" : "question_id",
                  "rate either a question (question_id) or a commitment (action_id)");
        return false;
    }
    if (cmd->question_id) {
        const question *q = request_question(c, s, cmd->question_id, "question_id");
        if (!q)
            return false;
        if (q->state != Q_ANSWERED) {
            question_state_conflict(r, q, "only answered questions can be rated");
            return false;
        }
        return true;
    }
    const action_item *a = find_action(c->st, cmd->action_id);
    if (!a || !action_published(a) || a->session->cfg.program_id != s->cfg.program_id ||
        (a->session != s && !session_before(c->st, a->session, s))) {
        set_error(r, FORUM_E_NOT_FOUND, "action_id",
                  "commitment %lld is not a published commitment of this programme",
                  (long long)cmd->action_id);
        return false;
    }
    return true;
}

void do_rating_set(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
{
    forum_result *r = c->res;
    forum_state *st = c->st;
    if (!cmd->has_rating_value) {
        set_error(r, FORUM_E_BAD_REQUEST, "value", "value is required");
        return;
    }
    if (!rating_target(c, s, cmd))
        return;
    if (cmd->has_comment && too_long(cmd->comment, FORUM_RATING_COMMENT_MAX)) {
        set_error(r, FORUM_E_TOO_LONG, "comment", "the comment is longer than %d characters",
                  FORUM_RATING_COMMENT_MAX);
        return;
    }
    rating *old = find_viewer_rating(st, a->viewer_id, cmd->question_id, cmd->action_id);
    if (!old && s->n_ratings >= RATINGS_PER_SESSION) {
        set_error(r, FORUM_E_RATE_LIMITED, NULL, "this session has reached its limit of %d ratings",
                  RATINGS_PER_SESSION);
        r->retry_after_ms = 60000;
        return;
    }
    rating x = {
        .id = old ? old->id : st->next_rating_id,
        .session = s,
        .question_id = cmd->question_id,
        .action_id = cmd->action_id,
        .value = cmd->rating_value,
        .comment = old ? old->comment : NULL,
        .comment_state = old ? old->comment_state : FORUM_COMMENT_NONE,
        .created_at = old ? old->created_at : c->env->now_ms,
        .updated_at = c->env->now_ms,
    };
    snprintf(x.viewer_id, sizeof x.viewer_id, "%s", a->viewer_id);
    if (cmd->has_comment) {
        const char *text = cmd->comment && *cmd->comment ? cmd->comment : NULL;
        bool same = (!text && !x.comment) || (text && x.comment && strcmp(text, x.comment) == 0);
        if (!same) {
            /* a new comment is moderated like a question */
            x.comment = (char *)text;
            x.comment_state = !text ? FORUM_COMMENT_NONE
                              : s->cfg.premoderation || has_blocked_word(s, text)
                                  ? FORUM_COMMENT_PENDING
                                  : FORUM_COMMENT_PUBLISHED;
        }
    }
    bool changed = !old || old->session != s || old->value != x.value ||
                   old->comment_state != x.comment_state || old->comment != x.comment;
    if (changed) {
        forum_payload p = {.rating = rating_rec(&x)};
        if (emit(c, s, FORUM_EV_RATING_CHANGED, &p, false, a->viewer_id) < 0) {
            set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
            return;
        }
    }
    forum_rating_rec rec = rating_rec(find_rating(st, x.id));
    forum_write_rating(ack_key(r, "rating"), &rec, FORUM_VIEW_SUBJECT);
}

void do_rating_moderate(ctx *c, session *s, const forum_command *cmd, bool approve)
{
    forum_result *r = c->res;
    rating *cur = cmd->rating_id > 0 ? find_rating(c->st, cmd->rating_id) : NULL;
    if (!cur || cur->session != s || cur->comment_state == FORUM_COMMENT_NONE) {
        set_error(r, cmd->rating_id > 0 ? FORUM_E_NOT_FOUND : FORUM_E_BAD_REQUEST, "rating_id",
                  "rating %lld with a comment does not exist in this session",
                  (long long)cmd->rating_id);
        return;
    }
    int to = approve ? FORUM_COMMENT_PUBLISHED : FORUM_COMMENT_DISMISSED;
    bool allowed = approve ? cur->comment_state == FORUM_COMMENT_PENDING
                           : cur->comment_state != FORUM_COMMENT_DISMISSED;
    if (!allowed) {
        set_error(r, FORUM_E_CONFLICT, "rating_id", "this comment is %s",
                  FORUM_COMMENT_STATE_NAMES[cur->comment_state]);
        return;
    }
    rating x = *cur;
    x.comment_state = to;
    forum_payload p = {.rating = rating_rec(&x)};
    if (emit(c, s, FORUM_EV_RATING_CHANGED, &p, false, cur->viewer_id) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    forum_rating_rec rec = rating_rec(cur);
    forum_write_rating(ack_key(r, "rating"), &rec, FORUM_VIEW_STAFF);
}

int flush_rating_counts(ctx *c, session *s)
{
    if (!s->n_dirty_ratings)
        return 0;
    forum_rating_count *items = forum_arena_alloc(&c->scratch, s->n_dirty_ratings * sizeof *items);
    if (!items)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < s->n_dirty_ratings; i++) {
        int64_t id = s->dirty_ratings[i];
        const rating_tally *t = NULL;
        if (id > 0) {
            const question *q = find_question(c->st, id);
            t = q ? &q->ratings : NULL;
        } else {
            const action_item *a = find_action(c->st, -id);
            t = a ? &a->ratings : NULL;
        }
        if (!t)
            continue;
        forum_rating_count *n = &items[k++];
        memset(n, 0, sizeof *n);
        n->question_id = id > 0 ? id : 0;
        n->action_id = id < 0 ? -id : 0;
        memcpy(n->counts, t->counts, sizeof n->counts);
    }
    forum_payload p = {.ratings = {items, k}};
    return emit(c, s, FORUM_EV_RATINGS_CHANGED, &p, true, NULL);
}
