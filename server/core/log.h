/* log.h — forumd's log lines: one writer for every layer, with a level (--log-level), a
 * timestamp on a terminal or in a file, or the journal's priority prefix ("<3>") instead when
 * stderr is connected to systemd's journal (JOURNAL_STREAM names it). Lines go to stderr, which
 * --log-file may point at a file (log_open_file, reopened on SIGHUP). The start-up banner (join
 * code, links, listening address) is not a log line: it goes to stdout. Thread-safe: one write
 * per line. */
#pragma once
#include <stdbool.h>

typedef enum log_level {
    LOG_LEVEL_ERROR = 3, /* the syslog priorities, which the journal prefixes use */
    LOG_LEVEL_WARN = 4,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
} log_level;

/* Looks at JOURNAL_STREAM once (stderr is the journal when it names stderr's device:inode). */
void log_init(void);
void log_set_level(log_level level);
log_level log_get_level(void);
/* "error", "warning" (or "warn"), "info", "debug" -> the level; -1 for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(log_level level);
/* Whether a line of this level would be written (to skip preparing debug output). */
bool log_enabled(log_level level);

/* Writes one line (a trailing newline is added) if level is enabled. */
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Points stderr at path (created 0640, appended to), so log lines go there; called again it
 * reopens the file (after logrotate moved it). Returns 0, or -1 with errno set and stderr
 * unchanged. */
int log_open_file(const char *path);
