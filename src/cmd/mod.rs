//! One module per subcommand; each has `pub fn run(args) -> Result<()>`.

mod agree;
mod classify;
mod encoder;
mod endorsements;
mod estimate;
mod eval;
mod export;
mod info;
mod ingest;
mod init;
mod label;
mod model;
mod paper;
mod progress;
mod report;
mod run;
mod sample;
mod stats;
mod train;

use anyhow::Result;
use stackmine::classify::encoder::Precision;

use crate::cli::{Cli, Command};

/// Runs the command the arguments name.
pub fn run(cli: Cli) -> Result<()> {
    model::set_precision(match cli.precision {
        Some(crate::cli::PrecisionArg::Fp32) => Precision::Fp32,
        Some(crate::cli::PrecisionArg::Int8) => Precision::Int8,
        None => Precision::for_this_cpu(),
    });
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Ingest(args) => ingest::run(args, cli.quiet),
        Command::Stats(args) => stats::run(args),
        Command::Info(args) => info::run(args),
        Command::Run(args) => run::run(args, cli.quiet),
        Command::Sample(args) => sample::run(args),
        Command::Label(args) => label::run(args),
        Command::Agree(args) => agree::run(args),
        Command::Train(args) => train::run(args, cli.quiet),
        Command::Eval(args) => eval::run(args, cli.quiet),
        Command::Classify(args) => classify::run(args, cli.quiet),
        Command::Export(args) => export::run(args),
        Command::ImportClassifications(args) => export::import(args),
        Command::Estimate(args) => estimate::run(args, cli.quiet),
        Command::Report(args) => report::run(args),
        Command::Endorsements(args) => endorsements::run(args),
        Command::Encoder(args) => encoder::run(args, cli.quiet),
    }
}
