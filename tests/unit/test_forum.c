/* test_forum.c — unit tests of the domain core (server/core/forum.c): role and status rules, question
 * life cycle, votes and their coalescing, merge, up-next, undo, polls, bans, visibility of
 * snapshots and events, and replay (a scripted show replayed into a fresh state must give the
 * same snapshots). Links forum.c, auth.c and utf8.c only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check.h"
#include "forum.h"

/* ------------------------------------------------------------------------------------------ */
/* Fixture                                                                                    */

static forum_state *st;
static int64_t now_ms = 1700000000000LL;
static uint64_t rng = 42;
static forum_event *log_events; /* every event produced, in order (copies) */
static size_t n_log;
static char code[FORUM_CODE_MAX];
static forum_actor viewer_a, viewer_b, viewer_c, moderator, moderator2, producer, studio;

/* Deterministic "randomness" for join codes and keys. */
static void test_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (unsigned char)(rng >> 56);
    }
}

static forum_env env(void)
{
    forum_env e = {.now_ms = now_ms, .random_bytes = test_random};
    return e;
}

static void log_copy(const forum_event *ev)
{
    log_events = realloc(log_events, (n_log + 1) * sizeof *log_events);
    CHECK(forum_event_copy(&log_events[n_log++], ev) == 0);
}

/* An event's payload (staff view) or secret as a JSON tree, for assertions; freed at teardown. */
static cJSON **kept;
static size_t n_kept, cap_kept;

static cJSON *keep(cJSON *o)
{
    if (n_kept == cap_kept) {
        cap_kept = cap_kept ? cap_kept * 2 : 256;
        kept = realloc(kept, cap_kept * sizeof *kept);
    }
    kept[n_kept++] = o;
    return o;
}

static cJSON *payload_of(const forum_event *ev)
{
    char *text = forum_event_payload_text(ev, FORUM_VIEW_STAFF);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    return keep(o);
}

static cJSON *secret_of(const forum_event *ev)
{
    jsonw w = {0};
    if (!forum_event_write_secret(&w, ev))
        return NULL;
    char *text = jsonw_finish(&w);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    return keep(o);
}

static cJSON *ack_of(const forum_result *r)
{
    return keep(forum_result_ack_json(r));
}

static const char *kind_of(const forum_event *ev)
{
    return forum_kind_name(ev->kind);
}

static forum_result run(const forum_actor *a, const forum_command *cmd)
{
    forum_env e = env();
    forum_result r = forum_apply(st, a, cmd, &e);
    for (size_t i = 0; i < r.n_events; i++)
        log_copy(&r.events[i]);
    return r;
}

/* Runs cmd and returns its error code (result freed). */
static forum_err try(const forum_actor *a, const forum_command *cmd)
{
    forum_result r = run(a, cmd);
    forum_err e = r.err;
    forum_result_free(&r);
    return e;
}

/* Runs cmd, expecting err with field (NULL = any). */
static bool fails_with(const forum_actor *a, const forum_command *cmd, forum_err err,
                       const char *field)
{
    forum_result r = run(a, cmd);
    bool ok = r.err == err && r.n_events == 0 && r.ack.len == 0 && r.message[0] &&
              (!field || (r.field && strcmp(r.field, field) == 0));
    if (!ok)
        fprintf(stderr, "  got err %d field %s message \"%s\"\n", r.err,
                r.field ? r.field : "(none)", r.message);
    forum_result_free(&r);
    return ok;
}

static size_t flush(forum_event **evs)
{
    size_t n = 0;
    *evs = NULL;
    forum_env e = env();
    forum_flush_counts(st, &e, evs, &n);
    for (size_t i = 0; i < n; i++)
        log_copy(&(*evs)[i]);
    return n;
}

static void free_events(forum_event *evs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        forum_event_clear(&evs[i]);
    free(evs);
}

static size_t array_len(const cJSON *snap, const char *key);

static forum_command cmd_of(forum_cmd_type t)
{
    forum_command c;
    memset(&c, 0, sizeof c);
    c.type = t;
    return c;
}

static forum_command cmd_q(forum_cmd_type t, int64_t qid)
{
    forum_command c = cmd_of(t);
    c.question_id = qid;
    return c;
}

static forum_actor make_viewer(const char *id, const char *name)
{
    forum_actor a;
    memset(&a, 0, sizeof a);
    a.role = FORUM_ROLE_VIEWER;
    snprintf(a.viewer_id, sizeof a.viewer_id, "%s", id);
    snprintf(a.name, sizeof a.name, "%s", name ? name : "");
    snprintf(a.session, sizeof a.session, "%s", code);
    return a;
}

static forum_actor make_staff(forum_role role, const char *session, const char *name)
{
    forum_actor a;
    memset(&a, 0, sizeof a);
    a.role = role;
    snprintf(a.name, sizeof a.name, "%s", name ? name : "");
    snprintf(a.session, sizeof a.session, "%s", session);
    return a;
}

/* Creates a programme and a session (premoderation as given) and returns its code. */
static void create_session(bool premoderation, char *out_code)
{
    static char *panel_names[] = {"Alice Chen", "Bob Li"};
    static char *segs[] = {"Opening", "Questions"};
    static char *blocked[] = {"广告", "spam"};
    forum_actor prod = make_staff(FORUM_ROLE_PRODUCER, "", NULL);
    forum_command c = cmd_of(FORUM_CMD_PROGRAM_CREATE);
    c.title = "Town Hall";
    forum_result r = run(&prod, &c);
    int64_t program_id = (int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(ack_of(&r), "program"),
                                                      "id")->valuedouble;
    forum_result_free(&r);

    forum_panelist_in panel[2] = {{panel_names[0], "University", "economist"},
                                  {panel_names[1], NULL, NULL}};
    c = cmd_of(FORUM_CMD_SESSION_CREATE);
    c.program_id = program_id;
    c.title = "Housing costs";
    c.has_topic = true;
    c.topic = "Rents";
    c.has_premoderation = true;
    c.premoderation = premoderation;
    c.has_panelists = true;
    c.panelists = panel;
    c.n_panelists = 2;
    c.has_segments = true;
    c.segments = segs;
    c.n_segments = 2;
    c.has_blocked_words = true;
    c.blocked_words = blocked;
    c.n_blocked_words = 2;
    r = run(&prod, &c);
    snprintf(out_code, FORUM_CODE_MAX, "%s",
             cJSON_GetObjectItem(cJSON_GetObjectItem(ack_of(&r), "session"), "code")->valuestring);
    forum_result_free(&r);
}

static void setup_limited(bool premoderation, bool open, const forum_limits *lim)
{
    st = forum_new(lim);
    n_log = 0;
    create_session(premoderation, code);
    viewer_a = make_viewer("v00000000000000aa", "Ann");
    viewer_b = make_viewer("v00000000000000bb", "Ben");
    viewer_c = make_viewer("v00000000000000cc", NULL);
    moderator = make_staff(FORUM_ROLE_MODERATOR, code, "Mia");
    moderator2 = make_staff(FORUM_ROLE_MODERATOR, code, "Max");
    producer = make_staff(FORUM_ROLE_PRODUCER, code, NULL);
    studio = make_staff(FORUM_ROLE_PRODUCER, "", NULL);
    if (open) {
        forum_command c = cmd_of(FORUM_CMD_SESSION_OPEN);
        CHECK(try(&producer, &c) == FORUM_OK);
    }
}

static void setup_with(bool premoderation, bool open)
{
    setup_limited(premoderation, open, NULL);
}

static void setup(void)
{
    setup_with(false, true);
}

static void teardown(void)
{
    forum_free(st);
    st = NULL;
    for (size_t i = 0; i < n_log; i++)
        forum_event_clear(&log_events[i]);
    free(log_events);
    log_events = NULL;
    n_log = 0;
    for (size_t i = 0; i < n_kept; i++)
        cJSON_Delete(kept[i]);
    n_kept = 0;
}

static int64_t json_int(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static const char *json_s(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Submits text as a; returns the new question id (> 0) or -err. */
static int64_t submit_as(const forum_actor *a, const char *text, const char *request_id)
{
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = (char *)text;
    c.id = (char *)request_id;
    forum_result r = run(a, &c);
    int64_t id = r.err ? -(int64_t)r.err : json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);
    return id;
}

static forum_err act(const forum_actor *a, forum_cmd_type t, int64_t qid)
{
    forum_command c = cmd_q(t, qid);
    return try(a, &c);
}

/* The question object for id in a's snapshot, printed; NULL if absent. Caller frees. */
static cJSON *snapshot_of(const forum_actor *a)
{
    return forum_snapshot(st, a, code);
}

static const cJSON *find_q(const cJSON *snap, int64_t id)
{
    const cJSON *q;
    cJSON_ArrayForEach(q, cJSON_GetObjectItem(snap, "questions")) if (json_int(q, "id") == id)
        return q;
    return NULL;
}

/* State of question id as staff see it ("" if absent). */
static char state_buf[32];
static const char *state_of(int64_t id)
{
    cJSON *snap = snapshot_of(&moderator);
    const cJSON *q = find_q(snap, id);
    snprintf(state_buf, sizeof state_buf, "%s", q ? json_s(q, "state") : "");
    cJSON_Delete(snap);
    return state_buf;
}

static int64_t votes_of(int64_t id)
{
    cJSON *snap = snapshot_of(&moderator);
    int64_t v = json_int(find_q(snap, id), "votes");
    cJSON_Delete(snap);
    return v;
}

static int64_t on_air(void)
{
    cJSON *snap = snapshot_of(&moderator);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(snap, "panel"), "on_air");
    int64_t id = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
    cJSON_Delete(snap);
    return id;
}

static char queue_buf[256];
static const char *up_next(void)
{
    cJSON *snap = snapshot_of(&moderator);
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(snap, "panel"),
                                                         "up_next"));
    snprintf(queue_buf, sizeof queue_buf, "%s", s);
    free(s);
    cJSON_Delete(snap);
    return queue_buf;
}

static forum_err vote(const forum_actor *v, int64_t qid, bool add)
{
    return act(v, add ? FORUM_CMD_VOTE_ADD : FORUM_CMD_VOTE_REMOVE, qid);
}

static forum_err queue_set(const forum_actor *a, int64_t *ids, size_t n)
{
    forum_command c = cmd_of(FORUM_CMD_QUEUE_SET);
    c.ids = ids;
    c.n_ids = n;
    return try(a, &c);
}

/* ------------------------------------------------------------------------------------------ */
/* Roles                                                                                      */

static void viewer_may_not_moderate_or_produce(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "How will rents develop?", NULL);
    CHECK(q > 0);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_DISMISS, q);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    c = cmd_q(FORUM_CMD_ONAIR_SET, q);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    c = cmd_of(FORUM_CMD_SESSION_START);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    c = cmd_of(FORUM_CMD_PROGRAM_CREATE);
    c.title = "Mine";
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    c = cmd_of(FORUM_CMD_QUESTION_UNDO);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    CHECK_STR(state_of(q), "published");
    teardown();
}

static void staff_may_not_vote_or_withdraw(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Question one", NULL);
    forum_command c = cmd_q(FORUM_CMD_VOTE_ADD, q);
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, NULL));
    c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, q);
    CHECK(fails_with(&producer, &c, FORUM_E_FORBIDDEN, NULL));
    teardown();
}

static void moderator_acts_only_in_own_session(void)
{
    setup();
    char other[FORUM_CODE_MAX];
    create_session(false, other);
    int64_t q = submit_as(&viewer_a, "A question", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_STAR, q);
    c.starred = true;
    c.session = other;
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, "session"));
    c.session = code; /* naming its own session is fine */
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_SESSION_START);
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, NULL));
    c = cmd_of(FORUM_CMD_SESSION_LIST);
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, NULL));
    c = cmd_of(FORUM_CMD_PROGRAM_CREATE);
    c.title = "x";
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, NULL));
    teardown();
}

static void producer_acts_in_any_session(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "A question", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_STAR, q);
    c.starred = true;
    CHECK(fails_with(&studio, &c, FORUM_E_BAD_REQUEST, "session"));
    c.session = "ZZZZZZ";
    CHECK(fails_with(&studio, &c, FORUM_E_NOT_FOUND, "session"));
    c.session = code;
    CHECK(try(&studio, &c) == FORUM_OK);
    /* A producer bound to another session may still name this one. */
    char other[FORUM_CODE_MAX];
    create_session(false, other);
    forum_actor elsewhere = make_staff(FORUM_ROLE_PRODUCER, other, NULL);
    c.starred = false;
    CHECK(try(&elsewhere, &c) == FORUM_OK);
    teardown();
}

static void unknown_session_is_not_found(void)
{
    setup();
    forum_actor lost = make_viewer("v0000000000000dd", "Lost");
    snprintf(lost.session, sizeof lost.session, "NOPE22");
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Hello?";
    CHECK(fails_with(&lost, &c, FORUM_E_NOT_FOUND, "session"));
    CHECK(forum_snapshot(st, &lost, "NOPE22") == NULL);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Sessions                                                                                   */

static void session_create_issues_code_and_hashed_key(void)
{
    setup_with(false, false);
    CHECK(strlen(code) == 6);
    CHECK(strspn(code, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789") == 6);
    CHECK_STR(forum_session_status(st, code), "draft");
    /* The first event of the session's log carries the full session and the key hash. */
    const forum_event *first = NULL;
    for (size_t i = 0; i < n_log; i++)
        if (strcmp(log_events[i].session, code) == 0) {
            first = &log_events[i];
            break;
        }
    CHECK(first && first->seq == 1);
    CHECK_STR(kind_of(first), "session.changed");
    CHECK(first->audience == FORUM_AUD_PUBLIC);
    const char *hash = json_s(secret_of(first), "moderator_key_hash");
    CHECK(hash && strlen(hash) == 64);
    CHECK_STR(forum_moderator_key_hash(st, code), hash);
    const cJSON *so = cJSON_GetObjectItem(payload_of(first), "session");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(so, "panelists")) == 2);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(so, "blocked_words")) == 2);

    /* Rotating gives a new plaintext key whose hash replaces the old one. */
    forum_command c = cmd_of(FORUM_CMD_SESSION_ROTATE_KEY);
    forum_result r = run(&producer, &c);
    CHECK(r.err == FORUM_OK);
    const char *key = json_s(ack_of(&r), "moderator_key");
    CHECK(key && strlen(key) == 24);
    CHECK(r.n_events == 1 && secret_of(&r.events[0]) != NULL);
    char expected[65];
    auth_sha256_hex(key, strlen(key), expected);
    CHECK_STR(forum_moderator_key_hash(st, code), expected);
    CHECK(strcmp(expected, hash) != 0);
    forum_result_free(&r);
    teardown();
}

static void session_ack_carries_key_once(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_SESSION_CREATE);
    c.program_id = 1;
    c.title = "Second";
    forum_result r = run(&studio, &c);
    CHECK(r.err == FORUM_OK);
    CHECK(json_s(ack_of(&r), "moderator_key") && strlen(json_s(ack_of(&r), "moderator_key")) == 24);
    const cJSON *so = cJSON_GetObjectItem(ack_of(&r), "session");
    CHECK_STR(json_s(so, "status"), "draft");
    CHECK_STR(json_s(so, "program"), "Town Hall");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(so, "anonymous_allowed")));
    CHECK(r.n_events == 1 && r.events[0].seq == 1);
    char *payload = cJSON_PrintUnformatted(payload_of(&r.events[0]));
    CHECK(strstr(payload, json_s(ack_of(&r), "moderator_key")) == NULL);
    free(payload);
    forum_result_free(&r);
    c.program_id = 99;
    CHECK(fails_with(&studio, &c, FORUM_E_NOT_FOUND, "program_id"));
    teardown();
}

static void session_list_shows_programs_and_sessions(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_SESSION_LIST);
    forum_result r = run(&studio, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "programs")) == 1);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "sessions")) == 1);
    forum_result_free(&r);
    cJSON *snap = forum_snapshot(st, &studio, NULL);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(snap, "sessions")) == 1);
    cJSON_Delete(snap);
    teardown();
}

static void programs_live_in_the_studio_log(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_PROGRAM_CREATE);
    c.title = "Science Hour";
    forum_result r = run(&studio, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(r.events[0].session, "");
    CHECK(r.events[0].seq == 2);
    CHECK_STR(kind_of(&r.events[0]), "program.changed");
    CHECK(json_int(cJSON_GetObjectItem(ack_of(&r), "program"), "id") == 2);
    forum_result_free(&r);
    c = cmd_of(FORUM_CMD_PROGRAM_UPDATE);
    c.program_id = 2;
    c.description = "Weekly";
    r = run(&studio, &c);
    CHECK(r.err == FORUM_OK);
    CHECK_STR(json_s(cJSON_GetObjectItem(ack_of(&r), "program"), "title"), "Science Hour");
    CHECK_STR(json_s(cJSON_GetObjectItem(ack_of(&r), "program"), "description"), "Weekly");
    forum_result_free(&r);
    CHECK(forum_last_seq(st, "") == 3);
    c.program_id = 7;
    CHECK(fails_with(&studio, &c, FORUM_E_NOT_FOUND, "program_id"));
    teardown();
}

static void session_status_transitions(void)
{
    setup_with(false, false);
    CHECK(submit_as(&viewer_a, "Too early", NULL) == -FORUM_E_SESSION_CLOSED);
    forum_command c = cmd_of(FORUM_CMD_SESSION_END);
    CHECK(fails_with(&producer, &c, FORUM_E_CONFLICT, NULL));
    c = cmd_of(FORUM_CMD_SESSION_OPEN);
    CHECK(try(&producer, &c) == FORUM_OK);
    CHECK(fails_with(&producer, &c, FORUM_E_CONFLICT, NULL));
    int64_t pre = submit_as(&viewer_a, "Before the show", NULL);
    c = cmd_of(FORUM_CMD_SESSION_START);
    CHECK(try(&producer, &c) == FORUM_OK);
    CHECK_STR(forum_session_status(st, code), "live");
    int64_t live = submit_as(&viewer_a, "During the show", NULL);
    cJSON *snap = snapshot_of(&moderator);
    CHECK_STR(json_s(find_q(snap, pre), "phase"), "pre");
    CHECK_STR(json_s(find_q(snap, live), "phase"), "live");
    CHECK(json_int(cJSON_GetObjectItem(snap, "session"), "started_at") == now_ms);
    cJSON_Delete(snap);
    c = cmd_of(FORUM_CMD_SESSION_END);
    CHECK(try(&producer, &c) == FORUM_OK);
    CHECK(submit_as(&viewer_a, "After", NULL) == -FORUM_E_SESSION_CLOSED);
    CHECK(vote(&viewer_b, pre, true) == FORUM_E_SESSION_CLOSED);
    /* Moderation still works after the show. */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_ANSWERED, pre) == FORUM_OK);
    c = cmd_of(FORUM_CMD_SESSION_ARCHIVE);
    CHECK(try(&producer, &c) == FORUM_OK);
    teardown();
}

