/* event.h — the events of a session's transcript, typed: the one table of event kinds (enum, wire
 * name, payload type, audience rule), the payload structs each kind carries from the handler that
 * makes it to the store, the hub, the exports and the cluster log, and the codec between a typed
 * event and its JSON (rendered once per audience with jsonw; stored JSON decoded back into the
 * same structs for replay). Pure: no I/O, no globals but constant tables.
 *
 * Adding a kind: one line in FORUM_EVENT_KINDS; every switch over forum_kind that lacks it is a
 * compile error (-Wswitch with -Werror), which lists the places to teach it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "jsonw.h"
#include "stream.h"

#define FORUM_CODE_MAX 16       /* join code buffer ("K7M3PQ" + NUL; "" is the studio log) */
#define FORUM_VIEWER_ID_MAX 24  /* "v" + 16 hex + NUL */
#define FORUM_REQUEST_ID_MAX 65 /* client request ids: 1..64 bytes */
#define FORUM_NAME_BYTES 161    /* 40 code points of up to 4 bytes + NUL */
#define FORUM_ACTOR_MAX 200     /* "viewer:<id>", "moderator:<name>", "producer" */
#define FORUM_EXTERNAL_REF_MAX_CHARS 100 /* question.submit's external_ref, code points */

/* ---- names of states (wire names in the FORUM_*_NAMES tables) ----------------------------- */

typedef enum forum_qstate {
    Q_PENDING,
    Q_PUBLISHED,
    Q_ON_AIR,
    Q_ANSWERED,
    Q_DISMISSED,
    Q_WITHDRAWN,
    Q__COUNT
} forum_qstate;
typedef enum forum_status { S_DRAFT, S_OPEN, S_LIVE, S_ENDED, S_ARCHIVED, S__COUNT } forum_status;
typedef enum forum_poll_state { P_DRAFT, P_OPEN, P_CLOSED, P__COUNT } forum_poll_state;
typedef enum forum_category {
    FORUM_CAT_QUESTION = 0,
    FORUM_CAT_NEED,
    FORUM_CAT_SUGGESTION,
    FORUM_CAT__COUNT
} forum_category;
typedef enum forum_source {
    FORUM_SRC_WEB = 0,
    FORUM_SRC_PHONE,
    FORUM_SRC_PAPER,
    FORUM_SRC_VISIT,
    FORUM_SRC_CARRIED,
    FORUM_SRC_HOTLINE, /* the citizen hotline (imported) */
    FORUM_SRC_FORM,    /* a collection form or spreadsheet (imported) */
    FORUM_SRC__COUNT
} forum_source;
typedef enum forum_action_status {
    FORUM_ACTION_OPEN = 0,
    FORUM_ACTION_IN_PROGRESS,
    FORUM_ACTION_DONE,
    FORUM_ACTION_WITHDRAWN, /* given up, with a reason */
    FORUM_ACTION__COUNT
} forum_action_status;
/* When an action item (commitment) is public: auto = once its session has ended (the default),
 * public = now, staff = never (kept staff-only). Set by producers. */
typedef enum forum_publication {
    FORUM_PUB_AUTO = 0,
    FORUM_PUB_PUBLIC,
    FORUM_PUB_STAFF,
    FORUM_PUB__COUNT
} forum_publication;
/* A viewer's satisfaction rating (满意 / 基本满意 / 不满意). */
typedef enum forum_rating_value {
    FORUM_RATING_SATISFIED = 0,
    FORUM_RATING_BASIC,
    FORUM_RATING_DISSATISFIED,
    FORUM_RATING__COUNT
} forum_rating_value;
/* The moderation state of a rating's comment (none: the rating has no comment). */
typedef enum forum_comment_state {
    FORUM_COMMENT_NONE = 0,
    FORUM_COMMENT_PENDING,
    FORUM_COMMENT_PUBLISHED,
    FORUM_COMMENT_DISMISSED,
    FORUM_COMMENT__COUNT
} forum_comment_state;

