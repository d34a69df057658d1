/* cluster.c — forumd nodes joined through Redis: the shared log, the lease, forwarding. See
 * cluster.h and docs/cluster.md. */
#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cjson/cJSON.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "auth.h"
#include "log.h"

#define LOG_KEY "forum:log"
#define LEASE_KEY "forum:lease"
#define ID_KEY "forum:cluster_id"
#define PRESENCE_CHANNEL "forum:presence"
#define READ_COUNT 1000
#define RECONNECT_MS 300

/* Appends a batch if and only if this node holds the lease and the log ends right before the
 * batch's first position. KEYS: log, lease. ARGV: node, first position, entry texts. */
static const char APPEND_SCRIPT[] =
    "if redis.call('GET', KEYS[2]) ~= ARGV[1] then\n"
    "  return redis.error_reply('NOTLEADER the lease is not held by ' .. ARGV[1])\n"
    "end\n"
    "local top = 0\n"
    "local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)\n"
    "if #last > 0 then top = tonumber(string.match(last[1][1], '%-(%d+)$')) end\n"
    "local first = tonumber(ARGV[2])\n"
    "if top ~= first - 1 then\n"
    "  return redis.error_reply('FENCED the log ends at ' .. top .. ', not ' .. (first - 1))\n"
    "end\n"
    "for i = 3, #ARGV do\n"
    "  redis.call('XADD', KEYS[1], '0-' .. (first + i - 3), 'e', ARGV[i])\n"
    "end\n"
    "return first + #ARGV - 3\n";

/* Renews the lease if held by ARGV[1], takes it if free. Returns {status, holder}: 1 renewed,
 * 2 taken now, 0 held by another node. KEYS: lease. ARGV: node, ttl ms. */
static const char LEASE_SCRIPT[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur == ARGV[1] then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return {1, cur}\n"
    "end\n"
    "if not cur then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "  return {2, ARGV[1]}\n"
    "end\n"
    "return {0, cur}\n";

static const char RELEASE_SCRIPT[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

typedef struct fwd {
    char *text;       /* the request, until a node received it */
    bool sending;     /* PUBLISH in flight */
    char to[48];      /* the node it was sent to */
    int64_t rid;
    uint64_t deadline;
    cluster_reply_fn reply;
    void *arg;
    struct fwd *next;
} fwd;

typedef struct append_req {
    cluster *c;
    cluster_append_fn done;
    void *arg;
    int64_t last;
    size_t n;
} append_req;

struct cluster {
    uv_loop_t *loop;
    char host[256];
    int port;
    /* from redis://USER:PASSWORD@HOST:PORT/DB: AUTH and SELECT on every connection. The
     * password never leaves this struct except in AUTH (no log line, no metric shows it). */
    char user[128], password[256];
    int db;
    char node[48];
    char channel[80];
    int lease_ms, fwd_timeout_ms;
    redisContext *sync;
    redisAsyncContext *cmd, *rd, *sub;
    bool cmd_up, rd_up, sub_up;
    uint64_t cmd_t0, rd_t0, sub_t0; /* when each connection was opened (loop ms) */
    uint64_t lease_t0, read_t0;     /* when the pending lease script / XREAD was sent */
    bool reading;
    uint64_t last_tick;             /* the watchdog's previous run */
    cluster_hooks hooks;
    bool running, closing;
    int64_t seen;      /* last position handed over */
    int64_t log_pos;   /* leader: last position appended */
    int64_t confirmed; /* leader: last position Redis confirmed */
    int64_t log_top;
    bool holds_lease, leading, lease_pending;
    char leader[48];
    uv_timer_t lease_timer, reconnect_timer, fwd_timer;
    bool reconnect_armed;
    int64_t next_rid;
    fwd *fwds;
    cluster_stats st;
    bool warned;
    int timers_closed;
};

/* The pub/sub channel of node name: requests forwarded to it and replies to its forwards. */
static void node_channel(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "forum:node:%s", name);
}

/* ---- event codec -------------------------------------------------------------------------- */

char *cluster_event_encode(const forum_event *ev)
{
    jsonw w = {0};
    bool f = true;
    jsonw_put(&w, "{", 1);
    jsonw_kv_str(&w, &f, "s", ev->session);
    jsonw_kv_int(&w, &f, "q", ev->seq);
    jsonw_kv_int(&w, &f, "t", ev->at);
    jsonw_kv_int(&w, &f, "o", ev->offset_ms);
    jsonw_kv_str(&w, &f, "a", ev->actor);
    jsonw_kv_str(&w, &f, "k", forum_kind_name(ev->kind));
    jsonw_kv_int(&w, &f, "u", (int64_t)ev->audience);
    if (ev->subject[0])
        jsonw_kv_str(&w, &f, "j", ev->subject);
    if (ev->request_id[0])
        jsonw_kv_str(&w, &f, "r", ev->request_id);
    if (ev->erased_viewer_id[0])
        jsonw_kv_str(&w, &f, "e", ev->erased_viewer_id);
    jsonw_key(&w, &f, "p");
    bool g = true;
    jsonw_put(&w, "{", 1);
    forum_event_write_payload(&w, &g, ev, FORUM_VIEW_STAFF);
    jsonw_put(&w, "}", 1);
    jsonw_key(&w, &f, "x");
    if (!forum_event_write_secret(&w, ev))
        jsonw_put(&w, "null", 4);
    jsonw_put(&w, "}", 1);
    return jsonw_finish(&w);
}

static bool copy_str(const cJSON *o, const char *key, char *dst, size_t cap, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        dst[0] = '\0';
        return !required;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return false;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return true;
}

static bool get_num(const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

int cluster_event_decode(const char *text, size_t len, forum_event *ev)
{
    memset(ev, 0, sizeof *ev);
    cJSON *o = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return -1;
    }
    int64_t aud = 0;
    char kind[40];
    bool ok = copy_str(o, "s", ev->session, sizeof ev->session, true) &&
              get_num(o, "q", &ev->seq) && ev->seq > 0 && get_num(o, "t", &ev->at) &&
              get_num(o, "o", &ev->offset_ms) &&
              copy_str(o, "a", ev->actor, sizeof ev->actor, true) &&
              copy_str(o, "k", kind, sizeof kind, true) &&
              (ev->kind = forum_kind_from_name(kind)) != FORUM_EV__COUNT &&
              get_num(o, "u", &aud) && aud >= FORUM_AUD_PUBLIC && aud <= FORUM_AUD_NOBODY &&
              copy_str(o, "j", ev->subject, sizeof ev->subject, false) &&
              copy_str(o, "r", ev->request_id, sizeof ev->request_id, false) &&
              copy_str(o, "e", ev->erased_viewer_id, sizeof ev->erased_viewer_id, false);
    if (ok) {
        ev->audience = (forum_audience)aud;
        ok = forum_event_decode(ev, cJSON_GetObjectItemCaseSensitive(o, "p"),
                                cJSON_GetObjectItemCaseSensitive(o, "x")) == 0;
    }
    cJSON_Delete(o);
    return ok ? 0 : -1;
}

/* ---- reading entries ---------------------------------------------------------------------- */

static int64_t parse_id(const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_STRING || r->len < 3 || strncmp(r->str, "0-", 2) != 0)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(r->str + 2, &end, 10);
    return errno || *end || v <= 0 ? -1 : (int64_t)v;
}

