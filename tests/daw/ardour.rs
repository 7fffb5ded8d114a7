//! Vocal Automix in a real DAW: Ardour 7 (Debian's `ardour`, which `scripts/test.sh` installs)
//! loads the release VST3 bundle, headless, driven by its Lua session tool (`ardour7-lua`) on
//! the Dummy audio backend. Each test builds a session of its own in a scratch folder: a vocal
//! track (a sung line, vocadito) and a backing track whose pre-fader send feeds the plug-in's
//! sidechain, then plays it as a user would (Analyze & Mix pressed and released, exports in
//! freewheel, save, close, reopen) and compares what Ardour reads back and renders with what
//! `automix` computes for the same files.
//!
//! Ardour 7.3's Lua cannot import audio, so the files are placed in the session's
//! `interchange/…/audiofiles/` and declared in its XML (sources, regions, playlists, the session
//! range) between creating the session and loading it. Ardour finds VST3s only through its
//! cache: the bundle is copied into a private VST3 folder and scanned first, with the cache,
//! config and home folders private too, so nothing of the user's Ardour is read or changed.
//!
//! Without Ardour or the bundle a test says so and skips; with `AUTOMIX_REQUIRE_PLUGIN` set (CI
//! sets it) it fails. docs/plugin.md says how to open one of these sessions in Ardour's editor.

#[path = "ardour_host.rs"]
mod ardour_host;

use std::collections::BTreeMap;

use ardour_host::{Ardour, Song, params_of};
use automix_tests::{difference_db, read_wav};
use engine::PARAMS;
use engine::params::Kind;

/// `automix analyze`'s parameters, as Ardour reads them back from the plug-in: equal but for the
/// host's normalisation (a plain value through VST3's 0…1 and back, in single precision).
fn assert_params_equal(ardour: &BTreeMap<String, f64>, cli: &serde_json::Value) {
    let differ: Vec<String> = PARAMS
        .iter()
        .filter_map(|spec| {
            let got = ardour[spec.name];
            let mut want = cli["params"][spec.key].as_f64().unwrap();
            if let Kind::Choice(options) = spec.kind {
                // a host sees a choice as its index
                want = options.iter().position(|&o| f64::from(o) == want).unwrap() as f64;
            }
            let tolerance = 1e-5 * f64::from(spec.max - spec.min);
            ((got - want).abs() > tolerance).then(|| {
                format!(
                    "{}: Ardour reads {got}, automix analyze suggests {want}",
                    spec.name
                )
            })
        })
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// Every parameter equal in `a` and `b` but for VST3's normalisation (the assistant's own three
/// exactly).
fn assert_same_params(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) {
    assert_eq!(a.len(), PARAMS.len() + 3, "{a:?}");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, x) in a {
        let tolerance = PARAMS
            .iter()
            .find(|s| s.name == name)
            .map_or(0.0, |s| 1e-5 * f64::from(s.max - s.min));
        assert!(
            (x - b[name]).abs() <= tolerance,
            "{name}: {x} and {}",
            b[name]
        );
    }
}

/// A new session of the song in Ardour for the test `name` (`None`, said loudly, where Ardour,
/// the bundle or the song is missing).
fn session(name: &str) -> Option<(Ardour, Song)> {
    let ardour = Ardour::find(name)?;
    let song = Song::read()?;
    ardour.new_session(&song);
    Some((ardour, song))
}

/// The plug-in inserted (fed by the backing's send when `sidechain`), Analyze & Mix pressed and
/// released around an export, the parameters printed and saved; then the session opened again
/// and exported as `export`. The first run's log.
fn analyze_then_export(ardour: &Ardour, sidechain: bool, export: &str) -> String {
    let log = ardour.run(&format!(
        "local s = open_session()
         local p = insert_plugin(s, {sidechain})
         analyze_and_mix(s, p, 60)
         print_params(p)
         save(s)"
    ));
    ardour.run(&format!("export(open_session(), '{export}')"));
    assert!(log.contains("mixed after"), "{log}");
    log
}

