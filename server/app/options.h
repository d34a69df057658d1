/* options.h — forumd's options: one table (options.c) drives the command line, the config file
 * (`name = value` lines), `--help`, the man page (`--man-page`) and what SIGHUP may change
 * without a restart. Adding a flag is one table row and one config field. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define OPTIONS_MAX_ORIGINS 32
#define OPTIONS_MAX_PROXIES 32

typedef struct config {
    char config_file[PATH_MAX]; /* the --config file ("" = none): re-read on SIGHUP */
    int port;
    char bind[64];
    char db[PATH_MAX];
    char web_root[PATH_MAX];
    char producer_key[256]; /* from --producer-key, the key file or FORUM_PRODUCER_KEY */
    char producer_key_file[PATH_MAX];
    char origins[OPTIONS_MAX_ORIGINS][256];
    size_t n_origins;
    char trusted_proxies[OPTIONS_MAX_PROXIES][64];
    size_t n_trusted_proxies;
    int synchronous; /* 0 = full, 1 = normal */
    bool no_demo;
    int max_frame;
    int question_max_chars;
    int questions_per_session;
    int max_connections; /* 0 = from the descriptor limit */
    int max_per_address;
    int queue_max_msgs, queue_max_bytes;
    int hello_timeout_s, ping_secs, hangup_secs;
    int sample_secs; /* audience sample period */
    int rate_questions_per_min, rate_votes_per_sec, rate_messages_per_sec;
    int rate_questions_per_address_per_min; /* 0 = none */
    char tls_cert[PATH_MAX], tls_key[PATH_MAX];
    char metrics_bind[80];
    int log_level;
    char log_file[PATH_MAX];
    char cluster[256], node[48];
    int lease_ms;
    char public_url[2049];        /* as given ("" = the printed base address) */
    char frame_ancestors[4096];   /* as given: origins separated by commas ("" = none) */
    char stream_hosts[4096], embed_hosts[4096]; /* the stream setting's host allowlists */
    char webhook_hosts[4096];     /* hosts webhooks may call besides loopback */
    int webhook_timeout_ms;       /* one delivery attempt, connection to last byte */
} config;

/* Fills c from (in this order) the defaults, the --config file, the command line (which wins;
 * a list option given there replaces the file's list), then FORUM_PRODUCER_KEY and the
 * producer key file. Returns 0 to run, 1 when it printed what was asked (--help, --version,
 * --man-page) and the process should exit 0, or -1 when something is wrong: err then says what
 * (naming the flag, the file and line). */
int config_load(config *c, int argc, char **argv, char *err, size_t errlen);

/* The usage text (--help) and the man page (roff), both from the option table. */
void options_usage(FILE *out);
void options_man_page(FILE *out);

/* Compares two loaded configurations option by option and calls changed(arg, name, live,
 * old, new) for each option whose value differs: live says whether SIGHUP may apply it; old
 * and new are printable (secrets, such as the producer key and a Redis password, are shown as
 * "(secret)"). Returns the number of differences. */
typedef void (*config_changed_fn)(void *arg, const char *name, bool live, const char *old_value,
                                  const char *new_value);
size_t config_diff(const config *a, const config *b, config_changed_fn changed, void *arg);

/* Copies the options SIGHUP may change ([reload] in --help) from next into cur; the others keep
 * cur's values (they need a restart). */
void config_apply_live(config *cur, const config *next);

/* The Redis URL of --cluster with its password replaced by "***" (for logs). */
void config_redact_url(const char *url, char *out, size_t cap);
