/* store.h — SQLite persistence: schema migrations (schema/NNN_*.sql files, embedded at build time), the
 * append-only events table (each session's transcript) plus projection tables, written in
 * group commits by one writer thread. The loop thread never waits on an fsync: it queues a
 * batch and gets its completion back through a uv_async_t, in submission order.
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
struct store_batch {
    forum_event *events;
    size_t n_events;
    store_done_fn done;
    void *ctx;              /* for the submitter */
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
} store_stats;
extern const double store_latency_bounds_ms[11];
void store_get_stats(store *s, store_stats *out);

/* Stops accepting, commits everything queued, joins the writer, closes the database. Any
 * completions still pending are delivered before it returns (runs the loop's async once). */
void store_close(store *s);
