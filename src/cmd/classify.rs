//! `stackmine classify --study DIR [--model NAME]`: the entry point for
//! giving every question a category and a confidence (the built-in model when
//! none is named). Reads questions in batches of 4,096 (memory stays
//! bounded), predicts on all cores, and replaces the previous classification
//! in one transaction. Prints the distribution; timing goes to stderr. With
//! a hybrid model each batch first gets its embeddings: from the store's
//! cache, or computed at about 30 ms per question per core and cached, so a
//! stopped run resumes where it was.

use anyhow::Result;
use stackmine::classify::features::Doc;
use stackmine::report::fmt::{int, num};
use stackmine::store::{STORE_FILE, Store};

use super::model::{Choice, embedding_bar, load_model};
use crate::cli::ClassifyArgs;

pub fn run(args: ClassifyArgs, quiet: bool) -> Result<()> {
    if args.stdin {
        return super::export::classify_stdin(&args);
    }
    let dir = &args.study.study;
    let study = stackmine::study::Study::load(dir)?;
    let keys: Vec<String> = study.categories.iter().map(|c| c.key.clone()).collect();
    let mut store = Store::open_existing(&dir.join(STORE_FILE))?;
    let choice = Choice::of(args.model.as_deref(), args.model_file.as_deref());
    let loaded = load_model(dir, choice, &keys)?;
    let model = &loaded.model;
    let started = std::time::Instant::now();
    let mut rows: Vec<(String, i64, String, f64)> = Vec::new();
    let mut embedded = 0;
    let bar = match model.encoder() {
        Some(_) => embedding_bar(quiet, store.question_count()?),
        None => indicatif::ProgressBar::hidden(),
    };
    let done = |k: u64| bar.inc(k);
    store.for_each_question_doc(4096, |mut batch| {
        let mut posts: Vec<(&str, i64, &mut Doc)> = batch
            .iter_mut()
            .map(|(site, id, doc)| (site.as_str(), *id, doc))
            .collect();
        embedded += loaded.attach(&store, &mut posts, &done)?;
        rows.extend(stackmine::classify::classify_batch(model, batch));
        Ok(())
    })?;
    bar.finish_and_clear();
    store.replace_classifications(&model.name, &rows)?;
    let secs = started.elapsed().as_secs_f64();
    let n = rows.len() as u64;
    println!(
        "classified {} questions with model {} ({})",
        int(n),
        model.name,
        model.kind()
    );
    println!("\n| category | questions | share |\n|---|--:|--:|");
    for c in &model.categories {
        let k = rows.iter().filter(|r| &r.2 == c).count() as u64;
        println!(
            "| {c} | {} | {} % |",
            int(k),
            num((n > 0).then(|| 100.0 * k as f64 / n as f64), 1)
        );
    }
    if let Some(spec) = model.encoder() {
        eprintln!(
            "embedded {} questions with {} ({} were cached)",
            int(embedded as u64),
            spec.name,
            int(n.saturating_sub(embedded as u64))
        );
    }
    eprintln!(
        "classified in {secs:.2} s ({:.0} questions/s)",
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}
