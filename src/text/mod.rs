//! Text processing: post HTML to plain text (later: tokens, features), and
//! numbers written compactly for messages.

pub mod html;

/// `x` for a message: plain (`0.5`, `1000000`) when 1e-4 <= |x| < 1e9 or
/// x is 0, NaN or infinite; in exponent form (`1e-300`, `1.5e20`) otherwise,
/// so a range error never prints hundreds of digits.
pub fn compact_number(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-4..1e9).contains(&a) {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_compact() {
        use super::compact_number as c;
        assert_eq!(c(1e-300), "1e-300");
        assert_eq!(c(-1e-5), "-1e-5");
        assert_eq!(c(1e-4), "0.0001");
        assert_eq!(c(0.25), "0.25");
        assert_eq!(c(1e7), "10000000");
        assert_eq!(c(1e40), "1e40");
        assert_eq!(c(-2.5e300), "-2.5e300");
        assert_eq!(c(0.0), "0");
        assert_eq!(c(f64::NAN), "NaN");
        assert_eq!(c(f64::NEG_INFINITY), "-inf");
        assert!(c(f64::MIN_POSITIVE).len() < 30);
    }
}
