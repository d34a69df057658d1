/* dispatch_internal.h — what the request pipeline's three files share: the dispatcher's state,
 * a client (one WebSocket connection, or a request another cluster node forwarded), a job (one
 * request, hello or system batch on its way through the commit queue), and the functions each
 * file offers the others. dispatch.c is the single-node pipeline; dispatch_cluster.c adds the
 * cluster's forwarding, held replies and resync; http.c answers HTTP routes and /metrics.
 * Not a public interface: only server/app/dispatch*.c and http.c include it. Loop thread only. */
#pragma once
#include "dispatch.h"

#include "auth.h"
#include "cluster.h"
#include "hub.h"
#include "proto.h"
#include "webhook.h"

typedef struct client client;
typedef struct key_guesses key_guesses;

/* A client is one WebSocket connection, a request another cluster node forwarded (remote), or
 * one HTTP request of the studio command API (http): its reply completes the HTTP answer. */

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

/* Rate-limit buckets of one viewer (key: its viewer id) or one client address (key: "@" and
 * the address: what minting device tokens cannot multiply). */
typedef struct viewer_limits {
    char key[64];
    auth_bucket submit, vote;
    int64_t last_ms; /* last use, for pruning idle entries */
    struct viewer_limits *next;
} viewer_limits;

#define VIEWER_BUCKETS 4096
#define MAX_BAD_FRAMES_IN_A_ROW 20   /* non-JSON frames in a row before close 1008 */
#define VIEWER_LIMITS_IDLE_MS 600000 /* per-viewer limit entries unused this long are freed */
#define KEY_GUESS_BUCKETS 256        /* hash buckets of http.c's per-address key guesses */
#define STALL_BUCKETS 12             /* loop stall histogram: upper bounds in stall_bounds_s */
extern const double stall_bounds_s[STALL_BUCKETS];

struct dispatch {
    uv_loop_t *loop;
    forum_state *st;
    store *store;
    net *net;
    hub *hub;
    webhooks *webhooks; /* outgoing webhooks (NULL if they could not start) */
    dispatch_options opt;
    uv_timer_t flush_timer, sweep_timer, reload_timer, sample_timer;
    bool reload_pending;
    client *clients;
    viewer_limits *limits[VIEWER_BUCKETS];
    uint64_t requests, errors, hellos;
    uint64_t address_limited; /* submissions refused by the per-address budget */
    int64_t last_prune_ms;
    int64_t last_sweep_ms; /* loop time of the last sweep (every second) */
    int64_t max_stall_ms;  /* longest the loop was late for a sweep: a measure of stalls */
    uint64_t stalls[STALL_BUCKETS + 1]; /* sweeps by lateness (last: beyond every bound) */
    double stall_sum_s;
    bool stopped;
    bool ready;                                  /* started and not draining (/readyz) */
    key_guesses *key_guesses[KEY_GUESS_BUCKETS]; /* wrong producer keys over HTTP (http.c) */
    size_t n_key_guesses;
    /* sessions a viewer joined since the last flush: their peak audience is checked then */
    char peak_pending[32][FORUM_CODE_MAX];
    size_t n_peak_pending;
    /* cluster mode (NULL: one node on its own) */
    cluster *cluster;
    int64_t committed_pos; /* log position committed to this node's database */
    bool resyncing;        /* after a failed append or commit: reload, then catch up */
    bool rewinding;
    uv_timer_t resync_timer;
    waiter *wait_head, *wait_tail;
    peer_count *peers;
    bool presence_dirty; /* local viewer counts changed since they were last published */
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
    char key_hash[65]; /* moderators: the hash of the key they joined with */
    int64_t opened_at;
    auth_bucket msg_bucket;
    int refused_in_a_row; /* frames refused for rate or as non-JSON since the last good one */
    client *prev, *next;
    /* a request forwarded from another cluster node (no connection here) */
    bool remote, replied;
    char remote_node[48];
    int64_t remote_rid;
    int64_t reply_pos;
    /* a request of the HTTP command API (no connection): the reply answers it, exactly once */
    bool http;
    net_http_later *http_later;
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
    jsonw ack; /* the ack's members (forum_result.ack) */
    /* hello */
    char *snapshot; /* JSON object text; NULL = resume */
    int64_t hello_seq, resume_from;
    /* search / backup: run once everything before the request is committed */
    forum_command *deferred;
    /* cluster: the log position of the job's last event (or of the barrier) */
    int64_t pos;
    bool counts_pos; /* replica jobs: whether pos may advance committed_pos */
} job;

