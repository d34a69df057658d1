-- 003_search_per_commit.sql — question texts are indexed in batches after the commits, not
-- inside every question statement.
--
-- With 002's triggers every question upsert that inserted or changed a text wrote to the FTS5
-- table inside that statement. Once an FTS5 table has been written in a transaction, SQLite
-- calls its xSavepoint at the start of every later statement of the transaction, and FTS5
-- (3.40) flushes its pending terms to a new index segment there: a group commit of N question
-- events made N tiny segments and merged them, which cost most of the writer's time
-- (docs/performance.md).
--
-- Now the triggers only note the question id in search_pending (a plain table), committed with
-- the question. store.c's writer indexes the noted questions afterwards, in a transaction of
-- its own with a few set-based statements, and empties search_pending (store.c:
-- flush_search_pending): shortly after the commits, before any search request completes, and
-- after a restart for notes a crash left behind.

-- Action items (rare) keep 002's direct triggers.

DROP TRIGGER questions_search_insert;
DROP TRIGGER questions_search_update;
DROP TRIGGER questions_search_delete;

-- (NOT EXISTS rather than INSERT OR IGNORE: a trigger's conflict clause gives way to that of the
-- statement that fired it, and the question upserts would turn IGNORE into ABORT.)
--
-- Questions whose text or answer note was inserted, changed or deleted since the index last
-- caught up. fresh = 1: the first note of it was its insert, so the index holds nothing of it
-- yet (nothing to delete before indexing it).
CREATE TABLE search_pending (
    question_id INTEGER PRIMARY KEY,
    fresh       INTEGER NOT NULL
);

CREATE TRIGGER questions_search_insert AFTER INSERT ON questions
    WHEN (new.text IS NOT NULL AND new.text <> '')
      OR (new.answer_note IS NOT NULL AND new.answer_note <> '') BEGIN
    INSERT INTO search_pending (question_id, fresh) SELECT new.id, 1
        WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE question_id = new.id);
END;

CREATE TRIGGER questions_search_update AFTER UPDATE OF text, answer_note ON questions
    WHEN old.text IS NOT new.text OR old.answer_note IS NOT new.answer_note BEGIN
    INSERT INTO search_pending (question_id, fresh) SELECT new.id, 0
        WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE question_id = new.id);
END;

CREATE TRIGGER questions_search_delete AFTER DELETE ON questions BEGIN
    INSERT INTO search_pending (question_id, fresh) SELECT old.id, 0
        WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE question_id = old.id);
END;
