/* handle_webhook.c — outgoing webhook registrations (producers, studio-wide): webhook.create,
 * webhook.update and webhook.delete turn into webhook.changed events in the studio log, so a
 * registration replays like everything else; its signing secret travels only in the event's
 * secret (stored, never sent, exported or put in a snapshot). The state keeps the registrations
 * for the delivery (server/app/webhook.c), which asks for them through forum_webhook_*. Pure,
 * like the rest of the core: what a URL may reach is the application's policy, not checked
 * here beyond its form. */

#include "forum_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stream.h"

#define WEBHOOK_SECRET_LEN 32 /* generated secrets: alphanumerics (about 190 bits) */

static webhook *find_webhook(const forum_state *st, int64_t id)
{
    for (size_t i = 0; i < st->n_webhooks; i++)
        if (st->webhooks[i].id == id)
            return &st->webhooks[i];
    return NULL;
}

static void webhook_clear(webhook *h)
{
    free(h->name);
    free(h->url);
    free(h->secret);
    memset(h, 0, sizeof *h);
}

void webhooks_free(forum_state *st)
{
    for (size_t i = 0; i < st->n_webhooks; i++)
        webhook_clear(&st->webhooks[i]);
    free(st->webhooks);
    st->webhooks = NULL;
    st->n_webhooks = st->cap_webhooks = 0;
}

static forum_webhook_rec webhook_rec(const webhook *h)
{
    forum_webhook_rec r = {
        .id = h->id,
        .program_id = h->program_id,
        .name = h->name,
        .url = h->url,
        .preset = (uint8_t)h->preset,
        .triggers = h->triggers,
        .enabled = h->enabled,
        .signing = h->secret != NULL,
        .created_at = h->created_at,
        .updated_at = h->updated_at,
    };
    return r;
}

void write_webhooks(jsonw *w, bool *first, const forum_state *st)
{
    jsonw_key(w, first, "webhooks");
    jsonw_put(w, "[", 1);
    for (size_t i = 0; i < st->n_webhooks; i++) {
        forum_webhook_rec rec = webhook_rec(&st->webhooks[i]);
        if (i)
            jsonw_put(w, ",", 1);
        forum_write_webhook(w, &rec);
    }
    jsonw_put(w, "]", 1);
}

/* The URL's form: http:// or https://, a host, no white space or control characters, at most
 * FORUM_WEBHOOK_URL_MAX bytes. */
