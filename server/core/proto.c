/* proto.c — the wire codec (see proto.h and docs/protocol.md). Owns: turning one client frame
 * into a validated forum_command (UTF-8, JSON shape, nesting depth, every field's type, range
 * and length in code points), and rendering acks, errors, welcomes and events as JSON text,
 * including the public/subject views of events. Pure: no I/O, no globals. */
#include "proto.h"

#include "jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define PROTO_MAX_DEPTH 16          /* nesting of objects/arrays in a request */
#define PROTO_TOKEN_MAX_BYTES 256   /* any hello token */
#define PROTO_VIEWER_TOKEN_MIN 22   /* viewer device tokens, in characters */
#define PROTO_VIEWER_TOKEN_MAX 128
#define PROTO_BLOCKED_WORD_MAX 40   /* code points per blocked word */
#define PROTO_QUESTION_RATE_MAX 1000 /* question_rate_per_min upper bound */
#define PROTO_MAX_SAFE_INT 9007199254740992.0 /* 2^53: ids and counters stay below it */

/* ------------------------------------------------------------------------------------------ */
/* Error names */

const char *proto_err_name(forum_err code)
{
    switch (code) {
    case FORUM_OK: return "ok";
    case FORUM_E_BAD_JSON: return "bad_json";
    case FORUM_E_BAD_REQUEST: return "bad_request";
    case FORUM_E_TOO_LONG: return "too_long";
    case FORUM_E_UNKNOWN_TYPE: return "unknown_type";
    case FORUM_E_UNAUTHORIZED: return "unauthorized";
    case FORUM_E_FORBIDDEN: return "forbidden";
    case FORUM_E_NOT_FOUND: return "not_found";
    case FORUM_E_CONFLICT: return "conflict";
    case FORUM_E_RATE_LIMITED: return "rate_limited";
    case FORUM_E_BANNED: return "banned";
    case FORUM_E_SESSION_CLOSED: return "session_closed";
    case FORUM_E_INTERNAL: return "internal";
    }
    return "internal";
}

/* ------------------------------------------------------------------------------------------ */
/* Decoding */

typedef struct decoder {
    const forum_limits *limits;
    forum_command *cmd;
    proto_error *err;
} decoder;