/* Turns an array of stream entries [[id, [field, value, ...]], ...] into cluster_entry values.
 * Returns the number decoded, or -1 (entries freed). */
static long decode_entries(const redisReply *arr, cluster_entry **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!arr || arr->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "unexpected reply from Redis reading the log");
        return -1;
    }
    if (arr->elements == 0)
        return 0;
    cluster_entry *es = calloc(arr->elements, sizeof *es);
    if (!es) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < arr->elements; i++) {
        const redisReply *e = arr->element[i];
        const redisReply *fields = e && e->type == REDIS_REPLY_ARRAY && e->elements == 2
                                       ? e->element[1]
                                       : NULL;
        int64_t pos = e && e->type == REDIS_REPLY_ARRAY && e->elements == 2
                          ? parse_id(e->element[0])
                          : -1;
        const redisReply *text = NULL;
        if (fields && fields->type == REDIS_REPLY_ARRAY)
            for (size_t f = 0; f + 1 < fields->elements; f += 2)
                if (fields->element[f]->type == REDIS_REPLY_STRING &&
                    strcmp(fields->element[f]->str, "e") == 0)
                    text = fields->element[f + 1];
        if (pos < 0 || !text || text->type != REDIS_REPLY_STRING ||
            cluster_event_decode(text->str, text->len, &es[n].ev) != 0) {
            snprintf(err, errlen, "malformed log entry %s",
                     e && e->type == REDIS_REPLY_ARRAY && e->elements > 0 &&
                             e->element[0]->type == REDIS_REPLY_STRING
                         ? e->element[0]->str
                         : "?");
            for (size_t k = 0; k < n; k++)
                forum_event_clear(&es[k].ev);
            free(es);
            return -1;
        }
        es[n++].pos = pos;
    }
    *out = es;
    return (long)n;
}

/* Hands over the entries after c->seen (contiguous from seen+1). Returns false on a gap (the
 * entries are dropped; the reader asks again from seen). */
static bool hand_over(cluster *c, cluster_entry *es, size_t n,
                      void (*each)(void *arg, cluster_entry *entries, size_t n), void *arg)
{
    size_t skip = 0;
    while (skip < n && es[skip].pos <= c->seen)
        forum_event_clear(&es[skip++].ev);
    if (skip == n)
        return true;
    bool contiguous = es[skip].pos == c->seen + 1;
    for (size_t i = skip + 1; contiguous && i < n; i++)
        contiguous = es[i].pos == es[i - 1].pos + 1;
    if (!contiguous) {
        for (size_t i = skip; i < n; i++)
            forum_event_clear(&es[i].ev);
        return false;
    }
    c->seen = es[n - 1].pos;
    if (c->seen > c->log_top)
        c->log_top = c->seen;
    each(arg, es + skip, n - skip);
    return true;
}

/* AUTH and SELECT on a new blocking connection, as the URL asks. Returns 0, or -1 with a
 * message in err (Redis's reply, which never repeats the password). */
