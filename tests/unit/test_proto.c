/* test_proto.c — unit tests of the wire codec (server/core/proto.c): what a client sees for every
 * class of bad input (error code, field, the echoed request id), the commands good requests
 * decode into, and the exact JSON of acks, errors, welcomes and events in each view. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto.h"

static forum_limits limits;
static proto_error err;

/* Decodes text (NUL-terminated) into *cmd; returns proto_decode's result. */
static int decode(const char *text, forum_command *cmd)
{
    return proto_decode(text, strlen(text), &limits, cmd, &err);
}

static bool is_zero(const forum_command *cmd)
{
    static const forum_command zero;
    return memcmp(cmd, &zero, sizeof zero) == 0;
}

/* True when data[0..len) is rejected with code and field, leaving the command empty. */
static bool rejects_bytes(const char *data, size_t len, forum_err code, const char *field)
{
    forum_command cmd;
    int rc = proto_decode(data, len, &limits, &cmd, &err);
    bool ok = rc == -1 && err.code == code && strcmp(err.field, field) == 0 && is_zero(&cmd) &&
              err.message[0] != '\0';
    if (!ok)
        fprintf(stderr, "  decode: rc=%d code=%s field=\"%s\" message=\"%s\"\n", rc,
                proto_err_name(err.code), err.field, err.message);
    if (rc == 0)
        forum_command_free(&cmd);
    return ok;
}

static bool rejects(const char *text, forum_err code, const char *field)
{
    return rejects_bytes(text, strlen(text), code, field);
}

/* True when text decodes; the command is freed. */
static bool accepts(const char *text)
{
    forum_command cmd;
    int rc = decode(text, &cmd);
    if (rc != 0) {
        fprintf(stderr, "  decode refused: code=%s field=\"%s\" message=\"%s\"\n",
                proto_err_name(err.code), err.field, err.message);
        return false;
    }
    forum_command_free(&cmd);
    return true;
}

/* A string of n copies of the UTF-8 character ch (caller frees). */
static char *repeat(const char *ch, size_t n)
{
    size_t w = strlen(ch);
    char *s = malloc(n * w + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * w, ch, w);
    s[n * w] = '\0';
    return s;
}

/* Builds {"type":"<type>",<before>"<key>":"<n copies of ch>"} (caller frees). */
static char *with_long_field(const char *type, const char *before, const char *key,
                             const char *ch, size_t n)
{
    char *value = repeat(ch, n);
    size_t cap = strlen(value) + strlen(type) + strlen(before) + strlen(key) + 64;
    char *s = malloc(cap);
    snprintf(s, cap, "{\"type\":\"%s\",%s\"%s\":\"%s\"}", type, before, key, value);
    free(value);
    return s;
}

/* ---------------------------------------------------------------- malformed frames */

static void test_malformed_json_is_bad_json(void)
{
    CHECK(rejects("", FORUM_E_BAD_JSON, ""));
    CHECK(rejects("nope", FORUM_E_BAD_JSON, ""));
    CHECK(rejects("{", FORUM_E_BAD_JSON, ""));
    CHECK(rejects("{\"type\":\"hello\"", FORUM_E_BAD_JSON, ""));
    CHECK(rejects("{\"type\":\"onair.clear\",}", FORUM_E_BAD_JSON, ""));
    CHECK(rejects("{\"type\":\"onair.clear\"} {}", FORUM_E_BAD_JSON, ""));
    CHECK(rejects("{'type':'onair.clear'}", FORUM_E_BAD_JSON, ""));
    /* trailing white space is fine */
    CHECK(accepts("{\"type\":\"onair.clear\"}\r\n \t"));
}

static void test_truncated_frames_are_bad_json(void)
{
    const char *full = "{\"type\":\"question.submit\",\"id\":\"9\",\"text\":\"你好\"}";
    size_t len = strlen(full);
    for (size_t cut = 0; cut < len; cut++) {
        forum_command cmd;
        int rc = proto_decode(full, cut, &limits, &cmd, &err);
        CHECK(rc == -1);
        CHECK(err.code == FORUM_E_BAD_JSON);
        CHECK(is_zero(&cmd));
    }
    CHECK(accepts(full));
}

static void test_invalid_utf8_is_bad_json(void)
{
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"\xff\"}", FORUM_E_BAD_JSON, ""));
    /* overlong '/' */
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"\xc0\xaf\"}", FORUM_E_BAD_JSON, ""));
    /* encoded surrogate U+D800 */
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"\xed\xa0\x80\"}", FORUM_E_BAD_JSON,
                  ""));
    /* truncated 3-byte sequence */
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"\xe4\xbd\"}", FORUM_E_BAD_JSON, ""));
    CHECK(strcmp(err.message, "invalid UTF-8") == 0);
    /* escaped lone surrogates are not valid JSON text either */
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"\\ud800\"}", FORUM_E_BAD_JSON, ""));
}

static void test_nul_is_refused(void)
{
    static const char raw[] = "{\"type\":\"onair.clear\"}\0";
    CHECK(rejects_bytes(raw, sizeof raw - 1, FORUM_E_BAD_JSON, ""));
    static const char in_string[] = "{\"type\":\"question.submit\",\"text\":\"a\0b\"}";
    CHECK(rejects_bytes(in_string, sizeof in_string - 1, FORUM_E_BAD_JSON, ""));
    /* the \u0000 escape would silently cut the text: refused, naming the field, id echoed */
    CHECK(rejects("{\"id\":\"n1\",\"type\":\"question.submit\",\"text\":\"a\\u0000b\"}",
                  FORUM_E_BAD_REQUEST, "text"));
    CHECK_STR(err.re, "n1");
    /* an escaped backslash followed by "u0000" is plain text */
    forum_command cmd;
    CHECK(decode("{\"type\":\"question.submit\",\"text\":\"a\\\\u0000b\"}", &cmd) == 0);
    CHECK_STR(cmd.text, "a\\u0000b");
    forum_command_free(&cmd);
}

static void test_raw_control_character_in_string_is_bad_json(void)
{
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"a\nb\"}", FORUM_E_BAD_JSON, ""));
}

/* Builds {"type":"onair.clear","x":<depth-1 nested arrays>} so the whole text nests depth. */
static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 64);
    strcpy(s, "{\"type\":\"onair.clear\",\"x\":");
    size_t n = strlen(s);
    for (int i = 1; i < depth; i++)
        s[n++] = '[';
    for (int i = 1; i < depth; i++)
        s[n++] = ']';
    strcpy(s + n, "}");
    return s;
}

static void test_nesting_deeper_than_16_is_bad_json(void)
{
    char *ok = nested(16), *deep = nested(17), *very = nested(100000);
    CHECK(accepts(ok));
    CHECK(rejects(deep, FORUM_E_BAD_JSON, ""));
    CHECK(rejects(very, FORUM_E_BAD_JSON, ""));
    free(ok);
    free(deep);
    free(very);
    /* brackets inside strings do not count */
    CHECK(accepts("{\"type\":\"onair.clear\",\"x\":\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{\"}"));
}

static void test_non_object_is_bad_request(void)
{
    CHECK(rejects("[{\"type\":\"onair.clear\"}]", FORUM_E_BAD_REQUEST, ""));
    CHECK(rejects("\"hello\"", FORUM_E_BAD_REQUEST, ""));
    CHECK(rejects("42", FORUM_E_BAD_REQUEST, ""));
    CHECK(rejects("null", FORUM_E_BAD_REQUEST, ""));
}

/* ---------------------------------------------------------------- envelope */

static void test_request_id_is_echoed_in_errors(void)
{
    CHECK(rejects("{\"id\":\"a1\",\"type\":\"nope\"}", FORUM_E_UNKNOWN_TYPE, "type"));
    CHECK_STR(err.re, "a1");
    CHECK(rejects("{\"id\":\"a2\",\"type\":\"vote.add\"}", FORUM_E_BAD_REQUEST, "question_id"));
    CHECK_STR(err.re, "a2");
    /* a request without id: nothing to echo */
    CHECK(rejects("{\"type\":\"vote.add\"}", FORUM_E_BAD_REQUEST, "question_id"));
    CHECK_STR(err.re, "");
}

static void test_request_id_must_be_1_to_64_bytes(void)
{
    char *id64 = repeat("x", 64), *id65 = repeat("x", 65);
    char buf[200];
    snprintf(buf, sizeof buf, "{\"type\":\"onair.clear\",\"id\":\"%s\"}", id64);
    forum_command cmd;
    CHECK(decode(buf, &cmd) == 0);
    CHECK_STR(cmd.id, id64);
    forum_command_free(&cmd);
    snprintf(buf, sizeof buf, "{\"type\":\"onair.clear\",\"id\":\"%s\"}", id65);
    CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "id"));
    CHECK_STR(err.re, "");
    CHECK(rejects("{\"type\":\"onair.clear\",\"id\":\"\"}", FORUM_E_BAD_REQUEST, "id"));
    CHECK(rejects("{\"type\":\"onair.clear\",\"id\":7}", FORUM_E_BAD_REQUEST, "id"));
    CHECK(accepts("{\"type\":\"onair.clear\",\"id\":null}"));
    free(id64);
    free(id65);
}

/* An id is echoed in the reply: one holding control characters is refused, never echoed (a
 * \u0000 escape used to be echoed cut short at the NUL). */
static void test_request_id_with_control_characters_is_refused(void)
{
    static const char *const ids[] = {"ab\\u0000cd", "\\u0000",   "a\\nb",     "a\\tb",
                                      "a\\u001fb",   "a\\u007fb", "a\\u0085b", "a\\u009fb"};
    char buf[200];
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"type\":\"onair.clear\"}", ids[i]);
        CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "id"));
        CHECK_STR(err.re, "");
    }
    /* refused as the id even when another field also holds a NUL */
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"a\\u0000\",\"id\":\"x\\u0000y\"}",
                  FORUM_E_BAD_REQUEST, "id"));
    CHECK_STR(err.re, "");
    /* printable ids, Chinese included, and escaped backslashes are fine */
    forum_command cmd;
    CHECK(decode("{\"type\":\"onair.clear\",\"id\":\"请求-1 \\\\u0000\"}", &cmd) == 0);
    CHECK_STR(cmd.id, "请求-1 \\u0000");
    forum_command_free(&cmd);
}

static void test_type_missing_or_not_string_is_bad_request(void)
{
    CHECK(rejects("{}", FORUM_E_BAD_REQUEST, "type"));
    CHECK(rejects("{\"id\":\"1\",\"type\":5}", FORUM_E_BAD_REQUEST, "type"));
    CHECK_STR(err.re, "1");
    CHECK(rejects("{\"type\":null}", FORUM_E_BAD_REQUEST, "type"));
}

static void test_unknown_type(void)
{
    CHECK(rejects("{\"type\":\"question.delete\"}", FORUM_E_UNKNOWN_TYPE, "type"));
    CHECK_STR(err.message, "unknown type");
    CHECK(rejects("{\"type\":\"Hello\"}", FORUM_E_UNKNOWN_TYPE, "type"));
    CHECK(rejects("{\"type\":\"action.delete\",\"action_id\":1}", FORUM_E_UNKNOWN_TYPE,
                  "type"));
}

