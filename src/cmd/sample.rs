//! `stackmine sample --study DIR --name BATCH --seed S (--size N |
//! --confidence C --margin E | --per-framework N) [--proportional]`: the entry
//! point for drawing a batch of questions to label. Seeded and reproducible;
//! never draws a post already in another batch unless `--allow-redraw`.
//! Reads every question's key and frameworks (a few dozen bytes each).

use std::collections::HashSet;

use anyhow::{Result, bail};
use stackmine::PostKey;
use stackmine::estimate::{Design, DesignKind, Population};
use stackmine::report::fmt::{int, num};
use stackmine::sample::{SampleError, SizeRule, Strata, draw_batch};
use stackmine::store::Store;
use stackmine::workspace::{Access, Workspace};

use super::printer::Printer;
use crate::cli::SampleArgs;

pub fn run(args: SampleArgs, _: Printer) -> Result<()> {
    let Workspace {
        study, mut store, ..
    } = Workspace::open(&args.study.dir, Access::Existing)?;
    stackmine::label::check_name("batch", &args.name).map_err(anyhow::Error::msg)?;
    if store.set_exists(&args.name)? {
        bail!("a batch or label set named {:?} exists already", args.name);
    }
    let size = match (args.size, args.confidence, args.margin) {
        (Some(n), _, _) => SizeRule::Fixed(n),
        (None, Some(confidence), Some(margin)) => SizeRule::Cochran { confidence, margin },
        _ if args.per_framework.is_some() => SizeRule::Fixed(0),
        _ => bail!("give --size N, --confidence C --margin E, or --per-framework N"),
    };
    let strata = match (args.per_framework, args.proportional) {
        (Some(n), _) => Strata::PerFramework(n),
        (None, true) => Strata::Proportional,
        (None, false) => Strata::None,
    };
    let seed = args.seed.unwrap_or(study.meta.seed);
    let exclude = if args.allow_redraw {
        HashSet::new()
    } else {
        store.drawn_posts()?
    };
    let frameworks = study.framework_keys();
    let population = Population::parse(&args.population, &frameworks)?;
    let members: HashSet<PostKey> = store
        .members()?
        .into_iter()
        .filter(|m| population.contains(m))
        .map(|m| PostKey::new(m.site, m.id))
        .collect();
    let all = store.question_candidates()?;
    let questions = all.len() as u64;
    let candidates: Vec<_> = all
        .into_iter()
        .filter(|c| members.contains(&c.key()))
        .collect();
    if candidates.is_empty() && questions > 0 {
        return Err(SampleError::EmptyPopulation {
            population: args.population.clone(),
            questions,
        }
        .into());
    }
    let (drawn, report) = draw_batch(candidates, &exclude, &frameworks, size, strata, seed)?;
    let method = serde_json::to_string(&report)?;
    let design = design(&store, strata, population, seed, &report)?;
    store.create_batch(&args.name, seed, &method, &drawn, &design.to_json())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "batch": args.name, "report": report, "design": design, "posts": drawn
            }))?
        );
        return Ok(());
    }
    println!(
        "batch {}: {} posts drawn with seed {} ({})",
        args.name,
        int(drawn.len() as u64),
        seed,
        report.rule
    );
    if let Some(raw) = report.cochran {
        println!("  Cochran's size before rounding: {}", num(Some(raw), 2));
    }
    if let Some(note) = &report.note {
        println!("  note: {note}");
    }
    println!(
        "  from {} questions ({}); {} already in other batches left out",
        int(report.population),
        design
            .population
            .as_ref()
            .map_or_else(String::new, |p| p.describe()),
        int(report.excluded)
    );
    match design.kind {
        DesignKind::Convenience => println!(
            "  design: convenience ({}); estimate will not use it",
            design.reason.as_deref().unwrap_or("")
        ),
        kind => println!(
            "  design: {} sample, seed {seed}; stackmine estimate --sample {} uses it",
            if kind == DesignKind::Random {
                "simple random"
            } else {
                "stratified random"
            },
            args.name
        ),
    }
    for (stratum, available, n) in &report.strata {
        let short = match (size, strata) {
            (_, Strata::PerFramework(k)) => *n < k,
            (SizeRule::Fixed(k), Strata::None) => *n < k,
            _ => false,
        };
        let note = if short { " (all there are)" } else { "" };
        println!(
            "  {stratum}: {} of {} available{note}",
            int(*n),
            int(*available)
        );
    }
    Ok(())
}

/// The batch's design: a simple random sample for a plain draw, stratified
/// (by first framework) for a proportional one. Per-framework quotas are a
/// convenience set: a question of two frameworks could be drawn for either,
/// so no single population has known inclusion probabilities.
fn design(
    store: &Store,
    strata: Strata,
    population: Population,
    seed: u64,
    report: &stackmine::sample::DrawReport,
) -> Result<Design> {
    let mut d = match strata {
        Strata::PerFramework(_) => {
            return Ok(Design::convenience(
                "per-framework quotas; draw with --size or --proportional for a random sample",
            ));
        }
        Strata::None => Design::random(population, Some(seed)),
        Strata::Proportional => {
            let mut d = Design::random(population, Some(seed));
            d.kind = DesignKind::Stratified;
            d.strata = Some("first framework in study order, else other".into());
            d
        }
    };
    if report.excluded > 0 {
        d.excluded_batches = store.batch_names()?;
    }
    d.population_size = Some(report.population - report.excluded);
    Ok(d)
}
