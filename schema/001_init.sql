-- 001_init.sql — the initial schema: the append-only transcript (events) and the projection
-- tables that store.c keeps in step with it, in the same transaction as the events they come
-- from. Projections are derived data: they can always be rebuilt from events.
--
-- Migrations run inside the runner's transaction: no BEGIN/COMMIT in these files. The runner
-- records each applied file in `migrations` and the highest version in PRAGMA user_version.

-- Every event of every session, in commit order (rowid). Never updated, never deleted.
CREATE TABLE events (
    session    TEXT    NOT NULL,  -- join code; '' = the studio log (program.changed)
    seq        INTEGER NOT NULL,  -- per session, gap-free
    at         INTEGER NOT NULL,  -- ms epoch
    offset_ms  INTEGER,           -- ms since session.start; NULL before the session went live
    actor      TEXT    NOT NULL,  -- "viewer:<id>", "moderator:<name>", "producer", "system"
    kind       TEXT    NOT NULL,  -- "question.submitted", "votes.changed", ...
    payload    TEXT    NOT NULL,  -- JSON object, staff rendering
    audience   INTEGER NOT NULL,  -- forum_audience
    subject    TEXT,              -- viewer concerned, NULL if none
    request_id TEXT,              -- client request id (idempotent submits), NULL if none
    secret     TEXT,              -- JSON object or NULL: stored, never sent or exported
    PRIMARY KEY (session, seq)
);
-- Idempotence look-ups: has this viewer already submitted request id X in this session?
CREATE INDEX events_request ON events (session, subject, request_id)
    WHERE request_id IS NOT NULL;

CREATE TABLE programs (
    id          INTEGER PRIMARY KEY,
    title       TEXT,
    description TEXT,
    json        TEXT,             -- whole program object
    updated_at  INTEGER NOT NULL
);

CREATE TABLE sessions (
    code         TEXT PRIMARY KEY,
    program_id   INTEGER,
    title        TEXT,
    topic        TEXT,
    status       TEXT,
    scheduled_at INTEGER,
    started_at   INTEGER,
    ended_at     INTEGER,
    json         TEXT,            -- whole session object
    updated_at   INTEGER NOT NULL
);
CREATE INDEX sessions_program ON sessions (program_id);

CREATE TABLE questions (
    id          INTEGER PRIMARY KEY,
    session     TEXT NOT NULL,
    state       TEXT,
    category    TEXT,
    text        TEXT,
    author      TEXT,
    to_panelist INTEGER,
    parent_id   INTEGER,
    votes       INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER,
    phase       TEXT,
    answer_note TEXT,
    starred     INTEGER NOT NULL DEFAULT 0,
    source      TEXT,
    viewer_id   TEXT,
    json        TEXT,             -- whole question object (staff rendering)
    updated_at  INTEGER NOT NULL
);
CREATE INDEX questions_session ON questions (session, state);

-- One row per (question, viewer) vote currently standing.
CREATE TABLE votes (
    session     TEXT    NOT NULL,
    question_id INTEGER NOT NULL,
    viewer_id   TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (question_id, viewer_id)
) WITHOUT ROWID;
CREATE INDEX votes_viewer ON votes (session, viewer_id);

CREATE TABLE polls (
    id         INTEGER PRIMARY KEY,
    session    TEXT NOT NULL,
    state      TEXT,
    json       TEXT,              -- whole poll object
    updated_at INTEGER NOT NULL
);
CREATE INDEX polls_session ON polls (session);

-- Server settings, e.g. "producer_key_hash".
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
