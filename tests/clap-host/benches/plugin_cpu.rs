//! CPU of the plug-in's `process()`, through the real CLAP bundle in our CLAP host: 60 s of a
//! stereo vocal with the backing on the sidechain, 48 kHz, 64-sample blocks, the full chain (four EQ
//! bands, compressor, reverb with the research's fade-in, level), on one core. Printed as a
//! real-time factor beside the engine's `VocalChain` run directly in the same run, so the wrapper's
//! own cost shows. `cargo bench -p clap-test-host --bench plugin_cpu`.
//!
//! Not yet measured: the extra cost while capturing for Analyze & Mix (capture is not built).

use std::path::Path;
use std::time::Instant;

use clap_test_host::Loaded;
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

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bundled/Vocal Automix.clap");
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

    let best = |f: &mut dyn FnMut() -> f64| (0..5).map(|_| f()).fold(f64::INFINITY, f64::min);
    let plugin_s = best(&mut || {
        let t = Instant::now();
        let out = plugin
            .process(RATE, BLOCK, &vocal, Some(&backing), &events)
            .unwrap();
        let s = t.elapsed().as_secs_f64();
        std::hint::black_box(out);
        s
    });
    let engine_s = best(&mut || {
        let mut chain = VocalChain::new();
        chain.set_params_immediate(&mix);
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
