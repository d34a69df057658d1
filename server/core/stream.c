/* stream.c — see stream.h: stream kinds, the strict URL form the studio settings accept, host
 * allowlists, and the check of a whole stream setting. */
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const FORUM_STREAM_KIND_NAMES[FORUM_STREAM__COUNT] = {"none", "hls", "embed"};

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Labels of letters, digits and '-' (1..63, no '-' at either end) joined by '.', 1..253 in
 * all. */
static bool host_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (is_alnum(c) || (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

/* What may stand between the brackets of an IPv6 literal: hex digits, ':' (at least two) and
 * '.' (an embedded IPv4 address), 2..45 characters. */
static bool ipv6_literal_valid(const char *s, size_t n)
{
    size_t colons = 0;
    if (n < 2 || n > 45)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':')
            colons++;
        else if (!is_hex((unsigned char)s[i]) && s[i] != '.')
            return false;
    }
    return colons >= 2;
}

/* Printable ASCII that may follow the authority (quotes, angle brackets, '\\', '^', '`',
 * '{', '|', '}' and white space excluded). */
static bool rest_char_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("\"'<>\\^`{|}", c);
}

const char *forum_url_parse(const char *url, forum_url *out)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return "the URL is empty";
    if (strlen(url) > FORUM_URL_MAX)
        return "the URL is longer than 2048 bytes";
    const char *p;
    if (strncmp(url, "https://", 8) == 0) {
        out->https = true;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        return "the URL must start with http:// or https://";
    }
    size_t alen = strcspn(p, "/?#");
    const char *end = p + alen, *host_end;
    if (memchr(p, '@', alen))
        return "the URL must not hold a user name or password";
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        if (!close || !ipv6_literal_valid(p + 1, (size_t)(close - p - 1)))
            return "the URL's IPv6 address is not valid";
        host_end = close + 1;
    } else {
        host_end = memchr(p, ':', alen);
        if (!host_end)
            host_end = end;
        if (!host_name_valid(p, (size_t)(host_end - p)))
            return "the URL's host name is not valid";
    }
    if (host_end < end) {
        size_t digits = (size_t)(end - host_end - 1);
        long port = 0;
        if (*host_end != ':' || digits == 0 || digits > 5)
            return "the URL's port is not valid";
        for (const char *d = host_end + 1; d < end; d++) {
            if (*d < '0' || *d > '9')
                return "the URL's port is not valid";
            port = port * 10 + (*d - '0');
        }
        if (port < 1 || port > 65535)
            return "the URL's port is not valid";
        out->port = port == (out->https ? 443 : 80) ? 0 : (int)port;
    }
    size_t hlen = (size_t)(host_end - p);
    for (size_t i = 0; i < hlen; i++) {
        char c = p[i];
        out->host[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out->host[hlen] = '\0';
    for (const char *q = end; *q; q++) {
        if (!rest_char_ok((unsigned char)*q))
            return "the URL holds a character that must be percent-encoded (white space, quotes, "
                   "<, >, \\, ^, `, {, |, } or non-ASCII)";
        if (*q == '%' && !(is_hex((unsigned char)q[1]) && is_hex((unsigned char)q[2])))
            return "the URL holds a '%' that does not start an escape (%XX)";
    }
    if (out->port)
        snprintf(out->origin, sizeof out->origin, "%s://%s:%d", out->https ? "https" : "http",
                 out->host, out->port);
    else
        snprintf(out->origin, sizeof out->origin, "%s://%s", out->https ? "https" : "http",
                 out->host);
    out->rest = (size_t)(end - url);
    return NULL;
}

/* The next entry of a comma-separated list: its start and length (blanks trimmed) in *entry and
 * *n; returns where the walk goes on, or NULL at the end. */
static const char *next_entry(const char *p, const char **entry, size_t *n)
{
    if (!p || !*p)
        return NULL;
    size_t len = strcspn(p, ",");
    const char *s = p, *e = p + len;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *entry = s;
    *n = (size_t)(e - s);
    return p[len] == ',' ? p + len + 1 : p + len;
}

const char *forum_host_list_check(const char *list)
{
    if (!list || strspn(list, " \t") == strlen(list))
        return NULL;
    const char *entry;
    size_t n;
    for (const char *p = list; (p = next_entry(p, &entry, &n)) != NULL;) {
        if (n == 1 && entry[0] == '*')
            continue;
        if (n > 2 && entry[0] == '*' && entry[1] == '.' && host_name_valid(entry + 2, n - 2))
            continue;
        if (host_name_valid(entry, n))
            continue;
        if (n > 2 && entry[0] == '[' && entry[n - 1] == ']' && ipv6_literal_valid(entry + 1, n - 2))
            continue;
        return "a host list holds host names, *.domain or *, separated by commas";
    }
    return NULL;
}

bool forum_host_listed(const char *list, const char *host)
{
    const char *entry;
    size_t n, hlen = host ? strlen(host) : 0;
    if (hlen == 0)
        return false;
    for (const char *p = list; (p = next_entry(p, &entry, &n)) != NULL;) {
        if (n == 1 && entry[0] == '*')
            return true;
        if (n > 2 && entry[0] == '*' && entry[1] == '.') {
            /* "*.example.com": the host ends in ".example.com" and is longer */
            if (hlen > n - 1 && strncasecmp(host + hlen - (n - 1), entry + 1, n - 1) == 0)
                return true;
        } else if (n == hlen && n > 0 && strncasecmp(host, entry, n) == 0) {
            return true;
        }
    }
    return false;
}

const char *forum_stream_check(int kind, const char *url, const char *stream_hosts,
                               const char *embed_hosts, char *msg, size_t cap)
{
    forum_url u;
    const char *why;
    if (kind != FORUM_STREAM_HLS && kind != FORUM_STREAM_EMBED) {
        snprintf(msg, cap, "stream.kind must be \"hls\" or \"embed\"");
        return msg;
    }
    if ((why = forum_url_parse(url, &u)) != NULL) {
        snprintf(msg, cap, "stream.url: %s", why);
        return msg;
    }
    if (kind == FORUM_STREAM_EMBED && !u.https) {
        snprintf(msg, cap, "stream.url: an embedded player must come over https://");
        return msg;
    }
    if (!forum_host_listed(kind == FORUM_STREAM_HLS ? stream_hosts : embed_hosts, u.host)) {
        snprintf(msg, cap, "stream.url: %s is not among the %s hosts this server allows (%s)",
                 u.host, kind == FORUM_STREAM_HLS ? "stream" : "player",
                 kind == FORUM_STREAM_HLS ? "--stream-hosts" : "--embed-hosts");
        return msg;
    }
    return NULL;
}
