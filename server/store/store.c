/* store.c — SQLite persistence (contract in store.h). Owns: the two database connections (the
 * writer's, used only by the writer thread once it runs, and the read connection used on the
 * loop thread), the migration runner for the embedded schema/NNN_*.sql files, the
 * group-commit queue and the writer thread draining it, the upkeep of the projection tables
 * (in the same transaction as the events they derive from), the uv_async_t that hands
 * completions back to the loop in submission order, and the commit counters and latency
 * histogram.
 *
 * Locking: one mutex guards the pending queue, the done list, the closing flag and the stats.
 * The writer never holds it across SQLite calls; the loop thread never waits on an fsync except
 * in store_append_sync / store_meta_set (start-up and rare settings only). */
#include "store.h"

#include "jsonw.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "schema_embed.h"
#include "log.h"

const double store_latency_bounds_ms[11] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500};

enum {
    STORE_DEFAULT_MAX_BATCH_EVENTS = 10000,
    STORE_BUSY_TIMEOUT_MS = 5000,
    /* WAL size (8,000 pages, 32 MiB) that triggers a checkpoint. A page a storm rewrites in
     * every commit (the newest leaf of events, the votes index) is copied into the database
     * once per checkpoint: SQLite's default of 1,000 copied it eight times as often. */
    STORE_CHECKPOINT_PAGES = 8000,
    STORE_SEARCH_MAX_ROWS = 10000, /* texts waiting for the index: index them even when busy */
};

/* A synchronous submission (store_append_sync, store_meta_set) rides the same queue as the
 * asynchronous batches, so it is ordered with them; the writer recognises it by its done
 * function and wakes the waiting loop thread instead of queueing a completion. */
typedef struct store_sync_wait {
    bool finished;
    int rc;
    const char *meta_key;   /* non-NULL: also upsert this meta row in the transaction */
    const char *meta_value;
} store_sync_wait;

struct store {
    uv_loop_t *loop;
    uv_async_t async;
    sqlite3 *wdb; /* writer connection: loop thread in store_open, writer thread after */
    sqlite3 *rdb; /* read connection: loop thread only */
    char *path;
    size_t max_batch_events;
    int schema_version;

    /* writer statements, prepared once on wdb */
    sqlite3_stmt *ins_event, *up_question, *up_session, *up_program, *up_poll;
    sqlite3_stmt *ins_vote, *del_vote, *set_votes, *set_meta, *up_action;
    sqlite3_stmt *search_unindex, *search_index_text, *search_index_note, *search_done;
    sqlite3_stmt *outbox_insert, *outbox_update, *outbox_requeue, *outbox_prune, *outbox_cancel;
    sqlite3_stmt *up_rating;
    bool sync_full;
    /* writer thread: the search index (flush_search_pending) */
    bool search_pending;        /* questions were written in the open transaction */
    uint64_t search_owed_since; /* uv_hrtime() of the oldest commit not yet indexed, 0 = none */
    uint64_t search_owed_rows;  /* question writes committed since (upper bound of the rows) */
    uint64_t search_retry_at;   /* after failures: uv_hrtime() before which not to retry, or 0 */
    unsigned search_failures;   /* failed index transactions in a row */
    jsonw json[2]; /* writer thread's reusable serialization buffers */
    int wal_pages;    /* writer thread: WAL size after the last commit */
    bool truncate_wal; /* writer thread: an erasure committed; empty the WAL of old pages */
    int backups_running;  /* loop thread: online backups in flight */
    bool free_when_idle;  /* loop thread: closed while a backup ran; freed when it ends */

    pthread_t writer;
    /* Checkpoints run on a thread and a connection of their own, so that copying the WAL into
     * the database (and its fsync) never holds up a commit; the writer only asks for them. */
    pthread_t checkpointer;
    bool checkpointer_started;
    sqlite3 *cdb;
    pthread_cond_t ckpt_cv;
    bool ckpt_wanted; /* guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* writer waits for work */
    pthread_cond_t sync_cv;  /* store_append_sync waits for its batch */
    /* guarded by mu: */
    store_batch *queue_head, *queue_tail; /* submitted, not yet taken by the writer */
    store_batch *done_head, *done_tail;   /* finished, completion not yet delivered */
    uint64_t done_count;
    bool closing;
    unsigned epoch;          /* current submission epoch (bumped by store_clear_failure) */
    bool poisoned;           /* a commit failed: batches of epoch <= poisoned_epoch fail */
    unsigned poisoned_epoch;
    store_stats stats;
};

/* ---- small helpers ---------------------------------------------------------------------- */

/* Submission time lives in the batch's rc_ until it completes: microseconds, truncated to 32
 * bits, so differences are right for any latency under 71 minutes. No allocation per batch. */
static uint32_t store_now_us(void)
{
    return (uint32_t)(uv_hrtime() / 1000);
}

static void store_sync_done(store_batch *batch, int rc)
{
    /* marker only: never called */
    (void)batch;
    (void)rc;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    size_t n = src ? strlen((const char *)src) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Creates every missing directory above the file at path ("a/b/c.db" -> a, a/b). */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
    char *dir = strdup(path);
    if (!dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create directory %s for database %s: %s", dir,
                         path, strerror(errno));
                free(dir);
                return -1;
            }
            if (end)
                break;
            *p = '/';
        }
    }
    free(dir);
    return 0;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int read_user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* The database, its -wal and -shm files and every backup hold viewers' text and hashed keys:
 * they are readable and writable by forumd's user only. Creates path as an empty file with mode
 * 0600 if nothing is there (an empty file is a new SQLite database; SQLite creates -wal, -shm and
 * journals with the mode of the database file). Returns 1 when it created the file, 0 when
 * something was there already (or when creating failed: SQLite then reports why). */
static int create_private_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* An existing database (and a -wal or -shm left by a crash) loses every permission for others,
 * keeping the owner's and the group's (an operator's choice of group, e.g. for a backup agent,
 * stays). A file forumd cannot chmod (not its owner) is left as it is. */
static void tighten_database_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char name[PATH_MAX + 8];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        struct stat st;
        int n = snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        if (n < 0 || (size_t)n >= sizeof name)
            return;
        if (lstat(name, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0007))
            (void)chmod(name, st.st_mode & 07770);
    }
}

/* Opens one connection with the common settings. On failure writes the message and returns -1
 * (*out is closed and NULL). */
