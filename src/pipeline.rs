//! The stages of a study, and the main job that composes them (`stackmine
//! run`): init when needed → ingest → stats → classify → report. Each stage
//! takes the open [`Workspace`]; none prints. The binary parses arguments
//! into the options here, gives progress displays, and shows what each stage
//! returns (through [`Job`] for the main job).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::analyze::stats::{self, Stats};
use crate::classify::encoder::Precision;
use crate::classify::features::Doc;
use crate::classify::select::{self, Choice, EMBEDDING, Loaded, SelectError};
use crate::ingest::{self, IngestError, IngestOptions, Progress};
use crate::report::output::{Output, OutputError};
use crate::store::{IngestLog, QuestionFacts, StoreError};
use crate::study::DEFAULT_STUDY_TOML;
use crate::workspace::{Access, StudyDir, Workspace, WorkspaceError};

mod report;
pub use report::{ReportError, Reported, write_report};

/// Why a stage stopped; each says which file or step, once.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("cannot render the statistics")]
    Render(#[source] std::io::Error),
    /// `init` without force on a folder that has a study file.
    #[error("{} exists", path.display())]
    StudyExists { path: PathBuf },
    #[error("ingest into {} failed", db.display())]
    Ingest {
        db: PathBuf,
        #[source]
        source: IngestError,
    },
    #[error("cannot store the endorsed answers in {}", db.display())]
    Endorse {
        db: PathBuf,
        #[source]
        source: StoreError,
    },
    /// The dump's date given for the waiting questions precedes a question.
    #[error(
        "the dump's date {} is before the latest question of the study ({latest}, question {id} of {site}): the dump's date cannot precede its questions",
        stats::iso_ms(*as_of_ms)
    )]
    AsOfBeforeLatest {
        as_of_ms: i64,
        latest: String,
        id: i64,
        site: String,
    },
}

/// Writes the default study file into `dir`, creating the folder; refuses
/// to replace one unless `force`. Returns the file's path.
pub fn init(dir: &StudyDir, force: bool) -> Result<PathBuf, PipelineError> {
    let path = dir.study_file();
    if path.exists() && !force {
        return Err(PipelineError::StudyExists { path });
    }
    crate::report::output::write_file(&path, DEFAULT_STUDY_TOML.as_bytes().to_vec())?;
    Ok(path)
}

/// What an ingest did, and how long it took.
#[derive(Debug)]
pub struct Ingested {
    pub logs: Vec<IngestLog>,
    /// Bytes of the dumps read.
    pub bytes: u64,
    pub elapsed: Duration,
    /// How long the study was locked for writes.
    pub write_lock: Duration,
}

/// Reads `dumps` into the study's store (all or nothing), then rebuilds the
/// endorsed answers from the comments just swapped in.
pub fn ingest(
    ws: &mut Workspace,
    dumps: &[PathBuf],
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<Ingested, PipelineError> {
    let db = ws.dir.store_file();
    let started = std::time::Instant::now();
    let done =
        ingest::ingest(&mut ws.store, &ws.study, dumps, options, progress).map_err(|source| {
            PipelineError::Ingest {
                db: db.clone(),
                source,
            }
        })?;
    // The endorsed answers follow the comments just swapped in: rebuilt as a
    // whole (one transaction). Were this cut short, readers notice by the
    // ingest mark and rebuild or recompute.
    crate::endorse::rebuild(&mut ws.store, &ws.study)
        .map_err(|source| PipelineError::Endorse { db, source })?;
    Ok(Ingested {
        bytes: done.logs.iter().map(|l| l.dump_bytes).sum(),
        logs: done.logs,
        elapsed: started.elapsed(),
        write_lock: done.write_lock,
    })
}

/// An open study with every question's facts and the statistics computed
/// from them: what `stats`, `report` and `run` read. Derefs to the
/// [`Workspace`] (`data.study`, `data.store`).
pub struct StudyData {
    pub ws: Workspace,
    pub facts: Vec<QuestionFacts>,
    pub stats: Stats,
}

impl std::ops::Deref for StudyData {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.ws
    }
}

impl std::ops::DerefMut for StudyData {
    fn deref_mut(&mut self) -> &mut Workspace {
        &mut self.ws
    }
}

