/* viewer_page.h — the server side of the viewer page /s/CODE and of what hangs off it:
 *   /s/CODE             viewer.html with the session's share tags (<title>, description, Open
 *                       Graph, schema.org for WeChat) rendered in, escaped, and a
 *                       Content-Security-Policy of its own: the session's stream origin
 *                       (media-src and connect-src for HLS, frame-src for an embedded player)
 *                       and the sites that may frame it (--frame-ancestors);
 *   /s/CODE/qr.svg      the join QR code, /s/CODE/qr.png?scale=N the same as a PNG;
 *   /s/CODE/share.json  the join link ({"code","url","qr_svg","qr_png"}).
 * Links are built on the public URL (--public-url). Loop thread only: it reads live state. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "forum.h"
#include "net.h"

typedef struct viewer_page_config {
    const char *public_url;      /* "http(s)://host[:port][/prefix]", no '/' at the end */
    const char *frame_ancestors; /* CSP sources that may frame the viewer page; "" or NULL:
                                    none (frame-ancestors 'none', X-Frame-Options: DENY) */
    const char *web_root;        /* the directory viewer.html is read from (beneath it only) */
} viewer_page_config;

/* Checks a --public-url value: an http or https URL of the strict form stream.h describes,
 * with an optional path prefix and no query or fragment. Writes it without a trailing '/' into
 * out (cap bytes). Returns NULL, or a message (static string). */
const char *viewer_page_public_url_parse(const char *url, char *out, size_t cap);

/* Checks a --frame-ancestors value: origins ("https://portal.example.gov.cn", a port if any, a
 * "*." before the host for every host below it) separated by commas or blanks. Writes them
 * space-separated into out (cap bytes), as a CSP lists sources. Returns NULL, or a message. */
const char *viewer_page_frame_ancestors_parse(const char *list, char *out, size_t cap);

/* Answers a GET or HEAD under /s/ (see above) and returns true; false for other requests and
 * when viewer.html cannot be read (the caller then serves the file as it is, or a 404). Answers
 * 404 for a session that does not exist (the page itself still says so to the person), 400 for
 * a bad ?scale. */
bool viewer_page_route(const viewer_page_config *cfg, const forum_state *st,
                       const forum_limits *limits, const net_http_request *req,
                       net_http_response *resp);
