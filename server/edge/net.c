/* net.c — libwebsockets on the caller's libuv loop: the /ws endpoint, HTTP on the same port
 * (and the private metrics listener), per-connection bounded send queues with packing,
 * connection admission (Origin, client addresses behind trusted proxies, per-address and
 * descriptor limits), frame reassembly and limits. See net.h for the contract. Loop thread
 * only. */
#include "net.h"

#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "containers.h"
#include "log.h"
#include "webroot.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NET_PROTOCOL "forum.v1"
#define NET_HTTP_CHUNK 16384
#define NET_HTTP_HEADERS_MAX 4096 /* an answer's headers, bytes (a page's policy included) */

struct net_conn {
    struct lws *wsi;
    net *n;
    void *user;
    net_msg **queue; /* ring */
    size_t q_head, q_count, q_cap, q_bytes;
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_discard; /* binary or oversize message being skipped */
    bool closing, dropped, close_sent;
    bool want_write; /* a writable callback is requested: the queue drains from there */
    bool dirty;      /* on n->dirty: written directly by the next flush pass */
    bool urgent;     /* on n->urgent: a reply is queued, written before the fan-out */
    bool peer_closed;
    bool ping_due;   /* the idle sweep wants a ping written */
    bool ping_sent;  /* a ping went out since the last received frame */
    size_t dirty_idx, urgent_idx;
    uint32_t last_rx_s; /* loop time (s) of the last frame received (or of the open) */
    uint32_t close_by_s; /* close frame sent: kill at this loop time (s) if still open */
    int close_code;
    char close_reason[64];
    net_conn *prev, *next;
};

typedef struct http_pending http_pending;

/* Per-connection data lws allocates for us, zeroed (HTTP and WebSocket alike). An HTTP
 * connection answers one request at a time: its body is read, then the response written. */
typedef struct pss {
    net_conn *conn;
    http_pending *pending; /* a request whose body is being read */
    net_http_later *later; /* a request the handler answers later (net_http_defer) */
    bool in_dispatch;      /* the handler is running for this connection */
    bool answer_ready;     /* answer holds a deferred answer not written yet */
    bool answer_head;      /* ... to a HEAD request */
    net_http_response answer;
    bool responding;       /* a response is being written: from body, or from file_fd */
    bool close_after;      /* end the connection once it is written */
    bool has_file;
    int file_fd;
    uint64_t file_left;
    char *body;
    size_t body_len, body_off;
    char address[INET6_ADDRSTRLEN]; /* the client's (net_conn_address), set at the upgrade */
} pss;

#define NET_REFUSED_ORIGINS_LOGGED 64

struct net {
    struct lws_context *ctx;
    struct lws_context *alive; /* lws sets this to NULL once the context is gone */
    struct lws_vhost *vhost;
    uv_loop_t *loop;
    net_options opt;
    net_callbacks cb;
    webroot *root; /* NULL: no web root (every static file is 404) */
    char **origins;
    size_t n_origins;
    net_conn *conns;
    net_stats stats;
    lws_retry_bo_t retry;
    bool shutting_down;
    uv_timer_t shutdown_timer;
    void (*shutdown_done)(void *arg);
    void *shutdown_arg;
    unsigned char *pack; /* scratch for packed frames: LWS_PRE + max_pack_bytes */
    int fd_limit;
    int fd_refuse_at; /* accepted descriptors from this number on are refused */
    net_cidr *proxies;
    size_t n_proxies;
    struct lws_vhost *metrics_vhost;
    SSL_CTX *ssl_ctx; /* the public vhost's (TLS): net_reload_tls loads into it */
    /* Foreign origins refused so far (their hash_str): each is logged once. */
    uint64_t refused_origins[NET_REFUSED_ORIGINS_LOGGED];
    size_t n_refused_origins;
    struct peer_entry *peers[256]; /* open WebSocket connections per source address */
    size_t pack_cap;
    /* Connections whose queue became non-empty this loop turn. A uv_idle handle (which also
     * keeps the loop from blocking in poll) writes them straight from the next turn: one
     * lws_write per connection, no POLLOUT arm/disarm (two epoll_ctl and a libuv invalidate
     * scan per frame) unless the kernel did not take everything. */
    uv_idle_t flush_idle;
    net_conn **dirty;
    size_t n_dirty, dirty_cap;
    size_t dirty_pos; /* the flush pass got this far: a big fan-out is written in slices */
    uint64_t flush_end_ns; /* uv_hrtime() when the last flush pass ended */
    /* Connections with a reply queued (an ack, an error, a welcome) while the flush list is
     * long: the next flush pass writes them first, so an ack does not wait behind a fan-out
     * to ten thousand viewers. */
    net_conn **urgent;
    size_t n_urgent, urgent_cap;
    bool direct; /* plain TCP: direct writes allowed (TLS always waits for writable) */
    bool wake_lws; /* a kill was scheduled from outside lws: make it service its timers */
    /* Idle policy (ping, hang-up) and the close-ack deadline, one pass a second over the
     * connections, instead of lws's per-connection timers: lws 4.1 keeps those in one sorted
     * list and every (re)insert walks it (lws_dll2_add_sorted), O(connections) per frame
     * received, per connect and per close. */
    uv_timer_t idle_timer;
    /* Handshakes in flight, by descriptor: lws gives each accepted connection a timeout (20 s,
     * then 10 s once it holds a header table), and in a storm every insert walks the timeouts
     * of all the other handshakes in flight. net cancels a connection's lws timeout as soon as
     * its adoption is complete (at the next accept, or in the next flush pass) and enforces its
     * own deadline here from the idle sweep instead. */
    struct lws **hs_wsi;      /* [fd_limit] */
    uint32_t *hs_deadline_s;  /* [fd_limit] */
    int hs_cap;
    size_t hs_count;
    struct lws *hs_last;      /* adopted last; its lws timeout not cancelled yet */
};

#define NET_HANDSHAKE_SECS 10

/* ---- connections per source address ---------------------------------------------------- */

typedef struct peer_entry {
    char addr[64];
    int count;
    struct peer_entry *next;
} peer_entry;

/* Adds delta to the count of addr and returns the count (delta 0: just look). */
static int peer_count(net *n, const char *addr, int delta)
{
    peer_entry **slot = &n->peers[hash_str(addr) % 256];
    for (peer_entry **pp = slot; *pp; pp = &(*pp)->next) {
        peer_entry *e = *pp;
        if (strcmp(e->addr, addr) != 0)
            continue;
        e->count += delta;
        int count = e->count;
        if (count <= 0) {
            *pp = e->next;
            free(e);
        }
        return count;
    }
    if (delta <= 0)
        return 0;
    peer_entry *e = calloc(1, sizeof *e);
    if (!e)
        return 0;
    snprintf(e->addr, sizeof e->addr, "%s", addr);
    e->count = delta;
    e->next = *slot;
    *slot = e;
    return delta;
}

/* ---- messages ---------------------------------------------------------------------------- */

net_msg *net_msg_new(const char *text, size_t len)
{
    net_msg *m = malloc(sizeof *m + LWS_PRE + len + 1);
    if (!m)
        return NULL;
    m->refs = 1;
    m->len = len;
    m->data = m->buf + LWS_PRE;
    memcpy(m->data, text, len);
    m->data[len] = '\0';
    return m;
}

net_msg *net_msg_take(char *text)
{
    if (!text)
        return NULL;
    net_msg *m = net_msg_new(text, strlen(text));
    free(text);
    return m;
}

void net_msg_ref(net_msg *m)
{
    m->refs++;
}

