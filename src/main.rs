//! The `stackmine` binary: parse arguments, run one command, map the outcome
//! to an exit code (0 ok, 2 error) and print errors once, with their causes.

mod cli;
mod cmd;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(err) = cmd::run(cli) {
        // A reader that went away (`stackmine stats | head`) is not an error.
        let broken_pipe = err.chain().any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        });
        if broken_pipe {
            return;
        }
        eprintln!("stackmine: error: {err:#}");
        std::process::exit(2);
    }
}
