//! The study store: one SQLite file (`study.db`, WAL mode). Nothing else in
//! the crate talks SQL. The schema is in `schema.sql` (documented there and
//! in ARCHITECTURE.md); `PRAGMA user_version` holds the schema version so
//! later releases can migrate old studies.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::dump::row::{Answer, Comment, Question};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 6;

/// The store's file name inside a study folder.
pub const STORE_FILE: &str = "study.db";

const SCHEMA: &str = include_str!("schema.sql");
const SCHEMA_V2: &str = include_str!("schema_v2.sql");
const SCHEMA_V3: &str = include_str!("schema_v3.sql");
const SCHEMA_V4: &str = include_str!("schema_v4.sql");
const SCHEMA_V5: &str = include_str!("schema_v5.sql");
const SCHEMA_V6: &str = include_str!("schema_v6.sql");

mod classify;
mod endorsements;
mod estimates;
mod export;
mod labels;
mod results;
pub use classify::{Classified, CodeRow, stored_doc};
pub use endorsements::{AskerComment, Endorsement, INGEST_KEY, PHRASES_KEY};
pub use estimates::Member;
pub use labels::{
    AnswerView, BatchSummary, CommentView, FinalLabel, LabelRow, LabelSetSummary, PostView,
    split_kinds,
};
pub use results::{Latest, Unreadable};

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, for logs and history.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::dump::row::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Errors of the store, with the file they concern. Each message says its
/// cause once: no variant has a `source` that its message also prints.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {}", path.display(), sqlite_words(error))]
    Sqlite {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error(
        "{}: made by a newer stackmine (schema version {found}, this build reads up to {SCHEMA_VERSION})",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("{}: no study store yet; ingest a dump first (stackmine ingest DUMP --study DIR)", path.display())]
    Missing { path: PathBuf },
    #[error(
        "{}: not an SQLite database ({why}); stackmine leaves it untouched: move it away or use another study folder",
        path.display()
    )]
    NotSqlite { path: PathBuf, why: String },
    #[error(
        "{}: an SQLite database that is not a stackmine study store ({why}); stackmine leaves it untouched: move it away or use another study folder",
        path.display()
    )]
    Foreign { path: PathBuf, why: String },
    #[error("{}: the study folder is read-only, and {why}", path.display())]
    ReadOnly { path: PathBuf, why: String },
    #[error(
        "{}: the study folder is read-only and holds changes in study.db-wal without study.db-shm, so they cannot be read; open the study once where it is writable (or copy the folder) to fold them in",
        path.display()
    )]
    WalWithoutShm { path: PathBuf },
    #[error("cannot store result {key}: {why}")]
    Encode { key: String, why: String },
    #[error("cannot read {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl StoreError {
    /// Whether this is SQLite's "database is busy/locked": another
    /// connection holds the write lock (a caller may retry).
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite { error, .. } if matches!(
                error.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
        )
    }
}

/// A SQLite error in words, once (rusqlite's error repeats it as its source).
fn sqlite_words(e: &rusqlite::Error) -> String {
    let words = match e {
        rusqlite::Error::SqliteFailure(f, None) => {
            rusqlite::ffi::code_to_str(f.extended_code).to_string()
        }
        e => e.to_string(),
    };
    // SQLite reports a write that found no room as a plain I/O error as
    // often as "database or disk is full": say what to check.
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::SystemIoFailure) => {
            format!("{words} (is the disk full?)")
        }
        _ => words,
    }
}

/// Wraps SQLite errors with the store's path (owning it, so it can be used
/// while the connection is borrowed for a transaction).
fn sql_err(path: PathBuf) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| StoreError::Sqlite {
        path: path.clone(),
        error,
    }
}

