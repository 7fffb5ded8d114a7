//! log2 and exp2 for the compressor's per-sample level conversions.
//!
//! The detector needs a logarithm and the gain an exponential on every sample; the C library's are
//! exact to the last bit and several times slower than needed. These split off the binary exponent
//! and fit the mantissa with a degree-5 polynomial (least-squares fits on [0, 1)): log2 within
//! 3.2e-5 (0.0002 dB), exp2 within 1.8e-7 relative (1.6e-6 dB; fitted with its constant term held at 1), far inside the 0.1 dB the static
//! curve is held to. exp2's constant term is exactly 1, so a gain of 0 dB is exactly unity.

const LOG2_POLY: [f32; 6] = [
    3.190_813e-5,
    1.441_267_4,
    -0.705_704_16,
    0.408_721_74,
    -0.187_722_64,
    0.043_428_91,
];
const EXP2_POLY: [f32; 6] = [
    1.0,
    0.693_151_6,
    0.240_164_2,
    0.055_794_654,
    0.009_029_588,
    0.001_859_611_3,
];

#[inline(always)]
fn horner(c: &[f32; 6], x: f32) -> f32 {
    ((((c[5] * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]) * x + c[0]
}

/// log2 of a positive, normal `x`.
#[inline(always)]
pub fn log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000) - 1.0;
    exponent as f32 + horner(&LOG2_POLY, mantissa)
}

/// 2^x; 0 below 2^−126.
#[inline(always)]
pub fn exp2(x: f32) -> f32 {
    if x < -126.0 {
        return 0.0;
    }
    let x = x.min(127.0);
    // floor without a library call (baseline x86-64 has no rounding instruction)
    let truncated = x as i32;
    let whole = if (truncated as f32) > x {
        truncated - 1
    } else {
        truncated
    };
    let frac = x - whole as f32;
    let scale = f32::from_bits(((whole + 127) as u32) << 23);
    scale * horner(&EXP2_POLY, frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_is_within_its_stated_error() {
        let mut x = 1e-9f32;
        while x < 1e4 {
            let err = (log2(x) - x.log2()).abs();
            assert!(err < 4e-5, "log2({x}): {} vs {}", log2(x), x.log2());
            x *= 1.013;
        }
    }

    #[test]
    fn exp2_is_within_its_stated_error() {
        let mut x = -120.0f32;
        while x < 60.0 {
            let rel = (exp2(x) / x.exp2() - 1.0).abs();
            assert!(rel < 1e-6, "exp2({x}): {} vs {}", exp2(x), x.exp2());
            x += 0.0137;
        }
        assert_eq!(exp2(-200.0), 0.0);
        assert_eq!(exp2(0.0), 1.0);
    }
}
