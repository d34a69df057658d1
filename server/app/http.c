/* http.c — the HTTP side of forumd: /healthz (liveness), /readyz (readiness), /metrics, the
 * exports under /api/sessions/CODE/, /api/search (GET with a query string, POST with a JSON
 * body), and the page routes (/s/, /m/, /overlay/, /producer) that net.c serves from the web
 * root (the viewer page and its QR code through viewer_page.c); wrong producer keys are
 * throttled per client address. Static files, reading request
 * bodies and answering methods nobody takes are net.c's. */
#include "dispatch_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "containers.h"
#include "export.h"
#include "forum_build.h"
#include "log.h"
#include "report.h"
#include "viewer_page.h"

/* Open descriptors of this process (/proc/self/fd, without the one reading it). */
static long open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(dir));)
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return n - 1;
}

/* Whether /readyz says 200: started, not draining and, in a cluster, able to take writes. */
static bool ready(dispatch *d, cluster_stats *cs)
{
    if (!d->ready || d->stopped)
        return false;
    if (!d->cluster)
        return true;
    cluster_get_stats(d->cluster, cs);
    return cs->connected && !d->resyncing;
}

/* The Prometheus text format: every family with HELP and TYPE, durations in seconds. */
static char *metrics_text(dispatch *d, size_t *len)
{
    net_stats ns = {0};
    if (d->net)
        net_get_stats(d->net, &ns);
    store_stats ss;
    store_get_stats(d->store, &ss);
    size_t cap = 16384, off = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
#define OUT(...) off += (size_t)snprintf(buf + off, off < cap ? cap - off : 0, __VA_ARGS__)
#define FAMILY(name, type, help) OUT("# HELP " name " " help "\n# TYPE " name " " type "\n")
#define COUNTER(name, help, value)                        \
    do {                                                  \
        FAMILY(name, "counter", help);                    \
        OUT(name " %llu\n", (unsigned long long)(value)); \
    } while (0)
#define GAUGE(name, help, fmt, value)  \
    do {                               \
        FAMILY(name, "gauge", help);   \
        OUT(name " " fmt "\n", value); \
    } while (0)
    FAMILY("forum_build_info", "gauge", "The running forumd's version and commit (always 1).");
    OUT("forum_build_info{version=\"%s\",commit=\"%s\"} 1\n", FORUM_VERSION, FORUM_COMMIT);
    cluster_stats cs;
    memset(&cs, 0, sizeof cs);
    GAUGE("forum_ready", "1 while /readyz answers 200 (started, not draining, writable).", "%d",
          ready(d, &cs) ? 1 : 0);
    FAMILY("forum_connections", "gauge", "Open WebSocket connections by role.");
    size_t authed = 0;
    static const char *roles[] = {"none", "viewer", "moderator", "producer"};
    for (int r = 1; r <= 3; r++) {
        size_t c = hub_count(d->hub, NULL, (forum_role)r);
        authed += c;
        OUT("forum_connections{role=\"%s\"} %zu\n", roles[r], c);
    }
    size_t boards = hub_count(d->hub, NULL, FORUM_ROLE_BOARD);
    authed += boards;
    OUT("forum_connections{role=\"board\"} %zu\n", boards);
    size_t overlays = hub_count_overlays(d->hub, NULL); /* displays, not counted as viewers */
    authed += overlays;
    OUT("forum_connections{role=\"overlay\"} %zu\n", overlays);
    OUT("forum_connections{role=\"none\"} %zu\n",
        ns.connections > authed ? (size_t)(ns.connections - authed) : (size_t)0);
    GAUGE("forum_connections_max",
          "WebSocket connections served at once (--max-connections or the descriptor limit).", "%d",
          d->net ? net_capacity(d->net) : 0);
    struct rlimit rl;
    GAUGE("process_open_fds", "Open file descriptors.", "%ld", open_fds());
    GAUGE("process_max_fds", "The descriptor limit (soft RLIMIT_NOFILE).", "%lld",
          getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (long long)rl.rlim_cur : -1LL);
    COUNTER("forum_events_committed_total", "Events durably committed.", ss.events_committed);
    COUNTER("forum_transactions_total", "SQLite transactions committed.", ss.transactions);
    COUNTER("forum_failed_transactions_total", "SQLite transactions that failed (rolled back).",
            ss.failed_transactions);
    FAMILY("forum_commit_latency_seconds", "histogram",
           "From queueing a batch to its commit completing.");
    for (int i = 0; i < 11; i++)
        OUT("forum_commit_latency_seconds_bucket{le=\"%g\"} %llu\n",
            store_latency_bounds_ms[i] / 1000.0, (unsigned long long)ss.latency_le[i]);
    OUT("forum_commit_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
        "forum_commit_latency_seconds_sum %.6f\nforum_commit_latency_seconds_count %llu\n",
        (unsigned long long)ss.latency_le[11], ss.latency_sum_ms / 1000.0,
        (unsigned long long)ss.latency_le[11]);
    GAUGE("forum_store_queue_batches", "Batches waiting for or in a commit.", "%llu",
          (unsigned long long)ss.queued_batches);
    GAUGE("forum_send_queue_messages", "Messages waiting in connection send queues.", "%llu",
          (unsigned long long)ns.queued_msgs);
    GAUGE("forum_send_queue_bytes", "Bytes waiting in connection send queues.", "%llu",
          (unsigned long long)ns.queued_bytes);
    COUNTER("forum_dropped_slow_clients_total", "Connections dropped for a full send queue.",
            ns.dropped_slow);
    COUNTER("forum_refused_connections_total",
            "Connections refused (limits, foreign Origin, shutting down).", ns.refused);
    COUNTER("forum_refused_origin_total", "WebSocket upgrades refused for a foreign Origin.",
            ns.refused_origin);
    COUNTER("forum_requests_total", "WebSocket requests received.", d->requests);
    COUNTER("forum_hellos_total", "Hellos received.", d->hellos);
    COUNTER("forum_address_limited_total",
            "Submissions refused by the per-address budget (--rate-questions-per-address-per-min).",
            d->address_limited);
    COUNTER("forum_error_replies_total", "Requests answered with an error.", d->errors);
    FAMILY("forum_loop_stall_seconds", "histogram",
           "How late the event loop ran its 1 s timer, one observation a second.");
    uint64_t cumulative = 0;
    for (int i = 0; i < STALL_BUCKETS; i++) {
        cumulative += d->stalls[i];
        OUT("forum_loop_stall_seconds_bucket{le=\"%g\"} %llu\n", stall_bounds_s[i],
            (unsigned long long)cumulative);
    }
    cumulative += d->stalls[STALL_BUCKETS];
    OUT("forum_loop_stall_seconds_bucket{le=\"+Inf\"} %llu\n"
        "forum_loop_stall_seconds_sum %.6f\nforum_loop_stall_seconds_count %llu\n",
        (unsigned long long)cumulative, d->stall_sum_s, (unsigned long long)cumulative);
    GAUGE("forum_loop_stall_max_seconds", "The longest loop stall since the start.", "%.3f",
          (double)d->max_stall_ms / 1000.0);
    COUNTER("forum_frames_written_total", "WebSocket frames written.", ns.frames_written);
    COUNTER("forum_messages_written_total", "Messages written (a frame may pack several).",
            ns.messages_written);
    COUNTER("forum_webhook_failures_total",
            "Webhook delivery attempts that failed (each is tried again later).",
            webhooks_failures(d->webhooks));
    GAUGE("forum_webhook_outbox_pending", "Webhook deliveries waiting to go out.", "%lld",
          (long long)webhooks_pending(d->webhooks));
    if (d->cluster) {
        cluster_get_stats(d->cluster, &cs);
        int64_t lag = cs.log_top - d->committed_pos;
        FAMILY("forum_cluster_leader", "gauge",
               "1 if this node leads the cluster (applies commands).");
        OUT("forum_cluster_leader{node=\"%s\"} %d\n", cluster_node(d->cluster), cs.leading ? 1 : 0);
        GAUGE("forum_cluster_redis_connected", "1 while every connection to Redis is up.", "%d",
              cs.connected ? 1 : 0);
        GAUGE("forum_cluster_log_position", "Last log position appended or read here.", "%lld",
              (long long)cs.log_pos);
        GAUGE("forum_cluster_committed_position", "Log position committed to this database.",
              "%lld", (long long)d->committed_pos);
        GAUGE("forum_cluster_lag_events", "Log entries seen but not yet committed here.", "%lld",
              (long long)(lag > 0 ? lag : 0));
        FAMILY("forum_cluster_forwarded_total", "counter",
               "Requests forwarded to the leader (out) or from followers (in).");
        OUT("forum_cluster_forwarded_total{direction=\"out\"} %llu\n"
            "forum_cluster_forwarded_total{direction=\"in\"} %llu\n",
            (unsigned long long)cs.forwarded_out, (unsigned long long)cs.forwarded_in);
        COUNTER("forum_cluster_forward_failures_total", "Forwarded requests that got no reply.",
                d->forward_errors);
        COUNTER("forum_cluster_lease_acquired_total", "Times this node took the leader lease.",
                cs.lease_acquired);
        COUNTER("forum_cluster_append_failures_total", "Appends to the log that failed.",
                cs.append_failures);
        COUNTER("forum_cluster_replicated_events_total", "Events from the log committed here.",
                d->replica_events);
        COUNTER("forum_cluster_replica_errors_total", "Log entries that could not be applied here.",
                d->replica_errors);
    }
#undef GAUGE
#undef COUNTER
#undef FAMILY
#undef OUT
    if (off >= cap) {
        free(buf);
        return NULL;
    }
    *len = off;
    return buf;
}

