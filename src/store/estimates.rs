//! Store queries for estimates: label sets' designs, the members of a
//! sample's population, and a batch's strata.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, comma_list, post_key, sql_err};
use crate::PostKey;

/// A question of the study as a population member: key, frameworks, year.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub site: String,
    pub id: i64,
    pub frameworks: Vec<String>,
    /// The year it was asked (`created`'s first four digits).
    pub year: Option<i32>,
}

impl Member {
    pub fn key(&self) -> PostKey {
        PostKey::new(self.site.clone(), self.id)
    }
}

impl Store {
    /// A label set's design (JSON), `None` when the set does not exist.
    pub fn design(&self, set: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT design FROM label_sets WHERE name = ?1",
                [set],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err(self.path.clone()))
    }

    /// Records a label set's design (JSON).
    pub fn set_design(&self, set: &str, design: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE label_sets SET design = ?2 WHERE name = ?1",
                params![set, design],
            )
            .map(|_| ())
            .map_err(sql_err(self.path.clone()))
    }

    /// Every question with its frameworks and year, in (site, Id) order.
    pub fn members(&self) -> Result<Vec<Member>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT q.site, q.id, substr(q.created, 1, 4),
                    (SELECT group_concat(f.framework, ',') FROM question_frameworks f
                      WHERE f.site = q.site AND f.question_id = q.id)
                 FROM questions q ORDER BY q.site, q.id",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                let year: Option<String> = r.get(2)?;
                Ok(Member {
                    site: r.get(0)?,
                    id: r.get(1)?,
                    year: year.and_then(|y| y.parse().ok()),
                    frameworks: comma_list(r.get(3)?),
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// A batch's posts with the stratum each was drawn for.
    pub fn batch_strata(&self, batch: &str) -> Result<HashMap<PostKey, String>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare("SELECT site, post_id, stratum FROM batch_posts WHERE batch = ?1")
            .map_err(&err)?;
        let rows = stmt
            .query_map([batch], |r| Ok((post_key(r, 0)?, r.get(2)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Whether a batch of this name exists.
    pub fn batch_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM batches WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(sql_err(self.path.clone()))
    }

    /// The names of all batches.
    pub fn batch_names(&self) -> Result<Vec<String>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM batches ORDER BY name")
            .map_err(&err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The most recently stored result whose key starts with `prefix`.
    pub fn latest_result(&self, prefix: &str) -> Result<Option<(String, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT key, json FROM results WHERE substr(key, 1, length(?1)) = ?1
                 ORDER BY created_at DESC, key LIMIT 1",
                [prefix],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql_err(self.path.clone()))
    }
}
