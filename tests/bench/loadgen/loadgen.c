/* loadgen — the forum benchmark's load generator.
 *
 * A minimal RFC 6455 client on epoll (handshake with subprotocol forum.v1 and a checked
 * Sec-WebSocket-Accept, masked client frames, fragment reassembly, ping -> pong) that speaks the
 * forum wire protocol (docs/protocol.md): a producer creates a programme and sessions over /ws,
 * moderators change what is on air and the panel, viewers say hello with random 128-bit device
 * tokens and receive events, submitters and voters write.
 *
 * Process layout: the parent does the setup, plays the producer and the moderators and
 * coordinates; viewers are spread over forked children (each well under the 20,000-descriptor
 * limit) and over source addresses 127.0.0.2, 127.0.0.3, ... (bound before connect, port chosen
 * at connect time: IP_BIND_ADDRESS_NO_PORT). Children and parent talk over pipes.
 *
 * Latency: every change carries a CLOCK_MONOTONIC stamp taken just before the request is
 * written: panel.set puts "t=<ns>" in the banner, the k-th onair.set records its stamp in a
 * shared memory table at index k (the k-th onair.changed a viewer reads answers it; the question
 * id is checked). A viewer reading panel.changed / onair.changed records receipt - stamp; the
 * changes a viewer never read count as lost. Request ids carry their send stamp too ("<letter><ns>"), so ack
 * latency needs no bookkeeping.
 *
 * Everything is bounded: a hard alarm ends the parent and its children (PDEATHSIG) whatever
 * happens. Output: one summary line and one JSON record (a line starting with '{') per
 * scenario record, also appended to --json-out.
 *
 * Scenarios (see usage()):
 *   fanout     N viewers on one session; phases at each rate R: change latency, deliveries/s,
 *              server CPU and RSS; also prints an "idle" record (server RSS per idle viewer).
 *   submit     fan-out at --fan-rate on N viewers while M submitters write questions into
 *              premoderated sessions: "storm" (window of W outstanding per submitter, as fast as
 *              acks come back) and "paced:X" (X questions/s in total): acks/s, ack latency.
 *   vote       N viewers vote on Q published questions as fast as acks and the per-viewer vote
 *              limit allow: votes acknowledged/s (= persisted: acks follow commit), the
 *              coalesced votes.changed rate per viewer, and a check of the stored counts.
 *   reconnect  N viewers watch at R changes/s, all drop at once, miss changes, and reconnect at
 *              once with resume_from: time until all have caught up, and changes missed or
 *              received twice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wsutil.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* ---- options ------------------------------------------------------------------------------ */
typedef struct opts {
    const char *scenario;
    const char *host;
    int port;
    const char *producer_key;
    int viewers;
    int procs;            /* viewer processes; 0 = one per 5000 viewers */
    int rates[8], nrates;
    double duration;      /* seconds per measured phase */
    double drain;         /* seconds to wait after a phase for late deliveries */
    double settle;        /* seconds after all viewers are in, before the idle RSS reading */
    int src_first;        /* first source address 127.0.0.<src_first> for viewers */
    int per_src;          /* viewers per source address */
    int connect_window;   /* handshakes in flight per process while joining */
    int reconnect_window; /* same, for the reconnect storm (0 = all at once) */
    pid_t server_pid;
    pid_t server_pids[8];  /* --server-pid A,B,C: figures are summed over the processes */
    int n_server_pids;
    int vports[8];         /* --viewer-ports: viewers spread over these (cluster nodes) */
    int n_vports;
    const char *server_name;
    const char *json_out;
    int timeout_s;
    int air_questions;    /* questions the moderators cycle on air */
    const char *mix;      /* "alt" (panel.set and onair.set alternately) or "panel" */
    int submitters, storm_sessions, window, fan_rate;
    char phases[128];
    const char *sync_label;
    int vote_questions;
    double vote_rate;     /* per viewer per second (the server allows 10) */
    double drop_s;        /* reconnect: seconds offline */
    double catchup_timeout;
    int strict;
} opts;

static opts O = {
    .scenario = NULL, .host = "127.0.0.1", .port = 0, .viewers = 1000, .procs = 0,
    .duration = 5, .drain = 3, .settle = 1, .src_first = 2, .per_src = 2500,
    .connect_window = 256, .reconnect_window = 0, .server_name = "forum", .timeout_s = 0,
    .air_questions = 20, .mix = "alt", .submitters = 1000, .storm_sessions = 16, .window = 1,
    .fan_rate = 5, .phases = "storm", .sync_label = "", .vote_questions = 40, .vote_rate = 9.5,
    .drop_s = 1.0, .catchup_timeout = 20, .strict = 0,
};

/* ---- connections -------------------------------------------------------------------------- */
enum { ST_IDLE = 0, ST_CONNECTING, ST_UPGRADING, ST_HELLO, ST_READY, ST_CLOSED };
enum { R_VIEWER = 1, R_SUBMIT, R_VOTER, R_STAFF, R_PIPE };

typedef struct conn {
    int fd;
    uint8_t st, role, reconnecting, caught;
    uint8_t counted_inflight, want_out, closing, pad;
    uint32_t gidx;           /* global index: token, source address */
    uint32_t src;            /* last octet of the source address */
    char *in;  uint32_t in_len, in_cap;   /* unparsed bytes */
    char *fr;  uint32_t fr_len, fr_cap;   /* fragmented message being reassembled */
    char *out; uint32_t out_len, out_off; /* unwritten bytes */
    int64_t last_seq, target_seq;
    int64_t t_next;          /* voters: next vote not before */
    uint32_t outstanding, done; /* requests in flight; votes done */
    uint32_t ctr;
    uint32_t onair_k;        /* onair.changed events seen since the first change */
    int64_t last_stamp;      /* newest panel.changed stamp seen (duplicates, order) */
    const char *session;     /* join code (viewers) */
    char key[25];            /* Sec-WebSocket-Key */
    /* staff only */
    char *hello;             /* hello JSON */
    char wait_id[32];
    char *reply;
    int child;               /* R_PIPE: child number */
} conn;

/* ---- results ------------------------------------------------------------------------------ */
typedef struct res {
    uint64_t ready, failed, hello_err, closed, events, frames, bytes, dups, errors;
    uint64_t rate_limited, samples, acks, vchanged, caught, fresh, resumed, dropped, sent;
    uint64_t acks_total, voters_done, inflight;
    int64_t last_caught_ns;
    double cpu_s;
    hist lat, ack, catchup, onair;
} res;

static void res_merge(res *a, const res *b)
{
    a->ready += b->ready; a->failed += b->failed; a->hello_err += b->hello_err;
    a->closed += b->closed; a->events += b->events; a->frames += b->frames; a->bytes += b->bytes;
    a->dups += b->dups; a->errors += b->errors;
    a->rate_limited += b->rate_limited; a->samples += b->samples; a->acks += b->acks;
    a->vchanged += b->vchanged; a->caught += b->caught; a->fresh += b->fresh;
    a->resumed += b->resumed; a->dropped += b->dropped; a->sent += b->sent;
    a->acks_total += b->acks_total; a->voters_done += b->voters_done;
    a->inflight += b->inflight;
    if (b->last_caught_ns > a->last_caught_ns) a->last_caught_ns = b->last_caught_ns;
    a->cpu_s += b->cpu_s;
    h_merge(&a->lat, &b->lat); h_merge(&a->ack, &b->ack); h_merge(&a->catchup, &b->catchup);
    h_merge(&a->onair, &b->onair);
}

/* ---- process-wide state ------------------------------------------------------------------- */
#define SHM_SLOTS 65536
static volatile int64_t *SHM;   /* onair stamps by question id, shared by all processes */
static int EPFD = -1;
static char RBUF[1 << 18];
static uint64_t SALT;
static int IS_CHILD;
static int CHILD_NO;
static res R;                   /* current phase, this process */
static int64_t PH_T0, PH_T1;    /* current phase window (stamps/receipts inside count) */
static int PH_MODE;             /* child: 0 none, 1 storm, 2 paced, 3 vote */
static double PH_ARG;
static int64_t T_RECONNECT;
static int INFLIGHT, WINDOW;
static conn **PENDING; static size_t PEND_HEAD, PEND_LEN, PEND_CAP;
static int ERR_SHOWN;

/* parent-side bookkeeping */
static int64_t *QIDS; static int NQIDS;      /* questions created for on-air / votes */
static char FAN_CODE[16], FAN_KEY[64];
static char (*STORM_CODES)[16];
static uint64_t M_CHANGES, M_OFFERED, M_ERRORS; /* changes sent in the window, events they make, refusals */
static hist M_ACK;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen%s: ", IS_CHILD ? " (child)" : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void note_error(const char *what, const char *o, const char *e)
{
    if (ERR_SHOWN >= 5)
        return;
    ERR_SHOWN++;
    int n = (int)(e - o);
    if (n > 300) n = 300;
    fprintf(stderr, "loadgen: %s: %.*s\n", what, n, o);
}

static void ep_set(conn *c, bool want_out)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0),
                             .data.ptr = c};
    epoll_ctl(EPFD, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want_out;
}

static void conn_reset_buffers(conn *c)
{
    free(c->in); c->in = NULL; c->in_len = c->in_cap = 0;
    free(c->fr); c->fr = NULL; c->fr_len = c->fr_cap = 0;
    free(c->out); c->out = NULL; c->out_len = c->out_off = 0;
}

static void inflight_done(conn *c)
{
    if (c->counted_inflight) {
        c->counted_inflight = 0;
        INFLIGHT--;
    }
}

/* Closes c. by_us: we decided (drop, end); else the server or the network did. */
static void conn_close(conn *c, bool by_us)
{
    if (c->fd < 0)
        return;
    if (!by_us) {
        if (c->st == ST_READY)
            R.closed++;
        else
            R.failed++;
    }
    close(c->fd);
    c->fd = -1;
    c->st = ST_CLOSED;
    inflight_done(c);
    conn_reset_buffers(c);
}

static void conn_write(conn *c, const void *data, size_t n)
{
    if (c->fd < 0)
        return;
    if (c->out_len == c->out_off) {
        c->out_len = c->out_off = 0;
        ssize_t w = write(c->fd, data, n);
        if (w == (ssize_t)n)
            return;
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                conn_close(c, false);
                return;
            }
            w = 0;
        }
        data = (const char *)data + w;
        n -= (size_t)w;
    }
    c->out = realloc(c->out, c->out_len + n);
    memcpy(c->out + c->out_len, data, n);
    c->out_len += (uint32_t)n;
    if (!c->want_out)
        ep_set(c, true);
}