static int sync_login(cluster *c, redisContext *s, char *err, size_t errlen)
{
    redisReply *r = NULL;
    if (c->password[0]) {
        r = c->user[0] ? redisCommand(s, "AUTH %s %s", c->user, c->password)
                       : redisCommand(s, "AUTH %s", c->password);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "Redis at %s:%d refused the credentials in --cluster%s%s: %s",
                     c->host, c->port, c->user[0] ? " for user " : "", c->user,
                     r ? r->str : s->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    if (c->db) {
        r = redisCommand(s, "SELECT %d", c->db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "Redis at %s:%d refused SELECT %d: %s", c->host, c->port, c->db,
                     r ? r->str : s->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    return 0;
fail:
    if (r)
        freeReplyObject(r);
    return -1;
}

static redisContext *sync_ctx(cluster *c, char *err, size_t errlen)
{
    if (c->sync && c->sync->err) {
        redisFree(c->sync);
        c->sync = NULL;
    }
    if (!c->sync) {
        struct timeval tv = {2, 0};
        c->sync = redisConnectWithTimeout(c->host, c->port, tv);
        if (!c->sync || c->sync->err) {
            snprintf(err, errlen, "cannot reach Redis at %s:%d: %s", c->host, c->port,
                     c->sync ? c->sync->errstr : "out of memory");
            if (c->sync)
                redisFree(c->sync);
            c->sync = NULL;
            return NULL;
        }
        redisSetTimeout(c->sync, tv);
        if (sync_login(c, c->sync, err, errlen) != 0) {
            redisFree(c->sync);
            c->sync = NULL;
            return NULL;
        }
    }
    return c->sync;
}

long cluster_read_all(cluster *c, int64_t after,
                      void (*each)(void *arg, cluster_entry *entries, size_t n), void *arg,
                      char *err, size_t errlen)
{
    long total = 0;
    int64_t from = after;
    for (;;) {
        redisContext *s = sync_ctx(c, err, errlen);
        if (!s)
            return -1;
        char start[32];
        snprintf(start, sizeof start, "0-%lld", (long long)(from + 1));
        redisReply *r = redisCommand(s, "XRANGE %s %s + COUNT %d", LOG_KEY, start, READ_COUNT);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "reading the log failed: %s",
                     r ? r->str : (s->errstr[0] ? s->errstr : "no reply"));
            if (r)
                freeReplyObject(r);
            return -1;
        }
        cluster_entry *es;
        long n = decode_entries(r, &es, err, errlen);
        freeReplyObject(r);
        if (n < 0)
            return -1;
        if (n > 0 && !hand_over(c, es, (size_t)n, each, arg)) {
            free(es);
            snprintf(err, errlen, "the log has a gap after position %lld", (long long)c->seen);
            return -1;
        }
        if (n > 0)
            from = es[n - 1].pos;
        free(es);
        total += n;
        if (n < READ_COUNT)
            return total;
    }
}

/* ---- async connections -------------------------------------------------------------------- */

static void open_connections(cluster *c);
static void issue_read(cluster *c);
static void lease_tick(cluster *c);
static void publish_parked(cluster *c);
static void finish_fwd(cluster *c, int64_t rid, int rc, const char *text, int64_t pos);

static void on_reconnect_timer(uv_timer_t *t)
{
    cluster *c = t->data;
    c->reconnect_armed = false;
    c->st.reconnects++;
    open_connections(c);
}

static void schedule_reconnect(cluster *c)
{
    if (c->closing || c->reconnect_armed)
        return;
    c->reconnect_armed = true;
    uv_timer_start(&c->reconnect_timer, on_reconnect_timer, RECONNECT_MS, 0);
}

static redisAsyncContext **slot_of(cluster *c, const redisAsyncContext *ac)
{
    return ac == c->cmd ? &c->cmd : ac == c->rd ? &c->rd : ac == c->sub ? &c->sub : NULL;
}

static void mark_down(cluster *c, const redisAsyncContext *ac)
{
    redisAsyncContext **slot = slot_of(c, ac);
    if (!slot)
        return;
    if (slot == &c->cmd)
        c->cmd_up = false;
    else if (slot == &c->rd) {
        c->rd_up = false;
        c->reading = false;
    } else
        c->sub_up = false;
    *slot = NULL;
    if (!c->warned && !c->closing) {
        log_warn("lost the connection to Redis at %s:%d; reconnecting", c->host, c->port);
        c->warned = true;
    }
    schedule_reconnect(c);
}

/* ---- hiredis on the libuv loop -------------------------------------------------------------
 * hiredis' own libuv adapter (adapters/libuv.h) returns from its poll callback when libuv
 * reports an error, and libuv reports a refused connect or a reset as exactly that (and stops
 * the poll): the context then waits forever. This adapter hands the error to hiredis instead,
 * which finds the socket error and fails the connect or disconnects. */
typedef struct uv_redis {
    redisAsyncContext *ac;
    uv_poll_t poll;
    int events;
} uv_redis;

static void uv_redis_poll(uv_poll_t *h, int status, int events);

static void uv_redis_set(uv_redis *p, int add, int del)
{
    p->events = (p->events | add) & ~del;
    if (p->events)
        uv_poll_start(&p->poll, p->events, uv_redis_poll);
    else
        uv_poll_stop(&p->poll);
}

static void uv_redis_poll(uv_poll_t *h, int status, int events)
{
    uv_redis *p = h->data;
    if (status < 0 && p->ac) {
        /* connecting: the write handler checks the connect; connected: a read finds the error */
        if (p->ac->c.flags & REDIS_CONNECTED)
            redisAsyncHandleRead(p->ac);
        else
            redisAsyncHandleWrite(p->ac);
        if (p->ac) /* not a fatal error after all: libuv stopped the poll, start it again */
            uv_redis_set(p, 0, 0);
        return;
    }
    if (p->ac && (events & UV_READABLE))
        redisAsyncHandleRead(p->ac);
    if (p->ac && (events & UV_WRITABLE))
        redisAsyncHandleWrite(p->ac);
}

static void uv_redis_add_read(void *arg) { uv_redis_set(arg, UV_READABLE, 0); }
static void uv_redis_del_read(void *arg) { uv_redis_set(arg, 0, UV_READABLE); }
static void uv_redis_add_write(void *arg) { uv_redis_set(arg, UV_WRITABLE, 0); }
static void uv_redis_del_write(void *arg) { uv_redis_set(arg, 0, UV_WRITABLE); }

static void uv_redis_closed(uv_handle_t *h)
{
    free(h->data);
}

static void uv_redis_cleanup(void *arg)
{
    uv_redis *p = arg;
    p->ac = NULL; /* hiredis frees the context after this */
    uv_close((uv_handle_t *)&p->poll, uv_redis_closed);
}

static int uv_redis_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
    uv_redis *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    if (uv_poll_init(loop, &p->poll, ac->c.fd) != 0) {
        free(p);
        return -1;
    }
    p->ac = ac;
    p->poll.data = p;
    ac->ev.data = p;
    ac->ev.addRead = uv_redis_add_read;
    ac->ev.delRead = uv_redis_del_read;
    ac->ev.addWrite = uv_redis_add_write;
    ac->ev.delWrite = uv_redis_del_write;
    ac->ev.cleanup = uv_redis_cleanup;
    return 0;
}