static int open_connection(sqlite3 **out, const char *path, bool sync_full, char *err,
                           size_t errlen)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    sqlite3_stmt *st = NULL;
    /* the first statement that reads the file: a corrupt or foreign file fails here */
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    int rc = sqlite3_step(st);
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    bool wal = mode && sqlite3_stricmp(mode, "wal") == 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        goto fail;
    if (!wal) {
        snprintf(err, errlen, "cannot open database %s: WAL journal mode unavailable", path);
        sqlite3_close(db);
        *out = NULL;
        return -1;
    }
    if (exec_sql(db, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ||
        exec_sql(db, "PRAGMA foreign_keys=ON") || exec_sql(db, "PRAGMA cache_size=-16384"))
        goto fail;
    *out = db;
    return 0;
fail:
    snprintf(err, errlen, "cannot open database %s: %s", path,
             db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    *out = NULL;
    return -1;
}

/* Applies every embedded migration newer than the recorded version, all in one transaction. */
static int migrate(store *s, char *err, size_t errlen)
{
    sqlite3 *db = s->wdb;
    int latest = 0, current = 0;
    for (int i = 0; i < store_migration_count; i++)
        if (store_migrations[i].version > latest)
            latest = store_migrations[i].version;
    const char *failed_step = "reading the schema version";
    if (read_user_version(db, &current))
        goto fail;
    if (current < latest) {
        failed_step = "starting the migration transaction";
        if (exec_sql(db, "BEGIN IMMEDIATE"))
            goto fail;
        failed_step = "reading the schema version";
        if (read_user_version(db, &current)) /* another process may have migrated meanwhile */
            goto fail;
        failed_step = "creating the migrations table";
        if (current < latest &&
            exec_sql(db, "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY,"
                         " name TEXT NOT NULL, applied_at INTEGER NOT NULL)"))
            goto fail;
        for (int i = 0; i < store_migration_count && current < latest; i++) {
            const store_migration *m = &store_migrations[i];
            if (m->version <= current)
                continue;
            char sql[256];
            failed_step = m->name;
            if (exec_sql(db, m->sql))
                goto fail;
            snprintf(sql, sizeof sql,
                     "INSERT INTO migrations (version, name, applied_at) VALUES "
                     "(%d, '%s', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                     m->version, m->name);
            if (exec_sql(db, sql))
                goto fail;
        }
        if (current < latest) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version=%d", latest);
            failed_step = "recording the schema version";
            if (exec_sql(db, sql))
                goto fail;
            current = latest;
        }
        failed_step = "committing the migrations";
        if (exec_sql(db, "COMMIT"))
            goto fail;
    }
    if (current > latest) {
        snprintf(err, errlen,
                 "%s: database schema version %d is newer than this forumd knows (%d); "
                 "upgrade forumd",
                 s->path, current, latest);
        return -1;
    }
    s->schema_version = current;
    return 0;
fail:
    snprintf(err, errlen, "database %s: migration failed (%s): %s", s->path, failed_step,
             sqlite3_errmsg(db));
    if (!sqlite3_get_autocommit(db))
        exec_sql(db, "ROLLBACK");
    return -1;
}

static const char *const writer_sql[] = {
    "INSERT INTO events (session, seq, at, offset_ms, actor, kind, payload, audience, subject,"
    " request_id, secret) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "INSERT INTO questions (id, session, state, category, text, author, to_panelist, parent_id,"
    " votes, created_at, phase, answer_note, starred, source, viewer_id, json, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, 0), ?10, ?11, ?12, coalesce(?13, 0),"
    " ?14, ?15, ?16, ?17)"
    " ON CONFLICT (id) DO UPDATE SET session = excluded.session, state = excluded.state,"
    " category = excluded.category, text = excluded.text, author = excluded.author,"
    " to_panelist = excluded.to_panelist, parent_id = excluded.parent_id,"
    " votes = excluded.votes, created_at = excluded.created_at, phase = excluded.phase,"
    " answer_note = excluded.answer_note, starred = excluded.starred,"
    " source = excluded.source, viewer_id = excluded.viewer_id, json = excluded.json,"
    " updated_at = excluded.updated_at",
    "INSERT INTO sessions (code, program_id, title, topic, status, scheduled_at, started_at,"
    " ended_at, json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (code) DO UPDATE SET program_id = excluded.program_id,"
    " title = excluded.title, topic = excluded.topic, status = excluded.status,"
    " scheduled_at = excluded.scheduled_at, started_at = excluded.started_at,"
    " ended_at = excluded.ended_at, json = excluded.json, updated_at = excluded.updated_at",
    "INSERT INTO programs (id, title, description, json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
    " description = excluded.description, json = excluded.json,"
    " updated_at = excluded.updated_at",
    "INSERT INTO polls (id, session, state, json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT (id) DO UPDATE SET session = excluded.session, state = excluded.state,"
    " json = excluded.json, updated_at = excluded.updated_at",
    "INSERT OR IGNORE INTO votes (session, question_id, viewer_id, at) VALUES (?1, ?2, ?3, ?4)",
    "DELETE FROM votes WHERE question_id = ?1 AND viewer_id = ?2",
    "UPDATE questions SET votes = ?2, json = json_set(json, '$.votes', ?2), updated_at = ?3"
    " WHERE id = ?1",
    "INSERT INTO meta (key, value) VALUES (?1, ?2)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    "INSERT INTO actions (id, session, question_id, text, owner, due, status, created_at, json,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (id) DO UPDATE SET session = excluded.session,"
    " question_id = excluded.question_id, text = excluded.text, owner = excluded.owner,"
    " due = excluded.due, status = excluded.status, created_at = excluded.created_at,"
    " json = excluded.json, updated_at = excluded.updated_at",
    /* flush_search_pending: the questions noted in search_pending (schema/003) are re-indexed
     * with one statement per step, whatever their number */
    "DELETE FROM search_index WHERE rowid IN"
    " (SELECT question_id * 4 FROM search_pending WHERE fresh = 0"
    "  UNION ALL SELECT question_id * 4 + 1 FROM search_pending WHERE fresh = 0)",
    "INSERT INTO search_index (rowid, body) SELECT q.id * 4, q.text"
    " FROM search_pending p JOIN questions q ON q.id = p.question_id"
    " WHERE q.text IS NOT NULL AND q.text <> ''",
    "INSERT INTO search_index (rowid, body) SELECT q.id * 4 + 1, q.answer_note"
    " FROM search_pending p JOIN questions q ON q.id = p.question_id"
    " WHERE q.answer_note IS NOT NULL AND q.answer_note <> ''",
    "DELETE FROM search_pending",
    /* the webhook outbox (schema/004) */
    "INSERT INTO webhook_outbox (webhook_id, event, session, seq, body, created_at, next_at,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)",
    "UPDATE webhook_outbox SET state = ?2, attempts = ?3, next_at = ?4, last_status = ?5,"
    " last_error = ?6, updated_at = ?7 WHERE id = ?1 AND state = 'pending'",
    "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_at = ?2, updated_at = ?2"
    " WHERE webhook_id = ?1 AND state = 'failed'",
    "DELETE FROM webhook_outbox WHERE state <> 'pending' AND updated_at < ?1",
    "UPDATE webhook_outbox SET state = 'cancelled', updated_at = ?2"
    " WHERE webhook_id = ?1 AND state = 'pending'",
    "INSERT INTO ratings (id, session, question_id, action_id, viewer_id, value, comment,"
    " comment_state, created_at, json, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT (id) DO UPDATE SET session = excluded.session,"
    " viewer_id = excluded.viewer_id, value = excluded.value, comment = excluded.comment,"
    " comment_state = excluded.comment_state, json = excluded.json,"
    " updated_at = excluded.updated_at",
};

static sqlite3_stmt **writer_stmt(store *s, size_t i)
{
    sqlite3_stmt **all[] = {&s->ins_event,     &s->up_question,   &s->up_session,
                            &s->up_program,    &s->up_poll,       &s->ins_vote,
                            &s->del_vote,      &s->set_votes,     &s->set_meta,
                            &s->up_action,     &s->search_unindex, &s->search_index_text,
                            &s->search_index_note, &s->search_done,
                            &s->outbox_insert, &s->outbox_update,
                            &s->outbox_requeue, &s->outbox_prune,
                            &s->outbox_cancel, &s->up_rating};
    return all[i];
}

enum { WRITER_STMT_COUNT = sizeof writer_sql / sizeof writer_sql[0] };

/* ---- writing ---------------------------------------------------------------------------- */

static int bind_text_or_null(sqlite3_stmt *st, int idx, const char *text)
{
    if (!text || !*text)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
}

/* NULL for a NULL string (empty strings stay empty). */
static int bind_str(sqlite3_stmt *st, int idx, const char *text)
{
    if (!text)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
}

/* NULL for 0 (ids and times use 0 for none). */
static int bind_id(sqlite3_stmt *st, int idx, int64_t v)
{
    return v ? sqlite3_bind_int64(st, idx, v) : sqlite3_bind_null(st, idx);
}

/* Binds the text written into buf (borrowed: valid until buf is written into again, which
 * happens only after this statement has been stepped). */
static int bind_written(sqlite3_stmt *st, int idx, jsonw *buf)
{
    if (buf->failed || !buf->p)
        return SQLITE_NOMEM;
    return sqlite3_bind_text(st, idx, buf->p, (int)buf->len, SQLITE_STATIC);
}

static void buf_reset(jsonw *buf)
{
    buf->len = 0;
    buf->failed = false;
}

/* Steps a fully bound write statement and resets it. Returns 0 or -1. */
static int step_done(sqlite3_stmt *st, int bind_rc)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

#define BIND(expr)                     \
    do {                               \
        if (rc == SQLITE_OK)           \
            rc = (expr);               \
    } while (0)

static int upsert_question(store *s, const forum_event *ev, const forum_question_rec *q)
{
    sqlite3_stmt *st = s->up_question;
    int rc = SQLITE_OK;
    buf_reset(&s->json[1]);
    forum_write_question(&s->json[1], q, FORUM_VIEW_STAFF, false);
    BIND(sqlite3_bind_int64(st, 1, q->id));
    BIND(sqlite3_bind_text(st, 2, ev->session, -1, SQLITE_STATIC));
    BIND(sqlite3_bind_text(st, 3, FORUM_QSTATE_NAMES[q->state % Q__COUNT], -1, SQLITE_STATIC));
    BIND(sqlite3_bind_text(st, 4, FORUM_CATEGORY_NAMES[q->category % FORUM_CAT__COUNT], -1,
                           SQLITE_STATIC));
    BIND(bind_str(st, 5, q->text));
    BIND(bind_str(st, 6, q->author));
    BIND(bind_id(st, 7, q->to));
    BIND(bind_id(st, 8, q->parent_id));
    BIND(sqlite3_bind_int64(st, 9, q->votes));
    BIND(sqlite3_bind_int64(st, 10, q->created_at));
    BIND(sqlite3_bind_text(st, 11, q->live_phase ? "live" : "pre", -1, SQLITE_STATIC));
    BIND(bind_str(st, 12, q->answer_note));
    BIND(sqlite3_bind_int(st, 13, q->starred));
    BIND(sqlite3_bind_text(st, 14, FORUM_SOURCE_NAMES[q->source % FORUM_SRC__COUNT], -1,
                           SQLITE_STATIC));
    BIND(bind_text_or_null(st, 15, q->viewer_id));
    BIND(bind_written(st, 16, &s->json[1]));
    BIND(sqlite3_bind_int64(st, 17, ev->at));
    s->search_pending = true;
    return step_done(st, rc);
}

static int upsert_session(store *s, const forum_event *ev, const forum_session_rec *r)
{
    sqlite3_stmt *st = s->up_session;
    int rc = SQLITE_OK;
    buf_reset(&s->json[1]);
    forum_write_session(&s->json[1], r, FORUM_VIEW_STAFF);
    BIND(sqlite3_bind_text(st, 1, r->code ? r->code : ev->session, -1, SQLITE_STATIC));
    BIND(bind_id(st, 2, r->program_id));
    BIND(bind_str(st, 3, r->title));
    BIND(bind_str(st, 4, r->topic));
    BIND(sqlite3_bind_text(st, 5, FORUM_STATUS_NAMES[r->status % S__COUNT], -1, SQLITE_STATIC));
    BIND(bind_id(st, 6, r->scheduled_at));
    BIND(bind_id(st, 7, r->started_at));
    BIND(bind_id(st, 8, r->ended_at));
    BIND(bind_written(st, 9, &s->json[1]));
    BIND(sqlite3_bind_int64(st, 10, ev->at));
    return step_done(st, rc);
}

static int upsert_program(store *s, const forum_event *ev, const forum_program_rec *r)
{
    sqlite3_stmt *st = s->up_program;
    int rc = SQLITE_OK;
    buf_reset(&s->json[1]);
    forum_write_program(&s->json[1], r);
    BIND(sqlite3_bind_int64(st, 1, r->id));
    BIND(bind_str(st, 2, r->title));
    BIND(bind_str(st, 3, r->description));
    BIND(bind_written(st, 4, &s->json[1]));
    BIND(sqlite3_bind_int64(st, 5, ev->at));
    return step_done(st, rc);
}

static int upsert_poll(store *s, const forum_event *ev, const forum_poll_rec *r)
{
    sqlite3_stmt *st = s->up_poll;
    int rc = SQLITE_OK;
    buf_reset(&s->json[1]);
    forum_write_poll(&s->json[1], r, NULL);
    BIND(sqlite3_bind_int64(st, 1, r->id));
    BIND(sqlite3_bind_text(st, 2, ev->session, -1, SQLITE_STATIC));
    BIND(sqlite3_bind_text(st, 3, FORUM_POLL_STATE_NAMES[r->state % P__COUNT], -1,
                           SQLITE_STATIC));
    BIND(bind_written(st, 4, &s->json[1]));
    BIND(sqlite3_bind_int64(st, 5, ev->at));
    return step_done(st, rc);
}

static int project_vote(store *s, const forum_event *ev, bool added)
{
    if (!ev->subject[0])
        return 0;
    int rc = SQLITE_OK;
    if (added) {
        sqlite3_stmt *st = s->ins_vote;
        BIND(sqlite3_bind_text(st, 1, ev->session, -1, SQLITE_STATIC));
        BIND(sqlite3_bind_int64(st, 2, ev->p.question_id));
        BIND(sqlite3_bind_text(st, 3, ev->subject, -1, SQLITE_STATIC));
        BIND(sqlite3_bind_int64(st, 4, ev->at));
        return step_done(st, rc);
    }
    sqlite3_stmt *st = s->del_vote;
    BIND(sqlite3_bind_int64(st, 1, ev->p.question_id));
    BIND(sqlite3_bind_text(st, 2, ev->subject, -1, SQLITE_STATIC));
    return step_done(st, rc);
}

static int project_vote_counts(store *s, const forum_event *ev)
{
    for (size_t i = 0; i < ev->p.counts.n; i++) {
        int rc = SQLITE_OK;
        BIND(sqlite3_bind_int64(s->set_votes, 1, ev->p.counts.items[i].id));
        BIND(sqlite3_bind_int64(s->set_votes, 2, ev->p.counts.items[i].count));
        BIND(sqlite3_bind_int64(s->set_votes, 3, ev->at));
        if (step_done(s->set_votes, rc))
            return -1;
    }
    return 0;
}

static int upsert_action(store *s, const forum_event *ev, const forum_action_rec *r)
{
    sqlite3_stmt *st = s->up_action;
    int rc = SQLITE_OK;
    buf_reset(&s->json[1]);
    forum_write_action(&s->json[1], r);
    BIND(sqlite3_bind_int64(st, 1, r->id));
    BIND(sqlite3_bind_text(st, 2, r->session ? r->session : ev->session, -1, SQLITE_STATIC));
    BIND(bind_id(st, 3, r->question_id));
    BIND(bind_str(st, 4, r->text));
    BIND(bind_str(st, 5, r->owner));
    BIND(bind_str(st, 6, r->due));
    BIND(sqlite3_bind_text(st, 7, FORUM_ACTION_STATUS_NAMES[r->status % FORUM_ACTION__COUNT], -1,
                           SQLITE_STATIC));
    BIND(sqlite3_bind_int64(st, 8, r->created_at));
    BIND(bind_written(st, 9, &s->json[1]));
    BIND(sqlite3_bind_int64(st, 10, ev->at));
    return step_done(st, rc);
}

static int upsert_rating(store *s, const forum_event *ev, const forum_rating_rec *r)
{
    sqlite3_stmt *st = s->up_rating;
    int rc = SQLITE_OK;
    buf_reset(&s->json[1]);
    forum_write_rating(&s->json[1], r, FORUM_VIEW_STAFF);
    BIND(sqlite3_bind_int64(st, 1, r->id));
    BIND(sqlite3_bind_text(st, 2, ev->session, -1, SQLITE_STATIC));
    BIND(bind_id(st, 3, r->question_id));
    BIND(bind_id(st, 4, r->action_id));
    BIND(bind_text_or_null(st, 5, r->viewer_id && r->viewer_id[0] ? r->viewer_id : ev->subject));
    BIND(sqlite3_bind_text(st, 6, FORUM_RATING_NAMES[r->value % FORUM_RATING__COUNT], -1,
                           SQLITE_STATIC));
    BIND(bind_str(st, 7, r->comment));
    BIND(r->comment_state != FORUM_COMMENT_NONE
             ? sqlite3_bind_text(st, 8,
                                 FORUM_COMMENT_STATE_NAMES[r->comment_state % FORUM_COMMENT__COUNT],
                                 -1, SQLITE_STATIC)
             : sqlite3_bind_null(st, 8));
    BIND(sqlite3_bind_int64(st, 9, r->created_at));
    BIND(bind_written(st, 10, &s->json[1]));
    BIND(sqlite3_bind_int64(st, 11, ev->at));
    return step_done(st, rc);
}

/* In a JSON tree: objects whose "viewer_id" is from lose their "author" (set to null), then
 * every string equal to from becomes to. Returns the number of changes, or -1 on OOM. */
static int anonymise_json(cJSON *node, const char *from, const char *to)
{
    int changes = 0;
    for (cJSON *it = node; it; it = it->next) {
        if (cJSON_IsObject(it)) {
            const cJSON *vid = cJSON_GetObjectItemCaseSensitive(it, "viewer_id");
            cJSON *author = cJSON_GetObjectItemCaseSensitive(it, "author");
            if (cJSON_IsString(vid) && strcmp(vid->valuestring, from) == 0 && author &&
                !cJSON_IsNull(author)) {
                cJSON *null = cJSON_CreateNull();
                if (!null || !cJSON_ReplaceItemViaPointer(it, author, null)) {
                    cJSON_Delete(null);
                    return -1;
                }
                changes++;
            }
        }
        if (cJSON_IsString(it) && it->valuestring && strcmp(it->valuestring, from) == 0) {
            char *copy = strdup(to);
            if (!copy)
                return -1;
            cJSON_free(it->valuestring);
            it->valuestring = copy;
            changes++;
        }
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            int n = anonymise_json(it->child, from, to);
            if (n < 0)
                return -1;
            changes += n;
        }
    }
    return changes;
}

/* Rewrites a JSON column text with anonymise_json; *out is NULL when nothing changed. */
static int anonymise_text(const unsigned char *text, const char *from, const char *to,
                          char **out)
{
    *out = NULL;
    if (!text)
        return 0;
    cJSON *tree = cJSON_Parse((const char *)text);
    if (!tree)
        return 0; /* not ours to judge: left as it is */
    int n = anonymise_json(tree, from, to);
    if (n > 0 && !(*out = cJSON_PrintUnformatted(tree)))
        n = -1;
    cJSON_Delete(tree);
    return n < 0 ? -1 : 0;
}

/* Overwrites every page on the freelist with zeros: pages freed earlier (an updated row's old
 * overflow pages, merged search segments) keep their old bytes under secure_delete=FAST. A
 * zero blob in the meta table takes the free pages (SQLite allocates from the freelist first)
 * and deleting it frees them again, zeroed. Inside the caller's transaction. */
static int scrub_free_pages(store *s)
{
    enum { CHUNK_PAGES = 8192 };
    int rc = 0;
    for (int i = 0; rc == 0 && i < 100000; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO meta (key, value) SELECT 'erase-scrub-%d',"
                 " zeroblob(min(f.freelist_count, %d) * p.page_size)"
                 " FROM pragma_freelist_count AS f, pragma_page_size AS p"
                 " WHERE f.freelist_count > 0",
                 i, CHUNK_PAGES);
        if (exec_sql(s->wdb, sql))
            return -1;
        if (sqlite3_changes(s->wdb) == 0)
            break;
    }
    return exec_sql(s->wdb, "DELETE FROM meta WHERE key LIKE 'erase-scrub-%'");
}

/* viewer.erased: replaces every stored trace of the erased viewer id in the session's events
 * (subject, actor, payload and secret JSON, author names of their questions) and in the votes
 * projection with the placeholder, and drops the client-chosen request ids of their events
 * (opaque text that may say anything); the anonymised question rows come with the event's
 * payload. Runs in the event's transaction with secure_delete on, then zeroes every free page of
 * the file (scrub_free_pages), so no old copy of the name survives. */
static int erase_viewer_traces(store *s, const forum_event *ev)
{
    const char *from = ev->erased_viewer_id, *to = ev->p.erased.placeholder;
    if (!from[0] || !to || !to[0])
        return 0;
    char actor_from[FORUM_ACTOR_MAX], actor_to[FORUM_ACTOR_MAX];
    snprintf(actor_from, sizeof actor_from, "viewer:%s", from);
    snprintf(actor_to, sizeof actor_to, "viewer:%s", to);
    sqlite3_stmt *sel = NULL, *upd = NULL, *votes = NULL, *ratings = NULL;
    int ret = -1, rc;
    if (exec_sql(s->wdb, "PRAGMA secure_delete=ON"))
        goto done;
    if (sqlite3_prepare_v2(s->wdb,
                           "SELECT rowid, payload, secret, subject, actor FROM events"
                           " WHERE session = ?1 AND (subject = ?2 OR actor = ?3"
                           " OR instr(payload, ?2) > 0 OR instr(coalesce(secret, ''), ?2) > 0)",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->wdb,
                           "UPDATE events SET payload = coalesce(?2, payload),"
                           " secret = coalesce(?3, secret),"
                           " request_id = CASE WHEN subject = ?4 OR actor = ?6 THEN NULL"
                           "                   ELSE request_id END,"
                           " subject = CASE WHEN subject = ?4 THEN ?5 ELSE subject END,"
                           " actor = CASE WHEN actor = ?6 THEN ?7 ELSE actor END WHERE rowid = ?1",
                           -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->wdb,
                           "UPDATE votes SET viewer_id = ?3 WHERE session = ?1 AND viewer_id = ?2",
                           -1, &votes, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->wdb,
                           "UPDATE ratings SET viewer_id = ?3,"
                           " json = json_set(json, '$.viewer_id', ?3)"
                           " WHERE session = ?1 AND viewer_id = ?2",
                           -1, &ratings, NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_text(sel, 1, ev->session, -1, SQLITE_STATIC);
    sqlite3_bind_text(sel, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(sel, 3, actor_from, -1, SQLITE_STATIC);
    /* Collect first, then update: rows are not rewritten under a running SELECT. */
    sqlite3_int64 *rows = NULL;
    size_t n = 0, cap = 0;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            sqlite3_int64 *grown = realloc(rows, ncap * sizeof *rows);
            if (!grown) {
                free(rows);
                goto done;
            }
            rows = grown;
            cap = ncap;
        }
        rows[n++] = sqlite3_column_int64(sel, 0);
    }
    sqlite3_finalize(sel);
    sel = NULL;
    if (rc != SQLITE_DONE ||
        sqlite3_prepare_v2(s->wdb, "SELECT payload, secret FROM events WHERE rowid = ?1", -1,
                           &sel, NULL) != SQLITE_OK) {
        free(rows);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char *payload = NULL, *secret = NULL;
        sqlite3_bind_int64(sel, 1, rows[i]);
        rc = sqlite3_step(sel);
        int bad = rc != SQLITE_ROW ||
                  anonymise_text(sqlite3_column_text(sel, 0), from, to, &payload) < 0 ||
                  anonymise_text(sqlite3_column_text(sel, 1), from, to, &secret) < 0;
        sqlite3_reset(sel);
        int urc = SQLITE_OK;
        if (!bad) {
            urc = sqlite3_bind_int64(upd, 1, rows[i]);
            if (urc == SQLITE_OK)
                urc = payload ? sqlite3_bind_text(upd, 2, payload, -1, SQLITE_STATIC)
                              : sqlite3_bind_null(upd, 2);
            if (urc == SQLITE_OK)
                urc = secret ? sqlite3_bind_text(upd, 3, secret, -1, SQLITE_STATIC)
                             : sqlite3_bind_null(upd, 3);
            if (urc == SQLITE_OK)
                urc = sqlite3_bind_text(upd, 4, from, -1, SQLITE_STATIC);
            if (urc == SQLITE_OK)
                urc = sqlite3_bind_text(upd, 5, to, -1, SQLITE_STATIC);
            if (urc == SQLITE_OK)
                urc = sqlite3_bind_text(upd, 6, actor_from, -1, SQLITE_STATIC);
            if (urc == SQLITE_OK)
                urc = sqlite3_bind_text(upd, 7, actor_to, -1, SQLITE_STATIC);
            bad = step_done(upd, urc);
        }
        cJSON_free(payload);
        cJSON_free(secret);
        if (bad) {
            free(rows);
            goto done;
        }
    }
    free(rows);
    rc = sqlite3_bind_text(votes, 1, ev->session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(votes, 2, from, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(votes, 3, to, -1, SQLITE_STATIC);
    if (step_done(votes, rc))
        goto done;
    rc = sqlite3_bind_text(ratings, 1, ev->session, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(ratings, 2, from, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(ratings, 3, to, -1, SQLITE_STATIC);
    if (step_done(ratings, rc) || scrub_free_pages(s))
        goto done;
    s->truncate_wal = true;
    ret = 0;
done:
    exec_sql(s->wdb, "PRAGMA secure_delete=FAST");
    if (ret)
        log_error("store: erasing a viewer in %s failed: %s", ev->session, sqlite3_errmsg(s->wdb));
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_finalize(votes);
    sqlite3_finalize(ratings);
    return ret;
}

/* Keeps the projection tables in step with one event: the records it carries are upserted,
 * vote events add or remove a vote row. */
static int project_event(store *s, const forum_event *ev)
{
    const forum_payload *p = &ev->p;
    switch (ev->kind) {
    case FORUM_EV_QUESTION_MERGED:
        if (p->question.has_into && upsert_question(s, ev, &p->question.into))
            return -1;
        /* fall through */
    case FORUM_EV_QUESTION_SUBMITTED:
    case FORUM_EV_QUESTION_PUBLISHED:
    case FORUM_EV_QUESTION_UPDATED:
    case FORUM_EV_QUESTION_DISMISSED:
    case FORUM_EV_QUESTION_WITHDRAWN:
    case FORUM_EV_QUESTION_ANSWERED: return upsert_question(s, ev, &p->question.q);
    case FORUM_EV_VIEWER_ERASED:
        for (size_t i = 0; i < p->erased.n; i++)
            if (upsert_question(s, ev, &p->erased.questions[i]))
                return -1;
        return ev->erased_viewer_id[0] ? erase_viewer_traces(s, ev) : 0;
    case FORUM_EV_VOTE_ADDED: return project_vote(s, ev, true);
    case FORUM_EV_VOTE_REMOVED: return project_vote(s, ev, false);
    case FORUM_EV_VOTES_CHANGED: return project_vote_counts(s, ev);
    case FORUM_EV_SESSION_CHANGED: return upsert_session(s, ev, &p->session);
    case FORUM_EV_PROGRAM_CHANGED: return upsert_program(s, ev, &p->program);
    case FORUM_EV_POLL_CHANGED: return upsert_poll(s, ev, &p->poll);
    case FORUM_EV_ACTION_CHANGED: return upsert_action(s, ev, &p->action);
    case FORUM_EV_RATING_CHANGED: return upsert_rating(s, ev, &p->rating);
    case FORUM_EV_RATINGS_CHANGED:
    case FORUM_EV_ONAIR_CHANGED:
    case FORUM_EV_QUEUE_CHANGED:
    case FORUM_EV_PANEL_CHANGED:
    case FORUM_EV_POLL_VOTED:
    case FORUM_EV_VIEWER_BANNED:
    case FORUM_EV_VIEWER_UNBANNED:
    case FORUM_EV_VIEWERS_PEAK:
    case FORUM_EV_VIEWERS_SAMPLED:
    case FORUM_EV_WEBHOOK_CHANGED: /* its delivery rows come from the batch (webhook_outbox) */
    case FORUM_EV__COUNT: return 0;
    }
    return 0;
}

/* Inserts the event (its payload and secret rendered here, on the writer thread) and keeps the
 * projections in step. */
static int insert_event(store *s, const forum_event *ev)
{
    sqlite3_stmt *st = s->ins_event;
    int rc = SQLITE_OK;
    bool first = true;
    buf_reset(&s->json[0]);
    jsonw_put(&s->json[0], "{", 1);
    forum_event_write_payload(&s->json[0], &first, ev, FORUM_VIEW_STAFF);
    jsonw_put(&s->json[0], "}", 1);
    buf_reset(&s->json[1]);
    bool has_secret = forum_event_write_secret(&s->json[1], ev);
    BIND(sqlite3_bind_text(st, 1, ev->session, -1, SQLITE_STATIC));
    BIND(sqlite3_bind_int64(st, 2, ev->seq));
    BIND(sqlite3_bind_int64(st, 3, ev->at));
    BIND(ev->offset_ms < 0 ? sqlite3_bind_null(st, 4) : sqlite3_bind_int64(st, 4, ev->offset_ms));
    BIND(sqlite3_bind_text(st, 5, ev->actor, -1, SQLITE_STATIC));
    BIND(sqlite3_bind_text(st, 6, forum_kind_name(ev->kind), -1, SQLITE_STATIC));
    BIND(bind_written(st, 7, &s->json[0]));
    BIND(sqlite3_bind_int(st, 8, (int)ev->audience));
    BIND(bind_text_or_null(st, 9, ev->subject));
    BIND(bind_text_or_null(st, 10, ev->request_id));
    BIND(has_secret ? bind_written(st, 11, &s->json[1]) : sqlite3_bind_null(st, 11));
    if (step_done(st, rc))
        return -1;
    return project_event(s, ev);
}

#undef BIND

/* Brings the search index up to date with the committed questions noted in search_pending by
 * schema/003's triggers: one statement per step for everything noted since the last run,
 * instead of FTS5 work inside every question statement, in a transaction of its own after the
 * commits (their completions are handed back first). Writer thread.
 *
 * Not fsync'd (synchronous=NORMAL for this transaction): if a crash loses it, the notes it
 * consumed are still in search_pending (committed durably with the questions) and are indexed
 * again after the restart. The next durable commit's fsync covers its WAL frames too, and WAL
 * recovery never keeps a later transaction without the earlier ones, so acknowledged events
 * are as safe as before. On failure the notes stay and the next run retries. */
static int flush_search_pending(store *s)
{
    if (!s->search_owed_since)
        return 0;
    sqlite3 *db = s->wdb;
    if (s->sync_full)
        exec_sql(db, "PRAGMA synchronous=NORMAL");
    int rc = exec_sql(db, "BEGIN IMMEDIATE");
    if (rc == 0)
        rc = step_done(s->search_unindex, SQLITE_OK) ||
                     step_done(s->search_index_text, SQLITE_OK) ||
                     step_done(s->search_index_note, SQLITE_OK) ||
                     step_done(s->search_done, SQLITE_OK) || exec_sql(db, "COMMIT")
                 ? -1
                 : 0;
    if (rc != 0) {
        /* retried after 0.4 s, 0.8 s, ... up to 10 s (a full disk stays full for a while); logged
         * once per series of failures */
        if (s->search_failures++ == 0)
            log_warn("store: updating the search index failed (retrying): %s", sqlite3_errmsg(db));
        if (!sqlite3_get_autocommit(db))
            exec_sql(db, "ROLLBACK");
        uint64_t backoff = (uint64_t)STORE_SEARCH_LAG_MS * 1000000u
                           << (s->search_failures < 6 ? s->search_failures : 6);
        s->search_retry_at = uv_hrtime() + (backoff < 10000000000u ? backoff : 10000000000u);
    } else {
        if (s->search_failures)
            log_info("store: the search index is up to date again");
        s->search_failures = 0;
        s->search_retry_at = 0;
        s->search_owed_since = 0;
        s->search_owed_rows = 0;
    }
    if (s->sync_full)
        exec_sql(db, "PRAGMA synchronous=FULL");
    pthread_mutex_lock(&s->mu);
    s->stats.search_index_transactions += rc == 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Runs flush_search_pending when the index is owed texts and either a barrier waits for it or
 * the oldest text has waited delay_ms. */
static void index_search_if_due(store *s, bool barrier, uint64_t delay_ms)
{
    if (!s->search_owed_since)
        return;
    if (!barrier && s->search_retry_at && uv_hrtime() < s->search_retry_at)
        return;
    if (barrier || uv_hrtime() - s->search_owed_since >= delay_ms * 1000000u ||
        s->search_owed_rows >= STORE_SEARCH_MAX_ROWS)
        flush_search_pending(s);
}

static bool batch_needs_transaction(const store_batch *b)
{
    return b->n_events > 0 || b->n_outbox > 0 || b->n_outbox_updates > 0 ||
           b->outbox_requeue_webhook > 0 || b->outbox_prune_before > 0 ||
           b->outbox_cancel_webhook > 0 ||
           (b->done == store_sync_done && ((store_sync_wait *)b->ctx)->meta_key);
}

/* ---- the webhook outbox (schema/004) ----------------------------------------------------------
 * The one hook of the insert path for webhooks: a batch's outbox work is written in the
 * transaction that commits its events, so an event is never committed without the deliveries
 * it owes (nor the other way round). */

static const char *const outbox_state_names[] = {"pending", "delivered", "failed", "cancelled"};

static int write_outbox(store *s, const store_batch *b)
{
    for (size_t i = 0; i < b->n_outbox; i++) {
        const store_outbox_row *o = &b->outbox[i];
        sqlite3_stmt *st = s->outbox_insert;
        int rc = sqlite3_bind_int64(st, 1, o->webhook_id);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 2, o->event, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 3, o->session ? o->session : "", -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 4, o->seq);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 5, o->body, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 6, o->at);
        if (step_done(st, rc))
            return -1;
    }
    for (size_t i = 0; i < b->n_outbox_updates; i++) {
        const store_outbox_update *u = &b->outbox_updates[i];
        sqlite3_stmt *st = s->outbox_update;
        int rc = sqlite3_bind_int64(st, 1, u->id);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 2, outbox_state_names[u->state % 4], -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int(st, 3, u->attempts);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 4, u->next_at);
        if (rc == SQLITE_OK)
            rc = u->last_status ? sqlite3_bind_int(st, 5, u->last_status)
                                : sqlite3_bind_null(st, 5);
        if (rc == SQLITE_OK)
            rc = bind_str(st, 6, u->last_error);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 7, u->at);
        if (step_done(st, rc))
            return -1;
    }
    if (b->outbox_requeue_webhook > 0) {
        int rc = sqlite3_bind_int64(s->outbox_requeue, 1, b->outbox_requeue_webhook);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(s->outbox_requeue, 2, b->outbox_requeue_at);
        if (step_done(s->outbox_requeue, rc))
            return -1;
    }
    if (b->outbox_cancel_webhook > 0) {
        int rc = sqlite3_bind_int64(s->outbox_cancel, 1, b->outbox_cancel_webhook);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(s->outbox_cancel, 2, b->outbox_requeue_at);
        if (step_done(s->outbox_cancel, rc))
            return -1;
    }
    if (b->outbox_prune_before > 0 &&
        step_done(s->outbox_prune, sqlite3_bind_int64(s->outbox_prune, 1, b->outbox_prune_before)))
        return -1;
    return 0;
}

/* Commits the batches from..stop (exclusive) in one transaction. Writer thread only. Returns 0,
 * or -1 with everything rolled back; *sqlite_rc gets the failing extended result code. */
static int writer_commit(store *s, store_batch *from, store_batch *stop, int *sqlite_rc)
{
    sqlite3 *db = s->wdb;
    size_t n = 0;
    s->search_pending = false;
    if (exec_sql(db, "BEGIN IMMEDIATE"))
        goto fail;
    for (store_batch *b = from; b != stop; b = b->next_) {
        if (b->done == store_sync_done) {
            store_sync_wait *w = b->ctx;
            if (w->meta_key) {
                int rc = sqlite3_bind_text(s->set_meta, 1, w->meta_key, -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_text(s->set_meta, 2, w->meta_value, -1, SQLITE_STATIC);
                if (step_done(s->set_meta, rc))
                    goto fail;
            }
        }
        for (size_t i = 0; i < b->n_events; i++, n++)
            if (insert_event(s, &b->events[i]))
                goto fail;
        if (write_outbox(s, b))
            goto fail;
    }
    if (exec_sql(db, "COMMIT"))
        goto fail;
    if (s->search_pending) {
        s->search_pending = false;
        if (!s->search_owed_since)
            s->search_owed_since = uv_hrtime();
        s->search_owed_rows += n;
    }
    *sqlite_rc = SQLITE_OK;
    return 0;
fail:
    *sqlite_rc = sqlite3_extended_errcode(db);
    log_error("store: transaction failed after %zu events, rolled back: %s", n, sqlite3_errmsg(db));
    if (!sqlite3_get_autocommit(db))
        exec_sql(db, "ROLLBACK");
    return -1;
}

/* Records one finished batch: latency, counters, and either wakes its synchronous submitter or
 * appends it to the done list. Called with mu held. Returns true if the loop must be woken. */
static bool finish_batch_locked(store *s, store_batch *b, int rc, uint32_t now_us)
{
    double ms = (double)(uint32_t)(now_us - (uint32_t)b->rc_) / 1000.0;
    for (int i = 0; i < 11; i++)
        if (ms <= store_latency_bounds_ms[i])
            s->stats.latency_le[i]++;
    s->stats.latency_le[11]++;
    s->stats.latency_sum_ms += ms;
    if (b->done == store_sync_done) {
        store_sync_wait *w = b->ctx;
        w->rc = rc;
        w->finished = true;
        s->stats.queued_batches--;
        pthread_cond_broadcast(&s->sync_cv);
        return false;
    }
    b->rc_ = rc;
    b->next_ = NULL;
    if (s->done_tail)
        s->done_tail->next_ = b;
    else
        s->done_head = b;
    s->done_tail = b;
    s->done_count++;
    return true;
}

/* Commits one group (a list of whole batches) and finishes its batches in order. If the group
 * fails on a constraint (one bad batch), its batches are retried one by one so that the others
 * still commit; other failures (full disk, I/O error, read-only) fail the whole group. */
static void writer_commit_group(store *s, store_batch *group, size_t n_events, bool needs_txn);

/* Refuses (rc -2) the batches with events that were built on state the loop has not yet
 * reloaded after a failed commit, then commits the rest as one group. */
static void writer_run_group(store *s, store_batch *group, size_t n_events, bool needs_txn)
{
    pthread_mutex_lock(&s->mu);
    bool poisoned = s->poisoned;
    unsigned poisoned_epoch = s->poisoned_epoch;
    pthread_mutex_unlock(&s->mu);
    if (!poisoned) {
        writer_commit_group(s, group, n_events, needs_txn);
        return;
    }
    bool wake = false;
    store_batch *keep = NULL, **tail = &keep;
    n_events = 0;
    needs_txn = false;
    pthread_mutex_lock(&s->mu);
    for (store_batch *b = group, *next; b; b = next) {
        next = b->next_;
        if (b->epoch_ <= poisoned_epoch && b->n_events > 0) {
            wake |= finish_batch_locked(s, b, -2, store_now_us());
        } else {
            b->next_ = NULL;
            *tail = b;
            tail = &b->next_;
            n_events += b->n_events;
            needs_txn |= batch_needs_transaction(b);
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (wake)
        uv_async_send(&s->async);
    if (keep)
        writer_commit_group(s, keep, n_events, needs_txn);
}

static void writer_commit_group(store *s, store_batch *group, size_t n_events, bool needs_txn)
{
    int sqlite_rc = SQLITE_OK, rc = 0;
    if (needs_txn)
        rc = writer_commit(s, group, NULL, &sqlite_rc);
    bool isolate = rc != 0 && group->next_ &&
                   ((sqlite_rc & 0xff) == SQLITE_CONSTRAINT || (sqlite_rc & 0xff) == SQLITE_TOOBIG);
    bool wake = false;
    if (!isolate) {
        /* a search (or synchronous submission) in the group sees every text committed before */
        bool barrier = false;
        for (store_batch *b = group; b; b = b->next_)
            barrier |= b->search_barrier || b->done == store_sync_done;
        if (barrier)
            index_search_if_due(s, true, 0);
    }
    pthread_mutex_lock(&s->mu);
    if (needs_txn) {
        if (rc == 0) {
            s->stats.transactions++;
            s->stats.events_committed += n_events;
        } else {
            s->stats.failed_transactions++;
        }
    }
    if (rc != 0 && !isolate) {
        unsigned newest = 0;
        for (store_batch *b = group; b; b = b->next_)
            if (b->epoch_ > newest)
                newest = b->epoch_;
        s->poisoned = true;
        if (newest > s->poisoned_epoch || s->poisoned_epoch == 0)
            s->poisoned_epoch = newest;
    }
    if (!isolate) {
        uint32_t now = store_now_us();
        for (store_batch *b = group, *next; b; b = next) {
            next = b->next_;
            wake |= finish_batch_locked(s, b, rc, now);
        }
    }
    pthread_mutex_unlock(&s->mu);
    for (store_batch *b = isolate ? group : NULL, *next; b; b = next) {
        next = b->next_;
        int one = 0;
        bool txn = batch_needs_transaction(b);
        if (txn)
            one = writer_commit(s, b, next, &sqlite_rc);
        if (b->search_barrier || b->done == store_sync_done)
            index_search_if_due(s, true, 0);
        pthread_mutex_lock(&s->mu);
        if (txn) {
            if (one == 0) {
                s->stats.transactions++;
                s->stats.events_committed += b->n_events;
            } else {
                s->stats.failed_transactions++;
            }
        }
        wake |= finish_batch_locked(s, b, one, store_now_us());
        pthread_mutex_unlock(&s->mu);
    }
    if (wake)
        uv_async_send(&s->async);
}

/* Replaces SQLite's auto-checkpoint (which runs inside COMMIT, before the completions could be
 * handed back): the writer checkpoints after delivering them instead. */
static int writer_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    ((store *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

/* The checkpoint connection's own commits (none) need no hook; SQLite's automatic checkpoints
 * stay off on it too. */
static int writer_wal_hook_none(void *arg, sqlite3 *db, const char *name, int pages)
{
    return SQLITE_OK;
}

static void writer_checkpoint_if_due(store *s)
{
    if (s->truncate_wal) {
        /* After an erasure the WAL still holds the old page images: copy everything into the
         * database and cut the WAL to zero bytes. Busy (a reader holds an old snapshot): try
         * again after the next commit. */
        int rc = sqlite3_wal_checkpoint_v2(s->wdb, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        if (rc == SQLITE_OK) {
            s->truncate_wal = false;
            s->wal_pages = 0;
            return;
        }
    }
    if (s->wal_pages < STORE_CHECKPOINT_PAGES)
        return;
    s->wal_pages = 0;
    pthread_mutex_lock(&s->mu);
    s->ckpt_wanted = true;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->mu);
}

/* The checkpointer thread: a PASSIVE checkpoint each time the writer asks (concurrent with its
 * commits: WAL mode lets a checkpoint copy committed frames while new ones are appended). */
static void *checkpointer_main(void *arg)
{
    store *s = arg;
    pthread_setname_np(pthread_self(), "forum-ckpt");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->ckpt_wanted && !s->closing)
            pthread_cond_wait(&s->ckpt_cv, &s->mu);
        if (!s->ckpt_wanted)
            break;
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->mu);
        int rc = sqlite3_wal_checkpoint_v2(s->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("store: checkpoint of %s failed: %s", s->path, sqlite3_errmsg(s->cdb));
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *writer_main(void *arg)
{
    store *s = arg;
    pthread_setname_np(pthread_self(), "forum-store"); /* for top, perf and gdb */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queue_head && !s->closing) {
            if (!s->search_owed_since) {
                pthread_cond_wait(&s->work_cv, &s->mu);
                continue;
            }
            /* idle with texts to index: index them STORE_SEARCH_LAG_MS after the oldest commit
             * (the delay gathers a storm's texts into few index transactions) */
            uint64_t due = s->search_owed_since + (uint64_t)STORE_SEARCH_LAG_MS * 1000000u;
            if (due < s->search_retry_at)
                due = s->search_retry_at;
            uint64_t now = uv_hrtime();
            if (now >= due) {
                pthread_mutex_unlock(&s->mu);
                flush_search_pending(s);
                pthread_mutex_lock(&s->mu);
                continue;
            }
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t at = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + (due - now);
            ts.tv_sec = (time_t)(at / 1000000000u);
            ts.tv_nsec = (long)(at % 1000000000u);
            pthread_cond_timedwait(&s->work_cv, &s->mu, &ts);
        }
        if (!s->queue_head)
            break; /* closing, and everything queued is committed */
        /* group commit: every whole batch queued so far, up to max_batch_events events */
        store_batch *group = s->queue_head, *last = group;
        size_t n_events = group->n_events;
        bool needs_txn = batch_needs_transaction(group);
        while (last->next_ && n_events + last->next_->n_events <= s->max_batch_events) {
            last = last->next_;
            n_events += last->n_events;
            needs_txn |= batch_needs_transaction(last);
        }
        s->queue_head = last->next_;
        if (!s->queue_head)
            s->queue_tail = NULL;
        last->next_ = NULL;
        pthread_mutex_unlock(&s->mu);
        writer_run_group(s, group, n_events, needs_txn);
        /* busy: the index may not fall further behind than this */
        index_search_if_due(s, false, STORE_SEARCH_MAX_LAG_MS);
        writer_checkpoint_if_due(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    flush_search_pending(s); /* closing: leave the index complete */
    return NULL;
}

/* ---- completions ------------------------------------------------------------------------ */

/* Calls the done callback of every finished batch, in submission order. Loop thread. */
static void deliver_completions(store *s)
{
    pthread_mutex_lock(&s->mu);
    store_batch *b = s->done_head;
    s->done_head = s->done_tail = NULL;
    s->stats.queued_batches -= s->done_count;
    s->done_count = 0;
    pthread_mutex_unlock(&s->mu);
    while (b) {
        store_batch *next = b->next_; /* done may free b */
        b->next_ = NULL;
        b->done(b, b->rc_);
        b = next;
    }
}

static void store_async_cb(uv_async_t *handle)
{
    deliver_completions(handle->data);
}

/* ---- public API ------------------------------------------------------------------------- */

static void store_free(store *s)
{
    if (s->checkpointer_started) { /* store_open failed after starting it */
        pthread_mutex_lock(&s->mu);
        s->closing = true;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->checkpointer, NULL);
    }
    for (size_t i = 0; i < WRITER_STMT_COUNT; i++)
        sqlite3_finalize(*writer_stmt(s, i));
    sqlite3_close(s->wdb);
    sqlite3_close(s->rdb);
    sqlite3_close(s->cdb);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->sync_cv);
    free(s->json[0].p);
    free(s->json[1].p);
    free(s->path);
    free(s);
}

int store_open(store **out, const store_options *opt, uv_loop_t *loop, char *err, size_t errlen)
{
    *out = NULL;
    if (!opt || !opt->path || !*opt->path) {
        snprintf(err, errlen, "no database path given");
        return -1;
    }
    store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t cv_attr; /* the writer's timed waits use CLOCK_MONOTONIC (uv_hrtime) */
    pthread_condattr_init(&cv_attr);
    pthread_condattr_setclock(&cv_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->work_cv, &cv_attr);
    pthread_condattr_destroy(&cv_attr);
    pthread_cond_init(&s->sync_cv, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    s->loop = loop;
    s->max_batch_events =
        opt->max_batch_events > 0 ? (size_t)opt->max_batch_events : STORE_DEFAULT_MAX_BATCH_EVENTS;
    s->path = strdup(opt->path);
    if (!s->path) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (make_parent_dirs(opt->path, err, errlen))
        goto fail;
    if (!create_private_file(opt->path))
        tighten_database_files(opt->path);
    if (open_connection(&s->wdb, opt->path, opt->synchronous_full, err, errlen))
        goto fail;
    if (migrate(s, err, errlen))
        goto fail;
    s->sync_full = opt->synchronous_full;
    sqlite3_wal_hook(s->wdb, writer_wal_hook, s);
    /* Deleted content inside b-tree pages is zeroed at no extra I/O; an erasure also zeroes
     * whole free pages (erase_viewer_traces, docs/archive.md). */
    exec_sql(s->wdb, "PRAGMA secure_delete=FAST");
    exec_sql(s->wdb, "PRAGMA journal_size_limit=67108864"); /* WAL file kept under 64 MiB */
    if (open_connection(&s->rdb, opt->path, opt->synchronous_full, err, errlen))
        goto fail;
    if (exec_sql(s->rdb, "PRAGMA query_only=ON")) {
        snprintf(err, errlen, "database %s: %s", s->path, sqlite3_errmsg(s->rdb));
        goto fail;
    }
    for (size_t i = 0; i < WRITER_STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(s->wdb, writer_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               writer_stmt(s, i), NULL) != SQLITE_OK) {
            snprintf(err, errlen, "database %s: preparing statements: %s", s->path,
                     sqlite3_errmsg(s->wdb));
            goto fail;
        }
    }
    /* texts committed but not indexed when the server last stopped (a crash): indexed soon */
    sqlite3_stmt *owed = NULL;
    if (sqlite3_prepare_v2(s->wdb, "SELECT count(*) FROM search_pending", -1, &owed, NULL) ==
            SQLITE_OK &&
        sqlite3_step(owed) == SQLITE_ROW && sqlite3_column_int64(owed, 0) > 0) {
        s->search_owed_since = uv_hrtime();
        s->search_owed_rows = (uint64_t)sqlite3_column_int64(owed, 0);
    }
    sqlite3_finalize(owed);
    if (open_connection(&s->cdb, opt->path, opt->synchronous_full, err, errlen))
        goto fail;
    sqlite3_wal_hook(s->cdb, writer_wal_hook_none, NULL);
    int crc = pthread_create(&s->checkpointer, NULL, checkpointer_main, s);
    if (crc) {
        snprintf(err, errlen, "database %s: cannot start the checkpoint thread: %s", s->path,
                 strerror(crc));
        goto fail;
    }
    s->checkpointer_started = true;
    /* the writer starts first: it touches the async handle only after work is queued */
    int prc = pthread_create(&s->writer, NULL, writer_main, s);
    if (prc) {
        snprintf(err, errlen, "database %s: cannot start the writer thread: %s", s->path,
                 strerror(prc));
        goto fail;
    }
    if (uv_async_init(loop, &s->async, store_async_cb)) {
        snprintf(err, errlen, "database %s: cannot create the completion handle", s->path);
        pthread_mutex_lock(&s->mu);
        s->closing = true;
        pthread_cond_broadcast(&s->work_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->writer, NULL);
        goto fail;
    }
    s->async.data = s;
    *out = s;
    return 0;
fail:
    store_free(s);
    return -1;
}

/* Must not be called after store_close; if it is, the batch fails at once (done called here). */
void store_append(store *s, store_batch *batch)
{
    batch->next_ = NULL;
    batch->rc_ = (int)store_now_us();
    pthread_mutex_lock(&s->mu);
    batch->epoch_ = s->epoch;
    if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        batch->done(batch, -1);
        return;
    }
    if (s->queue_tail)
        s->queue_tail->next_ = batch;
    else
        s->queue_head = batch;
    s->queue_tail = batch;
    s->stats.queued_batches++;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
}

void store_clear_failure(store *s)
{
    pthread_mutex_lock(&s->mu);
    /* Batches already queued keep their epoch and are refused if it is poisoned. */
    s->poisoned_epoch = s->epoch;
    s->epoch++;
    pthread_mutex_unlock(&s->mu);
}

/* Queues a synchronous batch behind everything already queued and waits for its commit. */
static int submit_and_wait(store *s, store_batch *b)
{
    store_sync_wait *w = b->ctx;
    b->next_ = NULL;
    b->rc_ = (int)store_now_us();
    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    if (s->queue_tail)
        s->queue_tail->next_ = b;
    else
        s->queue_head = b;
    s->queue_tail = b;
    s->stats.queued_batches++;
    pthread_cond_signal(&s->work_cv);
    while (!w->finished)
        pthread_cond_wait(&s->sync_cv, &s->mu);
    int rc = w->rc;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int store_append_sync(store *s, const forum_event *events, size_t n)
{
    store_sync_wait w = {0};
    /* store only reads the events; the batch type is shared with the asynchronous path */
    store_batch b = {.events = (forum_event *)events, .n_events = n, .done = store_sync_done,
                     .ctx = &w};
    return submit_and_wait(s, &b);
}

int store_meta_set(store *s, const char *key, const char *value)
{
    if (!key || !value)
        return -1;
    store_sync_wait w = {.meta_key = key, .meta_value = value};
    store_batch b = {.done = store_sync_done, .ctx = &w};
    return submit_and_wait(s, &b);
}

/* Returns 0 and the value if found, 1 if absent, -1 on a database error or if the value does
 * not fit in buf (never a truncated value). */
int store_meta_get(store *s, const char *key, char *buf, size_t buflen)
{
    sqlite3_stmt *st = NULL;
    int ret = -1;
    if (sqlite3_prepare_v2(s->rdb, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
        goto done;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ret = 1;
    } else if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (v && buflen > n) {
            memcpy(buf, v, n + 1);
            ret = 0;
        }
    }
done:
    sqlite3_finalize(st);
    return ret;
}

/* ---- webhook outbox: reads ------------------------------------------------------------------ */

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

void store_outbox_item_free(store_outbox_item *item)
{
    free(item->event);
    free(item->session);
    free(item->body);
    memset(item, 0, sizeof *item);
}

int store_outbox_head(store *s, int64_t webhook_id, store_outbox_item *out)
{
    sqlite3_stmt *st = NULL;
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(s->rdb,
                           "SELECT id, event, session, seq, body, created_at, next_at, attempts"
                           " FROM webhook_outbox WHERE webhook_id = ?1 AND state = 'pending'"
                           " ORDER BY id LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, webhook_id) != SQLITE_OK)
        goto done;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ret = 0;
        goto done;
    }
    if (rc != SQLITE_ROW)
        goto done;
    out->id = sqlite3_column_int64(st, 0);
    out->webhook_id = webhook_id;
    out->event = column_dup(st, 1);
    out->session = column_dup(st, 2);
    out->seq = sqlite3_column_int64(st, 3);
    out->body = column_dup(st, 4);
    out->created_at = sqlite3_column_int64(st, 5);
    out->next_at = sqlite3_column_int64(st, 6);
    out->attempts = sqlite3_column_int(st, 7);
    if (!out->event || !out->session || !out->body) {
        store_outbox_item_free(out);
        goto done;
    }
    ret = 1;
done:
    if (ret < 0)
        log_error("store: reading the webhook outbox: %s", sqlite3_errmsg(s->rdb));
    sqlite3_finalize(st);
    return ret;
}

int store_outbox_status_of(store *s, int64_t webhook_id, store_outbox_status *out)
{
    sqlite3_stmt *st = NULL;
    int ret = -1;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(s->rdb,
                           "SELECT state, count(*), max(updated_at) FROM webhook_outbox"
                           " WHERE webhook_id = ?1 GROUP BY state",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, webhook_id) != SQLITE_OK)
        goto done;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        if (!state)
            continue;
        if (strcmp(state, "pending") == 0)
            out->pending = n;
        else if (strcmp(state, "failed") == 0)
            out->failed = n;
        else if (strcmp(state, "delivered") == 0) {
            out->delivered = n;
            out->last_delivered_at = sqlite3_column_int64(st, 2);
        }
    }
    if (rc != SQLITE_DONE)
        goto done;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(s->rdb,
                           "SELECT updated_at, last_status, attempts, last_error FROM webhook_outbox"
                           " WHERE webhook_id = ?1 AND attempts > 0 ORDER BY updated_at DESC, id DESC"
                           " LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, webhook_id) != SQLITE_OK)
        goto done;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->last_attempt_at = sqlite3_column_int64(st, 0);
        out->last_status = sqlite3_column_int(st, 1);
        out->last_attempts = sqlite3_column_int(st, 2);
        copy_text(out->last_error, sizeof out->last_error, sqlite3_column_text(st, 3));
    } else if (rc != SQLITE_DONE) {
        goto done;
    }
    ret = 0;
done:
    sqlite3_finalize(st);
    return ret;
}

int64_t store_outbox_pending(store *s)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(s->rdb, "SELECT count(*) FROM webhook_outbox WHERE state = 'pending'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int store_schema_version(store *s)
{
    return s->schema_version;
}

/* Fills ev from a row of EVENT_COLUMNS, decoding its payload and secret into the typed event.
 * Returns 0, or -1 (message printed) for an unknown kind or malformed JSON. ev owns its memory
 * afterwards (forum_event_clear). */
#define EVENT_COLUMNS \
    "session, seq, at, offset_ms, actor, kind, payload, audience, subject, request_id, secret"
static int read_event_row(sqlite3_stmt *st, forum_event *ev)
{
    memset(ev, 0, sizeof *ev);
    copy_text(ev->session, sizeof ev->session, sqlite3_column_text(st, 0));
    ev->seq = sqlite3_column_int64(st, 1);
    ev->at = sqlite3_column_int64(st, 2);
    ev->offset_ms = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
    copy_text(ev->actor, sizeof ev->actor, sqlite3_column_text(st, 4));
    ev->kind = forum_kind_from_name((const char *)sqlite3_column_text(st, 5));
    ev->audience = (forum_audience)sqlite3_column_int(st, 7);
    copy_text(ev->subject, sizeof ev->subject, sqlite3_column_text(st, 8));
    copy_text(ev->request_id, sizeof ev->request_id, sqlite3_column_text(st, 9));
    const char *payload = (const char *)sqlite3_column_text(st, 6);
    const char *secret = (const char *)sqlite3_column_text(st, 10);
    if (ev->kind == FORUM_EV__COUNT || !payload ||
        forum_event_decode_text(ev, payload, (size_t)sqlite3_column_bytes(st, 6), secret,
                                secret ? (size_t)sqlite3_column_bytes(st, 10) : 0) < 0) {
        log_error("store: event %s/%lld (%s) cannot be read", ev->session, (long long)ev->seq,
                  (const char *)sqlite3_column_text(st, 5));
        return -1;
    }
    return 0;
}

/* Runs a prepared event query, calling each per row. Returns rows delivered, or -1 on a
 * database error; *stopped gets each's non-zero return value if it stopped the iteration. */
static long long run_event_query(store *s, sqlite3_stmt *st,
                                 int (*each)(void *arg, const forum_event *ev), void *arg,
                                 int *stopped)
{
    long long delivered = 0;
    int rc;
    *stopped = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        forum_event ev;
        if (read_event_row(st, &ev))
            return -1;
        int r = each(arg, &ev);
        forum_event_clear(&ev);
        delivered++;
        if (r) {
            *stopped = r;
            return delivered;
        }
    }
    if (rc != SQLITE_DONE) {
        log_error("store: reading events from %s: %s", s->path, sqlite3_errmsg(s->rdb));
        return -1;
    }
    return delivered;
}

int store_load(store *s, int (*each)(void *arg, const forum_event *ev), void *arg)
{
    sqlite3_stmt *st = NULL;
    int ret = -1, stopped = 0;
    if (sqlite3_prepare_v2(s->rdb, "SELECT " EVENT_COLUMNS " FROM events ORDER BY rowid", -1,
                           &st, NULL) != SQLITE_OK) {
        log_error("store: %s: %s", s->path, sqlite3_errmsg(s->rdb));
        goto done;
    }
    if (run_event_query(s, st, each, arg, &stopped) < 0)
        goto done;
    ret = stopped;
done:
    sqlite3_finalize(st);
    return ret;
}

/* Stops early when each returns non-zero; the count then includes that event. */
int store_events_after(store *s, const char *session, int64_t after_seq, size_t max,
                       int (*each)(void *arg, const forum_event *ev), void *arg)
{
    sqlite3_stmt *st = NULL;
    long long ret = -1;
    int stopped = 0;
    if (sqlite3_prepare_v2(s->rdb,
                           "SELECT " EVENT_COLUMNS " FROM events WHERE session = ?1 AND seq > ?2"
                           " ORDER BY seq LIMIT ?3",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, session ? session : "", -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, after_seq) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, max > (size_t)INT_MAX ? INT_MAX : (sqlite3_int64)max) !=
            SQLITE_OK) {
        log_error("store: %s: %s", s->path, sqlite3_errmsg(s->rdb));
        goto done;
    }
    ret = run_event_query(s, st, each, arg, &stopped);
done:
    sqlite3_finalize(st);
    return ret > INT_MAX ? INT_MAX : (int)ret;
}

void store_get_stats(store *s, store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

static void store_close_cb(uv_handle_t *handle)
{
    store *s = handle->data;
    if (s->backups_running > 0)
        s->free_when_idle = true; /* the last backup's completion frees it */
    else
        store_free(s);
}

/* Commits everything queued, joins the writer, delivers the remaining completions here (on the
 * calling loop thread), closes both connections and starts closing the async handle. The store's
 * memory is freed by the handle's close callback: the caller must run the loop afterwards (as
 * it does anyway to drain its own handles) and must not use s after this call. */
void store_close(store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
    pthread_mutex_lock(&s->mu);
    pthread_cond_signal(&s->ckpt_cv); /* closing: the checkpointer ends after its current run */
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->checkpointer, NULL);
    s->checkpointer_started = false;
    deliver_completions(s);
    for (size_t i = 0; i < WRITER_STMT_COUNT; i++) {
        sqlite3_finalize(*writer_stmt(s, i));
        *writer_stmt(s, i) = NULL;
    }
    sqlite3_close(s->wdb);
    sqlite3_close(s->rdb);
    s->wdb = s->rdb = NULL;
    uv_close((uv_handle_t *)&s->async, store_close_cb);
}

/* ---- search ------------------------------------------------------------------------------ */

#define STORE_SEARCH_MAX_TERMS 16
#define STORE_SEARCH_DEFAULT_LIMIT 50
#define STORE_SEARCH_MAX_LIMIT 200

/* Length in bytes of the UTF-8 white space at s (ASCII white space, U+3000), or 0. */
static size_t space_len(const char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
        return 1;
    if ((unsigned char)s[0] == 0xE3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x80)
        return 3;
    return 0;
}

static size_t code_points(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

static void append(char *buf, size_t cap, size_t *len, const char *text, size_t n)
{
    if (*len + n + 1 > cap)
        n = *len + 1 < cap ? cap - *len - 1 : 0;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = '\0';
}

static void add_column_text(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, (const char *)sqlite3_column_text(st, col));
}

static void add_column_int(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)sqlite3_column_int64(st, col));
}

cJSON *store_search(store *s, const store_search_query *q, char *err, size_t errlen)
{
    /* Terms: 3+ code points go into one FTS5 MATCH expression (each a quoted string, implicit
     * AND); shorter ones become LIKE '%term%' filters on the same table. */
    char match[2048] = "";
    size_t match_len = 0;
    char *likes[STORE_SEARCH_MAX_TERMS];
    size_t n_likes = 0, n_terms = 0;
    const char *p = q && q->text ? q->text : "";
    cJSON *out = NULL;
    sqlite3_stmt *st = NULL;
    char *sql = NULL;
    while (*p) {
        size_t sp;
        while ((sp = space_len(p)) > 0)
            p += sp;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !space_len(p))
            p++;
        size_t n = (size_t)(p - start);
        if (++n_terms > STORE_SEARCH_MAX_TERMS) {
            snprintf(err, errlen, "at most %d search terms", STORE_SEARCH_MAX_TERMS);
            goto done;
        }
        if (code_points(start, n) >= 3) {
            if (match_len)
                append(match, sizeof match, &match_len, " ", 1);
            append(match, sizeof match, &match_len, "\"", 1);
            for (size_t i = 0; i < n; i++)
                append(match, sizeof match, &match_len, start[i] == '"' ? "\"\"" : &start[i],
                       start[i] == '"' ? 2 : 1);
            append(match, sizeof match, &match_len, "\"", 1);
        } else {
            char *pattern = malloc(2 * n + 3), *w = pattern;
            if (!pattern) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
            *w++ = '%';
            for (size_t i = 0; i < n; i++) {
                if (start[i] == '%' || start[i] == '_' || start[i] == '\\')
                    *w++ = '\\';
                *w++ = start[i];
            }
            *w++ = '%';
            *w = '\0';
            likes[n_likes++] = pattern;
        }
    }
    if (n_terms == 0) {
        snprintf(err, errlen, "nothing to search for");
        goto done;
    }
    char where[1024] = "";
    size_t where_len = 0;
    if (match_len)
        append(where, sizeof where, &where_len, "search_index MATCH ?7", 21);
    for (size_t i = 0; i < n_likes; i++) {
        char cond[64];
        int n = snprintf(cond, sizeof cond, "%sbody LIKE ?%zu ESCAPE '\\'",
                         where_len ? " AND " : "", 8 + i);
        append(where, sizeof where, &where_len, cond, (size_t)n);
    }
    static const char sql_fmt[] =
        "WITH hits AS (SELECT rowid AS r, body, %s AS score FROM search_index WHERE %s)"
        " SELECT h.r %% 4, h.body, q.id, q.text, q.state, q.category, q.votes, q.created_at,"
        " q.author, a.id, a.status, a.owner, a.due, a.created_at, s.code, s.title, s.program_id,"
        " p.title, coalesce(s.started_at, s.scheduled_at)"
        " FROM hits h"
        " LEFT JOIN actions a ON h.r %% 4 = 2 AND a.id = h.r / 4"
        " LEFT JOIN questions q ON q.id = CASE WHEN h.r %% 4 = 2 THEN a.question_id"
        "                                      ELSE h.r / 4 END"
        " JOIN sessions s ON s.code = CASE WHEN h.r %% 4 = 2 THEN a.session ELSE q.session END"
        " LEFT JOIN programs p ON p.id = s.program_id"
        " WHERE (?1 IS NULL OR s.program_id = ?1)"
        " AND (?2 IS NULL OR coalesce(s.started_at, s.scheduled_at,"
        "      CASE WHEN h.r %% 4 = 2 THEN a.created_at ELSE q.created_at END) >= ?2)"
        " AND (?3 IS NULL OR coalesce(s.started_at, s.scheduled_at,"
        "      CASE WHEN h.r %% 4 = 2 THEN a.created_at ELSE q.created_at END) <= ?3)"
        " AND (?4 IS NULL OR q.category = ?4)"
        " AND (?5 IS NULL OR CASE WHEN h.r %% 4 = 2 THEN a.status ELSE q.state END = ?5)"
        " ORDER BY h.score, coalesce(q.votes, 0) DESC,"
        " CASE WHEN h.r %% 4 = 2 THEN a.created_at ELSE q.created_at END DESC, h.r"
        " LIMIT ?6";
    size_t cap = sizeof sql_fmt + sizeof where + 64;
    if (!(sql = malloc(cap))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    snprintf(sql, cap, sql_fmt, match_len ? "bm25(search_index)" : "0.0", where);
    int limit = q->limit > 0 ? q->limit : STORE_SEARCH_DEFAULT_LIMIT;
    if (limit > STORE_SEARCH_MAX_LIMIT)
        limit = STORE_SEARCH_MAX_LIMIT;
    int rc = sqlite3_prepare_v2(s->rdb, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = q->program_id > 0 ? sqlite3_bind_int64(st, 1, q->program_id) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = q->from_ms > 0 ? sqlite3_bind_int64(st, 2, q->from_ms) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = q->to_ms > 0 ? sqlite3_bind_int64(st, 3, q->to_ms) : SQLITE_OK;
    if (rc == SQLITE_OK && q->category)
        rc = sqlite3_bind_text(st, 4, q->category, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK && q->state)
        rc = sqlite3_bind_text(st, 5, q->state, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int(st, 6, limit);
    if (rc == SQLITE_OK && match_len)
        rc = sqlite3_bind_text(st, 7, match, -1, SQLITE_STATIC);
    for (size_t i = 0; rc == SQLITE_OK && i < n_likes; i++)
        rc = sqlite3_bind_text(st, 8 + (int)i, likes[i], -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "search failed: %s", sqlite3_errmsg(s->rdb));
        goto done;
    }
    if (!(out = cJSON_CreateArray())) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    static const char *const kinds[] = {"question", "answer", "action", "question"};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int kind = sqlite3_column_int(st, 0) & 3;
        bool is_action = kind == 2;
        cJSON *hit = cJSON_CreateObject();
        if (!hit)
            break;
        cJSON_AddItemToArray(out, hit);
        cJSON_AddStringToObject(hit, "kind", kinds[kind]);
        add_column_int(hit, "question_id", st, 2);
        if (is_action)
            add_column_int(hit, "action_id", st, 9);
        add_column_text(hit, "session", st, 14);
        add_column_text(hit, "session_title", st, 15);
        add_column_int(hit, "program_id", st, 16);
        add_column_text(hit, "program", st, 17);
        add_column_int(hit, "session_date", st, 18);
        add_column_text(hit, "text", st, 1);
        add_column_text(hit, "question_text", st, 3);
        add_column_text(hit, "state", st, is_action ? 10 : 4);
        add_column_text(hit, "category", st, 5);
        add_column_int(hit, "votes", st, 6);
        add_column_text(hit, "author", st, 8);
        add_column_int(hit, "created_at", st, is_action ? 13 : 7);
        if (is_action) {
            add_column_text(hit, "owner", st, 11);
            add_column_text(hit, "due", st, 12);
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "search failed: %s", sqlite3_errmsg(s->rdb));
        cJSON_Delete(out);
        out = NULL;
    }
done:
    sqlite3_finalize(st);
    free(sql);
    for (size_t i = 0; i < n_likes; i++)
        free(likes[i]);
    return out;
}

/* ---- backup ------------------------------------------------------------------------------ */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fsyncs the file at path (and, with dir set, the directory holding it). */
static int sync_path(const char *path, bool dir)
{
    char *copy = NULL;
    if (dir) {
        copy = strdup(path);
        if (!copy)
            return -1;
        char *slash = strrchr(copy, '/');
        if (slash && slash != copy)
            *slash = '\0';
        else
            snprintf(copy, strlen(copy) + 1, "%s", slash ? "/" : ".");
        path = copy;
    }
    int fd = open(path, O_RDONLY);
    int rc = fd < 0 ? -1 : fsync(fd);
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

int store_backup_file(const char *src_path, const char *dest_path, bool overwrite,
                      store_backup_info *info, char *err, size_t errlen)
{
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *bk = NULL;
    char tmp[1100];
    int ret = -1;
    int64_t started = wall_ms();
    struct stat sb;
    memset(info, 0, sizeof *info);
    if (stat(src_path, &sb) != 0) {
        snprintf(err, errlen, "cannot open database %s: %s", src_path, strerror(errno));
        return -1;
    }
    if (!overwrite && stat(dest_path, &sb) == 0) {
        snprintf(err, errlen, "%s already exists", dest_path);
        return -1;
    }
    if (make_parent_dirs(dest_path, err, errlen))
        return -1;
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", dest_path, (long)getpid());
    unlink(tmp);
    create_private_file(tmp); /* the copy is renamed into place with this mode */
    if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", src_path,
                 src ? sqlite3_errmsg(src) : "out of memory");
        goto done;
    }
    sqlite3_busy_timeout(src, STORE_BUSY_TIMEOUT_MS);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", tmp,
                 dst ? sqlite3_errmsg(dst) : "out of memory");
        goto done;
    }
    if (!(bk = sqlite3_backup_init(dst, "main", src, "main"))) {
        snprintf(err, errlen, "cannot back up %s: %s", src_path, sqlite3_errmsg(dst));
        goto done;
    }
    /* One step copies every page under one read snapshot: writers go on (WAL), and the copy
     * holds exactly what was committed when the step began. Busy or locked: wait and retry. */
    int rc, tries = 0;
    while ((rc = sqlite3_backup_step(bk, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        if (++tries > 100)
            break;
        sqlite3_sleep(50);
    }
    info->pages = sqlite3_backup_pagecount(bk);
    sqlite3_backup_finish(bk);
    bk = NULL;
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "backup of %s failed: %s", src_path, sqlite3_errstr(rc));
        goto done;
    }
    sqlite3_stmt *check = NULL;
    const char *verdict = NULL;
    if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &check, NULL) == SQLITE_OK &&
        sqlite3_step(check) == SQLITE_ROW)
        verdict = (const char *)sqlite3_column_text(check, 0);
    if (!verdict || strcmp(verdict, "ok") != 0) {
        snprintf(err, errlen, "the copy failed its check: %s",
                 verdict ? verdict : sqlite3_errmsg(dst));
        sqlite3_finalize(check);
        goto done;
    }
    sqlite3_finalize(check);
    check = NULL;
    if (sqlite3_prepare_v2(dst, "SELECT count(*) FROM events", -1, &check, NULL) == SQLITE_OK &&
        sqlite3_step(check) == SQLITE_ROW)
        info->events = sqlite3_column_int64(check, 0);
    sqlite3_finalize(check);
    if (sqlite3_close(dst) != SQLITE_OK) {
        snprintf(err, errlen, "cannot close %s", tmp);
        goto done;
    }
    dst = NULL;
    if (sync_path(tmp, false) != 0 || rename(tmp, dest_path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", dest_path, strerror(errno));
        goto done;
    }
    sync_path(dest_path, true);
    char *resolved = realpath(dest_path, NULL);
    snprintf(info->path, sizeof info->path, "%s", resolved ? resolved : dest_path);
    free(resolved);
    if (stat(dest_path, &sb) == 0)
        info->bytes = (int64_t)sb.st_size;
    ret = 0;
done:
    if (bk)
        sqlite3_backup_finish(bk);
    sqlite3_close(dst);
    sqlite3_close(src);
    if (ret)
        unlink(tmp);
    info->elapsed_ms = wall_ms() - started;
    return ret;
}