static uint64_t RNG = 0x1234567;
static void ws_send(conn *c, int opcode, const char *p, size_t n)
{
    char stackbuf[2048];
    size_t need = n + 14;
    char *buf = need <= sizeof stackbuf ? stackbuf : malloc(need);
    size_t h = 0;
    buf[h++] = (char)(0x80 | opcode);
    if (n < 126) {
        buf[h++] = (char)(0x80 | n);
    } else if (n < 65536) {
        buf[h++] = (char)(0x80 | 126);
        buf[h++] = (char)(n >> 8);
        buf[h++] = (char)n;
    } else {
        buf[h++] = (char)(0x80 | 127);
        for (int i = 7; i >= 0; i--)
            buf[h++] = (char)((uint64_t)n >> (8 * i));
    }
    uint32_t mask = (uint32_t)splitmix64(&RNG);
    unsigned char mk[4];
    memcpy(mk, &mask, 4);
    memcpy(buf + h, mk, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        buf[h + i] = (char)(p[i] ^ mk[i & 3]);
    conn_write(c, buf, h + n);
    if (buf != stackbuf)
        free(buf);
}
static void ws_text(conn *c, const char *s) { ws_send(c, 1, s, strlen(s)); }

static void token_for(uint32_t gidx, char out[33])
{
    uint64_t s = SALT ^ ((uint64_t)gidx * 0xD6E8FEB86659FD93ULL);
    uint64_t a = splitmix64(&s), b = splitmix64(&s);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* ---- connecting --------------------------------------------------------------------------- */
static void conn_start(conn *c)
{
    conn_reset_buffers(c);
    c->st = ST_CONNECTING;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        R.failed++;
        c->st = ST_CLOSED;
        if (ERR_SHOWN++ < 5) perror("loadgen: socket");
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
    src.sin_addr.s_addr = htonl((127u << 24) | (c->src & 0xFFFFFF));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
        if (ERR_SHOWN++ < 5) perror("loadgen: bind");
        close(fd);
        R.failed++;
        c->st = ST_CLOSED;
        return;
    }
    int port = O.port;
    if (O.n_vports > 0 && c->role != R_STAFF)
        port = O.vports[c->gidx % (uint32_t)O.n_vports];
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, O.host, &dst.sin_addr);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS) {
        if (ERR_SHOWN++ < 5) perror("loadgen: connect");
        close(fd);
        R.failed++;
        c->st = ST_CLOSED;
        return;
    }
    c->fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c};
    epoll_ctl(EPFD, EPOLL_CTL_ADD, fd, &ev);
    c->want_out = 1;
    c->counted_inflight = 1;
    INFLIGHT++;
}

static void queue_connect(conn *c)
{
    if (PEND_LEN == PEND_CAP) {
        size_t cap = PEND_CAP ? PEND_CAP * 2 : 1024;
        conn **p = malloc(cap * sizeof *p);
        for (size_t i = 0; i < PEND_LEN; i++)
            p[i] = PENDING[(PEND_HEAD + i) % PEND_CAP];
        free(PENDING);
        PENDING = p;
        PEND_HEAD = 0;
        PEND_CAP = cap;
    }
    PENDING[(PEND_HEAD + PEND_LEN) % PEND_CAP] = c;
    PEND_LEN++;
}

static void open_pending(void)
{
    while (PEND_LEN > 0 && (WINDOW <= 0 || INFLIGHT < WINDOW)) {
        conn *c = PENDING[PEND_HEAD];
        PEND_HEAD = (PEND_HEAD + 1) % PEND_CAP;
        PEND_LEN--;
        conn_start(c);
    }
}

static void send_upgrade(conn *c)
{
    unsigned char raw[16];
    uint64_t a = splitmix64(&RNG), b = splitmix64(&RNG);
    memcpy(raw, &a, 8);
    memcpy(raw + 8, &b, 8);
    base64(raw, 16, c->key);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: forum.v1\r\n\r\n",
                     O.host, O.port, c->key);
    c->st = ST_UPGRADING;
    conn_write(c, req, (size_t)n);
}

static void send_hello(conn *c)
{
    char buf[512];
    if (c->role == R_STAFF) {
        ws_text(c, c->hello);
    } else {
        char tok[33];
        token_for(c->gidx, tok);
        if (c->reconnecting && c->last_seq >= 0)
            snprintf(buf, sizeof buf,
                     "{\"type\":\"hello\",\"id\":\"h\",\"session\":\"%s\",\"role\":\"viewer\","
                     "\"token\":\"%s\",\"resume_from\":%lld}",
                     c->session, tok, (long long)c->last_seq);
        else
            snprintf(buf, sizeof buf,
                     "{\"type\":\"hello\",\"id\":\"h\",\"session\":\"%s\",\"role\":\"viewer\","
                     "\"token\":\"%s\"}",
                     c->session, tok);
        ws_text(c, buf);
    }
    c->st = ST_HELLO;
}

/* Case-insensitive search for a header value in an HTTP response head. */
static bool header_is(const char *head, size_t n, const char *name, const char *value)
{
    size_t nl = strlen(name);
    for (const char *p = head; p && p < head + n;) {
        const char *eol = memmem(p, (size_t)(head + n - p), "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && *v == ' ') v++;
            return (size_t)(eol - v) == strlen(value) && strncmp(v, value, (size_t)(eol - v)) == 0;
        }
        p = eol + 2;
    }
    return false;
}

/* ---- message handling --------------------------------------------------------------------- */
enum { K_TYPE, K_SEQ, K_KIND, K_RE, K_RESUMED, K_CODE, K_PANEL, K_QID, K_RETRY, NK };
static const char *const KEYS[NK] = {"type", "seq", "kind", "re", "resumed", "code", "panel",
                                     "question_id", "retry_after_ms"};

static void caught_up(conn *c, int64_t now)
{
    if (c->caught)
        return;
    c->caught = 1;
    R.caught++;
    h_add(&R.catchup, now - T_RECONNECT);
    if (now > R.last_caught_ns)
        R.last_caught_ns = now;
}

static void child_on_ready(conn *c, int64_t now);
static void child_on_reply(conn *c, jspan *v, const char *o, const char *e, int64_t now, bool ok);
static void staff_on_reply(conn *c, jspan *v, const char *o, const char *e, int64_t now, bool ok);

static void on_event(conn *c, jspan *v, int64_t now)
{
    int64_t seq = js_int(v[K_SEQ], -1);
    bool in_window = now >= PH_T0 && now < PH_T1;
    if (seq > c->last_seq)
        c->last_seq = seq;
    if (c->role == R_VIEWER || c->role == R_VOTER) {
        if (in_window)
            R.events++;
        jspan k = v[K_KIND];
        int64_t stamp = -1;
        bool onair = false;
        if (js_is(k, "panel.changed") && v[K_PANEL].p) {
            static const char *const bk[] = {"banner"};
            jspan b;
            if (js_fields(v[K_PANEL].p, v[K_PANEL].e, bk, 1, &b) == 0 && b.p &&
                b.e - b.p > 4 && b.p[1] == 't' && b.p[2] == '=')
                stamp = strtoll(b.p + 3, NULL, 10);
        } else if (js_is(k, "onair.changed") && NQIDS > 0) {
            /* the k-th onair.change of the session answers the moderator's k-th onair.set,
             * which put QIDS[k % NQIDS] on air and stored its stamp in SHM[k] */
            int64_t q = js_int(v[K_QID], -1);
            int skip = 0;
            while (skip < 8 && QIDS[(c->onair_k + skip) % (uint32_t)NQIDS] != q) skip++;
            if (skip == 8) {
                R.errors++;
                if (ERR_SHOWN++ < 5)
                    fprintf(stderr, "loadgen: unexpected onair.changed for question %lld\n",
                            (long long)q);
            } else {
                c->onair_k += (uint32_t)skip;
                stamp = SHM[c->onair_k & (SHM_SLOTS - 1)];
                c->onair_k++;
                onair = true;
            }
        } else if (js_is(k, "votes.changed")) {
            if (in_window)
                R.vchanged++;
        }
        if (stamp > 0 && !onair) {
            if (stamp <= c->last_stamp) R.dups++;
            else c->last_stamp = stamp;
        }
        if (stamp > 0 && stamp >= PH_T0 && stamp < PH_T1) {
            h_add(&R.lat, now - stamp);
            if (onair) h_add(&R.onair, now - stamp);
            R.samples++;
        }
        if (c->reconnecting && !c->caught && c->target_seq > 0 && c->last_seq >= c->target_seq)
            caught_up(c, now);
    }
}

static void on_object(conn *c, const char *o, const char *e, int64_t now)
{
    jspan v[NK];
    /* fast path: type, seq and kind come first in events; read the payload only when needed */
    if (js_fields_n(o, e, KEYS, NK, v, 3) != 0) {
        R.errors++;
        note_error("unparsable message", o, e);
        return;
    }
    if (js_is(v[K_TYPE], "event") && v[K_KIND].p) {
        if (!v[K_PANEL].p && !v[K_QID].p &&
            (js_is(v[K_KIND], "panel.changed") || js_is(v[K_KIND], "onair.changed"))) {
            const char *rest = v[K_KIND].e;
            static const char *const pk[] = {"panel", "question_id"};
            jspan pv[2];
            /* the members after "kind" (js_fields_n needs an object: scan them as one) */
            const char *q = js_ws(rest, e);
            pv[0].p = pv[1].p = NULL;
            if (q < e && *q == ',')
                js_members(q + 1, e, pk, 2, pv, 1);
            v[K_PANEL] = pv[0];
            v[K_QID] = pv[1];
        }
    } else if (js_fields(o, e, KEYS, NK, v) != 0) {
        R.errors++;
        note_error("unparsable message", o, e);
        return;
    }
    if (js_is(v[K_TYPE], "event")) {
        on_event(c, v, now);
    } else if (js_is(v[K_TYPE], "welcome")) {
        int64_t seq = js_int(v[K_SEQ], 0);
        bool resumed = v[K_RESUMED].p && *v[K_RESUMED].p == 't';
        c->st = ST_READY;
        inflight_done(c);
        R.ready++;
        if (c->reconnecting) {
            if (resumed) {
                R.resumed++;
                c->target_seq = seq;
                if (c->last_seq >= seq)
                    caught_up(c, now);
            } else {
                R.fresh++;
                c->last_seq = seq;
                caught_up(c, now);
            }
        } else {
            c->last_seq = seq;
        }
        if (c->role == R_STAFF) {
            if (c->wait_id[0] && strcmp(c->wait_id, "h") == 0)
                c->reply = strndup(o, (size_t)(e - o));
        } else {
            child_on_ready(c, now);
        }
    } else if (js_is(v[K_TYPE], "ack") || js_is(v[K_TYPE], "error")) {
        bool ok = js_is(v[K_TYPE], "ack");
        char re[48];
        js_str(v[K_RE], re, sizeof re);
        if (!ok && strcmp(re, "h") == 0) {
            R.hello_err++;
            note_error("hello refused", o, e);
            if (c->role == R_STAFF && c->wait_id[0])
                c->reply = strndup(o, (size_t)(e - o));
            conn_close(c, true);
            inflight_done(c);
            return;
        }
        if (c->role == R_STAFF)
            staff_on_reply(c, v, o, e, now, ok);
        else
            child_on_reply(c, v, o, e, now, ok);
    }
}

static void on_message(conn *c, const char *p, size_t n, int64_t now)
{
    const char *e = p + n;
    p = js_ws(p, e);
    if (p < e && *p == '[') {
        p++;
        for (;;) {
            p = js_ws(p, e);
            if (p >= e || *p == ']') break;
            const char *end = js_skip(p, e);
            if (!end) { R.errors++; note_error("bad array", p, e); break; }
            on_object(c, p, end, now);
            if (c->fd < 0) return;
            p = js_ws(end, e);
            if (p < e && *p == ',') p++;
        }
    } else if (p < e) {
        on_object(c, p, e, now);
    }
}

