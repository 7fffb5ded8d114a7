//! The spectral front end: frame loudness, octave bands and the mel bank on signals with known
//! spectra.

use engine::analysis::loudness::Blocks;
use engine::analysis::mel::{MELS, MelBank, hz_to_mel, mel_to_hz};
use engine::analysis::spectrum::{Analyser, FFT, HOP, frame_count};
use engine::params::EQ_BANDS;

const SR: u32 = 44_100;

fn sine(f: f64, amp: f32, seconds: f64) -> Vec<f32> {
    (0..(seconds * SR as f64) as usize)
        .map(|i| amp * (std::f64::consts::TAU * f * i as f64 / SR as f64).sin() as f32)
        .collect()
}

#[test]
fn frames_tile_the_signal_with_the_documented_hop() {
    assert_eq!(frame_count(FFT - 1), 0);
    assert_eq!(frame_count(FFT), 1);
    assert_eq!(frame_count(FFT + HOP), 2);
    let f = Analyser::new(SR).frames(&sine(1000.0, 0.5, 2.0), true);
    assert_eq!(f.len(), frame_count(2 * SR as usize));
    assert_eq!(f.mel.as_ref().unwrap().len(), f.len());
}

#[test]
fn a_sine_lands_in_its_octave_band_at_its_power() {
    let mut a = Analyser::new(SR);
    for (band, &(fc, _, _)) in EQ_BANDS.iter().enumerate() {
        let x = sine(fc as f64, 0.5, 1.0);
        let f = a.frames(&x, false);
        let bands = f.bands[5];
        let total: f32 = bands.iter().sum();
        // mean square of a 0.5 sine is 0.125; the 63 Hz band is two bins wide, narrower than the
        // window's main lobe, so it reads about 1 dB low there
        let (tolerance_db, share) = if band == 0 { (1.2, 0.75) } else { (0.2, 0.95) };
        let db = 10.0 * (bands[band] / 0.125).log10();
        assert!(db.abs() < tolerance_db, "{fc}: {db} dB");
        assert!(bands[band] / total > share, "{fc}: leaks {bands:?}");
    }
}

#[test]
fn frame_loudness_agrees_with_the_block_meter_on_steady_signals() {
    // the spectral K-weighting of one frame equals the time-domain meter on a steady tone
    let mut a = Analyser::new(SR);
    for &f in &[100.0, 1000.0, 5000.0] {
        let x = sine(f, 0.3, 3.0);
        let frames = a.frames(&x, false);
        let block = Blocks::of_mono(&x, SR).integrated().unwrap();
        let frame = frames.loudness[20] as f64;
        assert!(
            (frame - block).abs() < 0.1,
            "{f} Hz: frame {frame} vs meter {block}"
        );
    }
}

#[test]
fn the_mel_bank_is_slaney_and_finds_a_sine() {
    // the scale: linear to 1 kHz (15 mel), then 27 mel per factor 6.4
    assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-9);
    assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
    for hz in [50.0, 700.0, 1000.0, 3000.0, 16000.0] {
        assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
    }
    let centres = MelBank::centres(SR);
    assert_eq!(centres.len(), MELS);
    assert!(centres.windows(2).all(|w| w[1] > w[0]));
    let mut a = Analyser::new(SR);
    for &f in &[220.0, 1000.0, 4000.0, 12_000.0] {
        let x = sine(f, 0.5, 1.0);
        let frames = a.frames(&x, true);
        let mel = frames.mel.unwrap()[5];
        let peak = (0..MELS)
            .max_by(|&i, &j| mel[i].total_cmp(&mel[j]))
            .unwrap();
        let nearest = (0..MELS)
            .min_by(|&i, &j| (centres[i] - f).abs().total_cmp(&(centres[j] - f).abs()))
            .unwrap();
        assert!(
            peak.abs_diff(nearest) <= 1,
            "{f} Hz: band {peak}, nearest centre {nearest}"
        );
    }
    // unit area: white noise's mel bands grow with their width (no band is empty)
    let mut rng = engine::synth::Rng::new(1);
    let noise: Vec<f32> = (0..SR).map(|_| rng.bipolar()).collect();
    let frames = a.frames(&noise, true);
    let mel = frames.mel.unwrap();
    assert!(mel.iter().all(|m| m.iter().all(|&v| v > 0.0)));
}
