//! Vectorizable exp, softmax and GELU for the int8 path (the fp32 path keeps
//! libm's `expf`, so its embeddings, and the built-in model trained on them,
//! do not change). Plain arithmetic on f32 bits, no calls, written twice:
//! portable scalar code, and AVX-512 intrinsics chosen at run time. Both
//! copies run the same IEEE operations in the same order (no fused
//! multiply-add; the softmax sums in 16 lanes in both), so they give the
//! same bits.

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

#[cfg(test)]
fn gelu_body(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = gelu(*x);
    }
}

/// GELU of one value, as [`avx512::gelu16`] computes it (the int8 kernel's
/// portable epilogue applies it).
pub fn gelu_one(x: f32) -> f32 {
    gelu(x)
}

/// Lanes of the softmax's sum: value j of a row is added into lane j % 16,
/// and the lanes are then added pairwise ([`sum_lanes`]), the order an
/// AVX-512 register gives; both copies add in this order, so they agree
/// bit for bit.
const LANES: usize = 16;

fn sum_lanes(mut l: [f32; LANES]) -> f32 {
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            l[i] += l[i + w];
        }
        w /= 2;
    }
    l[0]
}

fn softmax_portable(row: &mut [f32]) {
    // Max is exact in any order, so the vector copy's is the same.
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut lanes = [0f32; LANES];
    for (j, v) in row.iter_mut().enumerate() {
        *v = exp(*v - max);
        lanes[j % LANES] += *v;
    }
    let inv = 1.0 / sum_lanes(lanes);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// The AVX-512 copies: the same IEEE operations in the same order as the
/// scalar functions above, 16 values at a time (no fused multiply-add).
#[cfg(target_arch = "x86_64")]
#[allow(clippy::incompatible_msrv)]
pub mod avx512 {
    use std::arch::x86_64::*;

    /// [`super::exp`] of 16 values (NaN aside: min/max return the bound).
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn exp16(x: __m512) -> __m512 {
        let x = _mm512_min_ps(
            _mm512_max_ps(x, _mm512_set1_ps(-87.0)),
            _mm512_set1_ps(88.0),
        );
        let magic = _mm512_set1_ps(12_582_912.0);
        let t = _mm512_add_ps(
            _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E)),
            magic,
        );
        let n = _mm512_sub_ps(t, magic);
        let r = _mm512_sub_ps(
            _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693_359_4))),
            _mm512_mul_ps(n, _mm512_set1_ps(-2.121_944_4e-4)),
        );
        let mut p = _mm512_set1_ps(1.987_569_1e-4);
        for c in [
            1.398_199_9e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            0.166_666_66,
            0.5,
        ] {
            p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(c));
        }
        let e = _mm512_add_ps(
            _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, r), r), r),
            _mm512_set1_ps(1.0),
        );
        let bits = _mm512_slli_epi32::<23>(_mm512_add_epi32(
            _mm512_cvttps_epi32(n),
            _mm512_set1_epi32(127),
        ));
        _mm512_mul_ps(e, _mm512_castsi512_ps(bits))
    }

    /// [`super::gelu`] of 16 values.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn gelu16(x: __m512) -> __m512 {
        let z = _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
        let sign = _mm512_set1_epi32(i32::MIN);
        let a = _mm512_castsi512_ps(_mm512_andnot_si512(sign, _mm512_castps_si512(z)));
        let one = _mm512_set1_ps(1.0);
        let t = _mm512_div_ps(
            one,
            _mm512_add_ps(one, _mm512_mul_ps(_mm512_set1_ps(0.327_591_1), a)),
        );
        let mut q = _mm512_set1_ps(1.061_405_4);
        for c in [-1.453_152_1, 1.421_413_7, -0.284_496_74, 0.254_829_6] {
            q = _mm512_add_ps(_mm512_set1_ps(c), _mm512_mul_ps(t, q));
        }
        let poly = _mm512_mul_ps(t, q);
        let neg_a = _mm512_castsi512_ps(_mm512_xor_si512(sign, _mm512_castps_si512(a)));
        let y = _mm512_sub_ps(one, _mm512_mul_ps(poly, exp16(_mm512_mul_ps(neg_a, a))));
        let negative = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(z, _mm512_setzero_ps());
        let yi = _mm512_castps_si512(y);
        let erf = _mm512_castsi512_ps(_mm512_mask_xor_epi32(yi, negative, yi, sign));
        _mm512_mul_ps(
            _mm512_mul_ps(_mm512_set1_ps(0.5), x),
            _mm512_add_ps(one, erf),
        )
    }

    /// The lanes `0..n` of a 16-lane mask.
    #[inline]
    pub fn tail(n: usize) -> u16 {
        if n >= 16 { u16::MAX } else { (1u16 << n) - 1 }
    }

    #[cfg(test)]
    #[target_feature(enable = "avx512f")]
    pub(super) fn gelu(v: &mut [f32]) {
        for chunk in v.chunks_mut(16) {
            let m = tail(chunk.len());
            // SAFETY: the mask covers only the chunk's own values.
            unsafe {
                let x = _mm512_maskz_loadu_ps(m, chunk.as_ptr());
                _mm512_mask_storeu_ps(chunk.as_mut_ptr(), m, gelu16(x));
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn softmax(row: &mut [f32]) {
        let ninf = _mm512_set1_ps(f32::NEG_INFINITY);
        let mut mx = ninf;
        for chunk in row.chunks(16) {
            // SAFETY: the mask covers only the chunk's own values.
            let x = unsafe { _mm512_mask_loadu_ps(ninf, tail(chunk.len()), chunk.as_ptr()) };
            mx = _mm512_max_ps(mx, x);
        }
        let max = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
        let mut sum = _mm512_setzero_ps();
        for chunk in row.chunks_mut(16) {
            let m = tail(chunk.len());
            // SAFETY: as above; masked-off lanes add 0.
            unsafe {
                let x = _mm512_maskz_loadu_ps(m, chunk.as_ptr());
                let e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(x, max)));
                sum = _mm512_add_ps(sum, e);
                _mm512_mask_storeu_ps(chunk.as_mut_ptr(), m, e);
            }
        }
        let mut lanes = [0f32; 16];
        // SAFETY: 16 floats into a 16-float array.
        unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), sum) };
        let inv = _mm512_set1_ps(1.0 / super::sum_lanes(lanes));
        for chunk in row.chunks_mut(16) {
            let m = tail(chunk.len());
            // SAFETY: as above.
            unsafe {
                let x = _mm512_maskz_loadu_ps(m, chunk.as_ptr());
                _mm512_mask_storeu_ps(chunk.as_mut_ptr(), m, _mm512_mul_ps(x, inv));
            }
        }
    }
}

