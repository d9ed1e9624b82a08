//! The store as Apache Parquet, for engines that read it (Spark, DuckDB,
//! pandas): `stackmine export`. One file per table, `OUT/<table>.parquet`,
//! with the table's columns under their SQLite names, plus `OUT/schema.json`
//! describing them ([`schema_json`]).
//!
//! Tables are read in primary-key order inside one read transaction, in
//! batches of [`BATCH_ROWS`] rows, and written as row groups of at most
//! [`ROW_GROUP_ROWS`] rows (a row group is closed early once its encoded
//! columns reach [`ROW_GROUP_BYTES`]), zstd-compressed: memory stays bounded
//! whatever the study's size. The bytes depend only on the store's rows:
//! Parquet's footer holds no time, and the writer's version is fixed by
//! the build. Files are written under temporary names and renamed into place
//! only when every table is written (as [`crate::report::output`] does).
//!
//! [`stream`] runs a classifier over an Arrow IPC stream of questions
//! (`classify --stdin`); [`import`] reads classifications back.

pub mod import;
pub mod stream;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    FixedSizeListBuilder, Float32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use rusqlite::types::ValueRef;

use crate::store::{SCHEMA_VERSION, Store, StoreError};

/// Rows read from SQLite and written per Arrow batch.
pub const BATCH_ROWS: usize = 4096;

/// Most rows in one Parquet row group.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// A row group is closed once its encoded, compressed columns reach this
/// many bytes, even with fewer rows (long posts).
pub const ROW_GROUP_BYTES: usize = 64 << 20;

/// zstd level of every column.
pub const ZSTD_LEVEL: i32 = 3;

/// Size of an embedding vector when the embeddings table is empty (the
/// default encoder's).
const EMPTY_VECTOR_DIM: i32 = 384;

/// A column's type: its SQLite storage and its Arrow/Parquet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TEXT -> string (UTF-8).
    Text,
    /// INTEGER -> int64.
    Int,
    /// REAL -> float64.
    Real,
    /// BLOB of little-endian f32 -> fixed_size_list<float32>.
    Vector,
}

/// One exported column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

/// One exported table: its columns, and its primary key (the row order).
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub key: &'static [&'static str],
}

const fn c(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: false,
    }
}

const fn n(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: true,
    }
}

use Kind::{Int, Real, Text, Vector};

