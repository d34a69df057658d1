/* forum_events.c — applying events: the one path for live commands and start-up replay
 * (apply_event). Every state change is carried by an event payload (or its secret), never by
 * the command. Replay input is untrusted: every payload accessor checks types. */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool json_id(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9007199254740991.0 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

bool json_int_or_null(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v)) {
        *out = 0;
        return true;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < -9007199254740991.0 ||
        v->valuedouble > 9007199254740991.0 || v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

bool json_str_or_null(const cJSON *o, const char *k, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v))
        return false;
    *out = v->valuestring;
    return true;
}

const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool json_bool(const cJSON *o, const char *k, bool dflt, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v) {
        *out = dflt;
        return true;
    }
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

/* Array of ids -> malloc'd *ids (NULL when empty), *n. false if malformed. */
static bool json_ids(const cJSON *o, const char *k, int64_t **ids, size_t *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k);
    *ids = NULL;
    *n = 0;
    if (!cJSON_IsArray(a))
        return false;
    int count = cJSON_GetArraySize(a);
    if (count == 0)
        return true;
    int64_t *out = calloc((size_t)count, sizeof *out);
    if (!out)
        return false;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach (it, a) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 9007199254740991.0 ||
            it->valuedouble != (double)(int64_t)it->valuedouble) {
            free(out);
            return false;
        }
        out[i++] = (int64_t)it->valuedouble;
    }
    *ids = out;
    *n = i;
    return true;
}

/* Parses a session object into *c (fresh). Returns 0 or -1 (c freed). */
static int parse_config(const cJSON *o, session_config *c)
{
    memset(c, 0, sizeof *c);
    const char *title, *topic, *status;
    int64_t rate;
    const cJSON *arr, *it;
    if (!cJSON_IsObject(o) || !json_id(o, "program_id", &c->program_id) ||
        !(title = json_str(o, "title")) || !json_str_or_null(o, "topic", &topic) ||
        !(status = json_str(o, "status")) ||
        (c->status = name_index(STATUS_NAMES, S__COUNT, status)) < 0 ||
        !json_bool(o, "premoderation", false, &c->premoderation) ||
        !json_bool(o, "anonymous_allowed", true, &c->anonymous_allowed) ||
        !json_int_or_null(o, "scheduled_at", &c->scheduled_at) ||
        !json_int_or_null(o, "started_at", &c->started_at) ||
        !json_int_or_null(o, "ended_at", &c->ended_at) ||
        !json_int_or_null(o, "question_rate_per_min", &rate) || rate < 0 || rate > 1000000)
        goto fail;
    c->question_rate_per_min = rate ? (int)rate : DEFAULT_QUESTION_RATE;
    if (!(c->title = strdup(title)) || (topic && !(c->topic = strdup(topic))))
        goto fail;

    arr = cJSON_GetObjectItemCaseSensitive(o, "panelists");
    if (arr && !cJSON_IsArray(arr))
        goto fail;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        c->panelists = calloc((size_t)cJSON_GetArraySize(arr), sizeof *c->panelists);
        if (!c->panelists)
            goto fail;
        cJSON_ArrayForEach (it, arr) {
            panelist *p = &c->panelists[c->n_panelists];
            const char *name = json_str(it, "name"), *aff, *role;
            if (!cJSON_IsObject(it) || !json_id(it, "id", &p->id) || !name ||
                !json_str_or_null(it, "affiliation", &aff) || !json_str_or_null(it, "role", &role))
                goto fail;
            c->n_panelists++;
            if (!(p->name = strdup(name)) || (aff && !(p->affiliation = strdup(aff))) ||
                (role && !(p->role = strdup(role))))
                goto fail;
        }
    }
    arr = cJSON_GetObjectItemCaseSensitive(o, "segments");
    if (arr && !cJSON_IsArray(arr))
        goto fail;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        c->segments = calloc((size_t)cJSON_GetArraySize(arr), sizeof *c->segments);
        if (!c->segments)
            goto fail;
        cJSON_ArrayForEach (it, arr) {
            segment *sg = &c->segments[c->n_segments];
            const char *t = json_str(it, "title");
            if (!cJSON_IsObject(it) || !json_id(it, "id", &sg->id) || !t)
                goto fail;
            c->n_segments++;
            if (!(sg->title = strdup(t)))
                goto fail;
        }
    }
    arr = cJSON_GetObjectItemCaseSensitive(o, "blocked_words");
    if (arr && !cJSON_IsArray(arr))
        goto fail;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        c->blocked_words = calloc((size_t)cJSON_GetArraySize(arr), sizeof *c->blocked_words);
        if (!c->blocked_words)
            goto fail;
        cJSON_ArrayForEach (it, arr) {
            if (!cJSON_IsString(it))
                goto fail;
            if (!(c->blocked_words[c->n_blocked_words] = strdup(it->valuestring)))
                goto fail;
            c->n_blocked_words++;
        }
    }
    return 0;