/// The AVX2 copies (8 lanes), for CPUs without AVX-512: the same IEEE
/// operations in the same order again, so the same bits.
#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use std::arch::x86_64::*;

    /// [`super::exp`] of 8 values (NaN aside: min/max return the bound).
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn exp8(x: __m256) -> __m256 {
        let x = _mm256_min_ps(
            _mm256_max_ps(x, _mm256_set1_ps(-87.0)),
            _mm256_set1_ps(88.0),
        );
        let magic = _mm256_set1_ps(12_582_912.0);
        let t = _mm256_add_ps(
            _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)),
            magic,
        );
        let n = _mm256_sub_ps(t, magic);
        let r = _mm256_sub_ps(
            _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693_359_4))),
            _mm256_mul_ps(n, _mm256_set1_ps(-2.121_944_4e-4)),
        );
        let mut p = _mm256_set1_ps(1.987_569_1e-4);
        for c in [
            1.398_199_9e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            0.166_666_66,
            0.5,
        ] {
            p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(c));
        }
        let e = _mm256_add_ps(
            _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r),
            _mm256_set1_ps(1.0),
        );
        let bits = _mm256_slli_epi32::<23>(_mm256_add_epi32(
            _mm256_cvttps_epi32(n),
            _mm256_set1_epi32(127),
        ));
        _mm256_mul_ps(e, _mm256_castsi256_ps(bits))
    }

    /// [`super::gelu`] of 8 values.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn gelu8(x: __m256) -> __m256 {
        let z = _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
        let sign = _mm256_set1_ps(-0.0);
        let a = _mm256_andnot_ps(sign, z);
        let one = _mm256_set1_ps(1.0);
        let t = _mm256_div_ps(
            one,
            _mm256_add_ps(one, _mm256_mul_ps(_mm256_set1_ps(0.327_591_1), a)),
        );
        let mut q = _mm256_set1_ps(1.061_405_4);
        for c in [-1.453_152_1, 1.421_413_7, -0.284_496_74, 0.254_829_6] {
            q = _mm256_add_ps(_mm256_set1_ps(c), _mm256_mul_ps(t, q));
        }
        let poly = _mm256_mul_ps(t, q);
        let neg_a = _mm256_xor_ps(sign, a);
        let y = _mm256_sub_ps(one, _mm256_mul_ps(poly, exp8(_mm256_mul_ps(neg_a, a))));
        let negative = _mm256_cmp_ps::<_CMP_LT_OQ>(z, _mm256_setzero_ps());
        let erf = _mm256_xor_ps(y, _mm256_and_ps(negative, sign));
        _mm256_mul_ps(
            _mm256_mul_ps(_mm256_set1_ps(0.5), x),
            _mm256_add_ps(one, erf),
        )
    }

    /// The mask of lanes `0..n` for `maskload`/`maskstore`.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub fn tail(n: usize) -> __m256i {
        let n = n.min(8) as i32;
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }

    #[cfg(test)]
    #[target_feature(enable = "avx2")]
    pub(super) fn gelu(v: &mut [f32]) {
        for chunk in v.chunks_mut(8) {
            let m = tail(chunk.len());
            // SAFETY: the mask covers only the chunk's own values.
            unsafe {
                let x = _mm256_maskload_ps(chunk.as_ptr(), m);
                _mm256_maskstore_ps(chunk.as_mut_ptr(), m, gelu8(x));
            }
        }
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn softmax(row: &mut [f32]) {
        let ninf = _mm256_set1_ps(f32::NEG_INFINITY);
        let mut mx = ninf;
        for chunk in row.chunks(8) {
            let m = tail(chunk.len());
            // SAFETY: the mask covers only the chunk's own values.
            let x = unsafe { _mm256_maskload_ps(chunk.as_ptr(), m) };
            mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, x, _mm256_castsi256_ps(m)));
        }
        let mut lanes = [0f32; 8];
        // SAFETY: 8 floats into an 8-float array.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), mx) };
        let max = _mm256_set1_ps(lanes.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)));
        // Chunk c of 8 values holds lanes 8·(c mod 2).. of the 16-lane sum.
        let mut sum = [_mm256_setzero_ps(); 2];
        for (c, chunk) in row.chunks_mut(8).enumerate() {
            let m = tail(chunk.len());
            // SAFETY: as above; masked-off lanes add 0.
            unsafe {
                let x = _mm256_maskload_ps(chunk.as_ptr(), m);
                let e = _mm256_and_ps(exp8(_mm256_sub_ps(x, max)), _mm256_castsi256_ps(m));
                sum[c % 2] = _mm256_add_ps(sum[c % 2], e);
                _mm256_maskstore_ps(chunk.as_mut_ptr(), m, e);
            }
        }
        let mut lanes = [0f32; 16];
        // SAFETY: 2 × 8 floats into a 16-float array.
        unsafe {
            _mm256_storeu_ps(lanes.as_mut_ptr(), sum[0]);
            _mm256_storeu_ps(lanes.as_mut_ptr().add(8), sum[1]);
        }
        let inv = _mm256_set1_ps(1.0 / super::sum_lanes(lanes));
        for chunk in row.chunks_mut(8) {
            let m = tail(chunk.len());
            // SAFETY: as above.
            unsafe {
                let x = _mm256_maskload_ps(chunk.as_ptr(), m);
                _mm256_maskstore_ps(chunk.as_mut_ptr(), m, _mm256_mul_ps(x, inv));
            }
        }
    }
}

pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// GELU of every value, in place (the tests' check of [`avx512::gelu16`],
/// which the int8 kernel applies in its epilogue).
#[cfg(test)]
pub fn gelu_slice(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512 F (checked at run time).
        return unsafe { avx512::gelu(v) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 (checked at run time).
        return unsafe { avx2::gelu(v) };
    }
    gelu_body(v)
}

/// A row of scores to probabilities, in place.
pub fn softmax(row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU has AVX-512 F (checked at run time).
        return unsafe { avx512::softmax(row) };
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 (checked at run time).
        return unsafe { avx2::softmax(row) };
    }
    softmax_portable(row)
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

    /// Every length from 0 to 70 (masked tails), and rows as attention has
    /// them; values spread over exp's whole range, with its clamps.
    #[test]
    fn the_avx512_copies_give_the_portable_bits() {
        let v: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.031).collect();
        let wide: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.37).collect();
        for src in [&v, &wide] {
            for n in (0..70).chain([110, 128, 1000]) {
                let (mut a, mut b) = (src[..n].to_vec(), src[..n].to_vec());
                gelu_slice(&mut a);
                gelu_body(&mut b);
                assert_eq!(a, b, "gelu, {n} values");
                #[cfg(target_arch = "x86_64")]
                if has_avx2() {
                    let (mut c, mut d) = (src[..n].to_vec(), src[..n].to_vec());
                    // SAFETY: the CPU has AVX2 (checked just above).
                    unsafe {
                        avx2::gelu(&mut c);
                        avx2::softmax(&mut d);
                    }
                    assert_eq!(c, b, "avx2 gelu, {n} values");
                    let mut e = src[..n].to_vec();
                    softmax_portable(&mut e);
                    assert_eq!(d, e, "avx2 softmax, {n} values");
                }
                let (mut a, mut b) = (src[..n].to_vec(), src[..n].to_vec());
                softmax(&mut a);
                softmax_portable(&mut b);
                assert_eq!(a, b, "softmax, {n} values");
                if n > 0 {
                    assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-5);
                }
            }
        }
        // GELU against the exact erf (scipy: x/2 · (1 + erf(x/√2))).
        for (x, want) in [(-3.0f32, -0.004_049_7), (0.5, 0.345_731_4), (2.0, 1.954_5)] {
            assert!((gelu_one(x) - want).abs() < 1e-4, "gelu({x})");
        }
    }
}
