//! The `stackmine` binary: parse arguments, run one command, map the outcome
//! to an exit code (0 ok, 2 error) and print errors once, with their causes.

mod cli;
mod cmd;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(err) = cmd::run(cli) {
        eprintln!("stackmine: error: {err:#}");
        std::process::exit(2);
    }
}
