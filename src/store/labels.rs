//! Store queries for sampling batches, labels, adjudication and results.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, comma_list, post_key, sql_err, utc_now};
use crate::PostKey;
use crate::sample::{Candidate, Drawn};

/// One batch and how many posts it holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchSummary {
    pub name: String,
    pub seed: i64,
    pub size: i64,
    pub method: String,
    pub created_at: String,
}

/// An annotator's label of a post in a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRow {
    pub set_name: String,
    pub site: String,
    pub post_id: i64,
    pub annotator: String,
    pub primary: String,
    pub secondary: Vec<String>,
    pub note: String,
    pub root_cause: String,
    /// Root-cause codes (keys of the study's `[[root_causes]]`, in its order).
    pub root_causes: Vec<String>,
}

/// The final (adjudicated or imported) label of a post in a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalLabel {
    pub site: String,
    pub post_id: i64,
    pub primary: String,
    pub secondary: Vec<String>,
    pub decided_by: String,
    pub note: String,
    /// The final label's own root-cause codes and free text.
    pub root_causes: Vec<String>,
    pub root_cause: String,
}

/// A label set: how many posts, who labeled.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LabelSetSummary {
    pub name: String,
    pub source: String,
    pub posts: i64,
    pub final_labels: i64,
    pub annotators: Vec<String>,
}

/// What the labeling page shows of a question.
#[derive(Debug, Clone)]
pub struct PostView {
    pub site: String,
    pub id: i64,
    pub title: String,
    pub tags: Vec<String>,
    pub body_html: String,
    pub created: String,
    pub score: Option<i64>,
    pub view_count: Option<i64>,
    pub answer_count: Option<i64>,
    pub site_url: Option<String>,
    pub accepted_answer_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub owner_display_name: Option<String>,
}

/// An answer as the labeling page shows it.
#[derive(Debug, Clone)]
pub struct AnswerView {
    pub id: i64,
    pub created: String,
    pub created_ms: i64,
    pub score: Option<i64>,
    pub body_html: String,
    pub owner_user_id: Option<i64>,
    pub owner_display_name: Option<String>,
}

/// A comment as the labeling page shows it (plain text, as the dump has it).
#[derive(Debug, Clone)]
pub struct CommentView {
    pub id: i64,
    pub post_id: i64,
    pub created: String,
    pub score: Option<i64>,
    pub text: String,
    pub user_id: Option<i64>,
    pub user_display_name: Option<String>,
}

fn join(kinds: &[String]) -> String {
    kinds.join(";")
}

/// Splits a `;`-separated list of kinds.
pub fn split_kinds(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect()
}

impl Store {
    fn q<T>(&self, r: rusqlite::Result<T>) -> Result<T, StoreError> {
        r.map_err(sql_err(self.path.clone()))
    }

