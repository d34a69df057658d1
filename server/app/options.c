/* options.c — the option table and everything it drives: parsing the command line and the
 * config file, the defaults, --help, the man page, and which options SIGHUP may change. See
 * options.h. */
#include "options.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forum_build.h"
#include "log.h"
#include "net.h"
#include "stream.h"
#include "viewer_page.h"

#ifndef FORUM_WEB_ROOT_FROM_BINDIR
#define FORUM_WEB_ROOT_FROM_BINDIR "../share/forum/web-client"
#endif

typedef enum opt_kind {
    OPT_INT,    /* int field, range min..max */
    OPT_STRING, /* char[size] field */
    OPT_LIST,   /* char[max][size] field with a size_t count at count_offset; repeatable */
    OPT_FLAG,   /* bool field, no value on the command line (true/false/yes/no/1/0 in a file) */
    OPT_CHOICE, /* int field: the index of the value in choices ("a|b") */
    OPT_LEVEL,  /* int field: a log level name */
    OPT_CONFIG, /* --config: read before everything else */
    OPT_ACTION, /* --help, --version, --man-page: print and exit */
} opt_kind;

typedef struct option_spec {
    const char *name;
    const char *arg; /* the value's placeholder in --help (NULL: takes none) */
    opt_kind kind;
    size_t offset, size, count_offset;
    long min, max;       /* OPT_INT: range; OPT_LIST: max is the most values */
    const char *choices; /* OPT_CHOICE */
    const char *def;     /* the default as it would be written, applied by config_load */
    bool live;           /* SIGHUP applies a changed value */
    bool secret;         /* never shown: "(secret)" */
    /* Extra validation after the generic one; returns 0 or -1 with err filled. */
    int (*check)(const char *value, char *err, size_t errlen);
    const char *help;
} option_spec;

static int check_producer_key(const char *v, char *err, size_t errlen);
static int check_proxy(const char *v, char *err, size_t errlen);
static int check_listen_address(const char *v, char *err, size_t errlen);
static int check_cluster_url(const char *v, char *err, size_t errlen);
static int check_public_url(const char *v, char *err, size_t errlen);
static int check_frame_ancestors(const char *v, char *err, size_t errlen);
static int check_stream_hosts(const char *v, char *err, size_t errlen);
static int check_embed_hosts(const char *v, char *err, size_t errlen);
static int check_webhook_hosts(const char *v, char *err, size_t errlen);

#define FIELD(f) offsetof(config, f), sizeof(((config *)0)->f), 0
#define LIST(f, count) offsetof(config, f), sizeof(((config *)0)->f[0]), offsetof(config, count)

/* The table, in --help order. A row's help text is one paragraph (wrapped when printed); the
 * default, when there is one, is appended from def. */
