/* forum_render.c — the JSON views of the state: question, poll, action, panel, programme and
 * session objects (staff or public), the studio list and the welcome snapshot. */

#include "forum_internal.h"

#include <stdlib.h>
#include <string.h>

void add_str_or_null(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void add_int(cJSON *o, const char *k, int64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

void add_int_or_null(cJSON *o, const char *k, int64_t v)
{
    if (v)
        add_int(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

cJSON *id_array(const int64_t *ids, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)ids[i]));
    return a;
}

cJSON *question_json(const question *q, bool staff, bool mine)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int(o, "id", q->id);
    cJSON_AddStringToObject(o, "session", q->session->code);
    cJSON_AddStringToObject(o, "text", q->text ? q->text : "");
    add_str_or_null(o, "author", q->author);
    cJSON_AddStringToObject(o, "category", FORUM_CATEGORY_NAMES[q->category]);
    add_int_or_null(o, "to", q->to);
    add_int_or_null(o, "parent_id", q->parent_id);
    cJSON_AddStringToObject(o, "state", FORUM_QSTATE_NAMES[q->state]);
    add_int(o, "votes", (int64_t)q->voters.len);
    add_int(o, "created_at", q->created_at);
    cJSON_AddStringToObject(o, "phase", q->live_phase ? "live" : "pre");
    add_str_or_null(o, "answer_note", q->answer_note);
    cJSON_AddBoolToObject(o, "starred", q->starred);
    cJSON_AddBoolToObject(o, "mine", mine);
    cJSON_AddStringToObject(o, "source", FORUM_SOURCE_NAMES[q->source]);
    add_str_or_null(o, "carried_from", q->carried_from);
    if (q->carried_question_id)
        add_int(o, "carried_question_id", q->carried_question_id);
    add_int_or_null(o, "merged_into", q->merged_into);
    if (staff)
        add_str_or_null(o, "viewer_id", q->viewer_id[0] ? q->viewer_id : NULL);
    return o;
}

cJSON *poll_json(const poll *p, int64_t my_mask)
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
    cJSON_AddStringToObject(o, "state", FORUM_POLL_STATE_NAMES[p->state]);
    if (my_mask >= 0) {
        cJSON *mine = cJSON_AddArrayToObject(o, "my_option_ids");
        for (size_t i = 0; mine && i < p->n_options; i++)
            if (my_mask & ((int64_t)1 << i))
                cJSON_AddItemToArray(mine, cJSON_CreateNumber((double)i + 1));
    }
    return o;
}

cJSON *action_json(const action_item *a)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int(o, "id", a->id);
    cJSON_AddStringToObject(o, "session", a->session->code);
    add_int_or_null(o, "question_id", a->question_id);
    add_int_or_null(o, "follows_action_id", a->follows_action_id);
    cJSON_AddStringToObject(o, "text", a->text ? a->text : "");
    add_str_or_null(o, "owner", a->owner);
    add_str_or_null(o, "due", a->due);
    cJSON_AddStringToObject(o, "status", FORUM_ACTION_STATUS_NAMES[a->status]);
    add_int(o, "created_at", a->created_at);
    add_int(o, "updated_at", a->updated_at);
    return o;
}

cJSON *panel_json(const session *s)
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

cJSON *program_json(const program *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_int(o, "id", p->id);
    cJSON_AddStringToObject(o, "title", p->title ? p->title : "");
    add_str_or_null(o, "description", p->description);
    return o;
}

cJSON *config_json(const forum_state *st, const char *code, const session_config *c, bool staff)
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
    cJSON_AddStringToObject(o, "status", FORUM_STATUS_NAMES[c->status]);
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

cJSON *session_json(const forum_state *st, const session *s, bool staff)
{
    return config_json(st, s->code, &s->cfg, staff);
}

cJSON *studio_json(const forum_state *st)
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
        if (staff || mine || forum_qstate_public(q->state))
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
            else if (a->status != FORUM_ACTION_DONE && !action_followed_up(st, a) &&
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
