//! int8 dense layers for the encoder: dynamic quantization as ONNX Runtime's
//! `MatMulInteger` does it, with the activations quantized per row.
//!
//! - Weights: int8 per output channel, symmetric (`w ≈ s_o · q`, q in
//!   -127..=127), quantized once at load.
//! - Activations: u8 per row (one token), asymmetric (`x ≈ s_r · (q - z_r)`),
//!   quantized at run time. Per row rather than per tensor: it is more
//!   accurate, and a row's result does not depend on the other texts of its
//!   batch, so embeddings stay deterministic whatever the batching.
//! - Products: `Σ q_x · q_w` in i32, exact, by AVX-512 VNNI `vpdpbusd`
//!   (u8 × s8, four products a lane) when the CPU has it, else by a portable
//!   loop; both give the same integers. Then
//!   `y = s_r · s_o · (Σ q_x q_w − z_r · Σ q_w) + b`, optionally followed by
//!   GELU, in the same pass (the same IEEE operations in both paths, so the
//!   same bits).
//!
//! The AVX-512 kernel is hand-written rather than taken from a crate: no
//! crate of the field offers u8 × s8 products with this per-row/per-column
//! dequantization for stable Rust (`gemm` has its AVX-512 kernels on nightly
//! only). Its blocking follows ONNX Runtime's MLAS (a tile of rows × 64
//! columns held in registers, weights prepacked in 4-byte groups), and it is
//! pinned to the portable path by the tests below.

/// Output columns per kernel block (four 16-lane vectors).
const NB: usize = 64;
/// Rows per kernel block: 6 × 4 accumulators plus 4 weight vectors fit the
/// 32 AVX-512 registers.
const MR: usize = 6;

/// A dense layer with int8 weights, packed for the kernel: for each block of
/// [`NB`] output columns and each group of four inputs, 64 × 4 bytes (column
/// j's four weights at bytes 4j..4j+4). Padding columns and inputs are 0.
#[derive(Debug, Clone)]
pub struct QDense {
    packed: Vec<i8>,
    /// The same weights widened to i16 for the AVX2 kernel, packed at its
    /// first use ([`QDense::packed16`]).
    packed16: std::sync::OnceLock<Vec<i16>>,
    /// Σ_k q_w per output column (for the activations' zero point).
    colsum: Vec<i32>,
    scale: Vec<f32>,
    bias: Vec<f32>,
    pub inputs: usize,
    pub outputs: usize,
    /// Inputs rounded up to a multiple of 4, outputs to a multiple of NB.
    kp: usize,
    np: usize,
}

impl QDense {
    /// Quantizes `weight` (`[outputs, inputs]` row-major) per output channel.
    pub fn new(weight: &[f32], bias: &[f32], inputs: usize, outputs: usize) -> QDense {
        let kp = inputs.div_ceil(4) * 4;
        let np = outputs.div_ceil(NB) * NB;
        let mut packed = vec![0i8; kp * np];
        let mut colsum = vec![0i32; np];
        let mut scale = vec![0f32; np];
        for o in 0..outputs {
            let row = &weight[o * inputs..(o + 1) * inputs];
            let max = row.iter().fold(0f32, |a, &b| a.max(b.abs()));
            let s = if max > 0.0 { max / 127.0 } else { 1.0 };
            scale[o] = s;
            for (k, &w) in row.iter().enumerate() {
                let q = round_half_away((w / s).clamp(-127.0, 127.0)) as i8;
                packed[packed_index(kp, o, k)] = q;
                colsum[o] += i32::from(q);
            }
        }
        let mut b = bias.to_vec();
        b.resize(np, 0.0);
        QDense {
            packed,
            packed16: std::sync::OnceLock::new(),
            colsum,
            scale,
            bias: b,
            inputs,
            outputs,
            kp,
            np,
        }
    }

    /// out[rows, outputs] = x[rows, inputs] · Wᵀ + b, through int8, on the
    /// fastest kernel this CPU runs; with `gelu`, GELU of that.
    pub fn forward(&self, x: &[f32], out: &mut [f32], rows: usize, gelu: bool, s: &mut QScratch) {
        self.forward_with(best_kernel(), x, out, rows, gelu, s)
    }

