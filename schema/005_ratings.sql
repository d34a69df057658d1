-- 004_ratings.sql — satisfaction ratings (满意度): the projection of rating.changed events, one
-- row per rating (a viewer's rating of an answered question or of a commitment's delivery, with
-- its optional moderated comment). Like every projection, derived from the events in the same
-- transaction and rebuildable from them; counts are a GROUP BY away (ratings.changed events carry
-- them too). Erasing a viewer rewrites viewer_id here as in the events.
CREATE TABLE ratings (
    id            INTEGER PRIMARY KEY,
    session       TEXT NOT NULL,   -- the session where it was last given
    question_id   INTEGER,         -- exactly one of question_id, action_id is set
    action_id     INTEGER,
    viewer_id     TEXT,
    value         TEXT NOT NULL,   -- satisfied | basically_satisfied | dissatisfied
    comment       TEXT,
    comment_state TEXT,            -- pending | published | dismissed, NULL without a comment
    created_at    INTEGER,
    json          TEXT,            -- whole rating object (staff rendering)
    updated_at    INTEGER NOT NULL
);
CREATE INDEX ratings_session ON ratings (session, viewer_id);
CREATE INDEX ratings_question ON ratings (question_id) WHERE question_id IS NOT NULL;
CREATE INDEX ratings_action ON ratings (action_id) WHERE action_id IS NOT NULL;