    /// Every question, ordered by site and Id, with its frameworks.
    pub fn question_candidates(&self) -> Result<Vec<Candidate>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT q.site, q.id,
                    (SELECT group_concat(f.framework, ',') FROM question_frameworks f
                      WHERE f.site = q.site AND f.question_id = q.id)
             FROM questions q ORDER BY q.site, q.id",
        ))?;
        let rows = self.q(stmt.query_map([], |r| {
            let f: Option<String> = r.get(2)?;
            Ok(Candidate {
                site: r.get(0)?,
                id: r.get(1)?,
                frameworks: comma_list(f),
            })
        }))?;
        self.q(rows.collect())
    }

    /// Posts already in some batch.
    pub fn drawn_posts(&self) -> Result<HashSet<PostKey>, StoreError> {
        let mut stmt = self.q(self.conn.prepare("SELECT site, post_id FROM batch_posts"))?;
        let rows = self.q(stmt.query_map([], |r| post_key(r, 0)))?;
        self.q(rows.collect())
    }

    /// Whether a batch or label set of this name exists.
    pub fn set_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.q(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM batches WHERE name = ?1)
                 OR EXISTS(SELECT 1 FROM label_sets WHERE name = ?1)",
            [name],
            |r| r.get(0),
        ))
    }

    /// Records a drawn batch (posts in draw order, with their strata) and its
    /// label set with its design (JSON, see `estimate::Design`).
    pub fn create_batch(
        &mut self,
        name: &str,
        seed: u64,
        method: &str,
        posts: &[Drawn],
        design: &str,
    ) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.transaction().map_err(&err)?;
        let now = utc_now();
        tx.execute(
            "INSERT INTO batches (name, seed, method, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, seed as i64, method, now],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO label_sets (name, source, created_at, design) VALUES (?1, 'batch', ?2, ?3)",
            params![name, now, design],
        )
        .map_err(&err)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO batch_posts (batch, site, post_id, position, stratum)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&err)?;
            for (i, d) in posts.iter().enumerate() {
                stmt.execute(params![name, d.site, d.id, i as i64, d.stratum])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    /// All batches.
    pub fn batches(&self) -> Result<Vec<BatchSummary>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT b.name, b.seed, (SELECT COUNT(*) FROM batch_posts p WHERE p.batch = b.name),
                    b.method, b.created_at
             FROM batches b ORDER BY b.name",
        ))?;
        let rows = self.q(stmt.query_map([], |r| {
            Ok(BatchSummary {
                name: r.get(0)?,
                seed: r.get(1)?,
                size: r.get(2)?,
                method: r.get(3)?,
                created_at: r.get(4)?,
            })
        }))?;
        self.q(rows.collect())
    }

    /// The posts of a batch in draw order.
    pub fn batch_posts(&self, batch: &str) -> Result<Vec<PostKey>, StoreError> {
        let mut stmt = self.q(self
            .conn
            .prepare("SELECT site, post_id FROM batch_posts WHERE batch = ?1 ORDER BY position"))?;
        let rows = self.q(stmt.query_map([batch], |r| post_key(r, 0)))?;
        self.q(rows.collect())
    }

    /// A question as the labeling page shows it.
    pub fn post_view(&self, site: &str, id: i64) -> Result<Option<PostView>, StoreError> {
        self.q(self
            .conn
            .query_row(
                "SELECT q.title, q.tags, q.body_html, q.created, q.score, q.view_count,
                            q.answer_count, s.url, q.accepted_answer_id, q.owner_user_id,
                            q.owner_display_name
                     FROM questions q LEFT JOIN sites s ON s.site = q.site
                     WHERE q.site = ?1 AND q.id = ?2",
                params![site, id],
                |r| {
                    let tags: String = r.get(1)?;
                    Ok(PostView {
                        site: site.to_string(),
                        id,
                        title: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                        tags: serde_json::from_str(&tags).unwrap_or_default(),
                        body_html: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        created: r.get(3)?,
                        score: r.get(4)?,
                        view_count: r.get(5)?,
                        answer_count: r.get(6)?,
                        site_url: r.get(7)?,
                        accepted_answer_id: r.get(8)?,
                        owner_user_id: r.get(9)?,
                        owner_display_name: r.get(10)?,
                    })
                },
            )
            .optional())
    }

    /// A question's answers in the store, by Id.
    pub fn answers_of(&self, site: &str, question: i64) -> Result<Vec<AnswerView>, StoreError> {
        let mut stmt = self.q(self.conn.prepare_cached(
            "SELECT id, created, created_ms, score, body_html, owner_user_id, owner_display_name
             FROM answers WHERE site = ?1 AND parent_id = ?2 ORDER BY id",
        ))?;
        let rows = self.q(stmt.query_map(params![site, question], |r| {
            Ok(AnswerView {
                id: r.get(0)?,
                created: r.get(1)?,
                created_ms: r.get(2)?,
                score: r.get(3)?,
                body_html: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                owner_user_id: r.get(5)?,
                owner_display_name: r.get(6)?,
            })
        }))?;
        self.q(rows.collect())
    }

    /// The comments under a question and under its answers, oldest first
    /// (ties by Id).
    pub fn thread_comments(
        &self,
        site: &str,
        question: i64,
    ) -> Result<Vec<CommentView>, StoreError> {
        let mut stmt = self.q(self.conn.prepare_cached(
            "SELECT id, post_id, created, score, text, user_id, user_display_name
             FROM comments
             WHERE site = ?1 AND (post_id = ?2
                OR post_id IN (SELECT id FROM answers WHERE site = ?1 AND parent_id = ?2))
             ORDER BY created_ms, id",
        ))?;
        let rows = self.q(stmt.query_map(params![site, question], |r| {
            Ok(CommentView {
                id: r.get(0)?,
                post_id: r.get(1)?,
                created: r.get(2)?,
                score: r.get(3)?,
                text: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                user_id: r.get(5)?,
                user_display_name: r.get(6)?,
            })
        }))?;
        self.q(rows.collect())
    }

    /// Whether the store holds any comment of the site: its latest ingest
    /// read a Comments.xml that had comments on kept posts. False: no
    /// comments were ingested for it (no Comments.xml, or none on its posts).
    pub fn site_has_comments(&self, site: &str) -> Result<bool, StoreError> {
        self.q(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM comments WHERE site = ?1)",
            [site],
            |r| r.get(0),
        ))
    }

    /// The sites that have a question with this Id.
    pub fn sites_with_question(&self, id: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.q(self
            .conn
            .prepare_cached("SELECT site FROM questions WHERE id = ?1 ORDER BY site"))?;
        let rows = self.q(stmt.query_map([id], |r| r.get(0)))?;
        self.q(rows.collect())
    }

    /// Whether the study has this question.
    pub fn has_question(&self, site: &str, id: i64) -> Result<bool, StoreError> {
        self.q(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM questions WHERE site = ?1 AND id = ?2)",
            params![site, id],
            |r| r.get(0),
        ))
    }

    /// Creates (or, with `replace`, recreates) a label set from imported
    /// labels. `design` (JSON) is the set's design; `None` keeps a replaced
    /// set's design (a batch's stays random), else the schema's default,
    /// convenience.
    pub fn import_label_set(
        &mut self,
        name: &str,
        source: &str,
        labels: &[LabelRow],
        finals: &[FinalLabel],
        replace: bool,
        design: Option<&str>,
    ) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.transaction().map_err(&err)?;
        let now = utc_now();
        let old: Option<String> = tx
            .query_row(
                "SELECT design FROM label_sets WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(&err)?;
        let design = design.map(String::from).or(old);
        if replace {
            for sql in [
                "DELETE FROM labels WHERE set_name = ?1",
                "DELETE FROM final_labels WHERE set_name = ?1",
                "DELETE FROM label_sets WHERE name = ?1",
            ] {
                tx.execute(sql, [name]).map_err(&err)?;
            }
        }
        tx.execute(
            "INSERT INTO label_sets (name, source, created_at) VALUES (?1, ?2, ?3)",
            params![name, source, now],
        )
        .map_err(&err)?;
        if let Some(design) = design {
            tx.execute(
                "UPDATE label_sets SET design = ?2 WHERE name = ?1",
                params![name, design],
            )
            .map_err(&err)?;
        }
        for l in labels {
            write_label(&tx, l, &now).map_err(&err)?;
        }
        for f in finals {
            write_final(&tx, name, f, &now).map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    /// Stores one annotator's label at once (its own transaction), with history.
    pub fn save_label(&mut self, label: &LabelRow) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.transaction().map_err(&err)?;
        write_label(&tx, label, &utc_now()).map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// Stores a final label at once, with history.
    pub fn save_final(&mut self, set: &str, f: &FinalLabel) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.transaction().map_err(&err)?;
        write_final(&tx, set, f, &utc_now()).map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// How long a statement waits for another connection's write lock
    /// before failing with "database is locked" (the server retries itself).
    pub fn set_busy_timeout(&self, timeout: std::time::Duration) -> Result<(), StoreError> {
        self.q(self.conn.busy_timeout(timeout))
    }

    /// Every annotator label of a set, by site, post and annotator.
    pub fn labels(&self, set: &str) -> Result<Vec<LabelRow>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT site, post_id, annotator, primary_kind, secondary, note, root_cause,
                    root_causes
             FROM labels WHERE set_name = ?1 ORDER BY site, post_id, annotator",
        ))?;
        let rows = self.q(stmt.query_map([set], |r| {
            Ok(LabelRow {
                set_name: set.to_string(),
                site: r.get(0)?,
                post_id: r.get(1)?,
                annotator: r.get(2)?,
                primary: r.get(3)?,
                secondary: split_kinds(&r.get::<_, String>(4)?),
                note: r.get(5)?,
                root_cause: r.get(6)?,
                root_causes: split_kinds(&r.get::<_, String>(7)?),
            })
        }))?;
        self.q(rows.collect())
    }

    /// One annotator's label of a post, if any.
    pub fn label(
        &self,
        set: &str,
        site: &str,
        post_id: i64,
        annotator: &str,
    ) -> Result<Option<LabelRow>, StoreError> {
        self.q(self
            .conn
            .query_row(
                "SELECT primary_kind, secondary, note, root_cause, root_causes FROM labels
                     WHERE set_name = ?1 AND site = ?2 AND post_id = ?3 AND annotator = ?4",
                params![set, site, post_id, annotator],
                |r| {
                    Ok(LabelRow {
                        set_name: set.to_string(),
                        site: site.to_string(),
                        post_id,
                        annotator: annotator.to_string(),
                        primary: r.get(0)?,
                        secondary: split_kinds(&r.get::<_, String>(1)?),
                        note: r.get(2)?,
                        root_cause: r.get(3)?,
                        root_causes: split_kinds(&r.get::<_, String>(4)?),
                    })
                },
            )
            .optional())
    }

    /// The final labels of a set.
    pub fn final_labels(&self, set: &str) -> Result<Vec<FinalLabel>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT site, post_id, primary_kind, secondary, decided_by, note, root_causes,
                    root_cause
             FROM final_labels WHERE set_name = ?1 ORDER BY site, post_id",
        ))?;
        let rows = self.q(stmt.query_map([set], |r| {
            Ok(FinalLabel {
                site: r.get(0)?,
                post_id: r.get(1)?,
                primary: r.get(2)?,
                secondary: split_kinds(&r.get::<_, String>(3)?),
                decided_by: r.get(4)?,
                note: r.get(5)?,
                root_causes: split_kinds(&r.get::<_, String>(6)?),
                root_cause: r.get(7)?,
            })
        }))?;
        self.q(rows.collect())
    }

    /// The label sets with their sizes and annotators.
    pub fn label_sets(&self) -> Result<Vec<LabelSetSummary>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT s.name, s.source,
                (SELECT COUNT(*) FROM (SELECT site, post_id FROM labels WHERE set_name = s.name
                  UNION SELECT site, post_id FROM final_labels WHERE set_name = s.name)),
                (SELECT COUNT(*) FROM final_labels f WHERE f.set_name = s.name),
                (SELECT group_concat(a, ',') FROM
                  (SELECT DISTINCT annotator AS a FROM labels WHERE set_name = s.name ORDER BY a))
             FROM label_sets s ORDER BY s.name",
        ))?;
        let rows = self.q(stmt.query_map([], |r| {
            let a: Option<String> = r.get(4)?;
            Ok(LabelSetSummary {
                name: r.get(0)?,
                source: r.get(1)?,
                posts: r.get(2)?,
                final_labels: r.get(3)?,
                annotators: comma_list(a),
            })
        }))?;
        self.q(rows.collect())
    }

    /// Whether a label set exists.
    pub fn label_set_exists(&self, name: &str) -> Result<bool, StoreError> {
        self.q(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM label_sets WHERE name = ?1)",
            [name],
            |r| r.get(0),
        ))
    }

    /// Stores the latest result of a command under `key`.
    pub fn save_result(&self, key: &str, json: &str) -> Result<(), StoreError> {
        self.q(self.conn.execute(
            "INSERT INTO results (key, json, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET json = excluded.json, created_at = excluded.created_at",
            params![key, json, utc_now()],
        ))?;
        Ok(())
    }

    /// The latest result stored under `key`.
    pub fn result(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.q(self
            .conn
            .query_row("SELECT json FROM results WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional())
    }
}

fn write_label(tx: &rusqlite::Transaction, l: &LabelRow, now: &str) -> rusqlite::Result<()> {
    let secondary = join(&l.secondary);
    let codes = join(&l.root_causes);
    tx.execute(
        "INSERT INTO labels (set_name, site, post_id, annotator, primary_kind, secondary, note,
            root_cause, updated_at, root_causes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (set_name, site, post_id, annotator) DO UPDATE SET
            primary_kind = excluded.primary_kind, secondary = excluded.secondary,
            note = excluded.note, root_cause = excluded.root_cause,
            updated_at = excluded.updated_at, root_causes = excluded.root_causes",
        params![
            l.set_name,
            l.site,
            l.post_id,
            l.annotator,
            l.primary,
            secondary,
            l.note,
            l.root_cause,
            now,
            codes
        ],
    )?;
    tx.execute(
        "INSERT INTO label_history (set_name, site, post_id, who, what, primary_kind, secondary,
            note, root_cause, at, root_causes)
         VALUES (?1, ?2, ?3, ?4, 'label', ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            l.set_name,
            l.site,
            l.post_id,
            l.annotator,
            l.primary,
            secondary,
            l.note,
            l.root_cause,
            now,
            codes
        ],
    )?;
    Ok(())
}

