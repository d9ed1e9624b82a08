//! Choosing the model a stage uses and giving its posts embeddings: the
//! built-in hybrid model when the sentence encoder's files are present, the
//! built-in linear model (with the reason, for the caller to show) when they
//! are not, or a named model, whose encoder must then be present. Nothing
//! here prints: progress goes to a [`Progress`], notes come back as values.

use std::path::{Path, PathBuf};

use crate::classify::encoder::static_table::{self, StaticTable, TableError};
use crate::classify::encoder::{self, Encoder, EncoderError, Precision};
use crate::classify::eval::Example;
use crate::classify::model::{BadModelName, EncoderSpec, Model, ModelError, check_model_name};
use crate::classify::{self, Kind, TrainParams, features::Doc};
use crate::ingest::Progress;
use crate::store::{Store, StoreError};
use crate::workspace::StudyDir;

/// What a progress display is told when posts are embedded.
pub const EMBEDDING: &str = "embedding posts";

/// Which model a stage was told to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<'a> {
    /// None named: the built-in choice.
    BuiltIn,
    /// A model by name: one in the study's models/, or a built-in one.
    Name(&'a str),
    /// A model file, anywhere.
    File(&'a Path),
}

impl<'a> Choice<'a> {
    /// A file wins over a name; neither is the built-in choice.
    pub fn of(name: Option<&'a str>, file: Option<&'a Path>) -> Choice<'a> {
        match (name, file) {
            (_, Some(file)) => Choice::File(file),
            (Some(name), None) => Choice::Name(name),
            (None, None) => Choice::BuiltIn,
        }
    }
}

/// A model, and the encoder or static table it reads, if any.
pub struct Loaded {
    pub model: Model,
    pub encoder: Option<Encoder>,
    /// The static table a static model reads (then `encoder` is `None`).
    pub table: Option<StaticTable>,
    /// Why the built-in choice fell back to the linear model (the encoder
    /// did not load), for the caller to show as a note.
    pub fallback: Option<String>,
}

/// Why no encoder (or static table) could be used.
#[derive(Debug, thiserror::Error)]
pub enum EncoderLoadError {
    /// The files are not there (the message says how to get them).
    #[error("{0}")]
    Missing(String),
    #[error("cannot load the sentence encoder")]
    Encoder(#[source] EncoderError),
    #[error("cannot load the static table")]
    Table(#[source] TableError),
    #[error(
        "the encoder at {} has fingerprint {found}, the model was trained with {name} {expected}",
        dir.display()
    )]
    EncoderFingerprint {
        dir: PathBuf,
        found: String,
        name: String,
        expected: String,
    },
    #[error(
        "the encoder at {} gives embeddings of {found} values, the model reads {expected}",
        dir.display()
    )]
    EncoderDim {
        dir: PathBuf,
        found: usize,
        expected: usize,
    },
    #[error(
        "the static table at {} comes from the encoder with fingerprint {found}, the model was trained with {name} {expected} (rebuild it: stackmine encoder distill)",
        path.display()
    )]
    TableFingerprint {
        path: PathBuf,
        found: String,
        name: String,
        expected: String,
    },
    #[error(
        "the static table at {} gives embeddings of {found} values, the model reads {expected}",
        path.display()
    )]
    TableDim {
        path: PathBuf,
        found: usize,
        expected: usize,
    },
}

/// Why a model could not be chosen or used. The binary adds the names of
/// its options to [`SelectError::BadName`] and [`SelectError::NotFound`].
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    BadName(#[from] BadModelName),
    #[error("no model {name:?} in {} (train one: stackmine train --labels SET --name {name})", models.display())]
    NotFound { name: String, models: PathBuf },
    #[error("model {model} reads sentence embeddings")]
    ModelEncoder {
        model: String,
        #[source]
        source: Box<EncoderLoadError>,
    },
    #[error("model {model} reads embeddings from the static table")]
    ModelTable {
        model: String,
        #[source]
        source: Box<EncoderLoadError>,
    },
    #[error("a hybrid model needs the sentence encoder")]
    HybridNeedsEncoder(#[source] Box<EncoderLoadError>),
    #[error("a static model needs the static table")]
    StaticNeedsTable(#[source] Box<EncoderLoadError>),
    #[error(
        "the built-in hybrid model reads no encoder: rebuild it (scripts/build-default-model.sh)"
    )]
    HybridWithoutEncoder,
}