static void json_reply(net_http_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = strdup(text);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
}

static bool page_route(const char *path, const char *prefix, const char *file,
                       net_http_response *resp)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return false;
    resp->file = file;
    return true;
}

static bool is_read(const net_http_request *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* Answers 405 unless the request is a GET or HEAD; returns whether it answered. */
static bool refuse_unless_read(const net_http_request *req, net_http_response *resp)
{
    if (is_read(req))
        return false;
    json_reply(resp, 405,
               "{\"error\":\"method_not_allowed\",\"message\":\"this address takes GET and HEAD "
               "only\"}");
    resp->allow = "GET, HEAD";
    return true;
}

/* Is the Content-Type application/json (parameters such as charset allowed)? */
static bool is_json(const char *content_type)
{
    static const char json[] = "application/json";
    size_t n = sizeof json - 1;
    if (strncasecmp(content_type, json, n) != 0)
        return false;
    const char *rest = content_type + n;
    rest += strspn(rest, " \t");
    return *rest == '\0' || *rest == ';';
}

static void unauthorized(net_http_response *resp)
{
    json_reply(resp, 401,
               "{\"error\":\"unauthorized\",\"message\":\"send the producer "
               "key as Authorization: Bearer <key>\"}");
}

/* ---- producer key guesses ------------------------------------------------------------------
 * Wrong producer keys over HTTP are limited per client address (net's, after trusted proxies;
 * an IPv6 address counts by its /64, which one subscriber usually holds whole): a bucket of
 * KEY_GUESS_BURST failures refilled at one per KEY_GUESS_REFILL_S. Past it the address gets
 * 429 with Retry-After and its keys are not even checked until then. At most KEY_GUESS_ENTRIES
 * addresses are remembered; entries whose bucket is full again are forgotten first. */
#define KEY_GUESS_BURST 10
#define KEY_GUESS_REFILL_S 6
#define KEY_GUESS_ENTRIES 4096

struct key_guesses {
    char addr[INET6_ADDRSTRLEN + 4]; /* an address, or an IPv6 "/64" */
    auth_bucket bucket;
    int64_t blocked_until_ms;
    struct key_guesses *next;
};

/* The throttling key of an address: itself, or its /64 for IPv6. */
static void guess_key(const char *address, char *out, size_t cap)
{
    struct in6_addr a6;
    if (strchr(address, ':') && inet_pton(AF_INET6, address, &a6) == 1) {
        memset(a6.s6_addr + 8, 0, 8);
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a6, text, sizeof text);
        snprintf(out, cap, "%s/64", text);
    } else {
        snprintf(out, cap, "%s", address);
    }
}

