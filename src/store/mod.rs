//! The study store: one SQLite file (`study.db`, WAL mode). Nothing else in
//! the crate talks SQL. The schema is in `schema.sql` (documented there and
//! in ARCHITECTURE.md); `PRAGMA user_version` holds the schema version so
//! later releases can migrate old studies.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::dump::row::{Answer, Comment, Question};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 5;

/// The store's file name inside a study folder.
pub const STORE_FILE: &str = "study.db";

const SCHEMA: &str = include_str!("schema.sql");
const SCHEMA_V2: &str = include_str!("schema_v2.sql");
const SCHEMA_V3: &str = include_str!("schema_v3.sql");
const SCHEMA_V4: &str = include_str!("schema_v4.sql");
const SCHEMA_V5: &str = include_str!("schema_v5.sql");

mod classify;
mod estimates;
mod labels;
pub use estimates::Member;
pub use labels::{BatchSummary, FinalLabel, LabelRow, LabelSetSummary, PostView, split_kinds};

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, for logs and history.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Errors of the store, with the file they concern.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{}: made by a newer stackmine (schema version {found}, this build reads up to {SCHEMA_VERSION})",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("{}: no study store yet; ingest a dump first (stackmine ingest DUMP --study DIR)", path.display())]
    Missing { path: PathBuf },
}

/// Wraps SQLite errors with the store's path (owning it, so it can be used
/// while the connection is borrowed for a transaction).
fn sql_err(path: PathBuf) -> impl Fn(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    }
}

/// A `group_concat(x, ',')` column as a list (NULL: empty).
fn comma_list(s: Option<String>) -> Vec<String> {
    s.map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default()
}

/// An open study store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// A question's facts that the statistics need.
#[derive(Debug, Clone)]
pub struct QuestionFacts {
    pub site: String,
    pub id: i64,
    pub created: String,
    pub created_ms: i64,
    pub view_count: Option<i64>,
    pub accepted_answer_id: Option<i64>,
    /// Creation time of the accepted answer, when the dump holds it.
    pub accepted_ms: Option<i64>,
    /// Creation time of the earliest answer in the dump.
    pub first_answer_ms: Option<i64>,
    /// Framework keys the question matched.
    pub frameworks: Vec<String>,
}

/// One site of the study, with its counts and date range.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SiteSummary {
    pub site: String,
    pub url: Option<String>,
    pub all_questions: bool,
    pub questions: i64,
    pub answers: i64,
    pub comments: i64,
    pub first_question: Option<String>,
    pub last_question: Option<String>,
    /// Dump arguments ingested for this site, latest first.
    pub dumps: Vec<String>,
}

/// A row of the ingest log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IngestLog {
    pub site: String,
    pub dump: String,
    pub source: String,
    pub dump_bytes: u64,
    pub started_at: String,
    pub seconds: f64,
    pub rows_scanned: u64,
    pub questions_kept: u64,
    pub answers_kept: u64,
    pub comments_kept: u64,
    pub bad_rows: u64,
    /// Reason → count.
    pub skipped: std::collections::BTreeMap<String, u64>,
    /// The first bad rows, in full (`line N: …`).
    pub bad_row_samples: Vec<String>,
    pub tag_formats: String,
    pub sorted: bool,
    pub passes: u32,
    pub all_questions: bool,
}

impl Store {
    /// Opens the store of a study folder, creating it when missing.
    pub fn open_or_create(path: &Path) -> Result<Store, StoreError> {
        Store::open_at(path)
    }