/// The post whose site and Id are columns `at` and `at + 1` of `r`.
fn post_key(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<crate::PostKey> {
    Ok(crate::PostKey::new(r.get::<_, String>(at)?, r.get(at + 1)?))
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
    /// The dump's date of the question's site (Unix ms): questions still
    /// waiting are censored then. The site's recorded `as_of`, else (a site
    /// ingested before schema version 5) the latest creation time of its
    /// stored questions and answers.
    pub as_of_ms: i64,
}

impl QuestionFacts {
    pub fn key(&self) -> crate::PostKey {
        crate::PostKey::new(self.site.clone(), self.id)
    }
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

/// What a store's file holds, as seen before anything is opened for writing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The file (or its write-ahead log) holds data; false: missing or empty.
    pub exists: bool,
    /// `PRAGMA user_version`.
    pub user_version: i64,
    /// The names of its tables.
    pub tables: Vec<String>,
    /// Its other schema objects (views, triggers, indexes), as `view v`.
    pub others: Vec<String>,
    /// `meta.created_by`, when it has one.
    pub created_by: Option<String>,
}

/// What opening a store will do, decided from [`Found`] by [`plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// A missing or empty file: a new study.
    Create,
    /// A stackmine store of this build's schema version.
    Current,
    /// A stackmine store of an older schema version, migrated when opened
    /// for writing.
    Migrate { from: i64 },
}

/// Why a file is not opened, decided by [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Made by a newer stackmine.
    Newer(i64),
    /// Some other program's database; the reason, in a few words.
    Foreign(String),
}

/// The tables schema version 1 creates; a store without a `created_by`
/// row (older test fixtures) is recognised by having all of them.
fn v1_tables() -> Vec<&'static str> {
    SCHEMA
        .split("CREATE TABLE ")
        .skip(1)
        .filter_map(|s| s.split_whitespace().next())
        .collect()
}

/// Decides what to do with a store's file. A file with tables is a stackmine
/// store when its `meta` table says it was created by stackmine (or it has
/// every table of schema version 1) and its `user_version` is 1 to
/// [`SCHEMA_VERSION`]; anything else with tables is refused, untouched.
pub fn plan(found: &Found) -> Result<Plan, Refusal> {
    if found.user_version > SCHEMA_VERSION {
        return Err(Refusal::Newer(found.user_version));
    }
    if !found.exists
        || (found.tables.is_empty() && found.others.is_empty() && found.user_version == 0)
    {
        return Ok(Plan::Create);
    }
    if found.tables.is_empty() && !found.others.is_empty() {
        let shown: Vec<&str> = found.others.iter().take(5).map(String::as_str).collect();
        return Err(Refusal::Foreign(format!(
            "it has no tables but {}{}",
            shown.join(", "),
            if found.others.len() > 5 { ", …" } else { "" }
        )));
    }
    let has = |t: &str| found.tables.iter().any(|x| x == t);
    let ours = found
        .created_by
        .as_deref()
        .is_some_and(|c| c.starts_with("stackmine"))
        || v1_tables().iter().all(|t| has(t));
    if !ours {
        return Err(Refusal::Foreign(match &found.created_by {
            Some(_) => "its meta table was not written by stackmine".to_string(),
            None => format!(
                "it has {} but no stackmine meta row",
                table_list(&found.tables)
            ),
        }));
    }
    if found.user_version < 1 {
        return Err(Refusal::Foreign(format!(
            "it has stackmine's tables but schema version {}",
            found.user_version
        )));
    }
    Ok(if found.user_version == SCHEMA_VERSION {
        Plan::Current
    } else {
        Plan::Migrate {
            from: found.user_version,
        }
    })
}

/// A few table names for a message (never a schema's worth of text).
fn table_list(tables: &[String]) -> String {
    if tables.is_empty() {
        return "no tables".into();
    }
    let shown: Vec<String> = tables
        .iter()
        .take(5)
        .map(|t| {
            let t: String = t.chars().filter(|c| !c.is_control()).take(40).collect();
            format!("{t:?}")
        })
        .collect();
    let more = match tables.len() {
        n if n > 5 => format!(" and {} more", n - 5),
        _ => String::new(),
    };
    let noun = if tables.len() == 1 { "table" } else { "tables" };
    format!("{noun} {}{more}", shown.join(", "))
}

/// How a read-only open reads the file (see [`read_mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// A writable folder: an ordinary connection with `PRAGMA query_only`,
    /// so nothing can be written through it, yet, being able to checkpoint,
    /// it removes the -wal and -shm files when it closes last (a `mode=ro`
    /// connection would leave them in the study folder) and it reads safely
    /// while another process writes.
    QueryOnly,
    /// `mode=ro`: reads the write-ahead log through its existing -shm index.
    ReadOnly,
    /// `mode=ro&immutable=1`: no locks, no -wal or -shm; exact when the file
    /// holds every committed change (no write-ahead log to read).
    Immutable,
}

