/* webhook.c — outgoing webhooks (see webhook.h). Owns the deliveries owed by committed changes
 * (the outbox rows and their generic JSON documents), their formats (the generic JSON signed
 * with HMAC-SHA256; WeCom, DingTalk and Feishu robot markdown), and the delivery: the loop
 * thread reads each webhook's oldest pending row when it is due and hands it to one worker
 * thread, which sends it with libcurl's multi interface (one transfer per webhook at a time, so
 * a webhook's deliveries arrive in order; every transfer bounded in time and in what is read
 * back; no redirects followed; only http and https); the outcome comes back to the loop and is
 * recorded in a store batch of its own: delivered, or pending again after a backoff, or failed
 * after WEBHOOK_MAX_ATTEMPTS. The loop never waits on a receiver. */
#include "webhook.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "log.h"
#include "utf8.h"

#define WEBHOOK_SLOTS 64             /* webhooks tracked at once (FORUM_WEBHOOKS_MAX registered) */
#define WEBHOOK_MAX_ATTEMPTS 20      /* then the delivery is failed (the console can retry it) */
#define WEBHOOK_BACKOFF_BASE_MS 1000 /* 1 s, 2 s, 4 s, ... */
#define WEBHOOK_BACKOFF_MAX_MS (3600 * 1000)
#define WEBHOOK_REPLY_KEEP 4096 /* bytes of a reply kept (for a robot's error code) */
#define WEBHOOK_REPLY_MAX 65536 /* a longer reply is cut off: the attempt ends there */
#define WEBHOOK_KEEP_FINISHED_MS (7LL * 24 * 3600 * 1000) /* delivered/failed rows kept a week */
#define WEBHOOK_TEXT_MAX 300 /* code points of user text in a robot message */

/* ---- what the worker sends and what comes back --------------------------------------------- */

typedef struct task {
    int64_t row_id, webhook_id;
    int attempts; /* before this one */
    char *url;
    char *body;
    struct curl_slist *headers;
    /* the outcome */
    int status; /* HTTP status, 0 = none */
    bool ok;
    char error[200]; /* why it failed */
    char reply[WEBHOOK_REPLY_KEEP + 1];
    size_t reply_len, reply_total;
    int preset;
    CURL *easy;
    struct task *next;
} task;

/* One tracked webhook: whether a delivery of it is out, and when to look at it again. */
typedef struct slot {
    int64_t id; /* 0 = free */
    bool in_flight;
    bool known_empty; /* its outbox had nothing pending when last read */
    int64_t next_at;  /* its head row is not due before this (ms epoch) */
} slot;

struct webhooks {
    uv_loop_t *loop;
    forum_state *st;
    store *store;
    webhooks_options opt;
    uv_timer_t timer;
    uv_async_t async;
    bool stopped, free_wanted;
    int closing_handles;
    size_t outstanding; /* store batches submitted, not completed */
    slot slots[WEBHOOK_SLOTS];
    uint64_t failures;
    int64_t last_prune_ms;
    /* worker */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    task *todo, *done; /* handed over under mu */
    bool quit;
    CURLM *multi;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void task_free(task *t)
{
    if (!t)
        return;
    free(t->url);
    free(t->body);
    curl_slist_free_all(t->headers);
    if (t->easy)
        curl_easy_cleanup(t->easy);
    free(t);
}

/* ---- signatures ------------------------------------------------------------------------------ */

static void hmac_sha256(const char *key, size_t key_len, const char *msg, size_t len,
                        unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, len, out, &n);
}

void webhooks_signature(const char *secret, int64_t t, const char *body, size_t len, char *out,
                        size_t cap)
{
    char prefix[32];
    int pn = snprintf(prefix, sizeof prefix, "%lld.", (long long)t);
    char *msg = malloc((size_t)pn + len);
    unsigned char mac[32];
    char hex[65];
    if (!msg) {
        snprintf(out, cap, "t=%lld,v1=", (long long)t);
        return;
    }
    memcpy(msg, prefix, (size_t)pn);
    memcpy(msg + pn, body, len);
    hmac_sha256(secret, strlen(secret), msg, (size_t)pn + len, mac);
    free(msg);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    snprintf(out, cap, "t=%lld,v1=%s", (long long)t, hex);
}

/* base64 of HMAC-SHA256(key, msg) into out (>= 45 bytes). */
static void hmac_base64(const char *key, size_t key_len, const char *msg, size_t len, char *out)
{
    unsigned char mac[32];
    hmac_sha256(key, key_len, msg, len, mac);
    EVP_EncodeBlock((unsigned char *)out, mac, 32);
}

/* ---- the generic JSON document ---------------------------------------------------------------- */

/* The trigger an event is, or -1: on air, answered, a commitment made or changed, a session
 * started, ended or archived (a session.changed reports one when the status it carries was set
 * by it: started_at / ended_at of the event's own time; an archived session changes no more). */
