/* report.h — the show's report: what a session (or a programme over a date range) amounted to,
 * in numbers a producer can chart and print. Computed from the same document as transcript.json
 * (the session's final state plus every stored event, staff view), so the numbers can be
 * recomputed from that export by anyone. Loop thread. Fields: docs/archive.md ("The report"). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "forum.h"
#include "store.h"

/* report.json of session code: {"format":"forum.report.v1","session":{...},"questions":{...},
 * "time_to_air":{...},"panelists":[...],"commitments":{...},"audience":{...}}. Returns malloc'd
 * JSON and sets *len, or NULL on failure (no such session, database error, out of memory). */
char *report_session_json(store *s, const forum_state *st, const char *code, size_t *len);

/* report.json of programme program_id over the sessions whose date (scheduled, else started)
 * falls in the query's from..to ("YYYY-MM-DD", UTC days, both inclusive, either may be
 * absent): the sums over those sessions plus one row per session. Sets *status to 200, 400 (a
 * bad date: an error body) or 404 (no such programme); returns the body or NULL (500). */
char *report_program_json(store *s, const forum_state *st, int64_t program_id, const char *query,
                          int *status, size_t *len);
