//! What a DUMP argument names: a Posts.xml, a dump folder, or a .7z archive;
//! the site its posts belong to; and opening its tables as byte streams.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::DumpError;

/// Where one table's XML comes from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// An entry of a .7z archive, decompressed as it is read.
    SevenZ {
        archive: PathBuf,
        entry: String,
    },
}

impl Source {
    /// How the source is named in messages and the ingest log.
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::SevenZ { archive, entry } => format!("{}:{entry}", archive.display()),
        }
    }

    /// The path of the file on disk that holds the source.
    pub fn path(&self) -> &Path {
        match self {
            Source::File(p) => p,
            Source::SevenZ { archive, .. } => archive,
        }
    }
}

/// A resolved DUMP argument.
#[derive(Debug, Clone)]
pub struct DumpInput {
    /// The argument as given.
    pub arg: PathBuf,
    pub site: String,
    pub posts: Source,
    /// Uncompressed size of Posts.xml, when known.
    pub posts_size: Option<u64>,
    /// Size of the file on disk (the archive for .7z).
    pub disk_size: u64,
    pub comments: Option<Source>,
    pub comments_size: Option<u64>,
}

fn io_err(path: &Path, source: io::Error) -> DumpError {
    DumpError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Finds `name` in a folder, ignoring case.
fn find_in(dir: &Path, name: &str) -> Result<Option<PathBuf>, DumpError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}

fn dir_name(dir: &Path) -> Option<String> {
    let abs = std::path::absolute(dir).ok()?;
    abs.file_name()?.to_str().map(String::from)
}

/// The default site name of a dump file: the folder's name for `Posts.xml`,
/// else the file name without `.Posts.xml`, `-Posts.7z`, `.7z` or `.xml`.
pub fn site_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == "posts.xml" {
        return dir_name(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        );
    }
    for suffix in [".posts.xml", "-posts.7z", ".7z", ".xml"] {
        if lower.ends_with(suffix) && lower.len() > suffix.len() {
            return Some(name[..name.len() - suffix.len()].to_string());
        }
    }
    Some(name.to_string())
}

/// Whether a site name looks like a host name (`ai.stackexchange.com`), so that
/// post links can be made from it.
pub fn looks_like_host(site: &str) -> bool {
    let labels: Vec<&str> = site.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// Resolves a DUMP argument. `site` overrides the derived site name.
pub fn resolve(arg: &Path, site: Option<&str>) -> Result<DumpInput, DumpError> {
    let meta = std::fs::metadata(arg).map_err(|e| io_err(arg, e))?;
    let (posts, posts_size, disk_size, comments, comments_size, derived) = if meta.is_dir() {
        let posts = find_in(arg, "Posts.xml")?.ok_or_else(|| DumpError::NoPosts {
            path: arg.to_path_buf(),
        })?;
        let size = std::fs::metadata(&posts)
            .map_err(|e| io_err(&posts, e))?
            .len();
        let comments = find_in(arg, "Comments.xml")?;
        let csize = match &comments {
            Some(c) => Some(std::fs::metadata(c).map_err(|e| io_err(c, e))?.len()),
            None => None,
        };
        (
            Source::File(posts),
            Some(size),
            size,
            comments.map(Source::File),
            csize,
            dir_name(arg),
        )
    } else if arg
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("7z"))
    {
        let listing = list_7z(arg)?;
        let find = |name: &str| {
            listing
                .iter()
                .find(|(n, _)| {
                    Path::new(n)
                        .file_name()
                        .and_then(|f| f.to_str())
                        .is_some_and(|f| f.eq_ignore_ascii_case(name))
                })
                .cloned()
        };
        let (entry, size) = find("Posts.xml").ok_or_else(|| DumpError::NoPosts {
            path: arg.to_path_buf(),
        })?;
        let comments = find("Comments.xml");
        (
            Source::SevenZ {
                archive: arg.to_path_buf(),
                entry,
            },
            Some(size),
            meta.len(),
            comments.as_ref().map(|(entry, _)| Source::SevenZ {
                archive: arg.to_path_buf(),
                entry: entry.clone(),
            }),
            comments.map(|(_, s)| s),
            site_name(arg),
        )
    } else {
        (
            Source::File(arg.to_path_buf()),
            Some(meta.len()),
            meta.len(),
            None,
            None,
            site_name(arg),
        )
    };
    let site = match site {
        Some(s) => s.to_string(),
        None => derived.ok_or_else(|| DumpError::NoSite {
            path: arg.to_path_buf(),
        })?,
    };
    Ok(DumpInput {
        arg: arg.to_path_buf(),
        site,
        posts,
        posts_size,
        disk_size,
        comments,
        comments_size,
    })
}

