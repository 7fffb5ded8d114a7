//! Flush-to-zero for the duration of a process call.
//!
//! Decaying filter and reverb memories pass through subnormal numbers, which many CPUs handle
//! 10–100× slower. Setting the FTZ/DAZ (x86) or FZ (AArch64) flags turns them into zero; the
//! previous mode is restored when the guard drops, so a host's own code is never affected.

pub struct DenormalGuard {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64"))]
    saved: usize,
}

impl DenormalGuard {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    pub fn new() -> Self {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr only read and write the SSE control register.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            let ftz_daz = csr | 0x8040;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &ftz_daz, options(nostack, readonly));
        }
        DenormalGuard {
            saved: csr as usize,
        }
    }

    #[cfg(target_arch = "aarch64")]
    pub fn new() -> Self {
        let fpcr: usize;
        // SAFETY: reads and writes the floating-point control register only.
        unsafe {
            std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack));
            std::arch::asm!("msr fpcr, {}", in(reg) fpcr | (1 << 24), options(nomem, nostack));
        }
        DenormalGuard { saved: fpcr }
    }

    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    pub fn new() -> Self {
        DenormalGuard {}
    }
}

impl Default for DenormalGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DenormalGuard {
    fn drop(&mut self) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        // SAFETY: restores the register value saved in `new`.
        unsafe {
            let csr = self.saved as u32;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: restores the register value saved in `new`.
        unsafe {
            std::arch::asm!("msr fpcr, {}", in(reg) self.saved, options(nomem, nostack));
        }
    }
}
