//! Which vector instructions this CPU offers, for the stages compiled twice (baseline, and with
//! AVX2 and FMA for the CPUs that have them).

/// AVX2 and FMA are both available (the standard library caches the answer).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[inline]
pub fn avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}
