-- Schema version 2: sampling batches, labels, adjudication, stored results.
-- Labels are keyed by (site, post id) like posts, without foreign keys, so
-- that re-ingesting a site keeps the labels of posts that are still there.

-- A batch: posts drawn to be labeled. Labels given on a batch form the
-- label set of the same name.
CREATE TABLE batches (
    name       TEXT PRIMARY KEY,
    seed       INTEGER NOT NULL,
    method     TEXT NOT NULL,   -- JSON: how it was drawn (size rule, strata, population)
    created_at TEXT NOT NULL
);

CREATE TABLE batch_posts (
    batch    TEXT NOT NULL,
    site     TEXT NOT NULL,
    post_id  INTEGER NOT NULL,
    position INTEGER NOT NULL,  -- draw order, from 0
    stratum  TEXT NOT NULL,     -- framework key, or 'all'
    PRIMARY KEY (batch, site, post_id)
) WITHOUT ROWID;
CREATE INDEX batch_posts_post ON batch_posts (site, post_id);

CREATE TABLE label_sets (
    name       TEXT PRIMARY KEY,
    source     TEXT NOT NULL,   -- 'batch' or 'import FILE'
    created_at TEXT NOT NULL
);

-- Each annotator's labels: the latest of each; every change is in label_history.
CREATE TABLE labels (
    set_name   TEXT NOT NULL,
    site       TEXT NOT NULL,
    post_id    INTEGER NOT NULL,
    annotator  TEXT NOT NULL,
    primary_kind TEXT NOT NULL,
    secondary  TEXT NOT NULL,   -- ';'-separated category keys, may be empty
    note       TEXT NOT NULL,
    root_cause TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (set_name, site, post_id, annotator)
) WITHOUT ROWID;

-- The final label of a post in a set: adjudicated, or imported as final.
CREATE TABLE final_labels (
    set_name     TEXT NOT NULL,
    site         TEXT NOT NULL,
    post_id      INTEGER NOT NULL,
    primary_kind TEXT NOT NULL,
    secondary    TEXT NOT NULL,
    decided_by   TEXT NOT NULL,  -- the adjudicator, or 'import'
    note         TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (set_name, site, post_id)
) WITHOUT ROWID;

CREATE TABLE label_history (
    id           INTEGER PRIMARY KEY,
    set_name     TEXT NOT NULL,
    site         TEXT NOT NULL,
    post_id      INTEGER NOT NULL,
    who          TEXT NOT NULL,
    what         TEXT NOT NULL,  -- 'label' or 'final'
    primary_kind TEXT NOT NULL,
    secondary    TEXT NOT NULL,
    note         TEXT NOT NULL,
    root_cause   TEXT NOT NULL,
    at           TEXT NOT NULL
);

-- The latest result of a command (e.g. 'agree:SET'), as JSON, for the report.
CREATE TABLE results (
    key        TEXT PRIMARY KEY,
    json       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
