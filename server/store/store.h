/* store.h — SQLite persistence: schema migrations (schema/NNN_*.sql files, embedded at build
 * time), the append-only events table (each session's transcript) plus projection tables and
 * the full-text search index, written in group commits by one writer thread; search on the
 * read connection; online backups on a worker thread. The loop thread never waits on an
 * fsync: it queues a batch and gets its completion back through a uv_async_t, in submission
 * order.
 *
 * Threads: store_append and everything else are called on the loop thread only; the writer
 * thread owns its own SQLite connection. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "forum.h"

typedef struct store store;

/* How long a committed question text may wait for the search index while the writer is idle
 * (STORE_SEARCH_LAG_MS), and at most while it is busy (STORE_SEARCH_MAX_LAG_MS). */
enum { STORE_SEARCH_LAG_MS = 200, STORE_SEARCH_MAX_LAG_MS = 1000 };

typedef struct store_options {
    const char *path;     /* database file; parent directory is created if missing */
    bool synchronous_full; /* PRAGMA synchronous=FULL (default) or NORMAL */
    int max_batch_events;  /* cap of events per transaction (default 10000) */
} store_options;

/* A unit of work: events to append in order (may be zero: a barrier that completes after every
 * earlier batch). The submitter owns the batch and its events; store only reads them between
 * store_append and the done callback. done runs on the loop thread with rc 0 when the events
 * are durably committed, or rc < 0 (and the batch not committed) when the transaction failed. */
typedef struct store_batch store_batch;
typedef void (*store_done_fn)(store_batch *batch, int rc);

/* ---- the webhook outbox (schema/004): deliveries owed, written with the batch ---------------- */

/* A delivery to owe: inserted as pending, due at once, in the batch's transaction. */
typedef struct store_outbox_row {
    int64_t webhook_id;
    const char *event;   /* the trigger's name */
    const char *session; /* the event it reports ("" for none) */
    int64_t seq;
    const char *body;    /* the generic JSON document */
    int64_t at;          /* ms epoch */
} store_outbox_row;

typedef enum store_outbox_state {
    STORE_OUTBOX_PENDING = 0,
    STORE_OUTBOX_DELIVERED,
    STORE_OUTBOX_FAILED,    /* given up after retrying */
    STORE_OUTBOX_CANCELLED, /* its webhook was removed or paused */
} store_outbox_state;

/* The outcome of an attempt (or a cancellation), recorded in the batch's transaction. */
typedef struct store_outbox_update {
    int64_t id;
    store_outbox_state state;
    int attempts;
    int64_t next_at;        /* pending: the next attempt, ms epoch */
    int last_status;        /* HTTP status, 0 = none came back */
    const char *last_error; /* NULL after a success */
    int64_t at;
} store_outbox_update;
struct store_batch {
    forum_event *events;
    size_t n_events;
    store_done_fn done;
    void *ctx;              /* for the submitter */
    /* Set by the submitter of a request that reads the search index (search, backup): the
     * batch completes only once the index covers every event committed before it. Other
     * batches complete without waiting for the index, which follows the commits shortly
     * (see store_search). Synchronous submissions always wait for it. */
    bool search_barrier;
    /* Webhook outbox work in the same transaction (any may be empty): rows to insert (with
     * events: the deliveries they owe), attempt outcomes to record, a webhook whose failed
     * deliveries go back to pending, due at outbox_requeue_at (0 = none), and finished rows
     * older than outbox_prune_before (ms epoch, 0 = none) to delete. */
    const store_outbox_row *outbox;
    size_t n_outbox;
    const store_outbox_update *outbox_updates;
    size_t n_outbox_updates;
    int64_t outbox_requeue_webhook, outbox_requeue_at;
    int64_t outbox_cancel_webhook; /* its pending deliveries are cancelled (it was removed) */
    int64_t outbox_prune_before;
    store_batch *next_;     /* store's own link; do not touch */
    int rc_;
    unsigned epoch_;        /* store's own: the failure epoch it was submitted in */
};

/* Opens (creating if needed) the database, applies pending migrations in one transaction and
 * starts the writer thread with completions delivered on loop. Returns 0, or -1 with a clear
 * message in err (unreadable file, newer schema version than this binary knows, ...). */
int store_open(store **out, const store_options *opt, uv_loop_t *loop, char *err, size_t errlen);

/* Calls each(arg, ev) for every stored event in commit order (for start-up replay). Returns 0,
 * or the first non-zero value each returned, or -1 on a database error. */
int store_load(store *s, int (*each)(void *arg, const forum_event *ev), void *arg);

/* Calls each(arg, ev) for the events of session with seq > after_seq, in order, at most max of
 * them. Returns the number delivered or -1. Reads through a separate read connection. */
int store_events_after(store *s, const char *session, int64_t after_seq, size_t max,
                       int (*each)(void *arg, const forum_event *ev), void *arg);

/* Counts the events of session with seq > after_seq and the bytes of their payloads (an upper
 * bound of what a replay would send). Returns 0 or -1. Read connection. */
int store_backlog_size(store *s, const char *session, int64_t after_seq, int64_t *count,
                       int64_t *bytes);

/* Queues batch for the next group commit. Never blocks on I/O. */
void store_append(store *s, store_batch *batch);

/* After a failed commit (a done callback got rc < 0), the store refuses every batch with
 * events that was submitted before the failure was handled: they were computed from live
 * state that includes the failed events. The owner reloads its state from the database, then
 * calls this; batches submitted afterwards are attempted again. Barriers still complete. */
