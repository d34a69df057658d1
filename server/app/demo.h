/* demo.h — the demo programme of the README (书记论坛 with one open session and three pre-show
 * questions), created in an empty database so that a newcomer has something to open. */
#pragma once
#include "forum.h"
#include "store.h"

/* Creates the demo programme in st, saves its events to s (synchronously) and prints the join
 * code and the links under base_url — the moderator link carries the demo session's moderator
 * key: this is the only time it is printed (docs/security.md). Returns 0, or -1 after logging
 * why (nothing is saved then). */
int demo_create(forum_state *st, store *s, const char *base_url);
