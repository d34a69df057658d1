/* dispatch.c — the request pipeline: frame -> proto -> auth/forum -> store -> hub/ack.
 * See dispatch.h. Every request, even one that fails validation, travels through the store
 * queue (as a barrier when it has no events) so that replies on a connection keep the order of
 * the requests and nothing is acknowledged before what precedes it is committed. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "cluster.h"
#include "export.h"
#include "hub.h"
#include "proto.h"

typedef struct client client;

/* A forwarded request's reply, held until this node has committed the log up to pos (so the
 * client never gets an ack for a change it cannot see yet), then sent in arrival order. */
typedef struct waiter {
    client *cl;
    char *text;
    int64_t pos;
    uint64_t deadline;
    struct waiter *next;
} waiter;

/* Viewer counts another cluster node reported (presence and peak audience). */
typedef struct peer_count {
    char node[48];
    cJSON *counts;
    uint64_t at;
    struct peer_count *next;
} peer_count;

typedef struct viewer_limits {
    char viewer_id[FORUM_VIEWER_ID_MAX];
    auth_bucket submit, vote;
    int64_t last_ms; /* last use, for pruning idle entries */
    struct viewer_limits *next;
} viewer_limits;

#define VIEWER_BUCKETS 4096
#define MAX_BAD_FRAMES_IN_A_ROW 20      /* non-JSON frames in a row before close 1008 */
#define VIEWER_LIMITS_IDLE_MS 600000    /* per-viewer limit entries unused this long are freed */

struct dispatch {
    uv_loop_t *loop;
    forum_state *st;
    store *store;
    net *net;
    hub *hub;
    dispatch_options opt;
    uv_timer_t flush_timer, sweep_timer, reload_timer;
    bool reload_pending;
    client *clients;
    viewer_limits *limits[VIEWER_BUCKETS];
    uint64_t requests, errors, hellos;
    int64_t last_prune_ms;
    int64_t last_sweep_ms;   /* loop time of the last sweep (every second) */
    int64_t max_stall_ms;    /* longest the loop was late for a sweep: a measure of stalls */
    bool stopped;
    /* sessions a viewer joined since the last flush: their peak audience is checked then */
    char peak_pending[32][FORUM_CODE_MAX];
    size_t n_peak_pending;
    /* cluster mode (NULL: one node on its own) */
    cluster *cluster;
    int64_t committed_pos;  /* log position committed to this node's database */
    bool resyncing;         /* after a failed append or commit: reload, then catch up */
    bool rewinding;
    uv_timer_t resync_timer;
    waiter *wait_head, *wait_tail;
    peer_count *peers;
    bool presence_dirty;    /* local viewer counts changed since they were last published */
    uint64_t forwarded, forward_errors, replica_events, replica_errors;
};

struct client {
    hub_sub sub;
    dispatch *d;
    net_conn *conn;
    int refs;
    bool closed;
    bool hello_done;
    forum_actor actor;
    int64_t opened_at;
    auth_bucket msg_bucket;
    int refused_in_a_row; /* frames refused for rate or as non-JSON since the last good one */
    client *prev, *next;
    /* a request forwarded from another cluster node (no connection here) */
    bool remote, replied;
    char remote_node[48];
    int64_t remote_rid;
    int64_t reply_pos;
};

typedef enum job_kind { JOB_REQUEST, JOB_HELLO, JOB_SYSTEM, JOB_REPLICA, JOB_RESYNC } job_kind;

typedef struct job {
    store_batch batch;
    job_kind kind;
    dispatch *d;
    client *cl; /* NULL for system jobs (coalesced counts) */
    char re[FORUM_REQUEST_ID_MAX];
    bool has_re;
    forum_err err;
    char field[40];
    char message[200];
    int64_t retry_after_ms;
    cJSON *ack;
    /* hello */
    cJSON *snapshot; /* NULL = resume */
    int64_t hello_seq, resume_from;
    /* search / backup: run once everything before the request is committed */
    forum_command *deferred;
    /* cluster: the log position of the job's last event (or of the barrier) */
    int64_t pos;
    bool counts_pos; /* replica jobs: whether pos may advance committed_pos */
} job;

int64_t dispatch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void forum_random(void *buf, size_t n)
{
    auth_random_bytes(buf, n);
}

/* ---- clients ----------------------------------------------------------------------------- */

static void client_unref(client *cl)
{
    if (--cl->refs == 0)
        free(cl);
}

static void *on_open(void *arg, net_conn *c)
{
    dispatch *d = arg;
    client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        net_close(c, 1011, "out of memory");
        return NULL;
    }
    cl->d = d;
    cl->conn = c;
    cl->refs = 1;
    cl->opened_at = (int64_t)uv_now(d->loop);
    cl->sub.conn = c;
    cl->next = d->clients;
    if (d->clients)
        d->clients->prev = cl;
    d->clients = cl;
    return cl;
}

static void on_close(void *arg, net_conn *c, void *user)
{
    dispatch *d = arg;
    client *cl = user;
    if (!cl)
        return;
    if (cl->hello_done && cl->actor.role == FORUM_ROLE_VIEWER)
        d->presence_dirty = true;
    hub_unsubscribe(d->hub, &cl->sub);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        d->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    cl->closed = true;
    cl->conn = NULL;
    cl->sub.conn = NULL;
    client_unref(cl);
}

/* Sends a reply (taking text): to the connection, or back to the node that forwarded it. */
static void client_send(client *cl, char *text)
{
    if (!text)
        return;
    if (cl->remote) {
        cluster_send_reply(cl->d->cluster, cl->remote_node, cl->remote_rid, text, cl->reply_pos);
        cl->replied = true;
        free(text);
    } else if (cl->closed) {
        free(text);
    } else {
        net_send_text(cl->conn, text);
    }
}

static void send_error(client *cl, const char *re, forum_err code, const char *field,
                       const char *message, int64_t retry_after_ms)
{
    if (cl->closed)
        return;
    cl->d->errors++;
    client_send(cl, proto_encode_error(re, code, field, message, retry_after_ms));
}

/* ---- per-viewer limits ------------------------------------------------------------------- */