static void test_every_request_type_maps_to_its_command(void)
{
    static const struct {
        const char *json;
        forum_cmd_type type;
    } cases[] = {
        {"{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\","
         "\"token\":\"abcdefghijklmnopqrstuv\"}", FORUM_CMD_HELLO},
        {"{\"type\":\"question.submit\",\"text\":\"q\"}", FORUM_CMD_QUESTION_SUBMIT},
        {"{\"type\":\"question.edit\",\"question_id\":1,\"text\":\"q\"}",
         FORUM_CMD_QUESTION_EDIT},
        {"{\"type\":\"question.withdraw\",\"question_id\":1}", FORUM_CMD_QUESTION_WITHDRAW},
        {"{\"type\":\"vote.add\",\"question_id\":1}", FORUM_CMD_VOTE_ADD},
        {"{\"type\":\"vote.remove\",\"question_id\":1}", FORUM_CMD_VOTE_REMOVE},
        {"{\"type\":\"poll.vote\",\"poll_id\":1,\"option_ids\":[1]}", FORUM_CMD_POLL_VOTE},
        {"{\"type\":\"question.approve\",\"question_id\":1}", FORUM_CMD_QUESTION_APPROVE},
        {"{\"type\":\"question.dismiss\",\"question_id\":1}", FORUM_CMD_QUESTION_DISMISS},
        {"{\"type\":\"question.star\",\"question_id\":1,\"starred\":true}",
         FORUM_CMD_QUESTION_STAR},
        {"{\"type\":\"question.merge\",\"question_id\":1,\"into_id\":2}",
         FORUM_CMD_QUESTION_MERGE},
        {"{\"type\":\"question.answered\",\"question_id\":1}", FORUM_CMD_QUESTION_ANSWERED},
        {"{\"type\":\"question.undo\"}", FORUM_CMD_QUESTION_UNDO},
        {"{\"type\":\"onair.set\",\"question_id\":1}", FORUM_CMD_ONAIR_SET},
        {"{\"type\":\"onair.clear\"}", FORUM_CMD_ONAIR_CLEAR},
        {"{\"type\":\"onair.next\"}", FORUM_CMD_ONAIR_NEXT},
        {"{\"type\":\"queue.set\",\"question_ids\":[]}", FORUM_CMD_QUEUE_SET},
        {"{\"type\":\"panel.set\"}", FORUM_CMD_PANEL_SET},
        {"{\"type\":\"viewer.ban\",\"viewer_id\":\"v0123456789abcdef\"}", FORUM_CMD_VIEWER_BAN},
        {"{\"type\":\"viewer.unban\",\"viewer_id\":\"v0123456789abcdef\"}",
         FORUM_CMD_VIEWER_UNBAN},
        {"{\"type\":\"poll.create\",\"title\":\"t\",\"options\":[\"a\",\"b\"]}",
         FORUM_CMD_POLL_CREATE},
        {"{\"type\":\"poll.open\",\"poll_id\":1}", FORUM_CMD_POLL_OPEN},
        {"{\"type\":\"poll.close\",\"poll_id\":1}", FORUM_CMD_POLL_CLOSE},
        {"{\"type\":\"program.create\",\"title\":\"t\"}", FORUM_CMD_PROGRAM_CREATE},
        {"{\"type\":\"program.update\",\"program_id\":1}", FORUM_CMD_PROGRAM_UPDATE},
        {"{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\"}",
         FORUM_CMD_SESSION_CREATE},
        {"{\"type\":\"session.update\"}", FORUM_CMD_SESSION_UPDATE},
        {"{\"type\":\"session.open\"}", FORUM_CMD_SESSION_OPEN},
        {"{\"type\":\"session.start\"}", FORUM_CMD_SESSION_START},
        {"{\"type\":\"session.end\"}", FORUM_CMD_SESSION_END},
        {"{\"type\":\"session.archive\"}", FORUM_CMD_SESSION_ARCHIVE},
        {"{\"type\":\"session.list\"}", FORUM_CMD_SESSION_LIST},
        {"{\"type\":\"session.rotate_key\"}", FORUM_CMD_SESSION_ROTATE_KEY},
        {"{\"type\":\"action.create\",\"text\":\"t\"}", FORUM_CMD_ACTION_CREATE},
        {"{\"type\":\"action.update\",\"action_id\":1}", FORUM_CMD_ACTION_UPDATE},
        {"{\"type\":\"session.carry_over\",\"from\":\"AAAAAA\",\"to\":\"BBBBBB\"}",
         FORUM_CMD_SESSION_CARRY_OVER},
        {"{\"type\":\"viewer.erase\",\"session\":\"AAAAAA\",\"viewer_id\":\"v0123456789abcdef\"}",
         FORUM_CMD_VIEWER_ERASE},
        {"{\"type\":\"search\",\"q\":\"停车\"}", FORUM_CMD_SEARCH},
        {"{\"type\":\"backup\"}", FORUM_CMD_BACKUP},
        {"{\"type\":\"rating.set\",\"question_id\":1,\"value\":\"satisfied\"}",
         FORUM_CMD_RATING_SET},
        {"{\"type\":\"rating.approve\",\"rating_id\":1}", FORUM_CMD_RATING_APPROVE},
        {"{\"type\":\"rating.dismiss\",\"rating_id\":1}", FORUM_CMD_RATING_DISMISS},
        {"{\"type\":\"hello\",\"role\":\"board\",\"program_id\":3}", FORUM_CMD_HELLO},
        {"{\"type\":\"question.restore\",\"question_id\":1}", FORUM_CMD_QUESTION_RESTORE},
        {"{\"type\":\"questions.approve\",\"question_ids\":[1,2]}", FORUM_CMD_QUESTIONS_APPROVE},
        {"{\"type\":\"questions.dismiss\",\"question_ids\":[1]}", FORUM_CMD_QUESTIONS_DISMISS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        forum_command cmd;
        int rc = decode(cases[i].json, &cmd);
        CHECK(rc == 0);
        if (rc != 0)
            fprintf(stderr, "  %s: %s %s\n", cases[i].json, err.field, err.message);
        CHECK(cmd.type == cases[i].type);
        forum_command_free(&cmd);
    }
}

static void test_unknown_extra_fields_are_ignored(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"vote.add\",\"id\":\"5\",\"question_id\":3,\"extra\":{\"a\":[1]},"
                 "\"x\":null}", &cmd) == 0);
    CHECK(cmd.type == FORUM_CMD_VOTE_ADD);
    CHECK(cmd.question_id == 3);
    CHECK_STR(cmd.id, "5");
    forum_command_free(&cmd);
}

static void test_session_field_names_the_target_session(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"session.start\",\"session\":\"K7M3PQ\"}", &cmd) == 0);
    CHECK_STR(cmd.session, "K7M3PQ");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"session.start\",\"session\":null}", &cmd) == 0);
    CHECK(cmd.session == NULL);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"session.start\",\"session\":5}", FORUM_E_BAD_REQUEST, "session"));
    CHECK(rejects("{\"type\":\"session.start\",\"session\":\"\"}", FORUM_E_BAD_REQUEST,
                  "session"));
    CHECK(rejects("{\"type\":\"session.start\",\"session\":\"ABCDEFGHIJKLMNOP\"}",
                  FORUM_E_BAD_REQUEST, "session"));
    CHECK(rejects("{\"type\":\"session.start\",\"session\":\"AB CD\"}", FORUM_E_BAD_REQUEST,
                  "session"));
}

/* ---------------------------------------------------------------- ids */

static void test_ids_must_be_positive_integers_below_2_pow_53(void)
{
    static const char *const bad[] = {"1e300", "9007199254740993", "9007199254740992", "-1",
                                      "0", "1.5", "\"5\"", "null", "true", "[1]", "{}",
                                      "-0", "1e400"};
    char buf[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "{\"type\":\"vote.add\",\"id\":\"r\",\"question_id\":%s}",
                 bad[i]);
        CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "question_id"));
        CHECK_STR(err.re, "r");
    }
    forum_command cmd;
    CHECK(decode("{\"type\":\"vote.add\",\"question_id\":9007199254740991}", &cmd) == 0);
    CHECK(cmd.question_id == 9007199254740991LL);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"vote.add\",\"question_id\":1}", &cmd) == 0);
    CHECK(cmd.question_id == 1);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"vote.add\"}", FORUM_E_BAD_REQUEST, "question_id"));
    CHECK(rejects("{\"type\":\"question.merge\",\"question_id\":1,\"into_id\":1.25}",
                  FORUM_E_BAD_REQUEST, "into_id"));
    CHECK(rejects("{\"type\":\"poll.open\",\"poll_id\":-3}", FORUM_E_BAD_REQUEST, "poll_id"));
    CHECK(rejects("{\"type\":\"program.update\",\"program_id\":\"1\"}", FORUM_E_BAD_REQUEST,
                  "program_id"));
}

/* ---------------------------------------------------------------- question.submit */

static void test_submit_decodes_all_fields_trimmed(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"question.submit\",\"id\":\"c-1\",\"text\":\"  \xe3\x80\x80"
                 "你好，世界？\\n第二行 \",\"category\":\"need\",\"to\":2,\"parent_id\":7,"
                 "\"anonymous\":true,\"source\":\"phone\",\"author\":\" 王小明 \"}",
                 &cmd) == 0);
    CHECK(cmd.type == FORUM_CMD_QUESTION_SUBMIT);
    CHECK_STR(cmd.id, "c-1");
    CHECK_STR(cmd.text, "你好，世界？\n第二行");
    CHECK(cmd.has_category && cmd.category == FORUM_CAT_NEED);
    CHECK(cmd.has_to && cmd.to == 2);
    CHECK(cmd.parent_id == 7);
    CHECK(cmd.anonymous);
    CHECK(cmd.has_source && cmd.source == FORUM_SRC_PHONE);
    CHECK_STR(cmd.author, "王小明");
    forum_command_free(&cmd);
}

static void test_submit_defaults(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"question.submit\",\"text\":\"Why?\",\"to\":null,"
                 "\"parent_id\":null,\"category\":null,\"author\":\"   \"}", &cmd) == 0);
    CHECK(!cmd.has_category && cmd.category == FORUM_CAT_QUESTION);
    CHECK(cmd.has_to && cmd.to == 0);
    CHECK(cmd.parent_id == 0);
    CHECK(!cmd.anonymous);
    CHECK(!cmd.has_source);
    CHECK(cmd.author == NULL);
    CHECK(cmd.session == NULL);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"question.submit\",\"text\":\"Why?\"}", &cmd) == 0);
    CHECK(!cmd.has_to);
    forum_command_free(&cmd);
}

static void test_submit_imports_name_hotline_and_form_with_an_external_ref(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"question.submit\",\"text\":\"q\",\"source\":\"hotline\","
                 "\"external_ref\":\" 12345-0001 \"}",
                 &cmd) == 0);
    CHECK(cmd.has_source && cmd.source == FORUM_SRC_HOTLINE);
    CHECK_STR(cmd.external_ref, "12345-0001");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"question.submit\",\"text\":\"q\",\"source\":\"form\"}", &cmd) ==
          0);
    CHECK(cmd.has_source && cmd.source == FORUM_SRC_FORM && cmd.external_ref == NULL);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"external_ref\":7}",
                  FORUM_E_BAD_REQUEST, "external_ref"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"external_ref\":\"a\\nb\"}",
                  FORUM_E_BAD_REQUEST, "external_ref"));
    char *long_ref = with_long_field("question.submit", "\"text\":\"q\",", "external_ref", "号", 101);
    CHECK(rejects(long_ref, FORUM_E_TOO_LONG, "external_ref"));
    free(long_ref);
}

static void test_webhook_requests_decode_events_preset_and_secret(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"webhook.create\",\"url\":\"https://x.example/h\","
                 "\"events\":[\"question.on_air\",\"commitment.updated\"],\"preset\":\"dingtalk\","
                 "\"secret\":\"SEC123\",\"program_id\":null,\"name\":\"新闻中心\"}",
                 &cmd) == 0);
    CHECK(cmd.type == FORUM_CMD_WEBHOOK_CREATE);
    CHECK(cmd.has_triggers && cmd.triggers == ((1u << FORUM_TRIGGER_QUESTION_ON_AIR) |
                                               (1u << FORUM_TRIGGER_COMMITMENT_UPDATED)));
    CHECK(cmd.has_preset && cmd.preset == FORUM_HOOK_DINGTALK);
    CHECK(cmd.has_secret && cmd.secret && strcmp(cmd.secret, "SEC123") == 0);
    CHECK(cmd.has_program_id && cmd.program_id == 0);
    CHECK_STR(cmd.name, "新闻中心");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"webhook.update\",\"webhook_id\":3,\"secret\":null}", &cmd) == 0);
    CHECK(cmd.webhook_id == 3 && cmd.has_secret && !cmd.secret && !cmd.url && !cmd.has_triggers);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"webhook.create\",\"url\":\"https://x\",\"events\":[\"question.asked\"]}",
                  FORUM_E_BAD_REQUEST, "events"));
    CHECK(rejects("{\"type\":\"webhook.create\",\"url\":\"https://x\",\"events\":[]}",
                  FORUM_E_BAD_REQUEST, "events"));
    CHECK(rejects("{\"type\":\"webhook.create\",\"events\":[\"session.ended\"]}",
                  FORUM_E_BAD_REQUEST, "url"));
    CHECK(rejects("{\"type\":\"webhook.create\",\"url\":\"https://x\",\"events\":[\"session.ended\"],"
                  "\"preset\":\"slack\"}",
                  FORUM_E_BAD_REQUEST, "preset"));
    CHECK(rejects("{\"type\":\"webhook.delete\"}", FORUM_E_BAD_REQUEST, "webhook_id"));
}