/* A connection that is not up in time (a host that drops SYNs), or a reply that does not come
 * (a peer gone without a reset), gets the connection dropped and opened again. */
static void drop(cluster *c, redisAsyncContext **slot)
{
    redisAsyncContext *ac = *slot;
    if (!ac)
        return;
    mark_down(c, ac); /* clears the slot: the disconnect callback below finds nothing */
    redisAsyncFree(ac);
}

static void watchdog(cluster *c)
{
    uint64_t now = uv_now(c->loop);
    /* After a stall of this loop, replies may be waiting unread in the sockets (timers run
     * before I/O): judge overdue replies only on a tick that came on time. */
    bool on_time = now - c->last_tick < 1000;
    c->last_tick = now;
    if (!on_time)
        return;
    if (c->cmd && ((!c->cmd_up && now - c->cmd_t0 > 2000) ||
                   (c->lease_pending && now - c->lease_t0 > 3000)))
        drop(c, &c->cmd);
    if (c->rd && ((!c->rd_up && now - c->rd_t0 > 2000) || (c->reading && now - c->read_t0 > 4000)))
        drop(c, &c->rd);
    if (c->sub && !c->sub_up && now - c->sub_t0 > 2000)
        drop(c, &c->sub);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    mark_down(ac->data, ac);
}

static void on_sub_message(redisAsyncContext *ac, void *reply, void *priv);

static void on_connect(const redisAsyncContext *ac, int status)
{
    cluster *c = ac->data;
    if (status != REDIS_OK) {
        mark_down(c, ac);
        return;
    }
    if (ac == c->cmd) {
        c->cmd_up = true;
        lease_tick(c);
    }
    else if (ac == c->rd) {
        c->rd_up = true;
        issue_read(c);
    } else if (ac == c->sub) {
        c->sub_up = true;
        redisAsyncCommand(c->sub, on_sub_message, NULL, "SUBSCRIBE %s %s", c->channel,
                          PRESENCE_CHANNEL);
    }
    if (c->cmd_up && c->rd_up && c->sub_up && c->warned) {
        log_info("connected to Redis again");
        c->warned = false;
    }
}

/* The reply to a connection's AUTH or SELECT: a refusal is logged (the commands after it then
 * fail too, and the node reports Redis as unusable). */
static void on_login(redisAsyncContext *ac, void *reply, void *priv)
{
    cluster *c = ac->data;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && !c->closing)
        log_error("Redis at %s:%d refused %s: %s", c->host, c->port, (const char *)priv, r->str);
}

static redisAsyncContext *open_one(cluster *c)
{
    redisAsyncContext *ac = redisAsyncConnect(c->host, c->port);
    if (!ac)
        return NULL;
    if (ac->err) {
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = c;
    if (uv_redis_attach(ac, c->loop) != 0) {
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* queued before anything else: hiredis sends commands in order once connected */
    if (c->password[0] && c->user[0])
        redisAsyncCommand(ac, on_login, "the credentials", "AUTH %s %s", c->user, c->password);
    else if (c->password[0])
        redisAsyncCommand(ac, on_login, "the password", "AUTH %s", c->password);
    if (c->db)
        redisAsyncCommand(ac, on_login, "SELECT", "SELECT %d", c->db);
    return ac;
}

static void open_connections(cluster *c)
{
    if (c->closing)
        return;
    uint64_t now = uv_now(c->loop);
    if (!c->cmd && (c->cmd = open_one(c)) != NULL)
        c->cmd_t0 = now;
    if (!c->rd && (c->rd = open_one(c)) != NULL)
        c->rd_t0 = now;
    if (!c->sub && (c->sub = open_one(c)) != NULL)
        c->sub_t0 = now;
    if (!c->cmd || !c->rd || !c->sub)
        schedule_reconnect(c);
}

/* ---- following the log -------------------------------------------------------------------- */

static void on_read(redisAsyncContext *ac, void *reply, void *priv)
{
    cluster *c = ac->data;
    redisReply *r = reply;
    c->reading = false;
    if (!r || c->closing)
        return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
        cluster_entry *es;
        char err[200];
        long n = decode_entries(r->element[0]->element[1], &es, err, sizeof err);
        if (n < 0) {
            log_error("%s", err);
        } else if (n > 0) {
            hand_over(c, es, (size_t)n, c->hooks.on_entries, c->hooks.arg);
            free(es);
        }
    } else if (r->type == REDIS_REPLY_ERROR) {
        log_error("reading the log: %s", r->str);
    }
    issue_read(c);
}

static void issue_read(cluster *c)
{
    if (!c->running || c->closing || !c->rd_up || c->reading)
        return;
    char start[32];
    snprintf(start, sizeof start, "0-%lld", (long long)c->seen);
    if (redisAsyncCommand(c->rd, on_read, NULL, "XREAD COUNT %d BLOCK 1000 STREAMS %s %s",
                          READ_COUNT, LOG_KEY, start) == REDIS_OK) {
        c->reading = true;
        c->read_t0 = uv_now(c->loop);
    }
}

/* ---- lease -------------------------------------------------------------------------------- */

static void become_leader(cluster *c)
{
    char err[256];
    if (cluster_read_all(c, c->seen, c->hooks.on_entries, c->hooks.arg, err, sizeof err) < 0) {
        log_warn("holds the lease but cannot catch up yet: %s", err);
        return;
    }
    c->log_pos = c->confirmed = c->seen;
    c->leading = true;
    c->st.lease_acquired++;
    log_info("node %s leads the cluster from log position %lld", c->node, (long long)c->seen);
}

static void step_down(cluster *c, const char *why)
{
    if (c->leading)
        log_warn("node %s no longer leads: %s", c->node, why);
    c->holds_lease = false;
    c->leading = false;
}

static void on_lease(redisAsyncContext *ac, void *reply, void *priv)
{
    cluster *c = ac->data;
    redisReply *r = reply;
    c->lease_pending = false;
    if (c->closing)
        return;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_error("lease script: %s", r->str);
        return;
    }
    long long status = r->element[0]->integer;
    snprintf(c->leader, sizeof c->leader, "%s", r->element[1]->str);
    /* Requests the previous leader received but did not answer fail now (the client retries;
     * a resent submission is recognised), rather than at their deadline. */
    for (bool again = true; again;) {
        again = false;
        for (fwd *f = c->fwds; f; f = f->next)
            if (!f->text && !f->sending && f->to[0] && strcmp(f->to, c->leader) != 0) {
                finish_fwd(c, f->rid, -1, NULL, 0);
                again = true;
                break;
            }
    }
    publish_parked(c);
    if (status == 0) {
        if (c->holds_lease)
            step_down(c, "another node holds the lease");
        return;
    }
    c->holds_lease = true;
    if (!c->leading)
        become_leader(c);
}

