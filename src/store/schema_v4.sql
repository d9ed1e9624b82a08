-- Schema version 4: sentence embeddings of questions, cached so a hybrid
-- model embeds each question once per encoder (embedding is the slow step).
-- A row is used only while the question's text hashes the same.
CREATE TABLE embeddings (
    encoder    TEXT NOT NULL,     -- Encoder::fingerprint of the weights
    max_tokens INTEGER NOT NULL,  -- tokens read, [CLS] and [SEP] included
    site       TEXT NOT NULL,
    id         INTEGER NOT NULL,
    text_hash  TEXT NOT NULL,     -- FNV-1a 64 of the text embedded, in hex
    vector     BLOB NOT NULL,     -- little-endian f32 values
    PRIMARY KEY (encoder, max_tokens, site, id)
) WITHOUT ROWID;