static viewer_limits *limits_for(dispatch *d, const char *viewer_id)
{
    uint32_t h = 2166136261u;
    for (const char *p = viewer_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    viewer_limits **slot = &d->limits[h % VIEWER_BUCKETS];
    for (viewer_limits *v = *slot; v; v = v->next)
        if (strcmp(v->viewer_id, viewer_id) == 0)
            return v;
    viewer_limits *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    snprintf(v->viewer_id, sizeof v->viewer_id, "%s", viewer_id);
    v->next = *slot;
    *slot = v;
    return v;
}

/* ---- jobs -------------------------------------------------------------------------------- */

static void job_free(job *j)
{
    for (size_t i = 0; i < j->batch.n_events; i++)
        forum_event_clear(&j->batch.events[i]);
    free(j->batch.events);
    cJSON_Delete(j->ack);
    cJSON_Delete(j->snapshot);
    if (j->deferred) {
        forum_command_free(j->deferred);
        free(j->deferred);
    }
    if (j->cl)
        client_unref(j->cl);
    free(j);
}

static void send_missed_from_db(client *cl, int64_t from, int64_t upto);
static size_t viewers_total(dispatch *d, const char *code);

/* Session code gained viewers (here or on another node): its peak audience is checked at the
 * next flush. */
static void note_peak_pending(dispatch *d, const char *code)
{
    if (strlen(code) >= FORUM_CODE_MAX)
        return;
    for (size_t i = 0; i < d->n_peak_pending; i++)
        if (strcmp(d->peak_pending[i], code) == 0)
            return;
    if (d->n_peak_pending < sizeof d->peak_pending / sizeof d->peak_pending[0])
        snprintf(d->peak_pending[d->n_peak_pending++], FORUM_CODE_MAX, "%s", code);
}

static void finish_hello(dispatch *d, job *j)
{
    client *cl = j->cl;
    if (cl->closed)
        return;
    if (j->snapshot) {
        if (cl->actor.role != FORUM_ROLE_VIEWER && cl->sub.session[0])
            cJSON_AddNumberToObject(j->snapshot, "viewers", (double)viewers_total(d, cl->sub.session));
        net_send_text(cl->conn, proto_encode_welcome(j->re, cl->actor.role,
                                                     cl->actor.viewer_id[0] ? cl->actor.viewer_id
                                                                            : NULL,
                                                     j->hello_seq, j->snapshot));
    } else {
        net_send_text(cl->conn, proto_encode_welcome(j->re, cl->actor.role,
                                                     cl->actor.viewer_id[0] ? cl->actor.viewer_id
                                                                            : NULL,
                                                     j->hello_seq, NULL));
        if (hub_replay(d->hub, &cl->sub, j->resume_from, j->hello_seq) != 0)
            send_missed_from_db(cl, j->resume_from, j->hello_seq);
    }
    hub_subscribe(d->hub, &cl->sub);
    if (cl->actor.role == FORUM_ROLE_VIEWER && cl->sub.session[0]) {
        d->presence_dirty = true;
        note_peak_pending(d, cl->sub.session);
    }
}

/* ---- search and backup (answered after the requests before them are committed) ----------- */

typedef struct backup_req {
    client *cl;
    char re[FORUM_REQUEST_ID_MAX];
    bool has_re;
} backup_req;

static void backup_done(void *arg, int rc, const store_backup_info *info, const char *err)
{
    backup_req *b = arg;
    if (rc != 0) {
        send_error(b->cl, b->has_re ? b->re : NULL, FORUM_E_INTERNAL, NULL, err, 0);
    } else if (b->has_re && !b->cl->closed) {
        cJSON *ack = cJSON_CreateObject();
        cJSON_AddStringToObject(ack, "path", info->path);
        cJSON_AddNumberToObject(ack, "pages", info->pages);
        cJSON_AddNumberToObject(ack, "bytes", (double)info->bytes);
        cJSON_AddNumberToObject(ack, "events", (double)info->events);
        cJSON_AddNumberToObject(ack, "elapsed_ms", (double)info->elapsed_ms);
        net_send_text(b->cl->conn, proto_encode_ack(b->re, ack));
        cJSON_Delete(ack);
    }
    client_unref(b->cl);
    free(b);
}

static void run_deferred(dispatch *d, job *j)
{
    client *cl = j->cl;
    const char *re = j->has_re ? j->re : NULL;
    char message[512];
    if (j->deferred->type == FORUM_CMD_SEARCH) {
        forum_err err = FORUM_OK;
        cJSON *ack = export_search(d->store, j->deferred, &err, message, sizeof message);
        if (!ack)
            send_error(cl, re, err, NULL, message, 0);
        else if (re)
            client_send(cl, proto_encode_ack(re, ack));
        cJSON_Delete(ack);
        return;
    }
    backup_req *b = calloc(1, sizeof *b);
    if (!b) {
        send_error(cl, re, FORUM_E_INTERNAL, NULL, "out of memory", 0);
        return;
    }
    b->cl = cl;
    b->has_re = j->has_re;
    snprintf(b->re, sizeof b->re, "%s", j->re);
    cl->refs++;
    if (store_backup_start(d->store, j->deferred->path, backup_done, b, message,
                           sizeof message) != 0) {
        send_error(cl, re, FORUM_E_CONFLICT, j->deferred->path ? "path" : NULL, message, 0);
        client_unref(cl);
        free(b);
    }
}

static int replay_one(void *arg, const forum_event *ev)
{
    return forum_replay(arg, ev);
}

/* Replaces live state with the committed state. Returns 0, or -1 if the database cannot be
 * read (writes then keep failing and the next failure tries again). */
static int reload_from_db(dispatch *d)
{
    forum_state *fresh = forum_new(&d->opt.limits);
    if (!fresh || store_load(d->store, replay_one, fresh) != 0) {
        fprintf(stderr, "forumd: could not reload state from the database; writes stay refused\n");
        forum_free(fresh);
        return -1;
    }
    forum_free(d->st);
    d->st = fresh;
    store_clear_failure(d->store);
    return 0;
}

/* After a failed commit (one node): live state is rebuilt from what is committed, then the
 * store accepts batches again. */
static void reload_state(uv_timer_t *t)
{
    dispatch *d = t->data;
    d->reload_pending = false;
    if (reload_from_db(d) == 0)
        fprintf(stderr, "forumd: a commit failed; live state was reloaded from the database\n");
}

/* ---- cluster: resync after a failure ------------------------------------------------------ */

/* Reads the log after what this node has committed (retried every 500 ms while Redis cannot be
 * read); commands are refused with a retryable error until it is done. */
static void resync_catch_up(uv_timer_t *t)
{
    dispatch *d = t->data;
    char err[256];
    d->rewinding = true;
    int rc = cluster_rewind(d->cluster, d->committed_pos, err, sizeof err);
    d->rewinding = false;
    if (rc != 0) {
        uv_timer_start(&d->resync_timer, resync_catch_up, 500, 0);
        return;
    }
    d->resyncing = false;
    fprintf(stderr, "forumd: caught up with the cluster log at position %lld\n",
            (long long)cluster_log_pos(d->cluster));
}

/* Runs once every batch queued before the failure has completed: live state := this node's
 * database, then the log after committed_pos is applied on top. */
static void resync_reload(dispatch *d)
{
    if (d->stopped)
        return;
    if (reload_from_db(d) != 0) {
        d->resyncing = false; /* the next failure tries again */
        return;
    }
    resync_catch_up(&d->resync_timer);
}

static job *job_new(dispatch *d, job_kind kind, client *cl);

static void start_resync(dispatch *d)
{
    if (d->resyncing || d->stopped)
        return;
    d->resyncing = true;
    fprintf(stderr, "forumd: live state diverged from the cluster log; reloading and catching up\n");
    job *j = job_new(d, JOB_RESYNC, NULL);
    if (j)
        store_append(d->store, &j->batch);
}

/* Sends the forwarded replies whose log position this node has committed, in order. */
static void release_waiters(dispatch *d)
{
    uint64_t now = uv_now(d->loop);
    while (d->wait_head &&
           (d->wait_head->pos <= d->committed_pos || d->wait_head->deadline <= now)) {
        waiter *w = d->wait_head;
        d->wait_head = w->next;
        if (!d->wait_head)
            d->wait_tail = NULL;
        client_send(w->cl, w->text);
        client_unref(w->cl);
        free(w);
    }
}

static void job_done(store_batch *b, int rc)
{
    job *j = b->ctx;
    client *cl = j->cl;
    dispatch *disp = j->d;
    if (j->kind == JOB_RESYNC) {
        job_free(j);
        resync_reload(disp);
        return;
    }
    if (rc == 0) {
        for (size_t i = 0; i < b->n_events; i++)
            hub_publish(disp->hub, &b->events[i]);
        if (j->pos > disp->committed_pos && (j->kind != JOB_REPLICA || j->counts_pos))
            disp->committed_pos = j->pos;
    }
    if (cl)
        cl->reply_pos = j->pos;
    if (j->kind == JOB_HELLO) {
        if (rc == 0)
            finish_hello(disp, j);
        else
            send_error(cl, j->re, FORUM_E_INTERNAL, NULL, "the server could not load the session",
                       0);
    } else if (j->kind == JOB_REQUEST && cl && !cl->closed) {
        if (rc != 0) {
            send_error(cl, j->has_re ? j->re : NULL, FORUM_E_INTERNAL, NULL,
                       "the change could not be saved; please try again", 0);
        } else if (j->err != FORUM_OK) {
            send_error(cl, j->has_re ? j->re : NULL, j->err, j->field[0] ? j->field : NULL,
                       j->message, j->retry_after_ms);
        } else if (j->deferred) {
            run_deferred(disp, j);
        } else if (j->has_re) {
            client_send(cl, proto_encode_ack(j->re, j->ack));
        }
        if (cl->remote && !cl->replied) /* the forwarder waits for an answer, even an empty one */
            cluster_send_reply(disp->cluster, cl->remote_node, cl->remote_rid, "", j->pos);
    }
    if (rc != 0 && b->n_events > 0) {
        if (disp->cluster) {
            start_resync(disp);
        } else if (!disp->reload_pending) {
            /* Live state holds events the database refused: rebuild it from what is committed. */
            disp->reload_pending = true;
            uv_timer_start(&disp->reload_timer, reload_state, 0, 0);
        }
    }
    job_free(j);
    if (disp->wait_head)
        release_waiters(disp);
}

static job *job_new(dispatch *d, job_kind kind, client *cl)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->kind = kind;
    j->d = d;
    j->cl = cl;
    if (cl)
        cl->refs++;
    j->batch.ctx = j;
    j->batch.done = job_done;
    return j;
}

