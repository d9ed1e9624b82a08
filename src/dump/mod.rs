//! Reading Stack Exchange dump XML: inputs (file, folder, .7z), chunks of whole
//! lines, raw-byte row scanning, full row parsing, tag formats.

pub mod chunks;
pub mod input;
pub mod row;
pub mod scan;
pub mod tags;

use std::path::PathBuf;

/// The rule for site names: 1–64 letters, digits, `_`, `.` or `-`, not only dots.
pub const SITE_RULE: &str = "a site name is 1–64 letters, digits, '_', '.' or '-'";

/// Errors that stop reading a dump. Bad rows are not errors: they are counted.
/// Messages carry their cause in words; none has a `source` (each cause is
/// printed once).
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("{}: {}", path.display(), input::io_words(error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: no Posts.xml in it{hint}", path.display())]
    NoPosts { path: PathBuf, hint: String },
    #[error("{}: {what}", path.display())]
    Layout { path: PathBuf, what: String },
    #[error("{}: cannot tell the site; give --site NAME", path.display())]
    NoSite { path: PathBuf },
    #[error(
        "{}: the site name taken from it, {}, breaks the rule ({SITE_RULE}); give --site NAME",
        path.display(),
        row::quote(site)
    )]
    BadDerivedSite { path: PathBuf, site: String },
    #[error("--site {}: {SITE_RULE}", row::quote(site))]
    BadSite { site: String },
    #[error(
        "--site-url {}: must be an absolute http:// or https:// address with a host, \
         of printable ASCII without spaces or quotes (for example https://stackoverflow.com)",
        row::quote(url)
    )]
    BadSiteUrl { url: String },
    #[error("{}: {message}", path.display())]
    SevenZ { path: PathBuf, message: String },
    #[error("{source_name} is empty")]
    Empty { source_name: String },
    #[error("{source_name} line {line}: not a Stack Exchange {expected}.xml dump: {found}")]
    NotADump {
        source_name: String,
        line: u64,
        expected: &'static str,
        found: String,
    },
    #[error(
        "{source_name} is cut off at line {line} (byte {offset}): {what}; the study is unchanged"
    )]
    CutOff {
        source_name: String,
        line: u64,
        offset: u64,
        what: String,
    },
}
