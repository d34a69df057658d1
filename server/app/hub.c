/* hub.c — fan-out of committed events to subscribers, and the per-session ring of recent
 * events for resume. See hub.h. */
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "proto.h"

typedef struct ring_entry {
    int64_t seq;
    forum_audience audience;
    uint64_t subject_hash; /* hash_str(subject) when there is one */
    char subject[FORUM_VIEWER_ID_MAX];
    net_msg *staff, *public_, *subject_view; /* NULL where the class may not see it */
} ring_entry;

typedef struct hub_session {
    char code[FORUM_CODE_MAX];
    hub_sub *subs;  /* viewers */
    hub_sub *staff; /* moderators and producers */
    size_t n_by_role[4]; /* overlays not included */
    size_t n_overlays;
    size_t presence_sent; /* viewer count last sent to staff, +1 (0 = never) */
    ring_entry *ring; /* circular, capacity h->ring_cap */
    size_t ring_head, ring_count;
    /* The ring holds every event anyone may see with seq > ring_base (-1: nothing known yet,
     * before the first event published since start). */
    int64_t ring_base;
    /* viewer subscribers by viewer id (chained through vnext_), so that an event for one viewer
     * (its own pending question) reaches it without walking every viewer of the session */
    hub_sub **vbuckets;
    size_t vcap, vcount;
    struct hub_session *next;
} hub_session;

/* The boards watching one programme. */
typedef struct hub_board {
    int64_t program_id;
    hub_sub *subs;
    size_t n;
    struct hub_board *next;
} hub_board;

struct hub {
    hub_board *boards;
    size_t n_boards; /* board subscribers, all programmes */
    hub_session *sessions;
    hub_sub *studio; /* studio-wide producer connections */
    size_t n_studio;
    size_t ring_cap;
};

hub *hub_new(size_t ring_events)
{
    hub *h = calloc(1, sizeof *h);
    if (h)
        h->ring_cap = ring_events ? ring_events : 1024;
    return h;
}

static void entry_clear(ring_entry *e)
{
    net_msg_unref(e->staff);
    net_msg_unref(e->public_);
    net_msg_unref(e->subject_view);
    memset(e, 0, sizeof *e);
}

void hub_free(hub *h)
{
    if (!h)
        return;
    hub_session *hs = h->sessions;
    while (hs) {
        hub_session *next = hs->next;
        for (size_t i = 0; i < hs->ring_count; i++)
            entry_clear(&hs->ring[(hs->ring_head + i) % h->ring_cap]);
        free(hs->ring);
        free(hs->vbuckets);
        free(hs);
        hs = next;
    }
    while (h->boards) {
        hub_board *next = h->boards->next;
        free(h->boards);
        h->boards = next;
    }
    free(h);
}

static hub_board *board_get(hub *h, int64_t program_id, bool create)
{
    for (hub_board *b = h->boards; b; b = b->next)
        if (b->program_id == program_id)
            return b;
    if (!create)
        return NULL;
    hub_board *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->program_id = program_id;
    b->next = h->boards;
    h->boards = b;
    return b;
}

static hub_session *session_get(hub *h, const char *code, bool create)
{
    for (hub_session *hs = h->sessions; hs; hs = hs->next)
        if (strcmp(hs->code, code) == 0)
            return hs;
    if (!create)
        return NULL;
    hub_session *hs = calloc(1, sizeof *hs);
    if (!hs)
        return NULL;
    hs->ring = calloc(h->ring_cap, sizeof *hs->ring);
    if (!hs->ring) {
        free(hs);
        return NULL;
    }
    snprintf(hs->code, sizeof hs->code, "%s", code);
    hs->ring_base = -1;
    hs->next = h->sessions;
    h->sessions = hs;
    return hs;
}

static bool is_staff(const hub_sub *s);

static void list_add(hub_sub **head, hub_sub *s)
{
    s->prev_ = NULL;
    s->next_ = *head;
    if (*head)
        (*head)->prev_ = s;
    *head = s;
}

