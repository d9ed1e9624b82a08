//! The UI's pages and form handlers.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{Shared, sanitize};
use crate::label::{self, valid_name};
use crate::report::fmt::{int, opt_int};
use crate::store::{FinalLabel, LabelRow};

const MAX_NOTE: usize = 2000;
const MAX_ROOT_CAUSE: usize = 500;

/// A page-level failure: a status and a message for people.
pub struct PageError(StatusCode, String);

impl PageError {
    fn bad(msg: impl Into<String>) -> PageError {
        PageError(StatusCode::BAD_REQUEST, msg.into())
    }
    fn missing(msg: impl Into<String>) -> PageError {
        PageError(StatusCode::NOT_FOUND, msg.into())
    }
}

impl<E: std::error::Error> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.to_string();
        let page = ErrorPage {
            status: &status,
            message: &self.1,
        };
        match page.render() {
            Ok(html) => (self.0, Html(html)).into_response(),
            Err(_) => (self.0, self.1).into_response(),
        }
    }
}

type PageResult = Result<Response, PageError>;

fn render<T: Template>(t: &T) -> PageResult {
    Ok(Html(
        t.render()
            .map_err(|e| PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
    )
    .into_response())
}

fn name_param<'a>(q: &'a HashMap<String, String>, key: &str) -> Result<&'a str, PageError> {
    let v = q.get(key).map(|s| s.trim()).unwrap_or("");
    if valid_name(v) {
        Ok(v)
    } else {
        Err(PageError::bad(format!(
            "{key} must be {}",
            label::NAME_RULE
        )))
    }
}

fn label_url(batch: &str, annotator: &str, i: usize) -> String {
    format!("/label/{batch}?annotator={annotator}&i={i}")
}

fn post_link(site_url: Option<&str>, id: i64) -> Option<String> {
    site_url.map(|u| format!("{}/q/{id}", u.trim_end_matches('/')))
}

struct BatchRow {
    name: String,
    size: i64,
    progress: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    batches: Vec<BatchRow>,
    sets: Vec<String>,
    annotator: String,
}

pub async fn index(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let store = app.store();
    let mut batches = Vec::new();
    for b in store.batches()? {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for l in store.labels(&b.name)? {
            *counts.entry(l.annotator).or_default() += 1;
        }
        let progress = if counts.is_empty() {
            "—".to_string()
        } else {
            counts
                .iter()
                .map(|(a, n)| format!("{a} {n}/{}", b.size))
                .collect::<Vec<_>>()
                .join(", ")
        };
        batches.push(BatchRow {
            name: b.name,
            size: b.size,
            progress,
        });
    }
    let sets = store
        .label_sets()?
        .into_iter()
        .map(|s| s.name)
        .filter(|s| !batches.iter().any(|b| &b.name == s))
        .collect();
    let annotator = q
        .get("annotator")
        .filter(|a| valid_name(a))
        .cloned()
        .unwrap_or_default();
    render(&IndexPage {
        batches,
        sets,
        annotator,
    })
}

/// Opens a batch for an annotator at their first unlabeled post.
pub async fn start(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let annotator = name_param(&q, "annotator")?;
    let batch = name_param(&q, "batch")?;
    let store = app.store();
    let posts = store.batch_posts(batch)?;
    if posts.is_empty() {
        return Err(PageError::missing(format!("no batch named {batch}")));
    }
    let done: Vec<(String, i64)> = store
        .labels(batch)?
        .into_iter()
        .filter(|l| l.annotator == annotator)
        .map(|l| (l.site, l.post_id))
        .collect();
    let first = posts.iter().position(|p| !done.contains(p)).unwrap_or(0);
    Ok(Redirect::to(&label_url(batch, annotator, first)).into_response())
}

struct CategoryView {
    key: String,
    name: String,
    description: String,
    number: usize,
    primary: bool,
    secondary: bool,
}

#[derive(Template)]
#[template(path = "label.html")]
struct LabelPage {
    batch: String,
    annotator: String,
    index: usize,
    position: usize,
    total: usize,
    prev_url: Option<String>,
    next_url: Option<String>,
    site: String,
    post_id: i64,
    title: String,
    tags: Vec<String>,
    body: String,
    link: Option<String>,
    created: String,
    score: String,
    views: String,
    categories: Vec<CategoryView>,
    note: String,
    root_cause: String,
    labeled: bool,
}

