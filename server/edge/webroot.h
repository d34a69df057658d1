/* webroot.h — the static files net.c serves, confined to one directory, the web root: a file is
 * opened only if its path, symbolic links included, resolves to a place beneath the root. Links
 * that stay inside the root work (relative ones with openat2; see webroot_open_file); a link
 * that leads out of it, or a ".." that would, makes the file not found. The root itself may be
 * given through links: it is resolved once, when it is opened.
 *
 * Knows nothing of HTTP or lws (unit-tested alone). Not thread-safe; net.c uses it from the
 * loop thread. */
#pragma once
#include <stdbool.h>
#include <sys/stat.h>

typedef struct webroot webroot;

typedef enum webroot_mode {
    WEBROOT_AUTO,     /* openat2 RESOLVE_BENEATH, or realpath where the kernel lacks openat2 */
    WEBROOT_REALPATH, /* always realpath and a prefix check (what old kernels get; for tests) */
} webroot_mode;

/* Opens the directory dir as a web root. Returns NULL (errno set) if it is not a directory
 * that can be opened. */
webroot *webroot_new(const char *dir, webroot_mode mode);
void webroot_free(webroot *w);

/* Opens the file at path (a URL path: '/'-separated, relative to the root, leading slashes
 * ignored; a directory stands for its index.html, and then *index is set) for reading. Returns a
 * descriptor (O_CLOEXEC, to be closed by the caller) and fills *st, or -1 when the path names nothing
 * readable beneath the root: missing, not a regular file, containing ".." or a backslash, or
 * resolving outside the root through a link.
 *
 * With openat2 (Linux >= 5.6) the whole resolution happens in the kernel, beneath the root's
 * descriptor: absolute links are refused even when they point inside the root, relative links
 * within it are followed. The realpath fallback accepts any link whose target is inside the
 * root; it checks the resolved name and then opens it (without following a link in its last
 * component), so someone able to rename directories inside the web root while it serves could
 * race it: the web root is meant to be writable by its administrator only. */
int webroot_open_file(const webroot *w, const char *path, struct stat *st, bool *index);
