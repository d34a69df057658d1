/* test_store.c — unit tests of store.c against real SQLite files in a temp directory:
 * migrations, open errors, asynchronous group commit and completion order, replay, the
 * projection tables, failure on a full disk (a tiny tmpfs) and recovery, plus a throughput
 * print with STORE_BENCH=1 (never an assertion). Links store.c, the embedded schema, SQLite, libuv and cJSON. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "schema_embed.h"
#include "store.h"

static char tmp_root[] = "/tmp/test_store.XXXXXX";

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmp_root, name);
}

static int latest_version(void)
{
    int v = 0;
    for (int i = 0; i < store_migration_count; i++)
        if (store_migrations[i].version > v)
            v = store_migrations[i].version;
    return v;
}

/* A typed event of session decoded from a payload (and secret, may be NULL) in stored JSON. */
static forum_event make_event_with_secret(const char *session, int64_t seq, const char *kind,
                                          const char *payload_json, const char *secret_json)
{
    forum_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.session, sizeof ev.session, "%s", session);
    ev.seq = seq;
    ev.at = 1700000000000 + seq;
    ev.offset_ms = seq % 2 ? -1 : seq * 10;
    snprintf(ev.actor, sizeof ev.actor, "viewer:v%lld", (long long)seq);
    ev.kind = forum_kind_from_name(kind);
    ev.audience = FORUM_AUD_PUBLIC;
    int rc = ev.kind == FORUM_EV__COUNT
                 ? -1
                 : forum_event_decode_text(&ev, payload_json, strlen(payload_json), secret_json,
                                           secret_json ? strlen(secret_json) : 0);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "    make_event: cannot decode %s %s\n", kind, payload_json);
    return ev;
}

static forum_event make_event(const char *session, int64_t seq, const char *kind,
                              const char *payload_json)
{
    return make_event_with_secret(session, seq, kind, payload_json, NULL);
}

/* An empty panel.changed: events whose content does not matter. */
#define ANY_PAYLOAD "{\"panel\":{\"speaker_ids\":[]}}"

static void free_events(forum_event *evs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        forum_event_clear(&evs[i]);
}

/* ---- a loop and a store ---- */

typedef struct fixture {
    uv_loop_t loop;
    store *s;
    char path[512];
} fixture;

static int fixture_open(fixture *f, const char *path, char *err, size_t errlen)
{
    uv_loop_init(&f->loop);
    snprintf(f->path, sizeof f->path, "%s", path);
    store_options opt = {.path = path, .synchronous_full = true, .max_batch_events = 10000};
    return store_open(&f->s, &opt, &f->loop, err, errlen);
}

static void fixture_close(fixture *f)
{
    if (f->s)
        store_close(f->s);
    f->s = NULL;
    uv_run(&f->loop, UV_RUN_DEFAULT); /* lets the store's close callback free it */
    CHECK(uv_loop_close(&f->loop) == 0);
}

static sqlite3 *inspect(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    return db;
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

static void query_text(sqlite3 *db, const char *sql, char *buf, size_t n)
{
    sqlite3_stmt *st = NULL;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0))
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* ---- completions recorder ---- */

enum { MAX_RECORDED = 4096 };
typedef struct recorder {
    int order[MAX_RECORDED];
    int rc[MAX_RECORDED];
    int n;
} recorder;

typedef struct test_batch {
    store_batch batch;
    recorder *rec;
    int index;
} test_batch;

static void on_done(store_batch *b, int rc)
{
    test_batch *t = b->ctx;
    if (t->rec->n < MAX_RECORDED) {
        t->rec->order[t->rec->n] = t->index;
        t->rec->rc[t->rec->n] = rc;
    }
    t->rec->n++;
}

static void submit(store *s, test_batch *t, recorder *rec, int index, forum_event *evs, size_t n)
{
    memset(t, 0, sizeof *t);
    t->batch.events = evs;
    t->batch.n_events = n;
    t->batch.done = on_done;
    t->batch.ctx = t;
    t->rec = rec;
    t->index = index;
    store_append(s, &t->batch);
}

static void run_until(uv_loop_t *loop, const recorder *rec, int n)
{
    while (rec->n < n)
        uv_run(loop, UV_RUN_ONCE);
}

static int count_events(void *arg, const forum_event *ev)
{
    (*(int *)arg)++;
    return 0;
}

/* ---- tests ---- */

static void test_migrations_applied_and_parent_created(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "nested/dir/forum.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    CHECK(store_schema_version(f.s) == latest_version());
    CHECK(store_schema_version(f.s) >= 1);
    fixture_close(&f);
    sqlite3 *db = inspect(path);
    CHECK(query_int(db, "PRAGMA user_version") == latest_version());
    CHECK(query_int(db, "SELECT count(*) FROM migrations") == store_migration_count);
    CHECK(query_int(db, "SELECT count(*) FROM migrations WHERE name = '001_init.sql'"
                        " AND applied_at > 1600000000000") == 1);
    char mode[16];
    query_text(db, "PRAGMA journal_mode", mode, sizeof mode);
    CHECK_STR(mode, "wal");
    sqlite3_close(db);
}

static void test_reopen_does_not_reapply(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "reopen.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    CHECK(store_meta_set(f.s, "producer_key_hash", "abc123") == 0);
    fixture_close(&f);
    sqlite3 *db = inspect(path);
    long long applied = query_int(db, "SELECT applied_at FROM migrations WHERE version = 1");
    sqlite3_close(db);

    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    CHECK(store_schema_version(f.s) == latest_version());
    char buf[64];
    CHECK(store_meta_get(f.s, "producer_key_hash", buf, sizeof buf) == 0);
    CHECK_STR(buf, "abc123");
    fixture_close(&f);
    db = inspect(path);
    CHECK(query_int(db, "SELECT count(*) FROM migrations") == store_migration_count);
    CHECK(query_int(db, "SELECT applied_at FROM migrations WHERE version = 1") == applied);
    sqlite3_close(db);
}

static void test_newer_schema_refused(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "newer.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    fixture_close(&f);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    CHECK(fixture_open(&f, path, err, sizeof err) == -1);
    CHECK(f.s == NULL);
    CHECK(strstr(err, "database schema version 999 is newer than this forumd knows") != NULL);
    CHECK(strstr(err, "upgrade forumd") != NULL);
    CHECK(strstr(err, path) != NULL);
    fixture_close(&f);
}

static void test_unreadable_file_reported(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "garbage.db");
    FILE *fp = fopen(path, "w");
    for (int i = 0; i < 512; i++)
        fputs("this is not a database ", fp);
    fclose(fp);
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == -1);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "not a database") != NULL);
    fixture_close(&f);

    /* a directory where the file should be */
    tmp_path(path, sizeof path, "adir.db");
    mkdir(path, 0755);
    err[0] = '\0';
    CHECK(fixture_open(&f, path, err, sizeof err) == -1);
    CHECK(strstr(err, path) != NULL);
    CHECK(strstr(err, "unable to open") != NULL);
    fixture_close(&f);

    /* a parent that cannot be created (a file in the way) */
    char blocked[512];
    snprintf(blocked, sizeof blocked, "%s/garbage.db/sub/x.db", tmp_root);
    err[0] = '\0';
    CHECK(fixture_open(&f, blocked, err, sizeof err) == -1);
    CHECK(strstr(err, "cannot create directory") != NULL);
    fixture_close(&f);
}

static void test_async_batches_complete_in_order(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "order.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    enum { N = 20 };
    forum_event evs[N][3];
    test_batch tb[N];
    recorder rec = {0};
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i % 4 == 3 ? 0 : 3); /* every fourth one is a barrier */
        for (size_t k = 0; k < n; k++)
            evs[i][k] = make_event("ORD1", i * 3 + (int)k + 1, "panel.changed", ANY_PAYLOAD);
        submit(f.s, &tb[i], &rec, i, evs[i], n);
        if (i == 9)
            uv_run(&f.loop, UV_RUN_NOWAIT); /* split the submissions over loop turns */
    }
    run_until(&f.loop, &rec, N);
    CHECK(rec.n == N);
    for (int i = 0; i < N; i++) {
        CHECK(rec.order[i] == i);
        CHECK(rec.rc[i] == 0);
    }
    store_stats st;
    store_get_stats(f.s, &st);
    CHECK(st.events_committed == 45);
    CHECK(st.queued_batches == 0);
    CHECK(st.latency_le[11] == N);
    CHECK(st.failed_transactions == 0);
    fixture_close(&f);
    for (int i = 0; i < N; i++)
        free_events(evs[i], (size_t)(i % 4 == 3 ? 0 : 3));
}

static void test_barrier_alone_completes_without_transaction(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "barrier.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    recorder rec = {0};
    test_batch a, b;
    submit(f.s, &a, &rec, 0, NULL, 0);
    submit(f.s, &b, &rec, 1, NULL, 0);
    run_until(&f.loop, &rec, 2);
    CHECK(rec.order[0] == 0 && rec.order[1] == 1);
    CHECK(rec.rc[0] == 0 && rec.rc[1] == 0);
    store_stats st;
    store_get_stats(f.s, &st);
    CHECK(st.transactions == 0);
    fixture_close(&f);
}