/// The model `choice` names: DIR/models/NAME.json, a built-in one, a file
/// given by path, or with no name (or "default" when the study has no model
/// of that name) the built-in choice: hybrid when the encoder is present,
/// else linear. The model's categories must be the study's (`categories`,
/// as a set). Encoders load in `precision`.
pub fn load_model(
    dir: &StudyDir,
    choice: Choice,
    categories: &[String],
    precision: Precision,
) -> Result<Loaded, SelectError> {
    let model = match choice {
        Choice::BuiltIn => return built_in(categories, precision),
        Choice::Name("default") if !dir.model_file("default").is_file() => {
            return built_in(categories, precision);
        }
        Choice::Name(name) => find_model(dir, name)?,
        Choice::File(path) => Model::load(path)?,
    };
    model.check_categories(categories)?;
    if let Some(spec) = model.encoder().filter(|_| model.static_table().is_some()) {
        let table = table_for(spec).map_err(|source| SelectError::ModelTable {
            model: model.name.clone(),
            source: Box::new(source),
        })?;
        return Ok(Loaded {
            model,
            encoder: None,
            table: Some(table),
            fallback: None,
        });
    }
    let encoder = match model.encoder() {
        None => None,
        Some(spec) => {
            Some(
                encoder_for(spec, precision).map_err(|source| SelectError::ModelEncoder {
                    model: model.name.clone(),
                    source: Box::new(source),
                })?,
            )
        }
    };
    Ok(Loaded {
        model,
        encoder,
        table: None,
        fallback: None,
    })
}

/// A model by name (never a path: see `check_model_name`), without its
/// encoder (the report reads a model's validation scores this way).
/// "default" names the built-in linear model, as classify records it,
/// unless the study has its own.
pub fn find_model(dir: &StudyDir, name: &str) -> Result<Model, SelectError> {
    check_model_name(name)?;
    let path = dir.model_file(name);
    if path.is_file() {
        return Ok(Model::load(&path)?);
    }
    Ok(match name {
        "default" | "default-linear" => Model::default_model()?,
        "default-hybrid" => Model::default_hybrid()?,
        "default-static" => Model::default_static()?,
        _ => {
            return Err(SelectError::NotFound {
                name: name.to_string(),
                models: dir.models_dir(),
            });
        }
    })
}

/// The built-in hybrid model if its encoder loads and is the one it was
/// trained with, else the built-in linear model, with the reason.
fn built_in(categories: &[String], precision: Precision) -> Result<Loaded, SelectError> {
    built_in_with(categories, |spec| encoder_for(spec, precision))
}

/// [`built_in`] with the encoder loaded by `load`.
fn built_in_with(
    categories: &[String],
    load: impl FnOnce(&EncoderSpec) -> Result<Encoder, EncoderLoadError>,
) -> Result<Loaded, SelectError> {
    let hybrid = Model::default_hybrid()?;
    hybrid.check_categories(categories)?;
    let Some(spec) = hybrid.encoder() else {
        return Err(SelectError::HybridWithoutEncoder);
    };
    match load(spec) {
        Ok(encoder) => Ok(Loaded {
            model: hybrid,
            encoder: Some(encoder),
            table: None,
            fallback: None,
        }),
        Err(why) => {
            let model = Model::default_model()?;
            model.check_categories(categories)?;
            Ok(Loaded {
                model,
                encoder: None,
                table: None,
                fallback: Some(error_chain(&why)),
            })
        }
    }
}