fail:
    config_free(c);
    return -1;
}

static int mark_question_dirty(session *s, question *q)
{
    if (q->dirty)
        return 0;
    if (grow((void **)&s->dirty_questions, &s->cap_dirty_questions, s->n_dirty_questions + 1,
             sizeof *s->dirty_questions) < 0)
        return -1;
    s->dirty_questions[s->n_dirty_questions++] = q->id;
    q->dirty = true;
    return 0;
}

/* Creates or updates a question of session s from a question object. Votes are not taken from
 * the object (they come from vote events). create: the question must not exist yet; otherwise
 * it must exist in s. Returns the question or NULL (state unchanged). */
static question *apply_question_object(forum_state *st, session *s, const cJSON *o, bool create)
{
    int64_t id, to, parent_id, created_at, merged_into, carried_qid;
    const char *text, *author, *note, *carried, *vid, *category, *state, *phase, *source;
    bool starred;
    int state_i, cat_i, src_i;
    if (!cJSON_IsObject(o) || !json_id(o, "id", &id) || !(text = json_str(o, "text")) ||
        !json_str_or_null(o, "author", &author) || !json_int_or_null(o, "to", &to) ||
        !json_int_or_null(o, "parent_id", &parent_id) ||
        !json_int_or_null(o, "created_at", &created_at) ||
        !json_int_or_null(o, "merged_into", &merged_into) ||
        !json_int_or_null(o, "carried_question_id", &carried_qid) || carried_qid < 0 ||
        !json_str_or_null(o, "answer_note", &note) ||
        !json_str_or_null(o, "carried_from", &carried) || !json_str_or_null(o, "viewer_id", &vid) ||
        !json_bool(o, "starred", false, &starred) || !(state = json_str(o, "state")) ||
        (state_i = name_index(QSTATE_NAMES, Q__COUNT, state)) < 0)
        return NULL;
    category = json_str(o, "category");
    phase = json_str(o, "phase");
    source = json_str(o, "source");
    cat_i = category ? name_index(CATEGORY_NAMES, 3, category) : 0;
    src_i = source ? name_index(SOURCE_NAMES, 5, source) : 0;
    if (cat_i < 0 || src_i < 0 || (vid && strlen(vid) >= FORUM_VIEWER_ID_MAX))
        return NULL;

    question *q = find_question(st, id);
    if (create ? q != NULL : (!q || q->session != s))
        return NULL;
    char *ntext = strdup(text), *nauthor = dup_or_null(author), *nnote = dup_or_null(note),
         *ncarried = dup_or_null(carried);
    if (!ntext || (author && !nauthor) || (note && !nnote) || (carried && !ncarried))
        goto fail;
    if (create) {
        if (!(q = calloc(1, sizeof *q)))
            goto fail;
        if (grow((void **)&s->questions, &s->cap_questions, s->n_questions + 1,
                 sizeof *s->questions) < 0 ||
            table_add((void ***)&st->questions, &st->n_questions, &st->cap_questions,
                      &st->question_index, id, q, &st->next_question_id) < 0) {
            free(q);
            goto fail;
        }
        q->id = id;
        q->session = s;
        s->questions[s->n_questions++] = q;
    }
    free(q->text);
    free(q->author);
    free(q->answer_note);
    free(q->carried_from);
    q->text = ntext;
    q->author = nauthor;
    q->answer_note = nnote;
    q->carried_from = ncarried;
    q->category = (forum_category)cat_i;
    q->source = (forum_source)src_i;
    q->to = to;
    q->parent_id = parent_id;
    q->created_at = created_at;
    q->merged_into = merged_into;
    q->carried_question_id = carried_qid;
    q->state = state_i;
    q->starred = starred;
    q->live_phase = phase && strcmp(phase, "live") == 0;
    snprintf(q->viewer_id, sizeof q->viewer_id, "%s", vid ? vid : "");
    return q;
fail:
    free(ntext);
    free(nauthor);
    free(nnote);
    free(ncarried);
    return NULL;
}