static key_guesses **guess_slot(dispatch *d, const char *key)
{
    key_guesses **pp = &d->key_guesses[hash_str(key) % KEY_GUESS_BUCKETS];
    while (*pp && strcmp((*pp)->addr, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* The entry of key, created when create is set (NULL when not there, or out of memory). */
static key_guesses *guesses_for(dispatch *d, const char *key, bool create, int64_t now)
{
    key_guesses **slot = guess_slot(d, key);
    if (*slot || !create)
        return *slot;
    if (d->n_key_guesses >= KEY_GUESS_ENTRIES) { /* forget the longest quiet one */
        key_guesses **oldest = NULL;
        for (size_t i = 0; i < KEY_GUESS_BUCKETS; i++)
            for (key_guesses **pp = &d->key_guesses[i]; *pp; pp = &(*pp)->next)
                if (!oldest || (*pp)->bucket.last_ms < (*oldest)->bucket.last_ms)
                    oldest = pp;
        key_guesses *gone = *oldest;
        *oldest = gone->next;
        free(gone);
        d->n_key_guesses--;
        slot = guess_slot(d, key);
    }
    key_guesses *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    snprintf(g->addr, sizeof g->addr, "%s", key);
    g->bucket.tokens = KEY_GUESS_BURST;
    g->bucket.last_ms = now;
    *slot = g;
    d->n_key_guesses++;
    return g;
}

void http_free_guesses(dispatch *d)
{
    for (size_t i = 0; i < KEY_GUESS_BUCKETS; i++)
        while (d->key_guesses[i]) {
            key_guesses *g = d->key_guesses[i];
            d->key_guesses[i] = g->next;
            free(g);
        }
    d->n_key_guesses = 0;
}

static void too_many_guesses(net_http_response *resp, int64_t wait_ms)
{
    char body[200];
    int secs = (int)((wait_ms + 999) / 1000);
    snprintf(body, sizeof body,
             "{\"error\":\"rate_limited\",\"message\":\"too many wrong keys from this "
             "address\",\"retry_after_ms\":%lld}",
             (long long)wait_ms);
    json_reply(resp, 429, body);
    resp->retry_after_s = secs > 0 ? secs : 1;
}

/* Whether the client address has used up its wrong key guesses (resp then holds the 429). */
static bool guesses_blocked(dispatch *d, const char *address, net_http_response *resp)
{
    int64_t now = (int64_t)uv_now(d->loop);
    char key[INET6_ADDRSTRLEN + 4];
    guess_key(address, key, sizeof key);
    key_guesses *g = guesses_for(d, key, false, now);
    if (g && now < g->blocked_until_ms) {
        too_many_guesses(resp, g->blocked_until_ms - now);
        return true;
    }
    return false;
}

/* A wrong key from address: counts it and fills resp (401, or 429 once the address has used up
 * its guesses; what names the keys in the log). */
static void guess_failed(dispatch *d, const char *address, net_http_response *resp,
                         const char *what, void (*unauthorized_reply)(net_http_response *))
{
    int64_t now = (int64_t)uv_now(d->loop);
    char key[INET6_ADDRSTRLEN + 4];
    guess_key(address, key, sizeof key);
    key_guesses *g = guesses_for(d, key, true, now);
    int64_t wait =
        g ? auth_bucket_take(&g->bucket, KEY_GUESS_BURST, 1.0 / KEY_GUESS_REFILL_S, now) : 0;
    if (wait > 0) {
        g->blocked_until_ms = now + wait;
        log_warn("too many wrong %s over HTTP from %s: refused for %lld s", what, address,
                 (long long)(wait + 999) / 1000);
        too_many_guesses(resp, wait);
        return;
    }
    unauthorized_reply(resp);
}

/* Whether authorization carries the producer key. Otherwise fills resp: 401, or 429 when the
 * client address has used up its wrong guesses. */
static bool producer_check(dispatch *d, const char *address, const char *authorization,
                           net_http_response *resp)
{
    static const char prefix[] = "Bearer ";
    if (guesses_blocked(d, address, resp))
        return false;
    if (strncmp(authorization, prefix, sizeof prefix - 1) == 0 &&
        auth_key_matches(authorization + sizeof prefix - 1, d->opt.producer_key_hash))
        return true;
    guess_failed(d, address, resp, "producer keys", unauthorized);
    return false;
}

/* ---- the studio command API ---------------------------------------------------------------
 * POST /api/sessions/CODE/onair/next | onair/clear | onair/answered | panel | questions: the
 * WebSocket requests onair.next, onair.clear, question.answered (of the question on air),
 * panel.set and question.submit for hardware panels and scripts, with the session's moderator
 * key or the producer key as Authorization: Bearer. The JSON body's fields (only those the
 * route names) go into the request, which runs through the dispatcher like a connection's:
 * same rules, answered after its commit, same events to everyone. GET .../state is the public
 * live state (no key). */

typedef struct studio_route {
    const char *suffix;            /* after /api/sessions/CODE */
    const char *type;              /* the WebSocket request it makes */
    const char *const *fields;     /* body fields it takes (NULL-terminated) */
} studio_route;

static const char *const no_fields[] = {NULL};
static const char *const answered_fields[] = {"note", "question_id", NULL};
static const char *const panel_fields[] = {"banner", "segment_id", "speaker_ids", NULL};
static const char *const submit_fields[] = {"text",   "category", "source",       "author",
                                            "to",     "external_ref", NULL};
static const studio_route studio_routes[] = {
    {"/onair/next", "onair.next", no_fields},
    {"/onair/clear", "onair.clear", no_fields},
    {"/onair/answered", "question.answered", answered_fields},
    {"/panel", "panel.set", panel_fields},
    {"/questions", "question.submit", submit_fields},
};

/* The HTTP status of a protocol error code. */
static int status_of(const char *code, bool retry)
{
    static const struct {
        const char *code;
        int status;
    } table[] = {
        {"bad_json", 400},      {"bad_request", 400},  {"too_long", 400},
        {"unknown_type", 400},  {"unauthorized", 401}, {"forbidden", 403},
        {"banned", 403},        {"not_found", 404},    {"conflict", 409},
        {"session_closed", 409}, {"rate_limited", 429},
    };
    for (size_t i = 0; code && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(code, table[i].code) == 0)
            return table[i].status;
    return retry ? 503 : 500;
}

void http_client_reply(client *cl, const char *text)
{
    if (!cl->http || cl->replied)
        return;
    cl->replied = true;
    net_http_later *later = cl->http_later;
    cl->http_later = NULL;
    net_http_response resp = {.status = 200, .content_type = "application/json; charset=utf-8"};
    cJSON *reply = text ? cJSON_Parse(text) : NULL;
    cJSON *out = cJSON_CreateObject();
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(reply, "type");
    bool error = cJSON_IsString(type) && strcmp(type->valuestring, "error") == 0;
    if (text && !reply)
        error = true; /* (out of memory) */
    cJSON_AddBoolToObject(out, "ok", !error);
    if (error) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(reply, "code");
        const cJSON *retry = cJSON_GetObjectItemCaseSensitive(reply, "retry_after_ms");
        resp.status = status_of(cJSON_IsString(code) ? code->valuestring : NULL,
                                cJSON_IsNumber(retry));
        if (cJSON_IsNumber(retry))
            resp.retry_after_s = (int)((retry->valuedouble + 999) / 1000);
        cJSON_AddStringToObject(out, "error", cJSON_IsString(code) ? code->valuestring
                                                                   : "internal");
    }
    const cJSON *it;
    cJSON_ArrayForEach (it, reply) {
        if (strcmp(it->string, "type") == 0 || strcmp(it->string, "re") == 0 ||
            strcmp(it->string, "code") == 0)
            continue;
        cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, true));
    }
    resp.body = cJSON_PrintUnformatted(out);
    resp.body_len = resp.body ? strlen(resp.body) : 0;
    if (!resp.body)
        resp.status = 500;
    cJSON_Delete(out);
    cJSON_Delete(reply);
    net_http_answer(later, &resp);
}

