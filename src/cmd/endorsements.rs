//! `stackmine endorsements --study DIR [--check FILE.csv] [--json]`: the
//! entry point for the answers askers endorsed in a comment. Prints them
//! (rebuilding the stored table first when study.toml's lists or the
//! comments changed, or computing them in memory on a read-only study);
//! with `--check`, measures the detector on a hand-checked set. Cost: one
//! join over the comments and a phrase scan of the askers' comments.

use anyhow::{Context, Result};
use stackmine::endorse::{self, Matcher};
use stackmine::report::endorse as render;
use stackmine::workspace::{Access, Workspace};

use super::printer::Printer;
use crate::cli::EndorsementsArgs;

pub fn run(args: EndorsementsArgs, _: Printer) -> Result<()> {
    // A writable study stores a rebuilt table; a read-only one is only read.
    let Workspace {
        study, mut store, ..
    } = Workspace::open(&args.study.dir, Access::WritableIfPossible)?;
    let (found, source) = endorse::current(&mut store, &study)?;
    let check = match &args.check {
        Some(path) => {
            let checked = endorse::read_check(path)?;
            let comments = store.asker_comments()?;
            Some(endorse::check(
                &comments,
                &Matcher::new(&study.endorsements),
                &checked,
            ))
        }
        None => None,
    };
    let out = std::io::stdout().lock();
    if args.json {
        render::json(&found, &source, check.as_ref(), out)
    } else {
        render::text(&found, &source, check.as_ref(), args.check.as_deref(), out)
    }
    .context("cannot write the endorsements to stdout")?;
    Ok(())
}
