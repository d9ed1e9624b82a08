//! The labeling page's thread and root-cause keys in a real headless
//! Chromium, driven over WebDriver (Debian packages `chromium` and
//! `chromium-driver`; setup as in tests/it/browser.rs). Without them the test is
//! skipped with a notice, except under CI=true, where it fails.

use crate::chrome::{browser, driver, text, until};
use crate::util::{Dir, Server, path};
use fantoccini::{Client, Locator, key::Key};

const AI: &str = "ai.stackexchange.com-2017";
/// "Why is searching important in AIs?": accepted answer 1883, comments on
/// the question and under the answers (tests/it/root_causes.rs describes it).
const POST: i64 = 1877;

/// Waits for the page's save counter to reach `n`.
async fn saves(c: &Client, n: u32) {
    until(&format!("save {n}"), || async {
        c.execute("return document.body.dataset.saves || '0'", vec![])
            .await
            .map(|v| v == serde_json::json!(n.to_string()))
            .unwrap_or(false)
    })
    .await;
}

/// Shift+digit as a keyboard gives it: WebDriver's Shift key stays down until
/// the NULL key.
fn shift(digit: char) -> String {
    format!("{}{digit}{}", char::from(Key::Shift), char::from(Key::Null))
}

async fn checked(c: &Client, id: &str) -> bool {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .is_selected()
        .await
        .unwrap()
}

#[test]
fn a_thread_with_scripts_stays_inert_and_root_cause_keys_survive_a_kill() {
    let Some((_driver, port)) = driver() else {
        return;
    };
    let d = Dir::new();
    let s = d.study("s");
    d.ok(&["ingest", &path(AI), "--all-questions", "--study", &s]);
    let n = d.count(&s, "SELECT COUNT(*) FROM questions");
    d.ok(&[
        "sample",
        "--study",
        &s,
        "--name",
        "all",
        "--size",
        &n.to_string(),
        "--seed",
        "0",
    ]);
    let (i, comment): (i64, i64) = {
        let db = d.db(&s);
        // Scripts in the accepted answer's body and in a comment under it.
        db.execute(
            "UPDATE answers SET body_html = body_html ||
               '<script>window.pwned = 1; document.title = \"pwned\"</script><p>the end</p><img src=\"x\" onerror=\"window.pwned = 2\">'
             WHERE site = ?1 AND id = 1883",
            [AI],
        )
        .unwrap();
        let comment: i64 = db
            .query_row(
                "SELECT min(id) FROM comments WHERE site = ?1 AND post_id = 1883",
                [AI],
                |r| r.get(0),
            )
            .unwrap();
        db.execute(
            "UPDATE comments SET text = '<script>window.pwned = 3</script><b onmouseover=x>bold</b>'
             WHERE site = ?1 AND id = ?2",
            rusqlite::params![AI, comment],
        )
        .unwrap();
        let i = db
            .query_row(
                "SELECT position FROM batch_posts WHERE batch = 'all' AND site = ?1 AND post_id = ?2",
                rusqlite::params![AI, POST],
                |r| r.get(0),
            )
            .unwrap();
        (i, comment)
    };
    let page = |base: &str| format!("{base}/label/all?annotator=alice&i={i}");
    let mut server = Server::start(&d, &s);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(port, &d.path("chromium-profile")).await;
        c.goto(&page(&server.url)).await.unwrap();
        // Nothing injected ran; the answer's script is gone, the comment's
        // is shown as text.
        let ran = c
            .execute("return [window.pwned === undefined, document.title]", vec![])
            .await
            .unwrap();
        assert_eq!(ran[0], serde_json::json!(true), "a script ran");
        assert!(!ran[1].as_str().unwrap().contains("pwned"), "{ran}");
        let survivors = c
            .execute(
                "return document.querySelectorAll('#thread script, #thread [onerror], #thread [onmouseover], #thread b').length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(survivors, serde_json::json!(0));
        // (ammonia drops the id; the paragraph stays.)
        let answer = text(&c, "#answer-1883 .answer-body").await;
        assert!(answer.ends_with("the end"), "{answer}");
        let shown = text(&c, &format!("#comment-{comment} .comment-text")).await;
        assert_eq!(shown, "<script>window.pwned = 3</script><b onmouseover=x>bold</b>");
        // The accepted answer comes first, marked; the fourth and later fold.
        assert_eq!(
            text(&c, "#thread section.answer .accepted").await,
            "accepted"
        );
        let folded = c
            .execute("return document.getElementById('more-answers').open", vec![])
            .await
            .unwrap();
        assert_eq!(folded, serde_json::json!(false));

        // 5: comprehension; Shift+1 api_misuse, Shift+3 gpu, Shift+2 twice
        // (on, off); then Enter saves and goes on.
        let body = c.find(Locator::Css("body")).await.unwrap();
        body.send_keys("5").await.unwrap();
        saves(&c, 1).await;
        let mut n = 1;
        for digit in ['1', '3', '2', '2'] {
            body.send_keys(&shift(digit)).await.unwrap();
            n += 1;
            saves(&c, n).await;
        }
        assert!(checked(&c, "root-cause-api_misuse").await);
        assert!(checked(&c, "root-cause-gpu").await);
        assert!(!checked(&c, "root-cause-hyperparameters").await);
        let before = c.current_url().await.unwrap();
        body.send_keys(&char::from(Key::Enter).to_string())
            .await
            .unwrap();
        until("the next post", || async {
            c.current_url().await.map(|u| u != before).unwrap_or(false)
        })
        .await;
        c.close().await.unwrap();
    });
    // kill -9, then the store and the page still have the label and its codes.
    server.kill();
    let stored: String = d
        .db(&s)
        .query_row(
            "SELECT primary_kind || '|' || root_causes FROM labels
             WHERE set_name = 'all' AND site = ?1 AND post_id = ?2 AND annotator = 'alice'",
            rusqlite::params![AI, POST],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "comprehension|api_misuse;gpu");
    let server = Server::start(&d, &s);
    rt.block_on(async {
        let c = browser(port, &d.path("chromium-profile-2")).await;
        c.goto(&page(&server.url)).await.unwrap();
        assert!(checked(&c, "primary-comprehension").await);
        assert!(checked(&c, "root-cause-api_misuse").await);
        assert!(checked(&c, "root-cause-gpu").await);
        assert!(!checked(&c, "root-cause-hyperparameters").await);
        assert!(!checked(&c, "root-cause-other").await);
        c.close().await.unwrap();
    });
}