fn sevenz_err(path: &Path, e: sevenz_rust2::Error) -> DumpError {
    DumpError::SevenZ {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The file entries of a .7z archive with their uncompressed sizes.
fn list_7z(path: &Path) -> Result<Vec<(String, u64)>, DumpError> {
    let reader = sevenz_rust2::ArchiveReader::open(path, sevenz_rust2::Password::empty())
        .map_err(|e| sevenz_err(path, e))?;
    Ok(reader
        .archive()
        .files
        .iter()
        .filter(|e| !e.is_directory())
        .map(|e| (e.name().to_string(), e.size()))
        .collect())
}

/// Opens a source as a byte stream. A .7z entry is decompressed on its own
/// thread and handed over in blocks, so decompression and scanning overlap.
pub fn open(source: &Source) -> Result<Box<dyn Read + Send>, DumpError> {
    match source {
        Source::File(p) => Ok(Box::new(File::open(p).map_err(|e| io_err(p, e))?)),
        Source::SevenZ { archive, entry } => {
            let mut reader =
                sevenz_rust2::ArchiveReader::open(archive, sevenz_rust2::Password::empty())
                    .map_err(|e| sevenz_err(archive, e))?;
            let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(8);
            let entry = entry.clone();
            std::thread::spawn(move || {
                let result = reader.for_each_entries_with_decision(|e, r| {
                    if e.name() != entry {
                        return Ok(sevenz_rust2::EntryDecision::Continue);
                    }
                    loop {
                        let mut block = Vec::with_capacity(1 << 20);
                        let n = r.take(1 << 20).read_to_end(&mut block)?;
                        if n == 0 || tx.send(Ok(block)).is_err() {
                            break;
                        }
                    }
                    Ok(sevenz_rust2::EntryDecision::Stop)
                });
                if let Err(e) = result {
                    let _ = tx.send(Err(io::Error::other(e.to_string())));
                }
            });
            Ok(Box::new(ChannelReader {
                rx,
                block: Vec::new(),
                pos: 0,
            }))
        }
    }
}

/// Reads the blocks a decompressing thread sends.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    block: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.block.len() {
            match self.rx.recv() {
                Ok(block) => {
                    self.block = block?;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names() {
        let s = |p: &str| site_name(Path::new(p)).unwrap();
        assert_eq!(
            s("data/ai.stackexchange.com-2017/Posts.xml"),
            "ai.stackexchange.com-2017"
        );
        assert_eq!(
            s("x/cardano.stackexchange.com-2021.Posts.xml"),
            "cardano.stackexchange.com-2021"
        );
        assert_eq!(s("ai.stackexchange.com.7z"), "ai.stackexchange.com");
        assert_eq!(s("stackoverflow.com-Posts.7z"), "stackoverflow.com");
        assert_eq!(s("Posts.angle-tags.xml"), "Posts.angle-tags");
    }

    #[test]
    fn hosts() {
        assert!(looks_like_host("ai.stackexchange.com"));
        assert!(looks_like_host("stackoverflow.com"));
        assert!(!looks_like_host("ai.stackexchange.com-2017"));
        assert!(!looks_like_host("stackoverflow-dl-deploy"));
    }
}