/// Every table `export` writes, in this order (see src/store/schema*.sql).
pub const TABLES: &[Table] = &[
    Table {
        name: "sites",
        columns: &[
            c("site", Text),
            n("url", Text),
            c("all_questions", Int),
            n("as_of", Text),
            n("as_of_ms", Int),
        ],
        key: &["site"],
    },
    Table {
        name: "questions",
        columns: &[
            c("site", Text),
            c("id", Int),
            n("title", Text),
            n("body_html", Text),
            c("body_text", Text),
            c("code_text", Text),
            c("tags", Text),
            c("created", Text),
            c("created_ms", Int),
            n("score", Int),
            n("view_count", Int),
            n("answer_count", Int),
            n("comment_count", Int),
            n("favorite_count", Int),
            n("accepted_answer_id", Int),
            n("closed_date", Text),
            n("owner_user_id", Int),
            n("owner_display_name", Text),
        ],
        key: &["site", "id"],
    },
    Table {
        name: "question_tags",
        columns: &[c("site", Text), c("question_id", Int), c("tag", Text)],
        key: &["site", "question_id", "tag"],
    },
    Table {
        name: "question_frameworks",
        columns: &[c("site", Text), c("question_id", Int), c("framework", Text)],
        key: &["site", "question_id", "framework"],
    },
    Table {
        name: "answers",
        columns: &[
            c("site", Text),
            c("id", Int),
            c("parent_id", Int),
            c("created", Text),
            c("created_ms", Int),
            n("score", Int),
            n("body_html", Text),
            n("owner_user_id", Int),
            n("owner_display_name", Text),
        ],
        key: &["site", "id"],
    },
    Table {
        name: "comments",
        columns: &[
            c("site", Text),
            c("id", Int),
            c("post_id", Int),
            c("created", Text),
            c("created_ms", Int),
            n("score", Int),
            n("text", Text),
            n("user_id", Int),
            n("user_display_name", Text),
        ],
        key: &["site", "id"],
    },
    Table {
        name: "label_sets",
        columns: &[
            c("name", Text),
            c("source", Text),
            c("created_at", Text),
            c("design", Text),
        ],
        key: &["name"],
    },
    Table {
        name: "labels",
        columns: &[
            c("set_name", Text),
            c("site", Text),
            c("post_id", Int),
            c("annotator", Text),
            c("primary_kind", Text),
            c("secondary", Text),
            c("note", Text),
            c("root_cause", Text),
            c("root_causes", Text),
            c("updated_at", Text),
        ],
        key: &["set_name", "site", "post_id", "annotator"],
    },
    Table {
        name: "final_labels",
        columns: &[
            c("set_name", Text),
            c("site", Text),
            c("post_id", Int),
            c("primary_kind", Text),
            c("secondary", Text),
            c("decided_by", Text),
            c("note", Text),
            c("root_causes", Text),
            c("root_cause", Text),
            c("updated_at", Text),
        ],
        key: &["set_name", "site", "post_id"],
    },
    Table {
        name: "endorsements",
        columns: &[
            c("site", Text),
            c("question_id", Int),
            c("answer_id", Int),
            c("comment_id", Int),
            c("phrase", Text),
        ],
        key: &["site", "answer_id", "comment_id"],
    },
    Table {
        name: "classifications",
        columns: &[
            c("site", Text),
            c("question_id", Int),
            c("category", Text),
            c("confidence", Real),
            c("model", Text),
        ],
        key: &["site", "question_id"],
    },
    Table {
        name: "embeddings",
        columns: &[
            c("encoder", Text),
            c("max_tokens", Int),
            c("site", Text),
            c("id", Int),
            c("text_hash", Text),
            c("vector", Vector),
        ],
        key: &["encoder", "max_tokens", "site", "id"],
    },
];

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no table {name:?} to export; the tables are {}", known.join(", "))]
    UnknownTable { name: String, known: Vec<String> },
    #[error(
        "table {table}, row {row}: column {column} holds {found}, the export expects {expected}"
    )]
    Value {
        table: &'static str,
        column: &'static str,
        row: u64,
        found: &'static str,
        expected: &'static str,
    },
    #[error(
        "the embeddings table holds vectors of {} bytes; one export holds one size (export the other encoder's rows apart)",
        sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
    )]
    VectorSizes { sizes: Vec<i64> },
    #[error("cannot write {}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        error: ParquetError,
    },
    #[error("cannot write {}", path.display())]
    Arrow {
        path: PathBuf,
        #[source]
        error: arrow_schema::ArrowError,
    },
    #[error("cannot write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot write into {}: it is not a folder", path.display())]
    NotAFolder { path: PathBuf },
}

/// What one table's export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub table: &'static str,
    pub file: String,
    pub rows: u64,
    pub row_groups: usize,
    pub bytes: u64,
}

/// The tables named (all of them when `names` is empty), in export order;
/// unknown names are refused.
pub fn select_tables(names: &[String]) -> Result<Vec<&'static Table>, ExportError> {
    for name in names {
        if !TABLES.iter().any(|t| t.name == name) {
            return Err(ExportError::UnknownTable {
                name: name.clone(),
                known: TABLES.iter().map(|t| t.name.to_string()).collect(),
            });
        }
    }
    Ok(TABLES
        .iter()
        .filter(|t| names.is_empty() || names.iter().any(|n| n == t.name))
        .collect())
}

/// The writer settings of every file.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(ZSTD_LEVEL).unwrap_or_default(),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

fn type_name(kind: Kind, dim: i32) -> String {
    match kind {
        Text => "string".into(),
        Int => "int64".into(),
        Real => "float64".into(),
        Vector => format!("fixed_size_list<float32, {dim}>"),
    }
}

fn sqlite_name(kind: Kind) -> &'static str {
    match kind {
        Text => "TEXT",
        Int => "INTEGER",
        Real => "REAL",
        Vector => "BLOB (little-endian float32)",
    }
}

/// The Arrow item field of an embedding vector.
pub fn vector_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Float32, false))
}

