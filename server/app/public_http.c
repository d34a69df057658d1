/* public_http.c — the HTTP routes anyone may read without a key: the front page's data
 * (/api/programs), a programme's page (/api/programs/<id>) and its commitment board
 * (/api/programs/<id>/commitments, as JSON or CSV), and the programme page itself (/p/<id>,
 * board.html). Rendered from the live state by the core (forum_board.c), which leaves out
 * everything staff-only. Read-only: http.c refuses other methods on /api/ before this runs. */
#include "dispatch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"

#define FILTER_VALUE_MAX 256 /* bytes of one query parameter kept */

/* Today in the server's time zone, YYYY-MM-DD (due dates before it are overdue). */
static void today_local(char out[16])
{
    time_t t = (time_t)(dispatch_now_ms() / 1000);
    struct tm tm;
    out[0] = '\0';
    if (localtime_r(&t, &tm))
        strftime(out, 16, "%Y-%m-%d", &tm);
}

/* Copies the value of key=value from the query string into out (at most cap - 1 bytes: a longer
 * value is refused). Returns 1 when found, 0 when absent, -1 when too long. */
static int query_value(const char *query, const char *key, char *out, size_t cap)
{
    size_t kn = strlen(key);
    for (const char *p = query; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n > kn && strncmp(p, key, kn) == 0 && p[kn] == '=') {
            size_t vn = n - kn - 1;
            if (vn >= cap)
                return -1;
            memcpy(out, p + kn + 1, vn);
            out[vn] = '\0';
            return 1;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return 0;
}

/* A positive id of at most 15 digits from s[0..n), or 0. */
static int64_t parse_id(const char *s, size_t n)
{
    if (n == 0 || n > 15)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static void reply_json(net_http_response *resp, int status, char *body)
{
    resp->status = body ? status : 500;
    resp->body = body ? body : strdup("{\"error\":\"internal\",\"message\":\"out of memory\"}");
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    resp->content_type = "application/json; charset=utf-8";
}

static void http_error_reply(net_http_response *resp, int status, const char *error,
                             const char *message, const char *field)
{
    char body[320];
    if (field)
        snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\",\"field\":\"%s\"}", error,
                 message, field);
    else
        snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}", error, message);
    reply_json(resp, status, strdup(body));
}

/* The board's filters from the query string (status, owner, session, id) into f, with their
 * text in buf. Returns NULL, or the name of a parameter that is too long or not valid. */
static const char *read_filter(const char *query, forum_board_filter *f,
                               char buf[3][FILTER_VALUE_MAX], char *today)
{
    static const char *const keys[3] = {"status", "owner", "session"};
    const char **slots[3] = {&f->status, &f->owner, &f->session};
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 3; i++) {
        int rc = query_value(query, keys[i], buf[i], FILTER_VALUE_MAX);
        if (rc < 0)
            return keys[i];
        if (rc > 0 && buf[i][0])
            *slots[i] = buf[i];
    }
    char id[32];
    int rc = query_value(query, "id", id, sizeof id);
    if (rc < 0 || (rc > 0 && !(f->action_id = parse_id(id, strlen(id)))))
        return "id";
    f->today = today;
    return NULL;
}

bool public_http_route(dispatch *d, const net_http_request *req, net_http_response *resp)
{
    static const char programs[] = "/api/programs";
    const char *path = req->path;
    if (strncmp(path, "/p/", 3) == 0) {
        resp->file = "board.html";
        return true;
    }
    if (strncmp(path, programs, sizeof programs - 1) != 0)
        return false;
    const char *rest = path + sizeof programs - 1;
    if (strcmp(rest, "") == 0 || strcmp(rest, "/") == 0) {
        reply_json(resp, 200, forum_public_programs(d->st));
        return true;
    }
    if (*rest != '/')
        return false; /* /api/programsX: not ours */
    rest++;
    size_t n = strcspn(rest, "/");
    int64_t id = parse_id(rest, n);
    const char *tail = rest + n;
    if (strcmp(tail, "/report.json") == 0)
        return false; /* the producer's report of the programme: http.c, behind the key */
    char today[16];
    today_local(today);
    if (!id || !forum_program_exists(d->st, id)) {
        http_error_reply(resp, 404, "not_found", "no such programme", NULL);
        return true;
    }
    if (strcmp(tail, "") == 0 || strcmp(tail, "/") == 0) {
        reply_json(resp, 200, forum_public_program(d->st, id, today));
        return true;
    }
    bool csv = strcmp(tail, "/commitments.csv") == 0;
    if (!csv && strcmp(tail, "/commitments") != 0) {
        http_error_reply(resp, 404, "not_found", "no such page of the programme", NULL);
        return true;
    }
    char format[8];
    if (query_value(req->query, "format", format, sizeof format) > 0)
        csv = csv || strcmp(format, "csv") == 0;
    forum_board_filter filter;
    char values[3][FILTER_VALUE_MAX];
    const char *bad = read_filter(req->query, &filter, values, today);
    char *body = NULL;
    size_t len = 0;
    if (!bad && csv)
        body = export_commitments_csv(d->st, id, &filter, &bad, &len);
    else if (!bad)
        body = forum_public_commitments(d->st, id, &filter, &bad);
    if (bad) {
        free(body);
        http_error_reply(resp, 400, "bad_request", "a filter is not valid", bad);
        return true;
    }
    if (!csv) {
        reply_json(resp, 200, body);
        return true;
    }
    resp->status = body ? 200 : 500;
    resp->body = body;
    resp->body_len = body ? len : 0;
    resp->content_type = "text/csv; charset=utf-8";
    resp->content_disposition = "attachment; filename=\"commitments.csv\"";
    return true;
}
