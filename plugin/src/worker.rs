//! The analysis worker: one thread per plug-in instance. It drains the capture ring into the
//! engine's track captures while the user listens, keeps the status up to date (seconds heard,
//! seconds of singing), and when the pass ends runs the same `engine::analysis::analyze` as
//! `automix analyze`, then asks the main thread to apply the result as parameter gestures.
//!
//! A pass ends when the trigger goes off, or by itself after [`LIMIT_SECONDS`] of audio. Pressing
//! again during an analysis cancels it and listens anew; a plug-in going away cancels it too.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use engine::analysis::track::TrackCapture;
use engine::analysis::{AnalysisError, AnalysisOptions, MixSuggestion, analyze};

use crate::capture::{Chunk, Mark, Receiver};
use crate::host_params::AutomixParams;
use crate::reference_thread;
use crate::session::{LIMIT_SECONDS, MainTask, NEEDED_SECONDS, Phase, Shared};

const TICK: Duration = Duration::from_millis(10);

/// Owns the thread; dropping it stops the thread (cancelling an analysis) and waits for it.
pub struct Worker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(shared: Arc<Shared>, params: Arc<AutomixParams>) -> std::io::Result<Worker> {
        let mut listener = Listener {
            shared: shared.clone(),
            params,
            rx: None,
            pass: None,
            vocal: Vec::new(),
            backing: Vec::new(),
            measuring: None,
        };
        let thread = std::thread::Builder::new()
            .name("vocal-automix analysis".into())
            .spawn(move || listener.run())?;
        Ok(Worker {
            shared,
            thread: Some(thread),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One listening pass.
struct Pass {
    vocal: TrackCapture,
    backing: TrackCapture,
    sample_rate: f32,
    frames: u64,
    /// The host's tempo as last heard.
    tempo: Option<f64>,
    /// The capture's loss counter when the pass began, and as of its last chunk.
    lost_before: u64,
    lost_now: u64,
}

impl Pass {
    fn new(sample_rate: f32, lost_before: u64) -> Option<Pass> {
        let rate = sample_rate.round() as u32;
        // room up front for a minute at 48 kHz (11 MB a track); the captures grow beyond it, so a
        // pass at 768 kHz does not take 180 MB a track the moment it is pressed
        let room = 48_000 * 60;
        Some(Pass {
            vocal: TrackCapture::new(rate, 2, room).ok()?,
            backing: TrackCapture::new(rate, 2, room).ok()?,
            sample_rate,
            frames: 0,
            tempo: None,
            lost_before,
            lost_now: lost_before,
        })
    }

    fn seconds(&self) -> f64 {
        self.frames as f64 / self.sample_rate as f64
    }
}

struct Listener {
    shared: Arc<Shared>,
    params: Arc<AutomixParams>,
    rx: Option<Receiver>,
    pass: Option<Pass>,
    /// Scratch for splitting a chunk into its two stereo halves.
    vocal: Vec<f32>,
    backing: Vec<f32>,
    /// The reference being measured (its path), on its own thread: a separation takes seconds,
    /// and this thread must keep draining the capture meanwhile.
    measuring: Option<(String, JoinHandle<()>)>,
}

impl Listener {
    fn run(&mut self) {
        let mut ticks = 0u32;
        while !self.shared.shutdown.load(Ordering::SeqCst) {
            // A bug in the analysis (or anywhere here) must not take Analyze & Mix down for the
            // rest of the session, nor the host with it: the pass is dropped, the user is told,
            // and the next press works. The audio thread never waits on this one.
            let tick = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.take_new_ring();
                self.drain();
                ticks = ticks.wrapping_add(1);
                if ticks.is_multiple_of(10) {
                    self.report();
                    self.reference_job();
                }
            }));
            if let Err(panic) = tick {
                self.pass = None;
                let what = panic_text(&panic);
                self.fail(format!(
                    "Analyze & Mix stopped on an internal error ({what}); the mix is unchanged. Press it again to retry, and please report this"
                ));
            }
            std::thread::sleep(TICK);
        }
        // the measuring thread sees the shutdown between two batches and stops
        if let Some((_, t)) = self.measuring.take() {
            let _ = t.join();
        }
    }

