/* log.c — log lines with a level: a timestamp prefix, or the journal's "<N>" priority prefix
 * when stderr is the journal. See log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static atomic_int level = LOG_LEVEL_INFO;
static atomic_bool to_journal = false;

void log_init(void)
{
    /* systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected: the prefixes are only
     * right while stderr is still that stream (not after a redirection by a wrapper script). */
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    atomic_store(&to_journal,
                 js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
                     (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino);
}

void log_set_level(log_level l)
{
    atomic_store(&level, (int)l);
}

log_level log_get_level(void)
{
    return (log_level)atomic_load(&level);
}

static const struct {
    const char *name;
    log_level level;
} names[] = {
    {"error", LOG_LEVEL_ERROR}, {"warning", LOG_LEVEL_WARN}, {"warn", LOG_LEVEL_WARN},
    {"info", LOG_LEVEL_INFO},   {"debug", LOG_LEVEL_DEBUG},
};

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0)
            return (int)names[i].level;
    return -1;
}

const char *log_level_name(log_level l)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].level == l)
            return names[i].name;
    return "info";
}

bool log_enabled(log_level l)
{
    return (int)l <= atomic_load(&level);
}

void log_msg(log_level l, const char *fmt, ...)
{
    if (!log_enabled(l))
        return;
    char line[2048];
    size_t off;
    if (atomic_load(&to_journal)) {
        off = (size_t)snprintf(line, sizeof line, "<%d>", (int)l);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        off = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        off += (size_t)snprintf(line + off, sizeof line - off, ".%03ld %s: ", ts.tv_nsec / 1000000,
                                log_level_name(l));
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + off, sizeof line - off, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    off += (size_t)n;
    if (off > sizeof line - 2) { /* cut an over-long line, still one line */
        off = sizeof line - 2;
    }
    for (size_t i = 0; i < off; i++) /* one record per line: no embedded line breaks */
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[off++] = '\n';
    ssize_t w;
    do
        w = write(STDERR_FILENO, line, off);
    while (w < 0 && errno == EINTR);
}

int log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    if (dup2(fd, STDERR_FILENO) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    atomic_store(&to_journal, false);
    return 0;
}
