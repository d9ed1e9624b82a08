//! Invariants of the dump reader on arbitrary input: it never panics, chunks
//! cover the stream exactly, and damaging real rows only ever makes them
//! skipped rows, never a crash.

use std::collections::HashSet;

use proptest::prelude::*;
use stackmine::dump::chunks::Chunker;
use stackmine::dump::row;
use stackmine::dump::scan::{Table, Want, scan_chunk};
use stackmine::study::{Framework, Study};

fn frameworks() -> Vec<Framework> {
    Study::default_study()
        .enabled_frameworks()
        .into_iter()
        .cloned()
        .collect()
}

/// Real rows (the first 40 lines of the deployment dump) to damage.
fn real_rows() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/stackoverflow-dl-deploy/Posts.xml"
    );
    std::fs::read(path)
        .unwrap()
        .split(|&b| b == b'\n')
        .take(40)
        .map(<[u8]>::to_vec)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn scanning_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let fw = frameworks();
        let known = HashSet::new();
        for all_questions in [false, true] {
            let want = Want::Posts { frameworks: &fw, all_questions, known: &known };
            let s = scan_chunk(&data, Table::Posts, &want);
            prop_assert!(s.rows as usize <= data.len());
        }
        let _ = row::parse_question(&data);
        let _ = row::parse_answer(&data);
        let _ = row::parse_comment(&data);
    }

    #[test]
    fn damaged_real_rows_are_skipped_not_fatal(
        line in 2usize..39,
        cut in 0usize..4000,
        byte in any::<u8>(),
    ) {
        let mut rows = real_rows();
        let r = &mut rows[line];
        let at = cut % r.len().max(1);
        if byte % 2 == 0 { r.truncate(at) } else if at < r.len() { r[at] = byte }
        let data = rows.join(&b'\n');
        let fw = frameworks();
        let known = HashSet::new();
        let want = Want::Posts { frameworks: &fw, all_questions: true, known: &known };
        let s = scan_chunk(&data, Table::Posts, &want);
        // Every row is kept, deferred, skipped as bad, or of another type.
        prop_assert!(s.questions.len() + s.answers.len() + s.deferred.len() + s.bad.len() <= s.rows as usize + 1);
    }

    #[test]
    fn chunks_cover_the_stream(data in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..3000), size in 1usize..300) {
        let mut c = Chunker::new(&data[..], size);
        let mut joined = Vec::new();
        let mut pieces = Vec::new();
        while let Some(chunk) = c.next_chunk().unwrap() {
            prop_assert_eq!(chunk.offset as usize, joined.len());
            joined.extend_from_slice(&chunk.data);
            pieces.push(chunk.data);
        }
        prop_assert_eq!(&joined, &data);
        for p in &pieces[..pieces.len().saturating_sub(1)] {
            prop_assert!(p.ends_with(b"\n"));
        }
    }
}
