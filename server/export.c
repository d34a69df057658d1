/* export.c — session exports for producers (see export.h). */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static int add_event(void *arg, const forum_event *ev)
{
    cJSON *events = arg;
    char *text = proto_encode_event(ev, PROTO_VIEW_STAFF);
    cJSON *obj = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!obj)
        return -1;
    cJSON_DeleteItemFromObject(obj, "type");
    cJSON_AddStringToObject(obj, "actor", ev->actor);
    cJSON_AddItemToArray(events, obj);
    return 0;
}

char *export_transcript_json(store *s, const forum_state *st, const char *code, size_t *len)
{
    forum_actor producer;
    memset(&producer, 0, sizeof producer);
    producer.role = FORUM_ROLE_PRODUCER;
    snprintf(producer.session, sizeof producer.session, "%s", code);
    cJSON *doc = forum_snapshot(st, &producer, code);
    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "format", "forum.transcript.v1");
    cJSON *events = cJSON_AddArrayToObject(doc, "events");
    char *out = NULL;
    if (!events || store_events_after(s, code, 0, (size_t)-1, add_event, events) < 0)
        goto done;
    out = cJSON_PrintUnformatted(doc);
    if (out)
        *len = strlen(out);
done:
    cJSON_Delete(doc);
    return out;
}