fn write_final(
    tx: &rusqlite::Transaction,
    set: &str,
    f: &FinalLabel,
    now: &str,
) -> rusqlite::Result<()> {
    let secondary = join(&f.secondary);
    let codes = join(&f.root_causes);
    tx.execute(
        "INSERT INTO final_labels (set_name, site, post_id, primary_kind, secondary, decided_by,
            note, updated_at, root_causes, root_cause)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (set_name, site, post_id) DO UPDATE SET
            primary_kind = excluded.primary_kind, secondary = excluded.secondary,
            decided_by = excluded.decided_by, note = excluded.note,
            updated_at = excluded.updated_at, root_causes = excluded.root_causes,
            root_cause = excluded.root_cause",
        params![
            set,
            f.site,
            f.post_id,
            f.primary,
            secondary,
            f.decided_by,
            f.note,
            now,
            codes,
            f.root_cause
        ],
    )?;
    tx.execute(
        "INSERT INTO label_history (set_name, site, post_id, who, what, primary_kind, secondary,
            note, root_cause, at, root_causes)
         VALUES (?1, ?2, ?3, ?4, 'final', ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            set,
            f.site,
            f.post_id,
            f.decided_by,
            f.primary,
            secondary,
            f.note,
            f.root_cause,
            now,
            codes
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::row::parse_question;

    const SITE: &str = "ai.stackexchange.com";

    /// A new store in a temporary folder holding the questions of the real
    /// ai.stackexchange 2017 Posts.xml (CC BY-SA, tests/data/README.md)
    /// among its first `rows` rows.
    fn store_with_questions(tag: &str, rows: usize) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "stackmine-store-labels-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = Store::open_or_create(&dir.join("study.db")).unwrap();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/ai.stackexchange.com-2017/Posts.xml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut w = store.writer().unwrap();
        w.replace_site(SITE, Some("https://ai.stackexchange.com"), true)
            .unwrap();
        for line in text.lines().skip(2).take(rows) {
            if line.contains("PostTypeId=\"1\"") {
                let q = parse_question(line.trim().as_bytes()).unwrap();
                assert!(w.insert_question(SITE, &q, &[]).unwrap());
            }
        }
        w.commit().unwrap();
        (store, dir)
    }

    fn label(post_id: i64, annotator: &str, primary: &str, codes: &[&str]) -> LabelRow {
        LabelRow {
            set_name: "b1".into(),
            site: SITE.into(),
            post_id,
            annotator: annotator.into(),
            primary: primary.into(),
            secondary: vec!["training".into()],
            note: String::new(),
            root_cause: String::new(),
            root_causes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn a_batch_keeps_its_draw_order_strata_and_set() {
        let (mut store, dir) = store_with_questions("batch", 40);
        let candidates = store.question_candidates().unwrap();
        let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
        assert!(
            ids.len() >= 10 && ids.windows(2).all(|w| w[0] < w[1]),
            "{ids:?}"
        );
        assert!(store.has_question(SITE, ids[0]).unwrap());
        assert!(!store.has_question("other.site", ids[0]).unwrap());
        // Drawn out of Id order: the batch keeps the draw order.
        let drawn: Vec<Drawn> = [ids[5], ids[1], ids[3]]
            .iter()
            .zip(["a", "b", "a"])
            .map(|(&id, s)| Drawn {
                site: SITE.into(),
                id,
                stratum: s.into(),
            })
            .collect();
        assert!(!store.set_exists("b1").unwrap());
        store
            .create_batch("b1", 7, "{}", &drawn, r#"{"kind":"random"}"#)
            .unwrap();
        assert!(store.set_exists("b1").unwrap());
        assert!(store.label_set_exists("b1").unwrap());
        let posts = store.batch_posts("b1").unwrap();
        let want: Vec<PostKey> = drawn.iter().map(|d| PostKey::new(SITE, d.id)).collect();
        assert_eq!(posts, want);
        assert_eq!(store.drawn_posts().unwrap(), want.iter().cloned().collect());
        let strata = store.batch_strata("b1").unwrap();
        assert_eq!(strata[&PostKey::new(SITE, ids[1])], "b");
        let batches = store.batches().unwrap();
        assert_eq!((batches[0].name.as_str(), batches[0].size), ("b1", 3));
        assert_eq!(
            store.design("b1").unwrap().as_deref(),
            Some(r#"{"kind":"random"}"#)
        );
        // The view of a real question: its title and its site's address.
        let view = store.post_view(SITE, ids[1]).unwrap().unwrap();
        assert!(!view.title.is_empty());
        assert_eq!(
            view.site_url.as_deref(),
            Some("https://ai.stackexchange.com")
        );
        assert!(store.post_view(SITE, -1).unwrap().is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn labels_are_replaced_per_annotator_and_finals_keep_their_codes() {
        let (mut store, dir) = store_with_questions("labels", 10);
        store
            .import_label_set("b1", "test", &[], &[], false, None)
            .unwrap();
        store
            .save_label(&label(4, "ann", "crash", &["gpu"]))
            .unwrap();
        store.save_label(&label(2, "bob", "training", &[])).unwrap();
        // Labeling a post again replaces the annotator's label.
        store
            .save_label(&label(4, "ann", "performance", &["api_misuse", "gpu"]))
            .unwrap();
        let all = store.labels("b1").unwrap();
        assert_eq!(
            all.iter()
                .map(|l| (l.post_id, l.annotator.as_str(), l.primary.as_str()))
                .collect::<Vec<_>>(),
            [(2, "bob", "training"), (4, "ann", "performance")]
        );
        assert_eq!(all[1].root_causes, ["api_misuse", "gpu"]);
        assert_eq!(all[1].secondary, ["training"]);
        assert_eq!(
            store.label("b1", SITE, 4, "ann").unwrap().as_ref(),
            Some(&all[1])
        );
        assert_eq!(store.label("b1", SITE, 4, "bob").unwrap(), None);
        let f = FinalLabel {
            site: SITE.into(),
            post_id: 4,
            primary: "crash".into(),
            secondary: Vec::new(),
            decided_by: "cat".into(),
            note: "read the accepted answer".into(),
            root_causes: vec!["gpu".into()],
            root_cause: "driver".into(),
        };
        store.save_final("b1", &f).unwrap();
        assert_eq!(store.final_labels("b1").unwrap(), [f]);
        let sets = store.label_sets().unwrap();
        assert_eq!(
            (
                sets[0].posts,
                sets[0].final_labels,
                sets[0].annotators.clone()
            ),
            (2, 1, vec!["ann".to_string(), "bob".to_string()])
        );
        // Replacing the set drops what it held; a set keeps its design
        // unless given a new one.
        store
            .import_label_set(
                "b1",
                "again",
                &[label(1, "cat", "crash", &[])],
                &[],
                true,
                Some("{}"),
            )
            .unwrap();
        assert_eq!(store.labels("b1").unwrap().len(), 1);
        assert!(store.final_labels("b1").unwrap().is_empty());
        store
            .import_label_set("b1", "third", &[], &[], true, None)
            .unwrap();
        assert_eq!(store.design("b1").unwrap().as_deref(), Some("{}"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn results_keep_the_latest_per_key() {
        let (store, dir) = store_with_questions("results", 0);
        assert_eq!(store.result("eval:m").unwrap(), None);
        store.save_result("eval:m", "1").unwrap();
        store.save_result("eval:m", "2").unwrap();
        assert_eq!(store.result("eval:m").unwrap().as_deref(), Some("2"));
        assert_eq!(split_kinds(" a; ;b ;"), ["a", "b"]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
