//! Choosing the model a command uses and giving its posts embeddings: the
//! built-in hybrid model when the sentence encoder's files are present, the
//! built-in linear model (with a note on stderr) when they are not, or a named
//! model, whose encoder must then be present.

use std::path::Path;

use anyhow::{Context, Result, bail};
use stackmine::classify::encoder::static_table::{self, StaticTable};
use stackmine::classify::encoder::{self, Encoder, EncoderError};
use stackmine::classify::eval::Example;
use stackmine::classify::model::{EncoderSpec, MODEL_NAME_RULE, Model, valid_model_name};
use stackmine::classify::{self, Kind, TrainParams, features::Doc};
use stackmine::store::Store;

/// A model, and the encoder if it reads one.
pub struct Loaded {
    pub model: Model,
    pub encoder: Option<Encoder>,
    /// The static table a static model reads (then `encoder` is `None`).
    pub table: Option<StaticTable>,
}

/// Which model a command was told to use.
#[derive(Debug, Clone, Copy)]
pub enum Choice<'a> {
    /// None named: the built-in choice.
    BuiltIn,
    /// `--model NAME`.
    Name(&'a str),
    /// `--model-file PATH`.
    File(&'a Path),
}

impl<'a> Choice<'a> {
    pub fn of(name: Option<&'a str>, file: Option<&'a Path>) -> Choice<'a> {
        match (name, file) {
            (_, Some(file)) => Choice::File(file),
            (Some(name), None) => Choice::Name(name),
            (None, None) => Choice::BuiltIn,
        }
    }
}

/// The model a command names: STUDY/models/NAME.json, a built-in one
/// (`default-hybrid`, `default-linear`), a file given by path, or with no
/// name (or "default" when the study has no model of that name) the
/// built-in choice: hybrid when the encoder is present, else linear. The
/// model's categories must be the study's (`categories`, as a set).
pub fn load_model(dir: &Path, choice: Choice, categories: &[String]) -> Result<Loaded> {
    let model = match choice {
        Choice::BuiltIn => return built_in(categories),
        Choice::Name("default") if !in_study(dir, "default").is_file() => {
            return built_in(categories);
        }
        Choice::Name(name) => find_model(dir, name)?,
        Choice::File(path) => Model::load(path)?,
    };
    model.check_categories(categories)?;
    if let Some(spec) = model.encoder().filter(|_| model.static_table().is_some()) {
        let table = table_for(spec).with_context(|| {
            format!(
                "model {} reads embeddings from the static table",
                model.name
            )
        })?;
        return Ok(Loaded {
            model,
            encoder: None,
            table: Some(table),
        });
    }
    let encoder = match model.encoder() {
        None => None,
        Some(spec) => Some(
            encoder_for(spec)
                .with_context(|| format!("model {} reads sentence embeddings", model.name))?,
        ),
    };
    Ok(Loaded {
        model,
        encoder,
        table: None,
    })
}

/// Loads the static table at `static_table::default_path()` and checks it
/// comes from the encoder `spec` names (its fingerprint) and has its size.
pub fn table_for(spec: &EncoderSpec) -> Result<StaticTable> {
    let path = static_table::default_path();
    let table = StaticTable::load(&path).map_err(|e| match e {
        static_table::TableError::Missing { .. } => anyhow::anyhow!("{e}"),
        other => anyhow::Error::new(other).context("cannot load the static table"),
    })?;
    if !spec.fingerprint.is_empty() && table.header.source != spec.fingerprint {
        bail!(
            "the static table at {} comes from the encoder with fingerprint {}, the model was trained with {} {} (rebuild it: stackmine encoder distill)",
            path.display(),
            table.header.source,
            spec.name,
            spec.fingerprint
        );
    }
    if !spec.fingerprint.is_empty() && table.dim() != spec.dim {
        bail!(
            "the static table at {} gives embeddings of {} values, the model reads {}",
            path.display(),
            table.dim(),
            spec.dim
        );
    }
    Ok(table)
}

fn in_study(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join("models").join(format!("{name}.json"))
}

/// A model by name (never a path: see `valid_model_name`), without its
/// encoder (the report reads a model's validation scores this way).
/// "default" names the built-in linear model, as classify records it,
/// unless the study has its own.
pub fn find_model(dir: &Path, name: &str) -> Result<Model> {
    if !valid_model_name(name) {
        bail!(
            "{name:?} is not a model name ({MODEL_NAME_RULE}); a model file elsewhere is given with --model-file PATH"
        );
    }
    let path = in_study(dir, name);
    if path.is_file() {
        return Ok(Model::load(&path)?);
    }
    match name {
        "default" | "default-linear" => Ok(Model::default_model()?),
        "default-hybrid" => Ok(Model::default_hybrid()?),
        "default-static" => Ok(Model::default_static()?),
        _ => {
            let hint = if name.ends_with(".json") {
                "; a model file is given with --model-file PATH"
            } else {
                ""
            };
            bail!(
                "no model {name:?} in {} (train one: stackmine train --labels SET --name {name}){hint}",
                dir.join("models").display()
            )
        }
    }
}

