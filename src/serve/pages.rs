//! The UI's pages and form handlers. Each handler checks its parameters
//! (every query and form field: one value at most, names by the name rules,
//! numbers in range, text within its length), then does its store work on a
//! blocking thread, so a wait for the store never stalls the server.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{
    ErrorMessage, MAX_BODY, RETRY_AFTER_SECS, Shared, WriteError, is_busy, is_web_url, sanitize,
    wants_json,
};
use crate::PostKey;
use crate::label::{self, LabelError, NAME_RULE, valid_name};
use crate::report::fmt::{int, opt_int};
use crate::store::{FinalLabel, LabelRow};

const MAX_NOTE: usize = 2000;
const MAX_ROOT_CAUSE: usize = 500;
/// A site name is at most this long (the store's are host names).
const MAX_SITE: usize = 253;
/// How much of a bad value an error message repeats.
const SHOW: usize = 40;

/// A page-level failure: a status and a message for people.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
    retry_after: Option<u32>,
}

impl PageError {
    fn new(status: StatusCode, msg: impl Into<String>) -> PageError {
        PageError {
            status,
            message: msg.into(),
            retry_after: None,
        }
    }
    fn bad(msg: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, msg)
    }
    fn missing(msg: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, msg)
    }
    fn busy() -> PageError {
        PageError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the study's store is busy (another stackmine command is writing to it); \
                      nothing was saved, try again in a moment"
                .into(),
            retry_after: Some(RETRY_AFTER_SECS),
        }
    }
}

impl<E: std::error::Error + 'static> From<E> for PageError {
    fn from(e: E) -> PageError {
        if is_busy(&e) {
            return PageError::busy();
        }
        PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl From<WriteError> for PageError {
    fn from(e: WriteError) -> PageError {
        match e {
            WriteError::Busy => PageError::busy(),
            WriteError::Store(e) => e.into(),
        }
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
        let status = self.status.to_string();
        let page = ErrorPage {
            status: &status,
            message: &self.message,
        };
        let mut res = match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message.clone()).into_response(),
        };
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res.extensions_mut().insert(ErrorMessage(self.message));
        res
    }
}

type PageResult = Result<Response, PageError>;

/// Runs a handler's store work on a blocking thread; a panic there is a 500,
/// never a dropped connection.
async fn blocking(work: impl FnOnce() -> PageResult + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => e.into_response(),
        Err(_) => {
            PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn render<T: Template>(t: &T) -> PageResult {
    Ok(Html(
        t.render()
            .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
    )
    .into_response())
}

/// A value as an error message repeats it: quoted, cut to [`SHOW`] characters.
fn shown(v: &str) -> String {
    if v.chars().count() > SHOW {
        format!("\"{}…\"", v.chars().take(SHOW).collect::<String>())
    } else {
        format!("\"{v}\"")
    }
}

/// A query string's or form's fields, in order, repeated keys kept.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(raw: &[u8]) -> Result<Fields, PageError> {
        serde_urlencoded::from_bytes(raw)
            .map(Fields)
            .map_err(|_| PageError::bad("the form is not URL-encoded text"))
    }

    fn query(raw: Option<String>) -> Result<Fields, PageError> {
        Fields::parse(raw.unwrap_or_default().as_bytes())
    }

    /// The one value of `key` (trimmed), `None` if absent; given twice is an error.
    fn one(&self, key: &str) -> Result<Option<&str>, PageError> {
        let mut values = self.0.iter().filter(|(k, _)| k == key);
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some((_, v)), None) => Ok(Some(v.trim())),
            (Some(_), Some(_)) => Err(PageError::bad(format!("{key} is given more than once"))),
        }
    }

    /// Every value of a repeatable `key`.
    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.trim())
    }

    /// A name (annotator, batch, set, adjudicator) that must be given.
    fn name(&self, key: &str) -> Result<String, PageError> {
        let v = self.one(key)?.unwrap_or("");
        if valid_name(v) {
            Ok(v.to_string())
        } else if v.is_empty() {
            Err(PageError::bad(format!(
                "{key} is missing: give a name of {NAME_RULE}"
            )))
        } else {
            Err(PageError::bad(format!(
                "{key} must be {NAME_RULE}, not {}",
                shown(v)
            )))
        }
    }

    /// An optional name: one that breaks the rules is dropped (it only fills
    /// in a form field).
    fn soft_name(&self, key: &str) -> Result<String, PageError> {
        Ok(self
            .one(key)?
            .filter(|v| valid_name(v))
            .unwrap_or("")
            .to_string())
    }

    /// The site of a post (the store's site names are host names).
    fn site(&self) -> Result<String, PageError> {
        let v = self.one("site")?.unwrap_or("");
        if v.is_empty() {
            return Err(PageError::bad("site is missing"));
        }
        if v.len() > MAX_SITE || v.chars().any(char::is_control) {
            return Err(PageError::bad(format!("there is no site {}", shown(v))));
        }
        Ok(v.to_string())
    }

    /// A post Id: a positive whole number below 2^63.
    fn post_id(&self) -> Result<i64, PageError> {
        let v = self.one("post_id")?.unwrap_or("");
        let n = (!v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<i64>().ok())
            .flatten()
            .filter(|&n| n > 0);
        n.ok_or_else(|| {
            PageError::bad(if v.is_empty() {
                "post_id is missing".to_string()
            } else {
                format!(
                    "post_id must be a number from 1 to {}, not {}",
                    i64::MAX,
                    shown(v)
                )
            })
        })
    }

    /// A text field: at most `max` characters, no control characters but
    /// tabs and line breaks.
    fn text(&self, key: &str, max: usize, what: &str) -> Result<String, PageError> {
        let v = self.one(key)?.unwrap_or("");
        if v.chars().count() > max {
            return Err(PageError::bad(format!(
                "{what} is longer than {max} characters"
            )));
        }
        if v.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(PageError::bad(format!("{what} holds a control character")));
        }
        Ok(v.to_string())
    }
}