/// Reads every question's facts and computes the statistics. `as_of_ms`
/// (ms since the epoch, UTC) overrides every site's dump date for the
/// censored answer times; it may not precede the latest question.
pub fn load(ws: Workspace, as_of_ms: Option<i64>) -> Result<StudyData, PipelineError> {
    let mut facts = ws.store.question_facts()?;
    if let Some(ms) = as_of_ms {
        if let Some(latest) = facts.iter().max_by_key(|q| q.created_ms) {
            if ms < latest.created_ms {
                return Err(PipelineError::AsOfBeforeLatest {
                    as_of_ms: ms,
                    latest: latest.created.clone(),
                    id: latest.id,
                    site: latest.site.clone(),
                });
            }
        }
        for q in &mut facts {
            q.as_of_ms = ms;
        }
    }
    let frameworks: Vec<(String, String)> = ws
        .study
        .enabled_frameworks()
        .iter()
        .map(|f| (f.key.clone(), f.name.clone()))
        .collect();
    let stats = stats::compute(&frameworks, &facts);
    Ok(StudyData { ws, facts, stats })
}

/// Writes the statistics as `dir/stats.md` and `dir/stats.json`, all or
/// nothing.
pub fn write_stats(stats: &Stats, dir: &Path) -> Result<(), PipelineError> {
    let mut md = Vec::new();
    crate::report::stats::render_markdown(stats, &mut md).map_err(PipelineError::Render)?;
    let mut json = Vec::new();
    crate::report::stats::render_json(stats, &mut json).map_err(PipelineError::Render)?;
    let mut out = Output::new();
    out.add(dir.join("stats.md"), md);
    out.add(dir.join("stats.json"), json);
    Ok(out.commit()?)
}

/// Chooses the model `choice` names for the study (see
/// [`select::load_model`]); `Loaded::fallback` says why the built-in
/// choice fell back to the linear model.
pub fn choose_model(
    ws: &Workspace,
    choice: Choice,
    precision: Precision,
) -> Result<Loaded, PipelineError> {
    Ok(select::load_model(
        &ws.dir,
        choice,
        &ws.category_keys(),
        precision,
    )?)
}

/// What a classification did.
#[derive(Debug)]
pub struct Classified {
    pub model: String,
    pub kind: &'static str,
    /// Questions per category of the model, in the model's order.
    pub counts: Vec<(String, u64)>,
    pub questions: u64,
    /// Questions embedded now (the rest came from the cache); 0 for models
    /// that read no embedding.
    pub embedded: u64,
    /// The encoder's name, for models that read embeddings.
    pub encoder: Option<String>,
    pub elapsed: Duration,
}

/// Gives every question of the study a category with `loaded`'s model, in
/// batches of 4,096 (embedding them first when it reads embeddings, with
/// `progress` over the questions), and replaces the previous
/// classification in one transaction.
pub fn classify(
    ws: &mut Workspace,
    loaded: &Loaded,
    progress: &dyn Progress,
) -> Result<Classified, PipelineError> {
    let model = &loaded.model;
    let started = std::time::Instant::now();
    let mut rows: Vec<crate::classify::Classification> = Vec::new();
    let mut embedded = 0;
    if model.encoder().is_some() {
        progress.begin(EMBEDDING, Some(ws.store.question_count()?));
    }
    let done = |k: u64| progress.advance(k);
    let store = &ws.store;
    store.for_each_question_doc(4096, |mut batch| {
        let mut posts: Vec<(&str, i64, &mut Doc)> = batch
            .iter_mut()
            .map(|(site, id, doc)| (site.as_str(), *id, doc))
            .collect();
        embedded += loaded.attach(store, &mut posts, &done)?;
        rows.extend(crate::classify::classify_batch(model, batch));
        Ok(())
    })?;
    progress.end();
    ws.store.replace_classifications(&model.name, &rows)?;
    let counts = model
        .categories
        .iter()
        .map(|c| {
            (
                c.clone(),
                rows.iter().filter(|r| &r.category == c).count() as u64,
            )
        })
        .collect();
    Ok(Classified {
        model: model.name.clone(),
        kind: model.kind(),
        counts,
        questions: rows.len() as u64,
        embedded: embedded as u64,
        encoder: model.encoder().map(|spec| spec.name.clone()),
        elapsed: started.elapsed(),
    })
}