/// How to read a current store: `folder_writable` is whether SQLite may
/// create its -wal and -shm files; `wal_has_data` whether study.db-wal holds
/// frames; `shm_exists` whether study.db-shm is there. `None`: it cannot be
/// read correctly (committed changes in a log that cannot be indexed).
pub fn read_mode(folder_writable: bool, wal_has_data: bool, shm_exists: bool) -> Option<ReadMode> {
    match (folder_writable, wal_has_data, shm_exists) {
        (true, _, _) => Some(ReadMode::QueryOnly),
        (false, false, _) => Some(ReadMode::Immutable),
        (false, true, true) => Some(ReadMode::ReadOnly),
        (false, true, false) => None,
    }
}

/// `path` with a suffix (`-wal`, `-shm`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Whether this process may create and change files in `path` (a folder or
/// a file): false on a read-only mount or without write permission.
pub fn writable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: `c` is a valid NUL-terminated string for the call's duration.
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).is_ok_and(|m| !m.permissions().readonly())
    }
}

/// A `file:` URI for SQLite with the given query, every byte that is not
/// plainly safe percent-encoded.
fn file_uri(path: &Path, query: &str) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        abs.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = abs.to_string_lossy().into_owned().into_bytes();
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push('?');
    uri.push_str(query);
    uri
}

