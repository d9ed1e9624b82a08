//! Sample sizes (Cochran's formula with finite population correction) and
//! seeded, reproducible draws.
//!
//! Draws use ChaCha8 seeded with `seed_from_u64` (a stable, documented
//! stream) and this module's own Fisher–Yates shuffle, so the same seed and
//! the same candidates give the same sample in every release, whatever
//! `rand` does with its own algorithms.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::PostKey;

/// The standard normal quantile function (Acklam's algorithm, relative error
/// below 1.2e-9), for z = Φ⁻¹(1 − α/2).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Errors in sampling parameters.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SampleError {
    #[error("confidence must be between 0 and 1 (exclusive), got {}", crate::text::compact_number(*.0))]
    Confidence(f64),
    #[error("margin must be between 0 and 1 (exclusive), got {}", crate::text::compact_number(*.0))]
    Margin(f64),
    #[error("a batch needs at least one post: a size of 0 draws nothing")]
    ZeroSize,
    #[error("the study has no questions to draw from: ingest a dump first")]
    NoQuestions,
    #[error(
        "no question of the study is in the population {population} (the study has {questions} questions): choose another --population"
    )]
    EmptyPopulation { population: String, questions: u64 },
    #[error(
        "all {0} questions of the study are in other batches already: nothing is left to draw (allow drawing them again with --allow-redraw)"
    )]
    AllDrawn(u64),
    #[error(
        "none of the {available} questions outside other batches belongs to a framework of the study ({frameworks})"
    )]
    NoFramework { available: u64, frameworks: String },
}

/// Cochran's sample size for a proportion (p = 0.5, the most conservative)
/// at `confidence` and `margin`, with finite population correction for a
/// population of `population`, before rounding:
/// n₀ = z²·p(1−p)/e², n = n₀ / (1 + (n₀ − 1)/N).
pub fn cochran(population: u64, confidence: f64, margin: f64) -> Result<f64, SampleError> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(SampleError::Confidence(confidence));
    }
    if !(margin > 0.0 && margin < 1.0) {
        return Err(SampleError::Margin(margin));
    }
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let n0 = z * z * 0.25 / (margin * margin);
    if population == 0 {
        return Ok(0.0);
    }
    if !n0.is_finite() {
        // A margin so small that n₀ overflows: the limit is the population.
        return Ok(population as f64);
    }
    Ok(n0 / (1.0 + (n0 - 1.0) / population as f64))
}

/// [`cochran`] rounded to the nearest post, never more than the population.
pub fn cochran_size(population: u64, confidence: f64, margin: f64) -> Result<u64, SampleError> {
    Ok((cochran(population, confidence, margin)?.round() as u64).min(population))
}

/// A seeded random stream for draws.
pub struct Draw {
    rng: ChaCha8Rng,
}

impl Draw {
    pub fn new(seed: u64) -> Draw {
        Draw {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A uniform integer in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX - n + 1) % n;
        loop {
            let x = self.rng.next_u64();
            if x <= zone {
                return x % n;
            }
        }
    }

    /// The first `k` items of a uniform random permutation of `items`
    /// (a partial Fisher–Yates shuffle), in draw order.
    pub fn choose<T>(&mut self, mut items: Vec<T>, k: usize) -> Vec<T> {
        let k = k.min(items.len());
        for i in 0..k {
            let j = i + self.below((items.len() - i) as u64) as usize;
            items.swap(i, j);
        }
        items.truncate(k);
        items
    }
}

/// Splits `total` over strata in proportion to their sizes: floors first, then
/// the rest to the largest remainders (ties to the earlier stratum).
pub fn proportional(total: u64, sizes: &[u64]) -> Vec<u64> {
    let all: u64 = sizes.iter().sum();
    if all == 0 {
        return vec![0; sizes.len()];
    }
    let total = total.min(all);
    let exact: Vec<f64> = sizes
        .iter()
        .map(|&s| total as f64 * s as f64 / all as f64)
        .collect();
    let mut alloc: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut rest = total - alloc.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for i in order {
        if rest == 0 {
            break;
        }
        if alloc[i] < sizes[i] {
            alloc[i] += 1;
            rest -= 1;
        }
    }
    alloc
}

/// How many posts a batch takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeRule {
    Fixed(u64),
    /// Cochran's formula with finite population correction over the population.
    Cochran {
        confidence: f64,
        margin: f64,
    },
}

