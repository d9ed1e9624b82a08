//! Command-line arguments: one struct per subcommand (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use stackmine::text::compact_number;

/// Turn a Stack Exchange data dump into an answered research question.
#[derive(Debug, Parser)]
#[command(name = "stackmine", version, about, long_about = None)]
pub struct Cli {
    /// No progress bars on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Arithmetic of the sentence encoder's dense layers (classify, train,
    /// eval, run, estimate): fp32, or int8 (several times faster, cosine
    /// ≥ 0.995 to fp32). Default: int8 where the CPU has AVX-512 VNNI, else fp32.
    #[arg(long, global = true, value_enum)]
    pub precision: Option<PrecisionArg>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PrecisionArg {
    Fp32,
    Int8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write DIR/study.toml for the default deep learning study.
    Init(InitArgs),
    /// Read dumps (Posts.xml, a dump folder, or a .7z archive) into the study's store.
    Ingest(IngestArgs),
    /// Table I and answer statistics per framework and for all questions.
    Stats(StatsArgs),
    /// What the study holds: sites, dumps, counts, date ranges, recent ingests.
    Info(InfoArgs),
    /// The main job: init when needed, ingest, stats, classify, report.
    Run(RunArgs),
    /// Draw a seeded batch of questions to label.
    Sample(SampleArgs),
    /// Label sets: import, export, and the labeling web UI.
    Label(LabelArgs),
    /// Agreement between annotators of a label set (Cohen's / Fleiss' kappa).
    Agree(AgreeArgs),
    /// Train a question classifier on a label set.
    Train(TrainArgs),
    /// Score a classifier against a label set, or train and test on splits.
    Eval(EvalArgs),
    /// Give every question of the study a category.
    Classify(ClassifyArgs),
    /// Write the study's tables as Parquet files (for Spark, DuckDB, pandas).
    Export(ExportArgs),
    /// Bring classifications made elsewhere (Spark) into the study.
    ImportClassifications(ImportClassificationsArgs),
    /// Category shares from a random labeled sample plus the classifier
    /// (prediction-powered inference), with intervals.
    Estimate(EstimateArgs),
    /// Write the study's report: index.html with charts, and every table as CSV, JSON, Markdown.
    Report(ReportArgs),
    /// Answers the asker endorsed in a comment; with --check, the detector's
    /// precision and recall on a hand-checked set.
    Endorsements(EndorsementsArgs),
    /// The sentence encoder's derived files: the static embedding table.
    Encoder(EncoderArgs),
}

#[derive(Debug, Args)]
pub struct EncoderArgs {
    #[command(subcommand)]
    pub command: EncoderCommand,
}

#[derive(Debug, Subcommand)]
pub enum EncoderCommand {
    /// Distill the static embedding table (model2vec's method) from the
    /// encoder's files, deterministically: what `--model default-static` reads.
    Distill(DistillArgs),
}

#[derive(Debug, Args)]
pub struct DistillArgs {
    /// The encoder's folder (default: $STACKMINE_ENCODER, else
    /// ~/.cache/stackmine/all-MiniLM-L6-v2).
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Where to write the table (default: $STACKMINE_STATIC_TABLE, else
    /// static-table.bin in the encoder's folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Dimensions PCA keeps: 1 to the encoder's size (384); default 256.
    #[arg(long, default_value_t = stackmine::classify::encoder::static_table::DEFAULT_DIMS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=8192))]
    pub dims: usize,
    /// How rows are weighted: zipf over vocabulary rank, or corpus
    /// frequencies counted on the questions of --corpus.
    #[arg(long, value_enum, default_value = "zipf")]
    pub weighting: WeightingArg,
    /// The study whose questions are counted for --weighting corpus.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
}

/// `--weighting`: the library's `static_table::Weighting`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum WeightingArg {
    /// Zipf's law over vocabulary rank (model2vec's default).
    Zipf,
    /// Token frequencies counted on a corpus (a study's questions).
    Corpus,
}

impl From<WeightingArg> for stackmine::classify::encoder::static_table::Weighting {
    fn from(w: WeightingArg) -> Self {
        match w {
            WeightingArg::Zipf => Self::Zipf,
            WeightingArg::Corpus => Self::Corpus,
        }
    }
}

/// `--kind`: the library's `classify::Kind` (same names, lowercase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// The study's keyword-weighted model.
    Keyword,
    /// TF-IDF fields and one-vs-rest logistic regression.
    Linear,
    /// The linear model's TF-IDF fields plus a sentence embedding of the
    /// title and prose (all-MiniLM-L6-v2, run from local files).
    Hybrid,
    /// The linear model's TF-IDF fields plus the title and prose embedded
    /// with the static table distilled from all-MiniLM-L6-v2 (no
    /// transformer at run time: for huge studies).
    Static,
}

