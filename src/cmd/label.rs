//! `stackmine label import|export|serve`: the entry point for label sets.
//! `import FILE.csv --set NAME` creates a set from a CSV in the shared
//! dl-questions.csv format (posts must be in the study); `export --set NAME`
//! writes one back (with a `site` column); `serve` runs the labeling web UI on
//! 127.0.0.1 (see `stackmine::serve`). Import and export hold the set in memory.

use std::io::Write;

use anyhow::{Context, Result, bail};
use stackmine::estimate::{Design, Population};
use stackmine::label;
use stackmine::store::{STORE_FILE, Store};
use stackmine::study::Study;

use crate::cli::{LabelArgs, LabelCommand, LabelExportArgs, LabelImportArgs, LabelServeArgs};

pub fn run(args: LabelArgs) -> Result<()> {
    match args.command {
        LabelCommand::Import(a) => import(a),
        LabelCommand::Export(a) => export(a),
        LabelCommand::Serve(a) => serve(a),
    }
}

fn import(args: LabelImportArgs) -> Result<()> {
    let dir = &args.study.study;
    let study = Study::load(dir)?;
    let mut store = Store::open_existing(&dir.join(STORE_FILE))?;
    if !label::valid_name(&args.set) {
        bail!("a label set name is 1–64 letters, digits, '_', '.' or '-'");
    }
    if store.label_set_exists(&args.set)? && !args.replace {
        bail!(
            "label set {:?} exists; use --replace to replace it",
            args.set
        );
    }
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let categories: Vec<String> = study.categories.iter().map(|c| c.key.clone()).collect();
    let imported = label::read_csv(&args.file, file, &args.set, &categories, &store)?;
    let source = format!("import {}", args.file.display());
    let design = if args.random_sample {
        let frameworks: Vec<String> = study
            .enabled_frameworks()
            .iter()
            .map(|f| f.key.clone())
            .collect();
        let population = match &args.population {
            Some(p) => Population::parse(p, &frameworks)?,
            None => Population::All,
        };
        Some(Design::random(population, None).to_json())
    } else if store.batch_exists(&args.set)? {
        None
    } else {
        Some(Design::convenience("imported without --random-sample").to_json())
    };
    store.import_label_set(
        &args.set,
        &source,
        &imported.labels,
        &imported.finals,
        args.replace,
        design.as_deref(),
    )?;
    println!(
        "label set {}: {} posts, {} final labels, {} annotator labels{}",
        args.set,
        imported.rows,
        imported.finals.len(),
        imported.labels.len(),
        if imported.annotators.is_empty() {
            String::new()
        } else {
            format!(" (annotators {})", imported.annotators.join(", "))
        }
    );
    Ok(())
}

fn export(args: LabelExportArgs) -> Result<()> {
    let dir = &args.study.study;
    let store = Store::open_existing(&dir.join(STORE_FILE))?;
    let posts = label::gather(&store, &args.set)?;
    match &args.out {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            label::write_csv(&posts, &mut file)?;
            file.flush()?;
        }
        None => label::write_csv(&posts, std::io::stdout().lock())?,
    }
    Ok(())
}

fn serve(args: LabelServeArgs) -> Result<()> {
    let dir = &args.study.study;
    let study = Study::load(dir)?;
    let store = Store::open_existing(&dir.join(STORE_FILE))?;
    Ok(stackmine::serve::run(store, study, args.port, args.public)?)
}
