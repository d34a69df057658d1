/* forum.h — the domain core: programs, sessions, panel state, questions, votes, polls,
 * moderation, action items, ratings, carry-over between sessions and erasure of a viewer's
 * data, and the public pages (programmes, commitment boards). forum_apply() turns one validated
 * command into events (or an error) and applies
 * those events to the in-memory state; forum_replay() applies a stored event at start-up through
 * the same code, so live state and replayed state cannot drift apart.
 *
 * Pure and deterministic: no I/O, no globals, time and randomness come in through forum_env.
 * Only the loop thread touches a forum_state. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "event.h"

/* Error vocabulary shared by proto (decoding) and forum (rules). Wire names in proto.c. */
typedef enum forum_err {
    FORUM_OK = 0,
    FORUM_E_BAD_JSON,
    FORUM_E_BAD_REQUEST,
    FORUM_E_TOO_LONG,
    FORUM_E_UNKNOWN_TYPE,
    FORUM_E_UNAUTHORIZED,
    FORUM_E_FORBIDDEN,
    FORUM_E_NOT_FOUND,
    FORUM_E_CONFLICT,
    FORUM_E_RATE_LIMITED,
    FORUM_E_BANNED,
    FORUM_E_SESSION_CLOSED,
    FORUM_E_INTERNAL,
} forum_err;

/* Limits, named and configurable; defaults from forum_limits_default(). proto checks lengths
 * while decoding a request; forum checks them again where a text comes from elsewhere (staff
 * edits, action items) and enforces the counts. */
typedef struct forum_limits {
    int question_max_chars;  /* 500: question text, code points after trimming */
    int name_max_chars;      /* 40: display names, panelist names, authors */
    int title_max_chars;     /* 200: titles, topics, segment titles, poll titles/options */
    int note_max_chars;      /* 2000: answer notes, dismiss reasons, descriptions, banner */
    int max_panelists;       /* 20 */
    int max_segments;        /* 30 */
    int max_poll_options;    /* 10 */
    int max_queue;           /* 100: up-next length */
    int max_blocked_words;   /* 200 */
    int questions_per_session; /* 20000: beyond it, question.submit gets rate_limited */
    /* Host allowlists of a session's stream setting (stream.h; not owned: they outlive the
     * state): hosts an HLS stream may come from, hosts whose player may be embedded. */
    const char *stream_hosts; /* FORUM_DEFAULT_STREAM_HOSTS: any host */
    const char *embed_hosts;  /* FORUM_DEFAULT_EMBED_HOSTS: Bilibili's and YouTube's players */
    /* Hosts an outgoing webhook may be registered for besides loopback (same form; "" = only
     * loopback: localhost, 127.0.0.0/8, [::1]). */
    const char *webhook_hosts;
} forum_limits;

#define FORUM_DEFAULT_STREAM_HOSTS "*"
#define FORUM_DEFAULT_EMBED_HOSTS "player.bilibili.com,www.youtube.com,www.youtube-nocookie.com"

void forum_limits_default(forum_limits *out);

#define FORUM_RATING_COMMENT_MAX 200 /* a rating's comment, code points */
/* Most questions one bulk request (questions.approve, questions.dismiss) names. */
#define FORUM_BULK_MAX 100

typedef enum forum_role {
    FORUM_ROLE_NONE = 0,
    FORUM_ROLE_VIEWER,
    FORUM_ROLE_MODERATOR,
    FORUM_ROLE_PRODUCER,
    FORUM_ROLE_BOARD, /* a programme's public board (/p/<id>): receives, never writes */
} forum_role;


/* Who is acting. Filled by the dispatcher from the connection's hello. */
typedef struct forum_actor {
    forum_role role;
    char viewer_id[FORUM_VIEWER_ID_MAX]; /* viewers only, else "" */
    char name[FORUM_NAME_BYTES];         /* hello's display name, "" if none */
    char session[FORUM_CODE_MAX];        /* session the connection is bound to; "" = producer
                                            with "session": null (studio-wide connection) */
} forum_actor;

