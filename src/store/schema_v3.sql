-- Schema version 3: the category of every question, from the latest classify.
CREATE TABLE classifications (
    site        TEXT NOT NULL,
    question_id INTEGER NOT NULL,
    category    TEXT NOT NULL,
    confidence  REAL NOT NULL,
    model       TEXT NOT NULL,   -- the model's name
    PRIMARY KEY (site, question_id)
) WITHOUT ROWID;
CREATE INDEX classifications_category ON classifications (category);