static void test_question_of_500_chinese_chars_ok_501_too_long(void)
{
    char *ok = with_long_field("question.submit", "\"id\":\"q\",", "text", "问", 500);
    char *over = with_long_field("question.submit", "\"id\":\"q\",", "text", "问", 501);
    forum_command cmd;
    CHECK(decode(ok, &cmd) == 0);
    CHECK(cmd.text && strlen(cmd.text) == 1500);
    forum_command_free(&cmd);
    CHECK(rejects(over, FORUM_E_TOO_LONG, "text"));
    CHECK_STR(err.re, "q");
    free(ok);
    free(over);
    /* 500 ASCII characters plus surrounding spaces: trimmed first, so fine */
    char *padded = repeat("a", 500);
    char buf[700];
    snprintf(buf, sizeof buf, "{\"type\":\"question.submit\",\"text\":\"   %s   \"}", padded);
    CHECK(accepts(buf));
    free(padded);
    /* emoji (4-byte UTF-8) count once each */
    char *emoji = with_long_field("question.submit", "", "text", "\xf0\x9f\x98\x80", 500);
    CHECK(accepts(emoji));
    free(emoji);
}

static void test_whitespace_only_question_is_bad_request(void)
{
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"   \"}", FORUM_E_BAD_REQUEST,
                  "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\" \xe3\x80\x80\\t\\n \"}",
                  FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"\"}", FORUM_E_BAD_REQUEST, "text"));
}

static void test_submit_field_errors(void)
{
    CHECK(rejects("{\"type\":\"question.submit\"}", FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":null}", FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":42}", FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":[\"a\"]}", FORUM_E_BAD_REQUEST,
                  "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"bell\\u0007\"}",
                  FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"c1 \\u0085 x\"}",
                  FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"category\":\"rant\"}",
                  FORUM_E_BAD_REQUEST, "category"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"category\":1}",
                  FORUM_E_BAD_REQUEST, "category"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"anonymous\":\"yes\"}",
                  FORUM_E_BAD_REQUEST, "anonymous"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"to\":0}",
                  FORUM_E_BAD_REQUEST, "to"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"parent_id\":\"3\"}",
                  FORUM_E_BAD_REQUEST, "parent_id"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"source\":\"carried\"}",
                  FORUM_E_BAD_REQUEST, "source"));
    CHECK(rejects("{\"type\":\"question.submit\",\"text\":\"q\",\"author\":\"a\\nb\"}",
                  FORUM_E_BAD_REQUEST, "author"));
    char *long_author = with_long_field("question.submit", "\"text\":\"q\",", "author", "名", 41);
    CHECK(rejects(long_author, FORUM_E_TOO_LONG, "author"));
    free(long_author);
    /* tabs and newlines are allowed inside question text */
    CHECK(accepts("{\"type\":\"question.submit\",\"text\":\"a\\tb\\r\\nc\"}"));
}

static void test_edit_needs_question_id_and_text(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"question.edit\",\"question_id\":4,\"text\":\" 新的 \"}", &cmd) == 0);
    CHECK(cmd.question_id == 4);
    CHECK_STR(cmd.text, "新的");
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"question.edit\",\"text\":\"x\"}", FORUM_E_BAD_REQUEST,
                  "question_id"));
    CHECK(rejects("{\"type\":\"question.edit\",\"question_id\":4}", FORUM_E_BAD_REQUEST, "text"));
    char *over = with_long_field("question.edit", "\"question_id\":4,", "text", "x", 501);
    CHECK(rejects(over, FORUM_E_TOO_LONG, "text"));
    free(over);
}

/* ---------------------------------------------------------------- hello */

static void test_hello_viewer(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"hello\",\"id\":\"1\",\"session\":\"K7M3PQ\",\"role\":\"viewer\","
                 "\"token\":\"0123456789abcdef0123456789abcdef\",\"name\":\"  李雷 \","
                 "\"resume_from\":42}", &cmd) == 0);
    CHECK(cmd.type == FORUM_CMD_HELLO);
    CHECK(cmd.role == FORUM_ROLE_VIEWER);
    CHECK_STR(cmd.session, "K7M3PQ");
    CHECK_STR(cmd.token, "0123456789abcdef0123456789abcdef");
    CHECK_STR(cmd.name, "李雷");
    CHECK(cmd.has_resume_from && cmd.resume_from == 42);
    forum_command_free(&cmd);
}

static void test_hello_producer_may_omit_session(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"hello\",\"session\":null,\"role\":\"producer\",\"token\":\"k\"}",
                 &cmd) == 0);
    CHECK(cmd.role == FORUM_ROLE_PRODUCER);
    CHECK(cmd.session == NULL);
    CHECK(cmd.name == NULL);
    CHECK(!cmd.has_resume_from);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"hello\",\"session\":\"ABC234\",\"role\":\"moderator\","
                 "\"token\":\"mod-key\",\"name\":\"   \",\"resume_from\":0}", &cmd) == 0);
    CHECK(cmd.role == FORUM_ROLE_MODERATOR);
    CHECK(cmd.name == NULL);
    CHECK(cmd.has_resume_from && cmd.resume_from == 0);
    forum_command_free(&cmd);
}

static void test_hello_errors(void)
{
    const char *tok = "\"token\":\"0123456789abcdef0123456789abcdef\"";
    char buf[600];
#define HELLO(fmt) (snprintf(buf, sizeof buf, "{\"type\":\"hello\",\"id\":\"h\"," fmt "}", tok), buf)
    CHECK(rejects(HELLO("\"session\":\"K7M3PQ\",\"role\":\"admin\",%s"), FORUM_E_BAD_REQUEST,
                  "role"));
    CHECK_STR(err.re, "h");
    CHECK(rejects(HELLO("\"session\":\"K7M3PQ\",%s"), FORUM_E_BAD_REQUEST, "role"));
    CHECK(rejects(HELLO("\"session\":\"K7M3PQ\",\"role\":1,%s"), FORUM_E_BAD_REQUEST, "role"));
    CHECK(rejects(HELLO("\"session\":null,\"role\":\"viewer\",%s"), FORUM_E_BAD_REQUEST,
                  "session"));
    CHECK(rejects(HELLO("\"role\":\"moderator\",%s"), FORUM_E_BAD_REQUEST, "session"));
    CHECK(rejects(HELLO("\"session\":7,\"role\":\"viewer\",%s"), FORUM_E_BAD_REQUEST,
                  "session"));
    CHECK(rejects(HELLO("\"session\":\"K7M3PQ\",\"role\":\"viewer\",%s,\"name\":5"),
                  FORUM_E_BAD_REQUEST, "name"));
    CHECK(rejects(HELLO("\"session\":\"K7M3PQ\",\"role\":\"viewer\",%s,\"resume_from\":-1"),
                  FORUM_E_BAD_REQUEST, "resume_from"));
    CHECK(rejects(HELLO("\"session\":\"K7M3PQ\",\"role\":\"viewer\",%s,\"resume_from\":1.5"),
                  FORUM_E_BAD_REQUEST, "resume_from"));
    CHECK(rejects(HELLO("\"session\":\"K7M3PQ\",\"role\":\"viewer\",%s,\"resume_from\":\"3\""),
                  FORUM_E_BAD_REQUEST, "resume_from"));
#undef HELLO
    /* tokens */
    CHECK(rejects("{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\"}",
                  FORUM_E_BAD_REQUEST, "token"));
    CHECK(rejects("{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\",\"token\":5}",
                  FORUM_E_BAD_REQUEST, "token"));
    CHECK(rejects("{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\","
                  "\"token\":\"abcdefghijklmnopqrstu\"}", FORUM_E_BAD_REQUEST, "token"));
    CHECK(accepts("{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\","
                  "\"token\":\"abcdefghijklmnopqrstuv\"}"));
    char *t128 = repeat("a", 128), *t129 = repeat("a", 129), *t257 = repeat("k", 257);
    char *t256 = repeat("k", 256);
    snprintf(buf, sizeof buf,
             "{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\",\"token\":\"%s\"}",
             t128);
    CHECK(accepts(buf));
    snprintf(buf, sizeof buf,
             "{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\",\"token\":\"%s\"}",
             t129);
    CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "token"));
    snprintf(buf, sizeof buf,
             "{\"type\":\"hello\",\"session\":null,\"role\":\"producer\",\"token\":\"%s\"}",
             t256);
    CHECK(accepts(buf));
    snprintf(buf, sizeof buf,
             "{\"type\":\"hello\",\"session\":null,\"role\":\"producer\",\"token\":\"%s\"}",
             t257);
    CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "token"));
    CHECK(rejects("{\"type\":\"hello\",\"session\":null,\"role\":\"producer\",\"token\":\"\"}",
                  FORUM_E_BAD_REQUEST, "token"));
    free(t128);
    free(t129);
    free(t256);
    free(t257);
    /* names: 40 code points */
    char *n40 = with_long_field("hello", "\"session\":null,\"role\":\"producer\",\"token\":\"k\",",
                                "name", "张", 40);
    char *n41 = with_long_field("hello", "\"session\":null,\"role\":\"producer\",\"token\":\"k\",",
                                "name", "张", 41);
    CHECK(accepts(n40));
    CHECK(rejects(n41, FORUM_E_TOO_LONG, "name"));
    free(n40);
    free(n41);
}

/* ---------------------------------------------------------------- moderation */

static void test_moderation_requests(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"question.dismiss\",\"question_id\":3,\"reason\":\" off topic\\n"
                 "see rules \"}", &cmd) == 0);
    CHECK_STR(cmd.reason, "off topic\nsee rules");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"question.dismiss\",\"question_id\":3}", &cmd) == 0);
    CHECK(cmd.reason == NULL);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"question.star\",\"question_id\":3,\"starred\":false}", &cmd) == 0);
    CHECK(!cmd.starred);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"question.merge\",\"question_id\":3,\"into_id\":9}", &cmd) == 0);
    CHECK(cmd.question_id == 3 && cmd.into_id == 9);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"question.answered\",\"question_id\":3,\"note\":\"已回答\"}",
                 &cmd) == 0);
    CHECK_STR(cmd.note, "已回答");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"viewer.ban\",\"viewer_id\":\"v0123456789abcdef\"}", &cmd) == 0);
    CHECK_STR(cmd.viewer_id, "v0123456789abcdef");
    forum_command_free(&cmd);

    CHECK(rejects("{\"type\":\"question.star\",\"question_id\":3}", FORUM_E_BAD_REQUEST,
                  "starred"));
    CHECK(rejects("{\"type\":\"question.star\",\"question_id\":3,\"starred\":\"true\"}",
                  FORUM_E_BAD_REQUEST, "starred"));
    CHECK(rejects("{\"type\":\"question.star\",\"question_id\":3,\"starred\":1}",
                  FORUM_E_BAD_REQUEST, "starred"));
    CHECK(rejects("{\"type\":\"question.merge\",\"question_id\":3}", FORUM_E_BAD_REQUEST,
                  "into_id"));
    CHECK(rejects("{\"type\":\"question.dismiss\",\"question_id\":3,\"reason\":5}",
                  FORUM_E_BAD_REQUEST, "reason"));
    char *note = with_long_field("question.answered", "\"question_id\":1,", "note", "答", 2001);
    CHECK(rejects(note, FORUM_E_TOO_LONG, "note"));
    free(note);
    note = with_long_field("question.answered", "\"question_id\":1,", "note", "答", 2000);
    CHECK(accepts(note));
    free(note);
    CHECK(rejects("{\"type\":\"viewer.ban\"}", FORUM_E_BAD_REQUEST, "viewer_id"));
    CHECK(rejects("{\"type\":\"viewer.ban\",\"viewer_id\":\"x\"}", FORUM_E_BAD_REQUEST,
                  "viewer_id"));
    CHECK(rejects("{\"type\":\"viewer.unban\",\"viewer_id\":\"v0123456789ABCDEF\"}",
                  FORUM_E_BAD_REQUEST, "viewer_id"));
    CHECK(rejects("{\"type\":\"viewer.unban\",\"viewer_id\":17}", FORUM_E_BAD_REQUEST,
                  "viewer_id"));
}