    /// Starts measuring a newly chosen reference, and collects a finished measurement.
    fn reference_job(&mut self) {
        if let Some((_, t)) = self.measuring.take_if(|(_, t)| t.is_finished()) {
            let _ = t.join();
        }
        let wanted = self
            .params
            .settings
            .read()
            .reference
            .as_ref()
            .filter(|r| r.waiting())
            .map(|r| r.path.clone());
        let Some(path) = wanted else { return };
        if self.measuring.as_ref().is_some_and(|(p, _)| *p == path) {
            return;
        }
        if self.measuring.is_some() {
            // another file is being measured: its result will be dropped (the choice changed);
            // this one starts when it is done
            return;
        }
        let shared = self.shared.clone();
        let settings = self.params.settings.clone();
        let job = path.clone();
        let spawned = std::thread::Builder::new()
            .name("vocal-automix reference".into())
            .spawn(move || reference_thread::measure(&job, &shared, &settings));
        match spawned {
            Ok(t) => self.measuring = Some((path, t)),
            Err(e) => {
                let mut s = self.params.settings.write();
                if let Some(r) = s.reference.as_mut().filter(|r| r.path == path) {
                    r.problem = Some(format!("could not start measuring it: {e}"));
                }
            }
        }
    }

    fn take_new_ring(&mut self) {
        let Some((rx, rate)) = self.shared.new_ring.lock().take() else {
            return;
        };
        // the old ring's producer went with the old activation: what it still holds came first
        self.drain();
        self.rx = Some(rx);
        if let Some(pass) = &self.pass
            && pass.sample_rate != rate
        {
            let was = pass.sample_rate;
            let lost = pass.lost_now;
            self.pass = Pass::new(rate, lost);
            self.shared.update(|s| {
                s.phase = Phase::Listening;
                s.heard_seconds = 0.0;
                s.vocal_seconds = 0.0;
                s.message = format!(
                    "The sample rate changed ({} → {}) while listening: listening again from here",
                    khz(was),
                    khz(rate)
                );
            });
        }
    }

    fn drain(&mut self) {
        while let Some(chunk) = self.rx.as_mut().and_then(|rx| rx.pop().ok()) {
            self.take(&chunk);
        }
    }

    fn take(&mut self, chunk: &Chunk) {
        match chunk.mark {
            Mark::Start => {
                self.pass = Pass::new(chunk.sample_rate, chunk.lost);
                self.shared.update(|s| {
                    s.phase = Phase::Listening;
                    s.heard_seconds = 0.0;
                    s.vocal_seconds = 0.0;
                    s.progress = 0.0;
                    s.warnings.clear();
                    s.message = "Listening: play the song (press again when done)".into();
                });
            }
            Mark::Audio => {
                let Some(pass) = self.pass.as_mut() else {
                    return;
                };
                pass.lost_now = chunk.lost;
                self.vocal.clear();
                self.backing.clear();
                let interleave = |out: &mut Vec<f32>, l: &[f32], r: &[f32]| {
                    out.extend(l.iter().zip(r).flat_map(|(a, b)| [*a, *b]));
                };
                interleave(&mut self.vocal, chunk.channel(0), chunk.channel(1));
                interleave(&mut self.backing, chunk.channel(2), chunk.channel(3));
                pass.vocal.push_interleaved(&mut self.vocal);
                pass.backing.push_interleaved(&mut self.backing);
                pass.frames += chunk.frames as u64;
                if chunk.tempo.is_finite() && chunk.tempo > 0.0 {
                    pass.tempo = Some(chunk.tempo as f64);
                }
                if pass.seconds() >= LIMIT_SECONDS {
                    // stopped by itself: the trigger goes off as the user would turn it off
                    self.shared.on_main_thread(MainTask::Release);
                    self.finish();
                }
            }
            Mark::Stop => {
                if let Some(pass) = self.pass.as_mut() {
                    pass.lost_now = chunk.lost;
                    self.finish();
                }
            }
        }
    }

