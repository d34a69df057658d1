/* forum_internal.h — what the domain core's files share (not a public interface: only
 * server/core/forum*.c and handle_*.c include it): the state structs, the names of states, the
 * request context handlers build events in, and each file's functions for the others.
 * Pure like the rest of the core: no I/O, no globals but constant tables. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "containers.h"
#include "forum.h"

#define DEFAULT_QUESTION_RATE 6
#define JOIN_CODE_LEN 6
#define MODERATOR_KEY_LEN 24
#define UNDO_MAX_QUESTIONS 100 /* questions an undoable action changes (on air: two; a bulk
                                  approve or dismiss: up to FORUM_BULK_MAX) */
#define SNAPSHOT_TOP_VOTED 200        /* most-voted questions a viewer's welcome may name */
#define QUESTIONS_PAGE_DEFAULT 100     /* questions.list without a limit */
#define QUESTIONS_PAGE_BYTES (256 * 1024) /* a page's rendered size stays below about this */
#define ACTIONS_PER_SESSION 1000      /* action items made in one session */
#define ACTION_HISTORY_MAX 50         /* status changes an action item keeps (first and newest) */
#define RATINGS_PER_SESSION 200000    /* ratings living in one session */
#define RATING_COMMENTS_KEPT 20       /* newest published comments kept per rated item */
#define SNAPSHOT_RATINGS_MAX 500      /* rated comments a staff welcome lists */

/* The ratings of one question or commitment: counts by value, the newest published comments
 * (rating ids, newest first), and whether the counts changed since the last ratings.changed. */
typedef struct rating_tally {
    int64_t counts[FORUM_RATING__COUNT];
    int64_t comments[RATING_COMMENTS_KEPT];
    size_t n_comments;
    bool dirty;
} rating_tally;

typedef struct session session;

typedef struct question {
    int64_t id;
    session *session;
    char *text, *author, *answer_note, *carried_from;
    char *external_ref; /* staff imports: the record's id elsewhere, NULL = none */
    forum_category category;
    forum_source source;
    int64_t to, parent_id, created_at, merged_into;
    int64_t carried_question_id; /* carried: the source question's id in carried_from, else 0 */
    forum_source carried_source; /* carried: the source it had first (FORUM_SRC_CARRIED unknown) */
    char *dismiss_reason;        /* while dismissed: the reason given, NULL = none */
    char *held_for;              /* the blocked word that held it for review, NULL = none */
    int state;
    bool live_phase, starred, dirty;
    char viewer_id[FORUM_VIEWER_ID_MAX]; /* "" for staff submissions */
    iset voters;                         /* viewer index + 1 */
    rating_tally ratings;                /* ratings of its answer */
} question;

typedef struct poll {
    int64_t id;
    session *session;
    char *title;
    char **options;
    int64_t *counts;
    size_t n_options;
    bool multi, dirty;
    int state;
    imap ballots; /* viewer index + 1 -> option bit mask (bit i = option id i + 1) */
} poll;

/* Panelists and segments are kept in the form events carry them (strings owned by the config,
 * freed by config_free). */
typedef forum_panelist_rec panelist;
typedef forum_segment_rec segment;

/* An actor's last undoable action in a session, as carried in the secret of the action's first
 * event; rec points into arena. */
typedef struct undo_record {
    char actor[FORUM_ACTOR_MAX];
    forum_undo_rec rec;
    forum_arena arena;
} undo_record;

/* Session settings: everything session.changed carries. */
typedef struct session_config {
    int64_t program_id;
    char *title, *topic;
    int64_t scheduled_at, started_at, ended_at; /* 0 = null */
    int status;
    bool premoderation, anonymous_allowed;
    char **blocked_words;
    size_t n_blocked_words;
    int question_rate_per_min;
    panelist *panelists;
    size_t n_panelists;
    segment *segments;
    size_t n_segments;
    int stream_kind;  /* forum_stream_kind */
    char *stream_url; /* NULL with FORUM_STREAM_NONE */
} session_config;

