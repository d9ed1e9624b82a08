//! The binary's side of choosing a model (the policy is
//! `stackmine::classify::select`): the process's `--precision`, the note when
//! the built-in choice falls back to the linear model, progress on the
//! [`Printer`], and the option names the library's messages leave out.

use std::path::Path;

use anyhow::{Result, anyhow};
use stackmine::classify::TrainParams;
use stackmine::classify::encoder::{Encoder, Precision};
use stackmine::classify::eval::Example;
use stackmine::classify::model::{EncoderSpec, Model};
use stackmine::classify::select::{self, SelectError};
use stackmine::store::Store;
use stackmine::workspace::StudyDir;

pub use stackmine::classify::select::{Choice, Loaded, attach_static};

use super::printer::{Printer, Style};

/// The encoder's precision for this process (`--precision`, set once by
/// `cmd::run` before any command runs).
static PRECISION: std::sync::OnceLock<Precision> = std::sync::OnceLock::new();

pub fn set_precision(p: Precision) {
    let _ = PRECISION.set(p);
}

pub fn precision() -> Precision {
    PRECISION.get().copied().unwrap_or_default()
}

/// The library's error, with the options a user types to fix it.
pub fn user_error(err: SelectError) -> anyhow::Error {
    match err {
        SelectError::BadName(e) => {
            anyhow!("{e}; a model file elsewhere is given with --model-file PATH")
        }
        SelectError::NotFound { name, models } => {
            let hint = if name.ends_with(".json") {
                "; a model file is given with --model-file PATH"
            } else {
                ""
            };
            anyhow!(
                "no model {name:?} in {} (train one: stackmine train --labels SET --name {name}){hint}",
                models.display()
            )
        }
        other => other.into(),
    }
}

/// The model `choice` names for the study at `dir` (see
/// `select::load_model`); says on stderr when the built-in choice falls
/// back to the linear model.
pub fn load_model(dir: &Path, choice: Choice, categories: &[String]) -> Result<Loaded> {
    let loaded = select::load_model(&StudyDir::new(dir), choice, categories, precision())
        .map_err(user_error)?;
    show_fallback(&loaded, Printer::new(false));
    Ok(loaded)
}

/// The note for a built-in choice that fell back to the linear model.
pub fn show_fallback(loaded: &Loaded, printer: Printer) {
    if let Some(why) = &loaded.fallback {
        printer.note(format_args!("using the built-in linear model: {why}"));
    }
}

/// A model by name, without its encoder (see `select::find_model`).
pub fn find_model(dir: &Path, name: &str) -> Result<Model> {
    select::find_model(&StudyDir::new(dir), name).map_err(user_error)
}

/// The static table a model's `spec` names (see `select::table_for`).
pub fn table_for(
    spec: &EncoderSpec,
) -> Result<stackmine::classify::encoder::static_table::StaticTable> {
    Ok(select::table_for(spec)?)
}

/// The encoder a model's `spec` names, in the process's precision.
pub fn encoder_for(spec: &EncoderSpec) -> Result<Encoder> {
    Ok(select::encoder_for(spec, precision())?)
}

/// The encoder in `dir`, checked against `spec`, in the process's precision.
pub fn encoder_at(spec: &EncoderSpec, dir: &Path) -> Result<Encoder> {
    Ok(select::encoder_at(spec, dir, precision())?)
}

/// Before training a new model (see `select::prepare_training`), with the
/// embedding progress on stderr unless `quiet`.
pub fn prepare_training(
    store: &Store,
    p: &mut TrainParams,
    examples: &mut [Example],
    quiet: bool,
) -> Result<Option<usize>> {
    let bar = Printer::new(quiet).bar(Style::Count);
    Ok(select::prepare_training(
        store,
        p,
        examples,
        precision(),
        &bar,
    )?)
}
