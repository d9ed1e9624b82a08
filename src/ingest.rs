//! The ingest stage: dumps → the study store, in one transaction.
//!
//! For each table file a reader thread cuts the stream into chunks of whole
//! lines; batches of chunks are scanned on all cores ([`crate::dump::scan`]);
//! results are settled in file order on this thread: header and footer checks,
//! line numbers, Id order, answers whose question sat in another chunk, and the
//! store writes. Memory is bounded by the batch size and what is kept.
//!
//! Files not sorted by Id (or answers with a larger Id than their question's)
//! get a second pass that picks up answers whose question came later.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;

use crate::dump::DumpError;
use crate::dump::chunks::{Chunk, Chunker};
use crate::dump::input::{self, DumpInput, Source};
use crate::dump::row;
use crate::dump::scan::{self, ChunkScan, LineKind, Mark, Table, Want};
use crate::dump::tags::TagFormat;
use crate::report::fmt;
use crate::store::{IngestLog, Store, StoreError, Writer, utc_now};
use crate::study::{Framework, Study};

/// How a dump is laid out, for messages about files that are not.
const ONE_PER_LINE: &str = "a Stack Exchange dump has its <?xml …?> declaration, its root element and each <row …/> on a line of their own";

/// How many bad rows are kept in full for the log and messages.
const BAD_ROW_SAMPLES: usize = 10;

/// Test-only: abort the process (as a crash or `kill -9` would) after this many
/// rows were written, to test that an interrupted ingest leaves the study intact.
pub const ABORT_ENV: &str = "STACKMINE_TEST_ABORT_AFTER_ROWS";

/// Options of an ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Keep every question, not only those matching a framework.
    pub all_questions: bool,
    /// The site all dumps go to, instead of each dump's derived name.
    pub site: Option<String>,
    /// Base address for links to posts.
    pub site_url: Option<String>,
    /// Largest tolerated share of malformed rows per file.
    pub max_bad_rows: f64,
    /// Bytes per chunk.
    pub chunk_size: usize,
    /// Longest row (line) read, in bytes; a longer one is a malformed row.
    pub max_row: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            all_questions: false,
            site: None,
            site_url: None,
            max_bad_rows: 0.01,
            chunk_size: 8 << 20,
            max_row: crate::dump::chunks::DEFAULT_MAX_LINE,
        }
    }
}

/// Receives progress; the command draws it, tests ignore it.
pub trait Progress: Sync {
    /// A new file starts; `total` is its size in bytes when known.
    fn begin(&self, what: &str, total: Option<u64>);
    /// `bytes` more were processed.
    fn advance(&self, bytes: u64);
    /// The file is done.
    fn end(&self);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn end(&self) {}
}

/// Errors that stop an ingest; the store is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    BadOption(String),
    #[error(
        "{source_name}: {bad} of {rows} rows are malformed ({:.2}%, more than the {:.2}% allowed); the study is unchanged. First ones:\n  {}",
        100.0 * *bad as f64 / *rows as f64,
        100.0 * max,
        samples.join("\n  ")
    )]
    TooManyBadRows {
        source_name: String,
        bad: u64,
        rows: u64,
        max: f64,
        samples: Vec<String>,
    },
}

/// What an ingest did.
#[derive(Debug)]
pub struct Ingested {
    /// One log row per Posts.xml read.
    pub logs: Vec<IngestLog>,
    /// How long the store's write lock was held (the final swap).
    pub write_lock: std::time::Duration,
}