void store_clear_failure(store *s);

/* Commits events synchronously (start-up only: demo data, before clients connect). */
int store_append_sync(store *s, const forum_event *events, size_t n);

/* Small key/value table for server settings (e.g. "producer_key_hash"). get returns 0 if found. */
int store_meta_get(store *s, const char *key, char *buf, size_t buflen);
int store_meta_set(store *s, const char *key, const char *value);

/* Schema version recorded in the database. */
int store_schema_version(store *s);

typedef struct store_stats {
    uint64_t events_committed;
    uint64_t transactions;
    uint64_t failed_transactions;
    uint64_t queued_batches;      /* waiting or in flight now */
    /* commit latency histogram (submit to completion), cumulative buckets in ms: */
    uint64_t latency_le[12];      /* <= 1,2,5,10,25,50,100,250,500,1000,2500,+Inf */
    double latency_sum_ms;
    uint64_t search_index_transactions; /* background transactions that indexed texts */
} store_stats;
extern const double store_latency_bounds_ms[11];
void store_get_stats(store *s, store_stats *out);

/* Stops accepting, commits everything queued, joins the writer, closes the database. Any
 * completions still pending are delivered before it returns (runs the loop's async once). */
void store_close(store *s);

/* ---- webhook outbox: reads (read connection, loop thread) ---------------------------------- */

/* A pending delivery as the outbox holds it; strings malloc'd (store_outbox_item_free). */
typedef struct store_outbox_item {
    int64_t id, webhook_id, seq, created_at, next_at;
    int attempts;
    char *event, *session, *body;
} store_outbox_item;
void store_outbox_item_free(store_outbox_item *item);

/* The oldest pending delivery of webhook_id (deliveries of one webhook go out in order): 1 and
 * *out filled, 0 if it has none, -1 on a database error. */
int store_outbox_head(store *s, int64_t webhook_id, store_outbox_item *out);

/* What the console shows of one webhook's deliveries. */
typedef struct store_outbox_status {
    int64_t pending, failed, delivered; /* rows in each state (finished ones: the last week) */
    int64_t last_delivered_at;          /* ms epoch, 0 = never */
    int64_t last_attempt_at;            /* of the latest row that was attempted, 0 = none */
    int last_status;                    /* ... its last HTTP status (0 = none) */
    int last_attempts;
    char last_error[256];               /* ... its last error ("" = none) */
} store_outbox_status;
/* Fills *out for webhook_id. Returns 0, or -1 on a database error. */
int store_outbox_status_of(store *s, int64_t webhook_id, store_outbox_status *out);
/* Pending deliveries in all (for /metrics), or -1. */
int64_t store_outbox_pending(store *s);

/* ---- archive: search and backup ------------------------------------------------------------ */

/* A full-text search over every session's question texts, answer notes and action item texts.
 * text: whitespace-separated terms, all of which must occur (case-insensitive substrings;
 * terms of 3+ characters use the trigram index, shorter ones a scan). Filters: 0/NULL = any. */
typedef struct store_search_query {
    const char *text;
    int64_t program_id;
    int64_t from_ms, to_ms;  /* the session's date (started_at, else scheduled_at), inclusive */
    const char *category;    /* question | need | suggestion (of the question concerned) */
    const char *state;       /* a question state, or an action status for action hits */
    int limit;               /* 1..200, 0 = 50 */
} store_search_query;

/* Runs q on the read connection (committed data only). The index is brought up to date by the
 * writer after the commits, in the background: it lags the last commits by up to about
 * STORE_SEARCH_LAG_MS (more while the disk is failing), except for what was committed before a
 * batch with search_barrier set completed. Returns a JSON array of hits, best
 * first: bm25 relevance when a term has 3+ characters, then votes, then the newest; each hit
 * {"kind":"question"|"answer"|"action","question_id","action_id"?,"session","session_title",
 * "program_id","program","session_date","text","question_text","state","category","votes",
 * "author","created_at","owner"?,"due"?}. NULL with a message in err on failure. Loop thread. */
cJSON *store_search(store *s, const store_search_query *q, char *err, size_t errlen);

typedef struct store_backup_info {
    char path[1024];   /* the copy's absolute path */
    int pages;         /* pages copied */
    int64_t bytes;     /* size of the copy */
    int64_t events;    /* events in the copy */
    int64_t elapsed_ms;
} store_backup_info;

/* Copies the database at src_path into dest_path with SQLite's online backup API, in one step
 * (one read snapshot: consistent, and the WAL lets writers go on meanwhile), checks the copy
 * (PRAGMA quick_check), syncs it and moves it into place atomically. An existing dest_path is
 * replaced only when overwrite is set. Returns 0 and fills info, or -1 with a message in err.
 * Blocking: call it off the loop thread (or from the command line). */
int store_backup_file(const char *src_path, const char *dest_path, bool overwrite,
                      store_backup_info *info, char *err, size_t errlen);

/* Starts an online backup of s on a libuv worker thread into <db dir>/backups/<name> (name
 * NULL: "forum-YYYYMMDD-HHMMSS.db", UTC). An existing file is never replaced. done runs on the
 * loop thread with rc 0 and info, or rc -1 and a message. Returns 0, or -1 (done not called)
 * with a message in err when the backup cannot start (one is already running, name exists). */
typedef void (*store_backup_done_fn)(void *arg, int rc, const store_backup_info *info,
                                     const char *err);
int store_backup_start(store *s, const char *name, store_backup_done_fn done, void *arg,
                       char *err, size_t errlen);