static int trigger_of(const forum_event *ev)
{
    switch (ev->kind) {
    case FORUM_EV_ONAIR_CHANGED:
        return ev->p.question_id ? FORUM_TRIGGER_QUESTION_ON_AIR : -1;
    case FORUM_EV_QUESTION_ANSWERED:
        return ev->p.question.undo ? -1 : FORUM_TRIGGER_QUESTION_ANSWERED;
    case FORUM_EV_ACTION_CHANGED:
        return ev->p.action.created_at == ev->p.action.updated_at
                   ? FORUM_TRIGGER_COMMITMENT_CREATED
                   : FORUM_TRIGGER_COMMITMENT_UPDATED;
    case FORUM_EV_SESSION_CHANGED: {
        const forum_session_rec *s = &ev->p.session;
        if (s->status == S_LIVE && s->started_at == ev->at)
            return FORUM_TRIGGER_SESSION_STARTED;
        if (s->status == S_ENDED && s->ended_at == ev->at)
            return FORUM_TRIGGER_SESSION_ENDED;
        if (s->status == S_ARCHIVED)
            return FORUM_TRIGGER_SESSION_ARCHIVED;
        return -1;
    }
    default:
        return -1;
    }
}

static cJSON *panelist_json(const forum_session_rec *s, int64_t id)
{
    for (size_t i = 0; id && s && i < s->n_panelists; i++)
        if (s->panelists[i].id == id) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "id", (double)id);
            cJSON_AddStringToObject(p, "name", s->panelists[i].name ? s->panelists[i].name : "");
            if (s->panelists[i].role)
                cJSON_AddStringToObject(p, "role", s->panelists[i].role);
            if (s->panelists[i].affiliation)
                cJSON_AddStringToObject(p, "affiliation", s->panelists[i].affiliation);
            return p;
        }
    return cJSON_CreateNull();
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* The generic document of ev (trigger t): {"event","occurred_at","session":{code,title,topic,
 * program_id,program,status},"seq", and "question" or "commitment"}. Only what the public (or,
 * for commitments, the producers' record) holds: no viewer ids. malloc'd, or NULL. */
static char *document_of(const forum_state *st, const forum_event *ev, int t)
{
    cJSON *doc = cJSON_CreateObject();
    char *live = forum_live_state_text(st, ev->session);
    cJSON *state = live ? cJSON_Parse(live) : NULL;
    free(live);
    forum_session_rec srec;
    bool have = forum_session_settings(st, ev->session, &srec);
    cJSON_AddStringToObject(doc, "event", FORUM_WEBHOOK_TRIGGER_NAMES[t]);
    cJSON_AddNumberToObject(doc, "occurred_at", (double)ev->at);
    cJSON *sess = cJSON_DetachItemFromObject(state, "session");
    if (!sess) {
        sess = cJSON_CreateObject();
        cJSON_AddStringToObject(sess, "code", ev->session);
    }
    cJSON_AddNumberToObject(sess, "program_id", (double)forum_session_program(st, ev->session));
    cJSON_AddItemToObject(doc, "session", sess);
    cJSON_AddNumberToObject(doc, "seq", (double)ev->seq);
    if (t == FORUM_TRIGGER_QUESTION_ON_AIR) {
        cJSON *q = cJSON_DetachItemFromObject(state, "on_air");
        cJSON_AddItemToObject(doc, "question", q ? q : cJSON_CreateNull());
    } else if (t == FORUM_TRIGGER_QUESTION_ANSWERED) {
        const forum_question_rec *r = &ev->p.question.q;
        cJSON *q = cJSON_CreateObject();
        cJSON_AddNumberToObject(q, "id", (double)r->id);
        cJSON_AddStringToObject(q, "text", r->text ? r->text : "");
        add_str_or_null(q, "author", r->author);
        cJSON_AddStringToObject(q, "category",
                                FORUM_CATEGORY_NAMES[r->category % FORUM_CAT__COUNT]);
        cJSON_AddItemToObject(q, "to", panelist_json(have ? &srec : NULL, r->to));
        cJSON_AddNumberToObject(q, "votes", (double)r->votes);
        add_str_or_null(q, "answer_note", r->answer_note);
        cJSON_AddItemToObject(doc, "question", q);
    } else if (t == FORUM_TRIGGER_COMMITMENT_CREATED || t == FORUM_TRIGGER_COMMITMENT_UPDATED) {
        const forum_action_rec *a = &ev->p.action;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "id", (double)a->id);
        cJSON_AddStringToObject(c, "text", a->text ? a->text : "");
        add_str_or_null(c, "owner", a->owner);
        add_str_or_null(c, "due", a->due);
        cJSON_AddStringToObject(c, "status",
                                FORUM_ACTION_STATUS_NAMES[a->status % FORUM_ACTION__COUNT]);
        if (a->question_id)
            cJSON_AddNumberToObject(c, "question_id", (double)a->question_id);
        else
            cJSON_AddNullToObject(c, "question_id");
        if (a->follows_action_id)
            cJSON_AddNumberToObject(c, "follows_action_id", (double)a->follows_action_id);
        cJSON_AddNumberToObject(c, "created_at", (double)a->created_at);
        cJSON_AddNumberToObject(c, "updated_at", (double)a->updated_at);
        cJSON_AddItemToObject(doc, "commitment", c);
    }
    cJSON_Delete(state);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

void webhooks_release(store_batch *b)
{
    for (size_t i = 0; i < b->n_outbox; i++)
        free((char *)b->outbox[i].body);
    free((void *)b->outbox);
    b->outbox = NULL;
    b->n_outbox = 0;
}

void webhooks_owe(webhooks *w, store_batch *b)
{
    if (!w || w->stopped)
        return;
    size_t n_hooks = forum_webhook_count(w->st);
    for (size_t i = 0; i < b->n_events; i++) {
        const forum_event *ev = &b->events[i];
        if (ev->kind == FORUM_EV_WEBHOOK_CHANGED && ev->p.webhook.deleted) {
            b->outbox_cancel_webhook = ev->p.webhook.id;
            b->outbox_requeue_at = ev->at;
        }
        int t = trigger_of(ev);
        if (t < 0 || !ev->session[0] || !n_hooks)
            continue;
        int64_t program = forum_session_program(w->st, ev->session);
        char *doc = NULL;
        for (size_t k = 0; k < n_hooks; k++) {
            forum_webhook_info h = forum_webhook_at(w->st, k);
            if (!h.enabled || !(h.triggers & (1u << t)) ||
                (h.program_id && h.program_id != program))
                continue;
            if (!doc && !(doc = document_of(w->st, ev, t)))
                break;
            store_outbox_row *rows = realloc((void *)b->outbox, (b->n_outbox + 1) * sizeof *rows);
            char *body = strdup(doc);
            if (!rows || !body) {
                free(body);
                if (rows)
                    b->outbox = rows;
                log_error("webhooks: out of memory: a delivery to webhook %lld is not owed",
                          (long long)h.id);
                break;
            }
            rows[b->n_outbox++] = (store_outbox_row){
                .webhook_id = h.id,
                .event = FORUM_WEBHOOK_TRIGGER_NAMES[t],
                .session = ev->session,
                .seq = ev->seq,
                .body = body,
                .at = ev->at,
            };
            b->outbox = rows;
        }
        free(doc);
    }
}

/* ---- robot formats ---------------------------------------------------------------------------- */

/* Appends user text s to a markdown message as plain text: markdown's and the robots' special
 * characters become their full-width forms (no links, mentions, HTML or layout from a
 * resident's question), line breaks spaces, at most WEBHOOK_TEXT_MAX code points. */
static void md_text(char **buf, size_t *len, size_t *cap, const char *s)
{
    static const struct {
        char c;
        const char *full;
    } map[] = {{'<', "＜"}, {'>', "＞"}, {'[', "［"}, {']', "］"}, {'*', "＊"}, {'`', "｀"},
               {'_', "＿"}, {'#', "＃"}, {'@', "＠"}, {'~', "～"}, {'|', "｜"}, {'\\', "＼"},
               {'(', "（"}, {')', "）"}, {'!', "！"}, {'&', "＆"}};
    size_t points = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        char piece[8];
        size_t n = 1;
        if (++points > WEBHOOK_TEXT_MAX) {
            snprintf(piece, sizeof piece, "…");
            n = strlen(piece);
            p += strlen((const char *)p);
        } else if (*p < 0x80) {
            piece[0] = (char)(*p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
            for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
                if (*p == (unsigned char)map[i].c) {
                    n = strlen(map[i].full);
                    memcpy(piece, map[i].full, n);
                }
            p++;
        } else {
            n = (*p >= 0xf0) ? 4 : (*p >= 0xe0) ? 3 : 2;
            for (size_t i = 0; i < n; i++)
                piece[i] = (char)(p[i] ? p[i] : ' ');
            for (size_t i = 0; i < n && *p; i++)
                p++;
        }
        if (*len + n + 1 > *cap) {
            size_t c = (*cap ? *cap * 2 : 256) + n;
            char *g = realloc(*buf, c);
            if (!g)
                return;
            *buf = g;
            *cap = c;
        }
        memcpy(*buf + *len, piece, n);
        *len += n;
        (*buf)[*len] = '\0';
    }
}

static void md_put(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 256) + n;
        char *g = realloc(*buf, c);
        if (!g)
            return;
        *buf = g;
        *cap = c;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The robot message's title and markdown text for the generic document doc (Chinese: the
 * robots post into the staff's group chats). *title is static; the text is malloc'd. */
static char *markdown_of(const cJSON *doc, const char **title)
{
    static const char *const status_zh[] = {"待办", "进行中", "已完成"};
    const char *event = jstr(doc, "event");
    const cJSON *sess = cJSON_GetObjectItemCaseSensitive(doc, "session");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(doc, "question");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "commitment");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct {
        const char *event, *title;
    } titles[] = {
        {"question.on_air", "正在回答"},        {"question.answered", "问题已答复"},
        {"commitment.created", "新的承诺事项"}, {"commitment.updated", "承诺事项更新"},
        {"session.started", "直播开始"},        {"session.ended", "直播结束"},
        {"session.archived", "本期已归档"},     {"webhook.test", "测试消息"},
    };
    *title = "论坛消息";
    for (size_t i = 0; event && i < sizeof titles / sizeof titles[0]; i++)
        if (strcmp(event, titles[i].event) == 0)
            *title = titles[i].title;
    md_put(&buf, &len, &cap, "**");
    md_put(&buf, &len, &cap, *title);
    md_put(&buf, &len, &cap, "** · ");
    md_text(&buf, &len, &cap, jstr(sess, "title") ? jstr(sess, "title") : "forum");
    if (jstr(sess, "program")) {
        md_put(&buf, &len, &cap, "（");
        md_text(&buf, &len, &cap, jstr(sess, "program"));
        md_put(&buf, &len, &cap, "）");
    }
    md_put(&buf, &len, &cap, "\n");
    if (cJSON_IsObject(q)) {
        md_put(&buf, &len, &cap, "> ");
        md_text(&buf, &len, &cap, jstr(q, "text"));
        md_put(&buf, &len, &cap, "\n\n提问：");
        md_text(&buf, &len, &cap, jstr(q, "author") ? jstr(q, "author") : "匿名");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(q, "to");
        if (cJSON_IsObject(to)) {
            md_put(&buf, &len, &cap, " ｜ 回答：");
            md_text(&buf, &len, &cap, jstr(to, "name"));
        }
        if (jstr(q, "answer_note")) {
            md_put(&buf, &len, &cap, "\n\n答复要点：");
            md_text(&buf, &len, &cap, jstr(q, "answer_note"));
        }
        md_put(&buf, &len, &cap, "\n");
    }
    if (cJSON_IsObject(c)) {
        md_put(&buf, &len, &cap, "> ");
        md_text(&buf, &len, &cap, jstr(c, "text"));
        md_put(&buf, &len, &cap, "\n\n责任人：");
        md_text(&buf, &len, &cap, jstr(c, "owner") ? jstr(c, "owner") : "未指定");
        md_put(&buf, &len, &cap, " ｜ 期限：");
        md_text(&buf, &len, &cap, jstr(c, "due") ? jstr(c, "due") : "未定");
        const char *st = jstr(c, "status");
        int si = forum_name_index(FORUM_ACTION_STATUS_NAMES, FORUM_ACTION__COUNT, st);
        md_put(&buf, &len, &cap, " ｜ 状态：");
        md_put(&buf, &len, &cap, si >= 0 ? status_zh[si] : "-");
        md_put(&buf, &len, &cap, "\n");
    }
    if (jstr(sess, "topic") && event && strncmp(event, "session.", 8) == 0) {
        md_put(&buf, &len, &cap, "主题：");
        md_text(&buf, &len, &cap, jstr(sess, "topic"));
        md_put(&buf, &len, &cap, "\n");
    }
    return buf;
}