struct session {
    char code[FORUM_CODE_MAX];
    session_config cfg;
    char key_hash[65];
    /* panel */
    int64_t segment_id; /* 0 = null */
    int64_t *speaker_ids;
    size_t n_speaker_ids;
    char *banner;
    int64_t on_air; /* 0 = null */
    int64_t *up_next;
    size_t n_up_next, cap_up_next;
    /* content */
    question **questions;
    size_t n_questions, cap_questions;
    poll **polls;
    size_t n_polls, cap_polls;
    iset bans;    /* viewer index + 1 */
    smap submits; /* "<viewer or actor>\x1f<request id>" -> question id, and
                     external_ref_key(ref) -> question id */
    undo_record *undos;
    size_t n_undos, cap_undos;
    int64_t *dirty_questions; /* ids whose vote count changed since the last votes.changed */
    size_t n_dirty_questions, cap_dirty_questions;
    int64_t seq;
    int64_t peak_viewers; /* highest concurrent viewer count recorded (viewers.peak) */
    /* rated items whose counts changed since the last ratings.changed: question id, or
     * -(action id) */
    int64_t *dirty_ratings;
    size_t n_dirty_ratings, cap_dirty_ratings;
    size_t n_ratings; /* ratings living in this session */
    struct similar_index *similar; /* hints: questions that may be merged into (forum_similar.c),
                                      NULL until the first one */
    /* public questions by votes for viewers' welcomes (forum_render.c), as of top_seq */
    const struct question **top;
    size_t n_top, cap_top;
    int64_t top_seq, top_built_ms;
};

/* One entry of an action item's status history: derived from its action.changed events. */
typedef struct action_history {
    int status;                   /* forum_action_status */
    int64_t at;                   /* the event's updated_at */
    char *reason;                 /* the reason given with it, NULL none */
    char session[FORUM_CODE_MAX]; /* the session whose log recorded it */
} action_history;

/* An action item: a commitment made on air, followed up across the programme's sessions. */
typedef struct action_item {
    int64_t id;
    session *session;          /* the session it was made in */
    int64_t question_id;       /* 0 = not linked to a question */
    int64_t follows_action_id; /* the earlier session's item this one follows up, 0 = none */
    char *text, *owner, *due;  /* owner, due ("YYYY-MM-DD") may be NULL */
    int status;                /* forum_action_status */
    int64_t created_at, updated_at;
    char *reason, *note;       /* public reason / progress note; staff-only note (NULL none) */
    int64_t promised_by;       /* panelist of its session, 0 = not recorded */
    int publication;           /* forum_publication */
    action_history *history;   /* status changes, oldest first (at most ACTION_HISTORY_MAX) */
    size_t n_history;
    rating_tally ratings;      /* ratings of its delivery */
} action_item;

/* A viewer's rating (see forum_rating_rec); lives in the session where it was last given. */
typedef struct rating {
    int64_t id;
    session *session;
    int64_t question_id, action_id; /* exactly one is set */
    char viewer_id[FORUM_VIEWER_ID_MAX];
    int value;         /* forum_rating_value */
    char *comment;     /* NULL = none */
    int comment_state; /* forum_comment_state */
    int64_t created_at, updated_at;
} rating;

typedef struct program {
    int64_t id;
    char *title, *description;
    bool unlisted;
} program;

/* An outgoing webhook registration (handle_webhook.c). */
typedef struct webhook {
    int64_t id, program_id; /* program_id 0 = every programme */
    char *name, *url;
    char *secret; /* the signing secret, NULL = none */
    int preset;   /* forum_webhook_preset */
    uint32_t triggers;
    bool enabled;
    int64_t created_at, updated_at;
} webhook;

typedef struct viewer {
    char id[FORUM_VIEWER_ID_MAX];
    iset votes;   /* question ids */
    iset ratings; /* rating ids */
} viewer;

