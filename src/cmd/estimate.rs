//! `stackmine estimate --study DIR --sample SET [--model NAME | --kind K]
//! [--extra-labels SET...] [--confidence 0.95] [--folds 5] [--json]`: the
//! entry point for category shares from a random labeled sample plus the
//! classifier (see `stackmine::estimate`). With a model that saw no post of
//! the population: PPI++ (one pass over the population's questions). Else
//! cross-prediction: K models trained on folds of the sample (plus extra
//! labels from outside the population), each predicting every unlabeled
//! question (K passes of the classifier over the population; a hybrid model
//! reads the cached embeddings). Stores the result as `estimate:SET`.

use std::collections::HashSet;

use anyhow::{Context, Result, bail};
use stackmine::PostKey;
use stackmine::classify::eval::Example;
use stackmine::classify::model::{Model, labels_hash};
use stackmine::classify::{self, Kind};
use stackmine::estimate::{
    self, Breakdown, Depends, DesignKind, MISSING_WARN_SHARE, Method, SampleData, Shares, Stored,
};
use stackmine::report::fmt::int;
use stackmine::store::Store;
use stackmine::workspace::{Access, Workspace};

use super::model::{Choice, attach_static, encoder_for, load_model, prepare_training, table_for};
use super::printer::Printer;
use super::train::params;
use crate::cli::EstimateArgs;

pub fn run(args: EstimateArgs, printer: Printer) -> Result<()> {
    let dir = &args.study.dir;
    let Workspace { study, store, .. } = Workspace::open(dir, Access::Existing)?;
    let frameworks = study.framework_keys();
    let categories = study.category_keys();
    let data = estimate::load_sample(&store, &args.sample, &frameworks)?;
    let population: HashSet<PostKey> = data.members.iter().map(|m| m.key()).collect();
    let mut notes: Vec<String> = Vec::new();
    // PPI++ with a named model that saw no post of the population.
    let mut cross_kind = args.kind.map(Kind::from);
    if args.model.is_some() || args.model_file.is_some() {
        let choice = Choice::of(args.model.as_deref(), args.model_file.as_deref());
        let loaded = load_model(dir, choice, &categories)?;
        match saw_population(&store, &loaded.model, &population)? {
            Some(why) => {
                notes.push(format!(
                    "model {} {why}: cross-prediction with its kind ({}) instead",
                    loaded.model.name,
                    loaded.model.kind()
                ));
                cross_kind = Some(kind_of(&loaded.model));
            }
            None => {
                if !store.label_set_exists(&loaded.model.training.label_set)? {
                    notes.push(format!(
                        "model {} was trained on label set {}, which is not in this study: this assumes none of its posts is in the population",
                        loaded.model.name, loaded.model.training.label_set
                    ));
                }
                let predicted = estimate::predict_questions(
                    &store,
                    &population,
                    &[&loaded.model],
                    &categories,
                    &mut |posts| loaded.attach(&store, posts, &|_| {}).map(|_| ()),
                )?;
                let classifier = format!(
                    "model {} ({}, trained on {} labels {})",
                    loaded.model.name,
                    loaded.model.kind(),
                    loaded.model.training.label_set,
                    loaded.model.training.labels_hash
                );
                return finish(
                    printer,
                    &args,
                    &store,
                    &data,
                    Method::Ppi,
                    &predicted,
                    &categories,
                    &frameworks,
                    classifier,
                    notes,
                );
            }
        }
    }
    let kind = match cross_kind {
        Some(k) => k,
        None => kind_of(&load_model(dir, Choice::BuiltIn, &categories)?.model),
    };
    let mut p = params(kind, &args.params);
    if args.kind.is_none() && kind == Kind::Hybrid {
        p.stem = true; // the built-in hybrid model's settings
    }
    // The labeled sample as training examples, and the extra labels.
    let labeled: HashSet<PostKey> = data
        .posts
        .iter()
        .filter(|p| p.label.is_some())
        .map(|p| PostKey::new(p.site.clone(), p.id))
        .collect();
    let mut sample: Vec<Example> = classify::examples(&store, &args.sample)?
        .examples
        .into_iter()
        .filter(|e| labeled.contains(&e.key()))
        .collect();
    let mut extra: Vec<Example> = Vec::new();
    for set in &args.extra_labels {
        let all = classify::examples(&store, set)?.examples;
        let n = all.len();
        let outside: Vec<Example> = all
            .into_iter()
            .filter(|e| !population.contains(&e.key()))
            .collect();
        if outside.len() < n {
            notes.push(format!(
                "--extra-labels {set}: left out {} posts inside the population",
                int((n - outside.len()) as u64)
            ));
        }
        extra.extend(outside);
    }
    let sample_hash = labels_hash(&sample);
    let extra_hash = labels_hash(&extra);
    let n_sample = sample.len();
    let mut both: Vec<Example> = sample.drain(..).chain(extra.drain(..)).collect();
    prepare_training(&store, &mut p, &mut both, printer.quiet())?;
    let extra = both.split_off(n_sample);
    let sample = both;
    let (models, held_out) = estimate::cross_fit(
        &sample,
        &extra,
        &study.categories,
        &p,
        args.folds,
        &args.sample,
    )?;
    let unlabeled: HashSet<PostKey> = population.difference(&labeled).cloned().collect();
    let refs: Vec<&Model> = models.iter().collect();
    let encoder = match kind {
        Kind::Hybrid => Some(encoder_for(&p.encoder)?),
        _ => None,
    };
    let table = match kind {
        Kind::Static => Some(table_for(&p.encoder)?),
        _ => None,
    };
    let mut predicted =
        estimate::predict_questions(&store, &unlabeled, &refs, &categories, &mut |posts| {
            if let Some(t) = &table {
                attach_static(t, p.encoder.max_tokens, posts, &|_| {});
            }
            if let Some(enc) = &encoder {
                classify::attach_embeddings(&store, enc, p.encoder.max_tokens, posts, &|_| {})?;
            }
            Ok(())
        })?;
    let index = estimate::category_index(&categories);
    for (e, h) in sample.iter().zip(&held_out) {
        let c = index
            .get(h.as_str())
            .copied()
            .with_context(|| format!("a fold model predicted {h:?}, not a category"))?;
        predicted.insert(e.key(), vec![c]);
    }
    let classifier = format!(
        "cross-prediction: {} folds of {} on {} (labels {sample_hash}){}",
        args.folds,
        format!("{kind:?}").to_lowercase(),
        args.sample,
        if args.extra_labels.is_empty() {
            String::new()
        } else {
            format!(
                " plus {} (labels {extra_hash})",
                args.extra_labels.join(", ")
            )
        }
    );
    finish(
        printer,
        &args,
        &store,
        &data,
        Method::CrossPpi,
        &predicted,
        &categories,
        &frameworks,
        classifier,
        notes,
    )
}

