//! fp32 kernels of the encoder: the dense layers' matrix products (weights
//! packed once at load, bias and GELU fused into the product's output pass),
//! attention per text and head, and layer norm.
//!
//! Three instruction-set paths ([`Isa`]): AVX-512 F, AVX2 + FMA, and a
//! portable one; the fastest the CPU has runs, unless `STACKMINE_ISA`
//! (`portable`, `avx2` or `avx512`) asks for a slower one. All three give
//! the same bits: every sum runs in one fixed order (a product's terms as a
//! chain of fused multiply-adds over k, reductions over 16 fixed lanes), and
//! the portable path's `f32::mul_add` is the same correctly rounded fused
//! multiply-add as the vector instructions. So the built-in models, trained
//! on fp32 embeddings, rebuild byte for byte on every path.

use std::sync::OnceLock;

use super::fastmath;

/// An instruction-set path of the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    Portable,
    /// AVX2 and FMA (and AVX-VNNI for int8 where the CPU has it).
    Avx2,
    /// AVX-512 F and BW (and AVX-512 VNNI for int8 where the CPU has it).
    Avx512,
}

impl Isa {
    /// The best path this CPU runs.
    pub fn best() -> Isa {
        if Isa::Avx512.available() {
            Isa::Avx512
        } else if Isa::Avx2.available() {
            Isa::Avx2
        } else {
            Isa::Portable
        }
    }

    /// Whether this CPU runs the path.
    pub fn available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Isa::Portable => true,
                Isa::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
                Isa::Avx512 => {
                    is_x86_feature_detected!("avx512f")
                        && is_x86_feature_detected!("avx512bw")
                        && Isa::Avx2.available()
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Isa::Portable
        }
    }

    /// The path that runs: `STACKMINE_ISA` if it names one this CPU runs,
    /// else the best (a path the CPU lacks falls back to the best below it;
    /// an unknown name is ignored). Read once.
    pub fn current() -> Isa {
        static CURRENT: OnceLock<Isa> = OnceLock::new();
        *CURRENT.get_or_init(|| {
            let best = Isa::best();
            match std::env::var("STACKMINE_ISA")
                .ok()
                .as_deref()
                .and_then(Isa::parse)
            {
                Some(asked) => asked.min(best),
                None => best,
            }
        })
    }

    pub fn parse(name: &str) -> Option<Isa> {
        match name {
            "portable" => Some(Isa::Portable),
            "avx2" => Some(Isa::Avx2),
            "avx512" => Some(Isa::Avx512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }
}

/// Output columns per packed panel.
pub const NR: usize = 32;
/// Rows per AVX-512 / portable micro-kernel call.
const MR: usize = 12;
/// Rows per AVX2 micro-kernel call (a half panel of 16 columns).
const MR2: usize = 6;
/// Rows whose inputs stay in the cache while every panel passes over them.
const MC: usize = 96;

/// The activation fused into a product's output pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    None,
    /// GELU with erf ([`fastmath::gelu`]).
    Gelu,
}

/// A dense layer's fp32 weights packed for the kernels: panels of [`NR`]
/// output columns, each `inputs × NR` (column c of input k at `k*NR + c`),
/// padded with zero columns.
#[derive(Debug, Clone)]
pub struct Packed {
    data: Vec<f32>,
    bias: Vec<f32>,
    pub inputs: usize,
    pub outputs: usize,
}

impl Packed {
    /// Packs `weight` (`[outputs, inputs]` row-major, as stored).
    pub fn new(weight: &[f32], bias: &[f32], inputs: usize, outputs: usize) -> Packed {
        assert!(weight.len() == inputs * outputs && bias.len() == outputs);
        let panels = outputs.div_ceil(NR);
        let mut data = vec![0f32; panels * inputs * NR];
        for o in 0..outputs {
            let (p, c) = (o / NR, o % NR);
            for k in 0..inputs {
                data[(p * inputs + k) * NR + c] = weight[o * inputs + k];
            }
        }
        let mut b = bias.to_vec();
        b.resize(panels * NR, 0.0);
        Packed {
            data,
            bias: b,
            inputs,
            outputs,
        }
    }