struct forum_state {
    forum_limits limits;
    program *programs;
    size_t n_programs, cap_programs;
    session **sessions;
    size_t n_sessions, cap_sessions;
    smap session_index; /* code -> index in sessions */
    question **questions;
    size_t n_questions, cap_questions;
    imap question_index; /* id -> index in questions */
    poll **polls;
    size_t n_polls, cap_polls;
    imap poll_index;
    viewer *viewers;
    size_t n_viewers, cap_viewers;
    smap viewer_index; /* viewer id -> index in viewers */
    int64_t next_question_id, next_poll_id, next_program_id;
    int64_t studio_seq;
    action_item **actions;
    size_t n_actions, cap_actions;
    imap action_index; /* id -> index in actions */
    int64_t next_action_id;
    webhook *webhooks; /* registration order */
    size_t n_webhooks, cap_webhooks;
    int64_t next_webhook_id;
    rating **ratings;
    size_t n_ratings, cap_ratings;
    imap rating_index; /* id -> index in ratings */
    smap rating_keys;  /* "<viewer id>\x1f<q|a><item id>" -> rating id */
    int64_t next_rating_id;
};

typedef struct ctx {
    forum_state *st;
    const forum_env *env;
    forum_result *res;
    char actor[FORUM_ACTOR_MAX];
    const forum_actor *who;       /* the requester (NULL for system events) */
    forum_secret secret;          /* attached to the next emitted event, then emptied */
    const char *erased_viewer_id; /* set on the next emitted event (viewer.erased), then NULL */
    forum_arena scratch;          /* what a request builds before an event owns it (undo
                                     records, lists); freed when the request is done */
    forum_question_rec undo_before[UNDO_MAX_QUESTIONS]; /* the undo record's lists */
    forum_undo_after undo_after[UNDO_MAX_QUESTIONS];
} ctx;

/* ---- forum_state.c --------------------------------------------------------------------------- */

/* Index of s in names[0..n), or -1. */
int name_index(const char *const *names, int n, const char *s);

/* strdup that passes NULL through. */
char *dup_or_null(const char *s);

/* Replaces *dst with a copy of src (NULL clears). Returns 0 or -1 (dst unchanged). */
int set_str(char **dst, const char *src);

/* Appends item to a global table (array plus id -> position index) and keeps *next_id past
 * id. Returns 0, or -1 with nothing registered. Callers grow any per-session array first. */
int table_add(void ***items, size_t *n, size_t *cap, imap *index, int64_t id, void *item,
              int64_t *next_id);

void config_free(session_config *c);
void poll_free(poll *p);

session *find_session(const forum_state *st, const char *code);
question *find_question(const forum_state *st, int64_t id);
poll *find_poll(const forum_state *st, int64_t id);
action_item *find_action(const forum_state *st, int64_t id);
program *find_program(const forum_state *st, int64_t id);

/* Index + 1 of a known viewer id, or 0. */
int64_t viewer_key(const forum_state *st, const char *viewer_id);

/* Index + 1 of viewer_id, registering it if new; 0 on allocation failure or empty id. */
int64_t viewer_intern(forum_state *st, const char *viewer_id);

bool in_up_next(const session *s, int64_t id);
bool has_panelist(const session *s, int64_t id);
bool has_segment(const session *s, int64_t id);
undo_record *find_undo(session *s, const char *actor);

/* The record session.changed carries for cfg of session code (borrowing cfg's strings; the
 * programme's title looked up in st, which may be NULL). */
forum_session_rec session_rec(const forum_state *st, const char *code, const session_config *c);
/* Sets *dst (fresh) to a deep copy of the settings in r. Returns 0 or -1 (dst freed). */
int config_from_rec(session_config *dst, const forum_session_rec *r);
/* Deep copy of a config. Returns 0 or -1 (dst freed). */
int config_copy(session_config *dst, const session_config *src);

