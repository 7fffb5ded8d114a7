//! The host's bypass button (VST3's bypass flag, CLAP's is-bypass parameter): the chain's output
//! crossfades to the dry vocal over [`FADE_SECONDS`], and once it is all dry the chain is
//! skipped (nothing runs, no CPU) and cleared, so that coming back fades in from a fresh start
//! rather than from the reverb tail of before. No latency changes either way: the chain has none.

/// How long the crossfade takes either way.
pub const FADE_SECONDS: f32 = 0.02;

/// What a block needs, given the button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The chain runs and is heard.
    Run,
    /// The chain runs, and its output is mixed with the dry vocal by [`HostBypass::mix`].
    Fade,
    /// All dry: the input passes untouched and the chain does not run. `reset`: the first such
    /// block, when the chain should be cleared.
    Skip { reset: bool },
}

pub struct HostBypass {
    /// The chain's share of the output, 0 (bypassed) to 1.
    wet: f32,
    /// How far `wet` moves per sample.
    step: f32,
    skipping: bool,
}

impl HostBypass {
    pub fn new(sample_rate: f32, bypassed: bool) -> Self {
        HostBypass {
            wet: if bypassed { 0.0 } else { 1.0 },
            step: 1.0 / (FADE_SECONDS * sample_rate.max(1.0)),
            skipping: bypassed,
        }
    }

    pub fn plan(&mut self, bypassed: bool) -> Plan {
        let target = if bypassed { 0.0 } else { 1.0 };
        if self.wet != target {
            self.skipping = false;
            return Plan::Fade;
        }
        if !bypassed {
            self.skipping = false;
            return Plan::Run;
        }
        let reset = !self.skipping;
        self.skipping = true;
        Plan::Skip { reset }
    }

    /// `out` (the chain's output) mixed with `dry`, sample by sample as the share moves toward
    /// the button; both channels alike.
    pub fn mix(&mut self, dry: [&[f32]; 2], out: [&mut [f32]; 2], bypassed: bool) {
        let target = if bypassed { 0.0 } else { 1.0 };
        let [ol, or] = out;
        let mut wet = self.wet;
        for (i, (l, r)) in ol.iter_mut().zip(or.iter_mut()).enumerate() {
            wet = if wet < target {
                (wet + self.step).min(target)
            } else {
                (wet - self.step).max(target)
            };
            *l = dry[0][i] + wet * (*l - dry[0][i]);
            *r = dry[1][i] + wet * (*r - dry[1][i]);
        }
        self.wet = wet;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_button_fades_over_20_ms_then_skips_and_clears_the_chain_once() {
        let rate = 48_000.0;
        let mut b = HostBypass::new(rate, false);
        assert_eq!(b.plan(false), Plan::Run);
        let dry = vec![0.0f32; 256];
        let mut heard = Vec::new();
        let mut blocks = 0;
        // the plan after the fade's last block skips, and clears the chain that once
        loop {
            match b.plan(true) {
                Plan::Fade => {}
                after => {
                    assert_eq!(after, Plan::Skip { reset: true });
                    break;
                }
            }
            let (mut l, mut r) = (vec![1.0f32; 256], vec![1.0f32; 256]);
            b.mix([&dry, &dry], [&mut l, &mut r], true);
            assert_eq!(l, r);
            heard.extend(l);
            blocks += 1;
        }
        // the chain's output (1) falls to the dry vocal (0) in a straight line, 20 ms long
        let fade = heard.iter().position(|&v| v == 0.0).unwrap();
        let want = (FADE_SECONDS * rate) as usize;
        assert!(fade.abs_diff(want) <= 1, "{fade} samples, not {want}");
        assert!(heard.windows(2).all(|w| w[1] <= w[0]));
        assert!(heard.windows(2).all(|w| w[0] - w[1] <= 1.0 / 959.0));
        assert_eq!(blocks, 4);
        assert_eq!(b.plan(true), Plan::Skip { reset: false });
        // back: a fade in, then the chain alone
        assert_eq!(b.plan(false), Plan::Fade);
        let (mut l, mut r) = (vec![1.0f32; 2048], vec![1.0f32; 2048]);
        let dry = vec![0.0f32; 2048];
        b.mix([&dry, &dry], [&mut l, &mut r], false);
        assert!(l[0] > 0.0 && l[0] < 0.01 && l[2047] == 1.0);
        assert_eq!(b.plan(false), Plan::Run);
    }

    #[test]
    fn a_plug_in_made_bypassed_starts_skipping() {
        let mut b = HostBypass::new(44_100.0, true);
        assert_eq!(b.plan(true), Plan::Skip { reset: false });
    }
}
