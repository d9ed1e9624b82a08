//! Micro-benchmarks of the ingest hot path on real rows (tests/data).
//! Each bench asserts what it computed, so it doubles as a test.
//! Run: `cargo bench --bench ingest`. Whole-process figures: benches/compare.sh.

use std::collections::HashSet;

use stackmine::dump::scan::{Table, Want, scan_chunk};
use stackmine::study::{Framework, Study};

fn main() {
    divan::main();
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read(path).expect("fixture")
}

fn frameworks() -> Vec<Framework> {
    Study::default_study()
        .enabled_frameworks()
        .into_iter()
        .cloned()
        .collect()
}

/// Scanning rows that are almost all skipped (non-DL sites): the common case.
#[divan::bench(sample_count = 20)]
fn scan_filler(bencher: divan::Bencher) {
    let data = fixture("other-sites/cardano.stackexchange.com-2021.Posts.xml");
    let fw = frameworks();
    let known = HashSet::new();
    bencher
        .counter(divan::counter::BytesCount::new(data.len()))
        .bench(|| {
            let want = Want::Posts {
                frameworks: &fw,
                all_questions: false,
                known: &known,
            };
            let s = scan_chunk(divan::black_box(&data), Table::Posts, &want);
            assert_eq!(s.rows, 2630);
            assert!(s.questions.is_empty());
        });
}

/// Scanning rows that are mostly kept (the deployment questions): full
/// parsing, unescaping and HTML to text.
#[divan::bench(sample_count = 20)]
fn scan_kept(bencher: divan::Bencher) {
    let data = fixture("stackoverflow-dl-deploy/Posts.xml");
    let fw = frameworks();
    let known = HashSet::new();
    bencher
        .counter(divan::counter::BytesCount::new(data.len()))
        .bench(|| {
            let want = Want::Posts {
                frameworks: &fw,
                all_questions: false,
                known: &known,
            };
            let s = scan_chunk(divan::black_box(&data), Table::Posts, &want);
            assert_eq!(s.questions.len(), 2381);
        });
}