/* Percent-encodes s (base64) into out. */
static void url_encode(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~')
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", ch);
    }
    out[n] = '\0';
}

/* Builds t's URL, body and headers for webhook h from the generic document. Returns 0 or -1. */
static int format_task(task *t, const forum_webhook_info *h, const char *doc_text, int64_t delivery)
{
    int64_t now = now_ms();
    char hdr[200];
    t->preset = h->preset;
    if (h->preset == FORUM_HOOK_JSON) {
        t->url = strdup(h->url);
        t->body = strdup(doc_text);
        if (!t->url || !t->body)
            return -1;
        char sig[120];
        if (h->secret) {
            webhooks_signature(h->secret, now / 1000, t->body, strlen(t->body), sig, sizeof sig);
            snprintf(hdr, sizeof hdr, "X-Forum-Signature: %s", sig);
            t->headers = curl_slist_append(t->headers, hdr);
        }
    } else {
        cJSON *doc = cJSON_Parse(doc_text);
        const char *title;
        char *md = doc ? markdown_of(doc, &title) : NULL;
        cJSON_Delete(doc);
        if (!md)
            return -1;
        cJSON *msg = cJSON_CreateObject();
        char stamp[32], sign[64];
        if (h->preset == FORUM_HOOK_WECOM) {
            cJSON_AddStringToObject(msg, "msgtype", "markdown");
            cJSON *m = cJSON_AddObjectToObject(msg, "markdown");
            cJSON_AddStringToObject(m, "content", md);
            t->url = strdup(h->url);
        } else if (h->preset == FORUM_HOOK_DINGTALK) {
            cJSON_AddStringToObject(msg, "msgtype", "markdown");
            cJSON *m = cJSON_AddObjectToObject(msg, "markdown");
            cJSON_AddStringToObject(m, "title", title);
            cJSON_AddStringToObject(m, "text", md);
            if (h->secret) { /* DingTalk: timestamp (ms) and sign in the query */
                snprintf(stamp, sizeof stamp, "%lld", (long long)now);
                char tosign[300], enc[140];
                snprintf(tosign, sizeof tosign, "%s\n%s", stamp, h->secret);
                hmac_base64(h->secret, strlen(h->secret), tosign, strlen(tosign), sign);
                url_encode(sign, enc, sizeof enc);
                size_t n = strlen(h->url) + strlen(stamp) + strlen(enc) + 32;
                if ((t->url = malloc(n)) != NULL)
                    snprintf(t->url, n, "%s%stimestamp=%s&sign=%s", h->url,
                             strchr(h->url, '?') ? "&" : "?", stamp, enc);
            } else {
                t->url = strdup(h->url);
            }
        } else { /* Feishu: an interactive card with a markdown element; signed in the body */
            if (h->secret) {
                snprintf(stamp, sizeof stamp, "%lld", (long long)(now / 1000));
                char key[300];
                snprintf(key, sizeof key, "%s\n%s", stamp, h->secret);
                hmac_base64(key, strlen(key), "", 0, sign);
                cJSON_AddStringToObject(msg, "timestamp", stamp);
                cJSON_AddStringToObject(msg, "sign", sign);
            }
            cJSON_AddStringToObject(msg, "msg_type", "interactive");
            cJSON *card = cJSON_AddObjectToObject(msg, "card");
            cJSON *header = cJSON_AddObjectToObject(card, "header");
            cJSON *ht = cJSON_AddObjectToObject(header, "title");
            cJSON_AddStringToObject(ht, "tag", "plain_text");
            cJSON_AddStringToObject(ht, "content", title);
            cJSON *els = cJSON_AddArrayToObject(card, "elements");
            cJSON *el = cJSON_CreateObject();
            cJSON_AddStringToObject(el, "tag", "markdown");
            cJSON_AddStringToObject(el, "content", md);
            cJSON_AddItemToArray(els, el);
            t->url = strdup(h->url);
        }
        free(md);
        t->body = cJSON_PrintUnformatted(msg);
        cJSON_Delete(msg);
        if (!t->url || !t->body)
            return -1;
    }
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json; charset=utf-8");
    t->headers = curl_slist_append(t->headers, "Expect:");
    snprintf(hdr, sizeof hdr, "X-Forum-Delivery: %lld", (long long)delivery);
    t->headers = curl_slist_append(t->headers, hdr);
    cJSON *doc = cJSON_Parse(doc_text);
    const char *ev = jstr(doc, "event");
    snprintf(hdr, sizeof hdr, "X-Forum-Event: %.60s", ev ? ev : "");
    cJSON_Delete(doc);
    t->headers = curl_slist_append(t->headers, hdr);
    return t->headers ? 0 : -1;
}