void net_msg_unref(net_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

/* ---- connections ------------------------------------------------------------------------- */

static void conn_unlink(net *n, net_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void conn_free_queue(net *n, net_conn *c)
{
    while (c->q_count > 0) {
        net_msg *m = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_count--;
        n->stats.queued_msgs--;
        n->stats.queued_bytes -= m->len;
        net_msg_unref(m);
    }
    c->q_bytes = 0;
    free(c->queue);
    c->queue = NULL;
    c->q_cap = 0;
}

static void flush_dirty(uv_idle_t *h);

/* Connections waiting in the flush list past which a reply is written first. */
#define NET_URGENT_AFTER 256

/* Appends c to a flush list (*list, *len, *cap), growing it. Returns false without memory. */
static bool flush_list_add(net_conn ***list, size_t *len, size_t *cap, net_conn *c, size_t *idx)
{
    if (*len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        net_conn **d = realloc(*list, ncap * sizeof *d);
        if (!d)
            return false;
        *list = d;
        *cap = ncap;
    }
    *idx = *len;
    (*list)[(*len)++] = c;
    return true;
}

/* c's queue has something to write: have it written directly by a flush pass (the next one if
 * urgent: a reply) or, when a writable callback is already requested (or direct writes are
 * off), from there. */
static void conn_schedule(net *n, net_conn *c, bool urgent)
{
    if (c->want_write || c->urgent || (c->dirty && !urgent))
        return;
    bool listed = n->direct && (urgent ? flush_list_add(&n->urgent, &n->n_urgent, &n->urgent_cap,
                                                        c, &c->urgent_idx)
                                       : flush_list_add(&n->dirty, &n->n_dirty, &n->dirty_cap, c,
                                                        &c->dirty_idx));
    if (!listed) {
        if (c->dirty || c->urgent)
            return; /* already on the other list */
        c->want_write = true;
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (urgent)
        c->urgent = true;
    else
        c->dirty = true;
    uv_idle_start(&n->flush_idle, flush_dirty); /* no-op while it runs */
}

/* Takes c off both flush lists (it is being written, or closed). */
static void conn_unlist(net *n, net_conn *c)
{
    if (c->dirty)
        n->dirty[c->dirty_idx] = NULL;
    if (c->urgent)
        n->urgent[c->urgent_idx] = NULL;
    c->dirty = c->urgent = false;
}

/* Drops the lws timeout of the connection adopted last (adoption is complete by now). */
static void hs_cancel_last(net *n)
{
    if (n->hs_last) {
        lws_set_timeout(n->hs_last, NO_PENDING_TIMEOUT, 0);
        n->hs_last = NULL;
    }
}

/* The slot is kept in the wsi's opaque user data (fd + 1): at WSI_DESTROY the descriptor is
 * already closed. */
static void hs_forget(net *n, struct lws *wsi)
{
    if (n->hs_last == wsi)
        n->hs_last = NULL;
    intptr_t slot = (intptr_t)lws_get_opaque_user_data(wsi) - 1;
    if (slot >= 0 && slot < n->hs_cap && n->hs_wsi[slot] == wsi) {
        n->hs_wsi[slot] = NULL;
        n->hs_count--;
        lws_set_opaque_user_data(wsi, NULL);
    }
}

/* Culled asynchronously, never freed inside this call (lws lagging-client pattern). The
 * immediate timeout goes to the head of lws's sorted list (O(1)); lws services its timers only
 * when it next wakes, so the flush pass wakes it (lws_cancel_service) if nothing else does. */
static void conn_kill_async(net_conn *c)
{
    net *n = c->n;
    c->dropped = true;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_LAGGING, LWS_TO_KILL_ASYNC);
    if (!n->wake_lws) {
        n->wake_lws = true;
        uv_idle_start(&n->flush_idle, flush_dirty);
    }
}

static void conn_drop_slow(net_conn *c)
{
    if (c->dropped)
        return;
    c->n->stats.dropped_slow++;
    conn_kill_async(c);
}

void net_send(net_conn *c, net_msg *m)
{
    if (!c || !m || c->dropped)
        return;
    net *n = c->n;
    if (c->q_count >= n->opt.max_queue_msgs || c->q_bytes + m->len > n->opt.max_queue_bytes) {
        conn_drop_slow(c);
        return;
    }
    if (c->q_count == c->q_cap) {
        size_t cap = c->q_cap ? c->q_cap * 2 : 8;
        net_msg **q = malloc(cap * sizeof *q);
        if (!q) {
            conn_drop_slow(c);
            return;
        }
        for (size_t i = 0; i < c->q_count; i++)
            q[i] = c->queue[(c->q_head + i) % c->q_cap];
        free(c->queue);
        c->queue = q;
        c->q_head = 0;
        c->q_cap = cap;
    }
    net_msg_ref(m);
    c->queue[(c->q_head + c->q_count) % c->q_cap] = m;
    c->q_count++;
    c->q_bytes += m->len;
    n->stats.queued_msgs++;
    n->stats.queued_bytes += m->len;
    if (c->q_count == 1) /* a non-empty queue is already scheduled */
        conn_schedule(n, c, false);
}

void net_send_text(net_conn *c, char *text)
{
    net_msg *m = net_msg_take(text);
    if (!m)
        return;
    net_send(c, m);
    net_msg_unref(m);
    /* A reply jumps ahead only of a long flush list (a big fan-out): otherwise everything goes
     * out in the order it was queued, so the events a request caused reach the other
     * connections in the same pass as its ack, before it. */
    if (c && !c->dropped && c->q_count > 0 && c->n->n_dirty - c->n->dirty_pos > NET_URGENT_AFTER)
        conn_schedule(c->n, c, true);
}

void net_close(net_conn *c, int code, const char *reason)
{
    if (!c || c->closing || c->close_sent)
        return;
    c->closing = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
    c->want_write = true;
    lws_callback_on_writable(c->wsi);
}

void net_queue_limits(const net *n, size_t *msgs, size_t *bytes)
{
    *msgs = n->opt.max_queue_msgs;
    *bytes = n->opt.max_queue_bytes;
}

const char *net_conn_address(const net_conn *c)
{
    const pss *p = lws_wsi_user(c->wsi);
    return p->address;
}

static net_msg *queue_pop(net *n, net_conn *c)
{
    net_msg *m = c->queue[c->q_head];
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_count--;
    c->q_bytes -= m->len;
    n->stats.queued_msgs--;
    n->stats.queued_bytes -= m->len;
    return m;
}

/* Writes one frame: the head message alone, or as many queued messages as fit in max_pack_bytes
 * packed into one JSON array. Returns -1 if the connection must close. */
static int conn_write_one(net *n, net_conn *c)
{
    net_msg *head = c->queue[c->q_head];
    size_t fit = 0, total = 1; /* "[" */
    for (size_t i = 0; i < c->q_count; i++) {
        net_msg *m = c->queue[(c->q_head + i) % c->q_cap];
        if (i > 0 && total + m->len + 2 > n->opt.max_pack_bytes)
            break;
        total += m->len + 1; /* message and "," or "]" */
        fit++;
    }
    int rc;
    if (fit <= 1) {
        rc = lws_write(c->wsi, head->data, head->len, LWS_WRITE_TEXT);
        net_msg_unref(queue_pop(n, c));
        n->stats.messages_written++;
    } else {
        if (n->pack_cap < LWS_PRE + total) {
            unsigned char *p = realloc(n->pack, LWS_PRE + total);
            if (!p)
                return -1;
            n->pack = p;
            n->pack_cap = LWS_PRE + total;
        }
        unsigned char *out = n->pack + LWS_PRE;
        size_t off = 0;
        out[off++] = '[';
        for (size_t i = 0; i < fit; i++) {
            net_msg *m = queue_pop(n, c);
            if (i > 0)
                out[off++] = ',';
            memcpy(out + off, m->data, m->len);
            off += m->len;
            net_msg_unref(m);
        }
        out[off++] = ']';
        rc = lws_write(c->wsi, out, off, LWS_WRITE_TEXT);
        n->stats.messages_written += fit;
    }
    n->stats.frames_written++;
    return rc < 0 ? -1 : 0;
}

static uint32_t now_s(const net *n)
{
    return (uint32_t)(uv_now(n->loop) / 1000);
}

/* Writes the ping the idle sweep asked for (with a payload: lws 4.1 passes no empty pong to
 * the callback). Returns -1 if the socket is unusable. */
static int conn_write_ping(net_conn *c)
{
    unsigned char buf[LWS_PRE + 1];
    buf[LWS_PRE] = 'p';
    c->ping_due = false;
    return lws_write(c->wsi, buf + LWS_PRE, 1, LWS_WRITE_PING) < 0 ? -1 : 0;
}

/* Writes c's queue with lws_write from outside any lws callback. lws_write sends what the
 * kernel takes and keeps the rest in its own per-wsi buffer (flushed before anything else,
 * pongs included, on POLLOUT), so the stream stays whole; we then stop and let the writable
 * callback carry on. */
static void flush_conn(net *n, net_conn *c)
{
    conn_unlist(n, c);
    if (c->dropped || c->close_sent || c->want_write || c->peer_closed)
        return;
    if (c->ping_due && !lws_partial_buffered(c->wsi) && conn_write_ping(c) < 0) {
        conn_kill_async(c); /* the socket is unusable: lws closes it from its own context */
        return;
    }
    while (c->q_count > 0 && !lws_partial_buffered(c->wsi)) {
        if (conn_write_one(n, c) < 0) {
            conn_kill_async(c);
            break;
        }
    }
    if (!c->dropped && (c->q_count > 0 || c->closing || c->ping_due)) {
        c->want_write = true;
        lws_callback_on_writable(c->wsi);
    }
}

/* The flush pass, once per loop turn while there is something to write: first every
 * connection with a reply queued, then the others in the order they became non-empty, for
 * NET_FLUSH_SLICE_NS or as long as the rest of the loop turn took, whichever is longer. What
 * is left waits for the next turn, after the loop has polled: a fan-out to 10,000 viewers
 * (~100 ms of send()s on one core) no longer holds up reading requests and writing their acks,
 * yet under a storm of requests the fan-out still gets half the loop, and the connections
 * served last get more messages packed into each frame. */
#define NET_FLUSH_SLICE_NS (4 * 1000 * 1000)
static void flush_dirty(uv_idle_t *h)
{
    net *n = h->data;
    for (size_t i = 0; i < n->n_urgent; i++)
        if (n->urgent[i])
            flush_conn(n, n->urgent[i]);
    n->n_urgent = 0;
    uint64_t start = uv_hrtime();
    uint64_t budget = start - n->flush_end_ns;
    if (budget < NET_FLUSH_SLICE_NS)
        budget = NET_FLUSH_SLICE_NS;
    for (unsigned k = 1; n->dirty_pos < n->n_dirty; k++) {
        net_conn *c = n->dirty[n->dirty_pos++];
        if (c)
            flush_conn(n, c);
        if ((k & 31) == 0 && uv_hrtime() - start > budget)
            break;
    }
    n->flush_end_ns = uv_hrtime();
    if (n->dirty_pos >= n->n_dirty) {
        n->n_dirty = n->dirty_pos = 0;
    } else if (n->dirty_pos >= 4096 && n->dirty_pos * 2 >= n->n_dirty) {
        /* A pass that never catches up (connections written early are listed again at the
         * end while it goes on) would grow the list without bound: drop the written part. */
        size_t live = n->n_dirty - n->dirty_pos;
        memmove(n->dirty, n->dirty + n->dirty_pos, live * sizeof *n->dirty);
        for (size_t i = 0; i < live; i++)
            if (n->dirty[i])
                n->dirty[i]->dirty_idx = i;
        n->n_dirty = live;
        n->dirty_pos = 0;
    }
    if (n->n_urgent == 0 && n->n_dirty == 0)
        uv_idle_stop(h);
    hs_cancel_last(n);
    if (n->wake_lws) {
        n->wake_lws = false;
        lws_cancel_service(n->ctx);
    }
}

/* ---- client addresses and trusted proxies ------------------------------------------------ */

/* Parses an address; an IPv4-mapped IPv6 address counts as the IPv4 one. Returns the family
 * (AF_INET, AF_INET6) or 0. */
static int addr_parse(const char *text, unsigned char out[16])
{
    if (inet_pton(AF_INET, text, out) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, text, out) != 1)
        return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out, mapped, 12) == 0) {
        memmove(out, out + 12, 4);
        return AF_INET;
    }
    return AF_INET6;
}