    /// [`QDense::forward`] on the given kernel (the tests compare them).
    pub fn forward_with(
        &self,
        kernel: Kernel,
        x: &[f32],
        out: &mut [f32],
        rows: usize,
        gelu: bool,
        s: &mut QScratch,
    ) {
        let (k, o) = (self.inputs, self.outputs);
        assert!(x.len() >= rows * k && out.len() >= rows * o);
        let rp = rows.div_ceil(MR) * MR;
        s.a.clear();
        s.a.resize(rp * self.kp, 0);
        s.scale.clear();
        s.zero.clear();
        for r in 0..rows {
            let (sc, z) = quantize_row_with(
                kernel,
                &x[r * k..(r + 1) * k],
                &mut s.a[r * self.kp..r * self.kp + k],
            );
            s.scale.push(sc);
            s.zero.push(z);
        }
        let q = Quantized {
            a: &s.a,
            rows,
            scale: &s.scale,
            zero: &s.zero,
        };
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni if has_vnni() => {
                // SAFETY: the CPU has AVX-512 F, BW and VNNI (checked just
                // above); `a` holds `rp × kp` bytes (rp a multiple of MR),
                // `scale`/`zero` one value a row and `out` `rows × outputs`
                // values (the assert above).
                unsafe { forward_vnni(self, &q, out, gelu) }
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 if super::fastmath::has_avx2() => {
                s.a16.clear();
                s.a16.extend(s.a.iter().map(|&v| u16::from(v)));
                let p16 = self.packed16();
                // SAFETY: the CPU has AVX2 (checked just above); `a16` holds
                // `rp × kp` values (rp a multiple of MR), the rest as for
                // VNNI.
                unsafe { forward_avx2(self, p16, &s.a16, &q, out, gelu) }
            }
            _ => forward_portable(self, &q, out, gelu),
        }
    }
}

impl QDense {
    /// The weights for the AVX2 kernel: for each block of [`NB2`] output
    /// columns and each pair of inputs, 16 × 2 i16 (column j's two weights
    /// at 2j, 2j+1).
    fn packed16(&self) -> &[i16] {
        self.packed16.get_or_init(|| {
            let mut p = vec![0i16; self.kp * self.np];
            for o in 0..self.np {
                for k in 0..self.kp {
                    let at = ((o / NB2) * (self.kp / 2) + k / 2) * NB2 * 2 + (o % NB2) * 2 + k % 2;
                    p[at] = i16::from(self.packed[packed_index(self.kp, o, k)]);
                }
            }
            p
        })
    }
}

/// Output columns per AVX2 kernel block (two 8-lane vectors): 6 × 2
/// accumulators, 2 weight vectors and the broadcast fit the 16 registers.
const NB2: usize = 16;

/// A batch of quantized rows: `a` is `[rows rounded up to MR, kp]`, the
/// padding rows 0.
struct Quantized<'a> {
    a: &'a [u8],
    rows: usize,
    scale: &'a [f32],
    zero: &'a [i32],
}

/// The dequantization of one output, the same operations as the vector
/// kernel's epilogue.
#[inline(always)]
fn dequantize(w: &QDense, j: usize, acc: i32, scale: f32, zero: i32, gelu: bool) -> f32 {
    let y = scale * w.scale[j] * (acc - zero * w.colsum[j]) as f32 + w.bias[j];
    if gelu {
        super::fastmath::gelu_one(y)
    } else {
        y
    }
}

