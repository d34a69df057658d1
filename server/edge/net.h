/* net.h — the network edge: a libwebsockets context on the caller's libuv loop (foreign loop),
 * one WebSocket endpoint (/ws, subprotocol forum.v1 required), plain HTTP on the same port
 * (requests with bounded bodies handed to the http handler; the static web client served from
 * beneath the web root), optionally a private HTTP listener for /metrics, per-connection
 * bounded send queues drained on writable, connection admission (Origin check, per-address and
 * descriptor limits, the client address behind trusted proxies), frame reassembly with a size
 * cap. Knows nothing of questions: it moves JSON texts
 * between sockets and the callbacks below.
 *
 * Everything here runs on the loop thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct net net;
typedef struct net_conn net_conn;

/* A message to send: a JSON text with LWS_PRE bytes of headroom before it, shared by reference
 * between every queue that sends it (serialize once, send many). */
typedef struct net_msg {
    int refs;
    size_t len;
    unsigned char *data; /* points into buf, after the headroom */
    unsigned char buf[];
} net_msg;

/* Copies text into a new message with refs = 1. NULL on OOM. */
net_msg *net_msg_new(const char *text, size_t len);
/* Takes ownership of a malloc'd NUL-terminated JSON text (frees it). NULL on OOM/NULL. */
net_msg *net_msg_take(char *text);
void net_msg_ref(net_msg *m);
void net_msg_unref(net_msg *m);

/* An HTTP request as the http handler sees it, body included (read in full before the handler
 * is called). Every string is NUL-terminated, never NULL, and lives until the handler returns. */
typedef struct net_http_request {
    const char *method;        /* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" or "OPTIONS" */
    const char *path;          /* URL path (percent-decoded and normalised by lws), no query */
    const char *query;         /* query string ("" if none), its arguments joined by '&' */
    const char *authorization; /* Authorization header ("" if none) */
    const char *content_type;  /* Content-Type header ("" if none) */
    const char *body;          /* the request body, NUL-terminated ("" if none) */
    size_t body_len;           /* its length in bytes (a body may hold NUL bytes) */
    const char *peer;          /* the client's address as text ("127.0.0.1", "::1"), as
                                  net_conn_address: behind a trusted proxy, the forwarded one */
    void *net_;                /* net's own: the connection (for net_http_defer) */
} net_http_request;

/* Answer to an HTTP request, filled by the http handler. body is malloc'd (net frees it). For
 * HEAD, net sends the headers of the answer (its content-length included) without the body. */
typedef struct net_http_response {
    /* 0 = not handled here: a GET or HEAD is served from the web root (or 404); any other
     * method gets a JSON 405 */
    int status;
    const char *content_type;
    char *body;
    size_t body_len;
    const char *content_disposition; /* optional, static string */
    const char *allow;               /* optional, static string: the Allow header (with a 405) */
    int retry_after_s;               /* > 0: a Retry-After header (with a 429) */
    /* when status is 0: serve this file of the web root (a path relative to it, static string)
     * instead of the URL's */
    const char *file;
    /* optional, malloc'd (net frees it): the answer's Content-Security-Policy instead of
     * NET_DEFAULT_CSP (which every other answer carries) */
    char *csp;
    /* the page may be framed by the sites its csp's frame-ancestors names: no
     * X-Frame-Options: DENY (which every other answer carries) */
    bool frameable;
} net_http_response;

/* The policy of every answer that brings none of its own: a page may use its own scripts,
 * styles, images and fonts and talk to its own WebSocket, nothing else, and no site may frame
 * it. With it go X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer,
 * X-Frame-Options: DENY and, over TLS, Strict-Transport-Security. */
#define NET_DEFAULT_CSP                                                                        \
    "default-src 'none'; img-src 'self' data:; script-src 'self'; font-src 'self'; "          \
    "style-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; " \
    "form-action 'self'"

/* An answer the http handler gives later. */
typedef struct net_http_later net_http_later;

/* Called by the http handler, for req, to answer after it returned (e.g. once a command is
 * committed): resp is then ignored, and the connection waits for net_http_answer. Returns the
 * handle, or NULL (out of memory, or already deferred): then answer through resp as usual. */
net_http_later *net_http_defer(const net_http_request *req);
/* Answers a deferred request (exactly once per handle, on the loop thread, also from within
 * the handler itself): resp's body is taken, its strings other than the body must be static.
 * If the client has gone meanwhile the answer is dropped. Frees the handle. */
void net_http_answer(net_http_later *later, net_http_response *resp);

typedef struct net_callbacks {
    void *arg;
    /* A WebSocket connection was established. Return the user pointer stored with it. */
    void *(*on_open)(void *arg, net_conn *c);
    /* One complete text message (reassembled, <= max_frame bytes, not NUL-terminated). */
    void (*on_message)(void *arg, net_conn *c, void *user, const char *data, size_t len);
    /* The connection is gone; c must not be used after this returns. */
    void (*on_close)(void *arg, net_conn *c, void *user);
    /* An HTTP request (any method, its body read in full and within max_http_body). Fill
     * resp; status 0 = fall through to static files (GET, HEAD) or 405 (other methods). */
    void (*on_http)(void *arg, const net_http_request *req, net_http_response *resp);
} net_callbacks;

/* The options. The defaults live in forumd's option table (server/app/options.c): every
 * number here must be given (> 0) unless it says otherwise. */