/* Cluster leader: the job's events are in the log (or the barrier passed): commit them here. */
static void job_appended(void *arg, int rc, int64_t last_pos)
{
    job *j = arg;
    if (rc != 0) {
        job_done(&j->batch, -1);
        return;
    }
    j->pos = last_pos;
    store_append(j->d->store, &j->batch);
}

/* Commits a job (may complete it at once: callers do not touch j afterwards). On a cluster's
 * leader every job passes through the log first, so replies keep request order there too. */
static void job_submit(dispatch *d, job *j)
{
    if (d->cluster && j->kind != JOB_REPLICA) {
        if (cluster_leading(d->cluster)) {
            cluster_append(d->cluster, j->batch.events, j->batch.n_events, job_appended, j);
            return;
        }
        if (j->batch.n_events > 0) { /* applied while leading, which this node no longer is */
            job_done(&j->batch, -1);
            return;
        }
    }
    store_append(d->store, &j->batch);
}

/* Queues an error reply behind everything in flight, so replies keep request order. */
static void reply_error(dispatch *d, client *cl, const char *re, forum_err code,
                        const char *field, const char *message, int64_t retry_after_ms)
{
    job *j = job_new(d, JOB_REQUEST, cl);
    if (!j)
        return;
    if (re && re[0]) {
        snprintf(j->re, sizeof j->re, "%s", re);
        j->has_re = true;
    }
    j->err = code;
    snprintf(j->field, sizeof j->field, "%s", field ? field : "");
    snprintf(j->message, sizeof j->message, "%s", message ? message : "");
    j->retry_after_ms = retry_after_ms;
    job_submit(d, j);
}

/* ---- resume from the database ------------------------------------------------------------ */

typedef struct db_resume {
    client *cl;
    int64_t upto;
} db_resume;

static int send_stored(void *arg, const forum_event *ev)
{
    db_resume *r = arg;
    if (ev->seq > r->upto)
        return 1;
    hub_send_event(&r->cl->sub, ev);
    return 0;
}

static void send_missed_from_db(client *cl, int64_t from, int64_t upto)
{
    db_resume r = {cl, upto};
    store_events_after(cl->d->store, cl->sub.session, from, (size_t)(upto - from), send_stored,
                       &r);
}

/* ---- hello ------------------------------------------------------------------------------- */

/* True when the events after from can be replayed to this client without overflowing its send
 * queue (else it gets a fresh snapshot: a backlog that cannot fit would only get the client
 * dropped again, forever). Uses the ring's exact sizes, or the database's upper bound. */
static bool resume_fits(dispatch *d, const forum_actor *a, const char *code, int64_t from,
                        int64_t upto)
{
    if (from > upto || upto - from > d->opt.resume_max_events)
        return false;
    size_t max_msgs = 4096, max_bytes = 8u << 20;
    if (d->net)
        net_queue_limits(d->net, &max_msgs, &max_bytes);
    hub_sub probe;
    memset(&probe, 0, sizeof probe);
    probe.role = a->role;
    snprintf(probe.viewer_id, sizeof probe.viewer_id, "%s", a->viewer_id);
    snprintf(probe.session, sizeof probe.session, "%s", code);
    size_t count, bytes;
    /* Events after the ring's newest one are still in flight: budget them as the gap allows. */
    if (!hub_backlog(d->hub, &probe, from, &count, &bytes)) {
        int64_t n, b;
        if (store_backlog_size(d->store, code, from, &n, &b) != 0)
            return false;
        count = (size_t)n;
        bytes = (size_t)b;
    }
    return count + 64 <= max_msgs / 2 && bytes <= max_bytes / 2;
}

