//! Classifications made elsewhere (Spark's `classify`, or `classify
//! --stdin`) back into a study: `stackmine import-classifications`.
//!
//! Reads one Parquet file, or every `*.parquet` file under a folder (Spark's
//! part files, in name order; names starting with `.` or `_` are skipped),
//! with columns `site`, `post_id` (or `question_id`), `category`,
//! `confidence` and `model`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::errors::ParquetError;

use crate::PostKey;
use crate::classify::Classification;

/// Why classifications could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot read {} as Parquet", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        error: ParquetError,
    },
    #[error("cannot read {} as Parquet", path.display())]
    Arrow {
        path: PathBuf,
        #[source]
        error: arrow_schema::ArrowError,
    },
    #[error("{}: no .parquet file in it", path.display())]
    NoFiles { path: PathBuf },
    #[error("{}: no column {name:?} (it has: {})", path.display(), found.join(", "))]
    MissingColumn {
        path: PathBuf,
        name: &'static str,
        found: Vec<String>,
    },
    #[error("{}: column {name:?} is of type {found}, expected {expected}", path.display())]
    ColumnType {
        path: PathBuf,
        name: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error("{}: row {row} has no {name} (null)", path.display())]
    Null {
        path: PathBuf,
        name: &'static str,
        row: u64,
    },
    #[error("{}: row {row} has confidence {value}, it must be in [0, 1]", path.display())]
    Confidence { path: PathBuf, row: u64, value: f64 },
    #[error("the classifications come from several models ({}); import one model's at a time", models.join(", "))]
    Models { models: Vec<String> },
    #[error("no classifications to import")]
    Empty,
    #[error(
        "question {site}/{post_id} is classified twice; each question must have one classification"
    )]
    Duplicate { site: String, post_id: i64 },
    #[error(
        "question {site}/{post_id} is not in the study ({unknown} classified questions are not); import the classifications of this study's questions"
    )]
    UnknownPost {
        site: String,
        post_id: i64,
        unknown: usize,
    },
    #[error(
        "{missing} of the study's {total} questions have no classification (e.g. {site}/{post_id}); classify every question of the study (export it again if it changed)"
    )]
    MissingPosts {
        missing: usize,
        total: usize,
        site: String,
        post_id: i64,
    },
    #[error(
        "question {site}/{post_id} has category {category:?}, which is not one of the model's ({})",
        categories.join(", ")
    )]
    UnknownCategory {
        site: String,
        post_id: i64,
        category: String,
        categories: Vec<String>,
    },
}

