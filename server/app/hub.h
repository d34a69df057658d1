/* hub.h — fan-out after commit: per-session subscribers by audience class (staff, public, the
 * subject viewer), a ring of recent committed events per session for resume, and counts of
 * who is watching. Each event is serialized once per audience class and the same net_msg is
 * queued, by reference, to every subscriber that may see it. Loop thread only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forum.h"
#include "net.h"

typedef struct hub hub;

/* A subscriber, embedded in the dispatcher's per-connection state. Fill conn, role, viewer_id
 * and session before hub_subscribe; the rest is hub's. session "" with a producer role is a
 * studio-wide connection (program.changed and every session's session.changed); role board
 * with program_id is a programme's public board. */
typedef struct hub_sub {
    net_conn *conn;
    forum_role role;
    char viewer_id[FORUM_VIEWER_ID_MAX];
    char session[FORUM_CODE_MAX];
    int64_t program_id; /* role board: the programme whose board it watches */
    bool overlay; /* a viewer connection that is a display (hello "overlay"): gets what viewers
                     get, is not counted among them */
    bool subscribed_;
    struct hub_sub *prev_, *next_;
    uint64_t vhash_;          /* hash of viewer_id while subscribed (viewers) */
    struct hub_sub *vnext_;   /* the session's viewer index: next in the same bucket */
} hub_sub;

hub *hub_new(size_t ring_events);
void hub_free(hub *h);

void hub_subscribe(hub *h, hub_sub *s);
void hub_unsubscribe(hub *h, hub_sub *s);

/* Sends a committed event to every subscriber allowed to see it and keeps it in the ring. */
void hub_publish(hub *h, const forum_event *ev);

/* Board subscribers (role FORUM_ROLE_BOARD, program_id set, session ""): a programme's public
 * board, live. They have no ring and no resume (a board reloads its data on reconnecting).
 * Sends the committed event, rendered once in the public view, to every board of programme
 * program_id (see forum_event_program for which events concern a board). */
void hub_publish_board(hub *h, int64_t program_id, const forum_event *ev);

/* Sends to s the events of its session with from_seq < seq <= upto_seq that it may see, from
 * the ring. Returns 0, or -1 (nothing sent) if the ring no longer holds all of them. */
int hub_replay(hub *h, hub_sub *s, int64_t from_seq, int64_t upto_seq);

/* If the ring of s->session holds every event after from_seq, sets *count and *bytes to what a
 * replay to s would queue and returns true; else returns false. */
bool hub_backlog(hub *h, const hub_sub *s, int64_t from_seq, size_t *count, size_t *bytes);

/* Sends one (stored) event to s rendered for it, if s may see it. */
void hub_send_event(hub_sub *s, const forum_event *ev);

/* Sends {"type":"presence","viewers":N} to the staff of every session whose viewer count
 * changed since the last call (not an event: no seq, not persisted). elsewhere (may be NULL)
 * adds the viewers other cluster nodes reported for a session. */
void hub_send_presence(hub *h, size_t (*elsewhere)(void *arg, const char *session), void *arg);

/* {"CODE": viewers connected here} for every session with subscribers here. Caller frees. */
cJSON *hub_viewer_counts(const hub *h);

/* Subscribers of a session by role (session NULL: all sessions); overlays are not viewers. */
size_t hub_count(const hub *h, const char *session, forum_role role);
/* Overlay connections of a session (session NULL: all sessions). */
size_t hub_count_overlays(const hub *h, const char *session);
