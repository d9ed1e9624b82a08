//! One open study: a study folder's paths ([`StudyDir`]) and, opened once,
//! its study file and store ([`Workspace`]), which every stage takes. A
//! command opens its study with one call, read-only when it only reads.

use std::path::{Path, PathBuf};

use crate::store::{STORE_FILE, Store, StoreError, writable};
use crate::study::{STUDY_FILE, Study, StudyError};

/// The folder of a study's trained models (`models/NAME.json`).
pub const MODELS_DIR: &str = "models";
/// The default folder of a study's report.
pub const REPORT_DIR: &str = "report";

/// How a command opens the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads: the store must exist and is never written.
    ReadOnly,
    /// Writes into a store that must exist.
    Existing,
    /// Writes, creating the store when it is missing (ingest).
    Create,
    /// Writes when the study folder is writable, else only reads.
    WritableIfPossible,
}

/// A study folder's paths: study.toml, study.db, models/, report/.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyDir {
    root: PathBuf,
}

impl StudyDir {
    pub fn new(root: impl Into<PathBuf>) -> StudyDir {
        StudyDir { root: root.into() }
    }

    /// The folder itself, as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/study.toml`.
    pub fn study_file(&self) -> PathBuf {
        self.root.join(STUDY_FILE)
    }

    /// Whether the folder has a study file yet.
    pub fn has_study_file(&self) -> bool {
        self.study_file().exists()
    }

    /// `DIR/study.db`.
    pub fn store_file(&self) -> PathBuf {
        self.root.join(STORE_FILE)
    }

    /// `DIR/models`.
    pub fn models_dir(&self) -> PathBuf {
        self.root.join(MODELS_DIR)
    }

    /// `DIR/models/NAME.json`, where a trained model named `name` lives.
    pub fn model_file(&self, name: &str) -> PathBuf {
        self.models_dir().join(format!("{name}.json"))
    }

    /// `DIR/report`, where the report goes unless told otherwise.
    pub fn report_dir(&self) -> PathBuf {
        self.root.join(REPORT_DIR)
    }

    /// Reads and validates the study file.
    pub fn load_study(&self) -> Result<Study, StudyError> {
        Study::load(&self.root)
    }

    /// Opens the store alone (for commands that need no study file).
    pub fn open_store(&self, access: Access) -> Result<Store, StoreError> {
        let path = self.store_file();
        match access {
            Access::ReadOnly => Store::open_read_only(&path),
            Access::Existing => Store::open_existing(&path),
            Access::Create => Store::open_or_create(&path),
            Access::WritableIfPossible if writable(&self.root) => Store::open_existing(&path),
            Access::WritableIfPossible => Store::open_read_only(&path),
        }
    }

    /// Reads the study file, then opens the store.
    pub fn open(self, access: Access) -> Result<Workspace, WorkspaceError> {
        let study = self.load_study()?;
        let store = self.open_store(access)?;
        Ok(Workspace {
            dir: self,
            study,
            store,
        })
    }
}

/// An open study: its folder, its study file and its store.
pub struct Workspace {
    pub dir: StudyDir,
    pub study: Study,
    pub store: Store,
}

impl Workspace {
    /// Opens the study at `root`: study.toml first, then study.db.
    pub fn open(root: impl Into<PathBuf>, access: Access) -> Result<Workspace, WorkspaceError> {
        StudyDir::new(root).open(access)
    }

    /// The study's category keys, in study order.
    pub fn category_keys(&self) -> Vec<String> {
        self.study.category_keys()
    }
}

/// Why a study could not be opened: its file or its store (each says which
/// file, once).
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Study(#[from] StudyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_under_the_folder() {
        let d = StudyDir::new("some/study");
        assert_eq!(d.root(), Path::new("some/study"));
        assert_eq!(d.study_file(), Path::new("some/study/study.toml"));
        assert_eq!(d.store_file(), Path::new("some/study/study.db"));
        assert_eq!(d.models_dir(), Path::new("some/study/models"));
        assert_eq!(d.model_file("lin"), Path::new("some/study/models/lin.json"));
        assert_eq!(d.report_dir(), Path::new("some/study/report"));
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("stackmine-workspace-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_study_file_is_read_before_the_store() {
        let dir = temp_dir("order");
        // Neither file: the study file's error, which says what to run.
        let err = Workspace::open(&dir, Access::ReadOnly).err().unwrap();
        assert!(matches!(
            err,
            WorkspaceError::Study(StudyError::Missing { .. })
        ));
        assert!(err.to_string().contains("stackmine init"), "{err}");
        // A study file but no store: the store's error; nothing is created.
        std::fs::write(dir.join(STUDY_FILE), crate::study::DEFAULT_STUDY_TOML).unwrap();
        for access in [Access::ReadOnly, Access::Existing] {
            let err = Workspace::open(&dir, access).err().unwrap();
            assert!(matches!(err, WorkspaceError::Store(_)), "{access:?}: {err}");
            assert!(!dir.join(STORE_FILE).exists());
        }
        // Create makes the store, which then opens read-only.
        let ws = Workspace::open(&dir, Access::Create).unwrap();
        assert_eq!(ws.dir.root(), dir.as_path());
        assert_eq!(ws.category_keys().len(), ws.study.categories.len());
        assert!(!ws.category_keys().is_empty());
        drop(ws);
        assert!(dir.join(STORE_FILE).is_file());
        assert!(Workspace::open(&dir, Access::ReadOnly).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