/// The Arrow schema of a table (`dim`: the embedding size).
pub fn arrow_schema(table: &Table, dim: i32) -> Arc<Schema> {
    let fields: Vec<Field> = table
        .columns
        .iter()
        .map(|col| {
            let t = match col.kind {
                Text => DataType::Utf8,
                Int => DataType::Int64,
                Real => DataType::Float64,
                Vector => DataType::FixedSizeList(vector_item(), dim),
            };
            Field::new(col.name, t, col.nullable)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// One column's values of the batch being built.
enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Real(Float64Builder),
    Vector(FixedSizeListBuilder<Float32Builder>, usize),
}

impl Builder {
    fn new(kind: Kind, dim: i32) -> Builder {
        match kind {
            Text => Builder::Text(StringBuilder::new()),
            Int => Builder::Int(Int64Builder::new()),
            Real => Builder::Real(Float64Builder::new()),
            Vector => Builder::Vector(
                FixedSizeListBuilder::new(Float32Builder::new(), dim).with_field(vector_item()),
                dim as usize,
            ),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Real(b) => Arc::new(b.finish()),
            Builder::Vector(b, _) => Arc::new(b.finish()),
        }
    }
}

fn found_name(v: &ValueRef) -> &'static str {
    match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

/// Appends one SQLite value; `None` when its type does not fit the column.
fn push(b: &mut Builder, v: ValueRef, nullable: bool) -> Option<()> {
    match (b, v) {
        (Builder::Text(b), ValueRef::Null) if nullable => b.append_null(),
        (Builder::Int(b), ValueRef::Null) if nullable => b.append_null(),
        (Builder::Real(b), ValueRef::Null) if nullable => b.append_null(),
        (Builder::Text(b), ValueRef::Text(t)) => b.append_value(std::str::from_utf8(t).ok()?),
        (Builder::Int(b), ValueRef::Integer(i)) => b.append_value(i),
        (Builder::Real(b), ValueRef::Real(x)) => b.append_value(x),
        (Builder::Real(b), ValueRef::Integer(i)) => b.append_value(i as f64),
        (Builder::Vector(b, dim), ValueRef::Blob(bytes)) if bytes.len() == 4 * *dim => {
            for chunk in bytes.chunks_exact(4) {
                b.values()
                    .append_value(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
            }
            b.append(true);
        }
        _ => return None,
    }
    Some(())
}

/// The size of the embeddings' vectors (in floats): one size, or none.
fn vector_dim(
    conn: &rusqlite::Connection,
    err: &dyn Fn(rusqlite::Error) -> StoreError,
) -> Result<i32, ExportError> {
    let mut stmt = conn
        .prepare("SELECT DISTINCT length(vector) FROM embeddings ORDER BY 1")
        .map_err(err)?;
    let sizes: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    match sizes.as_slice() {
        [] => Ok(EMPTY_VECTOR_DIM),
        [one] if one % 4 == 0 && *one > 0 && *one / 4 <= i32::MAX as i64 => Ok((*one / 4) as i32),
        _ => Err(ExportError::VectorSizes { sizes }),
    }
}

/// A file being written under a temporary name beside its final one.
struct Staged {
    temp: PathBuf,
    path: PathBuf,
}

fn stage(path: &Path) -> Result<(Staged, std::fs::File), ExportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let io = |error| ExportError::Io {
        path: path.to_path_buf(),
        error,
    };
    if path.is_dir() {
        return Err(io(std::io::Error::other(
            "it is a folder; stackmine does not replace it, move it away",
        )));
    }
    for k in 0..100 {
        let temp = path.with_file_name(format!(".{name}.stackmine-{}-{k}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => {
                return Ok((
                    Staged {
                        temp,
                        path: path.to_path_buf(),
                    },
                    file,
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e)),
        }
    }
    Err(io(std::io::Error::other("no free temporary name")))
}

/// Writes one table to `file`; returns (rows, row groups).
fn write_table(
    conn: &rusqlite::Connection,
    err: &dyn Fn(rusqlite::Error) -> StoreError,
    table: &'static Table,
    dim: i32,
    file: std::fs::File,
    path: &Path,
) -> Result<(u64, usize), ExportError> {
    let pq = |error| ExportError::Parquet {
        path: path.to_path_buf(),
        error,
    };
    let schema = arrow_schema(table, dim);
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), Some(writer_properties())).map_err(pq)?;
    let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        names.join(", "),
        table.name,
        table.key.join(", ")
    );
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    let new_builders = || -> Vec<Builder> {
        table
            .columns
            .iter()
            .map(|c| Builder::new(c.kind, dim))
            .collect()
    };
    let mut builders = new_builders();
    let mut in_batch = 0usize;
    let mut total = 0u64;
    let flush = |builders: &mut Vec<Builder>,
                 writer: &mut ArrowWriter<std::fs::File>|
     -> Result<(), ExportError> {
        let columns: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
        let batch =
            RecordBatch::try_new(schema.clone(), columns).map_err(|error| ExportError::Arrow {
                path: path.to_path_buf(),
                error,
            })?;
        writer.write(&batch).map_err(pq)?;
        if writer.in_progress_size() >= ROW_GROUP_BYTES {
            writer.flush().map_err(pq)?;
        }
        Ok(())
    };
    while let Some(r) = rows.next().map_err(err)? {
        for (i, col) in table.columns.iter().enumerate() {
            let v = r.get_ref(i).map_err(err)?;
            if push(&mut builders[i], v, col.nullable).is_none() {
                return Err(ExportError::Value {
                    table: table.name,
                    column: col.name,
                    row: total + 1,
                    found: match v {
                        ValueRef::Text(t) if std::str::from_utf8(t).is_err() => {
                            "text that is not UTF-8"
                        }
                        ValueRef::Blob(_) if col.kind == Vector => "a blob of another size",
                        _ => found_name(&v),
                    },
                    expected: sqlite_name(col.kind),
                });
            }
        }
        in_batch += 1;
        total += 1;
        if in_batch == BATCH_ROWS {
            flush(&mut builders, &mut writer)?;
            in_batch = 0;
        }
    }
    if in_batch > 0 {
        flush(&mut builders, &mut writer)?;
    }
    let meta = writer.close().map_err(pq)?;
    Ok((total, meta.num_row_groups()))
}