static void test_group_commit_uses_few_transactions(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "group.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    enum { N = 1000 };
    static forum_event evs[N];
    static test_batch tb[N];
    static recorder rec;
    memset(&rec, 0, sizeof rec);
    for (int i = 0; i < N; i++) {
        evs[i] = make_event("GRP1", i + 1, "vote.added", "{\"question_id\":1}");
        submit(f.s, &tb[i], &rec, i, &evs[i], 1);
    }
    run_until(&f.loop, &rec, N);
    int in_order = 1, all_ok = 1;
    for (int i = 0; i < N; i++) {
        in_order &= rec.order[i] == i;
        all_ok &= rec.rc[i] == 0;
    }
    CHECK(in_order);
    CHECK(all_ok);
    store_stats st;
    store_get_stats(f.s, &st);
    printf("group commit: %d batches -> %llu transactions\n", N,
           (unsigned long long)st.transactions);
    CHECK(st.transactions < N);
    CHECK(st.events_committed == N);
    int loaded = 0;
    CHECK(store_load(f.s, count_events, &loaded) == 0);
    CHECK(loaded == N);
    fixture_close(&f);
    free_events(evs, N);
}

static void test_max_batch_events_caps_a_transaction(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "cap.db");
    uv_loop_t loop;
    uv_loop_init(&loop);
    store *s = NULL;
    store_options opt = {.path = path, .synchronous_full = false, .max_batch_events = 10};
    CHECK(store_open(&s, &opt, &loop, err, sizeof err) == 0);
    enum { N = 40 };
    forum_event evs[N];
    test_batch tb[N / 4];
    recorder rec = {0};
    for (int i = 0; i < N; i++)
        evs[i] = make_event("CAP1", i + 1, "vote.added", "{\"question_id\":1}");
    for (int i = 0; i < N / 4; i++)
        submit(s, &tb[i], &rec, i, &evs[i * 4], 4); /* batches of 4: at most 2 per txn */
    run_until(&loop, &rec, N / 4);
    store_stats st;
    store_get_stats(s, &st);
    CHECK(st.transactions >= 5);
    CHECK(st.events_committed == N);
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    free_events(evs, N);
}

typedef struct collected {
    char *json[64];   /* payload, staff rendering */
    char *secret[64]; /* secret, NULL if none */
    forum_event head[64];
    int n;
} collected;

static char *secret_text(const forum_event *ev)
{
    jsonw w = {0};
    return forum_event_write_secret(&w, ev) ? jsonw_finish(&w) : NULL;
}

static int collect(void *arg, const forum_event *ev)
{
    collected *c = arg;
    if (c->n < 64) {
        c->json[c->n] = forum_event_payload_text(ev, FORUM_VIEW_STAFF);
        c->secret[c->n] = secret_text(ev);
        c->head[c->n] = *ev;
        memset(&c->head[c->n].p, 0, sizeof c->head[c->n].p);
        memset(&c->head[c->n].secret, 0, sizeof c->head[c->n].secret);
        c->head[c->n].arena.head = NULL;
    }
    c->n++;
    return 0;
}

static void collected_free(collected *c)
{
    for (int i = 0; i < c->n && i < 64; i++) {
        free(c->json[i]);
        free(c->secret[i]);
    }
}

static void test_load_returns_events_in_commit_order(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "load.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    /* commit order interleaves sessions; the studio log is session "" */
    static const char hash[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char secret[128];
    snprintf(secret, sizeof secret, "{\"moderator_key_hash\":\"%s\"}", hash);
    forum_event evs[6] = {
        make_event("BBB", 1, "session.changed",
                   "{\"session\":{\"code\":\"BBB\",\"program_id\":1,\"title\":\"B\","
                   "\"status\":\"draft\"}}"),
        make_event_with_secret("AAA", 1, "session.changed",
                               "{\"session\":{\"code\":\"AAA\",\"program_id\":1,\"title\":\"A\","
                               "\"status\":\"draft\"}}",
                               secret),
        make_event("", 1, "program.changed", "{\"program\":{\"id\":1,\"title\":\"Prog\"}}"),
        make_event("AAA", 2, "question.submitted",
                   "{\"question\":{\"id\":7,\"text\":\"为什么？ \\\"quoted\\\"\",\"votes\":0,"
                   "\"state\":\"pending\",\"created_at\":1700000000123}}"),
        make_event("BBB", 2, "onair.changed", "{\"question_id\":null}"),
        make_event("AAA", 3, "panel.changed", "{\"panel\":{\"banner\":null,\"speaker_ids\":[2]}}"),
    };
    snprintf(evs[3].subject, sizeof evs[3].subject, "v0123456789abcdef");
    snprintf(evs[3].request_id, sizeof evs[3].request_id, "req-1");
    evs[3].audience = FORUM_AUD_STAFF_AND_SUBJECT;
    CHECK(store_append_sync(f.s, evs, 3) == 0);
    recorder rec = {0};
    test_batch tb;
    submit(f.s, &tb, &rec, 0, evs + 3, 3);
    run_until(&f.loop, &rec, 1);
    CHECK(rec.rc[0] == 0);

    collected c = {0};
    CHECK(store_load(f.s, collect, &c) == 0);
    CHECK(c.n == 6);
    for (int i = 0; i < 6 && i < c.n; i++) {
        /* what is read back renders exactly as what was stored */
        char *want = forum_event_payload_text(&evs[i], FORUM_VIEW_STAFF);
        CHECK_STR(c.json[i], want);
        free(want);
        CHECK_STR(c.head[i].session, evs[i].session);
        CHECK(c.head[i].seq == evs[i].seq);
        CHECK(c.head[i].at == evs[i].at);
        CHECK(c.head[i].offset_ms == evs[i].offset_ms);
        CHECK_STR(c.head[i].actor, evs[i].actor);
        CHECK(c.head[i].kind == evs[i].kind);
        CHECK(c.head[i].audience == evs[i].audience);
        CHECK_STR(c.head[i].subject, evs[i].subject);
        CHECK_STR(c.head[i].request_id, evs[i].request_id);
        CHECK((c.secret[i] != NULL) == (i == 1));
    }
    if (c.n > 1)
        CHECK_STR(c.secret[1], secret);
    collected_free(&c);
    fixture_close(&f);

    /* and after a restart */
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    int n = 0;
    CHECK(store_load(f.s, count_events, &n) == 0);
    CHECK(n == 6);
    fixture_close(&f);
    free_events(evs, 6);
}

/* store writes JSON with the server's own writer (jsonw): the stored text must read back as the
 * same values, for awkward strings and large integers too (every digit, no exponent). */
static void test_stored_payload_text_reads_back_exactly(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "text.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    static const char awkward[] =
        "tab\t nl\n cr\r bs\b ff\f quote\" back\\ ctl\x01\x1f slash/ 中文 emoji \xf0\x9f\x98\x80 "
        "del\x7f \xe2\x80\xa8";
    static const int64_t times[] = {0, 1, 2147483648LL, 1700000000123LL, 9007199254740991LL};
    enum { N = sizeof times / sizeof times[0] };
    forum_event evs[N];
    for (size_t i = 0; i < N; i++) {
        evs[i] = make_event("TXT", (int64_t)i + 1, "question.submitted",
                            "{\"question\":{\"id\":1,\"text\":\"x\",\"state\":\"pending\"}}");
        evs[i].p.question.q.id = (int64_t)i + 1;
        evs[i].p.question.q.text = awkward;
        evs[i].p.question.q.author = awkward;
        evs[i].p.question.q.created_at = times[i];
        evs[i].p.question.q.votes = times[i];
    }
    CHECK(store_append_sync(f.s, evs, N) == 0);
    collected c = {0};
    CHECK(store_load(f.s, collect, &c) == 0);
    CHECK(c.n == N);
    sqlite3 *db = inspect(path);
    for (size_t i = 0; i < N && (int)i < c.n; i++) {
        cJSON *back = cJSON_Parse(c.json[i]);
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(back, "question");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "text")), awkward);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "author")), awkward);
        char sql[160], want[64], text[64];
        snprintf(sql, sizeof sql,
                 "SELECT json_extract(payload, '$.question.created_at') FROM events WHERE"
                 " session = 'TXT' AND seq = %zu",
                 i + 1);
        query_text(db, sql, text, sizeof text);
        snprintf(want, sizeof want, "%lld", (long long)times[i]);
        CHECK_STR(text, want); /* an integer, every digit */
        cJSON_Delete(back);
    }
    sqlite3_close(db);
    collected_free(&c);
    fixture_close(&f);
    for (size_t i = 0; i < N; i++)
        forum_event_clear(&evs[i]);
}

static int stop_at_two(void *arg, const forum_event *ev)
{
    return ++*(int *)arg == 2 ? 42 : 0;
}