typedef enum forum_cmd_type {
    FORUM_CMD_NONE = 0,
    FORUM_CMD_HELLO,
    /* viewer */
    FORUM_CMD_QUESTION_SUBMIT,
    FORUM_CMD_QUESTION_EDIT,
    FORUM_CMD_QUESTION_WITHDRAW,
    FORUM_CMD_VOTE_ADD,
    FORUM_CMD_VOTE_REMOVE,
    FORUM_CMD_POLL_VOTE,
    /* moderator (and producer) */
    FORUM_CMD_QUESTION_APPROVE,
    FORUM_CMD_QUESTION_DISMISS,
    FORUM_CMD_QUESTION_STAR,
    FORUM_CMD_QUESTION_MERGE,
    FORUM_CMD_QUESTION_ANSWERED,
    FORUM_CMD_QUESTION_UNDO,
    FORUM_CMD_ONAIR_SET,
    FORUM_CMD_ONAIR_CLEAR,
    FORUM_CMD_ONAIR_NEXT,
    FORUM_CMD_QUEUE_SET,
    FORUM_CMD_PANEL_SET,
    FORUM_CMD_VIEWER_BAN,
    FORUM_CMD_VIEWER_UNBAN,
    FORUM_CMD_POLL_CREATE,
    FORUM_CMD_POLL_OPEN,
    FORUM_CMD_POLL_CLOSE,
    /* producer */
    FORUM_CMD_PROGRAM_CREATE,
    FORUM_CMD_PROGRAM_UPDATE,
    FORUM_CMD_SESSION_CREATE,
    FORUM_CMD_SESSION_UPDATE,
    FORUM_CMD_SESSION_OPEN,
    FORUM_CMD_SESSION_START,
    FORUM_CMD_SESSION_END,
    FORUM_CMD_SESSION_ARCHIVE,
    FORUM_CMD_SESSION_LIST,
    FORUM_CMD_QUESTIONS_LIST,     /* anyone: a page of the questions it may see */
    FORUM_CMD_QUESTIONS_SIMILAR,  /* staff: similar-question hints for questions of the session */
    FORUM_CMD_SESSION_ROTATE_KEY, /* extension: issue a new moderator key (keys are stored hashed) */
    /* archive and outcomes */
    FORUM_CMD_ACTION_CREATE,      /* staff: a commitment made on air */
    FORUM_CMD_ACTION_UPDATE,      /* staff: this session's or an earlier session's commitment */
    FORUM_CMD_SESSION_CARRY_OVER, /* producer: unanswered questions into a later session */
    FORUM_CMD_VIEWER_ERASE,       /* producer: remove one viewer's personal data from a session */
    FORUM_CMD_SEARCH,             /* producer: full-text search (answered by the dispatcher) */
    FORUM_CMD_BACKUP,             /* producer: online backup (run by the dispatcher) */
    /* outgoing webhooks (producer, studio-wide) */
    FORUM_CMD_WEBHOOK_CREATE,
    FORUM_CMD_WEBHOOK_UPDATE,
    FORUM_CMD_WEBHOOK_DELETE,
    FORUM_CMD_RATING_SET,         /* viewer: rate an answer or a commitment's delivery */
    FORUM_CMD_RATING_APPROVE,     /* staff: publish a rating's comment */
    FORUM_CMD_RATING_DISMISS,     /* staff: refuse a rating's comment */
    FORUM_CMD_QUESTION_RESTORE,   /* staff: a dismissed question back (state in "state") */
    FORUM_CMD_QUESTIONS_APPROVE,  /* staff: several pending questions at once (ids) */
    FORUM_CMD_QUESTIONS_DISMISS,  /* staff: several questions at once (ids, reason) */
    FORUM_CMD__COUNT
} forum_cmd_type;

typedef struct forum_panelist_in {
    char *name;        /* required, 1..name_max_chars */
    char *affiliation; /* optional, NULL if absent */
    char *role;        /* optional, NULL if absent */
} forum_panelist_in;

/* A decoded, validated request. Every string is owned (malloc'd, NUL-terminated, valid UTF-8,
 * trimmed where the field is text) and freed by forum_command_free(). "has_*" flags say whether
 * an optional field was present; a NULL pointer with has_* true means JSON null (clear it). */
