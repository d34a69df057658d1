/* export.h — what producers take away from a session: transcript.json (every event in order
 * plus the final state), transcript.md (the minutes, Chinese or English), questions.csv, and
 * the search answers (protocol and HTTP). Reads the transcript from the store and the final
 * state from the forum; renders with the staff view. Loop thread. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "forum.h"
#include "store.h"

/* Returns a malloc'd JSON document {"session","panel","polls","questions","actions",
 * "open_actions","peak_viewers","format","events":[...]} for session code and sets *len, or
 * NULL on failure. */
char *export_transcript_json(store *s, const forum_state *st, const char *code, size_t *len);

/* Member k of object o as an integer (0 if absent or not a number) and as a string (NULL). */
static inline int64_t export_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}
static inline const char *export_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

typedef enum export_lang { EXPORT_ZH = 0, EXPORT_EN } export_lang;

/* The minutes of session code as Markdown (UTF-8): programme, title, date, panelists, agenda;
 * per segment the questions put on air in order (asker, addressed panelist, offset in the
 * stream, answer note, follow-ups nested); the commitments; the numbers. A question belongs to
 * the segment that was current when it first went on air. Dates in the server's local time.
 * Returns malloc'd text and sets *len, or NULL. Format: docs/archive.md. */
char *export_transcript_md(store *s, const forum_state *st, const char *code, export_lang lang,
                           size_t *len);

/* questions.csv: UTF-8 with BOM, RFC 4180 (CRLF, quotes doubled, fields with , " CR LF
 * quoted), a header row, then one row per question of the session in id order. Returns
 * malloc'd text and sets *len, or NULL. Columns: docs/archive.md. */
char *export_questions_csv(store *s, const forum_state *st, const char *code, size_t *len);

/* The ack of a decoded `search` request: {"results":[...]} (store_search), or NULL with *err
 * and message set. */
cJSON *export_search(store *s, const forum_command *cmd, forum_err *err, char *message,
                     size_t message_len);

/* GET /api/search?q=...&program_id=&from=&to=&category=&state=&limit= : validates the query
 * string like the protocol request, runs it, and returns the JSON body with *status 200, or an
 * error body {"error","message","field"?} with *status 400/500. */
char *export_search_http(store *s, const forum_limits *limits, const char *query, int *status,
                         size_t *len);

/* POST /api/search with a JSON body: the protocol's search request object ({"q", "program_id",
 * "from", "to", "category", "state", "limit"}; "type" and "id" are ignored), so terms may hold
 * '&' and stay out of URLs and access logs. Same answers as export_search_http; a body that is
 * not a JSON object is a 400 bad_json / bad_request. */
/* commitments.csv of a programme's public board (the same items and filters as
 * forum_public_commitments): UTF-8 with BOM, RFC 4180, one row per commitment and per follow-up
 * (with follows_action_id). NULL when there is no such programme or a filter is malformed
 * (*bad_field names it). Columns: docs/archive.md. */
char *export_commitments_csv(const forum_state *st, int64_t program_id,
                             const forum_board_filter *filter, const char **bad_field,
                             size_t *len);

char *export_search_json(store *s, const forum_limits *limits, const char *body, size_t body_len,
                         int *status, size_t *len);