/* Parses frames in data[0..len); returns the bytes consumed. */
static size_t parse_frames(conn *c, const char *data, size_t len, int64_t now)
{
    size_t off = 0;
    while (c->fd >= 0 && len - off >= 2) {
        const unsigned char *h = (const unsigned char *)data + off;
        uint64_t plen = h[1] & 0x7f;
        size_t hdr = 2;
        if (plen == 126) {
            if (len - off < 4) break;
            plen = (uint64_t)h[2] << 8 | h[3];
            hdr = 4;
        } else if (plen == 127) {
            if (len - off < 10) break;
            plen = 0;
            for (int i = 0; i < 8; i++) plen = plen << 8 | h[2 + i];
            hdr = 10;
        }
        if (h[1] & 0x80) { /* servers never mask */
            R.errors++;
            note_error("masked server frame", data + off, data + len);
            conn_close(c, false);
            break;
        }
        if (len - off < hdr + plen) break;
        const char *pl = data + off + hdr;
        int opcode = h[0] & 0x0f, fin = h[0] & 0x80;
        off += hdr + plen;
        if (opcode == 1 || opcode == 0) {
            bool in_window = now >= PH_T0 && now < PH_T1;
            if (opcode == 1 && fin && c->fr_len == 0) {
                if (in_window) { R.frames++; R.bytes += plen; }
                on_message(c, pl, (size_t)plen, now);
            } else {
                if (c->fr_len + plen > c->fr_cap) {
                    c->fr_cap = (uint32_t)(c->fr_len + plen) * 2;
                    c->fr = realloc(c->fr, c->fr_cap);
                }
                memcpy(c->fr + c->fr_len, pl, plen);
                c->fr_len += (uint32_t)plen;
                if (fin) {
                    if (in_window) { R.frames++; R.bytes += c->fr_len; }
                    on_message(c, c->fr, c->fr_len, now);
                    c->fr_len = 0;
                }
            }
        } else if (opcode == 9) {
            ws_send(c, 0xA, pl, (size_t)plen);
        } else if (opcode == 8) {
            if (c->closing) {
                conn_close(c, true);
            } else {
                if (plen >= 2)
                    note_error("server closed the connection", pl + 2, pl + plen);
                ws_send(c, 8, pl, plen >= 2 ? 2 : 0);
                conn_close(c, false);
            }
        }
    }
    return off;
}

/* Handles the bytes at data: handshake reply, then frames. Returns bytes consumed. */
static size_t consume(conn *c, const char *data, size_t len, int64_t now)
{
    size_t off = 0;
    if (c->st == ST_UPGRADING) {
        const char *eoh = memmem(data, len, "\r\n\r\n", 4);
        if (!eoh) {
            if (len > 8192) { note_error("handshake reply too long", data, data + 200); conn_close(c, false); }
            return 0;
        }
        size_t hl = (size_t)(eoh - data) + 4;
        char accept[29];
        ws_accept_for(c->key, accept);
        if (len < 12 || memcmp(data, "HTTP/1.1 101", 12) != 0 ||
            !header_is(data, hl, "Sec-WebSocket-Accept", accept) ||
            !header_is(data, hl, "Sec-WebSocket-Protocol", "forum.v1")) {
            note_error("bad handshake reply", data, data + (hl < 300 ? hl : 300));
            conn_close(c, false);
            return len;
        }
        off = hl;
        send_hello(c);
    }
    if (c->fd >= 0 && c->st >= ST_HELLO)
        off += parse_frames(c, data + off, len - off, now);
    return off;
}

static void on_readable(conn *c, int64_t now)
{
    for (int rounds = 0; rounds < 8 && c->fd >= 0; rounds++) {
        ssize_t n;
        size_t cap;
        if (c->in_len) {
            if (c->in_cap - c->in_len < 65536) {
                c->in_cap = c->in_len + 131072;
                c->in = realloc(c->in, c->in_cap);
            }
            cap = c->in_cap - c->in_len;
            n = read(c->fd, c->in + c->in_len, cap);
        } else {
            cap = sizeof RBUF;
            n = read(c->fd, RBUF, cap);
        }
        if (n == 0) {
            conn_close(c, c->closing);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            conn_close(c, c->closing);
            return;
        }
        if (c->in_len) {
            c->in_len += (uint32_t)n;
            size_t used = consume(c, c->in, c->in_len, now);
            if (c->fd < 0) return;
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= (uint32_t)used;
            if (c->in_len == 0 && c->in_cap > 262144) {
                free(c->in); c->in = NULL; c->in_cap = 0;
            }
        } else {
            size_t used = consume(c, RBUF, (size_t)n, now);
            if (c->fd < 0) return;
            size_t left = (size_t)n - used;
            if (left) {
                if (c->in_cap < left + 65536) {
                    c->in_cap = (uint32_t)(left + 131072);
                    c->in = realloc(c->in, c->in_cap);
                }
                memcpy(c->in, RBUF + used, left);
                c->in_len = (uint32_t)left;
            }
        }
        if ((size_t)n < cap)
            return;
    }
}

static void on_writable(conn *c, int64_t now)
{
    (void)now;
    if (c->st == ST_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            if (ERR_SHOWN++ < 5) fprintf(stderr, "loadgen: connect: %s\n", strerror(err));
            conn_close(c, false);
            return;
        }
        ep_set(c, false);
        send_upgrade(c);
        return;
    }
    while (c->out_off < c->out_len) {
        ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            conn_close(c, false);
            return;
        }
        c->out_off += (uint32_t)w;
    }
    c->out_len = c->out_off = 0;
    ep_set(c, false);
}

static void on_pipe(conn *c);

static void loop_once(int timeout_ms)
{
    struct epoll_event ev[512];
    int n = epoll_wait(EPFD, ev, 512, timeout_ms);
    int64_t now = now_ns();
    for (int i = 0; i < n; i++) {
        conn *c = ev[i].data.ptr;
        if (c->role == R_PIPE) {
            on_pipe(c);
            continue;
        }
        if (c->fd < 0) continue;
        if (ev[i].events & EPOLLOUT) on_writable(c, now);
        if (c->fd < 0) continue;
        if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) on_readable(c, now);
    }
    open_pending();
}