static bool url_well_formed(const char *url)
{
    size_t n = strlen(url);
    if (n == 0 || n > FORUM_WEBHOOK_URL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return false;
    size_t scheme = strncasecmp(url, "https://", 8) == 0  ? 8
                    : strncasecmp(url, "http://", 7) == 0 ? 7
                                                          : 0;
    return scheme && url[scheme] && url[scheme] != '/' && url[scheme] != '?' &&
           url[scheme] != '#';
}

/* Is host (as forum_url_parse leaves it) this machine's loopback? */
static bool host_is_loopback(const char *host)
{
    if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return true;
    /* 127.0.0.0/8 as a dotted quad of decimals */
    if (strncmp(host, "127.", 4) != 0)
        return false;
    int dots = 0, digits = 0;
    for (const char *p = host + 4; *p; p++) {
        if (*p == '.') {
            if (!digits || ++dots > 2)
                return false;
            digits = 0;
        } else if (*p >= '0' && *p <= '9' && digits < 3) {
            digits++;
        } else {
            return false;
        }
    }
    return dots == 2 && digits > 0;
}

const char *forum_webhook_url_check(const char *url, const char *hosts, char *msg, size_t cap)
{
    forum_url u;
    const char *why = forum_url_parse(url, &u);
    if (why) {
        snprintf(msg, cap, "the URL is not accepted: %s", why);
        return msg;
    }
    if (!host_is_loopback(u.host) && !forum_host_listed(hosts ? hosts : "", u.host)) {
        snprintf(msg, cap,
                 "webhooks may only call this machine or the hosts of the webhook-hosts option; "
                 "%.100s is not one of them",
                 u.host);
        return msg;
    }
    return NULL;
}

/* A secret given by the producer: 1..FORUM_WEBHOOK_SECRET_MAX printable ASCII characters. */
static bool secret_well_formed(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FORUM_WEBHOOK_SECRET_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* Checks the fields a create or update may carry. */
static bool check_fields(ctx *c, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (cmd->url && !url_well_formed(cmd->url)) {
        set_error(r, FORUM_E_BAD_REQUEST, "url",
                  "the URL must start with http:// or https:// and name a host (at most %d "
                  "bytes, no spaces)",
                  FORUM_WEBHOOK_URL_MAX);
        return false;
    }
    char why[300];
    if (cmd->url &&
        forum_webhook_url_check(cmd->url, c->st->limits.webhook_hosts, why, sizeof why)) {
        set_error(r, FORUM_E_FORBIDDEN, "url", "%s", why);
        return false;
    }
    if (cmd->has_program_id && cmd->program_id && !find_program(c->st, cmd->program_id)) {
        set_error(r, FORUM_E_NOT_FOUND, "program_id", "programme %lld does not exist",
                  (long long)cmd->program_id);
        return false;
    }
    if (cmd->has_secret && cmd->secret && !secret_well_formed(cmd->secret)) {
        set_error(r, FORUM_E_BAD_REQUEST, "secret",
                  "a secret has 1 to %d printable ASCII characters", FORUM_WEBHOOK_SECRET_MAX);
        return false;
    }
    if (cmd->has_triggers && !cmd->triggers) {
        set_error(r, FORUM_E_BAD_REQUEST, "events", "name at least one event");
        return false;
    }
    if (too_long(cmd->name, c->st->limits.title_max_chars)) {
        set_error(r, FORUM_E_TOO_LONG, "name", "at most %d characters",
                  c->st->limits.title_max_chars);
        return false;
    }
    return true;
}

/* Emits webhook.changed for rec with the secret change (new: a secret to set; clear: none any
 * more) and acks {"webhook", "secret"?} (the secret once, when it was generated or given). */
static void emit_webhook(ctx *c, forum_webhook_rec *rec, const char *new_secret_text, bool clear,
                         bool ack_secret)
{
    forum_result *r = c->res;
    c->secret.webhook_secret = new_secret_text;
    c->secret.webhook_secret_clear = clear;
    forum_payload payload = {.webhook = *rec};
    if (emit_in(c, "", FORUM_EV_WEBHOOK_CHANGED, &payload, true, NULL, NULL) < 0) {
        set_error(r, FORUM_E_INTERNAL, NULL, "out of memory");
        return;
    }
    /* the ack renders the event's own copy: applying it replaced (or freed) the strings rec
     * pointed at in the state */
    forum_write_webhook(ack_key(r, "webhook"), &r->events[r->n_events - 1].p.webhook);
    if (ack_secret && new_secret_text)
        jsonw_string(ack_key(r, "secret"), new_secret_text);
}

void do_webhook_create(ctx *c, const forum_command *cmd)
{
    forum_result *r = c->res;
    if (!cmd->url) {
        set_error(r, FORUM_E_BAD_REQUEST, "url", "url is required");
        return;
    }
    if (!cmd->has_triggers) {
        set_error(r, FORUM_E_BAD_REQUEST, "events", "name the events to send");
        return;
    }
    if (!check_fields(c, cmd))
        return;
    if (c->st->n_webhooks >= FORUM_WEBHOOKS_MAX) {
        set_error(r, FORUM_E_CONFLICT, NULL, "at most %d webhooks can be registered",
                  FORUM_WEBHOOKS_MAX);
        return;
    }
    int preset = cmd->has_preset ? cmd->preset : FORUM_HOOK_JSON;
    char generated[WEBHOOK_SECRET_LEN + 1];
    const char *secret = cmd->has_secret ? cmd->secret : NULL;
    /* the generic JSON is always signed; a bot is signed when its secret is given */
    if (!secret && preset == FORUM_HOOK_JSON) {
        random_alnum(c->env, generated, WEBHOOK_SECRET_LEN);
        secret = generated;
    }
    forum_webhook_rec rec = {
        .id = c->st->next_webhook_id > 0 ? c->st->next_webhook_id : 1,
        .program_id = cmd->has_program_id ? cmd->program_id : 0,
        .name = cmd->name,
        .url = cmd->url,
        .preset = (uint8_t)preset,
        .triggers = cmd->triggers,
        .enabled = cmd->has_enabled ? cmd->enabled : true,
        .signing = secret != NULL,
        .created_at = c->env->now_ms,
        .updated_at = c->env->now_ms,
    };
    emit_webhook(c, &rec, secret, false, secret == generated);
}

void do_webhook_update(ctx *c, const forum_command *cmd, bool remove)
{
    forum_result *r = c->res;
    webhook *h = find_webhook(c->st, cmd->webhook_id);
    if (!h) {
        set_error(r, cmd->webhook_id > 0 ? FORUM_E_NOT_FOUND : FORUM_E_BAD_REQUEST, "webhook_id",
                  "webhook %lld does not exist", (long long)cmd->webhook_id);
        return;
    }
    forum_webhook_rec rec = webhook_rec(h);
    rec.updated_at = c->env->now_ms;
    if (remove) {
        rec.deleted = true;
        rec.enabled = false;
        emit_webhook(c, &rec, NULL, false, false);
        return;
    }
    if (!check_fields(c, cmd))
        return;
    if (cmd->url)
        rec.url = cmd->url;
    if (cmd->name)
        rec.name = cmd->name;
    if (cmd->has_program_id)
        rec.program_id = cmd->program_id;
    if (cmd->has_preset)
        rec.preset = (uint8_t)cmd->preset;
    if (cmd->has_triggers)
        rec.triggers = cmd->triggers;
    if (cmd->has_enabled)
        rec.enabled = cmd->enabled;
    /* secret: a string sets it; null makes a new one for the generic JSON, none for a bot */
    char generated[WEBHOOK_SECRET_LEN + 1];
    const char *secret = NULL;
    bool clear = false;
    if (cmd->has_secret && cmd->secret) {
        secret = cmd->secret;
    } else if (cmd->has_secret && rec.preset == FORUM_HOOK_JSON) {
        random_alnum(c->env, generated, WEBHOOK_SECRET_LEN);
        secret = generated;
    } else if (cmd->has_secret) {
        clear = true;
    } else if (rec.preset == FORUM_HOOK_JSON && !h->secret) {
        random_alnum(c->env, generated, WEBHOOK_SECRET_LEN); /* became the generic JSON: it signs */
        secret = generated;
    }
    rec.signing = secret != NULL || (h->secret && !clear);
    emit_webhook(c, &rec, secret, clear, secret == generated);
}

int apply_webhook_changed(forum_state *st, const forum_event *ev)
{
    const forum_webhook_rec *r = &ev->p.webhook;
    if (r->id <= 0 || !r->url || r->preset >= FORUM_HOOK__COUNT || r->program_id < 0)
        return -1;
    webhook *h = find_webhook(st, r->id);
    if (r->deleted) {
        if (!h)
            return -1;
        size_t i = (size_t)(h - st->webhooks);
        webhook_clear(h);
        memmove(&st->webhooks[i], &st->webhooks[i + 1],
                (st->n_webhooks - i - 1) * sizeof *st->webhooks);
        st->n_webhooks--;
        return 0;
    }
    char *name = dup_or_null(r->name), *url = strdup(r->url);
    char *secret = ev->secret.webhook_secret ? strdup(ev->secret.webhook_secret) : NULL;
    if ((r->name && !name) || !url || (ev->secret.webhook_secret && !secret))
        goto fail;
    if (!h) {
        if (grow((void **)&st->webhooks, &st->cap_webhooks, st->n_webhooks + 1,
                 sizeof *st->webhooks) < 0)
            goto fail;
        h = &st->webhooks[st->n_webhooks++];
        memset(h, 0, sizeof *h);
        h->id = r->id;
        if (r->id >= st->next_webhook_id)
            st->next_webhook_id = r->id + 1;
    }
    free(h->name);
    free(h->url);
    h->name = name;
    h->url = url;
    if (secret || ev->secret.webhook_secret_clear) {
        free(h->secret);
        h->secret = secret;
    }
    h->program_id = r->program_id;
    h->preset = r->preset;
    h->triggers = r->triggers;
    h->enabled = r->enabled;
    h->created_at = r->created_at;
    h->updated_at = r->updated_at;
    return 0;
fail:
    free(name);
    free(url);
    free(secret);
    return -1;
}

static forum_webhook_info webhook_info(const webhook *h)
{
    forum_webhook_info info = {
        .id = h->id,
        .program_id = h->program_id,
        .name = h->name,
        .url = h->url,
        .secret = h->secret,
        .preset = h->preset,
        .triggers = h->triggers,
        .enabled = h->enabled,
    };
    return info;
}

size_t forum_webhook_count(const forum_state *st)
{
    return st->n_webhooks;
}

forum_webhook_info forum_webhook_at(const forum_state *st, size_t i)
{
    return webhook_info(&st->webhooks[i]);
}

bool forum_webhook_find(const forum_state *st, int64_t id, forum_webhook_info *out)
{
    const webhook *h = find_webhook(st, id);
    if (h)
        *out = webhook_info(h);
    return h != NULL;
}