/* Outgoing webhooks: the message format, and the moments a webhook may be told of. */
typedef enum forum_webhook_preset {
    FORUM_HOOK_JSON = 0, /* the generic JSON document, signed (X-Forum-Signature) */
    FORUM_HOOK_WECOM,    /* a WeCom (企业微信) group robot: markdown message */
    FORUM_HOOK_DINGTALK, /* a DingTalk custom robot: markdown, signed as DingTalk asks */
    FORUM_HOOK_FEISHU,   /* a Feishu / Lark custom bot: card with markdown, signed likewise */
    FORUM_HOOK__COUNT
} forum_webhook_preset;
typedef enum forum_webhook_trigger {
    FORUM_TRIGGER_QUESTION_ON_AIR = 0,
    FORUM_TRIGGER_QUESTION_ANSWERED,
    FORUM_TRIGGER_COMMITMENT_CREATED,
    FORUM_TRIGGER_COMMITMENT_UPDATED,
    FORUM_TRIGGER_SESSION_STARTED,
    FORUM_TRIGGER_SESSION_ENDED,
    FORUM_TRIGGER_SESSION_ARCHIVED,
    FORUM_TRIGGER__COUNT
} forum_webhook_trigger;
#define FORUM_WEBHOOK_URL_MAX 2000    /* bytes */
#define FORUM_WEBHOOK_SECRET_MAX 200  /* bytes of printable ASCII */
#define FORUM_WEBHOOKS_MAX 50         /* registered at once */

extern const char *const FORUM_QSTATE_NAMES[Q__COUNT];
extern const char *const FORUM_STATUS_NAMES[S__COUNT];
extern const char *const FORUM_POLL_STATE_NAMES[P__COUNT];
extern const char *const FORUM_CATEGORY_NAMES[FORUM_CAT__COUNT];
extern const char *const FORUM_SOURCE_NAMES[FORUM_SRC__COUNT];
extern const char *const FORUM_ACTION_STATUS_NAMES[FORUM_ACTION__COUNT];
extern const char *const FORUM_WEBHOOK_PRESET_NAMES[FORUM_HOOK__COUNT];
extern const char *const FORUM_WEBHOOK_TRIGGER_NAMES[FORUM_TRIGGER__COUNT];
extern const char *const FORUM_PUBLICATION_NAMES[FORUM_PUB__COUNT];
extern const char *const FORUM_RATING_NAMES[FORUM_RATING__COUNT];
extern const char *const FORUM_COMMENT_STATE_NAMES[FORUM_COMMENT__COUNT];

/* Index of s in names[0..n), or -1 (s NULL: -1). */
int forum_name_index(const char *const *names, int n, const char *s);

/* True for the states everyone may see: published, on air, answered. */
static inline bool forum_qstate_public(int state)
{
    return state == Q_PUBLISHED || state == Q_ON_AIR || state == Q_ANSWERED;
}

/* ---- who receives an event ---------------------------------------------------------------- */

/* Who may receive one event. Stored with the event; proto renders the public and subject views
 * from the typed payload (dropping staff-only fields, setting "mine"). */
typedef enum forum_audience {
    FORUM_AUD_PUBLIC = 0,        /* everyone subscribed to the session */
    FORUM_AUD_STAFF_AND_SUBJECT, /* moderators, producers, and the viewer named in subject */
    FORUM_AUD_STAFF,             /* moderators and producers */
    FORUM_AUD_NOBODY,            /* persisted only (individual votes and ballots) */
} forum_audience;

/* How a kind's audience is decided. Fixed rules name the audience; RULE_VISIBLE events go to
 * everyone when what they concern is (or was) public, else to staff and the subject viewer
 * (questions) or to staff alone (polls, action items). */
typedef enum forum_audience_rule {
    RULE_PUBLIC,
    RULE_STAFF,
    RULE_NOBODY,
    RULE_STAFF_AND_SUBJECT,
    RULE_VISIBLE
} forum_audience_rule;

/* How an event is rendered for one audience class. */
typedef enum forum_view {
    FORUM_VIEW_STAFF = 0, /* as stored */
    FORUM_VIEW_PUBLIC,    /* staff-only fields left out ("viewer_id" of questions and bans,
                             "blocked_words" of sessions), questions with "mine": false */
    FORUM_VIEW_SUBJECT,   /* like public, but questions with "mine": true */
} forum_view;

/* ---- the table of kinds ------------------------------------------------------------------- */