typedef struct forum_command {
    forum_cmd_type type;
    char *id;      /* client request id (1..64 bytes) or NULL */
    char *session; /* "session" field: hello's join code, or the target session of a request on a
                      studio-wide producer connection; NULL if absent/null */

    /* hello */
    forum_role role;
    char *token;
    char *name;              /* hello display name; question.submit: the author name of this
                                question (viewers); NULL if absent */
    bool overlay;            /* hello: a read-only display (the OBS overlay), not counted */
    bool has_resume_from;
    int64_t resume_from;

    /* ids (0 = absent) */
    int64_t question_id, into_id, parent_id, poll_id, program_id;
    bool has_to;             /* "to" present; to == 0 means null (whole panel) */
    int64_t to;              /* panelist id */
    bool has_segment_id;
    int64_t segment_id;      /* 0 = null */
    char *viewer_id;         /* viewer.ban / viewer.unban */
    bool dismiss_pending;    /* viewer.ban: also dismiss the viewer's pending questions */

    /* question fields */
    char *text;              /* submit/edit text, action text */
    bool has_category;
    forum_category category;
    bool anonymous;
    bool has_source;
    forum_source source;     /* staff submissions on behalf of someone */
    char *author;            /* staff submissions: the asker's name; NULL = anonymous */
    char *external_ref;      /* staff submissions: the record's id elsewhere (imports), NULL */
    char *reason;            /* dismiss reason, optional */
    char *note;              /* answered note, optional */
    bool starred;            /* question.star */

    /* lists */
    int64_t *ids; size_t n_ids;                 /* queue.set question_ids, poll.vote option_ids;
                                                   questions.approve/dismiss and
                                                   session.carry_over question_ids */
    bool has_speaker_ids;
    int64_t *speaker_ids; size_t n_speaker_ids; /* panel.set */
    bool has_banner;
    char *banner;                               /* panel.set; NULL with has_banner = clear */

    /* polls */
    char *title;             /* poll/program/session title */
    char **options; size_t n_options;
    bool multi;

    /* programs and sessions */
    char *description;       /* program */
    bool has_topic; char *topic;
    bool has_scheduled_at; int64_t scheduled_at; /* ms epoch, 0 = null */
    bool has_premoderation; bool premoderation;
    bool has_anonymous_allowed; bool anonymous_allowed;
    bool has_panelists; forum_panelist_in *panelists; size_t n_panelists;
    bool has_segments; char **segments; size_t n_segments; /* segment titles, in order */
    bool has_blocked_words; char **blocked_words; size_t n_blocked_words;
    bool has_question_rate; int question_rate_per_min; /* per-viewer submit limit, 0 = default */
    bool has_stream; int stream_kind; char *stream_url; /* "stream": null = FORUM_STREAM_NONE */

    /* action items: text in "text", question_id (has_question_id: null clears the link) */
    int64_t action_id;
    int64_t follows_action_id;    /* action.create: the earlier session's item this follows up */
    bool has_question_id;
    bool has_owner; char *owner;  /* NULL with has_owner = clear */
    bool has_due; char *due;      /* "YYYY-MM-DD"; NULL with has_due = clear */
    bool has_status; int status;  /* forum_action_status */
    bool has_reason;              /* action items: "reason" (in reason; NULL = clear) */
    bool has_note;                /* action items: staff "note" (in note; NULL = clear) */
    bool has_promised_by; int64_t promised_by; /* panelist id, 0 = clear */
    bool has_publication; int publication;     /* forum_publication */

    /* ratings: question_id or action_id; rating.approve/dismiss: rating_id (reason) */
    int64_t rating_id;
    bool has_rating_value; int rating_value; /* forum_rating_value */
    bool has_comment; char *comment;         /* NULL with has_comment = no comment */

    /* programmes: "listed" (program.create/update) */
    bool has_listed; bool listed;

    /* session.carry_over */
    char *from_session, *to_session;

    /* search: text in "query"; category in has_category/category; program_id */
    char *query;
    int64_t from_ms, to_ms;       /* session date range, ms epoch, 0 = open */
    char *state;                  /* question state or action status, NULL = any;
                                     question.restore: "published" or "pending" */
    int limit;                    /* 0 = default */
    int64_t before;               /* questions.list: questions with smaller ids, 0 = newest */

    /* backup: file name under the backups directory, NULL = a timestamped default */
    char *path;

    /* webhooks: the label in "name", the programme in program_id (has_program_id: null or 0 =
     * studio-wide) */
    int64_t webhook_id;
    bool has_program_id;
    char *url;                    /* http(s) URL, NULL = absent */
    bool has_preset; int preset;  /* forum_webhook_preset */
    bool has_triggers; uint32_t triggers; /* "events": bit i = FORUM_WEBHOOK_TRIGGER_NAMES[i] */
    bool has_enabled; bool enabled;
    bool has_secret; char *secret; /* has_secret with NULL: a new one (json), or none */
} forum_command;


void forum_command_free(forum_command *cmd);


typedef struct forum_env {
    int64_t now_ms;
    void (*random_bytes)(void *buf, size_t n); /* cryptographic randomness for codes and keys */
} forum_env;

/* Outcome of one request. On error: err, field (optional), message; no events, state untouched.
 * On success: events (possibly none: read-only requests, idempotent repeats) and ack, the
 * members to put in the ack beside "type" and "re" as JSON text (`"question":{...},...`; empty
 * = a bare ack), written with jsonw by the handler. */