fn forward_portable(w: &QDense, q: &Quantized, out: &mut [f32], gelu: bool) {
    let (groups, o) = (w.kp / 4, w.outputs);
    for r in 0..q.rows {
        let row = &q.a[r * w.kp..(r + 1) * w.kp];
        for cb in 0..w.np / NB {
            let mut sums = [0i32; NB];
            for g in 0..groups {
                let b = &w.packed[(cb * groups + g) * NB * 4..][..NB * 4];
                let x = &row[g * 4..g * 4 + 4];
                for (j, s) in sums.iter_mut().enumerate() {
                    for t in 0..4 {
                        *s += i32::from(x[t]) * i32::from(b[j * 4 + t]);
                    }
                }
            }
            for (c, &acc) in sums.iter().enumerate() {
                let j = cb * NB + c;
                if j < o {
                    out[r * o + j] = dequantize(w, j, acc, q.scale[r], q.zero[r], gelu);
                }
            }
        }
    }
}

/// The VNNI kernel: for each block of 64 output columns (its weights, at
/// most 96 KB, stay in L2 while every row passes), tiles of MR rows whose
/// 6 × 4 accumulators stay in registers over the whole inner dimension,
/// then dequantized (and GELU'd) in registers and stored with a mask.
///
/// # Safety
/// The CPU must have AVX-512 F, BW and VNNI; `q.a` holds `rows` rounded up
/// to MR times `w.kp` bytes, `q.scale` and `q.zero` `q.rows` values, and
/// `out` `q.rows × w.outputs` values.
// The AVX-512 intrinsics are stable since Rust 1.89, above the crate's
// declared rust-version 1.85 (raising it turns on newer lints elsewhere).
#[allow(clippy::incompatible_msrv)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn forward_vnni(w: &QDense, q: &Quantized, out: &mut [f32], gelu: bool) {
    use super::fastmath::avx512::{gelu16, tail};
    use std::arch::x86_64::*;
    let (groups, kp, o) = (w.kp / 4, w.kp, w.outputs);
    // SAFETY: the caller guarantees the CPU features and the lengths; every
    // pointer below stays inside `packed`, `colsum`, `scale`, `bias` (np
    // values each), `q.a` or `out` (see the comments at each access).
    unsafe {
        for cb in 0..w.np / NB {
            let bp = w.packed.as_ptr().add(cb * groups * NB * 4);
            for rb in (0..q.rows).step_by(MR) {
                let ap = q.a.as_ptr().add(rb * kp);
                let mut c = [[_mm512_setzero_si512(); 4]; MR];
                for g in 0..groups {
                    // Reads: group g of block cb is NB*4 bytes inside
                    // `packed` (kp*np bytes); rows rb..rb+MR, bytes
                    // g*4..g*4+4, are inside `a` (padded to MR rows).
                    let b = bp.add(g * NB * 4);
                    let b0 = _mm512_loadu_si512(b as *const _);
                    let b1 = _mm512_loadu_si512(b.add(64) as *const _);
                    let b2 = _mm512_loadu_si512(b.add(128) as *const _);
                    let b3 = _mm512_loadu_si512(b.add(192) as *const _);
                    for (r, cr) in c.iter_mut().enumerate() {
                        let x = (ap.add(r * kp + g * 4) as *const i32).read_unaligned();
                        let x = _mm512_set1_epi32(x);
                        cr[0] = _mm512_dpbusd_epi32(cr[0], x, b0);
                        cr[1] = _mm512_dpbusd_epi32(cr[1], x, b1);
                        cr[2] = _mm512_dpbusd_epi32(cr[2], x, b2);
                        cr[3] = _mm512_dpbusd_epi32(cr[3], x, b3);
                    }
                }
                for (r, cr) in c.iter().enumerate().take(q.rows - rb) {
                    let row = rb + r;
                    let sr = _mm512_set1_ps(q.scale[row]);
                    let z = _mm512_set1_epi32(q.zero[row]);
                    for (v, &acc) in cr.iter().enumerate() {
                        let j = cb * NB + v * 16;
                        if j >= o {
                            break;
                        }
                        // Reads: columns j..j+16 < np of the per-column
                        // vectors. Write: row `row`, columns j..min(j+16, o)
                        // of `out` ([rows, o]), by the mask.
                        let colsum = _mm512_loadu_si512(w.colsum.as_ptr().add(j) as *const _);
                        let scale = _mm512_loadu_ps(w.scale.as_ptr().add(j));
                        let bias = _mm512_loadu_ps(w.bias.as_ptr().add(j));
                        let t = _mm512_cvtepi32_ps(_mm512_sub_epi32(
                            acc,
                            _mm512_mullo_epi32(z, colsum),
                        ));
                        let mut y = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(sr, scale), t), bias);
                        if gelu {
                            y = gelu16(y);
                        }
                        _mm512_mask_storeu_ps(out.as_mut_ptr().add(row * o + j), tail(o - j), y);
                    }
                }
            }
        }
    }
}

