/* forum.c — the domain core's entry points (see forum.h): forum_apply checks the actor's role
 * and the target session and hands the command to its handler (handle_*.c); coalesced counts
 * and peak audience. The core is split by concern: forum_state.c (state and lookups),
 * forum_events.c (applying events), forum_render.c (JSON views), forum_emit.c (building
 * events), handle_question.c, handle_session.c, handle_outcome.c; forum_internal.h is what they
 * share. Owns the in-memory state of every programme,
 * session, panel, question, vote, poll, ban and undo record, the rules that turn a validated
 * command into events, and the single event-application path (apply_event) that both
 * forum_apply and forum_replay use, so live state and replayed state cannot drift apart.
 *
 * Event sourcing: forum_apply validates a command against the state, then builds its events one
 * at a time; each event is applied through apply_event before the next is built, so later
 * events in a batch see the effect of earlier ones. Every state change is carried by an event
 * payload (or its secret), never by the command. Pure: no I/O, no globals. */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum who { WHO_VIEWER, WHO_ANYONE, WHO_STAFF, WHO_PRODUCER_STUDIO, WHO_PRODUCER } who;

static who command_class(forum_cmd_type t)
{
    switch (t) {
    case FORUM_CMD_QUESTION_WITHDRAW:
    case FORUM_CMD_VOTE_ADD:
    case FORUM_CMD_VOTE_REMOVE:
    case FORUM_CMD_POLL_VOTE:
    case FORUM_CMD_RATING_SET:
        return WHO_VIEWER;
    case FORUM_CMD_QUESTIONS_LIST:
    case FORUM_CMD_QUESTION_SUBMIT:
    case FORUM_CMD_QUESTION_EDIT:
        return WHO_ANYONE;
    case FORUM_CMD_PROGRAM_CREATE:
    case FORUM_CMD_PROGRAM_UPDATE:
    case FORUM_CMD_SESSION_CREATE:
    case FORUM_CMD_SESSION_LIST:
    case FORUM_CMD_SESSION_CARRY_OVER:
    case FORUM_CMD_SEARCH:
    case FORUM_CMD_BACKUP:
    case FORUM_CMD_WEBHOOK_CREATE:
    case FORUM_CMD_WEBHOOK_UPDATE:
    case FORUM_CMD_WEBHOOK_DELETE:
        return WHO_PRODUCER_STUDIO;
    case FORUM_CMD_VIEWER_ERASE:
        return WHO_PRODUCER;
    case FORUM_CMD_SESSION_UPDATE:
    case FORUM_CMD_SESSION_OPEN:
    case FORUM_CMD_SESSION_START:
    case FORUM_CMD_SESSION_END:
    case FORUM_CMD_SESSION_ARCHIVE:
    case FORUM_CMD_SESSION_ROTATE_KEY:
        return WHO_PRODUCER;
    default:
        return WHO_STAFF;
    }
}

static void actor_string(const forum_actor *a, char *out, size_t cap)
{
    switch (a->role) {
    case FORUM_ROLE_VIEWER:
        snprintf(out, cap, "viewer:%s", a->viewer_id);
        break;
    case FORUM_ROLE_MODERATOR:
        snprintf(out, cap, "moderator:%s", a->name[0] ? a->name : "moderator");
        break;
    case FORUM_ROLE_PRODUCER:
        snprintf(out, cap, "producer");
        break;
    default:
        snprintf(out, cap, "system");
        break;
    }
}