/// Exports `tables` of `store` into `out` (created when missing): each as
/// `OUT/<table>.parquet`, and `OUT/schema.json`. All files appear together,
/// or none does (existing files stay as they were).
pub fn export(
    store: &Store,
    out: &Path,
    tables: &[&'static Table],
) -> Result<Vec<Written>, ExportError> {
    if out.exists() && !out.is_dir() {
        return Err(ExportError::NotAFolder {
            path: out.to_path_buf(),
        });
    }
    std::fs::create_dir_all(out).map_err(|error| ExportError::Io {
        path: out.to_path_buf(),
        error,
    })?;
    let mut staged: Vec<Staged> = Vec::new();
    let result = export_staged(store, out, tables, &mut staged);
    let result = result.and_then(|written| {
        for s in &staged {
            std::fs::rename(&s.temp, &s.path).map_err(|error| ExportError::Io {
                path: s.path.clone(),
                error,
            })?;
        }
        Ok(written)
    });
    if result.is_err() {
        for s in &staged {
            let _ = std::fs::remove_file(&s.temp);
        }
    }
    result
}

fn export_staged(
    store: &Store,
    out: &Path,
    tables: &[&'static Table],
    staged: &mut Vec<Staged>,
) -> Result<Vec<Written>, ExportError> {
    store.with_snapshot(|conn, err| {
        let dim = vector_dim(conn, err)?;
        let mut written = Vec::new();
        for table in tables {
            let path = out.join(format!("{}.parquet", table.name));
            let (s, file) = stage(&path)?;
            let temp = s.temp.clone();
            staged.push(s);
            let sync = file.try_clone().map_err(|error| ExportError::Io {
                path: path.clone(),
                error,
            })?;
            let (rows, row_groups) = write_table(conn, err, table, dim, file, &path)?;
            sync.sync_all().map_err(|error| ExportError::Io {
                path: path.clone(),
                error,
            })?;
            let bytes = std::fs::metadata(&temp).map_or(0, |m| m.len());
            written.push(Written {
                table: table.name,
                file: format!("{}.parquet", table.name),
                rows,
                row_groups,
                bytes,
            });
        }
        let path = out.join("schema.json");
        let (s, mut file) = stage(&path)?;
        staged.push(s);
        let mut json =
            serde_json::to_vec_pretty(&schema_json(tables, &written, dim)).unwrap_or_default();
        json.push(b'\n');
        file.write_all(&json)
            .and_then(|_| file.sync_all())
            .map_err(|error| ExportError::Io { path, error })?;
        Ok(written)
    })
}

/// `schema.json`: the format, and per table its file, rows, key and columns
/// (name, Parquet/Arrow type, nullability, SQLite type).
pub fn schema_json(tables: &[&'static Table], written: &[Written], dim: i32) -> serde_json::Value {
    let tables: Vec<serde_json::Value> = tables
        .iter()
        .zip(written)
        .map(|(t, w)| {
            serde_json::json!({
                "name": t.name,
                "file": w.file,
                "rows": w.rows,
                "key": t.key,
                "columns": t.columns.iter().map(|c| serde_json::json!({
                    "name": c.name,
                    "type": type_name(c.kind, dim),
                    "nullable": c.nullable,
                    "sqlite": sqlite_name(c.kind),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "format": "stackmine-parquet",
        "store_schema_version": SCHEMA_VERSION,
        "compression": format!("zstd level {ZSTD_LEVEL}"),
        "row_group_rows": ROW_GROUP_ROWS,
        "row_group_bytes": ROW_GROUP_BYTES,
        "tables": tables,
    })
}
