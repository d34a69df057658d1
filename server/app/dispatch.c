/* dispatch.c — the request pipeline on one node: frame -> proto -> auth/forum -> store ->
 * hub/ack. See dispatch.h. Every request, even one that fails validation, travels through the
 * store queue (as a barrier when it has no events) so that replies on a connection keep the
 * order of the requests and nothing is acknowledged before what precedes it is committed.
 * The cluster's forwarding and resync are in dispatch_cluster.c, HTTP in http.c. */
#include "dispatch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "containers.h"
#include "export.h"
#include "log.h"

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

void client_unref(client *cl)
{
    if (--cl->refs > 0)
        return;
    if (cl->http && !cl->replied) /* never leave an HTTP client waiting */
        http_client_reply(cl, proto_encode_error(NULL, FORUM_E_INTERNAL, NULL,
                                                 "the request could not be completed", 0));
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

void client_send(client *cl, char *text)
{
    if (!text)
        return;
    if (cl->http) {
        http_client_reply(cl, text);
        free(text);
    } else if (cl->remote) {
        cluster_send_reply(cl->d->cluster, cl->remote_node, cl->remote_rid, text, cl->reply_pos);
        cl->replied = true;
        free(text);
    } else if (cl->closed) {
        free(text);
    } else {
        net_send_text(cl->conn, text);
    }
}

void send_error(client *cl, const char *re, forum_err code, const char *field, const char *message,
                int64_t retry_after_ms)
{
    if (cl->closed)
        return;
    cl->d->errors++;
    client_send(cl, proto_encode_error(re, code, field, message, retry_after_ms));
}

/* ---- per-viewer limits ------------------------------------------------------------------- */

static viewer_limits *limits_for(dispatch *d, const char *key)
{
    viewer_limits **slot = &d->limits[hash_str(key) % VIEWER_BUCKETS];
    for (viewer_limits *v = *slot; v; v = v->next)
        if (strcmp(v->key, key) == 0)
            return v;
    viewer_limits *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    snprintf(v->key, sizeof v->key, "%s", key);
    v->next = *slot;
    *slot = v;
    return v;
}

/* ---- jobs -------------------------------------------------------------------------------- */

static void job_free(job *j)
{
    webhooks_release(&j->batch);
    for (size_t i = 0; i < j->batch.n_events; i++)
        forum_event_clear(&j->batch.events[i]);
    free(j->batch.events);
    free(j->ack.p);
    free(j->snapshot);
    if (j->deferred) {
        forum_command_free(j->deferred);
        free(j->deferred);
    }
    if (j->cl)
        client_unref(j->cl);
    free(j);
}

static void send_missed_from_db(client *cl, int64_t from, int64_t upto);

/* A moderator key stops working at once when it is rotated: every connection of session code
 * that joined with another key than the current one is closed (its requests are refused in
 * the meantime, see on_message). */
static void close_rotated_moderators(dispatch *d, const char *code)
{
    const char *current = forum_moderator_key_hash(d->st, code);
    for (client *cl = d->clients; cl; cl = cl->next)
        if (cl->hello_done && cl->actor.role == FORUM_ROLE_MODERATOR && !cl->closed &&
            strcmp(cl->actor.session, code) == 0 && (!current || strcmp(cl->key_hash, current)))
            net_close(cl->conn, 1008, "the moderator key was rotated");
}

void note_peak_pending(dispatch *d, const char *code)
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
    int64_t viewers = cl->actor.role != FORUM_ROLE_VIEWER && cl->sub.session[0]
                          ? (int64_t)viewers_total(d, cl->sub.session)
                          : -1;
    net_send_text(cl->conn, proto_encode_welcome_text(
                                j->re, cl->actor.role,
                                cl->actor.viewer_id[0] ? cl->actor.viewer_id : NULL, j->hello_seq,
                                j->snapshot, viewers));
    if (!j->snapshot && hub_replay(d->hub, &cl->sub, j->resume_from, j->hello_seq) != 0)
        send_missed_from_db(cl, j->resume_from, j->hello_seq);
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
    if (store_backup_start(d->store, j->deferred->path, backup_done, b, message, sizeof message) !=
        0) {
        send_error(cl, re, FORUM_E_CONFLICT, j->deferred->path ? "path" : NULL, message, 0);
        client_unref(cl);
        free(b);
    }
}