static void handle_hello(dispatch *d, client *cl, forum_command *cmd)
{
    const char *re = cmd->id;
    if (cl->hello_done) {
        reply_error(d, cl, re, FORUM_E_CONFLICT, NULL, "hello was already sent on this connection",
                    0);
        return;
    }
    forum_actor a;
    memset(&a, 0, sizeof a);
    a.role = cmd->role;
    const char *code = cmd->session ? cmd->session : "";
    if (cmd->name)
        snprintf(a.name, sizeof a.name, "%s", cmd->name);

    if (cmd->role == FORUM_ROLE_PRODUCER) {
        if (!auth_key_matches(cmd->token, d->opt.producer_key_hash)) {
            reply_error(d, cl, re, FORUM_E_UNAUTHORIZED, "token", "wrong producer key", 0);
            return;
        }
    } else if (!cmd->session) {
        reply_error(d, cl, re, FORUM_E_BAD_REQUEST, "session", "session is required", 0);
        return;
    }
    if (code[0] && !forum_session_exists(d->st, code)) {
        reply_error(d, cl, re, FORUM_E_NOT_FOUND, "session", "no session with this code", 0);
        return;
    }
    if (cmd->role == FORUM_ROLE_MODERATOR &&
        !auth_key_matches(cmd->token, forum_moderator_key_hash(d->st, code))) {
        reply_error(d, cl, re, FORUM_E_UNAUTHORIZED, "token", "wrong moderator key", 0);
        return;
    }
    if (cmd->role == FORUM_ROLE_VIEWER)
        auth_viewer_id(cmd->token, a.viewer_id);
    snprintf(a.session, sizeof a.session, "%s", code);

    job *j = job_new(d, JOB_HELLO, cl);
    if (!j)
        return;
    snprintf(j->re, sizeof j->re, "%s", re ? re : "");
    j->has_re = re != NULL;
    j->hello_seq = forum_last_seq(d->st, code);
    bool resume = cmd->has_resume_from && code[0] &&
                  resume_fits(d, &a, code, cmd->resume_from, j->hello_seq);
    if (resume) {
        j->resume_from = cmd->resume_from;
    } else {
        j->snapshot = forum_snapshot(d->st, &a, code[0] ? code : NULL);
        if (!j->snapshot) {
            job_free(j);
            reply_error(d, cl, re, FORUM_E_INTERNAL, NULL, "could not build the snapshot", 0);
            return;
        }
    }
    cl->actor = a;
    cl->hello_done = true;
    cl->sub.role = a.role;
    snprintf(cl->sub.viewer_id, sizeof cl->sub.viewer_id, "%s", a.viewer_id);
    snprintf(cl->sub.session, sizeof cl->sub.session, "%s", code);
    d->hellos++;
    job_submit(d, j);
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Per-viewer limits on questions and votes (the per-connection frame limit is taken earlier,
 * for every frame). */
static bool rate_limited(dispatch *d, client *cl, forum_cmd_type type, int64_t *retry)
{
    int64_t now = (int64_t)uv_now(d->loop);
    *retry = 0;
    if (cl->actor.role != FORUM_ROLE_VIEWER)
        return false;
    viewer_limits *v = limits_for(d, cl->actor.viewer_id);
    if (!v)
        return false;
    v->last_ms = now;
    if (type == FORUM_CMD_QUESTION_SUBMIT) {
        int per_min = forum_question_rate_per_min(d->st, cl->actor.session);
        if (per_min <= 0)
            per_min = d->opt.questions_per_min;
        *retry = auth_bucket_take(&v->submit, per_min, per_min / 60.0, now);
    } else if (type == FORUM_CMD_VOTE_ADD || type == FORUM_CMD_VOTE_REMOVE ||
               type == FORUM_CMD_POLL_VOTE) {
        *retry = auth_bucket_take(&v->vote, d->opt.votes_per_sec, d->opt.votes_per_sec, now);
    }
    return *retry > 0;
}

static void apply_command(dispatch *d, client *cl, forum_command *cmd);

/* ---- cluster: forwarding to the leader ----------------------------------------------------- */

/* Requests that change the show go to the cluster's leader; reads are answered here. */
static bool changes_state(forum_cmd_type t)
{
    return t != FORUM_CMD_HELLO && t != FORUM_CMD_SEARCH && t != FORUM_CMD_BACKUP &&
           t != FORUM_CMD_SESSION_LIST;
}

typedef struct fwd_ctx {
    client *cl;
    char re[FORUM_REQUEST_ID_MAX];
    bool has_re;
} fwd_ctx;

static void forward_replied(void *arg, int rc, const char *text, int64_t pos)
{
    fwd_ctx *f = arg;
    client *cl = f->cl;
    dispatch *d = cl->d;
    if (rc != 0) {
        d->forward_errors++;
        send_error(cl, f->has_re ? f->re : NULL, FORUM_E_INTERNAL, NULL,
                   "the server leading the show did not answer; please try again", 1000);
    } else if (text[0]) {
        waiter *w = calloc(1, sizeof *w);
        char *copy = strdup(text);
        if (w && copy) {
            w->cl = cl;
            cl->refs++;
            w->text = copy;
            w->pos = pos;
            w->deadline = uv_now(d->loop) + 5000;
            if (d->wait_tail)
                d->wait_tail->next = w;
            else
                d->wait_head = w;
            d->wait_tail = w;
        } else {
            free(w);
            free(copy);
        }
        release_waiters(d);
    }
    client_unref(cl);
    free(f);
}

static void forward_request(dispatch *d, client *cl, const forum_command *cmd, const char *data,
                            size_t len)
{
    fwd_ctx *f = calloc(1, sizeof *f);
    if (!f) {
        send_error(cl, cmd->id, FORUM_E_INTERNAL, NULL, "out of memory", 0);
        return;
    }
    f->cl = cl;
    cl->refs++;
    if (cmd->id) {
        snprintf(f->re, sizeof f->re, "%s", cmd->id);
        f->has_re = true;
    }
    d->forwarded++;
    cluster_forward(d->cluster, &cl->actor, data, len, forward_replied, f);
}

/* Leader: a request a viewer or moderator sent to another node. */
static void on_cluster_request(void *arg, const char *from, int64_t rid, const forum_actor *actor,
                               const char *frame, size_t len)
{
    dispatch *d = arg;
    client *cl = calloc(1, sizeof *cl);
    if (!cl)
        return;
    cl->d = d;
    cl->refs = 1;
    cl->remote = true;
    cl->hello_done = true;
    cl->actor = *actor;
    snprintf(cl->remote_node, sizeof cl->remote_node, "%s", from);
    cl->remote_rid = rid;
    forum_command cmd;
    proto_error perr;
    memset(&cmd, 0, sizeof cmd);
    if (proto_decode(frame, len, &d->opt.limits, &cmd, &perr) != 0) {
        reply_error(d, cl, perr.re, perr.code, perr.field[0] ? perr.field : NULL, perr.message, 0);
    } else if (!changes_state(cmd.type)) {
        reply_error(d, cl, cmd.id, FORUM_E_BAD_REQUEST, "type", "not a forwardable request", 0);
    } else if (!cluster_leading(d->cluster) || d->resyncing) {
        reply_error(d, cl, cmd.id, FORUM_E_INTERNAL, NULL,
                    "the server leading the show changed; please try again", 500);
    } else {
        apply_command(d, cl, &cmd);
    }
    forum_command_free(&cmd);
    client_unref(cl);
}

/* Follower: entries of the log this node has not applied yet. */
static void on_cluster_entries(void *arg, cluster_entry *es, size_t n)
{
    dispatch *d = arg;
    if (d->resyncing && !d->rewinding) { /* read again after the reload */
        for (size_t i = 0; i < n; i++)
            forum_event_clear(&es[i].ev);
        return;
    }
    job *j = job_new(d, JOB_REPLICA, NULL);
    forum_event *evs = j ? calloc(n, sizeof *evs) : NULL;
    if (!evs) {
        for (size_t i = 0; i < n; i++)
            forum_event_clear(&es[i].ev);
        free(j);
        start_resync(d);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        forum_event *ev = &es[i].ev;
        int64_t last = forum_last_seq(d->st, ev->session);
        if (ev->seq <= last) { /* already applied: this node's own event, or from its database */
            forum_event_clear(ev);
            continue;
        }
        if (ev->seq != last + 1 || forum_replay(d->st, ev) != 0) {
            fprintf(stderr, "forumd: log entry %lld (%s seq %lld, %s) cannot be applied here\n",
                    (long long)es[i].pos, ev->session[0] ? ev->session : "studio",
                    (long long)ev->seq, ev->kind);
            d->replica_errors++;
            forum_event_clear(ev);
            continue;
        }
        evs[k++] = *ev;
    }
    d->replica_events += k;
    j->batch.events = evs;
    j->batch.n_events = k;
    j->pos = es[n - 1].pos;
    j->counts_pos = !cluster_leading(d->cluster);
    store_append(d->store, &j->batch);
}

static void on_cluster_presence(void *arg, const char *node, const cJSON *counts)
{
    dispatch *d = arg;
    peer_count *p = d->peers;
    while (p && strcmp(p->node, node) != 0)
        p = p->next;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return;
        snprintf(p->node, sizeof p->node, "%s", node);
        p->next = d->peers;
        d->peers = p;
    }
    cJSON_Delete(p->counts);
    p->counts = cJSON_Duplicate(counts, 1);
    p->at = uv_now(d->loop);
    /* the leader records the peak audience over every node */
    const cJSON *it;
    cJSON_ArrayForEach(it, counts)
        note_peak_pending(d, it->string);
}

