/* main.c — forumd's start-up (options, descriptor limit, database, replay, producer key, demo
 * programme, listening, readiness to systemd), its signals (SIGHUP reloads, SIGTERM/SIGINT
 * drain and stop) and `forumd backup`. The options themselves are options.c's table; the demo
 * data is demo.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <uv.h>

#include "auth.h"
#include "cluster.h"
#include "demo.h"
#include "dispatch.h"
#include "forum.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "store.h"
#include "stream.h"
#include "viewer_page.h"

/* ---- start-up ---------------------------------------------------------------------------- */

typedef struct replay_ctx {
    forum_state *st;
    size_t count;
} replay_ctx;

static int replay_one(void *arg, const forum_event *ev)
{
    replay_ctx *r = arg;
    if (forum_replay(r->st, ev) != 0) {
        log_error("cannot replay event %s #%lld (%s): the database holds data this forumd does "
                  "not understand",
                  ev->session[0] ? ev->session : "(studio)", (long long)ev->seq,
                  forum_kind_name(ev->kind));
        return -1;
    }
    r->count++;
    return 0;
}

/* Sets hash_out to the producer key's hash: the configured key, else the saved one, else a
 * new key printed once (to stdout: the journal, for a service). */
static int producer_key(store *s, const config *c, char hash_out[65])
{
    if (c->producer_key[0]) {
        auth_sha256_hex(c->producer_key, strlen(c->producer_key), hash_out);
        return store_meta_set(s, "producer_key_hash", hash_out);
    }
    if (store_meta_get(s, "producer_key_hash", hash_out, 65) == 0 && strlen(hash_out) == 64)
        return 0;
    char key[33];
    auth_random_key(key, 32);
    auth_sha256_hex(key, strlen(key), hash_out);
    if (store_meta_set(s, "producer_key_hash", hash_out) != 0)
        return -1;
    printf("producer key: %s\n", key);
    printf("  (generated now and shown only once: keep it; the server stores only its hash)\n");
    return 0;
}

/* Raises the soft descriptor limit to the hard one (systemd starts services at 1024 soft).
 * Returns the limit in force afterwards; *before the one found. */
static long raise_fd_limit(long *before)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return *before = 1024;
    *before = rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        /* an unlimited hard limit is still capped by the kernel's fs.nr_open */
        if (want.rlim_cur == RLIM_INFINITY) {
            FILE *f = fopen("/proc/sys/fs/nr_open", "r");
            long nr = 1 << 20;
            if (f) {
                if (fscanf(f, "%ld", &nr) != 1)
                    nr = 1 << 20;
                fclose(f);
            }
            want.rlim_cur = (rlim_t)nr;
        }
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = want.rlim_cur;
        else
            log_warn("could not raise the descriptor limit from %ld to %llu: %s", *before,
                     (unsigned long long)want.rlim_cur, strerror(errno));
    }
    return rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
}

/* The address other machines reach this one at, for links when bound to every interface: the
 * source address of the default route (found by connecting a UDP socket, which sends nothing),
 * else the first non-loopback interface address, else loopback. */
static void lan_address(bool ipv6_bind, char *out, size_t cap)
{
    struct sockaddr_in probe = {.sin_family = AF_INET, .sin_port = htons(9)};
    inet_pton(AF_INET, "203.0.113.1", &probe.sin_addr); /* TEST-NET-3: only routed, never sent */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        struct sockaddr_in self;
        socklen_t len = sizeof self;
        bool ok = connect(fd, (struct sockaddr *)&probe, sizeof probe) == 0 &&
                  getsockname(fd, (struct sockaddr *)&self, &len) == 0 &&
                  self.sin_addr.s_addr != htonl(INADDR_ANY) &&
                  (ntohl(self.sin_addr.s_addr) >> 24) != 127;
        close(fd);
        if (ok && inet_ntop(AF_INET, &self.sin_addr, out, (socklen_t)cap))
            return;
    }
    struct ifaddrs *ifs = NULL;
    char v6[INET6_ADDRSTRLEN] = "";
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
                continue;
            if (i->ifa_addr->sa_family == AF_INET &&
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out,
                          (socklen_t)cap)) {
                freeifaddrs(ifs);
                return;
            }
            struct in6_addr *a6 = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
            if (i->ifa_addr->sa_family == AF_INET6 && !v6[0] && !IN6_IS_ADDR_LINKLOCAL(a6))
                inet_ntop(AF_INET6, a6, v6, sizeof v6);
        }
        freeifaddrs(ifs);
    }
    if (ipv6_bind && v6[0])
        snprintf(out, cap, "[%s]", v6);
    else
        snprintf(out, cap, "127.0.0.1");
}