typedef struct forum_result {
    forum_err err;
    const char *field;       /* static string, or NULL */
    char message[200];
    int64_t retry_after_ms;  /* with FORUM_E_RATE_LIMITED */
    forum_event *events; size_t n_events; /* owned array */
    jsonw ack;               /* owned */
} forum_result;

void forum_result_free(forum_result *r);
/* The ack's members as a JSON object (for tools and tests; caller deletes). NULL on OOM. */
cJSON *forum_result_ack_json(const forum_result *r);

typedef struct forum_state forum_state;

forum_state *forum_new(const forum_limits *limits);
void forum_free(forum_state *st);

/* Applies cmd for actor. On success the returned events are already applied to st (callers
 * must still commit them before acking or sending them). On error st is unchanged (except after an
 * allocation failure in the middle of a batch: the events already applied are returned with the
 * error and must still be committed). Hello is not
 * a forum command: the dispatcher authenticates with the lookups below. */
forum_result forum_apply(forum_state *st, const forum_actor *actor, const forum_command *cmd,
                         const forum_env *env);

/* Applies one stored event during start-up replay (events in commit order). Returns 0, or -1
 * if the event cannot be applied (unknown kind, malformed payload): the caller reports it. */
int forum_replay(forum_state *st, const forum_event *ev);

/* Coalesced counters: for every session whose vote or ballot counts changed since the last
 * call, appends a "votes.changed" {counts:{"<id>":n}} event (changed questions only) and one
 * "poll.changed" per changed poll to *out (realloc'd; *n updated). Returns the number added.
 * The caller runs this on a timer (default every 100 ms) and commits the events. */
size_t forum_flush_counts(forum_state *st, const forum_env *env, forum_event **out, size_t *n);

/* Budgets of the question lists of welcome snapshots (rendered bytes, about). */
#define FORUM_SNAPSHOT_VIEWER_BYTES (160 * 1024)
#define FORUM_SNAPSHOT_STAFF_BYTES (2 * 1024 * 1024)

/* The welcome snapshot for actor in session code as a JSON object text (malloc'd; the caller
 * frees), or NULL if the session does not exist. Viewers see public questions plus their own
 * (with "mine") and their votes and ballots; staff see every question, viewer ids, action
 * items and bans. The questions named are chosen most useful first (on air, up next; for staff
 * the pending ones, starred, newest; for a viewer its own, the most voted, the newest) until
 * their rendering reaches question_budget bytes (0 = all, in the order they came);
 * "questions_total" and "questions_complete" say whether more can be read with questions.list.
 * now_ms lets a storm of joins share one ordering of the most voted for up to a second. For a
 * studio-wide producer (code "" or NULL): {"programs":[...],"sessions":[...]}. */
char *forum_snapshot_text(forum_state *st, const forum_actor *actor, const char *code,
                          size_t question_budget, int64_t now_ms);
/* The public live state of session code for studio displays and data sources (vMix, Bitfocus
 * Companion): {"session":{code,title,topic,program,status},"status","on_air":<question>|null,
 * "up_next":[<question>...],"banner","segment":{id,title}|null,"speakers":[<panelist>...],
 * "seq"}, each question {id,text,author,category,to:<panelist>|null,votes}, a panelist
 * {id,name,affiliation,role}. Only what every viewer may see. malloc'd text, or NULL if the
 * session does not exist (or on OOM). */
char *forum_live_state_text(const forum_state *st, const char *code);
/* The whole snapshot (no budget) as a tree, for exports and tests. Caller deletes. */
cJSON *forum_snapshot(const forum_state *st, const forum_actor *actor, const char *code);

/* Lookups for the dispatcher. */
bool forum_session_exists(const forum_state *st, const char *code);
const char *forum_session_status(const forum_state *st, const char *code); /* "draft".. or NULL */
/* The settings of session code as session.changed carries them (pointing into live state:
 * valid until the state next changes), or false if there is no such session. */
bool forum_session_settings(const forum_state *st, const char *code, forum_session_rec *out);
const char *forum_moderator_key_hash(const forum_state *st, const char *code); /* hex, or NULL */
bool forum_viewer_banned(const forum_state *st, const char *code, const char *viewer_id);
int64_t forum_last_seq(const forum_state *st, const char *code); /* 0 if none */
int forum_question_rate_per_min(const forum_state *st, const char *code); /* session setting */
int64_t forum_on_air(const forum_state *st, const char *code); /* question on air, 0 = none */
/* The id of session code's panelist called name (exactly), or 0. */
int64_t forum_panelist_id(const forum_state *st, const char *code, const char *name);
int64_t forum_session_program(const forum_state *st, const char *code); /* 0 if unknown */
/* True if cmd is a viewer's question.submit whose (viewer, id) was already accepted: a resend
 * that forum_apply will answer with the original ack (so rate limits must not refuse it). */
