/* test_cluster.c — unit tests of the cluster log's entry codec (server/cluster/cluster.c): every field a
 * node needs to apply and store an event survives the round trip (including the secret and the
 * erased viewer id, which never go to clients but must reach every node), and malformed entries
 * are refused rather than applied half-read. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cluster.h"

static forum_event sample(void)
{
    forum_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.session, sizeof ev.session, "K7M3PQ");
    ev.seq = 42;
    ev.at = 1795800000123;
    ev.offset_ms = 65000;
    snprintf(ev.actor, sizeof ev.actor, "viewer:v0123456789abcdef");
    ev.kind = FORUM_EV_QUESTION_SUBMITTED;
    static const char payload[] = "{\"question\":{\"id\":7,\"text\":\"加装电梯的补贴怎么申请？\","
                                  "\"author\":\"王阿姨\",\"votes\":0,\"state\":\"pending\"}}";
    CHECK(forum_event_decode_text(&ev, payload, strlen(payload), NULL, 0) == 0);
    ev.audience = FORUM_AUD_STAFF_AND_SUBJECT;
    snprintf(ev.subject, sizeof ev.subject, "v0123456789abcdef");
    snprintf(ev.request_id, sizeof ev.request_id, "o-1-abc");
    return ev;
}

static void test_round_trip_keeps_every_field(void)
{
    forum_event ev = sample();
    snprintf(ev.secret.moderator_key_hash, sizeof ev.secret.moderator_key_hash, "%064d", 12);
    snprintf(ev.erased_viewer_id, sizeof ev.erased_viewer_id, "vfedcba9876543210");
    char *text = cluster_event_encode(&ev);
    CHECK(text != NULL);
    forum_event back;
    CHECK(cluster_event_decode(text, strlen(text), &back) == 0);
    CHECK_STR(back.session, "K7M3PQ");
    CHECK(back.seq == 42 && back.at == 1795800000123 && back.offset_ms == 65000);
    CHECK_STR(back.actor, ev.actor);
    CHECK(back.kind == FORUM_EV_QUESTION_SUBMITTED);
    CHECK(back.audience == FORUM_AUD_STAFF_AND_SUBJECT);
    CHECK_STR(back.subject, "v0123456789abcdef");
    CHECK_STR(back.request_id, "o-1-abc");
    CHECK_STR(back.erased_viewer_id, "vfedcba9876543210");
    char *p1 = forum_event_payload_text(&back, FORUM_VIEW_STAFF);
    char *p2 = forum_event_payload_text(&ev, FORUM_VIEW_STAFF);
    CHECK_STR(p1, p2);
    CHECK_STR(back.p.question.q.author, "王阿姨");
    free(p1);
    free(p2);
    CHECK_STR(back.secret.moderator_key_hash, ev.secret.moderator_key_hash);
    cJSON_free(text);
    forum_event_clear(&back);
    forum_event_clear(&ev);
}

static void test_optional_fields_absent_stay_empty(void)
{
    forum_event ev = sample();
    ev.subject[0] = ev.request_id[0] = '\0';
    ev.session[0] = '\0'; /* the studio log */
    ev.offset_ms = -1;
    char *text = cluster_event_encode(&ev);
    forum_event back;
    CHECK(cluster_event_decode(text, strlen(text), &back) == 0);
    CHECK_STR(back.session, "");
    CHECK(back.offset_ms == -1);
    CHECK_STR(back.subject, "");
    CHECK_STR(back.request_id, "");
    CHECK_STR(back.erased_viewer_id, "");
    CHECK(back.secret.moderator_key_hash[0] == '\0' && !back.secret.has_undo);
    cJSON_free(text);
    forum_event_clear(&back);
    forum_event_clear(&ev);
}

static void test_malformed_entries_are_refused(void)
{
    static const char *bad[] = {
        "",
        "not json",
        "[]",
        "{}",
        /* missing payload */
        "{\"s\":\"K7M3PQ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"producer\",\"k\":\"queue.changed\",\"u\":0}",
        /* payload not an object */
        "{\"s\":\"K7M3PQ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"producer\",\"k\":\"queue.changed\",\"u\":0,\"p\":3}",
        /* seq must be positive */
        "{\"s\":\"K7M3PQ\",\"q\":0,\"t\":1,\"o\":0,\"a\":\"producer\",\"k\":\"queue.changed\",\"u\":0,\"p\":{\"up_next\":[]}}",
        /* audience out of range */
        "{\"s\":\"K7M3PQ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"producer\",\"k\":\"queue.changed\",\"u\":9,\"p\":{\"up_next\":[]}}",
        /* session code too long for the buffer */
        "{\"s\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"p\",\"k\":\"queue.changed\",\"u\":0,"
        "\"p\":{\"up_next\":[]}}",
        /* kind longer than its buffer */
        "{\"s\":\"K7M3PQ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"p\","
        "\"k\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"u\":0,\"p\":{\"up_next\":[]}}",
        /* wrong types */
        "{\"s\":1,\"q\":1,\"t\":1,\"o\":0,\"a\":\"p\",\"k\":\"queue.changed\",\"u\":0,\"p\":{\"up_next\":[]}}",
        "{\"s\":\"K7M3PQ\",\"q\":\"1\",\"t\":1,\"o\":0,\"a\":\"p\",\"k\":\"queue.changed\",\"u\":0,\"p\":{\"up_next\":[]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        forum_event ev;
        int rc = cluster_event_decode(bad[i], strlen(bad[i]), &ev);
        CHECK(rc == -1);
        if (rc == 0) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
            forum_event_clear(&ev);
        }
    }
    /* kinds nobody knows, and payloads that do not fit their kind */
    static const char *unknown[] = {
        "{\"s\":\"K7M3PQ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"p\",\"k\":\"x\",\"u\":0,\"p\":{}}",
        "{\"s\":\"K7M3PQ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"p\",\"k\":\"queue.changed\","
        "\"u\":0,\"p\":{\"up_next\":\"1\"}}",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        forum_event ev;
        CHECK(cluster_event_decode(unknown[i], strlen(unknown[i]), &ev) == -1);
    }
    /* a well-formed one for contrast */
    const char *good = "{\"s\":\"K7M3PQ\",\"q\":1,\"t\":1,\"o\":0,\"a\":\"p\",\"k\":\"queue.changed\",\"u\":0,\"p\":{\"up_next\":[]}}";
    forum_event ev;
    CHECK(cluster_event_decode(good, strlen(good), &ev) == 0);
    forum_event_clear(&ev);
}

int main(void)
{
    TEST(test_round_trip_keeps_every_field);
    TEST(test_optional_fields_absent_stay_empty);
    TEST(test_malformed_entries_are_refused);
    return check_summary();
}