/// An error and its causes on one line, as `{:#}` shows them.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Loads the static table at `static_table::default_path()` and checks it
/// comes from the encoder `spec` names (its fingerprint) and has its size.
pub fn table_for(spec: &EncoderSpec) -> Result<StaticTable, EncoderLoadError> {
    let path = static_table::default_path();
    let table = StaticTable::load(&path).map_err(|e| match e {
        TableError::Missing { .. } => EncoderLoadError::Missing(e.to_string()),
        other => EncoderLoadError::Table(other),
    })?;
    if !spec.fingerprint.is_empty() && table.header.source != spec.fingerprint {
        return Err(EncoderLoadError::TableFingerprint {
            path,
            found: table.header.source.clone(),
            name: spec.name.clone(),
            expected: spec.fingerprint.clone(),
        });
    }
    if !spec.fingerprint.is_empty() && table.dim() != spec.dim {
        return Err(EncoderLoadError::TableDim {
            path,
            found: table.dim(),
            expected: spec.dim,
        });
    }
    Ok(table)
}

/// Loads the encoder at `encoder::default_dir()` in `precision` and checks
/// it is the one `spec` names (when `spec` comes from a trained model: its
/// fingerprint and embedding size).
pub fn encoder_for(spec: &EncoderSpec, precision: Precision) -> Result<Encoder, EncoderLoadError> {
    encoder_at(spec, &encoder::default_dir(), precision)
}

/// Loads the encoder in `dir` and checks it as [`encoder_for`] does.
pub fn encoder_at(
    spec: &EncoderSpec,
    dir: &Path,
    precision: Precision,
) -> Result<Encoder, EncoderLoadError> {
    let mut enc = Encoder::load(dir).map_err(|e| match e {
        EncoderError::Missing { .. } => EncoderLoadError::Missing(e.to_string()),
        other => EncoderLoadError::Encoder(other),
    })?;
    enc.set_precision(precision);
    if !spec.fingerprint.is_empty() && enc.fingerprint != spec.fingerprint {
        return Err(EncoderLoadError::EncoderFingerprint {
            dir: dir.to_path_buf(),
            found: enc.fingerprint.clone(),
            name: spec.name.clone(),
            expected: spec.fingerprint.clone(),
        });
    }
    if !spec.fingerprint.is_empty() && enc.dim() != spec.dim {
        return Err(EncoderLoadError::EncoderDim {
            dir: dir.to_path_buf(),
            found: enc.dim(),
            expected: spec.dim,
        });
    }
    Ok(enc)
}

impl Loaded {
    /// Gives labeled examples their embeddings if the model reads them;
    /// returns how many were computed rather than read from the cache.
    pub fn embed_examples(
        &self,
        store: &Store,
        examples: &mut [Example],
        progress: &dyn Progress,
    ) -> Result<usize, StoreError> {
        if let (Some(table), Some(spec)) = (&self.table, self.model.encoder()) {
            return Ok(embed_static(table, spec.max_tokens, examples));
        }
        match (&self.encoder, self.model.encoder()) {
            (Some(enc), Some(spec)) => {
                embed_examples(store, enc, spec.max_tokens, examples, progress)
            }
            _ => Ok(0),
        }
    }

    /// Gives posts their embeddings if the model reads them (`done` as in
    /// `classify::attach_embeddings`).
    pub fn attach(
        &self,
        store: &Store,
        posts: &mut [(&str, i64, &mut Doc)],
        done: &(dyn Fn(u64) + Sync),
    ) -> Result<usize, StoreError> {
        if let (Some(table), Some(spec)) = (&self.table, self.model.encoder()) {
            return Ok(attach_static(table, spec.max_tokens, posts, done));
        }
        match (&self.encoder, self.model.encoder()) {
            (Some(enc), Some(spec)) => {
                classify::attach_embeddings(store, enc, spec.max_tokens, posts, done)
            }
            _ => Ok(0),
        }
    }
}

