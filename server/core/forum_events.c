/* forum_events.c — applying events: the one path for live commands and start-up replay
 * (apply_event). Every state change is carried by an event's typed payload (or its secret),
 * never by the command. Replayed events were decoded from stored JSON (event.c checks their
 * types); here the references they make (sessions, questions, polls) are checked. */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Creates or updates a question of session s from a record. Votes are not taken from the record
 * (they come from vote events); a dismiss reason is kept only while the question is dismissed.
 * create: the question must not exist yet; otherwise it must exist in s. Returns the question
 * or NULL (state unchanged). */
static question *apply_question(forum_state *st, session *s, const forum_question_rec *o,
                                bool create)
{
    if (o->id <= 0 || !o->text || o->state >= Q__COUNT || o->category >= FORUM_CAT__COUNT ||
        o->source >= FORUM_SRC__COUNT ||
        (o->viewer_id && strlen(o->viewer_id) >= FORUM_VIEWER_ID_MAX))
        return NULL;
    question *q = find_question(st, o->id);
    if (create ? q != NULL : (!q || q->session != s))
        return NULL;
    const char *reason = o->state == Q_DISMISSED ? o->dismiss_reason : NULL;
    char *ntext = strdup(o->text), *nauthor = dup_or_null(o->author),
         *nnote = dup_or_null(o->answer_note), *ncarried = dup_or_null(o->carried_from),
         *nref = dup_or_null(o->external_ref), *nreason = dup_or_null(reason),
         *nheld = dup_or_null(o->held_for);
    if (!ntext || (o->author && !nauthor) || (o->answer_note && !nnote) ||
        (o->carried_from && !ncarried) || (o->external_ref && !nref) || (reason && !nreason) ||
        (o->held_for && !nheld))
        goto fail;
    if (create) {
        if (!(q = calloc(1, sizeof *q)))
            goto fail;
        if (grow((void **)&s->questions, &s->cap_questions, s->n_questions + 1,
                 sizeof *s->questions) < 0 ||
            table_add((void ***)&st->questions, &st->n_questions, &st->cap_questions,
                      &st->question_index, o->id, q, &st->next_question_id) < 0) {
            free(q);
            goto fail;
        }
        q->id = o->id;
        q->session = s;
        s->questions[s->n_questions++] = q;
    }
    free(q->text);
    free(q->author);
    free(q->answer_note);
    free(q->carried_from);
    free(q->external_ref);
    q->external_ref = nref;
    free(q->dismiss_reason);
    free(q->held_for);
    q->text = ntext;
    q->author = nauthor;
    q->answer_note = nnote;
    q->carried_from = ncarried;
    q->dismiss_reason = nreason;
    q->held_for = nheld;
    q->carried_source =
        o->carried_source < FORUM_SRC__COUNT ? (forum_source)o->carried_source : FORUM_SRC_CARRIED;
    q->category = (forum_category)o->category;
    q->source = (forum_source)o->source;
    q->to = o->to;
    q->parent_id = o->parent_id;
    q->created_at = o->created_at;
    q->merged_into = o->merged_into;
    q->carried_question_id = o->carried_question_id;
    q->state = o->state;
    q->starred = o->starred;
    q->live_phase = o->live_phase;
    snprintf(q->viewer_id, sizeof q->viewer_id, "%s", o->viewer_id ? o->viewer_id : "");
    return q;
fail:
    free(ntext);
    free(nauthor);
    free(nnote);
    free(ncarried);
    free(nref);
    free(nreason);
    free(nheld);
    return NULL;
}