static void test_load_stops_when_callback_says_so(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "load.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    int n = 0;
    CHECK(store_load(f.s, stop_at_two, &n) == 42);
    CHECK(n == 2);
    fixture_close(&f);
}

static int collect_seq(void *arg, const forum_event *ev)
{
    int64_t *seqs = arg;
    seqs[++seqs[0]] = ev->seq;
    return 0;
}

static void test_events_after(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "after.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event evs[20];
    for (int i = 0; i < 10; i++) {
        evs[2 * i] = make_event("S1", i + 1, "panel.changed", ANY_PAYLOAD);
        evs[2 * i + 1] = make_event("S2", i + 1, "panel.changed", ANY_PAYLOAD);
    }
    CHECK(store_append_sync(f.s, evs, 20) == 0);
    int64_t seqs[32] = {0};
    CHECK(store_events_after(f.s, "S1", 3, 4, collect_seq, seqs) == 4);
    CHECK(seqs[0] == 4);
    CHECK(seqs[1] == 4 && seqs[2] == 5 && seqs[3] == 6 && seqs[4] == 7);
    memset(seqs, 0, sizeof seqs);
    CHECK(store_events_after(f.s, "S2", 8, 100, collect_seq, seqs) == 2);
    CHECK(seqs[1] == 9 && seqs[2] == 10);
    CHECK(store_events_after(f.s, "S2", 10, 100, collect_seq, seqs) == 0);
    CHECK(store_events_after(f.s, "NOPE", 0, 100, collect_seq, seqs) == 0);
    fixture_close(&f);
    free_events(evs, 20);
}

static void test_projections(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "proj.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event evs[] = {
        make_event("", 1, "program.changed",
                   "{\"program\":{\"id\":3,\"title\":\"Town hall\",\"description\":\"d\"}}"),
        make_event("K7M3PQ", 1, "session.changed",
                   "{\"session\":{\"code\":\"K7M3PQ\",\"program_id\":3,\"title\":\"T\","
                   "\"topic\":\"Budget\",\"status\":\"draft\",\"scheduled_at\":1700000000000}}"),
        make_event("K7M3PQ", 2, "question.submitted",
                   "{\"question\":{\"id\":11,\"text\":\"Why?\",\"author\":null,"
                   "\"category\":\"question\",\"to\":null,\"parent_id\":null,"
                   "\"state\":\"pending\",\"votes\":0,\"created_at\":1700000000002,"
                   "\"phase\":\"pre\",\"answer_note\":null,\"starred\":false,"
                   "\"source\":\"web\",\"viewer_id\":\"vaaa\"}}"),
        make_event("K7M3PQ", 3, "question.published",
                   "{\"question\":{\"id\":11,\"text\":\"Why?\",\"state\":\"published\","
                   "\"votes\":0,\"starred\":true,\"viewer_id\":\"vaaa\"}}"),
        make_event("K7M3PQ", 4, "question.submitted",
                   "{\"question\":{\"id\":12,\"text\":\"Dup\",\"state\":\"published\","
                   "\"votes\":0}}"),
        make_event("K7M3PQ", 5, "vote.added", "{\"question_id\":11}"),
        make_event("K7M3PQ", 6, "vote.added", "{\"question_id\":11}"),
        make_event("K7M3PQ", 7, "vote.added", "{\"question_id\":12}"),
        make_event("K7M3PQ", 8, "vote.removed", "{\"question_id\":11}"),
        make_event("K7M3PQ", 9, "votes.changed", "{\"counts\":{\"11\":1,\"12\":1}}"),
        make_event("K7M3PQ", 10, "question.merged",
                   "{\"question\":{\"id\":12,\"text\":\"Dup\",\"state\":\"dismissed\",\"votes\":0},"
                   "\"into\":{\"id\":11,\"text\":\"Why?\",\"state\":\"published\","
                   "\"votes\":2}}"),
        make_event("K7M3PQ", 11, "poll.changed",
                   "{\"poll\":{\"id\":5,\"title\":\"P\",\"state\":\"open\",\"options\":[{\"text\":\"是\"}]}}"),
        make_event("K7M3PQ", 12, "session.changed",
                   "{\"session\":{\"code\":\"K7M3PQ\",\"program_id\":3,\"title\":\"T\","
                   "\"status\":\"live\",\"started_at\":1700000000100}}"),
    };
    size_t n = sizeof evs / sizeof evs[0];
    evs[2].audience = FORUM_AUD_STAFF_AND_SUBJECT;
    snprintf(evs[2].subject, sizeof evs[2].subject, "vaaa");
    snprintf(evs[2].request_id, sizeof evs[2].request_id, "r1");
    snprintf(evs[5].subject, sizeof evs[5].subject, "v1");
    snprintf(evs[6].subject, sizeof evs[6].subject, "v2");
    snprintf(evs[7].subject, sizeof evs[7].subject, "v1");
    snprintf(evs[8].subject, sizeof evs[8].subject, "v1");
    for (size_t i = 5; i < 9; i++)
        evs[i].audience = FORUM_AUD_NOBODY;
    /* first half up to the vote count, then check the intermediate state */
    CHECK(store_append_sync(f.s, evs, 10) == 0);
    sqlite3 *db = inspect(path);
    CHECK(query_int(db, "SELECT votes FROM questions WHERE id = 11") == 1);
    CHECK(query_int(db, "SELECT json_extract(json, '$.votes') FROM questions WHERE id = 11") == 1);
    CHECK(query_int(db, "SELECT starred FROM questions WHERE id = 11") == 1);
    CHECK(query_int(db, "SELECT count(*) FROM votes") == 2);
    CHECK(query_int(db, "SELECT count(*) FROM votes WHERE question_id = 11 AND viewer_id = 'v2'") ==
          1);
    CHECK(query_int(db, "SELECT count(*) FROM events WHERE session = 'K7M3PQ' AND"
                        " subject = 'vaaa' AND request_id = 'r1'") == 1);
    sqlite3_close(db);

    recorder rec = {0};
    test_batch tb;
    submit(f.s, &tb, &rec, 0, evs + 10, n - 10);
    run_until(&f.loop, &rec, 1);
    CHECK(rec.rc[0] == 0);
    db = inspect(path);
    char text[256];
    query_text(db, "SELECT state FROM questions WHERE id = 12", text, sizeof text);
    CHECK_STR(text, "dismissed");
    query_text(db, "SELECT session FROM questions WHERE id = 12", text, sizeof text);
    CHECK_STR(text, "K7M3PQ");
    CHECK(query_int(db, "SELECT votes FROM questions WHERE id = 11") == 2);
    query_text(db, "SELECT status FROM sessions WHERE code = 'K7M3PQ'", text, sizeof text);
    CHECK_STR(text, "live");
    CHECK(query_int(db, "SELECT program_id FROM sessions WHERE code = 'K7M3PQ'") == 3);
    CHECK(query_int(db, "SELECT started_at FROM sessions WHERE code = 'K7M3PQ'") ==
          1700000000100);
    query_text(db, "SELECT title FROM programs WHERE id = 3", text, sizeof text);
    CHECK_STR(text, "Town hall");
    query_text(db, "SELECT state FROM polls WHERE id = 5", text, sizeof text);
    CHECK_STR(text, "open");
    query_text(db, "SELECT json_extract(json, '$.title') FROM polls WHERE id = 5", text,
               sizeof text);
    CHECK_STR(text, "P");
    CHECK(query_int(db, "SELECT count(*) FROM events") == (long long)n);
    sqlite3_close(db);
    fixture_close(&f);
    free_events(evs, n);
}

static void test_meta_roundtrip(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "meta.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    char buf[8];
    CHECK(store_meta_get(f.s, "missing", buf, sizeof buf) == 1);
    CHECK(store_meta_set(f.s, "k", "v1") == 0);
    CHECK(store_meta_set(f.s, "k", "v2") == 0);
    CHECK(store_meta_get(f.s, "k", buf, sizeof buf) == 0);
    CHECK_STR(buf, "v2");
    CHECK(store_meta_set(f.s, "long", "0123456789") == 0);
    CHECK(store_meta_get(f.s, "long", buf, sizeof buf) == -1); /* never truncated */
    fixture_close(&f);
}

static void test_bad_batch_does_not_fail_its_neighbours(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "dup.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event evs[4] = {
        make_event("D1", 1, "panel.changed", ANY_PAYLOAD),
        make_event("D1", 2, "panel.changed", ANY_PAYLOAD),
        make_event("D1", 1, "panel.changed", ANY_PAYLOAD), /* duplicate (session, seq) */
        make_event("D1", 3, "panel.changed", ANY_PAYLOAD),
    };
    recorder rec = {0};
    test_batch tb[3];
    submit(f.s, &tb[0], &rec, 0, evs, 2);
    submit(f.s, &tb[1], &rec, 1, evs + 2, 1);
    submit(f.s, &tb[2], &rec, 2, evs + 3, 1);
    run_until(&f.loop, &rec, 3);
    CHECK(rec.order[0] == 0 && rec.order[1] == 1 && rec.order[2] == 2);
    CHECK(rec.rc[0] == 0);
    CHECK(rec.rc[1] < 0);
    CHECK(rec.rc[2] == 0);
    int64_t seqs[8] = {0};
    CHECK(store_events_after(f.s, "D1", 0, 10, collect_seq, seqs) == 3);
    store_stats st;
    store_get_stats(f.s, &st);
    CHECK(st.failed_transactions >= 1);
    CHECK(st.events_committed == 3);
    fixture_close(&f);
    free_events(evs, 4);
}

