//! `stackmine init DIR`: the entry point for starting a study. Writes
//! DIR/study.toml for the default deep learning study (frameworks and the
//! seven kinds of the codebook). Costs nothing; refuses to overwrite unless
//! `--force`.

use anyhow::Result;
use stackmine::pipeline::{self, PipelineError};
use stackmine::workspace::StudyDir;

use super::printer::Printer;
use crate::cli::InitArgs;

pub fn run(args: InitArgs, _: Printer) -> Result<()> {
    let path = pipeline::init(&StudyDir::new(&args.dir), args.force).map_err(user_error)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The library's error, with the option that overrides it.
pub fn user_error(err: PipelineError) -> anyhow::Error {
    match err {
        PipelineError::StudyExists { path } => {
            anyhow::anyhow!("{} exists; use --force to overwrite it", path.display())
        }
        other => other.into(),
    }
}