forum_result forum_apply(forum_state *st, const forum_actor *actor, const forum_command *cmd,
                         const forum_env *env)
{
    forum_result res;
    memset(&res, 0, sizeof res);
    ctx c = {.st = st, .env = env, .res = &res, .who = actor};
    if (!st || !actor || !cmd || !env) {
        set_error(&res, FORUM_E_INTERNAL, NULL, "forum_apply called without state");
        return res;
    }
    actor_string(actor, c.actor, sizeof c.actor);
    if (actor->role == FORUM_ROLE_NONE) {
        set_error(&res, FORUM_E_UNAUTHORIZED, NULL, "say hello first");
        return res;
    }
    if (actor->role == FORUM_ROLE_BOARD) {
        set_error(&res, FORUM_E_FORBIDDEN, NULL, "a board connection only receives");
        return res;
    }
    if (cmd->type <= FORUM_CMD_HELLO || cmd->type >= FORUM_CMD__COUNT) {
        set_error(&res, FORUM_E_UNKNOWN_TYPE, "type", "this request type is not a forum request");
        return res;
    }
    who cls = command_class(cmd->type);
    bool staff = is_staff(actor), producer = actor->role == FORUM_ROLE_PRODUCER;
    if ((cls == WHO_VIEWER && actor->role != FORUM_ROLE_VIEWER) || (cls == WHO_STAFF && !staff) ||
        ((cls == WHO_PRODUCER || cls == WHO_PRODUCER_STUDIO) && !producer)) {
        set_error(&res, FORUM_E_FORBIDDEN, NULL, "your role may not do this");
        return res;
    }

    if (cls == WHO_PRODUCER_STUDIO) {
        switch (cmd->type) {
        case FORUM_CMD_PROGRAM_CREATE:
            do_program(&c, cmd, true);
            break;
        case FORUM_CMD_PROGRAM_UPDATE:
            do_program(&c, cmd, false);
            break;
        case FORUM_CMD_SESSION_CREATE:
            do_session_create(&c, cmd);
            break;
        case FORUM_CMD_SESSION_CARRY_OVER:
            do_carry_over(&c, cmd);
            break;
        case FORUM_CMD_SEARCH:
        case FORUM_CMD_BACKUP:
            break; /* authorized here; the dispatcher does the work */
        case FORUM_CMD_WEBHOOK_CREATE:
            do_webhook_create(&c, cmd);
            break;
        case FORUM_CMD_WEBHOOK_UPDATE:
        case FORUM_CMD_WEBHOOK_DELETE:
            do_webhook_update(&c, cmd, cmd->type == FORUM_CMD_WEBHOOK_DELETE);
            break;
        default:
            ack_studio(&res, st);
            break;
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

    /* Reading the session's questions works in every status and for banned viewers. */
    if (cmd->type == FORUM_CMD_QUESTIONS_LIST) {
        do_questions_list(&c, s, actor, cmd);
        return res;
    }
    if (cmd->type == FORUM_CMD_QUESTIONS_SIMILAR) {
        do_questions_similar(&c, s, cmd);
        return res;
    }

    /* An import already entered (its external_ref is taken) gets the question it made. */
    if (cmd->type == FORUM_CMD_QUESTION_SUBMIT && staff && cmd->external_ref) {
        char key[EXTERNAL_REF_KEY_MAX];
        external_ref_key(key, sizeof key, cmd->external_ref);
        int64_t *qid = smap_get(&s->submits, key);
        question *q = qid ? find_question(st, *qid) : NULL;
        if (q) {
            ack_question_as(&res, "question", q, FORUM_VIEW_STAFF);
            jsonw_puts(ack_key(&res, "existing"), "true");
            return res;
        }
    }
    /* An idempotent repeat of a submit gets the original ack, whatever happened since. */
    if (cmd->type == FORUM_CMD_QUESTION_SUBMIT && cmd->id && *cmd->id) {
        char key[FORUM_ACTOR_MAX + FORUM_REQUEST_ID_MAX + 2];
        submit_key(key, sizeof key, staff ? c.actor : actor->viewer_id, cmd->id);
        int64_t *qid = smap_get(&s->submits, key);
        question *q = qid ? find_question(st, *qid) : NULL;
        if (q) {
            ack_question_as(&res, "question", q, staff ? FORUM_VIEW_STAFF : FORUM_VIEW_SUBJECT);
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
        /* ratings also follow the show for a while: until it is archived */
        bool rating_after_show = cmd->type == FORUM_CMD_RATING_SET && s->cfg.status == S_ENDED;
        if (s->cfg.status != S_OPEN && s->cfg.status != S_LIVE && !rating_after_show) {
            set_error(&res, FORUM_E_SESSION_CLOSED, NULL,
                      "this session is not taking questions or votes (it is %s)",
                      FORUM_STATUS_NAMES[s->cfg.status]);
            return res;
        }
    }

    switch (cmd->type) {
    case FORUM_CMD_QUESTION_SUBMIT:
        do_submit(&c, s, actor, cmd);
        break;
    case FORUM_CMD_QUESTION_EDIT:
        do_edit(&c, s, actor, cmd);
        break;
    case FORUM_CMD_QUESTION_WITHDRAW:
        do_withdraw(&c, s, actor, cmd);
        break;
    case FORUM_CMD_VOTE_ADD:
        do_vote(&c, s, actor, cmd, true);
        break;
    case FORUM_CMD_VOTE_REMOVE:
        do_vote(&c, s, actor, cmd, false);
        break;
    case FORUM_CMD_POLL_VOTE:
        do_poll_vote(&c, s, actor, cmd);
        break;
    case FORUM_CMD_QUESTION_APPROVE:
        do_approve(&c, s, cmd);
        break;
    case FORUM_CMD_QUESTION_DISMISS:
        do_dismiss(&c, s, cmd);
        break;
    case FORUM_CMD_QUESTION_STAR:
        do_star(&c, s, cmd);
        break;
    case FORUM_CMD_QUESTION_MERGE:
        do_merge(&c, s, cmd);
        break;
    case FORUM_CMD_QUESTION_ANSWERED:
        do_answered(&c, s, cmd);
        break;
    case FORUM_CMD_QUESTION_UNDO:
        do_undo(&c, s);
        break;
    case FORUM_CMD_ONAIR_SET:
        do_onair_set(&c, s, cmd);
        break;
    case FORUM_CMD_ONAIR_CLEAR:
        do_onair_clear(&c, s);
        break;
    case FORUM_CMD_ONAIR_NEXT:
        do_onair_next(&c, s);
        break;
    case FORUM_CMD_QUEUE_SET:
        do_queue_set(&c, s, cmd);
        break;
    case FORUM_CMD_PANEL_SET:
        do_panel_set(&c, s, cmd);
        break;
    case FORUM_CMD_VIEWER_BAN:
        do_ban(&c, s, cmd, true);
        break;
    case FORUM_CMD_VIEWER_UNBAN:
        do_ban(&c, s, cmd, false);
        break;
    case FORUM_CMD_POLL_CREATE:
        do_poll_create(&c, s, cmd);
        break;
    case FORUM_CMD_POLL_OPEN:
        do_poll_state(&c, s, cmd, P_DRAFT, P_OPEN);
        break;
    case FORUM_CMD_POLL_CLOSE:
        do_poll_state(&c, s, cmd, P_OPEN, P_CLOSED);
        break;
    case FORUM_CMD_SESSION_UPDATE:
        do_session_update(&c, s, cmd);
        break;
    case FORUM_CMD_SESSION_OPEN:
    case FORUM_CMD_SESSION_START:
    case FORUM_CMD_SESSION_END:
    case FORUM_CMD_SESSION_ARCHIVE:
        do_session_status(&c, s, cmd->type);
        break;
    case FORUM_CMD_SESSION_ROTATE_KEY:
        do_rotate_key(&c, s);
        break;
    case FORUM_CMD_ACTION_CREATE:
        do_action_create(&c, s, cmd);
        break;
    case FORUM_CMD_ACTION_UPDATE:
        do_action_update(&c, s, cmd);
        break;
    case FORUM_CMD_VIEWER_ERASE:
        do_viewer_erase(&c, s, cmd);
        break;
    case FORUM_CMD_RATING_SET:
        do_rating_set(&c, s, actor, cmd);
        break;
    case FORUM_CMD_RATING_APPROVE:
    case FORUM_CMD_RATING_DISMISS:
        do_rating_moderate(&c, s, cmd, cmd->type == FORUM_CMD_RATING_APPROVE);
        break;
    case FORUM_CMD_QUESTION_RESTORE:
        do_restore(&c, s, cmd);
        break;
    case FORUM_CMD_QUESTIONS_APPROVE:
        do_bulk(&c, s, cmd, true);
        break;
    case FORUM_CMD_QUESTIONS_DISMISS:
        do_bulk(&c, s, cmd, false);
        break;
    default:
        set_error(&res, FORUM_E_UNKNOWN_TYPE, "type", "unknown request type");
        break;
    }
out:
    forum_arena_free(&c.scratch);
    if (res.err != FORUM_OK) {
        /* Validation precedes every event, so events exist here only after an allocation
         * failure mid-batch; they are already applied and must still be committed. */
        free(res.ack.p);
        memset(&res.ack, 0, sizeof res.ack);
    }
    return res;
}

/* Events the server makes itself (coalesced counts, audience figures) are appended to the
 * caller's array *out (*n of them) by a context acting as "system": system_begin sets it up,
 * system_end hands the grown array back and frees the scratch arena. */
static void system_begin(ctx *c, forum_result *res, forum_state *st, const forum_env *env,
                         forum_event *events, size_t n)
{
    memset(res, 0, sizeof *res);
    res->events = events;
    res->n_events = n;
    *c = (ctx){.st = st, .env = env, .res = res};
    snprintf(c->actor, sizeof c->actor, "system");
}

static void system_end(ctx *c, forum_event **out, size_t *n)
{
    forum_arena_free(&c->scratch);
    *out = c->res->events;
    *n = c->res->n_events;
}

size_t forum_flush_counts(forum_state *st, const forum_env *env, forum_event **out, size_t *n)
{
    forum_result res;
    ctx c;
    size_t before = *n;
    system_begin(&c, &res, st, env, *out, *n);
    for (size_t i = 0; i < st->n_sessions; i++) {
        session *s = st->sessions[i];
        if (s->n_dirty_questions) {
            forum_count *counts =
                forum_arena_alloc(&c.scratch, s->n_dirty_questions * sizeof *counts);
            size_t k = 0;
            for (size_t j = 0; counts && j < s->n_dirty_questions; j++) {
                const question *q = find_question(st, s->dirty_questions[j]);
                if (q)
                    counts[k++] = (forum_count){q->id, (int64_t)q->voters.len};
            }
            forum_payload payload = {.counts = {counts, k}};
            if (counts)
                emit(&c, s, FORUM_EV_VOTES_CHANGED, &payload, true, NULL);
        }
        for (size_t j = 0; j < s->n_polls; j++) {
            const poll *p = s->polls[j];
            if (p->dirty && p->state != P_DRAFT)
                emit_poll(&c, s, p);
        }
        flush_rating_counts(&c, s);
    }
    system_end(&c, out, n);
    return *n - before;
}

size_t forum_sample_viewers(forum_state *st, int64_t (*viewers_of)(void *arg, const char *code),
                            void *arg, const forum_env *env, forum_event **out, size_t *n)
{
    forum_result res;
    ctx c;
    system_begin(&c, &res, st, env, *out, *n);
    size_t added = 0;
    for (size_t i = 0; i < st->n_sessions; i++) {
        session *s = st->sessions[i];
        if (s->cfg.status != S_OPEN && s->cfg.status != S_LIVE)
            continue;
        int64_t v = viewers_of(arg, s->code);
        forum_payload payload = {.viewers = v < 0 ? 0 : v};
        if (emit(&c, s, FORUM_EV_VIEWERS_SAMPLED, &payload, false, NULL) == 0)
            added++;
    }
    system_end(&c, out, n);
    return added;
}

size_t forum_note_viewers(forum_state *st, const char *code, int64_t viewers, const forum_env *env,
                          forum_event **out, size_t *n)
{
    session *s = find_session(st, code);
    if (!s || viewers <= s->peak_viewers || (s->cfg.status != S_OPEN && s->cfg.status != S_LIVE))
        return 0;
    forum_result res;
    ctx c;
    system_begin(&c, &res, st, env, *out, *n);
    forum_payload payload = {.viewers = viewers};
    int rc = emit(&c, s, FORUM_EV_VIEWERS_PEAK, &payload, false, NULL);
    system_end(&c, out, n);
    return rc == 0 ? 1 : 0;
}