static void lease_tick(cluster *c)
{
    if (c->closing || !c->cmd_up || c->lease_pending)
        return;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%d", c->lease_ms);
    const char *argv[] = {"EVAL", LEASE_SCRIPT, "1", LEASE_KEY, c->node, ttl};
    if (redisAsyncCommandArgv(c->cmd, on_lease, NULL, 6, argv, NULL) == REDIS_OK) {
        c->lease_pending = true;
        c->lease_t0 = uv_now(c->loop);
    }
}

static void on_lease_timer(uv_timer_t *t)
{
    cluster *c = t->data;
    lease_tick(c);
}

/* ---- appending ---------------------------------------------------------------------------- */

static void on_append(redisAsyncContext *ac, void *reply, void *priv)
{
    append_req *a = priv;
    cluster *c = a->c;
    redisReply *r = reply;
    int rc = 0;
    if (!r) {
        rc = -1;
    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = -1;
        if (a->n > 0) {
            log_error("appending to the log refused: %s", r->str);
            if (strncmp(r->str, "NOTLEADER", 9) == 0 || strncmp(r->str, "FENCED", 6) == 0)
                step_down(c, r->str);
        } else {
            rc = 0; /* a failed barrier orders nothing differently */
        }
    }
    if (a->n == 0)
        rc = 0;
    if (rc != 0) {
        c->st.append_failures++;
        /* later appends in flight fail too (the log no longer ends where they start); none is
         * sent until the node has reloaded and caught up (cluster_rewind) */
        c->leading = false;
    } else if (a->n) {
        c->confirmed = a->last;
    }
    int64_t last = a->n ? a->last : c->confirmed;
    a->done(a->arg, rc, last);
    free(a);
}

void cluster_append(cluster *c, const forum_event *events, size_t n, cluster_append_fn done,
                    void *arg)
{
    append_req *a = calloc(1, sizeof *a);
    if (!a) {
        done(arg, -1, 0);
        return;
    }
    a->c = c;
    a->done = done;
    a->arg = arg;
    a->n = n;
    if (n == 0) {
        if (!c->cmd_up || redisAsyncCommand(c->cmd, on_append, a, "PING") != REDIS_OK) {
            free(a);
            done(arg, 0, c->confirmed);
        }
        return;
    }
    if (!c->leading || !c->cmd_up) {
        free(a);
        c->st.append_failures++;
        done(arg, -1, 0);
        return;
    }
    /* EVAL script 2 log lease node first entry... (ARGV[1] node, ARGV[2] first position) */
    size_t argc = 7 + n;
    const char **argv = calloc(argc, sizeof *argv);
    size_t *lens = calloc(argc, sizeof *lens);
    char first[24];
    snprintf(first, sizeof first, "%lld", (long long)(c->log_pos + 1));
    bool ok = argv && lens;
    if (ok) {
        argv[0] = "EVAL";
        argv[1] = APPEND_SCRIPT;
        argv[2] = "2";
        argv[3] = LOG_KEY;
        argv[4] = LEASE_KEY;
        argv[5] = c->node;
        argv[6] = first;
    }
    for (size_t i = 0; ok && i < n; i++)
        ok = (argv[7 + i] = cluster_event_encode(&events[i])) != NULL;
    int sent = REDIS_ERR;
    if (ok) {
        for (size_t i = 0; i < argc; i++)
            lens[i] = strlen(argv[i]);
        a->last = c->log_pos + (int64_t)n;
        sent = redisAsyncCommandArgv(c->cmd, on_append, a, (int)argc, argv, lens);
    }
    for (size_t i = 0; argv && i < n; i++)
        cJSON_free((char *)argv[7 + i]);
    free(argv);
    free(lens);
    if (sent != REDIS_OK) {
        free(a);
        c->st.append_failures++;
        c->leading = false; /* positions after this one would leave a gap */
        done(arg, -1, 0);
        return;
    }
    c->log_pos += (int64_t)n;
    c->st.appends++;
}

/* ---- forwarding --------------------------------------------------------------------------- */

static void finish_fwd(cluster *c, int64_t rid, int rc, const char *text, int64_t pos)
{
    for (fwd **pp = &c->fwds; *pp; pp = &(*pp)->next) {
        fwd *f = *pp;
        if (f->rid != rid)
            continue;
        *pp = f->next;
        if (rc != 0)
            c->st.forward_failures++;
        f->reply(f->arg, rc, text, pos);
        free(f->text);
        free(f);
        return;
    }
}

