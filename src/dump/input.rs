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

    /// The entry's name in its archive, or the file's path.
    pub fn entry_name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::SevenZ { entry, .. } => entry.clone(),
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

fn io_err(path: &Path, error: io::Error) -> DumpError {
    DumpError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// An I/O error in words, once: the OS's text without the `(os error N)`
/// suffix Rust adds.
pub fn io_words(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// Finds `name` in a folder, ignoring case; two files that differ only in
/// case are an error (which one is meant?).
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
    if found.len() > 1 {
        return Err(DumpError::Layout {
            path: dir.to_path_buf(),
            what: format!(
                "it holds {} files named {name} (ignoring case): {}; keep one",
                found.len(),
                list(found.iter().map(|p| file_name(p)))
            ),
        });
    }
    Ok(found.into_iter().next())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Up to 8 names, comma-separated, with how many more there are.
fn list<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    let names: Vec<String> = names.into_iter().map(|s| s.as_ref().to_string()).collect();
    let mut out = names.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        out.push_str(&format!(" and {} more", names.len() - 8));
    }
    out
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

/// Whether a site name follows the rule ([`super::SITE_RULE`]).
pub fn valid_site(site: &str) -> bool {
    (1..=64).contains(&site.len())
        && site
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !site.bytes().all(|b| b == b'.')
}

/// Whether a `--site-url` is an absolute http(s) address with a host, made of
/// printable ASCII that needs no escaping in HTML (no blanks, quotes, `<`,
/// `>`, `\\`, `` ` ``, `{`, `}`, `|`, `^`).
pub fn valid_site_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
        && url.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`' | b'{' | b'}' | b'|' | b'^'
                )
        })
}

/// Resolves a DUMP argument into the sources it holds: one for a Posts.xml or
/// a dump folder, one per Posts.xml for a .7z archive (each with the
/// Comments.xml of its folder). `site` overrides the derived site name.
pub fn resolve(arg: &Path, site: Option<&str>) -> Result<Vec<DumpInput>, DumpError> {
    let meta = std::fs::metadata(arg).map_err(|e| io_err(arg, e))?;
    let checked = |derived: Option<String>| -> Result<String, DumpError> {
        match site {
            Some(s) => Ok(s.to_string()),
            None => {
                let d = derived.ok_or_else(|| DumpError::NoSite {
                    path: arg.to_path_buf(),
                })?;
                if valid_site(&d) {
                    Ok(d)
                } else {
                    Err(DumpError::BadDerivedSite {
                        path: arg.to_path_buf(),
                        site: d,
                    })
                }
            }
        }
    };
    if meta.is_dir() {
        let Some(posts) = find_in(arg, "Posts.xml")? else {
            return Err(DumpError::NoPosts {
                path: arg.to_path_buf(),
                hint: subfolder_hint(arg),
            });
        };
        let size = std::fs::metadata(&posts)
            .map_err(|e| io_err(&posts, e))?
            .len();
        let comments = find_in(arg, "Comments.xml")?;
        let comments_size = match &comments {
            Some(c) => Some(std::fs::metadata(c).map_err(|e| io_err(c, e))?.len()),
            None => None,
        };
        return Ok(vec![DumpInput {
            arg: arg.to_path_buf(),
            site: checked(dir_name(arg))?,
            posts: Source::File(posts),
            posts_size: Some(size),
            disk_size: size,
            comments: comments.map(Source::File),
            comments_size,
        }]);
    }
    if arg
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("7z"))
    {
        return resolve_7z(arg, meta.len(), site, &checked);
    }
    Ok(vec![DumpInput {
        arg: arg.to_path_buf(),
        site: checked(site_name(arg))?,
        posts: Source::File(arg.to_path_buf()),
        posts_size: Some(meta.len()),
        disk_size: meta.len(),
        comments: None,
        comments_size: None,
    }])
}

/// For a folder without Posts.xml: the subfolders that have one.
fn subfolder_hint(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return String::new();
    };
    let mut subs: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && matches!(find_in(p, "Posts.xml"), Ok(Some(_))))
        .map(|p| file_name(&p))
        .collect();
    subs.sort();
    if subs.is_empty() {
        String::new()
    } else {
        format!(
            "; its subfolders {} have one: give each as a DUMP argument",
            list(&subs)
        )
    }
}

/// The folder of an archive entry (`a/b/Posts.xml` → `a/b`), `/` or `\\` separated.
fn entry_folder(entry: &str) -> &str {
    entry.rfind(['/', '\\']).map_or("", |i| &entry[..i])
}

fn entry_file(entry: &str) -> &str {
    entry.rfind(['/', '\\']).map_or(entry, |i| &entry[i + 1..])
}

fn resolve_7z(
    arg: &Path,
    disk_size: u64,
    site: Option<&str>,
    checked: &dyn Fn(Option<String>) -> Result<String, DumpError>,
) -> Result<Vec<DumpInput>, DumpError> {
    let mut listing = list_7z(arg)?;
    listing.sort();
    let named = |name: &str| -> Vec<(String, u64)> {
        listing
            .iter()
            .filter(|(n, _)| entry_file(n).eq_ignore_ascii_case(name))
            .cloned()
            .collect()
    };
    let layout = |what: String| DumpError::Layout {
        path: arg.to_path_buf(),
        what,
    };
    let posts = named("Posts.xml");
    let comments = named("Comments.xml");
    if posts.is_empty() {
        let nested: Vec<&str> = listing
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| {
                let l = n.to_ascii_lowercase();
                [".7z", ".zip", ".gz", ".bz2", ".xz", ".zst", ".tar", ".rar"]
                    .iter()
                    .any(|x| l.ends_with(x))
            })
            .collect();
        let hint = if !nested.is_empty() {
            format!(
                "; it holds other archives ({}), which are not read: extract them first (7zz x) and ingest what they hold",
                list(nested)
            )
        } else if listing.is_empty() {
            "; the archive holds no files".to_string()
        } else {
            format!("; it holds {}", list(listing.iter().map(|(n, _)| n)))
        };
        return Err(DumpError::NoPosts {
            path: arg.to_path_buf(),
            hint,
        });
    }
    // One Posts.xml per folder; each Comments.xml beside a Posts.xml.
    for w in posts.windows(2) {
        if entry_folder(&w[0].0) == entry_folder(&w[1].0) {
            return Err(layout(format!(
                "{} and {} are in the same folder; keep one",
                w[0].0, w[1].0
            )));
        }
    }
    for (c, _) in &comments {
        if !posts
            .iter()
            .any(|(p, _)| entry_folder(p) == entry_folder(c))
        {
            return Err(layout(format!(
                "{c} has no Posts.xml in its folder (comments are read with the Posts.xml beside them; \
                 the archive's Posts.xml: {})",
                list(posts.iter().map(|(p, _)| p))
            )));
        }
    }
    if posts.len() > 1 && site.is_some() {
        return Err(layout(format!(
            "it holds {} Posts.xml ({}), one site each, named after their folders; \
             --site gives one name for all of them: leave it out, or extract the one you want \
             (7zz x ARCHIVE FOLDER/Posts.xml) and ingest that",
            posts.len(),
            list(posts.iter().map(|(p, _)| p))
        )));
    }
    let mut inputs: Vec<DumpInput> = Vec::new();
    for (entry, size) in &posts {
        let folder = entry_folder(entry);
        let derived = if posts.len() == 1 || folder.is_empty() {
            site_name(arg)
        } else {
            Some(entry_file(folder).to_string())
        };
        let site_name = checked(derived).map_err(|e| match e {
            DumpError::BadDerivedSite { site, .. } if posts.len() > 1 => layout(format!(
                "the site name taken from the folder of {entry}, {}, breaks the rule ({}); \
                 extract it (7zz x) and ingest it with --site NAME",
                super::row::quote(&site),
                super::SITE_RULE
            )),
            e => e,
        })?;
        if let Some(other) = inputs.iter().find(|i| i.site == site_name) {
            return Err(layout(format!(
                "{} and {entry} would both be site {site_name}; extract them (7zz x) and ingest each with its own --site",
                other.posts.entry_name()
            )));
        }
        let comments = comments
            .iter()
            .find(|(c, _)| entry_folder(c) == folder)
            .cloned();
        inputs.push(DumpInput {
            arg: arg.to_path_buf(),
            site: site_name,
            posts: Source::SevenZ {
                archive: arg.to_path_buf(),
                entry: entry.clone(),
            },
            posts_size: Some(*size),
            disk_size,
            comments_size: comments.as_ref().map(|(_, s)| *s),
            comments: comments.map(|(entry, _)| Source::SevenZ {
                archive: arg.to_path_buf(),
                entry,
            }),
        });
    }
    Ok(inputs)
}

/// A sevenz-rust2 error in words (its own Display is its Debug form).
pub fn sevenz_words(e: &sevenz_rust2::Error) -> String {
    use sevenz_rust2::Error as E;
    let corrupt = |what: &str| format!("the archive is corrupt ({what})");
    match e {
        E::BadSignature(_) => "not a 7z archive (it does not start with the 7z signature)".into(),
        E::UnsupportedVersion { major, minor } => {
            format!("7z format version {major}.{minor} is not supported")
        }
        E::ChecksumVerificationFailed | E::NextHeaderCrcMismatch => {
            corrupt("a checksum does not match")
        }
        E::Io(io, _) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "the archive is cut off (it ends too early)".into()
        }
        E::Io(io, _)
            if matches!(
                io.kind(),
                io::ErrorKind::Other | io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
            ) =>
        {
            corrupt(&io_words(io))
        }
        E::Io(io, _) | E::FileOpen(io, _) => io_words(io),
        E::Other(what) if what.contains("out of range") => {
            format!("the archive is cut off or corrupt ({what})")
        }
        E::Other(what) => corrupt(what),
        E::BadTerminatedStreamsInfo(_)
        | E::BadTerminatedUnpackInfo
        | E::BadTerminatedPackInfo(_)
        | E::BadTerminatedSubStreamsInfo
        | E::BadTerminatedHeader(_) => corrupt("its header is damaged"),
        E::ExternalUnsupported => {
            "archives whose header is kept in an external stream are not supported".into()
        }
        E::UnsupportedCompressionMethod(m) if m.to_ascii_uppercase().contains("AES") => {
            PASSWORD.into()
        }
        E::UnsupportedCompressionMethod(m) => format!(
            "its compression method {m} is not supported (LZMA, LZMA2, BZip2, PPMd and stored are)"
        ),
        E::MaxMemLimited { max_kb, actaul_kb } => format!(
            "decompressing it needs {actaul_kb} KiB of memory, more than the limit of {max_kb} KiB"
        ),
        E::PasswordRequired | E::MaybeBadPassword(_) => PASSWORD.into(),
        E::Unsupported(what) => format!("not supported: {what}"),
        E::FileNotFound => corrupt("an entry it lists is missing"),
    }
}

const PASSWORD: &str =
    "password-protected archives are not supported; extract it with 7zz x and ingest the files";

fn sevenz_err(path: &Path, e: sevenz_rust2::Error) -> DumpError {
    DumpError::SevenZ {
        path: path.to_path_buf(),
        message: sevenz_words(&e),
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
                    let _ = tx.send(Err(io::Error::other(sevenz_words(&e))));
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