/// A batch or set name from the path; anything else is no such page.
fn path_name(path: Result<Path<String>, PathRejection>, what: &str) -> Result<String, PageError> {
    match path {
        Ok(Path(name)) if valid_name(&name) => Ok(name),
        _ => Err(PageError::missing(format!("no such {what}"))),
    }
}

/// The post number `i` of a batch of `len` posts: digits only, below `len`.
fn post_index(v: Option<&str>, batch: &str, len: usize) -> Result<usize, PageError> {
    let Some(v) = v else { return Ok(0) };
    let last = len.saturating_sub(1);
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PageError::bad(format!(
            "i must be a post number from 0 to {last}, not {}",
            shown(v)
        )));
    }
    match v.parse::<usize>() {
        Ok(i) if i < len => Ok(i),
        _ => Err(PageError::missing(format!(
            "post {} is out of range: batch {batch} has {len} posts (i from 0 to {last})",
            if v.len() > SHOW {
                shown(v)
            } else {
                v.to_string()
            }
        ))),
    }
}

fn label_url(batch: &str, annotator: &str, i: usize) -> String {
    format!("/label/{batch}?annotator={annotator}&i={i}")
}

/// The link to a post on its site; none unless the site's URL is http(s).
fn post_link(site_url: Option<&str>, id: i64) -> Option<String> {
    site_url
        .filter(|u| is_web_url(u))
        .map(|u| format!("{}/q/{id}", u.trim_end_matches('/')))
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

pub async fn index(State(app): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    blocking(move || {
        let q = Fields::query(raw)?;
        let annotator = q.soft_name("annotator")?;
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
        render(&IndexPage {
            batches,
            sets,
            annotator,
        })
    })
    .await
}

/// Opens a batch for an annotator at their first unlabeled post.
pub async fn start(State(app): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    blocking(move || {
        let q = Fields::query(raw)?;
        let annotator = q.name("annotator")?;
        let batch = q.name("batch")?;
        let store = app.store();
        let posts = store.batch_posts(&batch)?;
        if posts.is_empty() {
            return Err(PageError::missing(format!("no batch named {batch}")));
        }
        let done: Vec<PostKey> = store
            .labels(&batch)?
            .into_iter()
            .filter(|l| l.annotator == annotator)
            .map(|l| PostKey::new(l.site, l.post_id))
            .collect();
        let first = posts.iter().position(|p| !done.contains(p)).unwrap_or(0);
        Ok(Redirect::to(&label_url(&batch, &annotator, first)).into_response())
    })
    .await
}

/// A root-cause code as the pages offer it (a checkbox, Shift+number).
struct CodeView {
    key: String,
    name: String,
    description: String,
    number: usize,
    checked: bool,
}

fn code_views(app: &Shared, checked: &[String]) -> Vec<CodeView> {
    app.study
        .root_causes
        .iter()
        .enumerate()
        .map(|(n, c)| CodeView {
            key: c.key.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            number: n + 1,
            checked: checked.contains(&c.key),
        })
        .collect()
}

/// Root-cause codes from a form: each a key of the study's
/// `[[root_causes]]`; returned once each, in the study's order.
fn check_codes<'a>(
    codes: &[crate::study::RootCause],
    values: impl Iterator<Item = &'a str>,
) -> Result<Vec<String>, PageError> {
    let mut picked = vec![false; codes.len()];
    for v in values.filter(|v| !v.is_empty()) {
        match codes.iter().position(|c| c.key == v) {
            Some(i) => picked[i] = true,
            None => {
                let keys: Vec<&str> = codes.iter().map(|c| c.key.as_str()).collect();
                return Err(PageError::bad(if keys.is_empty() {
                    format!(
                        "unknown root-cause code {}: the study has no [[root_causes]]",
                        shown(v)
                    )
                } else {
                    format!(
                        "unknown root-cause code {}: the study's are {}",
                        shown(v),
                        keys.join(", ")
                    )
                }));
            }
        }
    }
    Ok(codes
        .iter()
        .zip(picked)
        .filter(|(_, p)| *p)
        .map(|(c, _)| c.key.clone())
        .collect())
}

