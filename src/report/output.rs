//! Files written all or nothing: every file stackmine writes (report,
//! tables, statistics, exported labels, study.toml) goes through [`Output`].
//!
//! Each file is first written in full under a temporary name in its own
//! folder (`.NAME.stackmine-PID.tmp`) and synced; only when all are written
//! are they renamed into place, in the order they were added (so a report's
//! `index.html`, added last, appears last). A failure (a full disk, a folder
//! where a file should go) removes the temporary files and leaves every
//! existing file as it was: never a partial or empty file. Nothing else in
//! the output folder is touched.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "cannot write {}: it is a folder (or not a regular file); stackmine does not replace it, move it away",
        path.display()
    )]
    NotAFile { path: PathBuf },
    #[error("cannot write into {}: it is not a folder", path.display())]
    NotAFolder { path: PathBuf },
}

/// A set of files to write together.
#[derive(Debug, Default)]
pub struct Output {
    files: Vec<(PathBuf, Vec<u8>)>,
}

/// The `n`th temporary name beside `path`.
fn temp_name(path: &Path, n: u32) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.stackmine-{}-{n}.tmp", std::process::id()))
}

/// Creates a new temporary file beside `path` (never one that exists: a
/// file of that name is someone else's and is left alone).
fn create_temp(path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut n = 0;
    loop {
        let temp = temp_name(path, n);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

impl Output {
    pub fn new() -> Output {
        Output::default()
    }

    /// Adds a file; files appear in the order added.
    pub fn add(&mut self, path: impl Into<PathBuf>, bytes: Vec<u8>) {
        self.files.push((path.into(), bytes));
    }

    /// Writes every file (see the module documentation).
    pub fn commit(self) -> Result<(), OutputError> {
        // Check every target first: nothing is written for a doomed set.
        let mut folders: Vec<PathBuf> = Vec::new();
        for (path, _) in &self.files {
            if let Ok(m) = std::fs::symlink_metadata(path) {
                if m.is_dir() || !(m.is_file() || m.file_type().is_symlink()) {
                    return Err(OutputError::NotAFile { path: path.clone() });
                }
                if m.file_type().is_symlink() && path.is_dir() {
                    return Err(OutputError::NotAFile { path: path.clone() });
                }
            }
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !folders.contains(&parent) {
                folders.push(parent);
            }
        }
        for f in &folders {
            let mut p = f.as_path();
            loop {
                if let Ok(m) = std::fs::metadata(p) {
                    if !m.is_dir() {
                        return Err(OutputError::NotAFolder {
                            path: p.to_path_buf(),
                        });
                    }
                    break;
                }
                match p.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => p = parent,
                    _ => break,
                }
            }
        }
        // Create missing folders, remembering them to remove on failure.
        let mut created: Vec<PathBuf> = Vec::new();
        let mut temps: Vec<PathBuf> = Vec::new();
        let cleanup = |temps: &[PathBuf], created: &[PathBuf]| {
            for t in temps {
                let _ = std::fs::remove_file(t);
            }
            for d in created.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
        };
        for f in &folders {
            let mut missing = Vec::new();
            let mut p = f.as_path();
            while !p.exists() {
                missing.push(p.to_path_buf());
                match p.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => p = parent,
                    _ => break,
                }
            }
            for m in missing.into_iter().rev() {
                if let Err(error) = std::fs::create_dir(&m) {
                    if error.kind() != std::io::ErrorKind::AlreadyExists {
                        cleanup(&temps, &created);
                        return Err(OutputError::Write { path: m, error });
                    }
                } else {
                    created.push(m);
                }
            }
        }
        for (path, bytes) in &self.files {
            let written = create_temp(path).and_then(|(temp, mut file)| {
                temps.push(temp);
                file.write_all(bytes)?;
                file.sync_all()
            });
            if let Err(error) = written {
                cleanup(&temps, &created);
                return Err(OutputError::Write {
                    path: path.clone(),
                    error,
                });
            }
        }
        for (i, (path, _)) in self.files.iter().enumerate() {
            if let Err(error) = std::fs::rename(&temps[i], path) {
                cleanup(&temps[i..], &[]);
                return Err(OutputError::Write {
                    path: path.clone(),
                    error,
                });
            }
        }
        Ok(())
    }
}

/// Writes one file all or nothing.
pub fn write_file(path: &Path, bytes: Vec<u8>) -> Result<(), OutputError> {
    let mut out = Output::new();
    out.add(path, bytes);
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_in_order_and_refuses_folders() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("sub/a.txt");
        let b = dir.path().join("index.html");
        let mut out = Output::new();
        out.add(&a, b"a".to_vec());
        out.add(&b, b"b".to_vec());
        out.commit().unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"a");
        assert_eq!(std::fs::read(&b).unwrap(), b"b");
        // A folder where a file goes: nothing written, no folder created.
        std::fs::remove_file(&b).unwrap();
        std::fs::create_dir(&b).unwrap();
        let c = dir.path().join("new/c.txt");
        let mut out = Output::new();
        out.add(&c, b"c".to_vec());
        out.add(&a, b"changed".to_vec());
        out.add(&b, b"b".to_vec());
        let err = out.commit().unwrap_err().to_string();
        assert!(err.contains("it is a folder"), "{err}");
        assert!(!dir.path().join("new").exists());
        assert_eq!(std::fs::read(&a).unwrap(), b"a");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.txt"]);
        // A file where a folder goes.
        let err = write_file(&a.join("x"), b"x".to_vec()).unwrap_err();
        assert!(err.to_string().contains("is not a folder"), "{err}");
        // A file with the temporary name is someone else's: kept.
        let theirs = temp_name(&a, 0);
        std::fs::write(&theirs, b"theirs").unwrap();
        write_file(&a, b"new".to_vec()).unwrap();
        assert_eq!(std::fs::read(&theirs).unwrap(), b"theirs");
        assert_eq!(std::fs::read(&a).unwrap(), b"new");
        assert!(!temp_name(&a, 1).exists());
    }
}