static void test_queue_set_limits(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"queue.set\",\"question_ids\":[5,3,9]}", &cmd) == 0);
    CHECK(cmd.n_ids == 3 && cmd.ids[0] == 5 && cmd.ids[1] == 3 && cmd.ids[2] == 9);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"queue.set\",\"question_ids\":[]}", &cmd) == 0);
    CHECK(cmd.n_ids == 0 && cmd.ids == NULL);
    forum_command_free(&cmd);

    char buf[1200];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"queue.set\",\"question_ids\":[");
    for (int i = 1; i <= 101; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%d", i > 1 ? "," : "", i);
    snprintf(buf + n, sizeof buf - n, "]}");
    CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "question_ids"));
    CHECK(rejects("{\"type\":\"queue.set\"}", FORUM_E_BAD_REQUEST, "question_ids"));
    CHECK(rejects("{\"type\":\"queue.set\",\"question_ids\":null}", FORUM_E_BAD_REQUEST,
                  "question_ids"));
    CHECK(rejects("{\"type\":\"queue.set\",\"question_ids\":[1,\"2\"]}", FORUM_E_BAD_REQUEST,
                  "question_ids"));
    CHECK(rejects("{\"type\":\"queue.set\",\"question_ids\":[1,2.5]}", FORUM_E_BAD_REQUEST,
                  "question_ids"));
    CHECK(rejects("{\"type\":\"queue.set\",\"question_ids\":{\"a\":1}}", FORUM_E_BAD_REQUEST,
                  "question_ids"));
}

static void test_panel_set_fields(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"panel.set\",\"segment_id\":2,\"speaker_ids\":[1,3],"
                 "\"banner\":\" 第一部分 \"}", &cmd) == 0);
    CHECK(cmd.has_segment_id && cmd.segment_id == 2);
    CHECK(cmd.has_speaker_ids && cmd.n_speaker_ids == 2 && cmd.speaker_ids[1] == 3);
    CHECK(cmd.has_banner);
    CHECK_STR(cmd.banner, "第一部分");
    forum_command_free(&cmd);

    CHECK(decode("{\"type\":\"panel.set\",\"segment_id\":null,\"speaker_ids\":[],"
                 "\"banner\":null}", &cmd) == 0);
    CHECK(cmd.has_segment_id && cmd.segment_id == 0);
    CHECK(cmd.has_speaker_ids && cmd.n_speaker_ids == 0);
    CHECK(cmd.has_banner && cmd.banner == NULL);
    forum_command_free(&cmd);

    CHECK(decode("{\"type\":\"panel.set\"}", &cmd) == 0);
    CHECK(!cmd.has_segment_id && !cmd.has_speaker_ids && !cmd.has_banner);
    forum_command_free(&cmd);

    CHECK(rejects("{\"type\":\"panel.set\",\"banner\":\"a\\nb\"}", FORUM_E_BAD_REQUEST,
                  "banner"));
    CHECK(rejects("{\"type\":\"panel.set\",\"segment_id\":\"1\"}", FORUM_E_BAD_REQUEST,
                  "segment_id"));
    CHECK(rejects("{\"type\":\"panel.set\",\"speaker_ids\":[0]}", FORUM_E_BAD_REQUEST,
                  "speaker_ids"));
    CHECK(rejects("{\"type\":\"panel.set\",\"speaker_ids\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"
                  "16,17,18,19,20,21]}", FORUM_E_BAD_REQUEST, "speaker_ids"));
    char *banner = with_long_field("panel.set", "", "banner", "b", 2001);
    CHECK(rejects(banner, FORUM_E_TOO_LONG, "banner"));
    free(banner);
}

/* ---------------------------------------------------------------- polls */

static void test_polls(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"poll.create\",\"title\":\" 你同意吗？ \",\"options\":[\"同意\","
                 "\" 不同意 \",\"Not sure\"],\"multi\":true}", &cmd) == 0);
    CHECK_STR(cmd.title, "你同意吗？");
    CHECK(cmd.n_options == 3);
    CHECK_STR(cmd.options[1], "不同意");
    CHECK(cmd.multi);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"poll.vote\",\"poll_id\":4,\"option_ids\":[2,3]}", &cmd) == 0);
    CHECK(cmd.poll_id == 4 && cmd.n_ids == 2 && cmd.ids[0] == 2 && cmd.ids[1] == 3);
    forum_command_free(&cmd);

    CHECK(rejects("{\"type\":\"poll.create\",\"title\":\"t\",\"options\":[\"a\"]}",
                  FORUM_E_BAD_REQUEST, "options"));
    CHECK(rejects("{\"type\":\"poll.create\",\"title\":\"t\",\"options\":[\"a\",\"b\",\"c\","
                  "\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]}", FORUM_E_BAD_REQUEST,
                  "options"));
    CHECK(rejects("{\"type\":\"poll.create\",\"title\":\"t\",\"options\":[\"a\",\" \"]}",
                  FORUM_E_BAD_REQUEST, "options"));
    CHECK(rejects("{\"type\":\"poll.create\",\"title\":\"t\",\"options\":[\"a\",2]}",
                  FORUM_E_BAD_REQUEST, "options"));
    CHECK(rejects("{\"type\":\"poll.create\",\"title\":\"t\"}", FORUM_E_BAD_REQUEST, "options"));
    CHECK(rejects("{\"type\":\"poll.create\",\"title\":\" \",\"options\":[\"a\",\"b\"]}",
                  FORUM_E_BAD_REQUEST, "title"));
    CHECK(rejects("{\"type\":\"poll.create\",\"title\":\"t\",\"options\":[\"a\",\"b\"],"
                  "\"multi\":\"yes\"}", FORUM_E_BAD_REQUEST, "multi"));
    char *long_opt = repeat("选", 201);
    char buf[1000];
    snprintf(buf, sizeof buf, "{\"type\":\"poll.create\",\"title\":\"t\",\"options\":[\"a\","
             "\"%s\"]}", long_opt);
    CHECK(rejects(buf, FORUM_E_TOO_LONG, "options"));
    free(long_opt);
    char *long_title = with_long_field("poll.create", "\"options\":[\"a\",\"b\"],", "title",
                                       "t", 201);
    CHECK(rejects(long_title, FORUM_E_TOO_LONG, "title"));
    free(long_title);

    CHECK(rejects("{\"type\":\"poll.vote\",\"poll_id\":4,\"option_ids\":[]}",
                  FORUM_E_BAD_REQUEST, "option_ids"));
    CHECK(rejects("{\"type\":\"poll.vote\",\"poll_id\":4}", FORUM_E_BAD_REQUEST, "option_ids"));
    CHECK(rejects("{\"type\":\"poll.vote\",\"poll_id\":4,\"option_ids\":2}",
                  FORUM_E_BAD_REQUEST, "option_ids"));
    CHECK(rejects("{\"type\":\"poll.vote\",\"option_ids\":[2]}", FORUM_E_BAD_REQUEST,
                  "poll_id"));
    CHECK(rejects("{\"type\":\"poll.vote\",\"poll_id\":4,\"option_ids\":[1,2,3,4,5,6,7,8,9,10,"
                  "11]}", FORUM_E_BAD_REQUEST, "option_ids"));
    CHECK(rejects("{\"type\":\"poll.close\"}", FORUM_E_BAD_REQUEST, "poll_id"));
}

/* ---------------------------------------------------------------- programs and sessions */

static void test_programs(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"program.create\",\"title\":\"城市论坛\",\"description\":\"每周"
                 "\\n一次\"}", &cmd) == 0);
    CHECK_STR(cmd.title, "城市论坛");
    CHECK_STR(cmd.description, "每周\n一次");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"program.update\",\"program_id\":2,\"description\":null}",
                 &cmd) == 0);
    CHECK(cmd.program_id == 2);
    CHECK(cmd.title == NULL);
    CHECK_STR(cmd.description, "");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"program.update\",\"program_id\":2,\"title\":\"New\"}", &cmd) == 0);
    CHECK_STR(cmd.title, "New");
    CHECK(cmd.description == NULL);
    forum_command_free(&cmd);

    CHECK(rejects("{\"type\":\"program.create\"}", FORUM_E_BAD_REQUEST, "title"));
    CHECK(rejects("{\"type\":\"program.create\",\"title\":\"\\t\"}", FORUM_E_BAD_REQUEST,
                  "title"));
    CHECK(rejects("{\"type\":\"program.update\",\"title\":\"x\"}", FORUM_E_BAD_REQUEST,
                  "program_id"));
    CHECK(rejects("{\"type\":\"program.update\",\"program_id\":2,\"title\":\"\"}",
                  FORUM_E_BAD_REQUEST, "title"));
    char *desc = with_long_field("program.create", "\"title\":\"t\",", "description", "d", 2001);
    CHECK(rejects(desc, FORUM_E_TOO_LONG, "description"));
    free(desc);
}

static void test_session_create_full(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"session.create\",\"id\":\"s\",\"program_id\":1,"
                 "\"title\":\"第12期：城市交通\",\"topic\":\" 地铁 \","
                 "\"scheduled_at\":1700000000000,\"premoderation\":true,"
                 "\"anonymous_allowed\":false,\"blocked_words\":[\"广告\",\"SPAM\"],"
                 "\"panelists\":[{\"name\":\"王教授\",\"affiliation\":\"大学\",\"role\":\"专家\"},"
                 "{\"name\":\"Li\"}],\"segments\":[\"开场\",{\"title\":\"问答\"}],"
                 "\"question_rate_per_min\":3}", &cmd) == 0);
    CHECK(cmd.type == FORUM_CMD_SESSION_CREATE);
    CHECK(cmd.program_id == 1);
    CHECK_STR(cmd.title, "第12期：城市交通");
    CHECK(cmd.has_topic);
    CHECK_STR(cmd.topic, "地铁");
    CHECK(cmd.has_scheduled_at && cmd.scheduled_at == 1700000000000LL);
    CHECK(cmd.has_premoderation && cmd.premoderation);
    CHECK(cmd.has_anonymous_allowed && !cmd.anonymous_allowed);
    CHECK(cmd.has_blocked_words && cmd.n_blocked_words == 2);
    CHECK_STR(cmd.blocked_words[0], "广告");
    CHECK(cmd.has_panelists && cmd.n_panelists == 2);
    CHECK_STR(cmd.panelists[0].name, "王教授");
    CHECK_STR(cmd.panelists[0].affiliation, "大学");
    CHECK_STR(cmd.panelists[0].role, "专家");
    CHECK_STR(cmd.panelists[1].name, "Li");
    CHECK(cmd.panelists[1].affiliation == NULL && cmd.panelists[1].role == NULL);
    CHECK(cmd.has_segments && cmd.n_segments == 2);
    CHECK_STR(cmd.segments[0], "开场");
    CHECK_STR(cmd.segments[1], "问答");
    CHECK(cmd.has_question_rate && cmd.question_rate_per_min == 3);
    forum_command_free(&cmd);
}

static void test_session_update_fields_are_optional(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"session.update\",\"session\":\"K7M3PQ\",\"premoderation\":false,"
                 "\"topic\":null,\"scheduled_at\":null,\"blocked_words\":null}", &cmd) == 0);
    CHECK_STR(cmd.session, "K7M3PQ");
    CHECK(cmd.has_premoderation && !cmd.premoderation);
    CHECK(cmd.has_topic && cmd.topic == NULL);
    CHECK(cmd.has_scheduled_at && cmd.scheduled_at == 0);
    CHECK(cmd.has_blocked_words && cmd.n_blocked_words == 0);
    CHECK(!cmd.has_panelists && !cmd.has_segments && !cmd.has_anonymous_allowed);
    CHECK(cmd.title == NULL && cmd.program_id == 0);
    forum_command_free(&cmd);
}

