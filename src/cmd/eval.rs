//! `stackmine eval --study DIR --labels SET [--model NAME]`: the entry point
//! for scoring a classifier against labels; with `--kind K --protocol
//! study|cv5` it trains and tests new models on splits of the labels instead
//! (the study's stratified 60/40 split, or stratified 5-fold
//! cross-validation, seed 0). Reports strict and lenient accuracy, per-category
//! precision/recall/F1, macro and micro averages, per-source scores and the
//! confusion matrix; stores the result in the study for the report.

use anyhow::{Result, bail};
use stackmine::classify::eval::{self, Evaluation, Example};
use stackmine::classify::model::labels_hash;
use stackmine::classify::{self, TrainParams};
use stackmine::report;
use stackmine::study::Study;
use stackmine::workspace::{Access, Workspace};

use super::model::{Choice, load_model, prepare_training};
use super::printer::{Printer, Style};
use super::train::{params, small_category_notes};
use crate::cli::{EvalArgs, Protocol};

pub fn run(args: EvalArgs, printer: Printer) -> Result<()> {
    let dir = &args.study.dir;
    let Workspace { study, store, .. } = Workspace::open(dir, Access::Existing)?;
    let mut set = classify::examples(&store, &args.labels)?;
    if set.examples.is_empty() {
        bail!("label set {} has no resolved labels", args.labels);
    }
    let categories = study.category_keys();
    let result = match (args.kind, args.protocol) {
        (Some(kind), Some(protocol)) => {
            let mut p = params(kind.into(), &args.params);
            p.validate()?;
            classify::check_examples(&set.examples, &study.categories, None)?;
            prepare_training(&store, &mut p, &mut set.examples, printer.quiet())?;
            by_protocol(&set.examples, &study, &p, protocol, &args)?
        }
        _ => {
            classify::check_examples(&set.examples, &study.categories, None)?;
            let choice = Choice::of(args.model.as_deref(), args.model_file.as_deref());
            let loaded = load_model(dir, choice, &categories)?;
            loaded.embed_examples(&store, &mut set.examples, &printer.bar(Style::Count))?;
            let model = loaded.model;
            let refs: Vec<&Example> = set.examples.iter().collect();
            let predicted = classify::predict_all(&model, &refs);
            let mut e = eval::evaluate(
                &refs,
                &predicted,
                &categories,
                &model.name,
                &format!("applied to label set {}", args.labels),
            );
            if model.training.labels_hash == labels_hash(&set.examples) {
                e.warning = Some(format!(
                    "model {} was trained on these very labels: these are training-set scores, not an estimate of its quality; use --kind {} --protocol cv5",
                    model.name,
                    model.kind()
                ));
            }
            e
        }
    };
    store.save_eval(&args.labels, &result)?;
    let out = std::io::stdout().lock();
    if args.json {
        report::eval::render_json(&result, out)?;
    } else {
        report::eval::render_markdown(&result, out)?;
    }
    Ok(())
}

fn by_protocol(
    examples: &[Example],
    study: &Study,
    p: &TrainParams,
    protocol: Protocol,
    args: &EvalArgs,
) -> Result<Evaluation> {
    let name = p.kind.name();
    Ok(match protocol {
        Protocol::Study => {
            classify::study_split(examples, &study.categories, p, name, &args.labels)?
        }
        Protocol::Cv5 => {
            let e = classify::cross_validate(examples, &study.categories, p, name, &args.labels)?;
            small_category_notes(examples, study);
            e
        }
    })
}