/* The base of the printed links: the bound address, or the LAN address when bound to every
 * interface (a phone cannot open http://0.0.0.0:8080). */
static void base_url(const config *c, int port, char *out, size_t cap)
{
    char host[80];
    const char *scheme = c->tls_cert[0] ? "https" : "http";
    if (strcmp(c->bind, "0.0.0.0") == 0 || strcmp(c->bind, "::") == 0)
        lan_address(strcmp(c->bind, "::") == 0, host, sizeof host);
    else if (strchr(c->bind, ':'))
        snprintf(host, sizeof host, "[%s]", c->bind);
    else
        snprintf(host, sizeof host, "%s", c->bind);
    snprintf(out, cap, "%s://%s:%d", scheme, host, port);
}

/* ---- the running server -------------------------------------------------------------------- */

typedef struct server {
    uv_loop_t *loop;
    int argc;
    char **argv;
    config cfg;
    store *store;
    forum_state *st;
    dispatch *dispatch;
    net *net;
    uv_signal_t sigint, sigterm, sighup;
    store_batch drain;
    bool stopping;
    char public_url[FORUM_URL_MAX + 1];  /* --public-url, or the printed base address */
    char frame_ancestors[4096];          /* --frame-ancestors as CSP sources */
} server;

static void net_options_from(const config *c, net_options *o)
{
    static const char *origins[OPTIONS_MAX_ORIGINS], *proxies[OPTIONS_MAX_PROXIES];
    memset(o, 0, sizeof *o);
    o->bind = c->bind;
    o->port = c->port;
    o->web_root = c->web_root;
    for (size_t i = 0; i < c->n_origins; i++)
        origins[i] = c->origins[i];
    o->origins = origins;
    o->n_origins = c->n_origins;
    for (size_t i = 0; i < c->n_trusted_proxies; i++)
        proxies[i] = c->trusted_proxies[i];
    o->trusted_proxies = proxies;
    o->n_trusted_proxies = c->n_trusted_proxies;
    o->max_frame = (size_t)c->max_frame;
    o->max_queue_msgs = (size_t)c->queue_max_msgs;
    o->max_queue_bytes = (size_t)c->queue_max_bytes;
    o->max_connections = c->max_connections;
    o->max_per_address = c->max_per_address;
    o->ping_secs = c->ping_secs;
    o->hangup_secs = c->hangup_secs;
    o->tls_cert = c->tls_cert[0] ? c->tls_cert : NULL;
    o->tls_key = c->tls_key[0] ? c->tls_key : NULL;
    o->metrics_bind = c->metrics_bind[0] ? c->metrics_bind : NULL;
}

static void dispatch_rates_from(const config *c, dispatch_options *o)
{
    o->hello_timeout_ms = c->hello_timeout_s * 1000;
    o->sample_interval_ms = c->sample_secs * 1000;
    o->questions_per_min = c->rate_questions_per_min;
    o->questions_per_address_per_min = c->rate_questions_per_address_per_min;
    o->votes_per_sec = c->rate_votes_per_sec;
    o->messages_per_sec = c->rate_messages_per_sec;
}

/* --cluster: checks the database belongs to the cluster, catches up with its log and starts
 * following it. Returns 0, or -1 after logging why. */