/// The main job's settings, parsed by the binary.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The study folder (created with the default study when it has no
    /// study file).
    pub dir: PathBuf,
    pub dumps: Vec<PathBuf>,
    pub ingest: IngestOptions,
    /// The dump's date for the waiting questions (see [`load`]).
    pub as_of_ms: Option<i64>,
    /// Where the report goes (default: the study's report folder).
    pub out: Option<PathBuf>,
    /// The sentence encoder's precision.
    pub precision: Precision,
}

/// What the caller of [`run`] provides: progress displays and what to show
/// after each stage. Every hook may fail with the caller's own error type.
pub trait Job {
    type Error: From<PipelineError>;
    /// Progress of reading dumps (bytes).
    fn ingest_progress(&self) -> &dyn Progress;
    /// Progress of embedding questions (a count).
    fn embedding_progress(&self) -> &dyn Progress;
    /// A stage without a count starts (`None`: it ended).
    fn stage(&mut self, what: Option<&str>);
    /// The folder had no study file: the default one was written at `path`.
    fn created(&mut self, path: &Path) -> Result<(), Self::Error>;
    fn ingested(&mut self, done: &Ingested) -> Result<(), Self::Error>;
    /// The statistics, also written to `out` as stats.md and stats.json.
    fn stats(&mut self, stats: &Stats, out: &Path) -> Result<(), Self::Error>;
    /// The model is chosen (before classifying).
    fn model_chosen(&mut self, loaded: &Loaded) -> Result<(), Self::Error>;
    fn classified(&mut self, done: &Classified) -> Result<(), Self::Error>;
    /// The report is written (its notes are for the user).
    fn reported(&mut self, done: &Reported) -> Result<(), Self::Error>;
}

/// The main job: init when the folder has no study file, ingest the dumps,
/// the statistics (into the report folder too), classify every question
/// with the built-in model, and write the report. The study is opened once.
/// Returns index.html's path.
pub fn run<J: Job>(opts: &RunOptions, job: &mut J) -> Result<PathBuf, J::Error> {
    let dir = StudyDir::new(&opts.dir);
    if !dir.has_study_file() {
        let path = init(&dir, false)?;
        job.created(&path)?;
    }
    let out = opts.out.clone().unwrap_or_else(|| dir.report_dir());
    let mut ws = dir.open(Access::Create).map_err(PipelineError::from)?;
    let done = ingest(&mut ws, &opts.dumps, &opts.ingest, job.ingest_progress())?;
    job.ingested(&done)?;
    let mut data = load(ws, opts.as_of_ms)?;
    write_stats(&data.stats, &out)?;
    job.stats(&data.stats, &out)?;
    job.stage(Some("classifying questions with the default model"));
    let loaded = choose_model(&data, Choice::BuiltIn, opts.precision)?;
    job.model_chosen(&loaded)?;
    let classified = classify(&mut data, &loaded, job.embedding_progress())?;
    job.classified(&classified)?;
    job.stage(None);
    job.stage(Some("writing the report"));
    let reported = write_report(&data, &out)?;
    job.reported(&reported)?;
    job.stage(None);
    Ok(reported.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("stackmine-pipeline-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn init_writes_the_default_study_once() {
        let dir = StudyDir::new(temp_dir("init"));
        let path = init(&dir, false).unwrap();
        assert_eq!(path, dir.study_file());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_STUDY_TOML);
        let err = init(&dir, false).unwrap_err();
        assert!(matches!(err, PipelineError::StudyExists { .. }));
        assert!(!err.to_string().contains("--"), "no option names: {err}");
        assert!(init(&dir, true).is_ok());
        let _ = std::fs::remove_dir_all(dir.root());
    }

    #[test]
    fn an_empty_study_loads_and_refuses_no_date() {
        let dir = StudyDir::new(temp_dir("load"));
        init(&dir, false).unwrap();
        let ws = dir.clone().open(Access::Create).unwrap();
        let data = load(ws, Some(0)).unwrap();
        assert!(data.facts.is_empty());
        assert_eq!(data.stats.all.questions, 0);
        // Deref: the workspace's fields through the data.
        assert_eq!(data.dir, dir);
        let out = dir.root().join("out");
        write_stats(&data.stats, &out).unwrap();
        assert!(out.join("stats.md").is_file() && out.join("stats.json").is_file());
        let _ = std::fs::remove_dir_all(dir.root());
    }
}
