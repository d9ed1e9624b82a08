//! Store queries for classifiers: the text of questions, and their categories.

use std::collections::HashMap;

use rusqlite::params;

use super::{Store, StoreError, post_key, sql_err};
use crate::PostKey;
use crate::classify::Classification;
use crate::classify::features::Doc;

fn doc_of(r: &rusqlite::Row, from: usize) -> rusqlite::Result<Doc> {
    let tags: String = r.get(from + 3)?;
    Ok(stored_doc(
        r.get::<_, Option<String>>(from)?,
        r.get(from + 1)?,
        r.get(from + 2)?,
        &tags,
    ))
}

/// A question's classifier text from its stored columns (title, body_text,
/// code_text, tags as a JSON array), as the store and `classify --stdin`
/// read it.
pub fn stored_doc(title: Option<String>, body: String, code: String, tags: &str) -> Doc {
    Doc {
        title: title.unwrap_or_default(),
        body,
        code,
        tags: serde_json::from_str(tags).unwrap_or_default(),
        embedding: Vec::new(),
    }
}

/// One label's kind and root-cause codes (`;`-separated keys).
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRow {
    pub set: String,
    pub site: String,
    pub post_id: i64,
    /// A final (adjudicated or imported) label, not an annotator's.
    pub is_final: bool,
    /// The annotator; empty for a final label.
    pub annotator: String,
    pub kind: String,
    pub codes: String,
}

impl Store {
    /// The text of the given questions (those still in the study).
    pub fn docs(&self, keys: &[PostKey]) -> Result<HashMap<PostKey, Doc>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT title, body_text, code_text, tags FROM questions WHERE site = ?1 AND id = ?2",
            )
            .map_err(&err)?;
        let mut out = HashMap::new();
        for key in keys {
            let mut rows = stmt.query(params![key.site, key.id]).map_err(&err)?;
            if let Some(r) = rows.next().map_err(&err)? {
                out.insert(key.clone(), doc_of(r, 0).map_err(&err)?);
            }
        }
        Ok(out)
    }

    /// Calls `f` with batches of up to `batch` questions (site, Id, text), in
    /// (site, Id) order, so memory stays bounded.
    pub fn for_each_question_doc(
        &self,
        batch: usize,
        mut f: impl FnMut(Vec<(String, i64, Doc)>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare("SELECT site, id, title, body_text, code_text, tags FROM questions ORDER BY site, id")
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        let mut buf = Vec::with_capacity(batch);
        while let Some(r) = rows.next().map_err(&err)? {
            buf.push((
                r.get(0).map_err(&err)?,
                r.get(1).map_err(&err)?,
                doc_of(r, 2).map_err(&err)?,
            ));
            if buf.len() == batch {
                f(std::mem::take(&mut buf))?;
            }
        }
        if !buf.is_empty() {
            f(buf)?;
        }
        Ok(())
    }

    /// Replaces every classification with `rows` from `model`, in one
    /// transaction.
    pub fn replace_classifications(
        &mut self,
        model: &str,
        rows: &[Classification],
    ) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.transaction().map_err(&err)?;
        tx.execute("DELETE FROM classifications", [])
            .map_err(&err)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO classifications (site, question_id, category, confidence, model)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&err)?;
            for r in rows {
                stmt.execute(params![
                    r.post.site,
                    r.post.id,
                    r.category,
                    r.confidence,
                    model
                ])
                .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    /// Questions per category of the latest classify, with the model's name.
    pub fn classification_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT model, category, COUNT(*) FROM classifications
                 GROUP BY model, category ORDER BY model, category",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }
}

/// Category keys by (site, question Id).
pub type Classified = HashMap<PostKey, String>;

impl Store {
    /// The category of every classified question, and the model's name.
    pub fn classifications(&self) -> Result<(Option<String>, Classified), StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare("SELECT site, question_id, category, model FROM classifications")
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        let mut model = None;
        let mut out = HashMap::new();
        while let Some(r) = rows.next().map_err(&err)? {
            out.insert(post_key(r, 0).map_err(&err)?, r.get(2).map_err(&err)?);
            if model.is_none() {
                model = Some(r.get(3).map_err(&err)?);
            }
        }
        Ok((model, out))
    }

    /// Root causes recorded while labeling: (kind, root cause, posts), by kind
    /// then count. The kind is the annotator's primary kind; causes are
    /// compared case-insensitively.
    pub fn root_causes(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT primary_kind, lower(trim(root_cause)) AS cause, COUNT(DISTINCT site || '/' || post_id)
                 FROM labels WHERE trim(root_cause) <> ''
                 GROUP BY primary_kind, cause ORDER BY primary_kind, 3 DESC, cause",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The root-cause codes of every label that carries any: the final
    /// labels' (`who` = `final`) and each annotator's (`who` = the
    /// annotator), by set, site, post and who.
    pub fn root_cause_codes(&self) -> Result<Vec<CodeRow>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT set_name, site, post_id, 1, '', primary_kind, root_causes FROM final_labels
                 UNION ALL
                 SELECT set_name, site, post_id, 0, annotator, primary_kind, root_causes FROM labels
                 ORDER BY 1, 2, 3, 4 DESC, 5",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(CodeRow {
                    set: r.get(0)?,
                    site: r.get(1)?,
                    post_id: r.get(2)?,
                    is_final: r.get(3)?,
                    annotator: r.get(4)?,
                    kind: r.get(5)?,
                    codes: r.get(6)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The stored results whose keys start with `prefix` (e.g. `agree:`), by key.
    pub fn results_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, json FROM results WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// How many questions the study holds.
    pub fn question_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM questions", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(sql_err(self.path.clone()))
    }

    /// Cached embeddings of (site, Id, text hash), in the same order; `None`
    /// where there is none for this encoder and token budget, or the text
    /// has changed since.
    pub fn cached_embeddings(
        &self,
        encoder: &str,
        max_tokens: usize,
        keys: &[(&str, i64, &str)],
    ) -> Result<Vec<Option<Vec<f32>>>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT text_hash, vector FROM embeddings
                 WHERE encoder = ?1 AND max_tokens = ?2 AND site = ?3 AND id = ?4",
            )
            .map_err(&err)?;
        let mut out = Vec::with_capacity(keys.len());
        for &(site, id, hash) in keys {
            let mut rows = stmt
                .query(params![encoder, max_tokens as i64, site, id])
                .map_err(&err)?;
            let mut found = None;
            if let Some(r) = rows.next().map_err(&err)? {
                let stored: String = r.get(0).map_err(&err)?;
                let blob: Vec<u8> = r.get(1).map_err(&err)?;
                if stored == hash && blob.len() % 4 == 0 {
                    found = Some(crate::classify::encoder::f32s_from_le(&blob));
                }
            }
            out.push(found);
        }
        Ok(out)
    }

    /// Stores embeddings (site, Id, text hash, vector) in one transaction,
    /// replacing older ones of the same encoder and token budget.
    pub fn save_embeddings(
        &self,
        encoder: &str,
        max_tokens: usize,
        rows: &[(&str, i64, &str, &[f32])],
    ) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.unchecked_transaction().map_err(&err)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO embeddings
                     (encoder, max_tokens, site, id, text_hash, vector)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(&err)?;
            for &(site, id, hash, vector) in rows {
                let blob: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
                stmt.execute(params![encoder, max_tokens as i64, site, id, hash, blob])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }
}