impl From<KindArg> for stackmine::classify::Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Keyword => Self::Keyword,
            KindArg::Linear => Self::Linear,
            KindArg::Hybrid => Self::Hybrid,
            KindArg::Static => Self::Static,
        }
    }
}

#[derive(Debug, Args)]
pub struct StudyArg {
    /// The study folder (holds study.toml and study.db).
    #[arg(long = "study", value_name = "STUDY", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The study folder to create or fill.
    pub dir: PathBuf,
    /// Overwrite an existing study.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct IngestOpts {
    /// Keep every question of the dump (for a dump that is already on topic);
    /// questions matching no framework then count under `all` only.
    #[arg(long)]
    pub all_questions: bool,
    /// The site the posts belong to (default: the dump folder's or archive's
    /// name; for an archive with several Posts.xml, each one's folder name).
    /// 1–64 letters, digits, '_', '.' or '-'.
    #[arg(long)]
    pub site: Option<String>,
    /// Base address for links to posts, an absolute http:// or https:// URL
    /// (default: https://SITE when SITE looks like a host name).
    #[arg(long)]
    pub site_url: Option<String>,
    /// Fail (exit 2, study unchanged) when more than this share of a file's
    /// rows is malformed: a fraction in [0, 1] (0.01 is 1%).
    #[arg(long, default_value_t = 0.01, value_parser = fraction)]
    pub max_bad_rows: f64,
    /// Chunk size in KiB for the parallel scan (tests use small ones): 1 to 1048576.
    #[arg(long, default_value_t = 8192, hide = true,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub chunk_kib: u64,
    /// Longest row read, in MiB (1–4096); a longer row is counted as malformed
    /// and skipped without being held in memory.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_row_mib: u32,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Posts.xml files, dump folders, or .7z archives.
    #[arg(required = true)]
    pub dumps: Vec<PathBuf>,
    #[command(flatten)]
    pub study: StudyArg,
    #[command(flatten)]
    pub opts: IngestOpts,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// Print JSON instead of Markdown tables.
    #[arg(long)]
    pub json: bool,
    /// The dump's date for the questions still waiting (a day, 2017-03-14,
    /// or a dump date, 2017-03-13T16:32:33.657; UTC; not before the latest
    /// question). Default: each site's latest CreationDate, recorded by ingest.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct EndorsementsArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// A hand-checked CSV (site, comment_id, answer_id, question_id,
    /// endorsing 0/1, reason): prints precision and recall with 95% Wilson
    /// intervals, and every disagreement.
    #[arg(long, value_name = "FILE.csv")]
    pub check: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Posts.xml files, dump folders, or .7z archives.
    #[arg(required = true)]
    pub dumps: Vec<PathBuf>,
    /// The study folder (created with the default study when it has no study.toml).
    #[arg(long, default_value = "study")]
    pub study: PathBuf,
    /// Where the report goes (default: STUDY/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub opts: IngestOpts,
    /// The dump's date for the questions still waiting (a day, 2017-03-14,
    /// or a dump date, 2017-03-13T16:32:33.657; UTC; not before the latest
    /// question). Default: each site's latest CreationDate, recorded by ingest.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The batch's name (and its label set's).
    #[arg(long)]
    pub name: String,
    /// Seed of the draw, any integer from 0 to 2^64 − 1 (default: the study's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// How many posts to draw: 1 or more.
    #[arg(long, conflicts_with_all = ["confidence", "per_framework"],
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
    pub size: Option<u64>,
    /// Confidence level for Cochran's sample size (with --margin): in (0, 1), e.g. 0.95.
    #[arg(long, requires = "margin", value_parser = open_fraction)]
    pub confidence: Option<f64>,
    /// Margin of error for Cochran's sample size (with --confidence): in (0, 1), e.g. 0.05.
    #[arg(long, requires = "confidence", value_parser = open_fraction)]
    pub margin: Option<f64>,
    /// Draw this many questions from each framework: 1 or more.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
    pub per_framework: Option<u64>,
    /// Split the size over frameworks in proportion to their questions.
    #[arg(long, conflicts_with = "per_framework")]
    pub proportional: bool,
    /// Allow drawing posts that are already in another batch.
    #[arg(long)]
    pub allow_redraw: bool,
    /// The population to draw from: all, framework:KEY, or years:FROM-TO
    /// (years 1900–9999, both included). Recorded as the batch's design.
    #[arg(long, default_value = "all")]
    pub population: String,
    /// Print the drawn posts as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// Create a label set from a CSV file (columns of dl-questions.csv).
    Import(LabelImportArgs),
    /// Write a label set as CSV to stdout or --out.
    Export(LabelExportArgs),
    /// The labeling web UI on 127.0.0.1.
    Serve(LabelServeArgs),
}

