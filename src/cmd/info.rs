//! `stackmine info --study DIR [--json]`: the entry point for seeing what a
//! study holds: its sites with their dumps, counts and date ranges, and the
//! latest ingests. Cheap: a few aggregate queries.

use anyhow::Result;
use stackmine::report::info::{self, Info};
use stackmine::store::{SCHEMA_VERSION, STORE_FILE};
use stackmine::workspace::{Access, Workspace};

use super::printer::Printer;
use crate::cli::InfoArgs;

pub fn run(args: InfoArgs, _: Printer) -> Result<()> {
    let Workspace { study, store, .. } = Workspace::open(&args.study.dir, Access::ReadOnly)?;
    let info = Info {
        study: study.meta.name.clone(),
        store: STORE_FILE.to_string(),
        schema_version: SCHEMA_VERSION,
        sites: store.sites()?,
        batches: store.batches()?,
        label_sets: store.label_sets()?,
        recent_ingests: store.ingest_log(10)?,
    };
    let out = std::io::stdout().lock();
    if args.json {
        info::render_json(&info, out)?;
    } else {
        info::render_text(&info, out)?;
    }
    Ok(())
}
