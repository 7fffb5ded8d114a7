//! Progress bars on stderr for anything that runs longer than a second: a bar stays hidden for
//! its first second (short jobs print nothing extra) and never draws when stderr is not a
//! terminal (scripts and tests see clean output).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Set when the code runs inside another program (the Python module), whose terminal is not ours
/// to draw on.
static HIDDEN: AtomicBool = AtomicBool::new(false);

/// No bar from now on, in this process.
pub fn hide_all() {
    HIDDEN.store(true, Ordering::Relaxed);
}

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: AtomicBool,
    multi: Option<MultiProgress>,
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} [{bar:32}] {percent:>3}% {msg}")
        .expect("a valid template")
        .progress_chars("=> ")
}

impl Progress {
    /// A bar of `len` steps labelled `label`.
    pub fn new(label: &str, len: u64) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        bar.set_style(style());
        bar.set_prefix(label.to_string());
        Progress {
            bar,
            started: Instant::now(),
            shown: AtomicBool::new(false),
            multi: None,
        }
    }

    /// A bar drawn as one line of `multi` (for jobs running side by side).
    pub fn in_multi(multi: &MultiProgress, label: &str, len: u64) -> Self {
        let mut p = Progress::new(label, len);
        p.multi = Some(multi.clone());
        p
    }

    pub fn set(&self, pos: u64) {
        self.bar.set_position(pos);
        self.reveal();
    }

    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
        self.reveal();
    }

    pub fn inc(&self, by: u64) {
        self.bar.inc(by);
        self.reveal();
    }

    fn reveal(&self) {
        if self.shown.load(Ordering::Relaxed)
            || HIDDEN.load(Ordering::Relaxed)
            || self.started.elapsed() < SHOW_AFTER
            || !std::io::stderr().is_terminal()
        {
            return;
        }
        if self.shown.swap(true, Ordering::Relaxed) {
            return;
        }
        match &self.multi {
            Some(m) => {
                m.add(self.bar.clone());
            }
            None => self.bar.set_draw_target(ProgressDrawTarget::stderr()),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