    /// Progress while listening; and a pressed trigger the host never processes audio for.
    fn report(&mut self) {
        match &self.pass {
            Some(pass) => {
                let (heard, vocal) = (pass.seconds(), pass.vocal.active_seconds());
                self.shared.update(|s| {
                    s.heard_seconds = heard;
                    s.vocal_seconds = vocal;
                    if heard > 0.0 {
                        s.message = if vocal >= NEEDED_SECONDS {
                            format!("Listening: {vocal:.0} s of singing heard, ready (more is better; press again to mix)")
                        } else {
                            format!("Listening: {vocal:.1} of {NEEDED_SECONDS:.0} s of singing heard")
                        };
                    }
                });
            }
            None => {
                if self.params.analyze_on() {
                    self.shared.update(|s| {
                        if matches!(s.phase, Phase::Idle | Phase::Applied | Phase::Failed) {
                            s.phase = Phase::Listening;
                            s.message = "Waiting for audio: start playback in the host".into();
                        }
                    });
                }
            }
        }
    }

    fn fail(&self, message: String) {
        self.shared.update(|s| {
            s.phase = Phase::Failed;
            s.progress = 0.0;
            s.message = message;
        });
    }

    /// The pass is over: analyse what was heard.
    fn finish(&mut self) {
        let Some(pass) = self.pass.take() else {
            return;
        };
        let heard = pass.seconds();
        let vocal_seconds = pass.vocal.active_seconds();
        self.shared.update(|s| {
            s.heard_seconds = heard;
            s.vocal_seconds = vocal_seconds;
        });
        let lost = pass.lost_now.saturating_sub(pass.lost_before);
        if let Some(why) = too_little_heard(&pass, heard, vocal_seconds, lost) {
            return self.fail(why);
        }
        let rate = pass.sample_rate;
        let tempo = pass.tempo;
        let (vocal, backing) = match (pass.vocal.finish(), pass.backing.finish()) {
            (Ok(v), Ok(b)) => (v, b),
            (Err(e), _) | (_, Err(e)) => return self.fail(format!("Cannot analyse: {e}")),
        };
        self.shared.update(|s| {
            s.phase = Phase::Analyzing;
            s.progress = 0.0;
            s.message = format!("Analyzing {heard:.0} s of the song…");
        });
        let shared = self.shared.clone();
        let rx = &mut self.rx;
        let mut progress = |_step, fraction: f32| {
            shared.update(|s| s.progress = fraction);
            !shared.shutdown.load(Ordering::SeqCst) && !pressed_again(rx)
        };
        #[cfg(test)]
        if self
            .shared
            .panic_in_next_analysis
            .swap(false, Ordering::SeqCst)
        {
            panic!("a deliberate panic in the analysis (test)");
        }
        let engine = self.params.engine();
        let settings = self.params.settings.read().clone();
        let (targets, mut notes) = reference_thread::targets(&settings);
        let keep = reference_thread::kept(&settings, &self.params);
        let options = AnalysisOptions::new(
            engine,
            settings.gate,
            tempo,
            targets.as_ref(),
            keep.as_ref(),
        );
        notes.extend(
            (options.notes.iter()).map(|m| format!("{}{}", m[..1].to_uppercase(), &m[1..])),
        );
        match analyze(&options.input(&vocal, Some(&backing)), &mut progress) {
            Ok(suggestion) => self.deliver(suggestion, notes, lost as f64 / rate as f64),
            Err(AnalysisError::Cancelled) => {
                if !self.shared.shutdown.load(Ordering::SeqCst) {
                    self.shared.update(|s| {
                        s.message = "Pressed again: that analysis was dropped".into();
                    });
                }
            }
            Err(e) => self.fail(format!("Cannot mix: {e}")),
        }
    }