int net_cidr_parse(const char *text, net_cidr *out)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    if (alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof *out);
    out->family = addr_parse(addr, out->addr);
    if (!out->family)
        return -1;
    int bits = out->family == AF_INET ? 32 : 128;
    out->prefix = bits;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || p < 0 || p > bits)
            return -1;
        out->prefix = (int)p;
    }
    return 0;
}

int net_split_host_port(const char *text, char *host, size_t hostcap, int *port)
{
    const char *colon;
    size_t hlen;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        colon = close + 1;
        text++;
        hlen = (size_t)(close - text);
    } else {
        colon = strrchr(text, ':');
        if (!colon || memchr(text, ':', (size_t)(colon - text)))
            return -1;
        hlen = (size_t)(colon - text);
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (hlen == 0 || hlen >= hostcap || end == colon + 1 || *end || p < 0 || p > 65535)
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    unsigned char a[16];
    if (!addr_parse(host, a))
        return -1;
    *port = (int)p;
    return 0;
}

static bool cidr_contains(const net_cidr *c, int family, const unsigned char *a)
{
    if (c->family != family)
        return false;
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, a, (size_t)full) != 0)
        return false;
    return rest == 0 || ((c->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

/* Whether text is the address of a trusted proxy; *family and a get the parsed address. */
static bool proxy_trusted(const net *n, const char *text, int *family, unsigned char a[16])
{
    *family = addr_parse(text, a);
    if (!*family)
        return false;
    for (size_t i = 0; i < n->n_proxies; i++)
        if (cidr_contains(&n->proxies[i], *family, a))
            return true;
    return false;
}

/* The client address of wsi into out (see net_conn_address): the peer's; for a trusted
 * proxy's connection, walking X-Forwarded-For from the right, the first address that is not a
 * trusted proxy (an entry that is not an address stops the walk at the hop that added it). */
static void client_address(const net *n, struct lws *wsi, char *out, size_t cap)
{
    char peer[64] = "", hop[INET6_ADDRSTRLEN], xff[4096];
    unsigned char a[16];
    int family;
    lws_get_peer_simple(wsi, peer, sizeof peer);
    if (!proxy_trusted(n, peer, &family, a)) {
        if (family) /* canonical form: "::ffff:10.0.0.1" is 10.0.0.1 */
            inet_ntop(family, a, out, (socklen_t)cap);
        else
            snprintf(out, cap, "%s", peer);
        return;
    }
    inet_ntop(family, a, out, (socklen_t)cap); /* the proxy itself, if nothing better */
    bool has_xff = lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0;
    if (!has_xff) {
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_X_REAL_IP) <= 0 ||
            lws_hdr_copy(wsi, hop, sizeof hop, WSI_TOKEN_HTTP_X_REAL_IP) <= 0)
            return;
        char *h = hop + strspn(hop, " \t");
        h[strcspn(h, " \t")] = '\0';
        if ((family = addr_parse(h, a)) != 0)
            inet_ntop(family, a, out, (socklen_t)cap);
        return;
    }
    if (lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR) <= 0)
        return;
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t s = start, e = end;
        while (s < e && (xff[s] == ' ' || xff[s] == '\t'))
            s++;
        while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
            e--;
        if (e - s == 0 || e - s >= sizeof hop)
            return;
        memcpy(hop, xff + s, e - s);
        hop[e - s] = '\0';
        bool trusted = proxy_trusted(n, hop, &family, a);
        if (!family)
            return;
        inet_ntop(family, a, out, (socklen_t)cap);
        if (!trusted)
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

/* ---- HTTP -------------------------------------------------------------------------------- */

/* Every request is answered, with a body and its length, so that no client waits for one that
 * never comes. A body is read in full (up to max_http_body) before the handler sees the request;
 * it must come with a Content-Length (lws 4.1 does not decode chunked request bodies). When the
 * body cannot be read (no length, a bad length, too large to drain), the connection is closed
 * after the answer ("connection: close"), since its next bytes could not be told apart from the
 * body. */
/* A body must arrive within this many seconds of its headers. */
#define NET_HTTP_BODY_SECS 30
/* A body past the cap but within this is read and dropped after the 413, keeping the
 * connection. */
#define NET_HTTP_DRAIN_MAX (1u << 20)

/* A request waiting for its body: what the handler will see, copied out of lws's header table
 * (which may be gone by the time the body is complete). */
struct http_pending {
    char method[8];
    char *path;
    char query[1024], authorization[512], content_type[256], peer[64];
    char *body; /* body_cap + 1 bytes */
    size_t body_len, body_cap;
    uint32_t deadline_s;
};

static void http_pending_free(http_pending *r)
{
    if (r) {
        free(r->path);
        free(r->body);
        free(r);
    }
}

static const char *mime_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    static const struct {
        const char *ext, *mime;
    } table[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".webmanifest", "application/manifest+json"},
        {".txt", "text/plain; charset=utf-8"}, {".woff2", "font/woff2"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(dot, table[i].ext) == 0)
            return table[i].mime;
    return "application/octet-stream";
}

/* Adds header name (with its colon) = value. Returns 0 or -1 (no room). */
static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **pos,
                      unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), pos, end)
               ? -1
               : 0;
}

/* The security headers every answer carries: csp (NULL: NET_DEFAULT_CSP), no MIME sniffing,
 * no referrer, HSTS over TLS, and X-Frame-Options: DENY unless frameable (then the CSP's
 * frame-ancestors alone says who may frame the page: X-Frame-Options cannot name sites).
 * lws's own set (LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE) is not used:
 * it sends one fixed policy, and a second policy could only narrow a page's own. */
static int add_security_headers(struct lws *wsi, const char *csp, bool frameable,
                                unsigned char **pos, unsigned char *end)
{
    if (add_header(wsi, "content-security-policy:", csp ? csp : NET_DEFAULT_CSP, pos, end) ||
        add_header(wsi, "x-content-type-options:", "nosniff", pos, end) ||
        add_header(wsi, "referrer-policy:", "no-referrer", pos, end) ||
        (!frameable && add_header(wsi, "x-frame-options:", "DENY", pos, end)))
        return -1;
    if (lws_is_ssl(wsi) &&
        add_header(wsi, "strict-transport-security:", "max-age=15768000; includeSubDomains", pos,
                   end))
        return -1;
    return 0;
}

/* What an answer's headers say besides its status and length. */
typedef struct http_head {
    const char *content_type;
    const char *disposition; /* NULL: none */
    const char *allow;       /* NULL: none */
    const char *csp;         /* NULL: NET_DEFAULT_CSP */
    bool frameable;          /* no X-Frame-Options (see add_security_headers) */
    int retry_after_s;       /* > 0: a Retry-After header */
} http_head;