/* ---- the worker ------------------------------------------------------------------------------- */

static size_t on_reply(char *data, size_t size, size_t n, void *arg)
{
    task *t = arg;
    size_t len = size * n;
    t->reply_total += len;
    if (t->reply_total > WEBHOOK_REPLY_MAX)
        return 0; /* cut off: the transfer ends with CURLE_WRITE_ERROR */
    size_t keep = WEBHOOK_REPLY_KEEP - t->reply_len;
    if (keep > len)
        keep = len;
    memcpy(t->reply + t->reply_len, data, keep);
    t->reply_len += keep;
    t->reply[t->reply_len] = '\0';
    return len;
}

static int start_transfer(webhooks *w, task *t)
{
    CURL *e = curl_easy_init();
    if (!e)
        return -1;
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, t->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is an answer, not a hop */
    curl_easy_setopt(e, CURLOPT_PROXY, "");          /* no proxy from the environment */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)w->opt.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)w->opt.timeout_ms);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "forumd-webhook/1");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_reply);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)WEBHOOK_REPLY_MAX);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    return curl_multi_add_handle(w->multi, e) == CURLM_OK ? 0 : -1;
}

/* The outcome of a finished transfer: 2xx, and for robots no error code in their answer. */
static void judge(task *t, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->status = (int)status;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status >= 200 && status < 300)) {
        snprintf(t->error, sizeof t->error, "%s",
                 rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED
                     ? "the answer was too long"
                     : curl_easy_strerror(rc));
        return;
    }
    if (status < 200 || status >= 300) {
        snprintf(t->error, sizeof t->error, "HTTP %ld%s", status,
                 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
        return;
    }
    if (t->preset != FORUM_HOOK_JSON) { /* robots answer 200 with an error code */
        cJSON *a = cJSON_Parse(t->reply);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(a, "errcode");
        if (!code)
            code = cJSON_GetObjectItemCaseSensitive(a, "code");
        const char *msg = jstr(a, "errmsg") ? jstr(a, "errmsg") : jstr(a, "msg");
        if (cJSON_IsNumber(code) && code->valuedouble != 0) {
            snprintf(t->error, sizeof t->error, "the robot refused it: %d %.120s",
                     (int)code->valuedouble, msg ? msg : "");
            cJSON_Delete(a);
            return;
        }
        cJSON_Delete(a);
    }
    t->ok = true;
}

