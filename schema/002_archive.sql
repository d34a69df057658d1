-- 002_archive.sql — what producers keep after the show: the action items projection and the
-- full-text search index over questions, answer notes and action texts (all sessions).
-- Projections, like those of 001: rebuilt from events, kept in step in the same transaction.

-- Action items (action.changed events): commitments made on air, followed up across sessions.
CREATE TABLE actions (
    id          INTEGER PRIMARY KEY,
    session     TEXT NOT NULL,    -- the session it was made in
    question_id INTEGER,          -- the question it answers, NULL if none
    text        TEXT,
    owner       TEXT,
    due         TEXT,             -- 'YYYY-MM-DD' or NULL
    status      TEXT,             -- open | in_progress | done
    created_at  INTEGER,
    json        TEXT,             -- whole action object
    updated_at  INTEGER NOT NULL
);
CREATE INDEX actions_session ON actions (session);

-- Full-text index. The trigram tokenizer finds any substring of 3 or more characters, which
-- suits Chinese (no word boundaries); shorter terms are matched with LIKE on the same table
-- (a scan of the indexed texts). One row per searchable text, keyed by rowid:
--   question text    = question id * 4
--   answer note      = question id * 4 + 1
--   action item text = action id * 4 + 2
-- Only texts are indexed, never names or viewer ids (so erasing a viewer needs no change here).
CREATE VIRTUAL TABLE search_index USING fts5 (body, tokenize = 'trigram');

CREATE TRIGGER questions_search_insert AFTER INSERT ON questions BEGIN
    INSERT INTO search_index (rowid, body) SELECT new.id * 4, new.text
        WHERE new.text IS NOT NULL AND new.text <> '';
    INSERT INTO search_index (rowid, body) SELECT new.id * 4 + 1, new.answer_note
        WHERE new.answer_note IS NOT NULL AND new.answer_note <> '';
END;

CREATE TRIGGER questions_search_update AFTER UPDATE OF text, answer_note ON questions
    WHEN old.text IS NOT new.text OR old.answer_note IS NOT new.answer_note BEGIN
    DELETE FROM search_index WHERE rowid IN (old.id * 4, old.id * 4 + 1);
    INSERT INTO search_index (rowid, body) SELECT new.id * 4, new.text
        WHERE new.text IS NOT NULL AND new.text <> '';
    INSERT INTO search_index (rowid, body) SELECT new.id * 4 + 1, new.answer_note
        WHERE new.answer_note IS NOT NULL AND new.answer_note <> '';
END;

CREATE TRIGGER questions_search_delete AFTER DELETE ON questions BEGIN
    DELETE FROM search_index WHERE rowid IN (old.id * 4, old.id * 4 + 1);
END;

CREATE TRIGGER actions_search_insert AFTER INSERT ON actions BEGIN
    INSERT INTO search_index (rowid, body) SELECT new.id * 4 + 2, new.text
        WHERE new.text IS NOT NULL AND new.text <> '';
END;

CREATE TRIGGER actions_search_update AFTER UPDATE OF text ON actions
    WHEN old.text IS NOT new.text BEGIN
    DELETE FROM search_index WHERE rowid = old.id * 4 + 2;
    INSERT INTO search_index (rowid, body) SELECT new.id * 4 + 2, new.text
        WHERE new.text IS NOT NULL AND new.text <> '';
END;

CREATE TRIGGER actions_search_delete AFTER DELETE ON actions BEGIN
    DELETE FROM search_index WHERE rowid = old.id * 4 + 2;
END;

-- Index what databases created by 001 already hold.
INSERT INTO search_index (rowid, body)
    SELECT id * 4, text FROM questions WHERE text IS NOT NULL AND text <> '';
INSERT INTO search_index (rowid, body)
    SELECT id * 4 + 1, answer_note FROM questions
    WHERE answer_note IS NOT NULL AND answer_note <> '';