/* Answers {"ok":false,"error":code,"message":message,"field"?} with status. */
static void api_error(net_http_response *resp, int status, const char *code, const char *field,
                      const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", false);
    cJSON_AddStringToObject(o, "error", code);
    cJSON_AddStringToObject(o, "message", message);
    if (field)
        cJSON_AddStringToObject(o, "field", field);
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
    resp->body = cJSON_PrintUnformatted(o);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    cJSON_Delete(o);
}

static void studio_unauthorized(net_http_response *resp)
{
    api_error(resp, 401, "unauthorized", NULL,
              "send the session's moderator key or the producer key as Authorization: "
              "Bearer <key>");
}

/* Who the Authorization header names for session code: the producer, a moderator of code
 * (named "studio" in the transcript), or nobody (FORUM_ROLE_NONE). */
static forum_role studio_key_role(dispatch *d, const char *authorization, const char *code)
{
    static const char prefix[] = "Bearer ";
    if (strncmp(authorization, prefix, sizeof prefix - 1) != 0)
        return FORUM_ROLE_NONE;
    const char *key = authorization + sizeof prefix - 1;
    if (auth_key_matches(key, d->opt.producer_key_hash))
        return FORUM_ROLE_PRODUCER;
    const char *moderator = forum_moderator_key_hash(d->st, code);
    if (moderator && auth_key_matches(key, moderator))
        return FORUM_ROLE_MODERATOR;
    return FORUM_ROLE_NONE;
}

