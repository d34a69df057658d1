/* viewer_page.c — see viewer_page.h: the viewer page with its share tags and its own policy,
 * the join QR code and link. Text from sessions goes into HTML only through html_escape. */
#include "viewer_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "jsonw.h"
#include "qr.h"
#include "stream.h"
#include "utf8.h"
#include "webroot.h"

#define TEMPLATE_MAX (1 << 20)            /* bytes of viewer.html read */
#define DESCRIPTION_MAX_CHARS 160         /* code points of the share description */
#define QR_DEFAULT_SCALE 10               /* PNG pixels per module */
#define SHARE_IMAGE "/img/share-card.png" /* 1200x630, Open Graph */
#define SHARE_ICON "/img/share-icon.png"  /* 300x300, WeChat's thumbnail */

/* ---- configuration ------------------------------------------------------------------------- */

const char *viewer_page_public_url_parse(const char *url, char *out, size_t cap)
{
    forum_url u;
    const char *why = forum_url_parse(url, &u);
    if (why)
        return why;
    if (strpbrk(url + u.rest, "?#"))
        return "the public URL takes no query or fragment";
    size_t n = strlen(url);
    while (n > u.rest && url[n - 1] == '/')
        n--;
    if (n >= cap)
        return "the public URL is too long";
    memcpy(out, url, n);
    out[n] = '\0';
    return NULL;
}

const char *viewer_page_frame_ancestors_parse(const char *list, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = '\0';
    for (const char *p = list; p && *p;) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        char entry[FORUM_ORIGIN_MAX + 8];
        if (n >= sizeof entry)
            return "--frame-ancestors: an origin is too long";
        memcpy(entry, p, n);
        entry[n] = '\0';
        p += n;
        /* a wildcard origin (its host begins with "*.") is checked as the host below it */
        char *star = strstr(entry, "://*.");
        bool wildcard = star != NULL;
        if (wildcard)
            memmove(star + 3, star + 5, strlen(star + 5) + 1);
        forum_url u;
        if (forum_url_parse(entry, &u) || entry[u.rest] != '\0')
            return "--frame-ancestors takes origins such as https://portal.example.gov.cn "
                   "(scheme, host, port if any; *. before the host for every host below it)";
        int w = snprintf(out + off, cap - off, "%s%s://%s%s", off ? " " : "",
                         u.https ? "https" : "http", wildcard ? "*." : "",
                         u.origin + (u.https ? 8 : 7));
        if (w < 0 || (size_t)w >= cap - off)
            return "--frame-ancestors is too long";
        off += (size_t)w;
    }
    return NULL;
}

/* ---- small helpers ------------------------------------------------------------------------- */

/* Appends s with &, <, >, " and ' as character references: safe in text and in quoted
 * attribute values. */
static void html_escape(jsonw *w, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *ref = NULL;
        switch (*s) {
        case '&':
            ref = "&amp;";
            break;
        case '<':
            ref = "&lt;";
            break;
        case '>':
            ref = "&gt;";
            break;
        case '"':
            ref = "&quot;";
            break;
        case '\'':
            ref = "&#39;";
            break;
        default:
            continue;
        }
        jsonw_put(w, run, (size_t)(s - run));
        jsonw_puts(w, ref);
        run = s + 1;
    }
    jsonw_put(w, run, (size_t)(s - run));
}

/* <meta attr="name" content="value"> with value escaped. */
static void meta(jsonw *w, const char *attr, const char *name, const char *value)
{
    jsonw_puts(w, "<meta ");
    jsonw_puts(w, attr);
    jsonw_puts(w, "=\"");
    jsonw_puts(w, name);
    jsonw_puts(w, "\" content=\"");
    html_escape(w, value);
    jsonw_puts(w, "\">\n");
}