/// The thread of a post, rendered.
fn thread_html(
    store: &crate::store::Store,
    post: &crate::store::PostView,
) -> Result<String, PageError> {
    let t = super::thread::build(store, post)?;
    t.render()
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
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
    asker: String,
    categories: Vec<CategoryView>,
    codes: Vec<CodeView>,
    note: String,
    root_cause: String,
    labeled: bool,
    thread: String,
}

pub async fn label_page(
    State(app): State<Shared>,
    batch: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    blocking(move || {
        let batch = path_name(batch, "batch")?;
        let q = Fields::query(raw)?;
        let annotator = q.name("annotator")?;
        let store = app.store();
        let posts = store.batch_posts(&batch)?;
        if posts.is_empty() {
            return Err(PageError::missing(format!("no batch named {batch}")));
        }
        let i = post_index(q.one("i")?, &batch, posts.len())?;
        let PostKey { site, id } = &posts[i];
        let post = store.post_view(site, *id)?.ok_or_else(|| {
            PageError::missing(format!("post {site}/{id} is no longer in the study"))
        })?;
        let mine = store.label(&batch, site, *id, &annotator)?;
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
        let codes = code_views(
            &app,
            mine.as_ref().map_or(&[][..], |l| l.root_causes.as_slice()),
        );
        let thread = thread_html(&store, &post)?;
        render(&LabelPage {
            batch: batch.clone(),
            annotator: annotator.clone(),
            index: i,
            position: i + 1,
            total: posts.len(),
            prev_url: (i > 0).then(|| label_url(&batch, &annotator, i - 1)),
            next_url: (i + 1 < posts.len()).then(|| label_url(&batch, &annotator, i + 1)),
            site: post.site.clone(),
            post_id: post.id,
            title: post.title.clone(),
            tags: post.tags.clone(),
            body: sanitize(&post.body_html),
            link: post_link(post.site_url.as_deref(), post.id),
            created: post.created.get(..10).unwrap_or(&post.created).to_string(),
            score: opt_int(post.score),
            views: opt_int(post.view_count),
            asker: super::thread::author(post.owner_display_name.as_deref(), post.owner_user_id),
            categories,
            codes,
            note: mine.as_ref().map(|l| l.note.clone()).unwrap_or_default(),
            root_cause: mine
                .as_ref()
                .map(|l| l.root_cause.clone())
                .unwrap_or_default(),
            labeled: mine.is_some(),
            thread,
        })
    })
    .await
}