static int apply_session_changed(forum_state *st, const forum_event *ev)
{
    const forum_session_rec *r = &ev->p.session;
    if (!r->code || strcmp(r->code, ev->session) != 0 || strlen(r->code) >= FORUM_CODE_MAX ||
        r->status >= S__COUNT)
        return -1;
    session_config cfg;
    if (config_from_rec(&cfg, r) < 0)
        return -1;
    session *s = find_session(st, r->code);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            goto fail;
        if (grow((void **)&st->sessions, &st->cap_sessions, st->n_sessions + 1,
                 sizeof *st->sessions) < 0 ||
            smap_put(&st->session_index, r->code, (int64_t)st->n_sessions) < 0) {
            free(s);
            goto fail;
        }
        snprintf(s->code, sizeof s->code, "%s", r->code);
        st->sessions[st->n_sessions++] = s;
    }
    config_free(&s->cfg);
    s->cfg = cfg;
    if (ev->secret.moderator_key_hash[0])
        snprintf(s->key_hash, sizeof s->key_hash, "%s", ev->secret.moderator_key_hash);
    return 0;
fail:
    config_free(&cfg);
    return -1;
}

static int apply_program_changed(forum_state *st, const forum_event *ev)
{
    const forum_program_rec *r = &ev->p.program;
    if (r->id <= 0 || !r->title)
        return -1;
    char *ntitle = strdup(r->title), *ndesc = dup_or_null(r->description);
    if (!ntitle || (r->description && !ndesc))
        goto fail;
    program *p = find_program(st, r->id);
    if (!p) {
        if (grow((void **)&st->programs, &st->cap_programs, st->n_programs + 1,
                 sizeof *st->programs) < 0)
            goto fail;
        p = &st->programs[st->n_programs++];
        memset(p, 0, sizeof *p);
        p->id = r->id;
        if (r->id >= st->next_program_id)
            st->next_program_id = r->id + 1;
    }
    free(p->title);
    free(p->description);
    p->title = ntitle;
    p->description = ndesc;
    p->unlisted = r->unlisted;
    return 0;
fail:
    free(ntitle);
    free(ndesc);
    return -1;
}

/* vote.added / vote.removed: the subject's vote on the question. */
static int apply_vote(forum_state *st, session *s, const forum_event *ev, bool add)
{
    int64_t qid = ev->p.question_id;
    question *q = qid > 0 ? find_question(st, qid) : NULL;
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
    poll *p = find_poll(st, ev->p.ballot.poll_id);
    int64_t vk = viewer_intern(st, ev->subject);
    if (!p || p->session != s || !vk)
        return -1;
    int64_t mask = 0;
    for (size_t i = 0; i < ev->p.ballot.n; i++) {
        int64_t id = ev->p.ballot.option_ids[i];
        if (id < 1 || id > (int64_t)p->n_options)
            return -1;
        mask |= (int64_t)1 << (id - 1);
    }
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
    const forum_poll_rec *r = &ev->p.poll;
    size_t n = r->n_options;
    if (r->id <= 0 || !r->title || r->state >= P__COUNT || n < 1 || n > 62)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!r->options[i])
            return -1;
    poll *p = find_poll(st, r->id);
    if (p && (p->session != s || p->n_options != n))
        return -1;
    if (!p) {
        if (!(p = calloc(1, sizeof *p)))
            return -1;
        p->options = calloc(n, sizeof *p->options);
        p->counts = calloc(n, sizeof *p->counts);
        if (!p->options || !p->counts ||
            grow((void **)&s->polls, &s->cap_polls, s->n_polls + 1, sizeof *s->polls) < 0 ||
            table_add((void ***)&st->polls, &st->n_polls, &st->cap_polls, &st->poll_index, r->id, p,
                      &st->next_poll_id) < 0) {
            poll_free(p);
            return -1;
        }
        p->id = r->id;
        p->session = s;
        p->n_options = n;
        s->polls[s->n_polls++] = p;
    }
    if (set_str(&p->title, r->title) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (set_str(&p->options[i], r->options[i]) < 0)
            return -1;
    p->multi = r->multi;
    p->state = r->state;
    p->dirty = false;
    return 0;
}