/* ---- /proc readings ----------------------------------------------------------------------- */
static double proc_cpu_s(pid_t pid)
{
    if (pid <= 0) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_status_kib(pid_t pid, const char *field);

/* The server's CPU seconds and RSS: summed over every --server-pid (several cluster nodes). */
static double server_cpu_s(void)
{
    double t = 0;
    for (int i = 0; i < O.n_server_pids; i++) t += proc_cpu_s(O.server_pids[i]);
    return t;
}

static long server_rss_kib(void)
{
    long t = 0;
    for (int i = 0; i < O.n_server_pids; i++) t += proc_status_kib(O.server_pids[i], "VmRSS");
    return t;
}

static long proc_status_kib(pid_t pid, const char *field)
{
    if (pid <= 0) return 0;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long v = 0;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* A TcpExt counter from /proc/net/netstat (system-wide), e.g. ListenOverflows; -1 if absent. */
static long long tcpext(const char *name)
{
    FILE *f = fopen("/proc/net/netstat", "r");
    if (!f) return -1;
    char names[8192], vals[8192];
    long long v = -1;
    while (fgets(names, sizeof names, f) && fgets(vals, sizeof vals, f)) {
        if (strncmp(names, "TcpExt:", 7) != 0) continue;
        char *sn = NULL, *sv = NULL;
        char *n = strtok_r(names, " \n", &sn), *x = strtok_r(vals, " \n", &sv);
        while (n && x) {
            if (strcmp(n, name) == 0) { v = atoll(x); break; }
            n = strtok_r(NULL, " \n", &sn);
            x = strtok_r(NULL, " \n", &sv);
        }
    }
    fclose(f);
    return v;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* ---- children ------------------------------------------------------------------------------ */
enum { CMD_START = 1, CMD_REPORT, CMD_DROP, CMD_RECONNECT, CMD_EXIT, CMD_QIDS };
enum { MSG_READY = 1, MSG_RESULT, MSG_CAUGHT };
typedef struct cmd { int32_t cmd, mode; int64_t t0, t1; double arg; } cmd;
typedef struct msghdr_ { int32_t type, child; } msghdr_;

static conn *CV;            /* child: its connections */
static int NCV;
static int CTRL_IN = -1, RES_OUT = -1;
static int READY_SENT, RESULT_SENT;
static double CPU_AT_START;
static int64_t PACE_SENT;   /* paced submissions sent in this phase */
static int PACE_CURSOR;
static int64_t LAST_SWEEP;
static int64_t CATCHUP_DEADLINE;

static void write_all(int fd, const void *p, size_t n)
{
    const char *q = p;
    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            _exit(4);
        }
        q += w;
        n -= (size_t)w;
    }
}
static int read_all(int fd, void *p, size_t n)
{
    char *q = p;
    while (n > 0) {
        ssize_t r = read(fd, q, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        q += r;
        n -= (size_t)r;
    }
    return 0;
}

static void child_send(int type)
{
    msghdr_ h = {type, CHILD_NO};
    extern double child_cpu_window(void);
    R.cpu_s = child_cpu_window();
    write_all(RES_OUT, &h, sizeof h);
    write_all(RES_OUT, &R, sizeof R);
}

static void submit_one(conn *c, int64_t now)
{
    char buf[256];
    c->ctr++;
    snprintf(buf, sizeof buf,
             "{\"type\":\"question.submit\",\"id\":\"s%lld-%u\",\"text\":\"Bench question %u from "
             "viewer %u: how will the plan reach every district?\"}",
             (long long)now, c->ctr, c->ctr, c->gidx);
    c->outstanding++;
    if (now >= PH_T0 && now < PH_T1) R.sent++;
    ws_text(c, buf);
}

static void vote_one(conn *c, int64_t now)
{
    if (c->done >= (uint32_t)NQIDS) return;
    int64_t q = QIDS[(c->gidx * 7 + c->done) % (uint32_t)NQIDS];
    char buf[160];
    snprintf(buf, sizeof buf, "{\"type\":\"vote.add\",\"id\":\"v%lld\",\"question_id\":%lld}",
             (long long)now, (long long)q);
    c->outstanding++;
    c->t_next = now + (int64_t)(1e9 / O.vote_rate);
    if (now >= PH_T0 && now < PH_T1) R.sent++;
    ws_text(c, buf);
}

static void child_on_ready(conn *c, int64_t now)
{
    if (c->role == R_SUBMIT && PH_MODE == 1 && now < PH_T1)
        for (int i = 0; i < O.window; i++) submit_one(c, now);
}

static void child_on_reply(conn *c, jspan *v, const char *o, const char *e, int64_t now, bool ok)
{
    char re[48];
    js_str(v[K_RE], re, sizeof re);
    if (c->outstanding) c->outstanding--;
    int64_t sent = re[0] ? strtoll(re + 1, NULL, 10) : 0;
    if (ok) {
        R.acks_total++;
        if (sent >= PH_T0 && sent < PH_T1) {
            R.acks++;
            h_add(&R.ack, now - sent);
        }
        if (c->role == R_VOTER) {
            c->done++;
            if (c->done == (uint32_t)NQIDS) R.voters_done++;
        }
    } else if (js_is(v[K_CODE], "rate_limited")) {
        R.rate_limited++;
        int64_t retry = js_int(v[K_RETRY], 100);
        if (c->role == R_VOTER) c->t_next = now + retry * 1000000;
        if (c->role == R_SUBMIT) c->t_next = now + retry * 1000000;
        return;
    } else {
        R.errors++;
        note_error("request failed", o, e);
        if (c->role == R_VOTER) c->done++; /* skip that question */
    }
    if (c->role == R_SUBMIT && PH_MODE == 1 && now < PH_T1 && c->fd >= 0)
        submit_one(c, now);
}

static double CPU_WIN;
static int CPU_T0_TAKEN;
double child_cpu_window(void)
{
    return CPU_WIN >= 0 ? CPU_WIN : self_cpu_s() - CPU_AT_START;
}

/* join: children count what they receive from their first byte (set before they fork) */
static bool COUNT_WELCOMES;

static void child_reset_phase(void)
{
    memset(&R, 0, sizeof R);
    CPU_AT_START = self_cpu_s();
    CPU_WIN = -1;
    CPU_T0_TAKEN = 0;
    PACE_SENT = 0;
}

static void on_pipe(conn *pc)
{
    if (!IS_CHILD) {
        /* parent: a child's message */
        msghdr_ h;
        if (read_all(pc->fd, &h, sizeof h) != 0) {
            fprintf(stderr, "loadgen: viewer process %d ended unexpectedly\n", pc->child);
            epoll_ctl(EPFD, EPOLL_CTL_DEL, pc->fd, NULL);
            close(pc->fd);
            pc->fd = -1;
            pc->st = ST_CLOSED;
            return;
        }
        res *r = malloc(sizeof *r);
        if (read_all(pc->fd, r, sizeof *r) != 0) die("short message from a viewer process");
        extern void parent_got(int child, int type, res *r);
        parent_got(h.child, h.type, r);
        return;
    }
    cmd c;
    if (read_all(pc->fd, &c, sizeof c) != 0)
        _exit(0); /* parent gone */
    int64_t now = now_ns();
    switch (c.cmd) {
    case CMD_START:
        child_reset_phase();
        PH_T0 = c.t0; PH_T1 = c.t1; PH_MODE = c.mode; PH_ARG = c.arg;
        PACE_CURSOR = 0;
        for (int i = 0; i < NCV; i++) CV[i].t_next = c.t0 + (int64_t)(i % 97) * 1000000;
        break;
    case CMD_REPORT:
        PH_MODE = 0;
        T_RECONNECT = 0;
        R.inflight = 0;
        for (int i = 0; i < NCV; i++)
            if (CV[i].fd >= 0) R.inflight += CV[i].outstanding;
        child_send(MSG_RESULT);
        child_reset_phase();
        break;
    case CMD_DROP:
        for (int i = 0; i < NCV; i++)
            if (CV[i].role == R_VIEWER && CV[i].fd >= 0) {
                conn_close(&CV[i], true);
                R.dropped++;
            }
        break;
    case CMD_RECONNECT:
        T_RECONNECT = c.t0;
        CATCHUP_DEADLINE = c.t1;
        RESULT_SENT = 0;
        WINDOW = O.reconnect_window;
        for (int i = 0; i < NCV; i++)
            if (CV[i].role == R_VIEWER) {
                CV[i].reconnecting = 1;
                CV[i].caught = 0;
                CV[i].target_seq = 0;
                queue_connect(&CV[i]);
            }
        open_pending();
        break;
    case CMD_QIDS: /* followed by the question ids */
        free(QIDS);
        NQIDS = (int)c.arg;
        QIDS = calloc((size_t)NQIDS + 1, sizeof *QIDS);
        if (read_all(pc->fd, QIDS, (size_t)NQIDS * sizeof *QIDS) != 0) _exit(0);
        break;
    case CMD_EXIT:
        _exit(0);
    }
    (void)now;
}

static void child_tick(int64_t now)
{
    if (PH_T1 > 0 && !CPU_T0_TAKEN && now >= PH_T0) {
        CPU_T0_TAKEN = 1;
        CPU_AT_START = self_cpu_s();
    }
    if (PH_T1 > 0 && CPU_WIN < 0 && now >= PH_T1)
        CPU_WIN = self_cpu_s() - CPU_AT_START;
    if (PH_MODE == 2 && now >= PH_T0 && now < PH_T1) {
        /* paced submissions: this child's share of PH_ARG per second */
        static int nsub = -1;
        if (nsub < 0) {
            nsub = 0;
            for (int i = 0; i < NCV; i++) if (CV[i].role == R_SUBMIT) nsub++;
        }
        double share = PH_ARG * (double)nsub / (double)O.submitters;
        int64_t due = (int64_t)((double)(now - PH_T0) / 1e9 * share);
        int guard = 0;
        while (PACE_SENT < due && guard++ < NCV) {
            conn *c = &CV[PACE_CURSOR];
            PACE_CURSOR = (PACE_CURSOR + 1) % NCV;
            if (c->role != R_SUBMIT || c->st != ST_READY || c->outstanding) continue;
            submit_one(c, now);
            PACE_SENT++;
        }
    }
    if ((PH_MODE == 3 || PH_MODE == 1) && now >= PH_T0 && now < PH_T1 &&
        now - LAST_SWEEP >= 1000000) {
        LAST_SWEEP = now;
        for (int i = 0; i < NCV; i++) {
            conn *c = &CV[i];
            if (c->st != ST_READY || c->outstanding || c->t_next > now) continue;
            if (PH_MODE == 3 && c->role == R_VOTER) vote_one(c, now);
            else if (PH_MODE == 1 && c->role == R_SUBMIT && c->t_next) {
                c->t_next = 0; /* resume after a rate_limited reply */
                submit_one(c, now);
            }
        }
    }
    if (!READY_SENT && PEND_LEN == 0 && INFLIGHT == 0) {
        READY_SENT = 1;
        child_send(MSG_READY);
    }
    if (T_RECONNECT && !RESULT_SENT) {
        uint64_t viewers = 0;
        for (int i = 0; i < NCV; i++) if (CV[i].role == R_VIEWER) viewers++;
        if (R.caught + R.failed + R.hello_err >= viewers || now > CATCHUP_DEADLINE) {
            RESULT_SENT = 1;
            child_send(MSG_CAUGHT); /* the full result follows on CMD_REPORT */
        }
    }
}

typedef struct child_spec { int lo_v, hi_v, lo_s, hi_s; int role_v; } child_spec;

static void child_main(int no, child_spec sp, int ctrl_in, int res_out)
{
    IS_CHILD = 1;
    CHILD_NO = no;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(0);
    CTRL_IN = ctrl_in;
    RES_OUT = res_out;
    RNG ^= (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL;
    EPFD = epoll_create1(EPOLL_CLOEXEC);
    conn *pc = calloc(1, sizeof *pc);
    pc->role = R_PIPE;
    pc->fd = ctrl_in;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = pc};
    epoll_ctl(EPFD, EPOLL_CTL_ADD, ctrl_in, &ev);
    NCV = (sp.hi_v - sp.lo_v) + (sp.hi_s - sp.lo_s);
    CV = calloc((size_t)NCV, sizeof *CV);
    int k = 0;
    for (int i = sp.lo_v; i < sp.hi_v; i++, k++) {
        CV[k].gidx = (uint32_t)i;
        CV[k].role = (uint8_t)sp.role_v;
        CV[k].session = FAN_CODE;
    }
    for (int i = sp.lo_s; i < sp.hi_s; i++, k++) {
        CV[k].gidx = (uint32_t)(O.viewers + i);
        CV[k].role = R_SUBMIT;
        CV[k].session = STORM_CODES[i % O.storm_sessions];
    }
    for (int i = 0; i < NCV; i++) {
        CV[i].fd = -1;
        CV[i].last_seq = -1;
        CV[i].src = (uint32_t)(O.src_first + CV[i].gidx / (uint32_t)O.per_src);
        queue_connect(&CV[i]);
    }
    child_reset_phase();
    if (!COUNT_WELCOMES)
        PH_T0 = PH_T1 = 0;
    WINDOW = O.connect_window;
    open_pending();
    for (;;) {
        int64_t now = now_ns();
        child_tick(now);
        bool busy = PH_MODE == 2 || PH_MODE == 3 || (PH_MODE == 1 && R.rate_limited);
        loop_once(busy ? 1 : 20);
    }
}

/* ---- parent: staff connections -------------------------------------------------------------- */
static int NCHILD;
static pid_t *CPIDS;
static int *CTRL_OUT;
static conn **CPIPES;
static res *GOT[3];          /* per type: merged */
static int GOT_N[4];

void parent_got(int child, int type, res *r)
{
    (void)child;
    if (type < 1 || type > 3) { free(r); return; }
    if (!GOT[type - 1]) { GOT[type - 1] = calloc(1, sizeof(res)); }
    res_merge(GOT[type - 1], r);
    GOT_N[type]++;
    free(r);
}

static void run_until_ns(int64_t deadline, bool (*done)(void *), void *arg)
{
    for (;;) {
        int64_t now = now_ns();
        if (now >= deadline || (done && done(arg))) return;
        int64_t ms = (deadline - now) / 1000000;
        loop_once(ms > 50 ? 50 : (int)ms);
    }
}

static bool has_reply(void *arg) { return ((conn *)arg)->reply != NULL || ((conn *)arg)->fd < 0; }

static double STAFF_WAIT_S = 10; /* how long a staff connection may take to get its welcome */

static conn *staff_open2(const char *session, const char *role, const char *token,
                         const char *name, char **welcome)
{
    conn *c = calloc(1, sizeof *c);
    c->role = R_STAFF;
    c->fd = -1;
    c->last_seq = -1;
    c->src = 1;
    char buf[512];
    char sess[40];
    if (session) snprintf(sess, sizeof sess, "\"%s\"", session);
    else snprintf(sess, sizeof sess, "null");
    snprintf(buf, sizeof buf,
             "{\"type\":\"hello\",\"id\":\"h\",\"session\":%s,\"role\":\"%s\",\"token\":\"%s\""
             ",\"name\":\"%s\"}",
             sess, role, token, name);
    c->hello = strdup(buf);
    strcpy(c->wait_id, "h");
    conn_start(c);
    run_until_ns(now_ns() + (int64_t)(STAFF_WAIT_S * 1e9), has_reply, c);
    if (!c->reply || c->st != ST_READY)
        die("could not open a %s connection to %s:%d (%s)", role, O.host, O.port,
            c->reply ? c->reply : c->fd < 0 ? "the connection failed" : "no welcome in time");
    if (welcome) *welcome = c->reply;
    else free(c->reply);
    c->reply = NULL;
    c->wait_id[0] = 0;
    return c;
}

static conn *staff_open(const char *session, const char *role, const char *token,
                        const char *name)
{
    return staff_open2(session, role, token, name, NULL);
}

/* Sends {"type":type,"id":...<rest>} and waits for its reply; returns the reply (malloc'd),
 * dies on an error reply. */
static char *staff_req(conn *c, const char *type, const char *rest)
{
    static int n;
    snprintf(c->wait_id, sizeof c->wait_id, "w%d", ++n);
    size_t len = strlen(rest) + 128;
    char *buf = malloc(len);
    snprintf(buf, len, "{\"type\":\"%s\",\"id\":\"%s\"%s}", type, c->wait_id, rest);
    ws_text(c, buf);
    free(buf);
    run_until_ns(now_ns() + 15000000000LL, has_reply, c);
    if (!c->reply)
        die("no reply to %s within 15 s", type);
    char *r = c->reply;
    c->reply = NULL;
    c->wait_id[0] = 0;
    if (strncmp(r, "{\"type\":\"ack\"", 13) != 0 && !strstr(r, "\"type\":\"ack\""))
        die("%s failed: %s", type, r);
    return r;
}

static jspan field(const char *json, const char *key)
{
    jspan v;
    const char *k[1] = {key};
    js_fields(json, json + strlen(json), k, 1, &v);
    return v;
}

static void staff_on_reply(conn *c, jspan *v, const char *o, const char *e, int64_t now, bool ok)
{
    char re[48];
    js_str(v[K_RE], re, sizeof re);
    if (c->wait_id[0] && strcmp(re, c->wait_id) == 0) {
        c->reply = strndup(o, (size_t)(e - o));
        return;
    }
    if (c->outstanding) c->outstanding--;
    if (re[0] == 'q') { /* a question for the on-air cycle or the vote storm */
        if (!ok) { M_ERRORS++; note_error("question.submit failed", o, e); return; }
        static const char *const qk[] = {"question"};
        jspan q, id;
        static const char *const ik[] = {"id"};
        if (js_fields(o, e, qk, 1, &q) == 0 && q.p && js_fields(q.p, q.e, ik, 1, &id) == 0)
            QIDS[NQIDS++] = js_int(id, 0);
    } else if (re[0] == 't') { /* a change: "tP<ns>" panel, "tO<ns>" on air */
        int64_t sent = strtoll(re + 2, NULL, 10);
        bool in = sent >= PH_T0 && sent < PH_T1;
        if (!ok) {
            M_ERRORS++;
            note_error("change refused", o, e);
            if (in) { /* counted as sent: it will not reach anyone */
                M_CHANGES--;
                M_OFFERED -= re[1] == 'O' ? 3 : 1;
            }
            return;
        }
        if (in)
            h_add(&M_ACK, now - sent);
    }
}

static void staff_send(conn *c, const char *json)
{
    c->outstanding++;
    ws_text(c, json);
}

static bool all_idle(void *arg)
{
    conn **cs = arg;
    for (int i = 0; cs[i]; i++)
        if (cs[i]->outstanding && cs[i]->fd >= 0) return false;
    return true;
}

/* Creates n published questions through the staff connections (NULL-terminated list). */
static void make_questions(conn **staff, int n)
{
    QIDS = calloc((size_t)n + 1, sizeof *QIDS);
    NQIDS = 0;
    int ns = 0;
    while (staff[ns]) ns++;
    for (int i = 0; i < n;) {
        /* each connection may burst about 100 requests (the per-connection message limit) */
        int batch = 0;
        for (int s = 0; s < ns && i < n; s++)
            for (int b = 0; b < 80 && i < n; b++, i++, batch++) {
                char buf[256];
                snprintf(buf, sizeof buf,
                         "{\"type\":\"question.submit\",\"id\":\"q%d\",\"text\":\"Question %d "
                         "for the panel: what changes for us next year?\",\"source\":\"phone\","
                         "\"author\":\"Caller %d\"}",
                         i, i, i);
                staff_send(staff[s], buf);
            }
        run_until_ns(now_ns() + 20000000000LL, all_idle, staff);
        if (i < n) run_until_ns(now_ns() + 1700000000LL, NULL, NULL); /* let the buckets refill */
    }
    if (NQIDS < n) die("only %d of %d questions were created", NQIDS, n);
}

static conn *PROD;
static int64_t PROGRAM_ID;

static void setup_producer(void)
{
    PROD = staff_open(NULL, "producer", O.producer_key, "bench");
    char *r = staff_req(PROD, "program.create", ",\"title\":\"Benchmark\"");
    jspan p = field(r, "program");
    static const char *const ik[] = {"id"};
    jspan id;
    js_fields(p.p, p.e, ik, 1, &id);
    PROGRAM_ID = js_int(id, 0);
    free(r);
}

static void create_session(const char *title, bool premod, char code[16], char key[64])
{
    char rest[512];
    snprintf(rest, sizeof rest,
             ",\"program_id\":%lld,\"title\":\"%s\",\"topic\":\"load\",\"premoderation\":%s,"
             "\"question_rate_per_min\":1000,\"panelists\":[{\"name\":\"Li Wei\","
             "\"affiliation\":\"District office\"},{\"name\":\"Zhang Min\"}],"
             "\"segments\":[\"Opening\",\"Questions\"]",
             (long long)PROGRAM_ID, title, premod ? "true" : "false");
    char *r = staff_req(PROD, "session.create", rest);
    jspan s = field(r, "session"), k = field(r, "moderator_key");
    static const char *const ck[] = {"code"};
    jspan cv;
    js_fields(s.p, s.e, ck, 1, &cv);
    js_str(cv, code, 16);
    js_str(k, key, 64);
    free(r);
    snprintf(rest, sizeof rest, ",\"session\":\"%s\"", code);
    free(staff_req(PROD, "session.start", rest));
}

/* ---- parent: children ---------------------------------------------------------------------- */
static void spawn_children(int nv, int ns, int role_v)
{
    int total = nv + ns;
    NCHILD = O.procs > 0 ? O.procs : (total + 4999) / 5000;
    if (NCHILD < 1) NCHILD = 1;
    CPIDS = calloc((size_t)NCHILD, sizeof *CPIDS);
    CTRL_OUT = calloc((size_t)NCHILD, sizeof *CTRL_OUT);
    CPIPES = calloc((size_t)NCHILD, sizeof *CPIPES);
    fflush(NULL);
    for (int k = 0; k < NCHILD; k++) {
        int ctl[2], rp[2];
        if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(rp, O_CLOEXEC) != 0) die("pipe: %s", strerror(errno));
        child_spec sp = {nv * k / NCHILD, nv * (k + 1) / NCHILD, ns * k / NCHILD,
                         ns * (k + 1) / NCHILD, role_v};
        pid_t pid = fork();
        if (pid < 0) die("fork: %s", strerror(errno));
        if (pid == 0) {
            /* leave the parent's sockets and epoll alone: close our copies */
            struct rlimit rl;
            int maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1048576
                            ? (int)rl.rlim_cur : 65536;
            for (int fd = 3; fd < maxfd; fd++)
                if (fd != ctl[0] && fd != rp[1])
                    close(fd);
            PEND_LEN = 0;
            INFLIGHT = 0;
            child_main(k, sp, ctl[0], rp[1]);
        }
        close(ctl[0]);
        close(rp[1]);
        CPIDS[k] = pid;
        CTRL_OUT[k] = ctl[1];
        conn *pc = calloc(1, sizeof *pc);
        pc->role = R_PIPE;
        pc->fd = rp[0];
        pc->child = k;
        CPIPES[k] = pc;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = pc};
        epoll_ctl(EPFD, EPOLL_CTL_ADD, rp[0], &ev);
    }
}