/// Before training a new model of `p.kind`: for a hybrid one, loads the
/// encoder, records its fingerprint and size in `p.encoder`, and embeds the
/// examples (a static one: the same with the static table). Returns how
/// many were computed rather than read from the cache (`None` for other
/// kinds).
pub fn prepare_training(
    store: &Store,
    p: &mut TrainParams,
    examples: &mut [Example],
    precision: Precision,
    progress: &dyn Progress,
) -> Result<Option<usize>, SelectError> {
    if p.kind == Kind::Static {
        let table =
            table_for(&p.encoder).map_err(|e| SelectError::StaticNeedsTable(Box::new(e)))?;
        set_static_spec(p, &table);
        return Ok(Some(embed_static(&table, p.encoder.max_tokens, examples)));
    }
    if p.kind != Kind::Hybrid {
        return Ok(None);
    }
    let enc = encoder_for(&p.encoder, precision)
        .map_err(|e| SelectError::HybridNeedsEncoder(Box::new(e)))?;
    p.encoder.fingerprint = enc.fingerprint.clone();
    p.encoder.dim = enc.dim();
    p.encoder.precision = enc.precision;
    Ok(Some(embed_examples(
        store,
        &enc,
        p.encoder.max_tokens,
        examples,
        progress,
    )?))
}

/// Gives labeled examples their embeddings (cached in the store); returns
/// how many were computed rather than read from the cache.
fn embed_examples(
    store: &Store,
    enc: &Encoder,
    max_tokens: usize,
    examples: &mut [Example],
    progress: &dyn Progress,
) -> Result<usize, StoreError> {
    progress.begin(EMBEDDING, Some(examples.len() as u64));
    let mut posts: Vec<(&str, i64, &mut Doc)> = examples
        .iter_mut()
        .map(|e| (e.site.as_str(), e.post_id, &mut e.doc))
        .collect();
    let done = |k: u64| progress.advance(k);
    let n = classify::attach_embeddings(store, enc, max_tokens, &mut posts, &done);
    progress.end();
    n
}

/// Records the table a static model is trained with in its settings.
pub fn set_static_spec(p: &mut TrainParams, table: &StaticTable) {
    p.encoder.name = format!(
        "{} static table ({} dimensions, {})",
        table.header.encoder,
        table.dim(),
        table.header.weighting.name()
    );
    p.encoder.fingerprint = table.header.source.clone();
    p.encoder.dim = table.dim();
    p.table = Some(crate::classify::model::StaticSpec {
        weighting: table.header.weighting.name().to_string(),
        fingerprint: table.fingerprint.clone(),
    });
}

/// Gives labeled examples their static-table embeddings (on all cores; not
/// cached: computing one is faster than reading it). Returns how many.
fn embed_static(table: &StaticTable, max_tokens: usize, examples: &mut [Example]) -> usize {
    use rayon::prelude::*;
    examples.par_iter_mut().for_each(|e| {
        e.doc.embedding = table.embed(&encoder::doc_text(&e.doc), max_tokens);
    });
    examples.len()
}

