//! Loudness after ITU-R BS.1770-4 (integrated, with its gates) and EBU Tech 3342 (loudness range),
//! computed from 100 ms blocks of K-weighted energy.
//!
//! Why not a loudness library's meter: the assistant needs the blocks themselves. The compression
//! search measures the loudness range of many compressor settings, and the level rule adds the
//! reverb's energy block by block (see `level_balance`); a meter that only answers "integrated"
//! and "range" cannot do either. The block conventions are those of libebur128 and its Rust port,
//! the `ebur128` crate, which the tests use as the reference (agreement within 0.01 LU):
//! momentary blocks of 400 ms every 100 ms; short-term blocks of 3 s every second from 3 s on;
//! only whole 100 ms blocks count.

/// Below this (LUFS) a block is silence: BS.1770's absolute gate.
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// BS.1770's relative gate for integrated loudness (LU below the absolutely gated mean).
const INTEGRATED_RELATIVE_GATE_LU: f64 = -10.0;
/// Tech 3342's relative gate for loudness range.
pub const RANGE_RELATIVE_GATE_LU: f64 = -20.0;
/// Blocks (100 ms) in a momentary and a short-term window, and the short-term hop.
const MOMENTARY: usize = 4;
const SHORT_TERM: usize = 30;
const SHORT_TERM_HOP: usize = 10;

/// Loudness of a mean-square energy (channels summed), LUFS.
pub fn lufs(energy: f64) -> f64 {
    -0.691 + 10.0 * energy.log10()
}