/// How the batch is spread over the study's frameworks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strata {
    /// A simple random sample of all questions.
    None,
    /// This many from each framework (the study began with 50 each).
    PerFramework(u64),
    /// The size split over frameworks in proportion to their questions; a
    /// question counts for its first framework in study order.
    Proportional,
}

/// A question to draw from: its key and its frameworks.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub site: String,
    pub id: i64,
    pub frameworks: Vec<String>,
}

impl Candidate {
    pub fn key(&self) -> PostKey {
        PostKey::new(self.site.clone(), self.id)
    }
}

/// A drawn post and the stratum it was drawn for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Drawn {
    pub site: String,
    pub id: i64,
    pub stratum: String,
}

/// How a batch was drawn, for the record and the output.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DrawReport {
    pub seed: u64,
    /// All questions of the study.
    pub population: u64,
    /// Questions already in other batches, left out.
    pub excluded: u64,
    pub rule: String,
    /// Cochran's size before rounding, when that rule was used.
    pub cochran: Option<f64>,
    /// Per stratum: (name, questions available, drawn).
    pub strata: Vec<(String, u64, u64)>,
    /// What the rule asked for that could not be done as asked, and what
    /// was done instead (e.g. a Cochran size of the whole population).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A number as written (`0.05`), or in scientific notation when that is
/// long (`1e-200`).
fn short(x: f64) -> String {
    let s = x.to_string();
    if s.len() > 12 { format!("{x:e}") } else { s }
}

