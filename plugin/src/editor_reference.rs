//! The editor's reference panel: choosing a reference song, what it measured, and per stage how
//! far to follow it and whether to keep the stage as it is.
//!
//! The file is chosen in a browser drawn by the editor itself, not the desktop's file dialog: a
//! plug-in's window lives inside the host's process and event loop, where a GTK or portal dialog
//! (what a native dialog is on Linux) can deadlock or crash Reaper and Bitwig. A path can also be
//! typed or pasted.

use std::path::{Path, PathBuf};

use egui::{Color32, RichText};
use engine::analysis::suggestion::GateKind;
use engine::audio_file::is_audio_file_name;
use engine::params::Stage;
use parking_lot::RwLock;

use crate::assistant_settings::{AssistantSettings, ReferenceChoice};
use crate::reference_thread::is_profile;

/// The browser's state while it is open.
pub struct Browser {
    dir: PathBuf,
    typed: String,
    /// The folder's sub-folders and audio files, read when the folder changes.
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

impl Browser {
    pub fn open(start: Option<&Path>) -> Browser {
        let dir = start
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .filter(|d| d.is_dir())
            .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("/"));
        let mut b = Browser {
            typed: dir.display().to_string(),
            dir,
            entries: Vec::new(),
            error: None,
        };
        b.read();
        b
    }

    fn read(&mut self) {
        self.entries.clear();
        self.error = None;
        match std::fs::read_dir(&self.dir) {
            Ok(rd) => {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue;
                    }
                    let path = e.path();
                    if path.is_dir() {
                        self.entries.push((name, true));
                    } else if is_audio_file_name(&path) || is_profile(&name) {
                        self.entries.push((name, false));
                    }
                }
                self.entries.sort_by(|a, b| {
                    b.1.cmp(&a.1)
                        .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
                });
            }
            Err(e) => self.error = Some(format!("cannot read {}: {e}", self.dir.display())),
        }
    }

    fn go(&mut self, dir: PathBuf) {
        self.typed = dir.display().to_string();
        self.dir = dir;
        self.read();
    }
}

/// What the user did in the browser.
enum Choice {
    None,
    File(PathBuf),
    Close,
}

fn browse(ui: &mut egui::Ui, b: &mut Browser) -> Choice {
    let mut choice = Choice::None;
    ui.horizontal(|ui| {
        if ui.button("⬆ Up").clicked()
            && let Some(parent) = b.dir.parent().map(Path::to_path_buf)
        {
            b.go(parent);
        }
        let edit = ui.add(egui::TextEdit::singleline(&mut b.typed).desired_width(420.0));
        if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            let p = PathBuf::from(b.typed.trim());
            if p.is_dir() {
                b.go(p);
            } else if p.is_file() {
                choice = Choice::File(p);
            } else {
                b.error = Some(format!("{} does not exist", p.display()));
            }
        }
        if ui.button("Cancel").clicked() {
            choice = Choice::Close;
        }
    });
    if let Some(e) = &b.error {
        ui.label(RichText::new(e).color(Color32::from_rgb(255, 140, 110)));
    }
    let mut go = None;
    egui::ScrollArea::vertical()
        .max_height(160.0)
        .show(ui, |ui| {
            for (name, dir) in &b.entries {
                let label = if *dir {
                    format!("📁 {name}")
                } else if is_profile(name) {
                    format!("📋 {name}")
                } else {
                    format!("🎵 {name}")
                };
                if ui.selectable_label(false, label).clicked() {
                    go = Some((b.dir.join(name), *dir));
                }
            }
            if b.entries.is_empty() && b.error.is_none() {
                ui.label(RichText::new("no folders or audio files here").weak());
            }
        });
    match go {
        Some((p, true)) => b.go(p),
        Some((p, false)) => choice = Choice::File(p),
        None => {}
    }
    choice
}

fn lu(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:+.1}"))
}

/// What the reference measured, how far its measuring is, or why it could not be.
fn measured(ui: &mut egui::Ui, r: &ReferenceChoice, progress: Option<f32>) {
    match (&r.measures, &r.problem, progress) {
        (_, _, Some(f)) => {
            ui.add(egui::ProgressBar::new(f).text("separating and measuring the reference…"));
        }
        (Some(m), _, None) => {
            ui.label(format!(
                "From the reference: vocal {} LU against its backing{}, loudness range {} LU, tail {} dB, singing {:.0} s of {:.0} s",
                lu(m.vocal_minus_backing_lu),
                m.confidence.as_ref().map_or(String::new(), |c| format!(
                    " (confidence {:.0} %{})",
                    c.balance * 100.0,
                    if c.balance < engine::analysis::reference::LOW_CONFIDENCE {
                        ": low, the level leans toward the assistant's own"
                    } else {
                        ""
                    }
                )),
                m.vocal_loudness_range_lu.map_or("–".into(), |v| format!("{v:.1}")),
                lu(m.reverb_tail_db),
                m.sung_seconds,
                m.seconds
            ));
            for n in &r.notes {
                ui.label(RichText::new(n).weak());
            }
        }
        (None, Some(p), None) => {
            ui.label(RichText::new(p).color(Color32::from_rgb(255, 140, 110)));
        }
        (None, None, None) => {
            ui.label("waiting to be measured…");
        }
    }
}