static void *worker_main(void *arg)
{
    webhooks *w = arg;
    pthread_setname_np(pthread_self(), "forum-webhook");
    task *active = NULL; /* transfers under way (the worker's own list) */
    for (;;) {
        pthread_mutex_lock(&w->mu);
        bool quit = w->quit;
        task *todo = w->todo;
        w->todo = NULL;
        pthread_mutex_unlock(&w->mu);
        if (quit)
            break;
        while (todo) {
            task *t = todo;
            todo = t->next;
            t->next = NULL;
            if (start_transfer(w, t) == 0) {
                t->next = active;
                active = t;
            } else {
                snprintf(t->error, sizeof t->error, "could not start the transfer");
                pthread_mutex_lock(&w->mu);
                t->next = w->done;
                w->done = t;
                pthread_mutex_unlock(&w->mu);
                uv_async_send(&w->async);
            }
        }
        int running = 0;
        curl_multi_perform(w->multi, &running);
        CURLMsg *m;
        int left;
        bool any = false;
        while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            task *t = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            CURLcode rc = m->data.result;
            curl_multi_remove_handle(w->multi, m->easy_handle);
            for (task **pp = &active; *pp; pp = &(*pp)->next)
                if (*pp == t) {
                    *pp = t->next;
                    break;
                }
            t->next = NULL;
            judge(t, rc);
            curl_easy_cleanup(t->easy);
            t->easy = NULL;
            pthread_mutex_lock(&w->mu);
            t->next = w->done;
            w->done = t;
            pthread_mutex_unlock(&w->mu);
            any = true;
        }
        if (any)
            uv_async_send(&w->async);
        curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
    }
    /* abandoned transfers: their rows stay pending */
    while (active) {
        task *t = active;
        active = t->next;
        curl_multi_remove_handle(w->multi, t->easy);
        task_free(t);
    }
    return NULL;
}

