//! `classify --stdin`: questions in, categories out, as Arrow IPC streams,
//! with no study folder (Spark pipes each partition through it).
//!
//! The input is the exported `questions` table as it is (any stream with
//! string columns `site`, `title`, `body_text`, `code_text`, `tags` (a JSON
//! array) and an integer `id`; other columns are ignored). A hybrid model
//! uses a row's `embedding` (list of float32) when the row's `encoder`
//! column names the loaded encoder's cache key (its fingerprint, with
//! `-k2-int8` for int8 embeddings: one precision never reads the other's),
//! and, when the columns are
//! there, its `max_tokens` is the model's and its `text_hash` the hash of
//! the text (as the store's cache checks them); other rows are embedded.
//! Each input batch gives one output batch of `site, post_id, category,
//! confidence, model`, so memory is bounded by the batch size. Texts and
//! predictions go through the same functions as `classify`.

use std::io::{Read, Write};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, DataType, Field, Schema};

use crate::classify::encoder::{self, Encoder};
use crate::classify::features::Doc;
use crate::classify::model::Model;
use crate::classify::{classify_batch, fnv1a_hex};

/// Why a stream could not be classified.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read the Arrow IPC stream of questions")]
    Read(#[source] ArrowError),
    #[error("cannot write the Arrow IPC stream of classifications")]
    Write(#[source] ArrowError),
    #[error(
        "the input has no column {name:?} (it has: {}); give the exported questions table",
        found.join(", ")
    )]
    MissingColumn {
        name: &'static str,
        found: Vec<String>,
    },
    #[error("column {name:?} is of type {found}, expected {expected}")]
    ColumnType {
        name: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error("row {row} of the input has no {name} (null)")]
    Null { name: &'static str, row: u64 },
    #[error("the model reads sentence embeddings and none was loaded: give --encoder DIR")]
    NoEncoder,
}

/// What a stream held.
#[derive(Debug, Default, Clone, Copy)]
pub struct StreamSummary {
    pub questions: u64,
    /// Questions embedded here (the others had a usable `embedding`).
    pub embedded: u64,
    pub batches: u64,
}

/// The schema of the output stream.
pub fn output_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("site", DataType::Utf8, false),
        Field::new("post_id", DataType::Int64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("confidence", DataType::Float64, false),
        Field::new("model", DataType::Utf8, false),
    ]))
}

fn column<'a>(batch: &'a RecordBatch, name: &'static str) -> Result<&'a ArrayRef, StreamError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| StreamError::MissingColumn {
            name,
            found: batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        })
}

/// The strings of a column (utf8, large utf8 or utf8 view), `None` for nulls.
fn strings(a: &ArrayRef, name: &'static str) -> Result<Vec<Option<String>>, StreamError> {
    let n = a.len();
    let get = |i: usize| -> Option<String> {
        if a.is_null(i) {
            return None;
        }
        Some(match a.data_type() {
            DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
            DataType::LargeUtf8 => a.as_string::<i64>().value(i).to_string(),
            _ => a.as_string_view().value(i).to_string(),
        })
    };
    match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok((0..n).map(get).collect()),
        other => Err(StreamError::ColumnType {
            name,
            found: other.to_string(),
            expected: "string",
        }),
    }
}

fn ints(a: &ArrayRef, name: &'static str) -> Result<Vec<Option<i64>>, StreamError> {
    let n = a.len();
    match a.data_type() {
        DataType::Int64 => {
            let v = a.as_primitive::<Int64Type>();
            Ok((0..n)
                .map(|i| (!v.is_null(i)).then(|| v.value(i)))
                .collect())
        }
        DataType::Int32 => {
            let v = a.as_primitive::<Int32Type>();
            Ok((0..n)
                .map(|i| (!v.is_null(i)).then(|| i64::from(v.value(i))))
                .collect())
        }
        other => Err(StreamError::ColumnType {
            name,
            found: other.to_string(),
            expected: "int64",
        }),
    }
}

/// The embedding of each row (`None` when null), from a list, large list or
/// fixed-size list of float32.
fn vectors(a: &ArrayRef) -> Result<Vec<Option<Vec<f32>>>, StreamError> {
    let n = a.len();
    let wrong = || StreamError::ColumnType {
        name: "embedding",
        found: a.data_type().to_string(),
        expected: "a list of float32",
    };
    let values = |v: ArrayRef| -> Result<Vec<f32>, StreamError> {
        if v.data_type() != &DataType::Float32 || v.null_count() > 0 {
            return Err(wrong());
        }
        Ok(v.as_primitive::<Float32Type>().values().to_vec())
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if a.is_null(i) {
            out.push(None);
            continue;
        }
        let v = match a.data_type() {
            DataType::FixedSizeList(..) => a.as_fixed_size_list().value(i),
            DataType::List(_) => a.as_list::<i32>().value(i),
            DataType::LargeList(_) => a.as_list::<i64>().value(i),
            _ => return Err(wrong()),
        };
        out.push(Some(values(v)?));
    }
    Ok(out)
}

fn required<T>(
    v: Vec<Option<T>>,
    name: &'static str,
    first_row: u64,
) -> Result<Vec<T>, StreamError> {
    v.into_iter()
        .enumerate()
        .map(|(i, x)| {
            x.ok_or(StreamError::Null {
                name,
                row: first_row + i as u64 + 1,
            })
        })
        .collect()
}

