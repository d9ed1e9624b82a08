//! Vectorizable exp, softmax and GELU for the int8 path (the fp32 path keeps
//! libm's `expf`, so its embeddings, and the built-in model trained on them,
//! do not change). Plain arithmetic on f32 bits, no calls: the compiler
//! vectorizes the loops, and an AVX-512 copy of each is chosen at run time.
//! Both copies run the same IEEE operations (no fused multiply-add), so
//! they give the same bits.

/// e^x to about 2 ulp for x in [-87, 88] (Cephes' expf: x = n ln 2 + r,
/// |r| ≤ ln2/2, a degree-6 polynomial for e^r, times 2^n by the exponent
/// bits); 0 below, e^88 above.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // Round x·log2(e) to the nearest integer by the 1.5·2^23 trick.
    let t = x * std::f32::consts::LOG2_E + 12_582_912.0;
    let n = t - 12_582_912.0;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_66;
    let p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    let bits = ((n as i32 + 127) << 23) as u32;
    e * f32::from_bits(bits)
}

/// GELU with erf by Abramowitz & Stegun 7.1.26, as `bert::gelu`, on [`exp`].
#[inline(always)]
fn gelu(x: f32) -> f32 {
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    let erf = if z < 0.0 { -y } else { y };
    0.5 * x * (1.0 + erf)
}

#[inline(always)]
fn gelu_body(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = gelu(*x);
    }
}

#[inline(always)]
fn softmax_body(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    for v in row.iter_mut() {
        *v = exp(*v - max);
    }
    let sum: f32 = row.iter().sum();
    let inv = 1.0 / sum;
    for v in row.iter_mut() {
        *v *= inv;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn gelu_avx512(v: &mut [f32]) {
    gelu_body(v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn softmax_avx512(row: &mut [f32]) {
    softmax_body(row)
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// GELU of every value, in place.
pub fn gelu_slice(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512 F (checked at run time).
        return unsafe { gelu_avx512(v) };
    }
    gelu_body(v)
}

/// A row of scores to probabilities, in place.
pub fn softmax(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512 F (checked at run time).
        return unsafe { softmax_avx512(row) };
    }
    softmax_body(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_to_libm() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let (a, b) = (exp(x), x.exp());
            assert!(((a - b) / b).abs() < 4e-7, "exp({x}) = {a}, libm {b}");
            x += 0.0137;
        }
        assert_eq!(exp(-1000.0), exp(-87.0));
    }

    #[test]
    fn the_avx512_copies_give_the_portable_bits() {
        let v: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.031).collect();
        let (mut a, mut b) = (v.clone(), v.clone());
        gelu_slice(&mut a);
        gelu_body(&mut b);
        assert_eq!(a, b);
        let (mut a, mut b) = (v.clone(), v);
        softmax(&mut a);
        softmax_body(&mut b);
        assert_eq!(a, b);
        assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