static void list_remove(hub_sub **head, hub_sub *s)
{
    if (s->prev_)
        s->prev_->next_ = s->next_;
    else
        *head = s->next_;
    if (s->next_)
        s->next_->prev_ = s->prev_;
    s->prev_ = s->next_ = NULL;
}

/* Adds s to the viewer index of hs (growing it to keep chains short). */
static void vindex_add(hub_session *hs, hub_sub *s)
{
    if (hs->vcount + 1 > hs->vcap * 2) {
        size_t ncap = hs->vcap ? hs->vcap * 4 : 64;
        hub_sub **nb = calloc(ncap, sizeof *nb);
        if (nb) {
            for (size_t i = 0; i < hs->vcap; i++)
                for (hub_sub *x = hs->vbuckets[i], *next; x; x = next) {
                    next = x->vnext_;
                    x->vnext_ = nb[x->vhash_ & (ncap - 1)];
                    nb[x->vhash_ & (ncap - 1)] = x;
                }
            free(hs->vbuckets);
            hs->vbuckets = nb;
            hs->vcap = ncap;
        }
    }
    if (!hs->vcap)
        return; /* out of memory: the subscriber is still reached by the full walks */
    hub_sub **b = &hs->vbuckets[s->vhash_ & (hs->vcap - 1)];
    s->vnext_ = *b;
    *b = s;
    hs->vcount++;
}

static void vindex_remove(hub_session *hs, hub_sub *s)
{
    if (!hs->vcap)
        return;
    for (hub_sub **pp = &hs->vbuckets[s->vhash_ & (hs->vcap - 1)]; *pp; pp = &(*pp)->vnext_)
        if (*pp == s) {
            *pp = s->vnext_;
            s->vnext_ = NULL;
            hs->vcount--;
            return;
        }
}

void hub_subscribe(hub *h, hub_sub *s)
{
    if (s->subscribed_)
        return;
    if (s->role == FORUM_ROLE_BOARD) {
        hub_board *b = board_get(h, s->program_id, true);
        if (!b)
            return;
        list_add(&b->subs, s);
        b->n++;
        h->n_boards++;
    } else if (s->session[0] == '\0') {
        list_add(&h->studio, s);
        h->n_studio++;
    } else {
        hub_session *hs = session_get(h, s->session, true);
        if (!hs)
            return;
        list_add(is_staff(s) ? &hs->staff : &hs->subs, s);
        if (s->overlay)
            hs->n_overlays++;
        else
            hs->n_by_role[s->role]++;
        if (!is_staff(s) && s->viewer_id[0]) {
            s->vhash_ = hash_str(s->viewer_id);
            vindex_add(hs, s);
        }
    }
    s->subscribed_ = true;
}

void hub_unsubscribe(hub *h, hub_sub *s)
{
    if (!s->subscribed_)
        return;
    if (s->role == FORUM_ROLE_BOARD) {
        hub_board *b = board_get(h, s->program_id, false);
        if (b) {
            list_remove(&b->subs, s);
            b->n--;
            h->n_boards--;
        }
    } else if (s->session[0] == '\0') {
        list_remove(&h->studio, s);
        h->n_studio--;
    } else {
        hub_session *hs = session_get(h, s->session, false);
        if (hs) {
            list_remove(is_staff(s) ? &hs->staff : &hs->subs, s);
            if (s->overlay)
                hs->n_overlays--;
            else
                hs->n_by_role[s->role]--;
            if (!is_staff(s) && s->viewer_id[0])
                vindex_remove(hs, s);
        }
    }
    s->subscribed_ = false;
}

static bool is_staff(const hub_sub *s)
{
    return s->role == FORUM_ROLE_MODERATOR || s->role == FORUM_ROLE_PRODUCER;
}

/* The rendering of entry e that subscriber s may see, or NULL. */
static net_msg *pick(const ring_entry *e, const hub_sub *s)
{
    if (is_staff(s))
        return e->staff;
    uint64_t h = s->subscribed_ ? s->vhash_ : hash_str(s->viewer_id);
    bool is_subject = e->subject[0] && h == e->subject_hash && strcmp(e->subject, s->viewer_id) == 0;
    switch (e->audience) {
    case FORUM_AUD_PUBLIC:
        return is_subject ? e->subject_view : e->public_;
    case FORUM_AUD_STAFF_AND_SUBJECT:
        return is_subject ? e->subject_view : NULL;
    default:
        return NULL;
    }
}

