//! `stackmine export --study DIR --out DIR [--tables ...]`: the store as
//! Parquet (see `stackmine::export`); `stackmine import-classifications
//! FILE|DIR --study DIR`: classifications made elsewhere, back in; and the
//! `classify --stdin` stream.

use anyhow::{Context, Result, bail};
use stackmine::classify::model::Model;
use stackmine::report::fmt::int;
use stackmine::workspace::{Access, StudyDir, Workspace};

use super::model::{encoder_at, find_model};
use super::printer::Printer;
use crate::cli::{ClassifyArgs, ExportArgs, ImportClassificationsArgs};

pub fn run(args: ExportArgs, p: Printer) -> Result<()> {
    let tables = stackmine::export::select_tables(&args.tables)?;
    let store = StudyDir::new(&args.study.dir).open_store(Access::ReadOnly)?;
    let started = std::time::Instant::now();
    let written = stackmine::export::export(&store, &args.out, &tables)?;
    let secs = started.elapsed().as_secs_f64();
    println!("| table | rows | row groups | bytes |\n|---|--:|--:|--:|");
    let mut bytes = 0;
    for w in &written {
        println!(
            "| {} | {} | {} | {} |",
            w.table,
            int(w.rows),
            w.row_groups,
            int(w.bytes)
        );
        bytes += w.bytes;
    }
    println!(
        "\nwrote {} tables and schema.json to {}",
        written.len(),
        args.out.display()
    );
    p.info(format_args!(
        "exported in {secs:.2} s ({:.1} MB of Parquet/s)",
        bytes as f64 / 1e6 / secs.max(1e-9)
    ));
    Ok(())
}

pub fn import(args: ImportClassificationsArgs, _: Printer) -> Result<()> {
    let dir = &args.study.dir;
    let mut ws = Workspace::open(dir, Access::Existing)?;
    let keys = ws.category_keys();
    let store = &mut ws.store;
    let (mut rows, models) = stackmine::export::import::read_classifications(&args.input)?;
    let name = models.first().cloned().unwrap_or_default();
    if models.len() == 1 {
        let model = match &args.model_file {
            Some(path) => {
                let m = Model::load(path)?;
                if m.name != name {
                    bail!(
                        "{} is model {:?}, the classifications are of model {name:?}",
                        path.display(),
                        m.name
                    );
                }
                m
            }
            None => find_model(dir, &name).with_context(|| {
                format!(
                    "the classifications are of model {name:?}; give its file with --model-file"
                )
            })?,
        };
        model.check_categories(&keys)?;
    }
    let questions = store.question_keys()?;
    stackmine::export::import::check_classifications(&mut rows, &models, &questions, &keys)?;
    store.replace_classifications(&name, &rows)?;
    println!(
        "imported {} classifications of model {name} into {}",
        int(rows.len() as u64),
        dir.display()
    );
    Ok(())
}

/// `classify --stdin`: Arrow IPC in, Arrow IPC out.
pub fn classify_stdin(args: &ClassifyArgs, p: Printer) -> Result<()> {
    let model = match (&args.model_file, args.model.as_deref()) {
        (Some(path), _) => Model::load(path)?,
        (None, Some("default" | "default-linear")) => Model::default_model()?,
        (None, Some("default-hybrid")) => Model::default_hybrid()?,
        _ => bail!(
            "classify --stdin reads no study: give --model-file FILE (or --model default-linear / default-hybrid)"
        ),
    };
    let encoder = match model.encoder() {
        None => None,
        Some(spec) => {
            let dir = args
                .encoder
                .clone()
                .unwrap_or_else(stackmine::classify::encoder::default_dir);
            Some(
                encoder_at(spec, &dir)
                    .with_context(|| format!("model {} reads sentence embeddings", model.name))?,
            )
        }
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let started = std::time::Instant::now();
    let summary =
        stackmine::export::stream::classify_stream(&model, encoder.as_ref(), stdin, stdout)?;
    p.info(format_args!(
        "classified {} questions with model {} in {:.2} s ({} embedded)",
        int(summary.questions),
        model.name,
        started.elapsed().as_secs_f64(),
        int(summary.embedded)
    ));
    Ok(())
}
