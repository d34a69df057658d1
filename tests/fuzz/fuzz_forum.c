/* fuzz_forum.c — libFuzzer target for the domain core (server/core/forum.c) driven through the wire
 * codec. The input is a sequence of JSON lines; each is decoded with proto_decode and applied
 * with forum_apply against a state seeded with a programme and an open session, the actor
 * rotating per line (producer, moderator, viewer A, viewer B; empty lines shift the rotation).
 * Oracles beyond ASan/UBSan/LeakSanitizer:
 *   - every event forum_apply returns replays (forum_replay) into a second state, and at the
 *     end both states give identical snapshots for every actor (live == replayed);
 *   - every event renders as valid JSON in every view, and public/subject renderings and
 *     viewer snapshots never contain "viewer_id" (nor "blocked_words" in public renderings);
 *   - the public pages (commitment boards, programme pages) are the same live and replayed and
 *     never show viewer ids, staff notes or publication settings;
 *   - an error result carries no events. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "proto.h"

#define FUZZ_MAX_LINES 64

enum { ACTOR_PRODUCER, ACTOR_MODERATOR, ACTOR_VIEWER_A, ACTOR_VIEWER_B, ACTOR_COUNT };

static uint64_t rng_state;

/* Deterministic "randomness", reset per input, so a crash reproduces. */
static void fuzz_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        rng_state += 0x9E3779B97F4A7C15ULL;
        uint64_t z = rng_state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        p[i] = (unsigned char)(z ^ (z >> 31));
    }
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_forum: %s\n", what);
    abort();
}

static bool has_key(const cJSON *node, const char *key)
{
    const cJSON *child;
    cJSON_ArrayForEach(child, node) {
        if (child->string && strcmp(child->string, key) == 0)
            return true;
        if (has_key(child, key))
            return true;
    }
    return false;
}

typedef struct harness {
    forum_state *live, *replica;
    forum_env env;
    forum_actor actors[ACTOR_COUNT];
    char code[FORUM_CODE_MAX];
} harness;

/* Renders ev in every view (valid JSON, no staff-only keys outside the staff view) and replays
 * it into the replica. */
static void check_event(harness *h, const forum_event *ev)
{
    for (int view = FORUM_VIEW_STAFF; view <= FORUM_VIEW_SUBJECT; view++) {
        char *text = proto_encode_event(ev, (forum_view)view);
        if (!text)
            die("proto_encode_event returned NULL");
        cJSON *back = cJSON_Parse(text);
        if (!back)
            die("event rendering is not valid JSON");
        if (view != FORUM_VIEW_STAFF &&
            (has_key(back, "viewer_id") || has_key(back, "blocked_words")))
            die("staff-only field in a public event rendering");
        cJSON_Delete(back);
        free(text);
    }
    /* The replica reads the event as the database would give it back: decoded from its
     * stored JSON, which must render exactly as the original. */
    char *payload = forum_event_payload_text(ev, FORUM_VIEW_STAFF);
    jsonw sw = {0};
    char *secret = forum_event_write_secret(&sw, ev) ? jsonw_finish(&sw) : NULL;
    forum_event stored = *ev;
    memset(&stored.p, 0, sizeof stored.p);
    memset(&stored.secret, 0, sizeof stored.secret);
    stored.arena.head = NULL;
    if (!payload || forum_event_decode_text(&stored, payload, strlen(payload), secret,
                                            secret ? strlen(secret) : 0) != 0)
        die("an event forum_apply produced does not decode from its stored JSON");
    char *again = forum_event_payload_text(&stored, FORUM_VIEW_STAFF);
    if (!again || strcmp(again, payload) != 0)
        die("a stored event decodes into something else");
    if (forum_replay(h->replica, &stored) != 0) {
        fprintf(stderr, "event %s seq %lld: %s\n", forum_kind_name(ev->kind),
                (long long)ev->seq, payload);
        die("an event forum_apply produced does not replay");
    }
    free(again);
    free(payload);
    free(secret);
    forum_event_clear(&stored);
}