/* Viewers of session code connected to the other nodes (reports of the last 5 s). */
static size_t viewers_elsewhere(void *arg, const char *code)
{
    dispatch *d = arg;
    uint64_t now = uv_now(d->loop);
    size_t n = 0;
    for (peer_count *p = d->peers; p; p = p->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->counts, code);
        if (now - p->at <= 5000 && cJSON_IsNumber(v) && v->valuedouble > 0)
            n += (size_t)v->valuedouble;
    }
    return n;
}

static size_t viewers_total(dispatch *d, const char *code)
{
    return hub_count(d->hub, code, FORUM_ROLE_VIEWER) + (d->cluster ? viewers_elsewhere(d, code) : 0);
}

int dispatch_attach_cluster(dispatch *d, cluster *c, int64_t committed_pos, char *err,
                            size_t errlen)
{
    d->cluster = c;
    d->committed_pos = committed_pos;
    cluster_hooks hooks = {d, on_cluster_entries, on_cluster_request, on_cluster_presence};
    cluster_run(c, &hooks, committed_pos);
    long n = cluster_read_all(c, committed_pos, on_cluster_entries, d, err, errlen);
    if (n < 0)
        return -1;
    fprintf(stderr, "forumd: node %s joined the cluster: %ld log entries read, log position %lld\n",
            cluster_node(c), n, (long long)cluster_log_pos(c));
    return 0;
}

static void on_message(void *arg, net_conn *c, void *user, const char *data, size_t len)
{
    dispatch *d = arg;
    client *cl = user;
    if (!cl)
        return;
    d->requests++;
    /* Every frame, before hello and before decoding, takes a token of the connection's budget
     * (a flood of requests is answered with rate_limited); a run of frames that are not JSON
     * at all is protocol abuse and closes the connection (1008). */
    int64_t retry = auth_bucket_take(&cl->msg_bucket, d->opt.messages_per_sec * 2.0,
                                     d->opt.messages_per_sec, (int64_t)uv_now(d->loop));
    if (retry > 0) {
        proto_error peek;
        forum_command none;
        memset(&none, 0, sizeof none);
        if (proto_decode(data, len, &d->opt.limits, &none, &peek) == 0) {
            snprintf(peek.re, sizeof peek.re, "%s", none.id ? none.id : "");
            forum_command_free(&none);
        } else if (peek.code == FORUM_E_BAD_JSON &&
                   ++cl->refused_in_a_row > MAX_BAD_FRAMES_IN_A_ROW) {
            net_close(c, 1008, "too many frames that are not JSON");
            return;
        }
        reply_error(d, cl, peek.re, FORUM_E_RATE_LIMITED, NULL, "too many requests; slow down",
                    retry);
        return;
    }
    forum_command cmd;
    proto_error perr;
    memset(&cmd, 0, sizeof cmd);
    if (proto_decode(data, len, &d->opt.limits, &cmd, &perr) != 0) {
        if (perr.code == FORUM_E_BAD_JSON && ++cl->refused_in_a_row > MAX_BAD_FRAMES_IN_A_ROW) {
            net_close(c, 1008, "too many frames that are not JSON");
            return;
        }
        reply_error(d, cl, perr.re, perr.code, perr.field[0] ? perr.field : NULL, perr.message, 0);
        return;
    }
    cl->refused_in_a_row = 0;
    if (cmd.type == FORUM_CMD_HELLO) {
        handle_hello(d, cl, &cmd);
        forum_command_free(&cmd);
        return;
    }
    if (!cl->hello_done) {
        reply_error(d, cl, cmd.id, FORUM_E_UNAUTHORIZED, NULL, "send hello first", 0);
        forum_command_free(&cmd);
        return;
    }
    if (!forum_submit_is_repeat(d->st, &cl->actor, &cmd) && rate_limited(d, cl, cmd.type, &retry)) {
        reply_error(d, cl, cmd.id, FORUM_E_RATE_LIMITED, NULL, "too many requests; slow down",
                    retry);
        forum_command_free(&cmd);
        return;
    }
    if (d->cluster && changes_state(cmd.type)) {
        if (!cluster_leading(d->cluster)) {
            forward_request(d, cl, &cmd, data, len);
            forum_command_free(&cmd);
            return;
        }
        if (d->resyncing) {
            reply_error(d, cl, cmd.id, FORUM_E_INTERNAL, NULL,
                        "the server is catching up with the show; please try again", 500);
            forum_command_free(&cmd);
            return;
        }
    }
    apply_command(d, cl, &cmd);
}