/* ---- the loop side ---------------------------------------------------------------------------- */

static slot *slot_of(webhooks *w, int64_t id, bool create)
{
    slot *free_slot = NULL;
    for (size_t i = 0; i < WEBHOOK_SLOTS; i++) {
        if (w->slots[i].id == id)
            return &w->slots[i];
        if (!w->slots[i].id && !free_slot)
            free_slot = &w->slots[i];
    }
    if (!create)
        return NULL;
    if (!free_slot) { /* forget one that is not busy and no longer registered */
        forum_webhook_info info;
        for (size_t i = 0; i < WEBHOOK_SLOTS && !free_slot; i++)
            if (!w->slots[i].in_flight && !forum_webhook_find(w->st, w->slots[i].id, &info))
                free_slot = &w->slots[i];
        if (!free_slot)
            return NULL;
    }
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->id = id;
    return free_slot;
}

/* A store batch of the module's own: an attempt's outcome, a requeue, a test delivery. */
typedef struct own_batch {
    store_batch b;
    webhooks *w;
    store_outbox_update update;
    store_outbox_row row;
    char *row_body;
    int64_t webhook_id; /* its slot is freed for the next delivery once committed (0: none) */
    char error[200];
} own_batch;

static void maybe_free(webhooks *w);
static void poll_soon(webhooks *w);

static void own_done(store_batch *b, int rc)
{
    own_batch *o = b->ctx;
    webhooks *w = o->w;
    if (rc != 0)
        log_warn("webhooks: recording a delivery failed (it will be tried again)");
    if (o->webhook_id) {
        slot *s = slot_of(w, o->webhook_id, false);
        if (s)
            s->in_flight = false;
    }
    free(o->row_body);
    free(o);
    w->outstanding--;
    if (w->free_wanted)
        maybe_free(w);
    else
        poll_soon(w);
}

static own_batch *own_new(webhooks *w)
{
    own_batch *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->w = w;
    o->b.ctx = o;
    o->b.done = own_done;
    return o;
}

static void own_submit(webhooks *w, own_batch *o)
{
    w->outstanding++;
    store_append(w->store, &o->b);
}

static int64_t backoff_ms(int attempts)
{
    int64_t d = WEBHOOK_BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && d < WEBHOOK_BACKOFF_MAX_MS; i++)
        d *= 2;
    return d < WEBHOOK_BACKOFF_MAX_MS ? d : WEBHOOK_BACKOFF_MAX_MS;
}