/* Applies cmd as actor; checks the result; returns the ack (caller deletes) or NULL. */
static cJSON *apply(harness *h, const forum_actor *actor, const forum_command *cmd)
{
    forum_result res = forum_apply(h->live, actor, cmd, &h->env);
    cJSON *ack = NULL;
    if (res.err != FORUM_OK) {
        if (res.n_events != 0)
            die("an error result carries events");
        char *text = proto_encode_error(cmd->id, res.err, res.field, res.message,
                                        res.retry_after_ms);
        if (!text)
            die("proto_encode_error returned NULL");
        free(text);
    } else {
        for (size_t i = 0; i < res.n_events; i++)
            check_event(h, &res.events[i]);
        char *text = proto_encode_ack_text(cmd->id ? cmd->id : "", res.ack.p, res.ack.len);
        if (!text || !(ack = cJSON_Parse(text)))
            die("ack rendering is not valid JSON");
        free(text);
    }
    forum_result_free(&res);
    return ack;
}

/* Decodes a NUL-terminated request and applies it; returns the ack or NULL. */
static cJSON *apply_text(harness *h, const forum_actor *actor, const char *text)
{
    forum_limits limits;
    forum_command cmd;
    proto_error err;
    forum_limits_default(&limits);
    if (proto_decode(text, strlen(text), &limits, &cmd, &err) != 0)
        die("a seed request does not decode");
    cJSON *ack = apply(h, actor, &cmd);
    forum_command_free(&cmd);
    return ack;
}

/* Creates a programme and an open session with two panelists and two segments. */
static int seed(harness *h)
{
    forum_actor studio = {.role = FORUM_ROLE_PRODUCER};
    char buf[512];
    cJSON *ack = apply_text(h, &studio, "{\"type\":\"program.create\",\"id\":\"p\","
                                        "\"title\":\"城市论坛\"}");
    const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(ack, "program"), "id");
    if (!cJSON_IsNumber(id))
        die("program.create gave no program id");
    snprintf(buf, sizeof buf,
             "{\"type\":\"session.create\",\"id\":\"s\",\"program_id\":%d,\"title\":\"第1期\","
             "\"blocked_words\":[\"广告\",\"spam\"],\"panelists\":[{\"name\":\"王教授\"},"
             "{\"name\":\"Li\",\"affiliation\":\"Uni\"}],\"segments\":[\"开场\",\"问答\"]}",
             id->valueint);
    cJSON_Delete(ack);
    ack = apply_text(h, &studio, buf);
    const char *code =
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(ack, "session"), "code"));
    if (!code || strlen(code) >= sizeof h->code)
        die("session.create gave no join code");
    snprintf(h->code, sizeof h->code, "%s", code);
    cJSON_Delete(ack);

    forum_actor *a = h->actors;
    a[ACTOR_PRODUCER] = (forum_actor){.role = FORUM_ROLE_PRODUCER};
    a[ACTOR_MODERATOR] = (forum_actor){.role = FORUM_ROLE_MODERATOR};
    snprintf(a[ACTOR_MODERATOR].name, sizeof a[ACTOR_MODERATOR].name, "主持人");
    a[ACTOR_VIEWER_A] = (forum_actor){.role = FORUM_ROLE_VIEWER};
    auth_viewer_id("fuzz-viewer-token-aaaaaaaaaaaaaaaa", a[ACTOR_VIEWER_A].viewer_id);
    snprintf(a[ACTOR_VIEWER_A].name, sizeof a[ACTOR_VIEWER_A].name, "小明");
    a[ACTOR_VIEWER_B] = (forum_actor){.role = FORUM_ROLE_VIEWER};
    auth_viewer_id("fuzz-viewer-token-bbbbbbbbbbbbbbbb", a[ACTOR_VIEWER_B].viewer_id);
    for (int i = 0; i < ACTOR_COUNT; i++)
        snprintf(a[i].session, sizeof a[i].session, "%s", h->code);

    cJSON_Delete(apply_text(h, &a[ACTOR_PRODUCER], "{\"type\":\"session.open\"}"));
    return 0;
}