/* Applies a decoded request for cl's actor and queues its events for commit (frees cmd). */
static void apply_command(dispatch *d, client *cl, forum_command *cmdp)
{
    forum_command cmd = *cmdp;
    memset(cmdp, 0, sizeof *cmdp);
    forum_env env = {dispatch_now_ms(), forum_random};
    forum_result r = forum_apply(d->st, &cl->actor, &cmd, &env);
    job *j = job_new(d, JOB_REQUEST, cl);
    if (!j) {
        forum_result_free(&r);
        forum_command_free(&cmd);
        return;
    }
    if (cmd.id) {
        snprintf(j->re, sizeof j->re, "%s", cmd.id);
        j->has_re = true;
    }
    j->err = r.err;
    snprintf(j->field, sizeof j->field, "%s", r.field ? r.field : "");
    snprintf(j->message, sizeof j->message, "%s", r.message);
    j->retry_after_ms = r.retry_after_ms;
    j->ack = r.ack;
    r.ack = NULL;
    j->batch.events = r.events;
    j->batch.n_events = r.n_events;
    r.events = NULL;
    r.n_events = 0;
    if (r.err == FORUM_OK && (cmd.type == FORUM_CMD_SEARCH || cmd.type == FORUM_CMD_BACKUP) &&
        (j->deferred = malloc(sizeof cmd)) != NULL) {
        *j->deferred = cmd;
        memset(&cmd, 0, sizeof cmd);
        j->batch.search_barrier = true; /* the search index catches up with earlier commits */
    }
    forum_result_free(&r);
    forum_command_free(&cmd);
    job_submit(d, j);
}

/* ---- timers ------------------------------------------------------------------------------ */

/* Tells the other nodes how many viewers watch each session here (presence, peak audience). */
static void publish_presence(dispatch *d)
{
    cJSON *counts = hub_viewer_counts(d->hub);
    if (counts)
        cluster_publish_presence(d->cluster, counts);
    cJSON_Delete(counts);
}

static void flush_counts(uv_timer_t *t)
{
    dispatch *d = t->data;
    if (d->cluster && d->presence_dirty) {
        publish_presence(d);
        d->presence_dirty = false;
    }
    if (d->cluster && (!cluster_leading(d->cluster) || d->resyncing)) {
        d->n_peak_pending = 0; /* counts and peaks are the leader's to record */
        return;
    }
    forum_env env = {dispatch_now_ms(), forum_random};
    forum_event *events = NULL;
    size_t n = 0;
    size_t added = forum_flush_counts(d->st, &env, &events, &n);
    for (size_t i = 0; i < d->n_peak_pending; i++)
        added += forum_note_viewers(d->st, d->peak_pending[i],
                                    (int64_t)viewers_total(d, d->peak_pending[i]), &env, &events,
                                    &n);
    d->n_peak_pending = 0;
    if (added == 0) {
        free(events);
        return;
    }
    job *j = job_new(d, JOB_SYSTEM, NULL);
    if (!j) {
        for (size_t i = 0; i < n; i++)
            forum_event_clear(&events[i]);
        free(events);
        return;
    }
    j->batch.events = events;
    j->batch.n_events = n;
    job_submit(d, j);
}

/* Every second: closes connections that sent no hello in time, and tells staff how many
 * viewers are watching when that changed. */
static void sweep_hello(uv_timer_t *t)
{
    dispatch *d = t->data;
    int64_t now = (int64_t)uv_now(d->loop);
    if (d->last_sweep_ms && now - d->last_sweep_ms - 1000 > d->max_stall_ms)
        d->max_stall_ms = now - d->last_sweep_ms - 1000;
    d->last_sweep_ms = now;
    hub_send_presence(d->hub, d->cluster ? viewers_elsewhere : NULL, d);
    if (d->cluster) {
        publish_presence(d);
        release_waiters(d);
    }
    if (now - d->last_prune_ms >= 60000) { /* forget idle viewers' buckets (they are full) */
        d->last_prune_ms = now;
        for (size_t i = 0; i < VIEWER_BUCKETS; i++)
            for (viewer_limits **pp = &d->limits[i]; *pp;) {
                viewer_limits *v = *pp;
                if (now - v->last_ms >= VIEWER_LIMITS_IDLE_MS) {
                    *pp = v->next;
                    free(v);
                } else {
                    pp = &v->next;
                }
            }
    }
    for (client *cl = d->clients; cl; cl = cl->next)
        if (!cl->hello_done && now - cl->opened_at >= d->opt.hello_timeout_ms)
            net_close(cl->conn, 1008, "no hello within the time limit");
}

/* ---- HTTP -------------------------------------------------------------------------------- */