static void draft_session_can_start_directly(void)
{
    setup_with(false, false);
    forum_command c = cmd_of(FORUM_CMD_SESSION_START);
    CHECK(try(&producer, &c) == FORUM_OK);
    CHECK_STR(forum_session_status(st, code), "live");
    teardown();
}

static void archived_session_refuses_every_write(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Question", NULL);
    forum_command c = cmd_of(FORUM_CMD_SESSION_START);
    CHECK(try(&producer, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_SESSION_END);
    CHECK(try(&producer, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_SESSION_ARCHIVE);
    CHECK(try(&producer, &c) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_DISMISS, q);
    CHECK(fails_with(&moderator, &c, FORUM_E_SESSION_CLOSED, NULL));
    c = cmd_q(FORUM_CMD_VOTE_ADD, q);
    CHECK(fails_with(&viewer_b, &c, FORUM_E_SESSION_CLOSED, NULL));
    c = cmd_of(FORUM_CMD_SESSION_UPDATE);
    c.title = "Renamed";
    CHECK(fails_with(&producer, &c, FORUM_E_SESSION_CLOSED, NULL));
    c = cmd_of(FORUM_CMD_SESSION_ARCHIVE);
    CHECK(fails_with(&producer, &c, FORUM_E_SESSION_CLOSED, NULL));
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "On behalf";
    CHECK(fails_with(&moderator, &c, FORUM_E_SESSION_CLOSED, NULL));
    teardown();
}

static void session_update_keeps_panelist_ids(void)
{
    setup();
    static char *names[] = {"Bob Li", "Carol Wu"};
    forum_panelist_in panel[2] = {{names[0], NULL, NULL}, {names[1], "City", NULL}};
    forum_command c = cmd_of(FORUM_CMD_SESSION_UPDATE);
    c.has_panelists = true;
    c.panelists = panel;
    c.n_panelists = 2;
    c.has_premoderation = true;
    c.premoderation = true;
    forum_result r = run(&producer, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    const cJSON *pa = cJSON_GetObjectItem(cJSON_GetObjectItem(ack_of(&r), "session"), "panelists");
    CHECK(json_int(cJSON_GetArrayItem(pa, 0), "id") == 2); /* Bob keeps id 2 */
    CHECK(json_int(cJSON_GetArrayItem(pa, 1), "id") == 3); /* Carol is new */
    forum_result_free(&r);
    /* premoderation now on */
    int64_t q = submit_as(&viewer_a, "Held now", NULL);
    CHECK_STR(state_of(q), "pending");
    teardown();
}

/* The stream setting travels in session.changed: set, kept by later changes that do not name
 * it (settings, status), cleared with null. */
static void session_stream_is_set_kept_and_cleared(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_SESSION_UPDATE);
    c.has_stream = true;
    c.stream_kind = FORUM_STREAM_EMBED;
    c.stream_url = "https://player.bilibili.com/player.html?bvid=BV1xx411c7mD";
    forum_result r = run(&producer, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    const cJSON *stream = cJSON_GetObjectItem(cJSON_GetObjectItem(payload_of(&r.events[0]),
                                                                  "session"),
                                              "stream");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(stream, "kind")), "embed");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(stream, "url")), c.stream_url);
    forum_result_free(&r);

    c = cmd_of(FORUM_CMD_SESSION_UPDATE);
    c.title = "Renamed";
    CHECK(try(&producer, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_SESSION_START);
    CHECK(try(&producer, &c) == FORUM_OK);
    forum_session_rec rec;
    CHECK(forum_session_settings(st, code, &rec));
    CHECK(rec.stream_kind == FORUM_STREAM_EMBED);
    CHECK_STR(rec.stream_url, "https://player.bilibili.com/player.html?bvid=BV1xx411c7mD");
    CHECK_STR(rec.title, "Renamed");
    CHECK(!forum_session_settings(st, "NOSUCH", &rec));

    c = cmd_of(FORUM_CMD_SESSION_UPDATE);
    c.has_stream = true;
    c.stream_kind = FORUM_STREAM_NONE;
    r = run(&producer, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(
        cJSON_GetObjectItem(payload_of(&r.events[0]), "session"), "stream")));
    forum_result_free(&r);
    CHECK(forum_session_settings(st, code, &rec) && rec.stream_kind == FORUM_STREAM_NONE &&
          !rec.stream_url);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Submitting                                                                                 */

static void submit_without_premoderation_publishes(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "What about social housing?";
    c.id = "r1";
    c.has_to = true;
    c.to = 1;
    forum_result r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK);
    CHECK(r.n_events == 2);
    CHECK_STR(kind_of(&r.events[0]), "question.submitted");
    CHECK(r.events[0].audience == FORUM_AUD_STAFF_AND_SUBJECT);
    CHECK_STR(r.events[0].subject, viewer_a.viewer_id);
    CHECK_STR(r.events[0].request_id, "r1");
    CHECK_STR(r.events[0].actor, "viewer:v00000000000000aa");
    CHECK_STR(kind_of(&r.events[1]), "question.published");
    CHECK(r.events[1].audience == FORUM_AUD_PUBLIC);
    CHECK(r.events[1].seq == r.events[0].seq + 1);
    CHECK(r.events[0].at == now_ms && r.events[0].offset_ms == -1);
    /* Staff rendering in the event, author rendering in the ack. */
    const cJSON *eq = cJSON_GetObjectItem(payload_of(&r.events[0]), "question");
    CHECK_STR(json_s(eq, "viewer_id"), viewer_a.viewer_id);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(eq, "mine")));
    const cJSON *aq = cJSON_GetObjectItem(ack_of(&r), "question");
    CHECK(cJSON_GetObjectItem(aq, "viewer_id") == NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(aq, "mine")));
    CHECK_STR(json_s(aq, "state"), "published");
    CHECK_STR(json_s(aq, "author"), "Ann");
    CHECK_STR(json_s(aq, "source"), "web");
    CHECK_STR(json_s(aq, "category"), "question");
    CHECK_STR(json_s(aq, "session"), code);
    CHECK(json_int(aq, "to") == 1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(aq, "merged_into")));
    forum_result_free(&r);
    teardown();
}

static void premoderation_holds_submissions(void)
{
    setup_with(true, true);
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Held for review";
    forum_result r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "question.submitted");
    CHECK_STR(json_s(cJSON_GetObjectItem(ack_of(&r), "question"), "state"), "pending");
    int64_t q = json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);
    /* Approval publishes it to everyone. */
    c = cmd_q(FORUM_CMD_QUESTION_APPROVE, q);
    r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "question.published");
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC);
    CHECK_STR(r.events[0].actor, "moderator:Mia");
    forum_result_free(&r);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_APPROVE, q) == FORUM_E_CONFLICT);
    teardown();
}

static void blocked_words_hold_chinese_text(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "这是广告内容", NULL);
    int64_t q2 = submit_as(&viewer_a, "Buy SPAM here", NULL);
    int64_t q3 = submit_as(&viewer_a, "房租什么时候降?", NULL);
    CHECK_STR(state_of(q1), "pending");
    CHECK_STR(state_of(q2), "pending");
    CHECK_STR(state_of(q3), "published");
    /* Staff submissions are published directly. */
    int64_t q4 = submit_as(&moderator, "来电: 广告太多", NULL);
    CHECK_STR(state_of(q4), "published");
    teardown();
}

/* Invisible characters (zero-width space, word joiner, soft hyphen, BOM) inside a blocked word
 * and full-width letters do not get it past the filter; unrelated text still goes through. */
static void blocked_words_survive_invisible_and_full_width_characters(void)
{
    setup();
    const char *hidden[] = {"买广\u200b告", "广\u2060告", "广\u00ad告", "\uff33\uff30\uff21\uff2d",
                            "s\u200bpam", "广\ufeff告", "Sp\u200dAm"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        /* the escapes above are JSON-style for readability; turn them into UTF-8 */
        char text[64];
        size_t o = 0;
        for (const char *p = hidden[i]; *p && o + 4 < sizeof text;) {
            if (p[0] == '\\' && p[1] == 'u') {
                unsigned cp = (unsigned)strtoul((char[]){p[2], p[3], p[4], p[5], 0}, NULL, 16);
                if (cp < 0x800) {
                    text[o++] = (char)(0xC0 | (cp >> 6));
                    text[o++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    text[o++] = (char)(0xE0 | (cp >> 12));
                    text[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    text[o++] = (char)(0x80 | (cp & 0x3F));
                }
                p += 6;
            } else {
                text[o++] = *p++;
            }
        }
        text[o] = 0;
        int64_t q = submit_as(&viewer_a, text, NULL);
        CHECK(q > 0);
        if (strcmp(state_of(q), "pending") != 0)
            fprintf(stderr, "    not held: %s\n", hidden[i]);
        CHECK_STR(state_of(q), "pending");
    }
    CHECK_STR(state_of(submit_as(&viewer_b, "广场舞太吵", NULL)), "published");
    CHECK_STR(state_of(submit_as(&viewer_b, "Spa treatment", NULL)), "published");
    teardown();
}

static void submit_is_idempotent_per_viewer_and_id(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "Once only", "req-7");
    CHECK(q1 > 0);
    size_t before = n_log;
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Once only";
    c.id = "req-7";
    forum_result r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    CHECK(json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id") == q1);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(ack_of(&r), "question"), "mine")));
    forum_result_free(&r);
    CHECK(n_log == before);
    /* Another viewer may use the same request id. */
    int64_t q2 = submit_as(&viewer_b, "Once only", "req-7");
    CHECK(q2 > 0 && q2 != q1);
    /* Even after the session ended, the resend gets the original ack. */
    c = cmd_of(FORUM_CMD_SESSION_START);
    try(&producer, &c);
    c = cmd_of(FORUM_CMD_SESSION_END);
    try(&producer, &c);
    CHECK(submit_as(&viewer_a, "Once only", "req-7") == q1);
    teardown();
}

static void anonymous_rules_follow_session_setting(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Anonymous one";
    c.anonymous = true;
    forum_result r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(ack_of(&r), "question"), "author")));
    forum_result_free(&r);
    forum_command u = cmd_of(FORUM_CMD_SESSION_UPDATE);
    u.has_anonymous_allowed = true;
    u.anonymous_allowed = false;
    CHECK(try(&producer, &u) == FORUM_OK);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_BAD_REQUEST, "anonymous"));
    c.anonymous = false;
    CHECK(fails_with(&viewer_c, &c, FORUM_E_BAD_REQUEST, "name"));
    CHECK(try(&viewer_a, &c) == FORUM_OK);
    teardown();
}

static void to_must_be_a_panelist(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "For the panel";
    c.has_to = true;
    c.to = 9;
    CHECK(fails_with(&viewer_a, &c, FORUM_E_NOT_FOUND, "to"));
    c.to = 2;
    CHECK(try(&viewer_a, &c) == FORUM_OK);
    teardown();
}

static void follow_up_needs_public_parent_in_session(void)
{
    setup();
    int64_t parent = submit_as(&viewer_a, "Original", NULL);
    int64_t held = submit_as(&viewer_a, "spam spam", NULL);
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Follow-up";
    c.parent_id = 999;
    CHECK(fails_with(&viewer_b, &c, FORUM_E_NOT_FOUND, "parent_id"));
    /* Another viewer's held question does not exist for viewer_b (errors reveal nothing of
     * questions a viewer cannot see); its author is told it is not public. */
    c.parent_id = held;
    CHECK(fails_with(&viewer_b, &c, FORUM_E_NOT_FOUND, "parent_id"));
    CHECK(fails_with(&viewer_a, &c, FORUM_E_CONFLICT, "parent_id"));
    /* A question of another session is not found here. */
    char other[FORUM_CODE_MAX];
    create_session(false, other);
    forum_actor other_prod = make_staff(FORUM_ROLE_PRODUCER, other, NULL);
    forum_command o = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    o.text = "Elsewhere";
    forum_result r = run(&other_prod, &o);
    int64_t foreign = json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);
    c.parent_id = foreign;
    CHECK(fails_with(&viewer_b, &c, FORUM_E_NOT_FOUND, "parent_id"));
    /* Answered questions take follow-ups. */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_ANSWERED, parent) == FORUM_OK);
    c.parent_id = parent;
    r = run(&viewer_b, &c);
    CHECK(r.err == FORUM_OK);
    CHECK(json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "parent_id") == parent);
    forum_result_free(&r);
    teardown();
}

static void staff_submission_on_behalf_of_a_caller(void)
{
    setup_with(true, true);
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Caller asks about heating";
    c.has_source = true;
    c.source = FORUM_SRC_PHONE;
    c.author = "Mrs. Zhang";
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    const cJSON *q = cJSON_GetObjectItem(ack_of(&r), "question");
    CHECK_STR(json_s(q, "state"), "published");
    CHECK_STR(json_s(q, "source"), "phone");
    CHECK_STR(json_s(q, "author"), "Mrs. Zhang");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(q, "viewer_id")));
    CHECK(r.n_events == 2);
    forum_result_free(&r);
    teardown();
}

static forum_state *replay_log(void);

/* Imports carry the record's id elsewhere: entering the same one again, by anyone on the staff,
 * adds nothing and answers with the question it made, also after a replay. */
static void import_is_idempotent_on_external_ref(void)
{
    setup_with(true, true);
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "热线来电：小区停车难";
    c.has_source = true;
    c.source = FORUM_SRC_HOTLINE;
    c.author = "王女士";
    c.external_ref = "12345-0001";
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 2);
    const cJSON *q = cJSON_GetObjectItem(ack_of(&r), "question");
    int64_t id = json_int(q, "id");
    CHECK_STR(json_s(q, "source"), "hotline");
    CHECK_STR(json_s(q, "external_ref"), "12345-0001");
    CHECK(cJSON_GetObjectItem(ack_of(&r), "existing") == NULL);
    forum_result_free(&r);
    /* the public rendering leaves the reference out */
    cJSON *snap = snapshot_of(&viewer_a);
    CHECK(find_q(snap, id) && !cJSON_GetObjectItem(find_q(snap, id), "external_ref"));
    cJSON_Delete(snap);

    c.text = "the same record, typed again";
    r = run(&producer, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    CHECK(json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id") == id);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(ack_of(&r), "existing")));
    forum_result_free(&r);

    /* a viewer cannot claim a reference: the field is the staff's */
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "viewer question";
    c.external_ref = "12345-0001";
    r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK(json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id") != id);
    forum_result_free(&r);

    forum_state *fresh = replay_log();
    forum_state *live = st;
    st = fresh;
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "after a restart";
    c.external_ref = "12345-0001";
    r = run(&moderator2, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    CHECK(json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id") == id);
    forum_result_free(&r);
    st = live;
    forum_free(fresh);
    teardown();
}

/* What a studio display shows: the question on air with its asker and addressee, the next
 * ones, the banner and segment, and nothing a viewer may not see. */
static void live_state_shows_the_air_for_studio_displays(void)
{
    setup_with(true, true);
    int64_t hidden = submit_as(&viewer_a, "pending and private", NULL);
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "物业费怎么定？";
    c.author = "李大爷";
    c.has_to = true;
    c.to = 1;
    forum_result r = run(&moderator, &c);
    int64_t first = json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);
    c.text = "second";
    c.author = NULL;
    c.has_to = false;
    c.to = 0;
    r = run(&moderator, &c);
    int64_t second = json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);
    c = cmd_of(FORUM_CMD_QUEUE_SET);
    int64_t ids[] = {first, second};
    c.ids = ids;
    c.n_ids = 2;
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_ONAIR_NEXT);
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_PANEL_SET);
    c.has_banner = true;
    c.banner = "民生访谈";
    c.has_segment_id = true;
    c.segment_id = 2;
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(forum_on_air(st, code) == first);

    char *text = forum_live_state_text(st, code);
    cJSON *o = keep(cJSON_Parse(text));
    free(text);
    const cJSON *air = cJSON_GetObjectItem(o, "on_air");
    CHECK_STR(json_s(air, "text"), "物业费怎么定？");
    CHECK_STR(json_s(air, "author"), "李大爷");
    CHECK_STR(json_s(cJSON_GetObjectItem(air, "to"), "name"), "Alice Chen");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "up_next")) == 1);
    CHECK(json_int(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "up_next"), 0), "id") == second);
    CHECK_STR(json_s(o, "banner"), "民生访谈");
    CHECK_STR(json_s(cJSON_GetObjectItem(o, "segment"), "title"), "Questions");
    CHECK_STR(json_s(o, "status"), "open");
    CHECK_STR(json_s(cJSON_GetObjectItem(o, "session"), "program"), "Town Hall");
    char *again = cJSON_PrintUnformatted(o);
    CHECK(strstr(again, "pending and private") == NULL && strstr(again, "viewer_id") == NULL);
    free(again);
    CHECK(hidden > 0);
    CHECK(forum_live_state_text(st, "NOPE") == NULL);
    CHECK(forum_panelist_id(st, code, "Bob Li") == 2 && forum_panelist_id(st, code, "Bob") == 0);
    teardown();
}

/* Webhook registrations are studio events (so they replay); the signing secret is acked once
 * and kept in the event's secret, never in a payload or a snapshot. */