/* Does text hold a \u0000 escape? (cJSON would cut the string there without a word.) */
static bool has_nul_escape(const char *text, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++)
        if (text[i] == '\\' && text[i + 1] == 'u' && memcmp(text + i + 2, "0000", 4) == 0)
            return true;
    return false;
}

/* Builds the request frame of route for session code from the JSON body; NULL with resp
 * filled on a bad body. */
static char *studio_frame(dispatch *d, const studio_route *route, const char *code,
                          const net_http_request *req, net_http_response *resp)
{
    cJSON *body = NULL, *frame = NULL;
    char *text = NULL;
    if (req->body_len > 0) {
        if (!is_json(req->content_type)) {
            api_error(resp, 415, "unsupported_media_type", NULL,
                      "send the body as Content-Type: application/json");
            return NULL;
        }
        const char *end = NULL;
        if (has_nul_escape(req->body, req->body_len)) {
            api_error(resp, 400, "bad_request", NULL, "strings must not contain NUL characters");
            return NULL;
        }
        body = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, false);
        while (end && end < req->body + req->body_len && strchr(" \t\r\n", *end))
            end++;
        if (!body || end != req->body + req->body_len || !cJSON_IsObject(body)) {
            cJSON_Delete(body);
            api_error(resp, 400, "bad_json", NULL, "the body must be one JSON object");
            return NULL;
        }
    }
    frame = cJSON_CreateObject();
    cJSON_AddStringToObject(frame, "type", route->type);
    /* a request id of its own: staff submits are idempotent on (actor, id), and two imports
     * through this address are two questions (an import's idempotency is its external_ref) */
    unsigned char rnd[12];
    char request_id[32] = "http-";
    auth_random_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(request_id + 5 + 2 * i, 3, "%02x", rnd[i]);
    cJSON_AddStringToObject(frame, "id", request_id);
    cJSON_AddStringToObject(frame, "session", code);
    const cJSON *it;
    cJSON_ArrayForEach (it, body) {
        size_t i = 0;
        while (route->fields[i] && strcmp(route->fields[i], it->string) != 0)
            i++;
        if (!route->fields[i]) {
            char message[160];
            snprintf(message, sizeof message, "this address takes no field %.60s", it->string);
            api_error(resp, 400, "bad_request", it->string, message);
            goto fail;
        }
        /* a panelist may be named instead of numbered */
        if (strcmp(it->string, "to") == 0 && cJSON_IsString(it)) {
            int64_t id = forum_panelist_id(d->st, code, it->valuestring);
            if (!id) {
                api_error(resp, 404, "not_found", "to", "no panelist of this session has this name");
                goto fail;
            }
            cJSON_AddNumberToObject(frame, "to", (double)id);
            continue;
        }
        cJSON_AddItemToObject(frame, it->string, cJSON_Duplicate(it, true));
    }
    if (strcmp(route->type, "question.answered") == 0 &&
        !cJSON_GetObjectItemCaseSensitive(frame, "question_id")) {
        int64_t air = forum_on_air(d->st, code);
        if (!air) {
            api_error(resp, 409, "conflict", NULL, "no question is on air");
            goto fail;
        }
        cJSON_AddNumberToObject(frame, "question_id", (double)air);
    }
    text = cJSON_PrintUnformatted(frame);
    if (!text)
        api_error(resp, 500, "internal", NULL, "out of memory");
