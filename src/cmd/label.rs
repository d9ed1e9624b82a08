//! `stackmine label import|export|serve`: the entry point for label sets.
//! `import FILE.csv --set NAME` creates a set from a CSV in the shared
//! dl-questions.csv format (posts must be in the study); `export --set NAME`
//! writes one back (with a `site` column); `serve` runs the labeling web UI on
//! 127.0.0.1 (see `stackmine::serve`). Import and export hold the set in memory.

use anyhow::{Result, bail};
use stackmine::estimate::{Design, Population};
use stackmine::label;
use stackmine::workspace::{Access, StudyDir, Workspace};

use super::printer::Printer;
use crate::cli::{LabelArgs, LabelCommand, LabelExportArgs, LabelImportArgs, LabelServeArgs};

pub fn run(args: LabelArgs, _: Printer) -> Result<()> {
    match args.command {
        LabelCommand::Import(a) => import(a),
        LabelCommand::Export(a) => export(a),
        LabelCommand::Serve(a) => serve(a),
    }
}

fn import(args: LabelImportArgs) -> Result<()> {
    let Workspace {
        study, mut store, ..
    } = Workspace::open(&args.study.dir, Access::Existing)?;
    label::check_name("label set", &args.set).map_err(anyhow::Error::msg)?;
    if store.label_set_exists(&args.set)? && !args.replace {
        bail!(
            "label set {:?} exists; use --replace to replace it",
            args.set
        );
    }
    let categories = study.category_keys();
    let codes = study.root_cause_keys();
    let imported = label::read_csv_file(&args.file, &args.set, &categories, &codes, &store)?;
    let source = format!("import {}", args.file.display());
    let design = if args.random_sample {
        let frameworks = study.framework_keys();
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
    let store = StudyDir::new(&args.study.dir).open_store(Access::ReadOnly)?;
    let posts = label::gather(&store, &args.set)?;
    match &args.out {
        Some(path) => {
            let mut csv = Vec::new();
            label::write_csv(&posts, &mut csv)?;
            stackmine::report::output::write_file(path, csv)?;
        }
        None => label::write_csv(&posts, std::io::stdout().lock())?,
    }
    Ok(())
}

fn serve(args: LabelServeArgs) -> Result<()> {
    // Pages read on one connection while labels are written on another.
    let Workspace {
        dir,
        study,
        store: reader,
    } = Workspace::open(&args.study.dir, Access::Existing)?;
    let writer = dir.open_store(Access::Existing)?;
    let opts = stackmine::serve::Options {
        port: args.port,
        public: args.public,
        allow_hosts: args.allow_host,
    };
    Ok(stackmine::serve::run(reader, writer, study, opts)?)
}
