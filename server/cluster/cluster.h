/* cluster.h — several forumd nodes joined through Redis (see docs/cluster.md).
 *
 * One shared log: every event of every session, in the leader's commit order, is an entry of
 * the Redis stream "forum:log" whose ID is 0-<position> (position 1, 2, 3, ... gap-free). One
 * node at a time leads (holds the lease "forum:lease", SET NX PX, renewed): it alone applies
 * commands, appends their events to the log with a script that checks, atomically, that it
 * still holds the lease and that the log ends right before its first position (so a stale
 * leader is fenced and no position is skipped or written twice), then commits them to its own
 * SQLite and acks. Every node (the leader too) follows the log and applies entries it has not
 * applied yet with the domain's replay code, commits them to its own SQLite and fans them out
 * to its viewers. Requests a follower cannot answer itself are forwarded to the leader through
 * Redis pub/sub (channel "forum:node:<name>") and the reply comes back the same way.
 *
 * Loop thread only. Catch-up reads (start-up, becoming leader, after a failure) use a separate
 * blocking connection and block the loop for their duration (normally a few milliseconds). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "forum.h"

typedef struct cluster cluster;

typedef struct cluster_options {
    const char *url;          /* redis://HOST[:PORT] */
    const char *node;         /* this node's name: [A-Za-z0-9_.-], 1..40 */
    int lease_ms;             /* lease time to live (3000); renewed every lease_ms/3 */
    int forward_timeout_ms;   /* a forwarded request without reply fails after this (5000) */
} cluster_options;

/* One log entry handed to the follower hook: the event (owned by the callee after the call:
 * it must forum_event_clear it) and its log position. */
typedef struct cluster_entry {
    int64_t pos;
    forum_event ev;
} cluster_entry;

typedef struct cluster_hooks {
    void *arg;
    /* Entries after the last position handed over, in order (positions contiguous). */
    void (*on_entries)(void *arg, cluster_entry *entries, size_t n);
    /* A request forwarded by node from (this node leads): frame is the client's JSON text. */
    void (*on_request)(void *arg, const char *from, int64_t rid, const forum_actor *actor,
                       const char *frame, size_t len);
    /* Viewer counts of another node, for presence and peak audience. counts: {"CODE": n}. */
    void (*on_presence)(void *arg, const char *node, const cJSON *counts);
} cluster_hooks;

/* Parses the URL, connects (blocking, 2 s timeout) and checks that the database belongs to this
 * cluster: meta_cluster_id is the id saved in the node's database ("" if none), db_has_events
 * whether the database holds any event. On success *new_id is set to the id to save (the
 * cluster's). Returns 0, or -1 with a clear message in err. */
int cluster_open(cluster **out, uv_loop_t *loop, const cluster_options *opt,
                 const char *meta_cluster_id, bool db_has_events, char new_id[40], char *err,
                 size_t errlen);

/* Reads, blocking, every entry after position after (through the log's end) and hands them to
 * each (in order; each takes ownership of the event). Returns the number read, or -1 with a
 * message in err (Redis unreachable, malformed entry). */
long cluster_read_all(cluster *c, int64_t after,
                      void (*each)(void *arg, cluster_entry *entries, size_t n), void *arg,
                      char *err, size_t errlen);

/* Starts following the log after position seen (async), the lease timer and the request
 * channel. hooks are called on the loop thread. */
void cluster_run(cluster *c, const cluster_hooks *hooks, int64_t seen);

/* Sets the follower's position back to pos (after the node reloaded its state from SQLite):
 * entries after pos are handed over again. Then catches up synchronously; returns 0, or -1
 * if Redis could not be read (the caller retries later). */
int cluster_rewind(cluster *c, int64_t pos, char *err, size_t errlen);

/* True when this node holds the lease and has caught up with the log: it may apply commands. */
bool cluster_leading(const cluster *c);
const char *cluster_node(const cluster *c);
/* The last log position this node appended or handed over. */
int64_t cluster_log_pos(const cluster *c);

/* Appends events (n may be 0: a barrier behind every earlier append) to the log at the next
 * positions. done(arg, rc, last_pos) runs on the loop thread, in submission order: rc 0 once
 * the entries are in the log (last_pos = the position of the last one, or the log position for
 * a barrier), rc -1 when they are not or it is unknown (Redis unreachable, lease lost, fenced):
 * the caller must then reload its state and rewind. Only while leading. */
typedef void (*cluster_append_fn)(void *arg, int rc, int64_t last_pos);
void cluster_append(cluster *c, const forum_event *events, size_t n, cluster_append_fn done,
                    void *arg);

/* Forwards a client's request to the leader. reply(arg, rc, text, pos) runs once: rc 0 with the
 * leader's reply text (the JSON message to send to the client) and the log position the reply
 * follows; rc -1 (text NULL) when no leader is reachable in forward_timeout_ms. */
typedef void (*cluster_reply_fn)(void *arg, int rc, const char *text, int64_t pos);
void cluster_forward(cluster *c, const forum_actor *actor, const char *frame, size_t len,
                     cluster_reply_fn reply, void *arg);

/* Sends the reply for a forwarded request (leader side). */
void cluster_send_reply(cluster *c, const char *to, int64_t rid, const char *text, int64_t pos);

/* Publishes this node's viewer counts ({"CODE": n}) to the other nodes. */
void cluster_publish_presence(cluster *c, const cJSON *counts);

typedef struct cluster_stats {
    bool leading;
    bool connected;
    int64_t log_pos;              /* last position appended or handed over */
    int64_t log_top;              /* the log's last position as last read */
    uint64_t forwarded_out;       /* requests this node forwarded */
    uint64_t forwarded_in;        /* requests forwarded to this node */
    uint64_t forward_failures;    /* forwarded requests that got no reply */
    uint64_t appends, append_failures;
    uint64_t lease_acquired;      /* times this node took the lease */
    uint64_t reconnects;
} cluster_stats;
void cluster_get_stats(const cluster *c, cluster_stats *out);

/* Event <-> log entry text (exposed for tests). encode returns malloc'd JSON. */
char *cluster_event_encode(const forum_event *ev);
int cluster_event_decode(const char *text, size_t len, forum_event *out);

/* Releases the lease (so another node takes over at once), disconnects (pending callbacks run
 * with failures) and frees c once its timers have closed (the loop must run afterwards). */
void cluster_close(cluster *c);