static int apply_session_changed(forum_state *st, const forum_event *ev)
{
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(ev->payload, "session");
    const char *code = json_str(so, "code");
    if (!code || strcmp(code, ev->session) != 0 || strlen(code) >= FORUM_CODE_MAX)
        return -1;
    session_config cfg;
    if (parse_config(so, &cfg) < 0)
        return -1;
    const char *hash = ev->secret ? json_str(ev->secret, "moderator_key_hash") : NULL;
    if (hash && strlen(hash) != 64)
        goto fail;
    session *s = find_session(st, code);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            goto fail;
        if (grow((void **)&st->sessions, &st->cap_sessions, st->n_sessions + 1,
                 sizeof *st->sessions) < 0 ||
            smap_put(&st->session_index, code, (int64_t)st->n_sessions) < 0) {
            free(s);
            goto fail;
        }
        snprintf(s->code, sizeof s->code, "%s", code);
        st->sessions[st->n_sessions++] = s;
    }
    config_free(&s->cfg);
    s->cfg = cfg;
    if (hash)
        snprintf(s->key_hash, sizeof s->key_hash, "%s", hash);
    return 0;
fail:
    config_free(&cfg);
    return -1;
}

static int apply_program_changed(forum_state *st, const forum_event *ev)
{
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(ev->payload, "program");
    int64_t id;
    const char *title = json_str(po, "title"), *desc;
    if (!json_id(po, "id", &id) || !title || !json_str_or_null(po, "description", &desc))
        return -1;
    char *ntitle = strdup(title), *ndesc = dup_or_null(desc);
    if (!ntitle || (desc && !ndesc))
        goto fail;
    program *p = find_program(st, id);
    if (!p) {
        if (grow((void **)&st->programs, &st->cap_programs, st->n_programs + 1,
                 sizeof *st->programs) < 0)
            goto fail;
        p = &st->programs[st->n_programs++];
        memset(p, 0, sizeof *p);
        p->id = id;
        if (id >= st->next_program_id)
            st->next_program_id = id + 1;
    }
    free(p->title);
    free(p->description);
    p->title = ntitle;
    p->description = ndesc;
    return 0;
fail:
    free(ntitle);
    free(ndesc);
    return -1;
}

/* vote.added / vote.removed: the subject's vote on payload question_id. */
static int apply_vote(forum_state *st, session *s, const forum_event *ev, bool add)
{
    int64_t qid;
    if (!json_id(ev->payload, "question_id", &qid))
        return -1;
    question *q = find_question(st, qid);
    int64_t vk = viewer_intern(st, ev->subject);
    if (!q || q->session != s || !vk)
        return -1;
    viewer *v = &st->viewers[vk - 1];
    if (add) {
        if (iset_add(&q->voters, vk) < 0 || iset_add(&v->votes, qid) < 0)
            return -1;
    } else {
        iset_remove(&q->voters, vk);
        iset_remove(&v->votes, qid);
    }
    return mark_question_dirty(s, q);
}

