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
//!   `y = s_r · s_o · (Σ q_x q_w − z_r · Σ q_w) + b`.

/// Output columns per kernel block (four 16-lane vectors).
const NB: usize = 64;

use super::fastmath;
use super::kernels::{Act, Isa};

/// A dense layer with int8 weights, packed for the kernel: for each block of
/// [`NB`] output columns and each group of four inputs, 64 × 4 bytes (column
/// j's four weights at bytes 4j..4j+4). Padding columns and inputs are 0.
#[derive(Debug, Clone)]
pub struct QDense {
    packed: Vec<i8>,
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
            colsum,
            scale,
            bias: b,
            inputs,
            outputs,
            kp,
            np,
        }
    }

    /// out[rows, outputs] = act(x[rows, inputs] · Wᵀ + b), through int8,
    /// on the kernel of path `isa` ([`kernel_for`]).
    pub fn forward(
        &self,
        x: &[f32],
        out: &mut [f32],
        rows: usize,
        act: Act,
        s: &mut QScratch,
        isa: Isa,
    ) {
        let k = self.inputs;
        assert!(x.len() >= rows * k && out.len() >= rows * self.outputs);
        let rp = rows.div_ceil(PAD) * PAD;
        s.a.clear();
        s.a.resize(rp * self.kp, 0);
        s.scale.clear();
        s.zero.clear();
        for r in 0..rows {
            let (sc, z) = quantize_row_fast(
                &x[r * k..(r + 1) * k],
                &mut s.a[r * self.kp..r * self.kp + k],
                isa,
            );
            s.scale.push(sc);
            s.zero.push(z);
        }
        let mut tile = Tile {
            out,
            rows,
            scale: &s.scale,
            zero: &s.zero,
            act,
        };
        product(
            &s.a,
            rp,
            self,
            &mut |r, c, acc| tile.store(self, r, c, acc),
            kernel_for(isa),
        );
    }
}

/// The output pass of a product: dequantizes a block's sums, adds the bias,
/// applies the activation and writes the valid rows and columns.
struct Tile<'a> {
    out: &'a mut [f32],
    rows: usize,
    scale: &'a [f32],
    zero: &'a [i32],
    act: Act,
}

