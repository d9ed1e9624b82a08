//! The one way commands talk to the user on stderr: progress bars and
//! spinners (hidden with `--quiet` or when stderr is not a terminal), notes
//! and timings. Results go to stdout; every command gets the [`Printer`].

use std::fmt::Display;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stackmine::ingest::Progress;

/// What a command shows on stderr; built once by `cmd::run` from `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
}

/// How a bar shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Bytes of a file read (ingest).
    Bytes,
    /// Items done of a known count (posts embedded, tokens distilled).
    Count,
    /// A stage without a count.
    Spinner,
}

impl Printer {
    pub fn new(quiet: bool) -> Printer {
        Printer { quiet }
    }

    /// Whether progress is hidden (`--quiet`).
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// A bar drawn from its first `begin` on; the library's stages drive it
    /// through [`Progress`]. The one place bars are built.
    pub fn bar(&self, style: Style) -> Bar {
        Bar {
            bar: ProgressBar::hidden(),
            quiet: self.quiet,
            style,
        }
    }

    /// A bar of `len` items, started: `what [====  ] 12/40 3/s 10s`.
    pub fn counter(&self, what: &str, len: u64) -> Bar {
        let bar = self.bar(Style::Count);
        bar.begin(what, Some(len));
        bar
    }

    /// A spinner for a stage without a count, started.
    pub fn spinner(&self, what: &str) -> Bar {
        let bar = self.bar(Style::Spinner);
        bar.begin(what, None);
        bar
    }

    /// `note: TEXT` on stderr (shown with `--quiet` too: it is no progress).
    pub fn note(&self, text: impl Display) {
        eprintln!("note: {text}");
    }

    /// A line on stderr: timings and what was done besides the result.
    pub fn info(&self, text: impl Display) {
        eprintln!("{text}");
    }
}

/// A progress bar or spinner on stderr (see [`Printer::bar`]).
pub struct Bar {
    bar: ProgressBar,
    quiet: bool,
    style: Style,
}

impl Bar {
    /// Counts `n` more items done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn begin(&self, what: &str, total: Option<u64>) {
        if self.quiet {
            return;
        }
        self.bar.set_draw_target(ProgressDrawTarget::stderr());
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        let template = match self.style {
            Style::Bytes => {
                "{msg:30} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}"
            }
            Style::Count => "{msg} [{bar:30}] {pos}/{len} {per_sec} {eta}",
            Style::Spinner => "{spinner} {msg}",
        };
        let style = ProgressStyle::with_template(template).unwrap_or_else(|_| match self.style {
            Style::Spinner => ProgressStyle::default_spinner(),
            _ => ProgressStyle::default_bar(),
        });
        self.bar.set_style(match self.style {
            Style::Spinner => style,
            _ => style.progress_chars("=> "),
        });
        self.bar.set_message(what.to_string());
        if self.style == Style::Spinner {
            self.bar
                .enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}