static void test_session_field_errors(void)
{
    CHECK(rejects("{\"type\":\"session.create\",\"title\":\"t\"}", FORUM_E_BAD_REQUEST,
                  "program_id"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1}", FORUM_E_BAD_REQUEST,
                  "title"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"premoderation\":1}", FORUM_E_BAD_REQUEST, "premoderation"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"scheduled_at\":-5}", FORUM_E_BAD_REQUEST, "scheduled_at"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"scheduled_at\":\"tomorrow\"}", FORUM_E_BAD_REQUEST, "scheduled_at"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"panelists\":[\"Wang\"]}", FORUM_E_BAD_REQUEST, "panelists"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"panelists\":[{\"affiliation\":\"x\"}]}", FORUM_E_BAD_REQUEST, "panelists"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"panelists\":[{\"name\":\"a\"},{\"name\":\" \"}]}", FORUM_E_BAD_REQUEST,
                  "panelists"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"panelists\":[{\"name\":\"a\",\"role\":3}]}", FORUM_E_BAD_REQUEST,
                  "panelists"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"segments\":[\"a\",{\"name\":\"b\"}]}", FORUM_E_BAD_REQUEST, "segments"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"segments\":[\"a\",7]}", FORUM_E_BAD_REQUEST, "segments"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"blocked_words\":[\"\"]}", FORUM_E_BAD_REQUEST, "blocked_words"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"blocked_words\":\"spam\"}", FORUM_E_BAD_REQUEST, "blocked_words"));
    CHECK(rejects("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
                  "\"question_rate_per_min\":1.5}", FORUM_E_BAD_REQUEST,
                  "question_rate_per_min"));
    CHECK(rejects("{\"type\":\"session.update\",\"title\":\"\"}", FORUM_E_BAD_REQUEST, "title"));

    /* counts */
    char buf[20000];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"session.create\",\"program_id\":1,"
                                "\"title\":\"t\",\"panelists\":[");
    for (int i = 0; i < 21; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"name\":\"p%d\"}", i ? "," : "", i);
    snprintf(buf + n, sizeof buf - n, "]}");
    CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "panelists"));
    n = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"session.create\",\"program_id\":1,"
                         "\"title\":\"t\",\"segments\":[");
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"s%d\"", i ? "," : "", i);
    snprintf(buf + n, sizeof buf - n, "]}");
    CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "segments"));
    n = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"session.create\",\"program_id\":1,"
                         "\"title\":\"t\",\"blocked_words\":[");
    for (int i = 0; i < 201; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"w%d\"", i ? "," : "", i);
    snprintf(buf + n, sizeof buf - n, "]}");
    CHECK(rejects(buf, FORUM_E_BAD_REQUEST, "blocked_words"));

    /* lengths */
    char *word = repeat("词", 41);
    snprintf(buf, sizeof buf, "{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
             "\"blocked_words\":[\"%s\"]}", word);
    CHECK(rejects(buf, FORUM_E_TOO_LONG, "blocked_words"));
    free(word);
    char *name = repeat("名", 41);
    snprintf(buf, sizeof buf, "{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
             "\"panelists\":[{\"name\":\"%s\"}]}", name);
    CHECK(rejects(buf, FORUM_E_TOO_LONG, "panelists"));
    free(name);
    char *topic = with_long_field("session.create", "\"program_id\":1,\"title\":\"t\",", "topic",
                                  "话", 201);
    CHECK(rejects(topic, FORUM_E_TOO_LONG, "topic"));
    free(topic);
    char *seg = repeat("段", 201);
    snprintf(buf, sizeof buf, "{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\","
             "\"segments\":[{\"title\":\"%s\"}]}", seg);
    CHECK(rejects(buf, FORUM_E_TOO_LONG, "segments"));
    free(seg);
}

static void test_null_limits_use_defaults(void)
{
    forum_command cmd;
    const char *q = "{\"type\":\"question.submit\",\"text\":\"hi\"}";
    CHECK(proto_decode(q, strlen(q), NULL, &cmd, &err) == 0);
    forum_command_free(&cmd);
}

static void test_smaller_limits_are_honoured(void)
{
    forum_limits small = limits;
    small.question_max_chars = 5;
    forum_command cmd;
    const char *q = "{\"type\":\"question.submit\",\"text\":\"你好你好你好\"}";
    CHECK(proto_decode(q, strlen(q), &small, &cmd, &err) == -1);
    CHECK(err.code == FORUM_E_TOO_LONG);
    CHECK(strstr(err.message, "5") != NULL);
}

/* ---------------------------------------------------------------- encoders */

static void test_error_names(void)
{
    CHECK_STR(proto_err_name(FORUM_E_BAD_JSON), "bad_json");
    CHECK_STR(proto_err_name(FORUM_E_BAD_REQUEST), "bad_request");
    CHECK_STR(proto_err_name(FORUM_E_TOO_LONG), "too_long");
    CHECK_STR(proto_err_name(FORUM_E_UNKNOWN_TYPE), "unknown_type");
    CHECK_STR(proto_err_name(FORUM_E_UNAUTHORIZED), "unauthorized");
    CHECK_STR(proto_err_name(FORUM_E_FORBIDDEN), "forbidden");
    CHECK_STR(proto_err_name(FORUM_E_NOT_FOUND), "not_found");
    CHECK_STR(proto_err_name(FORUM_E_CONFLICT), "conflict");
    CHECK_STR(proto_err_name(FORUM_E_RATE_LIMITED), "rate_limited");
    CHECK_STR(proto_err_name(FORUM_E_BANNED), "banned");
    CHECK_STR(proto_err_name(FORUM_E_SESSION_CLOSED), "session_closed");
    CHECK_STR(proto_err_name(FORUM_E_INTERNAL), "internal");
}

/* Checks that text is the expected JSON and frees it. */
#define CHECK_JSON(text, expected)  \
    do {                            \
        char *check_json_ = (text); \
        CHECK_STR(check_json_, expected); \
        free(check_json_);          \
    } while (0)

static void test_encode_ack(void)
{
    CHECK_JSON(proto_encode_ack("7", NULL), "{\"type\":\"ack\",\"re\":\"7\"}");
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "question_id", 5);
    cJSON_AddTrueToObject(result, "voted");
    CHECK_JSON(proto_encode_ack("a\"b", result),
               "{\"type\":\"ack\",\"re\":\"a\\\"b\",\"question_id\":5,\"voted\":true}");
    cJSON_Delete(result);

    /* a question result is sent as stored: the requester sees its own viewer id */
    result = cJSON_Parse("{\"question\":{\"id\":12,\"text\":\"你好\\n再见\",\"author\":null,"
                         "\"votes\":0,\"created_at\":1700000000000,\"starred\":false,"
                         "\"mine\":true}}");
    CHECK_JSON(proto_encode_ack("q1", result),
               "{\"type\":\"ack\",\"re\":\"q1\",\"question\":{\"id\":12,\"text\":\"你好\\n再见\","
               "\"author\":null,\"votes\":0,\"created_at\":1700000000000,\"starred\":false,"
               "\"mine\":true}}");
    cJSON_Delete(result);
}

static void test_numbers_print_as_integers(void)
{
    cJSON *result = cJSON_CreateObject();
    cJSON_AddNumberToObject(result, "at", 1700000000000.0);
    cJSON_AddNumberToObject(result, "big", 9007199254740991.0);
    cJSON_AddNumberToObject(result, "round", 1e15);
    cJSON_AddNumberToObject(result, "neg", -42);
    cJSON_AddNumberToObject(result, "half", 0.5);
    cJSON_AddNumberToObject(result, "third", 1.0 / 3.0);
    CHECK_JSON(proto_encode_ack("n", result),
               "{\"type\":\"ack\",\"re\":\"n\",\"at\":1700000000000,\"big\":9007199254740991,"
               "\"round\":1000000000000000,\"neg\":-42,\"half\":0.5,"
               "\"third\":0.33333333333333331}");
    cJSON_Delete(result);
}

static void test_encode_error(void)
{
    CHECK_JSON(proto_encode_error("3", FORUM_E_BAD_REQUEST, "question_id",
                                  "question_id must be a positive integer", 0),
               "{\"type\":\"error\",\"re\":\"3\",\"code\":\"bad_request\","
               "\"message\":\"question_id must be a positive integer\","
               "\"field\":\"question_id\"}");
    CHECK_JSON(proto_encode_error(NULL, FORUM_E_BAD_JSON, NULL, "not valid JSON", -1),
               "{\"type\":\"error\",\"code\":\"bad_json\",\"message\":\"not valid JSON\"}");
    CHECK_JSON(proto_encode_error("", FORUM_E_RATE_LIMITED, "", "慢一点", 1500),
               "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"慢一点\","
               "\"retry_after_ms\":1500}");
    CHECK_JSON(proto_encode_error("x", FORUM_E_FORBIDDEN, NULL, NULL, 0),
               "{\"type\":\"error\",\"re\":\"x\",\"code\":\"forbidden\","
               "\"message\":\"forbidden\"}");
    CHECK_JSON(proto_encode_error("x", FORUM_E_INTERNAL, NULL, "tab\there \x01", 0),
               "{\"type\":\"error\",\"re\":\"x\",\"code\":\"internal\","
               "\"message\":\"tab\\there \\u0001\"}");
}

static void test_encode_error_from_decoder(void)
{
    forum_command cmd;
    CHECK(decode("{\"id\":\"e1\",\"type\":\"question.submit\",\"text\":\"  \"}", &cmd) == -1);
    CHECK_JSON(proto_encode_error(err.re, err.code, err.field, err.message, 0),
               "{\"type\":\"error\",\"re\":\"e1\",\"code\":\"bad_request\","
               "\"message\":\"text must not be empty\",\"field\":\"text\"}");
}

static void test_encode_welcome(void)
{
    cJSON *snap = cJSON_Parse("{\"session\":{\"code\":\"K7M3PQ\",\"title\":\"论坛\"},"
                              "\"my_votes\":[3,4]}");
    CHECK_JSON(proto_encode_welcome("1", FORUM_ROLE_VIEWER, "v0123456789abcdef", 17, snap),
               "{\"type\":\"welcome\",\"re\":\"1\",\"role\":\"viewer\","
               "\"viewer_id\":\"v0123456789abcdef\",\"seq\":17,\"snapshot\":{\"session\":"
               "{\"code\":\"K7M3PQ\",\"title\":\"论坛\"},\"my_votes\":[3,4]}}");
    CHECK_JSON(proto_encode_welcome("1", FORUM_ROLE_MODERATOR, NULL, 0, snap),
               "{\"type\":\"welcome\",\"re\":\"1\",\"role\":\"moderator\",\"seq\":0,"
               "\"snapshot\":{\"session\":{\"code\":\"K7M3PQ\",\"title\":\"论坛\"},"
               "\"my_votes\":[3,4]}}");
    cJSON_Delete(snap);
    CHECK_JSON(proto_encode_welcome("9", FORUM_ROLE_VIEWER, "v0123456789abcdef", 1234, NULL),
               "{\"type\":\"welcome\",\"re\":\"9\",\"role\":\"viewer\","
               "\"viewer_id\":\"v0123456789abcdef\",\"seq\":1234,\"resumed\":true}");
    CHECK_JSON(proto_encode_welcome(NULL, FORUM_ROLE_PRODUCER, "", 5, NULL),
               "{\"type\":\"welcome\",\"role\":\"producer\",\"seq\":5,\"resumed\":true}");
}

/* A typed event decoded from a stored payload (as replay makes them). */
static forum_event make_event(const char *kind, int64_t seq, int64_t offset_ms,
                              const char *payload)
{
    forum_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = forum_kind_from_name(kind);
    snprintf(ev.session, sizeof ev.session, "K7M3PQ");
    ev.seq = seq;
    ev.at = 1700000000123LL;
    ev.offset_ms = offset_ms;
    CHECK(ev.kind != FORUM_EV__COUNT);
    int rc = forum_event_decode_text(&ev, payload, strlen(payload), NULL, 0);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "    cannot decode %s %s\n", kind, payload);
    return ev;
}

/* The event encoded for view, parsed back. */
static cJSON *encoded(const forum_event *ev, forum_view view)
{
    char *text = proto_encode_event(ev, view);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    CHECK(o != NULL);
    free(text);
    return o;
}