/*  X(enum name,          wire name,             payload,   audience rule) */
#define FORUM_EVENT_KINDS(X)                                                      \
    X(QUESTION_SUBMITTED, "question.submitted", QUESTION, RULE_STAFF_AND_SUBJECT) \
    X(QUESTION_PUBLISHED, "question.published", QUESTION, RULE_PUBLIC)            \
    X(QUESTION_UPDATED, "question.updated", QUESTION, RULE_VISIBLE)               \
    X(QUESTION_DISMISSED, "question.dismissed", QUESTION, RULE_VISIBLE)           \
    X(QUESTION_WITHDRAWN, "question.withdrawn", QUESTION, RULE_VISIBLE)           \
    X(QUESTION_ANSWERED, "question.answered", QUESTION, RULE_PUBLIC)              \
    X(QUESTION_MERGED, "question.merged", QUESTION, RULE_VISIBLE)                 \
    X(VOTE_ADDED, "vote.added", VOTE, RULE_NOBODY)                                \
    X(VOTE_REMOVED, "vote.removed", VOTE, RULE_NOBODY)                            \
    X(VOTES_CHANGED, "votes.changed", COUNTS, RULE_PUBLIC)                        \
    X(ONAIR_CHANGED, "onair.changed", ONAIR, RULE_PUBLIC)                         \
    X(QUEUE_CHANGED, "queue.changed", QUEUE, RULE_PUBLIC)                         \
    X(PANEL_CHANGED, "panel.changed", PANEL, RULE_PUBLIC)                         \
    X(POLL_CHANGED, "poll.changed", POLL, RULE_VISIBLE)                           \
    X(POLL_VOTED, "poll.voted", BALLOT, RULE_NOBODY)                              \
    X(VIEWER_BANNED, "viewer.banned", VIEWER, RULE_STAFF)                         \
    X(VIEWER_UNBANNED, "viewer.unbanned", VIEWER, RULE_STAFF)                     \
    X(ACTION_CHANGED, "action.changed", ACTION, RULE_VISIBLE)                     \
    X(VIEWERS_PEAK, "viewers.peak", PEAK, RULE_STAFF)                             \
    X(VIEWERS_SAMPLED, "viewers.sampled", PEAK, RULE_NOBODY)                      \
    X(VIEWER_ERASED, "viewer.erased", ERASED, RULE_STAFF)                         \
    X(SESSION_CHANGED, "session.changed", SESSION, RULE_PUBLIC)                   \
    X(PROGRAM_CHANGED, "program.changed", PROGRAM, RULE_PUBLIC)                   \
    X(WEBHOOK_CHANGED, "webhook.changed", WEBHOOK, RULE_STAFF)                   \
    X(RATING_CHANGED, "rating.changed", RATING, RULE_STAFF_AND_SUBJECT)           \
    X(RATINGS_CHANGED, "ratings.changed", RATING_COUNTS, RULE_PUBLIC)

typedef enum forum_kind {
#define FORUM_KIND_ENUM(name, wire, payload, rule) FORUM_EV_##name,
    FORUM_EVENT_KINDS(FORUM_KIND_ENUM)
#undef FORUM_KIND_ENUM
        FORUM_EV__COUNT
} forum_kind;

typedef enum forum_payload_type {
    PAYLOAD_QUESTION,
    PAYLOAD_VOTE,
    PAYLOAD_COUNTS,
    PAYLOAD_ONAIR,
    PAYLOAD_QUEUE,
    PAYLOAD_PANEL,
    PAYLOAD_POLL,
    PAYLOAD_BALLOT,
    PAYLOAD_VIEWER,
    PAYLOAD_ACTION,
    PAYLOAD_PEAK,
    PAYLOAD_ERASED,
    PAYLOAD_SESSION,
    PAYLOAD_PROGRAM,
    PAYLOAD_WEBHOOK,
    PAYLOAD_RATING,
    PAYLOAD_RATING_COUNTS
} forum_payload_type;

const char *forum_kind_name(forum_kind k);         /* "question.submitted", ... */
forum_kind forum_kind_from_name(const char *name); /* FORUM_EV__COUNT if unknown */
forum_payload_type forum_kind_payload(forum_kind k);
forum_audience_rule forum_kind_rule(forum_kind k);
/* The audience of an event of kind k: the fixed one of its rule, or for RULE_VISIBLE: public
 * when visible, else staff and subject (questions) or staff (polls). */
forum_audience forum_kind_audience(forum_kind k, bool visible);