/* The value of key in a query string ("a=1&b=2"), copied into out; false if absent. */
static bool query_value(const char *query, const char *key, char *out, size_t cap)
{
    size_t kn = strlen(key);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, key, kn) != 0 || p[kn] != '=')
            continue;
        size_t n = strcspn(p + kn + 1, "&");
        if (n >= cap)
            n = cap - 1;
        memcpy(out, p + kn + 1, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

static void reply_json(net_http_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = strdup(text);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    if (!resp->body)
        resp->status = 500;
}

/* Reads file beneath web_root into a malloc'd NUL-terminated buffer, or NULL. */
static char *read_web_file(const char *web_root, const char *file, size_t *len)
{
    webroot *root = web_root && *web_root ? webroot_new(web_root, WEBROOT_AUTO) : NULL;
    struct stat st;
    bool index;
    int fd = root ? webroot_open_file(root, file, &st, &index) : -1;
    char *text = NULL;
    if (fd < 0 || st.st_size > TEMPLATE_MAX || !(text = malloc((size_t)st.st_size + 1)))
        goto done;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
        if (n <= 0) {
            free(text);
            text = NULL;
            goto done;
        }
        got += (size_t)n;
    }
    text[got] = '\0';
    *len = got;
done:
    if (fd >= 0)
        close(fd);
    webroot_free(root);
    return text;
}

/* ---- the page ------------------------------------------------------------------------------ */

/* The kind of stream the page may play: the session's, when the configuration still allows it
 * (an allowlist may have changed since it was set), with its URL taken apart into *u. */
static int allowed_stream(const forum_session_rec *s, const forum_limits *limits, forum_url *u)
{
    char msg[200];
    if (s->stream_kind == FORUM_STREAM_NONE || !s->stream_url ||
        forum_stream_check(s->stream_kind, s->stream_url, limits->stream_hosts, limits->embed_hosts,
                           msg, sizeof msg) ||
        forum_url_parse(s->stream_url, u))
        return FORUM_STREAM_NONE;
    return s->stream_kind;
}

/* The page's Content-Security-Policy (malloc'd): NET_DEFAULT_CSP's rules, plus the stream's
 * origin where its kind needs it (HLS: media-src, with blob: for Media Source Extensions, and
 * connect-src for hls.js; embed: frame-src), and frame-ancestors from the configuration. */
static char *page_policy(int kind, const forum_url *u, const char *frame_ancestors)
{
    jsonw w = {0};
    jsonw_puts(&w, "default-src 'none'; img-src 'self' data:; script-src 'self'; "
                   "font-src 'self'; style-src 'self'; connect-src 'self' ws: wss:");
    if (kind == FORUM_STREAM_HLS) {
        jsonw_puts(&w, " ");
        jsonw_puts(&w, u->origin);
        jsonw_puts(&w, "; media-src blob: ");
        jsonw_puts(&w, u->origin);
    }
    if (kind == FORUM_STREAM_EMBED) {
        jsonw_puts(&w, "; frame-src ");
        jsonw_puts(&w, u->origin);
    }
    if (frame_ancestors && *frame_ancestors) {
        jsonw_puts(&w, "; frame-ancestors 'self' ");
        jsonw_puts(&w, frame_ancestors);
    } else {
        jsonw_puts(&w, "; frame-ancestors 'none'");
    }
    jsonw_puts(&w, "; base-uri 'none'; form-action 'self'");
    return jsonw_finish(&w);
}

/* Appends up to max_chars code points of s (valid UTF-8), with "…" when it was cut. */
static void put_cut(jsonw *w, const char *s, size_t max_chars)
{
    size_t chars = 0, i = 0;
    while (s[i] && chars < max_chars) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    jsonw_put(w, s, i);
    if (s[i])
        jsonw_puts(w, "…");
}

/* What a share card says below the title: the topic and the panel, or an invitation. */
static char *describe(const forum_session_rec *s)
{
    jsonw w = {0};
    if (s->topic && *s->topic)
        jsonw_puts(&w, s->topic);
    if (s->n_panelists > 0) {
        jsonw_puts(&w, w.len ? " · 嘉宾：" : "嘉宾：");
        for (size_t i = 0; i < s->n_panelists && i < 6; i++) {
            if (i)
                jsonw_puts(&w, "、");
            jsonw_puts(&w, s->panelists[i].name);
        }
        if (s->n_panelists > 6)
            jsonw_puts(&w, "等");
    }
    if (!w.len)
        jsonw_puts(&w, "扫码进入直播间，向嘉宾提问、为关心的问题点赞。");
    char *all = jsonw_finish(&w);
    if (!all)
        return NULL;
    jsonw cut = {0};
    put_cut(&cut, all, DESCRIPTION_MAX_CHARS);
    free(all);
    return jsonw_finish(&cut);
}

