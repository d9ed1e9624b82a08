//! Reading Stack Exchange dump XML: inputs (file, folder, .7z), chunks of whole
//! lines, raw-byte row scanning, full row parsing, tag formats.

pub mod chunks;
pub mod input;
pub mod row;
pub mod scan;
pub mod tags;

use std::path::PathBuf;

/// Errors that stop reading a dump. Bad rows are not errors: they are counted.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no Posts.xml in it", path.display())]
    NoPosts { path: PathBuf },
    #[error("{}: cannot tell the site; give --site NAME", path.display())]
    NoSite { path: PathBuf },
    #[error("{}: cannot read the 7z archive: {message}", path.display())]
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