typedef struct backup_work {
    uv_work_t req;
    store *s;
    char src[PATH_MAX];
    char dest[PATH_MAX];
    store_backup_done_fn done;
    void *arg;
    int rc;
    store_backup_info info;
    char err[512];
} backup_work;

static void backup_run(uv_work_t *req)
{
    backup_work *w = req->data;
    w->rc = store_backup_file(w->src, w->dest, false, &w->info, w->err, sizeof w->err);
}

static void backup_finished(uv_work_t *req, int status)
{
    backup_work *w = req->data;
    store *s = w->s;
    if (status != 0 && w->rc == 0) {
        w->rc = -1;
        snprintf(w->err, sizeof w->err, "the backup was cancelled");
    }
    s->backups_running--;
    w->done(w->arg, w->rc, &w->info, w->err);
    if (s->free_when_idle && s->backups_running == 0)
        store_free(s);
    free(w);
}

int store_backup_start(store *s, const char *name, store_backup_done_fn done, void *arg,
                       char *err, size_t errlen)
{
    if (s->backups_running > 0 || s->closing) {
        snprintf(err, errlen, s->closing ? "the server is shutting down"
                                         : "a backup is already running");
        return -1;
    }
    backup_work *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->s = s;
    w->done = done;
    w->arg = arg;
    w->req.data = w;
    snprintf(w->src, sizeof w->src, "%s", s->path);
    const char *slash = strrchr(s->path, '/');
    int dir_len = slash ? (int)(slash - s->path) : 1;
    const char *dir = slash ? s->path : ".";
    char stamp[32];
    if (!name) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "forum-%Y%m%d-%H%M%S", &tm);
    }
    struct stat sb;
    for (int i = 1;; i++) {
        int n;
        if (name)
            n = snprintf(w->dest, sizeof w->dest, "%.*s/backups/%s", dir_len, dir, name);
        else if (i == 1)
            n = snprintf(w->dest, sizeof w->dest, "%.*s/backups/%s.db", dir_len, dir, stamp);
        else
            n = snprintf(w->dest, sizeof w->dest, "%.*s/backups/%s-%d.db", dir_len, dir, stamp, i);
        if (n < 0 || (size_t)n >= sizeof w->dest) {
            snprintf(err, errlen, "the backup path is too long");
            free(w);
            return -1;
        }
        if (stat(w->dest, &sb) != 0)
            break;
        if (name || i > 100) {
            snprintf(err, errlen, "%s already exists", w->dest);
            free(w);
            return -1;
        }
    }
    if (uv_queue_work(s->loop, &w->req, backup_run, backup_finished) != 0) {
        snprintf(err, errlen, "cannot start a worker thread");
        free(w);
        return -1;
    }
    s->backups_running++;
    return 0;
}

int store_backlog_size(store *s, const char *session, int64_t after_seq, int64_t *count,
                       int64_t *bytes)
{
    sqlite3_stmt *st = NULL;
    *count = *bytes = 0;
    if (sqlite3_prepare_v2(s->rdb,
                           "SELECT count(*), coalesce(sum(length(payload)) + 64 * count(*), 0) "
                           "FROM events WHERE session = ?1 AND seq > ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after_seq);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        *bytes = sqlite3_column_int64(st, 1);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}