static void send_cmd_all(cmd c)
{
    for (int k = 0; k < NCHILD; k++) write_all(CTRL_OUT[k], &c, sizeof c);
}

static bool got_all(void *arg)
{
    int type = (int)(intptr_t)arg;
    if (GOT_N[type] >= NCHILD) return true;
    for (int k = 0; k < NCHILD; k++)
        if (CPIPES[k]->fd < 0) return true; /* a child died: stop waiting */
    return false;
}

static bool children_alive(void)
{
    for (int k = 0; k < NCHILD; k++)
        if (CPIPES[k]->fd < 0) return false;
    return true;
}

/* Waits for one message of type from every child; returns the merged result (owned). */
static res *collect(int type, double timeout_s)
{
    run_until_ns(now_ns() + (int64_t)(timeout_s * 1e9), got_all, (void *)(intptr_t)type);
    if (GOT_N[type] < NCHILD)
        fprintf(stderr, "loadgen: only %d of %d viewer processes answered\n", GOT_N[type], NCHILD);
    res *r = GOT[type - 1] ? GOT[type - 1] : calloc(1, sizeof(res));
    GOT[type - 1] = NULL;
    GOT_N[type] = 0;
    return r;
}

static void end_children(void)
{
    cmd c = {.cmd = CMD_EXIT};
    for (int k = 0; k < NCHILD; k++) {
        ssize_t w = write(CTRL_OUT[k], &c, sizeof c);
        (void)w;
    }
    int64_t deadline = now_ns() + 10000000000LL;
    for (int k = 0; k < NCHILD; k++) {
        int st;
        while (waitpid(CPIDS[k], &st, WNOHANG) == 0) {
            if (now_ns() > deadline) { kill(CPIDS[k], SIGKILL); waitpid(CPIDS[k], &st, 0); break; }
            usleep(10000);
        }
    }
}

/* ---- parent: moderators --------------------------------------------------------------------- */
static conn *MODS[2];
static int TICK_RATE;
static int64_t TICK_T0, TICK_END;
static int64_t TICK_I;
static bool TICK_PANEL_ONLY;
static uint32_t ONAIR_K;   /* onair.set requests sent so far */

static void tick_send(int64_t now)
{
    int64_t i = TICK_I++;
    bool panel = TICK_PANEL_ONLY || (i % 2 == 0);
    int nevents = panel ? 1 : ONAIR_K == 0 ? 2 : 3; /* the first has no previous question */
    conn *m = MODS[panel ? 0 : 1];
    char buf[256];
    int64_t stamp = now_ns();
    if (panel) {
        snprintf(buf, sizeof buf,
                 "{\"type\":\"panel.set\",\"id\":\"tP%lld\",\"banner\":\"t=%lld\"}",
                 (long long)stamp, (long long)stamp);
    } else {
        uint32_t k = ONAIR_K++;
        int64_t q = QIDS[k % (uint32_t)NQIDS];
        SHM[k & (SHM_SLOTS - 1)] = stamp;
        __sync_synchronize();
        snprintf(buf, sizeof buf,
                 "{\"type\":\"onair.set\",\"id\":\"tO%lld\",\"question_id\":%lld}",
                 (long long)stamp, (long long)q);
    }
    (void)now;
    if (stamp >= PH_T0 && stamp < PH_T1) { /* expected at every viewer */
        M_CHANGES++;
        M_OFFERED += (uint64_t)nevents;
    }
    staff_send(m, buf);
}

/* Runs the loop until deadline, sending changes at TICK_RATE between TICK_T0 and TICK_END. */
static void run_ticking(int64_t deadline, bool (*done)(void *), void *arg)
{
    for (;;) {
        int64_t now = now_ns();
        if (now >= deadline || (done && done(arg))) return;
        int64_t wait = deadline - now;
        if (TICK_RATE > 0 && now < TICK_END) {
            int64_t period = 1000000000LL / TICK_RATE;
            int burst = 0;
            while (now >= TICK_T0 + TICK_I * period && now < TICK_END && burst++ < 4) {
                tick_send(now);
                now = now_ns();
            }
            int64_t next = TICK_T0 + TICK_I * period - now;
            if (next < wait) wait = next;
        }
        int ms = (int)(wait / 1000000);
        if (ms < 0) ms = 0;
        loop_once(ms > 50 ? 50 : ms);
    }
}

static void ticking(int rate, int64_t t0, int64_t end)
{
    TICK_RATE = rate;
    TICK_T0 = t0;
    TICK_END = end;
    TICK_I = 0;
}

/* ---- output ------------------------------------------------------------------------------- */
static FILE *JSON_OUT;

static void emit(const char *summary, const char *json)
{
    printf("%s\n%s\n", summary, json);
    fflush(stdout);
    if (JSON_OUT) {
        fprintf(JSON_OUT, "%s\n", json);
        fflush(JSON_OUT);
    }
}

static const char *ms_text(double v, char *buf)
{
    if (v < 0) snprintf(buf, 32, "null");
    else snprintf(buf, 32, "%.2f", v);
    return buf;
}

