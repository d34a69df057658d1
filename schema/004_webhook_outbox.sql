-- 004_webhook_outbox.sql — the durable outbox of outgoing webhooks (server/app/webhook.c): one row
-- per delivery owed to a registered webhook, inserted in the same transaction as the event that
-- owes it, so that a receiver that is down, or a restart of forumd, loses nothing. The delivery
-- updates a row after each attempt (in a transaction of its own) until it is delivered, given
-- up on (failed) or dropped because its webhook was removed or paused (cancelled); finished
-- rows are kept a week for the producer console, then deleted.
--
-- Not a projection: it is not rebuilt from events (a replay does not send anything again).

CREATE TABLE webhook_outbox (
    id          INTEGER PRIMARY KEY,   -- also the delivery id (X-Forum-Delivery)
    webhook_id  INTEGER NOT NULL,
    event       TEXT    NOT NULL,      -- question.on_air, commitment.created, ..., webhook.test
    session     TEXT    NOT NULL,      -- the event reported: its session ('' for a test) ...
    seq         INTEGER NOT NULL,      -- ... and seq
    body        TEXT    NOT NULL,      -- the generic JSON document; presets are formatted from it
    created_at  INTEGER NOT NULL,      -- ms epoch
    state       TEXT    NOT NULL DEFAULT 'pending', -- pending | delivered | failed | cancelled
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,      -- ms epoch of the next attempt (while pending)
    last_status INTEGER,               -- HTTP status of the last attempt, NULL if none came back
    last_error  TEXT,                  -- why the last attempt failed, NULL after a success
    updated_at  INTEGER NOT NULL
);
-- The first pending delivery of each webhook (deliveries of one webhook go out in order).
CREATE INDEX webhook_outbox_pending ON webhook_outbox (webhook_id, id) WHERE state = 'pending';
-- The console's status per webhook, and the weekly clean-up.
CREATE INDEX webhook_outbox_recent ON webhook_outbox (webhook_id, updated_at);
CREATE INDEX webhook_outbox_finished ON webhook_outbox (updated_at) WHERE state <> 'pending';