/* votes.changed: the counts it names are published. */
static int apply_votes_changed(forum_state *st, session *s, const forum_event *ev)
{
    for (size_t i = 0; i < ev->p.counts.n; i++) {
        question *q = find_question(st, ev->p.counts.items[i].id);
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

/* Replaces *ids and *n with a copy of src[0..count). Returns 0 or -1 (unchanged). */
static int set_ids(int64_t **ids, size_t *n, const int64_t *src, size_t count)
{
    int64_t *copy = NULL;
    if (count) {
        if (!(copy = malloc(count * sizeof *copy)))
            return -1;
        memcpy(copy, src, count * sizeof *copy);
    }
    free(*ids);
    *ids = copy;
    *n = count;
    return 0;
}

static int apply_panel_changed(session *s, const forum_event *ev)
{
    const forum_panel_rec *r = &ev->p.panel;
    if (r->segment_id < 0)
        return -1;
    char *banner = dup_or_null(r->banner);
    if (r->banner && !banner)
        return -1;
    if (set_ids(&s->speaker_ids, &s->n_speaker_ids, r->speaker_ids, r->n_speaker_ids) < 0) {
        free(banner);
        return -1;
    }
    free(s->banner);
    s->banner = banner;
    s->segment_id = r->segment_id;
    return 0;
}

static int apply_ban(forum_state *st, session *s, const forum_event *ev, bool ban)
{
    int64_t vk = viewer_intern(st, ev->p.viewer_id);
    if (!vk)
        return -1;
    if (ban)
        return iset_add(&s->bans, vk) < 0 ? -1 : 0;
    iset_remove(&s->bans, vk);
    return 0;
}

/* Undo bookkeeping carried in secrets: an undo record replaces the actor's last one; undo_clear
 * (the undo itself) forgets it. */
static int apply_undo_secret(session *s, const forum_event *ev)
{
    undo_record *u = find_undo(s, ev->actor);
    if (ev->secret.has_undo) {
        forum_arena arena = {0};
        forum_undo_rec rec = ev->secret.undo;
        if (forum_undo_own(&arena, &rec) < 0) {
            forum_arena_free(&arena);
            return -1;
        }
        if (!u) {
            if (grow((void **)&s->undos, &s->cap_undos, s->n_undos + 1, sizeof *s->undos) < 0) {
                forum_arena_free(&arena);
                return -1;
            }
            u = &s->undos[s->n_undos++];
            memset(u, 0, sizeof *u);
            snprintf(u->actor, sizeof u->actor, "%s", ev->actor);
        }
        forum_arena_free(&u->arena);
        u->arena = arena;
        u->rec = rec;
    } else if (ev->secret.undo_clear && u) {
        forum_arena_free(&u->arena);
        *u = s->undos[--s->n_undos];
    }
    return 0;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Appends a status change to a's history (a new status, or a new reason with the same one),
 * keeping the first entry and the newest ones within ACTION_HISTORY_MAX. Returns 0 or -1. */
static int note_history(action_item *a, const forum_action_rec *r, const char *log_session)
{
    if (a->n_history) {
        const action_history *last = &a->history[a->n_history - 1];
        if (last->status == r->status && same_text(last->reason, r->reason))
            return 0;
    }
    char *reason = dup_or_null(r->reason);
    if (r->reason && !reason)
        return -1;
    if (a->n_history == ACTION_HISTORY_MAX) {
        free(a->history[1].reason);
        memmove(&a->history[1], &a->history[2], (a->n_history - 2) * sizeof *a->history);
        a->n_history--;
    } else {
        action_history *grown = realloc(a->history, (a->n_history + 1) * sizeof *grown);
        if (!grown) {
            free(reason);
            return -1;
        }
        a->history = grown;
    }
    action_history *h = &a->history[a->n_history++];
    h->status = r->status;
    h->at = a->n_history == 1 ? r->created_at : r->updated_at;
    h->reason = reason;
    snprintf(h->session, sizeof h->session, "%s", log_session);
    return 0;
}

/* action.changed: creates or updates an action item. The action keeps the session it was made
 * in (its "session"), whichever session's log the event is in; its status history grows from
 * the events. */
static int apply_action_changed(forum_state *st, const forum_event *ev)
{
    const forum_action_rec *r = &ev->p.action;
    if (r->id <= 0 || !r->session || !r->text || r->status >= FORUM_ACTION__COUNT ||
        r->question_id < 0 || r->follows_action_id < 0 || r->promised_by < 0 ||
        r->publication >= FORUM_PUB__COUNT)
        return -1;
    session *origin = find_session(st, r->session);
    if (!origin)
        return -1;
    action_item *a = find_action(st, r->id);
    if (a && a->session != origin)
        return -1;
    char *ntext = strdup(r->text), *nowner = dup_or_null(r->owner), *ndue = dup_or_null(r->due),
         *nreason = dup_or_null(r->reason), *nnote = dup_or_null(r->note);
    if (!ntext || (r->owner && !nowner) || (r->due && !ndue) || (r->reason && !nreason) ||
        (r->note && !nnote))
        goto fail;
    if (!a) {
        if (!(a = calloc(1, sizeof *a)))
            goto fail;
        if (table_add((void ***)&st->actions, &st->n_actions, &st->cap_actions, &st->action_index,
                      r->id, a, &st->next_action_id) < 0) {
            free(a);
            goto fail;
        }
        a->id = r->id;
        a->session = origin;
    }
    if (note_history(a, r, ev->session) < 0)
        goto fail;
    free(a->text);
    free(a->owner);
    free(a->due);
    free(a->reason);
    free(a->note);
    a->text = ntext;
    a->owner = nowner;
    a->due = ndue;
    a->reason = nreason;
    a->note = nnote;
    a->question_id = r->question_id;
    a->follows_action_id = r->follows_action_id;
    a->status = r->status;
    a->created_at = r->created_at;
    a->updated_at = r->updated_at;
    a->promised_by = r->promised_by;
    a->publication = r->publication;
    return 0;
fail:
    free(ntext);
    free(nowner);
    free(ndue);
    free(nreason);
    free(nnote);
    return -1;
}

/* The tally of a rating's item, or NULL when the item does not exist. */
static rating_tally *tally_of(forum_state *st, int64_t question_id, int64_t action_id)
{
    if (question_id) {
        question *q = find_question(st, question_id);
        return q ? &q->ratings : NULL;
    }
    action_item *a = find_action(st, action_id);
    return a ? &a->ratings : NULL;
}

/* Marks the item's counts as changed in s (for the next ratings.changed). */
static int mark_rating_dirty(session *s, rating_tally *t, int64_t question_id, int64_t action_id)
{
    if (t->dirty)
        return 0;
    if (grow((void **)&s->dirty_ratings, &s->cap_dirty_ratings, s->n_dirty_ratings + 1,
             sizeof *s->dirty_ratings) < 0)
        return -1;
    s->dirty_ratings[s->n_dirty_ratings++] = question_id ? question_id : -action_id;
    t->dirty = true;
    return 0;
}

/* Takes rating id out of a tally's comments and, when published, puts it first. */
static void tally_comment(rating_tally *t, int64_t id, bool published)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n_comments; i++)
        if (t->comments[i] != id)
            t->comments[k++] = t->comments[i];
    t->n_comments = k;
    if (!published)
        return;
    if (t->n_comments == RATING_COMMENTS_KEPT)
        t->n_comments--;
    memmove(&t->comments[1], &t->comments[0], t->n_comments * sizeof *t->comments);
    t->comments[0] = id;
    t->n_comments++;
}

/* The key of viewer_id's rating of x's item no longer names it (string keys are not deleted:
 * the key maps to 0, no rating). */
static void forget_rating_key(forum_state *st, const char *viewer_id, const rating *x)
{
    char key[FORUM_VIEWER_ID_MAX + 32];
    rating_key(key, sizeof key, viewer_id, x->question_id, x->action_id);
    int64_t *id = smap_get(&st->rating_keys, key);
    if (id)
        *id = 0;
}

/* rating.changed: creates or updates a rating (it moves to the session whose log holds the
 * event), its place in the viewer's and the item's records, and the item's counts. */
static int apply_rating_changed(forum_state *st, session *s, const forum_event *ev)
{
    const forum_rating_rec *r = &ev->p.rating;
    const char *vid = r->viewer_id && r->viewer_id[0] ? r->viewer_id : ev->subject;
    if (r->id <= 0 || r->value >= FORUM_RATING__COUNT || r->comment_state >= FORUM_COMMENT__COUNT ||
        !vid[0] || strlen(vid) >= FORUM_VIEWER_ID_MAX)
        return -1;
    rating_tally *t = tally_of(st, r->question_id, r->action_id);
    rating *x = find_rating(st, r->id);
    if (!t || (x && (x->question_id != r->question_id || x->action_id != r->action_id)))
        return -1;
    int64_t vk = viewer_intern(st, vid);
    char *ncomment = dup_or_null(r->comment);
    if (!vk || (r->comment && !ncomment))
        goto fail;
    char key[FORUM_VIEWER_ID_MAX + 32];
    if (!x) {
        if (!(x = calloc(1, sizeof *x)))
            goto fail;
        if (table_add((void ***)&st->ratings, &st->n_ratings, &st->cap_ratings, &st->rating_index,
                      r->id, x, &st->next_rating_id) < 0) {
            free(x);
            goto fail;
        }
        x->id = r->id;
        x->question_id = r->question_id;
        x->action_id = r->action_id;
        x->value = -1; /* counted below */
    } else if (strcmp(x->viewer_id, vid) != 0) {
        /* the rater's id changed (an erasure rewrote an earlier event): re-key it */
        forget_rating_key(st, x->viewer_id, x);
        int64_t old = viewer_key(st, x->viewer_id);
        if (old)
            iset_remove(&st->viewers[old - 1].ratings, x->id);
    }
    if (strcmp(x->viewer_id, vid) != 0 || !x->session) {
        rating_key(key, sizeof key, vid, x->question_id, x->action_id);
        if (smap_put(&st->rating_keys, key, x->id) < 0 ||
            iset_add(&st->viewers[vk - 1].ratings, x->id) < 0)
            goto fail;
        snprintf(x->viewer_id, sizeof x->viewer_id, "%s", vid);
    }
    if (x->session != s) {
        if (x->session)
            x->session->n_ratings--;
        s->n_ratings++;
        x->session = s;
    }
    if (x->value != (int)r->value) {
        if (x->value >= 0)
            t->counts[x->value]--;
        t->counts[r->value]++;
        if (mark_rating_dirty(s, t, x->question_id, x->action_id) < 0)
            goto fail;
    }
    x->value = r->value;
    free(x->comment);
    x->comment = ncomment;
    x->comment_state = r->comment_state;
    x->created_at = r->created_at;
    x->updated_at = r->updated_at;
    tally_comment(t, x->id, x->comment_state == FORUM_COMMENT_PUBLISHED);
    return 0;
fail:
    free(ncomment);
    return -1;
}

/* ratings.changed: the counts it names are published. */
static int apply_ratings_changed(forum_state *st, session *s, const forum_event *ev)
{
    for (size_t i = 0; i < ev->p.ratings.n; i++) {
        rating_tally *t =
            tally_of(st, ev->p.ratings.items[i].question_id, ev->p.ratings.items[i].action_id);
        if (t)
            t->dirty = false;
    }
    size_t kept = 0;
    for (size_t i = 0; i < s->n_dirty_ratings; i++) {
        int64_t id = s->dirty_ratings[i];
        rating_tally *t = tally_of(st, id > 0 ? id : 0, id < 0 ? -id : 0);
        if (t && t->dirty)
            s->dirty_ratings[kept++] = id;
    }
    s->n_dirty_ratings = kept;
    return 0;
}

/* In an undo record: every mention of viewer id from becomes to (copied into arena). */
static int rewrite_undo(forum_arena *arena, forum_undo_rec *u, const char *from, const char *to)
{
    const char *copy = NULL;
    forum_question_rec *before = (forum_question_rec *)u->before;
    const char **lists[2] = {(const char **)u->voters, (const char **)u->moved};
    size_t lens[2] = {u->n_voters, u->n_moved};
    for (size_t i = 0; i < u->n_before; i++)
        if (before[i].viewer_id && strcmp(before[i].viewer_id, from) == 0) {
            if (!copy && !(copy = forum_arena_strdup(arena, to)))
                return -1;
            before[i].viewer_id = copy;
        }
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lens[l]; i++)
            if (strcmp(lists[l][i], from) == 0) {
                if (!copy && !(copy = forum_arena_strdup(arena, to)))
                    return -1;
                lists[l][i] = copy;
            }
    return 0;
}