/* ---- payloads ----------------------------------------------------------------------------- */
/* Every pointer in a payload points into the event's arena (or, while a handler builds an
 * event, at strings that outlive the build): an event owns all of its memory. Ids and times use
 * 0 for "none" (null on the wire). */

typedef struct forum_question_rec {
    int64_t id;
    const char *session; /* join code */
    const char *text;
    const char *author;       /* NULL = anonymous */
    const char *answer_note;  /* NULL = none */
    const char *carried_from; /* NULL = not carried */
    const char *viewer_id;    /* "" or NULL = a staff submission */
    int64_t to, parent_id, created_at, merged_into, carried_question_id, votes;
    uint8_t state, category, source; /* forum_qstate, forum_category, forum_source */
    bool live_phase, starred;
    const char *external_ref; /* staff imports: the record's id elsewhere (NULL = none); staff
                                 only; a session's questions have distinct ones */
    const char *dismiss_reason; /* while dismissed: the moderator's reason, NULL = none */
    const char *held_for;       /* the blocked word that held it for review, NULL = none (staff) */
    uint8_t carried_source; /* source "carried": the source it had first (FORUM_SRC_CARRIED =
                               unknown: carried before this was recorded) */
} forum_question_rec;

typedef struct forum_panelist_rec {
    int64_t id;
    const char *name, *affiliation, *role;
} forum_panelist_rec;

typedef struct forum_segment_rec {
    int64_t id;
    const char *title;
} forum_segment_rec;

typedef struct forum_session_rec {
    const char *code;
    int64_t program_id;
    const char *program; /* the programme's title at the time, NULL if unknown */
    const char *title, *topic;
    int64_t scheduled_at, started_at, ended_at;
    uint8_t status; /* forum_status */
    bool premoderation, anonymous_allowed;
    int question_rate_per_min;
    const forum_panelist_rec *panelists;
    size_t n_panelists;
    const forum_segment_rec *segments;
    size_t n_segments;
    const char *const *blocked_words; /* staff only */
    size_t n_blocked_words;
    uint8_t stream_kind;    /* forum_stream_kind: the show's video on the viewer page */
    const char *stream_url; /* NULL when stream_kind is FORUM_STREAM_NONE */
} forum_session_rec;

typedef struct forum_program_rec {
    int64_t id;
    const char *title, *description;
    bool unlisted; /* kept off the public front page (wire: "listed": false) */
} forum_program_rec;

typedef struct forum_poll_rec {
    int64_t id;
    const char *title;
    const char *const *options;
    const int64_t *counts;
    size_t n_options;
    bool multi;
    uint8_t state; /* forum_poll_state */
} forum_poll_rec;

typedef struct forum_action_rec {
    int64_t id;
    const char *session; /* the session it was made in */
    int64_t question_id, follows_action_id;
    const char *text, *owner, *due; /* owner, due may be NULL */
    uint8_t status;                 /* forum_action_status */
    int64_t created_at, updated_at;
    const char *reason;  /* public: why it was withdrawn, or a progress note; NULL = none */
    const char *note;    /* staff-only note; NULL = none */
    int64_t promised_by; /* the panelist (of its session) who promised it, 0 = not recorded */
    uint8_t publication; /* forum_publication */
    bool published;      /* public when the event was made (derived: publication, session) */
} forum_action_rec;

/* An outgoing webhook as its registration events carry it (the signing secret is not here: it
 * travels in the event's secret). In the studio log. */
typedef struct forum_webhook_rec {
    int64_t id;
    int64_t program_id; /* 0 = every programme (studio-wide) */
    const char *name;   /* a label for the console, NULL = none */
    const char *url;
    uint8_t preset;     /* forum_webhook_preset */
    uint32_t triggers;  /* bit i: FORUM_WEBHOOK_TRIGGER_NAMES[i] */
    bool enabled;
    bool signing;       /* a signing secret is set */
    bool deleted;       /* the registration was removed */
    int64_t created_at, updated_at;
} forum_webhook_rec;
/* A viewer's rating of an answered question or of a commitment's delivery. The rating lives in
 * the session where it was last given (a commitment is rated from a later session). */
typedef struct forum_rating_rec {
    int64_t id;
    const char *session;
    int64_t question_id, action_id; /* exactly one is set */
    const char *viewer_id;          /* staff only */
    uint8_t value;                  /* forum_rating_value */
    const char *comment;            /* NULL = none */
    uint8_t comment_state;          /* forum_comment_state */
    int64_t created_at, updated_at;
} forum_rating_rec;

