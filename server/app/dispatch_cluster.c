/* dispatch_cluster.c — the request pipeline's cluster part (--cluster only): requests that change
 * the show are forwarded to the leader and their replies held until this node has committed
 * what they report (waiters); the leader's jobs pass through the Redis log before the store;
 * followers apply the log's entries through the same commit path; after a failed append or
 * commit a node reloads from its database and catches up with the log (resync); viewer counts
 * are exchanged between nodes. The single-node pipeline is in dispatch.c. */
#include "dispatch_internal.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- resync after a failure --------------------------------------------------------------- */

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
    log_info("caught up with the cluster log at position %lld",
             (long long)cluster_log_pos(d->cluster));
}

void resync_reload(dispatch *d)
{
    if (d->stopped)
        return;
    if (reload_from_db(d) != 0) {
        d->resyncing = false; /* the next failure tries again */
        return;
    }
    resync_catch_up(&d->resync_timer);
}

void start_resync(dispatch *d)
{
    if (d->resyncing || d->stopped)
        return;
    d->resyncing = true;
    log_error("live state diverged from the cluster log; reloading and catching up");
    job *j = job_new(d, JOB_RESYNC, NULL);
    if (j)
        store_append(d->store, &j->batch);
}

void release_waiters(dispatch *d)
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

void job_appended(void *arg, int rc, int64_t last_pos)
{
    job *j = arg;
    if (rc != 0) {
        job_done(&j->batch, -1);
        return;
    }
    j->pos = last_pos;
    store_append(j->d->store, &j->batch);
}

/* ---- forwarding to the leader ------------------------------------------------------------- */

bool changes_state(forum_cmd_type t)
{
    return t != FORUM_CMD_HELLO && t != FORUM_CMD_SEARCH && t != FORUM_CMD_BACKUP &&
           t != FORUM_CMD_SESSION_LIST && t != FORUM_CMD_QUESTIONS_LIST &&
           t != FORUM_CMD_QUESTIONS_SIMILAR;
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

void forward_request(dispatch *d, client *cl, const forum_command *cmd, const char *data,
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
            log_error("log entry %lld (%s seq %lld, %s) cannot be applied here",
                      (long long)es[i].pos, ev->session[0] ? ev->session : "studio",
                      (long long)ev->seq, forum_kind_name(ev->kind));
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
    cJSON_ArrayForEach (it, counts)
        note_peak_pending(d, it->string);
}

size_t viewers_elsewhere(void *arg, const char *code)
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

void publish_presence(dispatch *d)
{
    cJSON *counts = hub_viewer_counts(d->hub);
    if (counts)
        cluster_publish_presence(d->cluster, counts);
    cJSON_Delete(counts);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

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
    log_info("node %s joined the cluster: %ld log entries read, log position %lld", cluster_node(c),
             n, (long long)cluster_log_pos(c));
    return 0;
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