/* Fills the file system under dir until it is full. Returns the filler's path length or 0. */
static int fill_disk(const char *dir, char *filler, size_t n)
{
    snprintf(filler, n, "%s/filler", dir);
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 0;
    char block[4096];
    memset(block, 'x', sizeof block);
    while (write(fd, block, sizeof block) > 0)
        ;
    while (write(fd, block, 1) > 0)
        ;
    close(fd);
    return 1;
}

static void test_full_disk_fails_cleanly_then_recovers(void)
{
    char dir[512], path[600], filler[600], err[512] = "";
    tmp_path(dir, sizeof dir, "tiny");
    mkdir(dir, 0755);
    if (mount("tmpfs", dir, "tmpfs", 0, "size=4m") != 0) {
        printf("note: skipping the full-disk test (cannot mount a tmpfs: %s)\n", strerror(errno));
        return;
    }
    snprintf(path, sizeof path, "%s/forum.db", dir);
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event first = make_event("F1", 1, "panel.changed", ANY_PAYLOAD);
    CHECK(store_append_sync(f.s, &first, 1) == 0);

    /* 600 events of ~1.5 KiB: more than the free space once the disk is filled */
    enum { N = 600 };
    static forum_event evs[N];
    char big[1600];
    memset(big, 'q', sizeof big);
    snprintf(big, sizeof big, "{\"question\":{\"id\":%d,\"text\":\"", 1);
    size_t len = strlen(big);
    memset(big + len, 'q', 1400);
    snprintf(big + len + 1400, sizeof big - len - 1400, "\",\"state\":\"pending\"}}");
    for (int i = 0; i < N; i++)
        evs[i] = make_event("F1", i + 2, "question.submitted", big);
    CHECK(fill_disk(dir, filler, sizeof filler));

    recorder rec = {0};
    test_batch tb[4];
    submit(f.s, &tb[0], &rec, 0, evs, N / 2);
    submit(f.s, &tb[1], &rec, 1, evs + N / 2, N / 2);
    submit(f.s, &tb[2], &rec, 2, NULL, 0);
    run_until(&f.loop, &rec, 3);
    CHECK(rec.order[0] == 0 && rec.order[1] == 1 && rec.order[2] == 2);
    CHECK(rec.rc[0] < 0);
    CHECK(rec.rc[1] < 0);
    int64_t seqs[8] = {0};
    CHECK(store_events_after(f.s, "F1", 0, 5, collect_seq, seqs) == 1); /* nothing half-written */
    store_stats st;
    store_get_stats(f.s, &st);
    CHECK(st.failed_transactions >= 1);

    /* space comes back, but batches built before the owner reloaded its state are refused */
    unlink(filler);
    rec.n = 0;
    submit(f.s, &tb[0], &rec, 0, evs, N / 2);
    run_until(&f.loop, &rec, 1);
    CHECK(rec.rc[0] < 0);
    CHECK(store_events_after(f.s, "F1", 0, 5, collect_seq, seqs) == 1);

    /* the owner reloaded: the same events commit */
    store_clear_failure(f.s);
    rec.n = 0;
    submit(f.s, &tb[0], &rec, 0, evs, N / 2);
    submit(f.s, &tb[1], &rec, 1, evs + N / 2, N / 2);
    run_until(&f.loop, &rec, 2);
    CHECK(rec.rc[0] == 0 && rec.rc[1] == 0);
    int n = 0;
    CHECK(store_load(f.s, count_events, &n) == 0);
    CHECK(n == N + 1);
    fixture_close(&f);

    sqlite3 *db = inspect(path);
    CHECK(query_int(db, "SELECT count(*) FROM events") == N + 1);
    CHECK(query_int(db, "SELECT count(*) FROM questions") == 1);
    char ok[16];
    query_text(db, "PRAGMA integrity_check", ok, sizeof ok);
    CHECK_STR(ok, "ok");
    sqlite3_close(db);
    CHECK(umount(dir) == 0);
    forum_event_clear(&first);
    free_events(evs, N);
}

static void bench_one(const char *label, const char *kind, const char *payload_fmt)
{
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/bench-%s.db", tmp_root, kind);
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    enum { N = 100000, PER = 100 };
    forum_event *evs = calloc(N, sizeof *evs);
    test_batch *tb = calloc(N / PER, sizeof *tb);
    recorder *rec = calloc(1, sizeof *rec);
    for (int i = 0; i < N; i++) {
        char payload[512];
        snprintf(payload, sizeof payload, payload_fmt, i + 1);
        evs[i] = make_event("BENCH1", i + 1, kind, payload);
        snprintf(evs[i].subject, sizeof evs[i].subject, "v%016x", i);
    }
    uint64_t t0 = uv_hrtime();
    for (int b = 0; b < N / PER; b++)
        submit(f.s, &tb[b], rec, b, evs + (size_t)b * PER, PER);
    run_until(&f.loop, rec, N / PER);
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    store_stats st;
    store_get_stats(f.s, &st);
    int ok = 1;
    for (int b = 0; b < N / PER && b < MAX_RECORDED; b++)
        ok &= rec->rc[b] == 0;
    CHECK(ok);
    CHECK(st.events_committed == N);
    printf("bench %s: %d events in batches of %d, synchronous=FULL: %.3f s, %.0f events/s, "
           "%llu transactions, mean latency %.1f ms\n",
           label, N, PER, secs, N / secs, (unsigned long long)st.transactions,
           st.latency_sum_ms / (double)st.latency_le[11]);
    fixture_close(&f);
    free_events(evs, N);
    free(evs);
    free(tb);
    free(rec);
}

/* ---- archive: actions, search, erasure, backup ---- */

static char *question_json(int64_t id, const char *session_unused, const char *text,
                           const char *state, const char *category, const char *author,
                           const char *viewer, const char *note, int votes)
{
    (void)session_unused;
    cJSON *q = cJSON_CreateObject();
    cJSON_AddNumberToObject(q, "id", (double)id);
    cJSON_AddStringToObject(q, "text", text);
    if (author)
        cJSON_AddStringToObject(q, "author", author);
    else
        cJSON_AddNullToObject(q, "author");
    cJSON_AddStringToObject(q, "category", category);
    cJSON_AddStringToObject(q, "state", state);
    cJSON_AddNumberToObject(q, "votes", votes);
    cJSON_AddNumberToObject(q, "created_at", 1700000000000.0 + (double)id);
    if (note)
        cJSON_AddStringToObject(q, "answer_note", note);
    else
        cJSON_AddNullToObject(q, "answer_note");
    cJSON_AddStringToObject(q, "viewer_id", viewer ? viewer : "");
    cJSON *wrap = cJSON_CreateObject();
    cJSON_AddItemToObject(wrap, "question", q);
    char *text_out = cJSON_PrintUnformatted(wrap);
    cJSON_Delete(wrap);
    return text_out;
}

static forum_event question_event(const char *session, int64_t seq, const char *kind,
                                  int64_t id, const char *text, const char *state,
                                  const char *category, const char *note, int votes)
{
    char *json = question_json(id, session, text, state, category, "Ann", "v00000000000000aa",
                               note, votes);
    forum_event ev = make_event(session, seq, kind, json);
    free(json);
    return ev;
}

static forum_event session_event(const char *code, int64_t seq, int64_t program, int64_t date)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"session\":{\"code\":\"%s\",\"program_id\":%lld,\"title\":\"Show %s\","
             "\"status\":\"open\",\"scheduled_at\":%lld}}",
             code, (long long)program, code, (long long)date);
    return make_event(code, seq, "session.changed", json);
}

/* The search hits of text (filters from q) as "kind:id" joined by spaces, best first. */
static void search_ids(store *s, store_search_query q, const char *text, char *out, size_t n)
{
    char err[256] = "";
    q.text = text;
    cJSON *hits = store_search(s, &q, err, sizeof err);
    out[0] = '\0';
    if (!hits) {
        snprintf(out, n, "error: %s", err);
        return;
    }
    const cJSON *h;
    size_t len = 0;
    cJSON_ArrayForEach(h, hits)
    {
        const char *kind = cJSON_GetObjectItem(h, "kind")->valuestring;
        const cJSON *id = cJSON_GetObjectItem(h, strcmp(kind, "action") == 0 ? "action_id"
                                                                                : "question_id");
        char letter = strcmp(kind, "answer") == 0 ? 'n' : kind[0]; /* q, n(ote), a(ction) */
        len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%c%lld", len ? " " : "",
                                letter, (long long)id->valuedouble);
    }
    cJSON_Delete(hits);
}

