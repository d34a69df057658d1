/* fuzz_proto.c — libFuzzer target for the wire codec (server/core/proto.c). Decodes the input bytes
 * as one client frame; a decoded command is rendered back (ack), a refusal as an error frame.
 * The bytes are also tried as a stored event payload of every kind and rendered in every view. Oracles beyond
 * ASan/UBSan/LeakSanitizer: a refused frame leaves the command empty, decoded text is valid
 * UTF-8 within its limits, every encoding is valid JSON, and public/subject renderings never
 * contain a "viewer_id" or "blocked_words" key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "utf8.h"

static void die(const char *what)
{
    fprintf(stderr, "fuzz_proto: %s\n", what);
    abort();
}

static void check_text(const char *s, int max_chars)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (!utf8_valid(s, n))
        die("decoded text is not valid UTF-8");
    if (utf8_count(s, n) > (size_t)max_chars)
        die("decoded text longer than its limit");
}

/* Parses text (must be valid JSON) and returns it; the caller deletes it. */
static cJSON *parse_back(const char *text)
{
    if (!text)
        die("encoder returned NULL");
    cJSON *json = cJSON_Parse(text);
    if (!json)
        die("encoder produced invalid JSON");
    return json;
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

static void encode_error_frame(const proto_error *err)
{
    char *text = proto_encode_error(err->re, err->code, err->field, err->message, 0);
    cJSON_Delete(parse_back(text));
    free(text);
}

static void encode_ack_frame(const forum_command *cmd)
{
    cJSON *result = cJSON_CreateObject();
    if (cmd->text)
        cJSON_AddStringToObject(result, "text", cmd->text);
    if (cmd->question_id)
        cJSON_AddNumberToObject(result, "question_id", (double)cmd->question_id);
    char *text = proto_encode_ack(cmd->id, result);
    cJSON_Delete(parse_back(text));
    free(text);
    cJSON_Delete(result);
}

/* Tries the input as a stored payload of every kind (as replay reads the database): decoding
 * never crashes, and what decodes renders in every view as JSON without staff-only fields
 * outside the staff view, and renders the same after a second decode of its own rendering. */
static void decode_as_event(const uint8_t *data, size_t size)
{
    cJSON *payload = cJSON_ParseWithLength((const char *)data, size);
    if (!payload)
        return;
    for (int k = 0; k < FORUM_EV__COUNT; k++) {
        forum_event ev;
        memset(&ev, 0, sizeof ev);
        snprintf(ev.session, sizeof ev.session, "K7M3PQ");
        ev.seq = (int64_t)size + 1;
        ev.at = 1700000000000LL;
        ev.offset_ms = size % 2 ? -1 : (int64_t)size;
        ev.kind = (forum_kind)k;
        if (forum_event_decode(&ev, payload, payload) != 0)
            continue;
        for (int view = FORUM_VIEW_STAFF; view <= FORUM_VIEW_SUBJECT; view++) {
            char *text = proto_encode_event(&ev, (forum_view)view);
            cJSON *back = parse_back(text);
            if (view != FORUM_VIEW_STAFF &&
                (has_key(back, "viewer_id") || has_key(back, "blocked_words")))
                die("staff-only field in a public rendering");
            cJSON_Delete(back);
            free(text);
        }
        char *once = forum_event_payload_text(&ev, FORUM_VIEW_STAFF);
        forum_event again;
        memset(&again, 0, sizeof again);
        snprintf(again.session, sizeof again.session, "K7M3PQ");
        again.kind = ev.kind;
        if (!once || forum_event_decode_text(&again, once, strlen(once), NULL, 0) != 0)
            die("a rendered payload does not decode");
        char *twice = forum_event_payload_text(&again, FORUM_VIEW_STAFF);
        if (!twice || strcmp(once, twice) != 0)
            die("decode(render(payload)) renders differently");
        free(once);
        free(twice);
        forum_event_clear(&again);
        forum_event_clear(&ev);
    }
    char *welcome = proto_encode_welcome("1", FORUM_ROLE_VIEWER, "v0123456789abcdef",
                                         (int64_t)size, payload);
    cJSON_Delete(parse_back(welcome));
    free(welcome);
    cJSON_Delete(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const forum_command zero;
    forum_limits limits;
    forum_command cmd;
    proto_error err;
    forum_limits_default(&limits);

    if (proto_decode((const char *)data, size, &limits, &cmd, &err) == 0) {
        if (cmd.type <= FORUM_CMD_NONE || cmd.type >= FORUM_CMD__COUNT)
            die("decoded an invalid command type");
        check_text(cmd.text, limits.question_max_chars);
        check_text(cmd.name, limits.name_max_chars);
        check_text(cmd.author, limits.name_max_chars);
        check_text(cmd.title, limits.title_max_chars);
        check_text(cmd.topic, limits.title_max_chars);
        check_text(cmd.note, limits.note_max_chars);
        check_text(cmd.reason, limits.note_max_chars);
        check_text(cmd.description, limits.note_max_chars);
        check_text(cmd.banner, limits.note_max_chars);
        for (size_t i = 0; i < cmd.n_options; i++)
            check_text(cmd.options[i], limits.title_max_chars);
        for (size_t i = 0; i < cmd.n_segments; i++)
            check_text(cmd.segments[i], limits.title_max_chars);
        for (size_t i = 0; i < cmd.n_panelists; i++)
            check_text(cmd.panelists[i].name, limits.name_max_chars);
        for (size_t i = 0; i < cmd.n_ids; i++)
            if (cmd.ids[i] <= 0)
                die("decoded a non-positive id");
        if (cmd.id && (strlen(cmd.id) == 0 || strlen(cmd.id) >= FORUM_REQUEST_ID_MAX))
            die("request id out of bounds");
        encode_ack_frame(&cmd);
        forum_command_free(&cmd);
    } else {
        if (memcmp(&cmd, &zero, sizeof zero) != 0)
            die("refused frame left the command filled");
        if (err.code == FORUM_OK || err.message[0] == '\0')
            die("refusal without code or message");
        encode_error_frame(&err);
    }
    decode_as_event(data, size);
    return 0;
}