/// The AVX2 kernel: the VNNI kernel's loop order with 16-column blocks.
/// Without VNNI, u8 × s8 products are exact only through i16: each
/// activation pair is broadcast as two i16 and `vpmaddwd` adds the two
/// products per column into i32 (at most 2 · 255 · 127, no saturation), so
/// the sums are the VNNI kernel's integers.
///
/// # Safety
/// The CPU must have AVX2; `p16` is `w.packed16()`, `a16` holds `q.rows`
/// rounded up to MR times `w.kp` values, `q.scale` and `q.zero` `q.rows`
/// values, and `out` `q.rows × w.outputs` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn forward_avx2(
    w: &QDense,
    p16: &[i16],
    a16: &[u16],
    q: &Quantized,
    out: &mut [f32],
    gelu: bool,
) {
    use super::fastmath::avx2::{gelu8, tail};
    use std::arch::x86_64::*;
    let (pairs, kp, o) = (w.kp / 2, w.kp, w.outputs);
    // SAFETY: the caller guarantees the CPU feature and the lengths; every
    // pointer below stays inside `p16` (kp*np values), the per-column
    // vectors (np values each), `a16` or `out` (see each access).
    unsafe {
        for cb in 0..w.np / NB2 {
            let bp = p16.as_ptr().add(cb * pairs * NB2 * 2);
            for rb in (0..q.rows).step_by(MR) {
                let ap = a16.as_ptr().add(rb * kp);
                let mut c = [[_mm256_setzero_si256(); 2]; MR];
                for pr in 0..pairs {
                    // Reads: pair pr of block cb is 32 values inside `p16`;
                    // rows rb..rb+MR, values 2pr, 2pr+1, inside `a16`.
                    let b = bp.add(pr * NB2 * 2);
                    let b0 = _mm256_loadu_si256(b as *const __m256i);
                    let b1 = _mm256_loadu_si256(b.add(16) as *const __m256i);
                    for (r, cr) in c.iter_mut().enumerate() {
                        let x = (ap.add(r * kp + pr * 2) as *const i32).read_unaligned();
                        let x = _mm256_set1_epi32(x);
                        cr[0] = _mm256_add_epi32(cr[0], _mm256_madd_epi16(x, b0));
                        cr[1] = _mm256_add_epi32(cr[1], _mm256_madd_epi16(x, b1));
                    }
                }
                for (r, cr) in c.iter().enumerate().take(q.rows - rb) {
                    let row = rb + r;
                    let sr = _mm256_set1_ps(q.scale[row]);
                    let z = _mm256_set1_epi32(q.zero[row]);
                    for (v, &acc) in cr.iter().enumerate() {
                        let j = cb * NB2 + v * 8;
                        if j >= o {
                            break;
                        }
                        // Reads: columns j..j+8 < np. Write: row `row`,
                        // columns j..min(j+8, o) of `out`, by the mask.
                        let colsum = _mm256_loadu_si256(w.colsum.as_ptr().add(j) as *const __m256i);
                        let scale = _mm256_loadu_ps(w.scale.as_ptr().add(j));
                        let bias = _mm256_loadu_ps(w.bias.as_ptr().add(j));
                        let t = _mm256_cvtepi32_ps(_mm256_sub_epi32(
                            acc,
                            _mm256_mullo_epi32(z, colsum),
                        ));
                        let mut y = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(sr, scale), t), bias);
                        if gelu {
                            y = gelu8(y);
                        }
                        _mm256_maskstore_ps(out.as_mut_ptr().add(row * o + j), tail(o - j), y);
                    }
                }
            }
        }
    }
}