static const option_spec options[] = {
    {"config", "FILE", OPT_CONFIG, FIELD(config_file), 0, 0, NULL, NULL, false, false, NULL,
     "read options from FILE first, one `name = value` per line (`#` starts a comment); "
     "command-line flags win. SIGHUP re-reads it"},
    {"port", "N", OPT_INT, FIELD(port), 0, 65535, NULL, "8080", false, false, NULL,
     "TCP port (0 picks a free one and prints it)"},
    {"bind", "ADDR", OPT_STRING, FIELD(bind), 0, 0, NULL, "127.0.0.1", false, false, NULL,
     "address to listen on: 0.0.0.0 or :: for every interface (the printed links then use "
     "this machine's LAN address)"},
    {"db", "PATH", OPT_STRING, FIELD(db), 0, 0, NULL, NULL, false, false, NULL,
     "SQLite database file, created if missing (default: $STATE_DIRECTORY/forum.db under "
     "systemd, else ./data/forum.db)"},
    {"web-root", "DIR", OPT_STRING, FIELD(web_root), 0, 0, NULL, NULL, false, false, NULL,
     "the web client's files (default: share/forum/web-client next to the installed binary's "
     "bin/, or the source tree's web-client/ for a binary in the build tree)"},
    {"producer-key", "KEY", OPT_STRING, FIELD(producer_key), 0, 0, NULL, NULL, false, true,
     check_producer_key,
     "the producer key, at least 12 characters (default: the one saved in the database; on "
     "the first start one is generated and printed once). Visible in `ps`: prefer "
     "--producer-key-file or FORUM_PRODUCER_KEY"},
    {"producer-key-file", "PATH", OPT_STRING, FIELD(producer_key_file), 0, 0, NULL, NULL, false,
     false, NULL, "read the producer key from the first line of PATH"},
    {"origin", "URL", OPT_LIST, LIST(origins, n_origins), 0, OPTIONS_MAX_ORIGINS, NULL, NULL, true,
     false, NULL,
     "another allowed browser Origin for /ws, exact match, repeatable. Pages this server "
     "served itself (Origin equal to the Host the browser asked) are always allowed; without "
     "--origin so are http://localhost:PORT and http://127.0.0.1:PORT"},
    {"trusted-proxy", "CIDR", OPT_LIST, LIST(trusted_proxies, n_trusted_proxies), 0,
     OPTIONS_MAX_PROXIES, NULL, NULL, true, false, check_proxy,
     "a reverse proxy (address or network, e.g. 10.0.0.5 or 10.0.0.0/8), repeatable: for "
     "connections from it the client address is taken from X-Forwarded-For (the rightmost "
     "address that is not a trusted proxy) or X-Real-IP, for per-address limits and logs"},
    {"synchronous", "MODE", OPT_CHOICE, FIELD(synchronous), 0, 0, "full|normal", "full", false,
     false, NULL,
     "full: an acknowledged request survives power loss; normal: it survives a crash of "
     "forumd, not of the machine"},
    {"no-demo", NULL, OPT_FLAG, FIELD(no_demo), 0, 0, NULL, NULL, false, false, NULL,
     "do not create the demo programme in an empty database"},
    {"max-frame", "BYTES", OPT_INT, FIELD(max_frame), 1024, 16 << 20, NULL, "65536", true, false,
     NULL, "largest WebSocket message accepted"},
    {"max-question-chars", "N", OPT_INT, FIELD(question_max_chars), 1, 10000, NULL, "500", false,
     false, NULL, "question length limit in characters (code points)"},
    {"max-questions-per-session", "N", OPT_INT, FIELD(questions_per_session), 1, 1000000, NULL,
     "20000", false, false, NULL,
     "questions one session accepts; past it question.submit gets rate_limited (each costs "
     "memory for as long as forumd runs: about 2 KiB with its similarity index)"},
    {"max-connections", "N", OPT_INT, FIELD(max_connections), 1, 1000000, NULL, NULL, true, false,
     NULL,
     "WebSocket connections at once (default: the descriptor limit - 64, which forumd raises "
     "to its hard limit at start; sockets past the limit - 32 are refused at accept)"},
    {"max-connections-per-address", "N", OPT_INT, FIELD(max_per_address), 0, 1000000, NULL, "5000",
     true, false, NULL, "WebSockets from one client address (0 = no limit)"},
    {"queue-max-msgs", "N", OPT_INT, FIELD(queue_max_msgs), 16, 1000000, NULL, "4096", true, false,
     NULL, "per-connection send queue, messages"},
    {"queue-max-bytes", "N", OPT_INT, FIELD(queue_max_bytes), 65536, 1L << 30, NULL, "8388608",
     true, false, NULL, "per-connection send queue, bytes"},
    {"hello-timeout", "SECS", OPT_INT, FIELD(hello_timeout_s), 1, 3600, NULL, "10", true, false,
     NULL, "close connections that send no hello"},
    {"ping-secs", "SECS", OPT_INT, FIELD(ping_secs), 1, 3600, NULL, "30", true, false, NULL,
     "ping a WebSocket that sent nothing for this long"},
    {"hangup-secs", "SECS", OPT_INT, FIELD(hangup_secs), 2, 7200, NULL, "60", true, false, NULL,
     "close one that stays silent this long, pongs count (longer than --ping-secs)"},
    {"sample-secs", "SECS", OPT_INT, FIELD(sample_secs), 1, 86400, NULL, "60", false, false, NULL,
     "record each open or live session's audience this often (viewers.sampled: the report's "
     "curve)"},
    {"rate-questions-per-min", "N", OPT_INT, FIELD(rate_questions_per_min), 1, 1000000, NULL, "6",
     true, false, NULL,
     "questions per viewer per minute, for sessions that set no rate of their own"},
    {"rate-questions-per-address-per-min", "N", OPT_INT, FIELD(rate_questions_per_address_per_min),
     0, 1000000, NULL, "600", true, false, NULL,
     "questions per client address per minute, whatever viewer tokens it uses (tokens are "
     "free to mint), a minute's worth at once; generous, as many residents may share one "
     "carrier address, and behind a proxy set --trusted-proxy (0 = no address budget)"},
    {"rate-votes-per-sec", "N", OPT_INT, FIELD(rate_votes_per_sec), 1, 1000000, NULL, "10", true,
     false, NULL, "votes and ballots per viewer per second"},
    {"rate-messages-per-sec", "N", OPT_INT, FIELD(rate_messages_per_sec), 1, 1000000, NULL, "50",
     true, false, NULL, "requests per connection per second, burst 2x"},
    {"tls-cert", "FILE", OPT_STRING, FIELD(tls_cert), 0, 0, NULL, NULL, false, false, NULL,
     "PEM certificate (chain): serve https:// and wss:// (with --tls-key). SIGHUP loads the "
     "files again (a renewed certificate)"},
    {"tls-key", "FILE", OPT_STRING, FIELD(tls_key), 0, 0, NULL, NULL, false, false, NULL,
     "PEM private key"},
    {"metrics-bind", "ADDR:PORT", OPT_STRING, FIELD(metrics_bind), 0, 0, NULL, NULL, false, false,
     check_listen_address,
     "serve /metrics (and /healthz, /readyz) on this private address instead of the public "
     "port, e.g. 127.0.0.1:9090 or [::1]:9090 (port 0 picks a free one and prints it)"},
    {"log-level", "LEVEL", OPT_LEVEL, FIELD(log_level), 0, 0, NULL, "info", true, false, NULL,
     "error, warning, info or debug"},
    {"log-file", "PATH", OPT_STRING, FIELD(log_file), 0, 0, NULL, NULL, true, false, NULL,
     "append log lines to PATH instead of stderr; SIGHUP reopens it (after logrotate)"},
    {"cluster", "URL", OPT_STRING, FIELD(cluster), 0, 0, NULL, NULL, false, false,
     check_cluster_url,
     "redis://[USER:PASSWORD@]HOST[:PORT][/DB]: join a cluster of nodes sharing one log in "
     "Redis (AUTH and SELECT when given; the password is never logged); needs --node and an "
     "empty database"},
    {"node", "NAME", OPT_STRING, FIELD(node), 0, 0, NULL, NULL, false, false, NULL,
     "this node's name in the cluster (letters, digits, _ . -)"},
    {"lease-ms", "N", OPT_INT, FIELD(lease_ms), 300, 600000, NULL, "3000", false, false, NULL,
     "cluster leader lease, renewed every N/3 ms"},
    {"public-url", "URL", OPT_STRING, FIELD(public_url), 0, 0, NULL, NULL, false, false,
     check_public_url,
     "the address people reach this server at (behind a proxy, its https:// name), for the "
     "join link, its QR code and share cards (default: the printed base address)"},
    {"frame-ancestors", "LIST", OPT_STRING, FIELD(frame_ancestors), 0, 0, NULL, NULL, false,
     false, check_frame_ancestors,
     "sites that may show the viewer page in a frame (a portal), origins separated by commas: "
     "https://www.example.gov.cn,https://*.example.cn (default: none)"},
    {"stream-hosts", "LIST", OPT_STRING, FIELD(stream_hosts), 0, 0, NULL,
     FORUM_DEFAULT_STREAM_HOSTS, false, false, check_stream_hosts,
     "hosts a session's HLS stream may come from, comma-separated, *.domain for every host "
     "below it, * for any"},
    {"embed-hosts", "LIST", OPT_STRING, FIELD(embed_hosts), 0, 0, NULL,
     FORUM_DEFAULT_EMBED_HOSTS, false, false, check_embed_hosts,
     "hosts whose player a session may embed in the viewer page ('' for none)"},
    {"webhook-hosts", "LIST", OPT_STRING, FIELD(webhook_hosts), 0, 0, NULL, NULL, false, false,
     check_webhook_hosts,
     "hosts outgoing webhooks may call besides this machine (localhost, 127.0.0.0/8, [::1]), "
     "comma-separated, *.domain for every host below it: e.g. "
     "qyapi.weixin.qq.com,oapi.dingtalk.com,open.feishu.cn. A webhook for any other host is "
     "refused when it is registered and not called (default: none, loopback only)"},
    {"webhook-timeout-ms", "MS", OPT_INT, FIELD(webhook_timeout_ms), 100, 120000, NULL, "10000",
     false, false, NULL,
     "how long one webhook delivery may take, connecting included; a slower receiver counts as "
     "failed and is tried again later"},
    {"help", NULL, OPT_ACTION, 0, 0, 0, 0, 0, NULL, NULL, false, false, NULL, "this text"},
    {"version", NULL, OPT_ACTION, 0, 0, 0, 0, 0, NULL, NULL, false, false, NULL,
     "print the version"},
    {"man-page", NULL, OPT_ACTION, 0, 0, 0, 0, 0, NULL, NULL, false, false, NULL,
     "print this text as a man page (roff), as installed in forumd(8)"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

/* The prose around the options, shared by --help and the man page. */
static const char summary[] = "the forum server for live-streamed panel shows";
static const char *const synopsis[] = {
    "forumd [options]",
    "forumd backup PATH [--db PATH] [--config FILE]",
    "forumd --help | --version | --man-page",
};
static const char description[] =
    "One WebSocket (/ws) for viewers, moderators and producers, the web client over HTTP on "
    "the same port, every event of every session durable in SQLite before anyone is told "
    "about it. `forumd backup PATH` copies the database while a server keeps serving.";
static const struct {
    const char *title, *text;
} sections[] = {
    {"signals",
     "SIGTERM, SIGINT: refuse new connections, finish pending commits, close every "
     "WebSocket with 1001, exit 0. SIGHUP (systemctl reload): re-read the config file and "
     "apply the options marked [reload], load the TLS certificate again, reopen --log-file; "
     "log what changed, and name changed options that need a restart. SIGHUP never stops "
     "the server."},
    {"environment",
     "FORUM_PRODUCER_KEY: the producer key when neither --producer-key nor "
     "--producer-key-file is given. STATE_DIRECTORY (set by systemd's StateDirectory=): the "
     "default database directory. JOURNAL_STREAM (set by systemd): log lines then carry the "
     "journal's priority prefixes instead of timestamps. NOTIFY_SOCKET (set by systemd for "
     "Type=notify): forumd reports READY=1 once listening, RELOADING=1 on SIGHUP and "
     "STOPPING=1 when it drains."},
    {"files",
     "/etc/forum/forumd.conf: the packaged service's config file. /var/lib/forum/forum.db: "
     "its database. /usr/share/forum/web-client: the web client. /usr/share/doc/forum: the "
     "documentation (operations.md: running it as a service, metrics, backups)."},
};

/* ---- validation ---------------------------------------------------------------------------- */

static int check_producer_key(const char *v, char *err, size_t errlen)
{
    if (strlen(v) < 12) {
        snprintf(err, errlen, "the producer key must be at least 12 characters");
        return -1;
    }
    return 0;
}

static int check_proxy(const char *v, char *err, size_t errlen)
{
    net_cidr cidr;
    if (net_cidr_parse(v, &cidr) != 0) {
        snprintf(err, errlen, "--trusted-proxy wants an address or ADDRESS/PREFIX, got '%s'", v);
        return -1;
    }
    return 0;
}

static int check_listen_address(const char *v, char *err, size_t errlen)
{
    char host[64];
    int port;
    if (net_split_host_port(v, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "--metrics-bind wants ADDR:PORT (e.g. 127.0.0.1:9090), got '%s'", v);
        return -1;
    }
    return 0;
}

static int check_cluster_url(const char *v, char *err, size_t errlen)
{
    if (strncmp(v, "redis://", 8) != 0) {
        snprintf(err, errlen, "--cluster takes redis://[USER:PASSWORD@]HOST[:PORT][/DB]");
        return -1;
    }
    return 0;
}

static int check_public_url(const char *v, char *err, size_t errlen)
{
    char url[FORUM_URL_MAX + 1];
    const char *why = viewer_page_public_url_parse(v, url, sizeof url);
    if (why)
        snprintf(err, errlen, "--public-url: %s", why);
    return why ? -1 : 0;
}

static int check_frame_ancestors(const char *v, char *err, size_t errlen)
{
    char csp[4096];
    const char *why = viewer_page_frame_ancestors_parse(v, csp, sizeof csp);
    if (why)
        snprintf(err, errlen, "%s", why);
    return why ? -1 : 0;
}

static int check_host_list(const char *flag, const char *v, char *err, size_t errlen)
{
    const char *why = forum_host_list_check(v);
    if (why)
        snprintf(err, errlen, "--%s: %s", flag, why);
    return why ? -1 : 0;
}

static int check_stream_hosts(const char *v, char *err, size_t errlen)
{
    return check_host_list("stream-hosts", v, err, errlen);
}

static int check_embed_hosts(const char *v, char *err, size_t errlen)
{
    return check_host_list("embed-hosts", v, err, errlen);
}

static int check_webhook_hosts(const char *v, char *err, size_t errlen)
{
    return check_host_list("webhook-hosts", v, err, errlen);
}

/* ---- setting one option -------------------------------------------------------------------- */

typedef struct parse_ctx {
    config *c;
    bool list_given[N_OPTIONS]; /* in the layer being parsed: the first value replaces */
} parse_ctx;

static const option_spec *find_option(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "1", "on"}, *const no[] = {"false", "no", "0",
                                                                                "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Index of v among choices "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v)
{
    int i = 0;
    for (const char *p = choices; *p; i++) {
        size_t n = strcspn(p, "|");
        if (strlen(v) == n && strncmp(p, v, n) == 0)
            return i;
        p += n + (p[n] == '|');
    }
    return -1;
}

/* Applies one option (v NULL: given without a value). Returns 0, or -1 with err filled. */
static int set_option(parse_ctx *px, const option_spec *o, const char *v, char *err, size_t errlen)
{
    char *field = (char *)px->c + o->offset;
    if (o->kind == OPT_FLAG) {
        bool b = true;
        if (v && parse_bool(v, &b) != 0) {
            snprintf(err, errlen, "--%s is true or false, got '%s'", o->name, v);
            return -1;
        }
        *(bool *)field = b;
        return 0;
    }
    if (!v) {
        snprintf(err, errlen, "--%s needs a value", o->name);
        return -1;
    }
    if (o->check && o->check(v, err, errlen) != 0)
        return -1;
    switch (o->kind) {
    case OPT_INT: {
        char *end;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || *end || end == v || x < o->min || x > o->max) {
            snprintf(err, errlen, "--%s wants a number from %ld to %ld, got '%s'", o->name, o->min,
                     o->max, v);
            return -1;
        }
        *(int *)field = (int)x;
        return 0;
    }
    case OPT_STRING:
    case OPT_CONFIG:
        if (strlen(v) >= o->size) {
            snprintf(err, errlen, "--%s value is too long", o->name);
            return -1;
        }
        memcpy(field, v, strlen(v) + 1);
        /* the key and the key file are one setting: the one given last wins */
        if (strcmp(o->name, "producer-key") == 0)
            px->c->producer_key_file[0] = '\0';
        else if (strcmp(o->name, "producer-key-file") == 0)
            px->c->producer_key[0] = '\0';
        return 0;
    case OPT_LIST: {
        size_t *count = (size_t *)((char *)px->c + o->count_offset);
        size_t i = (size_t)(o - options);
        if (!px->list_given[i]) {
            px->list_given[i] = true;
            *count = 0;
        }
        if (*count == (size_t)o->max) {
            snprintf(err, errlen, "at most %ld --%s values", o->max, o->name);
            return -1;
        }
        if (strlen(v) >= o->size) {
            snprintf(err, errlen, "--%s value is too long", o->name);
            return -1;
        }
        memcpy(field + *count * o->size, v, strlen(v) + 1);
        (*count)++;
        return 0;
    }
    case OPT_CHOICE: {
        int k = choice_index(o->choices, v);
        if (k < 0) {
            snprintf(err, errlen, "--%s is one of %s, got '%s'", o->name, o->choices, v);
            return -1;
        }
        *(int *)field = k;
        return 0;
    }
    case OPT_LEVEL: {
        int l = log_level_parse(v);
        if (l < 0) {
            snprintf(err, errlen, "--%s is error, warning, info or debug, got '%s'", o->name, v);
            return -1;
        }
        *(int *)field = l;
        return 0;
    }
    case OPT_FLAG:
    case OPT_ACTION:
        break;
    }
    return 0;
}

/* ---- the config file and the command line ---------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int read_config_file(parse_ctx *px, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], why[400];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        char *name = s, *value = NULL;
        if (eq) {
            *eq = '\0';
            value = trim(eq + 1);
            name = trim(name);
        }
        if (strncmp(name, "--", 2) == 0)
            name += 2;
        const option_spec *o = find_option(name);
        if (!o || o->kind == OPT_ACTION || o->kind == OPT_CONFIG) {
            snprintf(why, sizeof why, "unknown option '%s'", name);
            rc = -1;
        } else {
            rc = set_option(px, o, value, why, sizeof why);
        }
        if (rc != 0) {
            snprintf(err, errlen, "%s (in %s line %d)", why, path, lineno);
            break;
        }
    }
    fclose(f);
    return rc;
}

/* Reads the producer key from the first line of path into c. */
static int read_key_file(config *c, char *err, size_t errlen)
{
    FILE *f = fopen(c->producer_key_file, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read the producer key file %s: %s", c->producer_key_file,
                 strerror(errno));
        return -1;
    }
    char line[sizeof c->producer_key + 2] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    struct stat st;
    bool world_readable = fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH);
    fclose(f);
    char *key = trim(line);
    if (!got || strlen(key) >= sizeof c->producer_key || check_producer_key(key, err, errlen)) {
        snprintf(err, errlen,
                 "the producer key file %s must hold a key of 12 to %zu characters "
                 "on its first line",
                 c->producer_key_file, sizeof c->producer_key - 1);
        return -1;
    }
    if (world_readable)
        log_warn("the producer key file %s is readable by every user (chmod o-r)",
                 c->producer_key_file);
    snprintf(c->producer_key, sizeof c->producer_key, "%s", key);
    return 0;
}