/// A form post's fields: URL-encoded, at most [`MAX_BODY`] bytes.
fn form(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Fields, PageError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the form is larger than {} KiB", MAX_BODY / 1024),
            )
        } else {
            PageError::bad("the form could not be read")
        }
    })?;
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(PageError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the form as application/x-www-form-urlencoded",
        ));
    }
    Fields::parse(&body)
}

fn check_kind(categories: &[crate::study::Category], kind: &str) -> Result<String, PageError> {
    if categories.iter().any(|c| c.key == kind) {
        Ok(kind.to_string())
    } else {
        let keys: Vec<&str> = categories.iter().map(|c| c.key.as_str()).collect();
        Err(PageError::bad(format!(
            "unknown category {}: the study's are {}",
            shown(kind),
            keys.join(", ")
        )))
    }
}

/// Stores an annotator's label at once; `Ok` means committed.
pub async fn save_label(
    State(app): State<Shared>,
    batch: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    blocking(move || {
        let batch = path_name(batch, "batch")?;
        let f = form(&headers, body)?;
        let annotator = f.name("annotator")?;
        let site = f.site()?;
        let post_id = f.post_id()?;
        // The page sends its position and the submit button `next`; the
        // position used is the post's own, whatever `i` says.
        f.one("i")?;
        let next = f.one("next")? == Some("1");
        let primary = f.one("primary")?.unwrap_or("");
        if primary.is_empty() {
            return Err(PageError::bad("choose a primary kind"));
        }
        let primary = check_kind(&app.study.categories, primary)?;
        let mut secondary = Vec::new();
        for v in f.all("secondary") {
            if !v.is_empty() && v != primary && !secondary.iter().any(|s| s == v) {
                secondary.push(check_kind(&app.study.categories, v)?);
            }
        }
        let note = f.text("note", MAX_NOTE, "the note")?;
        let root_cause = f.text("root_cause", MAX_ROOT_CAUSE, "the root cause")?;
        let root_causes = check_codes(&app.study.root_causes, f.all("root_causes"))?;
        let posts = app.store().batch_posts(&batch)?;
        if posts.is_empty() {
            return Err(PageError::missing(format!("no batch named {batch}")));
        }
        let Some(i) = posts.iter().position(|p| p.site == site && p.id == post_id) else {
            return Err(PageError::bad(format!(
                "post {site}/{post_id} is not in batch {batch}"
            )));
        };
        let row = LabelRow {
            set_name: batch.clone(),
            site,
            post_id,
            annotator: annotator.clone(),
            primary,
            secondary,
            note,
            root_cause,
            root_causes,
        };
        app.write(|store| store.save_label(&row))?;
        if wants_json(&headers) {
            return Ok((
                [(header::CONTENT_TYPE, "application/json")],
                "{\"saved\":true}",
            )
                .into_response());
        }
        let to = if next {
            if i + 1 < posts.len() {
                label_url(&batch, &annotator, i + 1)
            } else {
                format!("/?annotator={annotator}")
            }
        } else {
            label_url(&batch, &annotator, i)
        };
        Ok(Redirect::to(&to).into_response())
    })
    .await
}

