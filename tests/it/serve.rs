//! The labeling server over raw HTTP: security headers, Origin checks, 4xx
//! for bad input (never a 500), storage at once, and a kill -9 losing nothing.

use crate::util::{Dir, Server, http, study_with_batch};

fn first_post(d: &Dir, s: &str) -> (String, i64) {
    d.db(s)
        .query_row(
            "SELECT site, post_id FROM batch_posts WHERE batch = 'b1' AND position = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn pages_carry_a_csp_and_posts_are_sanitized() {
    let d = Dir::new();
    let s = study_with_batch(&d);
    let server = Server::start(&d, &s);
    let (status, head, body) = http(server.port, "GET", "/", &[], "");
    assert_eq!(status, 200, "{body}");
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
    // Not no-referrer: Chromium then sends `Origin: null` on form posts.
    assert!(head.contains("referrer-policy: same-origin"), "{head}");
    assert!(body.contains("b1 (3 posts)"), "{body}");
    for i in 0..3 {
        let (status, head, body) = http(
            server.port,
            "GET",
            &format!("/label/b1?annotator=alice&i={i}"),
            &[],
            "",
        );
        assert_eq!(status, 200);
        assert!(head.contains("content-security-policy"), "{head}");
        assert!(!body.contains("<script>window"), "payload script survived");
        assert!(!body.contains("onerror"), "payload handler survived");
        assert!(!body.contains("javascript:"), "payload link survived");
        assert!(
            body.contains("href=\"https://stackoverflow.com/q/"),
            "link to the original post"
        );
        assert!(body.contains(&format!("{} of 3", i + 1)));
    }
    let (status, head, _) = http(server.port, "GET", "/static/app.js", &[], "");
    assert_eq!(status, 200);
    assert!(head.contains("text/javascript"));
}

#[test]
fn state_changes_need_the_servers_own_origin_and_valid_input() {
    let d = Dir::new();
    let s = study_with_batch(&d);
    let (site, id) = first_post(&d, &s);
    let mut server = Server::start(&d, &s);
    let origin = server.url.clone();
    let form = |primary: &str| {
        format!(
            "annotator=alice&i=0&site={site}&post_id={id}&primary={primary}&secondary=training&note=n&root_cause=api+misuse"
        )
    };
    let ct = ("Content-Type", "application/x-www-form-urlencoded");
    let post = |headers: &[(&str, &str)], body: &str| {
        http(server.port, "POST", "/label/b1", headers, body)
    };

    let (status, _, _) = post(&[ct], &form("crash"));
    assert_eq!(status, 403, "no Origin");
    let (status, _, _) = post(&[ct, ("Origin", "http://evil.example")], &form("crash"));
    assert_eq!(status, 403, "foreign Origin");
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM labels"), 0);

    let ok = [ct, ("Origin", origin.as_str())];
    for (body, want) in [
        (form("bug"), "unknown category"),
        (form(""), "choose a primary kind"),
        (
            "annotator=alice&site=x&post_id=1&primary=crash".to_string(),
            "not in batch b1",
        ),
        (
            "annotator=&primary=crash".to_string(),
            "annotator is missing",
        ),
        (
            "annotator=alice&site=x&post_id=abc&primary=crash".to_string(),
            "post_id must be a number",
        ),
        (
            form("crash").replace("note=n", &format!("note={}", "x".repeat(2001))),
            "longer than 2000",
        ),
    ] {
        let (status, _, page) = post(&ok, &body);
        assert_eq!(status, 400, "{body}: {page}");
        assert!(page.contains(want), "{want}: {page}");
    }
    for (path, want) in [
        ("/label/nope?annotator=alice", 404),
        ("/label/b1?annotator=alice&i=3", 404),
        ("/label/b1?annotator=alice&i=x", 400),
        ("/label/b1?annotator=a%20b", 400),
        ("/adjudicate/nope", 404),
        ("/no/such/page", 404),
    ] {
        let (status, _, _) = http(server.port, "GET", path, &[], "");
        assert_eq!(status, want, "{path}");
    }

    // A valid form post is stored at once and redirects to the next post.
    let (status, head, _) = post(&ok, &format!("{}&next=1", form("crash")));
    assert_eq!(status, 303);
    assert!(
        head.contains("location: /label/b1?annotator=alice&i=1"),
        "{head}"
    );
    let (status, _, body) = post(
        &[ct, ("Origin", &origin), ("Accept", "application/json")],
        &form("training"),
    );
    assert_eq!((status, body.as_str()), (200, "{\"saved\":true}"));
    // kill -9, restart: nothing saved is lost, and every change is in the history.
    server.kill();
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM labels"), 1);
    assert_eq!(d.count(&s, "SELECT COUNT(*) FROM label_history"), 2);
    let (primary, secondary, root): (String, String, String) = d
        .db(&s)
        .query_row(
            "SELECT primary_kind, secondary, root_cause FROM labels",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (primary.as_str(), secondary.as_str(), root.as_str()),
        ("training", "", "api misuse")
    );
    let server = Server::start(&d, &s);
    let (_, _, page) = http(server.port, "GET", "/label/b1?annotator=alice&i=0", &[], "");
    assert!(
        page.contains("value=\"training\" id=\"primary-training\" data-key=\"4\" checked"),
        "{page}"
    );
    // Another annotator does not see alice's label.
    let (_, _, page) = http(server.port, "GET", "/label/b1?annotator=bob&i=0", &[], "");
    assert!(!page.contains(" checked"), "bob sees alice's label");
    assert!(!page.contains("api misuse"));
}