static void print_hist_json(char *out, size_t cap, const char *name, const hist *h,
                            uint64_t missing)
{
    char a[32], b[32], c[32], d[32];
    snprintf(out, cap, "\"%s\":{\"p50\":%s,\"p90\":%s,\"p99\":%s,\"max\":%s,\"n\":%llu}", name,
             ms_text(h_pct_ms(h, missing, 50), a), ms_text(h_pct_ms(h, missing, 90), b),
             ms_text(h_pct_ms(h, missing, 99), c),
             missing ? "null" : ms_text((double)h->max_us / 1000.0, d),
             (unsigned long long)h->n);
}

static const char *pct_text(const hist *h, uint64_t missing, double p, char *buf)
{
    double v = h_pct_ms(h, missing, p);
    if (v < 0) snprintf(buf, 32, "lost");
    else snprintf(buf, 32, "%.1fms", v);
    return buf;
}

/* ---- scenarios ---------------------------------------------------------------------------- */
static int FAIL;

static double JOIN_S;
static res *wait_ready(int expect)
{
    int64_t t = now_ns();
    res *r = collect(MSG_READY, 120);
    double s = (double)(now_ns() - t) / 1e9;
    JOIN_S = s;
    fprintf(stderr, "loadgen: %llu of %d connections ready in %.1f s (%llu failed, %llu refused)\n",
            (unsigned long long)r->ready, expect, s, (unsigned long long)r->failed,
            (unsigned long long)r->hello_err);
    if ((int)r->ready < expect) FAIL = 1;
    return r;
}

static void phase_start(int64_t t0, int64_t t1, int mode, double arg)
{
    PH_T0 = t0;
    PH_T1 = t1;
    M_CHANGES = M_OFFERED = M_ERRORS = 0;
    memset(&M_ACK, 0, sizeof M_ACK);
    cmd c = {.cmd = CMD_START, .mode = mode, .t0 = t0, .t1 = t1, .arg = arg};
    send_cmd_all(c);
}

static res *phase_report(void)
{
    cmd c = {.cmd = CMD_REPORT};
    send_cmd_all(c);
    return collect(MSG_RESULT, 30);
}

static void add_questions(int n)
{
    conn *extra[2] = {staff_open(FAN_CODE, "moderator", FAN_KEY, "mod-c"),
                      staff_open(FAN_CODE, "moderator", FAN_KEY, "mod-d")};
    conn *all[5] = {MODS[0], MODS[1], extra[0], extra[1], NULL};
    make_questions(all, n);
    for (int i = 0; i < 2; i++) conn_close(extra[i], true);
    run_until_ns(now_ns() + 1200000000LL, NULL, NULL); /* message buckets refill */
}

static bool FAN_PREMOD; /* submit: the submitters write into the fan-out session itself */

static void setup_fan_session(int nquestions)
{
    create_session("Fan-out", FAN_PREMOD, FAN_CODE, FAN_KEY);
    MODS[0] = staff_open(FAN_CODE, "moderator", FAN_KEY, "mod-a");
    MODS[1] = staff_open(FAN_CODE, "moderator", FAN_KEY, "mod-b");
    if (nquestions > 0)
        add_questions(nquestions);
}

static void fanout_phase_record(int rate, int nviewers, int64_t t0, int64_t t1, double cpu0,
                                double cpu1, double gen0, res *r, const char *scenario_extra)
{
    double secs = (double)(t1 - t0) / 1e9;
    uint64_t expected = M_CHANGES * (uint64_t)nviewers;
    uint64_t missing = expected > r->samples ? expected - r->samples : 0;
    double gen_cpu = r->cpu_s + (self_cpu_s() - gen0);
    double srv_cpu = (cpu1 - cpu0) / secs * 100.0;
    long rss = server_rss_kib();
    char a[32], b[32], c[32], lat[256], mack[256], sum[768], json[2400], oa[256];
    print_hist_json(lat, sizeof lat, "latency_ms", &r->lat, missing);
    print_hist_json(oa, sizeof oa, "onair_latency_ms", &r->onair, 0);
    print_hist_json(mack, sizeof mack, "change_ack_ms", &M_ACK, 0);
    snprintf(sum, sizeof sum,
             "fanout    %-5s viewers=%-5d R=%-3d p50=%s p99=%s max=%s deliveries/s=%.0f "
             "(offered %.0f) msgs/frame=%.1f server cpu=%.0f%% rss=%.1fMiB gen cpu=%.0f%% "
             "missing=%llu dup=%llu closed=%llu errors=%llu",
             O.server_name, nviewers, rate, pct_text(&r->lat, missing, 50, a),
             pct_text(&r->lat, missing, 99, b),
             missing ? "lost" : (snprintf(c, sizeof c, "%.1fms", r->lat.max_us / 1000.0), c),
             r->events / secs, (double)M_OFFERED * nviewers / secs,
             r->frames ? (double)r->events / (double)r->frames : 0.0, srv_cpu, rss / 1024.0,
             gen_cpu / secs * 100.0, (unsigned long long)missing, (unsigned long long)r->dups,
             (unsigned long long)r->closed, (unsigned long long)(r->errors + M_ERRORS));
    snprintf(json, sizeof json,
             "{\"scenario\":\"fanout\",\"server\":\"%s\",\"viewers\":%d,\"rate\":%d,"
             "\"duration_s\":%.2f,\"changes\":%llu,\"offered_per_s\":%.0f,"
             "\"deliveries\":%llu,\"deliveries_per_s\":%.0f,\"frames_per_s\":%.0f,"
             "\"bytes_per_s\":%.0f,%s,\"missing\":%llu,\"duplicates\":%llu,\"closed\":%llu,"
             "\"errors\":%llu,\"server_cpu_pct\":%.1f,\"server_rss_kib\":%ld,"
             "\"gen_cpu_pct\":%.1f,%s,%s%s}",
             O.server_name, nviewers, rate, secs, (unsigned long long)M_CHANGES,
             (double)M_OFFERED * nviewers / secs, (unsigned long long)r->events,
             r->events / secs, r->frames / secs, r->bytes / secs, lat,
             (unsigned long long)missing, (unsigned long long)r->dups,
             (unsigned long long)r->closed, (unsigned long long)(r->errors + M_ERRORS), srv_cpu,
             rss, gen_cpu / secs * 100.0, mack, oa, scenario_extra ? scenario_extra : "");
    emit(sum, json);
    if (O.strict && (missing || r->dups || r->closed || r->errors || M_ERRORS || r->lat.n == 0))
        FAIL = 1;
}

static void scenario_fanout(void)
{
    setup_producer();
    setup_fan_session(0);
    TICK_PANEL_ONLY = strcmp(O.mix, "panel") == 0;
    run_until_ns(now_ns() + 300000000LL, NULL, NULL);
    long rss0 = server_rss_kib();
    spawn_children(O.viewers, 0, R_VIEWER);
    res *rd = wait_ready(O.viewers);
    int nv = (int)rd->ready;
    free(rd);
    run_until_ns(now_ns() + (int64_t)(O.settle * 1e9), NULL, NULL);
    long rss1 = server_rss_kib();
    if (O.server_pid > 0) {
        char sum[256], json[512];
        double per = nv ? (double)(rss1 - rss0) * 1024.0 / nv : 0;
        snprintf(sum, sizeof sum,
                 "idle      %-5s viewers=%-5d rss before=%.1fMiB after=%.1fMiB per viewer=%.2fKiB "
                 "(joined in %.1f s)",
                 O.server_name, nv, rss0 / 1024.0, rss1 / 1024.0, per / 1024.0, JOIN_S);
        snprintf(json, sizeof json,
                 "{\"scenario\":\"idle\",\"server\":\"%s\",\"viewers\":%d,\"rss_before_kib\":%ld,"
                 "\"rss_after_kib\":%ld,\"bytes_per_viewer\":%.0f,\"kib_per_viewer\":%.2f,"
                 "\"join_s\":%.2f}",
                 O.server_name, nv, rss0, rss1, per, per / 1024.0, JOIN_S);
        emit(sum, json);
    }
    /* the questions the moderators put on air are made after the idle reading, so that the
     * welcome snapshots (and the idle figure) are those of a session that has just begun */
    if (!TICK_PANEL_ONLY) {
        add_questions(O.air_questions);
        cmd qc = {.cmd = CMD_QIDS, .arg = NQIDS};
        for (int k = 0; k < NCHILD; k++) {
            write_all(CTRL_OUT[k], &qc, sizeof qc);
            write_all(CTRL_OUT[k], QIDS, (size_t)NQIDS * sizeof *QIDS);
        }
    }
    for (int i = 0; i < O.nrates && children_alive(); i++) {
        int rate = O.rates[i];
        int64_t t0 = now_ns() + 200000000LL, t1 = t0 + (int64_t)(O.duration * 1e9);
        phase_start(t0, t1, 0, 0);
        ticking(rate, t0, t1);
        run_ticking(t0, NULL, NULL);
        double cpu0 = server_cpu_s(), gen0 = self_cpu_s();
        run_ticking(t1, NULL, NULL);
        double cpu1 = server_cpu_s();
        double gen1 = self_cpu_s();
        run_ticking(t1 + (int64_t)(O.drain * 1e9), NULL, NULL);
        res *r = phase_report();
        /* the generator CPU of the parent counts only the window */
        fanout_phase_record(rate, nv, t0, t1, cpu0, cpu1, gen0 + (self_cpu_s() - gen1), r, NULL);
        free(r);
    }
}

