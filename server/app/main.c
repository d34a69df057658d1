/* main.c — forumd's command line and configuration, start-up (database, replay, producer key,
 * demo programme, listening), signals and orderly shutdown. Nothing else. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "auth.h"
#include "cluster.h"
#include "dispatch.h"
#include "forum.h"
#include "net.h"
#include "store.h"
#include "stream.h"
#include "viewer_page.h"

#ifndef FORUM_DEFAULT_WEB_ROOT
#define FORUM_DEFAULT_WEB_ROOT "web-client"
#endif
#define FORUM_VERSION "0.1.0"
#define MAX_ORIGINS 32

typedef struct config {
    int port;
    char bind[64];
    char db[PATH_MAX];
    char web_root[PATH_MAX];
    char producer_key[256];
    char *origins[MAX_ORIGINS];
    size_t n_origins;
    bool synchronous_full;
    bool demo;
    size_t max_frame;
    int max_connections, max_per_address;
    size_t queue_max_msgs, queue_max_bytes;
    int hello_timeout_s;
    int ping_secs, hangup_secs;
    int question_max_chars;
    int rate_questions_per_min, rate_votes_per_sec, rate_messages_per_sec;
    char tls_cert[PATH_MAX], tls_key[PATH_MAX];
    char cluster[256], node[48];
    int lease_ms;
    char public_url[FORUM_URL_MAX + 1];     /* "" = this server's own address */
    char frame_ancestors[4096];              /* CSP sources, space-separated; "" = none */
    char stream_hosts[4096], embed_hosts[4096]; /* the stream setting's host allowlists */
} config;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: forumd [options]\n"
        "       forumd backup PATH [--db PATH] [--config FILE]\n"
        "       forumd --help | --version\n\n"
        "The forum server: one WebSocket (/ws) for viewers, moderators and producers, the web\n"
        "client over HTTP on the same port, every event durable in SQLite.\n\n"
        "options (each may also be set in the --config file as `name = value`):\n"
        "  --port N              TCP port (default 8080; 0 picks a free one and prints it)\n"
        "  --bind ADDR           address to listen on (default 127.0.0.1)\n"
        "  --db PATH             SQLite database file (default ./data/forum.db; created if missing)\n"
        "  --web-root DIR        the web client's files (default: the source tree's web-client/)\n"
        "  --producer-key KEY    producer key (default: the one saved in the database; on first\n"
        "                        start one is generated and printed once)\n"
        "  --origin URL          allowed browser Origin for /ws, repeatable, exact match\n"
        "                        (default: this server's own http://ADDR:PORT and localhost)\n"
        "  --synchronous MODE    full (default: an acknowledged request survives power loss) or\n"
        "                        normal (survives a crash of forumd, not of the machine)\n"
        "  --config FILE         read options from FILE first (command-line flags win)\n"
        "  --no-demo             do not create the demo programme in an empty database\n"
        "  --max-frame BYTES     largest WebSocket message accepted (default 65536)\n"
        "  --max-question-chars N  question length limit in characters (default 500)\n"
        "  --max-connections N   WebSocket connections at once (default: fd limit - 64; sockets\n"
        "                        past fd limit - 32 are refused at accept)\n"
        "  --max-connections-per-address N  WebSockets from one source address (default 5000;\n"
        "                        0 = no limit)\n"
        "  --queue-max-msgs N    per-connection send queue, messages (default 4096)\n"
        "  --queue-max-bytes N   per-connection send queue, bytes (default 8388608)\n"
        "  --hello-timeout SECS  close connections that send no hello (default 10)\n"
        "  --ping-secs SECS      ping a WebSocket that sent nothing for this long (default 30)\n"
        "  --hangup-secs SECS    close one that stays silent this long, pongs count (default 60)\n"
        "  --rate-questions-per-min N  questions per viewer per minute, for sessions that set\n"
        "                        no rate of their own (default 6)\n"
        "  --rate-votes-per-sec N  votes and ballots per viewer per second (default 10)\n"
        "  --rate-messages-per-sec N  requests per connection per second, burst 2x (default 50)\n"
        "  --tls-cert FILE       PEM certificate: serve https:// and wss:// (with --tls-key)\n"
        "  --tls-key FILE        PEM private key\n"
        "  --cluster redis://HOST[:PORT]  join a cluster of nodes sharing one log in Redis\n"
        "                        (docs/cluster.md); needs --node, starts on an empty database\n"
        "  --node NAME           this node's name in the cluster (letters, digits, _ . -)\n"
        "  --lease-ms N          cluster leader lease, renewed every N/3 ms (default 3000)\n"
        "  --public-url URL      the address people reach this server at, for the join link,\n"
        "                        its QR code and share cards (default: the listening address)\n"
        "  --frame-ancestors LIST  sites that may show the viewer page in a frame (a portal),\n"
        "                        origins separated by commas: https://www.example.gov.cn,\n"
        "                        https://*.example.cn (default: none)\n"
        "  --stream-hosts LIST   hosts a session's HLS stream may come from, comma-separated,\n"
        "                        *.domain for every host below it (default *: any host)\n"
        "  --embed-hosts LIST    hosts whose player a session may embed (default\n"
        "                        " FORUM_DEFAULT_EMBED_HOSTS ";\n"
        "                        '' for none)\n"
        "  --help                this text\n"
        "  --version             print the version\n");
}