/// Questions as (site, Id, text).
type Posts = Vec<(String, i64, Doc)>;

/// The questions of one input batch, with their usable embeddings (and
/// which rows have one).
fn read_batch(
    batch: &RecordBatch,
    first_row: u64,
    model: &Model,
    encoder: Option<&Encoder>,
) -> Result<(Posts, Vec<bool>), StreamError> {
    let site = required(strings(column(batch, "site")?, "site")?, "site", first_row)?;
    let id = required(ints(column(batch, "id")?, "id")?, "id", first_row)?;
    let title = strings(column(batch, "title")?, "title")?;
    let body = required(
        strings(column(batch, "body_text")?, "body_text")?,
        "body_text",
        first_row,
    )?;
    let code = required(
        strings(column(batch, "code_text")?, "code_text")?,
        "code_text",
        first_row,
    )?;
    let tags = required(strings(column(batch, "tags")?, "tags")?, "tags", first_row)?;
    let mut posts: Vec<(String, i64, Doc)> = Vec::with_capacity(batch.num_rows());
    for (((((site, id), title), body), code), tags) in site
        .into_iter()
        .zip(id)
        .zip(title)
        .zip(body)
        .zip(code)
        .zip(tags)
    {
        let doc = crate::store::stored_doc(title, body, code, &tags);
        posts.push((site, id, doc));
    }
    let mut have = vec![false; posts.len()];
    if let (Some(spec), Some(enc)) = (model.encoder(), encoder)
        && let (Some(emb), Some(fp)) = (
            batch.column_by_name("embedding"),
            batch.column_by_name("encoder"),
        )
    {
        let key = enc.cache_key();
        let emb = vectors(emb)?;
        let fp = strings(fp, "encoder")?;
        let max_tokens = match batch.column_by_name("max_tokens") {
            Some(a) => Some(ints(a, "max_tokens")?),
            None => None,
        };
        let hashes = match batch.column_by_name("text_hash") {
            Some(a) => Some(strings(a, "text_hash")?),
            None => None,
        };
        for (i, (e, f)) in emb.into_iter().zip(fp).enumerate() {
            let fits_tokens = max_tokens
                .as_ref()
                .is_none_or(|m| m[i] == Some(spec.max_tokens as i64));
            let fits_text = hashes.as_ref().is_none_or(|h| {
                h[i].as_deref()
                    == Some(fnv1a_hex(&[encoder::doc_text(&posts[i].2).as_bytes()]).as_str())
            });
            if let (Some(e), Some(f)) = (e, f)
                && f == key
                && e.len() == enc.dim()
                && fits_tokens
                && fits_text
            {
                posts[i].2.embedding = e;
                have[i] = true;
            }
        }
    }
    Ok((posts, have))
}

/// Classifies the Arrow IPC stream `input` with `model` (and its `encoder`
/// when it reads embeddings), writing the output stream to `output`.
pub fn classify_stream(
    model: &Model,
    encoder: Option<&Encoder>,
    input: impl Read,
    output: impl Write,
) -> Result<StreamSummary, StreamError> {
    use rayon::prelude::*;
    if model.encoder().is_some() && encoder.is_none() {
        return Err(StreamError::NoEncoder);
    }
    let reader = StreamReader::try_new(input, None).map_err(StreamError::Read)?;
    let schema = output_schema();
    let mut writer = StreamWriter::try_new(output, &schema).map_err(StreamError::Write)?;
    let mut summary = StreamSummary::default();
    for batch in reader {
        let batch = batch.map_err(StreamError::Read)?;
        let (mut posts, have) = read_batch(&batch, summary.questions, model, encoder)?;
        if let (Some(spec), Some(enc)) = (model.encoder(), encoder) {
            let missing: Vec<usize> = (0..posts.len()).filter(|&i| !have[i]).collect();
            let computed: Vec<Vec<f32>> = missing
                .par_iter()
                .map(|&i| enc.embed(&encoder::doc_text(&posts[i].2), spec.max_tokens))
                .collect();
            for (i, e) in missing.iter().zip(computed) {
                posts[*i].2.embedding = e;
            }
            summary.embedded += missing.len() as u64;
        }
        summary.questions += posts.len() as u64;
        summary.batches += 1;
        let rows = classify_batch(model, posts);
        let mut site = StringBuilder::new();
        let mut id = Int64Builder::new();
        let mut category = StringBuilder::new();
        let mut confidence = Float64Builder::new();
        let mut name = StringBuilder::new();
        for r in &rows {
            site.append_value(&r.post.site);
            id.append_value(r.post.id);
            category.append_value(&r.category);
            confidence.append_value(r.confidence);
            name.append_value(&model.name);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(site.finish()),
            Arc::new(id.finish()),
            Arc::new(category.finish()),
            Arc::new(confidence.finish()),
            Arc::new(name.finish()),
        ];
        let out = RecordBatch::try_new(schema.clone(), columns).map_err(StreamError::Write)?;
        writer.write(&out).map_err(StreamError::Write)?;
        writer.flush().map_err(StreamError::Write)?;
    }
    writer.finish().map_err(StreamError::Write)?;
    Ok(summary)
}