/* viewer.erased: the payload's questions are the erased viewer's questions of this session,
 * already anonymised (author null, viewer_id the placeholder). Live, the transient
 * erased_viewer_id also moves that viewer's votes, ballots, ban and undo traces in this session
 * to the placeholder; in replay it is empty, and the stored events it rewrote already carry the
 * placeholder. */
static int apply_viewer_erased(forum_state *st, session *s, const forum_event *ev)
{
    const char *placeholder = ev->p.erased.placeholder;
    if (!placeholder || !*placeholder || strlen(placeholder) >= FORUM_VIEWER_ID_MAX)
        return -1;
    for (size_t i = 0; i < ev->p.erased.n; i++)
        if (!apply_question(st, s, &ev->p.erased.questions[i], false))
            return -1;
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
        if (rewrite_undo(&s->undos[i].arena, &s->undos[i].rec, orig, placeholder) < 0)
            return -1;
    /* ratings living in this session */
    for (size_t i = 0; i < st->n_ratings; i++) {
        rating *x = st->ratings[i];
        if (x->session != s || strcmp(x->viewer_id, orig) != 0)
            continue;
        char key[FORUM_VIEWER_ID_MAX + 32];
        forget_rating_key(st, orig, x);
        iset_remove(&st->viewers[ko - 1].ratings, x->id);
        rating_key(key, sizeof key, placeholder, x->question_id, x->action_id);
        if (smap_put(&st->rating_keys, key, x->id) < 0 ||
            iset_add(&st->viewers[kp - 1].ratings, x->id) < 0)
            return -1;
        snprintf(x->viewer_id, sizeof x->viewer_id, "%s", placeholder);
    }
    return 0;
}