/* Writes the status line and headers of a response of len bytes, security headers included. */
static int http_headers(struct lws *wsi, pss *p, int status, size_t len, const http_head *h)
{
    unsigned char buf[LWS_PRE + NET_HTTP_HEADERS_MAX];
    unsigned char *start = buf + LWS_PRE, *pos = start, *end = buf + sizeof buf - 1;
    char retry[16];
    snprintf(retry, sizeof retry, "%d", h->retry_after_s);
    if (lws_add_http_common_headers(wsi, (unsigned int)status, h->content_type, len, &pos, end) ||
        add_header(wsi, "cache-control:", "no-store", &pos, end) ||
        add_security_headers(wsi, h->csp, h->frameable, &pos, end) ||
        (h->disposition && add_header(wsi, "content-disposition:", h->disposition, &pos, end)) ||
        (h->allow && add_header(wsi, "allow:", h->allow, &pos, end)) ||
        (h->retry_after_s > 0 && add_header(wsi, "retry-after:", retry, &pos, end)) ||
        (p->close_after && add_header(wsi, "connection:", "close", &pos, end)))
        return -1;
    return lws_finalize_write_http_header(wsi, start, &pos, end) ? -1 : 0;
}

/* Answers with body (malloc'd, taken; for HEAD only its length is sent). */
static int http_respond(struct lws *wsi, pss *p, bool head, int status, char *body, size_t len,
                        const http_head *h)
{
    if (http_headers(wsi, p, status, len, h) != 0) {
        free(body);
        return -1;
    }
    free(p->body);
    p->body = body;
    p->body_len = head ? 0 : len;
    p->body_off = 0;
    p->responding = true;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Answers {"error":error,"message":message} (constant strings without quotes or backslashes);
 * close: end the connection once it is written. */
static int http_error(struct lws *wsi, pss *p, bool head, int status, const char *error,
                      const char *message, const char *allow, bool close)
{
    char text[512];
    int n = snprintf(text, sizeof text, "{\"error\":\"%s\",\"message\":\"%s\"}", error, message);
    char *body = n > 0 ? strndup(text, sizeof text - 1) : NULL;
    if (!body)
        return -1;
    p->close_after = p->close_after || close;
    http_head h = {.content_type = "application/json", .allow = allow};
    return http_respond(wsi, p, head, status, body, strlen(body), &h);
}

/* Serves the file at path beneath the web root (with the policy csp, frameable as for
 * add_security_headers), or a 404. */
static int http_static(net *n, struct lws *wsi, pss *p, bool head, const char *path,
                       const char *csp, bool frameable)
{
    struct stat st;
    bool index = false;
    int fd = n->root ? webroot_open_file(n->root, path, &st, &index) : -1;
    if (fd < 0)
        return http_error(wsi, p, head, 404, "not_found", "no such file", NULL, false);
    http_head h = {.content_type = mime_for(index ? "index.html" : path), .csp = csp,
                   .frameable = frameable};
    if (http_headers(wsi, p, 200, (size_t)st.st_size, &h) != 0) {
        close(fd);
        return -1;
    }
    p->file_fd = fd;
    p->has_file = true;
    p->file_left = head ? 0 : (uint64_t)st.st_size;
    p->responding = true;
    lws_callback_on_writable(wsi);
    return 0;
}

/* ---- answers given later ----
 * A handler that cannot answer at once (a command answered after its commit) calls
 * net_http_defer: the connection then waits, without a timeout of its own, for
 * net_http_answer, which stores the answer and asks lws for a writable callback (lws 4.1
 * allows this from outside its callbacks on the loop thread: the HTTP transaction stays open
 * until lws_http_transaction_completed); the headers and body are written from there. The
 * handle and the connection forget each other when either goes first. */
struct net_http_later {
    struct lws *wsi; /* NULL once the connection is gone */
    pss *p;
};

/* What net_http_defer needs to find the connection of the request being handled. */
typedef struct http_call {
    struct lws *wsi;
    pss *p;
    bool head;
} http_call;

net_http_later *net_http_defer(const net_http_request *req)
{
    http_call *call = req->net_;
    if (!call || call->p->later || call->p->answer_ready)
        return NULL;
    net_http_later *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->wsi = call->wsi;
    l->p = call->p;
    call->p->later = l;
    call->p->answer_head = call->head;
    return l;
}

/* Writes the stored deferred answer's headers (and schedules its body). */
static int http_write_answer(struct lws *wsi, pss *p)
{
    net_http_response *a = &p->answer;
    p->answer_ready = false;
    char *body = a->body, *csp = a->csp;
    a->body = NULL;
    a->csp = NULL;
    http_head h = {
        .content_type = a->content_type ? a->content_type : "application/json",
        .disposition = a->content_disposition,
        .allow = a->allow,
        .csp = csp,
        .frameable = a->frameable,
        .retry_after_s = a->retry_after_s,
    };
    int rc = http_respond(wsi, p, p->answer_head, a->status, body, a->body_len, &h);
    free(csp);
    return rc;
}

void net_http_answer(net_http_later *l, net_http_response *resp)
{
    if (!l)
        return;
    if (!l->p || !l->wsi) { /* the client went away */
        free(resp->body);
        free(resp->csp);
        free(l);
        return;
    }
    pss *p = l->p;
    p->later = NULL;
    p->answer = *resp;
    if (p->answer.status <= 0)
        p->answer.status = 500;
    p->answer_ready = true;
    if (!p->in_dispatch) /* else http_dispatch writes it when the handler returns */
        lws_callback_on_writable(l->wsi);
    free(l);
}

/* Hands a complete request to the handler and answers it (now, or once net_http_answer is
 * called for a deferred one). */
static int http_dispatch(net *n, struct lws *wsi, pss *p, const net_http_request *req_in)
{
    bool head = strcmp(req_in->method, "HEAD") == 0;
    net_http_response resp = {0};
    http_call call = {wsi, p, head};
    net_http_request req_copy = *req_in;
    const net_http_request *req = &req_copy;
    req_copy.net_ = &call;
    p->in_dispatch = true;
    if (n->cb.on_http)
        n->cb.on_http(n->cb.arg, req, &resp);
    p->in_dispatch = false;
    if (p->later || p->answer_ready) { /* deferred: resp is not used */
        free(resp.body);
        free(resp.csp);
        return p->answer_ready ? http_write_answer(wsi, p) : 0;
    }
    http_head h = {
        .content_type = resp.content_type ? resp.content_type : "application/json",
        .disposition = resp.content_disposition,
        .allow = resp.allow,
        .csp = resp.csp,
        .frameable = resp.frameable,
        .retry_after_s = resp.retry_after_s,
    };
    int rc;
    if (resp.status > 0) {
        rc = http_respond(wsi, p, head, resp.status, resp.body, resp.body_len, &h);
    } else {
        free(resp.body);
        if (!head && strcmp(req->method, "GET") != 0)
            rc = http_error(wsi, p, head, 405, "method_not_allowed",
                            "this address takes GET and HEAD only", "GET, HEAD", false);
        else
            rc = http_static(n, wsi, p, head, resp.file ? resp.file : req->path, resp.csp,
                             resp.frameable);
    }
    free(resp.csp);
    return rc;
}

/* Dispatches a pending request with what it holds (its body, or none). */
static int http_dispatch_pending(net *n, struct lws *wsi, pss *p, http_pending *r)
{
    net_http_request req = {
        .method = r->method,
        .path = r->path,
        .query = r->query,
        .authorization = r->authorization,
        .content_type = r->content_type,
        .body = r->body ? r->body : "",
        .body_len = r->body_len,
        .peer = r->peer,
    };
    return http_dispatch(n, wsi, p, &req);
}

/* The Content-Length value as a number: decimal digits only (no sign, list or blank), at most
 * 18 of them. -1 when the header is absent, -2 when it is malformed. */
static long long http_content_length(struct lws *wsi)
{
    int len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (len <= 0)
        return -1;
    char text[24];
    if (len > 18 || lws_hdr_copy(wsi, text, sizeof text, WSI_TOKEN_HTTP_CONTENT_LENGTH) != len)
        return -2;
    long long v = 0;
    for (int i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -2;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

/* Does the request say "Expect: 100-continue" (RFC 9110 10.1.1)? */
static bool expects_continue(struct lws *wsi)
{
    char expect[32];
    int len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_EXPECT);
    return len > 0 && len < (int)sizeof expect &&
           lws_hdr_copy(wsi, expect, sizeof expect, WSI_TOKEN_HTTP_EXPECT) >= 0 &&
           strcasecmp(expect, "100-continue") == 0;
}

/* Copies header h into out ("" when absent or longer than out). */
static void http_header_copy(struct lws *wsi, enum lws_token_indexes h, char *out, size_t cap)
{
    out[0] = '\0';
    if (lws_hdr_total_length(wsi, h) > 0 && lws_hdr_copy(wsi, out, (int)cap, h) < 0)
        out[0] = '\0';
}

/* The start of a request (headers complete): checks how its body is framed, then either
 * answers now or waits for the body (LWS_CALLBACK_HTTP_BODY / _BODY_COMPLETION). */
static int http_request(net *n, struct lws *wsi, pss *p, const char *url)
{
    static const struct {
        enum lws_token_indexes token;
        const char *name;
        bool body_expected; /* lws then reads a body even when no length was given */
    } methods[] = {
        {WSI_TOKEN_GET_URI, "GET", false},         {WSI_TOKEN_HEAD_URI, "HEAD", false},
        {WSI_TOKEN_POST_URI, "POST", true},        {WSI_TOKEN_PUT_URI, "PUT", true},
        {WSI_TOKEN_PATCH_URI, "PATCH", true},      {WSI_TOKEN_DELETE_URI, "DELETE", false},
        {WSI_TOKEN_OPTIONS_URI, "OPTIONS", false},
    };
    size_t m = 0;
    while (m < sizeof methods / sizeof methods[0] &&
           lws_hdr_total_length(wsi, methods[m].token) <= 0)
        m++;
    if (p->later || p->answer_ready)
        return -1; /* a request sent before the last one was answered (pipelining) */
    p->close_after = false;
    if (m == sizeof methods / sizeof methods[0])
        return http_error(wsi, p, false, 405, "method_not_allowed", "unknown method", NULL, true);
    bool head = methods[m].token == WSI_TOKEN_HEAD_URI;
    if (n->metrics_vhost) { /* /metrics only on the private listener, which serves nothing else */
        bool private_port = lws_get_vhost(wsi) == n->metrics_vhost;
        bool metrics = strcmp(url, "/metrics") == 0;
        if (private_port ? !(metrics || strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0)
                         : metrics)
            return http_error(wsi, p, head, 404, "not_found", "not served on this port", NULL,
                              true);
    }
    http_pending *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(url))) {
        http_pending_free(r);
        return -1;
    }
    snprintf(r->method, sizeof r->method, "%s", methods[m].name);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) > 0) {
        /* lws keeps each argument as a fragment; join them back with '&'. */
        size_t off = 0;
        for (int i = 0; off + 2 < sizeof r->query; i++) {
            int got =
                lws_hdr_copy_fragment(wsi, r->query + off + (off ? 1 : 0),
                                      (int)(sizeof r->query - off - 1), WSI_TOKEN_HTTP_URI_ARGS, i);
            if (got <= 0)
                break;
            if (off)
                r->query[off] = '&';
            off += (size_t)got + (off ? 1 : 0);
        }
        r->query[off] = '\0';
    }
    http_header_copy(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, r->authorization, sizeof r->authorization);
    http_header_copy(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, r->content_type, sizeof r->content_type);
    client_address(n, wsi, r->peer, sizeof r->peer);

    int rc;
    long long length = http_content_length(wsi);
    bool chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    if (length == -2 || (chunked && length >= 0)) {
        rc = http_error(wsi, p, head, 400, "bad_request",
                        "Content-Length must be one decimal number, without Transfer-Encoding",
                        NULL, true);
    } else if (chunked) {
        rc = http_error(wsi, p, head, 411, "length_required",
                        "send the body with a Content-Length (chunked bodies are not read)", NULL,
                        true);
    } else if (length > (long long)n->opt.max_http_body) {
        char message[128];
        snprintf(message, sizeof message, "the request body is over %zu bytes",
                 n->opt.max_http_body);
        /* past the drain bound, or when the client waits for a go-ahead it will not get, the
         * body is not coming (or not worth reading): close after the answer */
        rc = http_error(wsi, p, head, 413, "too_large", message, NULL,
                        length > (long long)NET_HTTP_DRAIN_MAX || expects_continue(wsi));
    } else if (length > 0) {
        r->body_cap = (size_t)length;
        r->body = malloc(r->body_cap + 1);
        if (!r->body) {
            http_pending_free(r);
            return -1;
        }
        r->deadline_s = now_s(n) + NET_HTTP_BODY_SECS;
        if (expects_continue(wsi)) { /* the client waits for this before it sends the body */
            static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
            unsigned char buf[LWS_PRE + sizeof go_on];
            memcpy(buf + LWS_PRE, go_on, sizeof go_on - 1);
            if (lws_write(wsi, buf + LWS_PRE, sizeof go_on - 1, LWS_WRITE_HTTP) < 0) {
                http_pending_free(r);
                return -1;
            }
        }
        http_pending_free(p->pending);
        p->pending = r; /* answered from http_body_complete */
        return 0;
    } else {
        /* No body. A POST, PUT or PATCH without a length has none (RFC 9112 6.3), but lws would
         * take the connection's next bytes for one: answer, then close. */
        p->close_after = length < 0 && methods[m].body_expected;
        rc = http_dispatch_pending(n, wsi, p, r);
    }
    http_pending_free(r);
    return rc;
}

