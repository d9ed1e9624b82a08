//! The static encoder alone, on one thread, over a study's questions: the
//! text `classify` embeds (title and prose, `encoder::doc_text`), the token
//! ids, the embedding (benches/static.sh prints it beside its peers).
//!
//! usage: cargo run --release --example static_embed -- STUDY.db [MAX_TOKENS] [RUNS]
//! (the table from `static_table::default_path`, as `classify` finds it).
//! Prints the questions, their tokens, the best of RUNS (default 3) for the
//! token ids alone and for the whole embedding, in questions/s, and an
//! FNV-1a hash of all ids and embedding bits (the same before and after a
//! speed change means the same ids and bit-identical embeddings).

use std::time::Instant;

use stackmine::classify::encoder::{doc_text, static_table};
use stackmine::store::stored_doc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args
        .first()
        .ok_or_else(|| anyhow::anyhow!("usage: static_embed STUDY.db [MAX_TOKENS] [RUNS]"))?;
    let max_tokens: usize = args.get(1).map_or(Ok(128), |s| s.parse())?;
    let runs: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt =
        conn.prepare("SELECT title, body_text, code_text, tags FROM questions ORDER BY site, id")?;
    let texts: Vec<String> = stmt
        .query_map([], |r| {
            let tags: String = r.get(3)?;
            Ok(doc_text(&stored_doc(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                &tags,
            )))
        })?
        .collect::<Result<_, _>>()?;
    let table = static_table::StaticTable::load(&static_table::default_path())?;
    let best = |f: &dyn Fn() -> u64| {
        let mut best = f64::INFINITY;
        let mut out = 0;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            out = f();
            best = best.min(t.elapsed().as_secs_f64());
        }
        (best, out)
    };
    let (tok_s, tokens) = best(&|| {
        texts
            .iter()
            .map(|t| table.vocab().encode(t, max_tokens).len() as u64)
            .sum()
    });
    let (emb_s, _) = best(&|| {
        texts
            .iter()
            .map(|t| table.embed(t, max_tokens)[0].to_bits() as u64)
            .fold(0, u64::wrapping_add)
    });
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    };
    for t in &texts {
        for id in table.vocab().encode(t, max_tokens) {
            feed(&id.to_le_bytes());
        }
        for v in table.embed(t, max_tokens) {
            feed(&v.to_bits().to_le_bytes());
        }
    }
    let n = texts.len() as f64;
    println!(
        "questions {} tokens {tokens} max_tokens {max_tokens}",
        texts.len()
    );
    println!(
        "token ids alone: {tok_s:.3} s, {:.0} questions/s (best of {runs})",
        n / tok_s
    );
    println!(
        "embedding:       {emb_s:.3} s, {:.0} questions/s (best of {runs})",
        n / emb_s
    );
    println!("fnv1a of ids and embedding bits: {hash:016x}");
    Ok(())
}