/* poll.voted: the subject's ballot (replaces any previous one). */
static int apply_poll_voted(forum_state *st, session *s, const forum_event *ev)
{
    int64_t pid, *ids = NULL;
    size_t n = 0;
    if (!json_id(ev->payload, "poll_id", &pid) || !json_ids(ev->payload, "option_ids", &ids, &n))
        return -1;
    poll *p = find_poll(st, pid);
    int64_t vk = viewer_intern(st, ev->subject);
    int64_t mask = 0;
    for (size_t i = 0; i < n; i++) {
        if (!p || ids[i] > (int64_t)p->n_options) {
            free(ids);
            return -1;
        }
        mask |= (int64_t)1 << (ids[i] - 1);
    }
    free(ids);
    if (!p || p->session != s || !vk)
        return -1;
    int64_t *old = imap_get(&p->ballots, vk);
    int64_t old_mask = old ? *old : 0;
    if (imap_put(&p->ballots, vk, mask) < 0)
        return -1;
    for (size_t i = 0; i < p->n_options; i++) {
        if (old_mask & ((int64_t)1 << i))
            p->counts[i]--;
        if (mask & ((int64_t)1 << i))
            p->counts[i]++;
    }
    p->dirty = true;
    return 0;
}

/* poll.changed: creates or updates a poll's title, options, multi and state (counts come from
 * ballots) and marks its counts as published. */
static int apply_poll_changed(forum_state *st, session *s, const forum_event *ev)
{
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(ev->payload, "poll");
    int64_t id;
    const char *title = json_str(po, "title"), *state = json_str(po, "state");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(po, "options"), *it;
    bool multi;
    int state_i = name_index(PSTATE_NAMES, P__COUNT, state);
    if (!json_id(po, "id", &id) || !title || state_i < 0 || !cJSON_IsArray(opts) ||
        !json_bool(po, "multi", false, &multi))
        return -1;
    int n = cJSON_GetArraySize(opts);
    if (n < 1 || n > 62)
        return -1;
    cJSON_ArrayForEach (it, opts)
        if (!json_str(it, "text"))
            return -1;
    poll *p = find_poll(st, id);
    if (p && (p->session != s || p->n_options != (size_t)n))
        return -1;
    if (!p) {
        if (!(p = calloc(1, sizeof *p)))
            return -1;
        p->options = calloc((size_t)n, sizeof *p->options);
        p->counts = calloc((size_t)n, sizeof *p->counts);
        if (!p->options || !p->counts ||
            grow((void **)&s->polls, &s->cap_polls, s->n_polls + 1, sizeof *s->polls) < 0 ||
            table_add((void ***)&st->polls, &st->n_polls, &st->cap_polls, &st->poll_index, id, p,
                      &st->next_poll_id) < 0) {
            poll_free(p);
            return -1;
        }
        p->id = id;
        p->session = s;
        p->n_options = (size_t)n;
        s->polls[s->n_polls++] = p;
    }
    if (set_str(&p->title, title) < 0)
        return -1;
    size_t i = 0;
    cJSON_ArrayForEach (it, opts) {
        if (set_str(&p->options[i++], json_str(it, "text")) < 0)
            return -1;
    }
    p->multi = multi;
    p->state = state_i;
    p->dirty = false;
    return 0;
}

static int apply_votes_changed(forum_state *st, session *s, const forum_event *ev)
{
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(ev->payload, "counts"), *it;
    if (!cJSON_IsObject(counts))
        return -1;
    cJSON_ArrayForEach (it, counts) {
        char *end;
        long long id = strtoll(it->string, &end, 10);
        if (*end || id <= 0 || !cJSON_IsNumber(it))
            return -1;
        question *q = find_question(st, id);
        if (q && q->session == s)
            q->dirty = false;
    }
    size_t kept = 0;
    for (size_t i = 0; i < s->n_dirty_questions; i++) {
        question *q = find_question(st, s->dirty_questions[i]);
        if (q && q->dirty)
            s->dirty_questions[kept++] = s->dirty_questions[i];
    }
    s->n_dirty_questions = kept;
    return 0;
}