rating *find_rating(const forum_state *st, int64_t id);
/* The rating of viewer_id for a question (question_id) or a commitment (action_id), or NULL. */
rating *find_viewer_rating(const forum_state *st, const char *viewer_id, int64_t question_id,
                           int64_t action_id);
void rating_key(char *key, size_t cap, const char *viewer_id, int64_t question_id,
                int64_t action_id);

/* Is action item a public (published) now? Its publication setting, and for "auto" whether its
 * session has ended. */
bool action_published(const action_item *a);

/* True if a later action item follows a up (follows_action_id): its status is reported there. */
bool action_followed_up(const forum_state *st, const action_item *a);

/* Is a an earlier session than b? By date when both have one, else by creation order. */
bool session_before(const forum_state *st, const session *a, const session *b);

void submit_key(char *key, size_t cap, const char *who, const char *request_id);
/* The submits key of a staff import's external_ref (never a viewer's or an actor's key). */
#define EXTERNAL_REF_KEY_MAX (FORUM_EXTERNAL_REF_MAX_CHARS * 4 + 8)
void external_ref_key(char *key, size_t cap, const char *ref);

/* ---- forum_render.c -------------------------------------------------------------------------- */

/* "programs":[...],"sessions":[...],"webhooks":[...] (the studio list). */
void write_studio_members(jsonw *w, bool *first, const forum_state *st);

/* questions.list: a page of the session's questions the actor may see, newest first. */
void do_questions_list(ctx *c, session *s, const forum_actor *a, const forum_command *cmd);

/* ---- forum_events.c -------------------------------------------------------------------------- */

/* Applies one event to st. Returns 0 or -1 (unknown kind, malformed payload, missing session
 * or question); on -1 the state is unchanged except for interned viewer ids. */
int apply_event(forum_state *st, const forum_event *ev);

/* ---- forum_emit.c ---------------------------------------------------------------------------- */

/* Builds the next event of session code: the envelope (seq, at, actor, ...), kind, a copy of p
 * (which may point at live state: the event copies what it points at into its own memory), the
 * pending secret (ctx->secret, then emptied); its audience follows the kind's rule (visible
 * decides RULE_VISIBLE kinds). Applies it and appends it to the result. Returns 0 or -1. */
int emit_in(ctx *c, const char *code, forum_kind kind, const forum_payload *p, bool visible,
            const char *subject, const char *request_id);
int emit(ctx *c, session *s, forum_kind kind, const forum_payload *p, bool visible,
         const char *subject);

/* Records of state objects for payloads, borrowing their strings. */
forum_question_rec question_rec(const question *q);
forum_poll_rec poll_rec(const poll *p);
forum_action_rec action_rec(const action_item *a);
forum_panel_rec panel_rec(const session *s);

/* A question payload for q (reason, undo and into left empty). */
forum_payload question_payload(const question *q);

/* Emits kind for q (as it is to become), subject its author. */
int emit_question(ctx *c, forum_kind kind, const question *q, bool visible);

/* Emits queue.changed without id, if id is in the up-next queue. */
int leave_queue(ctx *c, session *s, int64_t id);

int emit_onair(ctx *c, session *s, int64_t id);
int emit_vote(ctx *c, session *s, forum_kind kind, int64_t qid, const char *viewer_id);

/* A working copy of q for building an event payload: shares q's strings (never freed). */
question shadow(const question *q);