static char *metrics_text(dispatch *d, size_t *len)
{
    net_stats ns = {0};
    if (d->net)
        net_get_stats(d->net, &ns);
    store_stats ss;
    store_get_stats(d->store, &ss);
    size_t cap = 8192, off = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
#define OUT(...) off += (size_t)snprintf(buf + off, off < cap ? cap - off : 0, __VA_ARGS__)
    OUT("# HELP forum_connections Open WebSocket connections by role.\n"
        "# TYPE forum_connections gauge\n");
    size_t authed = 0;
    static const char *roles[] = {"none", "viewer", "moderator", "producer"};
    for (int r = 1; r <= 3; r++) {
        size_t c = hub_count(d->hub, NULL, (forum_role)r);
        authed += c;
        OUT("forum_connections{role=\"%s\"} %zu\n", roles[r], c);
    }
    OUT("forum_connections{role=\"none\"} %zu\n",
        ns.connections > authed ? (size_t)(ns.connections - authed) : (size_t)0);
    OUT("# HELP forum_events_committed_total Events durably committed.\n"
        "# TYPE forum_events_committed_total counter\nforum_events_committed_total %llu\n",
        (unsigned long long)ss.events_committed);
    OUT("# TYPE forum_transactions_total counter\nforum_transactions_total %llu\n",
        (unsigned long long)ss.transactions);
    OUT("# TYPE forum_failed_transactions_total counter\nforum_failed_transactions_total %llu\n",
        (unsigned long long)ss.failed_transactions);
    OUT("# HELP forum_commit_latency_ms From queueing a batch to its commit completing.\n"
        "# TYPE forum_commit_latency_ms histogram\n");
    for (int i = 0; i < 11; i++)
        OUT("forum_commit_latency_ms_bucket{le=\"%g\"} %llu\n", store_latency_bounds_ms[i],
            (unsigned long long)ss.latency_le[i]);
    OUT("forum_commit_latency_ms_bucket{le=\"+Inf\"} %llu\n",
        (unsigned long long)ss.latency_le[11]);
    OUT("forum_commit_latency_ms_sum %.3f\nforum_commit_latency_ms_count %llu\n",
        ss.latency_sum_ms, (unsigned long long)ss.latency_le[11]);
    OUT("# HELP forum_store_queue_batches Batches waiting for or in a commit.\n"
        "# TYPE forum_store_queue_batches gauge\nforum_store_queue_batches %llu\n",
        (unsigned long long)ss.queued_batches);
    OUT("# HELP forum_send_queue_messages Messages waiting in connection send queues.\n"
        "# TYPE forum_send_queue_messages gauge\nforum_send_queue_messages %llu\n",
        (unsigned long long)ns.queued_msgs);
    OUT("# TYPE forum_send_queue_bytes gauge\nforum_send_queue_bytes %llu\n",
        (unsigned long long)ns.queued_bytes);
    OUT("# HELP forum_dropped_slow_clients_total Connections dropped for a full send queue.\n"
        "# TYPE forum_dropped_slow_clients_total counter\nforum_dropped_slow_clients_total %llu\n",
        (unsigned long long)ns.dropped_slow);
    OUT("# TYPE forum_refused_connections_total counter\nforum_refused_connections_total %llu\n",
        (unsigned long long)ns.refused);
    OUT("# TYPE forum_requests_total counter\nforum_requests_total %llu\n",
        (unsigned long long)d->requests);
    OUT("# TYPE forum_hellos_total counter\nforum_hellos_total %llu\n",
        (unsigned long long)d->hellos);
    OUT("# TYPE forum_error_replies_total counter\nforum_error_replies_total %llu\n",
        (unsigned long long)d->errors);
    OUT("# HELP forum_loop_stall_max_ms Longest the event loop ran late for its 1 s timer.\n"
        "# TYPE forum_loop_stall_max_ms gauge\nforum_loop_stall_max_ms %lld\n",
        (long long)d->max_stall_ms);
    OUT("# TYPE forum_frames_written_total counter\nforum_frames_written_total %llu\n",
        (unsigned long long)ns.frames_written);
    OUT("# TYPE forum_messages_written_total counter\nforum_messages_written_total %llu\n",
        (unsigned long long)ns.messages_written);
    if (d->cluster) {
        cluster_stats cs;
        cluster_get_stats(d->cluster, &cs);
        int64_t lag = cs.log_top - d->committed_pos;
        OUT("# HELP forum_cluster_leader 1 if this node leads the cluster (applies commands).\n"
            "# TYPE forum_cluster_leader gauge\nforum_cluster_leader{node=\"%s\"} %d\n",
            cluster_node(d->cluster), cs.leading ? 1 : 0);
        OUT("# TYPE forum_cluster_redis_connected gauge\nforum_cluster_redis_connected %d\n",
            cs.connected ? 1 : 0);
        OUT("# HELP forum_cluster_log_position Last log position appended or read here.\n"
            "# TYPE forum_cluster_log_position gauge\nforum_cluster_log_position %lld\n",
            (long long)cs.log_pos);
        OUT("# TYPE forum_cluster_committed_position gauge\n"
            "forum_cluster_committed_position %lld\n",
            (long long)d->committed_pos);
        OUT("# HELP forum_cluster_lag_events Log entries seen but not yet committed here.\n"
            "# TYPE forum_cluster_lag_events gauge\nforum_cluster_lag_events %lld\n",
            (long long)(lag > 0 ? lag : 0));
        OUT("# TYPE forum_cluster_forwarded_total counter\n"
            "forum_cluster_forwarded_total{direction=\"out\"} %llu\n"
            "forum_cluster_forwarded_total{direction=\"in\"} %llu\n",
            (unsigned long long)cs.forwarded_out, (unsigned long long)cs.forwarded_in);
        OUT("# TYPE forum_cluster_forward_failures_total counter\n"
            "forum_cluster_forward_failures_total %llu\n",
            (unsigned long long)d->forward_errors);
        OUT("# TYPE forum_cluster_lease_acquired_total counter\n"
            "forum_cluster_lease_acquired_total %llu\n",
            (unsigned long long)cs.lease_acquired);
        OUT("# TYPE forum_cluster_append_failures_total counter\n"
            "forum_cluster_append_failures_total %llu\n",
            (unsigned long long)cs.append_failures);
        OUT("# TYPE forum_cluster_replicated_events_total counter\n"
            "forum_cluster_replicated_events_total %llu\n",
            (unsigned long long)d->replica_events);
        OUT("# TYPE forum_cluster_replica_errors_total counter\n"
            "forum_cluster_replica_errors_total %llu\n",
            (unsigned long long)d->replica_errors);
    }
#undef OUT
    if (off >= cap) {
        free(buf);
        return NULL;
    }
    *len = off;
    return buf;
}

static bool producer_authorized(dispatch *d, const char *authorization)
{
    static const char prefix[] = "Bearer ";
    if (strncmp(authorization, prefix, sizeof prefix - 1) != 0)
        return false;
    return auth_key_matches(authorization + sizeof prefix - 1, d->opt.producer_key_hash);
}

static void json_reply(net_http_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = strdup(text);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
}

static bool page_route(dispatch *d, const char *path, const char *prefix, const char *file,
                       net_http_response *resp)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return false;
    snprintf(resp->file_path, sizeof resp->file_path, "%s/%s", d->opt.web_root, file);
    return true;
}

/* Does the query string hold key=value (exactly)? */
static bool query_has(const char *query, const char *key, const char *value)
{
    size_t kn = strlen(key), vn = strlen(value);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (strncmp(p, key, kn) == 0 && p[kn] == '=' && strncmp(p + kn + 1, value, vn) == 0 &&
            (p[kn + 1 + vn] == '\0' || p[kn + 1 + vn] == '&'))
            return true;
    return false;
}