static fwd *find_fwd(cluster *c, int64_t rid)
{
    for (fwd *f = c->fwds; f; f = f->next)
        if (f->rid == rid)
            return f;
    return NULL;
}

static void on_published(redisAsyncContext *ac, void *reply, void *priv)
{
    cluster *c = ac->data;
    redisReply *r = reply;
    fwd *f = find_fwd(c, (int64_t)(intptr_t)priv);
    if (!f)
        return;
    f->sending = false;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
        free(f->text); /* the leader has it: now only its reply (or the deadline) ends it */
        f->text = NULL;
    } else if (!c->closing) {
        /* Nobody listens on that channel: the leader is gone. Ask the lease again; the request
         * is sent to the next leader (or fails at its deadline). */
        c->leader[0] = '\0';
        lease_tick(c);
    }
}

static void publish_fwd(cluster *c, fwd *f)
{
    if (f->sending || !f->text)
        return;
    char channel[80];
    node_channel(channel, sizeof channel, c->leader);
    if (redisAsyncCommand(c->cmd, on_published, (void *)(intptr_t)f->rid, "PUBLISH %s %s",
                          channel, f->text) == REDIS_OK) {
        f->sending = true;
        snprintf(f->to, sizeof f->to, "%s", c->leader);
    }
}

/* Sends the forwards parked while no leader was known. */
static void publish_parked(cluster *c)
{
    if (!c->cmd_up || !c->leader[0])
        return;
    for (fwd *f = c->fwds; f; f = f->next)
        if (f->text)
            publish_fwd(c, f);
}

void cluster_forward(cluster *c, const forum_actor *actor, const char *frame, size_t len,
                     cluster_reply_fn reply, void *arg)
{
    fwd *f = calloc(1, sizeof *f);
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_CreateObject();
    char *fr = malloc(len + 1);
    if (f && o && a && fr) {
        f->rid = ++c->next_rid;
        cJSON_AddStringToObject(o, "t", "req");
        cJSON_AddStringToObject(o, "from", c->node);
        cJSON_AddNumberToObject(o, "rid", (double)f->rid);
        cJSON_AddNumberToObject(a, "role", actor->role);
        cJSON_AddStringToObject(a, "viewer_id", actor->viewer_id);
        cJSON_AddStringToObject(a, "name", actor->name);
        cJSON_AddStringToObject(a, "session", actor->session);
        cJSON_AddItemToObject(o, "actor", a);
        a = NULL;
        memcpy(fr, frame, len);
        fr[len] = '\0';
        cJSON_AddStringToObject(o, "frame", fr);
        f->text = cJSON_PrintUnformatted(o);
    }
    free(fr);
    cJSON_Delete(a);
    cJSON_Delete(o);
    if (!f || !f->text) {
        free(f);
        c->st.forward_failures++;
        reply(arg, -1, NULL, 0);
        return;
    }
    f->deadline = uv_now(c->loop) + (uint64_t)c->fwd_timeout_ms;
    f->reply = reply;
    f->arg = arg;
    f->next = c->fwds;
    c->fwds = f;
    c->st.forwarded_out++;
    /* No leader known yet (starting, or it just went away): the request waits for the next
     * lease reading, until its deadline. */
    if (c->cmd_up && c->leader[0])
        publish_fwd(c, f);
    else
        lease_tick(c);
}

void cluster_send_reply(cluster *c, const char *to, int64_t rid, const char *text, int64_t pos)
{
    if (!c->cmd_up)
        return; /* the forwarder times out and the client retries */
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "t", "rep");
    cJSON_AddNumberToObject(o, "rid", (double)rid);
    cJSON_AddNumberToObject(o, "pos", (double)pos);
    cJSON_AddStringToObject(o, "text", text);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return;
    char channel[80];
    node_channel(channel, sizeof channel, to);
    redisAsyncCommand(c->cmd, NULL, NULL, "PUBLISH %s %s", channel, s);
    cJSON_free(s);
}

void cluster_publish_presence(cluster *c, const cJSON *counts)
{
    if (!c->cmd_up)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "node", c->node);
    cJSON_AddItemToObject(o, "counts", cJSON_Duplicate(counts, 1));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s)
        redisAsyncCommand(c->cmd, NULL, NULL, "PUBLISH %s %s", PRESENCE_CHANNEL, s);
    cJSON_free(s);
}

static void on_sub_message(redisAsyncContext *ac, void *reply, void *priv)
{
    cluster *c = ac->data;
    redisReply *r = reply;
    if (!r || c->closing || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return;
    cJSON *o = cJSON_ParseWithLength(r->element[2]->str, r->element[2]->len);
    if (!o)
        return;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(o, "rid");
    if (strcmp(r->element[1]->str, PRESENCE_CHANNEL) == 0) {
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(o, "node");
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(o, "counts");
        if (cJSON_IsString(node) && strcmp(node->valuestring, c->node) != 0 &&
            cJSON_IsObject(counts) && c->hooks.on_presence)
            c->hooks.on_presence(c->hooks.arg, node->valuestring, counts);
    } else if (cJSON_IsString(t) && strcmp(t->valuestring, "rep") == 0 && cJSON_IsNumber(rid)) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
        const cJSON *pos = cJSON_GetObjectItemCaseSensitive(o, "pos");
        if (cJSON_IsString(text))
            finish_fwd(c, (int64_t)rid->valuedouble, 0, text->valuestring,
                       cJSON_IsNumber(pos) ? (int64_t)pos->valuedouble : 0);
    } else if (cJSON_IsString(t) && strcmp(t->valuestring, "req") == 0 && cJSON_IsNumber(rid)) {
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "from");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "actor");
        const cJSON *frame = cJSON_GetObjectItemCaseSensitive(o, "frame");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(a, "role");
        forum_actor actor;
        memset(&actor, 0, sizeof actor);
        if (cJSON_IsString(from) && strlen(from->valuestring) < 48 && cJSON_IsString(frame) &&
            cJSON_IsNumber(role) && role->valueint >= FORUM_ROLE_VIEWER &&
            role->valueint <= FORUM_ROLE_PRODUCER &&
            copy_str(a, "viewer_id", actor.viewer_id, sizeof actor.viewer_id, true) &&
            copy_str(a, "name", actor.name, sizeof actor.name, true) &&
            copy_str(a, "session", actor.session, sizeof actor.session, true)) {
            actor.role = (forum_role)role->valueint;
            c->st.forwarded_in++;
            c->hooks.on_request(c->hooks.arg, from->valuestring, (int64_t)rid->valuedouble,
                                &actor, frame->valuestring, strlen(frame->valuestring));
        }
    }
    cJSON_Delete(o);
}