/* Records an error (code, field, printf-style message) and returns -1. */
static int fail(decoder *d, forum_err code, const char *field, const char *fmt, ...)
{
    d->err->code = code;
    snprintf(d->err->field, sizeof d->err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err->message, sizeof d->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static int oom(decoder *d)
{
    return fail(d, FORUM_E_INTERNAL, NULL, "out of memory");
}

/* Names the member whose string value holds the first \u0000 escape ("" if it cannot tell):
 * walks back from the escape to the opening quote of its string, then over ':' to the key. */
static void nul_escape_field(const char *data, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    const char *hit = memmem(data, len, "\\u0000", 6);
    if (!hit)
        return;
    const char *p = hit;
    while (p > data && !(p[-1] == '"' && (p - 1 == data || p[-2] != '\\')))
        p--;
    if (p <= data)
        return;
    p--; /* the opening quote */
    while (p > data && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r'))
        p--;
    if (p <= data || p[-1] != ':')
        return;
    p--;
    while (p > data && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r'))
        p--;
    if (p <= data || p[-1] != '"')
        return;
    const char *end = p - 1, *start = end;
    while (start > data && start[-1] != '"')
        start--;
    size_t n = (size_t)(end - start);
    if (start <= data || n == 0 || n >= cap)
        return;
    for (size_t i = 0; i < n; i++)
        if (!((start[i] >= 'a' && start[i] <= 'z') || start[i] == '_' ||
              (start[i] >= '0' && start[i] <= '9')))
            return;
    memcpy(out, start, n);
    out[n] = '\0';
}

/* Checks the raw frame before cJSON sees it: no NUL bytes, no raw control characters inside
 * strings (JSON forbids them), and nesting depth <= PROTO_MAX_DEPTH (so no deep recursion in
 * the parser). Sets *nul_escape when a string contains the escape \u0000, which cJSON would
 * silently truncate. When patch is not NULL (a copy of data), each such escape is rewritten
 * there as \u0001, so that the copy parses to strings of their full length, in which the NUL
 * shows as a control character. Returns 0, or -1 with *why set. */
static int scan_json(const char *data, size_t len, char *patch, bool *nul_escape, const char **why)
{
    int depth = 0;
    bool in_string = false;
    *nul_escape = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == 0) {
            *why = "NUL byte in request";
            return -1;
        }
        if (in_string) {
            if (c == '"') {
                in_string = false;
            } else if (c == '\\') {
                if (i + 5 < len && data[i + 1] == 'u' && memcmp(data + i + 2, "0000", 4) == 0) {
                    *nul_escape = true;
                    if (patch)
                        patch[i + 5] = '1';
                }
                i++; /* the escaped character cannot end the string */
            } else if (c < 0x20) {
                *why = "raw control character in a string";
                return -1;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > PROTO_MAX_DEPTH) {
                *why = "nesting too deep";
                return -1;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* True for JSON numbers that are integers in [min, 2^53). */
static bool integer_in_range(const cJSON *item, double min)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    if (!(v >= min && v < PROTO_MAX_SAFE_INT))
        return false;
    return (double)(int64_t)v == v;
}

/* Reads an id (positive integer < 2^53). Absent: error if required, else *present = false.
 * null: error if required, else *present = true and *out = 0. Returns 0 or -1. */
static int read_id(decoder *d, const cJSON *obj, const char *key, bool required, int64_t *out,
                   bool *present)
{
    const cJSON *item = get(obj, key);
    bool dummy;
    if (!present)
        present = &dummy;
    *present = false;
    *out = 0;
    if (!item) {
        if (required)
            return fail(d, FORUM_E_BAD_REQUEST, key, "%s is required", key);
        return 0;
    }
    if (cJSON_IsNull(item) && !required) {
        *present = true;
        return 0;
    }
    if (!integer_in_range(item, 1.0))
        return fail(d, FORUM_E_BAD_REQUEST, key, "%s must be a positive integer", key);
    *out = (int64_t)item->valuedouble;
    *present = true;
    return 0;
}

/* Reads an optional non-negative integer in [0, max]; absent or null leaves *present false
 * (null_present: null sets *present with *out = 0). */
static int read_count(decoder *d, const cJSON *obj, const char *key, double max,
                      bool null_present, int64_t *out, bool *present)
{
    const cJSON *item = get(obj, key);
    *present = false;
    *out = 0;
    if (!item)
        return 0;
    if (cJSON_IsNull(item)) {
        *present = null_present;
        return 0;
    }
    if (!integer_in_range(item, 0.0) || item->valuedouble > max)
        return fail(d, FORUM_E_BAD_REQUEST, key, "%s must be an integer from 0 to %.0f", key,
                    max);
    *out = (int64_t)item->valuedouble;
    *present = true;
    return 0;
}

/* Reads an optional boolean (absent or null: *present false), or a required one. */
static int read_bool(decoder *d, const cJSON *obj, const char *key, bool required, bool *out,
                     bool *present)
{
    const cJSON *item = get(obj, key);
    bool dummy;
    if (!present)
        present = &dummy;
    *present = false;
    if (!item || (cJSON_IsNull(item) && !required)) {
        if (required)
            return fail(d, FORUM_E_BAD_REQUEST, key, "%s is required", key);
        return 0;
    }
    if (!cJSON_IsBool(item))
        return fail(d, FORUM_E_BAD_REQUEST, key, "%s must be true or false", key);
    *out = cJSON_IsTrue(item);
    *present = true;
    return 0;
}

/* How a text field is validated. */
typedef enum text_empty {
    EMPTY_ERROR,  /* empty after trimming: bad_request (required fields, titles in updates) */
    EMPTY_ABSENT, /* empty after trimming: as if absent (optional names) */
    EMPTY_KEEP,   /* empty string allowed (notes, reasons, descriptions, banner) */
} text_empty;

typedef struct text_rule {
    int max_chars;
    bool multiline; /* newlines allowed */
    text_empty empty;
} text_rule;

typedef enum text_state { TEXT_ABSENT = 0, TEXT_NULL, TEXT_VALUE } text_state;

/* Validates the string item (not NULL, not JSON null) for field: trims it, rejects control
 * characters, measures it in code points. On success *out is the malloc'd trimmed text, or
 * NULL when it was empty and the rule says EMPTY_ABSENT. */
static int check_text(decoder *d, const cJSON *item, const char *field, text_rule rule,
                      char **out)
{
    *out = NULL;
    if (!cJSON_IsString(item) || !item->valuestring)
        return fail(d, FORUM_E_BAD_REQUEST, field, "%s must be a string", field);
    const char *raw = item->valuestring;
    size_t raw_len = strlen(raw);
    if (!utf8_valid(raw, raw_len))
        return fail(d, FORUM_E_BAD_REQUEST, field, "%s is not valid UTF-8", field);
    size_t len;
    const char *s = utf8_trim(raw, raw_len, &len);
    if (utf8_has_control(s, len))
        return fail(d, FORUM_E_BAD_REQUEST, field, "%s contains a control character", field);
    if (!rule.multiline && (memchr(s, '\n', len) || memchr(s, '\r', len)))
        return fail(d, FORUM_E_BAD_REQUEST, field, "%s must be a single line", field);
    size_t chars = utf8_count(s, len);
    if (chars > (size_t)rule.max_chars)
        return fail(d, FORUM_E_TOO_LONG, field, "%s is longer than %d characters", field,
                    rule.max_chars);
    if (chars == 0) {
        if (rule.empty == EMPTY_ERROR)
            return fail(d, FORUM_E_BAD_REQUEST, field, "%s must not be empty", field);
        if (rule.empty == EMPTY_ABSENT)
            return 0;
    }
    *out = dup_bytes(s, len);
    return *out ? 0 : oom(d);
}

/* Reads the text field key of obj into *out (see check_text). required: absent or null is a
 * bad_request. *state (may be NULL) tells absent / null / value. */
static int read_text(decoder *d, const cJSON *obj, const char *key, bool required,
                     text_rule rule, char **out, text_state *state)
{
    const cJSON *item = get(obj, key);
    text_state dummy;
    if (!state)
        state = &dummy;
    *state = TEXT_ABSENT;
    *out = NULL;
    if (!item) {
        if (required)
            return fail(d, FORUM_E_BAD_REQUEST, key, "%s is required", key);
        return 0;
    }
    if (cJSON_IsNull(item)) {
        if (required)
            return fail(d, FORUM_E_BAD_REQUEST, key, "%s must be a string", key);
        *state = TEXT_NULL;
        return 0;
    }
    if (check_text(d, item, key, rule, out) < 0)
        return -1;
    *state = *out ? TEXT_VALUE : TEXT_ABSENT;
    return 0;
}

/* Reads an array field: absent -> *present false; null -> present and empty (unless required);
 * else checks it is an array of min..max elements. Returns the array item via *arr. */
static int read_array(decoder *d, const cJSON *obj, const char *key, bool required, int min,
                      int max, const cJSON **arr, bool *present)
{
    const cJSON *item = get(obj, key);
    *arr = NULL;
    *present = false;
    if (!item || (cJSON_IsNull(item) && !required)) {
        if (required)
            return fail(d, FORUM_E_BAD_REQUEST, key, "%s is required", key);
        *present = item != NULL;
        return 0;
    }
    if (!cJSON_IsArray(item))
        return fail(d, FORUM_E_BAD_REQUEST, key, "%s must be an array", key);
    int n = cJSON_GetArraySize(item);
    if (n < min || n > max)
        return fail(d, FORUM_E_BAD_REQUEST, key, "%s must have %d to %d elements", key, min,
                    max);
    *arr = item;
    *present = true;
    return 0;
}

/* Reads an array of ids (positive integers < 2^53) of min..max elements. */
static int read_id_array(decoder *d, const cJSON *obj, const char *key, bool required, int min,
                         int max, int64_t **out, size_t *n, bool *present)
{
    const cJSON *arr, *el;
    bool dummy;
    if (!present)
        present = &dummy;
    *out = NULL;
    *n = 0;
    if (read_array(d, obj, key, required, min, max, &arr, present) < 0)
        return -1;
    if (!arr || cJSON_GetArraySize(arr) == 0)
        return 0;
    int64_t *ids = calloc((size_t)cJSON_GetArraySize(arr), sizeof *ids);
    if (!ids)
        return oom(d);
    size_t count = 0;
    cJSON_ArrayForEach(el, arr) {
        if (!integer_in_range(el, 1.0)) {
            free(ids);
            return fail(d, FORUM_E_BAD_REQUEST, key, "%s must hold positive integers", key);
        }
        ids[count++] = (int64_t)el->valuedouble;
    }
    *out = ids;
    *n = count;
    return 0;
}

/* Reads an array of texts (each by rule, EMPTY_ERROR) of min..max elements into *out and *n.
 * Elements may be strings, or, when object_key is given, objects {object_key: string}. */
static int read_text_array(decoder *d, const cJSON *obj, const char *key, bool required,
                           int min, int max, text_rule rule, const char *object_key,
                           char ***out, size_t *n, bool *present)
{
    const cJSON *arr, *el;
    bool dummy;
    if (!present)
        present = &dummy;
    *out = NULL;
    *n = 0;
    if (read_array(d, obj, key, required, min, max, &arr, present) < 0)
        return -1;
    if (!arr || cJSON_GetArraySize(arr) == 0)
        return 0;
    char **items = calloc((size_t)cJSON_GetArraySize(arr), sizeof *items);
    if (!items)
        return oom(d);
    /* Stored right away so that forum_command_free releases a partly filled list. */
    *out = items;
    cJSON_ArrayForEach(el, arr) {
        const cJSON *text = el;
        if (object_key && cJSON_IsObject(el)) {
            text = get(el, object_key);
            if (!text)
                return fail(d, FORUM_E_BAD_REQUEST, key, "%s: %s is required", key,
                            object_key);
        }
        if (check_text(d, text, key, rule, &items[*n]) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

/* Reads a string enum: *out gets the index of the matching name, or stays untouched when the
 * field is absent or null (*present false). */
static int read_enum(decoder *d, const cJSON *obj, const char *key, const char *const *names,
                     size_t n_names, int *out, bool *present)
{
    const cJSON *item = get(obj, key);
    *present = false;
    if (!item || cJSON_IsNull(item))
        return 0;
    if (cJSON_IsString(item) && item->valuestring) {
        for (size_t i = 0; i < n_names; i++) {
            if (strcmp(item->valuestring, names[i]) == 0) {
                *out = (int)i;
                *present = true;
                return 0;
            }
        }
    }
    return fail(d, FORUM_E_BAD_REQUEST, key, "%s has an unknown value", key);
}

/* A join code: 1..15 printable ASCII characters without spaces. */
static bool valid_session_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= FORUM_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
            return false;
    return true;
}

/* Reads "session": a join code, or null/absent (*out NULL). */
static int read_session(decoder *d, const cJSON *obj, char **out)
{
    const cJSON *item = get(obj, "session");
    *out = NULL;
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsString(item) || !item->valuestring || !valid_session_code(item->valuestring))
        return fail(d, FORUM_E_BAD_REQUEST, "session", "session must be a join code");
    *out = dup_bytes(item->valuestring, strlen(item->valuestring));
    return *out ? 0 : oom(d);
}

/* Text rules, from the limits. */
static text_rule rule_question(const decoder *d, text_empty e)
{
    return (text_rule){d->limits->question_max_chars, true, e};
}
static text_rule rule_name(const decoder *d, text_empty e)
{
    return (text_rule){d->limits->name_max_chars, false, e};
}
static text_rule rule_title(const decoder *d, text_empty e)
{
    return (text_rule){d->limits->title_max_chars, false, e};
}
static text_rule rule_note(const decoder *d)
{
    return (text_rule){d->limits->note_max_chars, true, EMPTY_KEEP};
}

/* ---- per-type decoders: each fills d->cmd from obj, returns 0 or -1 (error recorded) ---- */

static int decode_hello(decoder *d, const cJSON *obj)
{
    static const char *const roles[] = {"viewer", "moderator", "producer", "board"};
    static const forum_role role_values[] = {FORUM_ROLE_VIEWER, FORUM_ROLE_MODERATOR,
                                             FORUM_ROLE_PRODUCER, FORUM_ROLE_BOARD};
    forum_command *c = d->cmd;
    int role = 0;
    bool has_role;
    if (read_enum(d, obj, "role", roles, 4, &role, &has_role) < 0)
        return -1;
    if (!has_role)
        return fail(d, FORUM_E_BAD_REQUEST, "role", "role is required");
    c->role = role_values[role];
    if (c->role == FORUM_ROLE_BOARD) /* a programme's public board: no session, no token */
        return read_id(d, obj, "program_id", true, &c->program_id, NULL);

    if (read_session(d, obj, &c->session) < 0)
        return -1;
    if (!c->session && c->role != FORUM_ROLE_PRODUCER)
        return fail(d, FORUM_E_BAD_REQUEST, "session", "session is required");

    const cJSON *token = get(obj, "token");
    if (!token)
        return fail(d, FORUM_E_BAD_REQUEST, "token", "token is required");
    if (!cJSON_IsString(token) || !token->valuestring)
        return fail(d, FORUM_E_BAD_REQUEST, "token", "token must be a string");
    size_t len = strlen(token->valuestring);
    if (len == 0 || len > PROTO_TOKEN_MAX_BYTES || utf8_has_control(token->valuestring, len) ||
        memchr(token->valuestring, '\n', len) || memchr(token->valuestring, '\r', len) ||
        memchr(token->valuestring, '\t', len))
        return fail(d, FORUM_E_BAD_REQUEST, "token", "token is malformed");
    if (c->role == FORUM_ROLE_VIEWER) {
        size_t chars = utf8_count(token->valuestring, len);
        if (chars < PROTO_VIEWER_TOKEN_MIN || chars > PROTO_VIEWER_TOKEN_MAX)
            return fail(d, FORUM_E_BAD_REQUEST, "token",
                        "a viewer token has %d to %d characters", PROTO_VIEWER_TOKEN_MIN,
                        PROTO_VIEWER_TOKEN_MAX);
    }
    c->token = dup_bytes(token->valuestring, len);
    if (!c->token)
        return oom(d);

    if (read_text(d, obj, "name", false, rule_name(d, EMPTY_ABSENT), &c->name, NULL) < 0 ||
        read_bool(d, obj, "overlay", false, &c->overlay, NULL) < 0)
        return -1;
    if (c->overlay && c->role != FORUM_ROLE_VIEWER)
        return fail(d, FORUM_E_BAD_REQUEST, "overlay", "only a viewer connection is an overlay");
    return read_count(d, obj, "resume_from", PROTO_MAX_SAFE_INT - 1, false, &c->resume_from,
                      &c->has_resume_from);
}

static int decode_question_id(decoder *d, const cJSON *obj)
{
    return read_id(d, obj, "question_id", true, &d->cmd->question_id, NULL);
}

static int decode_poll_id(decoder *d, const cJSON *obj)
{
    return read_id(d, obj, "poll_id", true, &d->cmd->poll_id, NULL);
}

static int decode_nothing(decoder *d, const cJSON *obj)
{
    return 0;
}

static int decode_submit(decoder *d, const cJSON *obj)
{
    static const char *const categories[] = {"question", "need", "suggestion"};
    /* what a request may name ("carried" is the server's) */
    static const char *const sources[] = {"web", "phone", "paper", "visit", "hotline", "form"};
    forum_command *c = d->cmd;
    int value = 0;
    bool present;
    if (read_text(d, obj, "text", true, rule_question(d, EMPTY_ERROR), &c->text, NULL) < 0)
        return -1;
    if (read_enum(d, obj, "category", categories, 3, &value, &present) < 0)
        return -1;
    c->has_category = present;
    c->category = present ? (forum_category)value : FORUM_CAT_QUESTION;
    if (read_id(d, obj, "to", false, &c->to, &c->has_to) < 0 ||
        read_id(d, obj, "parent_id", false, &c->parent_id, NULL) < 0 ||
        read_bool(d, obj, "anonymous", false, &c->anonymous, NULL) < 0)
        return -1;
    value = 0;
    if (read_enum(d, obj, "source", sources, sizeof sources / sizeof sources[0], &value,
                  &present) < 0)
        return -1;
    c->has_source = present;
    c->source = present ? (forum_source)forum_name_index(FORUM_SOURCE_NAMES, FORUM_SRC__COUNT,
                                                         sources[value])
                        : FORUM_SRC_WEB;
    if (read_text(d, obj, "external_ref", false,
                  (text_rule){FORUM_EXTERNAL_REF_MAX_CHARS, false, EMPTY_ABSENT}, &c->external_ref,
                  NULL) < 0 ||
        read_text(d, obj, "name", false, rule_name(d, EMPTY_ABSENT), &c->name, NULL) < 0)
        return -1;
    return read_text(d, obj, "author", false, rule_name(d, EMPTY_ABSENT), &c->author, NULL);
}

static int decode_edit(decoder *d, const cJSON *obj)
{
    if (decode_question_id(d, obj) < 0)
        return -1;
    return read_text(d, obj, "text", true, rule_question(d, EMPTY_ERROR), &d->cmd->text, NULL);
}

static int decode_poll_vote(decoder *d, const cJSON *obj)
{
    forum_command *c = d->cmd;
    if (decode_poll_id(d, obj) < 0)
        return -1;
    return read_id_array(d, obj, "option_ids", true, 1, d->limits->max_poll_options, &c->ids,
                         &c->n_ids, NULL);
}

static int decode_dismiss(decoder *d, const cJSON *obj)
{
    if (decode_question_id(d, obj) < 0)
        return -1;
    return read_text(d, obj, "reason", false, rule_note(d), &d->cmd->reason, NULL);
}

static int decode_star(decoder *d, const cJSON *obj)
{
    if (decode_question_id(d, obj) < 0)
        return -1;
    return read_bool(d, obj, "starred", true, &d->cmd->starred, NULL);
}

static int decode_merge(decoder *d, const cJSON *obj)
{
    if (decode_question_id(d, obj) < 0)
        return -1;
    return read_id(d, obj, "into_id", true, &d->cmd->into_id, NULL);
}

static int decode_answered(decoder *d, const cJSON *obj)
{
    if (decode_question_id(d, obj) < 0)
        return -1;
    return read_text(d, obj, "note", false, rule_note(d), &d->cmd->note, NULL);
}

static int decode_queue_set(decoder *d, const cJSON *obj)
{
    return read_id_array(d, obj, "question_ids", true, 0, d->limits->max_queue, &d->cmd->ids,
                         &d->cmd->n_ids, NULL);
}

static int decode_panel_set(decoder *d, const cJSON *obj)
{
    forum_command *c = d->cmd;
    text_state banner;
    if (read_id(d, obj, "segment_id", false, &c->segment_id, &c->has_segment_id) < 0 ||
        read_id_array(d, obj, "speaker_ids", false, 0, d->limits->max_panelists,
                      &c->speaker_ids, &c->n_speaker_ids, &c->has_speaker_ids) < 0)
        return -1;
    text_rule rule = {d->limits->note_max_chars, false, EMPTY_KEEP};
    if (read_text(d, obj, "banner", false, rule, &c->banner, &banner) < 0)
        return -1;
    c->has_banner = banner != TEXT_ABSENT;
    return 0;
}

static int decode_viewer(decoder *d, const cJSON *obj)
{
    const cJSON *item = get(obj, "viewer_id");
    if (!item)
        return fail(d, FORUM_E_BAD_REQUEST, "viewer_id", "viewer_id is required");
    const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
    bool ok = s && s[0] == 'v' && strlen(s) == 17;
    for (size_t i = 1; ok && i < 17; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (!ok)
        return fail(d, FORUM_E_BAD_REQUEST, "viewer_id", "viewer_id must be a viewer id");
    d->cmd->viewer_id = dup_bytes(s, 17);
    return d->cmd->viewer_id ? 0 : oom(d);
}

/* viewer.ban {viewer_id, dismiss_pending?, reason?} */
static int decode_ban(decoder *d, const cJSON *obj)
{
    if (decode_viewer(d, obj) < 0 ||
        read_bool(d, obj, "dismiss_pending", false, &d->cmd->dismiss_pending, NULL) < 0)
        return -1;
    return read_text(d, obj, "reason", false, rule_note(d), &d->cmd->reason, NULL);
}

/* question.restore {question_id, state?: "published" | "pending"} */
static int decode_restore(decoder *d, const cJSON *obj)
{
    static const char *const states[] = {"published", "pending"};
    int value = 0;
    bool present;
    if (decode_question_id(d, obj) < 0 || read_enum(d, obj, "state", states, 2, &value, &present) < 0)
        return -1;
    if (present && !(d->cmd->state = dup_bytes(states[value], strlen(states[value]))))
        return oom(d);
    return 0;
}

/* questions.approve {question_ids} and questions.dismiss {question_ids, reason?} */
static int decode_bulk_approve(decoder *d, const cJSON *obj)
{
    return read_id_array(d, obj, "question_ids", true, 1, FORUM_BULK_MAX, &d->cmd->ids,
                         &d->cmd->n_ids, NULL);
}

static int decode_bulk_dismiss(decoder *d, const cJSON *obj)
{
    if (decode_bulk_approve(d, obj) < 0)
        return -1;
    return read_text(d, obj, "reason", false, rule_note(d), &d->cmd->reason, NULL);
}

static int decode_poll_create(decoder *d, const cJSON *obj)
{
    forum_command *c = d->cmd;
    if (read_text(d, obj, "title", true, rule_title(d, EMPTY_ERROR), &c->title, NULL) < 0 ||
        read_text_array(d, obj, "options", true, 2, d->limits->max_poll_options,
                        rule_title(d, EMPTY_ERROR), NULL, &c->options, &c->n_options,
                        NULL) < 0)
        return -1;
    return read_bool(d, obj, "multi", false, &c->multi, NULL);
}

/* program.create (title required) and program.update (program_id required, the rest
 * optional; "description": null clears it and is decoded as ""). */
static int decode_program(decoder *d, const cJSON *obj, bool update)
{
    forum_command *c = d->cmd;
    text_state desc;
    if (update && read_id(d, obj, "program_id", true, &c->program_id, NULL) < 0)
        return -1;
    if (read_text(d, obj, "title", !update, rule_title(d, EMPTY_ERROR), &c->title, NULL) < 0 ||
        read_text(d, obj, "description", false, rule_note(d), &c->description, &desc) < 0)
        return -1;
    if (update && desc == TEXT_NULL) {
        c->description = dup_bytes("", 0);
        if (!c->description)
            return oom(d);
    }
    return read_bool(d, obj, "listed", false, &c->listed, &c->has_listed);
}

static int decode_program_create(decoder *d, const cJSON *obj)
{
    return decode_program(d, obj, false);
}

static int decode_program_update(decoder *d, const cJSON *obj)
{
    return decode_program(d, obj, true);
}

/* panelists: [{name, affiliation?, role?}] */
static int read_panelists(decoder *d, const cJSON *obj)
{
    forum_command *c = d->cmd;
    const cJSON *arr, *el;
    if (read_array(d, obj, "panelists", false, 0, d->limits->max_panelists, &arr,
                   &c->has_panelists) < 0)
        return -1;
    if (!arr || cJSON_GetArraySize(arr) == 0)
        return 0;
    c->panelists = calloc((size_t)cJSON_GetArraySize(arr), sizeof *c->panelists);
    if (!c->panelists)
        return oom(d);
    cJSON_ArrayForEach(el, arr) {
        forum_panelist_in *p = &c->panelists[c->n_panelists];
        c->n_panelists++; /* counted first, so forum_command_free releases a partial entry */
        if (!cJSON_IsObject(el))
            return fail(d, FORUM_E_BAD_REQUEST, "panelists", "panelists must hold objects");
        const cJSON *name = get(el, "name");
        if (!name || cJSON_IsNull(name))
            return fail(d, FORUM_E_BAD_REQUEST, "panelists", "panelists: name is required");
        if (check_text(d, name, "panelists", rule_name(d, EMPTY_ERROR), &p->name) < 0)
            return -1;
        const cJSON *aff = get(el, "affiliation"), *role = get(el, "role");
        if (aff && !cJSON_IsNull(aff) &&
            check_text(d, aff, "panelists", rule_title(d, EMPTY_ABSENT), &p->affiliation) < 0)
            return -1;
        if (role && !cJSON_IsNull(role) &&
            check_text(d, role, "panelists", rule_title(d, EMPTY_ABSENT), &p->role) < 0)
            return -1;
    }
    return 0;
}

/* "stream": absent = unchanged, null = none, {"kind":"hls"|"embed","url"} = set, its URL of
 * the strict form and on a host the configuration allows (stream.h). */
static int read_stream(decoder *d, const cJSON *obj)
{
    forum_command *c = d->cmd;
    const cJSON *item = get(obj, "stream");
    char msg[200];
    if (!item)
        return 0;
    c->has_stream = true;
    c->stream_kind = FORUM_STREAM_NONE;
    if (cJSON_IsNull(item))
        return 0;
    const cJSON *kind = get(item, "kind"), *url = get(item, "url");
    if (!cJSON_IsObject(item) || !cJSON_IsString(kind) || !cJSON_IsString(url))
        return fail(d, FORUM_E_BAD_REQUEST, "stream",
                    "stream must be null or {\"kind\":\"hls\"|\"embed\",\"url\":\"https://...\"}");
    int k = forum_name_index(FORUM_STREAM_KIND_NAMES, FORUM_STREAM__COUNT, kind->valuestring);
    size_t len = strlen(url->valuestring);
    if (len > FORUM_URL_MAX)
        return fail(d, FORUM_E_TOO_LONG, "stream", "stream.url is longer than %d bytes",
                    FORUM_URL_MAX);
    if (forum_stream_check(k, url->valuestring, d->limits->stream_hosts,
                           d->limits->embed_hosts, msg, sizeof msg))
        return fail(d, FORUM_E_BAD_REQUEST, "stream", "%s", msg);
    c->stream_kind = k;
    c->stream_url = dup_bytes(url->valuestring, len);
    return c->stream_url ? 0 : oom(d);
}

/* session.create (program_id and title required) and session.update (all optional). */
static int decode_session_fields(decoder *d, const cJSON *obj, bool create)
{
    forum_command *c = d->cmd;
    text_state topic;
    int64_t value;
    bool present;
    if (read_id(d, obj, "program_id", create, &c->program_id, NULL) < 0 ||
        read_text(d, obj, "title", create, rule_title(d, EMPTY_ERROR), &c->title, NULL) < 0 ||
        read_text(d, obj, "topic", false, rule_title(d, EMPTY_ABSENT), &c->topic, &topic) < 0)
        return -1;
    /* "topic": "" or null clears it */
    c->has_topic = topic != TEXT_ABSENT || get(obj, "topic") != NULL;
    if (read_count(d, obj, "scheduled_at", PROTO_MAX_SAFE_INT - 1, true, &c->scheduled_at,
                   &c->has_scheduled_at) < 0 ||
        read_bool(d, obj, "premoderation", false, &c->premoderation, &c->has_premoderation) <
            0 ||
        read_bool(d, obj, "anonymous_allowed", false, &c->anonymous_allowed,
                  &c->has_anonymous_allowed) < 0)
        return -1;
    text_rule word = {PROTO_BLOCKED_WORD_MAX, false, EMPTY_ERROR};
    if (read_text_array(d, obj, "blocked_words", false, 0, d->limits->max_blocked_words, word,
                        NULL, &c->blocked_words, &c->n_blocked_words,
                        &c->has_blocked_words) < 0 ||
        read_panelists(d, obj) < 0 ||
        read_text_array(d, obj, "segments", false, 0, d->limits->max_segments,
                        rule_title(d, EMPTY_ERROR), "title", &c->segments, &c->n_segments,
                        &c->has_segments) < 0 ||
        read_count(d, obj, "question_rate_per_min", PROTO_QUESTION_RATE_MAX, false, &value,
                   &present) < 0 ||
        read_stream(d, obj) < 0)
        return -1;
    c->has_question_rate = present;
    c->question_rate_per_min = (int)value;
    return 0;
}

static int decode_session_create(decoder *d, const cJSON *obj)
{
    return decode_session_fields(d, obj, true);
}

static int decode_session_update(decoder *d, const cJSON *obj)
{
    return decode_session_fields(d, obj, false);
}

/* ---- archive and outcomes ------------------------------------------------------------------ */

#define PROTO_SEARCH_QUERY_MAX 200 /* search text, code points */
#define PROTO_SEARCH_LIMIT_MAX 200 /* results per search */
#define PROTO_QUESTIONS_PAGE_MAX 500 /* questions per questions.list page */
#define PROTO_BACKUP_NAME_MAX 100  /* backup file name, bytes */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parses "YYYY-MM-DD" (a real calendar date, years 1970..9999) into days since the epoch. */
static bool parse_date(const char *s, int64_t *days)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return false;
    *days = days_from_civil(y, m, d);
    return true;
}

/* Reads an optional due date "YYYY-MM-DD" (null: present, cleared). */
static int read_due(decoder *d, const cJSON *obj)
{
    forum_command *c = d->cmd;
    const cJSON *item = get(obj, "due");
    int64_t days;
    c->has_due = item != NULL;
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsString(item) || !item->valuestring || !parse_date(item->valuestring, &days))
        return fail(d, FORUM_E_BAD_REQUEST, "due", "due must be a date YYYY-MM-DD");
    c->due = dup_bytes(item->valuestring, 10);
    return c->due ? 0 : oom(d);
}

/* Optional fields of action.create/update: question_id, owner, due, status, reason, note,
 * promised_by, publication. */
static int read_action_fields(decoder *d, const cJSON *obj)
{
    static const char *const statuses[] = {"open", "in_progress", "done", "withdrawn"};
    static const char *const publications[] = {"auto", "public", "staff"};
    forum_command *c = d->cmd;
    text_state owner;
    if (read_id(d, obj, "question_id", false, &c->question_id, &c->has_question_id) < 0 ||
        read_text(d, obj, "owner", false, rule_title(d, EMPTY_ABSENT), &c->owner, &owner) < 0 ||
        read_due(d, obj) < 0)
        return -1;
    c->has_owner = owner != TEXT_ABSENT || get(obj, "owner") != NULL;
    if (read_enum(d, obj, "status", statuses, 4, &c->status, &c->has_status) < 0 ||
        read_text(d, obj, "reason", false, rule_question(d, EMPTY_KEEP), &c->reason, NULL) < 0 ||
        read_text(d, obj, "note", false, rule_note(d), &c->note, NULL) < 0 ||
        read_id(d, obj, "promised_by", false, &c->promised_by, &c->has_promised_by) < 0 ||
        read_enum(d, obj, "publication", publications, 3, &c->publication,
                  &c->has_publication) < 0)
        return -1;
    c->has_reason = get(obj, "reason") != NULL;
    c->has_note = get(obj, "note") != NULL;
    return 0;
}

/* rating.set {question_id | action_id, value, comment?} */
static int decode_rating_set(decoder *d, const cJSON *obj)
{
    static const char *const values[] = {"satisfied", "basically_satisfied", "dissatisfied"};
    forum_command *c = d->cmd;
    text_rule comment = {FORUM_RATING_COMMENT_MAX, true, EMPTY_KEEP};
    if (read_id(d, obj, "question_id", false, &c->question_id, NULL) < 0 ||
        read_id(d, obj, "action_id", false, &c->action_id, NULL) < 0)
        return -1;
    if ((c->question_id > 0) == (c->action_id > 0))
        return fail(d, FORUM_E_BAD_REQUEST, c->question_id ? "action_id" : "question_id",
                    "name either question_id or action_id");
    if (read_enum(d, obj, "value", values, 3, &c->rating_value, &c->has_rating_value) < 0)
        return -1;
    if (!c->has_rating_value)
        return fail(d, FORUM_E_BAD_REQUEST, "value", "value is required");
    c->has_comment = get(obj, "comment") != NULL;
    return read_text(d, obj, "comment", false, comment, &c->comment, NULL);
}

static int decode_rating_id(decoder *d, const cJSON *obj)
{
    return read_id(d, obj, "rating_id", true, &d->cmd->rating_id, NULL);
}

static int decode_action_create(decoder *d, const cJSON *obj)
{
    if (read_text(d, obj, "text", true, rule_question(d, EMPTY_ERROR), &d->cmd->text, NULL) < 0 ||
        read_id(d, obj, "follows_action_id", false, &d->cmd->follows_action_id, NULL) < 0)
        return -1;
    return read_action_fields(d, obj);
}

static int decode_action_update(decoder *d, const cJSON *obj)
{
    if (read_id(d, obj, "action_id", true, &d->cmd->action_id, NULL) < 0 ||
        read_text(d, obj, "text", false, rule_question(d, EMPTY_ERROR), &d->cmd->text, NULL) < 0)
        return -1;
    return read_action_fields(d, obj);
}

/* Reads a required join code field (from/to of carry-over). */
static int read_code(decoder *d, const cJSON *obj, const char *key, char **out)
{
    const cJSON *item = get(obj, key);
    if (!item || cJSON_IsNull(item))
        return fail(d, FORUM_E_BAD_REQUEST, key, "%s is required", key);
    if (!cJSON_IsString(item) || !item->valuestring || !valid_session_code(item->valuestring))
        return fail(d, FORUM_E_BAD_REQUEST, key, "%s must be a join code", key);
    *out = dup_bytes(item->valuestring, strlen(item->valuestring));
    return *out ? 0 : oom(d);
}

/* session.carry_over {from, to, question_ids?}: question_ids picks which questions of from. */
static int decode_carry_over(decoder *d, const cJSON *obj)
{
    int max = d->limits->questions_per_session > 0 ? d->limits->questions_per_session : 20000;
    if (read_code(d, obj, "from", &d->cmd->from_session) < 0 ||
        read_code(d, obj, "to", &d->cmd->to_session) < 0)
        return -1;
    return read_id_array(d, obj, "question_ids", false, 1, max, &d->cmd->ids, &d->cmd->n_ids,
                         NULL);
}

/* Reads a search date bound: ms epoch, or "YYYY-MM-DD" (UTC; "to" takes the end of that day).
 * Absent or null: 0 (open). */
static int read_date_bound(decoder *d, const cJSON *obj, const char *key, bool end,
                           int64_t *out)
{
    const cJSON *item = get(obj, key);
    int64_t days;
    *out = 0;
    if (!item || cJSON_IsNull(item))
        return 0;
    if (integer_in_range(item, 0.0)) {
        *out = (int64_t)item->valuedouble;
        return 0;
    }
    if (cJSON_IsString(item) && item->valuestring && parse_date(item->valuestring, &days)) {
        *out = (days + (end ? 1 : 0)) * 86400000LL - (end ? 1 : 0);
        return 0;
    }
    return fail(d, FORUM_E_BAD_REQUEST, key, "%s must be a date YYYY-MM-DD or ms since the epoch",
                key);
}

static int decode_search(decoder *d, const cJSON *obj)
{
    static const char *const categories[] = {"question", "need", "suggestion"};
    static const char *const states[] = {"pending",  "published", "on_air", "answered",
                                         "dismissed", "withdrawn", "open",   "in_progress",
                                         "done"};
    forum_command *c = d->cmd;
    text_rule rule = {PROTO_SEARCH_QUERY_MAX, false, EMPTY_ERROR};
    int value = 0;
    bool present;
    int64_t limit;
    if (read_text(d, obj, "q", true, rule, &c->query, NULL) < 0 ||
        read_id(d, obj, "program_id", false, &c->program_id, NULL) < 0 ||
        read_date_bound(d, obj, "from", false, &c->from_ms) < 0 ||
        read_date_bound(d, obj, "to", true, &c->to_ms) < 0 ||
        read_enum(d, obj, "category", categories, 3, &value, &present) < 0)
        return -1;
    c->has_category = present;
    c->category = (forum_category)value;
    if (read_enum(d, obj, "state", states, 9, &value, &present) < 0)
        return -1;
    if (present && !(c->state = dup_bytes(states[value], strlen(states[value]))))
        return oom(d);
    if (read_count(d, obj, "limit", PROTO_SEARCH_LIMIT_MAX, false, &limit, &present) < 0)
        return -1;
    if (present && limit < 1)
        return fail(d, FORUM_E_BAD_REQUEST, "limit", "limit must be from 1 to %d",
                    PROTO_SEARCH_LIMIT_MAX);
    c->limit = (int)limit;
    return 0;
}

/* backup {path?}: a plain file name (letters, digits, '.', '-', '_'; not starting with '.'),
 * written to the server's backups directory. */
static int decode_backup(decoder *d, const cJSON *obj)
{
    const cJSON *item = get(obj, "path");
    if (!item || cJSON_IsNull(item))
        return 0;
    const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
    size_t n = s ? strlen(s) : 0;
    bool ok = n > 0 && n <= PROTO_BACKUP_NAME_MAX && s[0] != '.';
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_';
    if (!ok)
        return fail(d, FORUM_E_BAD_REQUEST, "path",
                    "path must be a file name (letters, digits, '.', '-', '_')");
    d->cmd->path = dup_bytes(s, n);
    return d->cmd->path ? 0 : oom(d);
}

/* questions.list {session?, before?, limit?, state?} */
static int decode_questions_list(decoder *d, const cJSON *obj)
{
    static const char *const states[] = {"pending",  "published", "on_air",
                                         "answered", "dismissed", "withdrawn"};
    forum_command *c = d->cmd;
    int value = 0;
    bool present;
    int64_t limit;
    if (read_id(d, obj, "before", false, &c->before, NULL) < 0 ||
        read_enum(d, obj, "state", states, 6, &value, &present) < 0)
        return -1;
    if (present && !(c->state = dup_bytes(states[value], strlen(states[value]))))
        return oom(d);
    if (read_count(d, obj, "limit", PROTO_QUESTIONS_PAGE_MAX, false, &limit, &present) < 0)
        return -1;
    if (present && limit < 1)
        return fail(d, FORUM_E_BAD_REQUEST, "limit", "limit must be from 1 to %d",
                    PROTO_QUESTIONS_PAGE_MAX);
    c->limit = (int)limit;
    return 0;
}

/* webhook.create {url, events, preset?, name?, program_id?, enabled?, secret?} and
 * webhook.update {webhook_id, the same, all optional}. */
static int decode_webhook(decoder *d, const cJSON *obj, bool update)
{
    forum_command *c = d->cmd;
    const cJSON *arr, *el;
    bool present;
    int value = 0;
    if (update && read_id(d, obj, "webhook_id", true, &c->webhook_id, NULL) < 0)
        return -1;
    if (read_text(d, obj, "url", !update, (text_rule){FORUM_WEBHOOK_URL_MAX, false, EMPTY_ERROR},
                  &c->url, NULL) < 0 ||
        read_text(d, obj, "name", false, rule_title(d, EMPTY_ABSENT), &c->name, NULL) < 0 ||
        read_id(d, obj, "program_id", false, &c->program_id, &c->has_program_id) < 0 ||
        read_bool(d, obj, "enabled", false, &c->enabled, &c->has_enabled) < 0)
        return -1;
    if (read_enum(d, obj, "preset", FORUM_WEBHOOK_PRESET_NAMES, FORUM_HOOK__COUNT, &value,
                  &present) < 0)
        return -1;
    c->has_preset = present;
    c->preset = value;
    if (read_array(d, obj, "events", !update, 1, FORUM_TRIGGER__COUNT, &arr, &c->has_triggers) < 0)
        return -1;
    cJSON_ArrayForEach (el, arr) {
        int i = cJSON_IsString(el) ? forum_name_index(FORUM_WEBHOOK_TRIGGER_NAMES,
                                                      FORUM_TRIGGER__COUNT, el->valuestring)
                                   : -1;
        if (i < 0)
            return fail(d, FORUM_E_BAD_REQUEST, "events", "events has an unknown event");
        c->triggers |= 1u << i;
    }
    const cJSON *secret = get(obj, "secret");
    if (secret) {
        c->has_secret = true;
        if (!cJSON_IsNull(secret) &&
            read_text(d, obj, "secret", false,
                      (text_rule){FORUM_WEBHOOK_SECRET_MAX, false, EMPTY_ERROR}, &c->secret,
                      NULL) < 0)
            return -1;
    }
    return 0;
}

static int decode_webhook_create(decoder *d, const cJSON *obj)
{
    return decode_webhook(d, obj, false);
}

static int decode_webhook_update(decoder *d, const cJSON *obj)
{
    return decode_webhook(d, obj, true);
}

static int decode_webhook_delete(decoder *d, const cJSON *obj)
{
    return read_id(d, obj, "webhook_id", true, &d->cmd->webhook_id, NULL);
}

/* questions.similar {session?, question_ids: [1..PROTO_SIMILAR_IDS_MAX ids]} */
#define PROTO_SIMILAR_IDS_MAX 100
static int decode_questions_similar(decoder *d, const cJSON *obj)
{
    return read_id_array(d, obj, "question_ids", true, 1, PROTO_SIMILAR_IDS_MAX, &d->cmd->ids,
                         &d->cmd->n_ids, NULL);
}

typedef int (*type_decoder)(decoder *d, const cJSON *obj);

static const struct request_type {
    const char *name;
    forum_cmd_type type;
    type_decoder decode;
} request_types[] = {
    {"hello", FORUM_CMD_HELLO, decode_hello},
    {"question.submit", FORUM_CMD_QUESTION_SUBMIT, decode_submit},
    {"question.edit", FORUM_CMD_QUESTION_EDIT, decode_edit},
    {"question.withdraw", FORUM_CMD_QUESTION_WITHDRAW, decode_question_id},
    {"vote.add", FORUM_CMD_VOTE_ADD, decode_question_id},
    {"vote.remove", FORUM_CMD_VOTE_REMOVE, decode_question_id},
    {"poll.vote", FORUM_CMD_POLL_VOTE, decode_poll_vote},
    {"question.approve", FORUM_CMD_QUESTION_APPROVE, decode_question_id},
    {"question.dismiss", FORUM_CMD_QUESTION_DISMISS, decode_dismiss},
    {"question.star", FORUM_CMD_QUESTION_STAR, decode_star},
    {"question.merge", FORUM_CMD_QUESTION_MERGE, decode_merge},
    {"question.answered", FORUM_CMD_QUESTION_ANSWERED, decode_answered},
    {"question.undo", FORUM_CMD_QUESTION_UNDO, decode_nothing},
    {"onair.set", FORUM_CMD_ONAIR_SET, decode_question_id},
    {"onair.clear", FORUM_CMD_ONAIR_CLEAR, decode_nothing},
    {"onair.next", FORUM_CMD_ONAIR_NEXT, decode_nothing},
    {"queue.set", FORUM_CMD_QUEUE_SET, decode_queue_set},
    {"panel.set", FORUM_CMD_PANEL_SET, decode_panel_set},
    {"viewer.ban", FORUM_CMD_VIEWER_BAN, decode_ban},
    {"viewer.unban", FORUM_CMD_VIEWER_UNBAN, decode_viewer},
    {"poll.create", FORUM_CMD_POLL_CREATE, decode_poll_create},
    {"poll.open", FORUM_CMD_POLL_OPEN, decode_poll_id},
    {"poll.close", FORUM_CMD_POLL_CLOSE, decode_poll_id},
    {"program.create", FORUM_CMD_PROGRAM_CREATE, decode_program_create},
    {"program.update", FORUM_CMD_PROGRAM_UPDATE, decode_program_update},
    {"session.create", FORUM_CMD_SESSION_CREATE, decode_session_create},
    {"session.update", FORUM_CMD_SESSION_UPDATE, decode_session_update},
    {"session.open", FORUM_CMD_SESSION_OPEN, decode_nothing},
    {"session.start", FORUM_CMD_SESSION_START, decode_nothing},
    {"session.end", FORUM_CMD_SESSION_END, decode_nothing},
    {"session.archive", FORUM_CMD_SESSION_ARCHIVE, decode_nothing},
    {"session.list", FORUM_CMD_SESSION_LIST, decode_nothing},
    {"questions.list", FORUM_CMD_QUESTIONS_LIST, decode_questions_list},
    {"questions.similar", FORUM_CMD_QUESTIONS_SIMILAR, decode_questions_similar},
    {"session.rotate_key", FORUM_CMD_SESSION_ROTATE_KEY, decode_nothing},
    {"action.create", FORUM_CMD_ACTION_CREATE, decode_action_create},
    {"action.update", FORUM_CMD_ACTION_UPDATE, decode_action_update},
    {"session.carry_over", FORUM_CMD_SESSION_CARRY_OVER, decode_carry_over},
    {"viewer.erase", FORUM_CMD_VIEWER_ERASE, decode_viewer},
    {"search", FORUM_CMD_SEARCH, decode_search},
    {"backup", FORUM_CMD_BACKUP, decode_backup},
    {"webhook.create", FORUM_CMD_WEBHOOK_CREATE, decode_webhook_create},
    {"webhook.update", FORUM_CMD_WEBHOOK_UPDATE, decode_webhook_update},
    {"webhook.delete", FORUM_CMD_WEBHOOK_DELETE, decode_webhook_delete},
    {"rating.set", FORUM_CMD_RATING_SET, decode_rating_set},
    {"rating.approve", FORUM_CMD_RATING_APPROVE, decode_rating_id},
    {"rating.dismiss", FORUM_CMD_RATING_DISMISS, decode_rating_id},
    {"question.restore", FORUM_CMD_QUESTION_RESTORE, decode_restore},
    {"questions.approve", FORUM_CMD_QUESTIONS_APPROVE, decode_bulk_approve},
    {"questions.dismiss", FORUM_CMD_QUESTIONS_DISMISS, decode_bulk_dismiss},
};

/* True when s holds a control character (Unicode Cc: U+0000..U+001F, U+007F..U+009F). */
static bool has_control_character(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return true;
    return false;
}

/* Reads "id" into cmd->id and err->re. Absent or null: no id. An id that is not 1..64 bytes
 * of text without control characters is refused and not echoed (err->re stays ""). */
static int read_request_id(decoder *d, const cJSON *obj)
{
    const cJSON *item = get(obj, "id");
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsString(item) || !item->valuestring)
        return fail(d, FORUM_E_BAD_REQUEST, "id", "id must be a string");
    size_t len = strlen(item->valuestring);
    if (len == 0 || len >= FORUM_REQUEST_ID_MAX)
        return fail(d, FORUM_E_BAD_REQUEST, "id", "id must have 1 to %d bytes",
                    FORUM_REQUEST_ID_MAX - 1);
    if (has_control_character(item->valuestring))
        return fail(d, FORUM_E_BAD_REQUEST, "id", "id must not contain control characters");
    d->cmd->id = dup_bytes(item->valuestring, len);
    if (!d->cmd->id)
        return oom(d);
    memcpy(d->err->re, item->valuestring, len + 1);
    return 0;
}

int proto_decode(const char *data, size_t len, const forum_limits *limits, forum_command *out,
                 proto_error *err)
{
    forum_limits defaults;
    decoder d = {limits, out, err};
    cJSON *root = NULL;
    char *patched = NULL;
    const char *text = data, *why = NULL, *end = NULL;
    bool nul_escape = false;

    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (!limits) {
        forum_limits_default(&defaults);
        d.limits = &defaults;
    }
    if (!data || !utf8_valid(data, len)) {
        fail(&d, FORUM_E_BAD_JSON, NULL, "invalid UTF-8");
        goto fail;
    }
    if (scan_json(data, len, NULL, &nul_escape, &why) < 0) {
        fail(&d, FORUM_E_BAD_JSON, NULL, "%s", why);
        goto fail;
    }
    if (nul_escape) { /* parse a copy in which \u0000 cannot cut a string short (the id) */
        if (!(patched = dup_bytes(data, len))) {
            oom(&d);
            goto fail;
        }
        scan_json(data, len, patched, &nul_escape, &why);
        text = patched;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        fail(&d, FORUM_E_BAD_JSON, NULL, "not valid JSON");
        goto fail;
    }
    for (; end && end < text + len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            fail(&d, FORUM_E_BAD_JSON, NULL, "trailing characters after the JSON value");
            goto fail;
        }
    }
    if (!cJSON_IsObject(root)) {
        fail(&d, FORUM_E_BAD_REQUEST, NULL, "a request must be a JSON object");
        goto fail;
    }
    if (read_request_id(&d, root) < 0)
        goto fail;
    if (nul_escape) {
        char field[40];
        nul_escape_field(data, len, field, sizeof field);
        fail(&d, FORUM_E_BAD_REQUEST, field[0] ? field : NULL,
             "%s must not contain NUL characters", field[0] ? field : "strings");
        goto fail;
    }

    const cJSON *type = get(root, "type");
    if (!type) {
        fail(&d, FORUM_E_BAD_REQUEST, "type", "type is required");
        goto fail;
    }
    if (!cJSON_IsString(type) || !type->valuestring) {
        fail(&d, FORUM_E_BAD_REQUEST, "type", "type must be a string");
        goto fail;
    }
    const struct request_type *rt = NULL;
    for (size_t i = 0; i < sizeof request_types / sizeof request_types[0]; i++) {
        if (strcmp(type->valuestring, request_types[i].name) == 0) {
            rt = &request_types[i];
            break;
        }
    }
    if (!rt) {
        fail(&d, FORUM_E_UNKNOWN_TYPE, "type", "unknown type");
        goto fail;
    }
    out->type = rt->type;
    if (rt->type != FORUM_CMD_HELLO && read_session(&d, root, &out->session) < 0)
        goto fail;
    if (rt->decode(&d, root) < 0)
        goto fail;
    cJSON_Delete(root);
    free(patched);
    return 0;

fail:
    cJSON_Delete(root);
    free(patched);
    forum_command_free(out);
    memset(out, 0, sizeof *out);
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Encoding: cJSON trees printed with jsonw, rendering the public/subject views while printing
 * (no copy of the payload). */

/* "key": with a leading comma unless first. */
static void jb_key(jsonw *b, bool *first, const char *key)
{
    if (!*first)
        jsonw_put(b, ",", 1);
    *first = false;
    jsonw_string(b, key);
    jsonw_put(b, ":", 1);
}

/* Opens a server message: {"type":type and, when re is set, "re":re. */
static void begin_message(jsonw *b, bool *first, const char *type, const char *re)
{
    jsonw_put(b, "{", 1);
    jb_key(b, first, "type");
    jsonw_string(b, type);
    if (re && re[0]) {
        jb_key(b, first, "re");
        jsonw_string(b, re);
    }
}

/* Where a value sits, for the public/subject views. */
typedef enum node_kind { NODE_PLAIN = 0, NODE_QUESTION } node_kind;

static void print_value(jsonw *b, const cJSON *item, forum_view view, node_kind kind);

/* True when key is the name of a field that holds a question object. */
static bool holds_question(const char *key)
{
    return strcmp(key, "question") == 0 || strcmp(key, "into") == 0;
}

/* Prints the members of obj (no braces), skipping envelope keys when skip is given; in the
 * public/subject views drops "viewer_id" and "blocked_words" everywhere and renders "mine" in
 * question objects. */
static void print_members(jsonw *b, const cJSON *obj, forum_view view, node_kind kind,
                          bool *first, const char *const *skip)
{
    const cJSON *child;
    bool filtered = view != FORUM_VIEW_STAFF;
    bool mine_done = false;
    cJSON_ArrayForEach(child, obj) {
        const char *key = child->string ? child->string : "";
        bool skipped = false;
        for (size_t i = 0; skip && skip[i]; i++)
            skipped = skipped || strcmp(key, skip[i]) == 0;
        if (skipped)
            continue;
        if (filtered && (strcmp(key, "viewer_id") == 0 || strcmp(key, "blocked_words") == 0))
            continue;
        jb_key(b, first, key);
        if (filtered && kind == NODE_QUESTION && strcmp(key, "mine") == 0) {
            jsonw_puts(b, view == FORUM_VIEW_SUBJECT ? "true" : "false");
            mine_done = true;
            continue;
        }
        node_kind child_kind = NODE_PLAIN;
        if (cJSON_IsObject(child) && holds_question(key))
            child_kind = NODE_QUESTION;
        else if (cJSON_IsArray(child) && strcmp(key, "questions") == 0)
            child_kind = NODE_QUESTION; /* applies to its elements */
        print_value(b, child, view, child_kind);
    }
    if (filtered && kind == NODE_QUESTION && !mine_done) {
        jb_key(b, first, "mine");
        jsonw_puts(b, view == FORUM_VIEW_SUBJECT ? "true" : "false");
    }
}

static void print_value(jsonw *b, const cJSON *item, forum_view view, node_kind kind)
{
    const cJSON *child;
    bool first = true;
    switch (item->type & 0xFF) {
    case cJSON_False: jsonw_puts(b, "false"); break;
    case cJSON_True: jsonw_puts(b, "true"); break;
    case cJSON_NULL: jsonw_puts(b, "null"); break;
    case cJSON_Number: jsonw_number(b, item->valuedouble); break;
    case cJSON_String: jsonw_string(b, item->valuestring ? item->valuestring : ""); break;
    case cJSON_Raw: jsonw_puts(b, item->valuestring ? item->valuestring : "null"); break;
    case cJSON_Array:
        jsonw_put(b, "[", 1);
        cJSON_ArrayForEach(child, item) {
            if (!first)
                jsonw_put(b, ",", 1);
            first = false;
            print_value(b, child, view, cJSON_IsObject(child) ? kind : NODE_PLAIN);
        }
        jsonw_put(b, "]", 1);
        break;
    case cJSON_Object:
        jsonw_put(b, "{", 1);
        print_members(b, item, view, kind, &first, NULL);
        jsonw_put(b, "}", 1);
        break;
    default: jsonw_puts(b, "null"); break;
    }
}

static const char *role_name(forum_role role)
{
    switch (role) {
    case FORUM_ROLE_VIEWER: return "viewer";
    case FORUM_ROLE_MODERATOR: return "moderator";
    case FORUM_ROLE_PRODUCER: return "producer";
    case FORUM_ROLE_BOARD: return "board";
    default: return "none";
    }
}

char *proto_encode_welcome_text(const char *re, forum_role role, const char *viewer_id,
                                int64_t seq, const char *snapshot, int64_t viewers)
{
    jsonw b = {0};
    bool first = true;
    begin_message(&b, &first, "welcome", re);
    jb_key(&b, &first, "role");
    jsonw_string(&b, role_name(role));
    if (viewer_id && viewer_id[0]) {
        jb_key(&b, &first, "viewer_id");
        jsonw_string(&b, viewer_id);
    }
    jb_key(&b, &first, "seq");
    jsonw_int(&b, seq);
    size_t n = snapshot ? strlen(snapshot) : 0;
    if (n >= 2 && snapshot[0] == '{' && snapshot[n - 1] == '}') {
        jb_key(&b, &first, "snapshot");
        jsonw_put(&b, snapshot, n - 1);
        if (viewers >= 0) {
            bool inner = n == 2;
            jsonw_kv_int(&b, &inner, "viewers", viewers);
        }
        jsonw_put(&b, "}", 1);
    } else {
        jb_key(&b, &first, "resumed");
        jsonw_puts(&b, "true");
    }
    jsonw_put(&b, "}", 1);
    return jsonw_finish(&b);
}

static const char *const ack_envelope[] = {"type", "re", NULL};

char *proto_encode_ack(const char *re, const cJSON *result)
{
    jsonw b = {0};
    bool first = true;
    begin_message(&b, &first, "ack", re);
    if (result && cJSON_IsObject(result))
        print_members(&b, result, FORUM_VIEW_STAFF, NODE_PLAIN, &first, ack_envelope);
    jsonw_put(&b, "}", 1);
    return jsonw_finish(&b);
}

char *proto_encode_ack_text(const char *re, const char *members, size_t len)
{
    jsonw b = {0};
    bool first = true;
    begin_message(&b, &first, "ack", re);
    if (len) {
        jsonw_put(&b, ",", 1);
        jsonw_put(&b, members, len);
    }
    jsonw_put(&b, "}", 1);
    return jsonw_finish(&b);
}

char *proto_encode_error(const char *re, forum_err code, const char *field, const char *message,
                         int64_t retry_after_ms)
{
    jsonw b = {0};
    bool first = true;
    begin_message(&b, &first, "error", re);
    jb_key(&b, &first, "code");
    jsonw_string(&b, proto_err_name(code));
    jb_key(&b, &first, "message");
    jsonw_string(&b, message && message[0] ? message : proto_err_name(code));
    if (field && field[0]) {
        jb_key(&b, &first, "field");
        jsonw_string(&b, field);
    }
    if (retry_after_ms > 0) {
        jb_key(&b, &first, "retry_after_ms");
        jsonw_int(&b, retry_after_ms);
    }
    jsonw_put(&b, "}", 1);
    return jsonw_finish(&b);
}

char *proto_encode_welcome(const char *re, forum_role role, const char *viewer_id, int64_t seq,
                           const cJSON *snapshot)
{
    jsonw b = {0};
    bool first = true;
    begin_message(&b, &first, "welcome", re);
    jb_key(&b, &first, "role");
    jsonw_string(&b, role_name(role));
    if (viewer_id && viewer_id[0]) {
        jb_key(&b, &first, "viewer_id");
        jsonw_string(&b, viewer_id);
    }
    jb_key(&b, &first, "seq");
    jsonw_int(&b, seq);
    if (snapshot) {
        jb_key(&b, &first, "snapshot");
        print_value(&b, snapshot, FORUM_VIEW_STAFF, NODE_PLAIN);
    } else {
        jb_key(&b, &first, "resumed");
        jsonw_puts(&b, "true");
    }
    jsonw_put(&b, "}", 1);
    return jsonw_finish(&b);
}

char *proto_encode_event(const forum_event *ev, forum_view view)
{
    jsonw b = {0};
    bool first = true;
    begin_message(&b, &first, "event", NULL);
    jb_key(&b, &first, "seq");
    jsonw_int(&b, ev->seq);
    jb_key(&b, &first, "at");
    jsonw_int(&b, ev->at);
    if (ev->offset_ms >= 0) {
        jb_key(&b, &first, "offset_ms");
        jsonw_int(&b, ev->offset_ms);
    }
    jb_key(&b, &first, "kind");
    jsonw_string(&b, forum_kind_name(ev->kind));
    if (view == FORUM_VIEW_STAFF && ev->actor[0]) {
        jb_key(&b, &first, "actor"); /* who did it: staff see it (it may name a viewer id) */
        jsonw_string(&b, ev->actor);
    }
    forum_event_write_payload(&b, &first, ev, view);
    jsonw_put(&b, "}", 1);
    return jsonw_finish(&b);
}