fn packed_index(kp: usize, o: usize, k: usize) -> usize {
    ((o / NB) * (kp / 4) + k / 4) * NB * 4 + (o % NB) * 4 + k % 4
}

/// Buffers of [`QDense::forward`], reused across layers.
#[derive(Debug, Default)]
pub struct QScratch {
    a: Vec<u8>,
    /// `a` widened for the AVX2 kernel.
    a16: Vec<u16>,
    scale: Vec<f32>,
    zero: Vec<i32>,
}

/// Quantizes a row to u8 with its own scale and zero point (the range
/// always holds 0, so 0 is exact); returns them.
pub fn quantize_row(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    quantize_row_with(best_kernel(), x, q)
}

fn quantize_row_with(kernel: Kernel, x: &[f32], q: &mut [u8]) -> (f32, i32) {
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Avx512Vnni && has_vnni() {
        // SAFETY: the CPU has AVX-512 F and BW (checked just above).
        return unsafe { quantize_row_avx512(x, q) };
    }
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Avx2 && super::fastmath::has_avx2() {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { quantize_row_avx2(x, q) };
    }
    let _ = kernel;
    let (lo, hi) = x
        .iter()
        .fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (scale, zero) = scale_and_zero(lo, hi);
    let inv = 1.0 / scale;
    for (q, &v) in q.iter_mut().zip(x) {
        // Non-negative after the clamp: adding ½ and truncating rounds it
        // (without a call to libm's roundf per value).
        *q = ((v * inv + zero).clamp(0.0, 255.0) + 0.5) as u8;
    }
    (scale, zero as i32)
}

/// The scale and zero point (as f32) of a row whose values span lo..=hi,
/// lo ≤ 0 ≤ hi.
fn scale_and_zero(lo: f32, hi: f32) -> (f32, f32) {
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let zero = round_half_away((-lo / scale).clamp(0.0, 255.0)) as f32;
    (scale, zero)
}

/// [`quantize_row_with`]'s portable loop, 16 values at a time: min and max
/// are exact in any order, and the rounding is the same IEEE operations
/// (truncation of a value in [0.5, 255.5] to u8), so the bytes are equal.
///
/// # Safety
/// The CPU must have AVX-512 F and BW.
#[allow(clippy::incompatible_msrv)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn quantize_row_avx512(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    use super::fastmath::avx512::tail;
    use std::arch::x86_64::*;
    let n = x.len().min(q.len());
    let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    for chunk in x[..n].chunks(16) {
        // SAFETY: the mask covers the chunk's own values; the others read 0,
        // which the range holds anyway.
        let v = unsafe { _mm512_maskz_loadu_ps(tail(chunk.len()), chunk.as_ptr()) };
        lo = _mm512_min_ps(lo, v);
        hi = _mm512_max_ps(hi, v);
    }
    let (scale, zero) = scale_and_zero(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
    let (inv, z) = (_mm512_set1_ps(1.0 / scale), _mm512_set1_ps(zero));
    let (floor, ceil, half) = (
        _mm512_setzero_ps(),
        _mm512_set1_ps(255.0),
        _mm512_set1_ps(0.5),
    );
    for (i, chunk) in x[..n].chunks(16).enumerate() {
        let m = tail(chunk.len());
        // SAFETY: the mask covers the chunk's values and the bytes
        // 16i..16i+len of `q` (len(q) ≥ n).
        unsafe {
            let v = _mm512_maskz_loadu_ps(m, chunk.as_ptr());
            let v = _mm512_add_ps(_mm512_mul_ps(v, inv), z);
            let v = _mm512_add_ps(_mm512_min_ps(_mm512_max_ps(v, floor), ceil), half);
            _mm512_mask_cvtepi32_storeu_epi8(
                q.as_mut_ptr().add(i * 16) as *mut _,
                m,
                _mm512_cvttps_epi32(v),
            );
        }
    }
    (scale, zero as i32)
}