/// The energy whose loudness is `lufs`.
pub fn energy(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

/// One second-order section in f64 (the K-filter's low corner at 38 Hz needs it), transposed
/// direct form II: the shortest dependency chain per sample, which is what bounds its speed.
#[derive(Clone, Copy, Debug, Default)]
struct Section {
    b: [f64; 3],
    a: [f64; 2],
    s: [f64; 2],
}

impl Section {
    /// `FUSED` uses fused multiply-adds (only where the CPU has them: elsewhere `mul_add` is a
    /// slow library call); the state's update then waits on one instruction after the output.
    #[inline(always)]
    fn tick<const FUSED: bool>(&mut self, x: f64) -> f64 {
        if FUSED {
            let y = self.b[0].mul_add(x, self.s[0]);
            let t = self.b[1].mul_add(x, self.s[1]);
            self.s[0] = (-self.a[0]).mul_add(y, t);
            self.s[1] = (-self.a[1]).mul_add(y, self.b[2] * x);
            y
        } else {
            let y = self.b[0] * x + self.s[0];
            self.s[0] = (self.b[1] * x + self.s[1]) - self.a[0] * y;
            self.s[1] = self.b[2] * x - self.a[1] * y;
            y
        }
    }
}

/// BS.1770's K-weighting (a +4 dB high shelf near 1.7 kHz, then a high-pass near 38 Hz) at any
/// rate: the analogue prototypes behind the standard's 48 kHz coefficients, mapped with the
/// bilinear transform.
#[derive(Clone, Copy, Debug)]
pub struct KWeighting {
    shelf: Section,
    high_pass: Section,
}

impl KWeighting {
    pub fn new(sample_rate: f64) -> Self {
        let (f0, gain_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
        let k = (std::f64::consts::PI * f0 / sample_rate).tan();
        let vh = 10f64.powf(gain_db / 20.0);
        let vb = vh.powf(0.4996667741545416);
        let a0 = 1.0 + k / q + k * k;
        let shelf = Section {
            b: [
                (vh + vb * k / q + k * k) / a0,
                2.0 * (k * k - vh) / a0,
                (vh - vb * k / q + k * k) / a0,
            ],
            a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
            ..Default::default()
        };
        let (f0, q) = (38.13547087602444, 0.5003270373238773);
        let k = (std::f64::consts::PI * f0 / sample_rate).tan();
        let a0 = 1.0 + k / q + k * k;
        let high_pass = Section {
            b: [1.0, -2.0, 1.0],
            a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
            ..Default::default()
        };
        KWeighting { shelf, high_pass }
    }

    #[inline(always)]
    pub fn tick(&mut self, x: f32) -> f64 {
        self.tick_with::<false>(x)
    }

    #[inline(always)]
    fn tick_with<const FUSED: bool>(&mut self, x: f32) -> f64 {
        let y = self.shelf.tick::<FUSED>(x as f64);
        self.high_pass.tick::<FUSED>(y)
    }

    /// Power gain (linear) at `freq` Hz: for weighting a spectrum the way the filter weights time.
    pub fn power_gain(&self, freq: f64, sample_rate: f64) -> f64 {
        let w = std::f64::consts::TAU * freq / sample_rate;
        let response = |s: &Section| {
            let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
            let nr = s.b[0] + s.b[1] * c1 + s.b[2] * c2;
            let ni = -(s.b[1] * s1 + s.b[2] * s2);
            let dr = 1.0 + s.a[0] * c1 + s.a[1] * c2;
            let di = -(s.a[0] * s1 + s.a[1] * s2);
            (nr * nr + ni * ni) / (dr * dr + di * di)
        };
        response(&self.shelf) * response(&self.high_pass)
    }
}

/// K-weighting for `N` signals at once, lane by lane (the lanes run as one wide operation): the
/// ride weighs the vocal and the backing together, every sample.
#[derive(Clone, Copy, Debug)]
pub struct KWeightingLanes<const N: usize> {
    /// (b, a) of the shelf and of the high-pass.
    coeffs: [([f64; 3], [f64; 2]); 2],
    /// Per section, the two TDF-II states of each lane.
    state: [[[f64; N]; 2]; 2],
}

impl<const N: usize> KWeightingLanes<N> {
    pub fn new(sample_rate: f64) -> Self {
        let k = KWeighting::new(sample_rate);
        KWeightingLanes {
            coeffs: [(k.shelf.b, k.shelf.a), (k.high_pass.b, k.high_pass.a)],
            state: [[[0.0; N]; 2]; 2],
        }
    }

    /// The same arithmetic as [`KWeighting::tick`], per lane.
    #[inline(always)]
    pub fn tick(&mut self, x: [f32; N]) -> [f64; N] {
        let mut v = x.map(|x| x as f64);
        for ((b, a), s) in self.coeffs.iter().zip(self.state.iter_mut()) {
            let mut y = [0.0; N];
            for k in 0..N {
                y[k] = b[0] * v[k] + s[0][k];
                s[0][k] = (b[1] * v[k] + s[1][k]) - a[0] * y[k];
                s[1][k] = b[2] * v[k] - a[1] * y[k];
            }
            v = y;
        }
        v
    }
}

/// K-weighted energy of a mono run.
fn energy_mono(f: &mut KWeighting, x: &[f32]) -> f64 {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if crate::cpu::avx2_fma() {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { energy_mono_fma(f, x) };
    }
    energy_mono_with::<false>(f, x)
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn energy_mono_fma(f: &mut KWeighting, x: &[f32]) -> f64 {
    energy_mono_with::<true>(f, x)
}

#[inline(always)]
fn energy_mono_with<const FUSED: bool>(f: &mut KWeighting, x: &[f32]) -> f64 {
    let mut k = *f;
    let mut e = 0.0;
    for &v in x {
        let y = k.tick_with::<FUSED>(v);
        e += y * y;
    }
    *f = k;
    e
}

/// K-weighted energy of an interleaved stereo run, both channels summed: the two filter chains
/// are independent, so running them side by side lets the CPU overlap them.
fn energy_stereo(fl: &mut KWeighting, fr: &mut KWeighting, x: &[f32]) -> f64 {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if crate::cpu::avx2_fma() {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { energy_stereo_fma(fl, fr, x) };
    }
    energy_stereo_with::<false>(fl, fr, x)
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn energy_stereo_fma(fl: &mut KWeighting, fr: &mut KWeighting, x: &[f32]) -> f64 {
    energy_stereo_with::<true>(fl, fr, x)
}

#[inline(always)]
fn energy_stereo_with<const FUSED: bool>(
    fl: &mut KWeighting,
    fr: &mut KWeighting,
    x: &[f32],
) -> f64 {
    let (mut kl, mut kr) = (*fl, *fr);
    let (mut el, mut er) = (0.0, 0.0);
    for frame in x.chunks_exact(2) {
        let yl = kl.tick_with::<FUSED>(frame[0]);
        let yr = kr.tick_with::<FUSED>(frame[1]);
        el += yl * yl;
        er += yr * yr;
    }
    *fl = kl;
    *fr = kr;
    el + er
}

/// Cuts a signal of one or more channels into 100 ms blocks of K-weighted energy (the mean square
/// of each channel, summed over channels, as BS.1770 weights left and right).
#[derive(Clone, Debug)]
pub struct BlockMeter {
    filters: Vec<KWeighting>,
    block_len: usize,
    filled: usize,
    sum: f64,
    blocks: Vec<f64>,
}

impl BlockMeter {
    pub fn new(sample_rate: u32, channels: usize) -> Self {
        BlockMeter {
            filters: vec![KWeighting::new(sample_rate as f64); channels.max(1)],
            block_len: (sample_rate as usize + 5) / 10,
            filled: 0,
            sum: 0.0,
            blocks: Vec::new(),
        }
    }

    /// Frames interleaved across the meter's channels.
    pub fn push_interleaved(&mut self, frames: &[f32]) {
        let n = self.filters.len();
        let mut rest = &frames[..frames.len() / n * n];
        while !rest.is_empty() {
            let take = (self.block_len - self.filled).min(rest.len() / n);
            let (now, later) = rest.split_at(take * n);
            self.sum += match &mut self.filters[..] {
                [f] => energy_mono(f, now),
                [l, r] => energy_stereo(l, r, now),
                filters => {
                    let mut e = 0.0;
                    for frame in now.chunks_exact(n) {
                        for (f, &x) in filters.iter_mut().zip(frame) {
                            let y = f.tick(x);
                            e += y * y;
                        }
                    }
                    e
                }
            };
            self.filled += take;
            rest = later;
            if self.filled == self.block_len {
                self.blocks.push(self.sum / self.block_len as f64);
                self.sum = 0.0;
                self.filled = 0;
            }
        }
    }

    /// A single-channel signal (the meter must have one channel).
    pub fn push_mono(&mut self, samples: &[f32]) {
        debug_assert_eq!(self.filters.len(), 1);
        self.push_interleaved(samples);
    }

    /// The whole blocks measured so far.
    pub fn measured(&self) -> &[f64] {
        &self.blocks
    }

    /// The whole 100 ms blocks measured (a partial last block is left out, as meters do).
    pub fn finish(self) -> Blocks {
        Blocks(self.blocks)
    }
}

/// Mean energies of `window` consecutive blocks, every `hop` blocks, the first ending at block
/// `window - 1`.
fn windows(b: &[f64], window: usize, hop: usize) -> impl Iterator<Item = f64> + '_ {
    (window..=b.len())
        .step_by(hop)
        .map(move |end| b[end - window..end].iter().sum::<f64>() / window as f64)
}

/// BS.1770-4 integrated loudness of 100 ms block energies.
fn integrated(blocks: &[f64]) -> Option<f64> {
    let floor = energy(ABSOLUTE_GATE_LUFS);
    let gated: Vec<f64> = windows(blocks, MOMENTARY, 1)
        .filter(|&e| e >= floor)
        .collect();
    if gated.is_empty() {
        return None;
    }
    let mean = gated.iter().sum::<f64>() / gated.len() as f64;
    let relative = mean * 10f64.powf(INTEGRATED_RELATIVE_GATE_LU / 10.0);
    let (sum, n) = gated
        .iter()
        .filter(|&&e| e >= relative)
        .fold((0.0, 0usize), |(s, n), &e| (s + e, n + 1));
    Some(lufs(sum / n as f64))
}

/// Seconds of 100 ms blocks no more than `relative_lu` under the integrated loudness of them all
/// (and above the absolute gate): how much of a vocal a relative gate keeps, measured as it
/// arrives.
pub fn active_seconds(blocks: &[f64], relative_lu: f64) -> f64 {
    let Some(level) = integrated(blocks) else {
        return 0.0;
    };
    let floor = energy(ABSOLUTE_GATE_LUFS).max(energy(level + relative_lu));
    blocks.iter().filter(|&&e| e >= floor).count() as f64 * 0.1
}

/// 100 ms blocks of K-weighted mean-square energy, channels summed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Blocks(pub Vec<f64>);

impl Blocks {
    /// Measures a single-channel signal.
    pub fn of_mono(samples: &[f32], sample_rate: u32) -> Self {
        let mut m = BlockMeter::new(sample_rate, 1);
        m.push_mono(samples);
        m.finish()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Mean energies of `window` consecutive blocks, every `hop` blocks, the first ending at block
    /// `window - 1`.
    fn windows(&self, window: usize, hop: usize) -> impl Iterator<Item = f64> + '_ {
        windows(&self.0, window, hop)
    }

    /// Integrated loudness (BS.1770-4), LUFS; `None` when nothing is above the absolute gate
    /// (silence, or under 400 ms of signal).
    pub fn integrated(&self) -> Option<f64> {
        integrated(&self.0)
    }

    /// Loudness range (EBU Tech 3342), LU: the spread between the 10th and 95th percentiles of the
    /// gated short-term loudness. `None` under 3 s of signal or when all of it is silence.
    pub fn loudness_range(&self) -> Option<f64> {
        let floor = energy(ABSOLUTE_GATE_LUFS);
        let mut st: Vec<f64> = self
            .windows(SHORT_TERM, SHORT_TERM_HOP)
            .filter(|&e| e >= floor)
            .collect();
        if st.is_empty() {
            return None;
        }
        st.sort_by(f64::total_cmp);
        let mean = st.iter().sum::<f64>() / st.len() as f64;
        let relative = mean * 10f64.powf(RANGE_RELATIVE_GATE_LU / 10.0);
        let kept = &st[st.partition_point(|&e| e < relative)..];
        let last = (kept.len() - 1) as f64;
        let at = |p: f64| kept[(last * p + 0.5) as usize];
        Some(lufs(at(0.95)) - lufs(at(0.10)))
    }

    /// Blockwise sum of two measurements (the energies of signals assumed uncorrelated, or of
    /// channels); the longer one's extra blocks are kept.
    pub fn plus(&self, other: &Blocks) -> Blocks {
        let (long, short) = if self.len() >= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = long.0.clone();
        for (o, s) in out.iter_mut().zip(&short.0) {
            *o += s;
        }
        Blocks(out)
    }

    /// Every block scaled by a power gain.
    pub fn scaled(&self, power: f64) -> Blocks {
        Blocks(self.0.iter().map(|e| e * power).collect())
    }
}