    /// out[rows, outputs] = act(x[rows, inputs] · Wᵀ + b) on path `isa`.
    pub fn forward(&self, x: &[f32], out: &mut [f32], rows: usize, act: Act, isa: Isa) {
        let (k, n) = (self.inputs, self.outputs);
        assert!(x.len() >= rows * k && out.len() >= rows * n);
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if Isa::Avx512.available() => {
                // SAFETY: the CPU has AVX-512 F/BW, AVX2 and FMA (checked
                // just above); the assert bounds x and out, and the packed
                // data is panels × k × NR by construction.
                unsafe { self.forward_avx512(x, out, rows, act) }
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512 if Isa::Avx2.available() => {
                // SAFETY: the CPU has AVX2 and FMA (checked just above);
                // bounds as above.
                unsafe { self.forward_avx2(x, out, rows, act) }
            }
            _ => self.forward_portable(x, out, rows, act),
        }
    }

    fn forward_portable(&self, x: &[f32], out: &mut [f32], rows: usize, act: Act) {
        let (k, n) = (self.inputs, self.outputs);
        let mut pad = vec![0f32; MR * k];
        for r0 in (0..rows).step_by(MR) {
            let m = MR.min(rows - r0);
            let a: &[f32] = if m == MR {
                &x[r0 * k..(r0 + MR) * k]
            } else {
                pad[..m * k].copy_from_slice(&x[r0 * k..(r0 + m) * k]);
                pad[m * k..].fill(0.0);
                &pad
            };
            for p in 0..n.div_ceil(NR) {
                let b = &self.data[p * k * NR..(p + 1) * k * NR];
                let mut acc = [[0f32; NR]; MR];
                for kk in 0..k {
                    let br = &b[kk * NR..(kk + 1) * NR];
                    for (r, accr) in acc.iter_mut().enumerate() {
                        let av = a[r * k + kk];
                        for (c, v) in accr.iter_mut().enumerate() {
                            *v = av.mul_add(br[c], *v);
                        }
                    }
                }
                for (r, accr) in acc.iter_mut().enumerate().take(m) {
                    let cols = NR.min(n - p * NR);
                    epilogue(
                        &mut accr[..cols],
                        &self.bias[p * NR..p * NR + cols],
                        act,
                        &mut out[(r0 + r) * n + p * NR..][..cols],
                    );
                }
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX-512 F, AVX2 and FMA; x holds rows × inputs
    /// values and out rows × outputs.
    #[allow(clippy::incompatible_msrv)]
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn forward_avx512(&self, x: &[f32], out: &mut [f32], rows: usize, act: Act) {
        use std::arch::x86_64::*;
        let (k, n) = (self.inputs, self.outputs);
        let panels = n.div_ceil(NR);
        let mut pad = vec![0f32; MR * k];
        let mut tile = [[0f32; NR]; MR];
        for c0 in (0..rows).step_by(MC) {
            let c1 = (c0 + MC).min(rows);
            for p in 0..panels {
                let cols = NR.min(n - p * NR);
                let bias = &self.bias[p * NR..p * NR + cols];
                let b = self.data[p * k * NR..(p + 1) * k * NR].as_ptr();
                for r0 in (c0..c1).step_by(MR) {
                    let m = MR.min(c1 - r0);
                    let a: *const f32 = if m == MR {
                        x[r0 * k..(r0 + MR) * k].as_ptr()
                    } else {
                        pad[..m * k].copy_from_slice(&x[r0 * k..(r0 + m) * k]);
                        pad[m * k..].fill(0.0);
                        pad.as_ptr()
                    };
                    // SAFETY: `a` points at MR rows of k values (x's rows
                    // r0..r0+MR, or `pad`), `b` at the panel's k × NR values;
                    // kk < k bounds every read; `tile` is MR × NR.
                    unsafe {
                        let mut c = [[_mm512_setzero_ps(); 2]; MR];
                        for kk in 0..k {
                            let b0 = _mm512_loadu_ps(b.add(kk * NR));
                            let b1 = _mm512_loadu_ps(b.add(kk * NR + 16));
                            for (r, cr) in c.iter_mut().enumerate() {
                                let av = _mm512_set1_ps(*a.add(r * k + kk));
                                cr[0] = _mm512_fmadd_ps(av, b0, cr[0]);
                                cr[1] = _mm512_fmadd_ps(av, b1, cr[1]);
                            }
                        }
                        for (t, cr) in tile.iter_mut().zip(&c) {
                            _mm512_storeu_ps(t.as_mut_ptr(), cr[0]);
                            _mm512_storeu_ps(t.as_mut_ptr().add(16), cr[1]);
                        }
                    }
                    for (r, t) in tile.iter_mut().enumerate().take(m) {
                        epilogue(
                            &mut t[..cols],
                            bias,
                            act,
                            &mut out[(r0 + r) * n + p * NR..][..cols],
                        );
                    }
                }
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX2 and FMA; x holds rows × inputs values and out
    /// rows × outputs.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_avx2(&self, x: &[f32], out: &mut [f32], rows: usize, act: Act) {
        use std::arch::x86_64::*;
        let (k, n) = (self.inputs, self.outputs);
        let panels = n.div_ceil(NR);
        let mut pad = vec![0f32; MR2 * k];
        let mut tile = [[0f32; 16]; MR2];
        for c0 in (0..rows).step_by(MC) {
            let c1 = (c0 + MC).min(rows);
            for p in 0..panels {
                for half in 0..2 {
                    let first = p * NR + half * 16;
                    if first >= n {
                        continue;
                    }
                    let cols = 16.min(n - first);
                    let bias = &self.bias[first..first + cols];
                    let b = self.data[p * k * NR + half * 16..].as_ptr();
                    for r0 in (c0..c1).step_by(MR2) {
                        let m = MR2.min(c1 - r0);
                        let a: *const f32 = if m == MR2 {
                            x[r0 * k..(r0 + MR2) * k].as_ptr()
                        } else {
                            pad[..m * k].copy_from_slice(&x[r0 * k..(r0 + m) * k]);
                            pad[m * k..].fill(0.0);
                            pad.as_ptr()
                        };
                        // SAFETY: `a` points at MR2 rows of k values, `b` at
                        // the half panel: 16 values at kk*NR for kk < k,
                        // inside the panel's k × NR; `tile` is MR2 × 16.
                        unsafe {
                            let mut c = [[_mm256_setzero_ps(); 2]; MR2];
                            for kk in 0..k {
                                let b0 = _mm256_loadu_ps(b.add(kk * NR));
                                let b1 = _mm256_loadu_ps(b.add(kk * NR + 8));
                                for (r, cr) in c.iter_mut().enumerate() {
                                    let av = _mm256_set1_ps(*a.add(r * k + kk));
                                    cr[0] = _mm256_fmadd_ps(av, b0, cr[0]);
                                    cr[1] = _mm256_fmadd_ps(av, b1, cr[1]);
                                }
                            }
                            for (t, cr) in tile.iter_mut().zip(&c) {
                                _mm256_storeu_ps(t.as_mut_ptr(), cr[0]);
                                _mm256_storeu_ps(t.as_mut_ptr().add(8), cr[1]);
                            }
                        }
                        for (r, t) in tile.iter_mut().enumerate().take(m) {
                            epilogue(
                                &mut t[..cols],
                                bias,
                                act,
                                &mut out[(r0 + r) * n + first..][..cols],
                            );
                        }
                    }
                }
            }
        }
    }
}

/// out = act(acc + bias): the product's output pass.
#[inline(always)]
fn epilogue(acc: &mut [f32], bias: &[f32], act: Act, out: &mut [f32]) {
    for (v, b) in acc.iter_mut().zip(bias) {
        *v += b;
    }
    if act == Act::Gelu {
        for v in acc.iter_mut() {
            *v = fastmath::gelu(*v);
        }
    }
    out.copy_from_slice(acc);
}

/// Σ v in 16 fixed lanes, then the lanes in order: the same bits whatever
/// the instruction set the caller was compiled for.
#[inline(always)]
pub fn sum16(v: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let mut chunks = v.chunks_exact(16);
    for c in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    for (l, x) in lanes.iter_mut().zip(chunks.remainder()) {
        *l += x;
    }
    lanes.iter().fold(0.0, |a, b| a + b)
}

#[inline(always)]
fn max16(v: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 16];
    let mut chunks = v.chunks_exact(16);
    for c in &mut chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = if x > *l { x } else { *l };
        }
    }
    for (l, &x) in lanes.iter_mut().zip(chunks.remainder()) {
        *l = if x > *l { x } else { *l };
    }
    lanes
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a })
}