pub async fn label_page(
    State(app): State<Shared>,
    Path(batch): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    if !valid_name(&batch) {
        return Err(PageError::missing("no such batch"));
    }
    let annotator = name_param(&q, "annotator")?;
    let i: usize = q
        .get("i")
        .map_or(Ok(0), |v| v.parse())
        .map_err(|_| PageError::bad("i must be a whole number"))?;
    let store = app.store();
    let posts = store.batch_posts(&batch)?;
    if posts.is_empty() {
        return Err(PageError::missing(format!("no batch named {batch}")));
    }
    let Some((site, id)) = posts.get(i) else {
        return Err(PageError::missing(format!(
            "batch {batch} has {} posts; there is no post {}",
            posts.len(),
            i + 1
        )));
    };
    let post = store
        .post_view(site, *id)?
        .ok_or_else(|| PageError::missing(format!("post {site}/{id} is no longer in the study")))?;
    let mine = store.label(&batch, site, *id, annotator)?;
    let categories = app
        .study
        .categories
        .iter()
        .enumerate()
        .map(|(n, c)| CategoryView {
            key: c.key.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            number: n + 1,
            primary: mine.as_ref().is_some_and(|l| l.primary == c.key),
            secondary: mine.as_ref().is_some_and(|l| l.secondary.contains(&c.key)),
        })
        .collect();
    render(&LabelPage {
        batch: batch.clone(),
        annotator: annotator.to_string(),
        index: i,
        position: i + 1,
        total: posts.len(),
        prev_url: (i > 0).then(|| label_url(&batch, annotator, i - 1)),
        next_url: (i + 1 < posts.len()).then(|| label_url(&batch, annotator, i + 1)),
        site: post.site.clone(),
        post_id: post.id,
        title: post.title.clone(),
        tags: post.tags.clone(),
        body: sanitize(&post.body_html),
        link: post_link(post.site_url.as_deref(), post.id),
        created: post.created.get(..10).unwrap_or(&post.created).to_string(),
        score: opt_int(post.score),
        views: opt_int(post.view_count),
        categories,
        note: mine.as_ref().map(|l| l.note.clone()).unwrap_or_default(),
        root_cause: mine
            .as_ref()
            .map(|l| l.root_cause.clone())
            .unwrap_or_default(),
        labeled: mine.is_some(),
    })
}

/// A form body as its fields (repeated keys kept).
fn fields(body: &Bytes) -> Result<Vec<(String, String)>, PageError> {
    serde_urlencoded::from_bytes(body).map_err(|e| PageError::bad(format!("bad form: {e}")))
}

fn field<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn check_kind(app: &Shared, kind: &str) -> Result<String, PageError> {
    if app.study.categories.iter().any(|c| c.key == kind) {
        Ok(kind.to_string())
    } else {
        Err(PageError::bad(format!("unknown category {kind:?}")))
    }
}

fn check_len(value: &str, max: usize, what: &str) -> Result<String, PageError> {
    if value.chars().count() > max {
        return Err(PageError::bad(format!(
            "{what} is longer than {max} characters"
        )));
    }
    Ok(value.to_string())
}

/// Stores an annotator's label at once.
pub async fn save_label(
    State(app): State<Shared>,
    Path(batch): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let f = fields(&body)?;
    let annotator = field(&f, "annotator");
    if !valid_name(annotator) {
        return Err(PageError::bad(format!(
            "annotator must be {}",
            label::NAME_RULE
        )));
    }
    let site = field(&f, "site").to_string();
    let post_id: i64 = field(&f, "post_id")
        .parse()
        .map_err(|_| PageError::bad("post_id must be a number"))?;
    let i: usize = field(&f, "i").parse().unwrap_or(0);
    let primary = field(&f, "primary");
    if primary.is_empty() {
        return Err(PageError::bad("choose a primary kind"));
    }
    let primary = check_kind(&app, primary)?;
    let mut secondary = Vec::new();
    for (k, v) in &f {
        if k == "secondary" && !v.is_empty() && v != &primary && !secondary.contains(v) {
            secondary.push(check_kind(&app, v)?);
        }
    }
    let note = check_len(field(&f, "note"), MAX_NOTE, "the note")?;
    let root_cause = check_len(field(&f, "root_cause"), MAX_ROOT_CAUSE, "the root cause")?;
    let mut store = app.store();
    let posts = store.batch_posts(&batch)?;
    if !posts.iter().any(|(s, id)| s == &site && *id == post_id) {
        return Err(PageError::bad(format!(
            "post {site}/{post_id} is not in batch {batch}"
        )));
    }
    store.save_label(&LabelRow {
        set_name: batch.clone(),
        site,
        post_id,
        annotator: annotator.to_string(),
        primary,
        secondary,
        note,
        root_cause,
    })?;
    if wants_json(&headers) {
        return Ok((
            [(header::CONTENT_TYPE, "application/json")],
            "{\"saved\":true}",
        )
            .into_response());
    }
    let to = if field(&f, "next") == "1" {
        if i + 1 < posts.len() {
            label_url(&batch, annotator, i + 1)
        } else {
            format!("/?annotator={annotator}")
        }
    } else {
        label_url(&batch, annotator, i)
    };
    Ok(Redirect::to(&to).into_response())
}