#[derive(Debug, Args)]
pub struct LabelArgs {
    #[command(subcommand)]
    pub command: LabelCommand,
}

#[derive(Debug, Args)]
pub struct LabelImportArgs {
    /// The CSV file: post_id, primary, secondary, [annotator_NAME...], [site|dump].
    pub file: PathBuf,
    #[command(flatten)]
    pub study: StudyArg,
    /// The label set to create.
    #[arg(long)]
    pub set: String,
    /// Replace the set if it exists (a batch keeps its design).
    #[arg(long)]
    pub replace: bool,
    /// Declare the set a simple random sample of its population, so
    /// `estimate` may use it (otherwise an imported set is a convenience set).
    #[arg(long)]
    pub random_sample: bool,
    /// The population the random sample was drawn from: all (default),
    /// framework:KEY, or years:FROM-TO (years 1900–9999).
    #[arg(long, requires = "random_sample")]
    pub population: Option<String>,
}

#[derive(Debug, Args)]
pub struct LabelExportArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The label set to write.
    #[arg(long)]
    pub set: String,
    /// Output file (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LabelServeArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// Port on 127.0.0.1, 0 to 65535 (0: any free port).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Listen on all interfaces instead of loopback only.
    #[arg(long)]
    pub public: bool,
    /// With --public: one more Host name (or IPv4 address, or [IPv6]) the
    /// server answers to, as annotators type it in the address bar; repeat for
    /// more. PORT is 1 to 65535; without it, the bound port. Requests naming
    /// any other Host get 421 (always allowed: 127.0.0.1, localhost and [::1]
    /// on the bound port).
    #[arg(long, value_name = "NAME[:PORT]", requires = "public")]
    pub allow_host: Vec<stackmine::serve::AllowHost>,
}

