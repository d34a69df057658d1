/* dispatch.h — the request pipeline that joins the modules: net hands it frames; it decodes
 * them (proto), authenticates hellos (auth), applies commands (forum), queues the resulting
 * events for commit (store) and, once committed, acks the requester and fans out (hub). It also
 * answers HTTP routes (/healthz, /metrics, exports, page routes) and runs the coalescing timer.
 * Loop thread only. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "forum.h"
#include "net.h"
#include "store.h"

typedef struct dispatch dispatch;

typedef struct dispatch_options {
    const char *producer_key_hash; /* hex SHA-256 of the producer key */
    forum_limits limits;
    int hello_timeout_ms;          /* close connections without hello after this (10000) */
    int flush_interval_ms;         /* vote/poll count coalescing period (100) */
    int sample_interval_ms;        /* audience sample period: viewers.sampled (60000) */
    int questions_per_min;         /* per viewer, when the session sets no rate (6) */
    int votes_per_sec;             /* per viewer (10) */
    int messages_per_sec;          /* per connection, any request (50) */
    int questions_per_address_per_min; /* per client address (600); 0 = none */
    int resume_max_events;         /* beyond this gap a resume gets a fresh snapshot (10000) */
    const char *web_root;
    const char *public_url;      /* base of the links given out (viewer_page.h), no '/' at the end */
    const char *frame_ancestors; /* CSP sources that may frame the viewer page; "" = none */
    const char *webhook_hosts;   /* hosts webhooks may call besides loopback (webhook.h) */
    int webhook_timeout_ms;      /* one delivery attempt */
} dispatch_options;

dispatch *dispatch_new(uv_loop_t *loop, forum_state *st, store *s, const dispatch_options *opt);
/* The live state (replaced after a failed commit is rolled back by reloading). */
forum_state *dispatch_state(dispatch *d);
/* Callbacks for net_start (arg = the dispatch). */
net_callbacks dispatch_net_callbacks(dispatch *d);
void dispatch_set_net(dispatch *d, net *n);
/* SIGHUP: takes the rates and the hello deadline from opt (fields <= 0 are left as they are);
 * they apply from the next request on. */
void dispatch_set_rates(dispatch *d, const dispatch_options *opt);
/* /readyz answers 200 only while ready (set once start-up is done, cleared when draining) and,
 * in a cluster, while writes can go through. */
void dispatch_set_ready(dispatch *d, bool ready);
/* Cluster mode: c (from cluster_open) feeds the node; committed_pos is the log position this
 * node's database is known to hold. Reads the log after it (blocking) and starts following.
 * Returns 0, or -1 with a message. */
struct cluster;
int dispatch_attach_cluster(dispatch *d, struct cluster *c, int64_t committed_pos, char *err,
                            size_t errlen);
/* Saves the committed log position, releases the lease and disconnects (shutdown). */
void dispatch_close_cluster(dispatch *d);

/* Stops the timers (before shutdown). */
void dispatch_stop(dispatch *d);
void dispatch_free(dispatch *d);

/* Wall-clock ms since the epoch. */
int64_t dispatch_now_ms(void);
