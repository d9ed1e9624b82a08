//! The labeling UI in a real headless Chromium, driven over WebDriver
//! (Debian packages `chromium` and `chromium-driver`). Without them the test
//! is skipped with a notice, except under CI=true, where it fails.

use crate::chrome::{browser, driver, text, until};
use crate::util::{Dir, Server, study_with_batch};
use fantoccini::{Client, Locator, key::Key};

/// The payload post must be inert: nothing it carries ran or survived.
async fn assert_inert(c: &Client) {
    let pwned = c
        .execute("return window.__pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, serde_json::Value::Bool(true), "the payload ran");
    let survivors = c
        .execute(
            "return document.querySelectorAll('#post-body script, #post-body [onerror], #post-body a[href^=\"javascript:\"]').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(survivors, serde_json::json!(0));
    assert!(c.get_alert_text().await.is_err(), "an alert is open");
}

/// One annotator labels the whole batch with the keyboard: a digit, then Enter.
async fn label_batch(c: &Client, base: &str, annotator: &str, keys: &[&str]) {
    c.goto(&format!("{base}/")).await.unwrap();
    c.find(Locator::Id("annotator"))
        .await
        .unwrap()
        .send_keys(annotator)
        .await
        .unwrap();
    c.find(Locator::Id("start"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for (i, key) in keys.iter().enumerate() {
        until("the label page", || async {
            c.find(Locator::Id("progress")).await.ok().is_some()
        })
        .await;
        let progress = text(c, "#progress").await;
        assert!(
            progress.starts_with(&format!("{} of {}", i + 1, keys.len())),
            "{progress}"
        );
        assert_inert(c).await;
        let body = c.find(Locator::Css("body")).await.unwrap();
        body.send_keys(key).await.unwrap();
        until("the save", || async {
            c.execute("return document.body.dataset.saves || '0'", vec![])
                .await
                .map(|v| v == serde_json::json!("1"))
                .unwrap_or(false)
        })
        .await;
        let url_before = c.current_url().await.unwrap();
        body.send_keys(&char::from(Key::Enter).to_string())
            .await
            .unwrap();
        until("the next page", || async {
            c.current_url()
                .await
                .map(|u| u != url_before)
                .unwrap_or(false)
        })
        .await;
    }
}

#[test]
fn two_annotators_label_agree_and_adjudicate_in_a_real_browser() {
    let Some((_driver, port)) = driver() else {
        return;
    };
    let d = Dir::new();
    let s = study_with_batch(&d);
    let mut server = Server::start(&d, &s);
    let base = server.url.clone();
    let profile = d.path("chromium-profile");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(port, &profile).await;
        // alice: crash, installation, comprehension; bob differs on the second.
        label_batch(&c, &base, "alice", &["1", "6", "5"]).await;
        label_batch(&c, &base, "bob", &["1", "4", "5"]).await;
    });
    // Kill the server (as kill -9) and start it again: nothing saved is lost.
    server.kill();
    let server = Server::start(&d, &s);
    let base = server.url.clone();
    rt.block_on(async {
        let c = browser(port, &d.path("chromium-profile-2")).await;
        c.goto(&format!("{base}/label/b1?annotator=alice&i=1"))
            .await
            .unwrap();
        let chosen = c.find(Locator::Id("primary-installation")).await.unwrap();
        assert!(
            chosen.is_selected().await.unwrap(),
            "alice's label survived the reload"
        );
        c.goto(&format!("{base}/label/b1?annotator=bob&i=1"))
            .await
            .unwrap();
        let chosen = c.find(Locator::Id("primary-training")).await.unwrap();
        assert!(
            chosen.is_selected().await.unwrap(),
            "bob sees his own label"
        );
        let alice_choice = c.find(Locator::Id("primary-installation")).await.unwrap();
        assert!(
            !alice_choice.is_selected().await.unwrap(),
            "bob must not see alice's label"
        );

        // With the mouse: a click on a kind, then the plain form's "Save and next".
        c.goto(&format!("{base}/label/b1?annotator=dave&i=0"))
            .await
            .unwrap();
        c.find(Locator::Id("primary-performance"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(Locator::Id("save-next"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until("the form post", || async {
            c.current_url()
                .await
                .map(|u| u.as_str().ends_with("i=1"))
                .unwrap_or(false)
        })
        .await;

        // The screenshot for the README: a 1280×800 viewport.
        c.goto(&format!("{base}/label/b1?annotator=alice&i=1"))
            .await
            .unwrap();
        let chrome = c
            .execute("return window.outerHeight - window.innerHeight", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0);
        c.set_window_size(1280, 800 + chrome as u32).await.unwrap();
        let png = c.screenshot().await.unwrap();
        let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("labeling.png");
        std::fs::write(&out, png).unwrap();
        eprintln!("screenshot: {}", out.display());
        c.close().await.unwrap();
    });

    assert_eq!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM labels WHERE annotator = 'dave' AND primary_kind = 'performance'"
        ),
        1
    );
    // dave labeled one post only: agreement compares the posts all annotators labeled.
    d.db(&s)
        .execute("DELETE FROM labels WHERE annotator = 'dave'", [])
        .unwrap();
    let agree: serde_json::Value =
        serde_json::from_str(&d.ok(&["agree", "--set", "b1", "--study", &s, "--json"])).unwrap();
    assert_eq!(agree["items"], 3);
    assert_eq!(agree["annotators"], serde_json::json!(["alice", "bob"]));
    assert!((agree["agreement"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let disagreement = &agree["disagreements"][0];
    assert_eq!(disagreement["labels"]["alice"], "installation");
    assert_eq!(disagreement["labels"]["bob"], "training");
    assert!(disagreement["adjudicated"].is_null());
    let (site, id) = (
        disagreement["site"].as_str().unwrap().to_string(),
        disagreement["post_id"].as_i64().unwrap(),
    );

    rt.block_on(async {
        let c = browser(port, &d.path("chromium-profile-3")).await;
        c.goto(&format!("{base}/adjudicate/b1?adjudicator=carol"))
            .await
            .unwrap();
        let css_site = site.replace('.', "\\.");
        let side = text(&c, &format!("#post-{css_site}-{id} table")).await;
        assert!(
            side.contains("alice installation") && side.contains("bob training"),
            "{side}"
        );
        c.find(Locator::Css(&format!(
            "#final-{css_site}-{id} option[value=installation]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        c.find(Locator::Css(&format!("#decide-{css_site}-{id}")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until("the decision", || async {
            c.source()
                .await
                .map(|s| s.contains("decided: installation"))
                .unwrap_or(false)
        })
        .await;
        c.close().await.unwrap();
    });
    let agree: serde_json::Value =
        serde_json::from_str(&d.ok(&["agree", "--set", "b1", "--study", &s, "--json"])).unwrap();
    assert_eq!(agree["disagreements"][0]["adjudicated"], "installation");
    assert_eq!(
        d.count(
            &s,
            "SELECT COUNT(*) FROM final_labels WHERE decided_by = 'carol'"
        ),
        1
    );
    let export = d.ok(&["label", "export", "--set", "b1", "--study", &s]);
    assert!(export.starts_with("site,post_id,primary,secondary,annotator_alice,annotator_bob\n"));
    assert!(
        export.contains(&format!("{site},{id},installation,,installation,training")),
        "{export}"
    );
}

/// The report opens from disk in Chromium, reads at 1280 px and on a phone
/// (no sideways scrolling of the page), and gives the README its screenshot.
#[test]
fn the_report_reads_well_in_a_real_browser() {
    let Some((_driver, port)) = driver() else {
        return;
    };
    let d = Dir::new();
    d.ok(&[
        "run",
        &crate::util::path("stackoverflow-dl-deploy/Posts.xml"),
        "--study",
        "s",
        "-q",
    ]);
    let index = d.path("s/report/index.html");
    let url = format!("file://{}", index.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(port, &d.path("profile")).await;
        c.goto(&url).await.unwrap();
        let title = c.title().await.unwrap();
        assert!(title.contains("stackmine report"), "{title}");
        let charts = c.find_all(Locator::Css("svg.chart")).await.unwrap();
        assert_eq!(charts.len(), 6, "six charts, with the Kaplan–Meier curves");
        let chrome = c
            .execute("return window.outerHeight - window.innerHeight", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0);
        c.set_window_size(1280, 800 + chrome as u32).await.unwrap();
        c.goto(&format!("{url}#kinds")).await.unwrap();
        let png = c.screenshot().await.unwrap();
        let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
        std::fs::write(&out, png).unwrap();
        eprintln!("screenshot: {}", out.display());
        // A phone: the page itself must not scroll sideways.
        c.set_window_size(390, 844 + chrome as u32).await.unwrap();
        c.goto(&url).await.unwrap();
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth",
                vec![],
            )
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        assert!(
            overflow <= 0,
            "the page is {overflow} px wider than a phone"
        );
        c.close().await.unwrap();
    });
}

/// While another process holds the store's write lock, a save shows
/// "saving…", gets 503 and is retried by the page itself; it lands once the
/// lock is gone. Errors are shown in words (the server's JSON message),
/// never as a raw response.
#[test]
fn a_busy_store_is_retried_by_the_page_and_errors_are_words() {
    let Some((_driver, port)) = driver() else {
        return;
    };
    let d = Dir::new();
    let s = study_with_batch(&d);
    let server = Server::start(&d, &s);
    let base = server.url.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(port, &d.path("chromium-profile")).await;
        c.goto(&format!("{base}/label/b1?annotator=alice&i=0"))
            .await
            .unwrap();
        let lock = d.db(&s);
        lock.execute_batch("BEGIN IMMEDIATE").unwrap();
        let body = c.find(Locator::Css("body")).await.unwrap();
        body.send_keys("1").await.unwrap();
        until("saving…", || async {
            text(&c, "#status").await == "saving…"
        })
        .await;
        until("the retry after a 503", || async {
            text(&c, "#status").await == "saving… (the store is busy, retrying)"
        })
        .await;
        assert_eq!(d.count(&s, "SELECT COUNT(*) FROM labels"), 0);
        lock.execute_batch("COMMIT").unwrap();
        until("the save", || async {
            c.execute("return document.body.dataset.saves || '0'", vec![])
                .await
                .map(|v| v == serde_json::json!("1"))
                .unwrap_or(false)
        })
        .await;
        assert_eq!(text(&c, "#status").await, "saved");
        assert_eq!(
            d.count(
                &s,
                "SELECT COUNT(*) FROM labels WHERE annotator = 'alice' AND primary_kind = 'crash'"
            ),
            1
        );

        // A refused save: the server's message, in words.
        c.execute(
            "document.querySelector('input[name=post_id]').value = '999'",
            vec![],
        )
        .await
        .unwrap();
        body.send_keys("2").await.unwrap();
        until("the refusal", || async {
            text(&c, "#status").await.starts_with("not saved:")
        })
        .await;
        assert_eq!(
            text(&c, "#status").await,
            "not saved: post stackoverflow.com/999 is not in batch b1"
        );
        // A page that is not there: still words, no HTML.
        c.execute(
            "document.getElementById('label-form').action = '/no/such/page'",
            vec![],
        )
        .await
        .unwrap();
        body.send_keys("3").await.unwrap();
        until("the 404", || async {
            text(&c, "#status").await == "not saved: no such page"
        })
        .await;
        let status = text(&c, "#status").await;
        assert!(!status.contains('<'), "{status}");
        c.close().await.unwrap();
    });
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM label_history"), 1);
}