static void on_fwd_timer(uv_timer_t *t)
{
    cluster *c = t->data;
    uint64_t now = uv_now(c->loop);
    for (;;) {
        fwd *due = NULL;
        for (fwd *f = c->fwds; f; f = f->next)
            if (f->deadline <= now) {
                due = f;
                break;
            }
        if (!due)
            break;
        c->leader[0] = '\0'; /* ask the lease again before the next forward */
        finish_fwd(c, due->rid, -1, NULL, 0);
    }
    watchdog(c);
    if (!c->leader[0])
        lease_tick(c);
    issue_read(c);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

/* Copies src[0..len) into dst (cap bytes) decoding %XX escapes. Returns 0, or -1 if it does
 * not fit or an escape is malformed. */
static int url_decode(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        if (ch == '%') {
            const char *hi = i + 2 < len ? memchr(hex, src[i + 1], 32) : NULL;
            const char *lo = hi ? memchr(hex, src[i + 2], 32) : NULL;
            if (!lo || (((hi - hex) % 16) | ((lo - hex) % 16)) == 0)
                return -1; /* malformed, or %00 */
            ch = (char)(((hi - hex) % 16) * 16 + (lo - hex) % 16);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        dst[o++] = ch;
    }
    dst[o] = '\0';
    return 0;
}

/* redis://[USER:PASSWORD@]HOST[:PORT][/DB], HOST a name, an IPv4 address or [IPv6]. Error
 * messages never repeat the URL (it may hold the password). */
static int parse_url(cluster *c, const char *url, char *err, size_t errlen)
{
    static const char scheme[] = "redis://";
    static const char form[] = "redis://[USER:PASSWORD@]HOST[:PORT][/DB]";
    if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0) {
        snprintf(err, errlen, "--cluster takes %s", form);
        return -1;
    }
    const char *h = url + sizeof scheme - 1;
    const char *at = strrchr(h, '@');
    if (at) {
        const char *colon = memchr(h, ':', (size_t)(at - h));
        if (!colon || url_decode(c->user, sizeof c->user, h, (size_t)(colon - h)) != 0 ||
            url_decode(c->password, sizeof c->password, colon + 1, (size_t)(at - colon - 1)) != 0 ||
            !c->password[0]) {
            snprintf(err, errlen,
                     "--cluster: the credentials must be USER:PASSWORD@ (USER may "
                     "be empty; %%XX escapes allowed), in %s",
                     form);
            return -1;
        }
        h = at + 1;
    }
    const char *end = h + strcspn(h, "/");
    const char *hs = h, *he;
    const char *port = NULL;
    if (*h == '[') {
        hs = h + 1;
        he = memchr(hs, ']', (size_t)(end - hs));
        if (!he || (he[1] != ':' && he + 1 != end)) {
            snprintf(err, errlen, "--cluster: bad IPv6 host, in %s", form);
            return -1;
        }
        port = he[1] == ':' ? he + 2 : NULL;
    } else {
        he = memchr(h, ':', (size_t)(end - h));
        port = he ? he + 1 : NULL;
        if (!he)
            he = end;
    }
    size_t hlen = (size_t)(he - hs);
    if (hlen == 0 || hlen >= sizeof c->host) {
        snprintf(err, errlen, "--cluster: no host, in %s", form);
        return -1;
    }
    memcpy(c->host, hs, hlen);
    c->host[hlen] = '\0';
    c->port = 6379;
    if (port) {
        char *pe;
        long p = strtol(port, &pe, 10);
        if (pe == port || pe != end || p < 1 || p > 65535) {
            snprintf(err, errlen, "--cluster: bad port, in %s", form);
            return -1;
        }
        c->port = (int)p;
    }
    c->db = 0;
    if (*end == '/' && end[1]) {
        char *de;
        long db = strtol(end + 1, &de, 10);
        if (de == end + 1 || *de || db < 0 || db > 1000000) {
            snprintf(err, errlen, "--cluster: the database is a number, in %s", form);
            return -1;
        }
        c->db = (int)db;
    }
    return 0;
}