    /// Hands a finished suggestion to the main thread to apply, with what the user should hear.
    fn deliver(&mut self, suggestion: MixSuggestion, notes: Vec<String>, lost_seconds: f64) {
        let mut warnings: Vec<String> = notes;
        warnings.extend(suggestion
            .warnings
            .iter()
            .map(|w| match w.code.as_str() {
                "backing_silent" => "Nothing came in on the sidechain: route the backing track to the plug-in's \"Backing (sidechain)\" input and analyze again (meanwhile the EQ stays flat and the level at 0 dB)".to_string(),
                _ => w.message.clone(),
            }));
        if lost_seconds > 0.0 {
            warnings.push(format!(
                "The computer fell behind and {lost_seconds:.1} s of the song were not analysed"
            ));
        }
        let suggestion = Arc::new(suggestion);
        *self.shared.to_apply.lock() = Some(suggestion.clone());
        self.shared.update(|s| {
            s.progress = 1.0;
            s.warnings = warnings;
            s.message = "Applying the suggestion…".into();
        });
        if !self.shared.on_main_thread(MainTask::Apply) {
            self.fail(
                "The host offers no way to change parameters: the suggestion cannot be applied"
                    .into(),
            );
        }
    }
}

/// Whether a new pass waits in the ring (the user pressed again during the analysis). Anything
/// before it belongs to no pass and goes.
fn pressed_again(rx: &mut Option<Receiver>) -> bool {
    let Some(rx) = rx.as_mut() else {
        return false;
    };
    while let Ok(chunk) = rx.peek() {
        if chunk.mark == Mark::Start {
            return true;
        }
        let _ = rx.pop();
    }
    false
}

/// What a caught panic said, for the status line.
fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

fn khz(rate: f32) -> String {
    format!("{:.1} kHz", rate / 1000.0)
}

/// Why a listening pass cannot be analysed, if it cannot: nothing played, the host ran faster
/// than the plug-in could listen, or too little singing.
fn too_little_heard(pass: &Pass, heard: f64, vocal_seconds: f64, lost: u64) -> Option<String> {
    if pass.frames == 0 {
        return Some(
            "Nothing was heard: the song did not play while listening. Press Analyze & Mix, then start playback".into(),
        );
    }
    if vocal_seconds < NEEDED_SECONDS && lost > 0 {
        // a host rendering faster than real time without saying it renders offline
        return Some(format!(
            "Heard only {vocal_seconds:.1} s of singing: {:.1} s of the song came faster than the plug-in could listen. Play it in real time (or render offline) and press Analyze & Mix again",
            lost as f64 / pass.sample_rate as f64
        ));
    }
    if vocal_seconds < NEEDED_SECONDS {
        let silent = vocal_seconds == 0.0;
        return Some(if silent {
            format!(
                "The vocal was silent for all {heard:.1} s heard: is the plug-in on the vocal track, and does the track play?"
            )
        } else {
            format!(
                "Heard {vocal_seconds:.1} s of singing; Analyze & Mix needs {NEEDED_SECONDS:.0} s. Press it again and play more of the song"
            )
        });
    }
    None
}

#[cfg(test)]
mod tests {
    //! The worker driven through the real capture ring, as the audio thread feeds it (offline,
    //! so a full ring waits instead of losing audio), with a main thread that records what it is
    //! asked to do.

    use std::time::Instant;

    use engine::synth::{backing_track, vocal_line};
    use parking_lot::Mutex;

    use super::*;
    use crate::assistant_settings::{AssistantSettings, LastMix};
    use crate::capture::{BlockInfo, CaptureSender};
    use crate::session::Status;
    use engine::{MixParams, ParamId};

    const RATE: f32 = 16_000.0;

    struct Rig {
        shared: Arc<Shared>,
        tasks: Arc<Mutex<Vec<MainTask>>>,
        tx: CaptureSender,
        worker: Option<Worker>,
    }

    impl Rig {
        fn new() -> Rig {
            Rig::with(true)
        }

        /// `offline`: a full ring makes the audio thread wait (an offline bounce) instead of
        /// losing audio (real time).
        fn with(offline: bool) -> Rig {
            let shared = Arc::new(Shared::default());
            let tasks = Arc::new(Mutex::new(Vec::new()));
            let log = tasks.clone();
            *shared.main.lock() = Some(Box::new(move |t| log.lock().push(t)));
            let mut tx = CaptureSender::new();
            *shared.new_ring.lock() = Some((tx.open(RATE, offline), RATE));
            let worker = Worker::spawn(shared.clone(), Arc::new(AutomixParams::default())).ok();
            Rig {
                shared,
                tasks,
                tx,
                worker,
            }
        }