static int join_cluster(server *sv, size_t events_in_db)
{
    config *c = &sv->cfg;
    char err[512], meta_id[64] = "", id[40], pos[32] = "", shown[256];
    if (!c->node[0]) {
        log_error("--cluster needs --node NAME");
        return -1;
    }
    store_meta_get(sv->store, "cluster_id", meta_id, sizeof meta_id);
    cluster_options co = {c->cluster, c->node, c->lease_ms, 0};
    cluster *cl;
    if (cluster_open(&cl, sv->loop, &co, meta_id, events_in_db > 0, id, err, sizeof err) != 0) {
        log_error("%s", err);
        return -1;
    }
    if (store_meta_set(sv->store, "cluster_id", id) != 0) {
        log_error("could not save the cluster id in %s", c->db);
        cluster_close(cl);
        return -1;
    }
    int64_t from = 0;
    if (store_meta_get(sv->store, "cluster_pos", pos, sizeof pos) == 0)
        from = strtoll(pos, NULL, 10);
    if (dispatch_attach_cluster(sv->dispatch, cl, from > 0 ? from : 0, err, sizeof err) != 0) {
        log_error("could not read the cluster log: %s", err);
        return -1;
    }
    config_redact_url(c->cluster, shown, sizeof shown);
    printf("cluster: node %s, log in Redis at %s\n", c->node, shown);
    return 0;
}

/* ---- SIGHUP -------------------------------------------------------------------------------- */

typedef struct reload_report {
    size_t applied, need_restart;
} reload_report;

static void report_change(void *arg, const char *name, bool live, const char *old_value,
                          const char *new_value)
{
    reload_report *r = arg;
    if (live) {
        r->applied++;
        log_info("reload: --%s %s -> %s", name, old_value, new_value);
    } else {
        r->need_restart++;
        log_warn("reload: --%s changed (%s -> %s) but needs a restart; still %s", name, old_value,
                 new_value, old_value);
    }
}

/* SIGHUP: re-reads the config file and applies what may change live, loads the TLS certificate
 * again and reopens the log file. Never stops the server: a config that does not parse is
 * reported and nothing changes. */
static void reload(server *sv)
{
    config *next = malloc(sizeof *next);
    char err[512];
    sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
               (unsigned long long)uv_hrtime() / 1000);
    if (!next) {
        log_error("reload: out of memory; nothing changed");
        goto done;
    }
    if (config_load(next, sv->argc, sv->argv, err, sizeof err) != 0) {
        log_error("reload: %s; nothing changed", err);
        goto done;
    }
    if (next->log_file[0] && log_open_file(next->log_file) != 0)
        log_error("reload: cannot open the log file %s: %s", next->log_file, strerror(errno));
    log_info("reload: SIGHUP received%s%s", sv->cfg.config_file[0] ? ", re-read " : "",
             sv->cfg.config_file);
    reload_report r = {0, 0};
    config_diff(&sv->cfg, next, report_change, &r);
    config_apply_live(&sv->cfg, next);
    log_set_level((log_level)sv->cfg.log_level);
    net_options nopt;
    net_options_from(&sv->cfg, &nopt);
    net_reconfigure(sv->net, &nopt);
    dispatch_options dopt;
    memset(&dopt, 0, sizeof dopt);
    dispatch_rates_from(&sv->cfg, &dopt);
    dispatch_set_rates(sv->dispatch, &dopt);
    if (sv->cfg.tls_cert[0]) {
        if (net_reload_tls(sv->net, err, sizeof err) == 0)
            log_info("reload: TLS certificate loaded again from %s", sv->cfg.tls_cert);
        else
            log_error("reload: %s; the previous certificate stays in use", err);
    }
    log_info("reload: %zu change%s applied, %zu need%s a restart", r.applied,
             r.applied == 1 ? "" : "s", r.need_restart, r.need_restart == 1 ? "s" : "");
done:
    free(next);
    sd_notify(0, "READY=1\nSTATUS=serving");
}

/* ---- shutdown ------------------------------------------------------------------------------ */

static void connections_closed(void *arg)
{
    server *sv = arg;
    dispatch_close_cluster(sv->dispatch);
    store_close(sv->store); /* commits whatever is still queued, then closes its handle */
    sv->store = NULL;
    net_destroy(sv->net);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
    uv_close((uv_handle_t *)&sv->sighup, NULL);
    /* uv_run() in main returns once lws and the store have closed their handles. */
}

