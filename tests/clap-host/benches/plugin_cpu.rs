//! CPU of the plug-in's `process()`, through the real CLAP bundle in our CLAP host: 60 s of a
//! stereo vocal with the backing on the sidechain, 48 kHz, 64-sample blocks, the full chain (four EQ
//! bands, compressor, reverb with the research's fade-in, level), on one core. Printed as a
//! real-time factor beside the engine's `VocalChain` run directly in the same run, so the wrapper's
//! own cost shows. `cargo bench -p clap-test-host --bench plugin_cpu`.
//!
//! Then the extra cost of Analyze & Mix listening: two instances play the same song side by side,
//! one with the trigger off and one listening (its audio thread copies every block into the
//! capture ring, and its worker analyses on the other core). They take turns, 50 ms of audio each,
//! so both see the same machine (this VM's timing drifts by tens of percent over seconds), and
//! the roles swap halfway; only the time inside the host's processing calls counts. The host
//! plays in real time, as while a user listens: faster, the worker's share of the machine (and
//! so its pull on the memory system both instances share) would be overstated that many times.

use std::time::{Duration, Instant};

use clap_test_host::{ClapId, Loaded, Transport};
use engine::synth::{backing_track, vocal_line};
use engine::{MixParams, PARAMS, ParamId, VocalChain};

const RATE: f64 = 48_000.0;
const SECONDS: f32 = 60.0;
const BLOCK: usize = 64;

fn settings() -> Vec<(ParamId, f32)> {
    vec![
        (ParamId::EqGain250, -4.0),
        (ParamId::EqGain1k, 2.0),
        (ParamId::EqGain4k, 3.0),
        (ParamId::EqGain8k, -2.0),
        (ParamId::CompThreshold, -24.0),
        (ParamId::CompRatio, 4.0),
        (ParamId::LevelGain, -3.0),
    ]
}

pub fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let path = automix_tests::workspace().join("target/bundled/Vocal Automix.clap");
    if !path.exists() {
        println!(
            "plugin_cpu: SKIPPED, {} is not built (cargo xtask bundle vocal_automix --release)",
            path.display()
        );
        return;
    }
    let vocal = [
        vocal_line(RATE as f32, SECONDS, 0.6, 1),
        vocal_line(RATE as f32, SECONDS, 0.5, 2),
    ];
    let backing = backing_track(RATE as f32, SECONDS, 100.0, 0.8, 3);

    let mut plugin = Loaded::load(&path).unwrap();
    let params = plugin.params();
    let mut events = Vec::new();
    let mut mix = MixParams::default();
    for (id, v) in settings() {
        let k = PARAMS.iter().position(|s| s.id == id).unwrap();
        let value = plugin
            .text_to_value(params[k].id, &id.spec().format(v))
            .unwrap();
        events.push((params[k].id, value));
        mix.set(id, v);
    }

    process_cost(&mut plugin, &vocal, &backing, &events, &mix);

    // Analyze & Mix listening: side by side, taking turns; then the roles swap, which cancels
    // what differs between the two instances themselves (where their memory landed)
    let mut first = Loaded::load(&path).unwrap();
    let mut second = Loaded::load(&path).unwrap();
    let trigger = params
        .iter()
        .find(|q| q.name == "Analyze & Mix")
        .unwrap()
        .id;
    let song = Song {
        vocal: &vocal,
        backing: &backing,
        events: &events,
        trigger,
    };
    let (off_1, on_1) = song.turns(&mut first, &mut second);
    let (off_2, on_2) = song.turns(&mut second, &mut first);
    let ratio = ((on_1 / off_1) * (on_2 / off_2)).sqrt();
    let heard = 2.0 * LISTEN_SECONDS;
    println!(
        "Analyze & Mix listening: two instances side by side, in turns, {heard} s of the song each:"
    );
    println!(
        "  trigger off: {:7.1}x real time; listening: {:7.1}x real time; capture adds {:+.2} % (goal: under 2 %)",
        heard / (off_1 + off_2),
        heard / (on_1 + on_2),
        100.0 * (ratio - 1.0)
    );
}

/// Seconds of the song each role plays, in real time.
const LISTEN_SECONDS: f64 = 20.0;