struct SideLabel {
    annotator: String,
    primary: String,
    secondary: String,
    note: String,
    root_cause: String,
    root_causes: String,
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
    codes: Vec<CodeView>,
    root_cause: String,
    thread: String,
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

/// A set's labels; an unknown set is no such page.
fn gather(
    store: &crate::store::Store,
    set: &str,
) -> Result<BTreeMap<PostKey, label::PostLabels>, PageError> {
    label::gather(store, set).map_err(|e| match e {
        LabelError::NoSet(_) => PageError::missing(e.to_string()),
        e => e.into(),
    })
}

/// The disagreements of a set, each annotator's labels side by side.
pub async fn adjudicate_page(
    State(app): State<Shared>,
    set: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    blocking(move || {
        let set = path_name(set, "label set")?;
        let q = Fields::query(raw)?;
        let adjudicator = q.soft_name("adjudicator")?;
        let store = app.store();
        let posts = gather(&store, &set)?;
        let mut annotators: Vec<&String> =
            posts.values().flat_map(|p| p.by_annotator.keys()).collect();
        annotators.sort();
        annotators.dedup();
        let mut items = Vec::new();
        for (PostKey { site, id }, p) in &posts {
            let labels: Vec<&LabelRow> = p.by_annotator.values().collect();
            let Some(first) = labels.first() else {
                continue;
            };
            // A post is shown while its annotators differ on the kind or on
            // the root-cause codes; what they all gave alike is prefilled.
            let same_primary = labels.iter().all(|l| l.primary == first.primary);
            let same_codes = labels.iter().all(|l| l.root_causes == first.root_causes);
            let same_text = labels.iter().all(|l| l.root_cause == first.root_cause);
            if labels.len() < 2 || (same_primary && same_codes) {
                continue;
            }
            let view = store.post_view(site, *id)?;
            let thread = match &view {
                Some(v) => thread_html(&store, v)?,
                None => String::new(),
            };
            let fin = p.final_label.as_ref();
            let decided = fin.map(|f| f.primary.clone());
            let chosen = decided
                .clone()
                .or_else(|| same_primary.then(|| first.primary.clone()));
            let codes = match fin {
                Some(f) => f.root_causes.clone(),
                None if same_codes => first.root_causes.clone(),
                None => Vec::new(),
            };
            let root_cause = match fin {
                Some(f) => f.root_cause.clone(),
                None if same_text => first.root_cause.clone(),
                None => String::new(),
            };
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
                        root_causes: l.root_causes.join(", "),
                    })
                    .collect(),
                options: app
                    .study
                    .categories
                    .iter()
                    .map(|c| Option_ {
                        key: c.key.clone(),
                        name: c.name.clone(),
                        selected: chosen.as_deref() == Some(c.key.as_str()),
                    })
                    .collect(),
                secondary: p
                    .final_label
                    .as_ref()
                    .map(|f| f.secondary.join(";"))
                    .unwrap_or_default(),
                decided,
                codes: code_views(&app, &codes),
                root_cause,
                thread,
            });
        }
        let decided = items.iter().filter(|i| i.decided.is_some()).count();
        render(&AdjudicatePage {
            set: set.clone(),
            adjudicator,
            annotators: annotators
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            decided: int(decided as u64),
            items,
        })
    })
    .await
}