/// Attention of one text (its `n` rows of q, k, v, `[n, h]` with row
/// stride `h`), every head of width `d`, into `context` (same layout):
/// softmax(q·kᵀ/√d)·v. `scratch` is reused.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn attention_body(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    context: &mut [f32],
    n: usize,
    h: usize,
    d: usize,
    scratch: &mut Vec<f32>,
) {
    let scale = 1.0 / (d as f32).sqrt();
    scratch.clear();
    scratch.resize(d * n + n, 0.0);
    let (kt, s) = scratch.split_at_mut(d * n);
    for off in (0..h).step_by(d) {
        // kᵀ of this head, [d, n]: lanes run over the keys.
        for j in 0..n {
            for c in 0..d {
                kt[c * n + j] = k[j * h + off + c];
            }
        }
        for i in 0..n {
            s.fill(0.0);
            let qi = &q[i * h + off..i * h + off + d];
            for (c, &a) in qi.iter().enumerate() {
                let kr = &kt[c * n..(c + 1) * n];
                for (sj, &b) in s.iter_mut().zip(kr) {
                    *sj = a.mul_add(b, *sj);
                }
            }
            for sj in s.iter_mut() {
                *sj *= scale;
            }
            softmax_body(s);
            let ctx = &mut context[i * h + off..i * h + off + d];
            ctx.fill(0.0);
            for (j, &p) in s.iter().enumerate() {
                let vr = &v[j * h + off..j * h + off + d];
                for (o, &b) in ctx.iter_mut().zip(vr) {
                    *o = p.mul_add(b, *o);
                }
            }
        }
    }
}