/* Applies an event of the session log of s. Returns 0 or -1. */
static int apply_session_event(forum_state *st, session *s, const forum_event *ev)
{
    switch (ev->kind) {
    case FORUM_EV_QUESTION_SUBMITTED: {
        question *q = apply_question(st, s, &ev->p.question.q, true);
        if (!q)
            return -1;
        if (q->external_ref) {
            char key[EXTERNAL_REF_KEY_MAX];
            external_ref_key(key, sizeof key, q->external_ref);
            if (smap_put(&s->submits, key, q->id) < 0)
                return -1;
        }
        similar_sync(st, s, q, true);
        if (ev->request_id[0]) {
            char key[FORUM_ACTOR_MAX + FORUM_REQUEST_ID_MAX + 2];
            submit_key(key, sizeof key, ev->subject[0] ? ev->subject : ev->actor, ev->request_id);
            return smap_put(&s->submits, key, q->id);
        }
        return 0;
    }
    case FORUM_EV_QUESTION_MERGED: {
        if (!ev->p.question.has_into || !find_question(st, ev->p.question.into.id))
            return -1;
        question *q = apply_question(st, s, &ev->p.question.q, false);
        if (!q)
            return -1;
        similar_sync(st, s, q, false); /* a merged question is no longer a hint */
        return 0;
    }
    case FORUM_EV_QUESTION_DISMISSED: {
        /* Logs written before questions kept their reason carry it beside the question only. */
        forum_question_rec rec = ev->p.question.q;
        if (!rec.dismiss_reason && ev->p.question.reason && ev->p.question.reason[0])
            rec.dismiss_reason = ev->p.question.reason;
        question *q = apply_question(st, s, &rec, false);
        if (!q)
            return -1;
        similar_sync(st, s, q, false);
        return 0;
    }
    case FORUM_EV_QUESTION_PUBLISHED:
    case FORUM_EV_QUESTION_UPDATED:
    case FORUM_EV_QUESTION_WITHDRAWN:
    case FORUM_EV_QUESTION_ANSWERED: {
        question *q = apply_question(st, s, &ev->p.question.q, false);
        if (!q)
            return -1;
        similar_sync(st, s, q, ev->kind == FORUM_EV_QUESTION_UPDATED);
        return 0;
    }
    case FORUM_EV_VOTE_ADDED:
        return apply_vote(st, s, ev, true);
    case FORUM_EV_VOTE_REMOVED:
        return apply_vote(st, s, ev, false);
    case FORUM_EV_VOTES_CHANGED:
        return apply_votes_changed(st, s, ev);
    case FORUM_EV_ONAIR_CHANGED:
        if (ev->p.question_id < 0)
            return -1;
        s->on_air = ev->p.question_id;
        return 0;
    case FORUM_EV_QUEUE_CHANGED:
        if (set_ids(&s->up_next, &s->n_up_next, ev->p.queue.ids, ev->p.queue.n) < 0)
            return -1;
        s->cap_up_next = s->n_up_next;
        return 0;
    case FORUM_EV_PANEL_CHANGED:
        return apply_panel_changed(s, ev);
    case FORUM_EV_POLL_CHANGED:
        return apply_poll_changed(st, s, ev);
    case FORUM_EV_POLL_VOTED:
        return apply_poll_voted(st, s, ev);
    case FORUM_EV_VIEWER_BANNED:
        return apply_ban(st, s, ev, true);
    case FORUM_EV_VIEWER_UNBANNED:
        return apply_ban(st, s, ev, false);
    case FORUM_EV_ACTION_CHANGED:
        return apply_action_changed(st, ev);
    case FORUM_EV_VIEWERS_PEAK:
        if (ev->p.viewers < 0)
            return -1;
        s->peak_viewers = ev->p.viewers;
        return 0;
    case FORUM_EV_VIEWERS_SAMPLED:
        return ev->p.viewers < 0 ? -1 : 0; /* history only: the report reads it from the log */
    case FORUM_EV_VIEWER_ERASED:
        return apply_viewer_erased(st, s, ev);
    case FORUM_EV_RATING_CHANGED:
        return apply_rating_changed(st, s, ev);
    case FORUM_EV_RATINGS_CHANGED:
        return apply_ratings_changed(st, s, ev);
    case FORUM_EV_SESSION_CHANGED:
    case FORUM_EV_PROGRAM_CHANGED:
    case FORUM_EV_WEBHOOK_CHANGED:
    case FORUM_EV__COUNT:
        return -1; /* not in a session's log (handled by apply_event) */
    }
    return -1;
}

int apply_event(forum_state *st, const forum_event *ev)
{
    if ((unsigned)ev->kind >= FORUM_EV__COUNT)
        return -1;
    if (ev->session[0] == '\0') {
        int rc = ev->kind == FORUM_EV_PROGRAM_CHANGED   ? apply_program_changed(st, ev)
                 : ev->kind == FORUM_EV_WEBHOOK_CHANGED ? apply_webhook_changed(st, ev)
                                                        : -1;
        if (rc < 0)
            return -1;
        if (ev->seq > st->studio_seq)
            st->studio_seq = ev->seq;
        return 0;
    }
    session *s;
    if (ev->kind == FORUM_EV_SESSION_CHANGED) {
        if (apply_session_changed(st, ev) < 0)
            return -1;
        s = find_session(st, ev->session);
    } else {
        s = find_session(st, ev->session);
        if (!s || apply_session_event(st, s, ev) < 0 || apply_undo_secret(s, ev) < 0)
            return -1;
    }
    if (s && ev->seq > s->seq)
        s->seq = ev->seq;
    return 0;
}

int forum_replay(forum_state *st, const forum_event *ev)
{
    if (!st || !ev)
        return -1;
    return apply_event(st, ev);
}