#[test]
fn analyze_and_mix_in_ardour_gives_automix_analyzes_mix_and_exports_as_automix_render() {
    let Some((ardour, _)) = session("analyze") else {
        return;
    };
    let log = analyze_then_export(&ardour, true, "mixed");
    for line in log
        .lines()
        .filter(|l| l.contains("Analyze & Mix") || l.contains("mixed after"))
    {
        println!("{line}");
    }
    let cli = ardour.automix_analyze(true);
    assert_params_equal(&params_of(&log), &cli);
    // the mix Ardour plays is the one automix renders with those parameters, over that backing
    let expected = ardour.automix_render(&cli, true);
    let (_, mixed) = read_wav(&ardour.out("mixed.wav"));
    let d = difference_db(&mixed, &expected);
    println!("Ardour's export against automix render: {d:.1} dB");
    assert!(d <= -60.0, "{d} dB");
}

#[test]
fn without_the_sidechain_the_plugin_says_so_and_mixes_the_vocal_alone() {
    let Some((ardour, _)) = session("no-sidechain") else {
        return;
    };
    let log = analyze_then_export(&ardour, false, "alone");
    assert!(
        log.contains("Nothing came in on the sidechain: route the backing track"),
        "{log}"
    );
    // what it mixed is automix's mix of the vocal alone, with the parameters it chose
    let ardour_params = params_of(&log);
    let mut chosen = serde_json::json!({});
    for spec in PARAMS {
        chosen[spec.key] = ardour_params[spec.name].into();
    }
    let expected = ardour.automix_render(&chosen, false);
    let (_, alone) = read_wav(&ardour.out("alone.wav"));
    let d = difference_db(&alone, &expected);
    println!("Ardour's export without a sidechain against automix render: {d:.1} dB");
    assert!(d <= -60.0, "{d} dB");
}

/// The user's own settings after a mix, the CNN engine and a reference: all in the project.
#[test]
fn save_close_reopen_brings_back_every_parameter_the_engine_the_reference_and_the_mix() {
    let Some((ardour, _)) = session("reopen") else {
        return;
    };
    let Some(reference) = ardour_host::reference_excerpt(&ardour) else {
        return;
    };
    ardour.run(
        "local s = open_session()
         local p = insert_plugin(s, true)
         analyze_and_mix(s, p, 60)
         set_param(p, 'EQ 1 kHz Gain', 4.5)
         set_param(p, 'Comp Ratio', 5)
         set_param(p, 'Reverb Dry/Wet', 0.3)
         set_param(p, 'Assistant Engine', 1)
         save(s)",
    );
    // the reference, chosen as the editor's browser stores it, measured by the plug-in in Ardour
    ardour.choose_reference(&reference);
    let first = ardour.run_until_measured();
    let saved = ardour.plugin_state("song");
    let log = ardour.run(
        "local s = open_session()
         print_params(plugin(s))
         save(s)",
    );
    let reopened = ardour.plugin_state("song");
    assert_same_params(&params_of(&log), &params_of(&first));
    let p = params_of(&log);
    assert_eq!(p["EQ 1 kHz Gain"], 4.5);
    assert_eq!(p["Comp Ratio"], 5.0);
    assert!(
        (p["Reverb Dry/Wet"] - 0.3).abs() < 1e-6,
        "{}",
        p["Reverb Dry/Wet"]
    );
    assert_eq!(p["Assistant Engine"], 1.0);
    // the state's values, through VST3's normalisation once more
    for (key, value) in saved["params"].as_object().unwrap() {
        let again = &reopened["params"][key];
        match (
            value.get("f32").and_then(|v| v.as_f64()),
            again.get("f32").and_then(|v| v.as_f64()),
        ) {
            (Some(a), Some(b)) => {
                assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{key}: {a} {b}")
            }
            _ => assert_eq!(value, again, "{key}"),
        }
    }
    let settings = |state: &serde_json::Value| -> serde_json::Value {
        serde_json::from_str(state["fields"]["assistant_settings"].as_str().unwrap()).unwrap()
    };
    let (before, after) = (settings(&saved), settings(&reopened));
    assert!(before["reference"]["measures"].is_object(), "{before}");
    assert!(
        before["last_mix"]["suggestion"]["params"].is_object(),
        "{before}"
    );
    assert_eq!(before, after);
}

