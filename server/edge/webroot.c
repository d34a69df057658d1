/* webroot.c — opening static files beneath the web root (contract in webroot.h). Owns: the
 * root's descriptor and resolved name, the openat2 RESOLVE_BENEATH path (through syscall():
 * glibc 2.36 has no wrapper), and the realpath fallback for kernels without openat2. */
#include "webroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/openat2.h>
#endif

struct webroot {
    int dirfd;          /* O_PATH descriptor of the root, resolved once */
    char *real;         /* its canonical name (realpath) */
    bool realpath_only; /* WEBROOT_REALPATH */
};

/* Flags for every file opened: read only, and never block on a FIFO or take a terminal. */
#define WEBROOT_OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

webroot *webroot_new(const char *dir, webroot_mode mode)
{
    int saved;
    webroot *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->realpath_only = mode == WEBROOT_REALPATH;
    w->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0)
        goto fail;
    w->real = realpath(dir, NULL);
    if (!w->real)
        goto fail;
    return w;
fail:
    saved = errno;
    webroot_free(w);
    errno = saved;
    return NULL;
}

void webroot_free(webroot *w)
{
    if (!w)
        return;
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w->real);
    free(w);
}

/* Is the canonical name p the root or beneath it? */
static bool beneath_root(const webroot *w, const char *p)
{
    size_t n = strlen(w->real);
    if (strcmp(w->real, "/") == 0)
        return true;
    return strncmp(p, w->real, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* The fallback: resolves root/rel with realpath, checks that the result is beneath the root,
 * and opens that name without following a link in its last component. */
static int open_resolved(const webroot *w, const char *rel)
{
    char joined[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s/%s", w->real, rel);
    if (n < 0 || (size_t)n >= sizeof joined) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char *resolved = realpath(joined, NULL);
    if (!resolved)
        return -1;
    int fd = -1;
    if (beneath_root(w, resolved))
        fd = open(resolved, WEBROOT_OPEN_FLAGS | O_NOFOLLOW);
    else
        errno = EXDEV;
    free(resolved);
    return fd;
}

/* Opens rel (relative, no leading slash) beneath the root. */
static int open_beneath(const webroot *w, const char *rel)
{
#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
    if (!w->realpath_only) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = WEBROOT_OPEN_FLAGS;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, w->dirfd, rel, &how, sizeof how);
        /* ENOSYS: a kernel before 5.6; EPERM: a seccomp filter that does not know openat2 */
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return (int)fd;
    }
#endif
    return open_resolved(w, rel);
}

int webroot_open_file(const webroot *w, const char *path, struct stat *st, bool *index)
{
    *index = false;
    while (*path == '/')
        path++;
    if (strstr(path, "..") || strchr(path, '\\'))
        return -1;
    char rel[PATH_MAX];
    int n = snprintf(rel, sizeof rel, "%s", *path ? path : ".");
    if (n < 0 || (size_t)n >= sizeof rel - sizeof "/index.html")
        return -1;
    int fd = open_beneath(w, rel);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0)
        goto fail;
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        snprintf(rel + n, sizeof rel - (size_t)n, "%sindex.html", rel[n - 1] == '/' ? "" : "/");
        fd = open_beneath(w, rel);
        if (fd < 0)
            return -1;
        if (fstat(fd, st) != 0)
            goto fail;
        *index = true;
    }
    if (!S_ISREG(st->st_mode))
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}