        fn play(&mut self, on: bool, vocal: &[f32], backing: Option<&[Vec<f32>; 2]>) {
            self.feed(on, true, vocal, backing);
        }

        fn feed(
            &mut self,
            on: bool,
            playing: bool,
            vocal: &[f32],
            backing: Option<&[Vec<f32>; 2]>,
        ) {
            for (i, v) in vocal.chunks(512).enumerate() {
                let at = i * 512;
                let b = backing.map(|b| [&b[0][at..at + v.len()], &b[1][at..at + v.len()]]);
                let info = BlockInfo {
                    on,
                    playing,
                    tempo: Some(100.0),
                };
                self.tx.block(info, [v, v], b);
            }
        }

        /// The trigger changes while the transport stands still.
        fn press(&mut self, on: bool) {
            self.feed(on, false, &[0.0; 16], None);
        }

        fn wait(&self, what: &str, done: impl Fn(&Status) -> bool) -> Status {
            let t = Instant::now();
            loop {
                let s = self.shared.status();
                if done(&s) {
                    return s;
                }
                assert!(t.elapsed().as_secs() < 60, "waited for {what}: {s:?}");
                std::thread::sleep(Duration::from_millis(5));
            }
        }

        fn tasks(&self) -> Vec<MainTask> {
            self.tasks.lock().clone()
        }
    }

    fn song(seconds: f32) -> (Vec<f32>, [Vec<f32>; 2]) {
        (
            vocal_line(RATE, seconds, 0.5, 7),
            backing_track(RATE, seconds, 100.0, 0.6, 8),
        )
    }

    #[test]
    fn a_whole_pass_is_analysed_and_handed_to_the_main_thread() {
        let mut rig = Rig::new();
        let (v, b) = song(14.0);
        rig.press(true);
        rig.play(true, &v, Some(&b));
        let s = rig.wait("listening progress", |s| s.heard_seconds >= 13.9);
        assert_eq!(s.phase, Phase::Listening);
        assert!(s.vocal_seconds >= NEEDED_SECONDS, "{s:?}");
        assert!(s.message.contains("ready"), "{}", s.message);
        rig.press(false);
        let s = rig.wait("the suggestion", |_| !rig.tasks().is_empty());
        assert_eq!(rig.tasks(), [MainTask::Apply]);
        let suggestion = rig.shared.to_apply.lock().clone().unwrap();
        // the host's tempo, not an estimate
        assert_eq!(suggestion.reverb.tempo_bpm, 100.0);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        restored_from_a_saved_project(&suggestion);
    }

    /// The suggestion as the main thread keeps it in the saved settings, read back by a new
    /// instance (a reopened project): its reasons and Revert's values come back, once.
    fn restored_from_a_saved_project(suggestion: &MixSuggestion) {
        let mut before = MixParams::default();
        before.set(ParamId::LevelGain, -4.5);
        let settings = AssistantSettings {
            last_mix: Some(LastMix::new(suggestion.clone(), &before)),
            ..Default::default()
        };
        let reopened = AssistantSettings::from_json(&settings.to_json());
        // JSON keeps every decision and reason (floats to their shortest text, not to the bit)
        let kept = &reopened.last_mix.as_ref().unwrap().suggestion;
        assert_eq!(kept.params, suggestion.params);
        assert_eq!(kept.eq.reason, suggestion.eq.reason);
        assert_eq!(kept.level.reason, suggestion.level.reason);
        let shared = Shared::default();
        shared.restore(reopened.last_mix.as_ref());
        let s = shared.status();
        assert_eq!(s.phase, Phase::Applied);
        assert_eq!(s.suggestion.as_deref(), Some(kept));
        assert_eq!(*shared.before.lock(), Some(before));
        // activate() again (another state, another rate): nothing changes, Revert stays possible
        shared.update(|s| s.message = "changed since".into());
        shared.restore(reopened.last_mix.as_ref());
        assert_eq!(shared.status().message, "changed since");
    }