/// The built-in hybrid model if its encoder loads and is the one it was
/// trained with, else the built-in linear model, saying why on stderr.
fn built_in(categories: &[String]) -> Result<Loaded> {
    let hybrid = Model::default_hybrid()?;
    hybrid.check_categories(categories)?;
    let Some(spec) = hybrid.encoder() else {
        bail!(
            "the built-in hybrid model reads no encoder: rebuild it (scripts/build-default-model.sh)"
        );
    };
    match encoder_for(spec) {
        Ok(encoder) => Ok(Loaded {
            model: hybrid,
            encoder: Some(encoder),
            table: None,
        }),
        Err(why) => {
            eprintln!("note: using the built-in linear model: {why:#}");
            let model = Model::default_model()?;
            model.check_categories(categories)?;
            Ok(Loaded {
                model,
                encoder: None,
                table: None,
            })
        }
    }
}

/// The encoder's precision for this process (`--precision`, set once by
/// `cmd::run` before any command runs).
static PRECISION: std::sync::OnceLock<encoder::Precision> = std::sync::OnceLock::new();

pub fn set_precision(p: encoder::Precision) {
    let _ = PRECISION.set(p);
}

fn precision() -> encoder::Precision {
    PRECISION.get().copied().unwrap_or_default()
}

/// Loads the encoder at `encoder::default_dir()` (in the process's
/// precision, see [`set_precision`]) and checks it is the one
/// `spec` names (when `spec` comes from a trained model: its fingerprint and
/// embedding size).
pub fn encoder_for(spec: &EncoderSpec) -> Result<Encoder> {
    encoder_at(spec, &encoder::default_dir())
}

/// Loads the encoder in `dir` and checks it as [`encoder_for`] does.
pub fn encoder_at(spec: &EncoderSpec, dir: &Path) -> Result<Encoder> {
    let mut enc = Encoder::load(dir).map_err(|e| match e {
        EncoderError::Missing { .. } => anyhow::anyhow!("{e}"),
        other => anyhow::Error::new(other).context("cannot load the sentence encoder"),
    })?;
    enc.set_precision(precision());
    if !spec.fingerprint.is_empty() && enc.fingerprint != spec.fingerprint {
        bail!(
            "the encoder at {} has fingerprint {}, the model was trained with {} {}",
            dir.display(),
            enc.fingerprint,
            spec.name,
            spec.fingerprint
        );
    }
    if !spec.fingerprint.is_empty() && enc.dim() != spec.dim {
        bail!(
            "the encoder at {} gives embeddings of {} values, the model reads {}",
            dir.display(),
            enc.dim(),
            spec.dim
        );
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
        quiet: bool,
    ) -> Result<usize> {
        if let (Some(table), Some(spec)) = (&self.table, self.model.encoder()) {
            return Ok(embed_static(table, spec.max_tokens, examples));
        }
        match (&self.encoder, self.model.encoder()) {
            (Some(enc), Some(spec)) => embed_examples(store, enc, spec.max_tokens, examples, quiet),
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
    ) -> Result<usize, stackmine::store::StoreError> {
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
/// examples. Returns how many were computed rather than read from the cache
/// (`None` for other kinds).
pub fn prepare_training(
    store: &Store,
    p: &mut TrainParams,
    examples: &mut [Example],
    quiet: bool,
) -> Result<Option<usize>> {
    if p.kind == Kind::Static {
        let table = table_for(&p.encoder).context("a static model needs the static table")?;
        set_static_spec(p, &table);
        return Ok(Some(embed_static(&table, p.encoder.max_tokens, examples)));
    }
    if p.kind != Kind::Hybrid {
        return Ok(None);
    }
    let enc = encoder_for(&p.encoder).context("a hybrid model needs the sentence encoder")?;
    p.encoder.fingerprint = enc.fingerprint.clone();
    p.encoder.dim = enc.dim();
    p.encoder.precision = enc.precision;
    embed_examples(store, &enc, p.encoder.max_tokens, examples, quiet).map(Some)
}

/// A progress bar on stderr for embedding `len` posts (hidden with --quiet
/// or when stderr is not a terminal).
pub fn embedding_bar(quiet: bool, len: u64) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "embedding posts [{bar:30}] {pos}/{len} {per_sec} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Gives labeled examples their embeddings (cached in the store); returns
/// how many were computed rather than read from the cache.
fn embed_examples(
    store: &Store,
    enc: &Encoder,
    max_tokens: usize,
    examples: &mut [Example],
    quiet: bool,
) -> Result<usize> {
    let bar = embedding_bar(quiet, examples.len() as u64);
    let mut posts: Vec<(&str, i64, &mut Doc)> = examples
        .iter_mut()
        .map(|e| (e.site.as_str(), e.post_id, &mut e.doc))
        .collect();
    let done = |k: u64| bar.inc(k);
    let n = classify::attach_embeddings(store, enc, max_tokens, &mut posts, &done)?;
    bar.finish_and_clear();
    Ok(n)
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
    p.table = Some(stackmine::classify::model::StaticSpec {
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
