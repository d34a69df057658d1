/* http.c — the HTTP side of forumd: /healthz, /metrics, the exports under /api/sessions/CODE/,
 * /api/search (GET with a query string, POST with a JSON body), and the page routes (/s/, /m/,
 * /overlay/, /producer) that net.c serves from the web root (the viewer page and its QR code
 * through viewer_page.c). Static files, reading request bodies and answering methods nobody
 * takes are net.c's. */
#include "dispatch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export.h"
#include "viewer_page.h"

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
    OUT("forum_commit_latency_ms_sum %.3f\nforum_commit_latency_ms_count %llu\n", ss.latency_sum_ms,
        (unsigned long long)ss.latency_le[11]);
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
    if (strcmp(path, "/api/search") == 0) {
        bool post = strcmp(req->method, "POST") == 0;
        if (!post && refuse_unless_read(req, resp)) {
            resp->allow = "GET, HEAD, POST";
            return;
        }
        if (!producer_authorized(d, req->authorization)) {
            unauthorized(resp);
            return;
        }
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
    if ((strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0 ||
         strncmp(path, "/api/", 5) == 0) &&
        refuse_unless_read(req, resp))
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
        if (!public_minutes && !producer_authorized(d, req->authorization)) {
            unauthorized(resp);
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
    viewer_page_config viewer = {d->opt.public_url ? d->opt.public_url : "",
                                 d->opt.frame_ancestors, d->opt.web_root};
    if (viewer_page_route(&viewer, d->st, &d->opt.limits, req, resp))
        return;
    if (page_route(path, "/s/", "viewer.html", resp) ||
        page_route(path, "/m/", "moderator.html", resp) ||
        page_route(path, "/overlay/", "overlay.html", resp))
        return;
    if (strcmp(path, "/producer") == 0 || strcmp(path, "/producer/") == 0)
        resp->file = "producer.html";
}