struct Song<'a> {
    vocal: &'a [Vec<f32>; 2],
    backing: &'a [Vec<f32>; 2],
    events: &'a [(clack_host::prelude::ClapId, f64)],
    trigger: clack_host::prelude::ClapId,
}

impl Song<'_> {
    /// Plays the song's first `LISTEN_SECONDS` through both instances in real time, in turns of
    /// 50 ms, `quiet` with the trigger off and `listener` listening; the seconds each spent
    /// processing.
    fn turns(&self, quiet: &mut Loaded, listener: &mut Loaded) -> (f64, f64) {
        let playing = Some(Transport {
            playing: true,
            tempo: 100.0,
        });
        let mut a = quiet.stream(RATE, BLOCK).unwrap();
        let mut b = listener.stream(RATE, BLOCK).unwrap();
        let piece = 2400;
        let frames = (LISTEN_SECONDS * RATE) as usize;
        let (mut t_off, mut t_on) = (Duration::ZERO, Duration::ZERO);
        {
            for (k, at) in (0..frames).step_by(piece).enumerate() {
                let end = (at + piece).min(frames);
                let start = at == 0;
                let main = [&self.vocal[0][at..end], &self.vocal[1][at..end]];
                let side = Some([&self.backing[0][at..end], &self.backing[1][at..end]]);
                let began = Instant::now();
                let turn = |s: &mut clap_test_host::Stream, on: bool| {
                    let mut set = Vec::new();
                    if start {
                        set.extend(self.events);
                        set.push((self.trigger, if on { 1.0 } else { 0.0 }));
                    }
                    let t = thread_cpu();
                    let out = s.run(main, side, &set, playing).unwrap();
                    let dt = thread_cpu().saturating_sub(t);
                    std::hint::black_box(out);
                    dt
                };
                // alternate who goes first, so neither always finds the caches warm
                if k % 2 == 0 {
                    t_off += turn(&mut a, false);
                    t_on += turn(&mut b, true);
                } else {
                    t_on += turn(&mut b, true);
                    t_off += turn(&mut a, false);
                }
                let budget = Duration::from_secs_f64((end - at) as f64 / RATE);
                std::thread::sleep(budget.saturating_sub(began.elapsed()));
            }
        }
        // released: the listener analyses in the background; let it finish
        let silence = vec![0.0f32; BLOCK];
        b.run([&silence, &silence], None, &[(self.trigger, 0.0)], playing)
            .unwrap();
        drop((a, b));
        std::thread::sleep(Duration::from_secs(2));
        (t_off.as_secs_f64(), t_on.as_secs_f64())
    }
}

/// CPU time of the calling thread (not wall time: time the thread waits while another runs on
/// its core does not count).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `process()` through the bundle against the engine's chain called directly, same settings.
fn process_cost(
    plugin: &mut Loaded,
    vocal: &[Vec<f32>; 2],
    backing: &[Vec<f32>; 2],
    events: &[(ClapId, f64)],
    mix: &MixParams,
) {
    let best = |f: &mut dyn FnMut() -> f64| (0..5).map(|_| f()).fold(f64::INFINITY, f64::min);
    let plugin_s = best(&mut || {
        let t = Instant::now();
        let out = plugin
            .process(RATE, BLOCK, vocal, Some(backing), events)
            .unwrap();
        let s = t.elapsed().as_secs_f64();
        std::hint::black_box(out);
        s
    });
    let engine_s = best(&mut || {
        let mut chain = VocalChain::new();
        chain.set_params_immediate(mix);
        chain.prepare(RATE as f32).unwrap();
        let [mut l, mut r] = vocal.clone();
        let t = Instant::now();
        for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
            chain.process_stereo(bl, br);
        }
        let s = t.elapsed().as_secs_f64();
        std::hint::black_box((l, r));
        s
    });
    let secs = SECONDS as f64;
    println!(
        "plug-in process(), {SECONDS} s stereo at 48 kHz, {BLOCK}-sample blocks, sidechain fed, best of 5:"
    );
    println!(
        "  through the CLAP bundle: {:7.1}x real time ({:.1} % of one core)",
        secs / plugin_s,
        100.0 * plugin_s / secs
    );
    println!(
        "  the engine directly:     {:7.1}x real time; the wrapper adds {:+.1} %",
        secs / engine_s,
        100.0 * (plugin_s / engine_s - 1.0)
    );
}