/* The rating counts of one question or commitment. */
typedef struct forum_rating_count {
    int64_t question_id, action_id; /* exactly one is set */
    int64_t counts[FORUM_RATING__COUNT];
} forum_rating_count;

typedef struct forum_panel_rec {
    int64_t segment_id;
    const int64_t *speaker_ids;
    size_t n_speaker_ids;
    const char *banner;
    int64_t on_air;
    const int64_t *up_next;
    size_t n_up_next;
} forum_panel_rec;

typedef struct forum_count {
    int64_t id, count;
} forum_count;

typedef union forum_payload {
    struct { /* question.* */
        forum_question_rec q;
        const char *reason; /* question.dismissed: the dismiss reason, NULL if none */
        bool undo;          /* emitted by an undo */
        bool restored;      /* emitted by question.restore (back from dismissed) */
        bool has_into;      /* question.merged: the target */
        forum_question_rec into;
    } question;
    int64_t question_id; /* vote.added / vote.removed; onair.changed (0 = null) */
    struct {             /* votes.changed */
        const forum_count *items;
        size_t n;
    } counts;
    struct { /* queue.changed */
        const int64_t *ids;
        size_t n;
    } queue;
    forum_panel_rec panel; /* panel.changed */
    forum_poll_rec poll;   /* poll.changed */
    struct {               /* poll.voted */
        int64_t poll_id;
        const int64_t *option_ids;
        size_t n;
    } ballot;
    const char *viewer_id;       /* viewer.banned / viewer.unbanned */
    forum_action_rec action;     /* action.changed */
    int64_t viewers;             /* viewers.peak, viewers.sampled */
    struct {                     /* viewer.erased */
        const char *placeholder; /* the id that replaces the erased one */
        const forum_question_rec *questions;
        size_t n;
    } erased;
    forum_session_rec session; /* session.changed */
    forum_program_rec program; /* program.changed */
    forum_webhook_rec webhook; /* webhook.changed */
    forum_rating_rec rating;   /* rating.changed */
    struct {                   /* ratings.changed */
        const forum_rating_count *items;
        size_t n;
    } ratings;
} forum_payload;

/* ---- secrets: stored with an event, never sent or exported -------------------------------- */

typedef enum forum_undo_action {
    UNDO_APPROVE,
    UNDO_DISMISS,
    UNDO_STAR,
    UNDO_EDIT,
    UNDO_MERGE,
    UNDO_ANSWERED,
    UNDO_ONAIR,
    UNDO_RESTORE,
    UNDO__COUNT
} forum_undo_action;
extern const char *const FORUM_UNDO_ACTION_NAMES[UNDO__COUNT];

typedef struct forum_undo_after {
    int64_t id;
    uint8_t state; /* the state the action left the question in */
} forum_undo_after;

/* What an undoable action changed, so that its actor can revert it: the questions before (whole
 * records), the state each was left in (checked before undoing), the air, moved votes. */
typedef struct forum_undo_rec {
    uint8_t action; /* forum_undo_action */
    const forum_question_rec *before;
    size_t n_before;
    const forum_undo_after *after;
    size_t n_after;
    bool has_air;
    int64_t air_before, air_after;
    bool has_merge;
    int64_t merge_from, merge_into;
    const char *const *voters; /* every voter of the merged question */
    size_t n_voters;
    const char *const *moved; /* those whose vote moved to the target */
    size_t n_moved;
} forum_undo_rec;

typedef struct forum_secret {
    char moderator_key_hash[65]; /* session.changed: "" = unchanged */
    bool has_undo;               /* records the actor's last undoable action */
    forum_undo_rec undo;
    bool undo_clear; /* the undo itself: forget the actor's record */
    const char *webhook_secret; /* webhook.changed: the new signing secret (NULL = unchanged) */
    bool webhook_secret_clear;  /* webhook.changed: the webhook no longer signs */
} forum_secret;

/* ---- the event ---------------------------------------------------------------------------- */

/* A block of memory an event's payload lives in (freed with it). */
typedef struct forum_arena {
    struct forum_arena_block *head;
} forum_arena;

/* One entry of a session's transcript. Produced by forum_apply (seq, at, offset_ms assigned),
 * stored by store, fanned out by hub. Owns its payload and secret (arena). */