/// [`quantize_row_with`]'s portable loop, 8 values at a time (the tail
/// by the portable code): the same bytes, for the reasons given at
/// [`quantize_row_avx512`].
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_row_avx2(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    use std::arch::x86_64::*;
    let n = x.len().min(q.len());
    let body = n / 8 * 8;
    let (mut lo, mut hi) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    for chunk in x[..body].chunks_exact(8) {
        // SAFETY: 8 values of the chunk.
        let v = unsafe { _mm256_loadu_ps(chunk.as_ptr()) };
        lo = _mm256_min_ps(lo, v);
        hi = _mm256_max_ps(hi, v);
    }
    let (mut l, mut h) = ([0f32; 8], [0f32; 8]);
    // SAFETY: 8 floats into 8-float arrays.
    unsafe {
        _mm256_storeu_ps(l.as_mut_ptr(), lo);
        _mm256_storeu_ps(h.as_mut_ptr(), hi);
    }
    let (lo, hi) = l
        .iter()
        .zip(&h)
        .chain(x[body..n].iter().zip(&x[body..n]))
        .fold((0f32, 0f32), |(lo, hi), (&a, &b)| (lo.min(a), hi.max(b)));
    let (scale, zero) = scale_and_zero(lo, hi);
    let inv = 1.0 / scale;
    let (vinv, z) = (_mm256_set1_ps(inv), _mm256_set1_ps(zero));
    let (floor, ceil, half) = (
        _mm256_setzero_ps(),
        _mm256_set1_ps(255.0),
        _mm256_set1_ps(0.5),
    );
    for (i, chunk) in x[..body].chunks_exact(8).enumerate() {
        // SAFETY: 8 values of the chunk; 8 bytes at 8i of `q` (8i + 8 ≤ n).
        unsafe {
            let v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(chunk.as_ptr()), vinv), z);
            let v = _mm256_add_ps(_mm256_min_ps(_mm256_max_ps(v, floor), ceil), half);
            let v = _mm256_cvttps_epi32(v);
            // 8 values in 0..=255 to bytes: each 128-bit half packs its 4
            // into its low 4 bytes.
            let b = _mm256_packus_epi16(_mm256_packus_epi32(v, v), _mm256_setzero_si256());
            let lo4 = _mm_cvtsi128_si32(_mm256_castsi256_si128(b)) as u32;
            let hi4 = _mm_cvtsi128_si32(_mm256_extracti128_si256::<1>(b)) as u32;
            let bytes = (u64::from(hi4) << 32 | u64::from(lo4)).to_le_bytes();
            q[i * 8..i * 8 + 8].copy_from_slice(&bytes);
        }
    }
    for (q, &v) in q[body..n].iter_mut().zip(&x[body..n]) {
        *q = ((v * inv + zero).clamp(0.0, 255.0) + 0.5) as u8;
    }
    (scale, zero as i32)
}

/// `x.round()` (halves away from zero) for |x| well inside i32, without a
/// libm call.
fn round_half_away(x: f32) -> i32 {
    let r = (x.abs() + 0.5) as i32;
    if x < 0.0 { -r } else { r }
}

/// Which integer kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Portable,
    Avx2,
    Avx512Vnni,
}

/// The fastest kernel this CPU runs.
pub fn best_kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    if has_vnni() {
        return Kernel::Avx512Vnni;
    }
    if super::fastmath::has_avx2() {
        return Kernel::Avx2;
    }
    Kernel::Portable
}

