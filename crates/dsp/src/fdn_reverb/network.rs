//! The feedback delay network itself: delay memory, its loop filters and gains, the Hadamard
//! feedback as a fast Walsh–Hadamard transform, and the per-sample work across lines.

// The per-sample work runs index loops over parallel per-line arrays (see mod.rs).
#![allow(clippy::needless_range_loop)]

use super::*;

pub(super) fn sieve(limit: usize) -> Vec<u32> {
    let mut composite = vec![false; limit + 1];
    let mut primes = Vec::new();
    for i in 2..=limit {
        if !composite[i] {
            primes.push(i as u32);
            let mut j = i * i;
            while j <= limit {
                composite[j] = true;
                j += i;
            }
        }
    }
    primes
}

/// Sign patterns of Hadamard rows: `row` of the N×N Sylvester matrix, entry `i`.
pub(super) fn hadamard_sign(row: usize, i: usize) -> f32 {
    if (row & i).count_ones().is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

/// Unnormalised fast Walsh–Hadamard transform. The stages that pair elements eight or more apart
/// are contiguous add/subtract runs; the three inner stages work on groups of eight as "partner
/// plus or minus self", which compiles to a lane permutation and an add per group.
#[inline(always)]
pub(super) fn fwht<const N: usize>(x: &mut [f32; N]) {
    if N <= 16 {
        // Small enough to write every stage over the whole vector.
        let mut h = 1;
        while h < N {
            let mut y = [0.0f32; N];
            for j in 0..N {
                y[j] = if j & h == 0 {
                    x[j] + x[j ^ h]
                } else {
                    x[j ^ h] - x[j]
                };
            }
            *x = y;
            h *= 2;
        }
        return;
    }
    for group in x.chunks_exact_mut(8) {
        let mut v = [0.0f32; 8];
        v.copy_from_slice(group);
        for h in [1, 2, 4] {
            let mut y = [0.0f32; 8];
            for j in 0..8 {
                y[j] = if j & h == 0 {
                    v[j] + v[j ^ h]
                } else {
                    v[j ^ h] - v[j]
                };
            }
            v = y;
        }
        group.copy_from_slice(&v);
    }
    let mut h = 8;
    while h < N {
        for block in x.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (p, q) in a.iter_mut().zip(b.iter_mut()) {
                let (u, v) = (*p, *q);
                *p = u + v;
                *q = u - v;
            }
        }
        h *= 2;
    }
}

/// One biquad per line, stored by coefficient so the per-sample loop runs across lines.
#[derive(Clone, Debug)]
pub(super) struct Bank {
    pub(super) b0: [f32; MAX_LINES],
    pub(super) b1: [f32; MAX_LINES],
    pub(super) b2: [f32; MAX_LINES],
    pub(super) a1: [f32; MAX_LINES],
    pub(super) a2: [f32; MAX_LINES],
    pub(super) s1: [f32; MAX_LINES],
    pub(super) s2: [f32; MAX_LINES],
}

impl Bank {
    pub(super) fn new() -> Self {
        let z = [0.0; MAX_LINES];
        Bank {
            b0: [1.0; MAX_LINES],
            b1: z,
            b2: z,
            a1: z,
            a2: z,
            s1: z,
            s2: z,
        }
    }

    pub(super) fn set(&mut self, i: usize, c: Coeffs) {
        self.b0[i] = c.b0 as f32;
        self.b1[i] = c.b1 as f32;
        self.b2[i] = c.b2 as f32;
        self.a1[i] = c.a1 as f32;
        self.a2[i] = c.a2 as f32;
    }

    pub(super) fn clear(&mut self) {
        self.s1 = [0.0; MAX_LINES];
        self.s2 = [0.0; MAX_LINES];
    }

    #[inline(always)]
    pub(super) fn run<const N: usize>(&mut self, x: &mut [f32; N]) {
        for i in 0..N {
            let v = x[i];
            let y = self.b0[i] * v + self.s1[i];
            self.s1[i] = self.b1[i] * v - self.a1[i] * y + self.s2[i];
            self.s2[i] = self.b2[i] * v - self.a2[i] * y;
            x[i] = y;
        }
    }
}