#[derive(Debug, Args)]
pub struct AgreeArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The label set.
    #[arg(long)]
    pub set: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The label set to train on.
    #[arg(long)]
    pub labels: String,
    /// keyword: the study's model; linear: TF-IDF fields + logistic
    /// regression; hybrid: linear plus a sentence embedding (needs the
    /// encoder: scripts/fetch-encoder.sh); static: linear plus the static
    /// table's embedding (needs the table: stackmine encoder distill).
    #[arg(long, value_enum, default_value = "linear")]
    pub kind: KindArg,
    /// The model's name (saved as STUDY/models/NAME.json; default: the kind):
    /// 1–64 letters, digits, '_', '.' or '-', not starting with '.'.
    #[arg(long, value_parser = model_name)]
    pub name: Option<String>,
    /// Write the model here instead.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also run stratified 5-fold cross-validation and keep its scores and
    /// confusion matrix in the model (the report corrects counts with it).
    #[arg(long)]
    pub validate: bool,
    #[command(flatten)]
    pub params: ModelArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// Inverse regularization strength of the linear model: a number in
    /// [1e-4, 1e6] (smaller puts every question in one category).
    #[arg(long, default_value_t = 10.0, value_parser = c_value)]
    pub c: f64,
    /// Loss of the linear model.
    #[arg(long, value_enum, default_value = "logistic")]
    pub loss: LossArg,
    /// Extra weight of manual keywords (keyword model; the study's 0.18): a
    /// number in [0, 1e6].
    #[arg(long, default_value_t = 0.18, value_parser = alpha_value)]
    pub alpha: f64,
    /// Tokens the hybrid model embeds per post ([CLS] and [SEP] included): 8 to 512.
    #[arg(long, default_value_t = stackmine::classify::HYBRID_MAX_TOKENS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(
              stackmine::classify::MIN_MAX_TOKENS as u64..=stackmine::classify::MAX_MAX_TOKENS as u64))]
    pub max_tokens: usize,
    /// Stem the words of title, body and code (Snowball English; linear and
    /// hybrid models).
    #[arg(long)]
    pub stem: bool,
    /// Weight of the embedding beside the TF-IDF fields (hybrid model): a
    /// number in (0, 100] (for no embedding, train --kind linear).
    #[arg(long, default_value_t = stackmine::classify::HYBRID_WEIGHT, value_parser = embedding_weight)]
    pub embedding_weight: f32,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LossArg {
    Logistic,
    SquaredHinge,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Protocol {
    /// The study's stratified 60/40 split (seed 0).
    Study,
    /// Stratified 5-fold cross-validation (seed 0).
    Cv5,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The label set to score against.
    #[arg(long)]
    pub labels: String,
    /// A trained model to apply, by name: one in STUDY/models, or a built-in
    /// one (default, default-linear, default-hybrid, default-static); default: the built-in model.
    #[arg(long, conflicts_with = "protocol", value_parser = model_name)]
    pub model: Option<String>,
    /// A model file to apply, anywhere (instead of --model).
    #[arg(long, conflicts_with_all = ["protocol", "model"])]
    pub model_file: Option<PathBuf>,
    /// Train and test a new model of this kind on splits of the labels.
    #[arg(long, value_enum, requires = "protocol")]
    pub kind: Option<KindArg>,
    /// How to split for --kind.
    #[arg(long, value_enum, requires = "kind")]
    pub protocol: Option<Protocol>,
    #[command(flatten)]
    pub params: ModelArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The model, by name: one in STUDY/models, or a built-in one (default,
    /// default-linear, default-hybrid, default-static); default: the built-in model.
    #[arg(long, value_parser = model_name)]
    pub model: Option<String>,
    /// A model file, anywhere (instead of --model).
    #[arg(long, conflicts_with = "model")]
    pub model_file: Option<PathBuf>,
    /// Read an Arrow IPC stream of questions on stdin (the exported
    /// questions table) and write one of site, post_id, category,
    /// confidence, model on stdout; no study folder is read. Needs
    /// --model-file, or --model naming a built-in model.
    #[arg(long)]
    pub stdin: bool,
    /// The sentence encoder's folder, for a hybrid model with --stdin
    /// (default: $STACKMINE_ENCODER, else ~/.cache/stackmine/all-MiniLM-L6-v2).
    #[arg(long, requires = "stdin")]
    pub encoder: Option<PathBuf>,
}

/// `export`: the store as Parquet.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The output folder (created when missing): OUT/<table>.parquet and
    /// OUT/schema.json.
    #[arg(long)]
    pub out: PathBuf,
    /// The tables to export, comma-separated (default: all): sites,
    /// questions, question_tags, question_frameworks, answers, comments,
    /// label_sets, labels, final_labels, classifications, embeddings.
    #[arg(long, value_delimiter = ',')]
    pub tables: Vec<String>,
}

/// `import-classifications`: categories made elsewhere, into the study.
#[derive(Debug, Args)]
pub struct ImportClassificationsArgs {
    /// A Parquet file, or a folder of them (Spark's output), with columns
    /// site, post_id, category, confidence, model.
    pub input: PathBuf,
    #[command(flatten)]
    pub study: StudyArg,
    /// The model file the classifications came from, when it is neither in
    /// STUDY/models nor built in (its name must be the rows' model).
    #[arg(long)]
    pub model_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// The random sample: a batch drawn by `sample`, or a set imported with
    /// `label import --random-sample`.
    #[arg(long)]
    pub sample: String,
    /// A model trained on no post of the population, by name (one in
    /// STUDY/models, or a built-in one): PPI++. A model that saw posts of the
    /// population (the built-in ones) gives cross-prediction with its kind
    /// instead.
    #[arg(long, conflicts_with = "kind", value_parser = model_name)]
    pub model: Option<String>,
    /// A model file, anywhere (instead of --model).
    #[arg(long, conflicts_with_all = ["model", "kind", "extra_labels"])]
    pub model_file: Option<PathBuf>,
    /// Cross-prediction with models of this kind (default: the built-in
    /// model's kind: hybrid when the encoder is present, else linear).
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// More label sets to train the cross-prediction models on; their posts
    /// inside the population are left out.
    #[arg(long, num_args = 1.., conflicts_with = "model")]
    pub extra_labels: Vec<String>,
    /// Confidence level of the intervals, 0.5 to 0.999.
    #[arg(long, default_value_t = 0.95, value_parser = confidence_level)]
    pub confidence: f64,
    /// Folds of cross-prediction, 2 to 20 (and no more than the labeled posts).
    #[arg(long, default_value_t = 5,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=20))]
    pub folds: usize,
    #[command(flatten)]
    pub params: ModelArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the estimator's inputs per stratum (labels and predictions) as
    /// JSON, for tests/data/reference/make_ppi_reference.py --check.
    #[arg(long, hide = true)]
    pub write_inputs: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub study: StudyArg,
    /// Where the report goes (default: STUDY/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The dump's date for the questions still waiting (a day, 2017-03-14,
    /// or a dump date, 2017-03-13T16:32:33.657; UTC; not before the latest
    /// question). Default: each site's latest CreationDate, recorded by ingest.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

// Value parsers: each numeric option is refused where it is parsed unless it
// is finite and in its range (stated in its help text).

/// A finite number in `lo..=hi`, `lo` excluded when `open_lo`, `hi` when `open_hi`.
fn float_in(s: &str, lo: f64, open_lo: bool, hi: f64, open_hi: bool) -> Result<f64, String> {
    let range = format!(
        "{}{}, {}{}",
        if open_lo { '(' } else { '[' },
        compact_number(lo),
        compact_number(hi),
        if open_hi { ')' } else { ']' }
    );
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("not a number; expected one in {range}"))?;
    let above = if open_lo { x > lo } else { x >= lo };
    let below = if open_hi { x < hi } else { x <= hi };
    if x.is_finite() && above && below {
        Ok(x)
    } else {
        Err(format!("{} is not in {range}", compact_number(x)))
    }
}

fn fraction(s: &str) -> Result<f64, String> {
    float_in(s, 0.0, false, 1.0, false)
}

fn open_fraction(s: &str) -> Result<f64, String> {
    float_in(s, 0.0, true, 1.0, true)
}

fn confidence_level(s: &str) -> Result<f64, String> {
    float_in(s, 0.5, false, 0.999, false)
}

fn c_value(s: &str) -> Result<f64, String> {
    use stackmine::classify::kinds::linear::C;
    C.parse(s).map_err(|e| e.to_string())
}

fn alpha_value(s: &str) -> Result<f64, String> {
    use stackmine::classify::kinds::keyword::ALPHA;
    ALPHA.parse(s).map_err(|e| e.to_string())
}

fn embedding_weight(s: &str) -> Result<f32, String> {
    use stackmine::classify::kinds::hybrid::EMBEDDING_WEIGHT;
    let max = EMBEDDING_WEIGHT.hi;
    let x = EMBEDDING_WEIGHT.parse(s).map_err(|e| e.to_string())?;
    // Read as f32 directly (not rounded twice through f64).
    let w = s.trim().parse::<f32>().map_err(|e| e.to_string())?;
    if w > 0.0 {
        Ok(w)
    } else {
        Err(format!(
            "{} is too small for a weight (it is 0 in 32 bits); expected one in (0, {}]",
            compact_number(x),
            compact_number(max)
        ))
    }
}

/// A model name (never a path): see `classify::model::check_model_name`.
fn model_name(s: &str) -> Result<String, String> {
    match stackmine::classify::model::check_model_name(s) {
        Ok(name) => Ok(name.to_string()),
        Err(e) => Err(format!("{e} (a model file elsewhere: --model-file PATH)")),
    }
}
