-- stackmine study store, schema version 1.
-- One SQLite file per study (study.db). Every post is known by (site, id).
-- Dates are kept as the dump wrote them (UTC, ISO 8601 text) and as
-- milliseconds since the Unix epoch (*_ms) for arithmetic.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A site is the unit of (re-)ingest: re-ingesting a site replaces its posts.
CREATE TABLE sites (
    site          TEXT PRIMARY KEY,
    url           TEXT,              -- base address for links to posts, or NULL
    all_questions INTEGER NOT NULL   -- 1 when every question was kept (--all-questions)
);

CREATE TABLE questions (
    site               TEXT NOT NULL,
    id                 INTEGER NOT NULL,
    title              TEXT,
    body_html          TEXT,          -- raw HTML as in the dump
    body_text          TEXT NOT NULL, -- plain text without <pre> code blocks
    code_text          TEXT NOT NULL, -- text of the <pre> code blocks
    tags               TEXT NOT NULL, -- JSON array of tag names
    created            TEXT NOT NULL,
    created_ms         INTEGER NOT NULL,
    score              INTEGER,
    view_count         INTEGER,
    answer_count       INTEGER,
    comment_count      INTEGER,
    favorite_count     INTEGER,
    accepted_answer_id INTEGER,
    closed_date        TEXT,
    owner_user_id      INTEGER,
    owner_display_name TEXT,
    PRIMARY KEY (site, id)
);

CREATE TABLE question_tags (
    site        TEXT NOT NULL,
    question_id INTEGER NOT NULL,
    tag         TEXT NOT NULL,
    PRIMARY KEY (site, question_id, tag)
) WITHOUT ROWID;
CREATE INDEX question_tags_tag ON question_tags (tag);

-- The study's frameworks (study.toml keys) each question matched at ingest.
CREATE TABLE question_frameworks (
    site        TEXT NOT NULL,
    question_id INTEGER NOT NULL,
    framework   TEXT NOT NULL,
    PRIMARY KEY (site, question_id, framework)
) WITHOUT ROWID;
CREATE INDEX question_frameworks_framework ON question_frameworks (framework);

CREATE TABLE answers (
    site          TEXT NOT NULL,
    id            INTEGER NOT NULL,
    parent_id     INTEGER NOT NULL,
    created       TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    score         INTEGER,
    body_html     TEXT,
    owner_user_id INTEGER,
    PRIMARY KEY (site, id)
);
CREATE INDEX answers_parent ON answers (site, parent_id);

CREATE TABLE comments (
    site       TEXT NOT NULL,
    id         INTEGER NOT NULL,
    post_id    INTEGER NOT NULL,
    created    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    score      INTEGER,
    text       TEXT,
    user_id    INTEGER,
    PRIMARY KEY (site, id)
);
CREATE INDEX comments_post ON comments (site, post_id);

-- One row per dump file read (the log survives re-ingest).
CREATE TABLE ingests (
    id               INTEGER PRIMARY KEY,
    site             TEXT NOT NULL,
    dump             TEXT NOT NULL,    -- the DUMP argument
    source           TEXT NOT NULL,    -- the file read (archive:entry for .7z)
    dump_bytes       INTEGER NOT NULL, -- bytes read (uncompressed)
    started_at       TEXT NOT NULL,    -- UTC
    seconds          REAL NOT NULL,
    rows_scanned     INTEGER NOT NULL,
    questions_kept   INTEGER NOT NULL,
    answers_kept     INTEGER NOT NULL,
    comments_kept    INTEGER NOT NULL,
    bad_rows         INTEGER NOT NULL,
    skipped          TEXT NOT NULL,    -- JSON object: reason -> count
    bad_row_samples  TEXT NOT NULL,    -- JSON array of the first bad rows
    tag_formats      TEXT NOT NULL,    -- e.g. "angle", "pipe", "angle,pipe"
    sorted           INTEGER NOT NULL, -- 1 when rows were in Id order
    passes           INTEGER NOT NULL, -- 2 when unsorted answers needed a second pass
    all_questions    INTEGER NOT NULL
);