/// Delay memory and loop filters of one network.
#[derive(Clone, Debug)]
pub(super) struct Network {
    pub(super) buf: Vec<f32>,
    pub(super) low: Bank,
    pub(super) high: Bank,
    /// Per-line loop gain (decay and the 1/√N of the normalised Hadamard matrix), moving in
    /// equal per-sample steps towards the value set at the last control tick: a loop gain that
    /// jumped would zipper the whole tail.
    pub(super) gain: [f32; MAX_LINES],
    pub(super) gain_step: [f32; MAX_LINES],
    pub(super) gain_target: [f32; MAX_LINES],
}

impl Network {
    pub(super) fn new() -> Self {
        let z = [0.0; MAX_LINES];
        Network {
            buf: Vec::new(),
            low: Bank::new(),
            high: Bank::new(),
            gain: z,
            gain_step: z,
            gain_target: z,
        }
    }

    pub(super) fn clear(&mut self) {
        self.buf.fill(0.0);
        self.low.clear();
        self.high.clear();
    }

    /// At a control tick: arrive at the last target, then head for the new one over a period.
    pub(super) fn retarget_gains(&mut self, to: &[f32; MAX_LINES], immediate: bool) {
        self.gain = self.gain_target;
        for i in 0..MAX_LINES {
            self.gain_step[i] = if immediate {
                0.0
            } else {
                (to[i] - self.gain[i]) / CONTROL as f32
            };
        }
        if immediate {
            self.gain = *to;
        }
        self.gain_target = *to;
    }

    /// At a control tick with nothing moving: hold the target exactly.
    pub(super) fn settle_gains(&mut self) {
        self.gain = self.gain_target;
        self.gain_step = [0.0; MAX_LINES];
    }
}

#[derive(Clone, Debug)]
pub(super) struct Patterns {
    pub(super) input: [f32; MAX_LINES],
    /// Hadamard rows read as the left and right outputs: the taps are entries of the transform
    /// the feedback needs anyway.
    pub(super) left: usize,
    pub(super) right: usize,
}

/// Line outputs of one sub-block, sample-major so the per-sample work runs across lines.
pub(super) type Frames<const N: usize> = [[f32; N]];

/// The ramp's values for the next `out.len()` samples.
#[inline(always)]
pub(super) fn fill(ramp: &mut Ramp, out: &mut [f32]) {
    if ramp.is_moving() {
        out.iter_mut().for_each(|v| *v = ramp.tick());
    } else {
        out.fill(ramp.value());
    }
}

/// `i` (below `2 len`) brought into `0..len` without a division.
#[inline(always)]
pub(super) fn wrap(i: usize, len: usize) -> usize {
    if i >= len { i - len } else { i }
}

/// `n` samples of a ring buffer from `start`, as the two slices either side of the wrap.
#[inline(always)]
pub(super) fn ring(line: &[f32], start: usize, n: usize) -> (&[f32], &[f32]) {
    let first = (line.len() - start).min(n);
    (&line[start..start + first], &line[..n - first])
}

/// Where a sub-block reads and writes the delay memory.
pub(super) struct Span<'a> {
    pub(super) delays: &'a [u32; MAX_LINES],
    pub(super) next: &'a [u32; MAX_LINES],
    /// Crossfade from `delays` to `next`, per sample (only read while crossfading).
    pub(super) mix: &'a [f32],
    pub(super) w: usize,
    pub(super) len: usize,
    pub(super) n: usize,
}