/// Two parameters automated in the session: each change is heard from its own sample on.
#[test]
fn automation_of_two_parameters_plays_back_sample_accurately_in_the_export() {
    let Some((ardour, song)) = session("automation") else {
        return;
    };
    // off any block boundary; where the vocal sings
    let (level_at, eq_at) = (5 * song.rate as usize + 333, 9 * song.rate as usize + 77);
    ardour.run("local s = open_session(); insert_plugin(s, true); save(s)");
    // Ardour 7 keeps a plug-in's automation in musical time by default, in ticks of 1/1920 beat
    // (11.5 samples at 120 BPM): sample accuracy is what an audio-time lane asks for
    ardour
        .edit_session(|xml| xml.replace(r#"time-domain="BeatTime""#, r#"time-domain="AudioTime""#));
    ardour.run("export(open_session(), 'still')");
    ardour.run(&format!(
        "local s = open_session()
         automate_step(plugin(s), 'Vocal Level', {level_at}, 0, -6)
         save(s)
         export(s, 'level')"
    ));
    ardour.run(&format!(
        "local s = open_session()
         automate_step(plugin(s), 'EQ 2 kHz Gain', {eq_at}, 0, 9)
         export(s, 'both')"
    ));
    let (_, still) = read_wav(&ardour.out("still.wav"));
    let (_, level) = read_wav(&ardour.out("level.wav"));
    let (_, both) = read_wav(&ardour.out("both.wav"));
    // the level lane: the two exports are the same to the bit until the step, which is heard
    // from its own sample (the engine's smoothing starts at the next)
    let level_from = ardour_host::first_difference(&still, &level, 0.0);
    // the EQ lane plays back its unchanged value before the step, which the plug-in takes as a new
    // target (rounding, under -100 dBFS); the step's glide passes that from its sample on
    let quiet = 1e-5;
    let eq_from = ardour_host::first_difference(&level, &both, quiet);
    println!(
        "Vocal Level automated at {level_at}: heard from {level_from}; EQ at {eq_at}: over -100 dBFS from {eq_from}"
    );
    assert!(
        (level_at..=level_at + 1).contains(&level_from),
        "{level_from}"
    );
    assert!((eq_at..=eq_at + 512).contains(&eq_from), "{eq_from}");
}

#[test]
fn the_hosts_bypass_button_bypasses_the_whole_chain() {
    let Some((ardour, song)) = session("bypass") else {
        return;
    };
    ardour.run(
        "local s = open_session()
         local p = insert_plugin(s, true)
         set_param(p, 'Vocal Level', -9)
         set_param(p, 'EQ 1 kHz Gain', 6)
         save(s)",
    );
    ardour.run("export(open_session(), 'on')");
    let log = ardour.run(
        "local s = open_session()
         local p = plugin(s)
         p:to_plugininsert():enable(false)
         sleep(0.5)
         print_params(p)
         export(s, 'bypassed')",
    );
    // Ardour's button is the plug-in's own Bypass parameter: the plug-in crossfades itself
    assert_eq!(params_of(&log)["Bypass"], 1.0, "{log}");
    let (_, on) = read_wav(&ardour.out("on.wav"));
    let (_, bypassed) = read_wav(&ardour.out("bypassed.wav"));
    let dry = [song.vocal.clone(), song.vocal.clone()];
    let d = difference_db(&bypassed, &dry);
    println!("bypassed against the dry vocal: {d:.1} dB");
    assert!(d <= -60.0, "{d} dB");
    assert!(
        difference_db(&on, &dry) > -20.0,
        "the chain was not on before"
    );
}
