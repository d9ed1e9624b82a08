//! `stackmine train --study DIR --labels SET --kind keyword|linear|hybrid`:
//! the entry point for training a question classifier. Uses each post's final
//! label (or the annotators' common one) and its text from the store; writes
//! the model as JSON to STUDY/models/NAME.json. A few hundred labels train in
//! well under a second; memory holds the set's texts and the model. A hybrid
//! model first embeds the labeled posts (about 13 s for 820 on two cores the
//! first time; cached in the store after that).

use anyhow::{Result, bail};
use stackmine::classify::linear::{LinearParams, Loss};
use stackmine::classify::model::{EncoderSpec, Validation};
use stackmine::classify::{self, Kind, TrainParams};
use stackmine::report::fmt::int;
use stackmine::study::Study;
use stackmine::workspace::{Access, Workspace};

use super::model::prepare_training;
use crate::cli::{LossArg, ModelArgs, TrainArgs};

pub fn run(args: TrainArgs, quiet: bool) -> Result<()> {
    let Workspace {
        dir, study, store, ..
    } = Workspace::open(&args.study.dir, Access::Existing)?;
    let mut set = classify::examples(&store, &args.labels)?;
    if set.examples.is_empty() {
        bail!(
            "label set {} has no resolved labels to train on",
            args.labels
        );
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| Kind::from(args.kind).name().to_string());
    stackmine::classify::model::check_model_name(&name)?;
    let mut p = params(args.kind.into(), &args.params);
    p.validate()?;
    if let Some(embedded) = prepare_training(&store, &mut p, &mut set.examples, quiet)? {
        eprintln!(
            "embedded {} posts with {} ({} were cached)",
            int(embedded as u64),
            p.encoder.name,
            int((set.examples.len() - embedded) as u64)
        );
    }
    let started = std::time::Instant::now();
    let mut model = classify::train(&set.examples, &study.categories, &p, &name, &args.labels)?;
    if args.validate {
        let e =
            classify::cross_validate(&set.examples, &study.categories, &p, &name, &args.labels)?;
        small_category_notes(&set.examples, &study);
        println!(
            "cross-validation ({}): macro F1 {:.3}, lenient accuracy {:.3}, accuracy {:.3}",
            e.protocol, e.macro_f1, e.lenient_accuracy, e.accuracy
        );
        model.validation = Some(Validation {
            protocol: e.protocol,
            items: e.items,
            accuracy: e.accuracy,
            lenient_accuracy: e.lenient_accuracy,
            macro_f1: e.macro_f1,
            confusion: e.confusion.matrix,
        });
    }
    let secs = started.elapsed().as_secs_f64();
    let path = args.out.clone().unwrap_or_else(|| dir.model_file(&name));
    model.save(&path)?;
    println!(
        "model {name} ({}): trained on {} posts of label set {} → {}",
        model.kind(),
        int(set.examples.len() as u64),
        args.labels,
        path.display()
    );
    if set.unresolved > 0 {
        println!(
            "  left out {} posts whose annotators disagree, not yet adjudicated",
            int(set.unresolved as u64)
        );
    }
    if set.missing > 0 {
        println!(
            "  left out {} labeled posts no longer in the study",
            int(set.missing as u64)
        );
    }
    eprintln!("trained in {secs:.2} s");
    Ok(())
}

/// Notes on stderr for categories with fewer posts than cross-validation's
/// folds: the folds that test their posts did not all see them.
pub fn small_category_notes(examples: &[stackmine::classify::eval::Example], study: &Study) {
    for (category, n) in classify::small_categories(examples, &study.categories, classify::FOLDS) {
        eprintln!(
            "note: category {category} has {n} labeled posts, fewer than the {} folds: folds that test its posts learn it from fewer (or no) examples",
            classify::FOLDS
        );
    }
}

/// Training settings from the command line.
pub fn params(kind: Kind, a: &ModelArgs) -> TrainParams {
    TrainParams {
        kind,
        alpha: a.alpha,
        linear: LinearParams {
            loss: match a.loss {
                LossArg::Logistic => Loss::Logistic,
                LossArg::SquaredHinge => Loss::SquaredHinge,
            },
            c: a.c,
            ..LinearParams::default()
        },
        encoder: EncoderSpec {
            max_tokens: a.max_tokens,
            weight: a.embedding_weight,
            ..TrainParams::default().encoder
        },
        stem: a.stem,
        ..TrainParams::default()
    }
}