static const cJSON *at(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

#define QUESTION_21                                                                              \
    "{\"id\":21,\"session\":\"K7M3PQ\",\"text\":\"为什么？\",\"author\":\"李\",\"category\":"  \
    "\"question\",\"to\":null,\"parent_id\":null,\"state\":\"pending\",\"votes\":0,"            \
    "\"created_at\":5,\"phase\":\"pre\",\"answer_note\":null,\"starred\":false,\"mine\":false," \
    "\"source\":\"web\",\"carried_from\":null,\"merged_into\":null,"                          \
    "\"viewer_id\":\"v00112233aabbccdd\"}"

static void test_event_question_views(void)
{
    forum_event ev = make_event("question.submitted", 8, -1, "{\"question\":" QUESTION_21 "}");
    /* staff: exactly the stored rendering */
    CHECK_JSON(proto_encode_event(&ev, FORUM_VIEW_STAFF),
               "{\"type\":\"event\",\"seq\":8,\"at\":1700000000123,"
               "\"kind\":\"question.submitted\",\"question\":" QUESTION_21 "}");
    cJSON *pub = encoded(&ev, FORUM_VIEW_PUBLIC), *sub = encoded(&ev, FORUM_VIEW_SUBJECT);
    const cJSON *pq = at(pub, "question"), *sq = at(sub, "question");
    CHECK(at(pq, "viewer_id") == NULL && at(sq, "viewer_id") == NULL);
    CHECK(cJSON_IsFalse(at(pq, "mine")) && cJSON_IsTrue(at(sq, "mine")));
    CHECK_STR(cJSON_GetStringValue(at(pq, "text")), "为什么？");
    CHECK_STR(cJSON_GetStringValue(at(pq, "author")), "李");
    CHECK(at(pub, "offset_ms") == NULL);
    cJSON_Delete(pub);
    cJSON_Delete(sub);
    forum_event_clear(&ev);
}

static void test_event_offset_ms_once_live(void)
{
    forum_event ev = make_event("onair.changed", 30, 0, "{\"question_id\":21}");
    CHECK_JSON(proto_encode_event(&ev, FORUM_VIEW_PUBLIC),
               "{\"type\":\"event\",\"seq\":30,\"at\":1700000000123,\"offset_ms\":0,"
               "\"kind\":\"onair.changed\",\"question_id\":21}");
    forum_event_clear(&ev);
    ev = make_event("onair.changed", 31, 3600000, "{\"question_id\":null}");
    CHECK_JSON(proto_encode_event(&ev, FORUM_VIEW_STAFF),
               "{\"type\":\"event\",\"seq\":31,\"at\":1700000000123,\"offset_ms\":3600000,"
               "\"kind\":\"onair.changed\",\"question_id\":null}");
    forum_event_clear(&ev);
}

static void test_event_merge_hides_viewer_ids_of_both(void)
{
    forum_event ev = make_event(
        "question.merged", 9, 5,
        "{\"question\":{\"id\":2,\"text\":\"二\",\"state\":\"dismissed\",\"merged_into\":1,"
        "\"viewer_id\":\"vaaaaaaaaaaaaaaaa\"},"
        "\"into\":{\"id\":1,\"text\":\"一\",\"state\":\"published\",\"votes\":4,"
        "\"viewer_id\":\"vbbbbbbbbbbbbbbbb\"}}");
    snprintf(ev.subject, sizeof ev.subject, "vaaaaaaaaaaaaaaaa");
    char *pub = proto_encode_event(&ev, FORUM_VIEW_PUBLIC);
    CHECK(pub && !strstr(pub, "viewer_id") && !strstr(pub, "\"mine\":true"));
    free(pub);
    cJSON *sub = encoded(&ev, FORUM_VIEW_SUBJECT);
    CHECK(cJSON_IsTrue(at(at(sub, "question"), "mine")));
    CHECK(cJSON_IsFalse(at(at(sub, "into"), "mine"))); /* the target is someone else's */
    CHECK(at(at(sub, "into"), "votes")->valueint == 4);
    cJSON_Delete(sub);
    char *subject = proto_encode_event(&ev, FORUM_VIEW_SUBJECT);
    CHECK(subject && !strstr(subject, "viewer_id"));
    free(subject);
    char *staff = proto_encode_event(&ev, FORUM_VIEW_STAFF);
    CHECK(staff && strstr(staff, "vaaaaaaaaaaaaaaaa") && strstr(staff, "vbbbbbbbbbbbbbbbb"));
    free(staff);
    forum_event_clear(&ev);
}

static void test_event_session_hides_blocked_words(void)
{
    forum_event ev = make_event(
        "session.changed", 3, -1,
        "{\"session\":{\"code\":\"K7M3PQ\",\"program_id\":1,\"title\":\"第一期\","
        "\"status\":\"open\",\"blocked_words\":[\"广告\"],\"premoderation\":false}}");
    char *pub = proto_encode_event(&ev, FORUM_VIEW_PUBLIC);
    CHECK(pub && !strstr(pub, "blocked_words") && !strstr(pub, "广告"));
    free(pub);
    cJSON *staff = encoded(&ev, FORUM_VIEW_STAFF);
    const cJSON *words = at(at(staff, "session"), "blocked_words");
    CHECK(cJSON_GetArraySize(words) == 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(words, 0)), "广告");
    cJSON_Delete(staff);
    forum_event_clear(&ev);
}

/* The stream setting: set, cleared with null, left alone when absent; a URL of another scheme,
 * with markup in it, or on a host the configuration does not allow is refused. */
static void test_session_stream_setting(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"session.update\",\"session\":\"K7M3PQ\",\"stream\":{\"kind\":"
                 "\"hls\",\"url\":\"https://live.example.com/show.m3u8\"}}",
                 &cmd) == 0);
    CHECK(cmd.has_stream && cmd.stream_kind == FORUM_STREAM_HLS);
    CHECK_STR(cmd.stream_url, "https://live.example.com/show.m3u8");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"session.update\",\"stream\":null}", &cmd) == 0);
    CHECK(cmd.has_stream && cmd.stream_kind == FORUM_STREAM_NONE && !cmd.stream_url);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"session.update\",\"title\":\"t\"}", &cmd) == 0);
    CHECK(!cmd.has_stream);
    forum_command_free(&cmd);
    CHECK(accepts("{\"type\":\"session.create\",\"program_id\":1,\"title\":\"t\",\"stream\":"
                  "{\"kind\":\"embed\",\"url\":\"https://player.bilibili.com/player.html?bvid=BV1\"}}"));

    static const char *const bad[] = {
        "\"stream\":\"https://live.example.com/show.m3u8\"",
        "\"stream\":{\"url\":\"https://live.example.com/show.m3u8\"}",
        "\"stream\":{\"kind\":\"rtmp\",\"url\":\"https://live.example.com/show\"}",
        "\"stream\":{\"kind\":\"none\",\"url\":\"https://live.example.com/show\"}",
        "\"stream\":{\"kind\":\"hls\",\"url\":7}",
        "\"stream\":{\"kind\":\"hls\",\"url\":\"javascript:alert(document.cookie)\"}",
        "\"stream\":{\"kind\":\"hls\",\"url\":\"https://a.example/x\\\"><script>alert(1)</script>\"}",
        "\"stream\":{\"kind\":\"embed\",\"url\":\"https://evil.example/player.html\"}",
        "\"stream\":{\"kind\":\"embed\",\"url\":\"http://player.bilibili.com/player.html\"}",
        "\"stream\":[\"hls\",\"https://live.example.com/show.m3u8\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"type\":\"session.update\",%s}", bad[i]);
        CHECK(rejects(text, FORUM_E_BAD_REQUEST, "stream"));
    }
    char *url = repeat("a", FORUM_URL_MAX);
    size_t cap = strlen(url) + 128;
    char *text = malloc(cap);
    snprintf(text, cap, "{\"type\":\"session.update\",\"stream\":{\"kind\":\"hls\","
             "\"url\":\"https://a.example/%s\"}}", url);
    CHECK(rejects(text, FORUM_E_TOO_LONG, "stream"));
    free(text);
    free(url);

    /* the allowlists come from the limits (the configuration) */
    forum_limits strict = limits;
    strict.stream_hosts = "live.example.com";
    strict.embed_hosts = "";
    const char *other = "{\"type\":\"session.update\",\"stream\":{\"kind\":\"hls\","
                        "\"url\":\"https://cdn.example.net/show.m3u8\"}}";
    CHECK(proto_decode(other, strlen(other), &strict, &cmd, &err) == -1 &&
          strstr(err.message, "--stream-hosts"));
    const char *player = "{\"type\":\"session.update\",\"stream\":{\"kind\":\"embed\","
                         "\"url\":\"https://player.bilibili.com/player.html\"}}";
    CHECK(proto_decode(player, strlen(player), &strict, &cmd, &err) == -1);
}

/* session.changed carries "stream" (null when there is none, and for events written before
 * the setting existed); a stored stream with a URL of another form does not decode. */
static void test_event_session_stream(void)
{
    forum_event ev = make_event(
        "session.changed", 5, -1,
        "{\"session\":{\"code\":\"K7M3PQ\",\"program_id\":1,\"title\":\"第一期\","
        "\"status\":\"open\",\"stream\":{\"kind\":\"hls\",\"url\":\"https://live.example.com/a.m3u8\"}}}");
    cJSON *pub = encoded(&ev, FORUM_VIEW_PUBLIC);
    const cJSON *stream = at(at(pub, "session"), "stream");
    CHECK_STR(cJSON_GetStringValue(at(stream, "kind")), "hls");
    CHECK_STR(cJSON_GetStringValue(at(stream, "url")), "https://live.example.com/a.m3u8");
    cJSON_Delete(pub);
    forum_event_clear(&ev);

    ev = make_event("session.changed", 6, -1,
                    "{\"session\":{\"code\":\"K7M3PQ\",\"program_id\":1,\"title\":\"t\","
                    "\"status\":\"open\"}}");
    pub = encoded(&ev, FORUM_VIEW_PUBLIC);
    CHECK(cJSON_IsNull(at(at(pub, "session"), "stream")));
    cJSON_Delete(pub);
    forum_event_clear(&ev);

    static const char *const bad[] = {
        "{\"kind\":\"hls\",\"url\":\"javascript:alert(1)\"}",
        "{\"kind\":\"none\",\"url\":\"https://a.example/\"}",
        "{\"kind\":\"hls\"}",
        "\"https://a.example/\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"session\":{\"code\":\"K7M3PQ\",\"program_id\":1,\"title\":\"t\","
                 "\"status\":\"open\",\"stream\":%s}}",
                 bad[i]);
        memset(&ev, 0, sizeof ev);
        snprintf(ev.session, sizeof ev.session, "K7M3PQ");
        ev.kind = FORUM_EV_SESSION_CHANGED;
        CHECK(forum_event_decode_text(&ev, text, strlen(text), NULL, 0) == -1);
        forum_event_clear(&ev);
    }
}

static void test_event_top_level_viewer_id_is_staff_only(void)
{
    forum_event ev = make_event("viewer.banned", 4, -1, "{\"viewer_id\":\"v0123456789abcdef\"}");
    CHECK_JSON(proto_encode_event(&ev, FORUM_VIEW_STAFF),
               "{\"type\":\"event\",\"seq\":4,\"at\":1700000000123,\"kind\":\"viewer.banned\","
               "\"viewer_id\":\"v0123456789abcdef\"}");
    CHECK_JSON(proto_encode_event(&ev, FORUM_VIEW_PUBLIC),
               "{\"type\":\"event\",\"seq\":4,\"at\":1700000000123,\"kind\":\"viewer.banned\"}");
    forum_event_clear(&ev);
}

static void test_event_counts_and_lists(void)
{
    forum_event ev = make_event("votes.changed", 40, 120000, "{\"counts\":{\"21\":3,\"22\":0}}");
    CHECK_JSON(proto_encode_event(&ev, FORUM_VIEW_PUBLIC),
               "{\"type\":\"event\",\"seq\":40,\"at\":1700000000123,\"offset_ms\":120000,"
               "\"kind\":\"votes.changed\",\"counts\":{\"21\":3,\"22\":0}}");
    forum_event_clear(&ev);
    ev = make_event("queue.changed", 41, 120001, "{\"up_next\":[5,3,9]}");
    CHECK_JSON(proto_encode_event(&ev, FORUM_VIEW_PUBLIC),
               "{\"type\":\"event\",\"seq\":41,\"at\":1700000000123,\"offset_ms\":120001,"
               "\"kind\":\"queue.changed\",\"up_next\":[5,3,9]}");
    forum_event_clear(&ev);
    /* a list of question objects is rendered element by element */
    ev = make_event("viewer.erased", 42, -1,
                    "{\"viewer_id\":\"x0011223344556677\",\"questions\":["
                    "{\"id\":1,\"text\":\"a\",\"state\":\"published\",\"viewer_id\":\"x0011223344556677\"},"
                    "{\"id\":2,\"text\":\"b\",\"state\":\"pending\",\"viewer_id\":\"x0011223344556677\"}]}");
    char *pub = proto_encode_event(&ev, FORUM_VIEW_PUBLIC);
    CHECK(pub && !strstr(pub, "x0011223344556677"));
    free(pub);
    cJSON *staff = encoded(&ev, FORUM_VIEW_STAFF);
    CHECK(cJSON_GetArraySize(at(staff, "questions")) == 2);
    CHECK_STR(cJSON_GetStringValue(at(staff, "viewer_id")), "x0011223344556677");
    cJSON_Delete(staff);
    forum_event_clear(&ev);
}