/// Records the adjudicated label of a post; `Ok` means committed.
pub async fn save_final(
    State(app): State<Shared>,
    set: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    blocking(move || {
        let set = path_name(set, "label set")?;
        let f = form(&headers, body)?;
        let adjudicator = f.one("adjudicator")?.unwrap_or("");
        if !valid_name(adjudicator) {
            return Err(PageError::bad(format!(
                "give your name as adjudicator first ({NAME_RULE})"
            )));
        }
        let adjudicator = adjudicator.to_string();
        let site = f.site()?;
        let post_id = f.post_id()?;
        let primary = f.one("primary")?.unwrap_or("");
        if primary.is_empty() {
            return Err(PageError::bad("choose a final kind"));
        }
        let primary = check_kind(&app.study.categories, primary)?;
        let secondary_field = f.text("secondary", MAX_ROOT_CAUSE, "the secondary field")?;
        let mut secondary: Vec<String> = Vec::new();
        for k in crate::store::split_kinds(&secondary_field) {
            if k != primary && !secondary.contains(&k) {
                secondary.push(check_kind(&app.study.categories, &k)?);
            }
        }
        let root_causes = check_codes(&app.study.root_causes, f.all("root_causes"))?;
        let root_cause = f.text("root_cause", MAX_ROOT_CAUSE, "the root cause")?;
        let posts = gather(&app.store(), &set)?;
        if !posts.contains_key(&PostKey::new(site.clone(), post_id)) {
            return Err(PageError::bad(format!(
                "post {site}/{post_id} has no labels in set {set}"
            )));
        }
        let decision = FinalLabel {
            site: site.clone(),
            post_id,
            primary,
            secondary,
            decided_by: adjudicator.clone(),
            note: String::new(),
            root_causes,
            root_cause,
        };
        app.write(|store| store.save_final(&set, &decision))?;
        if wants_json(&headers) {
            return Ok((
                [(header::CONTENT_TYPE, "application/json")],
                "{\"saved\":true}",
            )
                .into_response());
        }
        Ok(Redirect::to(&format!(
            "/adjudicate/{set}?adjudicator={adjudicator}#post-{site}-{post_id}"
        ))
        .into_response())
    })
    .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_numbers_are_checked_without_overflow() {
        assert_eq!(post_index(None, "b1", 3).ok(), Some(0));
        assert_eq!(post_index(Some("2"), "b1", 3).ok(), Some(2));
        let msg = |v: &str| post_index(Some(v), "b1", 24).err().unwrap().message;
        assert_eq!(
            msg("18446744073709551615"),
            "post 18446744073709551615 is out of range: batch b1 has 24 posts (i from 0 to 23)"
        );
        assert!(msg("24").starts_with("post 24 is out of range"));
        assert!(msg(&"9".repeat(500)).contains("…"));
        for bad in ["-1", "", "x", "+1", "1.0", " 1", "0x1"] {
            assert!(
                msg(bad).starts_with("i must be a post number from 0 to 23"),
                "{bad}"
            );
        }
    }

    #[test]
    fn repeated_fields_are_refused() {
        let f = Fields::parse(b"primary=crash&primary=training&secondary=a&secondary=b").unwrap();
        assert!(f.one("primary").is_err());
        assert_eq!(f.all("secondary").count(), 2);
        assert_eq!(f.one("note").ok(), Some(None));
    }

    /// The default study's categories and root-cause codes.
    fn default_study() -> crate::study::Study {
        crate::study::Study::default_study()
    }

    #[test]
    fn kinds_and_codes_are_checked_against_the_study() {
        let study = default_study();
        assert_eq!(
            check_kind(&study.categories, "crash").ok().as_deref(),
            Some("crash")
        );
        let err = check_kind(&study.categories, "Crash").unwrap_err();
        assert!(
            err.message
                .starts_with("unknown category \"Crash\": the study's are "),
            "{}",
            err.message
        );
        // Codes come back once each, in the study's order, empty values ignored.
        let keys: Vec<&str> = study.root_causes.iter().map(|c| c.key.as_str()).collect();
        assert!(keys.len() >= 2, "{keys:?}");
        let picked = check_codes(
            &study.root_causes,
            [keys[1], "", keys[0], keys[1]].into_iter(),
        )
        .unwrap();
        assert_eq!(picked, vec![keys[0].to_string(), keys[1].to_string()]);
        let err = check_codes(&study.root_causes, ["gpu<script>"].into_iter()).unwrap_err();
        assert!(
            err.message
                .starts_with("unknown root-cause code \"gpu<script>\": the study's are "),
            "{}",
            err.message
        );
        let err = check_codes(&[], ["gpu"].into_iter()).unwrap_err();
        assert_eq!(
            err.message,
            "unknown root-cause code \"gpu\": the study has no [[root_causes]]"
        );
        assert_eq!(
            check_codes(&[], std::iter::empty()).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn forms_must_be_url_encoded() {
        let mut headers = HeaderMap::new();
        let body = || Ok(Bytes::from_static(b"primary=crash&note=x%20y"));
        let err = form(&headers, body()).err().unwrap();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
        );
        let f = form(&headers, body()).ok().unwrap();
        assert_eq!(f.one("note").ok(), Some(Some("x y")));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(form(&headers, body()).is_err());
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        assert_eq!(shown("abc"), "\"abc\"");
        let long = "é".repeat(SHOW + 10);
        let s = shown(&long);
        assert_eq!(s.chars().count(), SHOW + 3);
        assert!(s.ends_with("…\""));
        assert_eq!(label_url("b1", "ann", 3), "/label/b1?annotator=ann&i=3");
    }

    #[test]
    fn links_only_to_web_urls() {
        assert_eq!(
            post_link(Some("https://stackoverflow.com/"), 7).as_deref(),
            Some("https://stackoverflow.com/q/7")
        );
        assert_eq!(post_link(Some("javascript:alert(1)//"), 7), None);
        assert_eq!(post_link(None, 7), None);
    }
}