static void render(ring_entry *e, const forum_event *ev)
{
    memset(e, 0, sizeof *e);
    e->seq = ev->seq;
    e->audience = ev->audience;
    snprintf(e->subject, sizeof e->subject, "%s", ev->subject);
    e->subject_hash = ev->subject[0] ? hash_str(ev->subject) : 0;
    if (ev->audience == FORUM_AUD_NOBODY)
        return;
    e->staff = net_msg_take(proto_encode_event(ev, FORUM_VIEW_STAFF));
    if (ev->audience == FORUM_AUD_PUBLIC)
        e->public_ = net_msg_take(proto_encode_event(ev, FORUM_VIEW_PUBLIC));
    if (ev->subject[0] &&
        (ev->audience == FORUM_AUD_PUBLIC || ev->audience == FORUM_AUD_STAFF_AND_SUBJECT))
        e->subject_view = net_msg_take(proto_encode_event(ev, FORUM_VIEW_SUBJECT));
}

void hub_publish(hub *h, const forum_event *ev)
{
    ring_entry e;
    render(&e, ev);
    if (ev->session[0] == '\0' || ev->kind == FORUM_EV_SESSION_CHANGED) {
        for (hub_sub *s = h->studio; s; s = s->next_)
            if (e.staff)
                net_send(s->conn, e.staff);
    }
    hub_session *hs = ev->session[0] ? session_get(h, ev->session, true) : NULL;
    if (!hs) {
        entry_clear(&e);
        return;
    }
    /* An erasure rewrote every stored trace of the viewer: the ring's copies still hold them,
     * so it is emptied and later resumes are served from the database (or a snapshot). */
    if (ev->kind == FORUM_EV_VIEWER_ERASED) {
        for (size_t i = 0; i < hs->ring_count; i++)
            entry_clear(&hs->ring[(hs->ring_head + i) % h->ring_cap]);
        hs->ring_head = hs->ring_count = 0;
        hs->ring_base = ev->seq - 1;
    }
    /* Viewers are walked only for events some viewer may see (not votes, not staff-only), and
     * before staff, whose ack follows the event: a moderator who sees its ack has had the
     * viewers' copies queued first. */
    if (e.public_ || (e.subject_view && !hs->vcap)) {
        for (hub_sub *s = hs->subs; s; s = s->next_) {
            net_msg *m = pick(&e, s);
            if (m)
                net_send(s->conn, m);
        }
    } else if (e.subject_view) {
        /* for the subject alone: its connections, from the viewer index */
        for (hub_sub *s = hs->vbuckets[e.subject_hash & (hs->vcap - 1)]; s; s = s->vnext_)
            if (s->vhash_ == e.subject_hash && strcmp(s->viewer_id, e.subject) == 0)
                net_send(s->conn, e.subject_view);
    }
    if (e.staff)
        for (hub_sub *s = hs->staff; s; s = s->next_)
            net_send(s->conn, e.staff);
    /* Events nobody receives (individual votes and ballots) are not kept: the ring holds the
     * last ring_cap events a resume may have to send, even during a vote storm. */
    if (hs->ring_base < 0)
        hs->ring_base = ev->seq - 1;
    if (ev->audience == FORUM_AUD_NOBODY) {
        entry_clear(&e);
        return;
    }
    if (hs->ring_count == h->ring_cap) {
        hs->ring_base = hs->ring[hs->ring_head].seq;
        entry_clear(&hs->ring[hs->ring_head]);
        hs->ring_head = (hs->ring_head + 1) % h->ring_cap;
        hs->ring_count--;
    }
    hs->ring[(hs->ring_head + hs->ring_count) % h->ring_cap] = e;
    hs->ring_count++;
}