    /// Opens an existing store; a missing file is an error that says what to do.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        Store::open_at(path)
    }

    fn open_at(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
        sql_err(self.path.clone())
    }

    /// Brings the schema to [`SCHEMA_VERSION`] in one transaction.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let err = sql_err(self.path.clone());
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(&err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: version,
            });
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(&err)?;
        if version < 1 {
            tx.execute_batch(SCHEMA).map_err(&err)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('created_by', ?1)",
                [concat!("stackmine ", env!("CARGO_PKG_VERSION"))],
            )
            .map_err(&err)?;
        }
        if version < 2 {
            tx.execute_batch(SCHEMA_V2).map_err(&err)?;
        }
        if version < 3 {
            tx.execute_batch(SCHEMA_V3).map_err(&err)?;
        }
        if version < 4 {
            tx.execute_batch(SCHEMA_V4).map_err(&err)?;
        }
        if version < 5 {
            tx.execute_batch(SCHEMA_V5).map_err(&err)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts the one transaction an ingest writes in. Nothing is visible to
    /// others, or kept after a crash, until [`Writer::commit`].
    pub fn writer(&mut self) -> Result<Writer<'_>, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err(path.clone()))?;
        Ok(Writer { tx, path })
    }

    /// Every question with what the statistics need, ordered by site and Id.
    pub fn question_facts(&self) -> Result<Vec<QuestionFacts>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT q.site, q.id, q.created, q.created_ms, q.view_count, q.accepted_answer_id,
                        acc.created_ms,
                        (SELECT MIN(a.created_ms) FROM answers a
                          WHERE a.site = q.site AND a.parent_id = q.id),
                        (SELECT group_concat(f.framework, ',') FROM question_frameworks f
                          WHERE f.site = q.site AND f.question_id = q.id)
                 FROM questions q
                 LEFT JOIN answers acc
                   ON acc.site = q.site AND acc.id = q.accepted_answer_id AND acc.parent_id = q.id
                 ORDER BY q.site, q.id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let fws: Option<String> = r.get(8)?;
                Ok(QuestionFacts {
                    site: r.get(0)?,
                    id: r.get(1)?,
                    created: r.get(2)?,
                    created_ms: r.get(3)?,
                    view_count: r.get(4)?,
                    accepted_answer_id: r.get(5)?,
                    accepted_ms: r.get(6)?,
                    first_answer_ms: r.get(7)?,
                    frameworks: comma_list(fws),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The sites of the study with counts, date ranges and dumps.
    pub fn sites(&self) -> Result<Vec<SiteSummary>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.site, s.url, s.all_questions,
                    (SELECT COUNT(*) FROM questions q WHERE q.site = s.site),
                    (SELECT COUNT(*) FROM answers a WHERE a.site = s.site),
                    (SELECT COUNT(*) FROM comments c WHERE c.site = s.site),
                    (SELECT MIN(created) FROM questions q WHERE q.site = s.site),
                    (SELECT MAX(created) FROM questions q WHERE q.site = s.site)
                 FROM sites s ORDER BY s.site",
            )
            .map_err(self.err())?;
        let mut sites = stmt
            .query_map([], |r| {
                Ok(SiteSummary {
                    site: r.get(0)?,
                    url: r.get(1)?,
                    all_questions: r.get(2)?,
                    questions: r.get(3)?,
                    answers: r.get(4)?,
                    comments: r.get(5)?,
                    first_question: r.get(6)?,
                    last_question: r.get(7)?,
                    dumps: Vec::new(),
                })
            })
            .map_err(self.err())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err())?;
        let mut dumps = self
            .conn
            .prepare(
                "SELECT dump FROM ingests WHERE site = ?1
                 GROUP BY dump ORDER BY MAX(id) DESC",
            )
            .map_err(self.err())?;
        for s in &mut sites {
            s.dumps = dumps
                .query_map([&s.site], |r| r.get(0))
                .map_err(self.err())?
                .collect::<Result<_, _>>()
                .map_err(self.err())?;
        }
        Ok(sites)
    }

    /// The latest `limit` rows of the ingest log, latest first.
    pub fn ingest_log(&self, limit: usize) -> Result<Vec<IngestLog>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT site, dump, source, dump_bytes, started_at, seconds, rows_scanned,
                        questions_kept, answers_kept, comments_kept, bad_rows, skipped,
                        bad_row_samples, tag_formats, sorted, passes, all_questions
                 FROM ingests ORDER BY id DESC LIMIT ?1",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                let skipped: String = r.get(11)?;
                let samples: String = r.get(12)?;
                Ok(IngestLog {
                    site: r.get(0)?,
                    dump: r.get(1)?,
                    source: r.get(2)?,
                    dump_bytes: r.get::<_, i64>(3)? as u64,
                    started_at: r.get(4)?,
                    seconds: r.get(5)?,
                    rows_scanned: r.get::<_, i64>(6)? as u64,
                    questions_kept: r.get::<_, i64>(7)? as u64,
                    answers_kept: r.get::<_, i64>(8)? as u64,
                    comments_kept: r.get::<_, i64>(9)? as u64,
                    bad_rows: r.get::<_, i64>(10)? as u64,
                    skipped: serde_json::from_str(&skipped).unwrap_or_default(),
                    bad_row_samples: serde_json::from_str(&samples).unwrap_or_default(),
                    tag_formats: r.get(13)?,
                    sorted: r.get(14)?,
                    passes: r.get(15)?,
                    all_questions: r.get(16)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// A value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.err())
    }
}

/// The write side of one ingest: a single immediate transaction.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    path: PathBuf,
}