/* The web client next to the binary: BINDIR/../share/forum/web-client when installed, or the
 * link to the source tree's web-client/ that the build puts beside a binary in the build tree. */
static void default_web_root(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, cap, "web-client");
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    struct stat st;
    char cache[PATH_MAX];
    int w = snprintf(cache, sizeof cache, "%s/CMakeCache.txt", exe);
    int v = snprintf(out, cap, "%s/web-client", exe);
    if (w > 0 && (size_t)w < sizeof cache && v > 0 && (size_t)v < cap && access(cache, F_OK) == 0 &&
        stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        return; /* a build tree, never an install prefix */
    if (snprintf(out, cap, "%s/%s", exe, FORUM_WEB_ROOT_FROM_BINDIR) >= (int)cap)
        snprintf(out, cap, "web-client");
}

static void apply_defaults(parse_ctx *px)
{
    char err[200];
    memset(px->c, 0, sizeof *px->c);
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].def)
            set_option(px, &options[i], options[i].def, err, sizeof err);
}

/* Splits "--name=value" / "--name value"; returns the option or NULL (err filled). */
static const option_spec *command_line_option(int argc, char **argv, int *i, const char **value,
                                              char *err, size_t errlen)
{
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0) {
        snprintf(err, errlen, "unexpected argument '%s' (see forumd --help)", arg);
        return NULL;
    }
    char name[64];
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    const option_spec *o = NULL;
    if (nlen < sizeof name) {
        memcpy(name, arg + 2, nlen);
        name[nlen] = '\0';
        o = find_option(name);
    }
    if (!o) {
        snprintf(err, errlen, "unknown option %.*s (see forumd --help)", (int)(eq ? eq - arg : 80),
                 arg);
        return NULL;
    }
    *value = NULL;
    if (eq)
        *value = eq + 1;
    else if (o->arg && *i + 1 < argc)
        *value = argv[++*i];
    return o;
}