void hub_publish_board(hub *h, int64_t program_id, const forum_event *ev)
{
    hub_board *b = board_get(h, program_id, false);
    if (!b || !b->subs || ev->audience != FORUM_AUD_PUBLIC)
        return;
    net_msg *m = net_msg_take(proto_encode_event(ev, FORUM_VIEW_PUBLIC));
    if (!m)
        return;
    for (hub_sub *s = b->subs; s; s = s->next_)
        net_send(s->conn, m);
    net_msg_unref(m);
}

int hub_replay(hub *h, hub_sub *s, int64_t from_seq, int64_t upto_seq)
{
    if (upto_seq <= from_seq)
        return 0;
    hub_session *hs = session_get(h, s->session, false);
    if (!hs || hs->ring_base < 0 || from_seq < hs->ring_base)
        return -1;
    for (size_t i = 0; i < hs->ring_count; i++) {
        const ring_entry *e = &hs->ring[(hs->ring_head + i) % h->ring_cap];
        if (e->seq <= from_seq)
            continue;
        if (e->seq > upto_seq)
            break;
        net_msg *m = pick(e, s);
        if (m)
            net_send(s->conn, m);
    }
    return 0;
}

bool hub_backlog(hub *h, const hub_sub *s, int64_t from_seq, size_t *count, size_t *bytes)
{
    *count = *bytes = 0;
    hub_session *hs = session_get(h, s->session, false);
    if (!hs)
        return false;
    /* nothing published since start, or older than the ring: it cannot say */
    if (hs->ring_base < 0 || from_seq < hs->ring_base)
        return false;
    for (size_t i = 0; i < hs->ring_count; i++) {
        const ring_entry *e = &hs->ring[(hs->ring_head + i) % h->ring_cap];
        net_msg *m = e->seq > from_seq ? pick(e, s) : NULL;
        if (m) {
            (*count)++;
            *bytes += m->len;
        }
    }
    return true;
}

void hub_send_event(hub_sub *s, const forum_event *ev)
{
    ring_entry e;
    render(&e, ev);
    net_msg *m = pick(&e, s);
    if (m)
        net_send(s->conn, m);
    entry_clear(&e);
}

void hub_send_presence(hub *h, size_t (*elsewhere)(void *arg, const char *session), void *arg)
{
    for (hub_session *hs = h->sessions; hs; hs = hs->next) {
        size_t viewers = hs->n_by_role[FORUM_ROLE_VIEWER];
        if (elsewhere && hs->code[0])
            viewers += elsewhere(arg, hs->code);
        if (hs->presence_sent == viewers + 1)
            continue;
        hs->presence_sent = viewers + 1;
        char text[64];
        int len = snprintf(text, sizeof text, "{\"type\":\"presence\",\"viewers\":%zu}", viewers);
        net_msg *m = net_msg_new(text, (size_t)len);
        if (!m)
            return;
        for (hub_sub *s = hs->staff; s; s = s->next_)
            net_send(s->conn, m);
        net_msg_unref(m);
    }
}

size_t hub_count(const hub *h, const char *session, forum_role role)
{
    size_t total = 0;
    if (role == FORUM_ROLE_BOARD)
        return session && session[0] ? 0 : h->n_boards;
    if (role == FORUM_ROLE_PRODUCER && (!session || !session[0]))
        total += h->n_studio;
    for (const hub_session *hs = h->sessions; hs; hs = hs->next)
        if (!session || strcmp(hs->code, session) == 0)
            total += hs->n_by_role[role];
    return total;
}

size_t hub_count_overlays(const hub *h, const char *session)
{
    size_t total = 0;
    for (const hub_session *hs = h->sessions; hs; hs = hs->next)
        if (!session || strcmp(hs->code, session) == 0)
            total += hs->n_overlays;
    return total;
}

cJSON *hub_viewer_counts(const hub *h)
{
    cJSON *o = cJSON_CreateObject();
    for (const hub_session *hs = h->sessions; o && hs; hs = hs->next)
        if (hs->code[0])
            cJSON_AddNumberToObject(o, hs->code, (double)hs->n_by_role[FORUM_ROLE_VIEWER]);
    return o;
}
