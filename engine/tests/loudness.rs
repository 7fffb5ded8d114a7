//! The analysis's loudness measurement against the `ebur128` crate (a port of libebur128), and
//! against the standard's own known answer.

use ebur128::{EbuR128, Mode};
use engine::analysis::loudness::{BlockMeter, Blocks, KWeighting};
use engine::synth::{Rng, backing_track, vocal_line};

fn reference(channels: &[Vec<f32>], rate: u32) -> (f64, f64) {
    let mut m = EbuR128::new(channels.len() as u32, rate, Mode::I | Mode::LRA).unwrap();
    let planar: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    m.add_frames_planar_f32(&planar).unwrap();
    (m.loudness_global().unwrap(), m.loudness_range().unwrap())
}

fn ours(channels: &[Vec<f32>], rate: u32) -> Blocks {
    let mut m = BlockMeter::new(rate, channels.len());
    let inter: Vec<f32> = (0..channels[0].len())
        .flat_map(|i| channels.iter().map(move |c| c[i]))
        .collect();
    // uneven pieces, as a decoder delivers them
    for piece in inter.chunks(channels.len() * 1237) {
        m.push_interleaved(piece);
    }
    m.finish()
}

/// A signal whose level wanders over 40 dB in phrases, with silences: a real workout for both
/// gates and the percentiles.
fn dynamic(rate: u32, seconds: f32, seed: u64) -> Vec<f32> {
    let mut v = vocal_line(rate as f32, seconds, 0.5, seed);
    let mut rng = Rng::new(seed);
    let phrase = (rate as f32 * 2.5) as usize;
    for chunk in v.chunks_mut(phrase) {
        let g = 10f32.powf(-2.0 * rng.uniform());
        chunk.iter_mut().for_each(|x| *x *= g);
    }
    v
}

#[test]
fn integrated_and_range_equal_ebur128_within_a_hundredth() {
    for &rate in &[44_100u32, 48_000, 22_050, 96_000] {
        for (name, channels) in [
            (
                "mono sung line",
                vec![vocal_line(rate as f32, 40.0, 0.6, 1)],
            ),
            ("mono dynamic", vec![dynamic(rate, 60.0, 2)]),
            (
                "stereo backing",
                backing_track(rate as f32, 30.0, 96.0, 0.8, 3).to_vec(),
            ),
            (
                "stereo dynamic",
                vec![dynamic(rate, 45.0, 4), dynamic(rate, 45.0, 5)],
            ),
        ] {
            let (ri, rl) = reference(&channels, rate);
            let b = ours(&channels, rate);
            let (i, l) = (b.integrated().unwrap(), b.loudness_range().unwrap());
            println!("{rate} Hz {name}: I {i:.3} vs {ri:.3} LUFS, LRA {l:.3} vs {rl:.3} LU");
            assert!((i - ri).abs() < 0.01, "{rate} {name}: I {i} vs {ri}");
            assert!((l - rl).abs() < 0.01, "{rate} {name}: LRA {l} vs {rl}");
        }
    }
}

#[test]
fn a_long_signal_still_agrees() {
    // 12 minutes: no history limit may cut the oldest blocks
    let rate = 44_100;
    let x: Vec<f32> = (0..12).flat_map(|k| dynamic(rate, 60.0, 10 + k)).collect();
    let (ri, rl) = reference(std::slice::from_ref(&x), rate);
    let b = Blocks::of_mono(&x, rate);
    assert!((b.integrated().unwrap() - ri).abs() < 0.01);
    assert!((b.loudness_range().unwrap() - rl).abs() < 0.01);
}

#[test]
fn a_full_scale_997_hz_sine_in_one_channel_reads_minus_3_01_lufs() {
    // BS.1770-4 §2.1's calibration: the K-weighting is normalised so that this holds
    for &rate in &[44_100u32, 48_000] {
        let x: Vec<f32> = (0..rate * 10)
            .map(|i| (std::f64::consts::TAU * 997.0 * i as f64 / rate as f64).sin() as f32)
            .collect();
        let i = Blocks::of_mono(&x, rate).integrated().unwrap();
        assert!((i + 3.01).abs() < 0.02, "{rate}: {i}");
    }
}