static void on_http(void *arg, const char *path, const char *query, const char *authorization,
                    net_http_response *resp)
{
    dispatch *d = arg;
    if (strcmp(path, "/api/search") == 0) {
        if (!producer_authorized(d, authorization)) {
            json_reply(resp, 401, "{\"error\":\"unauthorized\",\"message\":\"send the producer "
                                  "key as Authorization: Bearer <key>\"}");
            return;
        }
        resp->body = export_search_http(d->store, &d->opt.limits, query, &resp->status,
                                        &resp->body_len);
        resp->status = resp->body ? resp->status : 500;
        resp->content_type = "application/json; charset=utf-8";
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        /* In a cluster a node cut off from Redis still serves its viewers (read-only): it
         * stays healthy for the load balancer, and says what it is. */
        char body[256] = "{\"ok\":true}";
        if (d->cluster) {
            cluster_stats cs;
            cluster_get_stats(d->cluster, &cs);
            snprintf(body, sizeof body,
                     "{\"ok\":true,\"cluster\":{\"node\":\"%s\",\"leader\":%s,\"redis\":%s,"
                     "\"writable\":%s,\"log_position\":%lld}}",
                     cluster_node(d->cluster), cs.leading ? "true" : "false",
                     cs.connected ? "true" : "false",
                     cs.connected && !d->resyncing ? "true" : "false", (long long)cs.log_pos);
        }
        json_reply(resp, 200, body);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        resp->body = metrics_text(d, &resp->body_len);
        resp->status = resp->body ? 200 : 500;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        return;
    }
    static const char api[] = "/api/sessions/";
    if (strncmp(path, api, sizeof api - 1) == 0) {
        char code[FORUM_CODE_MAX];
        const char *rest = path + sizeof api - 1;
        const char *slash = strchr(rest, '/');
        if (!slash || (size_t)(slash - rest) >= sizeof code) {
            json_reply(resp, 404, "{\"error\":\"not_found\"}");
            return;
        }
        memcpy(code, rest, (size_t)(slash - rest));
        code[slash - rest] = '\0';
        /* Archiving publishes the minutes: viewers may read transcript.md without a key. */
        const char *status = forum_session_status(d->st, code);
        bool public_minutes = strcmp(slash, "/transcript.md") == 0 && status &&
                              strcmp(status, "archived") == 0;
        if (!public_minutes && !producer_authorized(d, authorization)) {
            json_reply(resp, 401, "{\"error\":\"unauthorized\",\"message\":\"send the producer "
                                  "key as Authorization: Bearer <key>\"}");
            return;
        }
        if (!forum_session_exists(d->st, code)) {
            json_reply(resp, 404, "{\"error\":\"not_found\",\"message\":\"no such session\"}");
            return;
        }
        if (strcmp(slash, "/transcript.json") == 0) {
            resp->body = export_transcript_json(d->store, d->st, code, &resp->body_len);
            resp->status = resp->body ? 200 : 500;
            resp->content_type = "application/json; charset=utf-8";
            return;
        }
        if (strcmp(slash, "/transcript.md") == 0) {
            export_lang lang = query_has(query, "lang", "en") ? EXPORT_EN : EXPORT_ZH;
            resp->body = export_transcript_md(d->store, d->st, code, lang, &resp->body_len);
            resp->status = resp->body ? 200 : 500;
            resp->content_type = "text/markdown; charset=utf-8";
            return;
        }
        if (strcmp(slash, "/questions.csv") == 0) {
            resp->body = export_questions_csv(d->store, d->st, code, &resp->body_len);
            resp->status = resp->body ? 200 : 500;
            resp->content_type = "text/csv; charset=utf-8";
            resp->content_disposition = "attachment; filename=\"questions.csv\"";
            return;
        }
        json_reply(resp, 404, "{\"error\":\"not_found\",\"message\":\"no such export\"}");
        return;
    }
    if (page_route(d, path, "/s/", "viewer.html", resp) ||
        page_route(d, path, "/m/", "moderator.html", resp) ||
        page_route(d, path, "/overlay/", "overlay.html", resp))
        return;
    if (strcmp(path, "/producer") == 0 || strcmp(path, "/producer/") == 0)
        snprintf(resp->file_path, sizeof resp->file_path, "%s/producer.html", d->opt.web_root);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

dispatch *dispatch_new(uv_loop_t *loop, forum_state *st, store *s, const dispatch_options *opt)
{
    dispatch *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->loop = loop;
    d->st = st;
    d->store = s;
    d->opt = *opt;
    if (d->opt.hello_timeout_ms <= 0)
        d->opt.hello_timeout_ms = 10000;
    if (d->opt.flush_interval_ms <= 0)
        d->opt.flush_interval_ms = 100;
    if (d->opt.questions_per_min <= 0)
        d->opt.questions_per_min = 6;
    if (d->opt.votes_per_sec <= 0)
        d->opt.votes_per_sec = 10;
    if (d->opt.messages_per_sec <= 0)
        d->opt.messages_per_sec = 50;
    if (d->opt.resume_max_events <= 0)
        d->opt.resume_max_events = 10000;
    d->hub = hub_new(2048);
    if (!d->hub) {
        free(d);
        return NULL;
    }
    uv_timer_init(loop, &d->flush_timer);
    uv_timer_init(loop, &d->sweep_timer);
    uv_timer_init(loop, &d->reload_timer);
    uv_timer_init(loop, &d->resync_timer);
    d->resync_timer.data = d;
    d->flush_timer.data = d;
    d->sweep_timer.data = d;
    d->reload_timer.data = d;
    uv_timer_start(&d->flush_timer, flush_counts, (uint64_t)d->opt.flush_interval_ms,
                   (uint64_t)d->opt.flush_interval_ms);
    uv_timer_start(&d->sweep_timer, sweep_hello, 1000, 1000);
    return d;
}

forum_state *dispatch_state(dispatch *d)
{
    return d->st;
}

net_callbacks dispatch_net_callbacks(dispatch *d)
{
    net_callbacks cb = {d, on_open, on_message, on_close, on_http};
    return cb;
}

void dispatch_set_net(dispatch *d, net *n)
{
    d->net = n;
}

void dispatch_stop(dispatch *d)
{
    if (d->stopped)
        return;
    /* Last coalesced counts go out before the writer is flushed (in a cluster, the next leader
     * recounts them from the vote events). */
    if (!d->cluster)
        flush_counts(&d->flush_timer);
    d->stopped = true;
    uv_timer_stop(&d->flush_timer);
    uv_timer_stop(&d->sweep_timer);
    uv_timer_stop(&d->reload_timer);
    uv_close((uv_handle_t *)&d->flush_timer, NULL);
    uv_close((uv_handle_t *)&d->sweep_timer, NULL);
    uv_close((uv_handle_t *)&d->reload_timer, NULL);
    uv_timer_stop(&d->resync_timer);
    uv_close((uv_handle_t *)&d->resync_timer, NULL);
}

void dispatch_close_cluster(dispatch *d)
{
    if (!d->cluster)
        return;
    cluster *c = d->cluster;
    char pos[32];
    snprintf(pos, sizeof pos, "%lld", (long long)d->committed_pos);
    store_meta_set(d->store, "cluster_pos", pos);
    cluster_close(c); /* fails pending forwards: replies are sent while d->cluster is set */
    d->cluster = NULL;
    while (d->wait_head) {
        d->wait_head->deadline = 0;
        release_waiters(d);
    }
}

void dispatch_free(dispatch *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < VIEWER_BUCKETS; i++) {
        viewer_limits *v = d->limits[i];
        while (v) {
            viewer_limits *next = v->next;
            free(v);
            v = next;
        }
    }
    while (d->peers) {
        peer_count *p = d->peers;
        d->peers = p->next;
        cJSON_Delete(p->counts);
        free(p);
    }
    hub_free(d->hub);
    free(d);
}
