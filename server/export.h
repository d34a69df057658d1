/* export.h — what producers take away from a session: transcript.json (every event in order
 * plus the final state). Reads the transcript from the store; renders with the staff view. */
#pragma once
#include <stddef.h>

#include "forum.h"
#include "store.h"

/* Returns a malloc'd JSON document {"session","panel","polls","questions","events":[...]}
 * for session code and sets *len, or NULL on failure. */
char *export_transcript_json(store *s, const forum_state *st, const char *code, size_t *len);