/// Per stage: how far to follow the reference, and the lock.
fn amounts_and_locks(
    ui: &mut egui::Ui,
    settings: &RwLock<AssistantSettings>,
    current: &AssistantSettings,
) {
    egui::Grid::new("amounts").num_columns(3).show(ui, |ui| {
        ui.label(RichText::new("stage").weak());
        ui.label(RichText::new("follow the reference").weak());
        ui.label(RichText::new("lock").weak());
        ui.end_row();
        for stage in Stage::ALL {
            let i = stage as usize;
            ui.label(stage.name());
            let mut percent = current.amount(i) * 100.0;
            if ui
                .add(
                    egui::Slider::new(&mut percent, 0.0..=100.0)
                        .suffix(" %")
                        .integer(),
                )
                .on_hover_text("0 %: the default target; 100 %: the reference's")
                .changed()
            {
                settings.write().amounts[i] = (percent / 100.0).clamp(0.0, 1.0);
            }
            let mut locked = current.locked[i];
            if ui
                .checkbox(&mut locked, "")
                .on_hover_text("Keep this stage as it is at the next Analyze & Mix")
                .changed()
            {
                settings.write().locked[i] = locked;
            }
            ui.end_row();
        }
    });
}

/// The panel. `progress`: how far the reference's measurement is, while it runs.
pub fn panel(
    ui: &mut egui::Ui,
    settings: &RwLock<AssistantSettings>,
    browser: &mut Option<Browser>,
    progress: Option<f32>,
) {
    let current = settings.read().clone();
    egui::CollapsingHeader::new(RichText::new("Reference: mix like a song").strong())
        .id_salt("reference")
        .default_open(current.reference.is_some())
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                match &current.reference {
                    Some(r) => {
                        let name = Path::new(&r.path)
                            .file_name()
                            .map_or(r.path.clone(), |n| n.to_string_lossy().into_owned());
                        ui.label(format!("Song: {name}")).on_hover_text(&r.path);
                    }
                    None => {
                        ui.label("Song: none (the research's targets)");
                    }
                }
                if ui
                    .button("Choose…")
                    .on_hover_text("A mixed song whose vocal balance, dynamics, tone and reverb to aim at, or a profile of your records (automix learn)")
                    .clicked()
                {
                    *browser = Some(Browser::open(
                        current.reference.as_ref().map(|r| Path::new(&r.path)),
                    ));
                }
                if current.reference.is_some() && ui.button("Clear").clicked() {
                    settings.write().reference = None;
                }
            });
            if let Some(b) = browser.as_mut() {
                match browse(ui, b) {
                    Choice::File(p) => {
                        settings.write().reference =
                            Some(ReferenceChoice::new(p.display().to_string()));
                        *browser = None;
                    }
                    Choice::Close => *browser = None,
                    Choice::None => {}
                }
            }
            if let Some(r) = &current.reference {
                measured(ui, r, progress);
            }
            ui.add_space(4.0);
            amounts_and_locks(ui, settings, &current);
        });
}

/// The gate chooser for the assistant bar.
pub fn gate_choice(ui: &mut egui::Ui, settings: &RwLock<AssistantSettings>) {
    let gate = settings.read().gate;
    let label = |g: GateKind| match g {
        GateKind::Vad => "Gate: voice",
        GateKind::Loudness => "Gate: loudness",
    };
    egui::ComboBox::from_id_salt("gate")
        .selected_text(label(gate))
        .show_ui(ui, |ui| {
            for (g, hint) in [
                (GateKind::Vad, "Analyse only where the voice detector hears singing: keeps bleed, breaths and room out"),
                (GateKind::Loudness, "Analyse everything within 20 LU of the vocal's loudness (the research's gate)"),
            ] {
                if ui.selectable_label(g == gate, label(g)).on_hover_text(hint).clicked() {
                    settings.write().gate = g;
                }
            }
        })
        .response
        .on_hover_text("Which of the vocal's moments the next Analyze & Mix reads");
}