static int parse_long(const char *name, const char *v, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < min || x > max) {
        fprintf(stderr, "forumd: --%s wants a number from %ld to %ld, got '%s'\n", name, min, max,
                v);
        return -1;
    }
    *out = x;
    return 0;
}

static int copy_opt(const char *name, const char *v, char *dst, size_t cap)
{
    if (strlen(v) >= cap) {
        fprintf(stderr, "forumd: --%s value is too long\n", name);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* Applies one option. Returns 0, or -1 after printing why. */
static int set_option(config *c, const char *name, const char *v)
{
    long x;
    if (!v) {
        if (strcmp(name, "no-demo") == 0) {
            c->demo = false;
            return 0;
        }
        fprintf(stderr, "forumd: --%s needs a value\n", name);
        return -1;
    }
    if (strcmp(name, "port") == 0) {
        if (parse_long(name, v, 0, 65535, &x))
            return -1;
        c->port = (int)x;
    } else if (strcmp(name, "bind") == 0) {
        return copy_opt(name, v, c->bind, sizeof c->bind);
    } else if (strcmp(name, "db") == 0) {
        return copy_opt(name, v, c->db, sizeof c->db);
    } else if (strcmp(name, "web-root") == 0) {
        return copy_opt(name, v, c->web_root, sizeof c->web_root);
    } else if (strcmp(name, "producer-key") == 0) {
        if (strlen(v) < 12) {
            fprintf(stderr, "forumd: --producer-key must be at least 12 characters\n");
            return -1;
        }
        return copy_opt(name, v, c->producer_key, sizeof c->producer_key);
    } else if (strcmp(name, "origin") == 0) {
        if (c->n_origins == MAX_ORIGINS) {
            fprintf(stderr, "forumd: at most %d --origin values\n", MAX_ORIGINS);
            return -1;
        }
        c->origins[c->n_origins] = strdup(v);
        if (!c->origins[c->n_origins])
            return -1;
        c->n_origins++;
    } else if (strcmp(name, "synchronous") == 0) {
        if (strcmp(v, "full") == 0) {
            c->synchronous_full = true;
        } else if (strcmp(v, "normal") == 0) {
            c->synchronous_full = false;
        } else {
            fprintf(stderr, "forumd: --synchronous is full or normal, got '%s'\n", v);
            return -1;
        }
    } else if (strcmp(name, "cluster") == 0) {
        return copy_opt(name, v, c->cluster, sizeof c->cluster);
    } else if (strcmp(name, "node") == 0) {
        return copy_opt(name, v, c->node, sizeof c->node);
    } else if (strcmp(name, "lease-ms") == 0) {
        if (parse_long(name, v, 300, 600000, &x))
            return -1;
        c->lease_ms = (int)x;
    } else if (strcmp(name, "no-demo") == 0) {
        c->demo = !(strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
    } else if (strcmp(name, "max-frame") == 0) {
        if (parse_long(name, v, 1024, 16 << 20, &x))
            return -1;
        c->max_frame = (size_t)x;
    } else if (strcmp(name, "max-question-chars") == 0) {
        if (parse_long(name, v, 1, 10000, &x))
            return -1;
        c->question_max_chars = (int)x;
    } else if (strcmp(name, "max-connections") == 0) {
        if (parse_long(name, v, 1, 1000000, &x))
            return -1;
        c->max_connections = (int)x;
    } else if (strcmp(name, "max-connections-per-address") == 0) {
        if (parse_long(name, v, 0, 1000000, &x))
            return -1;
        c->max_per_address = (int)x;
    } else if (strcmp(name, "queue-max-msgs") == 0) {
        if (parse_long(name, v, 16, 1000000, &x))
            return -1;
        c->queue_max_msgs = (size_t)x;
    } else if (strcmp(name, "queue-max-bytes") == 0) {
        if (parse_long(name, v, 65536, 1L << 30, &x))
            return -1;
        c->queue_max_bytes = (size_t)x;
    } else if (strcmp(name, "ping-secs") == 0) {
        if (parse_long(name, v, 1, 3600, &x))
            return -1;
        c->ping_secs = (int)x;
    } else if (strcmp(name, "hangup-secs") == 0) {
        if (parse_long(name, v, 2, 7200, &x))
            return -1;
        c->hangup_secs = (int)x;
    } else if (strcmp(name, "hello-timeout") == 0) {
        if (parse_long(name, v, 1, 3600, &x))
            return -1;
        c->hello_timeout_s = (int)x;
    } else if (strcmp(name, "rate-questions-per-min") == 0) {
        if (parse_long(name, v, 1, 1000000, &x))
            return -1;
        c->rate_questions_per_min = (int)x;
    } else if (strcmp(name, "rate-votes-per-sec") == 0) {
        if (parse_long(name, v, 1, 1000000, &x))
            return -1;
        c->rate_votes_per_sec = (int)x;
    } else if (strcmp(name, "rate-messages-per-sec") == 0) {
        if (parse_long(name, v, 1, 1000000, &x))
            return -1;
        c->rate_messages_per_sec = (int)x;
    } else if (strcmp(name, "public-url") == 0) {
        const char *why = viewer_page_public_url_parse(v, c->public_url, sizeof c->public_url);
        if (why) {
            fprintf(stderr, "forumd: --public-url: %s\n", why);
            return -1;
        }
    } else if (strcmp(name, "frame-ancestors") == 0) {
        const char *why =
            viewer_page_frame_ancestors_parse(v, c->frame_ancestors, sizeof c->frame_ancestors);
        if (why) {
            fprintf(stderr, "forumd: %s\n", why);
            return -1;
        }
    } else if (strcmp(name, "stream-hosts") == 0 || strcmp(name, "embed-hosts") == 0) {
        const char *why = forum_host_list_check(v);
        if (why) {
            fprintf(stderr, "forumd: --%s: %s\n", name, why);
            return -1;
        }
        return copy_opt(name, v, name[0] == 's' ? c->stream_hosts : c->embed_hosts,
                        sizeof c->stream_hosts);
    } else if (strcmp(name, "tls-cert") == 0) {
        return copy_opt(name, v, c->tls_cert, sizeof c->tls_cert);
    } else if (strcmp(name, "tls-key") == 0) {
        return copy_opt(name, v, c->tls_key, sizeof c->tls_key);
    } else {
        fprintf(stderr, "forumd: unknown option --%s (see forumd --help)\n", name);
        return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int read_config_file(config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "forumd: cannot read config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
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
        if (strcmp(name, "config") == 0 || set_option(c, name, value) != 0) {
            fprintf(stderr, "forumd: in %s line %d\n", path, lineno);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* Returns 0 to run, 1 to exit successfully (help/version), -1 on a bad command line. */
static int parse_args(config *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("forumd %s\n", FORUM_VERSION);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) /* the config file first, so flags override it */
        if (strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0) {
            const char *path = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
            if (!path) {
                fprintf(stderr, "forumd: --config needs a file\n");
                return -1;
            }
            if (read_config_file(c, path) != 0)
                return -1;
        }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "forumd: unexpected argument '%s' (see forumd --help)\n", arg);
            return -1;
        }
        char name[64];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (nlen >= sizeof name) {
            fprintf(stderr, "forumd: unknown option %s\n", arg);
            return -1;
        }
        memcpy(name, arg + 2, nlen);
        name[nlen] = '\0';
        if (eq)
            value = eq + 1;
        else if (strcmp(name, "no-demo") != 0 && i + 1 < argc)
            value = argv[++i];
        if (strcmp(name, "config") == 0)
            continue;
        if (set_option(c, name, value) != 0)
            return -1;
    }
    if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0')) {
        fprintf(stderr, "forumd: --tls-cert and --tls-key go together\n");
        return -1;
    }
    return 0;
}

/* ---- start-up ---------------------------------------------------------------------------- */

typedef struct replay_ctx {
    forum_state *st;
    size_t count;
} replay_ctx;

static int replay_one(void *arg, const forum_event *ev)
{
    replay_ctx *r = arg;
    if (forum_replay(r->st, ev) != 0) {
        fprintf(stderr, "forumd: cannot replay event %s #%lld (%s): the database holds data this "
                "forumd does not understand\n", ev->session[0] ? ev->session : "(studio)",
                (long long)ev->seq, forum_kind_name(ev->kind));
        return -1;
    }
    r->count++;
    return 0;
}

static void random_bytes(void *buf, size_t n)
{
    auth_random_bytes(buf, n);
}

/* Applies one command at start-up and appends its events to *all. Returns the ack (caller
 * frees) or NULL after printing why. */
static cJSON *seed(forum_state *st, const forum_actor *a, forum_command *cmd, forum_event **all,
                   size_t *n_all)
{
    forum_env env = {dispatch_now_ms(), random_bytes};
    forum_result r = forum_apply(st, a, cmd, &env);
    forum_command_free(cmd);
    memset(cmd, 0, sizeof *cmd);
    if (r.err != FORUM_OK) {
        fprintf(stderr, "forumd: demo data: %s\n", r.message);
        forum_result_free(&r);
        return NULL;
    }
    forum_event *grown = realloc(*all, (*n_all + r.n_events) * sizeof *grown);
    if (!grown) {
        forum_result_free(&r);
        return NULL;
    }
    *all = grown;
    memcpy(*all + *n_all, r.events, r.n_events * sizeof *grown);
    *n_all += r.n_events;
    free(r.events);
    r.events = NULL;
    r.n_events = 0;
    cJSON *ack = forum_result_ack_json(&r);
    forum_result_free(&r);
    return ack;
}

static char **strv(const char *const *items, size_t n)
{
    char **v = calloc(n, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = strdup(items[i]);
    return v;
}

/* The demo programme of the README: 书记论坛 with one open session. */
static int create_demo(forum_state *st, store *s, const char *base_url)
{
    forum_actor producer;
    memset(&producer, 0, sizeof producer);
    producer.role = FORUM_ROLE_PRODUCER;
    forum_event *all = NULL;
    size_t n_all = 0;
    int rc = -1;
    cJSON *ack = NULL;
    forum_command cmd;

    memset(&cmd, 0, sizeof cmd);
    cmd.type = FORUM_CMD_PROGRAM_CREATE;
    cmd.title = strdup("书记论坛");
    cmd.description = strdup("菊园新区“我嘉直播间”：书记、代表委员、专家和居民一起“开麦发声”，"
                             "聚焦社区治理的真问题。");
    if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
        goto done;
    int64_t program_id = (int64_t)cJSON_GetNumberValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(ack, "program"), "id"));
    cJSON_Delete(ack);

    static const forum_panelist_in panel[] = {
        {"邵洁", "嘉莱社区党支部书记", "书记"},
        {"罗晓华", "嘉筱社区党支部书记", "书记"},
        {"薄燕飞", "菊园新区管委会社区自治办", "负责人"},
        {"石沂波", "嘉定区政协委员", "委员"},
        {"徐晓峰", "上海江南建筑设计院综合五所", "专家"},
    };
    static const char *const segments[] = {"社区微改造：钱从哪里来", "新租客如何融入社区",
                                           "居民点评台"};
    memset(&cmd, 0, sizeof cmd);
    cmd.type = FORUM_CMD_SESSION_CREATE;
    cmd.program_id = program_id;
    cmd.title = strdup("第四期：美好社区共建");
    cmd.has_topic = true;
    cmd.topic = strdup("社区微更新、微改造中如何听民意、解难题");
    cmd.has_premoderation = true;
    cmd.premoderation = true;
    cmd.has_anonymous_allowed = true;
    cmd.anonymous_allowed = true;
    cmd.has_scheduled_at = true;
    cmd.scheduled_at = dispatch_now_ms() + 7 * 24 * 3600 * 1000LL;
    cmd.has_panelists = true;
    cmd.n_panelists = sizeof panel / sizeof panel[0];
    cmd.panelists = calloc(cmd.n_panelists, sizeof *cmd.panelists);
    for (size_t i = 0; cmd.panelists && i < cmd.n_panelists; i++) {
        cmd.panelists[i].name = strdup(panel[i].name);
        cmd.panelists[i].affiliation = strdup(panel[i].affiliation);
        cmd.panelists[i].role = strdup(panel[i].role);
    }
    cmd.has_segments = true;
    cmd.n_segments = 3;
    cmd.segments = strv(segments, 3);
    cmd.has_blocked_words = true;
    static const char *const blocked[] = {"广告", "代开发票"};
    cmd.n_blocked_words = 2;
    cmd.blocked_words = strv(blocked, 2);
    if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
        goto done;
    cJSON *session = cJSON_GetObjectItem(ack, "session");
    char code[FORUM_CODE_MAX], key[128];
    snprintf(code, sizeof code, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(session, "code")));
    snprintf(key, sizeof key, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(ack, "moderator_key")));
    cJSON_Delete(ack);

    memset(&cmd, 0, sizeof cmd);
    cmd.type = FORUM_CMD_SESSION_OPEN;
    cmd.session = strdup(code);
    if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
        goto done;
    cJSON_Delete(ack);

    /* Pre-show questions as the studio received them: by phone, on paper, on a visit. */
    static const struct {
        const char *text, *author;
        forum_source source;
        forum_category category;
        int64_t to;
    } asks[] = {
        {"小区中心广场荒废了很可惜，微改造能不能先把广场改成大家能坐下来聊天的地方？", "星怡苑居民",
         FORUM_SRC_VISIT, FORUM_CAT_NEED, 1},
        {"地砖太滑，下雨天老人根本不敢走，什么时候能换？", NULL, FORUM_SRC_PHONE,
         FORUM_CAT_QUESTION, 3},
        {"建议社区安排一名责任社工对接租客，建楼组微信群，让新租客感受到社区的温暖。", "顾本彬",
         FORUM_SRC_PAPER, FORUM_CAT_SUGGESTION, 2},
    };
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        memset(&cmd, 0, sizeof cmd);
        cmd.type = FORUM_CMD_QUESTION_SUBMIT;
        cmd.session = strdup(code);
        cmd.text = strdup(asks[i].text);
        cmd.author = asks[i].author ? strdup(asks[i].author) : NULL;
        cmd.has_source = true;
        cmd.source = asks[i].source;
        cmd.has_category = true;
        cmd.category = asks[i].category;
        cmd.has_to = true;
        cmd.to = asks[i].to;
        if (!(ack = seed(st, &producer, &cmd, &all, &n_all)))
            goto done;
        cJSON_Delete(ack);
    }

    if (store_append_sync(s, all, n_all) != 0) {
        fprintf(stderr, "forumd: could not save the demo programme\n");
        goto done;
    }
    printf("demo programme: 书记论坛 — 第四期：美好社区共建 (open for pre-show questions)\n");
    printf("join code: %s\n", code);
    printf("moderator key: %s\n", key);
    printf("viewer page:    %s/s/%s\n", base_url, code);
    printf("moderator page: %s/m/%s#key=%s\n", base_url, code, key);
    printf("overlay (OBS):  %s/overlay/%s\n", base_url, code);
    rc = 0;