/* Records the outcome of one attempt (the slot stays busy until it is committed). */
static void record(webhooks *w, int64_t row_id, int64_t webhook_id, int attempts, bool ok,
                   int status, const char *error)
{
    int64_t now = now_ms();
    own_batch *o = own_new(w);
    if (!o) {
        slot *s = slot_of(w, webhook_id, false);
        if (s)
            s->in_flight = false;
        return;
    }
    o->webhook_id = webhook_id;
    o->update.id = row_id;
    o->update.attempts = attempts;
    o->update.last_status = status;
    o->update.at = now;
    if (ok) {
        o->update.state = STORE_OUTBOX_DELIVERED;
    } else {
        w->failures++;
        snprintf(o->error, sizeof o->error, "%s", error && *error ? error : "failed");
        o->update.last_error = o->error;
        o->update.state =
            attempts >= WEBHOOK_MAX_ATTEMPTS ? STORE_OUTBOX_FAILED : STORE_OUTBOX_PENDING;
        o->update.next_at = now + backoff_ms(attempts);
        slot *s = slot_of(w, webhook_id, false);
        if (s)
            s->next_at = o->update.next_at;
        log_warn("webhook %lld: delivery %lld failed (attempt %d%s): %s", (long long)webhook_id,
                 (long long)row_id, attempts,
                 o->update.state == STORE_OUTBOX_FAILED ? ", given up" : "", o->error);
    }
    if (now - w->last_prune_ms > 3600 * 1000) {
        w->last_prune_ms = now;
        o->b.outbox_prune_before = now - WEBHOOK_KEEP_FINISHED_MS;
    }
    o->b.outbox_updates = &o->update;
    o->b.n_outbox_updates = 1;
    own_submit(w, o);
}

static void on_results(uv_async_t *a)
{
    webhooks *w = a->data;
    pthread_mutex_lock(&w->mu);
    task *done = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->mu);
    while (done) {
        task *t = done;
        done = t->next;
        if (!w->stopped)
            record(w, t->row_id, t->webhook_id, t->attempts + 1, t->ok, t->status, t->error);
        task_free(t);
    }
}

/* Hands webhook h's due head row to the worker (or records why it cannot go). */
static void send_head(webhooks *w, slot *s, const forum_webhook_info *h, int64_t now)
{
    store_outbox_item item;
    int rc = store_outbox_head(w->store, h->id, &item);
    if (rc <= 0) {
        s->known_empty = rc == 0;
        return;
    }
    if (item.next_at > now) {
        s->next_at = item.next_at;
        store_outbox_item_free(&item);
        return;
    }
    s->in_flight = true;
    char why[300];
    if (forum_webhook_url_check(h->url, w->opt.hosts, why, sizeof why)) {
        record(w, item.id, h->id, item.attempts + 1, false, 0, why);
        store_outbox_item_free(&item);
        return;
    }
    task *t = calloc(1, sizeof *t);
    if (!t || format_task(t, h, item.body, item.id) != 0) {
        task_free(t);
        record(w, item.id, h->id, item.attempts + 1, false, 0, "out of memory");
        store_outbox_item_free(&item);
        return;
    }
    t->row_id = item.id;
    t->webhook_id = h->id;
    t->attempts = item.attempts;
    store_outbox_item_free(&item);
    pthread_mutex_lock(&w->mu);
    t->next = w->todo;
    w->todo = t;
    pthread_mutex_unlock(&w->mu);
    curl_multi_wakeup(w->multi);
}

/* Looks at every enabled webhook that is not busy and may have something due. */
static void poll_outbox(uv_timer_t *timer)
{
    webhooks *w = timer->data;
    if (w->stopped)
        return;
    int64_t now = now_ms();
    size_t n = forum_webhook_count(w->st);
    for (size_t i = 0; i < n; i++) {
        forum_webhook_info h = forum_webhook_at(w->st, i);
        if (!h.enabled)
            continue;
        slot *s = slot_of(w, h.id, true);
        if (!s || s->in_flight || s->known_empty || s->next_at > now)
            continue;
        send_head(w, s, &h, now);
    }
    uv_timer_start(&w->timer, poll_outbox, 1000, 0);
}

static void poll_soon(webhooks *w)
{
    if (!w->stopped)
        uv_timer_start(&w->timer, poll_outbox, 0, 0);
}

void webhooks_committed(webhooks *w, const store_batch *b)
{
    if (!w || w->stopped || !b->n_outbox)
        return;
    for (size_t i = 0; i < b->n_outbox; i++) {
        slot *s = slot_of(w, b->outbox[i].webhook_id, true);
        if (s)
            s->known_empty = false;
    }
    poll_soon(w);
}

webhooks *webhooks_new(uv_loop_t *loop, forum_state *st, store *s, const webhooks_options *o)
{
    webhooks *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->loop = loop;
    w->st = st;
    w->store = s;
    w->opt = *o;
    if (w->opt.timeout_ms <= 0)
        w->opt.timeout_ms = 10000;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(w->multi = curl_multi_init())) {
        log_error("webhooks: libcurl could not start");
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_async_init(loop, &w->async, on_results);
    w->async.data = w;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        log_error("webhooks: the delivery thread could not start");
        w->stopped = true;
    } else {
        w->thread_started = true;
        uv_timer_start(&w->timer, poll_outbox, 0, 0); /* what a restart left pending */
    }
    return w;
}