/* The tags that go after <title> for session s at url (its public address). */
static void share_tags(jsonw *w, const viewer_page_config *cfg, const forum_session_rec *s,
                       const char *url, const char *description, int kind)
{
    const char *site = s->program && *s->program ? s->program : "直播论坛";
    char image[FORUM_URL_MAX + 64], icon[FORUM_URL_MAX + 64];
    snprintf(image, sizeof image, "%s%s", cfg->public_url, SHARE_IMAGE);
    snprintf(icon, sizeof icon, "%s%s", cfg->public_url, SHARE_ICON);
    meta(w, "name", "description", description);
    meta(w, "property", "og:type", "website");
    meta(w, "property", "og:site_name", site);
    meta(w, "property", "og:title", s->title);
    meta(w, "property", "og:description", description);
    meta(w, "property", "og:url", url);
    meta(w, "property", "og:image", image);
    meta(w, "property", "og:image:width", "1200");
    meta(w, "property", "og:image:height", "630");
    meta(w, "property", "og:locale", "zh_CN");
    meta(w, "name", "twitter:card", "summary_large_image");
    meta(w, "itemprop", "name", s->title);
    meta(w, "itemprop", "description", description);
    meta(w, "itemprop", "image", icon);
    /* the stream this page's policy lets it play (viewer.js offers a reload for another) */
    jsonw_puts(w, "<meta name=\"forum-stream\" content=\"");
    if (kind != FORUM_STREAM_NONE) {
        html_escape(w, FORUM_STREAM_KIND_NAMES[kind]);
        jsonw_puts(w, " ");
        html_escape(w, s->stream_url);
    }
    jsonw_puts(w, "\">\n");
}

/* viewer.html with the session's title and share tags, or NULL (out of memory). */
static char *render_page(const viewer_page_config *cfg, const char *tmpl, size_t tlen,
                         const forum_session_rec *s, const char *code, int kind)
{
    char url[FORUM_URL_MAX + FORUM_CODE_MAX + 8];
    snprintf(url, sizeof url, "%s/s/%s", cfg->public_url, code);
    char *description = describe(s);
    if (!description)
        return NULL;
    const char *open = strstr(tmpl, "<title>");
    const char *close = open ? strstr(open, "</title>") : NULL;
    const char *head_end = strstr(tmpl, "</head>");
    jsonw w = {0};
    if (open && close) {
        jsonw_put(&w, tmpl, (size_t)(open - tmpl));
        jsonw_puts(&w, "<title>");
        html_escape(&w, s->title);
        jsonw_puts(&w, " · ");
        html_escape(&w, s->program && *s->program ? s->program : "直播论坛");
        jsonw_puts(&w, "</title>\n");
        share_tags(&w, cfg, s, url, description, kind);
        close += strlen("</title>");
        close += *close == '\n';
        jsonw_put(&w, close, tlen - (size_t)(close - tmpl));
    } else if (head_end) {
        jsonw_put(&w, tmpl, (size_t)(head_end - tmpl));
        share_tags(&w, cfg, s, url, description, kind);
        jsonw_put(&w, head_end, tlen - (size_t)(head_end - tmpl));
    } else {
        jsonw_put(&w, tmpl, tlen);
    }
    free(description);
    return jsonw_finish(&w);
}

static bool answer_page(const viewer_page_config *cfg, const forum_state *st,
                        const forum_limits *limits, const char *code, net_http_response *resp)
{
    size_t tlen;
    char *tmpl = read_web_file(cfg->web_root, "viewer.html", &tlen);
    if (!tmpl)
        return false;
    forum_session_rec s;
    forum_url u = {0};
    int kind = FORUM_STREAM_NONE;
    bool found = code[0] && forum_session_settings(st, code, &s);
    if (found)
        kind = allowed_stream(&s, limits, &u);
    resp->csp = page_policy(kind, &u, cfg->frame_ancestors);
    resp->frameable = cfg->frame_ancestors && *cfg->frame_ancestors;
    resp->content_type = "text/html; charset=utf-8";
    if (found) {
        resp->body = render_page(cfg, tmpl, tlen, &s, code, kind);
        free(tmpl);
    } else {
        resp->body = tmpl; /* the page says "no such session" itself */
    }
    resp->status = !resp->body || !resp->csp ? 500 : found ? 200 : 404;
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    return true;
}