int config_load(config *c, int argc, char **argv, char *err, size_t errlen)
{
    parse_ctx px;
    memset(&px, 0, sizeof px);
    px.c = c;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            options_usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("forumd %s (commit %s)\n", FORUM_VERSION, FORUM_COMMIT);
            return 1;
        }
        if (strcmp(argv[i], "--man-page") == 0) {
            options_man_page(stdout);
            return 1;
        }
    }
    apply_defaults(&px);
    /* the config file first, so that flags override it */
    for (int i = 1; i < argc; i++) {
        const char *v;
        const option_spec *o = command_line_option(argc, argv, &i, &v, err, errlen);
        if (!o)
            return -1;
        if (o->kind != OPT_CONFIG)
            continue;
        if (set_option(&px, o, v, err, errlen) != 0 ||
            read_config_file(&px, c->config_file, err, errlen) != 0)
            return -1;
    }
    memset(px.list_given, 0, sizeof px.list_given);
    for (int i = 1; i < argc; i++) {
        const char *v;
        const option_spec *o = command_line_option(argc, argv, &i, &v, err, errlen);
        if (!o)
            return -1;
        if (o->kind != OPT_CONFIG && set_option(&px, o, v, err, errlen) != 0)
            return -1;
    }

    if (c->producer_key_file[0]) {
        if (read_key_file(c, err, errlen) != 0)
            return -1;
    } else if (!c->producer_key[0] && getenv("FORUM_PRODUCER_KEY")) {
        const char *k = getenv("FORUM_PRODUCER_KEY");
        if (strlen(k) >= sizeof c->producer_key || check_producer_key(k, err, errlen) != 0) {
            snprintf(err, errlen, "FORUM_PRODUCER_KEY must hold 12 to %zu characters",
                     sizeof c->producer_key - 1);
            return -1;
        }
        snprintf(c->producer_key, sizeof c->producer_key, "%s", k);
    }
    if (!c->db[0]) {
        const char *state = getenv("STATE_DIRECTORY"); /* systemd: may list several, ':' */
        if (state && *state && *state == '/')
            snprintf(c->db, sizeof c->db, "%.*s/forum.db", (int)strcspn(state, ":"), state);
        else
            snprintf(c->db, sizeof c->db, "./data/forum.db");
    }
    if (!c->web_root[0])
        default_web_root(c->web_root, sizeof c->web_root);
    if (c->hangup_secs <= c->ping_secs) {
        snprintf(err, errlen,
                 "--hangup-secs must be longer than --ping-secs (a client needs time "
                 "to answer the ping)");
        return -1;
    }
    if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0')) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return -1;
    }
    return 0;
}