done:
    for (size_t i = 0; i < n_all; i++)
        forum_event_clear(&all[i]);
    free(all);
    return rc;
}

/* Sets hash_out to the producer key's hash: the configured key, else the saved one, else a
 * new key printed once. */
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

/* ---- run and shutdown -------------------------------------------------------------------- */

typedef struct server {
    uv_loop_t *loop;
    config cfg;
    store *store;
    forum_state *st;
    dispatch *dispatch;
    net *net;
    uv_signal_t sigint, sigterm;
    store_batch drain;
    bool stopping;
    char public_url[FORUM_URL_MAX + 1]; /* --public-url, or this server's own address */
} server;

/* --cluster: checks the database belongs to the cluster, catches up with its log and starts
 * following it. Returns 0, or -1 after printing why. */
static int join_cluster(server *sv, size_t events_in_db)
{
    config *c = &sv->cfg;
    char err[512], meta_id[64] = "", id[40], pos[32] = "";
    if (!c->node[0]) {
        fprintf(stderr, "forumd: --cluster needs --node NAME\n");
        return -1;
    }
    store_meta_get(sv->store, "cluster_id", meta_id, sizeof meta_id);
    cluster_options co = {c->cluster, c->node, c->lease_ms, 0};
    cluster *cl;
    if (cluster_open(&cl, sv->loop, &co, meta_id, events_in_db > 0, id, err, sizeof err) != 0) {
        fprintf(stderr, "forumd: %s\n", err);
        return -1;
    }
    if (store_meta_set(sv->store, "cluster_id", id) != 0) {
        fprintf(stderr, "forumd: could not save the cluster id in %s\n", c->db);
        cluster_close(cl);
        return -1;
    }
    int64_t from = 0;
    if (store_meta_get(sv->store, "cluster_pos", pos, sizeof pos) == 0)
        from = strtoll(pos, NULL, 10);
    if (dispatch_attach_cluster(sv->dispatch, cl, from > 0 ? from : 0, err, sizeof err) != 0) {
        fprintf(stderr, "forumd: could not read the cluster log: %s\n", err);
        return -1;
    }
    printf("cluster: node %s, log in Redis at %s\n", c->node, c->cluster);
    return 0;
}