/* ---- QR code and link ---------------------------------------------------------------------- */

static void answer_qr(const viewer_page_config *cfg, const char *code, bool png, const char *query,
                      net_http_response *resp)
{
    char url[FORUM_URL_MAX + FORUM_CODE_MAX + 8], value[16];
    snprintf(url, sizeof url, "%s/s/%s", cfg->public_url, code);
    int scale = QR_DEFAULT_SCALE;
    if (png && query_value(query, "scale", value, sizeof value)) {
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < 1 || v > QR_SCALE_MAX) {
            reply_json(resp, 400,
                       "{\"error\":\"bad_request\",\"message\":\"scale is a whole number of "
                       "pixels per module from 1 to 40\"}");
            return;
        }
        scale = (int)v;
    }
    resp->body = png ? (char *)qr_png(url, scale, &resp->body_len) : qr_svg(url, &resp->body_len);
    resp->status = resp->body ? 200 : 500;
    resp->content_type = png ? "image/png" : "image/svg+xml";
}

static void answer_share(const viewer_page_config *cfg, const char *code, net_http_response *resp)
{
    char url[FORUM_URL_MAX + FORUM_CODE_MAX + 8];
    snprintf(url, sizeof url, "%s/s/%s", cfg->public_url, code);
    jsonw w = {0};
    bool f = true;
    jsonw_put(&w, "{", 1);
    jsonw_kv_str(&w, &f, "code", code);
    jsonw_kv_str(&w, &f, "url", url);
    snprintf(url, sizeof url, "/s/%s/qr.svg", code);
    jsonw_kv_str(&w, &f, "qr_svg", url);
    snprintf(url, sizeof url, "/s/%s/qr.png", code);
    jsonw_kv_str(&w, &f, "qr_png", url);
    jsonw_put(&w, "}", 1);
    resp->body = jsonw_finish(&w);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    resp->status = resp->body ? 200 : 500;
    resp->content_type = "application/json; charset=utf-8";
}

/* ---- routing ------------------------------------------------------------------------------- */

bool viewer_page_route(const viewer_page_config *cfg, const forum_state *st,
                       const forum_limits *limits, const net_http_request *req,
                       net_http_response *resp)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return false;
    if (strncmp(req->path, "/s/", 3) != 0)
        return false;
    /* /s/CODE[/what]: a join code is letters and digits; it is looked up in upper case */
    const char *rest = req->path + 3;
    size_t n = strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    const char *what = rest + n;
    char code[FORUM_CODE_MAX] = "";
    if (n < FORUM_CODE_MAX && (*what == '\0' || *what == '/')) {
        for (size_t i = 0; i < n; i++)
            code[i] = rest[i] >= 'a' && rest[i] <= 'z' ? (char)(rest[i] - 'a' + 'A') : rest[i];
        code[n] = '\0';
    }
    if (*what == '/')
        what++;
    if (*what == '\0' || !code[0])
        return answer_page(cfg, st, limits, code, resp);
    bool qr_svg_file = strcmp(what, "qr.svg") == 0, qr_png_file = strcmp(what, "qr.png") == 0,
         share = strcmp(what, "share.json") == 0;
    if (!qr_svg_file && !qr_png_file && !share) {
        reply_json(resp, 404, "{\"error\":\"not_found\",\"message\":\"no such page\"}");
        return true;
    }
    if (!forum_session_exists(st, code)) {
        reply_json(resp, 404, "{\"error\":\"not_found\",\"message\":\"no such session\"}");
        return true;
    }
    if (share)
        answer_share(cfg, code, resp);
    else
        answer_qr(cfg, code, qr_png_file, req->query, resp);
    return true;
}