impl Writer<'_> {
    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
        sql_err(self.path.clone())
    }

    /// Forgets the posts a site brought before (labels and other study data
    /// keyed by site and post Id are left alone), and records the site.
    pub fn replace_site(
        &self,
        site: &str,
        url: Option<&str>,
        all_questions: bool,
    ) -> Result<(), StoreError> {
        for table in [
            "DELETE FROM questions WHERE site = ?1",
            "DELETE FROM question_tags WHERE site = ?1",
            "DELETE FROM question_frameworks WHERE site = ?1",
            "DELETE FROM answers WHERE site = ?1",
            "DELETE FROM comments WHERE site = ?1",
        ] {
            self.tx.execute(table, [site]).map_err(self.err())?;
        }
        self.tx
            .execute(
                "INSERT INTO sites (site, url, all_questions) VALUES (?1, ?2, ?3)
                 ON CONFLICT (site) DO UPDATE SET url = excluded.url,
                     all_questions = excluded.all_questions",
                params![site, url, all_questions],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Inserts a question with its tags and frameworks. Returns false when
    /// the site already has a post with its Id (a duplicate row; the first wins).
    pub fn insert_question(
        &self,
        site: &str,
        q: &Question,
        frameworks: &[&str],
    ) -> Result<bool, StoreError> {
        let tags_json = serde_json::to_string(&q.tags).unwrap_or_else(|_| "[]".into());
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO questions (site, id, title, body_html, body_text, code_text, tags,
                    created, created_ms, score, view_count, answer_count, comment_count,
                    favorite_count, accepted_answer_id, closed_date, owner_user_id,
                    owner_display_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18)
                 ON CONFLICT DO NOTHING",
            )
            .map_err(self.err())?
            .execute(params![
                site,
                q.id,
                q.title,
                q.body_html,
                q.body_text,
                q.code_text,
                tags_json,
                q.created,
                q.created_ms,
                q.score,
                q.view_count,
                q.answer_count,
                q.comment_count,
                q.favorite_count,
                q.accepted_answer_id,
                q.closed_date,
                q.owner_user_id,
                q.owner_display_name,
            ])
            .map_err(self.err())?;
        if n == 0 {
            return Ok(false);
        }
        let mut tag_stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO question_tags (site, question_id, tag) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )
            .map_err(self.err())?;
        for tag in &q.tags {
            tag_stmt
                .execute(params![site, q.id, tag])
                .map_err(self.err())?;
        }
        let mut fw_stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO question_frameworks (site, question_id, framework) VALUES (?1, ?2, ?3)",
            )
            .map_err(self.err())?;
        for fw in frameworks {
            fw_stmt
                .execute(params![site, q.id, fw])
                .map_err(self.err())?;
        }
        Ok(true)
    }

    /// Inserts an answer; false for a duplicate Id.
    pub fn insert_answer(&self, site: &str, a: &Answer) -> Result<bool, StoreError> {
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO answers (site, id, parent_id, created, created_ms, score, body_html,
                    owner_user_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )
            .map_err(self.err())?
            .execute(params![
                site,
                a.id,
                a.parent_id,
                a.created,
                a.created_ms,
                a.score,
                a.body_html,
                a.owner_user_id
            ])
            .map_err(self.err())?;
        Ok(n > 0)
    }

    /// Inserts a comment; false for a duplicate Id.
    pub fn insert_comment(&self, site: &str, c: &Comment) -> Result<bool, StoreError> {
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO comments (site, id, post_id, created, created_ms, score, text, user_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )
            .map_err(self.err())?
            .execute(params![
                site,
                c.id,
                c.post_id,
                c.created,
                c.created_ms,
                c.score,
                c.text,
                c.user_id
            ])
            .map_err(self.err())?;
        Ok(n > 0)
    }

    /// Appends a row to the ingest log.
    pub fn log_ingest(&self, log: &IngestLog) -> Result<(), StoreError> {
        let skipped = serde_json::to_string(&log.skipped).unwrap_or_else(|_| "{}".into());
        let samples = serde_json::to_string(&log.bad_row_samples).unwrap_or_else(|_| "[]".into());
        self.tx
            .execute(
                "INSERT INTO ingests (site, dump, source, dump_bytes, started_at, seconds,
                    rows_scanned, questions_kept, answers_kept, comments_kept, bad_rows, skipped,
                    bad_row_samples, tag_formats, sorted, passes, all_questions)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    log.site,
                    log.dump,
                    log.source,
                    log.dump_bytes as i64,
                    log.started_at,
                    log.seconds,
                    log.rows_scanned as i64,
                    log.questions_kept as i64,
                    log.answers_kept as i64,
                    log.comments_kept as i64,
                    log.bad_rows as i64,
                    skipped,
                    samples,
                    log.tag_formats,
                    log.sorted,
                    log.passes,
                    log.all_questions,
                ],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Makes the whole ingest visible at once.
    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().map_err(sql_err(self.path))
    }
}