/* ---- dispatch.c ---------------------------------------------------------------------------- */

void client_unref(client *cl);
/* Sends a reply (taking text): to the connection, or back to the node that forwarded it. */
void client_send(client *cl, char *text);
void send_error(client *cl, const char *re, forum_err code, const char *field, const char *message,
                int64_t retry_after_ms);
job *job_new(dispatch *d, job_kind kind, client *cl);
/* The store's completion for a job's batch (rc 0 = committed): fan out, reply, recover. */
void job_done(store_batch *b, int rc);
/* Queues an error reply behind everything in flight, so replies keep request order. */
void reply_error(dispatch *d, client *cl, const char *re, forum_err code, const char *field,
                 const char *message, int64_t retry_after_ms);
/* Applies a decoded request for cl's actor and queues its events for commit (frees cmd). */
void apply_command(dispatch *d, client *cl, forum_command *cmd);
/* Replaces live state with the committed state. Returns 0, or -1 if the database cannot be
 * read (writes then keep failing and the next failure tries again). */
int reload_from_db(dispatch *d);
/* Session code gained viewers (here or on another node): its peak audience is checked at the
 * next flush. */
void note_peak_pending(dispatch *d, const char *code);
/* Viewers of session code on this node and, in a cluster, on the others. */
size_t viewers_total(dispatch *d, const char *code);

/* ---- dispatch_cluster.c -------------------------------------------------------------------- */

/* Requests that change the show go to the cluster's leader; reads are answered here. */
bool changes_state(forum_cmd_type t);
/* Follower: sends cmd (its frame data[0..len)) to the leader; the reply comes back later. */
void forward_request(dispatch *d, client *cl, const forum_command *cmd, const char *data,
                     size_t len);
/* Cluster leader: the job's events are in the log (or the barrier passed): commit them here. */
void job_appended(void *arg, int rc, int64_t last_pos);
/* After a failed append or commit in a cluster: reload from the database, then catch up. */
void start_resync(dispatch *d);
/* Runs once every batch queued before the failure has completed: live state := this node's
 * database, then the log after committed_pos is applied on top. */
void resync_reload(dispatch *d);
/* Sends the forwarded replies whose log position this node has committed, in order. */
void release_waiters(dispatch *d);
/* Tells the other nodes how many viewers watch each session here (presence, peak audience). */
void publish_presence(dispatch *d);
/* Viewers of session code connected to the other nodes (reports of the last 5 s). */
size_t viewers_elsewhere(void *arg, const char *code);

/* ---- http.c -------------------------------------------------------------------------------- */

/* net's HTTP callback: /healthz, /readyz, /metrics, /api/..., page routes. req->peer is the
 * client's address (after trusted proxies). */
void http_route(void *arg, const net_http_request *req, net_http_response *resp);
/* Frees what http.c keeps per client address (dispatch_free). */
void http_free_guesses(dispatch *d);
/* Answers an HTTP client's request with the protocol reply text (an ack or an error; NULL: a
 * bare success): {"ok":true,...the ack's members} or {"ok":false,"error":code,...} with the
 * HTTP status that fits the code. Sets cl->replied; later calls do nothing. */
void http_client_reply(client *cl, const char *text);

/* ---- dispatch.c, for http.c ---------------------------------------------------------------- */

/* Runs frame (a request as a WebSocket client sends it, for actor) through the pipeline like a
 * connection's request; the reply answers later (the handle is taken: always answered). */
void dispatch_http_command(dispatch *d, const forum_actor *actor, const char *frame, size_t len,
                           net_http_later *later);

/* ---- public_http.c ------------------------------------------------------------------------- */

/* The public pages' routes (/api/programs..., /p/<id>): answers and returns true, or returns
 * false when the path is not one of them. GET and HEAD only (http.c refuses the rest). */
bool public_http_route(dispatch *d, const net_http_request *req, net_http_response *resp);