/// Gives posts their static-table embeddings (on all cores; not cached).
pub fn attach_static(
    table: &StaticTable,
    max_tokens: usize,
    posts: &mut [(&str, i64, &mut Doc)],
    done: &(dyn Fn(u64) + Sync),
) -> usize {
    use rayon::prelude::*;
    posts.par_iter_mut().for_each(|(_, _, d)| {
        d.embedding = table.embed(&encoder::doc_text(d), max_tokens);
    });
    done(posts.len() as u64);
    posts.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categories() -> Vec<String> {
        Model::default_model().unwrap().categories
    }

    fn empty_study(tag: &str) -> StudyDir {
        let dir =
            std::env::temp_dir().join(format!("stackmine-select-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        StudyDir::new(dir)
    }

    #[test]
    fn a_file_wins_over_a_name() {
        let file = Path::new("m.json");
        assert_eq!(Choice::of(Some("x"), Some(file)), Choice::File(file));
        assert_eq!(Choice::of(Some("x"), None), Choice::Name("x"));
        assert_eq!(Choice::of(None, None), Choice::BuiltIn);
    }

    #[test]
    fn names_find_built_in_models_and_refuse_paths() {
        let dir = empty_study("names");
        assert_eq!(find_model(&dir, "default").unwrap().kind(), "linear");
        assert_eq!(find_model(&dir, "default-linear").unwrap().kind(), "linear");
        assert_eq!(find_model(&dir, "default-hybrid").unwrap().kind(), "hybrid");
        assert!(matches!(
            find_model(&dir, "../etc/x"),
            Err(SelectError::BadName(_))
        ));
        let err = find_model(&dir, "mine").err().unwrap();
        assert!(matches!(err, SelectError::NotFound { .. }));
        assert!(err.to_string().contains("no model \"mine\" in"), "{err}");
        assert!(!err.to_string().contains("--model-file"), "{err}");
        let _ = std::fs::remove_dir_all(dir.root());
    }

    #[test]
    fn a_missing_encoder_falls_back_to_the_linear_model_with_the_reason() {
        let missing = |_: &EncoderSpec| {
            Err(EncoderLoadError::Missing(
                "no sentence encoder at /nowhere".into(),
            ))
        };
        let loaded = built_in_with(&categories(), missing).unwrap();
        assert_eq!(loaded.model.kind(), "linear");
        assert_eq!(
            loaded.fallback.as_deref(),
            Some("no sentence encoder at /nowhere")
        );
        // A broken encoder: the reason keeps its cause, as `{:#}` shows it.
        let broken = |_: &EncoderSpec| {
            Err(EncoderLoadError::Encoder(EncoderError::Missing {
                dir: PathBuf::from("/x"),
            }))
        };
        let why = built_in_with(&categories(), broken)
            .unwrap()
            .fallback
            .unwrap();
        assert!(
            why.starts_with("cannot load the sentence encoder: no sentence encoder at /x"),
            "{why}"
        );
        // Where this machine has no encoder, the real choice falls back too.
        if encoder_for(
            Model::default_hybrid().unwrap().encoder().unwrap(),
            Precision::Fp32,
        )
        .is_ok()
        {
            return;
        }
        let dir = empty_study("fallback");
        for choice in [Choice::BuiltIn, Choice::Name("default")] {
            let loaded = load_model(&dir, choice, &categories(), Precision::Fp32).unwrap();
            assert_eq!(loaded.model.kind(), "linear");
            assert!(loaded.encoder.is_none() && loaded.table.is_none());
            let why = loaded.fallback.expect("the reason is returned");
            assert!(why.contains("sentence encoder"), "{why}");
        }
        // A named hybrid model does not fall back: its encoder must load.
        let err = load_model(
            &dir,
            Choice::Name("default-hybrid"),
            &categories(),
            Precision::Fp32,
        )
        .err()
        .unwrap();
        assert!(matches!(err, SelectError::ModelEncoder { .. }), "{err}");
        let _ = std::fs::remove_dir_all(dir.root());
    }

    #[test]
    fn the_built_in_choice_is_hybrid_when_the_encoder_loads() {
        let spec = Model::default_hybrid().unwrap().encoder().unwrap().clone();
        if encoder_for(&spec, Precision::Fp32).is_err() {
            return;
        }
        let dir = empty_study("hybrid");
        let loaded = load_model(&dir, Choice::BuiltIn, &categories(), Precision::Fp32).unwrap();
        assert_eq!(loaded.model.kind(), "hybrid");
        assert!(loaded.encoder.is_some() && loaded.fallback.is_none());
        let _ = std::fs::remove_dir_all(dir.root());
    }

    #[test]
    fn a_study_model_named_default_wins_over_the_built_in_choice() {
        let dir = empty_study("own-default");
        std::fs::create_dir_all(dir.models_dir()).unwrap();
        let mut own = Model::default_model().unwrap();
        own.name = "default".into();
        std::fs::write(dir.model_file("default"), serde_json::to_vec(&own).unwrap()).unwrap();
        let loaded = load_model(
            &dir,
            Choice::Name("default"),
            &categories(),
            Precision::Fp32,
        )
        .unwrap();
        assert_eq!(loaded.model.name, "default");
        assert!(loaded.fallback.is_none());
        let _ = std::fs::remove_dir_all(dir.root());
    }
}