static void test_search_finds_chinese_and_english_with_filters(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "search.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event evs[] = {
        make_event("", 1, "program.changed", "{\"program\":{\"id\":1,\"title\":\"书记论坛\"}}"),
        make_event("", 2, "program.changed", "{\"program\":{\"id\":2,\"title\":\"Other\"}}"),
        session_event("AAAAAA", 1, 1, 1704153600000LL), /* 2024-01-02 */
        session_event("BBBBBB", 1, 1, 1706832000000LL), /* 2024-02-02 */
        session_event("CCCCCC", 1, 2, 1706832000000LL),
        question_event("AAAAAA", 2, "question.submitted", 1, "小区停车难，晚上回家没有车位",
                       "answered", "need", "新建立体停车库", 3),
        question_event("AAAAAA", 3, "question.submitted", 2, "加装电梯的补贴什么时候到位？",
                       "published", "question", NULL, 9),
        question_event("BBBBBB", 2, "question.submitted", 3, "停车收费太贵了", "published",
                       "question", NULL, 1),
        question_event("BBBBBB", 3, "question.submitted", 4,
                       "Parking permits for elevator repair crews", "pending", "suggestion",
                       NULL, 0),
        question_event("CCCCCC", 2, "question.submitted", 5, "停车 in the other programme",
                       "published", "question", NULL, 50),
        make_event("AAAAAA", 4, "action.changed",
                   "{\"action\":{\"id\":1,\"session\":\"AAAAAA\",\"question_id\":1,"
                   "\"text\":\"调研停车位改造方案\",\"owner\":\"街道\",\"due\":\"2024-03-01\","
                   "\"status\":\"open\",\"created_at\":1704153600000,"
                   "\"updated_at\":1704153600000}}"),
    };
    size_t n = sizeof evs / sizeof evs[0];
    CHECK(store_append_sync(f.s, evs, n) == 0);
    store_search_query any = {0};
    char got[256];
    /* A two-character Chinese word: question texts, the answer note, the action text. */
    search_ids(f.s, any, "停车", got, sizeof got);
    CHECK_STR(got, "q5 a1 q1 n1 q3"); /* no bm25 for 2 characters: votes, then newest */
    /* Three characters and more use the index and rank by relevance. */
    search_ids(f.s, any, "停车库", got, sizeof got);
    CHECK_STR(got, "n1"); /* the answer note of question 1 */
    search_ids(f.s, any, "电梯", got, sizeof got);
    CHECK_STR(got, "q2");
    search_ids(f.s, any, "ELEVATOR", got, sizeof got); /* case-insensitive English */
    CHECK_STR(got, "q4");
    search_ids(f.s, any, "parking crews", got, sizeof got); /* every term must occur */
    CHECK_STR(got, "q4");
    search_ids(f.s, any, "parking nowhere", got, sizeof got);
    CHECK_STR(got, "");
    /* Filters: programme, date range (the session's date), category, state. */
    store_search_query prog = {.program_id = 1};
    search_ids(f.s, prog, "停车", got, sizeof got);
    CHECK_STR(got, "a1 q1 n1 q3");
    store_search_query feb = {.from_ms = 1706745600000LL, .to_ms = 1709251199999LL};
    search_ids(f.s, feb, "停车", got, sizeof got);
    CHECK_STR(got, "q5 q3");
    store_search_query need = {.category = "need"};
    search_ids(f.s, need, "停车", got, sizeof got);
    CHECK_STR(got, "a1 q1 n1"); /* the action counts as its question's kind */
    store_search_query answered = {.state = "answered"};
    search_ids(f.s, answered, "停车", got, sizeof got);
    CHECK_STR(got, "q1 n1");
    store_search_query open_actions = {.state = "open"};
    search_ids(f.s, open_actions, "停车", got, sizeof got);
    CHECK_STR(got, "a1");
    store_search_query one = {.limit = 1};
    search_ids(f.s, one, "停车", got, sizeof got);
    CHECK_STR(got, "q5");
    /* Quotes and LIKE wildcards in a query are plain characters. */
    search_ids(f.s, any, "\"停车\" 100%", got, sizeof got);
    CHECK_STR(got, "");

    /* An edited text is re-indexed; the old words are gone. */
    forum_event edit = question_event("BBBBBB", 4, "question.updated", 3, "收费太贵了",
                                      "published", "question", NULL, 1);
    CHECK(store_append_sync(f.s, &edit, 1) == 0);
    search_ids(f.s, any, "停车", got, sizeof got);
    CHECK_STR(got, "q5 a1 q1 n1");
    /* Counting votes does not touch the index (no trigger on votes). */
    forum_event counts = make_event("AAAAAA", 5, "votes.changed", "{\"counts\":{\"2\":20}}");
    CHECK(store_append_sync(f.s, &counts, 1) == 0);
    search_ids(f.s, any, "补贴", got, sizeof got);
    CHECK_STR(got, "q2");
    fixture_close(&f);
    free_events(evs, n);
    free_events(&edit, 1);
    free_events(&counts, 1);
}

static void test_search_ranks_by_relevance_then_votes(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "rank.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event evs[] = {
        session_event("AAAAAA", 1, 1, 1704153600000LL),
        question_event("AAAAAA", 2, "question.submitted", 1,
                       "我们小区的情况比较复杂，有很多老人，也有很多孩子，大家都希望社区能够多组织活动，"
                       "另外顺便问一下垃圾分类的事情",
                       "published", "question", NULL, 40),
        question_event("AAAAAA", 3, "question.submitted", 2, "垃圾分类投放点太少", "published",
                       "question", NULL, 0),
        question_event("AAAAAA", 4, "question.submitted", 3, "垃圾分类投放点太远", "published",
                       "question", NULL, 7),
    };
    size_t n = sizeof evs / sizeof evs[0];
    CHECK(store_append_sync(f.s, evs, n) == 0);
    store_search_query any = {0};
    char got[256];
    /* Short texts that are about it first (equal relevance: more votes first), the long one
     * that mentions it in passing last, whatever its votes. */
    search_ids(f.s, any, "垃圾分类", got, sizeof got);
    CHECK_STR(got, "q3 q2 q1");
    fixture_close(&f);
    free_events(evs, n);
}

static void test_migration_indexes_existing_questions(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "old.db");
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, store_migrations[0].sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                       " applied_at INTEGER NOT NULL);"
                       "INSERT INTO migrations VALUES (1, '001_init.sql', 1);"
                       "PRAGMA user_version = 1;"
                       "INSERT INTO sessions (code, program_id, title, status, updated_at)"
                       " VALUES ('AAAAAA', 1, 'Old show', 'archived', 1);"
                       "INSERT INTO questions (id, session, state, category, text, answer_note,"
                       " votes, created_at, updated_at) VALUES (7, 'AAAAAA', 'answered',"
                       " 'question', '老问题：停车', '已经解决', 0, 1, 1);",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    CHECK(store_schema_version(f.s) == latest_version());
    char got[256];
    store_search_query any = {0};
    search_ids(f.s, any, "停车", got, sizeof got);
    CHECK_STR(got, "q7");
    search_ids(f.s, any, "已经解决", got, sizeof got);
    CHECK_STR(got, "n7");
    fixture_close(&f);
}

/* schema/003: question texts are indexed once per transaction (search_pending), including a
 * question inserted and edited in the same transaction, an answer note added later, and a
 * database that was at version 2 with texts indexed by 002's triggers. */
