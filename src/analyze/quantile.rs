//! Quantiles by linear interpolation between closest ranks: numpy's default
//! (`method="linear"`, Hyndman & Fan type 7), also R's default and Python's
//! `statistics.quantiles(method="inclusive")`.

/// The `p` quantile (0 ≤ p ≤ 1) of sorted values, or `None` when empty.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Sorts values (NaN-free by construction of the callers) for [`quantile_sorted`].
pub fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// The arithmetic mean, or `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear() {
        // Reference: numpy.quantile([1, 2, 4, 7, 100], [0.25, 0.5, 0.75, 0.9]) ->
        // [2.0, 4.0, 7.0, 62.8]; numpy.quantile([3, 1], 0.75) -> 2.5.
        let v = sorted(vec![7.0, 1.0, 100.0, 4.0, 2.0]);
        let q = |p| quantile_sorted(&v, p).unwrap();
        assert_eq!(q(0.25), 2.0);
        assert_eq!(q(0.5), 4.0);
        assert_eq!(q(0.75), 7.0);
        assert!((q(0.9) - 62.8).abs() < 1e-9);
        assert_eq!(quantile_sorted(&sorted(vec![3.0, 1.0]), 0.75), Some(2.5));
        assert_eq!(quantile_sorted(&[5.0], 0.75), Some(5.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(mean(&[]), None);
    }
}
