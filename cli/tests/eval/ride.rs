//! The ride on real songs (issue 16): the spread of the vocal's 3 s balance against the backing,
//! for the vocal as the professional mixed it, at the assistant's static level, and ridden, on the
//! five professional songs and on vocadito over Vibe Ace. The figures are in
//! docs/measurements.md ("Ride"); `cargo test -p automix --test eval ride -- --nocapture` prints them.

use automix::eval::{find_songs, load_song};
use automix_tests::shared_audio;
use engine::evaluation::ride_study::{RideSpreads, study, suggest};

struct Row {
    name: String,
    spreads: RideSpreads,
    ride_on: bool,
    reason: String,
    de_esser: String,
}

fn row(name: &str, vocal: &[Vec<f32>], backing: &[Vec<f32>], rate: u32, mixed: bool) -> Row {
    let s = suggest(vocal, backing, rate).unwrap();
    Row {
        name: name.to_string(),
        spreads: study(&s.params, rate, vocal, backing, mixed),
        ride_on: s.ride.on,
        reason: s.ride.reason.clone(),
        de_esser: s.de_esser.reason.clone(),
    }
}

fn rows() -> Option<Vec<Row>> {
    let dirs = find_songs(&[
        shared_audio("musdb-excerpts")?,
        shared_audio("musdb-preview")?,
    ])
    .unwrap();
    let mut rows: Vec<Row> = dirs
        .iter()
        .map(|d| {
            let s = load_song(d).unwrap();
            let v = vec![s.vocal.left.clone(), s.vocal.right.clone()];
            let b = vec![s.accompaniment.left.clone(), s.accompaniment.right.clone()];
            row(&s.name, &v, &b, s.sample_rate, true)
        })
        .collect();
    let (vocal, _) =
        engine::audio_file::read(&shared_audio("clips/vocadito_1_vocal.wav")?).unwrap();
    let (backing, _) =
        engine::audio_file::read(&shared_audio("backings/vibe_ace_instrumental.ogg")?).unwrap();
    assert_eq!(vocal.sample_rate, backing.sample_rate);
    rows.push(row(
        "vocadito over Vibe Ace",
        &vocal.channels,
        &backing.channels,
        vocal.sample_rate,
        false,
    ));
    Some(rows)
}

fn show(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v:.2}"))
}

/// The table of the ride's effect, song by song, and the de-esser's decisions.
fn print_table(rows: &[Row]) {
    println!(
        "{:<40} {:>6} {:>9} {:>7} {:>6} {:>7} {:>9} {:>12} {:>17}  assistant",
        "song",
        "sung s",
        "given LU",
        "static",
        "ride",
        "change",
        "fastest",
        "ride span",
        "mean given/st/ri"
    );
    for r in rows {
        let s = &r.spreads;
        let change = s
            .static_level
            .zip(s.ride)
            .map(|(a, b)| format!("{:+.0} %", 100.0 * (b - a) / a))
            .unwrap_or_default();
        println!(
            "{:<40} {:>6.1} {:>9} {:>7} {:>6} {:>7} {:>5.2} dB/s {:>+5.1}…{:+.1} dB {:>5}/{:>5}/{:>5}  {}: {}",
            r.name,
            s.sung_windows as f64 * 0.1,
            show(s.given),
            show(s.static_level),
            show(s.ride),
            change,
            s.fastest_db_per_s,
            s.ride_span_db.0,
            s.ride_span_db.1,
            show(s.means[0]),
            show(s.means[1]),
            show(s.means[2]),
            if r.ride_on { "on" } else { "off" },
            r.reason
        );
    }
    for r in rows {
        println!("{:<40} de-esser: {}", r.name, r.de_esser);
    }
}

#[test]
fn the_ride_steadies_the_balance_without_flattening_it() {
    let Some(rows) = rows() else { return };
    print_table(&rows);
    let long: Vec<&Row> = rows
        .iter()
        .filter(|r| r.spreads.sung_windows >= 200)
        .collect();
    assert!(
        long.len() >= 4,
        "songs with 20 s of singing: {}",
        long.len()
    );
    let mut reductions = vec![];
    for r in &long {
        let s = &r.spreads;
        let (st, ri) = (s.static_level.unwrap(), s.ride.unwrap());
        assert!(
            ri < st,
            "{}: the ride left the spread at {ri:.2} (static {st:.2})",
            r.name
        );
        reductions.push(1.0 - ri / st);
        if let Some(given) = s.given {
            assert!(
                ri >= given - 1.0,
                "{}: ridden {ri:.2} LU flattens the professional's {given:.2} LU",
                r.name
            );
        }
        // it evens the balance out around where the static level put it, without moving it
        let (ms, mr) = (s.means[1].unwrap(), s.means[2].unwrap());
        assert!(
            (mr - ms).abs() < 1.0,
            "{}: mean balance {ms:.2} → {mr:.2}",
            r.name
        );
        assert!(s.fastest_db_per_s <= 12.0 + 1e-3, "{}", r.name);
    }
    let mean = reductions.iter().sum::<f64>() / reductions.len() as f64;
    println!(
        "mean reduction over the songs with 20 s of singing: {:.0} %",
        100.0 * mean
    );
    assert!(
        mean >= 0.3,
        "the ride takes only {:.0} % off the spread",
        100.0 * mean
    );
    // the amateur vocal over a foreign backing moves; the professionals' do not
    let amateur = rows.last().unwrap();
    assert!(amateur.ride_on, "{}", amateur.reason);
    assert!(
        long.iter()
            .filter(|r| r.spreads.given.is_some())
            .all(|r| !r.ride_on)
    );
}

/// The de-esser's target is the professional vocals' median sibilance (engine::analysis::sibilance).
#[test]
fn professional_sibilance() {
    use engine::analysis::sibilance::{TARGET_DB, measure};
    let Some(a) = shared_audio("musdb-excerpts") else {
        return;
    };
    let Some(b) = shared_audio("musdb-preview") else {
        return;
    };
    let mut values: Vec<f64> = find_songs(&[a, b])
        .unwrap()
        .iter()
        .map(|d| {
            let s = load_song(d).unwrap();
            let mono: Vec<f32> = s
                .vocal
                .left
                .iter()
                .zip(&s.vocal.right)
                .map(|(l, r)| 0.5 * (l + r))
                .collect();
            let (sibilance, _) = measure(&mono, s.sample_rate).unwrap();
            println!("{:<40} sibilance {sibilance:+.1} dB over the voice", s.name);
            sibilance
        })
        .collect();
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    println!("median {median:+.2} dB (TARGET_DB {TARGET_DB:+.1})");
    assert!((median - TARGET_DB).abs() < 0.1, "median {median:.2}");
}
