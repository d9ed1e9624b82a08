//! `stackmine init DIR`: the entry point for starting a study. Writes
//! DIR/study.toml for the default deep learning study (frameworks and the
//! seven kinds of the codebook). Costs nothing; refuses to overwrite unless
//! `--force`.

use std::path::Path;

use anyhow::{Result, bail};
use stackmine::study::{DEFAULT_STUDY_TOML, STUDY_FILE};

use crate::cli::InitArgs;

pub fn run(args: InitArgs) -> Result<()> {
    let path = write_default(&args.dir, args.force)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Writes the default study file into `dir`, creating the folder.
pub fn write_default(dir: &Path, force: bool) -> Result<std::path::PathBuf> {
    let path = dir.join(STUDY_FILE);
    if path.exists() && !force {
        bail!("{} exists; use --force to overwrite it", path.display());
    }
    stackmine::report::output::write_file(&path, DEFAULT_STUDY_TOML.as_bytes().to_vec())?;
    Ok(path)
}