static int replay_one(void *arg, const forum_event *ev)
{
    return forum_replay(arg, ev);
}

int reload_from_db(dispatch *d)
{
    forum_state *fresh = forum_new(&d->opt.limits);
    if (!fresh || store_load(d->store, replay_one, fresh) != 0) {
        log_error("could not reload state from the database; writes stay refused");
        forum_free(fresh);
        return -1;
    }
    forum_free(d->st);
    d->st = fresh;
    webhooks_set_state(d->webhooks, fresh);
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
        log_warn("a commit failed; live state was reloaded from the database");
}

void job_done(store_batch *b, int rc)
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
        webhooks_committed(disp->webhooks, b);
        for (size_t i = 0; i < b->n_events; i++) {
            hub_publish(disp->hub, &b->events[i]);
            int64_t program_id = forum_event_program(disp->st, &b->events[i]);
            if (program_id)
                hub_publish_board(disp->hub, program_id, &b->events[i]);
            if (b->events[i].kind == FORUM_EV_SESSION_CHANGED)
                close_rotated_moderators(disp, b->events[i].session);
        }
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
            client_send(cl, proto_encode_ack_text(j->re, j->ack.p, j->ack.len));
        }
        if (cl->remote && !cl->replied) /* the forwarder waits for an answer, even an empty one */
            cluster_send_reply(disp->cluster, cl->remote_node, cl->remote_rid, "", j->pos);
        if (cl->http && !cl->replied)
            http_client_reply(cl, NULL);
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

job *job_new(dispatch *d, job_kind kind, client *cl)
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

void reply_error(dispatch *d, client *cl, const char *re, forum_err code, const char *field,
                 const char *message, int64_t retry_after_ms)
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
    store_events_after(cl->d->store, cl->sub.session, from, (size_t)(upto - from), send_stored, &r);
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

/* The byte budget of a welcome's question list: the role's default, and never more than a
 * quarter of a connection's send queue, so that no welcome can get its connection dropped as a
 * slow consumer. */
static size_t snapshot_budget(dispatch *d, forum_role role)
{
    size_t budget = role == FORUM_ROLE_VIEWER ? FORUM_SNAPSHOT_VIEWER_BYTES
                                              : FORUM_SNAPSHOT_STAFF_BYTES;
    size_t max_msgs = 4096, max_bytes = 8u << 20;
    if (d->net)
        net_queue_limits(d->net, &max_msgs, &max_bytes);
    if (budget > max_bytes / 4)
        budget = max_bytes / 4;
    return budget > 1024 ? budget : 1024;
}

/* hello {role: "board", program_id}: a programme's public board. No key: it only receives the
 * programme's public events (hub_publish_board), never writes. */
