//! Time to an accepted answer and trends (issue 10, parts 2 and 3), through
//! the real binary, and the reference values re-made live with lifelines.

mod util;

use std::path::Path;
use std::process::Command;

/// The interpreter with lifelines, numpy, scipy and statsmodels, from
/// `STACKMINE_PYTHON`; `None` (after a notice) when unset.
fn python() -> Option<String> {
    match std::env::var("STACKMINE_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!(
                "notice: STACKMINE_PYTHON is not set: the reference values are not re-made with lifelines (the stored ones are still checked by the unit tests)"
            );
            None
        }
    }
}

/// Every number in `a` within `tol` (relative above 1) of the one at the same
/// place in `b`; everything else equal.
fn same(a: &serde_json::Value, b: &serde_json::Value, tol: f64, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= tol * y.abs().max(1.0), "{at}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: length");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same(x, y, tol, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}: keys"
            );
            for (k, v) in x {
                same(v, &y[k], tol, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// The stored survival.json and trend.json are what the script makes now.
#[test]
fn stored_reference_is_what_lifelines_gives() {
    let Some(py) = python() else { return };
    let dir = util::Dir::new();
    let script = util::data("reference/make_survival_reference.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(dir.tmp.path())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["survival.json", "trend.json"] {
        let read = |p: &Path| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        let fresh = read(&dir.path(name));
        let stored = read(&util::data(&format!("reference/{name}")));
        same(&fresh, &stored, 1e-12, name);
    }
}