static void scenario_submit(void)
{
    setup_producer();
    /* --storm-sessions 0: the submitters are viewers of the fan-out session, which is then
     * premoderated (their questions go to staff and the author; staff questions, which the
     * moderators put on air, are published at once) */
    FAN_PREMOD = O.storm_sessions == 0;
    setup_fan_session(O.air_questions);
    if (FAN_PREMOD) {
        O.storm_sessions = 1;
        STORM_CODES = calloc(1, sizeof *STORM_CODES);
        memcpy(STORM_CODES[0], FAN_CODE, sizeof STORM_CODES[0]);
    } else {
        STORM_CODES = calloc((size_t)O.storm_sessions, sizeof *STORM_CODES);
    }
    for (int i = 0; !FAN_PREMOD && i < O.storm_sessions; i++) {
        char key[64], title[32];
        snprintf(title, sizeof title, "Storm %d", i + 1);
        create_session(title, true, STORM_CODES[i], key);
    }
    spawn_children(O.viewers, O.submitters, R_VIEWER);
    res *rd = wait_ready(O.viewers + O.submitters);
    free(rd);
    run_until_ns(now_ns() + (int64_t)(O.settle * 1e9), NULL, NULL);
    char *save = NULL;
    for (char *ph = strtok_r(O.phases, ",", &save); ph && children_alive();
         ph = strtok_r(NULL, ",", &save)) {
        int mode = strncmp(ph, "paced", 5) == 0 ? 2 : 1;
        double arg = mode == 2 ? atof(ph + 6) : O.window;
        int64_t t0 = now_ns() + 200000000LL, t1 = t0 + (int64_t)(O.duration * 1e9);
        phase_start(t0, t1, mode, arg);
        ticking(O.fan_rate, t0, t1);
        run_ticking(t0, NULL, NULL);
        double cpu0 = server_cpu_s(), gen0 = self_cpu_s();
        run_ticking(t1, NULL, NULL);
        double cpu1 = server_cpu_s();
        run_ticking(t1 + (int64_t)(O.drain * 1e9), NULL, NULL);
        res *r = phase_report();
        double secs = (double)(t1 - t0) / 1e9;
        uint64_t expected = M_CHANGES * (uint64_t)O.viewers;
        uint64_t missing = expected > r->samples ? expected - r->samples : 0;
        double gen_cpu = r->cpu_s + (self_cpu_s() - gen0);
        char a[32], b[32], c[32], d[32], ack[256], lat[256], sum[768], json[2048], label[48];
        if (mode == 2) snprintf(label, sizeof label, "paced %.0f/s", arg);
        else snprintf(label, sizeof label, "storm w=%d", O.window);
        char where[48];
        if (FAN_PREMOD) snprintf(where, sizeof where, "into the watched session");
        else snprintf(where, sizeof where, "into %d other sessions", O.storm_sessions);
        print_hist_json(ack, sizeof ack, "ack_ms", &r->ack, 0);
        print_hist_json(lat, sizeof lat, "fanout_latency_ms", &r->lat, missing);
        snprintf(sum, sizeof sum,
                 "submit    %-5s %-12s sync=%-6s submitters=%d %s acks/s=%.0f ack p50=%s p99=%s "
                 "| fan-out %d viewers R=%d p99=%s max=%s | rate_limited=%llu errors=%llu "
                 "server cpu=%.0f%% gen cpu=%.0f%%",
                 O.server_name, label, O.sync_label, O.submitters, where, r->acks / secs,
                 pct_text(&r->ack, 0, 50, a), pct_text(&r->ack, 0, 99, b), O.viewers, O.fan_rate,
                 pct_text(&r->lat, missing, 99, c),
                 missing ? "lost" : (snprintf(d, sizeof d, "%.1fms", r->lat.max_us / 1000.0), d),
                 (unsigned long long)r->rate_limited, (unsigned long long)r->errors,
                 (cpu1 - cpu0) / secs * 100, gen_cpu / secs * 100);
        snprintf(json, sizeof json,
                 "{\"scenario\":\"submit\",\"server\":\"%s\",\"mode\":\"%s\",\"synchronous\":\"%s\","
                 "\"submitters\":%d,\"same_session\":%s,\"sessions\":%d,\"window\":%d,\"target_per_s\":%.0f,"
                 "\"duration_s\":%.2f,\"sent\":%llu,\"acks\":%llu,\"acks_per_s\":%.0f,%s,"
                 "\"rate_limited\":%llu,\"errors\":%llu,\"fanout_viewers\":%d,\"fanout_rate\":%d,"
                 "%s,\"fanout_missing\":%llu,\"server_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f,"
                 "\"server_rss_kib\":%ld}",
                 O.server_name, mode == 2 ? "paced" : "storm", O.sync_label, O.submitters,
                 FAN_PREMOD ? "true" : "false", O.storm_sessions, O.window, mode == 2 ? arg : 0.0, secs,
                 (unsigned long long)r->sent, (unsigned long long)r->acks, r->acks / secs, ack,
                 (unsigned long long)r->rate_limited, (unsigned long long)r->errors, O.viewers,
                 O.fan_rate, lat, (unsigned long long)missing, (cpu1 - cpu0) / secs * 100,
                 gen_cpu / secs * 100, server_rss_kib());
        emit(sum, json);
        if (O.strict && (r->acks == 0 || r->errors || r->closed)) FAIL = 1;
        free(r);
    }
}

static void scenario_vote(void)
{
    setup_producer();
    setup_fan_session(O.vote_questions);
    spawn_children(O.viewers, 0, R_VOTER);
    res *rd = wait_ready(O.viewers);
    free(rd);
    run_until_ns(now_ns() + (int64_t)(O.settle * 1e9), NULL, NULL);
    int64_t t0 = now_ns() + 200000000LL, t1 = t0 + (int64_t)(O.duration * 1e9);
    phase_start(t0, t1, 3, 0);
    run_until_ns(t0, NULL, NULL);
    double cpu0 = server_cpu_s(), gen0 = self_cpu_s();
    run_until_ns(t1, NULL, NULL);
    double cpu1 = server_cpu_s();
    run_until_ns(t1 + (int64_t)(O.drain * 1e9), NULL, NULL);
    res *r = phase_report();
    double secs = (double)(t1 - t0) / 1e9;
    /* check what was stored: a fresh staff snapshot's vote counts */
    char *welcome = NULL;
    STAFF_WAIT_S = 60; /* behind whatever backlog the storm left */
    conn *chk = staff_open2(FAN_CODE, "moderator", FAN_KEY, "checker", &welcome);
    conn_close(chk, true);
    long long stored = -1;
    if (welcome) {
        stored = 0;
        jspan snap = field(welcome, "snapshot"), qs;
        static const char *const qk[] = {"questions"};
        if (snap.p && js_fields(snap.p, snap.e, qk, 1, &qs) == 0 && qs.p) {
            const char *p = qs.p + 1;
            for (;;) {
                p = js_ws(p, qs.e);
                if (p >= qs.e || *p == ']') break;
                const char *end = js_skip(p, qs.e);
                if (!end) break;
                static const char *const vk[] = {"votes"};
                jspan vv;
                if (js_fields(p, end, vk, 1, &vv) == 0) stored += js_int(vv, 0);
                p = js_ws(end, qs.e);
                if (p < qs.e && *p == ',') p++;
            }
        }
    }
    double gen_cpu = r->cpu_s + (self_cpu_s() - gen0);
    char a[32], b[32], ack[256], sum[768], json[1536];
    print_hist_json(ack, sizeof ack, "ack_ms", &r->ack, 0);
    double vc = r->vchanged / secs / (O.viewers ? O.viewers : 1);
    /* every acknowledged vote is stored; votes still unanswered at the report may be too */
    bool stored_ok = stored >= (long long)r->acks_total &&
                     stored <= (long long)(r->acks_total + r->inflight);
    snprintf(sum, sizeof sum,
             "vote      %-5s viewers=%d questions=%d votes/s=%.0f ack p50=%s p99=%s "
             "votes.changed per viewer=%.1f/s acked=%llu unanswered=%llu stored=%lld%s "
             "rate_limited=%llu "
             "errors=%llu server cpu=%.0f%% gen cpu=%.0f%%",
             O.server_name, O.viewers, NQIDS, r->acks / secs, pct_text(&r->ack, 0, 50, a),
             pct_text(&r->ack, 0, 99, b), vc, (unsigned long long)r->acks_total,
             (unsigned long long)r->inflight, stored, stored_ok ? " (ok)" : " (MISMATCH)",
             (unsigned long long)r->rate_limited, (unsigned long long)r->errors,
             (cpu1 - cpu0) / secs * 100, gen_cpu / secs * 100);
    snprintf(json, sizeof json,
             "{\"scenario\":\"vote\",\"server\":\"%s\",\"viewers\":%d,\"questions\":%d,"
             "\"duration_s\":%.2f,\"votes_acked_in_window\":%llu,\"votes_per_s\":%.0f,%s,"
             "\"votes_changed_per_viewer_per_s\":%.2f,\"votes_acked_total\":%llu,"
             "\"votes_unanswered\":%llu,\"votes_stored\":%lld,\"stored_matches\":%s,\"voters_done\":%llu,"
             "\"rate_limited\":%llu,\"errors\":%llu,\"server_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f}",
             O.server_name, O.viewers, NQIDS, secs, (unsigned long long)r->acks, r->acks / secs,
             ack, vc, (unsigned long long)r->acks_total, (unsigned long long)r->inflight, stored,
             stored_ok ? "true" : "false",
             (unsigned long long)r->voters_done, (unsigned long long)r->rate_limited,
             (unsigned long long)r->errors, (cpu1 - cpu0) / secs * 100, gen_cpu / secs * 100);
    emit(sum, json);
    if (O.strict && (r->acks == 0 || r->errors || !stored_ok)) FAIL = 1;
    free(r);
}

static void scenario_reconnect(void)
{
    setup_producer();
    setup_fan_session(0);
    TICK_PANEL_ONLY = true;
    spawn_children(O.viewers, 0, R_VIEWER);
    res *rd = wait_ready(O.viewers);
    int nv = (int)rd->ready;
    free(rd);
    int rate = O.nrates ? O.rates[0] : 5;
    int64_t t0 = now_ns() + 100000000LL;
    int64_t far = t0 + (int64_t)((2.0 + O.drop_s + O.catchup_timeout + 10) * 1e9);
    phase_start(t0, far, 0, 0);
    ticking(rate, t0, far);
    run_ticking(t0 + 2000000000LL, NULL, NULL);
    cmd c = {.cmd = CMD_DROP};
    send_cmd_all(c);
    run_ticking(now_ns() + (int64_t)(O.drop_s * 1e9), NULL, NULL);
    long long ovf0 = tcpext("ListenOverflows");
    int64_t tr = now_ns();
    cmd rc = {.cmd = CMD_RECONNECT, .t0 = tr, .t1 = tr + (int64_t)(O.catchup_timeout * 1e9)};
    send_cmd_all(rc);
    double cpu0 = server_cpu_s();
    run_ticking(tr + (int64_t)((O.catchup_timeout + 5) * 1e9), got_all,
                (void *)(intptr_t)MSG_CAUGHT);
    double secs = (double)(now_ns() - tr) / 1e9;
    double cpu1 = server_cpu_s();
    res *caught = collect(MSG_CAUGHT, 1);
    free(caught);
    long long ovf = tcpext("ListenOverflows") - ovf0;
    /* one more second of changes after everyone is back, then stop, drain and count */
    run_ticking(now_ns() + 1000000000LL, NULL, NULL);
    TICK_END = now_ns();
    run_ticking(now_ns() + (int64_t)(O.drain * 1e9), NULL, NULL);
    res *r = phase_report();
    uint64_t expected = M_CHANGES * (uint64_t)nv;
    uint64_t missing = expected > r->samples ? expected - r->samples : 0;
    double all_ms = r->caught ? (double)(r->last_caught_ns - tr) / 1e6 : -1;
    char a[32], b[32], cu[256], sum[768], json[1536];
    print_hist_json(cu, sizeof cu, "catchup_ms", &r->catchup,
                    (uint64_t)nv > r->caught ? nv - r->caught : 0);
    bool ok = r->caught == (uint64_t)nv && missing == 0 && r->dups == 0;
    snprintf(sum, sizeof sum,
             "reconnect %-5s viewers=%d R=%d offline=%.1fs caught up=%llu/%d all in %.0fms "
             "(p50=%s p99=%s) resumed=%llu fresh=%llu changes=%llu missing=%llu dup=%llu "
             "failed=%llu listen overflows=%lld server cpu=%.0f%%",
             O.server_name, nv, rate, O.drop_s, (unsigned long long)r->caught, nv, all_ms,
             pct_text(&r->catchup, 0, 50, a), pct_text(&r->catchup, 0, 99, b),
             (unsigned long long)r->resumed, (unsigned long long)r->fresh,
             (unsigned long long)M_CHANGES, (unsigned long long)missing,
             (unsigned long long)r->dups, (unsigned long long)(r->failed + r->hello_err), ovf,
             (cpu1 - cpu0) / secs * 100);
    snprintf(json, sizeof json,
             "{\"scenario\":\"reconnect\",\"server\":\"%s\",\"viewers\":%d,\"rate\":%d,"
             "\"offline_s\":%.2f,\"caught_up\":%llu,\"all_caught_up_ms\":%.1f,%s,"
             "\"resumed\":%llu,\"fresh\":%llu,\"changes\":%llu,\"missing_events\":%llu,"
             "\"duplicates\":%llu,\"failed\":%llu,\"closed\":%llu,\"server_cpu_pct\":%.1f,"
             "\"listen_overflows\":%lld,\"ok\":%s}",
             O.server_name, nv, rate, O.drop_s, (unsigned long long)r->caught, all_ms, cu,
             (unsigned long long)r->resumed, (unsigned long long)r->fresh,
             (unsigned long long)M_CHANGES, (unsigned long long)missing,
             (unsigned long long)r->dups, (unsigned long long)(r->failed + r->hello_err),
             (unsigned long long)r->closed, (cpu1 - cpu0) / secs * 100, ovf, ok ? "true" : "false");
    emit(sum, json);
    if (O.strict && !ok) FAIL = 1;
    free(r);
}