/// Reads every dump into the store, all or nothing, and returns one log row
/// per Posts.xml read.
pub fn ingest(
    store: &mut Store,
    study: &Study,
    dumps: &[PathBuf],
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> Result<Ingested, IngestError> {
    check_options(opts)?;
    let mut inputs: Vec<DumpInput> = Vec::new();
    for d in dumps {
        inputs.extend(input::resolve(d, opts.site.as_deref())?);
    }
    let frameworks: Vec<Framework> = study.enabled_frameworks().into_iter().cloned().collect();
    let abort_after = std::env::var(ABORT_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let mut writer = store.writer()?;
    let mut replaced: HashSet<String> = HashSet::new();
    let mut logs = Vec::new();
    let mut ctx = Ctx {
        writer: &mut writer,
        frameworks: &frameworks,
        opts,
        progress,
        written: 0,
        abort_after,
        latest_created: BTreeMap::new(),
    };
    for input in &inputs {
        if replaced.insert(input.site.clone()) {
            let url = opts.site_url.clone().or_else(|| {
                input::looks_like_host(&input.site).then(|| format!("https://{}", input.site))
            });
            ctx.writer
                .replace_site(&input.site, url.as_deref(), opts.all_questions)?;
        }
        let log = ctx.ingest_one(input)?;
        ctx.writer.log_ingest(&log)?;
        logs.push(log);
    }
    // Each site's dump date: the latest CreationDate in any of its files.
    for site in &replaced {
        let raw = ctx
            .latest_created
            .get(site)
            .map(Vec::as_slice)
            .unwrap_or(b"");
        let as_of = std::str::from_utf8(raw)
            .ok()
            .and_then(|d| row::parse_date_ms(d).map(|ms| (d, ms)));
        ctx.writer.set_site_as_of(site, as_of);
    }
    let write_lock = writer.commit()?;
    Ok(Ingested { logs, write_lock })
}

/// Refuses options no ingest can use, before anything is read or written.
fn check_options(opts: &IngestOptions) -> Result<(), IngestError> {
    if let Some(site) = &opts.site {
        if !input::valid_site(site) {
            return Err(DumpError::BadSite { site: site.clone() }.into());
        }
    }
    if let Some(url) = &opts.site_url {
        if !input::valid_site_url(url) {
            return Err(DumpError::BadSiteUrl { url: url.clone() }.into());
        }
    }
    if !(0.0..=1.0).contains(&opts.max_bad_rows) {
        return Err(IngestError::BadOption(format!(
            "--max-bad-rows {}: must be a share from 0 to 1 (0.01 is 1%)",
            opts.max_bad_rows
        )));
    }
    Ok(())
}

struct Ctx<'a, 'w> {
    writer: &'a mut Writer<'w>,
    frameworks: &'a [Framework],
    opts: &'a IngestOptions,
    progress: &'a dyn Progress,
    written: u64,
    abort_after: Option<u64>,
    /// Per site, the latest raw CreationDate of its question and answer rows.
    latest_created: BTreeMap<String, Vec<u8>>,
}

/// The Ids of the questions and answers kept so far from one site's Posts.xml.
#[derive(Default)]
struct Kept {
    questions: HashSet<i64>,
    answers: HashSet<i64>,
}

/// The table file one pass reads, and what its progress bar says.
struct PassFile<'s> {
    what: String,
    source: &'s Source,
    size: Option<u64>,
}

/// What the settled chunks of one file have told so far.
#[derive(Default)]
struct FileState {
    source_name: String,
    line_base: u64,
    bytes: u64,
    rows: u64,
    bad: u64,
    samples: Vec<String>,
    header_done: bool,
    decl_seen: bool,
    /// Line of the first `</posts>` (or `</comments>`).
    closed_at: Option<u64>,
    last: Option<(u64, u64, Mark)>,
    last_id: Option<i64>,
    sorted: bool,
    forward_parent: bool,
    tag_formats: u8,
    questions_unmatched: u64,
    other_types: BTreeMap<i64, u64>,
    comments_seen: u64,
    duplicates: u64,
    orphans: u64,
    kept_questions: u64,
    kept_answers: u64,
    kept_comments: u64,
    latest_created: Vec<u8>,
}

impl FileState {
    fn new(source: &Source) -> FileState {
        FileState {
            source_name: source.display(),
            sorted: true,
            ..FileState::default()
        }
    }

    fn bad_row(&mut self, line: u64, id: Option<i64>, what: &str) {
        self.bad += 1;
        if self.samples.len() < BAD_ROW_SAMPLES {
            let id = id.map(|i| format!(" (Id {i})")).unwrap_or_default();
            self.samples.push(format!("line {line}{id}: {what}"));
        }
    }

    /// Checks the lines that are not rows, and counts the bad rows, of one chunk.
    fn settle_lines(
        &mut self,
        chunk: &Chunk,
        scan: &ChunkScan,
        table: Table,
        max_row: usize,
    ) -> Result<(), DumpError> {
        let root = table.root();
        let base = self.line_base;
        let abs = |local: u64| base + local + 1;
        if !self.header_done {
            let first_row = scan.first_row_line;
            let first_mark = scan.marks.first();
            let row_first = match (first_row, first_mark) {
                (Some(r), Some(m)) => r < m.line,
                (Some(_), None) => true,
                _ => false,
            };
            if row_first && !self.decl_seen {
                return Err(DumpError::NotADump {
                    source_name: self.source_name.clone(),
                    line: abs(first_row.unwrap_or(0)),
                    expected: root,
                    found: format!("a row before any <{root}> element"),
                });
            }
        }
        for m in &scan.marks {
            let line = abs(m.line);
            if !self.header_done {
                let found = |what: String| DumpError::NotADump {
                    source_name: self.source_name.clone(),
                    line,
                    expected: root,
                    found: what,
                };
                match &m.kind {
                    LineKind::Decl { open: None } if !self.decl_seen => self.decl_seen = true,
                    LineKind::Decl { open: Some(name) } | LineKind::Open(name) if name == root => {
                        self.header_done = true
                    }
                    LineKind::Decl { open: Some(name) } | LineKind::Open(name) => {
                        return Err(found(format!("its root element is <{name}>, not <{root}>")));
                    }
                    LineKind::TooLong(bytes) => {
                        return Err(found(format!(
                            "the line is {} long with no line break, more than the limit of one row \
                             ({}, --max-row-mib); {ONE_PER_LINE}",
                            fmt::bytes(*bytes),
                            fmt::bytes(max_row as u64)
                        )));
                    }
                    LineKind::Packed => {
                        return Err(found(format!(
                            "the line holds more than one element ({}); {ONE_PER_LINE}",
                            row::quote(&m.snippet)
                        )));
                    }
                    _ => return Err(found(format!("starts with {}", row::quote(&m.snippet)))),
                }
                continue;
            }
            match &m.kind {
                LineKind::Close(name) if name == root => {
                    self.closed_at.get_or_insert(line);
                }
                LineKind::TooLong(bytes) => {
                    let what = format!(
                        "a line of {}, more than the limit of one row ({}, --max-row-mib)",
                        fmt::bytes(*bytes),
                        fmt::bytes(max_row as u64)
                    );
                    self.bad_row(line, None, &what);
                }
                LineKind::Packed => {
                    let what = format!(
                        "the line holds more than one element ({})",
                        row::quote(&m.snippet)
                    );
                    self.bad_row(line, None, &what);
                }
                _ => {
                    let what = format!("unexpected line {}", row::quote(&m.snippet));
                    self.bad_row(line, None, &what);
                }
            }
        }
        for b in &scan.bad {
            self.bad_row(abs(b.line), b.id, &b.error.to_string());
        }
        if let Some(m) = &scan.last {
            self.last = Some((abs(m.line), chunk.offset + m.offset as u64, m.clone()));
        }
        Ok(())
    }

    /// Checks that the file ended properly and that bad rows stay under the limit.
    fn finish(&self, table: Table, max_bad_rows: f64) -> Result<(), IngestError> {
        let root = table.root();
        let Some((line, offset, last)) = &self.last else {
            return Err(DumpError::Empty {
                source_name: self.source_name.clone(),
            }
            .into());
        };
        if !self.header_done {
            return Err(DumpError::NotADump {
                source_name: self.source_name.clone(),
                line: *line,
                expected: root,
                found: format!("no <{root}> element"),
            }
            .into());
        }
        if last.kind != LineKind::Close(root.to_string()) {
            if let Some(closed) = self.closed_at {
                return Err(DumpError::NotADump {
                    source_name: self.source_name.clone(),
                    line: *line,
                    expected: root,
                    found: format!("more lines follow its </{root}> of line {closed}"),
                }
                .into());
            }
            let what = if let LineKind::TooLong(bytes) = last.kind {
                format!(
                    "it ends with a line of {} (longer than the limit of one row) and no </{root}>",
                    fmt::bytes(bytes)
                )
            } else if !last.complete {
                format!(
                    "the last line is incomplete ({}…)",
                    row::quote(&last.snippet)
                )
            } else {
                format!("it ends without </{root}>")
            };
            return Err(DumpError::CutOff {
                source_name: self.source_name.clone(),
                line: *line,
                offset: *offset,
                what,
            }
            .into());
        }
        let rows = self.rows.max(1);
        if self.bad as f64 / rows as f64 > max_bad_rows {
            return Err(IngestError::TooManyBadRows {
                source_name: self.source_name.clone(),
                bad: self.bad,
                rows: self.rows,
                max: max_bad_rows,
                samples: self.samples.clone(),
            });
        }
        Ok(())
    }

    fn add_counts(&mut self, chunk: &Chunk, scan: &ChunkScan) {
        self.line_base += scan.lines;
        self.bytes += chunk.stream_len();
        self.rows += scan.rows
            + scan
                .marks
                .iter()
                .filter(|m| m.kind == LineKind::Other)
                .count() as u64;
        if let (Some(prev), Some(first)) = (self.last_id, scan.first_id) {
            if first <= prev {
                self.sorted = false;
            }
        }
        self.sorted &= scan.sorted;
        self.last_id = scan.last_id.or(self.last_id);
        self.forward_parent |= scan.forward_parent;
        self.tag_formats |= scan.tag_formats;
        self.questions_unmatched += scan.questions_unmatched;
        for (t, n) in &scan.other_types {
            *self.other_types.entry(*t).or_default() += n;
        }
        self.comments_seen += scan.comments_seen;
        if scan.latest_created > self.latest_created {
            self.latest_created.clone_from(&scan.latest_created);
        }
    }
}

impl Ctx<'_, '_> {
    fn count_write(&mut self) {
        self.written += 1;
        if self.abort_after == Some(self.written) {
            // Test hook (see ABORT_ENV): die without unwinding or committing.
            std::process::abort();
        }
    }

    fn write_question(
        &mut self,
        site: &str,
        q: &row::Question,
        st: &mut FileState,
    ) -> Result<bool, StoreError> {
        let fws: Vec<&str> = q
            .frameworks
            .iter()
            .map(|&i| self.frameworks[i].key.as_str())
            .collect();
        let new = self.writer.insert_question(site, q, &fws)?;
        if new {
            st.kept_questions += 1;
        } else {
            st.duplicates += 1;
        }
        self.count_write();
        Ok(new)
    }

    fn write_answer(
        &mut self,
        site: &str,
        a: &row::Answer,
        st: &mut FileState,
    ) -> Result<bool, StoreError> {
        let new = self.writer.insert_answer(site, a)?;
        if new {
            st.kept_answers += 1;
        } else {
            st.duplicates += 1;
        }
        self.count_write();
        Ok(new)
    }

    /// One pass over a table file: each batch of chunks is scanned in
    /// parallel by `scan` (given the rows kept so far, in `kept`), then
    /// `settle` writes the batch in file order, and progress advances.
    fn pass<S: Sync>(
        &mut self,
        file: PassFile<'_>,
        kept: &mut S,
        scan: impl Fn(&S, &Chunk) -> ChunkScan + Sync,
        mut settle: impl FnMut(&mut Self, &mut S, &[Chunk], &[ChunkScan]) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        let opts = self.opts;
        self.progress.begin(&file.what, file.size);
        for_each_batch(file.source, opts, |batch| {
            let scans: Vec<ChunkScan> = {
                let kept = &*kept;
                batch.par_iter().map(|c| scan(kept, c)).collect()
            };
            settle(self, kept, &batch, &scans)?;
            for chunk in &batch {
                self.progress.advance(chunk.stream_len());
            }
            Ok(())
        })?;
        self.progress.end();
        Ok(())
    }

    fn ingest_one(&mut self, input: &DumpInput) -> Result<IngestLog, IngestError> {
        let started = Instant::now();
        let started_at = utc_now();
        let site = input.site.as_str();
        let mut kept = Kept::default();
        let mut st = FileState::new(&input.posts);

        // Pass 1: questions, and answers whose question is known by the end of their batch.
        let (frameworks, all_questions, max_row) =
            (self.frameworks, self.opts.all_questions, self.opts.max_row);
        self.pass(
            PassFile {
                what: format!("{site}: posts"),
                source: &input.posts,
                size: input.posts_size,
            },
            &mut kept,
            |kept, chunk| {
                let want = Want::Posts {
                    frameworks,
                    all_questions,
                    known: &kept.questions,
                };
                scan_one(chunk, Table::Posts, &want, max_row)
            },
            |ctx, kept, batch, scans| {
                for (chunk, scan) in batch.iter().zip(scans) {
                    st.settle_lines(chunk, scan, Table::Posts, max_row)?;
                    st.add_counts(chunk, scan);
                    for q in &scan.questions {
                        if ctx.write_question(site, q, &mut st)? {
                            kept.questions.insert(q.id);
                        }
                    }
                    for a in &scan.answers {
                        if ctx.write_answer(site, a, &mut st)? {
                            kept.answers.insert(a.id);
                        }
                    }
                }
                // Answers whose question came later in this batch.
                let mut line_base = st.line_base - scans.iter().map(|s| s.lines).sum::<u64>();
                for (chunk, scan) in batch.iter().zip(scans) {
                    for d in &scan.deferred {
                        if !kept.questions.contains(&d.parent) {
                            st.orphans += 1;
                            continue;
                        }
                        match row::parse_answer(scan::trim_line(&chunk.data[d.range.clone()])) {
                            Ok(a) => {
                                if ctx.write_answer(site, &a, &mut st)? {
                                    kept.answers.insert(a.id);
                                }
                            }
                            Err(e) => st.bad_row(line_base + d.line + 1, None, &e.to_string()),
                        }
                    }
                    line_base += scan.lines;
                }
                Ok(())
            },
        )?;
        st.finish(Table::Posts, self.opts.max_bad_rows)?;
        let latest = self.latest_created.entry(site.to_string()).or_default();
        if st.latest_created > *latest {
            latest.clone_from(&st.latest_created);
        }

        // Pass 2, only for files where an answer may precede its question.
        let mut passes = 1;
        if st.orphans > 0 && (!st.sorted || st.forward_parent) {
            passes = 2;
            self.pass(
                PassFile {
                    what: format!("{site}: answers before their questions"),
                    source: &input.posts,
                    size: input.posts_size,
                },
                &mut kept,
                |kept, chunk| {
                    let want = Want::LateAnswers {
                        questions: &kept.questions,
                        answers: &kept.answers,
                    };
                    scan_one(chunk, Table::Posts, &want, max_row)
                },
                |ctx, kept, _, scans| {
                    for a in scans.iter().flat_map(|s| &s.answers) {
                        if ctx.write_answer(site, a, &mut st)? {
                            kept.answers.insert(a.id);
                            st.orphans -= 1;
                        }
                    }
                    Ok(())
                },
            )?;
        }

        // Comments on kept posts.
        if let Some(comments) = &input.comments {
            let mut posts: HashSet<i64> = kept.questions.union(&kept.answers).copied().collect();
            let mut cst = FileState::new(comments);
            self.pass(
                PassFile {
                    what: format!("{site}: comments"),
                    source: comments,
                    size: input.comments_size,
                },
                &mut posts,
                |posts, chunk| scan_one(chunk, Table::Comments, &Want::Comments { posts }, max_row),
                |ctx, _, batch, scans| {
                    for (chunk, scan) in batch.iter().zip(scans) {
                        cst.settle_lines(chunk, scan, Table::Comments, max_row)?;
                        cst.add_counts(chunk, scan);
                        for c in &scan.comments {
                            if ctx.writer.insert_comment(site, c)? {
                                cst.kept_comments += 1;
                            } else {
                                cst.duplicates += 1;
                            }
                            ctx.count_write();
                        }
                    }
                    Ok(())
                },
            )?;
            cst.finish(Table::Comments, self.opts.max_bad_rows)?;
            st.kept_comments = cst.kept_comments;
            st.bytes += cst.bytes;
            st.rows += cst.rows;
            st.bad += cst.bad;
            st.duplicates += cst.duplicates;
            st.samples
                .extend(cst.samples.iter().map(|s| format!("Comments.xml {s}")));
            st.samples.truncate(BAD_ROW_SAMPLES);
            st.comments_seen = cst.comments_seen;
        }

        let mut skipped = BTreeMap::new();
        let mut skip = |reason: String, n: u64| {
            if n > 0 {
                skipped.insert(reason, n);
            }
        };
        skip(
            "question matching no framework".into(),
            st.questions_unmatched,
        );
        skip("answer to a question not kept".into(), st.orphans);
        for (t, n) in &st.other_types {
            skip(format!("post type {t} ({})", post_type_name(*t)), *n);
        }
        skip("malformed row".into(), st.bad);
        skip("duplicate Id (first kept)".into(), st.duplicates);
        skip(
            "comment on a post not kept".into(),
            st.comments_seen.saturating_sub(st.kept_comments),
        );
        Ok(IngestLog {
            site: site.to_string(),
            dump: input.arg.display().to_string(),
            source: input.posts.display(),
            dump_bytes: st.bytes,
            started_at,
            seconds: started.elapsed().as_secs_f64(),
            rows_scanned: st.rows,
            questions_kept: st.kept_questions,
            answers_kept: st.kept_answers,
            comments_kept: st.kept_comments,
            bad_rows: st.bad,
            skipped,
            bad_row_samples: st.samples,
            tag_formats: TagFormat::names(st.tag_formats),
            sorted: st.sorted,
            passes,
            all_questions: self.opts.all_questions,
        })
    }
}

/// The post types of the dump's documentation.
fn post_type_name(t: i64) -> &'static str {
    match t {
        3 => "orphaned tag wiki",
        4 => "tag wiki excerpt",
        5 => "tag wiki",
        6 => "moderator nomination",
        7 => "wiki placeholder",
        8 => "privilege wiki",
        _ => "other",
    }
}