void webhooks_set_state(webhooks *w, forum_state *st)
{
    if (w)
        w->st = st;
}

static void handle_closed(uv_handle_t *h)
{
    webhooks *w = h->data;
    w->closing_handles--;
    if (w->free_wanted)
        maybe_free(w);
}

void webhooks_stop(webhooks *w)
{
    if (!w || w->closing_handles || uv_is_closing((uv_handle_t *)&w->timer))
        return;
    w->stopped = true;
    if (w->thread_started) {
        pthread_mutex_lock(&w->mu);
        w->quit = true;
        pthread_mutex_unlock(&w->mu);
        curl_multi_wakeup(w->multi);
        pthread_join(w->thread, NULL);
        w->thread_started = false;
    }
    on_results(&w->async); /* finished transfers: dropped (stopped), their rows stay pending */
    w->closing_handles = 2;
    uv_close((uv_handle_t *)&w->timer, handle_closed);
    uv_close((uv_handle_t *)&w->async, handle_closed);
}

static void maybe_free(webhooks *w)
{
    if (w->outstanding || w->closing_handles)
        return;
    task *t = w->todo;
    while (t) {
        task *next = t->next;
        task_free(t);
        t = next;
    }
    curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void webhooks_destroy(webhooks *w)
{
    if (!w)
        return;
    webhooks_stop(w);
    w->free_wanted = true;
    maybe_free(w);
}

uint64_t webhooks_failures(const webhooks *w)
{
    return w ? w->failures : 0;
}

int64_t webhooks_pending(webhooks *w)
{
    return w ? store_outbox_pending(w->store) : -1;
}

char *webhooks_status_json(webhooks *w)
{
    cJSON *out = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(out, "webhooks");
    size_t n = forum_webhook_count(w->st);
    for (size_t i = 0; i < n; i++) {
        forum_webhook_info h = forum_webhook_at(w->st, i);
        store_outbox_status st;
        if (store_outbox_status_of(w->store, h.id, &st) != 0) {
            cJSON_Delete(out);
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)h.id);
        cJSON *d = cJSON_AddObjectToObject(o, "delivery");
        cJSON_AddNumberToObject(d, "pending", (double)st.pending);
        cJSON_AddNumberToObject(d, "failed", (double)st.failed);
        cJSON_AddNumberToObject(d, "delivered", (double)st.delivered);
        if (st.last_attempt_at) {
            cJSON_AddNumberToObject(d, "last_attempt_at", (double)st.last_attempt_at);
            cJSON_AddNumberToObject(d, "attempts", st.last_attempts);
        } else {
            cJSON_AddNullToObject(d, "last_attempt_at");
        }
        if (st.last_status)
            cJSON_AddNumberToObject(d, "last_status", st.last_status);
        else
            cJSON_AddNullToObject(d, "last_status");
        add_str_or_null(d, "last_error", st.last_error[0] ? st.last_error : NULL);
        if (st.last_delivered_at)
            cJSON_AddNumberToObject(d, "last_delivered_at", (double)st.last_delivered_at);
        else
            cJSON_AddNullToObject(d, "last_delivered_at");
        cJSON_AddItemToArray(list, o);
    }
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    return text;
}

/* A batch of the writer's own for webhook id (NULL: no such webhook, stopped, or no memory). */
static own_batch *own_for_webhook(webhooks *w, int64_t id)
{
    forum_webhook_info h;
    if (!w || w->stopped || !forum_webhook_find(w->st, id, &h))
        return NULL;
    return own_new(w);
}

int webhooks_send_test(webhooks *w, int64_t id)
{
    own_batch *o = own_for_webhook(w, id);
    if (!o)
        return -1;
    int64_t now = now_ms();
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "event", "webhook.test");
    cJSON_AddNumberToObject(doc, "occurred_at", (double)now);
    cJSON *sess = cJSON_AddObjectToObject(doc, "session");
    cJSON_AddStringToObject(sess, "title", "forum");
    o->row_body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!o->row_body) {
        free(o);
        return -1;
    }
    o->row = (store_outbox_row){
        .webhook_id = id, .event = "webhook.test", .session = "", .body = o->row_body, .at = now};
    o->b.outbox = &o->row;
    o->b.n_outbox = 1;
    slot *s = slot_of(w, id, true);
    if (s)
        s->known_empty = false;
    own_submit(w, o);
    return 0;
}

int webhooks_retry_failed(webhooks *w, int64_t id)
{
    own_batch *o = own_for_webhook(w, id);
    if (!o)
        return -1;
    o->b.outbox_requeue_webhook = id;
    o->b.outbox_requeue_at = now_ms();
    slot *s = slot_of(w, id, true);
    if (s) {
        s->known_empty = false;
        s->next_at = 0;
    }
    own_submit(w, o);
    return 0;
}