static void handle_board_hello(dispatch *d, client *cl, forum_command *cmd)
{
    const char *re = cmd->id;
    if (!forum_program_exists(d->st, cmd->program_id)) {
        reply_error(d, cl, re, FORUM_E_NOT_FOUND, "program_id", "no programme with this id", 0);
        return;
    }
    job *j = job_new(d, JOB_HELLO, cl);
    char snapshot[64];
    snprintf(snapshot, sizeof snapshot, "{\"program_id\":%lld}", (long long)cmd->program_id);
    if (!j || !(j->snapshot = strdup(snapshot))) {
        if (j)
            job_free(j);
        reply_error(d, cl, re, FORUM_E_INTERNAL, NULL, "out of memory", 0);
        return;
    }
    snprintf(j->re, sizeof j->re, "%s", re ? re : "");
    j->has_re = re != NULL;
    memset(&cl->actor, 0, sizeof cl->actor);
    cl->actor.role = FORUM_ROLE_BOARD;
    cl->hello_done = true;
    cl->sub.role = FORUM_ROLE_BOARD;
    cl->sub.program_id = cmd->program_id;
    d->hellos++;
    job_submit(d, j);
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
    if (cmd->role == FORUM_ROLE_BOARD) {
        handle_board_hello(d, cl, cmd);
        return;
    }
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
    if (cmd->role == FORUM_ROLE_MODERATOR && !a.name[0]) {
        /* An unnamed moderator gets a name of its own for this connection: two of them must
         * not share one transcript name, nor one undo. */
        unsigned char r[3];
        auth_random_bytes(r, sizeof r);
        snprintf(a.name, sizeof a.name, "moderator-%02x%02x%02x", r[0], r[1], r[2]);
    }
    snprintf(a.session, sizeof a.session, "%s", code);

    job *j = job_new(d, JOB_HELLO, cl);
    if (!j)
        return;
    snprintf(j->re, sizeof j->re, "%s", re ? re : "");
    j->has_re = re != NULL;
    j->hello_seq = forum_last_seq(d->st, code);
    bool resume =
        cmd->has_resume_from && code[0] && resume_fits(d, &a, code, cmd->resume_from, j->hello_seq);
    if (resume) {
        j->resume_from = cmd->resume_from;
    } else {
        j->snapshot = forum_snapshot_text(d->st, &a, code[0] ? code : NULL,
                                          snapshot_budget(d, a.role), dispatch_now_ms());
        if (!j->snapshot) {
            job_free(j);
            reply_error(d, cl, re, FORUM_E_INTERNAL, NULL, "could not build the snapshot", 0);
            return;
        }
    }
    cl->actor = a;
    if (a.role == FORUM_ROLE_MODERATOR)
        snprintf(cl->key_hash, sizeof cl->key_hash, "%s", forum_moderator_key_hash(d->st, code));
    cl->hello_done = true;
    cl->sub.role = a.role;
    cl->sub.overlay = cmd->overlay;
    snprintf(cl->sub.viewer_id, sizeof cl->sub.viewer_id, "%s", a.viewer_id);
    snprintf(cl->sub.session, sizeof cl->sub.session, "%s", code);
    d->hellos++;
    job_submit(d, j);
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Per-viewer limits on questions and votes (the per-connection frame limit is taken earlier,
 * for every frame). */
static bool rate_limited(dispatch *d, client *cl, const forum_command *cmd, int64_t *retry)
{
    forum_cmd_type type = cmd->type;
    /* a rating counts as a vote, and as a question when it brings a comment to moderate */
    if (type == FORUM_CMD_RATING_SET)
        type = cmd->has_comment && cmd->comment && *cmd->comment ? FORUM_CMD_QUESTION_SUBMIT
                                                                 : FORUM_CMD_VOTE_ADD;
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
        /* Device tokens are free: the client address has a budget of its own (a minute's
         * worth at once), generous because many residents share one carrier's address. */
        int per_addr = d->opt.questions_per_address_per_min;
        if (*retry == 0 && per_addr > 0 && cl->conn) {
            char key[64];
            snprintf(key, sizeof key, "@%s", net_conn_address(cl->conn));
            viewer_limits *a = limits_for(d, key);
            if (a) {
                a->last_ms = now;
                *retry = auth_bucket_take(&a->submit, per_addr, per_addr / 60.0, now);
                d->address_limited += *retry > 0;
            }
        }
    } else if (type == FORUM_CMD_VOTE_ADD || type == FORUM_CMD_VOTE_REMOVE ||
               type == FORUM_CMD_POLL_VOTE) {
        *retry = auth_bucket_take(&v->vote, d->opt.votes_per_sec, d->opt.votes_per_sec, now);
    }
    return *retry > 0;
}