typedef struct forum_event {
    char session[FORUM_CODE_MAX]; /* "" = the studio log (program.changed) */
    int64_t seq;                  /* per session, gap-free */
    int64_t at;                   /* ms epoch */
    int64_t offset_ms;            /* ms since session.start, -1 before the session went live */
    char actor[FORUM_ACTOR_MAX];  /* "viewer:<id>", "moderator:<name>", "producer", "system" */
    forum_kind kind;
    forum_audience audience;
    char subject[FORUM_VIEWER_ID_MAX];     /* the viewer concerned (author/voter), "" none */
    char request_id[FORUM_REQUEST_ID_MAX]; /* question.submitted: the client id, "" none */
    forum_payload p;
    forum_secret secret;
    char erased_viewer_id[FORUM_VIEWER_ID_MAX]; /* viewer.erased only, transient: the viewer id
                                     being erased. Never stored, sent or replayed: the store
                                     rewrites every stored trace of it to the placeholder, in
                                     the same transaction. */
    forum_arena arena;                          /* owns every string and array of p and secret */
} forum_event;

/* Frees what ev owns and empties it (the envelope stays). */
void forum_event_clear(forum_event *ev);

/* Allocation in an arena: NULL on failure. Strings: NULL passes through as NULL. */
void *forum_arena_alloc(forum_arena *a, size_t n);
char *forum_arena_strdup(forum_arena *a, const char *s);
void forum_arena_free(forum_arena *a);

/* Copies every string and array the payload and the secret point at into ev's arena, so that ev
 * owns them (handlers build payloads pointing at live state, then call this). Returns 0 or -1. */
int forum_event_own(forum_event *ev);

/* Copies what an undo record points at into a (for the records a session keeps). */
int forum_undo_own(forum_arena *a, forum_undo_rec *u);

/* Deep copy (dst's arena owns its copy). Returns 0 or -1 (dst empty). */
int forum_event_copy(forum_event *dst, const forum_event *src);

/* ---- JSON --------------------------------------------------------------------------------- */

/* Writes the payload's members for view into an open JSON object (first as for jsonw_key). */
void forum_event_write_payload(jsonw *w, bool *first, const forum_event *ev, forum_view view);
/* The payload as a JSON object text for view (malloc'd; NULL on OOM). */
char *forum_event_payload_text(const forum_event *ev, forum_view view);
/* The secret as a JSON object into w, or false (nothing written) when the event has none. */
bool forum_event_write_secret(jsonw *w, const forum_event *ev);

/* Decodes a stored payload (and secret, may be NULL) of ev->kind into ev's typed payload; the
 * envelope must be set. Input is untrusted: every field is checked. Returns 0 or -1. */
int forum_event_decode(forum_event *ev, const cJSON *payload, const cJSON *secret);
/* Same from JSON texts (secret_text NULL = none). */
int forum_event_decode_text(forum_event *ev, const char *payload_text, size_t payload_len,
                            const char *secret_text, size_t secret_len);

/* A question object (the members of forum_question_rec) for view; mine is its "mine". */
void forum_write_question(jsonw *w, const forum_question_rec *q, forum_view view, bool mine);
void forum_write_session(jsonw *w, const forum_session_rec *s, forum_view view);
void forum_write_program(jsonw *w, const forum_program_rec *p);
/* my_option_ids: when non-NULL, adds a viewer's "my_option_ids" (bit i = option i + 1). */
void forum_write_poll(jsonw *w, const forum_poll_rec *p, const int64_t *my_mask);
void forum_write_action(jsonw *w, const forum_action_rec *a);
/* An action item for view: staff as stored; public without the staff-only fields, and only
 * {id, session, published: false} when it is not published. */
void forum_write_action_view(jsonw *w, const forum_action_rec *a, forum_view view);
/* A rating for view (the public views leave out viewer_id). */
void forum_write_rating(jsonw *w, const forum_rating_rec *r, forum_view view);
/* {"question_id"|"action_id", "satisfied", "basically_satisfied", "dissatisfied"} */
void forum_write_rating_count(jsonw *w, const forum_rating_count *c);
void forum_write_panel(jsonw *w, const forum_panel_rec *p);
void forum_write_webhook(jsonw *w, const forum_webhook_rec *h);