static void webhooks_are_registered_as_studio_events_with_secret_kept_apart(void)
{
    forum_limits lim;
    forum_limits_default(&lim);
    lim.webhook_hosts = "hooks.example.org,qyapi.weixin.qq.com";
    setup_limited(false, true, &lim);
    forum_command c = cmd_of(FORUM_CMD_WEBHOOK_CREATE);
    c.url = "https://hooks.example.org/forum";
    c.has_triggers = true;
    c.triggers = (1u << FORUM_TRIGGER_QUESTION_ON_AIR) | (1u << FORUM_TRIGGER_SESSION_ARCHIVED);
    c.name = "newsroom";
    CHECK(try(&moderator, &c) == FORUM_E_FORBIDDEN);
    forum_result r = run(&studio, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "webhook.changed");
    CHECK(r.events[0].session[0] == '\0' && r.events[0].audience == FORUM_AUD_STAFF);
    cJSON *ack = ack_of(&r);
    const cJSON *hook = cJSON_GetObjectItem(ack, "webhook");
    int64_t id = json_int(hook, "id");
    const char *secret = json_s(ack, "secret");
    CHECK(id > 0 && secret && strlen(secret) == 32);
    CHECK_STR(json_s(hook, "preset"), "json");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(hook, "signing")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(hook, "events")) == 2);
    char *payload = forum_event_payload_text(&r.events[0], FORUM_VIEW_STAFF);
    CHECK(strstr(payload, secret) == NULL);
    free(payload);
    CHECK_STR(json_s(secret_of(&r.events[0]), "webhook_secret"), secret);
    forum_webhook_info info;
    CHECK(forum_webhook_find(st, id, &info) && info.secret && strcmp(info.secret, secret) == 0);
    char kept_secret[64];
    snprintf(kept_secret, sizeof kept_secret, "%s", secret);
    forum_result_free(&r);

    /* the studio list shows it, without the secret */
    cJSON *snap = forum_snapshot(st, &studio, NULL);
    char *text = cJSON_PrintUnformatted(snap);
    CHECK(strstr(text, "hooks.example.org") && !strstr(text, kept_secret));
    free(text);
    cJSON_Delete(snap);

    /* bad registrations change nothing */
    forum_command bad = c;
    bad.url = "ftp://hooks.example.org/";
    CHECK(fails_with(&studio, &bad, FORUM_E_BAD_REQUEST, "url"));
    bad.url = "https:///nohost";
    CHECK(fails_with(&studio, &bad, FORUM_E_BAD_REQUEST, "url"));
    /* only loopback and the configured hosts may be called (no SSRF into the LAN) */
    bad.url = "http://169.254.169.254/latest/meta-data";
    CHECK(fails_with(&studio, &bad, FORUM_E_FORBIDDEN, "url"));
    bad.url = "http://127.0.0.1.evil.example/hook";
    CHECK(fails_with(&studio, &bad, FORUM_E_FORBIDDEN, "url"));
    bad.url = "http://user@hooks.example.org/";
    CHECK(fails_with(&studio, &bad, FORUM_E_FORBIDDEN, "url"));
    char msg[300];
    CHECK(forum_webhook_url_check("http://127.0.0.1:9/x", "", msg, sizeof msg) == NULL);
    CHECK(forum_webhook_url_check("http://[::1]:9/x", "", msg, sizeof msg) == NULL);
    CHECK(forum_webhook_url_check("http://localhost/x", "", msg, sizeof msg) == NULL);
    CHECK(forum_webhook_url_check("http://10.0.0.1/x", "", msg, sizeof msg) != NULL);
    CHECK(forum_webhook_url_check("http://127.1/x", "", msg, sizeof msg) != NULL);
    bad = c;
    bad.has_program_id = true;
    bad.program_id = 999;
    CHECK(fails_with(&studio, &bad, FORUM_E_NOT_FOUND, "program_id"));
    bad = c;
    bad.has_triggers = false;
    CHECK(fails_with(&studio, &bad, FORUM_E_BAD_REQUEST, "events"));

    /* a WeCom robot signs nothing unless given a secret; an update can disable it */
    c = cmd_of(FORUM_CMD_WEBHOOK_CREATE);
    c.url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc";
    c.has_preset = true;
    c.preset = FORUM_HOOK_WECOM;
    c.has_triggers = true;
    c.triggers = 1u << FORUM_TRIGGER_COMMITMENT_CREATED;
    r = run(&studio, &c);
    CHECK(r.err == FORUM_OK && !cJSON_GetObjectItem(ack_of(&r), "secret"));
    int64_t wecom = json_int(cJSON_GetObjectItem(ack_of(&r), "webhook"), "id");
    forum_result_free(&r);
    CHECK(forum_webhook_find(st, wecom, &info) && info.secret == NULL &&
          info.preset == FORUM_HOOK_WECOM);

    /* rotating the generic one's secret: a new one, acked once */
    c = cmd_of(FORUM_CMD_WEBHOOK_UPDATE);
    c.webhook_id = id;
    c.has_secret = true;
    c.has_enabled = true;
    c.enabled = false;
    r = run(&studio, &c);
    CHECK(r.err == FORUM_OK);
    const char *rotated = json_s(ack_of(&r), "secret");
    CHECK(rotated && strcmp(rotated, kept_secret) != 0);
    CHECK(forum_webhook_find(st, id, &info) && !info.enabled && strcmp(info.secret, rotated) == 0);
    snprintf(kept_secret, sizeof kept_secret, "%s", rotated);
    forum_result_free(&r);

    /* replay rebuilds the registrations and their secrets */
    forum_state *fresh = replay_log();
    CHECK(forum_webhook_count(fresh) == 2);
    CHECK(forum_webhook_find(fresh, id, &info) && strcmp(info.secret, kept_secret) == 0 &&
          !info.enabled);
    forum_free(fresh);

    /* delete */
    c = cmd_of(FORUM_CMD_WEBHOOK_DELETE);
    c.webhook_id = wecom;
    CHECK(try(&studio, &c) == FORUM_OK);
    CHECK(!forum_webhook_find(st, wecom, &info) && forum_webhook_count(st) == 1);
    CHECK(fails_with(&studio, &c, FORUM_E_NOT_FOUND, "webhook_id"));
    fresh = replay_log();
    CHECK(forum_webhook_count(fresh) == 1);
    forum_free(fresh);
    teardown();
}

static void questions_per_session_limit(void)
{
    forum_limits lim;
    forum_limits_default(&lim);
    lim.questions_per_session = 2;
    setup_limited(false, true, &lim);
    forum_command c;
    CHECK(submit_as(&viewer_a, "one", NULL) > 0);
    CHECK(submit_as(&viewer_b, "two", NULL) > 0);
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "three";
    forum_result r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_E_RATE_LIMITED && r.retry_after_ms > 0 && r.n_events == 0);
    forum_result_free(&r);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Editing and withdrawing                                                                    */

static void author_edits_and_withdraws_own_question(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Frist draft", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_EDIT, q);
    c.text = "First draft";
    CHECK(fails_with(&viewer_b, &c, FORUM_E_FORBIDDEN, "question_id"));
    forum_result r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "question.updated");
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC);
    CHECK_STR(json_s(cJSON_GetObjectItem(ack_of(&r), "question"), "text"), "First draft");
    forum_result_free(&r);
    c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, q);
    CHECK(fails_with(&viewer_b, &c, FORUM_E_FORBIDDEN, "question_id"));
    r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "question.withdrawn");
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC);
    forum_result_free(&r);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_CONFLICT, "question_id"));
    c = cmd_q(FORUM_CMD_QUESTION_EDIT, q);
    c.text = "Too late";
    CHECK(fails_with(&viewer_a, &c, FORUM_E_CONFLICT, "question_id"));
    teardown();
}

/* A viewer referring to a question it may not see (another viewer's pending question) is told
 * it does not exist, never its state; its own pending question it may still edit. */
static void errors_reveal_nothing_of_questions_a_viewer_cannot_see(void)
{
    setup_with(true, true);
    int64_t held = submit_as(&viewer_a, "Still under review", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_EDIT, held);
    c.text = "Changed by someone else";
    CHECK(fails_with(&viewer_b, &c, FORUM_E_NOT_FOUND, "question_id"));
    forum_result r = run(&viewer_b, &c);
    CHECK(strstr(r.message, "pending") == NULL && strstr(r.message, "review") == NULL);
    forum_result_free(&r);
    c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, held);
    CHECK(fails_with(&viewer_b, &c, FORUM_E_NOT_FOUND, "question_id"));
    CHECK(vote(&viewer_b, held, true) == FORUM_E_NOT_FOUND);
    CHECK(vote(&viewer_b, held, false) == FORUM_E_NOT_FOUND);
    /* the same id and a never-used one are indistinguishable */
    CHECK(vote(&viewer_b, held + 1000, true) == FORUM_E_NOT_FOUND);
    c = cmd_q(FORUM_CMD_QUESTION_EDIT, held);
    c.text = "Still under review, now clearer";
    CHECK(try(&viewer_a, &c) == FORUM_OK);
    /* staff see everything */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_STAR, held) == FORUM_OK);
    teardown();
}

static void pending_withdraw_is_private(void)
{
    setup_with(true, true);
    int64_t q = submit_as(&viewer_a, "Second thoughts", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, q);
    forum_result r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK(r.events[0].audience == FORUM_AUD_STAFF_AND_SUBJECT);
    forum_result_free(&r);
    teardown();
}

static void on_air_question_cannot_be_withdrawn(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "On air soon", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q) == FORUM_OK);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, q);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_CONFLICT, "question_id"));
    /* Staff may still fix the text of any question. */
    c = cmd_q(FORUM_CMD_QUESTION_EDIT, q);
    c.text = "On air now";
    CHECK(try(&moderator, &c) == FORUM_OK);
    teardown();
}

static void author_edit_with_blocked_word_goes_back_to_review(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Clean text", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_EDIT, q);
    c.text = "now with 广告";
    CHECK(try(&viewer_a, &c) == FORUM_OK);
    CHECK_STR(state_of(q), "pending");
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Votes                                                                                      */

static void votes_are_one_per_viewer_and_idempotent(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Vote me", NULL);
    forum_command c = cmd_q(FORUM_CMD_VOTE_ADD, q);
    forum_result r = run(&viewer_b, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "vote.added");
    CHECK(r.events[0].audience == FORUM_AUD_NOBODY);
    CHECK_STR(r.events[0].subject, viewer_b.viewer_id);
    CHECK(json_int(payload_of(&r.events[0]), "question_id") == q);
    CHECK(json_int(ack_of(&r), "question_id") == q);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(ack_of(&r), "voted")));
    forum_result_free(&r);
    r = run(&viewer_b, &c); /* repeat: acked, no event */
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(ack_of(&r), "voted")));
    forum_result_free(&r);
    CHECK(votes_of(q) == 1);
    c = cmd_q(FORUM_CMD_VOTE_REMOVE, q);
    r = run(&viewer_b, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "vote.removed");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(ack_of(&r), "voted")));
    forum_result_free(&r);
    r = run(&viewer_b, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    forum_result_free(&r);
    CHECK(votes_of(q) == 0);
    c = cmd_q(FORUM_CMD_VOTE_ADD, 4242);
    CHECK(fails_with(&viewer_b, &c, FORUM_E_NOT_FOUND, "question_id"));
    teardown();
}

static void votes_only_on_published_questions(void)
{
    setup();
    int64_t held = submit_as(&viewer_a, "spam question", NULL);
    CHECK(vote(&viewer_b, held, true) == FORUM_E_NOT_FOUND); /* not visible to viewer_b */
    CHECK(vote(&viewer_a, held, true) == FORUM_E_CONFLICT);  /* the author's own: not published */
    int64_t q = submit_as(&viewer_a, "Good question", NULL);
    CHECK(vote(&viewer_b, q, true) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q) == FORUM_OK);
    CHECK(vote(&viewer_c, q, true) == FORUM_E_CONFLICT);
    /* Removing is always allowed. */
    CHECK(vote(&viewer_b, q, false) == FORUM_OK);
    CHECK(votes_of(q) == 0);
    teardown();
}

static void flush_coalesces_many_votes_into_one_event(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "Popular", NULL);
    int64_t q2 = submit_as(&viewer_a, "Less popular", NULL);
    int64_t q3 = submit_as(&viewer_a, "Ignored", NULL);
    forum_event *evs;
    {
        size_t nf = flush(&evs);
        free_events(evs, nf);
    }
    for (int i = 0; i < 50; i++) {
        char id[FORUM_VIEWER_ID_MAX];
        snprintf(id, sizeof id, "v%016d", i + 100);
        forum_actor v = make_viewer(id, NULL);
        CHECK(vote(&v, q1, true) == FORUM_OK);
        if (i < 10)
            CHECK(vote(&v, q2, true) == FORUM_OK);
    }
    int64_t seq_before = forum_last_seq(st, code);
    size_t n = flush(&evs);
    CHECK(n == 1);
    CHECK_STR(kind_of(&evs[0]), "votes.changed");
    CHECK(evs[0].audience == FORUM_AUD_PUBLIC);
    CHECK(evs[0].seq == seq_before + 1);
    CHECK_STR(evs[0].actor, "system");
    const cJSON *counts = cJSON_GetObjectItem(payload_of(&evs[0]), "counts");
    char k1[24], k2[24], k3[24];
    snprintf(k1, sizeof k1, "%lld", (long long)q1);
    snprintf(k2, sizeof k2, "%lld", (long long)q2);
    snprintf(k3, sizeof k3, "%lld", (long long)q3);
    CHECK(json_int(counts, k1) == 50);
    CHECK(json_int(counts, k2) == 10);
    CHECK(cJSON_GetObjectItem(counts, k3) == NULL);
    CHECK(cJSON_GetArraySize(counts) == 2);
    free_events(evs, n);
    CHECK(forum_last_seq(st, code) == seq_before + 1);
    /* Nothing changed since: no event. */
    n = flush(&evs);
    CHECK(n == 0);
    free_events(evs, n);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Merge                                                                                      */

static void merge_moves_votes_without_double_counting(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "Rents too high?", NULL);
    int64_t q2 = submit_as(&viewer_b, "Why are rents so high?", NULL);
    CHECK(vote(&viewer_a, q1, true) == FORUM_OK);
    CHECK(vote(&viewer_b, q1, true) == FORUM_OK);
    CHECK(vote(&viewer_b, q2, true) == FORUM_OK);
    CHECK(vote(&viewer_c, q2, true) == FORUM_OK);
    int64_t ids[] = {q1};
    CHECK(queue_set(&moderator, ids, 1) == FORUM_OK);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_MERGE, q1);
    c.into_id = q2;
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    bool saw_merged = false, saw_queue = false;
    for (size_t i = 0; i < r.n_events; i++) {
        if (strcmp(kind_of(&r.events[i]), "question.merged") == 0) {
            saw_merged = true;
            CHECK(r.events[i].audience == FORUM_AUD_PUBLIC);
            CHECK(json_int(cJSON_GetObjectItem(payload_of(&r.events[i]), "into"), "votes") == 3);
        }
        saw_queue |= strcmp(kind_of(&r.events[i]), "queue.changed") == 0;
    }
    CHECK(saw_merged && saw_queue);
    forum_result_free(&r);
    CHECK(votes_of(q2) == 3);
    CHECK(votes_of(q1) == 0);
    CHECK_STR(state_of(q1), "dismissed");
    cJSON *snap = snapshot_of(&moderator);
    CHECK(json_int(find_q(snap, q1), "merged_into") == q2);
    cJSON_Delete(snap);
    CHECK_STR(up_next(), "[]");
    /* viewer A's vote now counts on q2 */
    snap = snapshot_of(&viewer_a);
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(snap, "my_votes"));
    char expected[32];
    snprintf(expected, sizeof expected, "[%lld]", (long long)q2);
    CHECK_STR(s, expected);
    free(s);
    cJSON_Delete(snap);
    teardown();
}

static void merge_rules(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "One", NULL);
    int64_t q2 = submit_as(&viewer_b, "Two", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_MERGE, q1);
    c.into_id = q1;
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "into_id"));
    c.into_id = 777;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "into_id"));
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, q2) == FORUM_OK);
    c.into_id = q2;
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, "into_id"));
    teardown();
}

/* Merging a published question into a pending one would show the unreviewed target to the
 * audience of the merged one: refused. Pending into pending stays staff business. */
static void merge_keeps_pending_targets_private(void)
{
    setup_with(true, true); /* premoderation: submissions wait for review */
    int64_t pending = submit_as(&viewer_a, "Unreviewed duplicate", NULL);
    int64_t pending2 = submit_as(&viewer_b, "Another unreviewed one", NULL);
    int64_t published = submit_as(&viewer_b, "Reviewed question", NULL);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_APPROVE, published) == FORUM_OK);
    size_t before = n_log;
    forum_command c = cmd_q(FORUM_CMD_QUESTION_MERGE, published);
    c.into_id = pending;
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, "into_id"));
    CHECK(n_log == before);
    CHECK_STR(state_of(published), "published");
    c = cmd_q(FORUM_CMD_QUESTION_MERGE, pending2);
    c.into_id = pending;
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    for (size_t i = 0; i < r.n_events; i++)
        CHECK(r.events[i].audience != FORUM_AUD_PUBLIC);
    forum_result_free(&r);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Air and up-next                                                                            */

static void queue_set_validates_its_list(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "One", NULL);
    int64_t q2 = submit_as(&viewer_a, "Two", NULL);
    int64_t held = submit_as(&viewer_a, "spam", NULL);
    int64_t dup[] = {q1, q2, q1};
    forum_command c = cmd_of(FORUM_CMD_QUEUE_SET);
    c.ids = dup;
    c.n_ids = 3;
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "question_ids"));
    int64_t pending[] = {q1, held};
    c.ids = pending;
    c.n_ids = 2;
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, "question_ids"));
    int64_t missing[] = {q1, 5000};
    c.ids = missing;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "question_ids"));
    int64_t many[101];
    for (int i = 0; i < 101; i++)
        many[i] = q1;
    c.ids = many;
    c.n_ids = 101;
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "question_ids"));
    int64_t ok[] = {q2, q1};
    forum_result r;
    c.ids = ok;
    c.n_ids = 2;
    r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "queue.changed");
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC);
    forum_result_free(&r);
    char expected[64];
    snprintf(expected, sizeof expected, "[%lld,%lld]", (long long)q2, (long long)q1);
    CHECK_STR(up_next(), expected);
    teardown();
}

static void onair_next_takes_head_of_queue(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "One", NULL);
    int64_t q2 = submit_as(&viewer_b, "Two", NULL);
    forum_command c = cmd_of(FORUM_CMD_ONAIR_NEXT);
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, NULL));
    int64_t ids[] = {q1, q2};
    CHECK(queue_set(&moderator, ids, 2) == FORUM_OK);
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    CHECK(json_int(ack_of(&r), "question_id") == q1);
    CHECK(r.n_events == 3); /* question.updated, queue.changed, onair.changed */
    CHECK_STR(kind_of(&r.events[r.n_events - 1]), "onair.changed");
    forum_result_free(&r);
    CHECK(on_air() == q1);
    CHECK_STR(state_of(q1), "on_air");
    char expected[32];
    snprintf(expected, sizeof expected, "[%lld]", (long long)q2);
    CHECK_STR(up_next(), expected);
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(on_air() == q2);
    CHECK_STR(state_of(q1), "published");
    CHECK_STR(up_next(), "[]");
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, NULL));
    teardown();
}