/// Scans one chunk; a line too long to read is one bad row or line.
fn scan_one(chunk: &Chunk, table: Table, want: &Want, max_row: usize) -> ChunkScan {
    match chunk.long_line {
        Some(l) => scan::scan_long_line(&chunk.data, l.bytes, max_row as u64),
        None => scan::scan_chunk(&chunk.data, table, want),
    }
}

/// Reads `source` in chunks on a reader thread and hands batches of chunks,
/// in file order, to `f`.
fn for_each_batch(
    source: &Source,
    opts: &IngestOptions,
    mut f: impl FnMut(Vec<Chunk>) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let reader = input::open(source)?;
    let batch_len = 2 * rayon::current_num_threads().max(1);
    let (tx, rx) = mpsc::sync_channel::<std::io::Result<Chunk>>(batch_len);
    let io_err = |e| DumpError::Io {
        path: source.path().to_path_buf(),
        error: e,
    };
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut chunker = Chunker::with_max_line(reader, opts.chunk_size, opts.max_row);
            loop {
                match chunker.next_chunk() {
                    Ok(Some(c)) => {
                        if tx.send(Ok(c)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        let mut batch = Vec::with_capacity(batch_len);
        let result = (|| {
            for chunk in rx.iter() {
                batch.push(chunk.map_err(io_err)?);
                if batch.len() == batch_len {
                    f(std::mem::take(&mut batch))?;
                }
            }
            if !batch.is_empty() {
                f(batch)?;
            }
            Ok(())
        })();
        // On error, dropping the receiver stops the reader thread.
        drop(rx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first lines of the real ai.stackexchange 2017 Posts.xml (CC BY-SA,
    /// tests/data/README.md), closed with `</posts>`.
    fn real_posts(rows: usize) -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/ai.stackexchange.com-2017/Posts.xml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut out: String = text.lines().take(2 + rows).collect::<Vec<_>>().join("\n");
        out.push_str("\n</posts>\n");
        out.into_bytes()
    }

    /// Settles `data` cut into chunks of about `chunk_size` bytes, as ingest
    /// does, and returns the file's state and what `finish` says.
    fn settle(data: &[u8], chunk_size: usize) -> (FileState, Result<(), IngestError>) {
        let source = Source::File(PathBuf::from("Posts.xml"));
        let mut st = FileState::new(&source);
        let known = HashSet::new();
        let want = Want::Posts {
            frameworks: &[],
            all_questions: true,
            known: &known,
        };
        let max_row = 1 << 20;
        let mut chunker = Chunker::with_max_line(data, chunk_size, max_row);
        while let Some(chunk) = chunker.next_chunk().unwrap() {
            let scan = scan_one(&chunk, Table::Posts, &want, max_row);
            if let Err(e) = st.settle_lines(&chunk, &scan, Table::Posts, max_row) {
                return (st, Err(e.into()));
            }
            st.add_counts(&chunk, &scan);
        }
        let done = st.finish(Table::Posts, 0.5);
        (st, done)
    }

    fn summary(st: &FileState) -> (u64, u64, u64, Vec<String>, bool, Option<i64>, u64) {
        (
            st.rows,
            st.bad,
            st.bytes,
            st.samples.clone(),
            st.sorted,
            st.last_id,
            st.line_base,
        )
    }

    #[test]
    fn chunk_boundaries_do_not_change_what_a_file_tells() {
        // A real file with two bad rows put in: an Id that is not a number
        // and a row cut in the middle of an attribute.
        let mut lines: Vec<String> = String::from_utf8(real_posts(300))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines[40] = lines[40].replacen("Id=\"", "Id=\"x", 1);
        lines[120].truncate(60);
        let data = (lines.join("\n") + "\n").into_bytes();
        let (whole, done) = settle(&data, data.len() + 1);
        done.unwrap();
        assert_eq!(whole.rows, 300);
        assert_eq!(whole.bad, 2);
        assert!(
            whole.samples[0].starts_with("line 41"),
            "{:?}",
            whole.samples
        );
        assert!(
            whole.samples[1].starts_with("line 121"),
            "{:?}",
            whole.samples
        );
        assert_eq!(whole.bytes, data.len() as u64);
        for size in [64, 1000, 4096, 65_536] {
            let (st, done) = settle(&data, size);
            done.unwrap();
            assert_eq!(summary(&st), summary(&whole), "chunks of {size} bytes");
        }
    }

    #[test]
    fn a_file_cut_off_is_refused_with_its_last_line() {
        let data = real_posts(50);
        // Drop `</posts>` and half of the last row.
        let cut = &data[..data.len() - "\n</posts>\n".len() - 40];
        let (_, done) = settle(cut, 4096);
        let err = done.unwrap_err().to_string();
        assert!(err.contains("line 52"), "{err}");
        assert!(err.contains("incomplete"), "{err}");
        // The whole file passes, and an empty one is refused.
        settle(&data, 4096).1.unwrap();
        let (_, done) = settle(b"", 4096);
        assert!(matches!(
            done,
            Err(IngestError::Dump(DumpError::Empty { .. }))
        ));
    }

    #[test]
    fn lines_after_the_root_closes_are_refused() {
        let mut data = real_posts(5);
        let more = real_posts(3);
        let row = more.split(|&b| b == b'\n').nth(2).unwrap();
        data.extend_from_slice(row);
        data.push(b'\n');
        let (_, done) = settle(&data, 4096);
        let err = done.unwrap_err().to_string();
        assert!(
            err.contains("more lines follow its </posts> of line 8"),
            "{err}"
        );
    }

    #[test]
    fn a_second_file_pasted_after_the_first_counts_its_header_as_bad_rows() {
        // Two dumps concatenated: the second's declaration and root element
        // are counted and shown as bad rows, not silently passed over.
        let mut data = real_posts(5);
        data.extend_from_slice(&real_posts(3));
        let (st, done) = settle(&data, 4096);
        done.unwrap();
        assert_eq!((st.rows, st.bad), (8, 2));
        assert!(
            st.samples[0].starts_with("line 9: unexpected line"),
            "{:?}",
            st.samples
        );
        assert!(
            st.samples[1].starts_with("line 10: unexpected line"),
            "{:?}",
            st.samples
        );
    }

    #[test]
    fn bad_rows_over_the_share_are_refused_and_samples_are_capped() {
        let text = String::from_utf8(real_posts(40)).unwrap();
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if (2..32).contains(&i) {
                    l.replacen("Id=\"", "Id=\"-", 1)
                } else {
                    l.to_string()
                }
            })
            .collect();
        let data = (lines.join("\n") + "\n").into_bytes();
        let (st, done) = settle(&data, 4096);
        assert_eq!((st.bad, st.rows), (30, 40));
        assert_eq!(st.samples.len(), BAD_ROW_SAMPLES);
        match done {
            Err(IngestError::TooManyBadRows { bad, rows, .. }) => assert_eq!((bad, rows), (30, 40)),
            other => panic!("expected too many bad rows, got {other:?}"),
        }
    }

    #[test]
    fn post_types_are_named_as_the_dump_documents_them() {
        assert_eq!(post_type_name(5), "tag wiki");
        assert_eq!(post_type_name(4), "tag wiki excerpt");
        assert_eq!(post_type_name(99), "other");
    }
}