/* ---- printing ------------------------------------------------------------------------------ */

/* Writes text wrapped to width, every line but the first starting at column indent; col is
 * the column the first line starts at. */
static void wrap(FILE *out, const char *text, int col, int indent, int width)
{
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > indent && col + 1 + (int)word > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, word, out);
        col += (int)word;
        p += word;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

/* The option's help text with its default and [reload] mark, in buf. */
static void option_text(const option_spec *o, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s", o->help);
    if (o->def && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " (default %s)", o->def);
    if (o->live && n >= 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, " [reload]");
}

void options_usage(FILE *out)
{
    for (size_t i = 0; i < sizeof synopsis / sizeof synopsis[0]; i++)
        fprintf(out, "%s%s\n", i ? "       " : "usage: ", synopsis[i]);
    fputc('\n', out);
    fprintf(out, "forumd: %s.", summary);
    wrap(out, description, 9 + (int)strlen(summary), 0, 96);
    fputc('\n', out);
    wrap(out,
         "options (each may also be set in the --config file as `name = value`; "
         "[reload]: SIGHUP applies a change made in the file):",
         0, 0, 96);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_spec *o = &options[i];
        char head[64], text[1024];
        int col = snprintf(head, sizeof head, "  --%s%s%s", o->name, o->arg ? " " : "",
                           o->arg ? o->arg : "");
        fputs(head, out);
        if (col >= 24) {
            fprintf(out, "\n%24s", "");
            col = 24;
        }
        fprintf(out, "%*s", 24 - col, "");
        option_text(o, text, sizeof text);
        wrap(out, text, 24, 24, 96);
    }
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        fprintf(out, "\n%s:\n  ", sections[i].title);
        wrap(out, sections[i].text, 2, 2, 96);
    }
}