/* Commits the coalesced counters, as the server's timer does. */
static void flush_counts(harness *h)
{
    forum_event *evs = NULL;
    size_t n = 0;
    forum_flush_counts(h->live, &h->env, &evs, &n);
    for (size_t i = 0; i < n; i++) {
        check_event(h, &evs[i]);
        forum_event_clear(&evs[i]);
    }
    free(evs);
}

/* Live and replayed state must look the same to everyone. */
static void compare_snapshots(harness *h)
{
    forum_actor studio = {.role = FORUM_ROLE_PRODUCER};
    for (int i = -1; i < ACTOR_COUNT; i++) {
        const forum_actor *a = i < 0 ? &studio : &h->actors[i];
        const char *code = i < 0 ? "" : h->code;
        cJSON *live = forum_snapshot(h->live, a, code);
        cJSON *replayed = forum_snapshot(h->replica, a, code);
        if (!live || !replayed)
            die("no snapshot for the seeded session");
        if (!cJSON_Compare(live, replayed, true)) {
            char *l = cJSON_PrintUnformatted(live), *r = cJSON_PrintUnformatted(replayed);
            fprintf(stderr, "actor %d\nlive:     %s\nreplayed: %s\n", i, l, r);
            free(l);
            free(r);
            die("live and replayed state differ");
        }
        if (i >= ACTOR_VIEWER_A && has_key(cJSON_GetObjectItem(live, "questions"), "viewer_id"))
            die("a viewer snapshot shows viewer ids");
        char *welcome = proto_encode_welcome("1", a->role, a->viewer_id, 1, live);
        if (!welcome)
            die("proto_encode_welcome returned NULL");
        free(welcome);
        cJSON_Delete(live);
        cJSON_Delete(replayed);
    }
    /* the public pages: the same live and replayed, and nothing staff-only in them */
    forum_board_filter filter = {.today = "2024-01-01"};
    const char *bad = NULL;
    for (int64_t program = 1; program <= 2; program++) {
        char *l = forum_public_commitments(h->live, program, &filter, &bad);
        char *r = forum_public_commitments(h->replica, program, &filter, &bad);
        char *pl = forum_public_program(h->live, program, "2024-01-01");
        char *pr = forum_public_program(h->replica, program, "2024-01-01");
        if ((l || r) && (!l || !r || strcmp(l, r) != 0))
            die("live and replayed commitment boards differ");
        if ((pl || pr) && (!pl || !pr || strcmp(pl, pr) != 0))
            die("live and replayed programme pages differ");
        if (l && (strstr(l, "\"viewer_id\"") || strstr(l, "\"note\"") ||
                  strstr(l, "\"blocked_words\"") || strstr(l, "\"publication\"")))
            die("a public board shows staff-only fields");
        free(l);
        free(r);
        free(pl);
        free(pr);
    }
    char *front = forum_public_programs(h->live);
    if (!front || strstr(front, "\"viewer_id\""))
        die("the front page is missing or shows viewer ids");
    free(front);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    forum_limits limits;
    forum_limits_default(&limits);
    harness h;
    memset(&h, 0, sizeof h);
    rng_state = 0;
    h.env.now_ms = 1700000000000LL;
    h.env.random_bytes = fuzz_random;
    h.live = forum_new(&limits);
    h.replica = forum_new(&limits);
    if (!h.live || !h.replica)
        die("forum_new failed");
    seed(&h);

    const char *p = (const char *)data, *end = p + size;
    for (int line = 0; p < end && line < FUZZ_MAX_LINES; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        h.env.now_ms += 1500;
        forum_command cmd;
        proto_error err;
        if (len > 0 && proto_decode(p, len, &limits, &cmd, &err) == 0) {
            if (cmd.type != FORUM_CMD_HELLO)
                cJSON_Delete(apply(&h, &h.actors[line % ACTOR_COUNT], &cmd));
            forum_command_free(&cmd);
        }
        if (line % 8 == 7)
            flush_counts(&h);
        p += len + (nl ? 1 : 0);
    }
    flush_counts(&h);
    compare_snapshots(&h);
    forum_free(h.live);
    forum_free(h.replica);
    return 0;
}