static int apply_panel_changed(forum_state *st, session *s, const forum_event *ev)
{
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(ev->payload, "panel");
    int64_t seg, *ids;
    size_t n;
    const char *banner;
    if (!cJSON_IsObject(po) || !json_int_or_null(po, "segment_id", &seg) || seg < 0 ||
        !json_str_or_null(po, "banner", &banner))
        return -1;
    if (!json_ids(po, "speaker_ids", &ids, &n))
        return -1;
    if (set_str(&s->banner, banner) < 0) {
        free(ids);
        return -1;
    }
    free(s->speaker_ids);
    s->speaker_ids = ids;
    s->n_speaker_ids = n;
    s->segment_id = seg;
    return 0;
}

static int apply_queue_changed(session *s, const forum_event *ev)
{
    int64_t *ids;
    size_t n;
    if (!json_ids(ev->payload, "up_next", &ids, &n))
        return -1;
    free(s->up_next);
    s->up_next = ids;
    s->n_up_next = s->cap_up_next = n;
    return 0;
}

static int apply_ban(forum_state *st, session *s, const forum_event *ev, bool ban)
{
    const char *vid = json_str(ev->payload, "viewer_id");
    int64_t vk = viewer_intern(st, vid);
    if (!vk)
        return -1;
    if (ban)
        return iset_add(&s->bans, vk) < 0 ? -1 : 0;
    iset_remove(&s->bans, vk);
    return 0;
}

/* Undo bookkeeping carried in secrets: {"undo":{...}} records the actor's last covered action;
 * {"undo_clear":true} forgets it (the undo itself). */
static int apply_undo_secret(session *s, const forum_event *ev)
{
    if (!ev->secret)
        return 0;
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(ev->secret, "undo");
    undo_record *u = find_undo(s, ev->actor);
    if (cJSON_IsObject(rec)) {
        cJSON *copy = cJSON_Duplicate(rec, true);
        if (!copy)
            return -1;
        if (!u) {
            if (grow((void **)&s->undos, &s->cap_undos, s->n_undos + 1, sizeof *s->undos) < 0) {
                cJSON_Delete(copy);
                return -1;
            }
            u = &s->undos[s->n_undos++];
            snprintf(u->actor, sizeof u->actor, "%s", ev->actor);
            u->record = NULL;
        }
        cJSON_Delete(u->record);
        u->record = copy;
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->secret, "undo_clear")) && u) {
        cJSON_Delete(u->record);
        *u = s->undos[--s->n_undos];
    }
    return 0;
}

/* action.changed: creates or updates an action item from payload "action". The action keeps
 * the session it was made in (its "session"), whichever session's log the event is in. */
static int apply_action_changed(forum_state *st, const forum_event *ev)
{
    const cJSON *ao = cJSON_GetObjectItemCaseSensitive(ev->payload, "action");
    int64_t id, qid, follows, created_at, updated_at;
    const char *code = json_str(ao, "session"), *text = json_str(ao, "text"), *owner, *due;
    int status = name_index(ACTION_STATUS_NAMES, 3, json_str(ao, "status"));
    if (!cJSON_IsObject(ao) || !json_id(ao, "id", &id) || !code || !text || status < 0 ||
        !json_int_or_null(ao, "question_id", &qid) || qid < 0 ||
        !json_int_or_null(ao, "follows_action_id", &follows) || follows < 0 ||
        !json_str_or_null(ao, "owner", &owner) || !json_str_or_null(ao, "due", &due) ||
        !json_int_or_null(ao, "created_at", &created_at) ||
        !json_int_or_null(ao, "updated_at", &updated_at))
        return -1;
    session *origin = find_session(st, code);
    if (!origin)
        return -1;
    action_item *a = find_action(st, id);
    if (a && a->session != origin)
        return -1;
    char *ntext = strdup(text), *nowner = dup_or_null(owner), *ndue = dup_or_null(due);
    if (!ntext || (owner && !nowner) || (due && !ndue))
        goto fail;
    if (!a) {
        if (!(a = calloc(1, sizeof *a)))
            goto fail;
        if (table_add((void ***)&st->actions, &st->n_actions, &st->cap_actions, &st->action_index,
                      id, a, &st->next_action_id) < 0) {
            free(a);
            goto fail;
        }
        a->id = id;
        a->session = origin;
    }
    free(a->text);
    free(a->owner);
    free(a->due);
    a->text = ntext;
    a->owner = nowner;
    a->due = ndue;
    a->question_id = qid;
    a->follows_action_id = follows;
    a->status = status;
    a->created_at = created_at;
    a->updated_at = updated_at;
    return 0;
fail:
    free(ntext);
    free(nowner);
    free(ndue);
    return -1;
}

