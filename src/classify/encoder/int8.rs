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
/// Rows per kernel block.
const MR: usize = 4;

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

    /// out[rows, outputs] = x[rows, inputs] · Wᵀ + b, through int8.
    pub fn forward(&self, x: &[f32], out: &mut [f32], rows: usize, s: &mut QScratch) {
        let (k, o) = (self.inputs, self.outputs);
        assert!(x.len() >= rows * k && out.len() >= rows * o);
        let rp = rows.div_ceil(MR) * MR;
        s.a.clear();
        s.a.resize(rp * self.kp, 0);
        s.acc.clear();
        s.acc.resize(rp * self.np, 0);
        s.scale.clear();
        s.zero.clear();
        for r in 0..rows {
            let (sc, z) = quantize_row(
                &x[r * k..(r + 1) * k],
                &mut s.a[r * self.kp..r * self.kp + k],
            );
            s.scale.push(sc);
            s.zero.push(z);
        }
        matmul(&s.a, rp, self, &mut s.acc, best_kernel());
        for r in 0..rows {
            let acc = &s.acc[r * self.np..r * self.np + o];
            let (sr, z) = (s.scale[r], s.zero[r]);
            for (j, (y, &a)) in out[r * o..(r + 1) * o].iter_mut().zip(acc).enumerate() {
                *y = sr * self.scale[j] * (a - z * self.colsum[j]) as f32 + self.bias[j];
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
    acc: Vec<i32>,
    scale: Vec<f32>,
    zero: Vec<i32>,
}

/// Quantizes a row to u8 with its own scale and zero point (the range
/// always holds 0, so 0 is exact); returns them.
pub fn quantize_row(x: &[f32], q: &mut [u8]) -> (f32, i32) {
    let (lo, hi) = x
        .iter()
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
    Avx512Vnni,
}

/// The fastest kernel this CPU runs.
pub fn best_kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    if has_vnni() {
        return Kernel::Avx512Vnni;
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

/// acc[rp, np] = a[rp, kp] (u8) · Wᵀ (s8), in i32; `rp` a multiple of MR.
pub fn matmul(a: &[u8], rp: usize, w: &QDense, acc: &mut [i32], kernel: Kernel) {
    assert!(rp % MR == 0 && a.len() >= rp * w.kp && acc.len() >= rp * w.np);
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512Vnni if has_vnni() => {
            // SAFETY: the CPU has AVX-512 F, BW and VNNI (checked just
            // above), and the assert bounds the buffers as the kernel reads
            // and writes them.
            unsafe { matmul_vnni(a, rp, w, acc) }
        }
        _ => matmul_portable(a, rp, w, acc),
    }
}

fn matmul_portable(a: &[u8], rp: usize, w: &QDense, acc: &mut [i32]) {
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
            acc[r * w.np + cb * NB..][..NB].copy_from_slice(&sums);
        }
    }
}

/// # Safety
/// The CPU must have AVX-512 F, BW and VNNI; `a` holds `rp × w.kp` bytes
/// and `acc` `rp × w.np` values, `rp` a multiple of MR.
// The AVX-512 intrinsics are stable since Rust 1.89, above the crate's
// declared rust-version 1.85 (raising it turns on newer lints elsewhere).
#[allow(clippy::incompatible_msrv)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn matmul_vnni(a: &[u8], rp: usize, w: &QDense, acc: &mut [i32]) {
    use std::arch::x86_64::*;
    let groups = w.kp / 4;
    let (kp, np) = (w.kp, w.np);
    // SAFETY: the caller guarantees the CPU features; every pointer below
    // stays inside `packed`, `a` or `acc` (see the comments at each access).
    unsafe {
        for rb in (0..rp).step_by(MR) {
            for cb in 0..np / NB {
                let bp = w.packed.as_ptr().add(cb * groups * NB * 4);
                let mut c = [[_mm512_setzero_si512(); 4]; MR];
                for g in 0..groups {
                    // SAFETY (reads): group g of block cb is NB*4 bytes inside
                    // `packed` (kp*np bytes); row rb+r's bytes g*4..g*4+4 are
                    // inside `a` (rp*kp bytes).
                    let b = bp.add(g * NB * 4);
                    let b0 = _mm512_loadu_si512(b as *const _);
                    let b1 = _mm512_loadu_si512(b.add(64) as *const _);
                    let b2 = _mm512_loadu_si512(b.add(128) as *const _);
                    let b3 = _mm512_loadu_si512(b.add(192) as *const _);
                    for (r, cr) in c.iter_mut().enumerate() {
                        let x =
                            (a.as_ptr().add((rb + r) * kp + g * 4) as *const i32).read_unaligned();
                        let x = _mm512_set1_epi32(x);
                        cr[0] = _mm512_dpbusd_epi32(cr[0], x, b0);
                        cr[1] = _mm512_dpbusd_epi32(cr[1], x, b1);
                        cr[2] = _mm512_dpbusd_epi32(cr[2], x, b2);
                        cr[3] = _mm512_dpbusd_epi32(cr[3], x, b3);
                    }
                }
                for (r, cr) in c.iter().enumerate() {
                    // SAFETY (writes): row rb+r, columns cb*NB..cb*NB+NB of
                    // `acc` ([rp, np]).
                    let out = acc.as_mut_ptr().add((rb + r) * np + cb * NB);
                    for (v, &reg) in cr.iter().enumerate() {
                        _mm512_storeu_si512(out.add(v * 16) as *mut _, reg);
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
            let rp = rows.div_ceil(MR) * MR;
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
            if has_vnni() {
                let mut got = vec![0; rp * w.np];
                matmul(&a, rp, &w, &mut got, Kernel::Avx512Vnni);
                assert_eq!(got, want, "{rows} × {k} × {o}");
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
        q.forward(&x, &mut out, rows, &mut QScratch::default());
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
