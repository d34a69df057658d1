/* proto.h — the wire codec (docs/protocol.md): decodes one client frame into a validated
 * forum_command, and encodes acks, errors, welcomes and events. Pure: no I/O, no globals.
 * Every encoder returns a malloc'd NUL-terminated JSON text (caller frees) or NULL on OOM. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "forum.h"

typedef struct proto_error {
    forum_err code;                 /* FORUM_E_BAD_JSON, _BAD_REQUEST, _TOO_LONG, _UNKNOWN_TYPE */
    char field[40];                 /* the offending field, "" if none */
    char message[200];              /* human text */
    char re[FORUM_REQUEST_ID_MAX];  /* the request's "id" if one could be read, else "" */
} proto_error;

/* Decodes data[0..len) (not NUL-terminated, any bytes). Returns 0 and fills *out (caller calls
 * forum_command_free), or -1 and fills *err (out left empty). Checks: valid UTF-8, a JSON
 * object, known "type", every field's type, range and length (code points, after trimming
 * surrounding white space for text fields), nesting depth <= 16. */
int proto_decode(const char *data, size_t len, const forum_limits *limits, forum_command *out,
                 proto_error *err);

/* Wire name of an error code ("bad_json", ...). */
const char *proto_err_name(forum_err code);

/* {"type":"ack","re":re, ...fields of result (may be NULL)} */
char *proto_encode_ack(const char *re, const cJSON *result);
/* The same with the fields as JSON text (members: `"k":v,...`; empty = a bare ack). */
char *proto_encode_ack_text(const char *re, const char *members, size_t len);

/* {"type":"error","re":re?,"code","message","field"?,"retry_after_ms"?}; re/field may be NULL
 * or "", retry_after_ms <= 0 is left out. */
char *proto_encode_error(const char *re, forum_err code, const char *field, const char *message,
                         int64_t retry_after_ms);

/* {"type":"welcome","re":re,"role","viewer_id"?,"seq", "snapshot"} or, when snapshot is NULL,
 * {"type":"welcome","re":re,"role","viewer_id"?,"seq","resumed":true}. */
char *proto_encode_welcome(const char *re, forum_role role, const char *viewer_id, int64_t seq,
                           const cJSON *snapshot);
/* The same with the snapshot as a JSON object text (NULL: resumed); viewers >= 0 is added to it
 * as "viewers" (what staff see of the audience). */
char *proto_encode_welcome_text(const char *re, forum_role role, const char *viewer_id,
                                int64_t seq, const char *snapshot, int64_t viewers);


/* {"type":"event","seq","at","offset_ms"? (when >= 0),"kind", ...payload rendered for view
 * (see event.h: the public and subject views leave out staff-only fields)} */
char *proto_encode_event(const forum_event *ev, forum_view view);
