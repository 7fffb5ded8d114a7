//! The reverb's AVX kernels: 8×8 block transposes between delay lines (sample-major per line) and
//! frames (line-major per sample), and the Walsh–Hadamard transform of a frame.
//!
//! The FDN reads each line as a run of samples but processes each sample across all lines; moving
//! a chunk between the two layouts one float at a time costs two memory operations per line and
//! sample. Eight loads, twenty-four shuffles and eight stores move 64 floats instead. The
//! transform's three inner stages pair lanes of one register: each is a lane permutation and one
//! multiply-add by ±1 (exact, so the result is the plain butterflies' to the bit).

#[cfg(target_arch = "x86")]
use std::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Samples moved per call.
pub const RUN: usize = 32;

#[inline(always)]
unsafe fn transpose(r: [__m256; 8]) -> [__m256; 8] {
    // SAFETY (all blocks): register-only AVX operations; the caller runs with AVX enabled.
    unsafe {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }
}

/// Copies `RUN` samples from each of eight lines into `frames[t][col..col + 8]`.
///
/// # Safety
/// AVX must be available; each `lines[k]` holds at least `RUN` floats; `frames` holds at least
/// `RUN` rows with `col + 8` within a row.
#[target_feature(enable = "avx")]
pub unsafe fn lines_to_frames<const N: usize>(
    lines: [&[f32]; 8],
    frames: &mut [[f32; N]],
    col: usize,
) {
    debug_assert!(lines.iter().all(|l| l.len() >= RUN) && frames.len() >= RUN && col + 8 <= N);
    for b in 0..RUN / 8 {
        // SAFETY: the bounds above; unaligned loads and stores.
        unsafe {
            let r = [0, 1, 2, 3, 4, 5, 6, 7].map(|k| _mm256_loadu_ps(lines[k].as_ptr().add(8 * b)));
            let o = transpose(r);
            for (j, v) in o.into_iter().enumerate() {
                _mm256_storeu_ps(frames[8 * b + j].as_mut_ptr().add(col), v);
            }
        }
    }
}

/// Copies `frames[t][col..col + 8]` for `RUN` samples into eight lines.
///
/// # Safety
/// As for [`lines_to_frames`].
#[target_feature(enable = "avx")]
pub unsafe fn frames_to_lines<const N: usize>(
    frames: &[[f32; N]],
    col: usize,
    lines: [&mut [f32]; 8],
) {
    debug_assert!(lines.iter().all(|l| l.len() >= RUN) && frames.len() >= RUN && col + 8 <= N);
    let ptrs = lines.map(|l| l.as_mut_ptr());
    for b in 0..RUN / 8 {
        // SAFETY: the bounds above; unaligned loads and stores.
        unsafe {
            let r = [0, 1, 2, 3, 4, 5, 6, 7]
                .map(|j| _mm256_loadu_ps(frames[8 * b + j].as_ptr().add(col)));
            let o = transpose(r);
            for (k, v) in o.into_iter().enumerate() {
                _mm256_storeu_ps(ptrs[k].add(8 * b), v);
            }
        }
    }
}

/// Unnormalised Walsh–Hadamard transform of `x` (N a multiple of 8, at most 64), in place.
///
/// # Safety
/// AVX and FMA must be available.
#[target_feature(enable = "avx,fma")]
#[inline]
pub unsafe fn fwht<const N: usize>(x: &mut [f32; N]) {
    const { assert!(N.is_multiple_of(8) && N <= 64) };
    let m = N / 8;
    // SAFETY: loads and stores stay within `x` (m registers of 8); the rest is register-only.
    unsafe {
        let s1 = _mm256_setr_ps(1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0);
        let s2 = _mm256_setr_ps(1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0);
        let s4 = _mm256_setr_ps(1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0);
        let mut v = [_mm256_setzero_ps(); 8];
        for (k, r) in v.iter_mut().enumerate().take(m) {
            let a = _mm256_loadu_ps(x.as_ptr().add(8 * k));
            // lane j pairs with j^h: partner + (±1)·self
            let a = _mm256_fmadd_ps(s1, a, _mm256_permute_ps::<0xB1>(a));
            let a = _mm256_fmadd_ps(s2, a, _mm256_permute_ps::<0x4E>(a));
            *r = _mm256_fmadd_ps(s4, a, _mm256_permute2f128_ps::<0x01>(a, a));
        }
        let mut h = 1;
        while h < m {
            let mut i = 0;
            while i < m {
                for j in i..i + h {
                    let (a, b) = (v[j], v[j + h]);
                    v[j] = _mm256_add_ps(a, b);
                    v[j + h] = _mm256_sub_ps(a, b);
                }
                i += 2 * h;
            }
            h *= 2;
        }
        for (k, r) in v.iter().enumerate().take(m) {
            _mm256_storeu_ps(x.as_mut_ptr().add(8 * k), *r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_both_ways() {
        if !std::arch::is_x86_feature_detected!("avx") {
            eprintln!("SKIPPED: no AVX on this CPU");
            return;
        }
        let lines: Vec<Vec<f32>> = (0..8)
            .map(|k| (0..RUN).map(|t| (100 * k + t) as f32).collect())
            .collect();
        let mut frames = vec![[0.0f32; 16]; RUN];
        let refs: [&[f32]; 8] = std::array::from_fn(|k| lines[k].as_slice());
        // SAFETY: AVX checked above; sizes as required.
        unsafe { lines_to_frames::<16>(refs, &mut frames, 8) };
        for (t, frame) in frames.iter().enumerate() {
            for k in 0..8 {
                assert_eq!(frame[8 + k], (100 * k + t) as f32);
            }
        }
        let mut back: Vec<Vec<f32>> = vec![vec![0.0; RUN]; 8];
        let mut it = back.iter_mut();
        let outs: [&mut [f32]; 8] = std::array::from_fn(|_| it.next().unwrap().as_mut_slice());
        // SAFETY: as above.
        unsafe { frames_to_lines::<16>(&frames, 8, outs) };
        assert_eq!(back, lines);
    }

    #[test]
    fn hadamard_matches_the_butterflies_exactly() {
        if !(std::arch::is_x86_feature_detected!("avx")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            eprintln!("SKIPPED: no AVX/FMA on this CPU");
            return;
        }
        fn check<const N: usize>() {
            let x: [f32; N] = std::array::from_fn(|i| ((i * 37 + 11) % 23) as f32 / 7.0 - 1.3);
            let mut plain = x;
            let mut h = 1;
            while h < N {
                let mut y = [0.0f32; N];
                for j in 0..N {
                    y[j] = if j & h == 0 {
                        plain[j] + plain[j ^ h]
                    } else {
                        plain[j ^ h] - plain[j]
                    };
                }
                plain = y;
                h *= 2;
            }
            let mut fast = x;
            // SAFETY: features checked above.
            unsafe { fwht::<N>(&mut fast) };
            assert_eq!(fast, plain, "{N}");
        }
        check::<16>();
        check::<32>();
        check::<64>();
    }
}
