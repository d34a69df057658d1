/* fuzz_proto.c — libFuzzer target for the wire codec (server/core/proto.c). Decodes the input bytes
 * as one client frame; a decoded command is rendered back (ack), a refusal as an error frame.
 * The bytes are also tried as an event payload and rendered in every view. Oracles beyond
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

/* Renders the input, if it is any JSON object, as an event payload in every view. */
static void encode_as_event(const uint8_t *data, size_t size)
{
    cJSON *payload = cJSON_ParseWithLength((const char *)data, size);
    if (!payload)
        return;
    forum_event ev;
    memset(&ev, 0, sizeof ev);
    ev.seq = (int64_t)size;
    ev.at = 1700000000000LL;
    ev.offset_ms = size % 2 ? -1 : (int64_t)size;
    snprintf(ev.kind, sizeof ev.kind, "question.updated");
    ev.payload = payload;
    for (int view = PROTO_VIEW_STAFF; view <= PROTO_VIEW_SUBJECT; view++) {
        char *text = proto_encode_event(&ev, (proto_view)view);
        cJSON *back = parse_back(text);
        if (view != PROTO_VIEW_STAFF &&
            (has_key(back, "viewer_id") || has_key(back, "blocked_words")))
            die("staff-only field in a public rendering");
        cJSON_Delete(back);
        free(text);
    }
    char *welcome = proto_encode_welcome("1", FORUM_ROLE_VIEWER, "v0123456789abcdef", ev.seq,
                                         payload);
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
    encode_as_event(data, size);
    return 0;
}