/* Stored payloads are untrusted: a kind nobody knows, or a payload of the wrong shape for its
 * kind, does not decode into an event. */
static void test_event_decoding_refuses_malformed_payloads(void)
{
    CHECK(forum_kind_from_name("poll.frobnicated") == FORUM_EV__COUNT);
    const char *bad[][2] = {
        {"poll.changed", "{\"poll\":{\"id\":1,\"state\":\"open\"}}"},   /* no title, options */
        {"question.updated", "{\"question\":{\"id\":1,\"state\":\"pending\"}}"}, /* no text */
        {"question.merged", "{\"question\":{\"id\":1,\"text\":\"t\",\"state\":\"dismissed\"}}"},
        {"panel.changed", "{\"panel\":{\"speaker_ids\":\"1\"}}"},
        {"votes.changed", "{\"counts\":{\"x\":1}}"},
        {"session.changed", "{\"session\":{\"code\":\"OTHER9\",\"program_id\":1,\"title\":\"t\","
                            "\"status\":\"open\"}}"}, /* another session's code */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        forum_event ev;
        memset(&ev, 0, sizeof ev);
        snprintf(ev.session, sizeof ev.session, "K7M3PQ");
        ev.kind = forum_kind_from_name(bad[i][0]);
        int rc = forum_event_decode_text(&ev, bad[i][1], strlen(bad[i][1]), NULL, 0);
        CHECK(rc == -1);
        if (rc != -1)
            fprintf(stderr, "    decoded %s %s\n", bad[i][0], bad[i][1]);
    }
}

static void test_encodings_parse_back(void)
{
    forum_event ev = make_event("question.dismissed", 7, 10,
                                "{\"question\":{\"id\":1,\"text\":\"a\\\"b\\\\c\\u0001\\n\","
                                "\"state\":\"dismissed\",\"viewer_id\":\"v1\"},"
                                "\"reason\":\"\\u2028\"}");
    char *text = proto_encode_event(&ev, FORUM_VIEW_SUBJECT);
    cJSON *back = cJSON_Parse(text);
    CHECK(back != NULL);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(back, "question");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "text")),
              "a\"b\\c\x01\n");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "mine")));
    CHECK(cJSON_GetObjectItemCaseSensitive(q, "viewer_id") == NULL);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(back, "reason")),
              "\xe2\x80\xa8");
    cJSON_Delete(back);
    free(text);
    forum_event_clear(&ev);
}

static void test_action_create_fields(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"action.create\",\"question_id\":7,\"text\":\"  加装电梯补贴  \","
                 "\"owner\":\"区住建局\",\"due\":\"2024-02-29\",\"status\":\"in_progress\"}",
                 &cmd) == 0);
    CHECK(cmd.type == FORUM_CMD_ACTION_CREATE);
    CHECK(cmd.has_question_id && cmd.question_id == 7);
    CHECK_STR(cmd.text, "加装电梯补贴");
    CHECK(cmd.has_owner);
    CHECK_STR(cmd.owner, "区住建局");
    CHECK(cmd.has_due);
    CHECK_STR(cmd.due, "2024-02-29");
    CHECK(cmd.has_status && cmd.status == FORUM_ACTION_IN_PROGRESS);
    forum_command_free(&cmd);

    CHECK(decode("{\"type\":\"action.create\",\"text\":\"x\"}", &cmd) == 0);
    CHECK(!cmd.has_question_id && !cmd.has_owner && !cmd.has_due && !cmd.has_status);
    forum_command_free(&cmd);

    CHECK(rejects("{\"type\":\"action.create\"}", FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"action.create\",\"text\":\"  \"}", FORUM_E_BAD_REQUEST, "text"));
    CHECK(rejects("{\"type\":\"action.create\",\"text\":\"x\",\"due\":\"2023-02-29\"}",
                  FORUM_E_BAD_REQUEST, "due"));
    CHECK(rejects("{\"type\":\"action.create\",\"text\":\"x\",\"due\":\"next week\"}",
                  FORUM_E_BAD_REQUEST, "due"));
    CHECK(rejects("{\"type\":\"action.create\",\"text\":\"x\",\"due\":20240101}",
                  FORUM_E_BAD_REQUEST, "due"));
    CHECK(rejects("{\"type\":\"action.create\",\"text\":\"x\",\"status\":\"closed\"}",
                  FORUM_E_BAD_REQUEST, "status"));
    CHECK(rejects("{\"type\":\"action.create\",\"text\":\"x\",\"question_id\":0}",
                  FORUM_E_BAD_REQUEST, "question_id"));
}

static void test_action_update_clears_with_null(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"action.update\",\"action_id\":3,\"owner\":null,\"due\":null,"
                 "\"question_id\":null,\"status\":\"done\"}", &cmd) == 0);
    CHECK(cmd.action_id == 3);
    CHECK(cmd.has_owner && cmd.owner == NULL);
    CHECK(cmd.has_due && cmd.due == NULL);
    CHECK(cmd.has_question_id && cmd.question_id == 0);
    CHECK(cmd.has_status && cmd.status == FORUM_ACTION_DONE);
    CHECK(cmd.text == NULL);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"action.update\",\"text\":\"x\"}", FORUM_E_BAD_REQUEST,
                  "action_id"));
}

static void test_commitment_fields_for_the_public_board(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"action.update\",\"action_id\":3,\"status\":\"withdrawn\","
                 "\"reason\":\"  地块已规划为绿地 \",\"note\":\"内部\\n备注\",\"promised_by\":2,"
                 "\"publication\":\"public\"}",
                 &cmd) == 0);
    CHECK(cmd.has_status && cmd.status == FORUM_ACTION_WITHDRAWN);
    CHECK(cmd.has_reason);
    CHECK_STR(cmd.reason, "地块已规划为绿地");
    CHECK(cmd.has_note);
    CHECK_STR(cmd.note, "内部\n备注");
    CHECK(cmd.has_promised_by && cmd.promised_by == 2);
    CHECK(cmd.has_publication && cmd.publication == FORUM_PUB_PUBLIC);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"action.update\",\"action_id\":3,\"reason\":null,\"note\":null,"
                 "\"promised_by\":null}",
                 &cmd) == 0);
    CHECK(cmd.has_reason && !cmd.reason && cmd.has_note && !cmd.note);
    CHECK(cmd.has_promised_by && cmd.promised_by == 0);
    CHECK(!cmd.has_publication && !cmd.has_status);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"action.update\",\"action_id\":3,\"publication\":\"everyone\"}",
                  FORUM_E_BAD_REQUEST, "publication"));
    CHECK(rejects("{\"type\":\"action.update\",\"action_id\":3,\"promised_by\":0}",
                  FORUM_E_BAD_REQUEST, "promised_by"));
    char *long_reason = repeat("因", 501);
    char text[4096];
    snprintf(text, sizeof text, "{\"type\":\"action.update\",\"action_id\":3,\"reason\":\"%s\"}",
             long_reason);
    CHECK(rejects(text, FORUM_E_TOO_LONG, "reason"));
    free(long_reason);
    /* programmes may be kept off the front page */
    CHECK(decode("{\"type\":\"program.update\",\"program_id\":1,\"listed\":false}", &cmd) == 0);
    CHECK(cmd.has_listed && !cmd.listed);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"program.create\",\"title\":\"t\",\"listed\":\"no\"}",
                  FORUM_E_BAD_REQUEST, "listed"));
}

static void test_rating_requests(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"rating.set\",\"action_id\":4,\"value\":\"basically_satisfied\","
                 "\"comment\":\"  还行\\n再快点 \"}",
                 &cmd) == 0);
    CHECK(cmd.action_id == 4 && cmd.question_id == 0);
    CHECK(cmd.has_rating_value && cmd.rating_value == FORUM_RATING_BASIC);
    CHECK(cmd.has_comment);
    CHECK_STR(cmd.comment, "还行\n再快点");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"rating.set\",\"question_id\":4,\"value\":\"dissatisfied\"}",
                 &cmd) == 0);
    CHECK(!cmd.has_comment && cmd.rating_value == FORUM_RATING_DISSATISFIED);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"rating.set\",\"question_id\":4,\"value\":\"satisfied\","
                 "\"comment\":null}",
                 &cmd) == 0);
    CHECK(cmd.has_comment && !cmd.comment);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"rating.set\",\"value\":\"satisfied\"}", FORUM_E_BAD_REQUEST,
                  "question_id"));
    CHECK(rejects("{\"type\":\"rating.set\",\"question_id\":1,\"action_id\":2,"
                  "\"value\":\"satisfied\"}",
                  FORUM_E_BAD_REQUEST, "action_id"));
    CHECK(rejects("{\"type\":\"rating.set\",\"question_id\":1}", FORUM_E_BAD_REQUEST,
                  "value"));
    CHECK(rejects("{\"type\":\"rating.set\",\"question_id\":1,\"value\":\"ok\"}",
                  FORUM_E_BAD_REQUEST, "value"));
    char *long_comment = repeat("好", 201);
    char text[4096];
    snprintf(text, sizeof text,
             "{\"type\":\"rating.set\",\"question_id\":1,\"value\":\"satisfied\","
             "\"comment\":\"%s\"}",
             long_comment);
    CHECK(rejects(text, FORUM_E_TOO_LONG, "comment"));
    free(long_comment);
    CHECK(rejects("{\"type\":\"rating.approve\"}", FORUM_E_BAD_REQUEST, "rating_id"));
    CHECK(rejects("{\"type\":\"rating.dismiss\",\"rating_id\":-1}", FORUM_E_BAD_REQUEST,
                  "rating_id"));
    /* a board hello names a programme, nothing else */
    CHECK(decode("{\"type\":\"hello\",\"role\":\"board\",\"program_id\":3}", &cmd) == 0);
    CHECK(cmd.role == FORUM_ROLE_BOARD && cmd.program_id == 3 && !cmd.token);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"hello\",\"role\":\"board\"}", FORUM_E_BAD_REQUEST,
                  "program_id"));
    CHECK(rejects("{\"type\":\"hello\",\"role\":\"board\",\"program_id\":\"1\"}",
                  FORUM_E_BAD_REQUEST, "program_id"));
}

static void test_rating_events_hide_the_rater_from_the_public(void)
{
    forum_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = FORUM_EV_RATING_CHANGED;
    ev.seq = 4;
    ev.offset_ms = -1;
    snprintf(ev.subject, sizeof ev.subject, "v0123456789abcdef");
    const char *payload = "{\"rating\":{\"id\":2,\"session\":\"K7M3PQ\",\"question_id\":5,"
                          "\"value\":\"satisfied\",\"comment\":\"好\",\"comment_state\":\"pending\","
                          "\"created_at\":1,\"updated_at\":2,\"viewer_id\":\"v0123456789abcdef\"}}";
    CHECK(forum_event_decode_text(&ev, payload, strlen(payload), NULL, 0) == 0);
    char *staff = proto_encode_event(&ev, FORUM_VIEW_STAFF);
    char *mine = proto_encode_event(&ev, FORUM_VIEW_SUBJECT);
    CHECK(staff && strstr(staff, "v0123456789abcdef"));
    CHECK(mine && !strstr(mine, "v0123456789abcdef") && strstr(mine, "\"comment\":\"好\""));
    free(staff);
    free(mine);
    forum_event_clear(&ev);
    /* stored payloads that break the rules are refused */
    static const char *const bad[] = {
        "{\"rating\":{\"id\":2,\"session\":\"K\",\"question_id\":5,\"action_id\":6,"
        "\"value\":\"satisfied\"}}",
        "{\"rating\":{\"id\":2,\"session\":\"K\",\"value\":\"satisfied\"}}",
        "{\"rating\":{\"id\":2,\"session\":\"K\",\"question_id\":5,\"value\":\"meh\"}}",
        "{\"rating\":{\"id\":2,\"session\":\"K\",\"question_id\":5,\"value\":\"satisfied\","
        "\"comment\":\"x\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&ev, 0, sizeof ev);
        ev.kind = FORUM_EV_RATING_CHANGED;
        CHECK(forum_event_decode_text(&ev, bad[i], strlen(bad[i]), NULL, 0) < 0);
    }
    memset(&ev, 0, sizeof ev);
    ev.kind = FORUM_EV_RATINGS_CHANGED;
    const char *counts = "{\"ratings\":[{\"action_id\":3,\"satisfied\":2,"
                         "\"basically_satisfied\":0,\"dissatisfied\":-1}]}";
    CHECK(forum_event_decode_text(&ev, counts, strlen(counts), NULL, 0) < 0);
}