    #[test]
    fn a_host_faster_than_real_time_that_says_real_time_is_told_what_was_lost() {
        // all of it at once, as DawDreamer renders while it tells plug-ins "real time": the ring
        // holds half a second, the rest is lost, never waited for on the audio thread
        let mut rig = Rig::with(false);
        let (v, b) = song(20.0);
        rig.press(true);
        rig.play(true, &v, Some(&b));
        // the host goes on calling process(): the release waits for room in the ring
        for _ in 0..20 {
            rig.press(false);
            std::thread::sleep(Duration::from_millis(10));
        }
        let s = rig.wait("a failure", |s| s.phase == Phase::Failed);
        assert!(
            s.message.contains("faster than the plug-in could listen"),
            "{}",
            s.message
        );
        assert!(rig.tx.lost() > 0);
        assert!(rig.tasks().is_empty(), "{:?}", rig.tasks());
    }

    #[test]
    fn too_little_singing_or_none_or_nothing_played_says_what_to_do_and_changes_nothing() {
        let mut rig = Rig::new();
        rig.press(true);
        rig.press(false);
        let s = rig.wait("a failure", |s| s.phase == Phase::Failed);
        assert!(s.message.starts_with("Nothing was heard"), "{}", s.message);

        let (v, b) = song(12.0);
        rig.press(true);
        rig.play(true, &v[..5 * RATE as usize], Some(&b));
        rig.press(false);
        let s = rig.wait("a failure", |s| {
            s.phase == Phase::Failed && s.message.starts_with("Heard")
        });
        assert!(s.message.contains("needs 10 s"), "{}", s.message);

        rig.press(true);
        rig.play(true, &vec![0.0; v.len()], Some(&b));
        rig.press(false);
        let s = rig.wait("a failure", |s| {
            s.phase == Phase::Failed && s.message.contains("silent")
        });
        assert!(s.message.contains("vocal was silent"), "{}", s.message);
        assert!(rig.tasks().is_empty());
    }