static void onair_set_rules(void)
{
    setup();
    int64_t held = submit_as(&viewer_a, "spam", NULL);
    int64_t q1 = submit_as(&viewer_a, "One", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, held) == FORUM_E_CONFLICT);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q1) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q1) == FORUM_E_CONFLICT);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_CLEAR, 0) == FORUM_OK);
    CHECK(on_air() == 0);
    CHECK_STR(state_of(q1), "published");
    /* Re-airing an answered question keeps it answered. */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_ANSWERED, q1) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q1) == FORUM_OK);
    CHECK(on_air() == q1);
    CHECK_STR(state_of(q1), "answered");
    int64_t q2 = submit_as(&viewer_b, "Two", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q2) == FORUM_OK);
    CHECK_STR(state_of(q1), "answered");
    teardown();
}

static void answering_the_on_air_question_clears_the_air(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "One", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q) == FORUM_OK);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_ANSWERED, q);
    c.note = "Rents will be capped";
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 2);
    CHECK_STR(kind_of(&r.events[0]), "question.answered");
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC);
    CHECK_STR(kind_of(&r.events[1]), "onair.changed");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(payload_of(&r.events[1]), "question_id")));
    CHECK_STR(json_s(cJSON_GetObjectItem(ack_of(&r), "question"), "answer_note"),
              "Rents will be capped");
    forum_result_free(&r);
    CHECK(on_air() == 0);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_ANSWERED, q) == FORUM_E_CONFLICT);
    teardown();
}

static void questions_leave_queue_when_no_longer_published(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "One", NULL);
    int64_t q2 = submit_as(&viewer_a, "Two", NULL);
    int64_t q3 = submit_as(&viewer_b, "Three", NULL);
    int64_t ids[] = {q1, q2, q3};
    CHECK(queue_set(&moderator, ids, 3) == FORUM_OK);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_DISMISS, q2);
    c.reason = "duplicate";
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 2);
    CHECK_STR(kind_of(&r.events[0]), "question.dismissed");
    CHECK_STR(json_s(payload_of(&r.events[0]), "reason"), "duplicate");
    CHECK_STR(kind_of(&r.events[1]), "queue.changed");
    forum_result_free(&r);
    char expected[64];
    snprintf(expected, sizeof expected, "[%lld,%lld]", (long long)q1, (long long)q3);
    CHECK_STR(up_next(), expected);
    c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, q3);
    CHECK(try(&viewer_b, &c) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_ANSWERED, q1) == FORUM_OK);
    CHECK_STR(up_next(), "[]");
    teardown();
}

static void dismiss_rules_and_audience(void)
{
    setup_with(true, true);
    int64_t q = submit_as(&viewer_a, "Held", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_DISMISS, q);
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK(r.events[0].audience == FORUM_AUD_STAFF_AND_SUBJECT);
    forum_result_free(&r);
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, "question_id"));
    c = cmd_q(FORUM_CMD_QUESTION_DISMISS, 31337);
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "question_id"));
    teardown();
}

static void panel_set_validates_segment_and_speakers(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_PANEL_SET);
    c.has_segment_id = true;
    c.segment_id = 9;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "segment_id"));
    c.segment_id = 2;
    int64_t bad[] = {1, 5};
    c.has_speaker_ids = true;
    c.speaker_ids = bad;
    c.n_speaker_ids = 2;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "speaker_ids"));
    int64_t ok[] = {2, 1};
    c.speaker_ids = ok;
    c.has_banner = true;
    c.banner = "Live from the city hall";
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "panel.changed");
    const cJSON *panel = cJSON_GetObjectItem(payload_of(&r.events[0]), "panel");
    CHECK(json_int(panel, "segment_id") == 2);
    CHECK_STR(json_s(panel, "banner"), "Live from the city hall");
    forum_result_free(&r);
    /* Only the fields given change. */
    c = cmd_of(FORUM_CMD_PANEL_SET);
    c.has_banner = true;
    c.banner = NULL;
    CHECK(try(&moderator, &c) == FORUM_OK);
    cJSON *snap = snapshot_of(&viewer_a);
    panel = cJSON_GetObjectItem(snap, "panel");
    CHECK(json_int(panel, "segment_id") == 2);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(panel, "banner")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(panel, "speaker_ids")) == 2);
    cJSON_Delete(snap);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Undo                                                                                       */

static void undo_with_nothing_to_undo_conflicts(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_UNDO);
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, NULL));
    teardown();
}

static void undo_approve(void)
{
    setup_with(true, true);
    int64_t q = submit_as(&viewer_a, "Held", NULL);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_APPROVE, q) == FORUM_OK);
    CHECK_STR(state_of(q), "published");
    /* Another moderator has nothing to undo. */
    forum_command c = cmd_of(FORUM_CMD_QUESTION_UNDO);
    CHECK(fails_with(&moderator2, &c, FORUM_E_CONFLICT, NULL));
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "question.updated");
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC); /* viewers must drop it */
    CHECK_STR(json_s(ack_of(&r), "undone"), "approve");
    forum_result_free(&r);
    CHECK_STR(state_of(q), "pending");
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, NULL)); /* one level */
    teardown();
}

static void undo_dismiss(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Good one", NULL);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, q) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK_STR(state_of(q), "published");
    teardown();
}

static void undo_star_and_staff_edit(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Original text", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_STAR, q);
    c.starred = true;
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    cJSON *snap = snapshot_of(&moderator);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(find_q(snap, q), "starred")));
    cJSON_Delete(snap);
    c = cmd_q(FORUM_CMD_QUESTION_EDIT, q);
    c.text = "Edited by staff";
    CHECK(try(&moderator, &c) == FORUM_OK);
    snap = snapshot_of(&moderator);
    CHECK_STR(json_s(find_q(snap, q), "text"), "Edited by staff");
    cJSON_Delete(snap);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    snap = snapshot_of(&moderator);
    CHECK_STR(json_s(find_q(snap, q), "text"), "Original text");
    cJSON_Delete(snap);
    teardown();
}

static void undo_star_only_touches_the_star(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Star me", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_STAR, q);
    c.starred = true;
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(act(&moderator2, FORUM_CMD_ONAIR_SET, q) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK_STR(state_of(q), "on_air"); /* the air is moderator2's doing and stays */
    CHECK(on_air() == q);
    cJSON *snap = snapshot_of(&moderator);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(find_q(snap, q), "starred")));
    cJSON_Delete(snap);
    teardown();
}

static void undo_merge_restores_votes(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "Dup A", NULL);
    int64_t q2 = submit_as(&viewer_b, "Dup B", NULL);
    CHECK(vote(&viewer_a, q1, true) == FORUM_OK);
    CHECK(vote(&viewer_b, q1, true) == FORUM_OK);
    CHECK(vote(&viewer_b, q2, true) == FORUM_OK);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_MERGE, q1);
    c.into_id = q2;
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(votes_of(q2) == 2);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK_STR(state_of(q1), "published");
    CHECK(votes_of(q1) == 2);
    CHECK(votes_of(q2) == 1);
    cJSON *snap = snapshot_of(&moderator);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(find_q(snap, q1), "merged_into")));
    cJSON_Delete(snap);
    teardown();
}

static void undo_answered_restores_the_air(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "On air", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q) == FORUM_OK);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_ANSWERED, q);
    c.note = "oops";
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(on_air() == 0);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK(on_air() == q);
    CHECK_STR(state_of(q), "on_air");
    cJSON *snap = snapshot_of(&moderator);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(find_q(snap, q), "answer_note")));
    cJSON_Delete(snap);
    teardown();
}

static void undo_onair_set_restores_previous_question(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "First", NULL);
    int64_t q2 = submit_as(&viewer_b, "Second", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q1) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q2) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK(on_air() == q1);
    CHECK_STR(state_of(q1), "on_air");
    CHECK_STR(state_of(q2), "published");
    teardown();
}

static void undo_refuses_when_question_changed_since(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Contested", NULL);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, q) == FORUM_OK);
    CHECK(act(&moderator2, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_E_CONFLICT);
    /* Producer undoes nothing of the moderator's. */
    CHECK(act(&producer, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_E_CONFLICT);
    int64_t q2 = submit_as(&viewer_a, "Other", NULL);
    CHECK(act(&moderator2, FORUM_CMD_ONAIR_SET, q2) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK); /* independent question */
    /* moderator2's onair.set can no longer be undone once the air moved on */
    int64_t q3 = submit_as(&viewer_a, "Third", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, q3) == FORUM_OK);
    CHECK(act(&moderator2, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_E_CONFLICT);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Polls                                                                                      */

static int64_t create_poll(bool multi)
{
    static char *opts[] = {"Yes", "No", "Not sure"};
    forum_command c = cmd_of(FORUM_CMD_POLL_CREATE);
    c.title = "Should rents be capped?";
    c.options = opts;
    c.n_options = 3;
    c.multi = multi;
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK(r.events[0].audience == FORUM_AUD_STAFF);
    int64_t id = json_int(cJSON_GetObjectItem(ack_of(&r), "poll"), "id");
    forum_result_free(&r);
    return id;
}

static forum_err ballot(const forum_actor *v, int64_t poll, int64_t *ids, size_t n)
{
    forum_command c = cmd_of(FORUM_CMD_POLL_VOTE);
    c.poll_id = poll;
    c.ids = ids;
    c.n_ids = n;
    return try(v, &c);
}

static void poll_life_cycle_and_single_choice_ballots(void)
{
    setup();
    static char *one[] = {"Only"};
    forum_command c = cmd_of(FORUM_CMD_POLL_CREATE);
    c.title = "Bad";
    c.options = one;
    c.n_options = 1;
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "options"));
    int64_t p = create_poll(false);
    cJSON *snap = snapshot_of(&viewer_a);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(snap, "polls")) == 0); /* draft hidden */
    cJSON_Delete(snap);
    int64_t yes[] = {1}, no[] = {2}, both[] = {1, 2}, bad[] = {4};
    CHECK(ballot(&viewer_a, p, yes, 1) == FORUM_E_CONFLICT);
    forum_command o = cmd_of(FORUM_CMD_POLL_OPEN);
    o.poll_id = p;
    forum_result r = run(&moderator, &o);
    CHECK(r.err == FORUM_OK && r.n_events == 1 && r.events[0].audience == FORUM_AUD_PUBLIC);
    forum_result_free(&r);
    CHECK(fails_with(&moderator, &o, FORUM_E_CONFLICT, "poll_id"));
    CHECK(ballot(&viewer_a, p, both, 2) == FORUM_E_BAD_REQUEST);
    CHECK(ballot(&viewer_a, p, bad, 1) == FORUM_E_BAD_REQUEST);
    CHECK(ballot(&viewer_a, 999, yes, 1) == FORUM_E_NOT_FOUND);
    c = cmd_of(FORUM_CMD_POLL_VOTE);
    c.poll_id = p;
    c.ids = yes;
    c.n_ids = 1;
    r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "poll.voted");
    CHECK(r.events[0].audience == FORUM_AUD_NOBODY);
    CHECK_STR(r.events[0].subject, viewer_a.viewer_id);
    CHECK(json_int(ack_of(&r), "poll_id") == p);
    forum_result_free(&r);
    r = run(&viewer_a, &c); /* same ballot again: no event */
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    forum_result_free(&r);
    CHECK(ballot(&viewer_b, p, yes, 1) == FORUM_OK);
    CHECK(ballot(&viewer_a, p, no, 1) == FORUM_OK); /* replaces yes */
    forum_event *evs;
    size_t n = flush(&evs);
    CHECK(n == 1);
    CHECK_STR(kind_of(&evs[0]), "poll.changed");
    const cJSON *opts = cJSON_GetObjectItem(cJSON_GetObjectItem(payload_of(&evs[0]), "poll"),
                                            "options");
    CHECK(json_int(cJSON_GetArrayItem(opts, 0), "votes") == 1);
    CHECK(json_int(cJSON_GetArrayItem(opts, 1), "votes") == 1);
    CHECK(json_int(cJSON_GetArrayItem(opts, 2), "votes") == 0);
    free_events(evs, n);
    snap = snapshot_of(&viewer_a);
    char *mine = cJSON_PrintUnformatted(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "polls"), 0),
                            "my_option_ids"));
    CHECK_STR(mine, "[2]");
    free(mine);
    cJSON_Delete(snap);
    o = cmd_of(FORUM_CMD_POLL_CLOSE);
    o.poll_id = p;
    CHECK(try(&moderator, &o) == FORUM_OK);
    CHECK(ballot(&viewer_c, p, yes, 1) == FORUM_E_CONFLICT);
    snap = snapshot_of(&viewer_c);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(snap, "polls")) == 1); /* closed visible */
    cJSON_Delete(snap);
    teardown();
}

static void multi_choice_ballots(void)
{
    setup();
    int64_t p = create_poll(true);
    forum_command o = cmd_of(FORUM_CMD_POLL_OPEN);
    o.poll_id = p;
    CHECK(try(&moderator, &o) == FORUM_OK);
    int64_t two[] = {1, 3}, dup[] = {2, 2}, one[] = {3};
    CHECK(ballot(&viewer_a, p, dup, 2) == FORUM_E_BAD_REQUEST);
    CHECK(ballot(&viewer_a, p, NULL, 0) == FORUM_E_BAD_REQUEST);
    CHECK(ballot(&viewer_a, p, two, 2) == FORUM_OK);
    CHECK(ballot(&viewer_b, p, one, 1) == FORUM_OK);
    cJSON *snap = snapshot_of(&moderator);
    const cJSON *opts =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "polls"), 0), "options");
    CHECK(json_int(cJSON_GetArrayItem(opts, 0), "votes") == 1);
    CHECK(json_int(cJSON_GetArrayItem(opts, 1), "votes") == 0);
    CHECK(json_int(cJSON_GetArrayItem(opts, 2), "votes") == 2);
    cJSON_Delete(snap);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Bans                                                                                       */

static void banned_viewer_may_watch_but_not_write(void)
{
    setup();
    int64_t q = submit_as(&viewer_b, "Fine question", NULL);
    forum_command c = cmd_of(FORUM_CMD_VIEWER_BAN);
    c.viewer_id = viewer_a.viewer_id;
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "viewer.banned");
    CHECK(r.events[0].audience == FORUM_AUD_STAFF);
    CHECK_STR(json_s(payload_of(&r.events[0]), "viewer_id"), viewer_a.viewer_id);
    forum_result_free(&r);
    CHECK(forum_viewer_banned(st, code, viewer_a.viewer_id));
    /* Staff snapshots list the session's bans; viewers' snapshots do not. */
    cJSON *staff_snap = snapshot_of(&moderator);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(staff_snap, "banned")) == 1);
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(staff_snap, "banned"), 0)->valuestring,
              viewer_a.viewer_id);
    cJSON_Delete(staff_snap);
    staff_snap = snapshot_of(&viewer_b);
    CHECK(cJSON_GetObjectItem(staff_snap, "banned") == NULL);
    cJSON_Delete(staff_snap);
    CHECK(submit_as(&viewer_a, "Let me in", NULL) == -FORUM_E_BANNED);
    CHECK(vote(&viewer_a, q, true) == FORUM_E_BANNED);
    cJSON *snap = snapshot_of(&viewer_a); /* may still watch */
    CHECK(snap != NULL);
    cJSON_Delete(snap);
    /* Bans are per session. */
    char other[FORUM_CODE_MAX];
    create_session(false, other);
    CHECK(!forum_viewer_banned(st, other, viewer_a.viewer_id));
    c = cmd_of(FORUM_CMD_VIEWER_UNBAN);
    c.viewer_id = viewer_a.viewer_id;
    r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "viewer.unbanned");
    forum_result_free(&r);
    staff_snap = snapshot_of(&moderator);
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(staff_snap, "banned")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(staff_snap, "banned")) == 0);
    cJSON_Delete(staff_snap);
    CHECK(vote(&viewer_a, q, true) == FORUM_OK);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Visibility and time                                                                        */

static void viewer_snapshot_shows_public_and_own_questions_only(void)
{
    setup_with(true, true);
    int64_t a_pending = submit_as(&viewer_a, "A's pending", NULL);
    int64_t b_pending = submit_as(&viewer_b, "B's pending", NULL);
    int64_t b_public = submit_as(&viewer_b, "B's approved", NULL);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_APPROVE, b_public) == FORUM_OK);
    CHECK(vote(&viewer_a, b_public, true) == FORUM_OK);
    cJSON *snap = snapshot_of(&viewer_a);
    CHECK(find_q(snap, a_pending) != NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(find_q(snap, a_pending), "mine")));
    CHECK(find_q(snap, b_pending) == NULL);
    CHECK(find_q(snap, b_public) != NULL);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(find_q(snap, b_public), "mine")));
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(snap, "my_votes")) == 1);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(snap, "session"), "blocked_words") == NULL);
    char *text = cJSON_PrintUnformatted(snap);
    CHECK(strstr(text, "viewer_id") == NULL);
    CHECK(strstr(text, viewer_b.viewer_id) == NULL);
    free(text);
    cJSON_Delete(snap);
    snap = snapshot_of(&moderator);
    CHECK(find_q(snap, a_pending) && find_q(snap, b_pending));
    CHECK_STR(json_s(find_q(snap, b_pending), "viewer_id"), viewer_b.viewer_id);
    CHECK(cJSON_GetObjectItem(snap, "my_votes") == NULL);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(snap, "session"),
                                                 "blocked_words")) == 2);
    cJSON_Delete(snap);
    teardown();
}

static void events_carry_offset_once_live(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_SESSION_START);
    forum_result r = run(&producer, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK(r.events[0].offset_ms == 0);
    forum_result_free(&r);
    now_ms += 65000;
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "A minute in";
    r = run(&viewer_a, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 2);
    CHECK(r.events[0].offset_ms == 65000);
    CHECK(r.events[0].at == now_ms);
    forum_result_free(&r);
    now_ms -= 65000;
    teardown();
}

