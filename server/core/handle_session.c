/* handle_session.c — requests about polls (create, open, close, a viewer's ballot), programmes
 * and sessions (create, update, status changes, moderator keys). */

#include "forum_internal.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"

void do_poll_vote(ctx *c, session *s, const forum_actor *a, const forum_command *cmd)
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
                  FORUM_POLL_STATE_NAMES[p->state]);
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
    if (!old || *old != mask) {
        forum_payload payload = {.ballot = {p->id, cmd->ids, cmd->n_ids}};
        if (emit(c, s, FORUM_EV_POLL_VOTED, &payload, false, a->viewer_id) < 0) {
            set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
            return;
        }
    }
    jsonw_int(ack_key(r, "poll_id"), p->id);
    jsonw_ids(ack_key(r, "option_ids"), cmd->ids, cmd->n_ids);
}

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

void do_poll_create(ctx *c, session *s, const forum_command *cmd)
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
    ack_poll(r, find_poll(c->st, p.id));
}

void do_poll_state(ctx *c, session *s, const forum_command *cmd, int from, int to)
{
    forum_result *r = c->res;
    poll *p = request_poll(c, s, cmd);
    if (!p)
        return;
    if (p->state != from) {
        set_error(r, FORUM_E_CONFLICT, "poll_id", "this poll is %s; it must be %s",
                  FORUM_POLL_STATE_NAMES[p->state], FORUM_POLL_STATE_NAMES[from]);
        return;
    }
    poll after = *p;
    after.state = to;
    if (emit_poll(c, s, &after) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    ack_poll(r, p);
}

void do_program(ctx *c, const forum_command *cmd, bool create)
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
        .description =
            cmd->description ? cmd->description : (existing ? existing->description : NULL),
    };
    p.unlisted = cmd->has_listed ? !cmd->listed : existing && existing->unlisted;
    forum_payload payload = {.program = {p.id, p.title ? p.title : "", p.description, p.unlisted}};
    if (emit_in(c, "", FORUM_EV_PROGRAM_CHANGED, &payload, true, NULL, NULL) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    const program *made = find_program(c->st, p.id);
    forum_program_rec rec = {made->id, made->title, made->description, made->unlisted};
    forum_write_program(ack_key(r, "program"), &rec);
}

/* Checks the settings fields of a session.create/update against the limits. */
static bool check_session_fields(ctx *c, const forum_command *cmd)
{
    forum_result *r = c->res;
    const forum_limits *l = &c->st->limits;
    if (too_long(cmd->title, l->title_max_chars) ||
        (cmd->has_topic && too_long(cmd->topic, l->title_max_chars))) {
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
                set_error(r, FORUM_E_BAD_REQUEST, "blocked_words", "blocked words cannot be empty");
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
    if (cmd->has_stream) {
        bool set = cmd->stream_kind != FORUM_STREAM_NONE && cmd->stream_url;
        if (set_str(&cfg->stream_url, set ? cmd->stream_url : NULL) < 0)
            goto fail;
        cfg->stream_kind = set ? cmd->stream_kind : FORUM_STREAM_NONE;
    }
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
            free((char *)cfg->panelists[i].name);
            free((char *)cfg->panelists[i].affiliation);
            free((char *)cfg->panelists[i].role);
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
            free((char *)cfg->segments[i].title);
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

void do_session_create(ctx *c, const forum_command *cmd)
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
    random_alnum(c->env, key, MODERATOR_KEY_LEN);
    session_config cfg;
    if (merge_session_fields(&cfg, NULL, cmd) < 0)
        goto oom;
    cfg.status = S_DRAFT;
    int rc = emit_session(c, code, &cfg, key);
    config_free(&cfg);
    if (rc < 0)
        goto oom;
    ack_session(r, c->st, find_session(c->st, code));
    jsonw_string(ack_key(r, "moderator_key"), key);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_session_update(ctx *c, session *s, const forum_command *cmd)
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
    ack_session(r, c->st, s);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_session_status(ctx *c, session *s, forum_cmd_type type)
{
    forum_result *r = c->res;
    int from = s->cfg.status, to;
    bool ok;
    switch (type) {
    case FORUM_CMD_SESSION_OPEN:
        to = S_OPEN;
        ok = from == S_DRAFT;
        break;
    case FORUM_CMD_SESSION_START:
        to = S_LIVE;
        ok = from == S_DRAFT || from == S_OPEN;
        break;
    case FORUM_CMD_SESSION_END:
        to = S_ENDED;
        ok = from == S_LIVE;
        break;
    default:
        to = S_ARCHIVED;
        ok = from == S_ENDED;
        break;
    }
    if (!ok) {
        set_error(r, FORUM_E_CONFLICT, NULL, "a %s session cannot become %s",
                  FORUM_STATUS_NAMES[from], FORUM_STATUS_NAMES[to]);
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
    ack_session(r, c->st, s);
    return;
oom:
    set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
}

void do_rotate_key(ctx *c, session *s)
{
    char key[MODERATOR_KEY_LEN + 1];
    random_alnum(c->env, key, MODERATOR_KEY_LEN);
    if (emit_session(c, s->code, &s->cfg, key) < 0) {
        set_error(c->res, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    jsonw_string(ack_key(c->res, "moderator_key"), key);
}