/// The Parquet files at `path`: itself, or those under the folder.
pub fn parquet_files(path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    if !path.is_dir() {
        std::fs::metadata(path).map_err(|error| ImportError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|error| ImportError::Io {
            path: dir.clone(),
            error,
        })?;
        for e in entries {
            let e = e.map_err(|error| ImportError::Io {
                path: dir.clone(),
                error,
            })?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(ImportError::NoFiles {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn col<'a>(
    path: &Path,
    batch: &'a RecordBatch,
    names: &[&'static str],
) -> Result<(&'static str, &'a ArrayRef), ImportError> {
    for &name in names {
        if let Some(a) = batch.column_by_name(name) {
            return Ok((name, a));
        }
    }
    Err(ImportError::MissingColumn {
        path: path.to_path_buf(),
        name: names[0],
        found: batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    })
}

fn wrong(path: &Path, name: &'static str, a: &ArrayRef, expected: &'static str) -> ImportError {
    ImportError::ColumnType {
        path: path.to_path_buf(),
        name,
        found: a.data_type().to_string(),
        expected,
    }
}

fn string_at(a: &ArrayRef, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::LargeUtf8 => a.as_string::<i64>().value(i).to_string(),
        _ => a.as_string_view().value(i).to_string(),
    })
}

fn is_string(a: &ArrayRef) -> bool {
    matches!(
        a.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Reads every classification at `path`; returns them, and the model names
/// found, in first-seen order.
pub fn read_classifications(
    path: &Path,
) -> Result<(Vec<Classification>, Vec<String>), ImportError> {
    let mut rows: Vec<Classification> = Vec::new();
    let mut models: Vec<String> = Vec::new();
    for file in parquet_files(path)? {
        let pq = |error| ImportError::Parquet {
            path: file.clone(),
            error,
        };
        let f = std::fs::File::open(&file).map_err(|error| ImportError::Io {
            path: file.clone(),
            error,
        })?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(pq)?
            .with_batch_size(8192)
            .build()
            .map_err(pq)?;
        let mut row = 0u64;
        for batch in reader {
            let batch = batch.map_err(|error| ImportError::Arrow {
                path: file.clone(),
                error,
            })?;
            let (_, site) = col(&file, &batch, &["site"])?;
            let (id_name, id) = col(&file, &batch, &["post_id", "question_id"])?;
            let (_, category) = col(&file, &batch, &["category"])?;
            let (_, confidence) = col(&file, &batch, &["confidence"])?;
            let (_, model) = col(&file, &batch, &["model"])?;
            for (name, a) in [("site", site), ("category", category), ("model", model)] {
                if !is_string(a) {
                    return Err(wrong(&file, name, a, "string"));
                }
            }
            if !matches!(id.data_type(), DataType::Int64 | DataType::Int32) {
                return Err(wrong(&file, id_name, id, "int64"));
            }
            if !matches!(
                confidence.data_type(),
                DataType::Float64 | DataType::Float32
            ) {
                return Err(wrong(&file, "confidence", confidence, "float64"));
            }
            for i in 0..batch.num_rows() {
                row += 1;
                let null = |name| ImportError::Null {
                    path: file.clone(),
                    name,
                    row,
                };
                let s = string_at(site, i).ok_or_else(|| null("site"))?;
                let c = string_at(category, i).ok_or_else(|| null("category"))?;
                let m = string_at(model, i).ok_or_else(|| null("model"))?;
                if id.is_null(i) {
                    return Err(null(id_name));
                }
                let post = match id.data_type() {
                    DataType::Int64 => id.as_primitive::<Int64Type>().value(i),
                    _ => i64::from(id.as_primitive::<Int32Type>().value(i)),
                };
                if confidence.is_null(i) {
                    return Err(null("confidence"));
                }
                let p = match confidence.data_type() {
                    DataType::Float64 => confidence.as_primitive::<Float64Type>().value(i),
                    _ => f64::from(confidence.as_primitive::<Float32Type>().value(i)),
                };
                if !(0.0..=1.0).contains(&p) {
                    return Err(ImportError::Confidence {
                        path: file.clone(),
                        row,
                        value: p,
                    });
                }
                if !models.contains(&m) {
                    models.push(m);
                }
                rows.push(Classification {
                    post: PostKey::new(s, post),
                    category: c,
                    confidence: p,
                });
            }
        }
    }
    Ok((rows, models))
}

/// Checks classifications against a study: one model, each of the study's
/// questions classified exactly once, into one of `categories`. Sorts
/// `rows` by (site, Id).
pub fn check_classifications(
    rows: &mut [Classification],
    models: &[String],
    questions: &HashSet<PostKey>,
    categories: &[String],
) -> Result<(), ImportError> {
    if models.len() > 1 {
        return Err(ImportError::Models {
            models: models.to_vec(),
        });
    }
    if rows.is_empty() {
        return Err(ImportError::Empty);
    }
    rows.sort_by(|a, b| a.post.cmp(&b.post));
    for w in rows.windows(2) {
        if w[0].post == w[1].post {
            return Err(ImportError::Duplicate {
                site: w[0].post.site.clone(),
                post_id: w[0].post.id,
            });
        }
    }
    let unknown: Vec<&Classification> = rows
        .iter()
        .filter(|r| !questions.contains(&r.post))
        .collect();
    if let Some(first) = unknown.first() {
        return Err(ImportError::UnknownPost {
            site: first.post.site.clone(),
            post_id: first.post.id,
            unknown: unknown.len(),
        });
    }
    if let Some(r) = rows.iter().find(|r| !categories.contains(&r.category)) {
        return Err(ImportError::UnknownCategory {
            site: r.post.site.clone(),
            post_id: r.post.id,
            category: r.category.clone(),
            categories: categories.to_vec(),
        });
    }
    if rows.len() < questions.len() {
        let have: HashSet<&PostKey> = rows.iter().map(|r| &r.post).collect();
        let mut missing: Vec<&PostKey> = questions.iter().filter(|q| !have.contains(q)).collect();
        missing.sort();
        let first = missing[0];
        return Err(ImportError::MissingPosts {
            missing: missing.len(),
            total: questions.len(),
            site: first.site.clone(),
            post_id: first.id,
        });
    }
    Ok(())
}