struct SideLabel {
    annotator: String,
    primary: String,
    secondary: String,
    note: String,
    root_cause: String,
}

struct Option_ {
    key: String,
    name: String,
    selected: bool,
}

struct AdjItem {
    site: String,
    post_id: i64,
    title: String,
    link: Option<String>,
    labels: Vec<SideLabel>,
    options: Vec<Option_>,
    secondary: String,
    decided: Option<String>,
}

#[derive(Template)]
#[template(path = "adjudicate.html")]
struct AdjudicatePage {
    set: String,
    adjudicator: String,
    annotators: String,
    decided: String,
    items: Vec<AdjItem>,
}

/// The disagreements of a set, each annotator's labels side by side.
pub async fn adjudicate_page(
    State(app): State<Shared>,
    Path(set): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let store = app.store();
    let posts = label::gather(&store, &set).map_err(|e| PageError::missing(e.to_string()))?;
    let adjudicator = q
        .get("adjudicator")
        .filter(|a| valid_name(a))
        .cloned()
        .unwrap_or_default();
    let mut annotators: Vec<&String> = posts.values().flat_map(|p| p.by_annotator.keys()).collect();
    annotators.sort();
    annotators.dedup();
    let mut items = Vec::new();
    for ((site, id), p) in &posts {
        let mut primaries = p.by_annotator.values().map(|l| &l.primary);
        let Some(first) = primaries.next() else {
            continue;
        };
        if p.by_annotator.len() < 2 || primaries.all(|x| x == first) {
            continue;
        }
        let view = store.post_view(site, *id)?;
        let decided = p.final_label.as_ref().map(|f| f.primary.clone());
        items.push(AdjItem {
            site: site.clone(),
            post_id: *id,
            title: view.as_ref().map(|v| v.title.clone()).unwrap_or_default(),
            link: view
                .as_ref()
                .and_then(|v| post_link(v.site_url.as_deref(), *id)),
            labels: p
                .by_annotator
                .values()
                .map(|l| SideLabel {
                    annotator: l.annotator.clone(),
                    primary: l.primary.clone(),
                    secondary: l.secondary.join(", "),
                    note: l.note.clone(),
                    root_cause: l.root_cause.clone(),
                })
                .collect(),
            options: app
                .study
                .categories
                .iter()
                .map(|c| Option_ {
                    key: c.key.clone(),
                    name: c.name.clone(),
                    selected: decided.as_deref() == Some(c.key.as_str()),
                })
                .collect(),
            secondary: p
                .final_label
                .as_ref()
                .map(|f| f.secondary.join(";"))
                .unwrap_or_default(),
            decided,
        });
    }
    let decided = items.iter().filter(|i| i.decided.is_some()).count();
    render(&AdjudicatePage {
        set,
        adjudicator,
        annotators: annotators
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        decided: int(decided as u64),
        items,
    })
}

/// Records the adjudicated label of a post.
pub async fn save_final(
    State(app): State<Shared>,
    Path(set): Path<String>,
    body: Bytes,
) -> PageResult {
    let f = fields(&body)?;
    let adjudicator = field(&f, "adjudicator");
    if !valid_name(adjudicator) {
        return Err(PageError::bad("give your name as adjudicator first"));
    }
    let site = field(&f, "site").to_string();
    let post_id: i64 = field(&f, "post_id")
        .parse()
        .map_err(|_| PageError::bad("post_id must be a number"))?;
    let primary = check_kind(&app, field(&f, "primary"))?;
    let secondary = crate::store::split_kinds(field(&f, "secondary"))
        .into_iter()
        .filter(|k| k != &primary)
        .map(|k| check_kind(&app, &k))
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = app.store();
    let posts = label::gather(&store, &set).map_err(|e| PageError::missing(e.to_string()))?;
    if !posts.contains_key(&(site.clone(), post_id)) {
        return Err(PageError::bad(format!(
            "post {site}/{post_id} has no labels in set {set}"
        )));
    }
    store.save_final(
        &set,
        &FinalLabel {
            site: site.clone(),
            post_id,
            primary,
            secondary,
            decided_by: adjudicator.to_string(),
            note: String::new(),
        },
    )?;
    Ok(Redirect::to(&format!(
        "/adjudicate/{set}?adjudicator={adjudicator}#post-{site}-{post_id}"
    ))
    .into_response())
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/web/app.js"),
    )
        .into_response()
}

pub async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../assets/web/app.css"),
    )
        .into_response()
}

pub async fn not_found() -> PageError {
    PageError::missing("no such page")
}
