//! One module per subcommand; each has `pub fn run(args) -> Result<()>`.

mod info;
mod ingest;
mod init;
mod progress;
mod run;
mod stats;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs the command the arguments name.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Ingest(args) => ingest::run(args, cli.quiet),
        Command::Stats(args) => stats::run(args),
        Command::Info(args) => info::run(args),
        Command::Run(args) => run::run(args, cli.quiet),
    }
}
