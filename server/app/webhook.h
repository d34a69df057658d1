/* webhook.h — outgoing webhooks: what a committed change owes the registered webhooks (rows of
 * the durable outbox, schema/004, written in the change's own transaction), and their delivery
 * by a worker thread (libcurl), with retries and backoff, off the loop thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "forum.h"
#include "store.h"

typedef struct webhooks webhooks;

typedef struct webhooks_options {
    const char *hosts; /* --webhook-hosts (not owned: outlives the module) */
    int timeout_ms;    /* one attempt, connecting included */
} webhooks_options;

/* Starts the delivery (its worker thread and the loop's timer). st and s outlive it. NULL on
 * failure (logged). */
webhooks *webhooks_new(uv_loop_t *loop, forum_state *st, store *s, const webhooks_options *o);
/* The state was replaced (dispatch reload): registrations are read from st from now on. */
void webhooks_set_state(webhooks *w, forum_state *st);
/* Stops delivering: the worker ends (transfers under way are abandoned: their rows stay pending
 * and go out after the next start), the timer is closed. Loop thread; idempotent. */
void webhooks_stop(webhooks *w);
/* Frees the module once what it submitted to the store has completed (after store_close). */
void webhooks_destroy(webhooks *w);

/* Fills b's outbox (rows and their bodies, malloc'd: webhooks_release) with the deliveries its
 * events owe the registered, enabled webhooks (by trigger and programme), from the live state
 * they were applied to; a removed webhook's pending deliveries are cancelled in the same
 * transaction. Loop thread, before the batch is submitted. */
void webhooks_owe(webhooks *w, store_batch *b);
/* Frees what webhooks_owe attached to b. */
void webhooks_release(store_batch *b);
/* b committed: its deliveries may go out now. */
void webhooks_committed(webhooks *w, const store_batch *b);

/* For /metrics: failed attempts since start, pending deliveries (-1 if unknown). */
uint64_t webhooks_failures(const webhooks *w);
int64_t webhooks_pending(webhooks *w);
/* The console's view: {"webhooks":[{...registration, "delivery":{pending, failed, delivered,
 * last_status, last_error, last_attempt_at, last_delivered_at, attempts}}]} (malloc'd text, or
 * NULL on OOM or a database error). */
char *webhooks_status_json(webhooks *w);
/* Queues a test delivery ("webhook.test") to webhook id: committed to the outbox shortly, then
 * sent like the others. Returns 0, or -1 if there is no such webhook or on OOM. */
int webhooks_send_test(webhooks *w, int64_t id);
/* Failed deliveries of webhook id go back to pending, due now. Returns 0 or -1. */
int webhooks_retry_failed(webhooks *w, int64_t id);

/* The generic signature header value for body at unix time t: "t=<t>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" with secret>" into out (cap >= 80). */
void webhooks_signature(const char *secret, int64_t t, const char *body, size_t len, char *out,
                        size_t cap);