/* roff: backslashes and hyphens escaped, a leading '.' or '\'' neutralised. */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

void options_man_page(FILE *out)
{
    fprintf(out, ".\\\" generated by forumd --man-page from its option table: do not edit\n");
    fprintf(out, ".TH FORUMD 8 \"\" \"forumd %s\" \"System Administration\"\n", FORUM_VERSION);
    fputs(".SH NAME\nforumd \\- ", out);
    roff(out, summary);
    fputs("\n.SH SYNOPSIS\n", out);
    for (size_t i = 0; i < sizeof synopsis / sizeof synopsis[0]; i++) {
        fputs(i ? ".br\n" : "", out);
        roff(out, synopsis[i]);
        fputc('\n', out);
    }
    fputs(".SH DESCRIPTION\n", out);
    roff(out, description);
    fputs("\n.SH OPTIONS\nEach option may also be set in the \\fB\\-\\-config\\fR file as "
          "\\fIname\\fR = \\fIvalue\\fR; [reload]: SIGHUP applies a change made in the file.\n",
          out);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_spec *o = &options[i];
        char text[1024];
        fputs(".TP\n\\fB", out);
        roff(out, "--");
        roff(out, o->name);
        fputs("\\fR", out);
        if (o->arg) {
            fputs(" \\fI", out);
            roff(out, o->arg);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        option_text(o, text, sizeof text);
        roff(out, text);
        fputc('\n', out);
    }
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        fputs(".SH ", out);
        for (const char *t = sections[i].title; *t; t++)
            fputc(*t >= 'a' && *t <= 'z' ? *t - 32 : *t, out);
        fputc('\n', out);
        roff(out, sections[i].text);
        fputc('\n', out);
    }
    fputs(".SH SEE ALSO\n\\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1); README.md and docs/ in "
          "/usr/share/doc/forum\n",
          out);
}

