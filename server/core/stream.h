/* stream.h — the stream setting of a session (the show's video on the viewer page): which
 * kinds there are, which URLs are accepted for them (absolute http/https URLs of a strict,
 * quote-free form), the host allowlists of the configuration, and the origin a page's
 * Content-Security-Policy names for a stream. Pure: no I/O, no globals but constant tables.
 *
 * Used by proto (session.create/update: kind, URL and allowlist), event.c (a stored setting:
 * kind and URL, not the allowlist, so that a database replays whatever the configuration is
 * now) and the HTTP side (the viewer page's CSP, the public URL). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum forum_stream_kind {
    FORUM_STREAM_NONE = 0, /* no stream: the page shows none */
    FORUM_STREAM_HLS,      /* an HLS playlist (.m3u8) played in a <video> */
    FORUM_STREAM_EMBED,    /* a platform's player page in an iframe (allowlisted hosts only) */
    FORUM_STREAM__COUNT
} forum_stream_kind;

/* Wire names: "none" (never sent: the setting is null then), "hls", "embed". */
extern const char *const FORUM_STREAM_KIND_NAMES[FORUM_STREAM__COUNT];

#define FORUM_URL_MAX 2048   /* bytes of a stream URL or a public URL */
#define FORUM_HOST_MAX 254   /* a host name (253) or a bracketed IPv6 literal, + NUL */
#define FORUM_ORIGIN_MAX 272 /* "https://" + host + ":65535" + NUL */

/* An absolute URL taken apart (see forum_url_parse). */
typedef struct forum_url {
    bool https;
    char host[FORUM_HOST_MAX];     /* lower case; an IPv6 literal keeps its brackets */
    int port;                      /* 0 when absent or the scheme's default */
    char origin[FORUM_ORIGIN_MAX]; /* "scheme://host[:port]", lower case, as a CSP names it */
    size_t rest;                   /* offset of what follows the authority ('/', '?', '#', end) */
} forum_url;

/* Parses url as an absolute URL of the form the studio settings accept: "http://" or
 * "https://" (lower case), a host name (letters, digits, '-' and '.', labels of 1..63) or an
 * IP literal ("[...]" for IPv6), an optional port 1..65535, then an optional path, query and
 * fragment made of printable ASCII other than white space, quotes, '<', '>', '\\', '^', '`',
 * '{', '|', '}' (a '%' must start an escape: two hex digits). No user name or password.
 * At most FORUM_URL_MAX bytes. Non-ASCII must arrive percent-encoded (browsers' URL parsers do
 * that). Returns NULL and fills *out, or a message saying what is wrong (a static string). */
const char *forum_url_parse(const char *url, forum_url *out);

/* Checks a host allowlist: comma-separated entries (blanks around them ignored), each a host
 * name, "*.example.com" (any host below example.com, not example.com itself) or "*" (any host).
 * "" and NULL are the empty list. Returns NULL, or a message (static string). */
const char *forum_host_list_check(const char *list);

/* Whether host (as forum_url_parse leaves it) is on list (case-insensitive). The empty list
 * holds nothing. */
bool forum_host_listed(const char *list, const char *host);

/* Checks a stream setting: kind hls with an http or https URL on a host of stream_hosts, or
 * kind embed with an https URL on a host of embed_hosts. Returns NULL, or a message written
 * into msg (cap bytes) and returned. */
const char *forum_stream_check(int kind, const char *url, const char *stream_hosts,
                               const char *embed_hosts, char *msg, size_t cap);