static void drained(store_batch *b, int rc)
{
    server *sv = b->ctx;
    (void)rc;
    /* Every reply to a committed request is queued: close each connection with 1001. */
    net_shutdown(sv->net, 3000, connections_closed, sv);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server *sv = h->data;
    if (signum == SIGHUP) {
        if (!sv->stopping)
            reload(sv);
        return;
    }
    if (sv->stopping)
        return;
    sv->stopping = true;
    sd_notify(0, "STOPPING=1\nSTATUS=draining");
    log_info("%s received, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    dispatch_set_ready(sv->dispatch, false);
    dispatch_stop(sv->dispatch);
    memset(&sv->drain, 0, sizeof sv->drain);
    sv->drain.done = drained;
    sv->drain.ctx = sv;
    store_append(sv->store, &sv->drain);
}

/* `forumd backup PATH`: an online copy of the database (--db or the config's) into PATH, with
 * SQLite's backup API; a running server keeps serving meanwhile. Returns the exit code. */
static int run_backup(config *c, int argc, char **argv)
{
    if (argc < 3 || strncmp(argv[2], "--", 2) == 0) {
        fprintf(stderr, "forumd: usage: forumd backup PATH [--db PATH]\n");
        return 2;
    }
    const char *dest = argv[2];
    char err[512];
    argv[2] = argv[0]; /* parse the options after PATH as a command line of their own */
    int prc = config_load(c, argc - 2, argv + 2, err, sizeof err);
    if (prc != 0) {
        if (prc < 0)
            fprintf(stderr, "forumd: %s\n", err);
        return prc > 0 ? 0 : 2;
    }
    store_backup_info info;
    if (store_backup_file(c->db, dest, true, &info, err, sizeof err) != 0) {
        fprintf(stderr, "forumd: backup failed: %s\n", err);
        return 1;
    }
    printf("backed up %s to %s: %d pages, %lld bytes, %lld events, %lld ms\n", c->db, info.path,
           info.pages, (long long)info.bytes, (long long)info.events, (long long)info.elapsed_ms);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef __GLIBC__
    /* glibc gives freed memory back as soon as 128 KiB lie free at the top of a heap, with an
     * madvise (a TLB flush) and page faults to take it again: in a storm of submissions that
     * was a fifth of the store thread's time. Keep up to 16 MiB, and serve blocks up to 4 MiB
     * (welcomes, packed frames) from the heap instead of a fresh mmap each. */
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN); /* never fatal, not even during start-up (reload is set up later) */
    log_init();
    static server sv; /* the config is large (paths, lists): not on the stack */
    memset(&sv, 0, sizeof sv);
    sv.argc = argc;
    sv.argv = argv;
    config *c = &sv.cfg;
    char err[512] = "";
    if (argc >= 2 && strcmp(argv[1], "backup") == 0)
        return run_backup(c, argc, argv);
    int prc = config_load(c, argc, argv, err, sizeof err);
    if (prc != 0) {
        if (prc < 0)
            fprintf(stderr, "forumd: %s\n", err);
        return prc > 0 ? 0 : 2;
    }
    log_set_level((log_level)c->log_level);
    if (c->log_file[0] && log_open_file(c->log_file) != 0) {
        fprintf(stderr, "forumd: cannot open the log file %s: %s\n", c->log_file, strerror(errno));
        return 2;
    }
    long fd_before, fd_limit = raise_fd_limit(&fd_before);

    int exit_code = 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    sv.loop = &loop;

    store_options so = {c->db, c->synchronous == 0, 10000};
    if (store_open(&sv.store, &so, &loop, err, sizeof err) != 0) {
        log_error("%s", err);
        goto out_loop;
    }
    forum_limits limits;
    forum_limits_default(&limits);
    limits.question_max_chars = c->question_max_chars;
    limits.questions_per_session = c->questions_per_session;
    limits.stream_hosts = c->stream_hosts;
    limits.embed_hosts = c->embed_hosts;
    limits.webhook_hosts = c->webhook_hosts;
    sv.st = forum_new(&limits);
    replay_ctx rctx = {sv.st, 0};
    if (!sv.st || store_load(sv.store, replay_one, &rctx) != 0) {
        log_error("could not load %s", c->db);
        goto out_store;
    }
    char key_hash[65];
    if (producer_key(sv.store, c, key_hash) != 0) {
        log_error("could not save the producer key in %s", c->db);
        goto out_store;
    }

    dispatch_options dopt;
    memset(&dopt, 0, sizeof dopt);
    dopt.producer_key_hash = key_hash;
    dopt.limits = limits;
    dispatch_rates_from(c, &dopt);
    dopt.web_root = c->web_root;
    /* checked by config_load already */
    viewer_page_frame_ancestors_parse(c->frame_ancestors, sv.frame_ancestors,
                                      sizeof sv.frame_ancestors);
    dopt.frame_ancestors = sv.frame_ancestors;
    dopt.public_url = sv.public_url; /* filled in once the port is known */
    dopt.webhook_hosts = c->webhook_hosts;
    dopt.webhook_timeout_ms = c->webhook_timeout_ms;
    sv.dispatch = dispatch_new(&loop, sv.st, sv.store, &dopt);
    if (!sv.dispatch)
        goto out_store;
    if (c->cluster[0] && join_cluster(&sv, rctx.count) != 0)
        goto out_dispatch;

    net_options nopt;
    net_options_from(c, &nopt);
    net_callbacks cb = dispatch_net_callbacks(sv.dispatch);
    if (net_start(&sv.net, &loop, &nopt, &cb, err, sizeof err) != 0) {
        log_error("%s", err);
        goto out_dispatch;
    }
    dispatch_set_net(sv.dispatch, sv.net);

    /* Signals are handled from here on: whoever reads "listening on" may send one. */
    uv_signal_init(&loop, &sv.sigint);
    uv_signal_init(&loop, &sv.sigterm);
    uv_signal_init(&loop, &sv.sighup);
    sv.sigint.data = sv.sigterm.data = sv.sighup.data = &sv;
    uv_signal_start(&sv.sigint, on_signal, SIGINT);
    uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&sv.sighup, on_signal, SIGHUP);
    char base[160];
    base_url(c, net_port(sv.net), base, sizeof base);
    if (!c->public_url[0] ||
        viewer_page_public_url_parse(c->public_url, sv.public_url, sizeof sv.public_url))
        snprintf(sv.public_url, sizeof sv.public_url, "%s", base);
    if (rctx.count == 0 && !c->no_demo && !c->cluster[0] && demo_create(sv.st, sv.store, base) != 0)
        log_warn("continuing without the demo programme");
    printf("producer page:  %s/producer\n", base);
    printf("database: %s (%zu events replayed, synchronous=%s)\n", c->db, rctx.count,
           c->synchronous == 0 ? "full" : "normal");
    if (fd_limit != fd_before)
        printf("descriptor limit: %ld (raised from %ld)\n", fd_limit, fd_before);
    else
        printf("descriptor limit: %ld\n", fd_limit);
    printf("capacity: %d WebSocket connections at once\n", net_capacity(sv.net));
    char mhost[64];
    int mport;
    if (c->metrics_bind[0] &&
        net_split_host_port(c->metrics_bind, mhost, sizeof mhost, &mport) == 0)
        printf("metrics: http://%s%s%s:%d/metrics (not on the public port)\n",
               strchr(mhost, ':') ? "[" : "", mhost, strchr(mhost, ':') ? "]" : "",
               net_metrics_port(sv.net));
    printf("listening on %s://%s%s%s:%d\n", c->tls_cert[0] ? "https" : "http",
           strchr(c->bind, ':') ? "[" : "", c->bind, strchr(c->bind, ':') ? "]" : "",
           net_port(sv.net));

    dispatch_set_ready(sv.dispatch, true);
    sd_notifyf(0, "READY=1\nSTATUS=serving on port %d, up to %d connections", net_port(sv.net),
               net_capacity(sv.net));

    uv_run(&loop, UV_RUN_DEFAULT);
    exit_code = 0;
    net_free(sv.net);
    uv_run(&loop, UV_RUN_NOWAIT);
    forum_free(dispatch_state(sv.dispatch));
    dispatch_free(sv.dispatch);
    goto out_loop;

out_dispatch:
    dispatch_close_cluster(sv.dispatch);
    dispatch_stop(sv.dispatch);
    uv_run(&loop, UV_RUN_NOWAIT);
    dispatch_free(sv.dispatch);
out_store:
    store_close(sv.store);
    uv_run(&loop, UV_RUN_NOWAIT);
    forum_free(sv.st);
out_loop:
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0 && exit_code == 0)
        log_warn("handles left open at exit");
    return exit_code;
}
