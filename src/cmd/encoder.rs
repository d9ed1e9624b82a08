//! `stackmine encoder distill [--encoder DIR] [--out FILE]`: derives the
//! static embedding table from the sentence encoder's files (every
//! vocabulary token through the transformer once, about a minute on two
//! cores), deterministically, and writes it atomically.

use anyhow::{Context, Result, bail};
use stackmine::classify::encoder::static_table::{self, DistillParams, Weighting};
use stackmine::classify::encoder::{self, Encoder};
use stackmine::report::output::Output;
use stackmine::workspace::{Access, StudyDir};

use super::printer::Printer;
use crate::cli::{DistillArgs, EncoderArgs, EncoderCommand};

pub fn run(args: EncoderArgs, p: Printer) -> Result<()> {
    match args.command {
        EncoderCommand::Distill(a) => distill(a, p),
    }
}

fn distill(args: DistillArgs, p: Printer) -> Result<()> {
    let weighting = Weighting::from(args.weighting);
    let dir = args.encoder.clone().unwrap_or_else(encoder::default_dir);
    let enc =
        Encoder::load(&dir).context("the static table is distilled from the sentence encoder")?;
    if args.dims > enc.dim() {
        bail!(
            "--dims is {}, it must be at most the encoder's size ({})",
            args.dims,
            enc.dim()
        );
    }
    let vocab_path = dir.join("vocab.txt");
    let vocab_bytes = stackmine::limits::read_bounded(
        &vocab_path,
        stackmine::limits::MAX_ENCODER_VOCAB_BYTES,
        "an encoder file",
    )
    .with_context(|| format!("{}", vocab_path.display()))?;
    let counts = match (weighting, &args.corpus) {
        (Weighting::Zipf, None) => None,
        (Weighting::Zipf, Some(_)) => bail!("--corpus is for --weighting corpus"),
        (Weighting::Corpus, None) => bail!("--weighting corpus needs --corpus STUDY"),
        (Weighting::Corpus, Some(study)) => {
            let store = StudyDir::new(study).open_store(Access::Existing)?;
            let mut counts = vec![0u64; enc.vocab().len];
            store.for_each_question_doc(4096, |batch| {
                let texts: Vec<String> =
                    batch.iter().map(|(_, _, d)| encoder::doc_text(d)).collect();
                let c = static_table::count_tokens(enc.vocab(), texts.iter().map(String::as_str));
                for (a, b) in counts.iter_mut().zip(c) {
                    *a += b;
                }
                Ok(())
            })?;
            Some(counts)
        }
    };
    let bar = p.counter(
        stackmine::classify::select::EMBEDDING,
        enc.vocab().len as u64,
    );
    let started = std::time::Instant::now();
    let params = DistillParams {
        dims: args.dims,
        weighting,
        counts,
    };
    let table = static_table::distill(&enc, &vocab_bytes, &params, &|k| bar.inc(k));
    bar.finish();
    let out = args.out.clone().unwrap_or_else(static_table::default_path);
    let bytes = table.to_bytes();
    let fingerprint = stackmine::classify::fnv1a_hex(&[&bytes]);
    let mut o = Output::new();
    o.add(&out, bytes);
    o.commit()?;
    println!(
        "static table: {} tokens × {} dimensions ({} weighting, {:.1} % of the variance kept), fingerprint {fingerprint} → {}",
        table.header.vocab_size,
        table.header.dims,
        table.header.weighting.name(),
        100.0 * table.header.explained_variance,
        out.display()
    );
    p.info(format_args!(
        "distilled in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