/* A piece of the body of the pending request (ignored when nothing is pending: a body being
 * dropped after an early answer). */
static int http_body(net *n, pss *p, const void *in, size_t len)
{
    http_pending *r = p->pending;
    if (!r)
        return 0;
    if (len > r->body_cap - r->body_len || (int32_t)(now_s(n) - r->deadline_s) > 0)
        return -1; /* more than announced (lws never does this), or a body trickling in */
    memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    return 0;
}

static int http_body_complete(net *n, struct lws *wsi, pss *p)
{
    http_pending *r = p->pending;
    if (!r)
        return 0;
    p->pending = NULL;
    r->body[r->body_len] = '\0';
    int rc = http_dispatch_pending(n, wsi, p, r);
    http_pending_free(r);
    return rc;
}

/* Forgets the response written (or abandoned): its body or file. */
static void http_response_done(pss *p)
{
    free(p->body);
    p->body = NULL;
    p->body_len = p->body_off = 0;
    if (p->has_file)
        close(p->file_fd);
    p->has_file = false;
    p->file_left = 0;
    p->responding = false;
}

/* Drops whatever the connection's HTTP side holds (the connection or its protocol binding is
 * going away); a deferred answer still to come will find the connection gone. */
static void http_forget(pss *p)
{
    http_pending_free(p->pending);
    p->pending = NULL;
    if (p->later) {
        p->later->p = NULL;
        p->later->wsi = NULL;
        p->later = NULL;
    }
    if (p->answer_ready) {
        free(p->answer.body);
        free(p->answer.csp);
        p->answer.body = NULL;
        p->answer.csp = NULL;
        p->answer_ready = false;
    }
    http_response_done(p);
}

/* Writes the next piece of the response: one lws_write per callback. After the last one the
 * transaction completes (the connection waits for the next request) or, with close_after, the
 * connection ends. */