static void question_rate_defaults_to_six_a_minute(void)
{
    setup();
    CHECK(forum_question_rate_per_min(st, code) == 6);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Replay                                                                                     */

/* A long show touching every kind of event. */
static void scripted_show(void)
{
    forum_command c;
    int64_t q[12];
    q[0] = submit_as(&viewer_a, "Pre-show: why are rents rising?", "a1");
    q[1] = submit_as(&viewer_b, "Pre-show: will there be subsidies?", "b1");
    q[2] = submit_as(&viewer_c, "这是广告内容", "c1");
    c = cmd_of(FORUM_CMD_SESSION_START);
    CHECK(try(&producer, &c) == FORUM_OK);
    now_ms += 1000;
    q[3] = submit_as(&viewer_a, "Live: what about students?", "a2");
    q[4] = submit_as(&viewer_b, "Live: duplicate of rents", "b2");
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Caller: heating costs";
    c.has_source = true;
    c.source = FORUM_SRC_PAPER;
    c.author = "Old Wang";
    CHECK(try(&moderator, &c) == FORUM_OK);
    for (int i = 0; i < 30; i++) {
        char id[FORUM_VIEWER_ID_MAX];
        snprintf(id, sizeof id, "v%016d", i + 500);
        forum_actor v = make_viewer(id, NULL);
        vote(&v, q[i % 2 ? 0 : 1], true);
        vote(&v, q[4], true);
        if (i % 5 == 0)
            vote(&v, q[1], false);
    }
    CHECK(vote(&viewer_a, q[1], true) == FORUM_OK);
    forum_event *evs;
    {
        size_t nf = flush(&evs);
        free_events(evs, nf);
    }
    CHECK(act(&moderator, FORUM_CMD_QUESTION_APPROVE, q[2]) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_MERGE, q[4]);
    c.into_id = q[0];
    CHECK(try(&moderator, &c) == FORUM_OK);
    int64_t queue[] = {q[0], q[1], q[3]};
    CHECK(queue_set(&moderator, queue, 3) == FORUM_OK);
    c = cmd_of(FORUM_CMD_ONAIR_NEXT);
    CHECK(try(&moderator, &c) == FORUM_OK);
    now_ms += 5000;
    c = cmd_q(FORUM_CMD_QUESTION_ANSWERED, q[0]);
    c.note = "Because of demand";
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Follow-up: and supply?";
    c.parent_id = q[0];
    c.id = "a3";
    CHECK(try(&viewer_a, &c) == FORUM_OK);
    CHECK(act(&moderator2, FORUM_CMD_ONAIR_SET, q[1]) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_STAR, q[3]);
    c.starred = true;
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_EDIT, q[3]);
    c.text = "Live: what about students and pensioners?";
    CHECK(try(&viewer_a, &c) == FORUM_OK);
    CHECK(act(&moderator2, FORUM_CMD_ONAIR_NEXT, 0) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK); /* un-star */
    int64_t seg[] = {1};
    c = cmd_of(FORUM_CMD_PANEL_SET);
    c.has_segment_id = true;
    c.segment_id = 2;
    c.has_speaker_ids = true;
    c.speaker_ids = seg;
    c.n_speaker_ids = 1;
    c.has_banner = true;
    c.banner = "城市住房论坛";
    CHECK(try(&moderator, &c) == FORUM_OK);
    int64_t p = create_poll(false);
    c = cmd_of(FORUM_CMD_POLL_OPEN);
    c.poll_id = p;
    CHECK(try(&moderator, &c) == FORUM_OK);
    int64_t yes[] = {1}, no[] = {2};
    CHECK(ballot(&viewer_a, p, yes, 1) == FORUM_OK);
    CHECK(ballot(&viewer_b, p, no, 1) == FORUM_OK);
    CHECK(ballot(&viewer_a, p, no, 1) == FORUM_OK);
    create_poll(true); /* stays a draft */
    c = cmd_of(FORUM_CMD_VIEWER_BAN);
    c.viewer_id = viewer_c.viewer_id;
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, q[1]);
    CHECK(try(&viewer_b, &c) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_CLEAR, 0) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_DISMISS, q[3]);
    c.reason = "off topic";
    CHECK(try(&moderator, &c) == FORUM_OK);
    /* commitments: status history, publication; ratings of the answer and of a commitment */
    c = cmd_of(FORUM_CMD_ACTION_CREATE);
    c.text = "Publish the rent survey";
    c.has_question_id = true;
    c.question_id = q[0];
    c.has_owner = true;
    c.owner = "Housing office";
    c.has_due = true;
    c.due = "2023-12-31";
    c.has_promised_by = true;
    c.promised_by = 1;
    c.has_note = true;
    c.note = "call Mr Wu first";
    forum_result made = run(&moderator, &c);
    CHECK(made.err == FORUM_OK);
    int64_t act1 = json_int(cJSON_GetObjectItem(ack_of(&made), "action"), "id");
    forum_result_free(&made);
    c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = act1;
    c.has_status = true;
    c.status = FORUM_ACTION_IN_PROGRESS;
    c.has_reason = true;
    c.reason = "survey drafted";
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = act1;
    c.has_publication = true;
    c.publication = FORUM_PUB_PUBLIC;
    CHECK(try(&producer, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_ACTION_CREATE);
    c.text = "Not yet public";
    CHECK(try(&moderator, &c) == FORUM_OK);
    forum_actor rater = make_viewer("v00000000000000dd", "Dee");
    c = cmd_of(FORUM_CMD_RATING_SET);
    c.question_id = q[0];
    c.has_rating_value = true;
    c.rating_value = FORUM_RATING_SATISFIED;
    c.has_comment = true;
    c.comment = "clear answer";
    CHECK(try(&viewer_b, &c) == FORUM_OK);
    c.comment = NULL;
    c.rating_value = FORUM_RATING_BASIC;
    CHECK(try(&rater, &c) == FORUM_OK);
    c.rating_value = FORUM_RATING_DISSATISFIED; /* changed */
    CHECK(try(&rater, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_RATING_SET);
    c.action_id = act1;
    c.has_rating_value = true;
    c.rating_value = FORUM_RATING_DISSATISFIED;
    c.has_comment = true;
    c.comment = "too slow, 太慢了";
    forum_result rated = run(&viewer_a, &c);
    CHECK(rated.err == FORUM_OK);
    int64_t rating1 = json_int(cJSON_GetObjectItem(ack_of(&rated), "rating"), "id");
    forum_result_free(&rated);
    c = cmd_of(FORUM_CMD_RATING_DISMISS);
    c.rating_id = rating1;
    CHECK(try(&moderator, &c) == FORUM_OK);
    {
        size_t nf = flush(&evs);
        free_events(evs, nf);
    }
    CHECK(ballot(&viewer_b, p, yes, 1) == FORUM_OK); /* left dirty at the end */
    q[5] = submit_as(&viewer_b, "Late one", "b3");
    CHECK(vote(&viewer_a, q[5], true) == FORUM_OK);
    c = cmd_of(FORUM_CMD_PROGRAM_CREATE);
    c.title = "Second programme";
    c.has_listed = true;
    c.listed = false;
    CHECK(try(&studio, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_SESSION_UPDATE);
    c.has_topic = true;
    c.topic = "Rents and students";
    c.has_stream = true;
    c.stream_kind = FORUM_STREAM_HLS;
    c.stream_url = "https://live.example.com/town-hall/index.m3u8";
    CHECK(try(&producer, &c) == FORUM_OK);
    c = cmd_of(FORUM_CMD_SESSION_ROTATE_KEY);
    CHECK(try(&producer, &c) == FORUM_OK);
}

/* Decodes a stored event (kind, payload text) into ev's typed payload and replays it: 0, or -1
 * when either step refuses it (ev cleared afterwards). */
static int replay_json(forum_state *into, forum_event *ev, const char *kind, const char *payload)
{
    ev->kind = forum_kind_from_name(kind);
    if (ev->kind == FORUM_EV__COUNT ||
        forum_event_decode_text(ev, payload, strlen(payload), NULL, 0) < 0)
        return -1;
    int rc = forum_replay(into, ev);
    forum_event_clear(ev);
    return rc;
}

static forum_state *replay_log(void)
{
    forum_state *fresh = forum_new(NULL);
    for (size_t i = 0; i < n_log; i++)
        if (forum_replay(fresh, &log_events[i]) != 0) {
            fprintf(stderr, "  replay failed at event %zu (%s)\n", i, kind_of(&log_events[i]));
            CHECK(0);
        }
    return fresh;
}

static void replay_rebuilds_identical_state(void)
{
    setup();
    scripted_show();
    CHECK(n_log > 100);
    forum_state *fresh = replay_log();
    const forum_actor *who[] = {&moderator, &viewer_a, &viewer_b, &viewer_c, &studio};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        cJSON *s1 = forum_snapshot(st, who[i], who[i] == &studio ? NULL : code);
        cJSON *s2 = forum_snapshot(fresh, who[i], who[i] == &studio ? NULL : code);
        char *t1 = cJSON_PrintUnformatted(s1), *t2 = cJSON_PrintUnformatted(s2);
        CHECK(t1 && t2 && strcmp(t1, t2) == 0);
        if (t1 && t2 && strcmp(t1, t2) != 0)
            fprintf(stderr, "  live:   %s\n  replay: %s\n", t1, t2);
        free(t1);
        free(t2);
        cJSON_Delete(s1);
        cJSON_Delete(s2);
    }
    /* the public pages: commitments (history, ratings, comments), programmes */
    cJSON *snap = forum_snapshot(st, &moderator, code);
    int64_t program_id = json_int(cJSON_GetObjectItem(snap, "session"), "program_id");
    cJSON_Delete(snap);
    forum_board_filter today = {.today = "2024-06-01"};
    const char *bad;
    char *pages[2][3];
    forum_state *states[2] = {st, fresh};
    for (int k = 0; k < 2; k++) {
        pages[k][0] = forum_public_commitments(states[k], program_id, &today, &bad);
        pages[k][1] = forum_public_program(states[k], program_id, "2024-06-01");
        pages[k][2] = forum_public_programs(states[k]);
    }
    cJSON *board = keep(cJSON_Parse(pages[0][0]));
    const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(board, "commitments"), 0);
    CHECK(array_len(board, "commitments") == 1);
    CHECK(array_len(item, "history") == 2);
    CHECK(json_int(cJSON_GetObjectItem(item, "ratings"), "dissatisfied") == 1);
    CHECK(array_len(item, "comments") == 0); /* dismissed */
    const cJSON *asked = cJSON_GetObjectItem(item, "question");
    CHECK(json_int(cJSON_GetObjectItem(asked, "ratings"), "satisfied") == 1);
    CHECK(json_int(cJSON_GetObjectItem(asked, "ratings"), "dissatisfied") == 1);
    CHECK_STR(json_s(cJSON_GetArrayItem(cJSON_GetObjectItem(asked, "comments"), 0), "text"),
              "clear answer");
    for (int i = 0; i < 3; i++) {
        CHECK(pages[0][i] && pages[1][i]);
        CHECK_STR(pages[0][i], pages[1][i]);
        free(pages[0][i]);
        free(pages[1][i]);
    }
    CHECK(forum_last_seq(st, code) == forum_last_seq(fresh, code));
    CHECK(forum_last_seq(st, "") == forum_last_seq(fresh, ""));
    CHECK_STR(forum_moderator_key_hash(st, code), forum_moderator_key_hash(fresh, code));
    CHECK(forum_viewer_banned(fresh, code, viewer_c.viewer_id));

    /* The replayed state behaves the same: pending counts flush identically, idempotent
     * submits are remembered, undo records survive, ids continue. */
    forum_event *e1 = NULL, *e2 = NULL;
    size_t n1 = 0, n2 = 0;
    forum_env e = env();
    forum_flush_counts(st, &e, &e1, &n1);
    forum_flush_counts(fresh, &e, &e2, &n2);
    CHECK(n1 == 2 && n1 == n2);
    for (size_t i = 0; i < n1 && i < n2; i++) {
        char *t1 = forum_event_payload_text(&e1[i], FORUM_VIEW_STAFF),
             *t2 = forum_event_payload_text(&e2[i], FORUM_VIEW_STAFF);
        CHECK_STR(t1, t2);
        CHECK(e1[i].seq == e2[i].seq);
        free(t1);
        free(t2);
    }
    free_events(e1, n1);
    free_events(e2, n2);

    forum_state *live = st;
    int64_t results[2][3];
    for (int k = 0; k < 2; k++) {
        st = k ? fresh : live;
        results[k][0] = submit_as(&viewer_a, "Live: what about students?", "a2");
        results[k][1] = submit_as(&viewer_b, "Brand new", "b9");
        forum_command c = cmd_of(FORUM_CMD_QUESTION_UNDO);
        results[k][2] = try(&moderator, &c); /* undoes the dismissal */
    }
    st = live;
    CHECK(results[0][0] == results[1][0]);
    CHECK(results[0][1] == results[1][1]);
    CHECK(results[0][2] == FORUM_OK && results[1][2] == FORUM_OK);
    forum_free(fresh);
    teardown();
}

/* A welcome under a byte budget names the most useful questions first and says how many there
 * are: what is on air, then for staff what waits for review, for a viewer its own and the most
 * voted. */
static void budgeted_welcome_names_the_most_useful_questions_first(void)
{
    setup_with(true, true); /* premoderation: viewers' questions wait for review */
    int64_t ids[60];
    for (int i = 0; i < 60; i++) {
        char text[64];
        snprintf(text, sizeof text, "Staff question %d", i);
        ids[i] = submit_as(&moderator, text, NULL);
    }
    int64_t held = submit_as(&viewer_b, "Waiting for review", NULL);
    int64_t own = submit_as(&viewer_c, "My own pending question", NULL);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, ids[7]) == FORUM_OK);
    CHECK(vote(&viewer_a, ids[3], true) == FORUM_OK);
    CHECK(vote(&viewer_b, ids[3], true) == FORUM_OK);
    CHECK(vote(&viewer_a, ids[4], true) == FORUM_OK);
    /* staff: on air, then the pending ones (oldest first) */
    char *text = forum_snapshot_text(st, &moderator, code, 2000, now_ms);
    cJSON *snap = keep(cJSON_Parse(text));
    free(text);
    const cJSON *qs = cJSON_GetObjectItem(snap, "questions");
    CHECK(json_int(cJSON_GetArrayItem(qs, 0), "id") == ids[7]);
    CHECK(json_int(cJSON_GetArrayItem(qs, 1), "id") == held);
    CHECK(json_int(cJSON_GetArrayItem(qs, 2), "id") == own);
    CHECK(cJSON_GetArraySize(qs) < 62);
    CHECK(json_int(snap, "questions_total") == 62);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(snap, "questions_complete")));
    /* a viewer: on air, its own, the most voted; never another viewer's pending question */
    text = forum_snapshot_text(st, &viewer_c, code, 2000, now_ms);
    snap = keep(cJSON_Parse(text));
    free(text);
    qs = cJSON_GetObjectItem(snap, "questions");
    CHECK(json_int(cJSON_GetArrayItem(qs, 0), "id") == ids[7]);
    CHECK(json_int(cJSON_GetArrayItem(qs, 1), "id") == own);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(qs, 1), "mine")));
    CHECK(json_int(cJSON_GetArrayItem(qs, 2), "id") == ids[3]);
    CHECK(json_int(cJSON_GetArrayItem(qs, 3), "id") == ids[4]);
    const cJSON *it;
    cJSON_ArrayForEach(it, qs) CHECK(json_int(it, "id") != held);
    CHECK(json_int(snap, "questions_total") == 61);
    /* without a budget: all of them, in the order they came */
    text = forum_snapshot_text(st, &viewer_c, code, 0, now_ms);
    snap = keep(cJSON_Parse(text));
    free(text);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(snap, "questions")) == 61);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(snap, "questions_complete")));
    teardown();
}