/* ---- comparing ----------------------------------------------------------------------------- */

void config_redact_url(const char *url, char *out, size_t cap)
{
    const char *at = strrchr(url, '@');
    const char *auth = strstr(url, "://");
    if (!at || !auth || at < auth) {
        snprintf(out, cap, "%s", url);
        return;
    }
    auth += 3;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon) /* redis://PASSWORD@host is not a form we accept, but never print it */
        colon = auth - 1;
    snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
}

static void format_value(const config *c, const option_spec *o, char *buf, size_t cap)
{
    const char *field = (const char *)c + o->offset;
    buf[0] = '\0';
    switch (o->kind) {
    case OPT_INT:
        snprintf(buf, cap, "%d", *(const int *)field);
        break;
    case OPT_STRING:
    case OPT_CONFIG:
        if (o->secret)
            snprintf(buf, cap, "%s", field[0] ? "(secret)" : "(none)");
        else if (o->check == check_cluster_url)
            config_redact_url(field, buf, cap);
        else
            snprintf(buf, cap, "%s", field[0] ? field : "(none)");
        break;
    case OPT_LIST: {
        size_t count = *(const size_t *)((const char *)c + o->count_offset), off = 0;
        for (size_t i = 0; i < count && off < cap; i++)
            off +=
                (size_t)snprintf(buf + off, cap - off, "%s%s", i ? " " : "", field + i * o->size);
        if (count == 0)
            snprintf(buf, cap, "(none)");
        break;
    }
    case OPT_FLAG:
        snprintf(buf, cap, "%s", *(const bool *)field ? "true" : "false");
        break;
    case OPT_CHOICE: {
        int k = *(const int *)field;
        const char *p = o->choices;
        for (int i = 0; i < k && strchr(p, '|'); i++)
            p = strchr(p, '|') + 1;
        snprintf(buf, cap, "%.*s", (int)strcspn(p, "|"), p);
        break;
    }
    case OPT_LEVEL:
        snprintf(buf, cap, "%s", log_level_name((log_level) * (const int *)field));
        break;
    case OPT_ACTION:
        break;
    }
}

size_t config_diff(const config *a, const config *b, config_changed_fn changed, void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_spec *o = &options[i];
        if (o->kind == OPT_ACTION || o->kind == OPT_CONFIG)
            continue;
        char va[2048], vb[2048];
        format_value(a, o, va, sizeof va);
        format_value(b, o, vb, sizeof vb);
        bool differs = o->kind == OPT_STRING
                           ? strcmp((const char *)a + o->offset, (const char *)b + o->offset) != 0
                           : strcmp(va, vb) != 0;
        if (!differs)
            continue;
        if (strcmp(va, vb) == 0) /* a secret: say that it changed, never what it is */
            snprintf(vb, sizeof vb, "(a different secret)");
        changed(arg, o->name, o->live, va, vb);
        n++;
    }
    return n;
}

void config_apply_live(config *cur, const config *next)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_spec *o = &options[i];
        if (!o->live)
            continue;
        size_t size = o->size;
        if (o->kind == OPT_LIST) {
            size *= (size_t)o->max;
            memcpy((char *)cur + o->count_offset, (const char *)next + o->count_offset,
                   sizeof(size_t));
        }
        memcpy((char *)cur + o->offset, (const char *)next + o->offset, size);
    }
}