impl Network {
    /// Reads `n` samples of every line's output into `f`; with `AVX`, a full chunk of eight
    /// lines at a time by block transposes.
    #[inline(always)]
    pub(super) fn gather<const N: usize, const XF: bool, const AVX: bool>(
        &self,
        s: &Span,
        f: &mut Frames<N>,
    ) {
        let start = |i: usize| wrap(s.w + s.len - s.delays[i] as usize, s.len);
        let mut scalar_from = 0;
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if AVX && !XF && s.n == RUN && N.is_multiple_of(8) {
            scalar_from = N;
            for g in (0..N).step_by(8) {
                let starts: [usize; 8] = std::array::from_fn(|k| start(g + k));
                if starts.iter().any(|&st| st + RUN > s.len) {
                    self.gather_lines::<N, XF>(s, f, g..g + 8);
                    continue;
                }
                let lines: [&[f32]; 8] = std::array::from_fn(|k| {
                    let base = (g + k) * s.len + starts[k];
                    &self.buf[base..base + RUN]
                });
                // SAFETY: `AVX` is only set on the path the CPU check enabled; sizes checked above.
                unsafe { transpose::lines_to_frames::<N>(lines, f, g) };
            }
        }
        self.gather_lines::<N, XF>(s, f, scalar_from..N);
    }

    #[inline(always)]
    pub(super) fn gather_lines<const N: usize, const XF: bool>(
        &self,
        s: &Span,
        f: &mut Frames<N>,
        lines: std::ops::Range<usize>,
    ) {
        for i in lines {
            let line = &self.buf[i * s.len..(i + 1) * s.len];
            let (a1, a2) = ring(line, wrap(s.w + s.len - s.delays[i] as usize, s.len), s.n);
            for (frame, &a) in f.iter_mut().zip(a1) {
                frame[i] = a;
            }
            for (frame, &a) in f[a1.len()..].iter_mut().zip(a2) {
                frame[i] = a;
            }
            if XF {
                let (b1, b2) = ring(line, wrap(s.w + s.len - s.next[i] as usize, s.len), s.n);
                let fresh = f.iter_mut().zip(s.mix);
                for ((frame, &m), &b) in fresh.zip(b1.iter().chain(b2)) {
                    frame[i] += m * (b - frame[i]);
                }
            }
        }
    }

    /// Writes the sub-block's line inputs back; with `AVX`, a full chunk by block transposes.
    #[inline(always)]
    pub(super) fn scatter<const N: usize, const AVX: bool>(&mut self, s: &Span, f: &Frames<N>) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if AVX && s.n == RUN && N.is_multiple_of(8) && s.w + RUN <= s.len {
            let mut rows = self.buf.chunks_exact_mut(s.len);
            for g in (0..N).step_by(8) {
                let lines: [&mut [f32]; 8] = std::array::from_fn(|_| {
                    let row = rows.next().expect("a line per index");
                    &mut row[s.w..s.w + RUN]
                });
                // SAFETY: `AVX` is only set on the path the CPU check enabled; sizes checked above.
                unsafe { transpose::frames_to_lines::<N>(f, g, lines) };
            }
            return;
        }
        for i in 0..N {
            let line = &mut self.buf[i * s.len..(i + 1) * s.len];
            let first = (s.len - s.w).min(s.n);
            let (wrapped, from_w) = line.split_at_mut(s.w);
            for (d, frame) in from_w[..first].iter_mut().zip(f) {
                *d = frame[i];
            }
            for (d, frame) in wrapped[..s.n - first].iter_mut().zip(&f[first..]) {
                *d = frame[i];
            }
        }
    }

    /// Loop filters, output taps, feedback matrix and input for one sample: `o` holds the line
    /// outputs and leaves holding the line inputs.
    #[inline(always)]
    pub(super) fn step<const N: usize, const AVX: bool>(
        &mut self,
        o: &mut [f32; N],
        x: f32,
        p: &Patterns,
    ) -> (f32, f32) {
        self.low.run::<N>(o);
        self.high.run::<N>(o);
        for i in 0..N {
            o[i] *= self.gain[i];
            self.gain[i] += self.gain_step[i];
        }
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if AVX {
            // SAFETY: `AVX` is only set on the path the CPU check enabled.
            unsafe { transpose::fwht::<N>(o) };
        } else {
            fwht::<N>(o);
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        fwht::<N>(o);
        let (yl, yr) = (o[p.left], o[p.right]);
        for i in 0..N {
            o[i] += p.input[i] * x;
        }
        (yl, yr)
    }
}