    #[test]
    fn a_missing_sidechain_still_mixes_and_says_how_to_route_it() {
        let mut rig = Rig::new();
        let (v, _) = song(12.0);
        rig.press(true);
        rig.play(true, &v, None);
        rig.press(false);
        let s = rig.wait("the suggestion", |_| !rig.tasks().is_empty());
        assert!(
            s.warnings.iter().any(|w| w.contains("Backing (sidechain)")),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn pressing_again_during_the_analysis_drops_it_and_listens_anew() {
        let mut rig = Rig::new();
        let (v, b) = song(40.0);
        rig.press(true);
        rig.play(true, &v, Some(&b));
        rig.press(false);
        rig.press(true); // in the ring before the analysis can end
        let s = rig.wait("a new pass", |s| {
            s.phase == Phase::Listening && s.heard_seconds == 0.0 && s.progress == 0.0
        });
        assert!(rig.tasks().is_empty(), "{:?} {s:?}", rig.tasks());
        // and the new pass works
        rig.play(true, &v[..12 * RATE as usize], Some(&b));
        rig.press(false);
        rig.wait("the suggestion", |_| !rig.tasks().is_empty());
        assert_eq!(rig.tasks(), [MainTask::Apply]);
    }

    #[test]
    fn a_new_activation_keeps_the_pass_at_the_same_rate_and_restarts_it_at_another() {
        let mut rig = Rig::new();
        let (v, b) = song(6.0);
        rig.press(true);
        rig.play(true, &v, Some(&b));
        rig.wait("6 s", |s| s.heard_seconds >= 5.9);
        // a new block size: deactivate, activate at the same rate
        *rig.shared.new_ring.lock() = Some((rig.tx.open(RATE, true), RATE));
        rig.play(true, &v, Some(&b));
        rig.wait("12 s", |s| s.heard_seconds >= 11.9);
        // another rate: the pass starts again
        let rate = 2.0 * RATE;
        *rig.shared.new_ring.lock() = Some((rig.tx.open(rate, true), rate));
        let s = rig.wait("a restart", |s| s.message.contains("sample rate changed"));
        assert!(s.message.contains("16.0 kHz → 32.0 kHz"), "{}", s.message);
        assert_eq!(s.heard_seconds, 0.0);
    }

    #[test]
    fn listening_stops_by_itself_at_the_limit_and_releases_the_trigger() {
        let mut rig = Rig::new();
        let (v, b) = song(20.0);
        rig.press(true);
        for _ in 0..(LIMIT_SECONDS / 20.0) as usize + 1 {
            rig.play(true, &v, Some(&b));
        }
        rig.wait("the suggestion", |_| rig.tasks().len() == 2);
        assert_eq!(rig.tasks(), [MainTask::Release, MainTask::Apply]);
        let s = rig.shared.status();
        assert!((s.heard_seconds - LIMIT_SECONDS).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn a_panic_in_the_analysis_is_reported_and_the_next_pass_works() {
        let mut rig = Rig::new();
        let (v, b) = song(12.0);
        rig.shared
            .panic_in_next_analysis
            .store(true, Ordering::SeqCst);
        rig.press(true);
        rig.play(true, &v, Some(&b));
        rig.press(false);
        let s = rig.wait("the failure", |s| s.phase == Phase::Failed);
        assert!(s.message.contains("internal error"), "{}", s.message);
        assert!(s.message.contains("deliberate panic"), "{}", s.message);
        assert!(rig.tasks().is_empty(), "{:?}", rig.tasks());
        // the worker lives on: the next press mixes
        rig.press(true);
        rig.play(true, &v, Some(&b));
        rig.press(false);
        rig.wait("the suggestion", |_| !rig.tasks().is_empty());
        assert_eq!(rig.tasks(), [MainTask::Apply]);
    }

    /// Instances made and dropped on several threads at once, each running passes with random
    /// pauses between the audio thread's blocks and random presses during analyses: every pass
    /// that ends with enough singing gives exactly one suggestion, a pass pressed again during
    /// its analysis gives none, and nothing deadlocks (each wait has a deadline).
    #[test]
    fn instances_and_passes_under_random_timing_lose_or_duplicate_nothing() {
        let (v, b) = song(13.0);
        let (v, b) = (Arc::new(v), Arc::new(b));
        let threads: Vec<_> = (0..3u64)
            .map(|t| {
                let (v, b) = (v.clone(), b.clone());
                std::thread::spawn(move || {
                    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                    let mut random = move |n: u64| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed % n
                    };
                    let mut expected = 0;
                    for _instance in 0..2 {
                        let mut rig = Rig::new();
                        for pass in 0..3 {
                            rig.press(true);
                            for (i, block) in v.chunks(4096).enumerate() {
                                let at = i * 4096;
                                let side = [
                                    b[0][at..at + block.len()].to_vec(),
                                    b[1][at..at + block.len()].to_vec(),
                                ];
                                rig.play(true, block, Some(&side));
                                if random(8) == 0 {
                                    std::thread::sleep(Duration::from_millis(random(3)));
                                }
                            }
                            rig.press(false);
                            let before = rig.tasks().len();
                            if pass == 1 && random(2) == 0 {
                                // pressed again at once: this analysis is dropped, a new pass
                                // listens, and ends with nothing heard
                                rig.press(true);
                                rig.press(false);
                                rig.wait("the empty pass", |s| {
                                    s.phase == Phase::Failed && s.message.starts_with("Nothing")
                                });
                                // the dropped analysis may still have finished first
                                expected += rig.tasks().len() - before;
                                continue;
                            }
                            expected += 1;
                            rig.wait("the suggestion", |_| rig.tasks().len() == expected);
                        }
                        // nothing late or twice
                        std::thread::sleep(Duration::from_millis(50));
                        assert_eq!(rig.tasks().len(), expected);
                        assert!(rig.tasks().iter().all(|t| *t == MainTask::Apply));
                        // the instance goes away; its worker ends
                        drop(rig.worker.take());
                        expected = 0;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("a stress thread failed");
        }
    }

    #[test]
    fn the_plugin_going_away_mid_analysis_stops_the_worker() {
        let mut rig = Rig::new();
        let (v, b) = song(60.0);
        rig.press(true);
        rig.play(true, &v, Some(&b));
        rig.press(false);
        rig.wait("the analysis", |s| s.phase == Phase::Analyzing);
        let t = Instant::now();
        drop(rig.worker.take());
        assert!(t.elapsed().as_secs_f64() < 5.0);
    }
}