/* Replaces every string equal to from with to, anywhere in node. Returns -1 on OOM. */
static int json_replace_strings(cJSON *node, const char *from, const char *to)
{
    for (cJSON *it = node; it; it = it->next) {
        if (cJSON_IsString(it) && it->valuestring && strcmp(it->valuestring, from) == 0) {
            char *copy = strdup(to);
            if (!copy)
                return -1;
            cJSON_free(it->valuestring);
            it->valuestring = copy;
        }
        if ((cJSON_IsObject(it) || cJSON_IsArray(it)) &&
            json_replace_strings(it->child, from, to) < 0)
            return -1;
    }
    return 0;
}

/* viewer.erased: the payload's "questions" are the erased viewer's questions of this session,
 * already anonymised (author null, viewer_id the placeholder in "viewer_id"). Live, the
 * transient erased_viewer_id also moves that viewer's votes, ballots, ban and undo traces in
 * this session to the placeholder; in replay it is empty, and the stored events it rewrote
 * already carry the placeholder. */
static int apply_viewer_erased(forum_state *st, session *s, const forum_event *ev)
{
    const char *placeholder = json_str(ev->payload, "viewer_id");
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(ev->payload, "questions"), *it;
    if (!placeholder || !*placeholder || strlen(placeholder) >= FORUM_VIEWER_ID_MAX ||
        (qs && !cJSON_IsArray(qs)))
        return -1;
    cJSON_ArrayForEach (it, qs) {
        if (!apply_question_object(st, s, it, false))
            return -1;
    }
    const char *orig = ev->erased_viewer_id;
    int64_t ko = orig[0] ? viewer_key(st, orig) : 0;
    if (!ko)
        return 0;
    int64_t kp = viewer_intern(st, placeholder);
    if (!kp)
        return -1;
    for (size_t i = 0; i < s->n_questions; i++) {
        question *q = s->questions[i];
        if (!iset_remove(&q->voters, ko))
            continue;
        iset_remove(&st->viewers[ko - 1].votes, q->id);
        if (iset_add(&q->voters, kp) < 0 || iset_add(&st->viewers[kp - 1].votes, q->id) < 0)
            return -1;
    }
    if (iset_remove(&s->bans, ko) && iset_add(&s->bans, kp) < 0)
        return -1;
    for (size_t i = 0; i < s->n_polls; i++) {
        int64_t *mask = imap_get(&s->polls[i]->ballots, ko);
        if (mask && *mask) {
            int64_t m = *mask;
            *mask = 0;
            if (imap_put(&s->polls[i]->ballots, kp, m) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < s->n_undos; i++)
        if (json_replace_strings(s->undos[i].record, orig, placeholder) < 0)
            return -1;
    return 0;
}

int apply_event(forum_state *st, const forum_event *ev)
{
    const char *k = ev->kind;
    if (!ev->payload || !cJSON_IsObject(ev->payload))
        return -1;
    if (ev->session[0] == '\0') {
        if (strcmp(k, "program.changed") != 0 || apply_program_changed(st, ev) < 0)
            return -1;
        if (ev->seq > st->studio_seq)
            st->studio_seq = ev->seq;
        return 0;
    }
    if (strcmp(k, "session.changed") == 0) {
        if (apply_session_changed(st, ev) < 0)
            return -1;
        goto done;
    }
    session *s = find_session(st, ev->session);
    if (!s)
        return -1;
    int rc = 0;
    if (strcmp(k, "question.submitted") == 0) {
        question *q = apply_question_object(
            st, s, cJSON_GetObjectItemCaseSensitive(ev->payload, "question"), true);
        if (!q)
            return -1;
        if (ev->request_id[0]) {
            char key[FORUM_ACTOR_MAX + FORUM_REQUEST_ID_MAX + 2];
            snprintf(key, sizeof key, "%s\x1f%s", ev->subject[0] ? ev->subject : ev->actor,
                     ev->request_id);
            rc = smap_put(&s->submits, key, q->id);
        }
    } else if (strcmp(k, "question.published") == 0 || strcmp(k, "question.updated") == 0 ||
               strcmp(k, "question.dismissed") == 0 || strcmp(k, "question.withdrawn") == 0 ||
               strcmp(k, "question.answered") == 0) {
        if (!apply_question_object(st, s, cJSON_GetObjectItemCaseSensitive(ev->payload, "question"),
                                   false))
            return -1;
    } else if (strcmp(k, "question.merged") == 0) {
        const cJSON *into = cJSON_GetObjectItemCaseSensitive(ev->payload, "into");
        int64_t into_id;
        if (!json_id(into, "id", &into_id) || !find_question(st, into_id))
            return -1;
        if (!apply_question_object(st, s, cJSON_GetObjectItemCaseSensitive(ev->payload, "question"),
                                   false))
            return -1;
    } else if (strcmp(k, "vote.added") == 0 || strcmp(k, "vote.removed") == 0) {
        rc = apply_vote(st, s, ev, k[5] == 'a');
    } else if (strcmp(k, "votes.changed") == 0) {
        rc = apply_votes_changed(st, s, ev);
    } else if (strcmp(k, "onair.changed") == 0) {
        int64_t id;
        if (!json_int_or_null(ev->payload, "question_id", &id) || id < 0)
            return -1;
        s->on_air = id;
    } else if (strcmp(k, "queue.changed") == 0) {
        rc = apply_queue_changed(s, ev);
    } else if (strcmp(k, "panel.changed") == 0) {
        rc = apply_panel_changed(st, s, ev);
    } else if (strcmp(k, "poll.changed") == 0) {
        rc = apply_poll_changed(st, s, ev);
    } else if (strcmp(k, "poll.voted") == 0) {
        rc = apply_poll_voted(st, s, ev);
    } else if (strcmp(k, "viewer.banned") == 0 || strcmp(k, "viewer.unbanned") == 0) {
        rc = apply_ban(st, s, ev, k[7] == 'b');
    } else if (strcmp(k, "action.changed") == 0) {
        rc = apply_action_changed(st, ev);
    } else if (strcmp(k, "viewers.peak") == 0) {
        int64_t n;
        if (!json_int_or_null(ev->payload, "viewers", &n) || n < 0)
            return -1;
        s->peak_viewers = n;
    } else if (strcmp(k, "viewer.erased") == 0) {
        rc = apply_viewer_erased(st, s, ev);
    } else {
        return -1;
    }
    if (rc < 0)
        return -1;
    if (apply_undo_secret(s, ev) < 0)
        return -1;
done:;
    session *done_s = find_session(st, ev->session);
    if (done_s && ev->seq > done_s->seq)
        done_s->seq = ev->seq;
    return 0;
}

int forum_replay(forum_state *st, const forum_event *ev)
{
    if (!st || !ev)
        return -1;
    return apply_event(st, ev);
}
