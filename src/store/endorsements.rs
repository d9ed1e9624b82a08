//! Store queries for endorsed answers (see `crate::endorse`): the comments a
//! question's owner wrote under answers to their question, and the
//! `endorsements` table with the meta keys that say what it was built from.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, sql_err};

/// The meta key holding the fingerprint of the phrase lists the
/// `endorsements` table was built from.
pub const PHRASES_KEY: &str = "endorsement_phrases";
/// The meta key holding the ingest the table was built after (the latest
/// `ingests.id`, `0` for none), so an ingest whose rebuild was cut short is
/// noticed.
pub const INGEST_KEY: &str = "endorsement_ingest";

/// A comment by a question's owner under an answer to that question.
#[derive(Debug, Clone, PartialEq)]
pub struct AskerComment {
    pub site: String,
    pub question_id: i64,
    pub answer_id: i64,
    pub comment_id: i64,
    pub text: String,
    /// The answer is the asker's own (answer owner = question owner).
    pub self_answer: bool,
}

/// One stored endorsement: the answer, and the comment that supports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Endorsement {
    pub site: String,
    pub question_id: i64,
    pub answer_id: i64,
    pub comment_id: i64,
    /// The phrase of the list it matched.
    pub phrase: String,
}

impl Store {
    /// The endorsements recorded for one question's answers, by answer and
    /// comment Id.
    pub fn endorsements_of(
        &self,
        site: &str,
        question: i64,
    ) -> Result<Vec<Endorsement>, StoreError> {
        self.endorsement_rows(
            "WHERE site = ?1 AND question_id = ?2 ORDER BY answer_id, comment_id",
            rusqlite::params![site, question],
        )
    }

    /// Rows of `endorsements` selected and ordered by `tail`.
    fn endorsement_rows(
        &self,
        tail: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Endorsement>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT site, question_id, answer_id, comment_id, phrase FROM endorsements {tail}"
            ))
            .map_err(&err)?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(Endorsement {
                    site: r.get(0)?,
                    question_id: r.get(1)?,
                    answer_id: r.get(2)?,
                    comment_id: r.get(3)?,
                    phrase: r.get(4)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Every comment written by a question's owner (both user ids known and
    /// equal) under an answer to that question, by site and comment Id.
    pub fn asker_comments(&self) -> Result<Vec<AskerComment>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.site, q.id, a.id, c.id, coalesce(c.text, ''),
                        a.owner_user_id IS NOT NULL AND a.owner_user_id = q.owner_user_id
                 FROM comments c
                 JOIN answers a ON a.site = c.site AND a.id = c.post_id
                 JOIN questions q ON q.site = a.site AND q.id = a.parent_id
                 WHERE c.user_id IS NOT NULL AND q.owner_user_id IS NOT NULL
                   AND c.user_id = q.owner_user_id
                 ORDER BY c.site, c.id",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AskerComment {
                    site: r.get(0)?,
                    question_id: r.get(1)?,
                    answer_id: r.get(2)?,
                    comment_id: r.get(3)?,
                    text: r.get(4)?,
                    self_answer: r.get(5)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// How many comments each site holds, by site (sites without any
    /// included, with 0).
    pub fn comment_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.site, (SELECT COUNT(*) FROM comments c WHERE c.site = s.site)
                 FROM sites s ORDER BY s.site",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The stored endorsements, by site, question, answer and comment.
    pub fn endorsements(&self) -> Result<Vec<Endorsement>, StoreError> {
        self.endorsement_rows("ORDER BY site, question_id, answer_id, comment_id", [])
    }

    /// What the stored endorsements were built from: the phrase lists'
    /// fingerprint and the ingest mark (see [`INGEST_KEY`]).
    pub fn endorsements_built_from(&self) -> Result<(Option<String>, Option<String>), StoreError> {
        Ok((self.meta(PHRASES_KEY)?, self.meta(INGEST_KEY)?))
    }

    /// The latest ingest's Id as text (`0` when none), the mark the
    /// endorsements are built after.
    pub fn ingest_mark(&self) -> Result<String, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row("SELECT max(id) FROM ingests", [], |r| r.get(0))
            .optional()
            .map_err(self.err())?
            .flatten();
        Ok(id.unwrap_or(0).to_string())
    }

    /// Whether this connection cannot write (opened read-only, or
    /// `query_only`).
    pub fn is_read_only(&self) -> Result<bool, StoreError> {
        let query_only: bool = self
            .conn
            .pragma_query_value(None, "query_only", |r| r.get(0))
            .map_err(self.err())?;
        let ro = self
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(self.err())?;
        Ok(query_only || ro)
    }

    /// Replaces the whole `endorsements` table and its meta keys in one
    /// transaction.
    pub fn replace_endorsements(
        &mut self,
        rows: &[Endorsement],
        fingerprint: &str,
        ingest_mark: &str,
    ) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.transaction().map_err(&err)?;
        tx.execute("DELETE FROM endorsements", []).map_err(&err)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR IGNORE INTO endorsements (site, question_id, answer_id, comment_id, phrase)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&err)?;
            for e in rows {
                stmt.execute(params![
                    e.site,
                    e.question_id,
                    e.answer_id,
                    e.comment_id,
                    e.phrase
                ])
                .map_err(&err)?;
            }
            let mut meta = tx
                .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
                .map_err(&err)?;
            meta.execute(params![PHRASES_KEY, fingerprint])
                .map_err(&err)?;
            meta.execute(params![INGEST_KEY, ingest_mark])
                .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }
}