#[test]
fn the_k_weighting_response_matches_its_filter() {
    // the spectral weighting used for frame loudness is the time-domain filter's response
    let rate = 44_100u32;
    let k = KWeighting::new(rate as f64);
    for &f in &[30.0, 100.0, 1000.0, 3000.0, 10_000.0] {
        let mut filter = KWeighting::new(rate as f64);
        let n = rate as usize * 2;
        let mut e = 0.0;
        for i in 0..n {
            let y = filter.tick((std::f64::consts::TAU * f * i as f64 / rate as f64).sin() as f32);
            if i >= n / 2 {
                e += y * y;
            }
        }
        let measured = 10.0 * (e / (n / 2) as f64 / 0.5).log10();
        let predicted = 10.0 * k.power_gain(f, rate as f64).log10();
        assert!(
            (measured - predicted).abs() < 0.05,
            "{f} Hz: {measured} vs {predicted}"
        );
    }
}

#[test]
fn silence_and_short_signals_have_no_loudness() {
    let rate = 48_000;
    assert_eq!(
        Blocks::of_mono(&vec![0.0; rate as usize * 5], rate).integrated(),
        None
    );
    // 0.3 s: no whole 400 ms block
    let short = vocal_line(rate as f32, 0.3, 0.5, 1);
    assert_eq!(Blocks::of_mono(&short, rate).integrated(), None);
    // 2 s: integrated loudness but no 3 s short-term block for a range
    let two = vocal_line(rate as f32, 2.0, 0.5, 1);
    let b = Blocks::of_mono(&two, rate);
    assert!(b.integrated().is_some());
    assert_eq!(b.loudness_range(), None);
    // −80 dBFS noise is under the absolute gate
    let mut rng = Rng::new(3);
    let quiet: Vec<f32> = (0..rate * 5).map(|_| 1e-4 * rng.bipolar()).collect();
    assert_eq!(Blocks::of_mono(&quiet, rate).integrated(), None);
}

#[test]
fn active_seconds_count_what_the_vocal_gate_keeps_as_it_arrives() {
    use engine::analysis::track::TrackCapture;
    let rate = 48_000u32;
    let tone = |seconds: f32, amp: f32| -> Vec<f32> {
        (0..(seconds * rate as f32) as usize)
            .map(|i| amp * (std::f32::consts::TAU * 440.0 * i as f32 / rate as f32).sin())
            .collect()
    };
    // 12 s of singing, 8 s of bleed 40 dB down (under the 20 LU gate), 5 s of silence
    let mut signal = tone(12.0, 0.3);
    signal.extend(tone(8.0, 0.003));
    signal.extend(vec![0.0; 5 * rate as usize]);
    let mut cap = TrackCapture::new(rate, 2, 0).unwrap();
    let mut heard = Vec::new();
    for piece in signal.chunks(4800) {
        let mut stereo: Vec<f32> = piece.iter().flat_map(|&x| [x, x]).collect();
        cap.push_interleaved(&mut stereo);
        heard.push(cap.active_seconds());
    }
    // it grows with the singing, then stands still through bleed and silence
    assert!((heard[59] - 6.0).abs() <= 0.11, "{}", heard[59]);
    let last = *heard.last().unwrap();
    assert!((last - 12.0).abs() <= 0.11, "{last}");
    assert!(heard.windows(2).all(|w| w[1] >= w[0] - 1e-9));
    // a bleed-only passage 10 dB down would count: the gate is relative, 20 LU
    let mut cap = TrackCapture::new(rate, 1, 0).unwrap();
    let mut loud = tone(5.0, 0.3);
    loud.extend(tone(5.0, 0.095));
    cap.push_interleaved(&mut loud);
    assert!((cap.active_seconds() - 10.0).abs() <= 0.11);
}