static void connections_closed(void *arg)
{
    server *sv = arg;
    dispatch_close_cluster(sv->dispatch);
    store_close(sv->store); /* commits whatever is still queued, then closes its handle */
    sv->store = NULL;
    net_destroy(sv->net);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
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
    if (sv->stopping)
        return;
    sv->stopping = true;
    fprintf(stderr, "forumd: %s received, shutting down\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
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
    argv[2] = argv[0]; /* parse the options after PATH as a command line of their own */
    int prc = parse_args(c, argc - 2, argv + 2);
    if (prc != 0)
        return prc > 0 ? 0 : 2;
    store_backup_info info;
    char err[512];
    for (size_t i = 0; i < c->n_origins; i++)
        free(c->origins[i]);
    c->n_origins = 0;
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
    signal(SIGPIPE, SIG_IGN);
    server sv;
    memset(&sv, 0, sizeof sv);
    config *c = &sv.cfg;
    c->port = 8080;
    snprintf(c->bind, sizeof c->bind, "127.0.0.1");
    snprintf(c->db, sizeof c->db, "./data/forum.db");
    snprintf(c->web_root, sizeof c->web_root, "%s", FORUM_DEFAULT_WEB_ROOT);
    c->synchronous_full = true;
    c->demo = true;
    c->hello_timeout_s = 10;
    c->max_per_address = 5000;
    snprintf(c->stream_hosts, sizeof c->stream_hosts, "%s", FORUM_DEFAULT_STREAM_HOSTS);
    snprintf(c->embed_hosts, sizeof c->embed_hosts, "%s", FORUM_DEFAULT_EMBED_HOSTS);
    if (argc >= 2 && strcmp(argv[1], "backup") == 0)
        return run_backup(c, argc, argv);
    int prc = parse_args(c, argc, argv);
    if (prc != 0)
        return prc > 0 ? 0 : 2;
    if ((c->hangup_secs ? c->hangup_secs : 60) <= (c->ping_secs ? c->ping_secs : 30)) {
        fprintf(stderr, "forumd: --hangup-secs must be longer than --ping-secs (a client needs "
                        "time to answer the ping)\n");
        return 2;
    }

    int exit_code = 1;
    char err[512] = "";
    uv_loop_t loop;
    uv_loop_init(&loop);
    sv.loop = &loop;

    store_options so = {c->db, c->synchronous_full, 10000};
    if (store_open(&sv.store, &so, &loop, err, sizeof err) != 0) {
        fprintf(stderr, "forumd: %s\n", err);
        goto out_loop;
    }
    forum_limits limits;
    forum_limits_default(&limits);
    if (c->question_max_chars > 0)
        limits.question_max_chars = c->question_max_chars;
    limits.stream_hosts = c->stream_hosts;
    limits.embed_hosts = c->embed_hosts;
    sv.st = forum_new(&limits);
    replay_ctx rctx = {sv.st, 0};
    if (!sv.st || store_load(sv.store, replay_one, &rctx) != 0) {
        fprintf(stderr, "forumd: could not load %s\n", c->db);
        goto out_store;
    }
    char key_hash[65];
    if (producer_key(sv.store, c, key_hash) != 0) {
        fprintf(stderr, "forumd: could not save the producer key in %s\n", c->db);
        goto out_store;
    }

    dispatch_options dopt;
    memset(&dopt, 0, sizeof dopt);
    dopt.producer_key_hash = key_hash;
    dopt.limits = limits;
    dopt.hello_timeout_ms = c->hello_timeout_s * 1000;
    dopt.questions_per_min = c->rate_questions_per_min;
    dopt.votes_per_sec = c->rate_votes_per_sec;
    dopt.messages_per_sec = c->rate_messages_per_sec;
    dopt.web_root = c->web_root;
    dopt.public_url = sv.public_url; /* filled in once the port is known */
    dopt.frame_ancestors = c->frame_ancestors;
    sv.dispatch = dispatch_new(&loop, sv.st, sv.store, &dopt);
    if (!sv.dispatch)
        goto out_store;
    if (c->cluster[0] && join_cluster(&sv, rctx.count) != 0)
        goto out_dispatch;

    net_options nopt;
    memset(&nopt, 0, sizeof nopt);
    nopt.bind = c->bind;
    nopt.port = c->port;
    nopt.web_root = c->web_root;
    nopt.origins = (const char *const *)c->origins;
    nopt.n_origins = c->n_origins;
    nopt.max_frame = c->max_frame;
    nopt.max_queue_msgs = c->queue_max_msgs;
    nopt.max_queue_bytes = c->queue_max_bytes;
    nopt.max_connections = c->max_connections;
    nopt.max_per_address = c->max_per_address;
    nopt.ping_secs = c->ping_secs;
    nopt.hangup_secs = c->hangup_secs;

    nopt.tls_cert = c->tls_cert[0] ? c->tls_cert : NULL;
    nopt.tls_key = c->tls_key[0] ? c->tls_key : NULL;
    net_callbacks cb = dispatch_net_callbacks(sv.dispatch);
    if (net_start(&sv.net, &loop, &nopt, &cb, err, sizeof err) != 0) {
        fprintf(stderr, "forumd: %s\n", err);
        goto out_dispatch;
    }
    dispatch_set_net(sv.dispatch, sv.net);

    char base_url[160];
    snprintf(base_url, sizeof base_url, "%s://%s:%d", nopt.tls_cert ? "https" : "http", c->bind,
             net_port(sv.net));
    snprintf(sv.public_url, sizeof sv.public_url, "%s", c->public_url[0] ? c->public_url : base_url);
    if (rctx.count == 0 && c->demo && !c->cluster[0] && create_demo(sv.st, sv.store, base_url) != 0)
        fprintf(stderr, "forumd: continuing without the demo programme\n");
    printf("producer page:  %s/producer\n", base_url);
    printf("database: %s (%zu events replayed, synchronous=%s)\n", c->db, rctx.count,
           c->synchronous_full ? "full" : "normal");
    printf("listening on %s\n", base_url);

    uv_signal_init(&loop, &sv.sigint);
    uv_signal_init(&loop, &sv.sigterm);
    sv.sigint.data = sv.sigterm.data = &sv;
    uv_signal_start(&sv.sigint, on_signal, SIGINT);
    uv_signal_start(&sv.sigterm, on_signal, SIGTERM);

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
        fprintf(stderr, "forumd: warning: handles left open at exit\n");
    for (size_t i = 0; i < c->n_origins; i++)
        free(c->origins[i]);
    return exit_code;
}