static void test_search_index_per_transaction(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "v2.db");
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                       " applied_at INTEGER NOT NULL);"
                       "INSERT INTO migrations VALUES (1, '001_init.sql', 1);"
                       "INSERT INTO migrations VALUES (2, '002_archive.sql', 1);"
                       "PRAGMA user_version = 2;",
                       NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, store_migrations[0].sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, store_migrations[1].sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO sessions (code, program_id, title, status, updated_at)"
                       " VALUES ('AAAAAA', 1, 'Old show', 'live', 1);"
                       "INSERT INTO questions (id, session, state, category, text, votes,"
                       " created_at, updated_at) VALUES (7, 'AAAAAA', 'published', 'question',"
                       " 'old streetlight question', 0, 1, 1);",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    CHECK(store_schema_version(f.s) == latest_version());
    char got[256];
    store_search_query any = {0};
    search_ids(f.s, any, "streetlight", got, sizeof got);
    CHECK_STR(got, "q7");
    /* One transaction: question 8 is submitted and then edited; question 7 (indexed by 002's
     * triggers) is edited; question 9 arrives with an answer note; a vote count changes. */
    forum_event evs[] = {
        question_event("AAAAAA", 1, "question.submitted", 8, "first draft about buses",
                       "pending", "question", NULL, 0),
        question_event("AAAAAA", 2, "question.updated", 8, "final text about trams",
                       "published", "question", NULL, 0),
        question_event("AAAAAA", 3, "question.updated", 7, "new lamppost question",
                       "published", "question", NULL, 0),
        question_event("AAAAAA", 4, "question.submitted", 9, "bridge repairs", "answered",
                       "need", "crews start in May", 2),
        make_event("AAAAAA", 5, "votes.changed", "{\"counts\":{\"9\":3}}"),
    };
    size_t n = sizeof evs / sizeof evs[0];
    CHECK(store_append_sync(f.s, evs, n) == 0);
    search_ids(f.s, any, "buses", got, sizeof got);
    CHECK_STR(got, "");
    search_ids(f.s, any, "trams", got, sizeof got);
    CHECK_STR(got, "q8");
    search_ids(f.s, any, "streetlight", got, sizeof got);
    CHECK_STR(got, "");
    search_ids(f.s, any, "lamppost", got, sizeof got);
    CHECK_STR(got, "q7");
    search_ids(f.s, any, "May", got, sizeof got);
    CHECK_STR(got, "n9");
    /* A later transaction adds an answer note to 8 and changes 9's note. */
    forum_event later[] = {
        question_event("AAAAAA", 6, "question.updated", 8, "final text about trams", "answered",
                       "question", "depot opens next year", 0),
        question_event("AAAAAA", 7, "question.updated", 9, "bridge repairs", "answered", "need",
                       "crews start in June", 3),
    };
    CHECK(store_append_sync(f.s, later, 2) == 0);
    search_ids(f.s, any, "depot", got, sizeof got);
    CHECK_STR(got, "n8");
    search_ids(f.s, any, "trams", got, sizeof got);
    CHECK_STR(got, "q8");
    search_ids(f.s, any, "May", got, sizeof got);
    CHECK_STR(got, "");
    search_ids(f.s, any, "June", got, sizeof got);
    CHECK_STR(got, "n9");
    fixture_close(&f);
    db = inspect(path);
    CHECK(query_int(db, "SELECT count(*) FROM search_pending") == 0);
    /* the index holds exactly the texts and notes of the projection */
    CHECK(query_int(db, "SELECT count(*) FROM search_index") == 5);
    sqlite3_close(db);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK); /* FTS5's own check of index vs content */
    CHECK(sqlite3_exec(db, "INSERT INTO search_index (search_index) VALUES ('integrity-check')",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    free_events(evs, n);
    free_events(later, 2);
}

/* The index follows the commits in the background: a search barrier waits for it, an idle
 * writer catches up within STORE_SEARCH_LAG_MS, closing leaves it complete, and texts a crash
 * left unindexed (search_pending) are indexed after the next start. */
static void test_search_index_follows_commits(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "lag.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event setup = session_event("AAAAAA", 1, 1, 1704153600000LL);
    CHECK(store_append_sync(f.s, &setup, 1) == 0);
    char got[256];
    store_search_query any = {0};
    /* A question commits (acknowledged without waiting for the index); a barrier behind it
     * completes only once the index holds it. */
    forum_event q1 = question_event("AAAAAA", 2, "question.submitted", 1, "harbour ferry times",
                                    "pending", "question", NULL, 0);
    recorder *rec = calloc(1, sizeof *rec);
    test_batch tb[3];
    submit(f.s, &tb[0], rec, 0, &q1, 1);
    memset(&tb[1], 0, sizeof tb[1]);
    tb[1].batch.done = on_done;
    tb[1].batch.ctx = &tb[1];
    tb[1].batch.search_barrier = true;
    tb[1].rec = rec;
    tb[1].index = 1;
    store_append(f.s, &tb[1].batch);
    run_until(&f.loop, rec, 2);
    CHECK(rec->rc[0] == 0 && rec->rc[1] == 0);
    search_ids(f.s, any, "ferry", got, sizeof got);
    CHECK_STR(got, "q1");
    /* Without a barrier the idle writer indexes within STORE_SEARCH_LAG_MS. */
    forum_event q2 = question_event("AAAAAA", 3, "question.submitted", 2, "ferry fares for pupils",
                                    "pending", "question", NULL, 0);
    submit(f.s, &tb[2], rec, 2, &q2, 1);
    run_until(&f.loop, rec, 3);
    CHECK(rec->rc[2] == 0);
    uint64_t t0 = uv_hrtime();
    do {
        usleep(10000);
        search_ids(f.s, any, "pupils", got, sizeof got);
    } while (strcmp(got, "q2") != 0 && uv_hrtime() - t0 < 5000000000u);
    CHECK_STR(got, "q2");
    CHECK((uv_hrtime() - t0) / 1000000u < STORE_SEARCH_LAG_MS + 2000); /* generous for CI */
    store_stats st;
    store_get_stats(f.s, &st);
    CHECK(st.search_index_transactions >= 2);
    /* Closing indexes what is owed. */
    forum_event q3 = question_event("AAAAAA", 4, "question.submitted", 3, "night ferry service",
                                    "pending", "question", NULL, 0);
    rec->n = 0;
    submit(f.s, &tb[0], rec, 0, &q3, 1);
    run_until(&f.loop, rec, 1);
    fixture_close(&f);
    sqlite3 *db = inspect(path);
    CHECK(query_int(db, "SELECT count(*) FROM search_pending") == 0);
    CHECK(query_int(db, "SELECT count(*) FROM search_index WHERE search_index MATCH 'night'") == 1);
    sqlite3_close(db);
    /* A crash between a commit and its indexing leaves notes in search_pending (here: written
     * directly); the next start indexes them. */
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "INSERT INTO questions (id, session, state, category, text, votes,"
                       " created_at, updated_at) VALUES (4, 'AAAAAA', 'pending', 'question',"
                       " 'lighthouse tours', 0, 1, 1);",
                       NULL, NULL, NULL) == SQLITE_OK);
    CHECK(query_int(db, "SELECT count(*) FROM search_pending") == 1);
    sqlite3_close(db);
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    rec->n = 0;
    memset(&tb[1], 0, sizeof tb[1]);
    tb[1].batch.done = on_done;
    tb[1].batch.ctx = &tb[1];
    tb[1].batch.search_barrier = true;
    tb[1].rec = rec;
    store_append(f.s, &tb[1].batch);
    run_until(&f.loop, rec, 1);
    search_ids(f.s, any, "lighthouse", got, sizeof got);
    CHECK_STR(got, "q4");
    fixture_close(&f);
    free(rec);
    free_events(&setup, 1);
    free_events(&q1, 1);
    free_events(&q2, 1);
    free_events(&q3, 1);
}

static void test_action_projection(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "actions.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event evs[] = {
        session_event("AAAAAA", 1, 1, 1704153600000LL),
        make_event("AAAAAA", 2, "action.changed",
                   "{\"action\":{\"id\":4,\"session\":\"AAAAAA\",\"question_id\":null,"
                   "\"text\":\"修路灯\",\"owner\":null,\"due\":null,\"status\":\"open\","
                   "\"created_at\":5,\"updated_at\":5}}"),
        session_event("BBBBBB", 1, 1, 1706832000000LL),
        /* followed up from the next session: the row keeps its session */
        make_event("BBBBBB", 2, "action.changed",
                   "{\"action\":{\"id\":4,\"session\":\"AAAAAA\",\"question_id\":null,"
                   "\"text\":\"修路灯\",\"owner\":\"街道\",\"due\":\"2024-03-01\","
                   "\"status\":\"done\",\"created_at\":5,\"updated_at\":9}}"),
    };
    size_t n = sizeof evs / sizeof evs[0];
    CHECK(store_append_sync(f.s, evs, n) == 0);
    sqlite3 *db = inspect(path);
    char text[128];
    query_text(db, "SELECT session || '|' || status || '|' || owner || '|' || due FROM actions"
                   " WHERE id = 4", text, sizeof text);
    CHECK_STR(text, "AAAAAA|done|街道|2024-03-01");
    CHECK(query_int(db, "SELECT count(*) FROM actions") == 1);
    CHECK(query_int(db, "SELECT updated_at FROM actions WHERE id = 4") == evs[3].at);
    sqlite3_close(db);
    fixture_close(&f);
    free_events(evs, n);
}

/* Does the file at path (and its -wal) contain needle anywhere? */
static bool file_contains(const char *path, const char *needle)
{
    char p[600];
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s%s", path, k ? "-wal" : "");
        FILE *fp = fopen(p, "rb");
        if (!fp)
            continue;
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *buf = malloc(size > 0 ? (size_t)size : 1);
        size_t got = fread(buf, 1, (size_t)size, fp);
        fclose(fp);
        size_t nl = strlen(needle);
        for (size_t i = 0; i + nl <= got; i++)
            if (memcmp(buf + i, needle, nl) == 0) {
                free(buf);
                return true;
            }
        free(buf);
    }
    return false;
}