/// A row of scores to probabilities, in place: exp(v − max) / Σ.
#[inline(always)]
pub fn softmax_body(row: &mut [f32]) {
    let max = max16(row);
    for v in row.iter_mut() {
        *v = fastmath::exp(*v - max);
    }
    let inv = 1.0 / sum16(row);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// x = LayerNorm(x + y) per row of `h` (`y` absent: LayerNorm(x)).
#[inline(always)]
fn add_norm_body(x: &mut [f32], y: Option<&[f32]>, gamma: &[f32], beta: &[f32], eps: f32) {
    let h = gamma.len();
    for (r, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            for (a, b) in row.iter_mut().zip(&y[r * h..(r + 1) * h]) {
                *a += b;
            }
        }
        let mean = sum16(row) / h as f32;
        let mut lanes = [0f32; 16];
        for c in row.chunks(16) {
            for (l, v) in lanes.iter_mut().zip(c) {
                let t = v - mean;
                *l += t * t;
            }
        }
        let var = lanes.iter().fold(0.0, |a, b| a + b) / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

macro_rules! dispatch {
    ($isa:expr, $body:ident ( $($arg:expr),* ), $avx512:ident, $avx2:ident) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if Isa::Avx512.available() => {
                // SAFETY: the CPU has AVX-512 F, AVX2 and FMA (checked).
                unsafe { $avx512($($arg),*) }
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512 if Isa::Avx2.available() => {
                // SAFETY: the CPU has AVX2 and FMA (checked).
                unsafe { $avx2($($arg),*) }
            }
            _ => $body($($arg),*),
        }
    };
}

macro_rules! copies {
    ($body:ident, $avx512:ident, $avx2:ident, ($($name:ident : $ty:ty),*)) => {
        #[allow(clippy::too_many_arguments, clippy::incompatible_msrv)]
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn $avx512($($name: $ty),*) {
            $body($($name),*)
        }
        #[allow(clippy::too_many_arguments)]
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx2($($name: $ty),*) {
            $body($($name),*)
        }
    };
}

copies!(attention_body, attention_avx512, attention_avx2, (q: &[f32], k: &[f32], v: &[f32], context: &mut [f32], n: usize, h: usize, d: usize, scratch: &mut Vec<f32>));
copies!(add_norm_body, add_norm_avx512, add_norm_avx2, (x: &mut [f32], y: Option<&[f32]>, gamma: &[f32], beta: &[f32], eps: f32));

/// Attention of one text: see [`attention_body`].
#[allow(clippy::too_many_arguments)]
pub fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    context: &mut [f32],
    n: usize,
    h: usize,
    d: usize,
    scratch: &mut Vec<f32>,
    isa: Isa,
) {
    assert!(d > 0 && h % d == 0 && q.len() >= n * h && k.len() >= n * h);
    assert!(v.len() >= n * h && context.len() >= n * h);
    dispatch!(
        isa,
        attention_body(q, k, v, context, n, h, d, scratch),
        attention_avx512,
        attention_avx2
    )
}

