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
use stackmine::classify::{self, Kind};
use stackmine::report;
use stackmine::store::{STORE_FILE, Store};
use stackmine::study::Study;

use super::train::{load_model, params};
use crate::cli::{EvalArgs, Protocol};

pub fn run(args: EvalArgs) -> Result<()> {
    let dir = &args.study.study;
    let study = Study::load(dir)?;
    let store = Store::open_existing(&dir.join(STORE_FILE))?;
    let set = classify::examples(&store, &args.labels)?;
    if set.examples.is_empty() {
        bail!("label set {} has no resolved labels", args.labels);
    }
    let categories: Vec<String> = study.categories.iter().map(|c| c.key.clone()).collect();
    let result = match (args.kind, args.protocol) {
        (Some(kind), Some(protocol)) => by_protocol(&set.examples, &study, kind, protocol, &args),
        _ => {
            let model = load_model(dir, args.model.as_deref())?;
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
    store.save_result(
        &format!("eval:{}", args.labels),
        &serde_json::to_string(&result)?,
    )?;
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
    kind: Kind,
    protocol: Protocol,
    args: &EvalArgs,
) -> Evaluation {
    let categories: Vec<String> = study.categories.iter().map(|c| c.key.clone()).collect();
    let p = params(kind, &args.params);
    let name = format!("{kind:?}").to_lowercase();
    let fit =
        |train: Vec<Example>| classify::train(&train, &study.categories, &p, &name, &args.labels);
    match protocol {
        Protocol::Study => {
            let is_train = eval::stratified_split(examples, 0.6, 0);
            let train: Vec<Example> = examples
                .iter()
                .zip(&is_train)
                .filter(|(_, t)| **t)
                .map(|(e, _)| e.clone())
                .collect();
            let test: Vec<&Example> = examples
                .iter()
                .zip(&is_train)
                .filter(|(_, t)| !**t)
                .map(|(e, _)| e)
                .collect();
            let model = fit(train);
            let predicted = classify::predict_all(&model, &test);
            eval::evaluate(
                &test,
                &predicted,
                &categories,
                &name,
                "study: stratified 60/40 split, seed 0",
            )
        }
        Protocol::Cv5 => {
            let folds = eval::stratified_folds(examples, 5, 0);
            let mut predicted = vec![String::new(); examples.len()];
            for f in 0..5 {
                let train: Vec<Example> = examples
                    .iter()
                    .zip(&folds)
                    .filter(|(_, k)| **k != f)
                    .map(|(e, _)| e.clone())
                    .collect();
                let test_idx: Vec<usize> = (0..examples.len()).filter(|&i| folds[i] == f).collect();
                let test: Vec<&Example> = test_idx.iter().map(|&i| &examples[i]).collect();
                let model = fit(train);
                for (i, p) in test_idx.iter().zip(classify::predict_all(&model, &test)) {
                    predicted[*i] = p;
                }
            }
            let refs: Vec<&Example> = examples.iter().collect();
            eval::evaluate(
                &refs,
                &predicted,
                &categories,
                &name,
                "cv5: stratified 5-fold cross-validation, seed 0",
            )
        }
    }
}
