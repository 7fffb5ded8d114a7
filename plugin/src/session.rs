//! What the plug-in's threads share about Analyze & Mix: the status the editor shows (written by
//! the worker and the main thread, never by the audio thread), the suggestion waiting to be
//! applied, and the values from before the last one (for revert).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use atomic_float::AtomicF32;
use engine::MixParams;
use engine::analysis::suggestion::MixSuggestion;
use nice_plug::context::gui::GuiContext;
use parking_lot::Mutex;

use crate::assistant_settings::LastMix;
use crate::capture::Receiver;

/// Seconds of singing Analyze & Mix needs before it can suggest anything.
pub const NEEDED_SECONDS: f64 = 10.0;
/// Listening stops by itself after this much played audio.
pub const LIMIT_SECONDS: f64 = 300.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    /// Pressed; hearing the song (or waiting for it to play).
    Listening,
    Analyzing,
    /// The suggestion is in the parameters.
    Applied,
    /// The last pass ended without a suggestion; `Status::message` says why and what to do.
    Failed,
}

#[derive(Clone, Debug)]
pub struct Status {
    pub phase: Phase,
    /// One line for the user: what is happening, or what went wrong and what to do.
    pub message: String,
    /// Audio heard in this pass, seconds.
    pub heard_seconds: f64,
    /// Of that, singing (what the assistant's vocal gate keeps), seconds.
    pub vocal_seconds: f64,
    /// The analysis's progress, 0..1.
    pub progress: f32,
    /// The last suggestion applied, with its reasons and measurements.
    pub suggestion: Option<Arc<MixSuggestion>>,
    /// Warnings of the last pass, for the user.
    pub warnings: Vec<String>,
    /// While a reference is being measured, how far along (0..1).
    pub reference_progress: Option<f32>,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            phase: Phase::Idle,
            message: "Press Analyze & Mix, then play the song".into(),
            heard_seconds: 0.0,
            vocal_seconds: 0.0,
            progress: 0.0,
            suggestion: None,
            warnings: Vec::new(),
            reference_progress: None,
        }
    }
}

/// Tasks for the host's main thread (nice-plug's GUI executor), where parameter gestures belong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MainTask {
    /// Apply the suggestion waiting in [`Shared::to_apply`].
    Apply,
    /// Turn the trigger off (listening stopped by itself).
    Release,
    /// Put back the values from before the last applied suggestion.
    Revert,
}

pub type MainExecutor = Box<dyn Fn(MainTask) + Send + Sync>;

#[derive(Default)]
pub struct Shared {
    pub status: Mutex<Status>,
    /// The plug-in is going away: the worker stops, an analysis cancels.
    pub shutdown: AtomicBool,
    /// A new ring from `activate()` for the worker, with its sample rate.
    pub new_ring: Mutex<Option<(Receiver, f32)>>,
    pub to_apply: Mutex<Option<Arc<MixSuggestion>>>,
    /// The values before the last applied suggestion.
    pub before: Mutex<Option<MixParams>>,
    /// Runs a task on the main thread (from `Plugin::editor`'s executor).
    pub main: Mutex<Option<MainExecutor>>,
    /// Changes parameters as the user would (from the patched `Plugin::host_context`).
    pub context: Mutex<Option<GuiContext>>,
    /// What the audio thread shows the editor.
    pub meters: Meters,
    /// A/B: the editor asks for the unprocessed vocal at the mix's loudness.
    pub unprocessed: AtomicBool,
    /// Fault injection: the worker panics in its next analysis.
    #[cfg(test)]
    pub panic_in_next_analysis: AtomicBool,
}

/// Written by the audio thread, read (and reset) by the editor; lock-free both ways.
pub struct Meters {
    /// The compressor's largest gain reduction since the editor last looked, dB (≤ 0).
    pub gain_reduction_db: AtomicF32,
    /// The gain A/B gives the unprocessed vocal to match the mix, dB.
    pub match_gain_db: AtomicF32,
    /// The de-esser's largest reduction since the editor last looked, dB (≤ 0).
    pub de_esser_db: AtomicF32,
    /// The ride's gain at the end of the last block, dB.
    pub ride_gain_db: AtomicF32,
}

impl Default for Meters {
    fn default() -> Self {
        Meters {
            gain_reduction_db: AtomicF32::new(0.0),
            match_gain_db: AtomicF32::new(0.0),
            de_esser_db: AtomicF32::new(0.0),
            ride_gain_db: AtomicF32::new(0.0),
        }
    }
}

impl Shared {
    pub fn status(&self) -> Status {
        self.status.lock().clone()
    }

    /// Changes the status; a new message or warning also goes to the host's log
    /// (`NICE_LOG=stderr`), so a session without the editor open can be followed.
    pub fn update(&self, f: impl FnOnce(&mut Status)) {
        let mut status = self.status.lock();
        let before = status.message.clone();
        let warned = status.warnings.clone();
        f(&mut status);
        if status.message != before {
            nice_plug::nice_log!("Analyze & Mix: {}", status.message);
        }
        if status.warnings != warned {
            for w in &status.warnings {
                nice_plug::nice_log!("Analyze & Mix, warning: {w}");
            }
        }
    }

    /// A project reopened with a suggestion applied when it was saved: its reasons shown, and
    /// Revert possible, as before the save. Once per suggestion (`activate` runs again after
    /// every state the host loads, and at every new sample rate).
    pub fn restore(&self, last: Option<&LastMix>) {
        let Some(last) = last else {
            return;
        };
        let mut before = self.before.lock();
        let mut status = self.status.lock();
        if status.suggestion.as_deref() == Some(&last.suggestion) {
            return;
        }
        *before = Some(last.before());
        status.suggestion = Some(Arc::new(last.suggestion.clone()));
        if status.phase == Phase::Idle {
            status.phase = Phase::Applied;
            status.message =
                "Mixed when the project was saved (undo in the host, or Revert)".into();
        }
    }

    /// Asks for `task` on the main thread; false when the host gave no way to get there.
    pub fn on_main_thread(&self, task: MainTask) -> bool {
        match &*self.main.lock() {
            Some(run) => {
                run(task);
                true
            }
            None => false,
        }
    }
}
