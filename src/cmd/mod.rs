//! One module per subcommand; each has `pub fn run(args, printer) -> Result<()>`:
//! it parses its arguments into the library's types, opens the study once
//! (`stackmine::workspace`), calls the library, and prints. No command calls
//! another's `run`.

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
mod printer;
mod report;
mod run;
mod sample;
mod stats;
mod train;

use anyhow::Result;
use stackmine::classify::encoder::Precision;

use crate::cli::{Cli, Command};
use printer::Printer;

/// Runs the command the arguments name.
pub fn run(cli: Cli) -> Result<()> {
    model::set_precision(match cli.precision {
        Some(crate::cli::PrecisionArg::Fp32) => Precision::Fp32,
        Some(crate::cli::PrecisionArg::Int8) => Precision::Int8,
        None => Precision::for_this_cpu(),
    });
    let p = Printer::new(cli.quiet);
    match cli.command {
        Command::Init(args) => init::run(args, p),
        Command::Ingest(args) => ingest::run(args, p),
        Command::Stats(args) => stats::run(args, p),
        Command::Info(args) => info::run(args, p),
        Command::Run(args) => run::run(args, p),
        Command::Sample(args) => sample::run(args, p),
        Command::Label(args) => label::run(args, p),
        Command::Agree(args) => agree::run(args, p),
        Command::Train(args) => train::run(args, p.quiet()),
        Command::Eval(args) => eval::run(args, p),
        Command::Classify(args) => classify::run(args, p),
        Command::Export(args) => export::run(args, p),
        Command::ImportClassifications(args) => export::import(args, p),
        Command::Estimate(args) => estimate::run(args, p),
        Command::Report(args) => report::run(args, p),
        Command::Endorsements(args) => endorsements::run(args, p),
        Command::Encoder(args) => encoder::run(args, p),
    }
}