static void test_erase_rewrites_every_stored_trace(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "erase.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    const char *vid = "v00000000000000aa", *ph = "x1234567890abcdef";
    forum_event evs[] = {
        session_event("AAAAAA", 1, 1, 1704153600000LL),
        question_event("AAAAAA", 2, "question.submitted", 1, "路灯坏了", "published", "question",
                       NULL, 0),
        make_event("AAAAAA", 3, "vote.added", "{\"question_id\":1}"),
        question_event("AAAAAA", 4, "question.updated", 1, "路灯坏了很久", "published",
                       "question", NULL, 1),
        make_event_with_secret(
            "AAAAAA", 5, "question.dismissed",
            "{\"question\":{\"id\":1,\"text\":\"路灯坏了很久\",\"author\":\"Ann\","
            "\"state\":\"dismissed\",\"viewer_id\":\"v00000000000000aa\"}}",
            "{\"undo\":{\"action\":\"dismiss\",\"questions\":[{\"id\":1,\"text\":\"路灯坏了很久\","
            "\"author\":\"Ann\",\"state\":\"published\",\"viewer_id\":\"v00000000000000aa\"}],"
            "\"after\":[{\"id\":1,\"state\":\"dismissed\"}]}}"),
        session_event("BBBBBB", 1, 1, 1706832000000LL),
        question_event("BBBBBB", 2, "question.submitted", 2, "another session", "published",
                       "question", NULL, 0),
    };
    size_t n = sizeof evs / sizeof evs[0];
    snprintf(evs[1].subject, sizeof evs[1].subject, "%s", vid);
    snprintf(evs[1].actor, sizeof evs[1].actor, "viewer:%s", vid);
    snprintf(evs[1].request_id, sizeof evs[1].request_id, "ask-Ann-1"); /* client text */
    snprintf(evs[2].subject, sizeof evs[2].subject, "%s", vid);
    snprintf(evs[3].actor, sizeof evs[3].actor, "moderator:Mia");
    CHECK(store_append_sync(f.s, evs, n) == 0);

    char json[512];
    snprintf(json, sizeof json,
             "{\"viewer_id\":\"%s\",\"questions\":[{\"id\":1,\"text\":\"路灯坏了很久\","
             "\"author\":null,\"state\":\"dismissed\",\"viewer_id\":\"%s\"}]}", ph, ph);
    forum_event erase = make_event("AAAAAA", 6, "viewer.erased", json);
    snprintf(erase.actor, sizeof erase.actor, "producer");
    snprintf(erase.erased_viewer_id, sizeof erase.erased_viewer_id, "%s", vid);
    CHECK(store_append_sync(f.s, &erase, 1) == 0);
    /* a later commit lets the writer truncate the WAL */
    forum_event later = make_event("AAAAAA", 7, "onair.changed", "{\"question_id\":null}");
    CHECK(store_append_sync(f.s, &later, 1) == 0);

    sqlite3 *db = inspect(path);
    CHECK(query_int(db, "SELECT count(*) FROM events WHERE session = 'AAAAAA' AND"
                        " (instr(payload, 'v00000000000000aa') OR instr(payload, 'Ann')"
                        " OR instr(coalesce(secret, ''), 'v00000000000000aa')"
                        " OR instr(coalesce(secret, ''), 'Ann')"
                        " OR subject = 'v00000000000000aa' OR actor LIKE '%v00000000000000aa')") == 0);
    CHECK(query_int(db, "SELECT count(*) FROM events WHERE subject = 'x1234567890abcdef'") == 2);
    CHECK(query_int(db, "SELECT count(*) FROM events WHERE request_id IS NOT NULL") == 0);
    CHECK(query_int(db, "SELECT count(*) FROM events WHERE actor = 'viewer:x1234567890abcdef'") ==
          1);
    CHECK(query_int(db, "SELECT count(*) FROM questions WHERE id = 1 AND author IS NULL AND"
                        " viewer_id = 'x1234567890abcdef'") == 1);
    CHECK(query_int(db, "SELECT count(*) FROM votes WHERE viewer_id = 'x1234567890abcdef'") == 1);
    CHECK(query_int(db, "SELECT count(*) FROM votes WHERE viewer_id = 'v00000000000000aa'") == 0);
    /* other sessions are left alone */
    CHECK(query_int(db, "SELECT count(*) FROM questions WHERE id = 2 AND author = 'Ann'") == 1);
    char text[128];
    query_text(db, "SELECT json_extract(payload, '$.question.text') FROM events WHERE"
                   " session = 'AAAAAA' AND seq = 4", text, sizeof text);
    CHECK_STR(text, "路灯坏了很久"); /* content kept */
    sqlite3_close(db);
    fixture_close(&f);
    /* Not in the file at all any more, only in the other session's rows: "Ann" appears there,
     * the viewer id too; so look for the first session's own words with the name. */
    CHECK(!file_contains(path, "\"author\":\"Ann\",\"category\":\"question\",\"to\":null,"
                               "\"parent_id\":null,\"state\":\"dismissed\""));
    CHECK(!file_contains(path, "\"viewer_id\":\"v00000000000000aa\"}],\"after\""));
    free_events(evs, n);
    free_events(&erase, 1);
    free_events(&later, 1);
}

/* Once the WAL holds more than its threshold, a checkpoint copies it into the database (on the
 * checkpoint thread, while commits go on): the database file grows and the WAL stays bounded. */