typedef struct net_options {
    const char *bind;          /* address to bind, e.g. "127.0.0.1" */
    int port;                  /* 0 = any free port */
    const char *web_root;      /* static files: served only from beneath it (webroot.h) */
    size_t max_http_body;      /* HTTP request body cap, bytes (0: 64 KiB): 413 past it */
    /* Browser Origins allowed for /ws besides same-origin pages (an Origin whose host:port is
     * the Host header the browser sent, with this server's scheme). None: localhost and
     * 127.0.0.1 on this port are allowed too. */
    const char *const *origins;
    size_t n_origins;
    /* Reverse proxies ("10.0.0.5", "10.0.0.0/8", "fd00::/8"): the client address of their
     * connections comes from X-Forwarded-For / X-Real-IP (see net_conn_address). */
    const char *const *trusted_proxies;
    size_t n_trusted_proxies;
    size_t max_frame;       /* reassembled message cap, bytes */
    size_t max_queue_msgs;  /* per connection send queue cap, messages */
    size_t max_queue_bytes; /* per connection send queue cap, bytes */
    size_t max_pack_bytes;  /* pack queued messages into one array frame up to this (0: 64 KiB) */
    int max_connections;       /* refuse WebSockets beyond this (0 = fd limit - 64); sockets are
                                  also refused near the fd limit, so accept() never fails */
    int max_per_address;       /* WebSockets per client address (0 = no limit) */
    int ping_secs;             /* idle before ping */
    int hangup_secs;           /* idle before hang-up (> ping_secs) */
    const char *tls_cert, *tls_key; /* both set: serve wss:// and https:// */
    /* "ADDR:PORT": a second, plain-HTTP listener that serves /metrics, /healthz and /readyz
     * (through on_http) and nothing else; /metrics is then not served on the public port.
     * NULL: none. */
    const char *metrics_bind;
} net_options;

/* Creates the lws context on loop and starts listening. Returns 0, or -1 with a clear message
 * in err (port in use, bad address, ...). */
int net_start(net **out, uv_loop_t *loop, const net_options *opt, const net_callbacks *cb,
              char *err, size_t errlen);

/* SIGHUP: takes the options that may change while running from opt — origins, trusted
 * proxies, max_connections, max_per_address, max_frame, the queue bounds, ping_secs and
 * hangup_secs — for the connections and messages that come next; the rest of opt is ignored. */
void net_reconfigure(net *n, const net_options *opt);

/* Loads the TLS certificate and key again from their files (after a renewal): handshakes from
 * now on use them. Returns 0, or -1 with a message in err, the previous pair staying in use
 * (a certificate that does not match its key is refused). */
int net_reload_tls(net *n, char *err, size_t errlen);

/* The port actually listened on (useful with port 0). */
int net_port(const net *n);
/* The metrics listener's port (--metrics-bind), or -1. */
int net_metrics_port(const net *n);
/* WebSocket connections served at once: max_connections, or what the descriptor limit allows. */
int net_capacity(const net *n);

/* An address or network: "192.168.1.20", "10.0.0.0/8", "::1", "fd00::/8". */
typedef struct net_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
} net_cidr;
/* Parses text into *out. Returns 0, or -1 if it is not an address or ADDRESS/PREFIX. */
int net_cidr_parse(const char *text, net_cidr *out);
/* Splits "HOST:PORT" or "[V6]:PORT" (host without brackets). Returns 0, or -1. */
int net_split_host_port(const char *text, char *host, size_t hostcap, int *port);

/* Queues m (takes a reference) for c. If the queue is over its bound, the connection is
 * dropped as a slow consumer (closed asynchronously) and the message is not queued. */
void net_send(net_conn *c, net_msg *m);
/* Convenience: queues a malloc'd JSON text (ownership taken). */
void net_send_text(net_conn *c, char *text);

/* Closes c after its queued messages are written, with a close frame (code, reason). */
void net_close(net_conn *c, int code, const char *reason);

/* The per-connection send queue bounds (messages, bytes) in force. */
void net_queue_limits(const net *n, size_t *msgs, size_t *bytes);

/* The client's address as text ("192.168.1.20", "2001:db8::7"): the peer's, or for a
 * connection from a trusted proxy the rightmost X-Forwarded-For address that is not itself a
 * trusted proxy (X-Real-IP when there is no X-Forwarded-For). Per-address limits and logs use
 * it. Valid while c is. */
const char *net_conn_address(const net_conn *c);

typedef struct net_stats {
    uint64_t connections;      /* open WebSocket connections */
    uint64_t queued_msgs;      /* messages waiting in all send queues */
    uint64_t queued_bytes;
    uint64_t dropped_slow;     /* connections dropped for a full send queue */
    uint64_t refused;          /* connections refused (cap, origin, shutting down) */
    uint64_t refused_origin;   /* of which for a foreign Origin */
    uint64_t frames_written;
    uint64_t messages_written;
} net_stats;
void net_get_stats(const net *n, net_stats *out);

/* Begins shutdown: refuses new connections, closes every WebSocket with 1001 after its queue
 * is written. done(arg) is called once every connection is gone (or after timeout_ms). */
void net_shutdown(net *n, int timeout_ms, void (*done)(void *arg), void *arg);

/* First stage of teardown: lws starts closing its handles on the loop. The owner then closes
 * its own handles and lets uv_run() return once the loop has nothing left. */
void net_destroy(net *n);
/* Second stage, after uv_run() returned: lws frees the context; then net is freed. The owner
 * runs the loop once more (UV_RUN_NOWAIT) before uv_loop_close(). */
void net_free(net *n);