forum_result *set_error(forum_result *r, forum_err err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool is_staff(const forum_actor *a);

/* Looks up the question id of a request in s: bad_request when id is missing, not_found unless
 * it exists there and, for a viewer, is public or the viewer's own (so an error never tells a
 * viewer that a question it cannot see exists, or in which state it is). */
question *request_question(ctx *c, const session *s, int64_t id, const char *field);
/* Refuses a request for the question's state: conflict on question_id, the rule ("only
 * pending questions can be approved") and the state it is in. */
void question_state_conflict(forum_result *r, const question *q, const char *rule);

/* Blocked words match in the folded form (utf8_fold), so full-width letters, case and invisible
 * characters inside a word do not hide it. */
bool has_blocked_word(const session *s, const char *text);

/* The first of the session's blocked words that text contains (folded as has_blocked_word
 * does), or NULL. Points into the session's settings. */
/* len random letters and digits from env->random_bytes (without modulo bias), NUL-terminated:
 * out holds len + 1. For moderator keys and webhook signing secrets. */
void random_alnum(const forum_env *env, char *out, size_t len);
const char *blocked_word_in(const session *s, const char *text);

/* Too long (code points) for limit max? */
bool too_long(const char *text, int max);

/* Starts the undo record the next emitted event carries (in its secret). */
forum_undo_rec *undo_begin(ctx *c, forum_undo_action action);

/* Records q's current state (before) and the state the action leaves it in (after_state; -1
 * for actions that leave the state alone: undo then does not care about later state changes). */
void undo_question(ctx *c, const question *q, int after_state);

void undo_air(ctx *c, int64_t before, int64_t after);
/* Acks: each writes one member of r's ack. ack_key writes `"key":` (after a comma if needed)
 * and returns the buffer for the value. */
jsonw *ack_key(forum_result *r, const char *key);
void ack_question_as(forum_result *r, const char *key, const question *q, forum_view view);
void ack_question(forum_result *r, const question *q); /* "question", staff view */
void ack_session(forum_result *r, const forum_state *st, const session *s);
void ack_poll(forum_result *r, const poll *p);
void ack_studio(forum_result *r, const forum_state *st); /* "programs", "sessions" */
int emit_poll(ctx *c, session *s, const poll *p);

/* Emits session.changed for code with cfg; secret_key (plaintext) adds the key hash secret. */
int emit_session(ctx *c, const char *code, const session_config *cfg, const char *plain_key);

/* Emits action.changed for a (as it is to become) in session in's log; public when a is or was
 * published. */
int emit_action(ctx *c, session *in, const action_item *a);
void ack_action(forum_result *r, const forum_state *st, int64_t id);
forum_rating_rec rating_rec(const rating *x);
/* Writes the member "ratings" (the counts) of a tally, for views and boards. */
void write_tally_counts(jsonw *w, bool *first, const rating_tally *t);

/* ---- handle_question.c ----------------------------------------------------------------------- */

void do_submit(ctx *c, session *s, const forum_actor *a, const forum_command *cmd);
void do_edit(ctx *c, session *s, const forum_actor *a, const forum_command *cmd);
void do_withdraw(ctx *c, session *s, const forum_actor *a, const forum_command *cmd);
void do_vote(ctx *c, session *s, const forum_actor *a, const forum_command *cmd, bool add);
void do_approve(ctx *c, session *s, const forum_command *cmd);
void do_dismiss(ctx *c, session *s, const forum_command *cmd);
void do_star(ctx *c, session *s, const forum_command *cmd);
void do_merge(ctx *c, session *s, const forum_command *cmd);
void do_onair_set(ctx *c, session *s, const forum_command *cmd);
void do_onair_next(ctx *c, session *s);
void do_onair_clear(ctx *c, session *s);
void do_answered(ctx *c, session *s, const forum_command *cmd);
void do_queue_set(ctx *c, session *s, const forum_command *cmd);
void do_panel_set(ctx *c, session *s, const forum_command *cmd);
void do_ban(ctx *c, session *s, const forum_command *cmd, bool ban);

/* question.restore: a dismissed question back to published (default) or pending, undoable. */
void do_restore(ctx *c, session *s, const forum_command *cmd);
/* questions.approve / questions.dismiss: each listed question that can be changed is; the others
 * are reported in the ack's "skipped". One undo record covers the whole batch. */
void do_bulk(ctx *c, session *s, const forum_command *cmd, bool approve);

/* Reverts this actor's last covered action: restores the questions it changed (state, text,
 * star, note, merge link), the votes it moved and the air. Conflict when nothing is recorded or
 * the questions have changed since. */
void do_undo(ctx *c, session *s);

/* ---- forum_similar.c ------------------------------------------------------------------------ */

/* Keeps s's similar-question index in step with q after an event changed it (text_may_change:
 * a submit or an update, so the text is indexed again). Never fails: hints are advice. */
void similar_sync(forum_state *st, session *s, const question *q, bool text_may_change);

/* questions.similar: for each of cmd->ids (questions of s), the most similar questions of s and
 * of its programme's recent earlier sessions, with scores, in the ack's "similar". */
void do_questions_similar(ctx *c, session *s, const forum_command *cmd);

/* ---- handle_session.c ------------------------------------------------------------------------ */

void do_poll_vote(ctx *c, session *s, const forum_actor *a, const forum_command *cmd);
void do_poll_create(ctx *c, session *s, const forum_command *cmd);
void do_poll_state(ctx *c, session *s, const forum_command *cmd, int from, int to);
void do_program(ctx *c, const forum_command *cmd, bool create);
void do_session_create(ctx *c, const forum_command *cmd);
void do_session_update(ctx *c, session *s, const forum_command *cmd);
void do_session_status(ctx *c, session *s, forum_cmd_type type);
void do_rotate_key(ctx *c, session *s);

/* ---- handle_outcome.c ------------------------------------------------------------------------ */

void do_action_create(ctx *c, session *s, const forum_command *cmd);

/* Updates an action of session s, or of an earlier session of the same programme (the
 * follow-up of last show's commitments happens in this show: the event goes to s's log). */
void do_action_update(ctx *c, session *s, const forum_command *cmd);

/* Copies the unanswered public questions (published or on air) of one session into a later
 * session of the same programme as published pre-show questions: source "carried", a link
 * back (carried_from, carried_question_id), votes reset, follow-up links kept when the parent
 * is carried too, the addressed panelist matched by name. Questions carried before are
 * skipped, so repeating the request adds nothing. */
void do_carry_over(ctx *c, const forum_command *cmd);

/* ---- handle_webhook.c ------------------------------------------------------------------------ */

/* webhook.create / update / delete (producer, studio log): the registration as an event, its
 * signing secret in the event's secret. */
void do_webhook_create(ctx *c, const forum_command *cmd);
void do_webhook_update(ctx *c, const forum_command *cmd, bool remove);
/* Applies webhook.changed. Returns 0 or -1. */
int apply_webhook_changed(forum_state *st, const forum_event *ev);
/* "webhooks":[...] (the studio list; no secrets). */
void write_webhooks(jsonw *w, bool *first, const forum_state *st);
void webhooks_free(forum_state *st);

/* Removes one viewer's personal data from session s: their questions lose the author name and
 * the device-derived viewer id (replaced by a random placeholder "x" + 16 hex that nothing
 * links back to the device); their votes, ballots and ban move to the placeholder so counts
 * stay right. The store rewrites every stored event and projection row of s that holds the
 * viewer id (see forum_event.erased_viewer_id). Allowed on archived sessions: erasure is the
 * one write the archive must still accept. */
void do_viewer_erase(ctx *c, session *s, const forum_command *cmd);

/* ---- handle_rating.c ------------------------------------------------------------------------- */

/* A viewer rates the answer to a question of s that was answered, or the delivery of a
 * published commitment of s's programme (made in s or an earlier session): one rating per
 * viewer and item, changed by rating again; an optional comment is moderated like a question. */
void do_rating_set(ctx *c, session *s, const forum_actor *a, const forum_command *cmd);
/* Staff publish (approve) or refuse (dismiss) the comment of a rating living in s. */
void do_rating_moderate(ctx *c, session *s, const forum_command *cmd, bool approve);

/* Appends ratings.changed events (one per session with changed counts) for forum_flush_counts.
 * Returns 0 or -1. */
int flush_rating_counts(ctx *c, session *s);