impl Tile<'_> {
    /// `acc` holds row `r`'s sums for columns `c..c + acc.len()`.
    #[inline(always)]
    fn store(&mut self, w: &QDense, r: usize, c: usize, acc: &[i32]) {
        if r >= self.rows || c >= w.outputs {
            return;
        }
        let o = w.outputs;
        let cols = acc.len().min(o - c);
        let (sr, z) = (self.scale[r], self.zero[r]);
        let y = &mut self.out[r * o + c..r * o + c + cols];
        let (ws, cs, b) = (
            &w.scale[c..c + cols],
            &w.colsum[c..c + cols],
            &w.bias[c..c + cols],
        );
        for j in 0..cols {
            y[j] = sr * ws[j] * (acc[j] - z * cs[j]) as f32 + b[j];
        }
        if self.act == Act::Gelu {
            for v in y.iter_mut() {
                *v = fastmath::gelu(*v);
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
    scale: Vec<f32>,
    zero: Vec<i32>,
}

/// [`quantize_row`] compiled for path `isa` (the same bits).
fn quantize_row_fast(x: &[f32], q: &mut [u8], isa: Isa) -> (f32, i32) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if Isa::Avx512.available() => {
            // SAFETY: the CPU has AVX-512 F/BW, AVX2 and FMA (checked).
            unsafe { quantize_row_avx512(x, q) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 | Isa::Avx512 if Isa::Avx2.available() => {
            // SAFETY: the CPU has AVX2 and FMA (checked).
            unsafe { quantize_row_avx2(x, q) }
        }
        _ => quantize_row(x, q),
    }
}

#[allow(clippy::incompatible_msrv)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
fn quantize_row_avx512(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    quantize_row(x, q)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn quantize_row_avx2(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    quantize_row(x, q)
}

/// Quantizes a row to u8 with its own scale and zero point (the range
/// always holds 0, so 0 is exact); returns them.
#[inline(always)]
pub fn quantize_row(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    // Minimum and maximum over 16 lanes (exact in any order).
    let (mut lo16, mut hi16) = ([0f32; 16], [0f32; 16]);
    let mut chunks = x.chunks_exact(16);
    for c in &mut chunks {
        for j in 0..16 {
            lo16[j] = if c[j] < lo16[j] { c[j] } else { lo16[j] };
            hi16[j] = if c[j] > hi16[j] { c[j] } else { hi16[j] };
        }
    }
    let (lo, hi) = chunks
        .remainder()
        .iter()
        .chain(&lo16)
        .chain(&hi16)
        .fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let zero = round_half_away((-lo / scale).clamp(0.0, 255.0)) as f32;
    let inv = 1.0 / scale;
    for (q, &v) in q.iter_mut().zip(x) {
        // Non-negative after the clamp: adding ½ and truncating rounds it
        // (without a call to libm's roundf per value).
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
    /// 256-bit AVX-VNNI `vpdpbusd` (VEX encoded).
    AvxVnni,
    /// 512-bit AVX-512 VNNI `vpdpbusd`.
    Avx512Vnni,
}

impl Kernel {
    /// Whether this CPU runs the kernel.
    pub fn available(self) -> bool {
        match self {
            Kernel::Portable => true,
            Kernel::AvxVnni => has_avx_vnni(),
            Kernel::Avx512Vnni => has_vnni(),
        }
    }
}

/// The fastest kernel this CPU runs.
pub fn best_kernel() -> Kernel {
    kernel_for(Isa::best())
}

/// The fastest kernel of path `isa` (or below it) that this CPU runs.
pub fn kernel_for(isa: Isa) -> Kernel {
    if isa >= Isa::Avx512 && has_vnni() {
        Kernel::Avx512Vnni
    } else if isa >= Isa::Avx2 && has_avx_vnni() {
        Kernel::AvxVnni
    } else {
        Kernel::Portable
    }
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

/// Whether the CPU has AVX-VNNI (256-bit, with AVX2).
pub fn has_avx_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("avxvnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Rows are padded to a multiple of this (of every kernel's row block).
const PAD: usize = 12;
/// Rows whose bytes stay in the cache while every column block passes.
const MC: usize = 96;
/// Rows per AVX-512 VNNI block.
const MR512: usize = 6;

/// acc[rp, np] = a[rp, kp] (u8) · Wᵀ (s8), in i32; `rp` a multiple of 12.
pub fn matmul(a: &[u8], rp: usize, w: &QDense, acc: &mut [i32], kernel: Kernel) {
    assert!(acc.len() >= rp * w.np);
    let np = w.np;
    product(
        a,
        rp,
        w,
        &mut |r, c, sums| acc[r * np + c..r * np + c + sums.len()].copy_from_slice(sums),
        kernel,
    );
}

/// The sums of a[rp, kp] (u8) · Wᵀ (s8), in i32, handed to `store(row,
/// first column, sums)` block by block (every row < rp, every column < np).
fn product(
    a: &[u8],
    rp: usize,
    w: &QDense,
    store: &mut dyn FnMut(usize, usize, &[i32]),
    kernel: Kernel,
) {
    assert!(rp % PAD == 0 && a.len() >= rp * w.kp);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512Vnni if has_vnni() => {
            // SAFETY: the CPU has AVX-512 F, BW and VNNI (checked just
            // above), and the assert bounds `a` as the kernel reads it.
            unsafe { product_avx512(a, rp, w, store) }
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::AvxVnni if has_avx_vnni() => {
            // SAFETY: the CPU has AVX2 and AVX-VNNI (checked just above);
            // bounds as above.
            unsafe { product_avx_vnni(a, rp, w, store) }
        }
        _ => product_portable(a, rp, w, store),
    }
}

fn product_portable(a: &[u8], rp: usize, w: &QDense, store: &mut dyn FnMut(usize, usize, &[i32])) {
    let groups = w.kp / 4;
    for r in 0..rp {
        let row = &a[r * w.kp..(r + 1) * w.kp];
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
            store(r, cb * NB, &sums);
        }
    }
}

/// # Safety
/// The CPU must have AVX-512 F, BW and VNNI; `a` holds `rp × w.kp` bytes,
/// `rp` a multiple of [`PAD`].
// The AVX-512 intrinsics are stable since Rust 1.89, above the crate's
// declared rust-version 1.85 (raising it turns on newer lints elsewhere).
#[allow(clippy::incompatible_msrv)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn product_avx512(
    a: &[u8],
    rp: usize,
    w: &QDense,
    store: &mut dyn FnMut(usize, usize, &[i32]),
) {
    use std::arch::x86_64::*;
    let groups = w.kp / 4;
    let kp = w.kp;
    let mut tile = [[0i32; NB]; MR512];
    for c0 in (0..rp).step_by(MC) {
        let c1 = (c0 + MC).min(rp);
        for cb in 0..w.np / NB {
            // SAFETY: block cb's groups × NB × 4 bytes are inside `packed`
            // (kp × np bytes).
            let bp = unsafe { w.packed.as_ptr().add(cb * groups * NB * 4) };
            for rb in (c0..c1).step_by(MR512) {
                // SAFETY: group g < groups of block cb is NB*4 bytes inside
                // `packed`; rows rb..rb+MR512 ≤ rp (rp a multiple of 12,
                // hence of 6), bytes g*4..g*4+4 < kp, are inside `a`; the
                // stores write `tile` (MR512 × NB i32).
                unsafe {
                    let ap = a.as_ptr().add(rb * kp);
                    let mut c = [[_mm512_setzero_si512(); 4]; MR512];
                    for g in 0..groups {
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
                    for (t, cr) in tile.iter_mut().zip(&c) {
                        for (v, &reg) in cr.iter().enumerate() {
                            _mm512_storeu_si512(t.as_mut_ptr().add(v * 16) as *mut _, reg);
                        }
                    }
                }
                for (r, t) in tile.iter().enumerate() {
                    store(rb + r, cb * NB, t);
                }
            }
        }
    }
}

/// # Safety
/// The CPU must have AVX2 and AVX-VNNI; `a` holds `rp × w.kp` bytes, `rp`
/// a multiple of [`PAD`].
#[allow(clippy::incompatible_msrv)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn product_avx_vnni(
    a: &[u8],
    rp: usize,
    w: &QDense,
    store: &mut dyn FnMut(usize, usize, &[i32]),
) {
    use std::arch::x86_64::*;
    const MR: usize = 4;
    let groups = w.kp / 4;
    let kp = w.kp;
    let mut tile = [[0i32; 16]; MR];
    for c0 in (0..rp).step_by(MC) {
        let c1 = (c0 + MC).min(rp);
        for cb in 0..w.np / NB {
            for quarter in 0..4 {
                // SAFETY: as in product_avx512: block cb's bytes are inside
                // `packed`, and the quarter's 64 bytes of each group too.
                let bp = unsafe { w.packed.as_ptr().add(cb * groups * NB * 4 + quarter * 64) };
                for rb in (c0..c1).step_by(MR) {
                    // SAFETY: rows rb..rb+4 ≤ rp (a multiple of 12) and
                    // bytes g*4..g*4+4 < kp are inside `a`; group g's quarter
                    // is inside `packed`; the stores write `tile` (4 × 16).
                    unsafe {
                        let ap = a.as_ptr().add(rb * kp);
                        let mut c = [[_mm256_setzero_si256(); 2]; MR];
                        for g in 0..groups {
                            let b = bp.add(g * NB * 4);
                            let b0 = _mm256_loadu_si256(b as *const _);
                            let b1 = _mm256_loadu_si256(b.add(32) as *const _);
                            for (r, cr) in c.iter_mut().enumerate() {
                                let x = (ap.add(r * kp + g * 4) as *const i32).read_unaligned();
                                let x = _mm256_set1_epi32(x);
                                cr[0] = _mm256_dpbusd_avx_epi32(cr[0], x, b0);
                                cr[1] = _mm256_dpbusd_avx_epi32(cr[1], x, b1);
                            }
                        }
                        for (t, cr) in tile.iter_mut().zip(&c) {
                            _mm256_storeu_si256(t.as_mut_ptr() as *mut _, cr[0]);
                            _mm256_storeu_si256(t.as_mut_ptr().add(8) as *mut _, cr[1]);
                        }
                    }
                    for (r, t) in tile.iter().enumerate() {
                        store(rb + r, cb * NB + quarter * 16, t);
                    }
                }
            }
        }
    }
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

    /// Every kernel gives the portable path's integers, on odd sizes (padded
    /// rows, inputs and outputs) and on the encoder's own.
    #[test]
    fn kernels_equal_the_portable_path() {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        for (rows, k, o) in [
            (1usize, 3usize, 5usize),
            (7, 37, 70),
            (13, 384, 1536),
            (4, 1536, 384),
        ] {
            let w = QDense::new(&random(&mut rng, k * o), &vec![0.0; o], k, o);
            let rp = rows.div_ceil(PAD) * PAD;
            let a: Vec<u8> = (0..rp * w.kp).map(|_| rng.next_u32() as u8).collect();
            let mut want = vec![0; rp * w.np];
            matmul(&a, rp, &w, &mut want, Kernel::Portable);
            // The portable path itself against the plain definition.
            for r in 0..rows {
                for j in 0..o {
                    let dot: i32 = (0..k)
                        .map(|t| {
                            i32::from(a[r * w.kp + t])
                                * i32::from(w.packed[packed_index(w.kp, j, t)])
                        })
                        .sum();
                    assert_eq!(want[r * w.np + j], dot);
                }
            }
            for kernel in [Kernel::AvxVnni, Kernel::Avx512Vnni] {
                if kernel.available() {
                    let mut got = vec![0; rp * w.np];
                    matmul(&a, rp, &w, &mut got, kernel);
                    assert_eq!(got, want, "{kernel:?} {rows} × {k} × {o}");
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
        q.forward(
            &x,
            &mut out,
            rows,
            Act::None,
            &mut QScratch::default(),
            Isa::current(),
        );
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