fn open_uri(path: &Path, mode: ReadMode) -> Result<Connection, rusqlite::Error> {
    use rusqlite::OpenFlags;
    let query = match mode {
        ReadMode::ReadOnly | ReadMode::QueryOnly => "mode=ro",
        ReadMode::Immutable => "mode=ro&immutable=1",
    };
    Connection::open_with_flags(
        file_uri(path, query),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// The folder a store's file is in.
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Whether SQLite may write the store: the folder (for -wal, -shm and
/// journal files) and the file itself.
fn store_writable(path: &Path) -> bool {
    writable(folder(path)) && (!path.exists() || writable(path))
}

/// Looks at a store's file without changing it, or anything next to it: the
/// header is read by hand, and SQLite opens it read-only — immutable (no
/// locks, no -wal or -shm file created) unless a -wal holds data or a -shm
/// shows another connection, whose files then exist already.
pub fn inspect(path: &Path) -> Result<Found, StoreError> {
    let io = |error| StoreError::Io {
        path: path.to_path_buf(),
        error,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::default()),
        Err(e) => return Err(io(e)),
    };
    if !meta.is_file() {
        return Err(StoreError::NotSqlite {
            path: path.to_path_buf(),
            why: "it is a folder or a special file, not a file".into(),
        });
    }
    let wal_len = std::fs::metadata(sidecar(path, "-wal")).map_or(0, |m| m.len());
    if meta.len() == 0 && wal_len == 0 {
        return Ok(Found::default());
    }
    // The header is checked by SQLite itself (NotADatabase below), never
    // read here: opening and closing another descriptor of study.db in this
    // process would drop the POSIX locks its open connections hold on it
    // (fcntl locks belong to the process and the file), and another process
    // could then fold and delete the write-ahead log under them.
    let sql = sql_err(path.to_path_buf());
    let not_db = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotSqlite {
            path: path.to_path_buf(),
            why: sqlite_words(&e),
        },
        _ => sql(e),
    };
    // Immutable (no locks, no files created) unless a write-ahead log holds
    // data, or its -shm index shows another connection may be writing.
    let shm = sidecar(path, "-shm").exists();
    let folder_writable = writable(folder(path));
    let mode = if wal_len > 0 || (shm && folder_writable) {
        if !folder_writable && !shm {
            return Err(StoreError::WalWithoutShm {
                path: path.to_path_buf(),
            });
        }
        ReadMode::ReadOnly
    } else {
        ReadMode::Immutable
    };
    let conn = open_uri(path, mode).map_err(not_db)?;
    let user_version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(not_db)?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(not_db)?;
    let others: Vec<String> = conn
        .prepare(
            "SELECT type || ' ' || substr(name, 1, 40) FROM sqlite_master
             WHERE type <> 'table' ORDER BY type, name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(not_db)?;
    let created_by = if tables.iter().any(|t| t == "meta") {
        conn.query_row("SELECT value FROM meta WHERE key = 'created_by'", [], |r| {
            r.get::<_, String>(0)
        })
        .ok()
    } else {
        None
    };
    Ok(Found {
        exists: true,
        user_version,
        tables,
        others,
        created_by,
    })
}

impl Store {
    /// Opens the store of a study folder for writing, creating it when
    /// missing or empty and migrating an older one. A file that is not a
    /// stackmine store, or is from a newer release, is refused untouched.
    pub fn open_or_create(path: &Path) -> Result<Store, StoreError> {
        Store::open_checked(path, true, true)
    }

    /// Opens an existing store for writing (migrating an older one); a
    /// missing file is an error that says what to do.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        Store::open_checked(path, false, true)
    }

    /// Opens an existing store for reading only, for commands that do not
    /// change the study (see [`read_mode`]): works on a read-only folder or
    /// mount, creating no -wal or -shm file there. An older store is
    /// migrated when the folder is writable, as a writing open would.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        Store::open_checked(path, false, false)
    }

    fn open_checked(path: &Path, create: bool, write: bool) -> Result<Store, StoreError> {
        let found = inspect(path)?;
        let plan = plan(&found).map_err(|r| match r {
            Refusal::Newer(found) => StoreError::NewerSchema {
                path: path.to_path_buf(),
                found,
            },
            Refusal::Foreign(why) => StoreError::Foreign {
                path: path.to_path_buf(),
                why,
            },
        })?;
        let read_only = |why: String| StoreError::ReadOnly {
            path: path.to_path_buf(),
            why,
        };
        let can_write = store_writable(path);
        match plan {
            Plan::Create if !create => Err(StoreError::Missing {
                path: path.to_path_buf(),
            }),
            Plan::Create | Plan::Current if write && !can_write => {
                Err(read_only("this command writes to the study store".into()))
            }
            Plan::Migrate { from } if !can_write => Err(read_only(format!(
                "its store (schema version {from}) must be migrated to version {SCHEMA_VERSION} before use"
            ))),
            Plan::Current if !write => {
                let wal = std::fs::metadata(sidecar(path, "-wal")).is_ok_and(|m| m.len() > 0);
                let shm = sidecar(path, "-shm").exists();
                let mode =
                    read_mode(can_write, wal, shm).ok_or_else(|| StoreError::WalWithoutShm {
                        path: path.to_path_buf(),
                    })?;
                let err = sql_err(path.to_path_buf());
                if mode == ReadMode::QueryOnly {
                    let store = Store::open_at(path)?;
                    store
                        .conn
                        .pragma_update(None, "query_only", true)
                        .map_err(&err)?;
                    return Ok(store);
                }
                let conn = open_uri(path, mode).map_err(&err)?;
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(&err)?;
                Ok(Store {
                    conn,
                    path: path.to_path_buf(),
                })
            }
            Plan::Migrate { .. } if !write => {
                let store = Store::open_at(path)?;
                store
                    .conn
                    .pragma_update(None, "query_only", true)
                    .map_err(sql_err(path.to_path_buf()))?;
                Ok(store)
            }
            _ => Store::open_at(path),
        }
    }

    fn open_at(path: &Path) -> Result<Store, StoreError> {
        let err = sql_err(path.to_path_buf());
        let conn = Connection::open(path).map_err(&err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(&err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(&err)?;
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
        if version < 6 {
            tx.execute_batch(SCHEMA_V6).map_err(&err)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts an ingest. Its rows go to a staging database next to the store
    /// (`study.db.ingest-PID`, no journal); [`Writer::commit`] then swaps them
    /// in with one short transaction, so the store's write lock is held for
    /// the swap only, not for the whole read. Nothing is visible to others, or
    /// kept after a crash, until the swap commits; a staging file left by a
    /// killed ingest is removed by the next one.
    pub fn writer(&mut self) -> Result<Writer<'_>, StoreError> {
        Writer::start(&self.conn, &self.path)
    }

    /// Every question with what the statistics need, ordered by site and Id.
    pub fn question_facts(&self) -> Result<Vec<QuestionFacts>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "WITH latest AS (
                   SELECT site, MAX(ms) AS ms FROM (
                     SELECT site, MAX(created_ms) AS ms FROM questions GROUP BY site
                     UNION ALL SELECT site, MAX(created_ms) FROM answers GROUP BY site)
                   GROUP BY site)
                 SELECT q.site, q.id, q.created, q.created_ms, q.view_count, q.accepted_answer_id,
                        acc.created_ms,
                        (SELECT MIN(a.created_ms) FROM answers a
                          WHERE a.site = q.site AND a.parent_id = q.id),
                        (SELECT group_concat(f.framework, ',') FROM question_frameworks f
                          WHERE f.site = q.site AND f.question_id = q.id),
                        COALESCE(s.as_of_ms, latest.ms)
                 FROM questions q
                 LEFT JOIN sites s ON s.site = q.site
                 LEFT JOIN latest ON latest.site = q.site
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
                    as_of_ms: r.get(9)?,
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

/// The tables an ingest fills, in the order they are swapped in.
const INGEST_TABLES: [&str; 5] = [
    "questions",
    "question_tags",
    "question_frameworks",
    "answers",
    "comments",
];

/// The prefix of staging files next to `study.db`.
const STAGING_SUFFIX: &str = ".ingest-";

/// The write side of one ingest: rows go to an attached staging database in
/// one transaction of its own; [`Writer::commit`] swaps them into the store.
pub struct Writer<'a> {
    conn: &'a Connection,
    path: PathBuf,
    staging: PathBuf,
    /// Sites replaced, in the order they were first named.
    sites: Vec<ReplacedSite>,
    logs: Vec<IngestLog>,
    done: bool,
}

/// A site an ingest replaces, as its `sites` row will be written.
struct ReplacedSite {
    site: String,
    url: Option<String>,
    all_questions: bool,
    /// The dump's date: raw dump text and Unix ms.
    as_of: Option<(String, i64)>,
}

/// Whether a staging file was left by a process that is gone.
fn stale_staging(file: &Path, pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    if cfg!(target_os = "linux") {
        return !Path::new(&format!("/proc/{pid}")).exists();
    }
    // Elsewhere: a day old is surely left over.
    std::fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 86_400)
}

/// Removes staging files that killed ingests left next to the store.
fn remove_stale_staging(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{name}{STAGING_SUFFIX}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let p = e.path();
        if stale_staging(&p, pid) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

impl<'a> Writer<'a> {
    fn start(conn: &'a Connection, path: &Path) -> Result<Writer<'a>, StoreError> {
        let err = sql_err(path.to_path_buf());
        remove_stale_staging(path);
        let mut staging = path.as_os_str().to_owned();
        staging.push(format!("{STAGING_SUFFIX}{}", std::process::id()));
        let staging = PathBuf::from(staging);
        let _ = std::fs::remove_file(&staging);
        // The staging tables are the store's, with their keys (duplicates are
        // found there) but without secondary indexes.
        let mut creates = Vec::new();
        for t in INGEST_TABLES {
            let sql: String = conn
                .query_row(
                    "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
                    [t],
                    |r| r.get(0),
                )
                .map_err(&err)?;
            let body = sql.find('(').map_or("", |i| &sql[i..]);
            creates.push(format!("CREATE TABLE staging.{t} {body};"));
        }
        conn.execute(
            "ATTACH DATABASE ?1 AS staging",
            [staging.to_string_lossy().as_ref()],
        )
        .map_err(&err)?;
        let writer = Writer {
            conn,
            path: path.to_path_buf(),
            staging,
            sites: Vec::new(),
            logs: Vec::new(),
            done: false,
        };
        conn.execute_batch(&format!(
            "PRAGMA staging.journal_mode = OFF; PRAGMA staging.synchronous = OFF;
             {} BEGIN;",
            creates.join("\n")
        ))
        .map_err(&err)?;
        Ok(writer)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
        sql_err(self.path.clone())
    }

    /// Forgets the posts a site brought before (labels and other study data
    /// keyed by site and post Id are left alone), and records the site; both
    /// happen in [`Writer::commit`].
    pub fn replace_site(
        &mut self,
        site: &str,
        url: Option<&str>,
        all_questions: bool,
    ) -> Result<(), StoreError> {
        self.sites.retain(|s| s.site != site);
        self.sites.push(ReplacedSite {
            site: site.to_string(),
            url: url.map(String::from),
            all_questions,
            as_of: None,
        });
        Ok(())
    }

    /// Records a replaced site's dump date (raw dump text and Unix ms), or
    /// clears it; written with the site's row at [`Writer::commit`].
    pub fn set_site_as_of(&mut self, site: &str, as_of: Option<(&str, i64)>) {
        if let Some(s) = self.sites.iter_mut().find(|s| s.site == site) {
            s.as_of = as_of.map(|(text, ms)| (text.to_string(), ms));
        }
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
            .conn
            .prepare_cached(
                "INSERT INTO staging.questions (site, id, title, body_html, body_text, code_text, tags,
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
            .conn
            .prepare_cached(
                "INSERT INTO staging.question_tags (site, question_id, tag) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )
            .map_err(self.err())?;
        for tag in &q.tags {
            tag_stmt
                .execute(params![site, q.id, tag])
                .map_err(self.err())?;
        }
        let mut fw_stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO staging.question_frameworks (site, question_id, framework) VALUES (?1, ?2, ?3)",
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
            .conn
            .prepare_cached(
                "INSERT INTO staging.answers (site, id, parent_id, created, created_ms, score, body_html,
                    owner_user_id, owner_display_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
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
                a.owner_user_id,
                a.owner_display_name
            ])
            .map_err(self.err())?;
        Ok(n > 0)
    }

    /// Inserts a comment; false for a duplicate Id.
    pub fn insert_comment(&self, site: &str, c: &Comment) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO staging.comments (site, id, post_id, created, created_ms, score, text, user_id,
                    user_display_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
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
                c.user_id,
                c.user_display_name
            ])
            .map_err(self.err())?;
        Ok(n > 0)
    }

    /// Appends a row to the ingest log (written by [`Writer::commit`]).
    pub fn log_ingest(&mut self, log: &IngestLog) -> Result<(), StoreError> {
        self.logs.push(log.clone());
        Ok(())
    }

    /// Makes the whole ingest visible at once: one immediate transaction on
    /// the store replaces the sites' posts with the staged ones and appends
    /// the log. Returns how long the store's write lock was held.
    pub fn commit(mut self) -> Result<std::time::Duration, StoreError> {
        let err = self.err();
        self.conn.execute_batch("COMMIT").map_err(&err)?;
        let started = std::time::Instant::now();
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(&err)?;
        let swapped = self.swap();
        let result = match swapped {
            Ok(()) => self.conn.execute_batch("COMMIT").map_err(&err),
            Err(e) => Err(e),
        };
        let held = started.elapsed();
        if result.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.finish();
        result.map(|()| held)
    }

    fn swap(&self) -> Result<(), StoreError> {
        let err = self.err();
        for ReplacedSite {
            site,
            url,
            all_questions,
            as_of,
        } in &self.sites
        {
            for t in INGEST_TABLES {
                self.conn
                    .execute(&format!("DELETE FROM main.{t} WHERE site = ?1"), [site])
                    .map_err(&err)?;
            }
            self.conn
                .execute(
                    "INSERT INTO main.sites (site, url, all_questions, as_of, as_of_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (site) DO UPDATE SET url = excluded.url,
                         all_questions = excluded.all_questions,
                         as_of = excluded.as_of, as_of_ms = excluded.as_of_ms",
                    params![
                        site,
                        url,
                        all_questions,
                        as_of.as_ref().map(|a| &a.0),
                        as_of.as_ref().map(|a| a.1)
                    ],
                )
                .map_err(&err)?;
        }
        for t in INGEST_TABLES {
            self.conn
                .execute(
                    &format!("INSERT INTO main.{t} SELECT * FROM staging.{t}"),
                    [],
                )
                .map_err(&err)?;
        }
        for log in &self.logs {
            let skipped = serde_json::to_string(&log.skipped).unwrap_or_else(|_| "{}".into());
            let samples =
                serde_json::to_string(&log.bad_row_samples).unwrap_or_else(|_| "[]".into());
            self.conn
                .execute(
                    "INSERT INTO main.ingests (site, dump, source, dump_bytes, started_at, seconds,
                        rows_scanned, questions_kept, answers_kept, comments_kept, bad_rows,
                        skipped, bad_row_samples, tag_formats, sorted, passes, all_questions)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                        ?16, ?17)",
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
                .map_err(&err)?;
        }
        Ok(())
    }

    /// Ends the staging transaction (if open), detaches and removes the file.
    fn finish(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        let _ = self.conn.execute_batch("DETACH DATABASE staging");
        let _ = std::fs::remove_file(&self.staging);
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(user_version: i64, tables: &[&str], created_by: Option<&str>) -> Found {
        Found {
            exists: true,
            user_version,
            tables: tables.iter().map(|t| t.to_string()).collect(),
            others: Vec::new(),
            created_by: created_by.map(String::from),
        }
    }

    #[test]
    fn plan_creates_opens_migrates_or_refuses() {
        assert_eq!(plan(&Found::default()), Ok(Plan::Create));
        let empty = found(0, &[], None);
        assert_eq!(plan(&empty), Ok(Plan::Create));
        let ours = Some("stackmine 0.1.0");
        assert_eq!(
            plan(&found(SCHEMA_VERSION, &["meta"], ours)),
            Ok(Plan::Current)
        );
        assert_eq!(
            plan(&found(2, &["meta"], ours)),
            Ok(Plan::Migrate { from: 2 })
        );
        assert_eq!(
            plan(&found(SCHEMA_VERSION + 1, &["meta"], ours)),
            Err(Refusal::Newer(SCHEMA_VERSION + 1))
        );
        // An old fixture without a meta row is ours when it has every table
        // of version 1; missing one makes it foreign.
        let v1 = v1_tables();
        assert!(v1.len() >= 5 && v1.contains(&"questions"), "{v1:?}");
        assert_eq!(plan(&found(1, &v1, None)), Ok(Plan::Migrate { from: 1 }));
        assert!(matches!(
            plan(&found(1, &v1[1..], None)),
            Err(Refusal::Foreign(_))
        ));
        // Another program's meta row, or stackmine's tables at version 0.
        assert_eq!(
            plan(&found(1, &["meta"], Some("other tool"))),
            Err(Refusal::Foreign(
                "its meta table was not written by stackmine".into()
            ))
        );
        assert_eq!(
            plan(&found(0, &["meta"], ours)),
            Err(Refusal::Foreign(
                "it has stackmine's tables but schema version 0".into()
            ))
        );
        // Views or triggers without tables.
        let mut views = found(0, &[], None);
        views.others = (0..7).map(|i| format!("view v{i}")).collect();
        assert_eq!(
            plan(&views),
            Err(Refusal::Foreign(
                "it has no tables but view v0, view v1, view v2, view v3, view v4, …".into()
            ))
        );
    }

    #[test]
    fn table_lists_stay_short_and_printable() {
        assert_eq!(table_list(&[]), "no tables");
        assert_eq!(table_list(&["a".into()]), "table \"a\"");
        let many: Vec<String> = (0..8).map(|i| format!("t{i}\u{1b}[2J")).collect();
        let shown = table_list(&many);
        assert_eq!(
            shown,
            "tables \"t0[2J\", \"t1[2J\", \"t2[2J\", \"t3[2J\", \"t4[2J\" and 3 more"
        );
        let long = table_list(&["x".repeat(500)]);
        assert_eq!(long.len(), "table \"\"".len() + 40);
    }

    #[test]
    fn read_mode_follows_the_folder_and_the_log() {
        assert_eq!(read_mode(true, true, false), Some(ReadMode::QueryOnly));
        assert_eq!(read_mode(true, false, false), Some(ReadMode::QueryOnly));
        assert_eq!(read_mode(false, false, false), Some(ReadMode::Immutable));
        assert_eq!(read_mode(false, false, true), Some(ReadMode::Immutable));
        assert_eq!(read_mode(false, true, true), Some(ReadMode::ReadOnly));
        assert_eq!(read_mode(false, true, false), None);
    }

    #[test]
    fn sidecars_sit_beside_the_store() {
        let p = Path::new("/x/study.db");
        assert_eq!(sidecar(p, "-wal"), PathBuf::from("/x/study.db-wal"));
        assert_eq!(sidecar(p, "-shm"), PathBuf::from("/x/study.db-shm"));
    }
}