static void test_checkpoints_copy_the_wal_into_the_database(void)
{
    char path[512], wal[600], err[512] = "";
    tmp_path(path, sizeof path, "ckpt.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    struct stat before;
    CHECK(stat(path, &before) == 0);
    enum { N = 40, PER = 100 };
    static forum_event evs[N][PER];
    static char text[2200];
    memset(text, 0, sizeof text);
    for (int k = 0; k < 300; k++)
        strcat(text, "电梯");
    for (int b = 0; b < N; b++)
        for (int i = 0; i < PER; i++) {
            char json[2400];
            int id = b * PER + i + 1;
            snprintf(json, sizeof json,
                     "{\"question\":{\"id\":%d,\"text\":\"%s\",\"state\":\"pending\"}}", id,
                     text);
            evs[b][i] = make_event("CKPT", id, "question.submitted", json);
        }
    recorder rec = {0};
    static test_batch tb[N];
    for (int b = 0; b < N; b++)
        submit(f.s, &tb[b], &rec, b, evs[b], PER);
    run_until(&f.loop, &rec, N);
    for (int b = 0; b < N; b++)
        CHECK(rec.rc[b] == 0);
    /* the checkpoint runs on its own thread: give it a moment */
    struct stat after = before, w;
    for (int i = 0; i < 100 && after.st_size <= before.st_size + (1 << 20); i++) {
        usleep(20000);
        CHECK(stat(path, &after) == 0);
    }
    CHECK(after.st_size > before.st_size + (1 << 20)); /* ~4,000 questions of 1.8 KB moved in */
    CHECK(stat(wal, &w) == 0 && w.st_size < 64 * 1024 * 1024);
    fixture_close(&f);
    for (int b = 0; b < N; b++)
        free_events(evs[b], PER);
}

static void test_backup_copies_a_consistent_database(void)
{
    char path[512], dest[512], err[512] = "";
    tmp_path(path, sizeof path, "live.db");
    tmp_path(dest, sizeof dest, "copies/live-copy.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event evs[50];
    evs[0] = session_event("AAAAAA", 1, 1, 1704153600000LL);
    for (int i = 1; i < 50; i++)
        evs[i] = question_event("AAAAAA", i + 1, "question.submitted", i, "备份测试问题",
                                "published", "question", NULL, 0);
    CHECK(store_append_sync(f.s, evs, 50) == 0);
    store_backup_info info;
    CHECK(store_backup_file(path, dest, false, &info, err, sizeof err) == 0);
    CHECK(info.pages > 0 && info.bytes > 0 && info.events == 50);
    CHECK(info.path[0] == '/');
    CHECK(store_backup_file(path, dest, false, &info, err, sizeof err) == -1);
    CHECK(strstr(err, "already exists") != NULL);
    CHECK(store_backup_file(path, dest, true, &info, err, sizeof err) == 0);
    sqlite3 *db = inspect(dest);
    char text[64];
    query_text(db, "PRAGMA integrity_check", text, sizeof text);
    CHECK_STR(text, "ok");
    CHECK(query_int(db, "SELECT count(*) FROM events") == 50);
    CHECK(query_int(db, "SELECT count(*) FROM search_index WHERE search_index MATCH '备份测试'") ==
          49);
    sqlite3_close(db);
    char missing[512];
    tmp_path(missing, sizeof missing, "nope/missing.db");
    CHECK(store_backup_file(missing, dest, true, &info, err, sizeof err) == -1);
    CHECK(strstr(err, "missing.db") != NULL);
    fixture_close(&f);
    free_events(evs, 50);
}

typedef struct backup_result {
    int calls, rc;
    store_backup_info info;
    char err[256];
} backup_result;

static void on_backup(void *arg, int rc, const store_backup_info *info, const char *err)
{
    backup_result *r = arg;
    r->calls++;
    r->rc = rc;
    r->info = *info;
    snprintf(r->err, sizeof r->err, "%s", err ? err : "");
}

static void test_backup_start_runs_off_the_loop(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "online/forum.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event ev = session_event("AAAAAA", 1, 1, 1704153600000LL);
    CHECK(store_append_sync(f.s, &ev, 1) == 0);
    backup_result r = {0};
    CHECK(store_backup_start(f.s, "named.db", on_backup, &r, err, sizeof err) == 0);
    CHECK(store_backup_start(f.s, NULL, on_backup, &r, err, sizeof err) == -1); /* one at a time */
    while (r.calls == 0)
        uv_run(&f.loop, UV_RUN_ONCE);
    CHECK(r.rc == 0);
    CHECK(strstr(r.info.path, "/online/backups/named.db") != NULL);
    CHECK(r.info.events == 1);
    CHECK(store_backup_start(f.s, "named.db", on_backup, &r, err, sizeof err) == -1);
    CHECK(strstr(err, "already exists") != NULL);
    CHECK(store_backup_start(f.s, NULL, on_backup, &r, err, sizeof err) == 0);
    while (r.calls == 1)
        uv_run(&f.loop, UV_RUN_ONCE);
    CHECK(r.rc == 0);
    CHECK(strstr(r.info.path, "/online/backups/forum-") != NULL);
    fixture_close(&f);
    free_events(&ev, 1);
}

/* Long texts spill into overflow pages; every update of the row frees the old ones (with the
 * name in them) onto the freelist. After the erasure no free page may still hold the name. */
static void test_erase_leaves_no_copy_in_free_pages(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "erase-free.db");
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    const char *vid = "v00000000000000ab", *name = "Zhang-Unique-Name-42";
    char text[1300] = "", note[6000] = "";
    for (int i = 0; i < 400; i++)
        strcat(text, "路");
    forum_event session = session_event("AAAAAA", 1, 1, 1704153600000LL);
    CHECK(store_append_sync(f.s, &session, 1) == 0);
    for (int round = 0; round < 6; round++) {
        note[0] = '\0';
        for (int i = 0; i < 1500 + round * 10; i++)
            strcat(note, "灯");
        forum_event ev;
        memset(&ev, 0, sizeof ev);
        forum_question_rec *q = &ev.p.question.q;
        q->id = 1;
        q->text = text;
        /* the long note comes before the name in the rendering: the name lands in the
         * overflow pages */
        q->answer_note = note;
        q->author = name;
        q->state = Q_PUBLISHED;
        q->viewer_id = vid;
        snprintf(ev.session, sizeof ev.session, "AAAAAA");
        ev.seq = 2 + round;
        ev.at = 1700000000000 + round;
        ev.offset_ms = -1;
        snprintf(ev.actor, sizeof ev.actor, "moderator:Mia");
        ev.kind = round ? FORUM_EV_QUESTION_UPDATED : FORUM_EV_QUESTION_SUBMITTED;
        snprintf(ev.subject, sizeof ev.subject, "%s", vid);
        CHECK(store_append_sync(f.s, &ev, 1) == 0);
    }
    sqlite3 *db = inspect(path);
    CHECK(query_int(db, "PRAGMA freelist_count") > 0); /* old overflow pages were freed */
    sqlite3_close(db);

    forum_event erase = make_event(
        "AAAAAA", 8, "viewer.erased",
        "{\"viewer_id\":\"x00000000000000ab\",\"questions\":[{\"id\":1,"
        "\"text\":\"x\",\"author\":null,\"state\":\"published\","
        "\"viewer_id\":\"x00000000000000ab\"}]}"); /* as forum.c makes it */
    erase.offset_ms = -1;
    snprintf(erase.actor, sizeof erase.actor, "producer");
    snprintf(erase.erased_viewer_id, sizeof erase.erased_viewer_id, "%s", vid);
    CHECK(store_append_sync(f.s, &erase, 1) == 0);
    /* later writes free pages again: without the name */
    forum_event anon = make_event("AAAAAA", 9, "question.updated",
                                  "{\"question\":{\"id\":1,\"text\":\"y\",\"author\":null,"
                                  "\"state\":\"published\",\"viewer_id\":\"x00000000000000ab\"}}");
    CHECK(store_append_sync(f.s, &anon, 1) == 0);
    fixture_close(&f);
    db = inspect(path);
    CHECK(query_int(db, "SELECT count(*) FROM meta WHERE key LIKE 'erase-scrub-%'") == 0);
    sqlite3_close(db);
    CHECK(!file_contains(path, name));
    CHECK(!file_contains(path, vid));
    free_events(&session, 1);
    free_events(&erase, 1);
    free_events(&anon, 1);
}

static unsigned file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 01000; /* 01000: missing */
}

/* The database, its -wal and -shm files and backups are created 0600 whatever the umask; an
 * existing database that others could read loses those bits (the group's are kept). */
static void test_database_and_backups_are_private(void)
{
    mode_t old_umask = umask(022);
    char path[512], wal[520], shm[520], dest[512], err[512] = "";
    tmp_path(path, sizeof path, "private/forum.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    fixture f;
    CHECK(fixture_open(&f, path, err, sizeof err) == 0);
    forum_event ev = session_event("AAAAAA", 1, 1, 1704153600000LL);
    CHECK(store_append_sync(f.s, &ev, 1) == 0);
    CHECK(file_mode(path) == 0600);
    CHECK(file_mode(wal) == 0600);
    CHECK(file_mode(shm) == 0600);
    char dir[512];
    tmp_path(dir, sizeof dir, "private");
    CHECK(file_mode(dir) == 0700);
    tmp_path(dest, sizeof dest, "private-copies/copy.db");
    store_backup_info info;
    CHECK(store_backup_file(path, dest, false, &info, err, sizeof err) == 0);
    CHECK(file_mode(dest) == 0600);
    backup_result r = {0};
    CHECK(store_backup_start(f.s, "online.db", on_backup, &r, err, sizeof err) == 0);
    while (r.calls == 0)
        uv_run(&f.loop, UV_RUN_ONCE);
    CHECK(r.rc == 0);
    CHECK(file_mode(r.info.path) == 0600);
    fixture_close(&f);
    free_events(&ev, 1);

    /* a database made world-readable by an older forumd (or by hand) */
    char old[512];
    tmp_path(old, sizeof old, "old-forum.db");
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(old, &db) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(chmod(old, 0644) == 0);
    CHECK(fixture_open(&f, old, err, sizeof err) == 0);
    CHECK(file_mode(old) == 0640);
    fixture_close(&f);
    umask(old_umask);
}

int main(void)
{
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    alarm(120); /* a lost completion must fail the run, not hang it */
    TEST(test_migrations_applied_and_parent_created);
    TEST(test_reopen_does_not_reapply);
    TEST(test_newer_schema_refused);
    TEST(test_unreadable_file_reported);
    TEST(test_async_batches_complete_in_order);
    TEST(test_barrier_alone_completes_without_transaction);
    TEST(test_group_commit_uses_few_transactions);
    TEST(test_max_batch_events_caps_a_transaction);
    TEST(test_load_returns_events_in_commit_order);
    TEST(test_load_stops_when_callback_says_so);
    TEST(test_stored_payload_text_reads_back_exactly);
    TEST(test_events_after);
    TEST(test_projections);
    TEST(test_meta_roundtrip);
    TEST(test_bad_batch_does_not_fail_its_neighbours);
    TEST(test_full_disk_fails_cleanly_then_recovers);
    TEST(test_search_finds_chinese_and_english_with_filters);
    TEST(test_search_ranks_by_relevance_then_votes);
    TEST(test_migration_indexes_existing_questions);
    TEST(test_action_projection);
    TEST(test_search_index_per_transaction);
    TEST(test_search_index_follows_commits);
    TEST(test_erase_rewrites_every_stored_trace);
    TEST(test_erase_leaves_no_copy_in_free_pages);
    TEST(test_checkpoints_copy_the_wal_into_the_database);
    TEST(test_backup_copies_a_consistent_database);
    TEST(test_backup_start_runs_off_the_loop);
    TEST(test_database_and_backups_are_private);
    if (getenv("STORE_BENCH")) { /* opt-in: a figure to read, never an assertion */
        check_current = "bench";
        bench_one("vote.added (vote row projection)", "vote.added", "{\"question_id\":%d}");
        bench_one("question.submitted (question upsert)", "question.submitted",
                  "{\"question\":{\"id\":%d,\"text\":\"What is the plan for the budget next "
                  "year?\",\"author\":null,\"category\":\"question\",\"to\":null,"
                  "\"parent_id\":null,\"state\":\"pending\",\"votes\":0,"
                  "\"created_at\":1700000000000,\"phase\":\"live\",\"answer_note\":null,"
                  "\"starred\":false,\"source\":\"web\",\"viewer_id\":\"v0123456789abcdef\"}}");
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    return check_summary();
}