static void replay_rejects_unknown_or_malformed_events(void)
{
    setup();
    forum_state *fresh = forum_new(NULL);
    forum_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.session, sizeof ev.session, "%s", code);
    ev.seq = 1;
    CHECK(replay_json(fresh, &ev, "question.published",
                      "{\"question\":{\"id\":1,\"text\":\"x\",\"state\":\"published\"}}") == -1);
    for (size_t i = 0; i < n_log; i++)
        CHECK(forum_replay(fresh, &log_events[i]) == 0);
    const char *bad[][2] = {
        {"question.frobnicated", "{}"},
        {"question.submitted", "{\"question\":\"nope\"}"},
        {"question.submitted", "{\"question\":{\"id\":-3,\"text\":\"x\",\"state\":\"pending\"}}"},
        {"question.updated", "{\"question\":{\"id\":12345,\"text\":\"x\",\"state\":\"pending\"}}"},
        {"question.submitted", "{\"question\":{\"id\":5,\"text\":\"x\",\"state\":\"weird\"}}"},
        {"vote.added", "{\"question_id\":\"one\"}"},
        {"vote.added", "{\"question_id\":77}"},
        {"votes.changed", "{\"counts\":[1,2]}"},
        {"onair.changed", "{\"question_id\":\"x\"}"},
        {"queue.changed", "{\"up_next\":[1.5]}"},
        {"panel.changed", "{\"panel\":7}"},
        {"poll.changed", "{\"poll\":{\"id\":3,\"title\":\"t\",\"state\":\"open\",\"options\":7}}"},
        {"poll.voted", "{\"poll_id\":3,\"option_ids\":[1]}"},
        {"session.changed", "{\"session\":{\"code\":\"OTHER1\"}}"},
        {"viewer.banned", "{}"},
        {"question.merged", "{\"question\":{\"id\":1,\"text\":\"x\",\"state\":\"dismissed\"}}"},
        {"action.changed", "{\"action\":{\"id\":1,\"session\":\"NOSUCH\",\"text\":\"t\",\"status\":\"open\"}}"},
        {"viewer.erased", "{\"viewer_id\":\"\"}"},
        {"question.published", "not json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(ev.subject, sizeof ev.subject, "v00000000000000aa");
        ev.seq = 1000 + (int64_t)i;
        int rc = replay_json(fresh, &ev, bad[i][0], bad[i][1]);
        CHECK(rc == -1);
        if (rc != -1)
            fprintf(stderr, "  accepted %s %s\n", bad[i][0], bad[i][1]);
    }
    /* Still intact after the rejects. */
    cJSON *s1 = forum_snapshot(st, &moderator, code), *s2 = forum_snapshot(fresh, &moderator, code);
    char *t1 = cJSON_PrintUnformatted(s1), *t2 = cJSON_PrintUnformatted(s2);
    CHECK_STR(t1, t2);
    free(t1);
    free(t2);
    cJSON_Delete(s1);
    cJSON_Delete(s2);
    forum_free(fresh);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Scale                                                                                      */

static void handles_many_viewers_and_votes(void)
{
    setup();
    enum { QUESTIONS = 2000, VIEWERS = 20000, VOTES_EACH = 5 };
    int64_t first = 0;
    for (int i = 0; i < QUESTIONS; i++) {
        char id[FORUM_VIEWER_ID_MAX], text[32];
        snprintf(id, sizeof id, "v%016d", i);
        snprintf(text, sizeof text, "Question %d", i);
        forum_actor v = make_viewer(id, NULL);
        int64_t q = submit_as(&v, text, NULL);
        if (!first)
            first = q;
    }
    long ok = 0;
    for (int i = 0; i < VIEWERS; i++) {
        char id[FORUM_VIEWER_ID_MAX];
        snprintf(id, sizeof id, "w%016d", i);
        forum_actor v = make_viewer(id, NULL);
        for (int k = 0; k < VOTES_EACH; k++) {
            forum_command c = cmd_q(FORUM_CMD_VOTE_ADD, first + (i * 7 + k * 13) % QUESTIONS);
            forum_env e = env();
            forum_result r = forum_apply(st, &v, &c, &e); /* not logged: keep it fast */
            ok += r.err == FORUM_OK;
            forum_result_free(&r);
        }
    }
    CHECK(ok == (long)VIEWERS * VOTES_EACH);
    forum_event *evs = NULL;
    size_t n = 0;
    forum_env e = env();
    forum_flush_counts(st, &e, &evs, &n);
    CHECK(n == 1);
    long total = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(payload_of(&evs[0]), "counts")) total +=
        (long)it->valuedouble;
    CHECK(total == (long)VIEWERS * VOTES_EACH);
    free_events(evs, n);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* Archive and outcomes: action items, carry-over, erasure, peak audience                     */

/* A second session of the programme of `code`, scheduled at `when`; its code into out. */
static void create_sibling_session(int64_t when, char *out)
{
    cJSON *snap = forum_snapshot(st, &moderator, code);
    int64_t program_id = json_int(cJSON_GetObjectItem(snap, "session"), "program_id");
    cJSON_Delete(snap);
    static char *panel_names[] = {"Bob Li", "Dana Wu"};
    forum_panelist_in panel[2] = {{panel_names[0], NULL, NULL}, {panel_names[1], NULL, NULL}};
    forum_command c = cmd_of(FORUM_CMD_SESSION_CREATE);
    c.program_id = program_id;
    c.title = "Housing costs, part 2";
    c.has_scheduled_at = true;
    c.scheduled_at = when;
    c.has_panelists = true;
    c.panelists = panel;
    c.n_panelists = 2;
    forum_result r = run(&studio, &c);
    CHECK(r.err == FORUM_OK);
    snprintf(out, FORUM_CODE_MAX, "%s",
             json_s(cJSON_GetObjectItem(ack_of(&r), "session"), "code"));
    forum_result_free(&r);
}

static int64_t create_action(const forum_actor *a, int64_t qid, const char *text,
                             const char *owner, const char *due)
{
    forum_command c = cmd_of(FORUM_CMD_ACTION_CREATE);
    c.text = (char *)text;
    c.has_question_id = qid > 0;
    c.question_id = qid;
    c.has_owner = owner != NULL;
    c.owner = (char *)owner;
    c.has_due = due != NULL;
    c.due = (char *)due;
    forum_result r = run(a, &c);
    int64_t id = r.err ? -(int64_t)r.err : json_int(cJSON_GetObjectItem(ack_of(&r), "action"), "id");
    if (r.err == FORUM_OK) {
        CHECK(r.n_events == 1);
        CHECK_STR(kind_of(&r.events[0]), "action.changed");
        CHECK(r.events[0].audience == FORUM_AUD_STAFF);
    }
    forum_result_free(&r);
    return id;
}

static size_t array_len(const cJSON *snap, const char *key)
{
    const cJSON *a = cJSON_GetObjectItem(snap, key);
    return cJSON_IsArray(a) ? (size_t)cJSON_GetArraySize(a) : (size_t)-1;
}

static void action_items_are_staff_only_and_linked_to_questions(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "When will the rent cap come?", NULL);
    int64_t a = create_action(&moderator, q, "Publish the rent cap draft", "Housing office",
                              "2024-06-30");
    CHECK(a > 0);
    CHECK(create_action(&viewer_a, 0, "Mine", NULL, NULL) == -(int64_t)FORUM_E_FORBIDDEN);
    CHECK(create_action(&moderator, 9999, "Dangling", NULL, NULL) ==
          -(int64_t)FORUM_E_NOT_FOUND);
    cJSON *snap = snapshot_of(&moderator);
    const cJSON *act0 = cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "actions"), 0);
    CHECK(array_len(snap, "actions") == 1);
    CHECK_STR(json_s(act0, "text"), "Publish the rent cap draft");
    CHECK_STR(json_s(act0, "owner"), "Housing office");
    CHECK_STR(json_s(act0, "due"), "2024-06-30");
    CHECK_STR(json_s(act0, "status"), "open");
    CHECK(json_int(act0, "question_id") == q);
    CHECK_STR(json_s(act0, "session"), code);
    cJSON_Delete(snap);
    snap = snapshot_of(&viewer_a);
    CHECK(cJSON_GetObjectItem(snap, "actions") == NULL);
    CHECK(cJSON_GetObjectItem(snap, "open_actions") == NULL);
    cJSON_Delete(snap);

    forum_command c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = a;
    c.has_status = true;
    c.status = FORUM_ACTION_IN_PROGRESS;
    c.has_owner = true;
    c.owner = NULL; /* cleared */
    forum_result r = run(&producer, &c);
    CHECK(r.err == FORUM_OK);
    CHECK_STR(json_s(cJSON_GetObjectItem(ack_of(&r), "action"), "status"), "in_progress");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(ack_of(&r), "action"), "owner")));
    CHECK_STR(json_s(cJSON_GetObjectItem(ack_of(&r), "action"), "text"), "Publish the rent cap draft");
    forum_result_free(&r);
    c.action_id = 4242;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "action_id"));
    teardown();
}

static void open_commitments_reach_the_next_session(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Rent cap?", NULL);
    int64_t a1 = create_action(&moderator, q, "Draft the rent cap", NULL, NULL);
    int64_t a2 = create_action(&moderator, 0, "Visit the estate", "Bob Li", NULL);
    forum_command c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = a2;
    c.has_status = true;
    c.status = FORUM_ACTION_DONE;
    CHECK(try(&moderator, &c) == FORUM_OK);

    char next[FORUM_CODE_MAX];
    create_sibling_session(now_ms + 7 * 86400000LL, next);
    forum_actor next_mod = make_staff(FORUM_ROLE_MODERATOR, next, "Mia");
    cJSON *snap = forum_snapshot(st, &next_mod, next);
    CHECK(array_len(snap, "actions") == 0);
    CHECK(array_len(snap, "open_actions") == 1); /* the done one is not listed */
    CHECK(json_int(cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "open_actions"), 0), "id") ==
          a1);
    cJSON_Delete(snap);
    /* The earlier session does not list the later one's commitments. */
    int64_t a3 = create_action(&next_mod, 0, "Report back", NULL, NULL);
    CHECK(a3 > 0);
    snap = snapshot_of(&moderator);
    CHECK(array_len(snap, "open_actions") == 0);
    cJSON_Delete(snap);

    /* The next show reports on the last one's commitment: the update goes to its own log. */
    c.action_id = a1;
    c.status = FORUM_ACTION_DONE;
    forum_result r = run(&next_mod, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(r.events[0].session, next);
    CHECK_STR(json_s(cJSON_GetObjectItem(payload_of(&r.events[0]), "action"), "session"), code);
    forum_result_free(&r);
    snap = forum_snapshot(st, &next_mod, next);
    CHECK(array_len(snap, "open_actions") == 0);
    cJSON_Delete(snap);
    /* ...but an earlier session cannot touch a later one's. */
    c.action_id = a3;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "action_id"));

    forum_state *fresh = replay_log();
    cJSON *s1 = forum_snapshot(st, &next_mod, next), *s2 = forum_snapshot(fresh, &next_mod, next);
    char *t1 = cJSON_PrintUnformatted(s1), *t2 = cJSON_PrintUnformatted(s2);
    CHECK_STR(t1, t2);
    free(t1);
    free(t2);
    cJSON_Delete(s1);
    cJSON_Delete(s2);
    forum_free(fresh);
    teardown();
}

static forum_result carry(const char *from, const char *to)
{
    forum_command c = cmd_of(FORUM_CMD_SESSION_CARRY_OVER);
    c.from_session = (char *)from;
    c.to_session = (char *)to;
    return run(&studio, &c);
}

static void carry_over_copies_unanswered_public_questions_once(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Is Bob for the cap?";
    c.has_to = true;
    c.to = 2; /* Bob Li */
    forum_result r = run(&viewer_a, &c);
    int64_t q1 = json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);
    int64_t answered = submit_as(&viewer_b, "Answered one", NULL);
    int64_t dismissed = submit_as(&viewer_b, "Dismissed one", NULL);
    CHECK(vote(&viewer_b, q1, true) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_ANSWERED, answered);
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, dismissed) == FORUM_OK);
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Follow-up on the cap";
    c.parent_id = q1;
    r = run(&viewer_c, &c);
    int64_t follow = json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);

    char next[FORUM_CODE_MAX];
    create_sibling_session(now_ms + 7 * 86400000LL, next);
    r = carry(code, next);
    CHECK(r.err == FORUM_OK);
    CHECK(r.n_events == 4); /* submitted + published, twice */
    for (size_t i = 0; i < r.n_events; i++)
        CHECK_STR(r.events[i].session, next);
    const cJSON *ids = cJSON_GetObjectItem(ack_of(&r), "question_ids");
    CHECK(cJSON_GetArraySize(ids) == 2);
    int64_t n1 = (int64_t)cJSON_GetArrayItem(ids, 0)->valuedouble;
    int64_t n2 = (int64_t)cJSON_GetArrayItem(ids, 1)->valuedouble;
    forum_result_free(&r);

    forum_actor next_mod = make_staff(FORUM_ROLE_MODERATOR, next, "Mia");
    cJSON *snap = forum_snapshot(st, &next_mod, next);
    const cJSON *c1 = find_q(snap, n1), *c2 = find_q(snap, n2);
    CHECK_STR(json_s(c1, "text"), "Is Bob for the cap?");
    CHECK_STR(json_s(c1, "source"), "carried");
    CHECK_STR(json_s(c1, "carried_from"), code);
    CHECK(json_int(c1, "carried_question_id") == q1);
    CHECK_STR(json_s(c1, "phase"), "pre");
    CHECK_STR(json_s(c1, "state"), "published");
    CHECK(json_int(c1, "votes") == 0);
    CHECK_STR(json_s(c1, "author"), "Ann");
    CHECK_STR(json_s(c1, "viewer_id"), viewer_a.viewer_id);
    CHECK(json_int(c1, "to") == 1); /* Bob Li is panelist 1 of the next session */
    CHECK(json_int(c2, "parent_id") == n1);
    CHECK(json_int(c2, "carried_question_id") == follow);
    cJSON_Delete(snap);

    /* Again: nothing new. */
    r = carry(code, next);
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "question_ids")) == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "already_carried")) == 2);
    forum_result_free(&r);

    /* Only forwards, only within the programme, never into an archived session. */
    r = carry(next, code);
    CHECK(r.err == FORUM_E_CONFLICT);
    forum_result_free(&r);
    r = carry(code, code);
    CHECK(r.err == FORUM_E_BAD_REQUEST);
    forum_result_free(&r);
    r = carry(code, "NOSUCH");
    CHECK(r.err == FORUM_E_NOT_FOUND);
    forum_result_free(&r);
    char other[FORUM_CODE_MAX];
    create_session(false, other);
    r = carry(code, other);
    CHECK(r.err == FORUM_E_CONFLICT);
    forum_result_free(&r);
    forum_actor next_prod = make_staff(FORUM_ROLE_PRODUCER, next, NULL);
    forum_cmd_type steps[] = {FORUM_CMD_SESSION_START, FORUM_CMD_SESSION_END,
                              FORUM_CMD_SESSION_ARCHIVE};
    for (size_t i = 0; i < 3; i++) {
        c = cmd_of(steps[i]);
        CHECK(try(&next_prod, &c) == FORUM_OK);
    }
    r = carry(code, next);
    CHECK(r.err == FORUM_E_SESSION_CLOSED);
    forum_result_free(&r);
    c = cmd_of(FORUM_CMD_SESSION_CARRY_OVER);
    c.from_session = code;
    c.to_session = next;
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, NULL));
    teardown();
}

static void archived_session_refuses_outcome_writes_but_not_erasure(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Question", NULL);
    int64_t a = create_action(&moderator, q, "Do it", NULL, NULL);
    forum_cmd_type steps[] = {FORUM_CMD_SESSION_START, FORUM_CMD_SESSION_END,
                              FORUM_CMD_SESSION_ARCHIVE};
    for (size_t i = 0; i < 3; i++) {
        forum_command c = cmd_of(steps[i]);
        CHECK(try(&producer, &c) == FORUM_OK);
    }
    forum_command c = cmd_of(FORUM_CMD_ACTION_CREATE);
    c.text = "Another";
    CHECK(fails_with(&moderator, &c, FORUM_E_SESSION_CLOSED, NULL));
    c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = a;
    c.has_status = true;
    c.status = FORUM_ACTION_DONE;
    CHECK(fails_with(&moderator, &c, FORUM_E_SESSION_CLOSED, NULL));
    c.session = NULL;
    CHECK(fails_with(&studio, &c, FORUM_E_SESSION_CLOSED, NULL)); /* defaults to its session */
    c = cmd_of(FORUM_CMD_VIEWER_ERASE);
    c.viewer_id = viewer_a.viewer_id;
    CHECK(try(&producer, &c) == FORUM_OK);
    teardown();
}

/* An archived session's commitments stay what was promised: a later show cannot rewrite them;
 * its follow-up is a new item that points back (follows_action_id) and carries the new status. */
static void archived_commitments_are_followed_up_by_new_items(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "When will the lift be installed?", NULL);
    int64_t a = create_action(&moderator, q, "Install the lift by June", "Housing office", NULL);
    forum_cmd_type steps[] = {FORUM_CMD_SESSION_START, FORUM_CMD_SESSION_END,
                              FORUM_CMD_SESSION_ARCHIVE};
    for (size_t i = 0; i < 3; i++) {
        forum_command c = cmd_of(steps[i]);
        CHECK(try(&producer, &c) == FORUM_OK);
    }
    char next[FORUM_CODE_MAX];
    create_sibling_session(now_ms + 7 * 86400000LL, next);
    forum_actor next_mod = make_staff(FORUM_ROLE_MODERATOR, next, "Mia");
    forum_command c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = a;
    c.has_status = true;
    c.status = FORUM_ACTION_DONE;
    c.text = "Install the lift by December";
    size_t before = n_log;
    CHECK(fails_with(&next_mod, &c, FORUM_E_SESSION_CLOSED, "action_id"));
    CHECK(n_log == before);
    /* the open item is listed for the next show until it is followed up */
    cJSON *snap = forum_snapshot(st, &next_mod, next);
    CHECK(array_len(snap, "open_actions") == 1);
    cJSON_Delete(snap);
    c = cmd_of(FORUM_CMD_ACTION_CREATE);
    c.text = "Lift: works start in July";
    c.follows_action_id = a;
    c.has_status = true;
    c.status = FORUM_ACTION_IN_PROGRESS;
    forum_result r = run(&next_mod, &c);
    CHECK(r.err == FORUM_OK);
    const cJSON *made = cJSON_GetObjectItem(ack_of(&r), "action");
    CHECK(json_int(made, "follows_action_id") == a);
    CHECK_STR(json_s(made, "session"), next);
    forum_result_free(&r);
    snap = forum_snapshot(st, &next_mod, next);
    CHECK(array_len(snap, "open_actions") == 0);
    CHECK(array_len(snap, "actions") == 1);
    cJSON_Delete(snap);
    /* the archived record is unchanged */
    snap = snapshot_of(&moderator);
    const cJSON *orig = cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "actions"), 0);
    CHECK_STR(json_s(orig, "text"), "Install the lift by June");
    CHECK_STR(json_s(orig, "status"), "open");
    cJSON_Delete(snap);
    /* a follow-up must point at an earlier session's item of the same programme */
    c.follows_action_id = 9999;
    CHECK(fails_with(&next_mod, &c, FORUM_E_NOT_FOUND, "follows_action_id"));
    teardown();
}

static void viewer_erase_removes_name_and_device_id_but_keeps_questions(void)
{
    setup();
    int64_t q1 = submit_as(&viewer_a, "First from Ann", NULL);
    int64_t q2 = submit_as(&viewer_a, "Second from Ann", NULL);
    int64_t qb = submit_as(&viewer_b, "From Ben", NULL);
    CHECK(vote(&viewer_b, q1, true) == FORUM_OK);
    CHECK(vote(&viewer_a, qb, true) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, q2) == FORUM_OK);
    forum_command ban = cmd_of(FORUM_CMD_VIEWER_BAN);
    ban.viewer_id = viewer_a.viewer_id;
    CHECK(try(&moderator, &ban) == FORUM_OK);

    forum_command c = cmd_of(FORUM_CMD_VIEWER_ERASE);
    c.viewer_id = viewer_a.viewer_id;
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, NULL));
    forum_result r = run(&producer, &c);
    CHECK(r.err == FORUM_OK);
    const char *placeholder = json_s(ack_of(&r), "placeholder");
    CHECK(placeholder && placeholder[0] == 'x' && strlen(placeholder) == 17);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "question_ids")) == 2);
    CHECK(r.n_events == 2); /* viewer.erased (staff) + the public question re-sent */
    CHECK_STR(kind_of(&r.events[0]), "viewer.erased");
    CHECK(r.events[0].audience == FORUM_AUD_STAFF);
    CHECK_STR(r.events[0].erased_viewer_id, viewer_a.viewer_id);
    char *payload = cJSON_PrintUnformatted(payload_of(&r.events[0]));
    CHECK(strstr(payload, viewer_a.viewer_id) == NULL && strstr(payload, "\"author\":\"Ann\"") == NULL);
    free(payload);
    CHECK_STR(kind_of(&r.events[1]), "question.updated");
    CHECK(r.events[1].audience == FORUM_AUD_PUBLIC);
    char ph[FORUM_VIEWER_ID_MAX];
    snprintf(ph, sizeof ph, "%s", placeholder);
    forum_result_free(&r);

    cJSON *snap = snapshot_of(&moderator);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(find_q(snap, q1), "author")));
    CHECK_STR(json_s(find_q(snap, q1), "viewer_id"), ph);
    CHECK_STR(json_s(find_q(snap, q1), "text"), "First from Ann");
    CHECK_STR(json_s(find_q(snap, q2), "state"), "dismissed");
    CHECK_STR(json_s(find_q(snap, qb), "viewer_id"), viewer_b.viewer_id);
    cJSON_Delete(snap);
    CHECK(votes_of(q1) == 1);
    CHECK(votes_of(qb) == 1);
    CHECK(!forum_viewer_banned(st, code, viewer_a.viewer_id)); /* the ban went with the id */
    CHECK(forum_viewer_banned(st, code, ph));
    /* The device no longer owns those questions... */
    snap = snapshot_of(&viewer_a);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(find_q(snap, q1), "mine")));
    CHECK(find_q(snap, q2) == NULL);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(snap, "my_votes")) == 0);
    cJSON_Delete(snap);
    c = cmd_q(FORUM_CMD_QUESTION_WITHDRAW, q1);
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    /* ...and the erased vote still counts once: voting again adds a new vote. */
    CHECK(vote(&viewer_a, qb, true) == FORUM_OK);
    CHECK(votes_of(qb) == 2);
    teardown();
}

