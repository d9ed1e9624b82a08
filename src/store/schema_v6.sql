-- Schema version 6: root causes the study's way (RQ3) and endorsed answers (RQ2).
-- Root-cause codes of a label, ';'-separated keys of the study's
-- [[root_causes]], in the study's order; empty when none was picked. The
-- free-text root_cause column stays beside them.
ALTER TABLE labels ADD COLUMN root_causes TEXT NOT NULL DEFAULT '';
ALTER TABLE label_history ADD COLUMN root_causes TEXT NOT NULL DEFAULT '';
-- A final (adjudicated) label carries its own codes and free text.
ALTER TABLE final_labels ADD COLUMN root_causes TEXT NOT NULL DEFAULT '';
ALTER TABLE final_labels ADD COLUMN root_cause TEXT NOT NULL DEFAULT '';

-- Authors as the rows carry them: OwnerDisplayName of an answer (set for
-- deleted users), UserDisplayName of a comment. NULL for rows ingested
-- before version 6 or without the attribute.
ALTER TABLE answers ADD COLUMN owner_display_name TEXT;
ALTER TABLE comments ADD COLUMN user_display_name TEXT;

-- Answers the asker endorsed: a comment by the question's owner under an
-- answer that matches one of the study's endorsement phrases. Rebuilt as a
-- whole from comments and the phrase list (meta key 'endorsement_phrases'
-- holds the fingerprint of the list it was built from).
CREATE TABLE endorsements (
    site        TEXT NOT NULL,
    question_id INTEGER NOT NULL,
    answer_id   INTEGER NOT NULL,
    comment_id  INTEGER NOT NULL,   -- the comment that supports it
    phrase      TEXT NOT NULL,      -- the phrase of the list it matched
    PRIMARY KEY (site, answer_id, comment_id)
) WITHOUT ROWID;
CREATE INDEX endorsements_question ON endorsements (site, question_id);