/* join: a storm of --viewers joining at once a session that already holds --questions published
 * questions (a reconnect storm after a network outage, or a link shared everywhere at once): how
 * long until every one is welcomed, what it cost the server, and what each welcome weighed. A
 * viewer's welcome is bounded whatever the session holds (docs/protocol.md, "Reading more
 * questions"); before it was, it carried every question. */
static void scenario_join(void)
{
    setup_producer();
    setup_fan_session(O.vote_questions);
    /* the children count what they receive from their first byte: their welcomes */
    COUNT_WELCOMES = true;
    PH_T0 = now_ns();
    PH_T1 = PH_T0 + 3600LL * 1000000000LL;
    long long ovf0 = tcpext("ListenOverflows");
    double cpu0 = server_cpu_s();
    long rss0 = server_rss_kib();
    int64_t t = now_ns();
    spawn_children(O.viewers, 0, R_VIEWER);
    res *rd = wait_ready(O.viewers);
    double secs = (double)(now_ns() - t) / 1e9;
    double cpu1 = server_cpu_s();
    long rss1 = server_rss_kib();
    int nv = (int)rd->ready;
    bool ok = nv == O.viewers && rd->failed == 0 && rd->hello_err == 0;
    free(rd);
    res *r = phase_report();
    long long ovf = tcpext("ListenOverflows") - ovf0;
    double per_kib = nv ? (double)r->bytes / nv / 1024.0 : 0;
    char sum[512], json[768];
    snprintf(sum, sizeof sum,
             "join      %-5s viewers=%d questions=%d all welcomed in %.1f s welcome=%.1f KiB each "
             "(%.1f MiB in all) server cpu=%.1f s rss %.1f->%.1f MiB failed=%llu refused=%llu "
             "listen overflows=%lld",
             O.server_name, nv, O.vote_questions, secs, per_kib, (double)r->bytes / 1048576.0,
             cpu1 - cpu0, rss0 / 1024.0, rss1 / 1024.0, (unsigned long long)r->failed,
             (unsigned long long)r->hello_err, ovf);
    snprintf(json, sizeof json,
             "{\"scenario\":\"join\",\"server\":\"%s\",\"viewers\":%d,\"questions\":%d,"
             "\"all_welcomed_s\":%.2f,\"welcome_kib_each\":%.2f,\"bytes_total\":%llu,"
             "\"server_cpu_s\":%.2f,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
             "\"failed\":%llu,\"refused\":%llu,\"listen_overflows\":%lld,\"ok\":%s}",
             O.server_name, nv, O.vote_questions, secs, per_kib, (unsigned long long)r->bytes,
             cpu1 - cpu0, rss0, rss1, (unsigned long long)r->failed,
             (unsigned long long)r->hello_err, ovf, ok ? "true" : "false");
    emit(sum, json);
    if (O.strict && !ok) FAIL = 1;
    free(r);
}

/* ---- main ----------------------------------------------------------------------------------- */
static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "loadgen: time limit reached, stopping\n";
    ssize_t w = write(2, m, sizeof m - 1);
    (void)w;
    for (int k = 0; k < NCHILD; k++)
        if (CPIDS && CPIDS[k] > 0) kill(CPIDS[k], SIGKILL);
    _exit(3);
}

static void usage(void)
{
    fprintf(stderr,
        "usage: loadgen SCENARIO --port N --producer-key KEY [options]\n"
        "scenarios: fanout | submit | vote | reconnect | join\n"
        "  --host ADDR          server address (127.0.0.1)\n"
        "  --viewers N          viewers on the fan-out session (1000)\n"
        "  --procs N            viewer processes (default: one per 5000 connections)\n"
        "  --rates R[,R...]     fanout: changes per second, one phase each (5,50);\n"
        "                       reconnect: the rate while viewers drop (5)\n"
        "  --duration S         seconds per measured phase (5)\n"
        "  --drain S            seconds after a phase for late deliveries (3)\n"
        "  --settle S           seconds after joining before the idle RSS reading (1)\n"
        "  --mix alt|panel      changes: panel.set and onair.set alternately, or panel.set only\n"
        "  --air-questions N    questions the moderators cycle on air (20)\n"
        "  --src-first N        first source address 127.0.0.N (2)\n"
        "  --per-src N          connections per source address (2500)\n"
        "  --connect-window N   handshakes in flight per process while joining (256)\n"
        "  --reconnect-window N same for the reconnect storm (0 = all at once)\n"
        "  --submitters M       submit: submitting viewers (1000)\n"
        "  --storm-sessions S   submit: premoderated sessions they are spread over (16);\n"
        "                       0: they are viewers of the fan-out session (premoderated)\n"
        "  --window W           submit storm: requests in flight per submitter (1)\n"
        "  --phases LIST        submit: storm and/or paced:X, comma-separated (storm)\n"
        "  --fan-rate R         submit: fan-out changes per second meanwhile (5)\n"
        "  --sync LABEL         submit: the server's --synchronous, for the record\n"
        "  --questions Q        vote: questions to vote on; join: questions the session holds (40)\n"
        "  --vote-rate V        vote: votes per second per viewer (9.5; the server allows 10)\n"
        "  --offline S          reconnect: seconds the viewers stay away (1)\n"
        "  --server-pid PID[,PID...]  read the server's CPU and RSS from /proc (summed)\n"
        "  --viewer-ports P[,P...]  viewers connect to these ports in turn (cluster nodes);\n"
        "                       the producer and moderators use --port\n"
        "  --server-name NAME   label for the records (forum)\n"
        "  --json-out FILE      append the JSON records to FILE\n"
        "  --timeout S          hard limit for the whole run (default: computed)\n"
        "  --strict             exit 1 on any failed connection, error, lost or duplicated change\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    O.scenario = argv[1];
    O.rates[0] = 5; O.rates[1] = 50; O.nrates = 2;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (ARG("--host")) O.host = v;
        else if (ARG("--port")) O.port = atoi(v);
        else if (ARG("--producer-key")) O.producer_key = v;
        else if (ARG("--viewers")) O.viewers = atoi(v);
        else if (ARG("--procs")) O.procs = atoi(v);
        else if (ARG("--rates")) {
            O.nrates = 0;
            char *dup = strdup(v), *save = NULL;
            for (char *t = strtok_r(dup, ",", &save); t && O.nrates < 8; t = strtok_r(NULL, ",", &save))
                O.rates[O.nrates++] = atoi(t);
        }
        else if (ARG("--duration")) O.duration = atof(v);
        else if (ARG("--drain")) O.drain = atof(v);
        else if (ARG("--settle")) O.settle = atof(v);
        else if (ARG("--mix")) O.mix = v;
        else if (ARG("--air-questions")) O.air_questions = atoi(v);
        else if (ARG("--src-first")) O.src_first = atoi(v);
        else if (ARG("--per-src")) O.per_src = atoi(v);
        else if (ARG("--connect-window")) O.connect_window = atoi(v);
        else if (ARG("--reconnect-window")) O.reconnect_window = atoi(v);
        else if (ARG("--submitters")) O.submitters = atoi(v);
        else if (ARG("--storm-sessions")) O.storm_sessions = atoi(v);
        else if (ARG("--window")) O.window = atoi(v);
        else if (ARG("--phases")) snprintf(O.phases, sizeof O.phases, "%s", v);
        else if (ARG("--fan-rate")) O.fan_rate = atoi(v);
        else if (ARG("--sync")) O.sync_label = v;
        else if (ARG("--questions")) O.vote_questions = atoi(v);
        else if (ARG("--vote-rate")) O.vote_rate = atof(v);
        else if (ARG("--offline")) O.drop_s = atof(v);
        else if (ARG("--server-pid")) {
            char *dup = strdup(v), *save = NULL;
            for (char *t = strtok_r(dup, ",", &save); t && O.n_server_pids < 8; t = strtok_r(NULL, ",", &save))
                O.server_pids[O.n_server_pids++] = atoi(t);
            O.server_pid = O.n_server_pids ? O.server_pids[0] : 0;
        }
        else if (ARG("--viewer-ports")) {
            char *dup = strdup(v), *save = NULL;
            for (char *t = strtok_r(dup, ",", &save); t && O.n_vports < 8; t = strtok_r(NULL, ",", &save))
                O.vports[O.n_vports++] = atoi(t);
        }
        else if (ARG("--server-name")) O.server_name = v;
        else if (ARG("--json-out")) O.json_out = v;
        else if (ARG("--timeout")) O.timeout_s = atoi(v);
        else if (strcmp(a, "--strict") == 0) O.strict = 1;
        else { fprintf(stderr, "loadgen: unknown or incomplete option %s\n", a); usage(); }
#undef ARG
    }
    if (!O.port || !O.producer_key) usage();
    if (O.per_src < 1 || O.per_src > 25000) die("--per-src must be 1..25000");
    if (O.window < 1) O.window = 1;
    if (O.air_questions < 2) O.air_questions = 2;
    signal(SIGPIPE, SIG_IGN);
    if (O.timeout_s <= 0) {
        double t = 60 + O.nrates * (O.duration + O.drain + 2) + O.viewers / 1000.0 * 2;
        if (!strcmp(O.scenario, "reconnect")) t += O.drop_s + O.catchup_timeout + 10;
        O.timeout_s = (int)t;
    }
    signal(SIGALRM, on_alarm);
    alarm((unsigned)O.timeout_s);
    SALT = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32);
    RNG = SALT * 3 + 1;
    SHM = mmap(NULL, SHM_SLOTS * sizeof(int64_t), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (SHM == MAP_FAILED) die("mmap: %s", strerror(errno));
    EPFD = epoll_create1(EPOLL_CLOEXEC);
    if (O.json_out) {
        JSON_OUT = fopen(O.json_out, "a");
        if (!JSON_OUT) die("cannot open %s", O.json_out);
    }
    WINDOW = 0;
    PH_T0 = PH_T1 = 0;
    if (!strcmp(O.scenario, "fanout")) scenario_fanout();
    else if (!strcmp(O.scenario, "submit")) scenario_submit();
    else if (!strcmp(O.scenario, "vote")) scenario_vote();
    else if (!strcmp(O.scenario, "reconnect")) scenario_reconnect();
    else if (!strcmp(O.scenario, "join")) scenario_join();
    else usage();
    if (!children_alive()) FAIL = 1;
    end_children();
    if (FAIL) fprintf(stderr, "loadgen: FAILED (see above)\n");
    return FAIL ? 1 : 0;
}