static void peak_viewers_only_grows_while_open_or_live(void)
{
    setup_with(false, false); /* draft */
    forum_event *evs = NULL;
    size_t n = 0;
    forum_env e = env();
    CHECK(forum_note_viewers(st, code, 5, &e, &evs, &n) == 0);
    forum_command c = cmd_of(FORUM_CMD_SESSION_OPEN);
    CHECK(try(&producer, &c) == FORUM_OK);
    CHECK(forum_note_viewers(st, code, 5, &e, &evs, &n) == 1);
    CHECK(forum_note_viewers(st, code, 3, &e, &evs, &n) == 0);
    CHECK(forum_note_viewers(st, code, 5, &e, &evs, &n) == 0);
    CHECK(forum_note_viewers(st, code, 9, &e, &evs, &n) == 1);
    CHECK(n == 2);
    CHECK_STR(kind_of(&evs[1]), "viewers.peak");
    CHECK(evs[1].audience == FORUM_AUD_STAFF);
    CHECK(json_int(payload_of(&evs[1]), "viewers") == 9);
    CHECK(forum_peak_viewers(st, code) == 9);
    for (size_t i = 0; i < n; i++)
        log_copy(&evs[i]);
    forum_state *fresh = replay_log();
    CHECK(forum_peak_viewers(fresh, code) == 9);
    forum_free(fresh);
    free_events(evs, n);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* The public commitment board and ratings                                                    */

static int64_t program_of_session(void)
{
    cJSON *snap = forum_snapshot(st, &moderator, code);
    int64_t id = json_int(cJSON_GetObjectItem(snap, "session"), "program_id");
    cJSON_Delete(snap);
    return id;
}

/* The public board of the session's programme, parsed (kept until teardown). */
static cJSON *public_board(const char *today)
{
    forum_board_filter f = {.today = today};
    const char *bad = NULL;
    char *text = forum_public_commitments(st, program_of_session(), &f, &bad);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    return keep(o);
}

static forum_err update_action(const forum_actor *a, int64_t id, forum_command c)
{
    c.type = FORUM_CMD_ACTION_UPDATE;
    c.action_id = id;
    return try(a, &c);
}

static void commitments_become_public_when_published_or_when_the_session_ends(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "When is the lift coming?", NULL);
    int64_t a = create_action(&moderator, q, "Install the lift", "Housing office", NULL);
    forum_command c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.has_note = true;
    c.note = "ask Mr Wu, 555-0100";
    CHECK(update_action(&moderator, a, c) == FORUM_OK);
    CHECK(array_len(public_board(NULL), "commitments") == 0);
    /* a moderator may not publish */
    c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = a;
    c.has_publication = true;
    c.publication = FORUM_PUB_PUBLIC;
    CHECK(fails_with(&moderator, &c, FORUM_E_FORBIDDEN, "publication"));
    /* the producer's publication makes it public at once: a public event without the note */
    forum_result r = run(&producer, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC);
    char *pub = forum_event_payload_text(&r.events[0], FORUM_VIEW_PUBLIC);
    CHECK(pub && !strstr(pub, "555-0100") && !strstr(pub, "publication") &&
          strstr(pub, "\"published\":true"));
    free(pub);
    forum_result_free(&r);
    CHECK(array_len(public_board(NULL), "commitments") == 1);
    /* retracting it: the public learns only that */
    c.publication = FORUM_PUB_STAFF;
    c.text = "Install the lift (wording under review)";
    r = run(&producer, &c);
    CHECK(r.err == FORUM_OK && r.events[0].audience == FORUM_AUD_PUBLIC);
    pub = forum_event_payload_text(&r.events[0], FORUM_VIEW_PUBLIC);
    char expect[128];
    snprintf(expect, sizeof expect, "{\"action\":{\"id\":%lld,\"session\":\"%s\",\"published\":false}}",
             (long long)a, code);
    CHECK_STR(pub, expect);
    free(pub);
    forum_result_free(&r);
    CHECK(array_len(public_board(NULL), "commitments") == 0);
    /* an auto item becomes public when its session ends; a staff one never */
    int64_t b = create_action(&moderator, 0, "Visit the estate", NULL, NULL);
    forum_cmd_type steps[] = {FORUM_CMD_SESSION_START, FORUM_CMD_SESSION_END};
    for (size_t i = 0; i < 2; i++) {
        forum_command step = cmd_of(steps[i]);
        CHECK(try(&producer, &step) == FORUM_OK);
    }
    cJSON *board = public_board(NULL);
    CHECK(array_len(board, "commitments") == 1);
    CHECK(json_int(cJSON_GetArrayItem(cJSON_GetObjectItem(board, "commitments"), 0), "id") == b);
    char *text = cJSON_PrintUnformatted(board);
    CHECK(text && !strstr(text, "555-0100") && !strstr(text, "wording under review") &&
          !strstr(text, "v00000000000000aa"));
    free(text);
    /* once ended, a new commitment is public from the start */
    c = cmd_of(FORUM_CMD_ACTION_CREATE);
    c.text = "Report back next month";
    r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.events[0].audience == FORUM_AUD_PUBLIC);
    forum_result_free(&r);
    teardown();
}

static void withdrawn_needs_a_reason_and_history_records_every_change(void)
{
    setup();
    int64_t a = create_action(&moderator, 0, "Open a night bus line", "Transport office",
                              "2024-03-01");
    forum_command c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = a;
    c.has_status = true;
    c.status = FORUM_ACTION_WITHDRAWN;
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "reason"));
    now_ms += 86400000;
    c.status = FORUM_ACTION_IN_PROGRESS;
    c.has_reason = true;
    c.reason = "route planned";
    CHECK(try(&moderator, &c) == FORUM_OK);
    now_ms += 86400000;
    c.has_reason = false;
    c.has_owner = true;
    c.owner = "District office"; /* no status change: no history entry */
    CHECK(try(&moderator, &c) == FORUM_OK);
    now_ms += 86400000;
    c.has_owner = false;
    c.status = FORUM_ACTION_WITHDRAWN;
    c.has_reason = true;
    c.reason = "the road is too narrow";
    CHECK(try(&moderator, &c) == FORUM_OK);
    c.has_promised_by = true;
    c.promised_by = 7; /* not on the panel */
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "promised_by"));
    c = cmd_of(FORUM_CMD_ACTION_UPDATE);
    c.action_id = a;
    c.has_publication = true;
    c.publication = FORUM_PUB_PUBLIC;
    CHECK(try(&producer, &c) == FORUM_OK);
    cJSON *board = public_board("2024-06-01");
    const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(board, "commitments"), 0);
    const cJSON *hist = cJSON_GetObjectItem(item, "history");
    CHECK(cJSON_GetArraySize(hist) == 3);
    CHECK_STR(json_s(cJSON_GetArrayItem(hist, 0), "status"), "open");
    CHECK_STR(json_s(cJSON_GetArrayItem(hist, 1), "status"), "in_progress");
    CHECK_STR(json_s(cJSON_GetArrayItem(hist, 1), "reason"), "route planned");
    CHECK_STR(json_s(cJSON_GetArrayItem(hist, 2), "status"), "withdrawn");
    CHECK(json_int(cJSON_GetArrayItem(hist, 2), "at") - json_int(cJSON_GetArrayItem(hist, 0), "at") ==
          3 * 86400000LL);
    CHECK_STR(json_s(item, "reason"), "the road is too narrow");
    CHECK_STR(json_s(item, "owner"), "District office");
    /* withdrawn is not overdue, whatever the date */
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(item, "overdue")));
    CHECK(json_int(cJSON_GetObjectItem(board, "counts"), "withdrawn") == 1);
    teardown();
}

static forum_err rate(const forum_actor *a, int64_t qid, int64_t aid, int value,
                      const char *comment)
{
    forum_command c = cmd_of(FORUM_CMD_RATING_SET);
    c.question_id = qid;
    c.action_id = aid;
    c.has_rating_value = true;
    c.rating_value = value;
    c.has_comment = comment != NULL;
    c.comment = (char *)comment;
    return try(a, &c);
}

static void ratings_are_one_per_viewer_and_item_and_reach_everyone_as_counts(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Why is the bus late?", NULL);
    CHECK(rate(&viewer_b, q, 0, FORUM_RATING_SATISFIED, NULL) == FORUM_E_CONFLICT);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_ANSWERED, q) == FORUM_OK);
    forum_command c = cmd_of(FORUM_CMD_RATING_SET);
    c.question_id = q;
    c.has_rating_value = true;
    c.rating_value = FORUM_RATING_SATISFIED;
    forum_result r = run(&viewer_b, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "rating.changed");
    CHECK(r.events[0].audience == FORUM_AUD_STAFF_AND_SUBJECT);
    CHECK_STR(r.events[0].subject, viewer_b.viewer_id);
    CHECK(!cJSON_GetObjectItem(cJSON_GetObjectItem(ack_of(&r), "rating"), "viewer_id"));
    forum_result_free(&r);
    CHECK(forum_rating_is_repeat(st, &viewer_b, &c));
    r = run(&viewer_b, &c); /* the same again: acked, nothing changes */
    CHECK(r.err == FORUM_OK && r.n_events == 0 && r.ack.len > 0);
    forum_result_free(&r);
    CHECK(rate(&viewer_a, q, 0, FORUM_RATING_DISSATISFIED, NULL) == FORUM_OK);
    CHECK(rate(&viewer_b, q, 0, FORUM_RATING_BASIC, NULL) == FORUM_OK); /* changed */
    CHECK(rate(&moderator, q, 0, FORUM_RATING_BASIC, NULL) == FORUM_E_FORBIDDEN);
    forum_event *evs;
    size_t n = flush(&evs);
    CHECK(n == 1);
    CHECK_STR(kind_of(&evs[0]), "ratings.changed");
    CHECK(evs[0].audience == FORUM_AUD_PUBLIC);
    const cJSON *counts = cJSON_GetArrayItem(cJSON_GetObjectItem(payload_of(&evs[0]), "ratings"), 0);
    CHECK(json_int(counts, "question_id") == q);
    CHECK(json_int(counts, "satisfied") == 0);
    CHECK(json_int(counts, "basically_satisfied") == 1);
    CHECK(json_int(counts, "dissatisfied") == 1);
    free_events(evs, n);
    CHECK(flush(&evs) == 0);
    free(evs);
    cJSON *snap = snapshot_of(&viewer_b);
    CHECK(array_len(snap, "my_ratings") == 1);
    CHECK(array_len(snap, "rating_counts") == 1);
    cJSON_Delete(snap);
    teardown();
}

static void rating_comments_are_moderated_like_questions(void)
{
    setup(); /* blocked words: 广告, spam */
    int64_t q = submit_as(&viewer_a, "Will the park reopen?", NULL);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_ANSWERED, q) == FORUM_OK);
    CHECK(rate(&viewer_a, q, 0, FORUM_RATING_SATISFIED, "good answer") == FORUM_OK);
    CHECK(rate(&viewer_b, q, 0, FORUM_RATING_DISSATISFIED, "buy my 广告 now") == FORUM_OK);
    cJSON *snap = snapshot_of(&moderator);
    const cJSON *list = cJSON_GetObjectItem(snap, "ratings");
    CHECK(cJSON_GetArraySize(list) == 2);
    const cJSON *first = cJSON_GetArrayItem(list, 0); /* pending first */
    CHECK_STR(json_s(first, "comment_state"), "pending");
    CHECK_STR(json_s(first, "viewer_id"), viewer_b.viewer_id);
    int64_t held = json_int(first, "id");
    cJSON_Delete(snap);
    forum_command c = cmd_of(FORUM_CMD_RATING_APPROVE);
    c.rating_id = held;
    CHECK(try(&viewer_a, &c) == FORUM_E_FORBIDDEN);
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, "rating_id"));
    c.rating_id = 4242;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "rating_id"));
    /* a changed comment is moderated again; the value alone keeps the comment's state */
    CHECK(rate(&viewer_b, q, 0, FORUM_RATING_BASIC, NULL) == FORUM_OK);
    snap = snapshot_of(&moderator);
    CHECK_STR(json_s(cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "ratings"), 0), "comment_state"),
              "published");
    cJSON_Delete(snap);
    CHECK(rate(&viewer_b, q, 0, FORUM_RATING_BASIC, "more spam here") == FORUM_OK);
    snap = snapshot_of(&moderator);
    CHECK_STR(json_s(cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "ratings"), 0), "comment_state"),
              "pending");
    cJSON_Delete(snap);
    teardown();
}

/* ------------------------------------------------------------------------------------------ */
/* What a show's people trip over: restore, reasons, merges, follow-ups, names, abuse, carry  */

/* The question id of the ack's "question" (or -err). */
static int64_t run_for_id(const forum_actor *a, forum_command *c)
{
    forum_result r = run(a, c);
    int64_t id = r.err ? -(int64_t)r.err : json_int(cJSON_GetObjectItem(ack_of(&r), "question"), "id");
    forum_result_free(&r);
    return id;
}

/* Question id as a's snapshot shows it (kept until teardown), or NULL. */
static const cJSON *seen_by(const forum_actor *a, int64_t id)
{
    return find_q(keep(snapshot_of(a)), id);
}

static void restore_brings_a_dismissed_question_back(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Dismissed by mistake", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_RESTORE, q);
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, "question_id")); /* not dismissed */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, q) == FORUM_OK);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_STAR, submit_as(&viewer_b, "Other", NULL)) ==
          FORUM_OK); /* another action: undo no longer reaches the dismissal */
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    forum_result r = run(&moderator2, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "question.published");
    CHECK(r.events[0].audience == FORUM_AUD_PUBLIC);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(payload_of(&r.events[0]), "restored")));
    CHECK_STR(r.events[0].actor, "moderator:Max");
    forum_result_free(&r);
    CHECK_STR(state_of(q), "published");
    CHECK(fails_with(&moderator2, &c, FORUM_E_CONFLICT, "question_id"));

    /* Back to review instead: staff and the asker hear of it, nobody else. */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, q) == FORUM_OK);
    c.state = "pending";
    r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 1);
    CHECK_STR(kind_of(&r.events[0]), "question.updated");
    CHECK(r.events[0].audience == FORUM_AUD_STAFF_AND_SUBJECT);
    forum_result_free(&r);
    CHECK_STR(state_of(q), "pending");
    c.state = "answered";
    CHECK(act(&moderator, FORUM_CMD_QUESTION_DISMISS, q) == FORUM_OK);
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "state"));

    /* A withdrawn question is its author's choice: not restorable. */
    int64_t w = submit_as(&viewer_b, "Never mind", NULL);
    CHECK(act(&viewer_b, FORUM_CMD_QUESTION_WITHDRAW, w) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_RESTORE, w);
    CHECK(fails_with(&moderator, &c, FORUM_E_CONFLICT, "question_id"));
    teardown();
}

static void undo_restore_dismisses_it_again_with_its_reason(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Restored then undone", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_DISMISS, q);
    c.reason = "Off topic";
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(act(&moderator2, FORUM_CMD_QUESTION_RESTORE, q) == FORUM_OK);
    CHECK(json_s(seen_by(&moderator, q), "dismiss_reason") == NULL);
    forum_command u = cmd_of(FORUM_CMD_QUESTION_UNDO);
    forum_result r = run(&moderator2, &u);
    CHECK(r.err == FORUM_OK);
    CHECK_STR(json_s(ack_of(&r), "undone"), "restore");
    forum_result_free(&r);
    CHECK_STR(state_of(q), "dismissed");
    CHECK_STR(json_s(seen_by(&moderator, q), "dismiss_reason"), "Off topic");
    /* The restore and its undo replay to the same state. */
    forum_state *fresh = replay_log();
    cJSON *snap = keep(forum_snapshot(fresh, &moderator, code));
    CHECK_STR(json_s(find_q(snap, q), "dismiss_reason"), "Off topic");
    forum_free(fresh);
    teardown();
}

static void dismiss_reason_stays_with_the_question_for_staff_and_asker(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Please fix the lift", NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_DISMISS, q);
    c.reason = "Already answered last week";
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    /* The event as the public sees it: no dismiss_reason in the question (the old "reason"
     * beside it stays, as before); the asker's copy and staff's carry it. */
    char *pub = forum_event_payload_text(&r.events[0], FORUM_VIEW_PUBLIC);
    char *subj = forum_event_payload_text(&r.events[0], FORUM_VIEW_SUBJECT);
    CHECK(pub && !strstr(pub, "dismiss_reason"));
    CHECK(subj && strstr(subj, "\"dismiss_reason\":\"Already answered last week\""));
    free(pub);
    free(subj);
    forum_result_free(&r);
    CHECK_STR(json_s(seen_by(&moderator, q), "dismiss_reason"), "Already answered last week");
    CHECK_STR(json_s(seen_by(&viewer_a, q), "dismiss_reason"), "Already answered last week");
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK(json_s(seen_by(&moderator, q), "dismiss_reason") == NULL); /* only while dismissed */

    /* A log written before questions kept their reason: the reason beside the question. */
    forum_state *fresh = replay_log();
    forum_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.session, sizeof ev.session, "%s", code);
    ev.seq = forum_last_seq(st, code) + 1;
    char payload[256];
    snprintf(payload, sizeof payload,
             "{\"question\":{\"id\":%lld,\"text\":\"Please fix the lift\",\"state\":\"dismissed\"},"
             "\"reason\":\"Duplicate\"}",
             (long long)q);
    CHECK(replay_json(fresh, &ev, "question.dismissed", payload) == 0);
    cJSON *snap = keep(forum_snapshot(fresh, &moderator, code));
    CHECK_STR(json_s(find_q(snap, q), "dismiss_reason"), "Duplicate");
    forum_free(fresh);
    teardown();
}