/// Whether the CPU has AVX-512 VNNI (and the AVX-512 F/BW it builds on).
pub fn has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (rng.next_u32() as f32 / u32::MAX as f32) * 2.0 - 1.0)
            .collect()
    }

    /// Both kernels give the same bits, with and without GELU, on odd
    /// sizes (padded rows, inputs and outputs, a row tile cut short) and on
    /// the encoder's own; and the portable path is the plain definition:
    /// the integer dot product of the quantized row and column, dequantized.
    #[test]
    fn forward_kernels_give_the_same_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        for (rows, k, o) in [
            (1usize, 3usize, 5usize),
            (7, 37, 70),
            (13, 384, 1536),
            (4, 1536, 384),
            (6, 384, 1152),
        ] {
            let (wt, b) = (random(&mut rng, k * o), random(&mut rng, o));
            let w = QDense::new(&wt, &b, k, o);
            let x: Vec<f32> = random(&mut rng, rows * k).iter().map(|v| v * 3.0).collect();
            for gelu in [false, true] {
                let mut want = vec![0.0; rows * o];
                let mut s = QScratch::default();
                w.forward_with(Kernel::Portable, &x, &mut want, rows, gelu, &mut s);
                for r in 0..rows {
                    let mut qa = vec![0u8; k];
                    let (sc, z) = quantize_row_with(Kernel::Portable, &x[r * k..][..k], &mut qa);
                    for j in 0..o {
                        let dot: i32 = (0..k)
                            .map(|t| {
                                i32::from(qa[t]) * i32::from(w.packed[packed_index(w.kp, j, t)])
                            })
                            .sum();
                        let y = sc * w.scale[j] * (dot - z * w.colsum[j]) as f32 + b[j];
                        let y = if gelu {
                            super::super::fastmath::gelu_one(y)
                        } else {
                            y
                        };
                        assert_eq!(want[r * o + j].to_bits(), y.to_bits(), "{r},{j}");
                    }
                }
                let kernels = [
                    (Kernel::Avx512Vnni, has_vnni()),
                    (Kernel::Avx2, super::super::fastmath::has_avx2()),
                ];
                for (kernel, _) in kernels.iter().filter(|k| k.1) {
                    let mut got = vec![f32::NAN; rows * o];
                    w.forward_with(*kernel, &x, &mut got, rows, gelu, &mut s);
                    let same = got
                        .iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{kernel:?}: {rows} × {k} × {o}, gelu {gelu}");
                }
            }
        }
    }

    /// The vector quantizers give the portable bytes, scale and zero point,
    /// on every tail length and on rows of one sign.
    #[test]
    fn quantize_row_kernels_agree() {
        let kernels = [
            (Kernel::Avx512Vnni, has_vnni()),
            (Kernel::Avx2, super::super::fastmath::has_avx2()),
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for n in (0..70).chain([384, 1536]) {
            for shift in [0.0f32, 1.5, -1.5] {
                let x: Vec<f32> = random(&mut rng, n)
                    .iter()
                    .map(|v| v * 4.0 + shift)
                    .collect();
                let mut a = vec![0u8; n];
                let ra = quantize_row_with(Kernel::Portable, &x, &mut a);
                for (kernel, _) in kernels.iter().filter(|k| k.1) {
                    let mut b = vec![0u8; n];
                    let rb = quantize_row_with(*kernel, &x, &mut b);
                    let (want, got) = ((ra.0.to_bits(), ra.1, &a), (rb.0.to_bits(), rb.1, &b));
                    assert_eq!(want, got, "{kernel:?}, {n} values");
                }
            }
        }
    }

    #[test]
    fn int8_dense_is_close_to_fp32() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (rows, k, o) = (9, 96, 40);
        let (w, b, x) = (
            random(&mut rng, k * o),
            random(&mut rng, o),
            random(&mut rng, rows * k),
        );
        let q = QDense::new(&w, &b, k, o);
        let mut out = vec![0.0; rows * o];
        q.forward(&x, &mut out, rows, false, &mut QScratch::default());
        for r in 0..rows {
            for j in 0..o {
                let exact: f32 = (0..k).map(|t| x[r * k + t] * w[j * k + t]).sum::<f32>() + b[j];
                assert!((out[r * o + j] - exact).abs() < 0.05, "{r},{j}");
            }
        }
        // Zero point: a row of one value and zeros is exact at zero.
        let (scale, zero) = quantize_row(&[0.0, -1.0, 3.0], &mut [0; 3]);
        assert!((scale - 4.0 / 255.0).abs() < 1e-7 && zero == 64);
    }
}