static void test_carry_over_needs_two_codes(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"session.carry_over\",\"from\":\"K7M3PQ\",\"to\":\"A2B3C4\"}",
                 &cmd) == 0);
    CHECK_STR(cmd.from_session, "K7M3PQ");
    CHECK_STR(cmd.to_session, "A2B3C4");
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"session.carry_over\",\"to\":\"A2B3C4\"}", FORUM_E_BAD_REQUEST,
                  "from"));
    CHECK(rejects("{\"type\":\"session.carry_over\",\"from\":\"K7M3PQ\",\"to\":5}",
                  FORUM_E_BAD_REQUEST, "to"));
    CHECK(rejects("{\"type\":\"session.carry_over\",\"from\":\"a b\",\"to\":\"A2B3C4\"}",
                  FORUM_E_BAD_REQUEST, "from"));
}

/* The requests and fields added for the show's people (issue 15). */
static void test_restore_bulk_ban_overlay_and_names(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"question.restore\",\"question_id\":4,\"state\":\"pending\"}",
                 &cmd) == 0);
    CHECK(cmd.question_id == 4);
    CHECK_STR(cmd.state, "pending");
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"question.restore\",\"question_id\":4,\"state\":\"answered\"}",
                  FORUM_E_BAD_REQUEST, "state"));
    CHECK(rejects("{\"type\":\"question.restore\"}", FORUM_E_BAD_REQUEST, "question_id"));

    CHECK(decode("{\"type\":\"questions.dismiss\",\"question_ids\":[3,5],\"reason\":\" 重复 \"}",
                 &cmd) == 0);
    CHECK(cmd.n_ids == 2 && cmd.ids[0] == 3 && cmd.ids[1] == 5);
    CHECK_STR(cmd.reason, "重复");
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"questions.approve\",\"question_ids\":[]}", FORUM_E_BAD_REQUEST,
                  "question_ids"));
    CHECK(rejects("{\"type\":\"questions.approve\"}", FORUM_E_BAD_REQUEST, "question_ids"));
    CHECK(rejects("{\"type\":\"questions.approve\",\"question_ids\":[1,-2]}",
                  FORUM_E_BAD_REQUEST, "question_ids"));
    char big[1024] = "{\"type\":\"questions.dismiss\",\"question_ids\":[1";
    for (int i = 2; i <= FORUM_BULK_MAX + 1; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), ",%d", i);
    strcat(big, "]}");
    CHECK(rejects(big, FORUM_E_BAD_REQUEST, "question_ids"));

    CHECK(decode("{\"type\":\"viewer.ban\",\"viewer_id\":\"v0123456789abcdef\","
                 "\"dismiss_pending\":true,\"reason\":\"刷屏\"}",
                 &cmd) == 0);
    CHECK(cmd.dismiss_pending);
    CHECK_STR(cmd.reason, "刷屏");
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"viewer.ban\",\"viewer_id\":\"v0123456789abcdef\","
                  "\"dismiss_pending\":1}",
                  FORUM_E_BAD_REQUEST, "dismiss_pending"));

    CHECK(decode("{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"viewer\","
                 "\"token\":\"abcdefghijklmnopqrstuv\",\"overlay\":true}",
                 &cmd) == 0);
    CHECK(cmd.overlay);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"hello\",\"session\":\"K7M3PQ\",\"role\":\"moderator\","
                  "\"token\":\"key\",\"overlay\":true}",
                  FORUM_E_BAD_REQUEST, "overlay"));

    CHECK(decode("{\"type\":\"question.submit\",\"text\":\"q\",\"name\":\" 张阿姨 \"}", &cmd) == 0);
    CHECK_STR(cmd.name, "张阿姨");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"question.submit\",\"text\":\"q\",\"name\":\"  \"}", &cmd) == 0);
    CHECK(cmd.name == NULL); /* empty: as if not given */
    forum_command_free(&cmd);
    char *long_name = with_long_field("question.submit", "\"text\":\"q\",", "name", "名", 41);
    CHECK(rejects(long_name, FORUM_E_TOO_LONG, "name"));
    free(long_name);

    CHECK(decode("{\"type\":\"session.carry_over\",\"from\":\"K7M3PQ\",\"to\":\"A2B3C4\","
                 "\"question_ids\":[7,9]}",
                 &cmd) == 0);
    CHECK(cmd.n_ids == 2 && cmd.ids[1] == 9);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"session.carry_over\",\"from\":\"K7M3PQ\",\"to\":\"A2B3C4\","
                  "\"question_ids\":[]}",
                  FORUM_E_BAD_REQUEST, "question_ids"));
}

/* Staff receive each event with who did it; viewers never do (it may name a viewer id). */
static void test_event_actor_is_staff_only(void)
{
    forum_event ev = make_event("question.submitted", 8, -1, "{\"question\":" QUESTION_21 "}");
    snprintf(ev.actor, sizeof ev.actor, "moderator:小王");
    cJSON *staff = encoded(&ev, FORUM_VIEW_STAFF), *pub = encoded(&ev, FORUM_VIEW_PUBLIC),
          *sub = encoded(&ev, FORUM_VIEW_SUBJECT);
    CHECK_STR(cJSON_GetStringValue(at(staff, "actor")), "moderator:小王");
    CHECK(at(pub, "actor") == NULL && at(sub, "actor") == NULL);
    cJSON_Delete(staff);
    cJSON_Delete(pub);
    cJSON_Delete(sub);
    forum_event_clear(&ev);
}

static void test_search_fields(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"search\",\"q\":\" 停车 \",\"program_id\":2,\"from\":\"2024-01-01\","
                 "\"to\":\"2024-01-31\",\"category\":\"need\",\"state\":\"answered\","
                 "\"limit\":20}", &cmd) == 0);
    CHECK_STR(cmd.query, "停车");
    CHECK(cmd.program_id == 2);
    CHECK(cmd.from_ms == 1704067200000LL);
    CHECK(cmd.to_ms == 1706745600000LL - 1);
    CHECK(cmd.has_category && cmd.category == FORUM_CAT_NEED);
    CHECK_STR(cmd.state, "answered");
    CHECK(cmd.limit == 20);
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"search\",\"q\":\"x\",\"from\":1700000000000,\"state\":\"done\"}",
                 &cmd) == 0);
    CHECK(cmd.from_ms == 1700000000000LL && cmd.to_ms == 0);
    CHECK_STR(cmd.state, "done");
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"search\"}", FORUM_E_BAD_REQUEST, "q"));
    CHECK(rejects("{\"type\":\"search\",\"q\":\"\"}", FORUM_E_BAD_REQUEST, "q"));
    CHECK(rejects("{\"type\":\"search\",\"q\":\"x\",\"from\":\"yesterday\"}", FORUM_E_BAD_REQUEST,
                  "from"));
    CHECK(rejects("{\"type\":\"search\",\"q\":\"x\",\"state\":\"lost\"}", FORUM_E_BAD_REQUEST,
                  "state"));
    CHECK(rejects("{\"type\":\"search\",\"q\":\"x\",\"limit\":0}", FORUM_E_BAD_REQUEST, "limit"));
    CHECK(rejects("{\"type\":\"search\",\"q\":\"x\",\"limit\":201}", FORUM_E_BAD_REQUEST, "limit"));
}

static void test_backup_path_is_a_plain_file_name(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"backup\",\"path\":\"before-show_12.db\"}", &cmd) == 0);
    CHECK_STR(cmd.path, "before-show_12.db");
    forum_command_free(&cmd);
    CHECK(decode("{\"type\":\"backup\",\"path\":null}", &cmd) == 0);
    CHECK(cmd.path == NULL);
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"backup\",\"path\":\"../forum.db\"}", FORUM_E_BAD_REQUEST, "path"));
    CHECK(rejects("{\"type\":\"backup\",\"path\":\"/etc/passwd\"}", FORUM_E_BAD_REQUEST, "path"));
    CHECK(rejects("{\"type\":\"backup\",\"path\":\".hidden\"}", FORUM_E_BAD_REQUEST, "path"));
    CHECK(rejects("{\"type\":\"backup\",\"path\":\"\"}", FORUM_E_BAD_REQUEST, "path"));
}

static void test_viewer_erase_needs_a_viewer_id(void)
{
    forum_command cmd;
    CHECK(decode("{\"type\":\"viewer.erase\",\"session\":\"K7M3PQ\","
                 "\"viewer_id\":\"v0123456789abcdef\"}", &cmd) == 0);
    CHECK_STR(cmd.session, "K7M3PQ");
    CHECK_STR(cmd.viewer_id, "v0123456789abcdef");
    forum_command_free(&cmd);
    CHECK(rejects("{\"type\":\"viewer.erase\",\"viewer_id\":\"x0123456789abcdef\"}",
                  FORUM_E_BAD_REQUEST, "viewer_id"));
}

int main(void)
{
    forum_limits_default(&limits);

    TEST(test_malformed_json_is_bad_json);
    TEST(test_truncated_frames_are_bad_json);
    TEST(test_invalid_utf8_is_bad_json);
    TEST(test_nul_is_refused);
    TEST(test_raw_control_character_in_string_is_bad_json);
    TEST(test_nesting_deeper_than_16_is_bad_json);
    TEST(test_non_object_is_bad_request);
    TEST(test_request_id_is_echoed_in_errors);
    TEST(test_request_id_must_be_1_to_64_bytes);
    TEST(test_request_id_with_control_characters_is_refused);
    TEST(test_type_missing_or_not_string_is_bad_request);
    TEST(test_unknown_type);
    TEST(test_every_request_type_maps_to_its_command);
    TEST(test_unknown_extra_fields_are_ignored);
    TEST(test_session_field_names_the_target_session);
    TEST(test_ids_must_be_positive_integers_below_2_pow_53);
    TEST(test_submit_decodes_all_fields_trimmed);
    TEST(test_submit_defaults);
    TEST(test_submit_imports_name_hotline_and_form_with_an_external_ref);
    TEST(test_webhook_requests_decode_events_preset_and_secret);
    TEST(test_question_of_500_chinese_chars_ok_501_too_long);
    TEST(test_whitespace_only_question_is_bad_request);
    TEST(test_submit_field_errors);
    TEST(test_edit_needs_question_id_and_text);
    TEST(test_hello_viewer);
    TEST(test_hello_producer_may_omit_session);
    TEST(test_hello_errors);
    TEST(test_moderation_requests);
    TEST(test_queue_set_limits);
    TEST(test_panel_set_fields);
    TEST(test_polls);
    TEST(test_programs);
    TEST(test_session_create_full);
    TEST(test_session_update_fields_are_optional);
    TEST(test_session_field_errors);
    TEST(test_null_limits_use_defaults);
    TEST(test_smaller_limits_are_honoured);
    TEST(test_error_names);
    TEST(test_encode_ack);
    TEST(test_numbers_print_as_integers);
    TEST(test_encode_error);
    TEST(test_encode_error_from_decoder);
    TEST(test_encode_welcome);
    TEST(test_event_question_views);
    TEST(test_event_offset_ms_once_live);
    TEST(test_event_merge_hides_viewer_ids_of_both);
    TEST(test_event_session_hides_blocked_words);
    TEST(test_session_stream_setting);
    TEST(test_event_session_stream);
    TEST(test_event_top_level_viewer_id_is_staff_only);
    TEST(test_event_counts_and_lists);
    TEST(test_event_decoding_refuses_malformed_payloads);
    TEST(test_encodings_parse_back);
    TEST(test_action_create_fields);
    TEST(test_action_update_clears_with_null);
    TEST(test_commitment_fields_for_the_public_board);
    TEST(test_rating_requests);
    TEST(test_rating_events_hide_the_rater_from_the_public);
    TEST(test_carry_over_needs_two_codes);
    TEST(test_search_fields);
    TEST(test_backup_path_is_a_plain_file_name);
    TEST(test_viewer_erase_needs_a_viewer_id);
    TEST(test_restore_bulk_ban_overlay_and_names);
    TEST(test_event_actor_is_staff_only);
    return check_summary();
}