fail:
    cJSON_Delete(frame);
    cJSON_Delete(body);
    return text;
}

/* The studio API under /api/sessions/CODE (rest = what follows the code). Returns whether it
 * answered (or deferred) the request. */
static bool studio_api(dispatch *d, const net_http_request *req, const char *code,
                       const char *rest, net_http_response *resp)
{
    if (strcmp(rest, "/state") == 0) {
        if (refuse_unless_read(req, resp))
            return true;
        char *state = forum_live_state_text(d->st, code);
        if (!state) {
            api_error(resp, 404, "not_found", "session", "no such session");
            return true;
        }
        resp->status = 200;
        resp->content_type = "application/json; charset=utf-8";
        resp->body = state;
        resp->body_len = strlen(state);
        return true;
    }
    const studio_route *route = NULL;
    for (size_t i = 0; i < sizeof studio_routes / sizeof studio_routes[0]; i++)
        if (strcmp(rest, studio_routes[i].suffix) == 0)
            route = &studio_routes[i];
    if (!route)
        return false;
    if (strcmp(req->method, "POST") != 0) {
        api_error(resp, 405, "method_not_allowed", NULL, "this address takes POST only");
        resp->allow = "POST";
        return true;
    }
    if (guesses_blocked(d, req->peer, resp))
        return true;
    forum_role role = studio_key_role(d, req->authorization, code);
    if (role == FORUM_ROLE_NONE) {
        guess_failed(d, req->peer, resp, "studio API keys", studio_unauthorized);
        return true;
    }
    if (!forum_session_exists(d->st, code)) {
        api_error(resp, 404, "not_found", "session", "no such session");
        return true;
    }
    char *frame = studio_frame(d, route, code, req, resp);
    if (!frame)
        return true;
    net_http_later *later = net_http_defer(req);
    if (!later) {
        free(frame);
        api_error(resp, 500, "internal", NULL, "out of memory");
        return true;
    }
    forum_actor actor;
    memset(&actor, 0, sizeof actor);
    actor.role = role;
    snprintf(actor.session, sizeof actor.session, "%s", code);
    if (role == FORUM_ROLE_MODERATOR)
        snprintf(actor.name, sizeof actor.name, "studio");
    dispatch_http_command(d, &actor, frame, strlen(frame), later);
    free(frame);
    return true;
}