static void merge_takes_the_askers_support_to_the_target(void)
{
    setup();
    int64_t target = submit_as(&viewer_a, "Rents too high?", NULL);
    int64_t dup = submit_as(&viewer_b, "Why are rents so high?", NULL);
    CHECK(vote(&viewer_c, dup, true) == FORUM_OK);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_MERGE, dup);
    c.into_id = target;
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    forum_result_free(&r);
    CHECK(votes_of(target) == 2); /* viewer C's vote and the asker's own support */
    cJSON *snap = keep(snapshot_of(&viewer_b));
    char *mine = cJSON_PrintUnformatted(cJSON_GetObjectItem(snap, "my_votes"));
    char expected[32];
    snprintf(expected, sizeof expected, "[%lld]", (long long)target);
    CHECK_STR(mine, expected);
    free(mine);
    const cJSON *merged = find_q(snap, dup);
    CHECK(json_int(merged, "merged_into") == target);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(merged, "mine")));
    /* Undo takes both back. */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK(votes_of(target) == 0);
    CHECK(votes_of(dup) == 1);
    /* A banned asker's support does not move; nor does a staff-entered question have one. */
    int64_t spam = submit_as(&viewer_b, "Rents rents rents", NULL);
    c = cmd_of(FORUM_CMD_VIEWER_BAN);
    c.viewer_id = viewer_b.viewer_id;
    CHECK(try(&moderator, &c) == FORUM_OK);
    c = cmd_q(FORUM_CMD_QUESTION_MERGE, spam);
    c.into_id = target;
    CHECK(try(&moderator, &c) == FORUM_OK);
    int64_t phone = submit_as(&moderator, "Caller: rents?", NULL);
    c = cmd_q(FORUM_CMD_QUESTION_MERGE, phone);
    c.into_id = target;
    CHECK(try(&moderator, &c) == FORUM_OK);
    CHECK(votes_of(target) == 0);
    teardown();
}

static void follow_up_goes_to_the_panelist_of_its_question(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Bob, what about rents?";
    c.has_to = true;
    c.to = 2;
    int64_t parent = run_for_id(&viewer_a, &c);
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "And the deposits?";
    c.parent_id = parent;
    int64_t follow = run_for_id(&viewer_b, &c);
    CHECK(json_int(seen_by(&moderator, follow), "to") == 2);
    c.text = "A question for everyone";
    c.has_to = true; /* "to": null */
    c.to = 0;
    int64_t all = run_for_id(&viewer_b, &c);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(seen_by(&moderator, all), "to")));
    c.to = 1;
    int64_t alice = run_for_id(&viewer_b, &c);
    CHECK(json_int(seen_by(&moderator, alice), "to") == 1);
    teardown();
}

static void submit_may_carry_its_own_author_name(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Named per question";
    c.name = "Mrs Zhang";
    int64_t q = run_for_id(&viewer_c, &c); /* viewer C said no name in its hello */
    CHECK_STR(json_s(seen_by(&moderator, q), "author"), "Mrs Zhang");
    c.text = "Anonymous wins";
    c.anonymous = true;
    q = run_for_id(&viewer_a, &c);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(seen_by(&moderator, q), "author")));
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Hello name";
    q = run_for_id(&viewer_a, &c);
    CHECK_STR(json_s(seen_by(&moderator, q), "author"), "Ann");
    /* Staff name the asker with "author"; "name" is a viewer's own. */
    c.text = "Staff entry";
    c.name = "Ignored";
    c.author = "Mr Gu";
    q = run_for_id(&moderator, &c);
    CHECK_STR(json_s(seen_by(&moderator, q), "author"), "Mr Gu");
    /* A session that wants names takes the one given with the question. */
    forum_command u = cmd_of(FORUM_CMD_SESSION_UPDATE);
    u.has_anonymous_allowed = true;
    u.anonymous_allowed = false;
    CHECK(try(&producer, &u) == FORUM_OK);
    c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "No name at all";
    CHECK(fails_with(&viewer_c, &c, FORUM_E_BAD_REQUEST, "name"));
    c.name = "Lao Li";
    CHECK(run_for_id(&viewer_c, &c) > 0);
    teardown();
}

static void held_questions_name_the_blocked_word_to_staff_only(void)
{
    setup();
    int64_t q = submit_as(&viewer_a, "Cheap SPAM offers here", NULL);
    CHECK_STR(state_of(q), "pending");
    CHECK_STR(json_s(seen_by(&moderator, q), "held_for"), "spam");
    CHECK(json_s(seen_by(&viewer_a, q), "held_for") == NULL);
    /* An author's edit that brings one in says which. */
    int64_t ok = submit_as(&viewer_b, "An honest question", NULL);
    CHECK(json_s(seen_by(&moderator, ok), "held_for") == NULL);
    forum_command c = cmd_q(FORUM_CMD_QUESTION_EDIT, ok);
    c.text = "An honest 广告";
    CHECK(try(&viewer_b, &c) == FORUM_OK);
    CHECK_STR(state_of(ok), "pending");
    CHECK_STR(json_s(seen_by(&moderator, ok), "held_for"), "广告");
    teardown();
}

static void bulk_approve_and_dismiss_with_one_undo(void)
{
    setup_with(true, true);
    int64_t q[4];
    for (int i = 0; i < 4; i++) {
        char text[32];
        snprintf(text, sizeof text, "Held %d", i);
        q[i] = submit_as(&viewer_a, text, NULL);
    }
    CHECK(act(&moderator2, FORUM_CMD_QUESTION_APPROVE, q[3]) == FORUM_OK); /* got there first */
    forum_command c = cmd_of(FORUM_CMD_QUESTIONS_APPROVE);
    int64_t ids[] = {q[0], q[1], q[3]};
    c.ids = ids;
    c.n_ids = 3;
    CHECK(fails_with(&viewer_a, &c, FORUM_E_FORBIDDEN, NULL));
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 2);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "questions")) == 2);
    char *skipped = cJSON_PrintUnformatted(cJSON_GetObjectItem(ack_of(&r), "skipped"));
    char expected[32];
    snprintf(expected, sizeof expected, "[%lld]", (long long)q[3]);
    CHECK_STR(skipped, expected);
    free(skipped);
    forum_result_free(&r);
    CHECK_STR(state_of(q[0]), "published");
    CHECK_STR(state_of(q[1]), "published");
    /* One undo takes the whole batch back. */
    CHECK(act(&moderator, FORUM_CMD_QUESTION_UNDO, 0) == FORUM_OK);
    CHECK_STR(state_of(q[0]), "pending");
    CHECK_STR(state_of(q[1]), "pending");
    CHECK_STR(state_of(q[3]), "published");

    c = cmd_of(FORUM_CMD_QUESTIONS_DISMISS);
    int64_t all[] = {q[0], q[1], q[2], q[3]};
    c.ids = all;
    c.n_ids = 4;
    c.reason = "Spam wave";
    r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "skipped")) == 0);
    forum_result_free(&r);
    for (int i = 0; i < 4; i++) {
        CHECK_STR(state_of(q[i]), "dismissed");
        CHECK_STR(json_s(seen_by(&moderator, q[i]), "dismiss_reason"), "Spam wave");
    }
    /* Nothing half done on a bad list. */
    int64_t twice[] = {q[0], q[0]};
    c.ids = twice;
    c.n_ids = 2;
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "question_ids"));
    int64_t unknown[] = {q[0], 999999};
    c.ids = unknown;
    CHECK(fails_with(&moderator, &c, FORUM_E_NOT_FOUND, "question_ids"));
    c.n_ids = 0;
    CHECK(fails_with(&moderator, &c, FORUM_E_BAD_REQUEST, "question_ids"));
    forum_state *fresh = replay_log();
    cJSON *snap = keep(forum_snapshot(fresh, &moderator, code));
    CHECK_STR(json_s(find_q(snap, q[2]), "dismiss_reason"), "Spam wave");
    forum_free(fresh);
    teardown();
}

static void ban_can_dismiss_the_viewers_pending_questions(void)
{
    setup_with(true, true);
    int64_t s1 = submit_as(&viewer_b, "Spam one", NULL);
    int64_t s2 = submit_as(&viewer_b, "Spam two", NULL);
    int64_t other = submit_as(&viewer_a, "Real question", NULL);
    CHECK(act(&moderator, FORUM_CMD_QUESTION_APPROVE, s1) == FORUM_OK);
    int64_t s3 = submit_as(&viewer_b, "Spam three", NULL);
    forum_command c = cmd_of(FORUM_CMD_VIEWER_BAN);
    c.viewer_id = viewer_b.viewer_id;
    c.dismiss_pending = true;
    c.reason = "Spam";
    forum_result r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK);
    CHECK_STR(kind_of(&r.events[0]), "viewer.banned");
    char *dismissed = cJSON_PrintUnformatted(cJSON_GetObjectItem(ack_of(&r), "dismissed"));
    char expected[48];
    snprintf(expected, sizeof expected, "[%lld,%lld]", (long long)s2, (long long)s3);
    CHECK_STR(dismissed, expected);
    free(dismissed);
    forum_result_free(&r);
    CHECK_STR(state_of(s1), "published"); /* published ones stay: they were approved */
    CHECK_STR(state_of(s2), "dismissed");
    CHECK_STR(state_of(other), "pending");
    CHECK_STR(json_s(seen_by(&moderator, s3), "dismiss_reason"), "Spam");
    /* Already banned: the pending ones are still cleared, no second ban event. */
    int64_t late = submit_as(&moderator, "Staff", NULL);
    (void)late;
    r = run(&moderator, &c);
    CHECK(r.err == FORUM_OK && r.n_events == 0);
    forum_result_free(&r);
    teardown();
}

static void carry_over_picks_questions_and_keeps_their_source(void)
{
    setup();
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "Caller asks about the bus";
    c.has_source = true;
    c.source = FORUM_SRC_PHONE;
    c.author = "Mr Gu";
    int64_t phone = run_for_id(&moderator, &c);
    int64_t web = submit_as(&viewer_a, "Web question", NULL);
    int64_t left = submit_as(&viewer_b, "Not this one", NULL);
    int64_t answered = submit_as(&viewer_b, "Answered", NULL);
    c = cmd_q(FORUM_CMD_QUESTION_ANSWERED, answered);
    CHECK(try(&moderator, &c) == FORUM_OK);
    char next[FORUM_CODE_MAX], third[FORUM_CODE_MAX];
    create_sibling_session(now_ms + 7 * 86400000LL, next);
    create_sibling_session(now_ms + 14 * 86400000LL, third);
    forum_command co = cmd_of(FORUM_CMD_SESSION_CARRY_OVER);
    co.from_session = code;
    co.to_session = next;
    int64_t bad[] = {phone, answered};
    co.ids = bad;
    co.n_ids = 2;
    CHECK(fails_with(&studio, &co, FORUM_E_CONFLICT, "question_ids"));
    int64_t foreign[] = {phone, 424242};
    co.ids = foreign;
    CHECK(fails_with(&studio, &co, FORUM_E_NOT_FOUND, "question_ids"));
    int64_t twice[] = {phone, phone};
    co.ids = twice;
    CHECK(fails_with(&studio, &co, FORUM_E_BAD_REQUEST, "question_ids"));
    int64_t pick[] = {web, phone};
    co.ids = pick;
    forum_result r = run(&studio, &co);
    CHECK(r.err == FORUM_OK);
    const cJSON *qs = cJSON_GetObjectItem(ack_of(&r), "questions");
    CHECK(cJSON_GetArraySize(qs) == 2);
    const cJSON *carried_phone = cJSON_GetArrayItem(qs, 0); /* in the order they came */
    CHECK(json_int(carried_phone, "carried_question_id") == phone);
    CHECK_STR(json_s(carried_phone, "source"), "carried");
    CHECK_STR(json_s(carried_phone, "carried_source"), "phone");
    CHECK_STR(json_s(cJSON_GetArrayItem(qs, 1), "carried_source"), "web");
    int64_t phone2 = json_int(carried_phone, "id");
    forum_result_free(&r);
    /* The unpicked one can still follow later; carried again, the first source stays. */
    co.ids = NULL;
    co.n_ids = 0;
    r = run(&studio, &co);
    CHECK(r.err == FORUM_OK && cJSON_GetArraySize(cJSON_GetObjectItem(ack_of(&r), "questions")) == 1);
    CHECK(json_int(cJSON_GetArrayItem(cJSON_GetObjectItem(ack_of(&r), "questions"), 0),
                   "carried_question_id") == left);
    forum_result_free(&r);
    co.from_session = next;
    co.to_session = third;
    int64_t again[] = {phone2};
    co.ids = again;
    co.n_ids = 1;
    r = run(&studio, &co);
    CHECK(r.err == FORUM_OK);
    CHECK_STR(json_s(cJSON_GetArrayItem(cJSON_GetObjectItem(ack_of(&r), "questions"), 0),
                     "carried_source"),
              "phone");
    forum_result_free(&r);
    forum_state *fresh = replay_log();
    forum_actor third_mod = make_staff(FORUM_ROLE_MODERATOR, third, "Mia");
    cJSON *snap = keep(forum_snapshot(fresh, &third_mod, third));
    CHECK_STR(json_s(cJSON_GetArrayItem(cJSON_GetObjectItem(snap, "questions"), 0),
                     "carried_source"),
              "phone");
    forum_free(fresh);
    teardown();
}

static void welcome_names_the_question_a_follow_up_on_air_follows(void)
{
    setup();
    int64_t parent = submit_as(&viewer_a, "The first question", NULL);
    for (int i = 0; i < 40; i++) {
        char text[48];
        snprintf(text, sizeof text, "Filler question number %d", i);
        CHECK(submit_as(&moderator, text, NULL) > 0);
    }
    forum_command c = cmd_of(FORUM_CMD_QUESTION_SUBMIT);
    c.text = "A follow-up";
    c.parent_id = parent;
    int64_t follow = run_for_id(&viewer_b, &c);
    CHECK(act(&moderator, FORUM_CMD_ONAIR_SET, follow) == FORUM_OK);
    char *text = forum_snapshot_text(st, &viewer_c, code, 1200, now_ms);
    cJSON *snap = keep(cJSON_Parse(text));
    free(text);
    const cJSON *qs = cJSON_GetObjectItem(snap, "questions");
    CHECK(json_int(cJSON_GetArrayItem(qs, 0), "id") == follow);
    CHECK(json_int(cJSON_GetArrayItem(qs, 1), "id") == parent);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(snap, "questions_complete")));
    teardown();
}

int main(void)
{
    TEST(viewer_may_not_moderate_or_produce);
    TEST(staff_may_not_vote_or_withdraw);
    TEST(moderator_acts_only_in_own_session);
    TEST(producer_acts_in_any_session);
    TEST(unknown_session_is_not_found);
    TEST(session_create_issues_code_and_hashed_key);
    TEST(session_ack_carries_key_once);
    TEST(session_list_shows_programs_and_sessions);
    TEST(programs_live_in_the_studio_log);
    TEST(session_status_transitions);
    TEST(draft_session_can_start_directly);
    TEST(archived_session_refuses_every_write);
    TEST(session_update_keeps_panelist_ids);
    TEST(session_stream_is_set_kept_and_cleared);
    TEST(submit_without_premoderation_publishes);
    TEST(premoderation_holds_submissions);
    TEST(blocked_words_hold_chinese_text);
    TEST(blocked_words_survive_invisible_and_full_width_characters);
    TEST(submit_is_idempotent_per_viewer_and_id);
    TEST(anonymous_rules_follow_session_setting);
    TEST(to_must_be_a_panelist);
    TEST(follow_up_needs_public_parent_in_session);
    TEST(staff_submission_on_behalf_of_a_caller);
    TEST(import_is_idempotent_on_external_ref);
    TEST(live_state_shows_the_air_for_studio_displays);
    TEST(webhooks_are_registered_as_studio_events_with_secret_kept_apart);
    TEST(questions_per_session_limit);
    TEST(author_edits_and_withdraws_own_question);
    TEST(errors_reveal_nothing_of_questions_a_viewer_cannot_see);
    TEST(pending_withdraw_is_private);
    TEST(on_air_question_cannot_be_withdrawn);
    TEST(author_edit_with_blocked_word_goes_back_to_review);
    TEST(votes_are_one_per_viewer_and_idempotent);
    TEST(votes_only_on_published_questions);
    TEST(flush_coalesces_many_votes_into_one_event);
    TEST(merge_moves_votes_without_double_counting);
    TEST(merge_rules);
    TEST(merge_keeps_pending_targets_private);
    TEST(queue_set_validates_its_list);
    TEST(onair_next_takes_head_of_queue);
    TEST(onair_set_rules);
    TEST(answering_the_on_air_question_clears_the_air);
    TEST(questions_leave_queue_when_no_longer_published);
    TEST(dismiss_rules_and_audience);
    TEST(panel_set_validates_segment_and_speakers);
    TEST(undo_with_nothing_to_undo_conflicts);
    TEST(undo_approve);
    TEST(undo_dismiss);
    TEST(undo_star_and_staff_edit);
    TEST(undo_star_only_touches_the_star);
    TEST(undo_merge_restores_votes);
    TEST(undo_answered_restores_the_air);
    TEST(undo_onair_set_restores_previous_question);
    TEST(undo_refuses_when_question_changed_since);
    TEST(poll_life_cycle_and_single_choice_ballots);
    TEST(multi_choice_ballots);
    TEST(banned_viewer_may_watch_but_not_write);
    TEST(viewer_snapshot_shows_public_and_own_questions_only);
    TEST(events_carry_offset_once_live);
    TEST(question_rate_defaults_to_six_a_minute);
    TEST(replay_rebuilds_identical_state);
    TEST(replay_rejects_unknown_or_malformed_events);
    TEST(budgeted_welcome_names_the_most_useful_questions_first);
    TEST(handles_many_viewers_and_votes);
    TEST(action_items_are_staff_only_and_linked_to_questions);
    TEST(open_commitments_reach_the_next_session);
    TEST(carry_over_copies_unanswered_public_questions_once);
    TEST(archived_session_refuses_outcome_writes_but_not_erasure);
    TEST(archived_commitments_are_followed_up_by_new_items);
    TEST(viewer_erase_removes_name_and_device_id_but_keeps_questions);
    TEST(peak_viewers_only_grows_while_open_or_live);
    TEST(commitments_become_public_when_published_or_when_the_session_ends);
    TEST(withdrawn_needs_a_reason_and_history_records_every_change);
    TEST(ratings_are_one_per_viewer_and_item_and_reach_everyone_as_counts);
    TEST(rating_comments_are_moderated_like_questions);
    TEST(restore_brings_a_dismissed_question_back);
    TEST(undo_restore_dismisses_it_again_with_its_reason);
    TEST(dismiss_reason_stays_with_the_question_for_staff_and_asker);
    TEST(merge_takes_the_askers_support_to_the_target);
    TEST(follow_up_goes_to_the_panelist_of_its_question);
    TEST(submit_may_carry_its_own_author_name);
    TEST(held_questions_name_the_blocked_word_to_staff_only);
    TEST(bulk_approve_and_dismiss_with_one_undo);
    TEST(ban_can_dismiss_the_viewers_pending_questions);
    TEST(carry_over_picks_questions_and_keeps_their_source);
    TEST(welcome_names_the_question_a_follow_up_on_air_follows);
    return check_summary();
}