int cluster_open(cluster **out, uv_loop_t *loop, const cluster_options *opt,
                 const char *meta_cluster_id, bool db_has_events, char new_id[40], char *err,
                 size_t errlen)
{
    *out = NULL;
    size_t nlen = opt->node ? strlen(opt->node) : 0;
    if (nlen == 0 || nlen > 40 || strspn(opt->node, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                                    "QRSTUVWXYZ0123456789_.-") != nlen) {
        snprintf(err, errlen, "--node takes a name of 1 to 40 letters, digits, '_', '.' or '-'");
        return -1;
    }
    cluster *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->loop = loop;
    snprintf(c->node, sizeof c->node, "%s", opt->node);
    node_channel(c->channel, sizeof c->channel, opt->node);
    c->lease_ms = opt->lease_ms > 0 ? opt->lease_ms : 3000;
    c->fwd_timeout_ms = opt->forward_timeout_ms > 0 ? opt->forward_timeout_ms : 5000;
    if (parse_url(c, opt->url, err, errlen) != 0) {
        free(c);
        return -1;
    }
    redisContext *s = sync_ctx(c, err, errlen);
    if (!s) {
        free(c);
        return -1;
    }
    /* Two nodes with one name would share a channel and a lease: refuse the second. */
    redisReply *sub = redisCommand(s, "PUBSUB NUMSUB %s", c->channel);
    bool taken = sub && sub->type == REDIS_REPLY_ARRAY && sub->elements == 2 &&
                 sub->element[1]->type == REDIS_REPLY_INTEGER && sub->element[1]->integer > 0;
    if (sub)
        freeReplyObject(sub);
    if (taken) {
        snprintf(err, errlen, "a node named %s is already running in this cluster (--node must "
                              "be unique)", c->node);
        redisFree(s);
        free(c);
        return -1;
    }
    unsigned char rnd[16];
    char fresh[40];
    auth_random_bytes(rnd, sizeof rnd);
    for (int i = 0; i < 16; i++)
        snprintf(fresh + 2 * i, 3, "%02x", rnd[i]);
    redisReply *r = redisCommand(s, "SET %s %s NX", ID_KEY, fresh);
    if (r)
        freeReplyObject(r);
    r = redisCommand(s, "GET %s", ID_KEY);
    if (!r || r->type != REDIS_REPLY_STRING || r->len >= 40) {
        snprintf(err, errlen, "could not read the cluster id from Redis at %s:%d: %s", c->host,
                 c->port, r && r->type == REDIS_REPLY_ERROR ? r->str : s->errstr);
        if (r)
            freeReplyObject(r);
        redisFree(s);
        free(c);
        return -1;
    }
    snprintf(new_id, 40, "%s", r->str);
    freeReplyObject(r);
    if (meta_cluster_id[0] ? strcmp(meta_cluster_id, new_id) != 0 : db_has_events) {
        if (meta_cluster_id[0])
            snprintf(err, errlen,
                     "this database belongs to cluster %s but Redis at %s:%d holds the log of "
                     "cluster %s (a different or emptied Redis?); start the node on an empty "
                     "database to join this cluster",
                     meta_cluster_id, c->host, c->port, new_id);
        else
            snprintf(err, errlen,
                     "this database already holds a show that is not in the cluster's log; a "
                     "node joins a cluster with an empty database (it copies the log)");
        redisFree(s);
        free(c);
        return -1;
    }
    uv_timer_init(loop, &c->lease_timer);
    uv_timer_init(loop, &c->reconnect_timer);
    uv_timer_init(loop, &c->fwd_timer);
    c->lease_timer.data = c->reconnect_timer.data = c->fwd_timer.data = c;
    *out = c;
    return 0;
}

void cluster_run(cluster *c, const cluster_hooks *hooks, int64_t seen)
{
    c->hooks = *hooks;
    c->seen = seen;
    c->log_top = seen;
    c->running = true;
    uv_timer_start(&c->lease_timer, on_lease_timer, 0, (uint64_t)(c->lease_ms / 3));
    uv_timer_start(&c->fwd_timer, on_fwd_timer, 250, 250);
    open_connections(c);
}

int cluster_rewind(cluster *c, int64_t pos, char *err, size_t errlen)
{
    c->seen = pos;
    long n = cluster_read_all(c, pos, c->hooks.on_entries, c->hooks.arg, err, errlen);
    if (n < 0)
        return -1;
    if (c->holds_lease) {
        c->log_pos = c->confirmed = c->seen;
        if (!c->leading) {
            c->leading = true;
        }
    }
    return 0;
}

bool cluster_leading(const cluster *c)
{
    return c->leading;
}

const char *cluster_node(const cluster *c)
{
    return c->node;
}

int64_t cluster_log_pos(const cluster *c)
{
    return c->leading ? c->log_pos : c->seen;
}

void cluster_get_stats(const cluster *c, cluster_stats *out)
{
    *out = c->st;
    out->leading = c->leading;
    out->connected = c->cmd_up && c->rd_up && c->sub_up;
    out->log_pos = cluster_log_pos(c);
    out->log_top = c->log_top > c->log_pos ? c->log_top : c->log_pos;
}

static void on_timer_closed(uv_handle_t *h)
{
    cluster *c = h->data;
    if (++c->timers_closed == 3)
        free(c);
}

void cluster_close(cluster *c)
{
    if (!c)
        return;
    c->closing = true;
    while (c->fwds)
        finish_fwd(c, c->fwds->rid, -1, NULL, 0);
    if (c->holds_lease) {
        char err[200];
        redisContext *s = sync_ctx(c, err, sizeof err);
        if (s) {
            redisReply *r = redisCommand(s, "EVAL %s 1 %s %s", RELEASE_SCRIPT, LEASE_KEY, c->node);
            if (r)
                freeReplyObject(r);
        }
    }
    redisAsyncContext *acs[3] = {c->cmd, c->rd, c->sub};
    c->cmd = c->rd = c->sub = NULL;
    c->cmd_up = c->rd_up = c->sub_up = false;
    for (int i = 0; i < 3; i++)
        if (acs[i])
            redisAsyncFree(acs[i]); /* pending callbacks run now, with no reply */
    if (c->sync)
        redisFree(c->sync);
    c->sync = NULL;
    /* c is freed once its timers are closed (the loop is running: no uv_run from here) */
    uv_timer_stop(&c->lease_timer);
    uv_timer_stop(&c->reconnect_timer);
    uv_timer_stop(&c->fwd_timer);
    uv_close((uv_handle_t *)&c->lease_timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->reconnect_timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->fwd_timer, on_timer_closed);
}