static int http_writeable(struct lws *wsi, pss *p)
{
    if (p->answer_ready && !p->responding)
        return http_write_answer(wsi, p);
    if (!p->responding)
        return 0;
    unsigned char buf[LWS_PRE + NET_HTTP_CHUNK];
    size_t left = p->has_file ? (size_t)p->file_left : p->body_len - p->body_off;
    size_t chunk = left > NET_HTTP_CHUNK ? NET_HTTP_CHUNK : left;
    bool final = chunk == left;
    if (p->has_file && chunk > 0) {
        ssize_t got = read(p->file_fd, buf + LWS_PRE, chunk);
        if (got != (ssize_t)chunk)
            return -1; /* the file shrank while it was served: its length was promised */
        p->file_left -= chunk;
    } else if (chunk > 0) {
        memcpy(buf + LWS_PRE, p->body + p->body_off, chunk);
        p->body_off += chunk;
    }
    if (lws_write(wsi, buf + LWS_PRE, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        (int)chunk)
        return -1;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    http_response_done(p);
    if (p->close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- the WebSocket subprotocol ------------------------------------------------------------ */

/* Does the upgrade request list forum.v1 in Sec-WebSocket-Protocol (a comma-separated list)?
 * Without it lws would bind its default protocol, and a client speaking something else would
 * be taken for a forum.v1 client. */
static bool names_subprotocol(struct lws *wsi)
{
    char list[256];
    int len = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (len <= 0 || len >= (int)sizeof list ||
        lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL) < 0)
        return false;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        tok += strspn(tok, " \t");
        size_t n = strcspn(tok, " \t");
        if (n == sizeof NET_PROTOCOL - 1 && memcmp(tok, NET_PROTOCOL, n) == 0 &&
            tok[n + strspn(tok + n, " \t")] == '\0')
            return true;
    }
    return false;
}

/* Refuses an upgrade with a 400 that says why, written at once (lws completes the transaction
 * when the callback returns): returns what LWS_CALLBACK_HTTP_CONFIRM_UPGRADE expects then. */
static int refuse_upgrade(struct lws *wsi)
{
    static const char body[] =
        "{\"error\":\"bad_request\",\"message\":\"name the WebSocket subprotocol " NET_PROTOCOL
        " (Sec-WebSocket-Protocol: " NET_PROTOCOL ")\"}";
    unsigned char buf[LWS_PRE + NET_HTTP_HEADERS_MAX + sizeof body];
    unsigned char *start = buf + LWS_PRE, *pos = start, *end = buf + LWS_PRE + NET_HTTP_HEADERS_MAX;
    if (lws_add_http_common_headers(wsi, 400, "application/json", sizeof body - 1, &pos, end) ||
        add_header(wsi, "cache-control:", "no-store", &pos, end) ||
        add_security_headers(wsi, NULL, false, &pos, end) ||
        lws_finalize_http_header(wsi, &pos, end))
        return -1;
    memcpy(pos, body, sizeof body - 1);
    pos += sizeof body - 1;
    if (lws_write(wsi, start, (size_t)(pos - start), LWS_WRITE_HTTP_FINAL) < 0)
        return -1;
    return 1;
}

/* ---- origin ------------------------------------------------------------------------------ */

/* A page this server served itself: Origin is SCHEME://AUTHORITY with this server's scheme
 * (either, behind a trusted proxy, which may terminate TLS) and AUTHORITY equal to the Host
 * header the browser sent for this very request, whatever address it used (a phone on the LAN
 * at http://192.168.1.20:8080). Anything with userinfo, a path or a list is not an origin. */
static bool same_origin(const net *n, struct lws *wsi, const char *origin, bool via_proxy)
{
    char host[256];
    int hlen = lws_hdr_total_length(wsi, WSI_TOKEN_HOST);
    if (hlen <= 0 || hlen >= (int)sizeof host ||
        lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
        return false;
    bool tls = !n->direct;
    const char *authority = NULL;
    if (strncmp(origin, "http://", 7) == 0 && (!tls || via_proxy))
        authority = origin + 7;
    else if (strncmp(origin, "https://", 8) == 0 && (tls || via_proxy))
        authority = origin + 8;
    if (!authority || !*authority || strcasecmp(authority, host) != 0)
        return false;
    for (const char *p = authority; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr(".-:[]", *p)))
            return false;
    return true;
}

/* Logs a refused origin the first time it is seen (printable ASCII, cut at 120 characters). */
static void log_refused_origin(net *n, const char *origin, const char *address)
{
    uint64_t h = hash_str(origin);
    for (size_t i = 0; i < n->n_refused_origins; i++)
        if (n->refused_origins[i] == h)
            return;
    if (n->n_refused_origins == NET_REFUSED_ORIGINS_LOGGED)
        return;
    n->refused_origins[n->n_refused_origins++] = h;
    char shown[128];
    size_t k = 0;
    for (const char *p = origin; *p && k < 120; p++)
        shown[k++] = (*p >= 0x20 && *p < 0x7f && *p != '"') ? *p : '?';
    shown[k] = '\0';
    log_warn("refused a WebSocket from a page at \"%s\" (client %s): not this server's own "
             "origin nor an --origin value; add --origin %s if that page is yours%s",
             shown, address, shown,
             n->n_refused_origins == NET_REFUSED_ORIGINS_LOGGED
                 ? " (further refused origins are not logged)"
                 : "");
}

/* Origin check for a WebSocket upgrade: no Origin (a native client), a same-origin page, or an
 * allowed one. */
static bool origin_allowed(net *n, struct lws *wsi, const char *address)
{
    int len = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (len <= 0)
        return true; /* native clients send no Origin; browsers always do */
    char origin[256], peer[64];
    if (len >= (int)sizeof origin) {
        log_refused_origin(n, "(an origin over 255 bytes)", address);
        return false;
    }
    lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
    for (size_t i = 0; i < n->n_origins; i++)
        if (strcmp(origin, n->origins[i]) == 0)
            return true;
    unsigned char a[16];
    int family;
    lws_get_peer_simple(wsi, peer, sizeof peer);
    if (same_origin(n, wsi, origin, proxy_trusted(n, peer, &family, a)))
        return true;
    log_refused_origin(n, origin, address);
    return false;
}

/* ---- the lws callback -------------------------------------------------------------------- */

static void shutdown_timeout(uv_timer_t *t);

/* Sends the close frame ourselves: lws 4.1.6 drops the reason set by lws_close_reason() when a
 * server callback returns -1 (warmcat/libwebsockets#1159 regressed), so peers saw 1006. The
 * peer answers with its close frame and lws then ends the connection; if it does not, the
 * timeout does. */
static int send_close_frame(net_conn *c)
{
    unsigned char buf[LWS_PRE + 125];
    size_t rlen = strlen(c->close_reason);
    if (rlen > 120)
        rlen = 120;
    buf[LWS_PRE] = (unsigned char)((c->close_code >> 8) & 0xff);
    buf[LWS_PRE + 1] = (unsigned char)(c->close_code & 0xff);
    memcpy(buf + LWS_PRE + 2, c->close_reason, rlen);
    c->close_sent = true;
    /* opcode 4 is lws's internal LWS_WRITE_CLOSE (hidden from the public enum in 4.1) */
    if (lws_write(c->wsi, buf + LWS_PRE, 2 + rlen, (enum lws_write_protocol)4) < 0)
        return -1;
    /* the idle sweep ends it 2-3 s from now if the peer does not answer */
    c->close_by_s = now_s(c->n) + 3;
    return 0;
}

/* Protocol abuse: forget what is queued and close with code as soon as the socket is writable. */
static int abort_with(net_conn *c, int code, const char *reason)
{
    conn_free_queue(c->n, c);
    c->rx_len = 0;
    c->closing = false;
    net_close(c, code, reason);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    net *n = ctx ? lws_context_user(ctx) : NULL;
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
        if (n) /* user is the TLS vhost's SSL_CTX (only the public vhost has TLS) */
            n->ssl_ctx = user;
        return 0;
    }
    pss *p = user;
    net_conn *c = p ? p->conn : NULL;

    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
        /* Descriptors are handed out lowest-first, so the accepted one's number bounds how many
         * are open: refusing near the limit keeps accept() from ever failing with EMFILE (which
         * lws would retry in a busy loop), whatever mix of handshakes is in flight. */
        int fd = (int)(intptr_t)in;
        if (n && fd >= n->fd_refuse_at) { /* while shutting down, HTTP still gets /readyz */
            n->stats.refused++;
            return 1;
        }
        if (n)
            hs_cancel_last(n); /* lws is accepting the next one: the last is fully adopted */
        return 0;
    }

    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: {
        /* lws attaches a header table (and its timeout) right after this callback */
        int fd = (int)lws_get_socket_fd(wsi);
        if (n && fd >= 0 && fd < n->hs_cap && !n->hs_wsi[fd] && !lws_get_opaque_user_data(wsi)) {
            hs_cancel_last(n);
            lws_set_opaque_user_data(wsi, (void *)(intptr_t)(fd + 1));
            n->hs_wsi[fd] = wsi;
            n->hs_deadline_s[fd] = now_s(n) + NET_HANDSHAKE_SECS;
            n->hs_count++;
            n->hs_last = wsi;
            uv_idle_start(&n->flush_idle, flush_dirty);
        }
        break;
    }

    case LWS_CALLBACK_WSI_DESTROY:
        if (n)
            hs_forget(n, wsi);
        if (p)
            http_forget(p);
        break;

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64] = "";
        if (!n || !p)
            return 1;
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
            lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        client_address(n, wsi, p->address, sizeof p->address);
        if (strcmp(uri, "/ws") != 0 || lws_get_vhost(wsi) == n->metrics_vhost || n->shutting_down) {
            n->stats.refused++;
            return 1;
        }
        if (!origin_allowed(n, wsi, p->address)) {
            n->stats.refused++;
            n->stats.refused_origin++;
            return 1;
        }
        if ((n->opt.max_connections > 0 &&
             n->stats.connections >= (uint64_t)n->opt.max_connections) ||
            (n->opt.max_per_address > 0 &&
             peer_count(n, p->address, 0) >= n->opt.max_per_address)) {
            n->stats.refused++;
            log_debug("refused a WebSocket from %s: connection limit", p->address);
            return 1;
        }
        return 0;
    }

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c)
            c->peer_closed = true;
        if (len == 1 && c) { /* RFC 6455 5.5.1: a 1-byte close payload is a protocol error */
            c->close_code = LWS_CLOSE_STATUS_PROTOCOL_ERR;
            snprintf(c->close_reason, sizeof c->close_reason, "invalid close frame");
            send_close_frame(c);
            return 1;
        }
        return 0;

    case LWS_CALLBACK_ESTABLISHED: {
        hs_forget(n, wsi);
        c = calloc(1, sizeof *c);
        if (!c)
            return -1;
        c->wsi = wsi;
        c->n = n;
        c->last_rx_s = now_s(n);
        peer_count(n, p->address, +1);
        p->conn = c;
        c->next = n->conns;
        if (n->conns)
            n->conns->prev = c;
        n->conns = c;
        n->stats.connections++;
        if (n->cb.on_open)
            c->user = n->cb.on_open(n->cb.arg, c);
        return 0;
    }

    case LWS_CALLBACK_RECEIVE_PONG:
        if (c) {
            c->last_rx_s = now_s(n);
            c->ping_sent = false;
        }
        return 0;

    case LWS_CALLBACK_RECEIVE: {
        if (!c)
            return -1;
        c->last_rx_s = now_s(n);
        c->ping_sent = false;
        if (c->closing)
            return 0;
        if (lws_frame_is_binary(wsi))
            return abort_with(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
        if (c->rx_len + len > n->opt.max_frame)
            return abort_with(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
        bool complete = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
        if (complete && c->rx_len == 0) { /* the whole message in one piece: no copy */
            if (n->cb.on_message)
                n->cb.on_message(n->cb.arg, c, c->user, in, len);
            return 0;
        }
        if (c->rx_len + len > c->rx_cap) {
            size_t cap = c->rx_cap ? c->rx_cap : 1024;
            while (cap < c->rx_len + len)
                cap *= 2;
            char *rx = realloc(c->rx, cap);
            if (!rx)
                return -1;
            c->rx = rx;
            c->rx_cap = cap;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (!complete)
            return 0;
        size_t msg_len = c->rx_len;
        c->rx_len = 0;
        if (n->cb.on_message)
            n->cb.on_message(n->cb.arg, c, c->user, c->rx, msg_len);
        /* an idle connection holds no reassembly buffer (most messages come in one piece) */
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
        return 0;
    }

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!c || c->dropped || c->close_sent)
            return -1;
        c->want_write = false;
        if (c->ping_due && conn_write_ping(c) < 0)
            return -1;
        if (c->q_count > 0) {
            if (conn_write_one(n, c) < 0)
                return -1;
            if (c->q_count > 0 || c->closing) {
                c->want_write = true;
                lws_callback_on_writable(wsi);
            }
            return 0;
        }
        if (c->closing)
            return send_close_frame(c);
        return 0;

    case LWS_CALLBACK_CLOSED:
        if (!c)
            return 0;
        if (n->cb.on_close)
            n->cb.on_close(n->cb.arg, c, c->user);
        conn_unlink(n, c);
        conn_unlist(n, c);
        conn_free_queue(n, c);
        peer_count(n, p->address, -1);
        n->stats.connections--;
        free(c->rx);
        free(c);
        p->conn = NULL;
        if (n->shutting_down && !n->conns && n->shutdown_done) /* finish outside lws */
            uv_timer_start(&n->shutdown_timer, shutdown_timeout, 50, 0);
        return 0;

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (in && strcasecmp(in, "websocket") == 0 && !names_subprotocol(wsi))
            return refuse_upgrade(wsi);
        return 0;

    case LWS_CALLBACK_HTTP:
        hs_forget(n, wsi); /* a plain HTTP request: lws's own timeouts from here on */
        return http_request(n, wsi, p, (const char *)in);

    case LWS_CALLBACK_HTTP_BODY:
        return p ? http_body(n, p, in, len) : 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return p ? http_body_complete(n, wsi, p) : 0;

    case LWS_CALLBACK_HTTP_WRITEABLE:
        return p ? http_writeable(wsi, p) : 0;

    case LWS_CALLBACK_HTTP_DROP_PROTOCOL: /* lws frees p after this */
    case LWS_CALLBACK_CLOSED_HTTP:
        if (p)
            http_forget(p);
        return 0;

    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* tx_packet_size lets one send() carry a whole packed frame (max_pack_bytes is at most 64 KiB
 * by default; larger frames are still sent, in pieces). With 0, lws cut every write to the rx
 * buffer size (4 KiB) and copied the rest per connection. */
#define NET_TX_PACKET (65536 + LWS_PRE + 16)
/* rx_buffer_size is what lws allocates per WebSocket connection for received payload (plus
 * LWS_PRE): it hands longer messages over in pieces, which net reassembles anyway, so a small
 * buffer costs nothing but saves 3.5 KiB of every idle connection. It must hold a control
 * frame's payload (125 bytes). */
#define NET_RX_BUFFER 512
static const struct lws_protocols protocols[] = {
    {NET_PROTOCOL, callback, sizeof(pss), NET_RX_BUFFER, 0, NULL, NET_TX_PACKET},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Once a second: ping connections idle for ping_secs (nothing received), hang up those idle
 * for hangup_secs, and end those whose close frame went unanswered. */
static void idle_sweep(uv_timer_t *t)
{
    net *n = t->data;
    uint32_t now = now_s(n);
    uint32_t ping = (uint32_t)n->opt.ping_secs, hangup = (uint32_t)n->opt.hangup_secs;
    for (int fd = 0; n->hs_count > 0 && fd < n->hs_cap; fd++) {
        struct lws *wsi = n->hs_wsi[fd];
        if (wsi && (int32_t)(now - n->hs_deadline_s[fd]) >= 0) {
            hs_forget(n, wsi);
            lws_set_timeout(wsi, PENDING_TIMEOUT_HOLDING_AH, LWS_TO_KILL_ASYNC);
            n->wake_lws = true;
            uv_idle_start(&n->flush_idle, flush_dirty);
        }
    }
    for (net_conn *c = n->conns; c; c = c->next) {
        if (c->dropped)
            continue;
        if (c->close_sent) {
            if (now >= c->close_by_s)
                conn_kill_async(c);
            continue;
        }
        uint32_t idle = now - c->last_rx_s;
        if (idle >= hangup) {
            conn_kill_async(c);
        } else if (idle >= ping && !c->ping_sent && !c->closing) {
            c->ping_sent = true;
            c->ping_due = true;
            conn_schedule(n, c, false);
        }
    }
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static int port_is_free(const char *bind_addr, int port, char *err, size_t errlen)
{
    if (port == 0)
        return 0;
    uv_loop_t loop;
    uv_tcp_t tcp;
    struct sockaddr_storage addr;
    int rc;
    if (uv_ip4_addr(bind_addr, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(bind_addr, port, (struct sockaddr_in6 *)&addr) != 0) {
        snprintf(err, errlen, "cannot bind: '%s' is not an IP address", bind_addr);
        return -1;
    }
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &tcp);
    rc = uv_tcp_bind(&tcp, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&tcp, 1, NULL);
    uv_close((uv_handle_t *)&tcp, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", bind_addr, port, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static void add_origin(net *n, const char *o)
{
    char **list = realloc(n->origins, (n->n_origins + 1) * sizeof *list);
    if (!list)
        return;
    n->origins = list;
    n->origins[n->n_origins] = strdup(o);
    if (n->origins[n->n_origins])
        n->n_origins++;
}

/* The allowed origins besides same-origin pages (see net_options.origins). */
static void set_origins(net *n, const net_options *opt, int port)
{
    for (size_t i = 0; i < n->n_origins; i++)
        free(n->origins[i]);
    n->n_origins = 0;
    const char *scheme = n->direct ? "http" : "https";
    char own[128];
    if (opt->n_origins == 0) {
        snprintf(own, sizeof own, "%s://localhost:%d", scheme, port);
        add_origin(n, own);
        snprintf(own, sizeof own, "%s://127.0.0.1:%d", scheme, port);
        add_origin(n, own);
    }
    for (size_t i = 0; i < opt->n_origins; i++)
        add_origin(n, opt->origins[i]);
}

static void set_proxies(net *n, const net_options *opt)
{
    free(n->proxies);
    n->proxies = NULL;
    n->n_proxies = 0;
    if (opt->n_trusted_proxies == 0)
        return;
    n->proxies = calloc(opt->n_trusted_proxies, sizeof *n->proxies);
    for (size_t i = 0; n->proxies && i < opt->n_trusted_proxies; i++)
        if (net_cidr_parse(opt->trusted_proxies[i], &n->proxies[n->n_proxies]) == 0)
            n->n_proxies++;
}

/* The options net_reconfigure may change, with max_connections derived from the fd limit. */
static void set_limits(net *n, const net_options *opt)
{
    n->opt.max_frame = opt->max_frame;
    n->opt.max_queue_msgs = opt->max_queue_msgs;
    n->opt.max_queue_bytes = opt->max_queue_bytes;
    n->opt.max_connections = opt->max_connections;
    if (n->opt.max_connections <= 0)
        n->opt.max_connections = n->fd_limit > 128 ? n->fd_limit - 64 : n->fd_limit / 2;
    n->opt.max_per_address = opt->max_per_address > 0 ? opt->max_per_address : 0;
    n->opt.ping_secs = opt->ping_secs;
    n->opt.hangup_secs = opt->hangup_secs;
}

void net_reconfigure(net *n, const net_options *opt)
{
    set_limits(n, opt);
    set_origins(n, opt, net_port(n));
    set_proxies(n, opt);
}

/* Loads cert and key into ctx; the caller checks them on a scratch SSL_CTX first. */
static int load_cert(SSL_CTX *ctx, const char *cert, const char *key)
{
    return SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 &&
                   SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 &&
                   SSL_CTX_check_private_key(ctx) == 1
               ? 0
               : -1;
}

int net_reload_tls(net *n, char *err, size_t errlen)
{
    if (!n->ssl_ctx || !n->opt.tls_cert || !n->opt.tls_key) {
        snprintf(err, errlen, "TLS is not in use");
        return -1;
    }
    ERR_clear_error();
    SSL_CTX *scratch = SSL_CTX_new(TLS_server_method());
    int rc = scratch ? load_cert(scratch, n->opt.tls_cert, n->opt.tls_key) : -1;
    if (rc == 0)
        rc = load_cert(n->ssl_ctx, n->opt.tls_cert, n->opt.tls_key);
    if (rc != 0) {
        unsigned long e = ERR_peek_last_error();
        snprintf(err, errlen, "cannot load the TLS certificate %s with key %s: %s", n->opt.tls_cert,
                 n->opt.tls_key, e ? ERR_reason_error_string(e) : "out of memory");
    }
    SSL_CTX_free(scratch);
    ERR_clear_error();
    return rc;
}

/* Fills info for a listening vhost on iface:port. */
static void vhost_info(struct lws_context_creation_info *info, net *n, const char *name,
                       const char *iface, int port)
{
    memset(info, 0, sizeof *info);
    info->vhost_name = name;
    info->options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                    LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                    LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                    LWS_SERVER_OPTION_EXPLICIT_VHOSTS; /* security headers: ours */
    if (!strchr(iface, ':'))
        info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (!n->direct)
        info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info->port = port;
    info->iface = iface;
    info->protocols = protocols;
    info->user = n;
    info->retry_and_idle_policy = &n->retry;
    info->timeout_secs = 20;
}

int net_start(net **out, uv_loop_t *loop, const net_options *opt, const net_callbacks *cb,
              char *err, size_t errlen)
{
    *out = NULL;
    char metrics_host[64] = "";
    int metrics_port = 0;
    if (opt->metrics_bind && net_split_host_port(opt->metrics_bind, metrics_host,
                                                 sizeof metrics_host, &metrics_port) != 0) {
        snprintf(err, errlen, "--metrics-bind wants ADDR:PORT, got '%s'", opt->metrics_bind);
        return -1;
    }
    if (port_is_free(opt->bind, opt->port, err, errlen) != 0 ||
        (opt->metrics_bind && port_is_free(metrics_host, metrics_port, err, errlen) != 0))
        return -1;
    if (opt->tls_cert && access(opt->tls_cert, R_OK) != 0) {
        snprintf(err, errlen, "cannot read TLS certificate %s: %s", opt->tls_cert, strerror(errno));
        return -1;
    }
    if (opt->tls_key && access(opt->tls_key, R_OK) != 0) {
        snprintf(err, errlen, "cannot read TLS key %s: %s", opt->tls_key, strerror(errno));
        return -1;
    }

    net *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    n->loop = loop;
    n->opt = *opt;
    n->cb = *cb;
    if (!n->opt.max_pack_bytes)
        n->opt.max_pack_bytes = 65536;
    if (!n->opt.max_http_body)
        n->opt.max_http_body = 65536;
    if (opt->web_root && *opt->web_root && !(n->root = webroot_new(opt->web_root, WEBROOT_AUTO)))
        log_warn("web root %s: %s (static files are not served)", opt->web_root, strerror(errno));
    struct rlimit rl;
    int fd_limit = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        fd_limit =
            rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1 << 24) ? 1 << 24 : (int)rl.rlim_cur;
    n->fd_limit = fd_limit;
    n->direct = !(opt->tls_cert && opt->tls_key);
    set_limits(n, opt);
    set_proxies(n, opt);
    n->fd_refuse_at = fd_limit > 128 ? fd_limit - 32 : fd_limit - 8;
    n->hs_cap = fd_limit;
    n->hs_wsi = calloc((size_t)fd_limit, sizeof *n->hs_wsi);
    n->hs_deadline_s = calloc((size_t)fd_limit, sizeof *n->hs_deadline_s);
    if (!n->hs_wsi || !n->hs_deadline_s) {
        free(n->hs_wsi);
        free(n->hs_deadline_s);
        free(n->proxies);
        webroot_free(n->root);
        free(n);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* No lws validity timers (secs_since_valid_hangup 0 turns them off): idle_sweep does it. */
    n->retry.secs_since_valid_ping = 0;
    n->retry.secs_since_valid_hangup = 0;
    uv_timer_init(loop, &n->shutdown_timer);
    uv_timer_init(loop, &n->idle_timer);
    n->idle_timer.data = n;
    uv_idle_init(loop, &n->flush_idle);
    n->flush_idle.data = n;

    lws_set_log_level(getenv("FORUM_LWS_LOG") ? atoi(getenv("FORUM_LWS_LOG")) : LLL_ERR, NULL);

    /* The context, then one vhost per listener (the public one, and --metrics-bind's). */
    struct lws_context_creation_info info;
    vhost_info(&info, n, "default", opt->bind, CONTEXT_PORT_NO_LISTEN);
    void *foreign_loops[1] = {loop};
    info.foreign_loops = foreign_loops;
    info.pcontext = &n->alive;
    info.fd_limit_per_thread = (unsigned int)fd_limit;
    /* Header tables for handshakes in flight. When they run out, lws parks connections on a
     * waiting list that it walks on every attach and detach (O(waiters)), which made a
     * reconnect storm quadratic; lws allocates tables on demand and frees them when nobody
     * waits, so a large pool costs memory only during a storm. */
    info.max_http_header_pool = 4096;
    n->ctx = lws_create_context(&info);
    n->alive = n->ctx;
    if (n->ctx) {
        vhost_info(&info, n, "default", opt->bind, opt->port);
        if (opt->tls_cert && opt->tls_key) {
            info.ssl_cert_filepath = opt->tls_cert;
            info.ssl_private_key_filepath = opt->tls_key;
        }
        n->vhost = lws_create_vhost(n->ctx, &info);
    }
    if (n->vhost && opt->metrics_bind) {
        vhost_info(&info, n, "metrics", metrics_host, metrics_port);
        n->metrics_vhost = lws_create_vhost(n->ctx, &info);
    }
    if (!n->vhost || (opt->metrics_bind && !n->metrics_vhost)) {
        snprintf(err, errlen,
                 "cannot start the WebSocket server on %s:%d%s%s (libwebsockets "
                 "failed; is the libwebsockets-evlib-uv package installed?)",
                 opt->bind, opt->port, opt->metrics_bind ? " and " : "",
                 opt->metrics_bind ? opt->metrics_bind : "");
        if (n->ctx) {
            lws_context_destroy(n->ctx);
            uv_run(loop, UV_RUN_NOWAIT);
            if (n->alive)
                lws_context_destroy(n->ctx);
        }
        uv_close((uv_handle_t *)&n->shutdown_timer, NULL);
        uv_close((uv_handle_t *)&n->flush_idle, NULL);
        uv_close((uv_handle_t *)&n->idle_timer, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        free(n->hs_wsi);
        free(n->hs_deadline_s);
        free(n->proxies);
        webroot_free(n->root);
        free(n);
        return -1;
    }
    uv_timer_start(&n->idle_timer, idle_sweep, 1000, 1000);
    set_origins(n, opt, net_port(n));
    *out = n;
    return 0;
}

int net_port(const net *n)
{
    return n->vhost ? lws_get_vhost_listen_port(n->vhost) : -1;
}

int net_metrics_port(const net *n)
{
    return n->metrics_vhost ? lws_get_vhost_listen_port(n->metrics_vhost) : -1;
}

int net_capacity(const net *n)
{
    return n->opt.max_connections;
}

void net_get_stats(const net *n, net_stats *out)
{
    *out = n->stats;
}

static void shutdown_timeout(uv_timer_t *t)
{
    net *n = t->data;
    if (n->shutdown_done) {
        void (*done)(void *) = n->shutdown_done;
        n->shutdown_done = NULL;
        done(n->shutdown_arg);
    }
}

void net_shutdown(net *n, int timeout_ms, void (*done)(void *arg), void *arg)
{
    n->shutting_down = true;
    n->shutdown_done = done;
    n->shutdown_arg = arg;
    if (!n->conns) {
        n->shutdown_done = NULL;
        done(arg);
        return;
    }
    for (net_conn *c = n->conns; c; c = c->next)
        net_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
    n->shutdown_timer.data = n;
    uv_timer_start(&n->shutdown_timer, shutdown_timeout, (uint64_t)timeout_ms, 0);
}

void net_destroy(net *n)
{
    n->shutting_down = true;
    uv_timer_stop(&n->shutdown_timer);
    uv_close((uv_handle_t *)&n->shutdown_timer, NULL);
    uv_idle_stop(&n->flush_idle);
    uv_close((uv_handle_t *)&n->flush_idle, NULL);
    uv_timer_stop(&n->idle_timer);
    uv_close((uv_handle_t *)&n->idle_timer, NULL);
    n->n_dirty = n->dirty_pos = n->n_urgent = 0;
    if (n->ctx)
        lws_context_destroy(n->ctx); /* first stage: lws closes its handles on the loop */
}

void net_free(net *n)
{
    if (!n)
        return;
    /* Second stage, after the loop ran dry: lws frees the context (as its foreign-loop
     * example does) and clears n->alive. */
    if (n->ctx && n->alive)
        lws_context_destroy(n->ctx);
    n->ctx = NULL;
    for (size_t i = 0; i < n->n_origins; i++)
        free(n->origins[i]);
    free(n->origins);
    free(n->proxies);
    free(n->pack);
    free(n->dirty);
    free(n->urgent);
    free(n->hs_wsi);
    free(n->hs_deadline_s);
    webroot_free(n->root);
    for (size_t i = 0; i < 256; i++)
        while (n->peers[i]) {
            peer_entry *e = n->peers[i];
            n->peers[i] = e->next;
            free(e);
        }
    free(n);
}
