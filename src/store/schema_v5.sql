-- Schema version 5: what valid inference needs.
-- The dump's date per site: the latest CreationDate of any question or answer
-- row in the site's files, kept or not. Questions without an accepted answer
-- are censored at this time. NULL for sites ingested before version 5.
ALTER TABLE sites ADD COLUMN as_of TEXT;
ALTER TABLE sites ADD COLUMN as_of_ms INTEGER;

-- A label set's design, as JSON: {"kind":"random"|"stratified"|"convenience",
-- "population":{...},"seed":N}. Only random and stratified samples are used
-- for estimates; a set made before version 5 is a convenience set unless its
-- batch says otherwise.
ALTER TABLE label_sets ADD COLUMN design TEXT NOT NULL DEFAULT '{"kind":"convenience"}';