size_t viewers_total(dispatch *d, const char *code)
{
    return hub_count(d->hub, code, FORUM_ROLE_VIEWER) +
           (d->cluster ? viewers_elsewhere(d, code) : 0);
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
    if (cl->actor.role == FORUM_ROLE_BOARD) {
        reply_error(d, cl, cmd.id, FORUM_E_FORBIDDEN, NULL, "a board connection only receives",
                    0);
        forum_command_free(&cmd);
        return;
    }
    if (cl->sub.overlay && cmd.type != FORUM_CMD_QUESTIONS_LIST) {
        reply_error(d, cl, cmd.id, FORUM_E_FORBIDDEN, NULL, "an overlay connection only reads", 0);
        forum_command_free(&cmd);
        return;
    }
    if (cl->actor.role == FORUM_ROLE_MODERATOR) {
        const char *current = forum_moderator_key_hash(d->st, cl->actor.session);
        if (!current || strcmp(cl->key_hash, current) != 0) {
            reply_error(d, cl, cmd.id, FORUM_E_UNAUTHORIZED, "token",
                        "the moderator key was rotated; join again with the new key", 0);
            forum_command_free(&cmd);
            return;
        }
    }
    if (!forum_submit_is_repeat(d->st, &cl->actor, &cmd) &&
        !forum_rating_is_repeat(d->st, &cl->actor, &cmd) && rate_limited(d, cl, &cmd, &retry)) {
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

void dispatch_http_command(dispatch *d, const forum_actor *actor, const char *frame, size_t len,
                           net_http_later *later)
{
    client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        net_http_response resp = {.status = 503, .content_type = "application/json"};
        net_http_answer(later, &resp);
        return;
    }
    cl->d = d;
    cl->refs = 1;
    cl->http = true;
    cl->http_later = later;
    cl->hello_done = true;
    cl->actor = *actor;
    d->requests++;
    forum_command cmd;
    proto_error perr;
    memset(&cmd, 0, sizeof cmd);
    if (proto_decode(frame, len, &d->opt.limits, &cmd, &perr) != 0) {
        reply_error(d, cl, perr.re, perr.code, perr.field[0] ? perr.field : NULL, perr.message, 0);
    } else if (d->cluster && changes_state(cmd.type) && !cluster_leading(d->cluster)) {
        forward_request(d, cl, &cmd, frame, len);
    } else if (d->cluster && changes_state(cmd.type) && d->resyncing) {
        reply_error(d, cl, cmd.id, FORUM_E_INTERNAL, NULL,
                    "the server is catching up with the show; please try again", 500);
    } else {
        apply_command(d, cl, &cmd);
    }
    forum_command_free(&cmd);
    client_unref(cl);
}

void apply_command(dispatch *d, client *cl, forum_command *cmdp)
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
    memset(&r.ack, 0, sizeof r.ack);
    j->batch.events = r.events;
    j->batch.n_events = r.n_events;
    r.events = NULL;
    r.n_events = 0;
    if (j->batch.n_events > 0)
        webhooks_owe(d->webhooks, &j->batch); /* the deliveries owed, in the same commit */
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

/* Commits events[0..n) that a timer made (added of them new) as a system job; takes the array. */
static void submit_system_events(dispatch *d, forum_event *events, size_t n, size_t added)
{
    job *j = added ? job_new(d, JOB_SYSTEM, NULL) : NULL;
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
        added +=
            forum_note_viewers(d->st, d->peak_pending[i],
                               (int64_t)viewers_total(d, d->peak_pending[i]), &env, &events, &n);
    d->n_peak_pending = 0;
    submit_system_events(d, events, n, added);
}

const double stall_bounds_s[STALL_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,   1,    2.5,   5,    10};

/* How late the loop ran this 1 s sweep: the stall histogram and its maximum. */
static void note_stall(dispatch *d, int64_t late_ms)
{
    if (late_ms < 0)
        late_ms = 0;
    if (late_ms > d->max_stall_ms)
        d->max_stall_ms = late_ms;
    double s = (double)late_ms / 1000.0;
    size_t b = 0;
    while (b < STALL_BUCKETS && s > stall_bounds_s[b])
        b++;
    d->stalls[b]++;
    d->stall_sum_s += s;
}

static int64_t sample_count(void *arg, const char *code)
{
    return (int64_t)viewers_total(arg, code);
}

/* Every sample interval: the audience of each open or live session as a viewers.sampled event
 * (the leader's, in a cluster: it counts the viewers of every node). */
static void sample_viewers(uv_timer_t *t)
{
    dispatch *d = t->data;
    if (d->cluster && (!cluster_leading(d->cluster) || d->resyncing))
        return;
    forum_env env = {dispatch_now_ms(), forum_random};
    forum_event *events = NULL;
    size_t n = 0;
    size_t added = forum_sample_viewers(d->st, sample_count, d, &env, &events, &n);
    submit_system_events(d, events, n, added);
}

/* Every second: closes connections that sent no hello in time, and tells staff how many
 * viewers are watching when that changed. */
static void sweep_hello(uv_timer_t *t)
{
    dispatch *d = t->data;
    int64_t now = (int64_t)uv_now(d->loop);
    if (d->last_sweep_ms)
        note_stall(d, now - d->last_sweep_ms - 1000);
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
    if (d->opt.sample_interval_ms <= 0)
        d->opt.sample_interval_ms = 60000;
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
    uv_timer_init(loop, &d->sample_timer);
    d->sample_timer.data = d;
    d->resync_timer.data = d;
    d->flush_timer.data = d;
    d->sweep_timer.data = d;
    d->reload_timer.data = d;
    uv_timer_start(&d->flush_timer, flush_counts, (uint64_t)d->opt.flush_interval_ms,
                   (uint64_t)d->opt.flush_interval_ms);
    uv_timer_start(&d->sweep_timer, sweep_hello, 1000, 1000);
    webhooks_options wo = {d->opt.webhook_hosts ? d->opt.webhook_hosts : "",
                           d->opt.webhook_timeout_ms};
    d->webhooks = webhooks_new(loop, st, s, &wo);
    if (!d->webhooks)
        log_warn("outgoing webhooks are not delivered (their outbox keeps them)");
    uv_timer_start(&d->sample_timer, sample_viewers, (uint64_t)d->opt.sample_interval_ms,
                   (uint64_t)d->opt.sample_interval_ms);
    return d;
}

forum_state *dispatch_state(dispatch *d)
{
    return d->st;
}

net_callbacks dispatch_net_callbacks(dispatch *d)
{
    net_callbacks cb = {d, on_open, on_message, on_close, http_route};
    return cb;
}

void dispatch_set_net(dispatch *d, net *n)
{
    d->net = n;
}

void dispatch_set_rates(dispatch *d, const dispatch_options *opt)
{
    if (opt->hello_timeout_ms > 0)
        d->opt.hello_timeout_ms = opt->hello_timeout_ms;
    if (opt->questions_per_min > 0)
        d->opt.questions_per_min = opt->questions_per_min;
    if (opt->votes_per_sec > 0)
        d->opt.votes_per_sec = opt->votes_per_sec;
    if (opt->messages_per_sec > 0)
        d->opt.messages_per_sec = opt->messages_per_sec;
    d->opt.questions_per_address_per_min = opt->questions_per_address_per_min;
}

void dispatch_set_ready(dispatch *d, bool ready)
{
    d->ready = ready;
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
    webhooks_stop(d->webhooks);
    uv_timer_stop(&d->flush_timer);
    uv_timer_stop(&d->sweep_timer);
    uv_timer_stop(&d->reload_timer);
    uv_timer_stop(&d->sample_timer);
    uv_close((uv_handle_t *)&d->sample_timer, NULL);
    uv_close((uv_handle_t *)&d->flush_timer, NULL);
    uv_close((uv_handle_t *)&d->sweep_timer, NULL);
    uv_close((uv_handle_t *)&d->reload_timer, NULL);
    uv_timer_stop(&d->resync_timer);
    uv_close((uv_handle_t *)&d->resync_timer, NULL);
}

void dispatch_free(dispatch *d)
{
    if (!d)
        return;
    webhooks_destroy(d->webhooks);
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
    http_free_guesses(d);
    hub_free(d->hub);
    free(d);
}