/// Draws a batch: seeded, reproducible, never a question in `exclude`.
/// Candidates are put in (site, Id) order first, so the draw does not depend
/// on the order the store returns them in. A draw that would be empty is an
/// error that says why: a size of 0, a study without questions, every
/// question in other batches, or none in the study's frameworks.
pub fn draw_batch(
    mut candidates: Vec<Candidate>,
    exclude: &std::collections::HashSet<PostKey>,
    frameworks: &[String],
    size: SizeRule,
    strata: Strata,
    seed: u64,
) -> Result<(Vec<Drawn>, DrawReport), SampleError> {
    match (size, strata) {
        (_, Strata::PerFramework(0))
        | (SizeRule::Fixed(0), Strata::None | Strata::Proportional) => {
            return Err(SampleError::ZeroSize);
        }
        _ => {}
    }
    candidates.sort_by(|a, b| (&a.site, a.id).cmp(&(&b.site, b.id)));
    let population = candidates.len() as u64;
    if population == 0 {
        return Err(SampleError::NoQuestions);
    }
    let (total, cochran_raw, rule) = match size {
        SizeRule::Fixed(n) => (n, None, format!("fixed size {n}")),
        SizeRule::Cochran { confidence, margin } => {
            let raw = cochran(population, confidence, margin)?;
            (
                (raw.round() as u64).clamp(1, population),
                Some(raw),
                format!(
                    "Cochran, {} confidence, {} margin, finite population {population}",
                    short(confidence),
                    short(margin)
                ),
            )
        }
    };
    let available: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| !exclude.contains(&c.key()))
        .collect();
    let excluded = population - available.len() as u64;
    if available.is_empty() {
        return Err(SampleError::AllDrawn(population));
    }
    let note = match (size, cochran_raw) {
        (SizeRule::Cochran { margin, .. }, Some(raw)) if raw.round() as u64 >= population => {
            Some(format!(
                "Cochran's size for a margin of {} is the whole population ({population} questions): the batch takes every question available",
                short(margin)
            ))
        }
        (SizeRule::Cochran { .. }, Some(raw)) if raw.round() < 1.0 => Some(format!(
            "Cochran's size ({raw:.2}) rounds to no post: the batch takes one"
        )),
        _ => None,
    };
    let mut draw = Draw::new(seed);
    let mut drawn = Vec::new();
    let mut report_strata = Vec::new();
    let mut take = |pool: Vec<&Candidate>, n: u64, stratum: &str, drawn: &mut Vec<Drawn>| {
        let avail = pool.len() as u64;
        let picked = draw.choose(pool, n as usize);
        report_strata.push((stratum.to_string(), avail, picked.len() as u64));
        drawn.extend(picked.into_iter().map(|c| Drawn {
            site: c.site.clone(),
            id: c.id,
            stratum: stratum.to_string(),
        }));
    };
    match strata {
        Strata::None => take(available.iter().collect(), total, "all", &mut drawn),
        Strata::PerFramework(n) => {
            for f in frameworks {
                let pool: Vec<&Candidate> = available
                    .iter()
                    .filter(|c| c.frameworks.contains(f))
                    .filter(|c| {
                        !drawn
                            .iter()
                            .any(|d: &Drawn| d.site == c.site && d.id == c.id)
                    })
                    .collect();
                take(pool, n, f, &mut drawn);
            }
        }
        Strata::Proportional => {
            let stratum_of = |c: &Candidate| {
                frameworks
                    .iter()
                    .find(|f| c.frameworks.contains(f))
                    .cloned()
                    .unwrap_or_else(|| "other".to_string())
            };
            let mut names: Vec<String> = frameworks.to_vec();
            names.push("other".into());
            let pools: Vec<Vec<&Candidate>> = names
                .iter()
                .map(|n| available.iter().filter(|c| &stratum_of(c) == n).collect())
                .collect();
            let sizes: Vec<u64> = pools.iter().map(|p| p.len() as u64).collect();
            let alloc = proportional(total, &sizes);
            for ((name, pool), n) in names.iter().zip(pools).zip(alloc) {
                if !pool.is_empty() {
                    take(pool, n, name, &mut drawn);
                }
            }
        }
    }
    if drawn.is_empty() {
        return Err(SampleError::NoFramework {
            available: available.len() as u64,
            frameworks: frameworks.join(", "),
        });
    }
    Ok((
        drawn,
        DrawReport {
            seed,
            population,
            excluded,
            rule,
            cochran: cochran_raw,
            strata: report_strata,
            note,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_studys_sample_size() {
        // Reference: scipy.stats.norm.ppf(0.975) = 1.959963984540054;
        // n0 = z**2 * 0.25 / 0.05**2 = 384.14588206941255;
        // n0 / (1 + (n0 - 1) / 39628) = 380.4673092721566 (the study's 380.48 used z = 1.96).
        let z = normal_quantile(0.975);
        assert!((z - 1.959_963_984_540_054).abs() < 1e-8, "{z}");
        let n = cochran(39_628, 0.95, 0.05).unwrap();
        assert!((n - 380.467_309_272_156_6).abs() < 1e-5, "{n}");
        assert_eq!(cochran_size(39_628, 0.95, 0.05).unwrap(), 380);
        // Small populations: never more than all of them.
        assert_eq!(cochran_size(50, 0.95, 0.05).unwrap(), 44);
        assert_eq!(cochran_size(0, 0.95, 0.05).unwrap(), 0);
        assert_eq!(cochran(10, 1.5, 0.05), Err(SampleError::Confidence(1.5)));
        assert_eq!(cochran(10, 0.95, 0.0), Err(SampleError::Margin(0.0)));
        // scipy.stats.norm.ppf(0.995) = 2.5758293035489004
        assert!((normal_quantile(0.995) - 2.575_829_303_548_900_4).abs() < 1e-8);
    }

    #[test]
    fn draws_are_seeded_and_uniform_enough() {
        let items: Vec<u32> = (0..100).collect();
        let a = Draw::new(7).choose(items.clone(), 10);
        let b = Draw::new(7).choose(items.clone(), 10);
        let c = Draw::new(8).choose(items.clone(), 10);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut sorted = a.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
        // Each of 10 items is drawn first about 1/10 of 20,000 times.
        let mut first = [0u32; 10];
        let mut d = Draw::new(1);
        for _ in 0..20_000 {
            first[d.choose((0..10).collect::<Vec<usize>>(), 1)[0]] += 1;
        }
        assert!(
            first.iter().all(|&n| (1800..2200).contains(&n)),
            "{first:?}"
        );
    }

    fn cands(n: i64) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                site: "s".into(),
                id: i,
                frameworks: if i % 4 == 0 {
                    vec!["b".into()]
                } else {
                    vec!["a".into()]
                },
            })
            .collect()
    }

    #[test]
    fn batches_exclude_drawn_posts_and_follow_strata() {
        let fws = vec!["a".to_string(), "b".to_string()];
        let none = std::collections::HashSet::new();
        let (first, report) = draw_batch(
            cands(100),
            &none,
            &fws,
            SizeRule::Fixed(10),
            Strata::None,
            3,
        )
        .unwrap();
        assert_eq!(first.len(), 10);
        assert_eq!(report.population, 100);
        // Same seed, candidates in another order: the same draw.
        let mut shuffled = cands(100);
        shuffled.reverse();
        let (again, _) =
            draw_batch(shuffled, &none, &fws, SizeRule::Fixed(10), Strata::None, 3).unwrap();
        assert_eq!(first, again);
        let taken: std::collections::HashSet<PostKey> = first
            .iter()
            .map(|d| PostKey::new(d.site.clone(), d.id))
            .collect();
        let (second, report) = draw_batch(
            cands(100),
            &taken,
            &fws,
            SizeRule::Fixed(90),
            Strata::None,
            3,
        )
        .unwrap();
        assert_eq!(report.excluded, 10);
        assert_eq!(second.len(), 90);
        assert!(
            second
                .iter()
                .all(|d| !taken.contains(&PostKey::new(d.site.clone(), d.id)))
        );
        let (per, _) = draw_batch(
            cands(100),
            &none,
            &fws,
            SizeRule::Fixed(0),
            Strata::PerFramework(5),
            1,
        )
        .unwrap();
        assert_eq!(per.iter().filter(|d| d.stratum == "a").count(), 5);
        assert_eq!(per.iter().filter(|d| d.stratum == "b").count(), 5);
        let (prop, report) = draw_batch(
            cands(100),
            &none,
            &fws,
            SizeRule::Cochran {
                confidence: 0.95,
                margin: 0.05,
            },
            Strata::Proportional,
            1,
        )
        .unwrap();
        // Cochran on 100 gives 79.5 -> 80; a: 75 questions, b: 25.
        assert_eq!(prop.len(), 80);
        assert_eq!(
            report.strata,
            [("a".to_string(), 75, 60), ("b".to_string(), 25, 20)]
        );
    }

    #[test]
    fn empty_draws_say_why() {
        let fws = vec!["a".to_string(), "b".to_string()];
        let none = std::collections::HashSet::new();
        let draw = |c: Vec<Candidate>, ex: &std::collections::HashSet<PostKey>, size, strata| {
            draw_batch(c, ex, &fws, size, strata, 1).map(|(d, r)| (d.len(), r))
        };
        assert_eq!(
            draw(cands(10), &none, SizeRule::Fixed(0), Strata::None).unwrap_err(),
            SampleError::ZeroSize
        );
        assert_eq!(
            draw(
                cands(10),
                &none,
                SizeRule::Fixed(0),
                Strata::PerFramework(0)
            )
            .unwrap_err(),
            SampleError::ZeroSize
        );
        assert_eq!(
            draw(Vec::new(), &none, SizeRule::Fixed(3), Strata::None).unwrap_err(),
            SampleError::NoQuestions
        );
        let all: std::collections::HashSet<PostKey> =
            cands(10).iter().map(Candidate::key).collect();
        assert_eq!(
            draw(cands(10), &all, SizeRule::Fixed(3), Strata::None).unwrap_err(),
            SampleError::AllDrawn(10)
        );
        let err = draw_batch(
            cands(10),
            &none,
            &["z".into()],
            SizeRule::Fixed(0),
            Strata::PerFramework(2),
            1,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "none of the 10 questions outside other batches belongs to a framework of the study (z)"
        );
        // A margin of 1e-200: n₀ overflows; the size is the population, said so.
        let tiny = SizeRule::Cochran {
            confidence: 0.95,
            margin: 1e-200,
        };
        assert_eq!(cochran_size(10, 0.95, 1e-200).unwrap(), 10);
        let (n, report) = draw(cands(10), &none, tiny, Strata::None).unwrap();
        assert_eq!(n, 10);
        assert!(
            report
                .note
                .unwrap()
                .contains("whole population (10 questions)")
        );
    }

    #[test]
    fn proportional_allocation() {
        assert_eq!(proportional(380, &[37_565, 1_828, 235]), [360, 18, 2]);
        assert_eq!(proportional(10, &[1, 1, 1]), [1, 1, 1]);
        assert_eq!(proportional(2, &[1, 1, 1]), [1, 1, 0]);
        assert_eq!(proportional(5, &[0, 0]), [0, 0]);
    }
}