/* ---- webhooks: the producer console's view ---------------------------------------------------
 * GET /api/webhooks: each registered webhook's deliveries (pending, failed, delivered, the last
 * attempt's status and error); POST /api/webhooks/ID/test queues a test message, POST
 * /api/webhooks/ID/retry sends its failed deliveries again. Producer key. (Registering,
 * changing and removing them are WebSocket requests: webhook.create/update/delete.) */
static void webhooks_api(dispatch *d, const net_http_request *req, const char *rest,
                         net_http_response *resp)
{
    if (!rest[0]) {
        if (refuse_unless_read(req, resp))
            return;
        if (!producer_check(d, req->peer, req->authorization, resp))
            return;
        char *text = d->webhooks ? webhooks_status_json(d->webhooks) : NULL;
        if (!text) {
            api_error(resp, 503, "internal", NULL, "webhook deliveries cannot be read now");
            return;
        }
        resp->status = 200;
        resp->content_type = "application/json; charset=utf-8";
        resp->body = text;
        resp->body_len = strlen(text);
        return;
    }
    char *end = NULL;
    long long id = strtoll(rest + 1, &end, 10);
    bool test = end && strcmp(end, "/test") == 0, retry = end && strcmp(end, "/retry") == 0;
    if (rest[0] != '/' || id <= 0 || end == rest + 1 || (!test && !retry)) {
        api_error(resp, 404, "not_found", NULL, "no such address");
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        api_error(resp, 405, "method_not_allowed", NULL, "this address takes POST only");
        resp->allow = "POST";
        return;
    }
    if (!producer_check(d, req->peer, req->authorization, resp))
        return;
    int rc = test ? webhooks_send_test(d->webhooks, id) : webhooks_retry_failed(d->webhooks, id);
    if (rc != 0) {
        api_error(resp, 404, "not_found", "webhook_id", "no such webhook");
        return;
    }
    json_reply(resp, 202, "{\"ok\":true}");
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

void http_route(void *arg, const net_http_request *req, net_http_response *resp)
{
    dispatch *d = arg;
    const char *path = req->path, *query = req->query;
    static const char sessions[] = "/api/sessions/";
    if (strncmp(path, sessions, sizeof sessions - 1) == 0) {
        const char *at = path + sizeof sessions - 1, *slash = strchr(at, '/');
        char code[FORUM_CODE_MAX];
        if (slash && (size_t)(slash - at) < sizeof code) {
            memcpy(code, at, (size_t)(slash - at));
            code[slash - at] = '\0';
            if (studio_api(d, req, code, slash, resp))
                return;
        }
    }
    if (strcmp(path, "/api/search") == 0) {
        bool post = strcmp(req->method, "POST") == 0;
        if (!post && refuse_unless_read(req, resp)) {
            resp->allow = "GET, HEAD, POST";
            return;
        }
        if (!producer_check(d, req->peer, req->authorization, resp))
            return;
        if (post && !is_json(req->content_type)) {
            json_reply(resp, 415,
                       "{\"error\":\"unsupported_media_type\",\"message\":\"send the search "
                       "request as Content-Type: application/json\"}");
            return;
        }
        resp->body = post ? export_search_json(d->store, &d->opt.limits, req->body, req->body_len,
                                               &resp->status, &resp->body_len)
                          : export_search_http(d->store, &d->opt.limits, query, &resp->status,
                                               &resp->body_len);
        resp->status = resp->body ? resp->status : 500;
        resp->content_type = "application/json; charset=utf-8";
        return;
    }
    if (strcmp(path, "/api/webhooks") == 0 || strncmp(path, "/api/webhooks/", 14) == 0) {
        webhooks_api(d, req, path + 13, resp);
        return;
    }
    if ((strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
         strcmp(path, "/metrics") == 0 || strncmp(path, "/api/", 5) == 0) &&
        refuse_unless_read(req, resp))
        return;
    if (public_http_route(d, req, resp))
        return;
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
    if (strcmp(path, "/readyz") == 0) {
        /* For load balancers: take this node out while it starts, drains or cannot write. */
        cluster_stats cs;
        bool ok = ready(d, &cs);
        const char *why = ok                        ? ""
                          : !d->ready || d->stopped ? "starting or draining"
                                                    : "cluster not writable";
        char body[128];
        snprintf(body, sizeof body, "{\"ready\":%s%s%s%s}", ok ? "true" : "false",
                 ok ? "" : ",\"reason\":\"", why, ok ? "" : "\"");
        json_reply(resp, ok ? 200 : 503, body);
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
        bool public_minutes =
            strcmp(slash, "/transcript.md") == 0 && status && strcmp(status, "archived") == 0;
        if (!public_minutes && !producer_check(d, req->peer, req->authorization, resp))
            return;
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
        if (strcmp(slash, "/report.json") == 0) {
            resp->body = report_session_json(d->store, d->st, code, &resp->body_len);
            resp->status = resp->body ? 200 : 500;
            resp->content_type = "application/json; charset=utf-8";
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
    static const char programs[] = "/api/programs/";
    size_t plen = strlen(path);
    if (strncmp(path, programs, sizeof programs - 1) == 0 && plen > 12 &&
        strcmp(path + plen - 12, "/report.json") == 0) {
        const char *rest = path + sizeof programs - 1;
        char *end = NULL;
        long long id = strtoll(rest, &end, 10);
        if (!producer_check(d, req->peer, req->authorization, resp))
            return;
        if (end == rest || *rest < '1' || *rest > '9' || id <= 0 ||
            strcmp(end, "/report.json") != 0) {
            json_reply(resp, 404, "{\"error\":\"not_found\",\"message\":\"no such export\"}");
            return;
        }
        resp->body = report_program_json(d->store, d->st, (int64_t)id, query, &resp->status,
                                         &resp->body_len);
        resp->status = resp->body ? resp->status : 500;
        resp->content_type = "application/json; charset=utf-8";
        return;
    }
    viewer_page_config viewer = {d->opt.public_url ? d->opt.public_url : "",
                                 d->opt.frame_ancestors, d->opt.web_root};
    if (viewer_page_route(&viewer, d->st, &d->opt.limits, req, resp))
        return;
    if (page_route(path, "/report/", "report.html", resp) ||
        page_route(path, "/s/", "viewer.html", resp) ||
        page_route(path, "/m/", "moderator.html", resp) ||
        page_route(path, "/overlay/", "overlay.html", resp))
        return;
    if (strcmp(path, "/producer") == 0 || strcmp(path, "/producer/") == 0)
        resp->file = "producer.html";
}