bool forum_submit_is_repeat(const forum_state *st, const forum_actor *actor,
                            const forum_command *cmd);

/* Peak audience: if viewers (connected to session code now) exceeds the session's recorded
 * peak while the session is open or live, appends a "viewers.peak" {viewers} event (staff) to
 * *out (realloc'd; *n updated) and returns 1; else 0. The caller commits the event. */
size_t forum_note_viewers(forum_state *st, const char *code, int64_t viewers,
                          const forum_env *env, forum_event **out, size_t *n);
/* Audience over time: appends a "viewers.sampled" {viewers} event (persisted only, never sent)
 * for every session that is open or live, with the count viewers_of(arg, code) returns, to *out
 * (realloc'd; *n updated). Returns how many were appended. The caller commits them; the report
 * draws the audience curve from them, so it survives restarts and covers every cluster node. */
size_t forum_sample_viewers(forum_state *st, int64_t (*viewers_of)(void *arg, const char *code),
                            void *arg, const forum_env *env, forum_event **out, size_t *n);
/* Highest number of viewers recorded for session code (0 if none). */
int64_t forum_peak_viewers(const forum_state *st, const char *code);

/* A registered webhook as the delivery needs it (strings valid until the state next changes). */
typedef struct forum_webhook_info {
    int64_t id, program_id; /* program_id 0 = every programme */
    const char *name;       /* NULL = none */
    const char *url;
    const char *secret;     /* the signing secret, NULL = none */
    int preset;             /* forum_webhook_preset */
    uint32_t triggers;
    bool enabled;
} forum_webhook_info;
/* Whether url (http/https, in the form forum_url_parse accepts) may be contacted by a webhook:
 * its host is loopback (localhost, 127.0.0.0/8, [::1]) or on hosts (forum_host_listed).
 * Returns NULL, or a message written into msg (cap bytes) and returned. */
const char *forum_webhook_url_check(const char *url, const char *hosts, char *msg, size_t cap);
/* The registered webhooks: their number, and the i-th (0 <= i < count). */
size_t forum_webhook_count(const forum_state *st);
forum_webhook_info forum_webhook_at(const forum_state *st, size_t i);
/* Fills *out with webhook id; false if there is none. */
bool forum_webhook_find(const forum_state *st, int64_t id, forum_webhook_info *out);
/* True if cmd is a viewer's rating.set that would change nothing (a resend): rate limits must
 * not refuse it. */
bool forum_rating_is_repeat(const forum_state *st, const forum_actor *actor,
                            const forum_command *cmd);

/* ---- public pages (forum_board.c): what anyone may read without a key ------------------- */

bool forum_program_exists(const forum_state *st, int64_t program_id);

/* Which commitments a board lists (every field optional). */
typedef struct forum_board_filter {
    const char *status;  /* comma-separated statuses (open, in_progress, done, withdrawn,
                            overdue) a commitment's current status must be one of; NULL any */
    const char *owner;   /* its current owner, exactly; NULL any */
    const char *session; /* the session it was made in; NULL any */
    int64_t action_id;   /* one commitment (the chain it belongs to); 0 = all */
    const char *today;   /* "YYYY-MM-DD" in the server's time zone: a due date before it is
                            overdue (NULL: nothing is) */
} forum_board_filter;

/* The front page: {"live":[...],"upcoming":[...],"programs":[...]} of the listed programmes
 * (malloc'd JSON text; NULL on OOM). */
char *forum_public_programs(const forum_state *st);
/* A programme's page: {"program","live","upcoming","past","commitments":{counts}} (unlisted
 * ones too: the address is the link), or NULL when there is no such programme (or OOM). */
char *forum_public_program(const forum_state *st, int64_t program_id, const char *today);
/* The programme's commitment board: the published commitments with their question, history,
 * follow-ups and ratings (format: docs/archive.md). NULL when there is no such programme (or
 * OOM); *bad_field names a filter that is malformed (the text is then NULL). */
char *forum_public_commitments(const forum_state *st, int64_t program_id,
                               const forum_board_filter *filter, const char **bad_field);
/* The programme whose boards a committed event concerns (0: none): a public action.changed,
 * ratings.changed, session.changed of a session that is not a draft, program.changed. Boards
 * receive it in the public view. */
int64_t forum_event_program(const forum_state *st, const forum_event *ev);