/// x = LayerNorm(x + y) (or LayerNorm(x)) per row of `gamma.len()`.
pub fn add_norm(x: &mut [f32], y: Option<&[f32]>, gamma: &[f32], beta: &[f32], eps: f32, isa: Isa) {
    assert!(gamma.len() == beta.len() && y.is_none_or(|y| y.len() >= x.len()));
    dispatch!(
        isa,
        add_norm_body(x, y, gamma, beta, eps),
        add_norm_avx512,
        add_norm_avx2
    )
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

    fn paths() -> Vec<Isa> {
        [Isa::Portable, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|i| i.available())
            .collect()
    }

    /// Every path gives the portable path's bits, on odd sizes (edge rows
    /// and columns) and the encoder's own; the portable path is within
    /// rounding of the plain f64 definition.
    #[test]
    fn products_equal_the_portable_path() {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        for (rows, k, o) in [
            (1usize, 3usize, 5usize),
            (13, 37, 70),
            (25, 384, 1536),
            (7, 1536, 384),
        ] {
            let (w, b, x) = (
                random(&mut rng, k * o),
                random(&mut rng, o),
                random(&mut rng, rows * k),
            );
            let p = Packed::new(&w, &b, k, o);
            for act in [Act::None, Act::Gelu] {
                let mut want = vec![0.0; rows * o];
                p.forward(&x, &mut want, rows, act, Isa::Portable);
                for r in 0..rows {
                    for j in 0..o {
                        let dot: f64 = (0..k)
                            .map(|t| f64::from(x[r * k + t]) * f64::from(w[j * k + t]))
                            .sum::<f64>()
                            + f64::from(b[j]);
                        let dot = match act {
                            Act::None => dot,
                            Act::Gelu => f64::from(fastmath::gelu(dot as f32)),
                        };
                        assert!((f64::from(want[r * o + j]) - dot).abs() < 1e-4, "{r},{j}");
                    }
                }
                for isa in paths() {
                    let mut got = vec![0.0; rows * o];
                    p.forward(&x, &mut got, rows, act, isa);
                    assert_eq!(got, want, "{isa:?} {rows} × {k} × {o}");
                }
            }
        }
    }

    #[test]
    fn attention_and_norm_equal_the_portable_path() {
        let mut rng = ChaCha8Rng::seed_from_u64(15);
        let (n, h, d) = (37, 64, 32);
        let (q, k, v) = (
            random(&mut rng, n * h),
            random(&mut rng, n * h),
            random(&mut rng, n * h),
        );
        let mut want = vec![0.0; n * h];
        attention(
            &q,
            &k,
            &v,
            &mut want,
            n,
            h,
            d,
            &mut Vec::new(),
            Isa::Portable,
        );
        // Head 1, row 5 against the plain definition in f64.
        let (i, off) = (5, 32);
        let s: Vec<f64> = (0..n)
            .map(|j| {
                (0..d)
                    .map(|c| f64::from(q[i * h + off + c]) * f64::from(k[j * h + off + c]))
                    .sum::<f64>()
                    / (d as f64).sqrt()
            })
            .collect();
        let max = s.iter().cloned().fold(f64::MIN, f64::max);
        let e: Vec<f64> = s.iter().map(|x| (x - max).exp()).collect();
        let z: f64 = e.iter().sum();
        for c in 0..d {
            let ctx: f64 = (0..n)
                .map(|j| e[j] / z * f64::from(v[j * h + off + c]))
                .sum();
            assert!((f64::from(want[i * h + off + c]) - ctx).abs() < 1e-5);
        }
        let (g, b) = (random(&mut rng, h), random(&mut rng, h));
        let mut x_want = q.clone();
        add_norm(&mut x_want, Some(&k), &g, &b, 1e-12, Isa::Portable);
        for isa in paths() {
            let mut got = vec![0.0; n * h];
            attention(&q, &k, &v, &mut got, n, h, d, &mut Vec::new(), isa);
            assert_eq!(got, want, "{isa:?}");
            let mut x = q.clone();
            add_norm(&mut x, Some(&k), &g, &b, 1e-12, isa);
            assert_eq!(x, x_want, "{isa:?}");
        }
    }
}