fn kind_of(model: &Model) -> Kind {
    match model.kind() {
        "keyword" => Kind::Keyword,
        "hybrid" => Kind::Hybrid,
        "static" => Kind::Static,
        _ => Kind::Linear,
    }
}

/// Why a model may have seen posts of the population, if it may have: the
/// built-in models were trained on the shipped Stack Overflow questions; a
/// study's model on a label set of this study with posts in the population.
fn saw_population(
    store: &Store,
    model: &Model,
    population: &HashSet<PostKey>,
) -> Result<Option<String>> {
    let built_in = Model::default_model()?.training.labels_hash;
    if model.training.labels_hash == built_in {
        return Ok(Some(
            "is trained on the shipped labeled questions, which may be in this study".into(),
        ));
    }
    let set = &model.training.label_set;
    if store.label_set_exists(set)? {
        let seen = stackmine::label::gather(store, set)?
            .keys()
            .filter(|k| population.contains(*k))
            .count();
        if seen > 0 {
            return Ok(Some(format!(
                "was trained on label set {set}, with {} posts of the population",
                int(seen as u64)
            )));
        }
    }
    Ok(None)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    printer: Printer,
    args: &EstimateArgs,
    store: &Store,
    data: &SampleData,
    method: Method,
    predicted: &std::collections::HashMap<PostKey, Vec<u16>>,
    categories: &[String],
    frameworks: &[String],
    classifier: String,
    notes: Vec<String>,
) -> Result<()> {
    let units = estimate::units(data, predicted, categories, frameworks);
    if let Some(path) = &args.write_inputs {
        let inputs =
            estimate::reference_inputs(&units, &data.strata, categories, method, args.confidence);
        std::fs::write(path, serde_json::to_string(&inputs)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let Some(Breakdown {
        overall,
        per_framework,
        per_year,
    }) = estimate::breakdown(
        &units,
        &data.strata,
        categories,
        frameworks,
        method,
        args.confidence,
    )
    else {
        bail!(
            "sample {}: a stratum has fewer than 2 labeled posts, so its share cannot be estimated",
            args.sample
        );
    };
    let trend = estimate::trends(&units, categories, data.design.kind, args.confidence);
    let drawn = data.posts.len();
    let missing = data.missing();
    let mar = drawn > 0 && missing as f64 > MISSING_WARN_SHARE * drawn as f64;
    let stored = Stored {
        method,
        sample: args.sample.clone(),
        labeled: overall.labeled,
        population: overall.population,
        population_desc: data.describe(),
        design: data.design.kind,
        confidence: args.confidence,
        missing,
        missing_at_random_assumed: mar,
        classifier: classifier.clone(),
        shares: overall.shares.clone(),
        strata: overall.strata.clone(),
        per_framework,
        per_year,
        trend,
        depends: Depends {
            labels_hash: data.labels_hash(),
            population_hash: data.population_hash(),
            classifier,
            classifications: Some(estimate::classifications_hash(store)?.0),
        },
    };
    let json = serde_json::to_string(&stored)?;
    store.save_result(&estimate::result_key(&args.sample), &json)?;
    for n in &notes {
        printer.note(n);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stored)?);
        return Ok(());
    }
    print_text(&stored, data, &overall, categories);
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn interval(lo: f64, hi: f64, clipped: bool) -> String {
    format!(
        "[{}, {}]{}",
        pct(lo),
        pct(hi),
        if clipped { " (clipped)" } else { "" }
    )
}

fn print_text(s: &Stored, data: &SampleData, overall: &Shares, categories: &[String]) {
    let level = format!("{:.0} %", 100.0 * s.confidence);
    println!(
        "category shares of {} ({} questions), by {}",
        data.describe(),
        int(s.population as u64),
        s.method.name()
    );
    println!(
        "sample {}: {} labeled of {} drawn ({}{})",
        s.sample,
        int(s.labeled as u64),
        int(data.posts.len() as u64),
        match data.design.kind {
            DesignKind::Stratified => "stratified random sample",
            _ => "simple random sample",
        },
        data.design
            .seed
            .map(|seed| format!(", seed {seed}"))
            .unwrap_or_default()
    );
    if s.missing > 0 {
        println!(
            "  {} sample posts have no label ({} skipped, {} disagreed and not adjudicated){}",
            int(s.missing as u64),
            int(data.unlabeled as u64),
            int(data.unresolved as u64),
            if s.missing_at_random_assumed {
                format!(
                    "; that is over {:.0} % of the sample: the estimate assumes they are missing at random",
                    100.0 * MISSING_WARN_SHARE
                )
            } else {
                String::new()
            }
        );
    }
    if data.outside_batch > 0 {
        println!(
            "  {} labels of set {} are of posts outside the batch and were not used",
            int(data.outside_batch as u64),
            s.sample
        );
    }
    println!("  classifier: {}", s.classifier);
    println!(
        "\n| category | estimate | {level} interval | sample only | Wilson {level} | classified |\n|---|--:|--:|--:|--:|--:|"
    );
    for c in categories {
        let Some(x) = overall.shares.get(c) else {
            continue;
        };
        println!(
            "| {c} | {} | {} | {} | {} | {} |",
            pct(x.estimate),
            interval(x.low, x.high, x.clipped),
            pct(x.sample_only.estimate),
            interval(x.sample_only.low, x.sample_only.high, false),
            pct(x.classified)
        );
    }
    let sum: f64 = overall.shares.values().map(|x| x.estimate).sum();
    println!(
        "\nEach share is estimated on its own, so they need not sum to 100 % (here {}). Intervals use the finite-population form (see `stackmine::analyze::ppi`).",
        pct(sum)
    );
    for (title, groups) in [("framework", &s.per_framework), ("year", &s.per_year)] {
        if groups.is_empty() {
            continue;
        }
        println!(
            "\nper {title}:\n\n| {title} | labeled | method | {} |",
            categories.join(" | ")
        );
        println!("|---|--:|---|{}", "--:|".repeat(categories.len()));
        for (g, sh) in groups.iter() {
            let cells: Vec<String> = categories
                .iter()
                .map(|c| {
                    sh.shares.get(c).map_or_else(String::new, |x| {
                        format!("{} {}", pct(x.estimate), interval(x.low, x.high, x.clipped))
                    })
                })
                .collect();
            let method = match sh.method {
                Method::SampleOnly => "sample only¹",
                Method::Ppi => "ppi",
                Method::CrossPpi => "cross-ppi",
            };
            println!(
                "| {g} | {} | {method} | {} |",
                int(sh.labeled as u64),
                cells.join(" | ")
            );
        }
    }
    if !s.trend.is_empty() {
        println!(
            "\ntrend, prediction-powered (the category regressed on the year, as ppi_py.ppi_ols_ci computes it; valid when the classifier errs):\n\n| category | points per year | {level} interval |\n|---|--:|--:|"
        );
        for c in categories {
            if let Some(t) = s.trend.get(c) {
                println!(
                    "| {c} | {:.2} | [{:.2}, {:.2}] |",
                    t.slope_per_year, t.low, t.high
                );
            }
        }
    }
    if s.per_framework
        .values()
        .chain(s.per_year.values())
        .any(|g| g.method == Method::SampleOnly)
    {
        println!(
            "\n¹ fewer than {} labeled posts in the group: the sample alone, with its Wilson interval",
            estimate::MIN_GROUP_LABELED
        );
    }
}
