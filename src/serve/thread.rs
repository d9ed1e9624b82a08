//! A question's thread as the labeling and adjudication pages show it: the
//! answers (the accepted one first, then by score, ties older first, then by
//! Id) and the comments under the question and each answer (oldest first),
//! server-rendered. Answer bodies go through the same sanitizer as the
//! question's body; comments are plain text in the dump and are escaped.
//! Long threads fold: past [`SHOWN_ANSWERS`] answers or [`SHOWN_COMMENTS`]
//! comments under one post, the rest sit in a closed `<details>`.

use std::collections::HashSet;

use askama::Template;

use super::sanitize;
use crate::report::fmt::opt_int;
use crate::store::{AnswerView, CommentView, Endorsement, PostView, Store, StoreError};

/// Answers shown before the rest fold.
pub const SHOWN_ANSWERS: usize = 3;
/// Comments shown under one post before the rest fold.
pub const SHOWN_COMMENTS: usize = 5;

pub struct CommentItem {
    pub id: i64,
    pub created: String,
    pub author: String,
    pub score: String,
    pub text: String,
    pub asker: bool,
    pub endorsed: bool,
}

pub struct Comments {
    pub shown: Vec<CommentItem>,
    pub folded: Vec<CommentItem>,
    /// The site has comments in the store (else nothing is said per post).
    pub ingested: bool,
}

pub struct AnswerItem {
    pub id: i64,
    pub accepted: bool,
    pub self_answer: bool,
    pub endorsed: bool,
    pub score: String,
    pub created: String,
    pub author: String,
    pub body: String,
    pub comments: Comments,
}

/// The thread's HTML (its own template, put in both pages as is).
#[derive(Template)]
#[template(path = "thread.html")]
pub struct Thread {
    pub question_comments: Comments,
    pub shown: Vec<AnswerItem>,
    pub folded: Vec<AnswerItem>,
    pub answers: usize,
    pub comments_ingested: bool,
}

/// "Name" for a row that carries a display name, "user N" for one with a
/// user Id only, nothing for neither.
pub fn author(display_name: Option<&str>, user_id: Option<i64>) -> String {
    match (
        display_name.map(str::trim).filter(|n| !n.is_empty()),
        user_id,
    ) {
        (Some(n), _) => n.to_string(),
        (None, Some(id)) => format!("user {id}"),
        (None, None) => String::new(),
    }
}

fn day(created: &str) -> String {
    created.get(..10).unwrap_or(created).to_string()
}

/// The order the page shows answers in: the accepted one first, then by
/// score (highest first; no score counts as lowest), ties older first, then
/// by Id.
pub fn order_answers(answers: &mut [AnswerView], accepted: Option<i64>) {
    answers.sort_by(|a, b| {
        let acc = |x: &AnswerView| Some(x.id) != accepted;
        acc(a)
            .cmp(&acc(b))
            .then(b.score.cmp(&a.score))
            .then(a.created_ms.cmp(&b.created_ms))
            .then(a.id.cmp(&b.id))
    });
}

fn split<T>(mut items: Vec<T>, shown: usize) -> (Vec<T>, Vec<T>) {
    let folded = if items.len() > shown {
        items.split_off(shown)
    } else {
        Vec::new()
    };
    (items, folded)
}

/// Whether two rows have the same known author.
fn same_user(a: Option<i64>, b: Option<i64>) -> bool {
    a.is_some() && a == b
}

/// Builds the thread of a question from the store.
pub fn build(store: &Store, post: &PostView) -> Result<Thread, StoreError> {
    let mut answers = store.answers_of(&post.site, post.id)?;
    order_answers(&mut answers, post.accepted_answer_id);
    let comments = store.thread_comments(&post.site, post.id)?;
    let ingested = !comments.is_empty() || store.site_has_comments(&post.site)?;
    let endorsements = store.endorsements_of(&post.site, post.id)?;
    Ok(assemble(post, answers, comments, &endorsements, ingested))
}

/// Assembles the thread from its rows (answers already in page order).
pub fn assemble(
    post: &PostView,
    answers: Vec<AnswerView>,
    comments: Vec<CommentView>,
    endorsements: &[Endorsement],
    ingested: bool,
) -> Thread {
    let endorsed_answers: HashSet<i64> = endorsements.iter().map(|e| e.answer_id).collect();
    let endorsing: HashSet<i64> = endorsements.iter().map(|e| e.comment_id).collect();
    let comments_of = |post_id: i64| -> Comments {
        let items: Vec<CommentItem> = comments
            .iter()
            .filter(|c| c.post_id == post_id)
            .map(|c| CommentItem {
                id: c.id,
                created: day(&c.created),
                author: author(c.user_display_name.as_deref(), c.user_id),
                score: opt_int(c.score),
                text: c.text.clone(),
                asker: same_user(c.user_id, post.owner_user_id),
                endorsed: endorsing.contains(&c.id),
            })
            .collect();
        let (shown, folded) = split(items, SHOWN_COMMENTS);
        Comments {
            shown,
            folded,
            ingested,
        }
    };
    let count = answers.len();
    let items: Vec<AnswerItem> = answers
        .iter()
        .map(|a| AnswerItem {
            id: a.id,
            accepted: Some(a.id) == post.accepted_answer_id,
            self_answer: same_user(a.owner_user_id, post.owner_user_id),
            endorsed: endorsed_answers.contains(&a.id),
            score: opt_int(a.score),
            created: day(&a.created),
            author: author(a.owner_display_name.as_deref(), a.owner_user_id),
            body: sanitize(&a.body_html),
            comments: comments_of(a.id),
        })
        .collect();
    let (shown, folded) = split(items, SHOWN_ANSWERS);
    Thread {
        question_comments: comments_of(post.id),
        shown,
        folded,
        answers: count,
        comments_ingested: ingested,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: i64, score: Option<i64>, created_ms: i64) -> AnswerView {
        AnswerView {
            id,
            created: String::new(),
            created_ms,
            score,
            body_html: String::new(),
            owner_user_id: None,
            owner_display_name: None,
        }
    }

    #[test]
    fn accepted_first_then_score_then_older_then_id() {
        let mut a = vec![
            answer(1, Some(5), 10),
            answer(2, Some(9), 10),
            answer(3, Some(5), 5),
            answer(4, None, 1),
            answer(5, Some(0), 1),
            answer(6, Some(5), 5),
        ];
        order_answers(&mut a, Some(4));
        let ids: Vec<i64> = a.iter().map(|a| a.id).collect();
        assert_eq!(ids, [4, 2, 3, 6, 1, 5]);
    }

    #[test]
    fn authors() {
        assert_eq!(author(Some("ann"), Some(3)), "ann");
        assert_eq!(author(None, Some(3)), "user 3");
        assert_eq!(author(Some(" "), None), "");
        assert_eq!(author(None, None), "");
    }
}
